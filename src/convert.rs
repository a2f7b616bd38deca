//! Conversions between Lua values and C values that generated code does not inline.
//!
//! Thunks read the common case of each argument inline or with one Lua C API call; everything else
//! (nil for a string, a pointer object, a wrong type) lands here. Every function is
//! `extern "C-unwind"`, owns nothing that needs dropping, and may raise a Lua error, which
//! unwinds (or longjmps) straight through the thunk to Lua. Messages follow Lua's own
//! wording: "bad argument #2 to 'add' (number expected, got string)", where the name is the
//! bound function's name (upvalue 2 of the running thunk).

use std::ffi::{c_char, c_int, c_void};

use mlua::ffi::{self, lua_State};
use moonthunk_jit::{expected_at, Expected, EXPECTED_NOTHING};

use crate::lua_error::type_name;
use crate::memory::pointer;

/// The running thunk's function name (upvalue 2 of every bound function).
pub(crate) unsafe fn function_name(l: *mut lua_State) -> *const c_char {
    let name = ffi::lua_tolstring(l, ffi::lua_upvalueindex(2), std::ptr::null_mut());
    if name.is_null() {
        c"?".as_ptr()
    } else {
        name
    }
}

/// Raises "bad argument #arg to 'name' (expected, got type)".
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn arg_error(l: *mut lua_State, arg: c_int, expected: c_int) {
    let name = function_name(l);
    let expected = Expected::from_code(expected);
    if expected == Expected::Integer && ffi::lua_type(l, arg) == ffi::LUA_TNUMBER {
        ffi::luaL_error(
            l,
            c"bad argument #%d to '%s' (number has no integer representation)".as_ptr(),
            arg,
            name,
        );
    }
    let got = type_name(l, arg);
    ffi::luaL_error(
        l,
        c"bad argument #%d to '%s' (%s expected, got %s)".as_ptr(),
        arg,
        name,
        expected.type_name().as_ptr(),
        got,
    );
}

/// Raises the error for a call with the wrong number of arguments: "wrong number of
/// arguments" for too many, else the "got no value" error of the first missing parameter
/// that may not be missing. `kinds` packs the [`Expected`] code of each parameter
/// ([`EXPECTED_NOTHING`] for out-parameters), read with [`expected_at`].
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state, with `kinds` covering `expected`
/// parameters.
pub unsafe extern "C-unwind" fn arity_error(l: *mut lua_State, expected: c_int, kinds: *const u64) {
    let got = ffi::lua_gettop(l);
    for missing in got.max(0)..expected {
        let i = missing as usize;
        let code = expected_at(kinds, i);
        if code != EXPECTED_NOTHING {
            arg_error(l, missing + 1, code as c_int);
        }
    }
    let name = function_name(l);
    ffi::luaL_error(
        l,
        c"wrong number of arguments to '%s' (expected %d, got %d)".as_ptr(),
        name,
        expected,
        got,
    );
}

/// Raises the count error of a shared thunk that reads its arguments all at once, or rewrites
/// them into the forms it loads (see `LuaApi::normalize_args`), or raises the first argument
/// error. A pointer object
/// replaced by its address stays on the stack above the arguments, alive for the call.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state; `kinds` covers `nargs` parameters.
pub unsafe extern "C-unwind" fn normalize_args(l: *mut lua_State, nargs: c_int, kinds: *const u64) {
    if ffi::lua_gettop(l) != nargs {
        arity_error(l, nargs, kinds);
    }
    if ffi::lua_checkstack(l, nargs + 2) == 0 {
        ffi::luaL_error(l, c"stack overflow (converting arguments)".as_ptr());
    }
    for arg in 1..=nargs {
        let i = (arg - 1) as usize;
        let code = expected_at(kinds, i);
        let lua_type = ffi::lua_type(l, arg);
        match Expected::from_code(code as c_int) {
            Expected::Integer => {
                if ffi::lua_isinteger(l, arg) == 0 {
                    let v = integer_arg(l, arg);
                    ffi::lua_pushinteger(l, v);
                    ffi::lua_replace(l, arg);
                }
            }
            Expected::Number => {
                if lua_type != ffi::LUA_TNUMBER {
                    let v = number_arg(l, arg);
                    ffi::lua_pushnumber(l, v);
                    ffi::lua_replace(l, arg);
                }
            }
            Expected::Boolean => {
                if lua_type != ffi::LUA_TBOOLEAN {
                    ffi::lua_pushboolean(l, bool_arg(l, arg));
                    ffi::lua_replace(l, arg);
                }
            }
            Expected::String => {
                if lua_type == ffi::LUA_TNUMBER {
                    ffi::lua_tolstring(l, arg, std::ptr::null_mut());
                } else if lua_type != ffi::LUA_TSTRING && lua_type != ffi::LUA_TLIGHTUSERDATA {
                    let addr = cstring_arg(l, arg);
                    keep_as_address(l, arg, addr as *mut c_void);
                }
            }
            Expected::Pointer => {
                if lua_type != ffi::LUA_TLIGHTUSERDATA {
                    let addr = pointer_arg(l, arg);
                    keep_as_address(l, arg, addr);
                }
            }
            Expected::Table => unreachable!("thunks that read a table array read one at a time"),
        }
    }
}

/// Replaces argument `arg` with a light userdata of `addr`, leaving the original value on top
/// of the stack so that it outlives the call.
unsafe fn keep_as_address(l: *mut lua_State, arg: c_int, addr: *mut c_void) {
    ffi::lua_pushvalue(l, arg);
    ffi::lua_pushlightuserdata(l, addr);
    ffi::lua_replace(l, arg);
}

/// An integer parameter given something other than an integer: an integral float or a
/// numeric string converts, anything else raises.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn integer_arg(l: *mut lua_State, arg: c_int) -> ffi::lua_Integer {
    let mut ok = 0;
    let v = ffi::lua_tointegerx(l, arg, &mut ok);
    if ok == 0 {
        arg_error(l, arg, Expected::Integer.code());
    }
    v
}

/// A float parameter given something other than a number: a numeric string converts,
/// anything else raises.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn number_arg(l: *mut lua_State, arg: c_int) -> ffi::lua_Number {
    let mut ok = 0;
    let v = ffi::lua_tonumberx(l, arg, &mut ok);
    if ok == 0 {
        arg_error(l, arg, Expected::Number.code());
    }
    v
}

/// A `bool` parameter given something other than a boolean: nil is false.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn bool_arg(l: *mut lua_State, arg: c_int) -> c_int {
    if ffi::lua_type(l, arg) != ffi::LUA_TNIL {
        arg_error(l, arg, Expected::Boolean.code());
    }
    0
}

/// A `string` parameter given neither a string nor a number: nil is NULL, a pointer
/// object passes its address.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn cstring_arg(l: *mut lua_State, arg: c_int) -> *const c_char {
    match pointer::address_at(l, arg) {
        Some(addr) => addr as *const c_char,
        None => {
            arg_error(l, arg, Expected::String.code());
            std::ptr::null()
        }
    }
}

/// A `pointer` parameter: nil, light userdata or a pointer object.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn pointer_arg(l: *mut lua_State, arg: c_int) -> *mut c_void {
    match pointer::address_at(l, arg) {
        Some(addr) => addr,
        None => {
            arg_error(l, arg, Expected::Pointer.code());
            std::ptr::null_mut()
        }
    }
}

/// Pushes a pointer result as a pointer object.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn push_pointer(l: *mut lua_State, addr: *mut c_void) {
    pointer::push(l, addr);
}

/// The address `value` stands for when passed as a pointer (nil, light userdata, pointer
/// objects), or `None` when it stands for none. For Rust code running under mlua.
pub fn address_of(lua: &mlua::Lua, value: mlua::Value) -> mlua::Result<Option<usize>> {
    // SAFETY: inspects the single pushed value in mlua's protected raw call.
    unsafe {
        lua.exec_raw::<Option<mlua::Integer>>(value, |l| {
            let addr = pointer::address_at(l, -1);
            ffi::lua_settop(l, 0);
            match addr {
                Some(addr) => ffi::lua_pushinteger(l, addr as mlua::Integer),
                None => ffi::lua_pushnil(l),
            }
        })
    }
    .map(|addr| addr.map(|a| a as usize))
}

/// A new pointer object for `addr`. For Rust code running under mlua.
pub fn pointer_value(lua: &mlua::Lua, addr: usize) -> mlua::Result<mlua::Value> {
    // SAFETY: pushes one value in mlua's protected raw call.
    unsafe { lua.exec_raw::<mlua::Value>((), |l| pointer::push(l, addr as *mut c_void)) }
}

/// The byte of the 1-character string at `idx`, or what the value is instead (for messages):
/// its type name, or the length of a longer or empty string.
pub(crate) unsafe fn char_at(l: *mut lua_State, idx: c_int) -> Result<u8, String> {
    if ffi::lua_type(l, idx) != ffi::LUA_TSTRING {
        let got = std::ffi::CStr::from_ptr(type_name(l, idx)).to_string_lossy();
        return Err(got.into_owned());
    }
    let mut len = 0usize;
    let s = ffi::lua_tolstring(l, idx, &mut len);
    match len {
        1 => Ok(*s as u8),
        n => Err(format!("a string of length {n}")),
    }
}

/// A `char` parameter passed as a 1-character string: its byte; raises the argument error for
/// anything else.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn char_arg(l: *mut lua_State, arg: c_int) -> c_int {
    match char_at(l, arg) {
        Ok(byte) => byte as c_int,
        Err(got) => {
            let name = std::ffi::CStr::from_ptr(function_name(l)).to_string_lossy();
            crate::lua_error::raise(
                l,
                format!("bad argument #{arg} to '{name}' (1-character string expected, got {got})"),
            )
        }
    }
}

/// Pushes the `char` `c` as a 1-character string.
///
/// # Safety
/// `l` has room for one value.
pub unsafe extern "C-unwind" fn push_char(l: *mut lua_State, c: c_int) {
    let byte = c as u8;
    ffi::lua_pushlstring(l, (&byte as *const u8).cast(), 1);
}
