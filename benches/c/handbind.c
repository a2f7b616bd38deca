/* A hand-written Lua C API binding of the functions of target.c, the way a person writes
 * one: luaL_check* for the arguments, lua_push* for the result. It is the reference the
 * `calls` benchmark compares moonthunk's thunks with.
 *
 * Built by benches/calls.rs into handbind.so, linked against libmtbench_target.so. Its lua_*
 * symbols are left undefined and resolve from the benchmark executable (linked with
 * -rdynamic by build.rs), which embeds mlua's vendored Lua. */

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <lua.h>
#include <lauxlib.h>

void noop(void);
int add_i32(int a, int b);
double add_f64(double a, double b);
int64_t add_i64(int64_t a, int64_t b);
double mixed12(int32_t a, double b, int64_t c, float d, int32_t e, double f,
               int64_t g, float h, int32_t i, double j, int64_t k, int32_t l);
struct point;
double point_read(const struct point *p);
void *ptr_ret(void);
double sum8(double a, double b, double c, double d,
            double e, double f, double g, double h);
size_t str_len(const char *s);
unsigned buf_sum(const unsigned char *p, size_t n);
struct v2 { double x, y; };
struct v2 v2_add(struct v2 a, struct v2 b);
int32_t call_cb(int32_t (*f)(int32_t, int32_t), int32_t a, int32_t b);
int32_t reverse16(int32_t *a);

#include <string.h>

static int l_noop(lua_State *L) {
    (void)L;
    noop();
    return 0;
}

static int l_add_i32(lua_State *L) {
    int a = (int)luaL_checkinteger(L, 1);
    int b = (int)luaL_checkinteger(L, 2);
    lua_pushinteger(L, add_i32(a, b));
    return 1;
}

static int l_add_f64(lua_State *L) {
    double a = luaL_checknumber(L, 1);
    double b = luaL_checknumber(L, 2);
    lua_pushnumber(L, add_f64(a, b));
    return 1;
}

static int l_add_i64(lua_State *L) {
    int64_t a = (int64_t)luaL_checkinteger(L, 1);
    int64_t b = (int64_t)luaL_checkinteger(L, 2);
    lua_pushinteger(L, (lua_Integer)add_i64(a, b));
    return 1;
}

static int l_mixed12(lua_State *L) {
    int32_t a = (int32_t)luaL_checkinteger(L, 1);
    double b = luaL_checknumber(L, 2);
    int64_t c = (int64_t)luaL_checkinteger(L, 3);
    float d = (float)luaL_checknumber(L, 4);
    int32_t e = (int32_t)luaL_checkinteger(L, 5);
    double f = luaL_checknumber(L, 6);
    int64_t g = (int64_t)luaL_checkinteger(L, 7);
    float h = (float)luaL_checknumber(L, 8);
    int32_t i = (int32_t)luaL_checkinteger(L, 9);
    double j = luaL_checknumber(L, 10);
    int64_t k = (int64_t)luaL_checkinteger(L, 11);
    int32_t l = (int32_t)luaL_checkinteger(L, 12);
    lua_pushnumber(L, mixed12(a, b, c, d, e, f, g, h, i, j, k, l));
    return 1;
}

/* Pointers travel as light userdata, as hand-written bindings of C pointers usually do. */
static int l_point_read(lua_State *L) {
    const struct point *p = lua_touserdata(L, 1);
    luaL_argexpected(L, p != NULL, 1, "userdata");
    lua_pushnumber(L, point_read(p));
    return 1;
}

static int l_ptr_ret(lua_State *L) {
    lua_pushlightuserdata(L, ptr_ret());
    return 1;
}

static int l_sum8(lua_State *L) {
    double a = luaL_checknumber(L, 1);
    double b = luaL_checknumber(L, 2);
    double c = luaL_checknumber(L, 3);
    double d = luaL_checknumber(L, 4);
    double e = luaL_checknumber(L, 5);
    double f = luaL_checknumber(L, 6);
    double g = luaL_checknumber(L, 7);
    double h = luaL_checknumber(L, 8);
    lua_pushnumber(L, sum8(a, b, c, d, e, f, g, h));
    return 1;
}

static int l_str_len(lua_State *L) {
    const char *s = luaL_checklstring(L, 1, NULL);
    lua_pushinteger(L, (lua_Integer)str_len(s));
    return 1;
}

/* Memory the way a hand-written binding exposes it: a struct userdata with field
 * __index/__newindex, a bounds-checked int32 array userdata, and a byte buffer userdata
 * passed to a C function. */

struct point { int32_t x; double y; };

static int point_index(lua_State *L) {
    struct point *p = luaL_checkudata(L, 1, "handbind.point");
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "x") == 0) lua_pushinteger(L, p->x);
    else if (strcmp(k, "y") == 0) lua_pushnumber(L, p->y);
    else return luaL_error(L, "no field '%s'", k);
    return 1;
}

static int point_newindex(lua_State *L) {
    struct point *p = luaL_checkudata(L, 1, "handbind.point");
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "x") == 0) p->x = (int32_t)luaL_checkinteger(L, 3);
    else if (strcmp(k, "y") == 0) p->y = luaL_checknumber(L, 3);
    else return luaL_error(L, "no field '%s'", k);
    return 0;
}

static int l_new_point(lua_State *L) {
    struct point *p = lua_newuserdatauv(L, sizeof *p, 0);
    memset(p, 0, sizeof *p);
    if (luaL_newmetatable(L, "handbind.point")) {
        lua_pushcfunction(L, point_index);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, point_newindex);
        lua_setfield(L, -2, "__newindex");
    }
    lua_setmetatable(L, -2);
    return 1;
}

struct int_array { lua_Integer n; int32_t v[]; };

static int int_array_index(lua_State *L) {
    struct int_array *a = luaL_checkudata(L, 1, "handbind.int_array");
    lua_Integer i = luaL_checkinteger(L, 2);
    luaL_argcheck(L, i >= 0 && i < a->n, 2, "index out of bounds");
    lua_pushinteger(L, a->v[i]);
    return 1;
}

static int int_array_newindex(lua_State *L) {
    struct int_array *a = luaL_checkudata(L, 1, "handbind.int_array");
    lua_Integer i = luaL_checkinteger(L, 2);
    luaL_argcheck(L, i >= 0 && i < a->n, 2, "index out of bounds");
    a->v[i] = (int32_t)luaL_checkinteger(L, 3);
    return 0;
}

static int l_new_int_array(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    struct int_array *a = lua_newuserdatauv(L, sizeof *a + (size_t)n * sizeof(int32_t), 0);
    a->n = n;
    memset(a->v, 0, (size_t)n * sizeof(int32_t));
    if (luaL_newmetatable(L, "handbind.int_array")) {
        lua_pushcfunction(L, int_array_index);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, int_array_newindex);
        lua_setfield(L, -2, "__newindex");
    }
    lua_setmetatable(L, -2);
    return 1;
}

struct buffer { size_t n; unsigned char data[]; };

static int l_new_buffer(lua_State *L) {
    size_t n = (size_t)luaL_checkinteger(L, 1);
    struct buffer *b = lua_newuserdatauv(L, sizeof *b + n, 0);
    b->n = n;
    memset(b->data, 0, n);
    luaL_newmetatable(L, "handbind.buffer");
    lua_setmetatable(L, -2);
    return 1;
}

static int l_buffer_fill(lua_State *L) {
    struct buffer *b = luaL_checkudata(L, 1, "handbind.buffer");
    memset(b->data, (int)luaL_checkinteger(L, 2), b->n);
    return 0;
}

/* The callback round trip as a binding author writes it: the Lua function stays at stack
 * index 1 of the binding's frame and a C trampoline calls it with lua_call. */
static lua_State *callback_state;

static int32_t callback_trampoline(int32_t a, int32_t b) {
    lua_State *L = callback_state;
    lua_pushvalue(L, 1);
    lua_pushinteger(L, a);
    lua_pushinteger(L, b);
    lua_call(L, 2, 1);
    int32_t r = (int32_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return r;
}

static int l_call_cb(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    int32_t a = (int32_t)luaL_checkinteger(L, 2);
    int32_t b = (int32_t)luaL_checkinteger(L, 3);
    callback_state = L;
    lua_pushinteger(L, call_cb(callback_trampoline, a, b));
    return 1;
}

/* A struct by value the way a binding author writes it: tables of fields in and out. */
static struct v2 check_v2(lua_State *L, int idx) {
    struct v2 v;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, "x");
    lua_getfield(L, idx, "y");
    v.x = luaL_checknumber(L, -2);
    v.y = luaL_checknumber(L, -1);
    lua_pop(L, 2);
    return v;
}

static int l_v2_add(lua_State *L) {
    struct v2 r = v2_add(check_v2(L, 1), check_v2(L, 2));
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, r.x);
    lua_setfield(L, -2, "x");
    lua_pushnumber(L, r.y);
    lua_setfield(L, -2, "y");
    return 1;
}

/* snprintf with the one shape the benchmark uses: (buffer, size, format, integer, double). */
static int l_snprintf_id(lua_State *L) {
    struct buffer *b = luaL_checkudata(L, 1, "handbind.buffer");
    size_t size = (size_t)luaL_checkinteger(L, 2);
    const char *fmt = luaL_checkstring(L, 3);
    lua_Integer i = luaL_checkinteger(L, 4);
    double d = luaL_checknumber(L, 5);
    luaL_argcheck(L, size <= b->n, 2, "size exceeds the buffer");
    lua_pushinteger(L, snprintf((char *)b->data, size, fmt, (long)i, d));
    return 1;
}

static int l_buf_sum(lua_State *L) {
    struct buffer *b = luaL_checkudata(L, 1, "handbind.buffer");
    size_t n = (size_t)luaL_checkinteger(L, 2);
    luaL_argcheck(L, n <= b->n, 2, "length out of bounds");
    lua_pushinteger(L, buf_sum(b->data, n));
    return 1;
}

/* An array parameter the way a binding author writes it: a table of 16 integers copied into a
 * C array, and copied back after the call. */
static int l_reverse16(lua_State *L) {
    int32_t a[16];
    luaL_checktype(L, 1, LUA_TTABLE);
    for (int i = 0; i < 16; i++) {
        lua_rawgeti(L, 1, i + 1);
        a[i] = (int32_t)luaL_checkinteger(L, -1);
        lua_pop(L, 1);
    }
    int32_t r = reverse16(a);
    for (int i = 0; i < 16; i++) {
        lua_pushinteger(L, a[i]);
        lua_rawseti(L, 1, i + 1);
    }
    lua_pushinteger(L, r);
    return 1;
}

static const luaL_Reg handbind_funcs[] = {
    {"reverse16", l_reverse16},
    {"new_point", l_new_point},
    {"new_int_array", l_new_int_array},
    {"new_buffer", l_new_buffer},
    {"buffer_fill", l_buffer_fill},
    {"buf_sum", l_buf_sum},
    {"call_cb", l_call_cb},
    {"v2_add", l_v2_add},
    {"snprintf_id", l_snprintf_id},
    {"noop", l_noop},
    {"add_i32", l_add_i32},
    {"add_f64", l_add_f64},
    {"add_i64", l_add_i64},
    {"mixed12", l_mixed12},
    {"point_read", l_point_read},
    {"ptr_ret", l_ptr_ret},
    {"sum8", l_sum8},
    {"str_len", l_str_len},
    {NULL, NULL},
};

int luaopen_handbind(lua_State *L) {
    luaL_newlib(L, handbind_funcs);
    return 1;
}
