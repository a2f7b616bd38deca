//! Buffers: `ffi.buffer(size)`, a zeroed, bounds-checked block with offset-based accessors.
//! A buffer's memory is freed when the buffer and every slice and pointer made from it are
//! collected (they hold its storage in user value 1).

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use super::arena;
use super::pointer::{self, access, Kind, MemObject};
use super::raw;
use super::region::Region;
use super::value;

/// `ffi.buffer(size)`.
pub unsafe extern "C-unwind" fn new(l: *mut lua_State) -> c_int {
    let size = raw::check_size(l, 1, "buffer", "size");
    arena::push_buffer(l, size);
    1
}

unsafe fn this(l: *mut lua_State, fname: &str) -> *mut MemObject {
    pointer::check_kind(l, 1, Kind::Buffer, fname)
}

unsafe extern "C-unwind" fn index(l: *mut lua_State) -> c_int {
    let o = this(l, "__index");
    if let Some(key) = raw::string_at(l, 2) {
        match key {
            b"size" => {
                ffi::lua_pushinteger(l, (*o).region.len as i64);
                return 1;
            }
            b"ptr" => {
                pointer::push_derived(l, 1, 0, pointer::raw_object((*o).addr, (*o).region));
                return 1;
            }
            key if pointer::push_common_property(l, o, key) => return 1,
            _ => {}
        }
    }
    ffi::lua_pushvalue(l, 2);
    ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
    1
}

unsafe extern "C-unwind" fn read(l: *mut lua_State) -> c_int {
    let o = this(l, "read");
    let off = pointer::check_offset(l, 2, "read");
    let t = raw::check_ctype(l, 3, "read");
    value::read_at(l, (*o).addr, &(*o).region, off, t);
    1
}

unsafe extern "C-unwind" fn write(l: *mut lua_State) -> c_int {
    let o = this(l, "write");
    let off = pointer::check_offset(l, 2, "write");
    let t = raw::check_ctype(l, 3, "write");
    value::write_at(l, (*o).addr, &(*o).region, off, t, 4);
    0
}

unsafe extern "C-unwind" fn zero(l: *mut lua_State) -> c_int {
    let o = this(l, "zero");
    let len = (*o).region.len;
    let p = access(l, (*o).addr, &(*o).region, 0, len, 1, &|| {
        "zero".to_string()
    });
    std::ptr::write_bytes(p, 0, len);
    0
}

unsafe extern "C-unwind" fn read_bytes(l: *mut lua_State) -> c_int {
    let o = this(l, "readBytes");
    let off = pointer::check_offset(l, 2, "readBytes");
    let len = raw::check_size(l, 3, "readBytes", "length");
    let p = access(l, (*o).addr, &(*o).region, off, len, 1, &|| {
        format!("readBytes of {len} bytes")
    });
    ffi::lua_pushlstring(l, p as *const _, len);
    1
}

unsafe extern "C-unwind" fn write_bytes(l: *mut lua_State) -> c_int {
    let o = this(l, "writeBytes");
    let off = pointer::check_offset(l, 2, "writeBytes");
    let Some(bytes) = raw::string_at(l, 3) else {
        raw::arg_error(
            l,
            3,
            "writeBytes",
            format!("string expected, got {}", raw::type_name(l, 3)),
        );
    };
    let p = access(l, (*o).addr, &(*o).region, off, bytes.len(), 1, &|| {
        format!("writeBytes of {} bytes", bytes.len())
    });
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
    0
}

unsafe extern "C-unwind" fn read_string(l: *mut lua_State) -> c_int {
    let o = this(l, "readString");
    let off = if ffi::lua_isnoneornil(l, 2) != 0 {
        0
    } else {
        pointer::check_offset(l, 2, "readString")
    };
    let p = access(l, (*o).addr, &(*o).region, off, 0, 1, &|| {
        "readString".to_string()
    });
    // The string ends at the first NUL, or at the end of the buffer.
    let end = (*o).region.base as usize + (*o).region.len;
    let avail = std::slice::from_raw_parts(p, end - p as usize);
    let n = avail.iter().position(|&b| b == 0).unwrap_or(avail.len());
    ffi::lua_pushlstring(l, p as *const _, n);
    1
}

unsafe extern "C-unwind" fn write_string(l: *mut lua_State) -> c_int {
    let o = this(l, "writeString");
    let off = pointer::check_offset(l, 2, "writeString");
    let Some(s) = raw::string_at(l, 3) else {
        raw::arg_error(
            l,
            3,
            "writeString",
            format!("string expected, got {}", raw::type_name(l, 3)),
        );
    };
    let p = access(l, (*o).addr, &(*o).region, off, s.len() + 1, 1, &|| {
        format!("writeString of {} bytes plus NUL", s.len())
    });
    std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
    p.add(s.len()).write(0);
    0
}

unsafe extern "C-unwind" fn slice(l: *mut lua_State) -> c_int {
    let o = this(l, "slice");
    let off = pointer::check_offset(l, 2, "slice");
    let size = raw::check_size(l, 3, "slice", "size");
    let p = access(l, (*o).addr, &(*o).region, off, size, 1, &|| {
        format!("slice of {size} bytes")
    });
    let region = Region {
        base: p,
        len: size,
        ..(*o).region
    };
    pointer::push_derived(
        l,
        1,
        0,
        MemObject {
            kind: Kind::Buffer,
            ..pointer::raw_object(p, region)
        },
    );
    1
}

/// Registers the buffer metatable.
pub unsafe fn register(l: *mut lua_State) {
    pointer::new_metatable(
        l,
        Kind::Buffer,
        c"buffer",
        index,
        &[
            (c"read", read),
            (c"write", write),
            (c"zero", zero),
            (c"readBytes", read_bytes),
            (c"writeBytes", write_bytes),
            (c"readString", read_string),
            (c"writeString", write_string),
            (c"slice", slice),
        ],
        &[(c"__len", len)],
    );
}

unsafe extern "C-unwind" fn len(l: *mut lua_State) -> c_int {
    let o = this(l, "__len");
    ffi::lua_pushinteger(l, (*o).region.len as i64);
    1
}
