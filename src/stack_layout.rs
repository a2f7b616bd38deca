//! The check that lets thunks read the Lua stack directly.
//!
//! Generated code may read arguments and push results without the Lua C API when it knows
//! the Lua library's stack layout (see `moonthunk_jit::StackLayout`). That layout is an
//! implementation detail of the Lua build, so it is never assumed: once per process, a C
//! function run on a scratch state compares what the layout says with what the Lua C API
//! reports for arguments of every inlined kind (integer, float, short and long string,
//! booleans, light userdata, full userdata with and without user values), for the upvalue of
//! the running C closure and for values pushed by writing the stack. Any disagreement,
//! another Lua version, or `MOONTHUNK_PORTABLE_THUNKS=1` in the environment leaves thunks on
//! the Lua C API alone.

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

use mlua::ffi::{self, lua_State};
use moonthunk_jit::StackLayout;

use crate::lua_version;

/// The environment variable that turns direct stack access off (the path other Lua builds
/// take; the tests run it too).
pub const PORTABLE_ENV: &str = "MOONTHUNK_PORTABLE_THUNKS";

const PROBE_INTEGER: ffi::lua_Integer = 0x1234_5678_9abc;
const PROBE_FLOAT: ffi::lua_Number = 2.5;
const PROBE_POINTER: usize = 0x5a5a_5a50;
const PROBE_LONG_STRING: &[u8] = b"a string longer than the longest short string of Lua 5.4";

/// The layout thunks may use in this process, or `None`. Checked on the first call.
pub fn checked() -> Option<StackLayout> {
    static CHECKED: OnceLock<Option<StackLayout>> = OnceLock::new();
    *CHECKED.get_or_init(check)
}

fn check() -> Option<StackLayout> {
    if std::env::var_os(PORTABLE_ENV).is_some_and(|v| v != "0") {
        return None;
    }
    lua_version::STACK_LAYOUT.filter(agrees)
}

/// Whether `layout` describes this Lua library: runs [`probe`] on a scratch state.
fn agrees(layout: &StackLayout) -> bool {
    // SAFETY: a private state, used and closed here; `probe` only reads stack slots below
    // `L->top` and writes the free slots a C function is guaranteed. `layout` outlives the
    // state.
    unsafe {
        let l = ffi::luaL_newstate();
        if l.is_null() {
            return false;
        }
        lua_version::new_userdata(l, 8, 0);
        ffi::lua_pushlightuserdata(l, layout as *const StackLayout as *mut c_void);
        ffi::lua_pushcclosure(l, probe, 2);
        ffi::lua_pushinteger(l, PROBE_INTEGER);
        ffi::lua_pushnumber(l, PROBE_FLOAT);
        ffi::lua_pushstring(l, c"ab".as_ptr());
        ffi::lua_pushlstring(
            l,
            PROBE_LONG_STRING.as_ptr().cast(),
            PROBE_LONG_STRING.len(),
        );
        ffi::lua_pushboolean(l, 1);
        ffi::lua_pushboolean(l, 0);
        ffi::lua_pushlightuserdata(l, PROBE_POINTER as *mut c_void);
        let agrees = ffi::lua_pcall(l, 7, 1, 0) == ffi::LUA_OK && ffi::lua_toboolean(l, -1) != 0;
        ffi::lua_close(l);
        agrees
    }
}

/// Runs as a C closure (upvalue 1 a full userdata, as thunks have; upvalue 2 the layout to
/// check, a light userdata) with the probe's seven arguments; returns whether the layout
/// describes them, the upvalue and the values it pushes.
unsafe extern "C-unwind" fn probe(l: *mut lua_State) -> c_int {
    let layout = *(ffi::lua_touserdata(l, ffi::lua_upvalueindex(2)) as *const StackLayout);
    let agrees = args_agree(l, &layout)
        && upvalue_agrees(l, &layout)
        && userdata_agrees(l, &layout, 0)
        && userdata_agrees(l, &layout, 2)
        && pushes_agree(l, &layout);
    ffi::lua_settop(l, 0);
    ffi::lua_pushboolean(l, agrees as c_int);
    1
}

unsafe fn read<T: Copy>(base: *const u8, offset: i32) -> T {
    base.offset(offset as isize).cast::<T>().read_unaligned()
}

/// The slot of argument `i` (0 is the function) as the layout finds it.
unsafe fn slot(l: *mut lua_State, layout: &StackLayout, i: i32) -> *const u8 {
    let ci: *const u8 = read(l as *const u8, layout.call_info);
    let func: *const u8 = read(ci, layout.func);
    func.offset((i * layout.slot_size) as isize)
}

unsafe fn tag(l: *mut lua_State, layout: &StackLayout, i: i32) -> u8 {
    read(slot(l, layout, i), layout.tag)
}

unsafe fn args_agree(l: *mut lua_State, layout: &StackLayout) -> bool {
    let tags = layout.tags;
    let top: *const u8 = read(l as *const u8, layout.top);
    let count = (top as isize - slot(l, layout, 0) as isize) / layout.slot_size as isize - 1;
    let string_at = |i: i32| {
        let string: *const u8 = read(slot(l, layout, i), 0);
        string.offset(layout.string_data as isize)
    };
    count == ffi::lua_gettop(l) as isize
        && count == 7
        && tag(l, layout, 1) == tags.integer
        && read::<i64>(slot(l, layout, 1), 0) == ffi::lua_tointegerx(l, 1, std::ptr::null_mut())
        && tag(l, layout, 2) == tags.float
        && read::<f64>(slot(l, layout, 2), 0) == ffi::lua_tonumberx(l, 2, std::ptr::null_mut())
        && tag(l, layout, 3) == tags.short_string
        && string_at(3) == ffi::lua_tolstring(l, 3, std::ptr::null_mut()).cast()
        && tag(l, layout, 4) == tags.long_string
        && string_at(4) == ffi::lua_tolstring(l, 4, std::ptr::null_mut()).cast()
        && tag(l, layout, 5) == tags.r#true
        && tag(l, layout, 6) == tags.r#false
        && tag(l, layout, 7) == tags.light_userdata
        && read::<*mut c_void>(slot(l, layout, 7), 0) == ffi::lua_touserdata(l, 7)
}

/// Finds the block of the running closure's upvalue 1 as the layout says.
unsafe fn upvalue_agrees(l: *mut lua_State, layout: &StackLayout) -> bool {
    let closure: *const u8 = read(slot(l, layout, 0), 0);
    let udata: *const u8 = read(closure, layout.closure_upvalues);
    userdata_block(layout, udata) == ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)).cast()
}

/// The block of the userdata `udata` as the layout finds it.
unsafe fn userdata_block(layout: &StackLayout, udata: *const u8) -> *const u8 {
    let u = layout.userdata;
    let offset = match read::<u16>(udata, u.user_values) {
        0 => u.data_plain,
        n => u.data_with_values + n as i32 * u.user_value_size,
    };
    udata.offset(offset as isize)
}

/// Pushes a full userdata with `user_values` user values and finds its block and length
/// as the layout says.
unsafe fn userdata_agrees(l: *mut lua_State, layout: &StackLayout, user_values: c_int) -> bool {
    const SIZE: usize = 40;
    let block = lua_version::new_userdata(l, SIZE, user_values);
    let index = ffi::lua_gettop(l);
    let u = layout.userdata;
    let udata: *const u8 = read(slot(l, layout, index), 0);
    let count: u16 = read(udata, u.user_values);
    let agrees = tag(l, layout, index) == layout.tags.full_userdata
        && count as c_int == user_values
        && userdata_block(layout, udata) == block.cast()
        && read::<usize>(udata, u.len) == SIZE
        && ffi::lua_rawlen(l, index) == SIZE as _;
    ffi::lua_settop(l, index - 1);
    agrees
}

/// Pushes an integer, a float and a boolean by writing the stack as thunks do, and reads
/// them back through the Lua C API.
unsafe fn pushes_agree(l: *mut lua_State, layout: &StackLayout) -> bool {
    let push = |bits: Option<u64>, tag: u8| {
        let top_field = (l as *mut u8).offset(layout.top as isize).cast::<*mut u8>();
        let top = top_field.read_unaligned();
        if let Some(bits) = bits {
            top.cast::<u64>().write_unaligned(bits);
        }
        top.offset(layout.tag as isize).write(tag);
        top_field.write_unaligned(top.offset(layout.slot_size as isize));
    };
    let base = ffi::lua_gettop(l);
    push(Some(PROBE_INTEGER as u64), layout.tags.integer);
    push(Some(PROBE_FLOAT.to_bits()), layout.tags.float);
    push(None, layout.tags.r#true);
    ffi::lua_gettop(l) == base + 3
        && ffi::lua_isinteger(l, base + 1) != 0
        && ffi::lua_tointegerx(l, base + 1, std::ptr::null_mut()) == PROBE_INTEGER
        && ffi::lua_type(l, base + 2) == ffi::LUA_TNUMBER
        && ffi::lua_isinteger(l, base + 2) == 0
        && ffi::lua_tonumberx(l, base + 2, std::ptr::null_mut()) == PROBE_FLOAT
        && ffi::lua_type(l, base + 3) == ffi::LUA_TBOOLEAN
        && ffi::lua_toboolean(l, base + 3) != 0
}

#[cfg(all(test, feature = "lua54"))]
mod tests {
    use super::*;

    type Mutation = (&'static str, fn(&mut StackLayout));

    /// Layouts that disagree with the Lua library in a way the probe can see without
    /// following a wrong pointer: each must be refused.
    #[test]
    fn the_probe_accepts_lua_54_and_refuses_what_disagrees() {
        assert!(agrees(&StackLayout::LUA54));
        let mutations: [Mutation; 5] = [
            ("integer tag", |l| l.tags.integer ^= 0x10),
            ("float tag", |l| l.tags.float ^= 0x10),
            ("string data", |l| l.string_data += 8),
            ("slot size", |l| l.slot_size += 8),
            ("light userdata tag", |l| l.tags.light_userdata ^= 0x10),
        ];
        for (what, mutate) in mutations {
            let mut layout = StackLayout::LUA54;
            mutate(&mut layout);
            assert!(!agrees(&layout), "a wrong {what} is refused");
        }
    }
}
