//! Small helpers for the raw Lua C API functions of the memory model.
//!
//! Every function here may raise a Lua error (longjmp or unwind). The callers are
//! `extern "C-unwind"` functions that own nothing needing a drop when that happens: messages
//! are formatted into a `String` that [`raise`] moves onto the Lua stack and drops before it
//! raises.

use std::ffi::{c_int, CStr};

use mlua::ffi::{self, lua_State};

use crate::ctype::Scalar;
use crate::lua_error::{self, raise};

/// The type name of the value at `idx` as Lua's messages give it (`__name` for userdata).
pub unsafe fn type_name(l: *mut lua_State, idx: c_int) -> String {
    let idx = ffi::lua_absindex(l, idx);
    let top = ffi::lua_gettop(l);
    let name = CStr::from_ptr(lua_error::type_name(l, idx))
        .to_string_lossy()
        .into_owned();
    ffi::lua_settop(l, top);
    name
}

/// Raises "bad argument #arg to 'fname' (msg)".
pub unsafe fn arg_error(l: *mut lua_State, arg: c_int, fname: &str, msg: String) -> ! {
    raise(l, format!("bad argument #{arg} to '{fname}' ({msg})"))
}

/// The bytes of the string at `idx`, if it is a string (numbers are not converted).
pub unsafe fn string_at<'a>(l: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    if ffi::lua_type(l, idx) != ffi::LUA_TSTRING {
        return None;
    }
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    Some(std::slice::from_raw_parts(p as *const u8, len))
}

/// An integer argument, following the value rules of calls.
pub unsafe fn check_int(l: *mut lua_State, arg: c_int, fname: &str) -> i64 {
    let mut isnum = 0;
    let v = ffi::lua_tointegerx(l, arg, &mut isnum);
    if isnum == 0 {
        let msg = if ffi::lua_type(l, arg) == ffi::LUA_TNUMBER {
            "number has no integer representation".to_string()
        } else {
            format!("number expected, got {}", type_name(l, arg))
        };
        arg_error(l, arg, fname, msg);
    }
    v
}

/// A non-negative integer argument (a size or a count).
pub unsafe fn check_size(l: *mut lua_State, arg: c_int, fname: &str, what: &str) -> usize {
    let v = check_int(l, arg, fname);
    if v < 0 {
        arg_error(
            l,
            arg,
            fname,
            format!("{what} must not be negative, got {v}"),
        );
    }
    v as usize
}

/// A C scalar type name argument.
pub unsafe fn check_ctype(l: *mut lua_State, arg: c_int, fname: &str) -> Scalar {
    match string_at(l, arg) {
        Some(name) => match std::str::from_utf8(name).map(Scalar::parse) {
            Ok(Ok(t)) => t,
            Ok(Err(unknown)) => raise(l, unknown.to_string()),
            Err(_) => raise(l, "unknown C type (not UTF-8)".to_string()),
        },
        None => arg_error(
            l,
            arg,
            fname,
            format!("type name expected, got {}", type_name(l, arg)),
        ),
    }
}

/// Registers raw C functions into the table at the top of the stack.
pub unsafe fn set_functions(l: *mut lua_State, funcs: &[(&CStr, ffi::lua_CFunction)]) {
    for &(name, f) in funcs {
        ffi::lua_pushcfunction(l, f);
        ffi::lua_setfield(l, -2, name.as_ptr());
    }
}
