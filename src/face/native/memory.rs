//! The memory part of the native face: `ffi.arena`, `ffi.buffer`, `ffi.struct`, `ffi.view`
//! (names for the engine's constructors in `crate::memory`), and the functions defined here
//! over the engine's primitives: `ffi.cast`, `ffi.ptr`, `ffi.isNull`, `ffi.read`, `ffi.write`,
//! `ffi.copy`, `ffi.fill` and the unchecked `ffi.unsafe.*` family.

use std::ffi::{c_int, c_void};

use mlua::ffi::{self, lua_CFunction, lua_State};
use mlua::{Lua, Result, Table};

use crate::convert;
use crate::lua_error::raise;
use crate::memory::pointer::{self, access};
use crate::memory::{self, arena, buffer, raw, typed, value, view};

const FUNCTIONS: &[(&str, lua_CFunction)] = &[
    ("arena", arena::new),
    ("buffer", buffer::new),
    ("struct", view::new_struct),
    ("union", view::new_union),
    ("view", view::new_view),
    ("cast", cast),
    ("ptr", ptr),
    ("isNull", is_null),
    ("read", read),
    ("write", write),
    ("copy", copy),
    ("fill", fill),
];

const UNSAFE: &[(&str, lua_CFunction)] = &[
    ("read", unsafe_read),
    ("write", unsafe_write),
    ("copy", unsafe_copy),
    ("fill", unsafe_fill),
    ("zero", unsafe_zero),
];

/// Adds the memory functions to the module table `ffi`.
pub fn register(lua: &Lua, ffi: &Table) -> Result<()> {
    memory::register(lua)?;
    for &(name, f) in FUNCTIONS {
        // SAFETY: the raw functions (the engine's and this file's) follow the Lua C API
        // conventions.
        ffi.set(name, unsafe { lua.create_c_function(f)? })?;
    }
    let unsafe_table = lua.create_table()?;
    for &(name, f) in UNSAFE {
        // SAFETY: as above.
        unsafe_table.set(name, unsafe { lua.create_c_function(f)? })?;
    }
    ffi.set("unsafe", unsafe_table)
}

/// `ffi.read(ptr, offset, ctype)`.
unsafe extern "C-unwind" fn read(l: *mut lua_State) -> c_int {
    let (addr, region) = pointer::target_at(l, 1, "read");
    let off = pointer::check_offset(l, 2, "read");
    let t = raw::check_ctype(l, 3, "read");
    value::read_at(l, addr, &region, off, t);
    1
}

/// `ffi.write(ptr, offset, ctype, value)`.
unsafe extern "C-unwind" fn write(l: *mut lua_State) -> c_int {
    let (addr, region) = pointer::target_at(l, 1, "write");
    let off = pointer::check_offset(l, 2, "write");
    let t = raw::check_ctype(l, 3, "write");
    value::write_at(l, addr, &region, off, t, 4);
    0
}

/// `ffi.copy(dst, src, len)`: `src` may also be a Lua string.
unsafe extern "C-unwind" fn copy(l: *mut lua_State) -> c_int {
    let len = raw::check_size(l, 3, "copy", "length");
    let (daddr, dregion) = pointer::target_at(l, 1, "copy");
    let from = match raw::string_at(l, 2) {
        Some(s) => {
            if s.len() < len {
                raise(
                    l,
                    format!(
                        "out of bounds: copy of {len} bytes from a {}-byte string",
                        s.len()
                    ),
                );
            }
            s.as_ptr()
        }
        None => {
            let (saddr, sregion) = pointer::target_at(l, 2, "copy");
            access(l, saddr, &sregion, 0, len, 1, &|| {
                format!("copy source of {len} bytes")
            })
        }
    };
    let to = access(l, daddr, &dregion, 0, len, 1, &|| {
        format!("copy destination of {len} bytes")
    });
    std::ptr::copy(from, to, len);
    0
}

/// `ffi.fill(ptr, len, byte)`.
unsafe extern "C-unwind" fn fill(l: *mut lua_State) -> c_int {
    let (addr, region) = pointer::target_at(l, 1, "fill");
    let len = raw::check_size(l, 2, "fill", "length");
    let byte = raw::check_int(l, 3, "fill") as u8;
    let to = access(l, addr, &region, 0, len, 1, &|| {
        format!("fill of {len} bytes")
    });
    std::ptr::write_bytes(to, byte, len);
    0
}

/// `ffi.cast(ptr, ctype | def)`: a typed pointer or a struct view.
unsafe extern "C-unwind" fn cast(l: *mut lua_State) -> c_int {
    if view::layout_at(l, 2).is_some() {
        view::push_view(l, 1, 2, "cast");
    } else {
        let t = raw::check_ctype(l, 2, "cast");
        typed::push_typed(l, 1, t, "cast");
    }
    1
}

/// `ffi.ptr(addr)`: an unmanaged pointer.
unsafe extern "C-unwind" fn ptr(l: *mut lua_State) -> c_int {
    let addr = match pointer::address_at(l, 1) {
        Some(addr) if ffi::lua_type(l, 1) != ffi::LUA_TNIL => addr,
        _ => raw::check_int(l, 1, "ptr") as usize as *mut c_void,
    };
    pointer::push(l, addr);
    1
}

/// `ffi.isNull(ptr)`.
unsafe extern "C-unwind" fn is_null(l: *mut lua_State) -> c_int {
    let o = pointer::object_at(l, 1);
    let addr = if o.is_null() {
        match pointer::address_at(l, 1) {
            Some(addr) => addr as *mut u8,
            None => raw::arg_error(
                l,
                1,
                "isNull",
                format!("pointer expected, got {}", raw::type_name(l, 1)),
            ),
        }
    } else {
        (*o).addr
    };
    ffi::lua_pushboolean(l, addr.is_null() as c_int);
    1
}

/// An address for the unsafe family: a number or any pointer object, unchecked.
unsafe fn unsafe_addr(l: *mut lua_State, idx: c_int, fname: &str) -> *mut u8 {
    if ffi::lua_type(l, idx) == ffi::LUA_TNUMBER {
        return raw::check_int(l, idx, fname) as usize as *mut u8;
    }
    let o = pointer::object_at(l, idx);
    if !o.is_null() {
        return (*o).addr;
    }
    match pointer::address_at(l, idx) {
        Some(addr) => addr as *mut u8,
        None => raw::arg_error(
            l,
            idx,
            fname,
            format!("address expected, got {}", raw::type_name(l, idx)),
        ),
    }
}

/// `ffi.unsafe.read(addr, ctype)`.
unsafe extern "C-unwind" fn unsafe_read(l: *mut lua_State) -> c_int {
    let addr = unsafe_addr(l, 1, "read");
    let t = raw::check_ctype(l, 2, "read");
    convert::to_lua(l, t, addr);
    1
}

/// `ffi.unsafe.write(addr, ctype, value)`.
unsafe extern "C-unwind" fn unsafe_write(l: *mut lua_State) -> c_int {
    let addr = unsafe_addr(l, 1, "write");
    let t = raw::check_ctype(l, 2, "write");
    value::store(l, 3, t, addr);
    0
}

/// `ffi.unsafe.copy(dst, src, len)`.
unsafe extern "C-unwind" fn unsafe_copy(l: *mut lua_State) -> c_int {
    let dst = unsafe_addr(l, 1, "copy");
    let src = match raw::string_at(l, 2) {
        Some(s) => s.as_ptr() as *mut u8,
        None => unsafe_addr(l, 2, "copy"),
    };
    let len = raw::check_size(l, 3, "copy", "length");
    std::ptr::copy(src, dst, len);
    0
}

/// `ffi.unsafe.fill(addr, len, byte)`.
unsafe extern "C-unwind" fn unsafe_fill(l: *mut lua_State) -> c_int {
    let dst = unsafe_addr(l, 1, "fill");
    let len = raw::check_size(l, 2, "fill", "length");
    let byte = raw::check_int(l, 3, "fill") as u8;
    std::ptr::write_bytes(dst, byte, len);
    0
}

/// `ffi.unsafe.zero(addr, len)`.
unsafe extern "C-unwind" fn unsafe_zero(l: *mut lua_State) -> c_int {
    let dst = unsafe_addr(l, 1, "zero");
    let len = raw::check_size(l, 2, "zero", "length");
    std::ptr::write_bytes(dst, 0, len);
    0
}
