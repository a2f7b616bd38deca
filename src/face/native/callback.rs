//! `ffi.callback`, `ffi.poll` and the callback object they make (metatable
//! `moonthunk.callback`): the native face of callbacks (engine: src/callback/).

use std::ffi::{c_int, c_void};

use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua, Result, Table, Value};

use super::{lift, signature};
use crate::callback::{self, Callback, Options};
use crate::face::errors::Render;
use crate::function::{Signature, ValueType};
use crate::lua_version;
use crate::memory::pointer;
use crate::state;

/// Adds the callback functions to the module table `ffi`.
pub fn install(lua: &Lua, ffi: &Table) -> Result<()> {
    register(lua)?;
    let create = lua.create_function(
        |lua, (function, ret, args, options): (Function, Value, Option<Table>, Option<Table>)| {
            let sig = signature(lua, ret, args)?;
            let options = match options {
                Some(t) => Options {
                    threadsafe: t.get::<Option<bool>>("threadsafe")?.unwrap_or(false),
                    asynchronous: t.get::<Option<bool>>("async")?.unwrap_or(false),
                },
                None => Options::default(),
            };
            if options.asynchronous && !options.threadsafe {
                return Err(mlua::Error::runtime(
                    "'async' callbacks must also be 'threadsafe'",
                ));
            }
            let callback =
                Callback::create(lua, function, &sig, options).map_err(Render::render)?;
            // SAFETY: builds the callback object in mlua's protected raw call.
            unsafe { lua.exec_raw::<Value>((), |l| push_object(l, callback, &sig)) }
        },
    )?;
    ffi.set("callback", lift(lua, "callback", create)?)?;

    let poll = lua.create_function(|lua, ()| {
        let context = state::context(lua)?;
        // SAFETY: runs queued calls on the calling Lua thread, inside mlua's protected call.
        unsafe {
            lua.exec_raw::<usize>((), |l| {
                let ran = callback::poll(l, context);
                mlua::ffi::lua_pushinteger(l, ran as mlua::ffi::lua_Integer);
            })
        }
    })?;
    ffi.set("poll", lift(lua, "poll", poll)?)?;
    Ok(())
}

/// Registry name of the metatable of callback objects.
const METATABLE: &std::ffi::CStr = c"moonthunk.callback";

/// The userdata block of a callback object. It starts with a [`pointer::FunctionHeader`]
/// holding the entry address, so the object passes wherever a pointer does, and where a
/// function pointer parameter wants a C function.
#[repr(C)]
struct CallbackObject {
    header: pointer::FunctionHeader,
    callback: Callback,
    /// Set once this object released its slot (by `free()` or collection): the slot may
    /// serve another callback since, which this object must not release again.
    released: bool,
    ret_name: &'static std::ffi::CStr,
    argc: usize,
}

/// Pushes a new callback object owning `callback`.
///
/// # Safety
/// `l` has room for two values; [`register`] ran for this state.
unsafe fn push_object(l: *mut lua_State, callback: Callback, sig: &Signature) {
    let block = lua_version::new_userdata(l, size_of::<CallbackObject>(), 0) as *mut CallbackObject;
    block.write(CallbackObject {
        header: pointer::FunctionHeader::new(callback.entry()),
        callback,
        released: false,
        ret_name: match &sig.ret {
            ValueType::Scalar(t) => t.c_name(),
            _ => c"struct",
        },
        argc: sig.args.len(),
    });
    ffi::luaL_setmetatable(l, METATABLE.as_ptr());
}

unsafe fn check_object(l: *mut lua_State) -> &'static mut CallbackObject {
    &mut *(ffi::luaL_checkudata(l, 1, METATABLE.as_ptr()) as *mut CallbackObject)
}

unsafe extern "C-unwind" fn object_index(l: *mut lua_State) -> c_int {
    let object = check_object(l);
    let key = ffi::luaL_checklstring(l, 2, std::ptr::null_mut());
    match std::ffi::CStr::from_ptr(key).to_bytes() {
        b"ptr" => pointer::push(l, object.header.header.addr as *mut c_void),
        b"retType" => {
            ffi::lua_pushstring(l, object.ret_name.as_ptr());
        }
        b"argCount" => ffi::lua_pushinteger(l, object.argc as ffi::lua_Integer),
        b"isValid" => {
            ffi::lua_pushboolean(l, (!object.released && object.callback.is_valid()) as c_int)
        }
        b"getPtr" => ffi::lua_pushcfunction(l, object_get_ptr),
        b"free" => ffi::lua_pushcfunction(l, object_free),
        _ => ffi::lua_pushnil(l),
    }
    1
}

unsafe extern "C-unwind" fn object_get_ptr(l: *mut lua_State) -> c_int {
    let object = check_object(l);
    pointer::push(l, object.header.header.addr as *mut c_void);
    1
}

unsafe extern "C-unwind" fn object_free(l: *mut lua_State) -> c_int {
    let object = check_object(l);
    if !std::mem::replace(&mut object.released, true) {
        object.callback.free(l);
        // The object no longer passes as a pointer: its slot may serve another callback.
        object.header.clear();
    }
    0
}

unsafe extern "C-unwind" fn object_tostring(l: *mut lua_State) -> c_int {
    let object = check_object(l);
    ffi::lua_pushfstring(l, c"callback: %p".as_ptr(), object.header.header.addr);
    1
}

/// Creates the callback object metatable in the registry of `lua` (once per state).
fn register(lua: &mlua::Lua) -> mlua::Result<()> {
    // SAFETY: plain stack manipulation inside mlua's protected raw call.
    unsafe {
        lua.exec_raw::<()>((), |l| {
            if ffi::luaL_newmetatable(l, METATABLE.as_ptr()) != 0 {
                for (name, f) in [
                    (c"__index", object_index as ffi::lua_CFunction),
                    (c"__gc", object_free),
                    (c"__close", object_free),
                    (c"__tostring", object_tostring),
                ] {
                    ffi::lua_pushcfunction(l, f);
                    ffi::lua_setfield(l, -2, name.as_ptr());
                }
                ffi::lua_pushstring(l, c"callback".as_ptr());
                ffi::lua_setfield(l, -2, c"__name".as_ptr());
            }
            ffi::lua_settop(l, -2);
        })
    }
}
