//! Memory shared by generated code and the host, with layouts both sides agree on.
//!
//! A thunk's upvalue 1 is a [`CallTarget`]: the C function to call and the [`CallContext`] of
//! the Lua state it belongs to. Around the C call the thunk records the calling Lua thread in
//! the context (so a callback entered during the call runs on that thread, coroutines
//! included) and afterwards checks whether a callback left an error to raise.
//!
//! A callback entry reads its slot's [`CallbackSlot`] at call time: which OS thread owns the
//! live callback's Lua state, the function's registry reference and the state's context.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU8, AtomicUsize};

/// Per Lua state: what generated code and callbacks need to know about the call in progress.
#[repr(C)]
#[derive(Debug)]
pub struct CallContext {
    /// The Lua thread whose thunk is calling into C right now, or null.
    pub current: *mut c_void,
    /// Non-zero when a callback failed during the current C call; the thunk then calls the
    /// host's `raise_pending` instead of pushing the result.
    pub pending_error: u32,
    /// The value of errno right after the last C call made by a thunk.
    pub errno: i32,
    /// Where this thread's errno lives (`__errno_location()`), read right after each call.
    pub errno_location: *const i32,
}

/// Upvalue 1 of a bound function: a full userdata without user values holding this block
/// (thunks that read the stack directly find it at the userdata's fixed data offset).
#[repr(C)]
#[derive(Debug)]
pub struct CallTarget {
    pub target: *const c_void,
    pub context: *mut CallContext,
}

pub(crate) const TARGET_OFFSET: i32 = std::mem::offset_of!(CallTarget, target) as i32;
pub(crate) const CONTEXT_OFFSET: i32 = std::mem::offset_of!(CallTarget, context) as i32;
pub(crate) const CURRENT_OFFSET: i32 = std::mem::offset_of!(CallContext, current) as i32;
pub(crate) const PENDING_OFFSET: i32 = std::mem::offset_of!(CallContext, pending_error) as i32;
pub(crate) const ERRNO_OFFSET: i32 = std::mem::offset_of!(CallContext, errno) as i32;
pub(crate) const ERRNO_LOCATION_OFFSET: i32 =
    std::mem::offset_of!(CallContext, errno_location) as i32;

/// The part of a callback slot that the slot's entry reads at call time. The entry has the
/// slot's address baked in; the host reuses slots, so everything here is read per call. The
/// host's slot type starts with this block.
#[repr(C)]
#[derive(Debug, Default)]
pub struct CallbackSlot {
    /// Set while the slot holds a callback; cleared when it is freed (for the host).
    pub live: AtomicBool,
    /// Registry reference of the Lua function.
    pub function_ref: AtomicI32,
    /// While the slot is live, the OS thread that owns the Lua state (what
    /// `LuaApi::thread_id` returns there); 0 otherwise. Only that thread writes it, so a
    /// thread that reads its own identity here is the owner of a live callback.
    pub owner: AtomicUsize,
    /// The call context of the Lua state.
    pub context: AtomicPtr<CallContext>,
    /// The state's main thread: where the callback runs when no thunk is calling into C.
    pub main: AtomicPtr<c_void>,
    /// With direct stack access: the stack value of the function (its bits and type tag)
    /// and the type tag of the message handler, cached by the entry's first call so that
    /// later calls write them to the stack. A tag of 0 means not cached yet; the host resets
    /// it when it gives the slot a function.
    pub function_bits: AtomicUsize,
    pub function_tag: AtomicU8,
    pub handler_tag: AtomicU8,
    /// Calls of the slot's callback in progress on the owning thread (the entry counts its
    /// own around the protected call). A callback freed while it runs keeps its slot and
    /// references until the count is back to zero: the entry then has the host release them
    /// (`LuaApi::release_freed`), after the result was converted with them.
    pub running: AtomicU32,
    /// Which of the slot's entries (one per signature the slot has served) belongs to the
    /// live callback: an entry compiled for another signature, called through a pointer kept
    /// from a freed callback, leaves the call to the host, which refuses it.
    pub entry_index: AtomicU32,
}

pub(crate) const SLOT_FUNCTION_REF_OFFSET: i32 =
    std::mem::offset_of!(CallbackSlot, function_ref) as i32;
pub(crate) const SLOT_OWNER_OFFSET: i32 = std::mem::offset_of!(CallbackSlot, owner) as i32;
pub(crate) const SLOT_CONTEXT_OFFSET: i32 = std::mem::offset_of!(CallbackSlot, context) as i32;
pub(crate) const SLOT_MAIN_OFFSET: i32 = std::mem::offset_of!(CallbackSlot, main) as i32;
pub(crate) const SLOT_FUNCTION_BITS_OFFSET: i32 =
    std::mem::offset_of!(CallbackSlot, function_bits) as i32;
pub(crate) const SLOT_FUNCTION_TAG_OFFSET: i32 =
    std::mem::offset_of!(CallbackSlot, function_tag) as i32;
pub(crate) const SLOT_LIVE_OFFSET: i32 = std::mem::offset_of!(CallbackSlot, live) as i32;
pub(crate) const SLOT_RUNNING_OFFSET: i32 = std::mem::offset_of!(CallbackSlot, running) as i32;
pub(crate) const SLOT_ENTRY_INDEX_OFFSET: i32 =
    std::mem::offset_of!(CallbackSlot, entry_index) as i32;
pub(crate) const SLOT_HANDLER_TAG_OFFSET: i32 =
    std::mem::offset_of!(CallbackSlot, handler_tag) as i32;
