//! `ffi.callback`, `ffi.poll`: the native face of callbacks (engine: src/callback.rs).

use mlua::{Function, Lua, Result, Table, Value};

use super::{lift, signature};
use crate::callback::{self, Callback, Options};
use crate::state;

/// Adds the callback functions to the module table `ffi`.
pub fn install(lua: &Lua, ffi: &Table) -> Result<()> {
    callback::register(lua)?;
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
            let context = state::context(lua)?;
            let callback = Callback::new(context, &sig, options).map_err(mlua::Error::runtime)?;
            // SAFETY: takes a registry reference to the function mlua pushed and builds the
            // callback object, in mlua's protected raw call.
            unsafe {
                lua.exec_raw::<Value>(function, |l| {
                    let function_ref = mlua::ffi::luaL_ref(l, mlua::ffi::LUA_REGISTRYINDEX);
                    crate::record::push_definitions(l, &sig.records());
                    let definitions_ref = mlua::ffi::luaL_ref(l, mlua::ffi::LUA_REGISTRYINDEX);
                    callback.attach(function_ref, definitions_ref);
                    callback::push_object(l, callback, &sig);
                })
            }
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
