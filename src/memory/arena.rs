//! Arenas: zeroed allocations freed together, on `reset` or when the arena is collected.
//!
//! The [`ArenaState`] lives inline in the arena's userdata block, so its address is stable and
//! stays valid as long as any object pointing into the arena (which holds the arena in its
//! user value 1) is alive. `reset` and the finalizer free the allocations and bump the
//! generation: objects made before then see a different generation and refuse every access.
//! Buffers use the same state for their single allocation.

use std::ffi::{c_int, CStr};

use mlua::ffi::{self, lua_State};

use super::pointer::{self, Kind, MemObject};
use super::raw;
use super::region::{ArenaState, Region};
use super::view;
use crate::lua_error::raise;
use crate::lua_version;

/// Registry name of the arena metatable.
pub const METATABLE: &CStr = c"moonthunk.arena";

/// Alignment of `alloc` (that of `max_align_t`).
pub const DEFAULT_ALIGN: usize = 16;

/// Pushes a new arena userdata and returns its state.
pub unsafe fn push_arena(l: *mut lua_State) -> *mut ArenaState {
    let block = lua_version::new_userdata(l, size_of::<ArenaState>(), 0) as *mut ArenaState;
    block.write(ArenaState::new());
    ffi::luaL_setmetatable(l, METATABLE.as_ptr());
    block
}

unsafe fn check(l: *mut lua_State, idx: c_int, fname: &str) -> *mut ArenaState {
    let p = ffi::luaL_testudata(l, idx, METATABLE.as_ptr()) as *mut ArenaState;
    if p.is_null() {
        raw::arg_error(
            l,
            idx,
            fname,
            format!("arena expected, got {}", raw::type_name(l, idx)),
        );
    }
    p
}

/// Allocates `size` bytes in `arena` and returns the block with its managed region; raises
/// when the arena refuses.
unsafe fn alloc_region(
    l: *mut lua_State,
    arena: *mut ArenaState,
    size: usize,
    align: usize,
) -> (*mut u8, Region) {
    let p = match (*arena).alloc(size, align) {
        Ok(p) => p,
        Err(msg) => raise(l, msg),
    };
    let region = Region {
        managed: true,
        base: p,
        len: size,
        owner: arena,
        gen: (*arena).gen,
    };
    (p, region)
}

/// Allocates in the arena at index 1 and pushes a managed raw pointer to the block.
unsafe fn push_alloc(l: *mut lua_State, arena: *mut ArenaState, size: usize, align: usize) {
    let (p, region) = alloc_region(l, arena, size, align);
    pointer::push_object(l, pointer::raw_object(p, region));
    ffi::lua_pushvalue(l, 1);
    lua_version::set_user_value(l, -2, 1);
}

/// `ffi.arena()`.
pub unsafe extern "C-unwind" fn new(l: *mut lua_State) -> c_int {
    push_arena(l);
    1
}

unsafe extern "C-unwind" fn alloc(l: *mut lua_State) -> c_int {
    let arena = check(l, 1, "alloc");
    let size = raw::check_size(l, 2, "alloc", "size");
    push_alloc(l, arena, size, DEFAULT_ALIGN);
    1
}

unsafe extern "C-unwind" fn alloc_aligned(l: *mut lua_State) -> c_int {
    let arena = check(l, 1, "allocAligned");
    let size = raw::check_size(l, 2, "allocAligned", "size");
    let align = raw::check_size(l, 3, "allocAligned", "alignment");
    if !align.is_power_of_two() {
        raw::arg_error(
            l,
            3,
            "allocAligned",
            format!("alignment must be a power of two, got {align}"),
        );
    }
    push_alloc(l, arena, size, align.max(1));
    1
}

/// The size and alignment of a type argument: a scalar type name or a struct definition.
unsafe fn type_size(l: *mut lua_State, arg: c_int, fname: &str) -> (usize, usize) {
    if let Some(layout) = view::layout_at(l, arg) {
        return ((*layout).size, (*layout).align);
    }
    let t = raw::check_ctype(l, arg, fname);
    if t.size() == 0 {
        raw::arg_error(l, arg, fname, "cannot allocate a void".into());
    }
    (t.size(), t.align())
}

unsafe extern "C-unwind" fn alloc_type(l: *mut lua_State) -> c_int {
    let arena = check(l, 1, "allocType");
    let (size, align) = type_size(l, 2, "allocType");
    push_alloc(l, arena, size, align.max(DEFAULT_ALIGN));
    1
}

unsafe extern "C-unwind" fn alloc_array(l: *mut lua_State) -> c_int {
    let arena = check(l, 1, "allocArray");
    let (size, align) = type_size(l, 2, "allocArray");
    let count = raw::check_size(l, 3, "allocArray", "count");
    let Some(total) = size.checked_mul(count) else {
        raise(
            l,
            format!("cannot allocate {count} elements of {size} bytes"),
        );
    };
    push_alloc(l, arena, total, align.max(DEFAULT_ALIGN));
    1
}

unsafe extern "C-unwind" fn reset(l: *mut lua_State) -> c_int {
    let arena = check(l, 1, "reset");
    (*arena).reset();
    0
}

unsafe extern "C-unwind" fn gc(l: *mut lua_State) -> c_int {
    let arena = ffi::luaL_testudata(l, 1, METATABLE.as_ptr()) as *mut ArenaState;
    if !arena.is_null() {
        (*arena).reset();
        // Frees the bookkeeping; the (now empty) state stays valid for resurrected objects.
        (*arena).allocations = Vec::new();
    }
    0
}

unsafe extern "C-unwind" fn index(l: *mut lua_State) -> c_int {
    let arena = check(l, 1, "__index");
    match raw::string_at(l, 2) {
        Some(b"id") => ffi::lua_pushinteger(l, (*arena).id as i64),
        Some(b"totalAllocated") => ffi::lua_pushinteger(l, (*arena).total as i64),
        Some(b"allocationCount") => ffi::lua_pushinteger(l, (*arena).allocations.len() as i64),
        _ => {
            ffi::lua_pushvalue(l, 2);
            ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
        }
    }
    1
}

unsafe extern "C-unwind" fn tostring(l: *mut lua_State) -> c_int {
    let arena = check(l, 1, "__tostring");
    ffi::lua_pushfstring(
        l,
        c"arena %I (%I bytes in %I allocations)".as_ptr(),
        (*arena).id as ffi::lua_Integer,
        (*arena).total as ffi::lua_Integer,
        (*arena).allocations.len() as ffi::lua_Integer,
    );
    1
}

/// Registers the arena metatable.
pub unsafe fn register(l: *mut lua_State) {
    if ffi::luaL_newmetatable(l, METATABLE.as_ptr()) == 0 {
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_createtable(l, 0, 6);
    raw::set_functions(
        l,
        &[
            (c"alloc", alloc),
            (c"allocAligned", alloc_aligned),
            (c"allocType", alloc_type),
            (c"allocArray", alloc_array),
            (c"reset", reset),
        ],
    );
    ffi::lua_pushcclosure(l, index, 1);
    ffi::lua_setfield(l, -2, c"__index".as_ptr());
    raw::set_functions(l, &[(c"__gc", gc), (c"__tostring", tostring)]);
    ffi::lua_pushstring(l, c"arena".as_ptr());
    ffi::lua_setfield(l, -2, c"__name".as_ptr());
    ffi::lua_pushstring(l, c"moonthunk".as_ptr());
    ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
    ffi::lua_pop(l, 1);
}

/// Pushes a buffer of `size` zeroed bytes with its own storage.
pub unsafe fn push_buffer(l: *mut lua_State, size: usize) {
    let storage = push_arena(l);
    let (p, region) = alloc_region(l, storage, size, DEFAULT_ALIGN);
    pointer::push_object(
        l,
        MemObject {
            kind: Kind::Buffer,
            ..pointer::raw_object(p, region)
        },
    );
    ffi::lua_rotate(l, -2, 1);
    lua_version::set_user_value(l, -2, 1);
}
