//! Per Lua state data that generated code and callbacks share.
//!
//! Each Lua state that loads moonthunk gets one [`StateContext`]: the call context thunks
//! update around every C call (which Lua thread is calling, whether a callback failed), the
//! errors callbacks left behind, and the queue of calls that foreign OS threads made to
//! thread-safe callbacks. It lives as long as the process (one small allocation per state):
//! callback slots and bound functions may point at it from code that outlives the state's
//! objects during `lua_close`.

use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::sync::{Arc, Condvar, Mutex};

use mlua::ffi::{self, lua_State};
use mlua::Lua;
use moonthunk_jit::{CallContext, CallTarget};

use crate::lua_version;

/// A call made from a foreign thread to a thread-safe callback, waiting for
/// [`crate::callback::poll`].
pub struct QueuedCall {
    pub slot: usize,
    pub args: Vec<u64>,
    /// Words of the result buffer.
    pub result_words: usize,
    /// Where a blocking caller waits for the result; `None` for async calls.
    pub reply: Option<Arc<Reply>>,
}

/// The result of a queued call, handed back to the thread that made it.
#[derive(Default)]
pub struct Reply {
    pub value: Mutex<Option<Vec<u64>>>,
    pub ready: Condvar,
}

/// One per Lua state. `#[repr(C)]` with the call context first, so generated code that holds
/// a `*mut CallContext` holds a `*mut StateContext`.
#[repr(C)]
pub struct StateContext {
    pub call: CallContext,
    /// The main thread, used when a callback runs while no thunk is calling into C.
    pub main: *mut lua_State,
    /// How many callback errors were dropped after the first one of the current C call.
    pub suppressed: u32,
    pub queue: Mutex<VecDeque<QueuedCall>>,
}

/// The state's context, as mlua's per-state application data: found without a registry
/// lookup, once per bound function.
struct ContextOf(*mut StateContext);
/// Registry fields holding the first error of the current C call, and the first dropped one.
/// They are made with the context and never set to nil (`false` when empty), so storing an
/// error in them never allocates: [`record_error`] runs outside any protected call, where a
/// memory error would unwind through the C frames and leave the call's error pending.
pub const PENDING_ERROR: &std::ffi::CStr = c"moonthunk.pending_error";
pub const SUPPRESSED_ERROR: &std::ffi::CStr = c"moonthunk.suppressed_error";

/// The context of `lua`'s state, created on first use, when the metatables of the memory
/// objects that calls push (pointer results, struct views) are registered too.
pub fn context(lua: &Lua) -> mlua::Result<*mut StateContext> {
    if let Some(context) = lua.app_data_ref::<ContextOf>() {
        return Ok(context.0);
    }
    crate::memory::register(lua)?;
    // SAFETY: reads the main thread from the registry in mlua's protected raw call.
    let main = unsafe {
        lua.exec_raw::<mlua::LightUserData>((), |l| {
            ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, ffi::LUA_RIDX_MAINTHREAD);
            let main = ffi::lua_tothread(l, -1);
            ffi::lua_settop(l, 0);
            ffi::lua_pushlightuserdata(l, main as *mut c_void);
        })?
    };
    let context = Box::leak(Box::new(StateContext {
        call: CallContext {
            current: std::ptr::null_mut(),
            pending_error: 0,
            errno: 0,
            errno_location: errno_location(),
        },
        main: main.0 as *mut lua_State,
        suppressed: 0,
        queue: Mutex::new(VecDeque::new()),
    })) as *mut StateContext;
    for key in [PENDING_ERROR, SUPPRESSED_ERROR] {
        lua.set_named_registry_value(key.to_str().unwrap(), false)?;
    }
    lua.set_app_data(ContextOf(context));
    Ok(context)
}

/// The errno the last C call of `lua`'s state left (what `ffi.errno()` and `alien.errno()`
/// return): recorded by the thunk right after the call, before Lua code can change it.
pub fn last_errno(lua: &Lua) -> mlua::Result<i32> {
    // SAFETY: the context lives as long as the process; read on the Lua thread.
    Ok(unsafe { (*context(lua)?).call.errno })
}

/// The address of the calling OS thread's errno. A Lua state runs on the OS thread that
/// created it, whose errno thunks read after every call.
fn errno_location() -> *const i32 {
    extern "C" {
        #[cfg_attr(target_os = "linux", link_name = "__errno_location")]
        #[cfg_attr(any(target_os = "macos", target_os = "freebsd"), link_name = "__error")]
        fn errno_address() -> *const i32;
    }
    // SAFETY: libc's accessor of the calling thread's errno; always valid.
    unsafe { errno_address() }
}

/// Records the error message on top of `l`'s stack (popping it) as the pending error of the
/// current C call, or counts it as suppressed when one is already pending. Called by callback
/// entries (by address) and by the host's slow path. Never raises: it stores into registry
/// fields that exist (see [`PENDING_ERROR`]).
///
/// Like every helper generated code hands a context to, it takes the [`CallContext`] that
/// generated code holds and casts it: every one the host hands out is the `call` of a
/// [`StateContext`] (`#[repr(C)]`, `call` first). So the signature rustc checks against
/// [`moonthunk_jit::LuaApi`] says what generated code really passes.
///
/// # Safety
/// `l` is a thread of the state `context` belongs to, with the message on top; `context`
/// points at a [`StateContext`]'s `call`, with the provenance of the whole block.
pub unsafe extern "C-unwind" fn record_error(context: *mut CallContext, l: *mut lua_State) {
    let context = &mut *context.cast::<StateContext>();
    if context.call.pending_error == 0 {
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, PENDING_ERROR.as_ptr());
        context.call.pending_error = 1;
        context.suppressed = 0;
    } else {
        if context.suppressed == 0 {
            ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, SUPPRESSED_ERROR.as_ptr());
        } else {
            ffi::lua_settop(l, -2);
        }
        context.suppressed += 1;
    }
}

/// Called by a shared thunk right after its C call returns: records errno, ends the call
/// (clears `current`) and raises the error a callback left, if any. Specialized thunks do
/// the same inline.
///
/// # Safety
/// Called only from a thunk, with its state's context (as for [`record_error`]), whose
/// `current` is the thunk's Lua thread.
pub unsafe extern "C-unwind" fn finish_call(context: *mut CallContext) {
    let call = &mut *context;
    call.errno = *call.errno_location;
    if call.pending_error != 0 {
        raise_pending(context);
    }
    call.current = std::ptr::null_mut();
}

/// Called by a thunk whose C call returned with a callback error pending: raises it on the
/// thread that made the call (the context's `current`, which is cleared).
///
/// # Safety
/// Called only from a thunk, with its state's context (as for [`record_error`]), whose
/// `current` is the thunk's Lua thread.
pub unsafe extern "C-unwind" fn raise_pending(context: *mut CallContext) {
    let context = &mut *context.cast::<StateContext>();
    let l = std::mem::replace(&mut context.call.current, std::ptr::null_mut()) as *mut lua_State;
    context.call.pending_error = 0;
    let suppressed = std::mem::take(&mut context.suppressed);
    ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, PENDING_ERROR.as_ptr());
    if suppressed > 0 {
        ffi::lua_getfield(l, ffi::LUA_REGISTRYINDEX, SUPPRESSED_ERROR.as_ptr());
    }
    // Emptied before building the message, which allocates and may fail.
    for key in [PENDING_ERROR, SUPPRESSED_ERROR] {
        ffi::lua_pushboolean(l, 0);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, key.as_ptr());
    }
    if suppressed > 0 {
        ffi::luaL_tolstring(l, -1, std::ptr::null_mut());
        ffi::lua_pushfstring(
            l,
            c"\n(%d more callback error(s) in the same call suppressed; the first: %s)".as_ptr(),
            suppressed as c_int,
            ffi::lua_tolstring(l, -1, std::ptr::null_mut()),
        );
        ffi::lua_rotate(l, -3, 1);
        ffi::lua_settop(l, -3);
        // The stack is now: error, suffix.
        if ffi::lua_type(l, -2) == ffi::LUA_TSTRING {
            ffi::lua_concat(l, 2);
        } else {
            ffi::lua_settop(l, -2);
        }
    }
    ffi::lua_error(l);
}

/// Upvalue 1 of a bound function: pushes a new userdata holding the `CallTarget`.
///
/// # Safety
/// `l` has room for one value.
pub unsafe fn push_call_target(
    l: *mut lua_State,
    target: *const c_void,
    context: *mut StateContext,
) {
    let block = lua_version::new_userdata(l, size_of::<CallTarget>(), 0) as *mut CallTarget;
    block.write(CallTarget {
        target,
        context: context as *mut CallContext,
    });
}
