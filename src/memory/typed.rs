//! Typed pointers: `ffi.cast(ptr, ctype)`. `p[i]`, `p:get(i)`, `p:set(i, v)` read and write
//! element `i` (`i * stride` bytes from the address); `p + n` advances by `n` elements. A
//! typed pointer into managed memory knows its `count` and checks every index; one made from
//! an unmanaged address checks only for NULL.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

use super::pointer::{self, access, Kind, MemObject, MAGIC_MEMORY};
use super::raw;
use super::region::Region;
use super::value;
use crate::convert;
use crate::lua_error::raise;
use crate::lua_version;

/// Pushes a typed pointer of scalar type `t` over the memory object (or address) at `src`.
pub unsafe fn push_typed(l: *mut lua_State, src: c_int, t: crate::ctype::Scalar, fname: &str) {
    if t.size() == 0 {
        raw::arg_error(l, 2, fname, "cannot cast to void".into());
    }
    let (addr, region) = pointer::target_at(l, src, fname);
    pointer::push_derived(
        l,
        src,
        0,
        MemObject {
            addr,
            magic: MAGIC_MEMORY,
            kind: Kind::Typed,
            elem: t,
            stride: t.size(),
            layout: std::ptr::null(),
            region,
        },
    );
}

/// The index argument at `idx`, if the value is an integer (or an integral float).
#[inline]
unsafe fn index_at(l: *mut lua_State, idx: c_int) -> Option<i64> {
    if ffi::lua_type(l, idx) != ffi::LUA_TNUMBER {
        return None;
    }
    let mut isnum = 0;
    let i = ffi::lua_tointegerx(l, idx, &mut isnum);
    if isnum == 0 {
        raise(l, "pointer index has no integer representation".into());
    }
    Some(i)
}

/// The checked address of element `i` of the typed pointer `o`, for a `what` ("read",
/// "write") access.
#[inline]
unsafe fn element(l: *mut lua_State, o: *const MemObject, i: i64, what: &str) -> *mut u8 {
    let layout = (*o).layout;
    let (size, align, name) = if layout.is_null() {
        let t = (*o).elem;
        (t.size(), t.align(), t.name())
    } else {
        ((*layout).size, (*layout).align, "struct")
    };
    let Some(off) = (i as isize).checked_mul((*o).stride as isize) else {
        raise(
            l,
            format!("out of bounds: {name} {what} at index {i} (the offset overflows)"),
        )
    };
    access(l, (*o).addr, &(*o).region, off, size, align, &|| {
        format!("{name} {what} at index {i}")
    })
}

/// Element `i` of the typed pointer `o` at stack index `p`: pushes its value (or a view).
#[inline]
unsafe fn get(l: *mut lua_State, p: c_int, o: *const MemObject, i: i64) {
    let at = element(l, o, i, "read");
    if (*o).layout.is_null() {
        convert::to_lua(l, (*o).elem, at);
    } else {
        let layout = (*o).layout;
        let region = Region {
            managed: (*o).region.managed,
            base: if (*o).region.managed {
                (*o).region.base
            } else {
                at
            },
            ..(*o).region
        };
        pointer::push_derived(
            l,
            p,
            0,
            MemObject {
                addr: at,
                magic: MAGIC_MEMORY,
                kind: Kind::View,
                elem: (*o).elem,
                stride: (*layout).size,
                layout,
                region,
            },
        );
        lua_version::user_value(l, p, 2);
        lua_version::set_user_value(l, -2, 2);
    }
}

/// Stores the value at `val` into element `i`.
#[inline]
unsafe fn set(l: *mut lua_State, o: *const MemObject, i: i64, val: c_int) {
    let at = element(l, o, i, "write");
    if (*o).layout.is_null() {
        value::store(l, val, (*o).elem, at);
    } else {
        let layout = (*o).layout;
        let src = pointer::object_at(l, val);
        if src.is_null() || (*src).kind != Kind::View || (*src).layout != layout {
            raise(
                l,
                format!(
                    "cannot store {} in a struct array (a view of the same struct expected)",
                    raw::type_name(l, val)
                ),
            );
        }
        let from = access(
            l,
            (*src).addr,
            &(*src).region,
            0,
            (*layout).size,
            1,
            &|| "struct copy read".to_string(),
        );
        std::ptr::copy(from, at, (*layout).size);
    }
}

unsafe extern "C-unwind" fn index(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::Typed, "__index");
    if let Some(i) = index_at(l, 2) {
        get(l, 1, o, i);
        return 1;
    }
    if let Some(key) = raw::string_at(l, 2) {
        if pointer::push_common_property(l, o, key) {
            return 1;
        }
        match key {
            b"stride" => {
                ffi::lua_pushinteger(l, (*o).stride as i64);
                return 1;
            }
            b"count" => {
                let r = &(*o).region;
                if r.managed {
                    let end = r.base as usize + r.len;
                    let addr = (*o).addr as usize;
                    let n = if addr >= r.base as usize && addr <= end {
                        (end - addr) / (*o).stride
                    } else {
                        0
                    };
                    ffi::lua_pushinteger(l, n as i64);
                } else {
                    ffi::lua_pushnil(l);
                }
                return 1;
            }
            _ => {}
        }
    }
    ffi::lua_pushvalue(l, 2);
    ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
    1
}

unsafe extern "C-unwind" fn newindex(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::Typed, "__newindex");
    match index_at(l, 2) {
        Some(i) => set(l, o, i, 3),
        None => raise(
            l,
            format!(
                "typed pointers are indexed by integers, got {}",
                raw::type_name(l, 2)
            ),
        ),
    }
    0
}

unsafe extern "C-unwind" fn get_method(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::Typed, "get");
    let i = raw::check_int(l, 2, "get");
    get(l, 1, o, i);
    1
}

unsafe extern "C-unwind" fn set_method(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::Typed, "set");
    let i = raw::check_int(l, 2, "set");
    set(l, o, i, 3);
    0
}

unsafe extern "C-unwind" fn to_raw(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::Typed, "toRaw");
    pointer::push_derived(l, 1, 0, pointer::raw_object((*o).addr, (*o).region));
    1
}

/// Registers the typed pointer metatable.
pub unsafe fn register(l: *mut lua_State) {
    pointer::new_metatable(
        l,
        Kind::Typed,
        c"typed pointer",
        index,
        &[
            (c"get", get_method),
            (c"set", set_method),
            (c"toRaw", to_raw),
        ],
        &[
            (c"__newindex", newindex),
            (c"__add", pointer::add),
            (c"__sub", pointer::sub),
        ],
    );
}
