//! Scalar values in memory: loads push a Lua value, stores take one, with the value rules of
//! calls (integers truncated like a C cast, integral floats accepted for integers, `u64`
//! keeps its 64 bits, `bool` from booleans and nil, pointers from every pointer object).
//! Accesses are unaligned-safe; the safe accessors check alignment before they get here.

use std::ffi::{c_char, c_int, c_void};

use mlua::ffi::{self, lua_State};

use super::pointer::{self, access};
use super::raw;
use super::region::Region;
use crate::ctype::Scalar;
use crate::lua_error::raise;

/// Pushes the value of type `t` stored at `p`.
///
/// # Safety
/// `p` is readable for `t.size()` bytes.
#[inline]
pub unsafe fn load(l: *mut lua_State, t: Scalar, p: *const u8) {
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

/// Why a Lua value cannot become a C value of some type. Rendered by [`Mismatch::describe`]
/// in Lua's words, after the place the value was going (an argument, a field, an array
/// element...), which the caller names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The value is not of the expected Lua type ("number", "boolean", "pointer"...).
    Expected(&'static str),
    /// A float without an integral value for an integer.
    NotAnInteger,
    /// A Lua string for a `char*` in memory, which would dangle once the string is collected.
    StringInMemory,
    /// Nothing can be stored as `void`.
    Void,
}

impl Mismatch {
    /// The message for the value at `idx` (which must still be there), in Lua's words.
    ///
    /// # Safety
    /// `idx` is an acceptable index of `l`.
    pub unsafe fn describe(self, l: *mut lua_State, idx: c_int) -> String {
        match self {
            Mismatch::Expected(expected) => {
                format!("{expected} expected, got {}", raw::type_name(l, idx))
            }
            Mismatch::NotAnInteger => "number has no integer representation".to_string(),
            Mismatch::StringInMemory => "a Lua string cannot be stored as a char*; \
                 copy it into a buffer with writeString"
                .to_string(),
            Mismatch::Void => "cannot write a void value".to_string(),
        }
    }
}

/// Converts the Lua value at `idx` to a `t` at `p`: the value rules every path shares
/// (memory stores, struct fields, array elements, out-parameters).
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
                    Mismatch::Expected("number")
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

/// Stores the Lua value at `idx` as a `t` at `p`; raises "bad value for <t> (...)" on a value
/// `t` cannot hold.
///
/// # Safety
/// `p` is writable for `t.size()` bytes.
#[inline]
pub unsafe fn store(l: *mut lua_State, idx: c_int, t: Scalar, p: *mut u8) {
    match to_c(l, idx, t, p) {
        Ok(()) => {}
        Err(Mismatch::Void) => raise(l, Mismatch::Void.describe(l, idx)),
        Err(mismatch) => {
            let message = mismatch.describe(l, idx);
            raise(l, format!("bad value for {} ({message})", t.name()))
        }
    }
}

/// A checked read of a `t` at `addr + off` through an object with `region`; pushes it.
pub unsafe fn read_at(l: *mut lua_State, addr: *mut u8, region: &Region, off: isize, t: Scalar) {
    if t == Scalar::Void {
        raise(l, "cannot read a void value".into());
    }
    let p = access(l, addr, region, off, t.size(), t.align(), &|| {
        format!("{} read", t.name())
    });
    load(l, t, p);
}

/// A checked write of the value at `val` as a `t` at `addr + off`.
pub unsafe fn write_at(
    l: *mut lua_State,
    addr: *mut u8,
    region: &Region,
    off: isize,
    t: Scalar,
    val: c_int,
) {
    if t == Scalar::Void {
        raise(l, "cannot write a void value".into());
    }
    let p = access(l, addr, region, off, t.size(), t.align(), &|| {
        format!("{} write", t.name())
    });
    store(l, val, t, p);
}
