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

/// Raises the error for a value of the wrong kind for `t`.
unsafe fn bad_value(l: *mut lua_State, idx: c_int, t: Scalar, expected: &str) -> ! {
    let msg = if expected == "integer" && ffi::lua_type(l, idx) == ffi::LUA_TNUMBER {
        "number has no integer representation".to_string()
    } else {
        let expected = if expected == "integer" {
            "number"
        } else {
            expected
        };
        format!("{expected} expected, got {}", raw::type_name(l, idx))
    };
    raise(l, format!("bad value for {} ({msg})", t.name()))
}

/// Stores the Lua value at `idx` as a `t` at `p`; raises on a value `t` cannot hold.
///
/// # Safety
/// `p` is writable for `t.size()` bytes.
#[inline]
pub unsafe fn store(l: *mut lua_State, idx: c_int, t: Scalar, p: *mut u8) {
    match t {
        Scalar::Void => raise(l, "cannot write a void value".into()),
        Scalar::Bool => {
            let v = match ffi::lua_type(l, idx) {
                ffi::LUA_TBOOLEAN => ffi::lua_toboolean(l, idx) != 0,
                ffi::LUA_TNIL => false,
                _ => bad_value(l, idx, t, "boolean"),
            };
            p.write(v as u8);
        }
        Scalar::F32 | Scalar::F64 => {
            let mut isnum = 0;
            let v = ffi::lua_tonumberx(l, idx, &mut isnum);
            if isnum == 0 {
                bad_value(l, idx, t, "number");
            }
            if t == Scalar::F32 {
                (p as *mut f32).write_unaligned(v as f32);
            } else {
                (p as *mut f64).write_unaligned(v);
            }
        }
        Scalar::Pointer => match pointer::address_at(l, idx) {
            Some(a) => (p as *mut *mut c_void).write_unaligned(a),
            None => bad_value(l, idx, t, "pointer"),
        },
        Scalar::String => {
            if ffi::lua_type(l, idx) == ffi::LUA_TSTRING {
                raise(
                    l,
                    "bad value for string (a Lua string cannot be stored as a char*; \
                     copy it into a buffer with writeString)"
                        .into(),
                );
            }
            match pointer::address_at(l, idx) {
                Some(a) => (p as *mut *mut c_void).write_unaligned(a),
                None => bad_value(l, idx, t, "pointer"),
            }
        }
        int => {
            let mut isnum = 0;
            let v = ffi::lua_tointegerx(l, idx, &mut isnum);
            if isnum == 0 {
                bad_value(l, idx, t, "integer");
            }
            match int.size() {
                1 => p.write(v as u8),
                2 => (p as *mut u16).write_unaligned(v as u16),
                4 => (p as *mut u32).write_unaligned(v as u32),
                _ => (p as *mut i64).write_unaligned(v),
            }
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
