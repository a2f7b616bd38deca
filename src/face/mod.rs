//! The faces: one module per API that Lua programmers already know, each a thin layer of
//! names and conventions over the engine.
//!
//! Faces are written as ordinary mlua functions. [`lift`] wraps each one so that its errors
//! reach Lua as plain strings with the caller's position ("script.lua:3: symbol 'x' not
//! found..."), the way errors of Lua's own library functions read, instead of mlua's error
//! objects.

pub mod native;

use mlua::{Error, Function, Lua, Result, Value};

const LIFT_KEY: &str = "moonthunk.lift";

/// The message of an error as a Lua programmer should read it: the innermost cause,
/// without mlua's wrapping and tracebacks.
fn clean_message(error: &Error) -> String {
    match error {
        Error::CallbackError { cause, .. } | Error::WithContext { cause, .. } => {
            clean_message(cause)
        }
        Error::BadArgument { to, pos, cause, .. } => format!(
            "bad argument #{pos} to '{}' ({})",
            to.as_deref().unwrap_or("?"),
            clean_message(cause)
        ),
        Error::RuntimeError(message) => message.clone(),
        Error::FromLuaConversionError { from, to, .. } => format!("{to} expected, got {from}"),
        other => other.to_string(),
    }
}

/// Wraps `raw` so that its errors are raised as clean strings at the caller's level.
pub fn lift(lua: &Lua, raw: Function) -> Result<Function> {
    let factory: Function = match lua.named_registry_value::<Option<Function>>(LIFT_KEY)? {
        Some(factory) => factory,
        None => {
            let clean = lua.create_function(|_, error: Value| {
                Ok(match error {
                    Value::Error(e) => clean_message(&e),
                    Value::String(s) => s.to_string_lossy(),
                    other => other.to_string()?,
                })
            })?;
            let factory: Function = lua
                .load(
                    r#"
                    local clean, pcall, error = ...
                    return function(raw)
                        local function lift(ok, ...)
                            if ok then return ... end
                            error(clean((...)), 2)
                        end
                        return function(...) return lift(pcall(raw, ...)) end
                    end
                    "#,
                )
                .set_name("=moonthunk")
                .call((
                    clean,
                    lua.globals().get::<Function>("pcall")?,
                    lua.globals().get::<Function>("error")?,
                ))?;
            lua.set_named_registry_value(LIFT_KEY, &factory)?;
            factory
        }
    };
    factory.call(raw)
}
