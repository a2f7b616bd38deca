//! The process-wide code generator.
//!
//! One [`moonthunk_jit::Jit`] serves every Lua state in the process: a thunk depends only on
//! its signature and on the addresses of the Lua C API, which are the same for all states of
//! one Lua library. The Lua C API functions are declared here (those that differ between Lua
//! versions in `lua_version`) rather than taken from
//! `mlua::ffi`, so that every address handed to generated code is a real exported C function
//! (a missing one is a link error, not a jump into a Rust shim). They and the host's helpers
//! go to the engine as typed function pointers ([`LuaApi`]), so a function whose signature is
//! not the one generated code calls it with does not compile.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::sync::{Mutex, MutexGuard, OnceLock};

use mlua::ffi::{lua_CFunction, lua_Integer, lua_Number, lua_State};
use moonthunk_jit::{Jit, LuaApi, Signature as JitSignature};

use crate::callback::slot;
use crate::{convert, lua_version, memory, record, stack_layout, state, table_array};

extern "C" {
    fn memcpy(dst: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
    fn memset(dst: *mut c_void, c: c_int, n: usize) -> *mut c_void;
}

extern "C-unwind" {
    fn lua_gettop(l: *mut lua_State) -> c_int;
    fn lua_type(l: *mut lua_State, idx: c_int) -> c_int;
    fn lua_toboolean(l: *mut lua_State, idx: c_int) -> c_int;
    fn lua_tolstring(l: *mut lua_State, idx: c_int, len: *mut usize) -> *const c_char;
    fn lua_touserdata(l: *mut lua_State, idx: c_int) -> *mut c_void;
    fn lua_pushinteger(l: *mut lua_State, n: lua_Integer);
    fn lua_pushnumber(l: *mut lua_State, n: lua_Number);
    fn lua_pushboolean(l: *mut lua_State, b: c_int);
    fn lua_pushstring(l: *mut lua_State, s: *const c_char) -> *const c_char;
    fn lua_pushnil(l: *mut lua_State);
    fn lua_pushlightuserdata(l: *mut lua_State, p: *mut c_void);
    fn lua_checkstack(l: *mut lua_State, n: c_int) -> c_int;
    fn lua_settop(l: *mut lua_State, idx: c_int);
    fn lua_pushcclosure(l: *mut lua_State, f: lua_CFunction, n: c_int);
}

fn lua_api() -> LuaApi<lua_State> {
    LuaApi {
        upvalue1_index: mlua::ffi::lua_upvalueindex(1),
        gettop: lua_gettop,
        type_of: lua_type,
        tointegerx: lua_version::tointegerx,
        tonumberx: lua_version::tonumberx,
        toboolean: lua_toboolean,
        tolstring: lua_tolstring,
        touserdata: lua_touserdata,
        pushinteger: lua_pushinteger,
        pushnumber: lua_pushnumber,
        pushboolean: lua_pushboolean,
        pushstring: lua_pushstring,
        pushnil: lua_pushnil,
        pushlightuserdata: lua_pushlightuserdata,
        arg_error: convert::arg_error,
        arity_error: convert::arity_error,
        normalize_args: convert::normalize_args,
        normalize_receiver_args: convert::normalize_receiver_args,
        remove_receiver: convert::remove_receiver,
        integer_arg: convert::integer_arg,
        number_arg: convert::number_arg,
        bool_arg: convert::bool_arg,
        cstring_arg: convert::cstring_arg,
        pointer_arg: convert::pointer_arg,
        address_arg: convert::address_arg,
        function_arg: convert::function_arg,
        push_pointer: convert::push_pointer,
        char_arg: convert::char_arg,
        push_char: convert::push_char,
        table_array_arg: table_array::table_array_arg,
        table_array_writeback: table_array::table_array_writeback,
        raise_pending: state::raise_pending,
        finish_call: state::finish_call,
        record_arg: record::record_arg,
        push_record: record::push_record,
        ref_arg: record::ref_arg,
        push_ref: record::push_ref,
        push_callback_record: slot::push_record_argument,
        stack: stack_layout::checked(),
        pointer_objects: memory::pointer::generated_code_view(),
        registry_index: mlua::ffi::LUA_REGISTRYINDEX,
        checkstack: lua_checkstack,
        settop: lua_settop,
        rawgeti: lua_version::rawgeti,
        pushcclosure: lua_pushcclosure,
        pcallk: lua_version::pcallk,
        thread_id: slot::thread_id,
        memcpy,
        memset,
        callback_traceback: slot::traceback,
        callback_protected_call: slot::protected_call,
        callback_result: slot::convert_callback_result,
        release_freed: slot::release_freed,
        record_error: state::record_error,
    }
}

static JIT: OnceLock<Result<Mutex<Jit>, String>> = OnceLock::new();

/// The environment variable that sets the code space: bytes, or a number with a `K`, `M` or
/// `G` suffix (binary units).
pub const CODE_SPACE_ENV: &str = "MOONTHUNK_CODE_SPACE";

/// The shared code generator, built on first use.
pub fn jit() -> Result<MutexGuard<'static, Jit>, String> {
    match JIT.get_or_init(|| Jit::new(lua_api(), code_space()?).map(Mutex::new)) {
        Ok(jit) => Ok(jit.lock().unwrap_or_else(|poisoned| poisoned.into_inner())),
        Err(e) => Err(format!("cannot start the code generator: {e}")),
    }
}

/// The code space from [`CODE_SPACE_ENV`], or the engine's default.
fn code_space() -> Result<usize, String> {
    match std::env::var_os(CODE_SPACE_ENV) {
        Some(value) => parse_size(&value.to_string_lossy()).ok_or_else(|| {
            format!(
                "{CODE_SPACE_ENV} must be a size in bytes such as 65536, 64K or 1G (got '{}')",
                value.to_string_lossy()
            )
        }),
        None => Ok(moonthunk_jit::DEFAULT_CODE_SPACE),
    }
}

/// A positive size: bytes, or a number with a `K`, `M` or `G` suffix (binary units).
fn parse_size(text: &str) -> Option<usize> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'K' | b'k' => (&text[..text.len() - 1], 10),
        b'M' | b'm' => (&text[..text.len() - 1], 20),
        b'G' | b'g' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits
        .parse::<usize>()
        .ok()?
        .checked_mul(1 << shift)
        .filter(|&bytes| bytes > 0)
}

/// Signatures that closures name by index (a tiered function's, a variadic function's fixed
/// part), interned: as many entries as distinct signatures.
static SIGNATURES: Mutex<Interned> = Mutex::new(Interned {
    list: Vec::new(),
    index: None,
});

struct Interned {
    list: Vec<JitSignature>,
    index: Option<HashMap<JitSignature, u32>>,
}

/// The index of `sig` among the interned signatures, adding it the first time.
pub fn intern_signature(sig: &JitSignature) -> u32 {
    let mut interned = SIGNATURES.lock().unwrap_or_else(|p| p.into_inner());
    let Interned { list, index } = &mut *interned;
    let index = index.get_or_insert_with(HashMap::new);
    if let Some(&i) = index.get(sig) {
        return i;
    }
    list.push(sig.clone());
    index.insert(sig.clone(), (list.len() - 1) as u32);
    (list.len() - 1) as u32
}

/// The interned signature at `index`.
pub fn interned_signature(index: u32) -> JitSignature {
    let interned = SIGNATURES.lock().unwrap_or_else(|p| p.into_inner());
    interned.list[index as usize].clone()
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_in_bytes_or_binary_units() {
        assert_eq!(parse_size("65536"), Some(65536));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("3m"), Some(3 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        for bad in [
            "",
            "0",
            "0K",
            "K",
            "lots",
            "12X",
            "-5",
            "1.5M",
            "99999999999999999999G",
        ] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }
}
