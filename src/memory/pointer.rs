//! Pointer objects: a full userdata whose first word is the address.
//!
//! The layout is `#[repr(C)]` so that generated code and the conversion helpers read the
//! address with one load. Two pointer objects with the same address are equal; `tostring`
//! shows the address. The metatable lives in the registry under [`METATABLE`].

use std::ffi::{c_int, c_void, CStr};

use mlua::ffi::{self, lua_State};

/// Registry name of the pointer metatable.
pub const METATABLE: &CStr = c"moonthunk.pointer";

/// The userdata block of a pointer object.
#[repr(C)]
pub struct PointerObject {
    pub addr: *mut c_void,
}

/// Pushes a new pointer object for `addr`.
///
/// # Safety
/// `l` is a valid Lua state with room for two values; the metatable is registered.
pub unsafe fn push(l: *mut lua_State, addr: *mut c_void) {
    let block = ffi::lua_newuserdatauv(l, size_of::<PointerObject>(), 0) as *mut PointerObject;
    block.write(PointerObject { addr });
    ffi::luaL_setmetatable(l, METATABLE.as_ptr());
}

/// The address of the pointer object at `idx`, if the value is one.
///
/// # Safety
/// `l` is a valid Lua state and `idx` an acceptable index.
pub unsafe fn address_at(l: *mut lua_State, idx: c_int) -> Option<*mut c_void> {
    let block = ffi::luaL_testudata(l, idx, METATABLE.as_ptr()) as *const PointerObject;
    (!block.is_null()).then(|| (*block).addr)
}

unsafe fn check(l: *mut lua_State, idx: c_int) -> *mut c_void {
    (*(ffi::luaL_checkudata(l, idx, METATABLE.as_ptr()) as *const PointerObject)).addr
}

unsafe extern "C-unwind" fn index(l: *mut lua_State) -> c_int {
    let addr = check(l, 1);
    let key = ffi::luaL_checklstring(l, 2, std::ptr::null_mut());
    match CStr::from_ptr(key).to_bytes() {
        b"addr" => ffi::lua_pushinteger(l, addr as ffi::lua_Integer),
        b"isNull" => ffi::lua_pushboolean(l, addr.is_null() as c_int),
        b"isManaged" => ffi::lua_pushboolean(l, 0),
        _ => ffi::lua_pushnil(l),
    }
    1
}

unsafe extern "C-unwind" fn eq(l: *mut lua_State) -> c_int {
    let equal = address_at(l, 1).is_some() && address_at(l, 1) == address_at(l, 2);
    ffi::lua_pushboolean(l, equal as c_int);
    1
}

unsafe extern "C-unwind" fn tostring(l: *mut lua_State) -> c_int {
    let addr = check(l, 1);
    ffi::lua_pushfstring(l, c"pointer: %p".as_ptr(), addr);
    1
}

/// Creates the pointer metatable in the registry of `lua` (once per state).
pub fn register(lua: &mlua::Lua) -> mlua::Result<()> {
    // SAFETY: plain stack manipulation inside mlua's protected raw call.
    unsafe {
        lua.exec_raw::<()>((), |l| {
            if ffi::luaL_newmetatable(l, METATABLE.as_ptr()) != 0 {
                for (name, f) in [
                    (c"__index", index as ffi::lua_CFunction),
                    (c"__eq", eq),
                    (c"__tostring", tostring),
                ] {
                    ffi::lua_pushcfunction(l, f);
                    ffi::lua_setfield(l, -2, name.as_ptr());
                }
                ffi::lua_pushstring(l, c"pointer".as_ptr());
                ffi::lua_setfield(l, -2, c"__name".as_ptr());
            }
            ffi::lua_pop(l, 1);
        })
    }
}
