//! Raw pointers (`moonthunk.pointer`): their properties and methods (`offset`, `read`,
//! `write`, `toLightUserData`) and arithmetic. The object itself is a [`MemObject`](super::pointer::MemObject) of kind
//! [`Kind::Raw`].

use std::ffi::{c_int, c_void};

use mlua::ffi::{self, lua_State};

use super::pointer::{
    add, check_kind, check_offset, new_metatable, offset_by, push_common_property, sub, Kind,
};
use super::raw;
use super::value;

/// `__index` of raw pointers: properties, then the methods table (upvalue 1).
unsafe extern "C-unwind" fn index(l: *mut lua_State) -> c_int {
    let o = check_kind(l, 1, Kind::Raw, "__index");
    if let Some(key) = raw::string_at(l, 2) {
        if push_common_property(l, o, key) {
            return 1;
        }
    }
    ffi::lua_pushvalue(l, 2);
    ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
    1
}

unsafe extern "C-unwind" fn offset_method(l: *mut lua_State) -> c_int {
    let o = check_kind(l, 1, Kind::Raw, "offset");
    let n = raw::check_int(l, 2, "offset");
    offset_by(l, 1, o, n as isize);
    1
}

unsafe extern "C-unwind" fn read_method(l: *mut lua_State) -> c_int {
    let o = check_kind(l, 1, Kind::Raw, "read");
    let off = check_offset(l, 2, "read");
    let t = raw::check_ctype(l, 3, "read");
    value::read_at(l, (*o).addr, &(*o).region, off, t);
    1
}

unsafe extern "C-unwind" fn write_method(l: *mut lua_State) -> c_int {
    let o = check_kind(l, 1, Kind::Raw, "write");
    let off = check_offset(l, 2, "write");
    let t = raw::check_ctype(l, 3, "write");
    value::write_at(l, (*o).addr, &(*o).region, off, t, 4);
    0
}

unsafe extern "C-unwind" fn to_light(l: *mut lua_State) -> c_int {
    let o = check_kind(l, 1, Kind::Raw, "toLightUserData");
    ffi::lua_pushlightuserdata(l, (*o).addr as *mut c_void);
    1
}

/// Registers the raw pointer metatable.
pub unsafe fn register(l: *mut lua_State) {
    new_metatable(
        l,
        Kind::Raw,
        c"pointer",
        index,
        &[
            (c"read", read_method),
            (c"write", write_method),
            (c"offset", offset_method),
            (c"toLightUserData", to_light),
        ],
        &[(c"__add", add), (c"__sub", sub)],
    );
}
