//! Owns what differs between the Lua versions moonthunk builds for: the Lua C API entry points
//! generated code calls where a version lacks one or gives it another signature, the user
//! values of full userdata and the stack layout the runtime probe may confirm. Everything else is written once, against the API of Lua 5.4.
//!
//! One version per build, chosen by a cargo feature named as mlua's (`lua52`, `lua53`,
//! `lua54`, `lua55`). `lua51` and `luajit` name the versions still to port: they stop here.

use std::ffi::c_int;
#[cfg(any(feature = "lua54", feature = "lua55"))]
use std::ffi::c_void;

use mlua::ffi::{self, lua_State};
use moonthunk_jit::StackLayout;

#[cfg(not(any(
    feature = "lua51",
    feature = "lua52",
    feature = "lua53",
    feature = "lua54",
    feature = "lua55",
    feature = "luajit"
)))]
compile_error!(
    "moonthunk needs one Lua version: enable exactly one of the features lua51, lua52, lua53, \
     lua54, lua55, luajit (lua54 is the default)"
);

#[cfg(any(
    all(
        feature = "lua51",
        any(
            feature = "lua52",
            feature = "lua53",
            feature = "lua54",
            feature = "lua55",
            feature = "luajit"
        )
    ),
    all(
        feature = "lua52",
        any(
            feature = "lua53",
            feature = "lua54",
            feature = "lua55",
            feature = "luajit"
        )
    ),
    all(
        feature = "lua53",
        any(feature = "lua54", feature = "lua55", feature = "luajit")
    ),
    all(feature = "lua54", any(feature = "lua55", feature = "luajit")),
    all(feature = "lua55", feature = "luajit"),
))]
compile_error!(
    "moonthunk builds for one Lua version at a time: enable exactly one of the features lua51, \
     lua52, lua53, lua54, lua55, luajit (with another than lua54, add --no-default-features \
     and `vendored` or `module`)"
);

#[cfg(any(feature = "lua51", feature = "luajit"))]
compile_error!(
    "Lua 5.1 and LuaJIT are not supported yet (their user values are environment tables and \
     they lack lua_pcallk and LUA_RIDX_MAINTHREAD): build with lua52, lua53, lua54 or lua55"
);

/// The Lua stack layout thunks may read and write directly, once the runtime probe
/// (`stack_layout`) has confirmed it against the Lua library: only Lua 5.4's is described.
pub const STACK_LAYOUT: Option<StackLayout> = if cfg!(feature = "lua54") {
    Some(StackLayout::LUA54)
} else {
    None
};

// User values. Lua 5.4 and 5.5 give a full userdata as many user values as it is created
// with; every object of ours needs at most two (a memory object's owner and struct
// definition, an Alien function's library keeper and name). Lua 5.2 and 5.3 give one, which
// 5.2 requires to be a table or nil: there the one user value is a table holding the
// object's user values by number, made on the first store. The few objects that keep two
// values alive pay one table on those versions; 5.4 and 5.5 keep calling the C API directly.

/// Pushes a new full userdata of `size` bytes with room for `user_values` user values (all
/// nil) and returns its block.
///
/// # Safety
/// `l` is a valid Lua state with room for one value.
#[cfg(any(feature = "lua54", feature = "lua55"))]
#[inline(always)]
pub unsafe fn new_userdata(l: *mut lua_State, size: usize, user_values: c_int) -> *mut c_void {
    ffi::lua_newuserdatauv(l, size, user_values)
}

/// Pushes user value `n` of the full userdata at `idx` (nil when it has none) and returns
/// its type.
///
/// # Safety
/// `l` is a valid Lua state with room for one value; `idx` holds a full userdata.
#[cfg(any(feature = "lua54", feature = "lua55"))]
#[inline(always)]
pub unsafe fn user_value(l: *mut lua_State, idx: c_int, n: c_int) -> c_int {
    ffi::lua_getiuservalue(l, idx, n)
}

/// Pops a value and stores it as user value `n` of the full userdata at `idx`.
///
/// # Safety
/// `l` is a valid Lua state with room for two more values; `idx` holds a full userdata
/// created with room for `n` user values.
#[cfg(any(feature = "lua54", feature = "lua55"))]
#[inline(always)]
pub unsafe fn set_user_value(l: *mut lua_State, idx: c_int, n: c_int) {
    ffi::lua_setiuservalue(l, idx, n);
}

/// Pushes a new full userdata of `size` bytes with room for `user_values` user values (all
/// nil) and returns its block.
///
/// # Safety
/// `l` is a valid Lua state with room for one value.
#[cfg(any(feature = "lua52", feature = "lua53"))]
#[inline(always)]
pub unsafe fn new_userdata(
    l: *mut lua_State,
    size: usize,
    _user_values: c_int,
) -> *mut std::ffi::c_void {
    // The table of user values is made when one is first stored.
    ffi::lua_newuserdata(l, size)
}

/// Pushes user value `n` of the full userdata at `idx` (nil when it has none) and returns
/// its type.
///
/// # Safety
/// `l` is a valid Lua state with room for one value; `idx` holds a full userdata.
#[cfg(any(feature = "lua52", feature = "lua53"))]
pub unsafe fn user_value(l: *mut lua_State, idx: c_int, n: c_int) -> c_int {
    if ffi::lua_getuservalue(l, idx) != ffi::LUA_TTABLE {
        // No value stored yet: the nil (5.2, 5.3) pushed stands for every user value.
        return ffi::LUA_TNIL;
    }
    let kind = ffi::lua_rawgeti(l, -1, n as ffi::lua_Integer);
    ffi::lua_replace(l, -2);
    kind
}

/// Pops a value and stores it as user value `n` of the full userdata at `idx`.
///
/// # Safety
/// `l` is a valid Lua state with room for two more values; `idx` holds a full userdata.
#[cfg(any(feature = "lua52", feature = "lua53"))]
pub unsafe fn set_user_value(l: *mut lua_State, idx: c_int, n: c_int) {
    let idx = ffi::lua_absindex(l, idx);
    if ffi::lua_getuservalue(l, idx) != ffi::LUA_TTABLE {
        ffi::lua_settop(l, -2);
        ffi::lua_createtable(l, 2, 0);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_setuservalue(l, idx);
    }
    ffi::lua_insert(l, -2);
    ffi::lua_rawseti(l, -2, n as ffi::lua_Integer);
    ffi::lua_settop(l, -2);
}

/// The entry points of the JIT's table whose C function differs between versions, each with
/// the signature generated code calls it with (that of Lua 5.3 to 5.5):
/// `lua_Integer tointegerx(L, idx, int *isnum)`, `lua_Number tonumberx(L, idx, int *isnum)`,
/// `int rawgeti(L, idx, lua_Integer n)` and `int pcallk(L, nargs, nresults, msgh, ctx, k)`
/// (generated code passes no continuation).
#[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
pub use self::c_api::{
    lua_pcallk as pcallk, lua_rawgeti as rawgeti, lua_tointegerx as tointegerx,
    lua_tonumberx as tonumberx,
};

#[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
mod c_api {
    use std::ffi::c_int;

    use mlua::ffi::{lua_Integer, lua_Number, lua_State};

    /// A continuation (`lua_KFunction`); generated code never passes one.
    type Continuation = unsafe extern "C-unwind" fn(*mut lua_State, c_int, isize) -> c_int;

    // Declared here rather than taken from `mlua::ffi` so that each is a real exported C
    // function: a missing one is a link error, not a jump into a Rust shim.
    extern "C-unwind" {
        pub fn lua_tointegerx(l: *mut lua_State, idx: c_int, isnum: *mut c_int) -> lua_Integer;
        pub fn lua_tonumberx(l: *mut lua_State, idx: c_int, isnum: *mut c_int) -> lua_Number;
        pub fn lua_rawgeti(l: *mut lua_State, idx: c_int, n: lua_Integer) -> c_int;
        pub fn lua_pcallk(
            l: *mut lua_State,
            nargs: c_int,
            nresults: c_int,
            msgh: c_int,
            ctx: isize,
            k: Option<Continuation>,
        ) -> c_int;
    }
}

#[cfg(feature = "lua52")]
pub use self::c_api::{lua_tonumberx as tonumberx, pcallk, rawgeti, tointegerx};

/// Lua 5.2: `lua_tointegerx` truncates floats and wraps what is out of range, `lua_rawgeti`
/// takes an `int` and returns nothing, `lua_pcallk` takes an `int` context and a
/// `lua_CFunction` continuation: generated code calls these helpers, which give the
/// functions the signatures and meaning they have in Lua 5.3.
#[cfg(feature = "lua52")]
mod c_api {
    use std::ffi::c_int;

    use mlua::ffi::{lua_Integer, lua_Number, lua_State};

    extern "C-unwind" {
        pub fn lua_tonumberx(l: *mut lua_State, idx: c_int, isnum: *mut c_int) -> lua_Number;
        fn lua_type(l: *mut lua_State, idx: c_int) -> c_int;
        #[link_name = "lua_rawgeti"]
        fn lua_rawgeti_52(l: *mut lua_State, idx: c_int, n: c_int);
        #[link_name = "lua_pcallk"]
        fn lua_pcallk_52(
            l: *mut lua_State,
            nargs: c_int,
            nresults: c_int,
            msgh: c_int,
            ctx: c_int,
            k: Option<unsafe extern "C-unwind" fn(*mut lua_State) -> c_int>,
        ) -> c_int;
    }

    /// Lua 5.3's `lua_tointegerx`: a number with an integral value in the range of
    /// `lua_Integer`, or a string that converts to one; anything else sets `*isnum` to 0.
    ///
    /// # Safety
    /// `l` is a valid Lua state, `idx` an acceptable index, `isnum` null or writable.
    pub unsafe extern "C-unwind" fn tointegerx(
        l: *mut lua_State,
        idx: c_int,
        isnum: *mut c_int,
    ) -> lua_Integer {
        let mut ok = 0;
        let n = lua_tonumberx(l, idx, &mut ok);
        // 2^63 is exact as a double; -2^63 is the smallest lua_Integer.
        let limit = -(lua_Integer::MIN as lua_Number);
        let integral = ok != 0 && n >= -limit && n < limit && n == n.trunc();
        if !isnum.is_null() {
            *isnum = integral as c_int;
        }
        if integral {
            n as lua_Integer
        } else {
            0
        }
    }

    /// Lua 5.3's `lua_rawgeti`: pushes `t[n]` of the table at `idx`, returns its type.
    ///
    /// # Safety
    /// `l` is a valid Lua state with room for one value; `idx` holds a table; `n` fits an
    /// `int` (generated code passes registry references).
    pub unsafe extern "C-unwind" fn rawgeti(
        l: *mut lua_State,
        idx: c_int,
        n: lua_Integer,
    ) -> c_int {
        lua_rawgeti_52(l, idx, n as c_int);
        lua_type(l, -1)
    }

    /// A continuation as Lua 5.3 types it: generated code never passes one.
    type Continuation = unsafe extern "C-unwind" fn(*mut lua_State, c_int, isize) -> c_int;

    /// Lua 5.3's `lua_pcallk` for calls without a continuation (`k` is always none).
    ///
    /// # Safety
    /// As `lua_pcall`.
    pub unsafe extern "C-unwind" fn pcallk(
        l: *mut lua_State,
        nargs: c_int,
        nresults: c_int,
        msgh: c_int,
        _ctx: isize,
        _k: Option<Continuation>,
    ) -> c_int {
        lua_pcallk_52(l, nargs, nresults, msgh, 0, None)
    }
}
