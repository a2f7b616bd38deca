//! Native memory as Lua sees it: arenas, buffers, raw and typed pointers, struct layouts and
//! struct views. Every object is a raw Lua userdata with C metamethods (see
//! [`pointer`](mod@pointer) for the common block layout), so that field and element accesses
//! cost one C call.

pub mod arena;
pub mod buffer;
pub mod layout;
pub mod pointer;
pub(crate) mod raw;
pub mod raw_pointer;
pub mod region;
pub mod typed;
pub mod value;
pub mod view;

use mlua::ffi::lua_State;

/// Creates every memory metatable (once per state).
///
/// # Safety
/// `l` is a valid state with a few free stack slots.
unsafe fn register_all(l: *mut lua_State) {
    raw_pointer::register(l);
    typed::register(l);
    view::register(l);
    buffer::register(l);
    arena::register(l);
}

/// Creates every memory metatable in the registry of `lua` (once per state).
pub fn register(lua: &mlua::Lua) -> mlua::Result<()> {
    // SAFETY: plain stack manipulation inside mlua's protected raw call.
    unsafe { lua.exec_raw::<()>((), |l| register_all(l)) }
}
