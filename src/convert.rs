//! The conversion core: Lua values to C values and back, with the error context every path
//! shares (in the spirit of LuaJIT's `lj_cconv`); and the conversions generated code does not
//! inline.
//!
//! [`to_c`] and [`to_lua`] convert one scalar; a failed conversion is a [`Mismatch`], worded
//! for the [`Site`] the value was going to by [`raise_mismatch`]: an argument, an array
//! element, a field of a record inside one, a store into memory, a callback's result. Memory accesses, struct fields, table
//! arrays, out-parameters, callback results and the thunks' slow paths all convert here.
//!
//! Thunks read the common case of each argument inline or with one Lua C API call; everything
//! else (nil for a string, a pointer object, a wrong type) lands in the helpers below. Every function is
//! `extern "C-unwind"`, owns nothing that needs dropping, and may raise a Lua error, which
//! unwinds (or longjmps) straight through the thunk to Lua. Messages follow Lua's own
//! wording: "bad argument #2 to 'add' (number expected, got string)", where the name is the
//! bound function's name (upvalue 2 of the running thunk).

use std::ffi::{c_char, c_int, c_void, CStr};

use mlua::ffi::{self, lua_State};
use moonthunk_jit::{expected_at, Expected, EXPECTED_NOTHING};

use crate::ctype::Scalar;
use crate::lua_error::{raise, type_name};
use crate::memory::pointer;

// ---------------------------------------------------------------- the core

/// Pushes the value of type `t` stored at `p` (C to Lua).
///
/// # Safety
/// `p` is readable for `t.size()` bytes.
#[inline]
pub unsafe fn to_lua(l: *mut lua_State, t: Scalar, p: *const u8) {
    match t {
        Scalar::Void => ffi::lua_pushnil(l),
        Scalar::Bool => ffi::lua_pushboolean(l, (p.read() != 0) as c_int),
        Scalar::I8 => ffi::lua_pushinteger(l, (p as *const i8).read() as i64),
        Scalar::U8 => ffi::lua_pushinteger(l, p.read() as i64),
        Scalar::I16 => ffi::lua_pushinteger(l, (p as *const i16).read_unaligned() as i64),
        Scalar::U16 => ffi::lua_pushinteger(l, (p as *const u16).read_unaligned() as i64),
        Scalar::I32 => ffi::lua_pushinteger(l, (p as *const i32).read_unaligned() as i64),
        Scalar::U32 => ffi::lua_pushinteger(l, (p as *const u32).read_unaligned() as i64),
        Scalar::I64 | Scalar::U64 => ffi::lua_pushinteger(l, (p as *const i64).read_unaligned()),
        Scalar::Isize | Scalar::Usize => {
            ffi::lua_pushinteger(l, (p as *const isize).read_unaligned() as i64)
        }
        Scalar::F32 => ffi::lua_pushnumber(l, (p as *const f32).read_unaligned() as f64),
        Scalar::F64 => ffi::lua_pushnumber(l, (p as *const f64).read_unaligned()),
        Scalar::Pointer => {
            pointer::push(l, (p as *const *mut c_void).read_unaligned());
        }
        Scalar::String => {
            let s = (p as *const *const c_char).read_unaligned();
            if s.is_null() {
                ffi::lua_pushnil(l);
            } else {
                ffi::lua_pushstring(l, s);
            }
        }
    }
}

/// Why a Lua value cannot become a C value of some type; [`raise_mismatch`] renders it for
/// the [`Site`] the value was going to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The value is not of the expected Lua type ("integer", "number", "boolean", "pointer"...;
    /// most sites call an integer a number, as Lua's own messages do).
    Expected(&'static str),
    /// A float without an integral value for an integer.
    NotAnInteger,
    /// A Lua string for a `char*` in memory, which would dangle once the string is collected.
    StringInMemory,
    /// Nothing can be stored as `void`.
    Void,
    /// A `char` whose Lua form is a 1-character string got another value.
    NotOneCharacter,
}

impl Mismatch {
    /// What is wrong with the value at `idx` (which must still be there), in Lua's words;
    /// `integer` is how an expected integer is called.
    pub(crate) unsafe fn describe(self, l: *mut lua_State, idx: c_int, integer: &str) -> String {
        match self {
            Mismatch::Expected(expected) => {
                let expected = if expected == "integer" {
                    integer
                } else {
                    expected
                };
                format!("{expected} expected, got {}", type_name_of(l, idx))
            }
            Mismatch::NotAnInteger if integer == "integer" => {
                "integer expected, got number".to_string()
            }
            Mismatch::NotAnInteger => "number has no integer representation".to_string(),
            Mismatch::StringInMemory => "a Lua string cannot be stored as a char*; \
                 copy it into a buffer with writeString"
                .to_string(),
            Mismatch::Void => "cannot write a void value".to_string(),
            Mismatch::NotOneCharacter => {
                let got = if ffi::lua_type(l, idx) == ffi::LUA_TSTRING {
                    format!("a string of length {}", ffi::lua_rawlen(l, idx))
                } else {
                    type_name_of(l, idx)
                };
                format!("1-character string expected, got {got}")
            }
        }
    }
}

/// The type name of the value at `idx` as Lua's messages give it, leaving the stack as it was.
unsafe fn type_name_of(l: *mut lua_State, idx: c_int) -> String {
    let top = ffi::lua_gettop(l);
    let name = CStr::from_ptr(type_name(l, idx))
        .to_string_lossy()
        .into_owned();
    ffi::lua_settop(l, top);
    name
}

/// Where a converted value was going: the error context every conversion shares, which
/// words its message.
#[derive(Clone, Copy, Debug)]
pub enum Site<'a> {
    /// Argument `n` of the running bound function: "bad argument #n to 'f' (...)".
    Argument(c_int),
    /// Element `index` (1-based) of the table passed as argument `argument`.
    Element { argument: c_int, index: usize },
    /// Field `name` of a record converted for `record`: "... (element 2: field 'in.c': ...)".
    Field { record: &'a Site<'a>, name: &'a str },
    /// A store into memory of a `Scalar`: "bad value for i32 (...)".
    Store(Scalar),
    /// The result of a Lua callback for C: "bad result from callback (...)".
    CallbackResult,
}

/// The message of `mismatch` for the value at `idx` converted for `site`.
///
/// # Safety
/// `idx` is an acceptable index of `l`; for argument sites, `l` runs a bound function.
pub unsafe fn mismatch_message(
    l: *mut lua_State,
    idx: c_int,
    site: Site,
    mismatch: Mismatch,
) -> String {
    let integer = match site {
        Site::CallbackResult => "integer",
        _ => "number",
    };
    let problem = mismatch.describe(l, idx, integer);
    match site {
        Site::Store(_) if mismatch == Mismatch::Void => problem,
        _ => site_message(l, site, problem),
    }
}

/// `problem` in the words of `site`.
unsafe fn site_message(l: *mut lua_State, site: Site, problem: String) -> String {
    let function = || CStr::from_ptr(function_name(l)).to_string_lossy();
    match site {
        Site::Argument(n) => format!("bad argument #{n} to '{}' ({problem})", function()),
        Site::Element { argument, index } => format!(
            "bad argument #{argument} to '{}' (element {index}: {problem})",
            function()
        ),
        Site::Field { record, name } => {
            let mut path = name.to_string();
            let mut outer = *record;
            while let Site::Field { record, name } = outer {
                path = format!("{name}.{path}");
                outer = *record;
            }
            site_message(l, outer, format!("field '{path}': {problem}"))
        }
        Site::Store(t) => format!("bad value for {} ({problem})", t.name()),
        Site::CallbackResult => format!("bad result from callback ({problem})"),
    }
}

/// Raises the error of `mismatch` for the value at `idx` converted for `site`, with the
/// position of the calling Lua code.
///
/// # Safety
/// As [`mismatch_message`]; no frame between here and Lua owns anything that needs a drop.
pub unsafe fn raise_mismatch(l: *mut lua_State, idx: c_int, site: Site, mismatch: Mismatch) -> ! {
    raise(l, mismatch_message(l, idx, site, mismatch))
}

/// Converts the Lua value at `idx` to a `t` at `p` (Lua to C): the value rules every path
/// shares (arguments on the thunks' slow paths, memory stores, struct fields, array elements,
/// out-parameters, callback results): integers truncated like a C cast, integral floats and
/// numeric strings accepted for integers, `u64` keeps its 64 bits, `bool` from booleans and
/// nil, pointers from nil, light userdata and every pointer object.
///
/// # Safety
/// `p` is writable for `t.size()` bytes; `idx` is an acceptable index of `l`. A managed
/// pointer object whose arena was reset raises.
#[inline]
pub unsafe fn to_c(l: *mut lua_State, idx: c_int, t: Scalar, p: *mut u8) -> Result<(), Mismatch> {
    match t {
        Scalar::Void => return Err(Mismatch::Void),
        Scalar::Bool => {
            let v = match ffi::lua_type(l, idx) {
                ffi::LUA_TBOOLEAN => ffi::lua_toboolean(l, idx) != 0,
                ffi::LUA_TNIL => false,
                _ => return Err(Mismatch::Expected("boolean")),
            };
            p.write(v as u8);
        }
        Scalar::F32 | Scalar::F64 => {
            let mut isnum = 0;
            let v = ffi::lua_tonumberx(l, idx, &mut isnum);
            if isnum == 0 {
                return Err(Mismatch::Expected("number"));
            }
            if t == Scalar::F32 {
                (p as *mut f32).write_unaligned(v as f32);
            } else {
                (p as *mut f64).write_unaligned(v);
            }
        }
        Scalar::Pointer | Scalar::String => {
            if t == Scalar::String && ffi::lua_type(l, idx) == ffi::LUA_TSTRING {
                return Err(Mismatch::StringInMemory);
            }
            let a = pointer::address_at(l, idx).ok_or(Mismatch::Expected("pointer"))?;
            (p as *mut *mut c_void).write_unaligned(a);
        }
        int => {
            let mut isnum = 0;
            let v = ffi::lua_tointegerx(l, idx, &mut isnum);
            if isnum == 0 {
                return Err(if ffi::lua_type(l, idx) == ffi::LUA_TNUMBER {
                    Mismatch::NotAnInteger
                } else {
                    Mismatch::Expected("integer")
                });
            }
            match int.size() {
                1 => p.write(v as u8),
                2 => (p as *mut u16).write_unaligned(v as u16),
                4 => (p as *mut u32).write_unaligned(v as u32),
                _ => (p as *mut i64).write_unaligned(v),
            }
        }
    }
    Ok(())
}

/// How a C value that is not a record looks on the Lua side where memory holds it: the
/// conventions of table-array elements, struct fields and tied variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// The native convention of a scalar: numbers, booleans, pointer objects.
    Scalar(Scalar),
    /// A `void*` as a light userdata, NULL as nil when `nil_for_null`.
    LightPointer { nil_for_null: bool },
    /// A `char` as a 1-character string.
    CharString,
    /// An opaque pointer (C/Invoke's `Cptr`): a light userdata out, NULL included; in, what an
    /// `Address` parameter takes ([`opaque_address_at`]).
    Address,
}

/// Converts the Lua value at `idx` into a value of `convention` at `p`.
///
/// # Safety
/// `p` is writable for the value's size; `idx` is an acceptable index of `l`; may raise as
/// [`to_c`] does.
pub(crate) unsafe fn value_to_c(
    l: *mut lua_State,
    idx: c_int,
    convention: Convention,
    p: *mut u8,
) -> Result<(), Mismatch> {
    match convention {
        Convention::Scalar(t) => to_c(l, idx, t, p),
        Convention::LightPointer { .. } => to_c(l, idx, Scalar::Pointer, p),
        Convention::CharString => char_at(l, idx).map(|byte| p.write(byte)),
        Convention::Address => match opaque_address_at(l, idx) {
            Some(addr) => {
                (p as *mut *mut c_void).write_unaligned(addr);
                Ok(())
            }
            None => Err(Mismatch::Expected("pointer")),
        },
    }
}

/// Pushes the value of `convention` at `p`.
///
/// # Safety
/// `p` is readable for the value's size; `l` has room for one value.
pub(crate) unsafe fn push_value(l: *mut lua_State, convention: Convention, p: *const u8) {
    match convention {
        Convention::Scalar(t) => to_lua(l, t, p),
        Convention::LightPointer { .. } | Convention::Address => {
            let addr = (p as *const *mut c_void).read_unaligned();
            if addr.is_null() && convention == (Convention::LightPointer { nil_for_null: true }) {
                ffi::lua_pushnil(l);
            } else {
                ffi::lua_pushlightuserdata(l, addr);
            }
        }
        Convention::CharString => push_char(l, p.read() as c_int),
    }
}

// ---------------------------------------------------------------- the thunks' slow paths

/// The running thunk's function name (upvalue 2 of every bound function).
pub(crate) unsafe fn function_name(l: *mut lua_State) -> *const c_char {
    let name = ffi::lua_tolstring(l, ffi::lua_upvalueindex(2), std::ptr::null_mut());
    if name.is_null() {
        c"?".as_ptr()
    } else {
        name
    }
}

/// Raises "bad argument #arg to 'name' (expected, got type)" for a value that is not what
/// the parameter's [`Expected`] code says.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn arg_error(l: *mut lua_State, arg: c_int, expected: c_int) {
    let expected = Expected::from_code(expected);
    let mismatch = if expected == Expected::Integer && ffi::lua_type(l, arg) == ffi::LUA_TNUMBER {
        Mismatch::NotAnInteger
    } else {
        let name = expected.type_name().to_str().expect("ASCII names");
        Mismatch::Expected(name)
    };
    raise_mismatch(l, arg, Site::Argument(arg), mismatch)
}

/// Raises the error for a call with the wrong number of arguments: "wrong number of
/// arguments" for too many, else the "got no value" error of the first missing parameter
/// that may not be missing. `kinds` packs the [`Expected`] code of each parameter
/// ([`EXPECTED_NOTHING`] for out-parameters), read with [`expected_at`].
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state, with `kinds` covering `expected`
/// parameters.
pub unsafe extern "C-unwind" fn arity_error(l: *mut lua_State, expected: c_int, kinds: *const u64) {
    let got = ffi::lua_gettop(l);
    for missing in got.max(0)..expected {
        let i = missing as usize;
        let code = expected_at(kinds, i);
        if code != EXPECTED_NOTHING {
            arg_error(l, missing + 1, code as c_int);
        }
    }
    let name = function_name(l);
    ffi::luaL_error(
        l,
        c"wrong number of arguments to '%s' (expected %d, got %d)".as_ptr(),
        name,
        expected,
        got,
    );
}

/// Raises the count error of a shared thunk that reads its arguments all at once, or rewrites
/// them into the forms it loads (see `LuaApi::normalize_args`), or raises the first argument
/// error. A pointer object
/// replaced by its address stays on the stack above the arguments, alive for the call.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state; `kinds` covers `nargs` parameters.
pub unsafe extern "C-unwind" fn normalize_args(l: *mut lua_State, nargs: c_int, kinds: *const u64) {
    if ffi::lua_gettop(l) != nargs {
        arity_error(l, nargs, kinds);
    }
    if ffi::lua_checkstack(l, nargs + 2) == 0 {
        ffi::luaL_error(l, c"stack overflow (converting arguments)".as_ptr());
    }
    for arg in 1..=nargs {
        let i = (arg - 1) as usize;
        let code = expected_at(kinds, i);
        let lua_type = ffi::lua_type(l, arg);
        match Expected::from_code(code as c_int) {
            Expected::Integer => {
                if ffi::lua_isinteger(l, arg) == 0 {
                    let v = integer_arg(l, arg);
                    ffi::lua_pushinteger(l, v);
                    ffi::lua_replace(l, arg);
                }
            }
            Expected::Number => {
                if lua_type != ffi::LUA_TNUMBER {
                    let v = number_arg(l, arg);
                    ffi::lua_pushnumber(l, v);
                    ffi::lua_replace(l, arg);
                }
            }
            Expected::Boolean => {
                if lua_type != ffi::LUA_TBOOLEAN {
                    ffi::lua_pushboolean(l, bool_arg(l, arg));
                    ffi::lua_replace(l, arg);
                }
            }
            Expected::String => {
                if lua_type == ffi::LUA_TNUMBER {
                    ffi::lua_tolstring(l, arg, std::ptr::null_mut());
                } else if lua_type != ffi::LUA_TSTRING && lua_type != ffi::LUA_TLIGHTUSERDATA {
                    let addr = cstring_arg(l, arg);
                    keep_as_address(l, arg, addr as *mut c_void);
                }
            }
            Expected::Pointer => {
                if lua_type != ffi::LUA_TLIGHTUSERDATA {
                    let addr = pointer_arg(l, arg);
                    keep_as_address(l, arg, addr);
                }
            }
            Expected::Address => {
                if lua_type != ffi::LUA_TLIGHTUSERDATA {
                    let addr = address_arg(l, arg);
                    keep_as_address(l, arg, addr);
                }
            }
            Expected::Table | Expected::Function => {
                unreachable!("thunks that read tables or function pointers read one at a time")
            }
        }
    }
}

/// [`normalize_args`] for a thunk whose arguments follow a receiver (a `__call`
/// metamethod's called object): errors count and number the arguments without it, and on
/// return a placeholder stands in its slot, so that the arguments are where the thunk loads
/// them. The receiver is not kept: what the call needs is in the closure's upvalues.
///
/// # Safety
/// As [`normalize_args`].
pub unsafe extern "C-unwind" fn normalize_receiver_args(
    l: *mut lua_State,
    nargs: c_int,
    kinds: *const u64,
) {
    remove_receiver(l);
    normalize_args(l, nargs, kinds);
    if ffi::lua_checkstack(l, 1) == 0 {
        ffi::luaL_error(l, c"stack overflow (converting arguments)".as_ptr());
    }
    ffi::lua_pushnil(l);
    ffi::lua_insert(l, 1);
}

/// Removes the receiver of a `__call` metamethod (the first value on the stack), so that
/// the arguments are numbered from 1 as in a plain call. A metamethod called directly with
/// no value at all has none to remove.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn remove_receiver(l: *mut lua_State) {
    if ffi::lua_gettop(l) > 0 {
        ffi::lua_remove(l, 1);
    }
}

/// Replaces argument `arg` with a light userdata of `addr`, leaving the original value on top
/// of the stack so that it outlives the call.
unsafe fn keep_as_address(l: *mut lua_State, arg: c_int, addr: *mut c_void) {
    ffi::lua_pushvalue(l, arg);
    ffi::lua_pushlightuserdata(l, addr);
    ffi::lua_replace(l, arg);
}

/// An integer parameter given something other than an integer: an integral float or a
/// numeric string converts, anything else raises.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn integer_arg(l: *mut lua_State, arg: c_int) -> ffi::lua_Integer {
    argument(l, arg, Scalar::I64)
}

/// A float parameter given something other than a number: a numeric string converts,
/// anything else raises.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn number_arg(l: *mut lua_State, arg: c_int) -> ffi::lua_Number {
    argument(l, arg, Scalar::F64)
}

/// A `bool` parameter given something other than a boolean: nil is false.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn bool_arg(l: *mut lua_State, arg: c_int) -> c_int {
    argument::<u8>(l, arg, Scalar::Bool) as c_int
}

/// Argument `arg` converted to a `T`, the C type of `t`; raises the argument error.
unsafe fn argument<T: Default>(l: *mut lua_State, arg: c_int, t: Scalar) -> T {
    let mut value = T::default();
    if let Err(mismatch) = to_c(l, arg, t, (&mut value as *mut T).cast()) {
        raise_mismatch(l, arg, Site::Argument(arg), mismatch);
    }
    value
}

/// A `string` parameter given neither a string nor a number: nil is NULL, a pointer
/// object passes its address.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn cstring_arg(l: *mut lua_State, arg: c_int) -> *const c_char {
    match pointer::address_at(l, arg) {
        Some(addr) => addr as *const c_char,
        None => {
            arg_error(l, arg, Expected::String.code());
            std::ptr::null()
        }
    }
}

/// A `pointer` parameter: nil, light userdata or a pointer object.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn pointer_arg(l: *mut lua_State, arg: c_int) -> *mut c_void {
    argument::<usize>(l, arg, Scalar::Pointer) as *mut c_void
}

/// A `PointerStyle::Address` parameter (C/Invoke's `Cptr`): see [`opaque_address_at`].
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn address_arg(l: *mut lua_State, arg: c_int) -> *mut c_void {
    match opaque_address_at(l, arg) {
        Some(addr) => addr,
        None => raise_mismatch(l, arg, Site::Argument(arg), Mismatch::Expected("pointer")),
    }
}

/// The address an opaque pointer value stands for: what [`pointer::address_at`] reads, the
/// integer 0 (NULL), and a hexadecimal string ("0x7f..."; C/Invoke's pointers were strings).
///
/// # Safety
/// `idx` is an acceptable index of `l`; may raise as `address_at` does.
pub(crate) unsafe fn opaque_address_at(l: *mut lua_State, idx: c_int) -> Option<*mut c_void> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNUMBER => {
            let mut isnum = 0;
            let v = ffi::lua_tointegerx(l, idx, &mut isnum);
            (isnum != 0 && v == 0).then(std::ptr::null_mut)
        }
        ffi::LUA_TSTRING => {
            let mut len = 0usize;
            let s = ffi::lua_tolstring(l, idx, &mut len);
            let text = std::slice::from_raw_parts(s.cast::<u8>(), len);
            parse_hex_address(text).map(|a| a as *mut c_void)
        }
        _ => pointer::address_at(l, idx),
    }
}

/// The address written as "0x" and hexadecimal digits that fit a pointer.
pub(crate) fn parse_hex_address(text: &[u8]) -> Option<usize> {
    let digits = text
        .strip_prefix(b"0x")
        .or_else(|| text.strip_prefix(b"0X"))?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    usize::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// [`opaque_address_at`] for Rust code running under mlua: `None` when `value` stands for no
/// address.
pub fn opaque_address_of(lua: &mlua::Lua, value: mlua::Value) -> mlua::Result<Option<usize>> {
    address_read_by(lua, value, opaque_address_at)
}

/// A C function pointer parameter: an object that stands for a C function; anything else
/// (nil included) raises, so that C never calls NULL or data.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn function_arg(l: *mut lua_State, arg: c_int) -> *mut c_void {
    match pointer::function_at(l, arg) {
        Some(f) => f,
        None => raise_mismatch(
            l,
            arg,
            Site::Argument(arg),
            Mismatch::Expected("function pointer"),
        ),
    }
}

/// Pushes a pointer argument of a callback as a pointer object.
///
/// # Safety
/// Called only from a callback entry, on the Lua thread running the callback.
pub unsafe extern "C-unwind" fn push_pointer(l: *mut lua_State, addr: *mut c_void) {
    pointer::push(l, addr);
}

/// The address `value` stands for when passed as a pointer (nil, light userdata, pointer
/// objects), or `None` when it stands for none. For Rust code running under mlua.
pub fn address_of(lua: &mlua::Lua, value: mlua::Value) -> mlua::Result<Option<usize>> {
    address_read_by(lua, value, pointer::address_at)
}

/// The address `read` finds in `value`, in mlua's protected raw call.
fn address_read_by(
    lua: &mlua::Lua,
    value: mlua::Value,
    read: unsafe fn(*mut lua_State, c_int) -> Option<*mut c_void>,
) -> mlua::Result<Option<usize>> {
    // SAFETY: inspects the single pushed value in mlua's protected raw call.
    unsafe {
        lua.exec_raw::<Option<mlua::Integer>>(value, |l| {
            let addr = read(l, -1);
            ffi::lua_settop(l, 0);
            match addr {
                Some(addr) => ffi::lua_pushinteger(l, addr as mlua::Integer),
                None => ffi::lua_pushnil(l),
            }
        })
    }
    .map(|addr| addr.map(|a| a as usize))
}

/// A new pointer object for `addr`. For Rust code running under mlua.
pub fn pointer_value(lua: &mlua::Lua, addr: usize) -> mlua::Result<mlua::Value> {
    // SAFETY: pushes one value in mlua's protected raw call.
    unsafe { lua.exec_raw::<mlua::Value>((), |l| pointer::push(l, addr as *mut c_void)) }
}

/// A new pointer object for `addr` that keeps `keeper` alive (nil: nothing), such as the
/// library a symbol's address came from. For Rust code running under mlua.
pub fn kept_pointer_value(
    lua: &mlua::Lua,
    addr: usize,
    keeper: mlua::Value,
) -> mlua::Result<mlua::Value> {
    // SAFETY: pushes one value above the pushed keeper in mlua's protected raw call.
    unsafe {
        lua.exec_raw::<mlua::Value>(keeper, |l| {
            pointer::push_kept(l, addr as *mut c_void, -1);
            ffi::lua_replace(l, -2);
        })
    }
}

/// The type name of `value` as Lua's messages give it (`__name` for userdata that has one:
/// "buffer", "pointer"...). For Rust code running under mlua.
pub fn lua_type_name(lua: &mlua::Lua, value: &mlua::Value) -> mlua::Result<String> {
    // SAFETY: inspects the single pushed value in mlua's protected raw call.
    unsafe {
        lua.exec_raw::<String>(value, |l| {
            let name = type_name(l, -1);
            ffi::lua_pushstring(l, name);
            ffi::lua_replace(l, 1);
            ffi::lua_settop(l, 1);
        })
    }
}

/// What the pointer object `value` keeps alive (its owner: an arena, a buffer's storage, a
/// library), or nil for values that keep nothing. For Rust code running under mlua.
pub fn owner_of(lua: &mlua::Lua, value: &mlua::Value) -> mlua::Result<mlua::Value> {
    // SAFETY: inspects the single pushed value in mlua's protected raw call.
    unsafe {
        lua.exec_raw::<mlua::Value>(value, |l| {
            pointer::push_owner(l, -1);
            ffi::lua_replace(l, -2);
        })
    }
}

/// The byte of the 1-character string at `idx`: a `char` whose Lua form is a string.
///
/// # Safety
/// `idx` is an acceptable index of `l`.
pub(crate) unsafe fn char_at(l: *mut lua_State, idx: c_int) -> Result<u8, Mismatch> {
    if ffi::lua_type(l, idx) != ffi::LUA_TSTRING {
        return Err(Mismatch::NotOneCharacter);
    }
    let mut len = 0usize;
    let s = ffi::lua_tolstring(l, idx, &mut len);
    match len {
        1 => Ok(*s as u8),
        _ => Err(Mismatch::NotOneCharacter),
    }
}

/// A `char` parameter passed as a 1-character string: its byte; raises the argument error for
/// anything else.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn char_arg(l: *mut lua_State, arg: c_int) -> c_int {
    match char_at(l, arg) {
        Ok(byte) => byte as c_int,
        Err(mismatch) => raise_mismatch(l, arg, Site::Argument(arg), mismatch),
    }
}

/// Pushes the `char` `c` as a 1-character string.
///
/// # Safety
/// `l` has room for one value.
pub unsafe extern "C-unwind" fn push_char(l: *mut lua_State, c: c_int) {
    let byte = c as u8;
    ffi::lua_pushlstring(l, (&byte as *const u8).cast(), 1);
}
