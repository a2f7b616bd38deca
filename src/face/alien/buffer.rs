//! Alien's buffers (`alien.buffer`, metatable "alien buffer") and the functions that read
//! and write memory through a pointer: `alien.tochar(p, n)`... `alien.tostring(p, len)`,
//! `alien.memmove`, `alien.memset`.
//!
//! A buffer's block starts with a memory [`Header`] holding its address, so a buffer passes
//! wherever C takes a pointer or a string. Offsets are 1-based bytes, as in Alien. Unlike
//! Alien, every access to a buffer whose size is known is bounds-checked; a buffer over a
//! light userdata has no known size, and only the NULL page is refused there. Strings and
//! pointers stored into a buffer are pinned (user value 1) while they are stored.

use std::alloc::{alloc_zeroed, dealloc, realloc, Layout};
use std::ffi::{c_char, c_int, c_void, CStr};

use mlua::ffi::{self, lua_State};

use super::types::AlienType;
use crate::convert;
use crate::ctype::Scalar;
use crate::lua_error::raise;
use crate::lua_version;
use crate::memory::pointer::{self, Header, MAGIC_ADDRESS};
use crate::memory::raw::{self, arg_error};
use crate::memory::region::Region;

/// Registry name of the buffer metatable.
const METATABLE: &CStr = c"alien buffer";

/// glibc's `BUFSIZ`, the size of `alien.buffer()`.
const DEFAULT_SIZE: usize = 8192;

/// Buffer memory is aligned for any C scalar.
const ALIGN: usize = 16;

#[repr(C)]
struct BufferBlock {
    header: Header,
    size: usize,
    /// The memory is the buffer's own, freed with it. A buffer over a light userdata owns
    /// nothing and has no known size.
    owned: bool,
}

// ---------------------------------------------------------------- buffers

/// `alien.buffer([size | string | lightuserdata])`.
pub unsafe extern "C-unwind" fn new(l: *mut lua_State) -> c_int {
    let (addr, size, owned) = match ffi::lua_type(l, 1) {
        ffi::LUA_TLIGHTUSERDATA => (ffi::lua_touserdata(l, 1) as *mut u8, 0, false),
        ffi::LUA_TSTRING => {
            let bytes = raw::string_at(l, 1).unwrap_or_default();
            // The copy is NUL-terminated, as C code reading it as a string expects.
            let p = allocate(l, bytes.len() + 1);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
            (p, bytes.len() + 1, true)
        }
        ffi::LUA_TNONE | ffi::LUA_TNIL => (allocate(l, DEFAULT_SIZE), DEFAULT_SIZE, true),
        ffi::LUA_TNUMBER => {
            let size = raw::check_size(l, 1, "buffer", "size");
            (allocate(l, size), size, true)
        }
        _ => arg_error(
            l,
            1,
            "buffer",
            format!(
                "size, string or light userdata expected, got {}",
                raw::type_name(l, 1)
            ),
        ),
    };
    let block = lua_version::new_userdata(l, size_of::<BufferBlock>(), 1) as *mut BufferBlock;
    block.write(BufferBlock {
        header: Header {
            addr,
            magic: MAGIC_ADDRESS,
        },
        size,
        owned,
    });
    ffi::luaL_setmetatable(l, METATABLE.as_ptr());
    1
}

/// Zeroed memory for `size` bytes (at least one, so an empty buffer is an empty C string).
unsafe fn allocate(l: *mut lua_State, size: usize) -> *mut u8 {
    let p = match Layout::from_size_align(size.max(1), ALIGN) {
        Ok(layout) => alloc_zeroed(layout),
        Err(_) => std::ptr::null_mut(),
    };
    if p.is_null() {
        raise(l, format!("cannot allocate a buffer of {size} bytes"));
    }
    p
}

/// The layout `allocate` used for `size` bytes.
fn layout(size: usize) -> Layout {
    Layout::from_size_align(size.max(1), ALIGN).expect("checked when allocated")
}

/// The buffer at `idx`, or null.
unsafe fn buffer_at(l: *mut lua_State, idx: c_int) -> *mut BufferBlock {
    ffi::luaL_testudata(l, idx, METATABLE.as_ptr()) as *mut BufferBlock
}

/// The buffer that is argument 1 of the method `fname`.
unsafe fn this(l: *mut lua_State, fname: &str) -> *mut BufferBlock {
    let b = buffer_at(l, 1);
    if b.is_null() {
        arg_error(
            l,
            1,
            fname,
            format!("alien buffer expected, got {}", raw::type_name(l, 1)),
        );
    }
    b
}

/// What bounds accesses to memory: a buffer's own size, or the region the memory module
/// knows it by (the native face's managed memory; unknown for any other pointer).
pub(super) enum Bounds {
    Buffer(usize),
    Region(Region),
}

/// The bounds of the buffer `b`: its size, or none known over a light userdata.
unsafe fn bounds_of(b: *const BufferBlock) -> Bounds {
    match known_size(b) {
        Some(size) => Bounds::Buffer(size),
        None => Bounds::Region(Region::UNMANAGED),
    }
}

/// The memory a value stands for: a buffer's, the native face's objects' (with their
/// bounds), or any other pointer's (nil, light userdata), of unknown size. A function
/// object's address is code, which is no data to read or write: it is refused.
pub(super) unsafe fn memory_at(l: *mut lua_State, idx: c_int, fname: &str) -> (*mut u8, Bounds) {
    let b = buffer_at(l, idx);
    if !b.is_null() {
        return ((*b).header.addr, bounds_of(b));
    }
    if pointer::function_at(l, idx).is_some() {
        arg_error(
            l,
            idx,
            fname,
            format!("pointer to data expected, got {}", raw::type_name(l, idx)),
        );
    }
    let (addr, region) = pointer::target_at(l, idx, fname);
    (addr, Bounds::Region(region))
}

/// The address of `len` bytes at the 1-based offset `off` of memory at `addr` within
/// `bounds` (unknown: only the NULL page and overflow are refused).
pub(super) unsafe fn span(
    l: *mut lua_State,
    addr: *mut u8,
    bounds: &Bounds,
    off: i64,
    len: usize,
    what: &str,
) -> *mut u8 {
    let size = match bounds {
        Bounds::Buffer(size) => *size,
        Bounds::Region(region) => {
            return pointer::access(
                l,
                addr,
                region,
                (off as isize).wrapping_sub(1),
                len,
                1,
                &|| what.to_string(),
            )
        }
    };
    let fits = off >= 1
        && (off as u64 - 1)
            .checked_add(len as u64)
            .is_some_and(|end| end <= size as u64);
    if !fits {
        raise(
            l,
            format!("out of bounds: {what} of {len} bytes at offset {off} of a {size}-byte buffer"),
        );
    }
    addr.add(off as usize - 1)
}

/// An Alien type name argument, `default` when absent.
unsafe fn check_type(l: *mut lua_State, arg: c_int, fname: &str, default: &str) -> AlienType {
    let name = match ffi::lua_type(l, arg) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => default.as_bytes(),
        _ => match raw::string_at(l, arg) {
            Some(name) => name,
            None => arg_error(
                l,
                arg,
                fname,
                format!("type name expected, got {}", raw::type_name(l, arg)),
            ),
        },
    };
    match std::str::from_utf8(name).map(AlienType::parse) {
        Ok(Ok(t)) => t,
        Ok(Err(unknown)) => arg_error(l, arg, fname, unknown.to_string()),
        Err(_) => arg_error(l, arg, fname, "type name is not UTF-8".to_string()),
    }
}

/// Pushes the value of type `t` at `p`, as Alien reads it: pointers as light userdata, NULL
/// as nil; a function pointer as a function object (made by `funcptr`, upvalue 1).
unsafe fn push_value(l: *mut lua_State, t: AlienType, p: *const u8) {
    match t {
        AlienType::Scalar(Scalar::Void) => raise(l, "cannot read a void value".to_string()),
        AlienType::Ref(_) => raise(l, "a 'ref' type has no value in memory".to_string()),
        AlienType::Scalar(t) => convert::to_lua(l, t, p),
        AlienType::Pointer | AlienType::Callback => {
            let value = (p as *const *mut c_void).read_unaligned();
            if value.is_null() {
                ffi::lua_pushnil(l);
            } else if t == AlienType::Callback {
                ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
                ffi::lua_pushlightuserdata(l, value);
                ffi::lua_call(l, 1, 1);
            } else {
                ffi::lua_pushlightuserdata(l, value);
            }
        }
    }
}

/// Stores the value at `val` as a `t` at `p` of the buffer at 1, raising argument `val`'s
/// error. A Lua string stored as a `string` or `pointer` is pinned in the buffer under
/// `key` while it is stored there.
unsafe fn store_value(
    l: *mut lua_State,
    t: AlienType,
    p: *mut u8,
    val: c_int,
    key: i64,
    fname: &str,
) {
    let scalar = match t {
        AlienType::Scalar(Scalar::Void) => raise(l, "cannot write a void value".to_string()),
        AlienType::Ref(_) => raise(l, "a 'ref' type has no value in memory".to_string()),
        AlienType::Scalar(Scalar::String) | AlienType::Pointer | AlienType::Callback => {
            let is_string = ffi::lua_type(l, val) == ffi::LUA_TSTRING;
            let addr = if is_string && t != AlienType::Callback {
                ffi::lua_tolstring(l, val, std::ptr::null_mut()) as *mut c_void
            } else {
                match pointer::address_at(l, val) {
                    Some(addr) => addr,
                    None => arg_error(
                        l,
                        val,
                        fname,
                        format!("pointer expected, got {}", raw::type_name(l, val)),
                    ),
                }
            };
            pin(l, key, if is_string { val } else { 0 });
            (p as *mut *mut c_void).write_unaligned(addr);
            return;
        }
        AlienType::Scalar(t) => t,
    };
    if let Err(mismatch) = convert::to_c(l, val, scalar, p) {
        let message = mismatch.describe(l, val, "number");
        arg_error(l, val, fname, message);
    }
}

/// Pins the value at `val` (none for 0) in the pin table of the buffer at 1, under `key`.
unsafe fn pin(l: *mut lua_State, key: i64, val: c_int) {
    if lua_version::user_value(l, 1, 1) != ffi::LUA_TTABLE {
        if val == 0 {
            ffi::lua_settop(l, -2);
            return;
        }
        ffi::lua_settop(l, -2);
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushvalue(l, -1);
        lua_version::set_user_value(l, 1, 1);
    }
    if val == 0 {
        ffi::lua_pushnil(l);
    } else {
        ffi::lua_pushvalue(l, val);
    }
    ffi::lua_rawseti(l, -2, key);
    ffi::lua_settop(l, -2);
}

/// `buf:get(offset, type)`.
unsafe extern "C-unwind" fn get(l: *mut lua_State) -> c_int {
    let b = this(l, "get");
    let off = raw::check_int(l, 2, "get");
    let t = check_type(l, 3, "get", "char");
    let p = span(l, (*b).header.addr, &bounds_of(b), off, t.size(), "read");
    push_value(l, t, p);
    1
}

/// `buf:set(offset, value, type)`.
unsafe extern "C-unwind" fn set(l: *mut lua_State) -> c_int {
    let b = this(l, "set");
    let off = raw::check_int(l, 2, "set");
    let t = check_type(l, 4, "set", "char");
    let p = span(l, (*b).header.addr, &bounds_of(b), off, t.size(), "write");
    store_value(l, t, p, 3, off, "set");
    0
}

/// `buf[i]` (a byte) and the methods.
unsafe extern "C-unwind" fn index(l: *mut lua_State) -> c_int {
    let b = this(l, "__index");
    if ffi::lua_type(l, 2) == ffi::LUA_TSTRING {
        ffi::lua_pushvalue(l, 2);
        ffi::lua_rawget(l, ffi::lua_upvalueindex(2));
        return 1;
    }
    let off = raw::check_int(l, 2, "__index");
    let p = span(l, (*b).header.addr, &bounds_of(b), off, 1, "read");
    ffi::lua_pushinteger(l, p.read() as ffi::lua_Integer);
    1
}

/// `buf[i] = byte`.
unsafe extern "C-unwind" fn newindex(l: *mut lua_State) -> c_int {
    let b = this(l, "__newindex");
    let off = raw::check_int(l, 2, "__newindex");
    let p = span(l, (*b).header.addr, &bounds_of(b), off, 1, "write");
    store_value(l, AlienType::Scalar(Scalar::U8), p, 3, off, "__newindex");
    0
}

/// The size of a buffer, if known.
unsafe fn known_size(b: *const BufferBlock) -> Option<usize> {
    (*b).owned.then_some((*b).size)
}

/// `#buf`: its size in bytes (0 over a light userdata, as in Alien).
unsafe extern "C-unwind" fn len(l: *mut lua_State) -> c_int {
    let b = this(l, "__len");
    ffi::lua_pushinteger(l, known_size(b).unwrap_or(0) as ffi::lua_Integer);
    1
}

/// The length of the C string at `p`, within the memory `bounds` know of.
unsafe fn c_strlen(l: *mut lua_State, p: *mut u8, bounds: &Bounds) -> usize {
    let within = |p: *mut u8, size: usize| {
        let bytes = std::slice::from_raw_parts(p, size);
        bytes.iter().position(|&c| c == 0).unwrap_or(size)
    };
    match bounds {
        Bounds::Buffer(size) => within(p, *size),
        Bounds::Region(region) if region.managed => {
            let p = span(l, p, bounds, 1, 0, "string read");
            within(p, region.base as usize + region.len - p as usize)
        }
        Bounds::Region(_) => {
            span(l, p, bounds, 1, 1, "string read");
            CStr::from_ptr(p as *const c_char).count_bytes()
        }
    }
}

/// `buf:len()` (Alien 0.4.1) and `buf:strlen()` (0.7): the length of its C string.
unsafe extern "C-unwind" fn strlen(l: *mut lua_State) -> c_int {
    let b = this(l, "strlen");
    let n = c_strlen(l, (*b).header.addr, &bounds_of(b));
    ffi::lua_pushinteger(l, n as ffi::lua_Integer);
    1
}

/// `buf:tostring([len [, offset]])` and `tostring(buf)`: `len` bytes from `offset`, or its
/// C string.
unsafe extern "C-unwind" fn tostring(l: *mut lua_State) -> c_int {
    let b = this(l, "tostring");
    push_string(l, (*b).header.addr, &bounds_of(b), 2, "tostring");
    1
}

/// Pushes `len` bytes from the 1-based `offset` (arguments `arg` and `arg + 1`) of memory
/// at `addr`, or its C string when `len` is absent.
unsafe fn push_string(l: *mut lua_State, addr: *mut u8, bounds: &Bounds, arg: c_int, fname: &str) {
    if matches!(ffi::lua_type(l, arg), ffi::LUA_TNONE | ffi::LUA_TNIL) {
        let n = c_strlen(l, addr, bounds);
        ffi::lua_pushlstring(l, addr as *const c_char, n);
        return;
    }
    let n = raw::check_size(l, arg, fname, "length");
    let off = match ffi::lua_type(l, arg + 1) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => 1,
        _ => raw::check_int(l, arg + 1, fname),
    };
    let p = span(l, addr, bounds, off, n, "string read");
    ffi::lua_pushlstring(l, p as *const c_char, n);
}

/// `buf:topointer([offset])`: the address of a byte, as a light userdata.
unsafe extern "C-unwind" fn topointer(l: *mut lua_State) -> c_int {
    let b = this(l, "topointer");
    let off = match ffi::lua_type(l, 2) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => 1,
        _ => raw::check_int(l, 2, "topointer"),
    };
    // The address one past the end is a valid pointer too.
    let p = span(
        l,
        (*b).header.addr,
        &known_size(b).map_or(Bounds::Region(Region::UNMANAGED), |s| Bounds::Buffer(s + 1)),
        off,
        0,
        "pointer",
    );
    ffi::lua_pushlightuserdata(l, p as *mut c_void);
    1
}

/// `buf:tooffset(p)`: the 1-based offset a light userdata points at in the buffer.
unsafe extern "C-unwind" fn tooffset(l: *mut lua_State) -> c_int {
    let b = this(l, "tooffset");
    if ffi::lua_type(l, 2) != ffi::LUA_TLIGHTUSERDATA {
        arg_error(
            l,
            2,
            "tooffset",
            format!("light userdata expected, got {}", raw::type_name(l, 2)),
        );
    }
    let p = ffi::lua_touserdata(l, 2) as isize;
    let off = p.wrapping_sub((*b).header.addr as isize).wrapping_add(1);
    ffi::lua_pushinteger(l, off as ffi::lua_Integer);
    1
}

/// `buf:realloc(size)`: grows or shrinks the buffer's own memory (new bytes are zero).
unsafe extern "C-unwind" fn resize(l: *mut lua_State) -> c_int {
    let b = this(l, "realloc");
    let size = raw::check_size(l, 2, "realloc", "size");
    if !(*b).owned {
        raise(
            l,
            "cannot realloc a buffer over a light userdata: its memory is not its own".to_string(),
        );
    }
    let old = (*b).size;
    let p = match Layout::from_size_align(size.max(1), ALIGN) {
        Ok(_) => realloc((*b).header.addr, layout(old), size.max(1)),
        Err(_) => std::ptr::null_mut(),
    };
    if p.is_null() {
        raise(l, format!("cannot allocate a buffer of {size} bytes"));
    }
    if size > old {
        std::ptr::write_bytes(p.add(old), 0, size - old);
    }
    (*b).header.addr = p;
    (*b).size = size;
    0
}

/// `__gc`: frees the buffer's own memory. A resurrected buffer is empty.
unsafe extern "C-unwind" fn collect(l: *mut lua_State) -> c_int {
    let b = this(l, "__gc");
    if (*b).owned {
        dealloc((*b).header.addr, layout((*b).size));
        (*b).header.addr = std::ptr::null_mut();
        (*b).size = 0;
    }
    0
}

/// Creates the buffer metatable (once per state). `funcptr` (at `funcptr`) makes the
/// function object of a "callback" read from memory.
///
/// # Safety
/// `l` has a few free stack slots; `funcptr` is an acceptable index.
pub unsafe fn register(l: *mut lua_State, funcptr: c_int) {
    let funcptr = ffi::lua_absindex(l, funcptr);
    if ffi::luaL_newmetatable(l, METATABLE.as_ptr()) == 0 {
        ffi::lua_settop(l, -2);
        return;
    }
    raw::set_functions(
        l,
        &[
            (c"__newindex", newindex),
            (c"__len", len),
            (c"__tostring", tostring),
            (c"__gc", collect),
        ],
    );
    ffi::lua_createtable(l, 0, 9);
    for (name, f) in [
        (c"get", get as ffi::lua_CFunction),
        (c"set", set),
        (c"tostring", tostring),
        (c"len", strlen),
        (c"strlen", strlen),
        (c"topointer", topointer),
        (c"tooffset", tooffset),
        (c"realloc", resize),
    ] {
        ffi::lua_pushvalue(l, funcptr);
        ffi::lua_pushcclosure(l, f, 1);
        ffi::lua_setfield(l, -2, name.as_ptr());
    }
    ffi::lua_pushvalue(l, funcptr);
    ffi::lua_pushvalue(l, -2);
    ffi::lua_pushcclosure(l, index, 2);
    ffi::lua_setfield(l, -3, c"__index".as_ptr());
    ffi::lua_settop(l, -3);
}

// ---------------------------------------------------------------- reading through pointers

/// `alien.tochar(p [, n])`, `alien.toint(p [, n])`...: `n` values of the reader's type
/// (upvalue 1, a type name) read from `p` (nil gives nil). Upvalue 2 is the reader's name,
/// for its errors.
pub unsafe extern "C-unwind" fn read_values(l: *mut lua_State) -> c_int {
    if ffi::lua_isnoneornil(l, 1) != 0 {
        ffi::lua_pushnil(l);
        return 1;
    }
    let fname = raw::string_at(l, ffi::lua_upvalueindex(2))
        .and_then(|name| std::str::from_utf8(name).ok())
        .unwrap_or("to");
    let t = check_type(l, ffi::lua_upvalueindex(1), fname, "char");
    let (addr, bounds) = memory_at(l, 1, fname);
    let n = match ffi::lua_type(l, 2) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => 1,
        _ => raw::check_size(l, 2, fname, "count"),
    };
    let bytes = n.saturating_mul(t.size());
    let p = span(l, addr, &bounds, 1, bytes, "read");
    if n > i32::MAX as usize || ffi::lua_checkstack(l, n as c_int) == 0 {
        raise(l, format!("too many values to read ({n})"));
    }
    for i in 0..n {
        push_value(l, t, p.add(i * t.size()));
    }
    n as c_int
}

/// `alien.tostring(p [, len])`: `len` bytes at `p`, or its C string.
pub unsafe extern "C-unwind" fn read_string(l: *mut lua_State) -> c_int {
    if ffi::lua_isnoneornil(l, 1) != 0 {
        ffi::lua_pushnil(l);
        return 1;
    }
    let (addr, bounds) = memory_at(l, 1, "tostring");
    if !matches!(ffi::lua_type(l, 2), ffi::LUA_TNONE | ffi::LUA_TNIL) {
        ffi::lua_settop(l, 2);
    }
    push_string(l, addr, &bounds, 2, "tostring");
    1
}

/// `alien.memmove(dst, src [, n])`: copies `n` bytes (all of a string's by default).
pub unsafe extern "C-unwind" fn memmove(l: *mut lua_State) -> c_int {
    let (dst, dst_bounds) = memory_at(l, 1, "memmove");
    let (src, n) = match raw::string_at(l, 2) {
        Some(s) => {
            let n = match ffi::lua_type(l, 3) {
                ffi::LUA_TNONE | ffi::LUA_TNIL => s.len(),
                _ => raw::check_size(l, 3, "memmove", "size"),
            };
            if n > s.len() {
                arg_error(
                    l,
                    3,
                    "memmove",
                    format!("{n} bytes of a string of {}", s.len()),
                );
            }
            (s.as_ptr() as *mut u8, n)
        }
        None => {
            let (src, src_bounds) = memory_at(l, 2, "memmove");
            let n = raw::check_size(l, 3, "memmove", "size");
            (span(l, src, &src_bounds, 1, n, "memmove source"), n)
        }
    };
    let dst = span(l, dst, &dst_bounds, 1, n, "memmove destination");
    std::ptr::copy(src, dst, n);
    0
}

/// `alien.memset(dst, byte, n)`.
pub unsafe extern "C-unwind" fn memset(l: *mut lua_State) -> c_int {
    let (dst, bounds) = memory_at(l, 1, "memset");
    let byte = raw::check_int(l, 2, "memset");
    let n = raw::check_size(l, 3, "memset", "size");
    let dst = span(l, dst, &bounds, 1, n, "memset");
    std::ptr::write_bytes(dst, byte as u8, n);
    0
}
