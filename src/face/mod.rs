//! The faces: one module per API that Lua programmers already know, each a thin layer of
//! names and conventions over the engine.
//!
//! Faces are written as ordinary mlua functions. [`lift`] wraps each one so that its errors
//! reach Lua as plain strings with the caller's position ("script.lua:3: symbol 'x' not
//! found..."), the way errors of Lua's own library functions read, instead of mlua's error
//! objects.

pub mod alien;
pub mod cinvoke;
mod errors;
pub mod native;

use mlua::{Error, Function, Lua, Result, Value};

const LIFT_KEY: &str = "moonthunk.lift";

/// The message of an error as a Lua programmer should read it: the innermost cause,
/// without mlua's wrapping and tracebacks; `function` names the face function.
fn clean_message(error: &Error, function: &str) -> String {
    match error {
        Error::CallbackError { cause, .. } | Error::WithContext { cause, .. } => {
            clean_message(cause, function)
        }
        Error::BadArgument { to, pos, cause, .. } => format!(
            "bad argument #{pos} to '{}' ({})",
            to.as_deref().unwrap_or(function),
            clean_message(cause, function)
        ),
        // An error raised by Lua code that a face function called (a thunk) arrives with
        // mlua's traceback appended last; the caller gets its own. A callback's traceback,
        // part of the error's own text, stays.
        Error::RuntimeError(message) => match message.rfind("\nstack traceback:") {
            Some(end) => message[..end].to_string(),
            None => message.clone(),
        },
        Error::FromLuaConversionError { from, to, .. } => {
            // Lua's own messages call an integer a number.
            let from = if *from == "integer" { "number" } else { from };
            format!("{} expected, got {from}", lua_type_name(to))
        }
        other => other.to_string(),
    }
}

/// The Lua name of the type a Rust conversion wanted.
fn lua_type_name(rust: &str) -> &str {
    match rust {
        "String" | "BString" | "LuaString" => "string",
        "Table" => "table",
        "Function" => "function",
        "AnyUserData" => "userdata",
        "bool" => "boolean",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "f32" | "f64" => "number",
        other => other,
    }
}

/// Wraps `raw` (the face function `name`) so that its errors are raised as clean strings at
/// the caller's level.
pub fn lift(lua: &Lua, name: &str, raw: Function) -> Result<Function> {
    let factory: Function = match lua.named_registry_value::<Option<Function>>(LIFT_KEY)? {
        Some(factory) => factory,
        None => {
            let clean = lua.create_function(|_, (error, name): (Value, String)| {
                Ok(match error {
                    Value::Error(e) => clean_message(&e, &name),
                    Value::String(s) => s.to_string_lossy(),
                    other => other.to_string()?,
                })
            })?;
            let factory: Function = lua
                .load(
                    r#"
                    local clean, pcall, error = ...
                    return function(raw, name)
                        local function lift(ok, ...)
                            if ok then return ... end
                            error(clean((...), name), 2)
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
    factory.call((raw, name))
}
