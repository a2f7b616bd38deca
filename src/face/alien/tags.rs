//! Alien's tagged userdata: `alien.tag(name)`, `alien.wrap(name, ...)`,
//! `alien.unwrap(name, obj)` and `alien.rewrap(name, obj, ...)`.
//!
//! A wrapped object is a full userdata holding integers and addresses, whose metatable is its
//! tag's, so that it can have a `__gc`. Tags live in a table of this face's, not in the
//! registry as Alien's do, so that no tag name reaches another library's metatable.

use std::ffi::{c_int, c_void, CStr};

use mlua::ffi::{self, lua_State};

use crate::lua_version;
use crate::memory::pointer;
use crate::memory::raw::{self, arg_error};

/// Registry key of the table of tags, by name.
const TAGS: &CStr = c"moonthunk.alien.tags";

/// One wrapped value; a wrapped object is an array of them ending with an `END` entry.
#[repr(C)]
#[derive(Clone, Copy)]
struct Wrapped {
    kind: u64,
    value: i64,
}

const END: u64 = 0;
const INTEGER: u64 = 1;
const ADDRESS: u64 = 2;

/// Pushes the metatable of the tag named by argument 1, made on first use.
unsafe fn push_tag(l: *mut lua_State, fname: &str) {
    if raw::string_at(l, 1).is_none() {
        arg_error(
            l,
            1,
            fname,
            format!("tag name expected, got {}", raw::type_name(l, 1)),
        );
    }
    ffi::luaL_getsubtable(l, ffi::LUA_REGISTRYINDEX, TAGS.as_ptr());
    ffi::lua_pushvalue(l, 1);
    if ffi::lua_rawget(l, -2) == ffi::LUA_TTABLE {
        ffi::lua_remove(l, -2);
        return;
    }
    ffi::lua_settop(l, -2);
    ffi::lua_createtable(l, 0, 2);
    ffi::lua_pushvalue(l, 1);
    ffi::lua_setfield(l, -2, c"__name".as_ptr());
    ffi::lua_pushvalue(l, 1);
    ffi::lua_pushvalue(l, -2);
    ffi::lua_rawset(l, -4);
    ffi::lua_remove(l, -2);
}

/// `alien.tag(name)`: the metatable of objects wrapped with `name`.
pub unsafe extern "C-unwind" fn tag(l: *mut lua_State) -> c_int {
    push_tag(l, "tag");
    1
}

/// The value at `idx` as a wrapped value: nil and userdata as addresses, anything else as
/// an integer.
unsafe fn wrapped(l: *mut lua_State, idx: c_int, fname: &str) -> Wrapped {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => Wrapped {
            kind: ADDRESS,
            value: 0,
        },
        ffi::LUA_TLIGHTUSERDATA | ffi::LUA_TUSERDATA => match pointer::address_at(l, idx) {
            Some(addr) => Wrapped {
                kind: ADDRESS,
                value: addr as i64,
            },
            None => arg_error(
                l,
                idx,
                fname,
                format!("pointer expected, got {}", raw::type_name(l, idx)),
            ),
        },
        _ => Wrapped {
            kind: INTEGER,
            value: raw::check_int(l, idx, fname),
        },
    }
}

/// `alien.wrap(name, ...)`: a new object of tag `name` holding the values.
pub unsafe extern "C-unwind" fn wrap(l: *mut lua_State) -> c_int {
    let n = (ffi::lua_gettop(l) - 1).max(0) as usize;
    // Filled in place: a bad value raises with nothing of Rust's to drop.
    let block = lua_version::new_userdata(l, (n + 1) * size_of::<Wrapped>(), 0) as *mut Wrapped;
    block.add(n).write(Wrapped {
        kind: END,
        value: 0,
    });
    for i in 0..n {
        block.add(i).write(wrapped(l, i as c_int + 2, "wrap"));
    }
    push_tag(l, "wrap");
    ffi::lua_setmetatable(l, -2);
    1
}

/// The block of argument 2, an object wrapped with the tag of argument 1.
unsafe fn check_wrapped(l: *mut lua_State, fname: &str) -> *mut Wrapped {
    push_tag(l, fname);
    let tagged = ffi::lua_type(l, 2) == ffi::LUA_TUSERDATA
        && ffi::lua_getmetatable(l, 2) != 0
        && ffi::lua_rawequal(l, -1, -2) != 0;
    if !tagged {
        let message = format!(
            "{} expected, got {}",
            CStr::from_ptr(ffi::lua_tolstring(l, 1, std::ptr::null_mut())).to_string_lossy(),
            raw::type_name(l, 2)
        );
        arg_error(l, 2, fname, message);
    }
    ffi::lua_settop(l, -3);
    ffi::lua_touserdata(l, 2) as *mut Wrapped
}

/// `alien.unwrap(name, obj)`: the values `obj` holds.
pub unsafe extern "C-unwind" fn unwrap(l: *mut lua_State) -> c_int {
    let mut p = check_wrapped(l, "unwrap");
    let mut n = 0;
    while (*p).kind != END {
        if ffi::lua_checkstack(l, 1) == 0 {
            raw::arg_error(l, 2, "unwrap", "too many values".to_string());
        }
        match (*p).kind {
            INTEGER => ffi::lua_pushinteger(l, (*p).value),
            _ if (*p).value == 0 => ffi::lua_pushnil(l),
            _ => ffi::lua_pushlightuserdata(l, (*p).value as *mut c_void),
        }
        n += 1;
        p = p.add(1);
    }
    n
}

/// `alien.rewrap(name, obj, ...)`: replaces the values `obj` holds, as many as it has.
pub unsafe extern "C-unwind" fn rewrap(l: *mut lua_State) -> c_int {
    let mut p = check_wrapped(l, "rewrap");
    let mut idx = 3;
    while (*p).kind != END {
        p.write(wrapped(l, idx, "rewrap"));
        idx += 1;
        p = p.add(1);
    }
    0
}
