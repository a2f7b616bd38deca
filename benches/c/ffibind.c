/* A libffi-based Lua binding, written the way a typical libffi FFI for Lua (Alien, cffi-lua,
 * Lune's FFI) does it: the signature is resolved at bind time into an `ffi_cif`; every call
 * marshals the arguments from the Lua stack into an argument buffer, calls `ffi_call` and
 * pushes the result. Callbacks are libffi closures whose handler pushes the C arguments and
 * calls the Lua function.
 *
 * The marshalling rules are moonthunk's: integers through lua_tointegerx (integral floats
 * accepted, anything else is "number expected"), floats through lua_tonumberx, strings
 * through lua_tolstring (nil is NULL), pointers through lua_touserdata (nil is NULL). Too
 * many or too few arguments is an error. Pointer results are light userdata.
 *
 *   local m = package.loadlib("ffibind.so", "luaopen_ffibind")()
 *   local addr = m.sym("/path/lib.so", "add_i32")          -- light userdata
 *   local add = m.bind(addr, "i32", {"i32", "i32"})
 *   local cb = m.callback(function(a, b) return a + b end, "i32", {"i32", "i32"})
 *
 * Built by benches/calls.rs into ffibind.so with -lffi; its lua_* symbols resolve from the
 * benchmark executable. */

#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

#include <ffi.h>
#include <lua.h>
#include <lauxlib.h>

#define MAX_ARGS 32

enum kind {
    K_VOID, K_BOOL, K_I8, K_U8, K_I16, K_U16, K_I32, K_U32, K_I64, K_U64,
    K_F32, K_F64, K_PTR, K_STR,
};

static const struct { const char *name; enum kind kind; ffi_type *type; } type_names[] = {
    {"void", K_VOID, &ffi_type_void},     {"bool", K_BOOL, &ffi_type_uint8},
    {"i8", K_I8, &ffi_type_sint8},        {"u8", K_U8, &ffi_type_uint8},
    {"i16", K_I16, &ffi_type_sint16},     {"u16", K_U16, &ffi_type_uint16},
    {"i32", K_I32, &ffi_type_sint32},     {"u32", K_U32, &ffi_type_uint32},
    {"i64", K_I64, &ffi_type_sint64},     {"u64", K_U64, &ffi_type_uint64},
    {"isize", K_I64, &ffi_type_sint64},   {"usize", K_U64, &ffi_type_uint64},
    {"f32", K_F32, &ffi_type_float},      {"f64", K_F64, &ffi_type_double},
    {"pointer", K_PTR, &ffi_type_pointer}, {"string", K_STR, &ffi_type_pointer},
};

/* A resolved signature: what bind and callback share. */
struct sig {
    ffi_cif cif;
    int nargs;
    enum kind ret;
    enum kind kinds[MAX_ARGS];
    ffi_type *types[MAX_ARGS];
};

static enum kind parse_type(lua_State *L, int idx, ffi_type **type) {
    const char *name = luaL_checkstring(L, idx);
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strcmp(type_names[i].name, name) == 0) {
            *type = type_names[i].type;
            return type_names[i].kind;
        }
    }
    return (enum kind)luaL_error(L, "unknown type '%s'", name);
}

/* Fills `s` from (ret, {params}) at stack indices ret_idx, ret_idx + 1. */
static void parse_sig(lua_State *L, int ret_idx, struct sig *s) {
    ffi_type *rtype;
    s->ret = parse_type(L, ret_idx, &rtype);
    luaL_checktype(L, ret_idx + 1, LUA_TTABLE);
    s->nargs = (int)luaL_len(L, ret_idx + 1);
    luaL_argcheck(L, s->nargs <= MAX_ARGS, ret_idx + 1, "too many parameters");
    for (int i = 0; i < s->nargs; i++) {
        lua_geti(L, ret_idx + 1, i + 1);
        s->kinds[i] = parse_type(L, -1, &s->types[i]);
        luaL_argcheck(L, s->kinds[i] != K_VOID, ret_idx + 1, "void parameter");
        lua_pop(L, 1);
    }
    if (ffi_prep_cif(&s->cif, FFI_DEFAULT_ABI, (unsigned)s->nargs, rtype, s->types) != FFI_OK)
        luaL_error(L, "ffi_prep_cif failed");
}

/* A bound function: the upvalue of its C closure. */
struct bound {
    struct sig sig;
    void (*fn)(void);
};

/* One argument or result, as libffi reads or writes it. */
union value {
    ffi_arg u;
    ffi_sarg s;
    int64_t i64;
    uint64_t u64;
    int32_t i32;
    uint32_t u32;
    int16_t i16;
    uint16_t u16;
    int8_t i8;
    uint8_t u8;
    float f32;
    double f64;
    const void *p;
};

/* The Lua state whose call into C is running: callbacks run on it. */
static lua_State *current_state;

static lua_Integer check_int(lua_State *L, int idx) {
    int ok;
    lua_Integer v = lua_tointegerx(L, idx, &ok);
    if (!ok) luaL_typeerror(L, idx, "number");
    return v;
}

static double check_num(lua_State *L, int idx) {
    int ok;
    double v = lua_tonumberx(L, idx, &ok);
    if (!ok) luaL_typeerror(L, idx, "number");
    return v;
}

static const void *check_ptr(lua_State *L, int idx) {
    const void *p = lua_touserdata(L, idx);
    if (p == NULL && !lua_isnil(L, idx)) luaL_typeerror(L, idx, "pointer");
    return p;
}

static const char *check_str(lua_State *L, int idx) {
    if (lua_type(L, idx) == LUA_TSTRING) return lua_tolstring(L, idx, NULL);
    return check_ptr(L, idx);
}

/* Reads Lua value `idx` as `kind` into `v`. */
static void to_c(lua_State *L, int idx, enum kind kind, union value *v) {
    switch (kind) {
    case K_BOOL: v->u8 = (uint8_t)lua_toboolean(L, idx); break;
    case K_I8: v->i8 = (int8_t)check_int(L, idx); break;
    case K_U8: v->u8 = (uint8_t)check_int(L, idx); break;
    case K_I16: v->i16 = (int16_t)check_int(L, idx); break;
    case K_U16: v->u16 = (uint16_t)check_int(L, idx); break;
    case K_I32: v->i32 = (int32_t)check_int(L, idx); break;
    case K_U32: v->u32 = (uint32_t)check_int(L, idx); break;
    case K_I64: v->i64 = (int64_t)check_int(L, idx); break;
    case K_U64: v->u64 = (uint64_t)check_int(L, idx); break;
    case K_F32: v->f32 = (float)check_num(L, idx); break;
    case K_F64: v->f64 = check_num(L, idx); break;
    case K_PTR: v->p = check_ptr(L, idx); break;
    case K_STR: v->p = check_str(L, idx); break;
    case K_VOID: break;
    }
}

/* Pushes the value at `p` (libffi's layout for `kind`: small integer results are widened to
 * ffi_arg, arguments are not) and returns the number of values pushed. */
static int push_c(lua_State *L, enum kind kind, const void *p, int widened) {
    const union value *v = p;
    switch (kind) {
    case K_VOID: return 0;
    case K_BOOL: lua_pushboolean(L, widened ? v->u != 0 : v->u8 != 0); break;
    case K_I8: lua_pushinteger(L, widened ? (int8_t)v->s : v->i8); break;
    case K_U8: lua_pushinteger(L, widened ? (uint8_t)v->u : v->u8); break;
    case K_I16: lua_pushinteger(L, widened ? (int16_t)v->s : v->i16); break;
    case K_U16: lua_pushinteger(L, widened ? (uint16_t)v->u : v->u16); break;
    case K_I32: lua_pushinteger(L, widened ? (int32_t)v->s : v->i32); break;
    case K_U32: lua_pushinteger(L, widened ? (uint32_t)v->u : v->u32); break;
    case K_I64: lua_pushinteger(L, (lua_Integer)v->i64); break;
    case K_U64: lua_pushinteger(L, (lua_Integer)v->u64); break;
    case K_F32: lua_pushnumber(L, v->f32); break;
    case K_F64: lua_pushnumber(L, v->f64); break;
    case K_PTR:
        if (v->p) lua_pushlightuserdata(L, (void *)v->p); else lua_pushnil(L);
        break;
    case K_STR:
        if (v->p) lua_pushstring(L, v->p); else lua_pushnil(L);
        break;
    }
    return 1;
}

/* The lua_CFunction of every bound function. */
static int call_bound(lua_State *L) {
    const struct bound *b = lua_touserdata(L, lua_upvalueindex(1));
    int n = b->sig.nargs;
    if (lua_gettop(L) != n)
        return luaL_error(L, "wrong number of arguments (%d expected, got %d)", n,
                          lua_gettop(L));
    union value args[MAX_ARGS];
    void *values[MAX_ARGS];
    for (int i = 0; i < n; i++) {
        to_c(L, i + 1, b->sig.kinds[i], &args[i]);
        values[i] = &args[i];
    }
    union value result;
    lua_State *saved = current_state;
    current_state = L;
    ffi_call((ffi_cif *)&b->sig.cif, b->fn, &result, values);
    current_state = saved;
    return push_c(L, b->sig.ret, &result, 1);
}

/* bind(address, ret, {params}) -> function */
static int l_bind(lua_State *L) {
    void *fn = lua_touserdata(L, 1);
    luaL_argexpected(L, fn != NULL, 1, "function address");
    struct bound *b = lua_newuserdatauv(L, sizeof *b, 0);
    parse_sig(L, 2, &b->sig);
    b->fn = (void (*)(void))fn;
    lua_pushcclosure(L, call_bound, 1);
    return 1;
}

/* sym(library path, name) -> light userdata */
static int l_sym(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *name = luaL_checkstring(L, 2);
    void *lib = dlopen(path, RTLD_NOW);
    if (lib == NULL) return luaL_error(L, "dlopen: %s", dlerror());
    void *p = dlsym(lib, name);
    if (p == NULL) return luaL_error(L, "dlsym: %s", dlerror());
    lua_pushlightuserdata(L, p);
    return 1;
}

/* A callback: a libffi closure calling a Lua function kept in the registry. */
struct callback {
    struct sig sig;
    ffi_closure *closure;
    void *code;
    int ref;
};

static void callback_handler(ffi_cif *cif, void *ret, void **args, void *data) {
    (void)cif;
    const struct callback *c = data;
    lua_State *L = current_state;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref);
    for (int i = 0; i < c->sig.nargs; i++) push_c(L, c->sig.kinds[i], args[i], 0);
    lua_call(L, c->sig.nargs, 1);
    union value v;
    to_c(L, -1, c->sig.ret, &v);
    lua_pop(L, 1);
    /* libffi wants small integer results widened to ffi_arg. */
    switch (c->sig.ret) {
    case K_BOOL: case K_U8: *(ffi_arg *)ret = v.u8; break;
    case K_I8: *(ffi_sarg *)ret = v.i8; break;
    case K_I16: *(ffi_sarg *)ret = v.i16; break;
    case K_U16: *(ffi_arg *)ret = v.u16; break;
    case K_I32: *(ffi_sarg *)ret = v.i32; break;
    case K_U32: *(ffi_arg *)ret = v.u32; break;
    case K_VOID: break;
    default: memcpy(ret, &v, c->sig.cif.rtype->size); break;
    }
}

/* callback(fn, ret, {params}) -> light userdata (the C function pointer). The callback lives
 * as long as the module's anchor table (the whole run: this is a benchmark). */
static int l_callback(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    struct callback *c = lua_newuserdatauv(L, sizeof *c, 0);
    parse_sig(L, 2, &c->sig);
    luaL_argcheck(L, c->sig.ret != K_STR, 2, "string results are not supported");
    c->closure = ffi_closure_alloc(sizeof(ffi_closure), &c->code);
    if (c->closure == NULL) return luaL_error(L, "ffi_closure_alloc failed");
    if (ffi_prep_closure_loc(c->closure, &c->sig.cif, callback_handler, c, c->code) != FFI_OK)
        return luaL_error(L, "ffi_prep_closure_loc failed");
    lua_pushvalue(L, 1);
    c->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* anchor the userdata: anchors[#anchors + 1] = c */
    lua_getfield(L, LUA_REGISTRYINDEX, "ffibind.anchors");
    lua_pushvalue(L, -2);
    lua_seti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    lua_pop(L, 1);
    lua_pushlightuserdata(L, c->code);
    return 1;
}

static const luaL_Reg ffibind_funcs[] = {
    {"bind", l_bind},
    {"sym", l_sym},
    {"callback", l_callback},
    {NULL, NULL},
};

int luaopen_ffibind(lua_State *L) {
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "ffibind.anchors");
    luaL_newlib(L, ffibind_funcs);
    return 1;
}
