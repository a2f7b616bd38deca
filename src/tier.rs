//! Tiered thunks: binding compiles nothing; a bound function runs its signature's shared
//! thunk from its first call, and moves to a thunk specialized for it once it proves hot.
//!
//! A tiered function's code is [`tier_entry`] until it is promoted. Its upvalue 5 is a
//! [`Tier`] block: the signature (interned, as an index), the calls so far, and the shared
//! thunk once compiled. The entry counts the call and runs the shared thunk, which reads
//! upvalues 1 to 4 as in any bound function. After [`PROMOTE_AFTER`] calls it compiles the
//! specialized thunk and puts it in the closure in place (`crate::closure`), so the function
//! value does not change and the counting stops: a promoted call costs what a specialized
//! function's does. Where the code cannot be replaced or compiled, the function stays on the
//! shared thunk.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};
use moonthunk_jit::Signature as JitSignature;

use crate::codegen;

/// Calls on the shared thunk before a function gets its specialized thunk: enough that a
/// function called a few times never pays the optimizing compiler (some 40 µs to 400 µs), few
/// enough that the counting entry's cost (a C call) is soon gone.
pub const PROMOTE_AFTER: u32 = 1000;

/// The upvalue of a bound function that holds its [`Tier`] (nil when it is not tiered).
pub const TIER_UPVALUE: c_int = 5;

/// The tier state of a bound function: a plain block (no drop), so that Lua frees it.
#[repr(C)]
pub struct Tier {
    /// The signature, interned (`codegen::intern_signature`).
    signature: u32,
    calls: u32,
    /// The shared thunk, once compiled; null before the first call.
    shared: Option<ffi::lua_CFunction>,
    /// Set when promotion failed: the function stays on the shared thunk.
    stays_shared: bool,
}

/// Pushes a new [`Tier`] block for `sig`, and returns the code a tiered function starts with.
///
/// # Safety
/// `l` has room for one value.
pub unsafe fn push_tier(l: *mut lua_State, sig: &JitSignature) -> ffi::lua_CFunction {
    let tier = crate::lua_version::new_userdata(l, size_of::<Tier>(), 0) as *mut Tier;
    tier.write(Tier {
        signature: codegen::intern_signature(sig),
        calls: 0,
        shared: None,
        stays_shared: false,
    });
    tier_entry
}

/// The code of a tiered function until it is promoted: counts the call and runs the shared
/// thunk (compiled on the first call), or promotes the function and runs its new code.
unsafe extern "C-unwind" fn tier_entry(l: *mut lua_State) -> c_int {
    let tier = ffi::lua_touserdata(l, ffi::lua_upvalueindex(TIER_UPVALUE)) as *mut Tier;
    (*tier).calls += 1;
    if (*tier).calls > PROMOTE_AFTER && !(*tier).stays_shared {
        if let Some(code) = promote(l, tier) {
            return code(l);
        }
        (*tier).stays_shared = true;
    }
    match shared_thunk(tier) {
        Ok(code) => code(l),
        Err(message) => crate::lua_error::raise(l, message),
    }
}

/// The shared thunk of `tier`'s signature, compiled (or taken from the cache) on first use.
unsafe fn shared_thunk(tier: *mut Tier) -> Result<ffi::lua_CFunction, String> {
    if let Some(code) = (*tier).shared {
        return Ok(code);
    }
    let thunk = codegen::jit()
        .and_then(|mut jit| jit.thunk(&codegen::interned_signature((*tier).signature)))?;
    // SAFETY: a finalized thunk is a `lua_CFunction`.
    let code = std::mem::transmute::<*const u8, ffi::lua_CFunction>(thunk.code);
    (*tier).shared = Some(code);
    Ok(code)
}

/// The thunk the function at `idx` runs: its code, or for a tiered function not promoted
/// yet, its signature's shared thunk (compiled now if it was not). `None` for a value that
/// is not a C function.
///
/// # Safety
/// `idx` is an acceptable index of `l`, which has room for one value; a C function whose
/// code is the tier entry is a tiered bound function.
pub unsafe fn running_thunk(l: *mut lua_State, idx: c_int) -> Result<Option<usize>, String> {
    let Some(code) = ffi::lua_tocfunction(l, idx) else {
        return Ok(None);
    };
    if code as usize != tier_entry as ffi::lua_CFunction as usize {
        return Ok(Some(code as usize));
    }
    ffi::lua_getupvalue(l, idx, TIER_UPVALUE);
    let tier = ffi::lua_touserdata(l, -1) as *mut Tier;
    ffi::lua_settop(l, -2);
    shared_thunk(tier).map(|code| Some(code as usize))
}

/// Compiles the specialized thunk of the running function and puts it in place; `None` when
/// that cannot be done (the function then stays on the shared thunk).
unsafe fn promote(l: *mut lua_State, tier: *mut Tier) -> Option<ffi::lua_CFunction> {
    let call_target = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as usize;
    let sig = codegen::interned_signature((*tier).signature);
    let thunk = codegen::jit()
        .and_then(|mut jit| jit.specialized_thunk(&sig, call_target))
        .ok()?;
    // SAFETY: a finalized thunk is a `lua_CFunction`.
    let code = std::mem::transmute::<*const u8, ffi::lua_CFunction>(thunk.code);
    // The running function: Lua's debug interface is the one way a C function reaches its
    // own closure.
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    if ffi::lua_getstack(l, 0, &mut ar) == 0 || ffi::lua_getinfo(l, c"f".as_ptr(), &mut ar) == 0 {
        return None;
    }
    let replaced = crate::closure::replace_code(l, -1, code);
    ffi::lua_settop(l, -2);
    replaced.then_some(code)
}
