//! Callbacks: Lua functions that C calls through a function pointer.
//!
//! [`Callback::create`] takes a free slot (see [`slot`]), compiles or reuses the slot's C
//! entry for the signature and makes it live with its Lua function; [`Callback::free`] gives
//! the slot back. Freed slots are reused oldest first, with their
//! entries, so creating and freeing callbacks in a loop compiles nothing new and grows no
//! memory.
//!
//! A callback that cannot be made is an [`Error`], whose `Display` is the engine's default
//! wording.

pub mod slot;

pub use slot::{poll, slot_count, Options};

use std::ffi::{c_int, c_void};
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use mlua::ffi::{self, lua_State};
use mlua::{Function, Lua};
use moonthunk_jit::{CallContext, CallbackSlot};

use slot::{dispatch, thread_id, Invoker, ResultConversion, Slot, SlotData, FREE, SLOTS};

use crate::codegen;
use crate::ctype::Scalar;
use crate::function::{Signature, ValueType};
use crate::record;
use crate::state::{self, StateContext};

/// Why a callback could not be made.
#[derive(Debug)]
pub enum Error {
    /// A `string` result: the Lua string would be collected while C still uses it.
    StringResult,
    /// A variadic signature: C passes fixed arguments.
    Variadic,
    /// A table-array parameter: C passes no length to copy.
    ArrayParameter,
    /// An asynchronous callback with a result: its caller does not wait for one.
    AsyncResult,
    /// The code generator failed (it could not start, or its code space is full).
    CodeGeneration(String),
    /// The Lua state failed while the callback took its references (out of memory).
    Lua(mlua::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let refusal = match self {
            Error::CodeGeneration(message) => return f.write_str(message),
            Error::Lua(e) => return e.fmt(f),
            Error::StringResult => {
                "a callback cannot return 'string': the Lua string would be collected \
                 while C still uses it; return a pointer instead"
            }
            Error::Variadic => "a callback cannot have '...' parameters: C passes fixed arguments",
            Error::ArrayParameter => {
                "a callback cannot have array parameters: C passes no length to copy"
            }
            Error::AsyncResult => {
                "an async callback must return void: its caller does not wait for a result"
            }
        };
        f.write_str(refusal)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Lua(e) => Some(e),
            _ => None,
        }
    }
}

/// A live callback as the face sees it.
pub struct Callback {
    slot: &'static Slot,
    entry: *const c_void,
}

impl Callback {
    /// Takes a slot and compiles (or reuses) its entry for `sig`. The callback becomes live
    /// when [`Callback::attach`] gives it its Lua function.
    fn new(
        context: *mut StateContext,
        sig: &Signature,
        options: Options,
    ) -> Result<Callback, Error> {
        if sig.ret == ValueType::Scalar(Scalar::String) {
            return Err(Error::StringResult);
        }
        if sig.variadic {
            return Err(Error::Variadic);
        }
        if sig
            .args
            .iter()
            .any(|a| matches!(a, ValueType::TableArray(_)))
        {
            return Err(Error::ArrayParameter);
        }
        if options.asynchronous && sig.ret != ValueType::Scalar(Scalar::Void) {
            return Err(Error::AsyncResult);
        }
        let lowered = sig.lower();
        let mut jit = codegen::jit().map_err(Error::CodeGeneration)?;
        let invoker = jit
            .callback_invoker(&lowered)
            .map_err(Error::CodeGeneration)?
            .code;
        let data = SlotData {
            // SAFETY: the invoker was generated with exactly this signature.
            invoker: unsafe { std::mem::transmute::<*const u8, Invoker>(invoker) },
            nargs: lowered.args.len(),
            words: moonthunk_jit::callback_spill_words(&lowered),
            result_words: moonthunk_jit::callback_result_size(&lowered) as usize / 8,
            definitions_ref: ffi::LUA_NOREF,
            ret_record: sig.records().len() as c_int - 1,
            release_pending: false,
            ret: ResultConversion::of(&lowered.ret),
            options,
        };
        let reused = FREE.lock().unwrap().pop_front();
        let slot = match reused {
            Some(slot) => {
                *slot.data.lock().unwrap() = data;
                slot
            }
            None => {
                SLOTS.fetch_add(1, Ordering::Relaxed);
                Box::leak(Box::new(Slot {
                    head: CallbackSlot::default(),
                    data: Mutex::new(data),
                    entries: Mutex::new(Vec::new()),
                }))
            }
        };
        // SAFETY: `context` is the state's context, alive for the life of the process.
        let main = unsafe { (*context).main };
        let head = &slot.head;
        head.function_ref.store(ffi::LUA_NOREF, Ordering::Relaxed);
        head.context
            .store(context as *mut CallContext, Ordering::Relaxed);
        head.main.store(main as *mut c_void, Ordering::Relaxed);
        let mut entries = slot.entries.lock().unwrap();
        let index = match entries.iter().position(|(s, _)| *s == lowered) {
            Some(index) => index,
            None => {
                let compiled = jit.callback_entry(
                    &lowered,
                    slot as *const Slot as usize,
                    entries.len() as u32,
                    dispatch as *const () as usize,
                );
                match compiled {
                    Ok(code) => {
                        entries.push((lowered.clone(), code.code as *const c_void));
                        entries.len() - 1
                    }
                    Err(e) => {
                        FREE.lock().unwrap().push_back(slot);
                        return Err(Error::CodeGeneration(e));
                    }
                }
            }
        };
        head.entry_index.store(index as u32, Ordering::Relaxed);
        let entry = entries[index].1;
        Ok(Callback { slot, entry })
    }

    /// A live callback of `lua`'s state that calls `function` with signature `sig`: what a
    /// face's callback constructor makes before it wraps the callback in its own object.
    pub fn create(
        lua: &Lua,
        function: Function,
        sig: &Signature,
        options: Options,
    ) -> Result<Callback, Error> {
        let context = state::context(lua).map_err(Error::Lua)?;
        let callback = Callback::new(context, sig, options)?;
        let records = sig.records();
        // SAFETY: takes registry references to the function mlua pushed and to a new table
        // of definitions, in mlua's protected raw call.
        let (function_ref, definitions_ref) = unsafe {
            lua.exec_raw::<(c_int, c_int)>(function, |l| {
                let function_ref = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX);
                record::push_definitions(l, &records);
                let definitions_ref = ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX);
                ffi::lua_pushinteger(l, function_ref as ffi::lua_Integer);
                ffi::lua_pushinteger(l, definitions_ref as ffi::lua_Integer);
            })
        }
        .map_err(Error::Lua)?;
        callback.attach(function_ref, definitions_ref);
        Ok(callback)
    }

    /// Makes the callback live, calling the function behind `function_ref` with the struct
    /// definitions behind `definitions_ref` (registry references the callback owns from now
    /// on).
    fn attach(&self, function_ref: c_int, definitions_ref: c_int) {
        self.slot.data.lock().unwrap().definitions_ref = definitions_ref;
        let head = &self.slot.head;
        head.function_ref.store(function_ref, Ordering::Relaxed);
        head.function_tag.store(0, Ordering::Relaxed);
        // SAFETY: no preconditions.
        head.owner.store(unsafe { thread_id() }, Ordering::Relaxed);
        head.live.store(true, Ordering::Release);
    }

    /// The C function pointer.
    pub fn entry(&self) -> *const c_void {
        self.entry
    }

    /// Whether the callback can still be called.
    pub fn is_valid(&self) -> bool {
        self.slot.head.live.load(Ordering::Acquire)
    }

    /// [`Callback::free`] for Rust code running under mlua.
    pub fn release(&self, lua: &Lua) -> mlua::Result<()> {
        // SAFETY: `lua` is the state that created the callback; mlua's protected raw call
        // gives a thread of it.
        unsafe { lua.exec_raw::<()>((), |l| self.free(l)) }
    }

    /// Frees the slot for reuse and releases the Lua function. Further calls through the
    /// pointer are reported and return zero. Call it once per callback: the slot may serve
    /// another callback afterwards (the callback object guards this).
    ///
    /// # Safety
    /// `l` is a thread of the state that created the callback.
    pub unsafe fn free(&self, l: *mut lua_State) {
        let head = &self.slot.head;
        if !head.live.swap(false, Ordering::AcqRel) {
            return;
        }
        // Let a callback running on a foreign thread's behalf finish with the data first.
        let mut data = self.slot.data.lock().unwrap();
        head.owner.store(0, Ordering::Relaxed);
        if head.running.load(Ordering::Relaxed) > 0 {
            // Freed by its own call (or one it made): the call still converts its result
            // with the slot's data, and the entry releases the slot when it is over.
            data.release_pending = true;
            return;
        }
        drop(data);
        self.slot.release(l);
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    /// The refusal of a callback of `ret` and `args`, made before any slot or code is used.
    fn refusal(ret: ValueType, args: Vec<ValueType>, variadic: bool, options: Options) -> Error {
        let sig = Signature::new(ret, args, variadic).unwrap();
        match Callback::new(std::ptr::null_mut(), &sig, options) {
            Ok(_) => panic!("a callback of {sig:?} was made"),
            Err(e) => e,
        }
    }

    #[test]
    fn signatures_that_c_cannot_call_are_refused() {
        let void = || ValueType::Scalar(Scalar::Void);
        let i32 = || ValueType::Scalar(Scalar::I32);
        let options = Options::default();
        let err = refusal(ValueType::Scalar(Scalar::String), vec![], false, options);
        assert!(matches!(err, Error::StringResult), "{err:?}");
        let err = refusal(void(), vec![i32()], true, options);
        assert!(matches!(err, Error::Variadic), "{err:?}");
        assert_eq!(
            err.to_string(),
            "a callback cannot have '...' parameters: C passes fixed arguments"
        );
        let array = ValueType::TableArray(Rc::new(i32()));
        let err = refusal(void(), vec![array], false, options);
        assert!(matches!(err, Error::ArrayParameter), "{err:?}");
        assert_eq!(
            err.to_string(),
            "a callback cannot have array parameters: C passes no length to copy"
        );
        let asynchronous = Options {
            threadsafe: true,
            asynchronous: true,
        };
        let err = refusal(i32(), vec![], false, asynchronous);
        assert!(matches!(err, Error::AsyncResult), "{err:?}");
    }
}
