//! 64-bit integers on every Lua version.
//!
//! Lua 5.3 and later have a 64-bit integer subtype: a C `int64_t` or `uint64_t` is a Lua
//! integer (a `uint64_t` above 2^63-1 keeps its 64 bits, as `string.pack("J")` does). Lua 5.1,
//! 5.2 and LuaJIT have only doubles, which hold every integer in [-2^53, 2^53] but only some
//! beyond. There, a 64-bit value in that range is a Lua number and any other a boxed 64-bit
//! integer: a full userdata of the value's bits and signedness, with C's wrapping arithmetic
//! (`+ - * / %` and unary minus; `/` truncates, `%` takes the sign of the divisor as Lua's
//! does, a mixed operation is unsigned as in C), comparison, `tostring` and concatenation. A
//! 64-bit parameter takes either form back, and a number or a box converts to any integer
//! type, so every face shares the one representation. The value a box holds never fits the
//! safe range: equal values always have the same form, and `==` between a box and a number is
//! false only because they differ.
//!
//! `int64(v)` and `uint64(v)` (in the native face) make a value of either C type from a
//! number, a string (decimal or `0x` hexadecimal, with an optional minus) or a box, converting
//! as a C cast from any value in [-2^63, 2^64): a Lua integer on 5.3 and later, the form above
//! on the others.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use crate::lua_error::raise;
use crate::lua_version;

#[cfg(any(feature = "lua51", feature = "lua52", feature = "luajit"))]
pub(crate) use boxed::{boxed_at, push_i64, push_u64};

/// The values a C cast to a 64-bit integer takes: [-2^63, 2^64).
fn in_range(v: i128) -> bool {
    (i64::MIN as i128..=u64::MAX as i128).contains(&v)
}

/// The integer the value at `idx` stands for: an integral number, a string of one, or a box.
unsafe fn integer_at(l: *mut lua_State, idx: c_int) -> Option<i128> {
    #[cfg(any(feature = "lua51", feature = "lua52", feature = "luajit"))]
    if let Some(v) = boxed_at(l, idx) {
        return Some(v);
    }
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNUMBER => number_value(l, idx),
        ffi::LUA_TSTRING => {
            let mut len = 0;
            let s = ffi::lua_tolstring(l, idx, &mut len);
            parse(std::slice::from_raw_parts(s.cast(), len))
        }
        _ => None,
    }
}

/// The integer a Lua number holds, if it is integral.
unsafe fn number_value(l: *mut lua_State, idx: c_int) -> Option<i128> {
    #[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
    if ffi::lua_isinteger(l, idx) != 0 {
        return Some(ffi::lua_tointegerx(l, idx, std::ptr::null_mut()) as i128);
    }
    let n = ffi::lua_tonumber(l, idx);
    // 2^64 is exact as a double; every double of magnitude below it converts exactly.
    (n == n.trunc() && n.abs() < 18446744073709551616.0).then_some(n as i128)
}

/// A decimal or `0x` hexadecimal integer with an optional minus sign, surrounding spaces
/// allowed (as Lua's own conversions allow them).
fn parse(text: &[u8]) -> Option<i128> {
    let text = std::str::from_utf8(text).ok()?.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) if !hex.starts_with(['+', '-']) => u64::from_str_radix(hex, 16).ok()?,
        Some(_) => return None,
        None if !digits.starts_with(['+', '-']) => digits.parse::<u64>().ok()?,
        None => return None,
    } as i128;
    Some(if negative { -magnitude } else { magnitude })
}

/// `int64(v)` and `uint64(v)`: the C cast of `v` to the type, in the form of this Lua version.
unsafe fn construct(l: *mut lua_State, unsigned: bool) -> c_int {
    let name = if unsigned { "uint64" } else { "int64" };
    match integer_at(l, 1).filter(|&v| in_range(v)) {
        Some(v) if unsigned => lua_version::push_u64(l, v as u64 as i64),
        Some(v) => lua_version::push_i64(l, v as i64),
        None => raise(
            l,
            format!(
                "bad argument #1 to '{name}' (an integer in [-2^63, 2^64) or a string of one \
                 expected)"
            ),
        ),
    }
    1
}

/// `int64(v)`: see the module's documentation.
///
/// # Safety
/// Called by Lua as a C function.
pub(crate) unsafe extern "C-unwind" fn int64(l: *mut lua_State) -> c_int {
    construct(l, false)
}

/// `uint64(v)`: see the module's documentation.
///
/// # Safety
/// Called by Lua as a C function.
pub(crate) unsafe extern "C-unwind" fn uint64(l: *mut lua_State) -> c_int {
    construct(l, true)
}

#[cfg(any(feature = "lua51", feature = "lua52", feature = "luajit"))]
mod boxed {
    use std::ffi::{c_int, CStr};

    use mlua::ffi::{self, lua_State};

    use super::integer_at;
    use crate::lua_error::{raise, type_name, Decimal};
    use crate::lua_version;

    const METATABLE: &CStr = c"moonthunk.int64";

    /// Every integer of at most this magnitude is a Lua number; every other is a box.
    const SAFE: i128 = 1 << 53;

    #[repr(C)]
    struct Boxed {
        bits: u64,
        unsigned: bool,
    }

    impl Boxed {
        fn value(&self) -> i128 {
            if self.unsigned {
                self.bits as i128
            } else {
                self.bits as i64 as i128
            }
        }
    }

    /// Pushes a signed 64-bit value: a number in the safe range, else a box.
    ///
    /// # Safety
    /// `l` is a valid Lua state with room for one value.
    pub(crate) unsafe extern "C-unwind" fn push_i64(l: *mut lua_State, v: i64) {
        push(l, v as u64, false);
    }

    /// Pushes an unsigned 64-bit value (its bits in `v`): a number in the safe range, else a
    /// box.
    ///
    /// # Safety
    /// `l` is a valid Lua state with room for one value.
    pub(crate) unsafe extern "C-unwind" fn push_u64(l: *mut lua_State, v: i64) {
        push(l, v as u64, true);
    }

    unsafe fn push(l: *mut lua_State, bits: u64, unsigned: bool) {
        let boxed = Boxed { bits, unsigned };
        let value = boxed.value();
        if (-SAFE..=SAFE).contains(&value) {
            ffi::lua_pushnumber(l, value as ffi::lua_Number);
            return;
        }
        let block = ffi::lua_newuserdata(l, std::mem::size_of::<Boxed>()) as *mut Boxed;
        block.write(boxed);
        if ffi::luaL_newmetatable(l, METATABLE.as_ptr()) != 0 {
            fill_metatable(l);
        }
        ffi::lua_setmetatable(l, -2);
    }

    /// The value of the box at `idx`, if it holds one.
    ///
    /// # Safety
    /// `l` is a valid Lua state with room for two values; `idx` is an acceptable index.
    pub(crate) unsafe fn boxed_at(l: *mut lua_State, idx: c_int) -> Option<i128> {
        let block = lua_version::test_userdata(l, idx, METATABLE.as_ptr()) as *const Boxed;
        (!block.is_null()).then(|| (*block).value())
    }

    unsafe fn fill_metatable(l: *mut lua_State) {
        let methods: [(&CStr, ffi::lua_CFunction); 11] = [
            (c"__add", add),
            (c"__sub", sub),
            (c"__mul", mul),
            (c"__div", div),
            (c"__mod", modulo),
            (c"__unm", unm),
            (c"__eq", eq),
            (c"__lt", lt),
            (c"__le", le),
            (c"__tostring", tostring),
            (c"__concat", concat),
        ];
        for (name, f) in methods {
            ffi::lua_pushcclosure(l, f, 0);
            ffi::lua_setfield(l, -2, name.as_ptr());
        }
        ffi::lua_pushstring(l, c"int64".as_ptr());
        ffi::lua_setfield(l, -2, c"__name".as_ptr());
    }

    /// An operand of an operation on boxes: its bits and whether it is unsigned (a number is
    /// signed); raises for a value that is no integer.
    unsafe fn operand(l: *mut lua_State, idx: c_int, op: &str) -> (u64, bool) {
        let unsigned = !lua_version::test_userdata(l, idx, METATABLE.as_ptr()).is_null()
            && boxed_unsigned(l, idx);
        if let Some(v) = integer_at(l, idx).filter(|&v| super::in_range(v)) {
            return (v as u64, unsigned);
        }
        let message = {
            let name = CStr::from_ptr(type_name(l, idx)).to_string_lossy();
            format!("attempt to {op} an int64 and a {name} value")
        };
        raise(l, message)
    }

    unsafe fn boxed_unsigned(l: *mut lua_State, idx: c_int) -> bool {
        (*(ffi::lua_touserdata(l, idx) as *const Boxed)).unsigned
    }

    /// Applies `op` to the two operands on the stack and pushes the result.
    unsafe fn arithmetic(
        l: *mut lua_State,
        what: &str,
        op: impl Fn(u64, u64, bool) -> Option<u64>,
    ) -> c_int {
        let (a, a_unsigned) = operand(l, 1, what);
        let (b, b_unsigned) = operand(l, 2, what);
        let unsigned = a_unsigned || b_unsigned;
        match op(a, b, unsigned) {
            Some(bits) => push(l, bits, unsigned),
            None => raise(l, format!("attempt to {what} an int64 by zero")),
        }
        1
    }

    unsafe extern "C-unwind" fn add(l: *mut lua_State) -> c_int {
        arithmetic(l, "add", |a, b, _| Some(a.wrapping_add(b)))
    }

    unsafe extern "C-unwind" fn sub(l: *mut lua_State) -> c_int {
        arithmetic(l, "subtract", |a, b, _| Some(a.wrapping_sub(b)))
    }

    unsafe extern "C-unwind" fn mul(l: *mut lua_State) -> c_int {
        arithmetic(l, "multiply", |a, b, _| Some(a.wrapping_mul(b)))
    }

    unsafe extern "C-unwind" fn div(l: *mut lua_State) -> c_int {
        arithmetic(l, "divide", |a, b, unsigned| match (b, unsigned) {
            (0, _) => None,
            (_, true) => Some(a / b),
            (_, false) => Some((a as i64).wrapping_div(b as i64) as u64),
        })
    }

    unsafe extern "C-unwind" fn modulo(l: *mut lua_State) -> c_int {
        arithmetic(l, "take the remainder of", |a, b, unsigned| {
            match (b, unsigned) {
                (0, _) => None,
                (_, true) => Some(a % b),
                (_, false) => {
                    let (a, b) = (a as i64, b as i64);
                    let r = a.wrapping_rem(b);
                    // Lua's rule: a non-zero remainder has the sign of the divisor.
                    Some(if r != 0 && (r ^ b) < 0 { r + b } else { r } as u64)
                }
            }
        })
    }

    unsafe extern "C-unwind" fn unm(l: *mut lua_State) -> c_int {
        let (a, unsigned) = operand(l, 1, "negate");
        push(l, a.wrapping_neg(), unsigned);
        1
    }

    /// Compares the two operands on the stack as the integers they stand for.
    unsafe fn compare(l: *mut lua_State, what: &str) -> std::cmp::Ordering {
        let value = |(bits, unsigned): (u64, bool)| {
            if unsigned {
                bits as i128
            } else {
                bits as i64 as i128
            }
        };
        let a = value(operand(l, 1, what));
        let b = value(operand(l, 2, what));
        a.cmp(&b)
    }

    unsafe extern "C-unwind" fn eq(l: *mut lua_State) -> c_int {
        let equal = compare(l, "compare") == std::cmp::Ordering::Equal;
        ffi::lua_pushboolean(l, equal as c_int);
        1
    }

    unsafe extern "C-unwind" fn lt(l: *mut lua_State) -> c_int {
        let less = compare(l, "compare") == std::cmp::Ordering::Less;
        ffi::lua_pushboolean(l, less as c_int);
        1
    }

    unsafe extern "C-unwind" fn le(l: *mut lua_State) -> c_int {
        let less_or_equal = compare(l, "compare") != std::cmp::Ordering::Greater;
        ffi::lua_pushboolean(l, less_or_equal as c_int);
        1
    }

    unsafe extern "C-unwind" fn tostring(l: *mut lua_State) -> c_int {
        match boxed_at(l, 1) {
            Some(v) => {
                ffi::lua_pushstring(l, Decimal::new(v).as_ptr());
            }
            None => {
                ffi::luaL_argerror(l, 1, c"int64 expected".as_ptr());
            }
        }
        1
    }

    /// `..`: a box joins as its decimal digits.
    unsafe extern "C-unwind" fn concat(l: *mut lua_State) -> c_int {
        for idx in 1..=2 {
            match boxed_at(l, idx) {
                Some(v) => {
                    ffi::lua_pushstring(l, Decimal::new(v).as_ptr());
                }
                None => ffi::lua_pushvalue(l, idx),
            }
        }
        ffi::lua_concat(l, 2);
        1
    }
}
