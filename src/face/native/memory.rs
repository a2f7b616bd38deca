//! The memory part of the native face: `ffi.arena`, `ffi.buffer`, `ffi.struct`, `ffi.view`,
//! `ffi.cast`, `ffi.ptr`, `ffi.isNull`, `ffi.read`, `ffi.write`, `ffi.copy`, `ffi.fill` and
//! `ffi.unsafe`. Names only: the functions live in the engine (`crate::memory`).

use mlua::{ffi::lua_CFunction, Lua, Result, Table};

use crate::memory::{self, arena, buffer, ops, view};

const FUNCTIONS: &[(&str, lua_CFunction)] = &[
    ("arena", arena::new),
    ("buffer", buffer::new),
    ("struct", view::new_struct),
    ("union", view::new_union),
    ("view", view::new_view),
    ("cast", ops::cast),
    ("ptr", ops::ptr),
    ("isNull", ops::is_null),
    ("read", ops::read),
    ("write", ops::write),
    ("copy", ops::copy),
    ("fill", ops::fill),
];

const UNSAFE: &[(&str, lua_CFunction)] = &[
    ("read", ops::unsafe_read),
    ("write", ops::unsafe_write),
    ("copy", ops::unsafe_copy),
    ("fill", ops::unsafe_fill),
    ("zero", ops::unsafe_zero),
];

/// Adds the memory functions to the module table `ffi`.
pub fn register(lua: &Lua, ffi: &Table) -> Result<()> {
    memory::register(lua)?;
    for &(name, f) in FUNCTIONS {
        // SAFETY: the engine's raw functions follow the Lua C API conventions.
        ffi.set(name, unsafe { lua.create_c_function(f)? })?;
    }
    let unsafe_table = lua.create_table()?;
    for &(name, f) in UNSAFE {
        // SAFETY: as above.
        unsafe_table.set(name, unsafe { lua.create_c_function(f)? })?;
    }
    ffi.set("unsafe", unsafe_table)
}
