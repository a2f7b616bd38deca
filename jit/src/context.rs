//! Memory shared by generated code and the host, with layouts both sides agree on.
//!
//! A thunk's upvalue 1 is a [`CallTarget`]: the C function to call and the [`CallContext`] of
//! the Lua state it belongs to. Around the C call the thunk records the calling Lua thread in
//! the context (so a callback entered during the call runs on that thread, coroutines
//! included) and afterwards checks whether a callback left an error to raise.

use std::ffi::c_void;

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

/// Upvalue 1 of a bound function (a full userdata holding this block).
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
