/* A hand-written Lua C API binding of the functions of target.c, the way a person writes
 * one: luaL_check* for the arguments, lua_push* for the result. It is the reference the
 * `calls` benchmark compares moonthunk's thunks with.
 *
 * Built by benches/calls.rs into handbind.so, linked against libmtbench_target.so. Its lua_*
 * symbols are left undefined and resolve from the benchmark executable (linked with
 * -rdynamic by build.rs), which embeds mlua's vendored Lua. */

#include <stddef.h>

#include <lua.h>
#include <lauxlib.h>

void noop(void);
int add_i32(int a, int b);
double add_f64(double a, double b);
double sum8(double a, double b, double c, double d,
            double e, double f, double g, double h);
size_t str_len(const char *s);

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

static const luaL_Reg handbind_funcs[] = {
    {"noop", l_noop},
    {"add_i32", l_add_i32},
    {"add_f64", l_add_f64},
    {"sum8", l_sum8},
    {"str_len", l_str_len},
    {NULL, NULL},
};

int luaopen_handbind(lua_State *L) {
    luaL_newlib(L, handbind_funcs);
    return 1;
}
