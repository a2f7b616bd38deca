//! Scalar values in memory: checked reads and writes through memory objects, and stores that
//! raise "bad value for <type>", all by the conversion core (`crate::convert`). Accesses are
//! unaligned-safe; the safe accessors check alignment before they get here.

use std::ffi::c_int;

use mlua::ffi::lua_State;

use super::pointer::access;
use super::region::Region;
use crate::convert::{self, Site};
use crate::ctype::Scalar;
use crate::lua_error::raise;

/// Stores the Lua value at `idx` as a `t` at `p`; raises "bad value for <t> (...)" on a value
/// `t` cannot hold.
///
/// # Safety
/// `p` is writable for `t.size()` bytes.
#[inline]
pub unsafe fn store(l: *mut lua_State, idx: c_int, t: Scalar, p: *mut u8) {
    if let Err(mismatch) = convert::to_c(l, idx, t, p) {
        convert::raise_mismatch(l, idx, Site::Store(t), mismatch);
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
    convert::to_lua(l, t, p);
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
