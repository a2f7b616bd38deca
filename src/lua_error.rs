//! Raising Lua errors in Lua's own words from raw Lua C API code: the type names Lua's
//! messages use, and [`raise`] for a formatted message. Depends on nothing else of the crate,
//! so that every module may use it.

use std::ffi::{c_char, c_int};

use mlua::ffi::{self, lua_State};

/// The type name Lua's own messages would use: `__name` for userdata that has one. May leave
/// that name on the stack (it must stay alive while the pointer is used).
pub(crate) unsafe fn type_name(l: *mut lua_State, arg: c_int) -> *const c_char {
    if ffi::luaL_getmetafield(l, arg, c"__name".as_ptr()) == ffi::LUA_TSTRING {
        return ffi::lua_tolstring(l, -1, std::ptr::null_mut());
    }
    if ffi::lua_type(l, arg) == ffi::LUA_TLIGHTUSERDATA {
        return c"light userdata".as_ptr();
    }
    ffi::lua_typename(l, ffi::lua_type(l, arg))
}

/// Raises `msg` as a Lua error, prefixed with the position of the Lua code that called the
/// running C function (as `luaL_error` does).
///
/// # Safety
/// `l` is the running state; no frame between here and Lua owns anything that needs a drop.
pub unsafe fn raise(l: *mut lua_State, msg: String) -> ! {
    ffi::luaL_where(l, 1);
    ffi::lua_pushlstring(l, msg.as_ptr() as *const c_char, msg.len());
    drop(msg);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}
