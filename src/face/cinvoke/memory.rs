//! The marshalling helpers of `cinv`: char arrays to and from strings, and reading C memory a
//! `Cptr` points to as a string, an array, a structure, or a pointer further on.
//!
//! Elements convert as the engine's table arrays convert theirs (`crate::table_array`), so a
//! value read here is the value a written-back array holds.

use std::ffi::{c_void, CStr};
use std::rc::Rc;

use mlua::ffi;
use mlua::{Lua, Result, Table, Value};

use super::types::{bad_argument, CinvType};
use crate::convert::char_at;
use crate::lua_version;
use crate::memory::layout::StructLayout;
use crate::memory::pointer::NULL_PAGE;
use crate::table_array::push_element;

/// `cinv.chararray_to_string(arr[, len])`: the bytes of the first `len` (default `#arr`)
/// 1-character strings of `arr`.
pub fn chararray_to_string(lua: &Lua, arr: Value, len: Option<Value>) -> Result<mlua::LuaString> {
    const FUNCTION: &str = "chararray_to_string";
    let Value::Table(arr) = arr else {
        let got = crate::convert::lua_type_name(lua, &arr)?;
        return Err(bad_argument(
            1,
            FUNCTION,
            format!("table expected, got {got}"),
        ));
    };
    let len = match len {
        None | Some(Value::Nil) => arr.raw_len(),
        Some(len) => count(lua, &len, 2, FUNCTION)?,
    };
    // SAFETY: reads the table's elements into a scratch userdata in mlua's protected raw
    // call; a message is the only Rust value made, and it is pushed before anything raises.
    let (ok, text) = unsafe {
        lua.exec_raw::<(bool, mlua::LuaString)>(&arr, |l| {
            let refuse = |l, i: usize, mismatch: crate::convert::Mismatch| {
                let message = format!("element {}: {}", i + 1, mismatch.describe(l, -1, "number"));
                ffi::lua_settop(l, 0);
                ffi::lua_pushboolean(l, 0);
                ffi::lua_pushlstring(l, message.as_ptr().cast(), message.len());
            };
            // `len` is the caller's: checked against the elements before it is allocated, so
            // that a huge one is the error of a missing element, not an allocation that
            // aborts the process.
            for i in 0..len {
                ffi::lua_rawgeti(l, 1, i as ffi::lua_Integer + 1);
                if let Err(mismatch) = char_at(l, -1) {
                    return refuse(l, i, mismatch);
                }
                ffi::lua_settop(l, 1);
            }
            let bytes = lua_version::new_userdata(l, len, 0) as *mut u8;
            // Checked again: a finalizer the allocation ran may have changed the table.
            for i in 0..len {
                ffi::lua_rawgeti(l, 1, i as ffi::lua_Integer + 1);
                match char_at(l, -1) {
                    Ok(byte) => bytes.add(i).write(byte),
                    Err(mismatch) => return refuse(l, i, mismatch),
                }
                ffi::lua_settop(l, 2);
            }
            ffi::lua_pushboolean(l, 1);
            ffi::lua_pushlstring(l, bytes.cast(), len);
            ffi::lua_rotate(l, 1, 2);
            ffi::lua_settop(l, 2);
        })?
    };
    match ok {
        true => Ok(text),
        false => Err(bad_argument(1, FUNCTION, text.to_string_lossy())),
    }
}

/// `cinv.string_to_chararray(str[, includenil])`: a table of the string's characters, with
/// a last `"\0"` when `includenil` is true.
pub fn string_to_chararray(lua: &Lua, s: &[u8], includenil: bool) -> Result<Table> {
    let table = lua.create_table_with_capacity(s.len() + includenil as usize, 0)?;
    for &byte in s.iter().chain(includenil.then_some(&0)) {
        table.raw_push(lua.create_string([byte])?)?;
    }
    Ok(table)
}

/// `cinv.ptr_to_string(ptr[, len])`: `len` bytes from `ptr`, or up to the first `\0`.
pub fn ptr_to_string(lua: &Lua, ptr: Value, len: Option<Value>) -> Result<mlua::LuaString> {
    const FUNCTION: &str = "ptr_to_string";
    let address = readable(lua, ptr, FUNCTION)?;
    let bytes = match len {
        None | Some(Value::Nil) => {
            // SAFETY: the user says `ptr` points to a NUL-terminated string; it is not NULL.
            unsafe { CStr::from_ptr(address.cast()) }.to_bytes()
        }
        Some(len) => {
            let len = count(lua, &len, 2, FUNCTION)?;
            // SAFETY: the user says `ptr` points to `len` readable bytes; it is not NULL.
            unsafe { std::slice::from_raw_parts(address.cast::<u8>(), len) }
        }
    };
    lua.create_string(bytes)
}

/// `cinv.ptr_to_array(ptr, type, len)`: a table of the `len` elements `ptr` points to.
pub fn ptr_to_array(lua: &Lua, ptr: Value, t: Value, len: Value) -> Result<Table> {
    const FUNCTION: &str = "ptr_to_array";
    let t = CinvType::from_arg(lua, &t, 2, FUNCTION)?;
    let len = count(lua, &len, 3, FUNCTION)?;
    let address = readable(lua, ptr, FUNCTION)?;
    read_elements(lua, address, &t, len, 2, FUNCTION)
}

/// `cinv.ptr_to_struct(ptr, type)`: the structure `ptr` points to, as a table of its fields.
pub fn ptr_to_struct(lua: &Lua, ptr: Value, t: Value) -> Result<Table> {
    const FUNCTION: &str = "ptr_to_struct";
    let t = CinvType::from_arg(lua, &t, 2, FUNCTION)?;
    if !matches!(t, CinvType::Struct(_)) {
        return Err(bad_argument(
            2,
            FUNCTION,
            format!("structure expected, got {}", t.name()),
        ));
    }
    let address = readable(lua, ptr, FUNCTION)?;
    read_elements(lua, address, &t, 1, 2, FUNCTION)?.raw_get(1)
}

/// `cinv.ptr_incr(ptr, n)`: the `Cptr` `n` bytes after `ptr`.
pub fn ptr_incr(lua: &Lua, ptr: Value, n: Value) -> Result<Value> {
    const FUNCTION: &str = "ptr_incr";
    let address = address(lua, ptr, FUNCTION)?;
    let Value::Integer(n) = n else {
        let got = crate::convert::lua_type_name(lua, &n)?;
        return Err(bad_argument(
            2,
            FUNCTION,
            format!("integer expected, got {got}"),
        ));
    };
    let moved = (address as isize).wrapping_add(n as isize);
    Ok(Value::LightUserData(mlua::LightUserData(
        moved as *mut c_void,
    )))
}

/// The elements of type `t` at `address`, converted as a written-back array's.
fn read_elements(
    lua: &Lua,
    address: *const u8,
    t: &CinvType,
    len: usize,
    pos: usize,
    function: &str,
) -> Result<Table> {
    let Some((element, layout)) = t.element() else {
        return Err(bad_argument(
            pos,
            function,
            format!("{} has no values in memory", t.name()),
        ));
    };
    let size = match (&layout, element.size_align()) {
        (Some(layout), _) => layout.size,
        (None, Some((size, _))) => size,
        (None, None) => unreachable!("a record element has a layout"),
    };
    let layout: Option<&Rc<StructLayout>> = layout.as_ref();
    // SAFETY: the user says `address` points to `len` elements of `t`; builds the table in
    // mlua's protected raw call.
    unsafe {
        lua.exec_raw::<Table>((), |l| {
            ffi::lua_createtable(l, len.min(1 << 16) as std::ffi::c_int, 0);
            for i in 0..len {
                push_element(
                    l,
                    element,
                    layout.map(|r| &**r),
                    address.add(i * size),
                    None,
                );
                ffi::lua_rawseti(l, 1, i as ffi::lua_Integer + 1);
            }
        })
    }
}

/// The address a `Cptr` argument stands for.
fn address(lua: &Lua, ptr: Value, function: &str) -> Result<usize> {
    match crate::convert::opaque_address_of(lua, ptr.clone())? {
        Some(address) => Ok(address),
        None => {
            let got = crate::convert::lua_type_name(lua, &ptr)?;
            Err(bad_argument(
                1,
                function,
                format!("pointer expected, got {got}"),
            ))
        }
    }
}

/// The address of memory to read: not in the NULL page, which a `Cptr` made of a small
/// integer or hexadecimal string reaches from pure Lua and where nothing is ever mapped.
fn readable(lua: &Lua, ptr: Value, function: &str) -> Result<*const u8> {
    match address(lua, ptr, function)? {
        0 => Err(bad_argument(1, function, "NULL pointer")),
        address if address < NULL_PAGE => Err(bad_argument(
            1,
            function,
            format!("address 0x{address:x} is in the NULL page"),
        )),
        address => Ok(address as *const u8),
    }
}

/// A length or count argument: a non-negative integer.
fn count(lua: &Lua, value: &Value, pos: usize, function: &str) -> Result<usize> {
    match value {
        Value::Integer(n) if *n >= 0 => Ok(*n as usize),
        Value::Number(n) if *n >= 0.0 && n.fract() == 0.0 && *n < 2f64.powi(53) => Ok(*n as usize),
        Value::Integer(_) | Value::Number(_) => {
            Err(bad_argument(pos, function, "non-negative integer expected"))
        }
        other => {
            let got = crate::convert::lua_type_name(lua, other)?;
            Err(bad_argument(
                pos,
                function,
                format!("number expected, got {got}"),
            ))
        }
    }
}
