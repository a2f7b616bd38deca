//! The C/Invoke face: `require("cinvoke_lua")`, compatible with the C/Invoke Lua binding 1.0
//! as its manual describes it (where the original's code disagrees with its manual, the
//! manual wins).
//!
//! Loading the module defines the globals `clibrary`, `cstructure`, `cinv` and the built-in
//! types (`Cint`...), and returns them in a table. Every call is a thunk call: a function
//! from `get_function` is the engine's bound function. The face only picks conventions
//! through its types (`types`): `Cchar` as a 1-character string, `Cptr` as an opaque
//! address, `cinv.array` as a table written back after the call.

mod callback;
mod library;
mod memory;
mod types;

use mlua::{Function, Lua, Result, Table, Value};

use super::lift;
use types::{bad_argument, CinvType, BASICS};

const MODULE_KEY: &str = "moonthunk.cinvoke";

/// The module table, built once per Lua state; each load (re)defines the globals.
pub fn module(lua: &Lua) -> Result<Table> {
    let module = match lua.named_registry_value::<Option<Table>>(MODULE_KEY)? {
        Some(module) => module,
        None => {
            let module = build(lua)?;
            lua.set_named_registry_value(MODULE_KEY, &module)?;
            module
        }
    };
    let globals = lua.globals();
    for pair in module.pairs::<Value, Value>() {
        let (name, value) = pair?;
        globals.set(name, value)?;
    }
    Ok(module)
}

fn build(lua: &Lua) -> Result<Table> {
    let module = lua.create_table()?;
    for (name, basic) in BASICS {
        module.set(name, CinvType::Basic(basic).into_lua(lua)?)?;
    }

    let clibrary = lua.create_table()?;
    clibrary.set(
        "new",
        lift(
            lua,
            "new",
            lua.create_function(|lua, (name, convention): (Value, Option<Value>)| {
                library::new(lua, name, convention)
            })?,
        )?,
    )?;
    module.set("clibrary", clibrary)?;

    let cstructure = lua.create_table()?;
    cstructure.set(
        "new",
        lift(
            lua,
            "new",
            lua.create_function(|lua, args: mlua::MultiValue| {
                types::structure(lua, args.into_vec())?.into_lua(lua)
            })?,
        )?,
    )?;
    module.set("cstructure", cstructure)?;

    let cinv = lua.create_table()?;
    let def = |name: &str, f: Function| -> Result<()> { cinv.set(name, lift(lua, name, f)?) };
    def(
        "array",
        lua.create_function(|lua, t: Value| {
            CinvType::from_arg(lua, &t, 1, "array")?
                .array()
                .map_err(|e| bad_argument(1, "array", e))?
                .into_lua(lua)
        })?,
    )?;
    def(
        "sizeof",
        lua.create_function(|lua, t: Value| {
            CinvType::from_arg(lua, &t, 1, "sizeof")?
                .size()
                .map_err(|e| bad_argument(1, "sizeof", e))
        })?,
    )?;
    def(
        "chararray_to_string",
        lua.create_function(|lua, (arr, len): (Value, Option<Value>)| {
            memory::chararray_to_string(lua, arr, len)
        })?,
    )?;
    def(
        "string_to_chararray",
        lua.create_function(|lua, (s, includenil): (mlua::LuaString, Option<Value>)| {
            let includenil = !matches!(includenil, None | Some(Value::Nil | Value::Boolean(false)));
            memory::string_to_chararray(lua, &s.as_bytes(), includenil)
        })?,
    )?;
    def(
        "ptr_to_string",
        lua.create_function(|lua, (ptr, len): (Value, Option<Value>)| {
            memory::ptr_to_string(lua, ptr, len)
        })?,
    )?;
    def(
        "ptr_to_array",
        lua.create_function(|lua, (ptr, t, len): (Value, Value, Value)| {
            memory::ptr_to_array(lua, ptr, t, len)
        })?,
    )?;
    def(
        "ptr_to_struct",
        lua.create_function(|lua, (ptr, t): (Value, Value)| memory::ptr_to_struct(lua, ptr, t))?,
    )?;
    def(
        "ptr_incr",
        lua.create_function(|lua, (ptr, n): (Value, Value)| memory::ptr_incr(lua, ptr, n))?,
    )?;
    def(
        "ptr_to_callback",
        lua.create_function(|lua, ptr: Value| callback::from_pointer(lua, ptr))?,
    )?;
    def(
        "callback_to_ptr",
        lua.create_function(|lua, cb: Value| callback::to_pointer(lua, cb))?,
    )?;
    module.set("cinv", cinv)?;
    Ok(module)
}
