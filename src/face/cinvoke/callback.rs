//! C/Invoke's callback values: `lib:new_callback(rettype, f, ...)`, `cinv.ptr_to_callback`
//! and `cinv.callback_to_ptr`.
//!
//! A callback value is a userdata starting with a [`FunctionHeader`], the one thing a
//! `Ccallback` parameter takes; one made by `new_callback` owns its engine callback and gives
//! the slot back when collected.

use std::ffi::{c_int, c_void};

use mlua::ffi::{self, lua_State};
use mlua::{AnyUserData, Function, Lua, MultiValue, Result, Value};

use super::types::{bad_argument, CinvType};
use crate::callback::{Callback, Options};
use crate::face::errors::Render;
use crate::function::Signature;
use crate::lua_version;
use crate::memory::pointer::{self, FunctionHeader};

const METATABLE: &std::ffi::CStr = c"cinvoke callback";

/// The block of a callback value.
#[repr(C)]
struct CallbackBlock {
    header: FunctionHeader,
    /// The callback this value owns (`new_callback`), released when it is collected.
    callback: Option<Callback>,
}

/// `lib:new_callback(rettype, f, ...)`.
pub fn new(lua: &Lua, ret: &Value, function: Value, args: MultiValue) -> Result<AnyUserData> {
    const METHOD: &str = "new_callback";
    let ret = CinvType::from_arg(lua, ret, 1, METHOD)?
        .value()
        .map_err(|e| bad_argument(1, METHOD, e))?;
    let Value::Function(function) = function else {
        let got = crate::convert::lua_type_name(lua, &function)?;
        return Err(bad_argument(
            2,
            METHOD,
            format!("function expected, got {got}"),
        ));
    };
    let params = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            CinvType::from_arg(lua, arg, i + 3, METHOD)?
                .callback_parameter()
                .map_err(|e| bad_argument(i + 3, METHOD, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let sig = Signature::new(ret, params, false).map_err(Render::render)?;
    create(lua, function, &sig)
}

fn create(lua: &Lua, function: Function, sig: &Signature) -> Result<AnyUserData> {
    let callback =
        Callback::create(lua, function, sig, Options::default()).map_err(Render::render)?;
    push(lua, callback.entry() as *mut c_void, Some(callback))
}

/// `cinv.ptr_to_callback(ptr)`: a value that passes `ptr` as a `Ccallback`.
pub fn from_pointer(lua: &Lua, ptr: Value) -> Result<AnyUserData> {
    let Some(address) = crate::convert::opaque_address_of(lua, ptr.clone())? else {
        let got = crate::convert::lua_type_name(lua, &ptr)?;
        return Err(bad_argument(
            1,
            "ptr_to_callback",
            format!("pointer expected, got {got}"),
        ));
    };
    if address < pointer::NULL_PAGE {
        return Err(bad_argument(
            1,
            "ptr_to_callback",
            format!("0x{address:x} is not a function's address"),
        ));
    }
    push(lua, address as *mut c_void, None)
}

/// `cinv.callback_to_ptr(cb)`: the C entry of a callback value, as a `Cptr`.
pub fn to_pointer(lua: &Lua, cb: Value) -> Result<Value> {
    // SAFETY: inspects the pushed value in mlua's protected raw call.
    let address = unsafe {
        lua.exec_raw::<Option<mlua::LightUserData>>(&cb, |l| {
            let f = if ffi::luaL_testudata(l, 1, METATABLE.as_ptr()).is_null() {
                None
            } else {
                pointer::function_at(l, 1)
            };
            ffi::lua_settop(l, 0);
            match f {
                Some(f) => ffi::lua_pushlightuserdata(l, f),
                None => ffi::lua_pushnil(l),
            }
        })?
    };
    match address {
        Some(address) => Ok(Value::LightUserData(address)),
        None => {
            let got = crate::convert::lua_type_name(lua, &cb)?;
            Err(bad_argument(
                1,
                "callback_to_ptr",
                format!("callback expected, got {got}"),
            ))
        }
    }
}

/// A new callback value for `address`, owning `callback`.
fn push(lua: &Lua, address: *mut c_void, callback: Option<Callback>) -> Result<AnyUserData> {
    // SAFETY: builds the value in mlua's protected raw call; `Callback` needs no drop.
    unsafe {
        lua.exec_raw::<AnyUserData>((), |l| {
            let block =
                lua_version::new_userdata(l, size_of::<CallbackBlock>(), 0) as *mut CallbackBlock;
            block.write(CallbackBlock {
                header: FunctionHeader::new(address),
                callback,
            });
            if ffi::luaL_newmetatable(l, METATABLE.as_ptr()) != 0 {
                ffi::lua_pushcfunction(l, release);
                ffi::lua_setfield(l, -2, c"__gc".as_ptr());
                ffi::lua_pushstring(l, METATABLE.as_ptr());
                ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
            }
            ffi::lua_setmetatable(l, -2);
        })
    }
}

/// `__gc` of a callback value: gives its slot back.
unsafe extern "C-unwind" fn release(l: *mut lua_State) -> c_int {
    let block = ffi::lua_touserdata(l, 1) as *mut CallbackBlock;
    if let Some(callback) = (*block).callback.take() {
        callback.free(l);
        // A resurrected value no longer passes as a function: the slot may serve another
        // callback.
        (*block).header.clear();
    }
    0
}
