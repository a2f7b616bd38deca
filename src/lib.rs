//! moonthunk: a Lua FFI whose every call path is machine code compiled for its signature.
//!
//! Lua code loads a shared library, declares a C function's types and calls it like a Lua
//! function. Each signature is compiled by Cranelift (crate `moonthunk-jit`) into a thunk that
//! reads the Lua stack and calls the target directly; thunks are cached per signature.
//!
//! Embed it with [`open`], which makes `require("moonthunk")`, `require("@lune/ffi")`,
//! `require("alien")` and `require("cinvoke_lua")` available in a Lua state; or build the
//! crate with the `module` feature and `require` it from a stock Lua interpreter (as
//! `alien.so` and `cinvoke_lua.so` too, for Alien's and C/Invoke's APIs).

mod callback;
mod closure;
mod codegen;
mod convert;
pub mod ctype;
mod face;
pub mod function;
pub mod library;
mod lua_error;
mod lua_version;
pub(crate) mod memory;

/// Struct layouts, for signatures with records (`function::ValueType::Record`).
pub use memory::layout;
mod record;
mod stack_layout;
mod state;
mod table_array;
mod tier;

use mlua::{Lua, Result, Table};

pub use callback::{Callback, Error as CallbackError, Options as CallbackOptions};

/// The module names under which the native face is preloaded.
pub const MODULE_NAMES: [&str; 2] = ["moonthunk", "@lune/ffi"];

/// Installs moonthunk's modules in `package.preload` of `lua`: the native face under
/// [`MODULE_NAMES`], the Alien face as `alien` and `alien.struct`, and the C/Invoke face as
/// `cinvoke_lua`.
pub fn open(lua: &Lua) -> Result<()> {
    let preload: Table = lua.globals().get::<Table>("package")?.get("preload")?;
    for name in MODULE_NAMES {
        preload.set(
            name,
            lua.create_function(|lua, ()| face::native::module(lua))?,
        )?;
    }
    preload.set(
        "alien",
        lua.create_function(|lua, ()| face::alien::module(lua))?,
    )?;
    preload.set(
        "alien.struct",
        lua.create_function(|lua, ()| face::alien::struct_module(lua))?,
    )?;
    preload.set(
        "cinvoke_lua",
        lua.create_function(|lua, ()| face::cinvoke::module(lua))?,
    )?;
    Ok(())
}

/// The entry point of the loadable module: `require("moonthunk")` from a stock Lua.
#[cfg(feature = "module")]
#[mlua::lua_module(skip_memory_check)]
fn moonthunk(lua: &Lua) -> Result<Table> {
    open(lua)?;
    face::native::module(lua)
}

/// `require("alien")` from a stock Lua, with this library installed as `alien.so`.
#[cfg(feature = "module")]
#[mlua::lua_module(name = "alien", skip_memory_check)]
fn alien_module(lua: &Lua) -> Result<Table> {
    open(lua)?;
    face::alien::module(lua)
}

/// `require("alien.struct")` from a stock Lua: Lua's loader finds `luaopen_alien_struct`
/// in `alien.so`.
#[cfg(feature = "module")]
#[mlua::lua_module(name = "alien_struct", skip_memory_check)]
fn alien_struct_module(lua: &Lua) -> Result<Table> {
    open(lua)?;
    face::alien::struct_module(lua)
}

/// `require("cinvoke_lua")` from a stock Lua, with this library installed as `cinvoke_lua.so`.
#[cfg(feature = "module")]
#[mlua::lua_module(name = "cinvoke_lua", skip_memory_check)]
fn cinvoke_module(lua: &Lua) -> Result<Table> {
    open(lua)?;
    face::cinvoke::module(lua)
}
