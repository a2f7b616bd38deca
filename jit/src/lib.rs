//! Cranelift code generation for moonthunk.
//!
//! A Lua program binds a C function by naming its signature. This crate turns that
//! signature into machine code: a *call thunk*, a plain `lua_CFunction` that reads each
//! argument off the Lua stack (one load and a tag check when the host vouched for the stack
//! layout, module `stack`; otherwise one Lua C API call plus an inline check), calls the
//! target with the host's C calling convention and pushes the result. A shared thunk depends
//! only on the signature, so it is compiled once per signature (quickly, at the baseline tier)
//! and cached for the life of the process; the target address and the function's name travel
//! as upvalues of the Lua closure. A function bound for speed gets a thunk of its own with its
//! target baked in, compiled at the optimizing tier (module `engine`).
//!
//! Callbacks are the mirror image (module `callback`): a C entry per (signature, slot) that
//! calls the Lua function itself on the thread that owns the Lua state (and hands every other
//! case to the host's dispatcher), and a per-signature invoker that pushes spilled arguments
//! onto a Lua stack for calls the host replays.
//!
//! The crate knows the C ABI and nothing of mlua: the caller hands it a [`LuaApi`], typed
//! pointers to the exported Lua C API functions and to the host's slow-path helpers that the
//! generated code calls, generic over the host's `lua_State` type.

pub mod abi;
mod callback;
mod code_memory;
mod context;
mod engine;
mod luaapi;
mod signature;
mod stack;
mod thunk;
mod unwind;

pub use callback::{result_size as callback_result_size, spill_words as callback_spill_words};
pub use context::{CallContext, CallTarget, CallbackSlot};
pub use engine::{Jit, JitStats, Thunk, DEFAULT_CODE_SPACE};
pub use luaapi::{LuaApi, PointerObjects};
pub use signature::{ArgKind, Expected, IntKind, PointerStyle, RefKind, RetKind, Signature};
pub use stack::{StackLayout, Tags, UserdataLayout};
pub use thunk::{expected_at, EXPECTED_BITS, EXPECTED_NOTHING, EXPECTED_PER_WORD};
