//! Replacing the code of a C closure in place, so that a bound function can change thunks
//! without its Lua value changing identity (a new signature for Alien's `f:types`).
//!
//! The Lua C API has no call for it. Every Lua version keeps a C closure's `lua_CFunction`
//! in the closure object, which `lua_topointer` gives; where in the object is the Lua
//! build's business, so it is never assumed: once per process, a probe on a scratch state
//! finds the one pointer-aligned word of a C closure that holds its function, checks the
//! same word on a second closure, then replaces it and checks that `lua_tocfunction` and a
//! call both see the new code. A build where any of that fails cannot replace code, and
//! says so to the caller.

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

use mlua::ffi::{self, lua_State};

/// The largest offset the probe looks at: well past the function word of every Lua
/// version's C closure header.
const PROBE_SPAN: usize = 64;

/// What the probe's replacement code returns, telling it from the original's.
const REPLACED: ffi::lua_Integer = 2;

/// Replaces the code of the C closure at `idx` with `code`. False, and nothing changed, when
/// the value is not a C closure or this Lua build's closure layout is unknown.
///
/// # Safety
/// `code` must do what the closure's callers and upvalues expect; `idx` is an acceptable
/// index of `l`.
pub unsafe fn replace_code(l: *mut lua_State, idx: c_int, code: ffi::lua_CFunction) -> bool {
    let Some(offset) = code_offset() else {
        return false;
    };
    if ffi::lua_type(l, idx) != ffi::LUA_TFUNCTION || ffi::lua_iscfunction(l, idx) == 0 {
        return false;
    }
    let closure = ffi::lua_topointer(l, idx) as *mut u8;
    let Some(current) = ffi::lua_tocfunction(l, idx) else {
        return false;
    };
    let word = closure.add(offset) as *mut ffi::lua_CFunction;
    // A light C function has no object: `lua_topointer` gives the function itself.
    if closure as usize == current as usize || word.read() as usize != current as usize {
        return false;
    }
    word.write(code);
    true
}

/// The offset of the function word in a C closure object, or `None` when the probe fails.
fn code_offset() -> Option<usize> {
    static OFFSET: OnceLock<Option<usize>> = OnceLock::new();
    // SAFETY: the probe runs on a private state, made and closed in it.
    *OFFSET.get_or_init(|| unsafe { probe() })
}

unsafe extern "C-unwind" fn original(l: *mut lua_State) -> c_int {
    ffi::lua_pushinteger(l, 1);
    1
}

unsafe extern "C-unwind" fn other(l: *mut lua_State) -> c_int {
    ffi::lua_pushinteger(l, 3);
    1
}

unsafe extern "C-unwind" fn replacement(l: *mut lua_State) -> c_int {
    ffi::lua_pushinteger(l, REPLACED);
    1
}

/// The offset of `code` in the closure at the top of `l`'s stack, if exactly one word
/// within [`PROBE_SPAN`] holds it.
unsafe fn offset_of_code(l: *mut lua_State, code: ffi::lua_CFunction) -> Option<usize> {
    let closure = ffi::lua_topointer(l, -1) as *const u8;
    let step = size_of::<*const c_void>();
    let mut found = (0..PROBE_SPAN)
        .step_by(step)
        .filter(|&off| (closure.add(off) as *const usize).read() == code as usize);
    let offset = found.next()?;
    found.next().is_none().then_some(offset)
}

/// Finds and checks the function word on a scratch state.
///
/// # Safety
/// Reads only the first [`PROBE_SPAN`] bytes of closures with one upvalue, which every Lua
/// version's C closure object spans (a header, the function, and the upvalue's value).
unsafe fn probe() -> Option<usize> {
    let l = ffi::luaL_newstate();
    if l.is_null() {
        return None;
    }
    let offset = (|| {
        ffi::lua_pushboolean(l, 1);
        ffi::lua_pushcclosure(l, other, 1);
        let second = offset_of_code(l, other);
        ffi::lua_settop(l, 0);
        ffi::lua_pushboolean(l, 1);
        ffi::lua_pushcclosure(l, original, 1);
        let offset = offset_of_code(l, original).filter(|&o| Some(o) == second)?;
        let word = (ffi::lua_topointer(l, -1) as *mut u8).add(offset) as *mut ffi::lua_CFunction;
        word.write(replacement);
        let seen = ffi::lua_tocfunction(l, -1).map(|f| f as usize);
        if seen != Some(replacement as ffi::lua_CFunction as usize)
            || ffi::lua_pcall(l, 0, 1, 0) != ffi::LUA_OK
        {
            return None;
        }
        (ffi::lua_tointegerx(l, -1, std::ptr::null_mut()) == REPLACED).then_some(offset)
    })();
    ffi::lua_close(l);
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_finds_the_code_word_of_this_lua() {
        assert!(code_offset().is_some());
    }

    #[test]
    fn replaced_code_runs_and_light_functions_are_refused() {
        // SAFETY: a private state; `replacement` takes any arguments.
        unsafe {
            let l = ffi::luaL_newstate();
            ffi::lua_pushboolean(l, 1);
            ffi::lua_pushcclosure(l, original, 1);
            assert!(replace_code(l, -1, replacement));
            assert_eq!(ffi::lua_pcall(l, 0, 1, 0), ffi::LUA_OK);
            assert_eq!(ffi::lua_tointegerx(l, -1, std::ptr::null_mut()), REPLACED);
            ffi::lua_pushcfunction(l, original);
            assert!(!replace_code(l, -1, replacement));
            ffi::lua_pushinteger(l, 7);
            assert!(!replace_code(l, -1, replacement));
            ffi::lua_close(l);
        }
    }
}
