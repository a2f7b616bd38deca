//! Callback slots and what runs in them, none of which needs the code generator: the data
//! entries read at every call, the slow path [`dispatch`], queued calls ([`poll`]), and the
//! helpers generated entries and invokers call by address.
//!
//! Every live callback occupies a *slot*: a fixed block of memory whose address is baked
//! into a Cranelift-built C entry (one per signature and slot, compiled once and kept). The
//! slot starts with a [`CallbackSlot`] that the entry reads at every call (slots are reused):
//! the OS thread that owns the Lua state while the callback is live, the function's registry
//! reference, the state's call context and main thread.
//!
//! - On the owning OS thread the entry makes the whole call in generated code: it runs the
//!   function on the Lua thread whose thunk is calling into C (a coroutine included; the
//!   main thread when none is), in protected mode under [`traceback`], converts the result
//!   and restores the context's current thread afterwards (a callback may have resumed
//!   coroutines that called C). An error never unwinds through the C frames: the entry
//!   records it ([`state::record_error`]) and the calling thunk raises it when C returns.
//! - Everything unusual reaches [`dispatch`]: a freed slot (reported on stderr, returns
//!   zero), no Lua stack room, and calls from a foreign OS thread, which never touch the Lua
//!   state: a thread-safe callback queues the call for [`poll`] on the Lua thread
//!   (blocking the caller until it ran, unless it is async); any other callback reports the
//!   misuse on stderr and returns zero.

use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use mlua::ffi::{self, lua_State};
use moonthunk_jit::{CallbackSlot, RetKind, Signature as JitSignature};

use crate::convert::{char_at, mismatch_message, to_c, Mismatch, Site};
use crate::ctype::Scalar;
use crate::record;
use crate::state::{self, QueuedCall, Reply, StateContext};

/// Options of a callback (the native face's `ffi.callback(fn, ret, args, options)`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Calls from foreign threads are queued for [`poll`] instead of refused.
    pub threadsafe: bool,
    /// With `threadsafe`, a foreign caller does not wait for the call (void callbacks only).
    pub asynchronous: bool,
}

pub(super) type Invoker = unsafe extern "C-unwind" fn(*mut lua_State, *const u64, *const Slot);

/// What the host's paths need besides the [`CallbackSlot`]. Written while the slot is not
/// live; kept after `free()` (with its references released) until the slot is reused.
pub(super) struct SlotData {
    pub(super) invoker: Invoker,
    pub(super) ret: ResultConversion,
    pub(super) nargs: usize,
    /// Words of the spilled argument array.
    pub(super) words: usize,
    /// Words of the result buffer.
    pub(super) result_words: usize,
    /// Registry reference of the table of struct definitions (records by value).
    pub(super) definitions_ref: c_int,
    /// The record number of a by-value result.
    pub(super) ret_record: c_int,
    /// Freed while a call of it ran: released when the last call is over.
    pub(super) release_pending: bool,
    pub(super) options: Options,
}

/// A callback slot. Its address is baked into generated entries, so slots are never freed.
#[repr(C)]
pub struct Slot {
    /// What the entry reads at call time; first, so that the slot's address is its address.
    pub(super) head: CallbackSlot,
    pub(super) data: Mutex<SlotData>,
    /// Entries compiled for this slot, by signature.
    pub(super) entries: Mutex<Vec<(JitSignature, *const c_void)>>,
}

// SAFETY: the entry addresses point at immutable, never-freed code; the state pointers in
// the head are only dereferenced on the owning OS thread.
unsafe impl Sync for Slot {}
// SAFETY: as for `Sync`: what a slot points at is immutable code or state only its owning
// thread dereferences.
unsafe impl Send for Slot {}

#[cfg(unix)]
extern "C" {
    /// The identity of the calling OS thread, unique among live threads. Entries call it by
    /// address to recognize the owning thread.
    #[link_name = "pthread_self"]
    pub fn thread_id() -> usize;
}

/// The identity of the calling OS thread, unique among live threads. Entries call it by
/// address to recognize the owning thread.
#[cfg(windows)]
pub extern "C" fn thread_id() -> usize {
    extern "system" {
        fn GetCurrentThreadId() -> u32;
    }
    // SAFETY: no preconditions.
    unsafe { GetCurrentThreadId() as usize }
}

/// How a callback's result is converted for C (a copyable summary of its `RetKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ResultConversion {
    Void,
    Bool,
    Integer,
    F32,
    F64,
    Pointer,
    CharString,
    Record,
}

impl ResultConversion {
    pub(super) fn of(ret: &RetKind) -> ResultConversion {
        match ret {
            RetKind::Void | RetKind::Nil => ResultConversion::Void,
            RetKind::Bool => ResultConversion::Bool,
            RetKind::Int(_) => ResultConversion::Integer,
            RetKind::F32 => ResultConversion::F32,
            RetKind::F64 => ResultConversion::F64,
            RetKind::Pointer(_) | RetKind::String => ResultConversion::Pointer,
            RetKind::CharString { .. } => ResultConversion::CharString,
            RetKind::Record(_) => ResultConversion::Record,
        }
    }
}

/// Free slots, oldest first.
pub(super) static FREE: Mutex<VecDeque<&'static Slot>> = Mutex::new(VecDeque::new());

/// Slots ever made (they are never freed, only reused).
pub(super) static SLOTS: AtomicUsize = AtomicUsize::new(0);

/// How many callback slots exist, live or free.
pub fn slot_count() -> usize {
    SLOTS.load(Ordering::Relaxed)
}

/// The slow path of every entry: runs, queues or refuses the call. Never unwinds.
pub(super) unsafe extern "C" fn dispatch(
    slot: *const Slot,
    args: *const u64,
    result: *mut u64,
    entry_index: u32,
) {
    let slot = &*slot;
    let entry_is_live = slot.head.entry_index.load(Ordering::Relaxed) == entry_index;
    if !slot.head.live.load(Ordering::Acquire) || !entry_is_live {
        eprintln!("moonthunk: a freed callback was called from C; it returns zero");
        return;
    }
    let data = slot.data.lock().unwrap();
    if slot.head.owner.load(Ordering::Relaxed) == thread_id() {
        let nargs = data.nargs;
        drop(data);
        let context = slot.head.context.load(Ordering::Relaxed);
        let l = match (*context).current {
            current if !current.is_null() => current as *mut lua_State,
            _ => slot.head.main.load(Ordering::Relaxed) as *mut lua_State,
        };
        invoke(l, slot, nargs, args, result);
        return;
    }
    if !data.options.threadsafe {
        eprintln!(
            "moonthunk: a callback was called from a foreign thread; it returns zero \
             (create it thread-safe and run the queued calls from the Lua thread to allow \
             that)"
        );
        return;
    }
    let call_args = std::slice::from_raw_parts(args, data.words).to_vec();
    let reply = (!data.options.asynchronous).then(|| Arc::new(Reply::default()));
    let result_words = data.result_words;
    drop(data);
    let context = &*(slot.head.context.load(Ordering::Relaxed) as *mut StateContext);
    context.queue.lock().unwrap().push_back(QueuedCall {
        slot: slot as *const Slot as usize,
        args: call_args,
        result_words,
        reply: reply.clone(),
    });
    if let Some(reply) = reply {
        let mut value = reply.value.lock().unwrap();
        while value.is_none() {
            value = reply.ready.wait(value).unwrap();
        }
        let words = value.take().unwrap_or_default();
        std::ptr::copy_nonoverlapping(words.as_ptr(), result, words.len());
    }
}

/// Runs the callback in `slot` on `l` with spilled `args` pushed by `invoker`, writing the
/// converted result: what an entry does inline, for queued calls and the rare entry call
/// that reaches [`dispatch`] on the owning thread. Errors (from the function or a wrong
/// Runs the callback in `slot` on `l` with spilled `args`, writing the converted result:
/// what an entry does, for queued calls and the rare entry call that reaches [`dispatch`] on
/// the owning thread. Everything that may raise runs in [`protected_call`]; errors (from the
/// function, a wrong result, memory) are recorded for the calling thunk.
unsafe fn invoke(
    l: *mut lua_State,
    slot: &'static Slot,
    nargs: usize,
    args: *const u64,
    result: *mut u64,
) {
    // Each argument takes one slot; pushing a struct argument briefly takes four more.
    if ffi::lua_checkstack(l, nargs as c_int + 8) == 0 {
        eprintln!("moonthunk: no Lua stack space for a callback; it returns zero");
        return;
    }
    let context = slot.head.context.load(Ordering::Relaxed);
    let current = (*context).current;
    let base = ffi::lua_gettop(l);
    slot.head.running.fetch_add(1, Ordering::Relaxed);
    ffi::lua_pushcfunction(l, traceback);
    ffi::lua_pushcfunction(l, protected_call);
    ffi::lua_pushlightuserdata(l, args as *mut c_void);
    ffi::lua_pushlightuserdata(l, slot as *const Slot as *mut c_void);
    ffi::lua_pushlightuserdata(l, result as *mut c_void);
    let status = ffi::lua_pcall(l, 3, 0, base + 1);
    (*context).current = current;
    if status != ffi::LUA_OK {
        state::record_error(context, l);
    }
    ffi::lua_settop(l, base);
    let running = slot.head.running.fetch_sub(1, Ordering::Relaxed) - 1;
    if running == 0 && !slot.head.live.load(Ordering::Acquire) {
        release_freed(&slot.head, l);
    }
}

/// Called in protected mode with three light userdata (the spilled arguments, the slot, the
/// result buffer): pushes the callback's function and arguments, calls it and converts its
/// result into the buffer, raising a wrong result's error. Entries whose pushes allocate or
/// whose result the host converts call it, as [`invoke`] does.
///
/// # Safety
/// Called by Lua, on a thread of the slot's state, with the values above.
pub unsafe extern "C-unwind" fn protected_call(l: *mut lua_State) -> c_int {
    let args = ffi::lua_touserdata(l, 1) as *const u64;
    let slot = &*(ffi::lua_touserdata(l, 2) as *const Slot);
    let result = ffi::lua_touserdata(l, 3) as *mut u64;
    ffi::lua_settop(l, 0);
    let (invoker, nargs) = {
        let data = slot.data.lock().unwrap();
        (data.invoker, data.nargs)
    };
    let function_ref = slot.head.function_ref.load(Ordering::Relaxed);
    ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, function_ref as ffi::lua_Integer);
    invoker(l, args, slot);
    ffi::lua_call(l, nargs as c_int, 1);
    if convert_callback_result(l, &slot.head, result.cast()) == 0 {
        ffi::lua_error(l);
    }
    0
}

impl Slot {
    /// Releases the callback's Lua function and definitions and gives the slot back for
    /// reuse (the slot is no longer live).
    ///
    /// # Safety
    /// `l` is a thread of the state that created the callback, which no call runs any more.
    pub(super) unsafe fn release(&'static self, l: *mut lua_State) {
        let mut data = self.data.lock().unwrap();
        data.release_pending = false;
        let function_ref = self
            .head
            .function_ref
            .swap(ffi::LUA_NOREF, Ordering::Relaxed);
        ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, function_ref);
        let definitions_ref = std::mem::replace(&mut data.definitions_ref, ffi::LUA_NOREF);
        ffi::luaL_unref(l, ffi::LUA_REGISTRYINDEX, definitions_ref);
        drop(data);
        FREE.lock().unwrap().push_back(self);
    }
}

/// Called by an entry (or [`invoke`]) whose call ended with no call of its callback running
/// and the slot no longer live: releases a callback freed while it ran.
///
/// # Safety
/// `slot` starts a [`Slot`]; `l` is a thread of the state that created its callback.
pub unsafe extern "C-unwind" fn release_freed(slot: *const CallbackSlot, l: *mut lua_State) {
    let slot = &*(slot as *const Slot);
    let pending = slot.data.lock().unwrap().release_pending;
    if pending {
        slot.release(l);
    }
}

/// Converts the result of the callback in `slot` (on top of `l`) for C into `result`. On a
/// value of the wrong type, pushes the error message and returns 0. Entries call it for
/// pointer and struct results, and to report a wrong value of any type.
///
/// # Safety
/// `l` is the Lua thread that ran the callback, on its owning OS thread; `slot` points at
/// the head of a [`Slot`] (which starts with it, `#[repr(C)]`), with the provenance of the
/// whole slot; `result` holds the result's size, aligned for a `u64`.
pub unsafe extern "C-unwind" fn convert_callback_result(
    l: *mut lua_State,
    slot: *const CallbackSlot,
    result: *mut c_void,
) -> c_int {
    let (slot, result) = (slot.cast::<Slot>(), result.cast::<u64>());
    let data = (*slot).data.lock().unwrap();
    let (ret, defs, ret_record) = (data.ret, data.definitions_ref, data.ret_record);
    drop(data);
    let converted = match ret {
        ResultConversion::Record => {
            match record::fill_callback_record(l, defs, ret_record, result as *mut u8) {
                true => Ok(()),
                false => Err(Mismatch::Expected("struct (table or view)")),
            }
        }
        ResultConversion::Void => Ok(()),
        // The rule of `bool` arguments and stores: booleans, and nil for false.
        ResultConversion::Bool => {
            *result = 0;
            to_c(l, -1, Scalar::Bool, result.cast())
        }
        ResultConversion::Integer => to_c(l, -1, Scalar::I64, result.cast()),
        ResultConversion::F64 => to_c(l, -1, Scalar::F64, result.cast()),
        ResultConversion::F32 => to_c(l, -1, Scalar::F32, result.cast()),
        ResultConversion::Pointer => to_c(l, -1, Scalar::Pointer, result.cast()),
        ResultConversion::CharString => char_at(l, -1).map(|byte| *result = byte as u64),
    };
    match converted {
        Ok(()) => 1,
        Err(mismatch) => {
            let message = mismatch_message(l, -1, Site::CallbackResult, mismatch);
            ffi::lua_pushlstring(l, message.as_ptr().cast(), message.len());
            0
        }
    }
}

/// Invoker helper: pushes struct argument `record` of the callback in `slot`, spilled at
/// `src`, as a view over a managed copy.
///
/// # Safety
/// Called only from generated code, on the Lua thread running the callback; `slot` points
/// at the head of a [`Slot`], as for [`convert_callback_result`].
pub unsafe extern "C-unwind" fn push_record_argument(
    l: *mut lua_State,
    src: *const c_void,
    slot: *const CallbackSlot,
    record: c_int,
) {
    let defs = (*slot.cast::<Slot>()).data.lock().unwrap().definitions_ref;
    record::push_callback_record(l, defs, record, src.cast());
}

/// Message handler of callback calls: appends a traceback to string errors.
///
/// # Safety
/// Called by Lua as a message handler.
pub unsafe extern "C-unwind" fn traceback(l: *mut lua_State) -> c_int {
    let message = ffi::lua_tolstring(l, 1, std::ptr::null_mut());
    if !message.is_null() {
        ffi::luaL_traceback(l, l, message, 1);
    }
    1
}

/// Runs every queued call of `lua`'s state on `l`; returns how many ran.
///
/// # Safety
/// `l` is a thread of the state `context` belongs to, on its owning OS thread.
pub unsafe fn poll(l: *mut lua_State, context: *mut StateContext) -> usize {
    let mut ran = 0;
    loop {
        let Some(call) = (*context).queue.lock().unwrap().pop_front() else {
            return ran;
        };
        let slot = &*(call.slot as *const Slot);
        let mut value = vec![0u64; call.result_words];
        let nargs = slot.data.lock().unwrap().nargs;
        if slot.head.live.load(Ordering::Acquire) {
            invoke(l, slot, nargs, call.args.as_ptr(), value.as_mut_ptr());
            ran += 1;
        }
        if let Some(reply) = call.reply {
            *reply.value.lock().unwrap() = Some(value);
            reply.ready.notify_all();
        }
    }
}
