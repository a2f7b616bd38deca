//! Native memory as Lua sees it: arenas, buffers, raw and typed pointers, struct layouts and
//! struct views. Every object is a raw Lua userdata with C metamethods (see [`pointer`] for the
//! common block layout), so that field and element accesses cost one C call.

pub mod arena;
pub mod buffer;
pub mod layout;
pub mod ops;
pub mod pointer;
pub(crate) mod raw;
pub mod typed;
pub mod value;
pub mod view;

use mlua::ffi::lua_State;

/// Creates every memory metatable (once per state).
///
/// # Safety
/// `l` is a valid state with a few free stack slots.
pub unsafe fn register_all(l: *mut lua_State) {
    pointer::register_raw(l);
    typed::register(l);
    view::register(l);
    buffer::register(l);
    arena::register(l);
}
