//! Owns what the runner's lua.c does differently per Lua version: the banner, the versioned
//! `LUA_INIT` variable, how the collector starts, and warnings (`-W`, Lua 5.4 and later).

use std::ffi::{c_int, CStr};

use mlua::ffi::{self, lua_State};

/// What `-v` prints: the vendored Lua's `LUA_COPYRIGHT` (lua.h). mlua's bindings do not carry
/// the release, so it is spelled here; `tests/runner.rs` checks it against `_VERSION`.
pub const COPYRIGHT: &CStr = if cfg!(feature = "lua52") {
    c"Lua 5.2.4  Copyright (C) 1994-2015 Lua.org, PUC-Rio\n"
} else if cfg!(feature = "lua53") {
    c"Lua 5.3.6  Copyright (C) 1994-2020 Lua.org, PUC-Rio\n"
} else if cfg!(feature = "lua55") {
    c"Lua 5.5.1  Copyright (C) 1994-2026 Lua.org, PUC-Rio\n"
} else {
    c"Lua 5.4.9  Copyright (C) 1994-2026 Lua.org, PUC-Rio\n"
};

/// The versioned variable `LUA_INIT` reads first, as a chunk name.
pub const INIT_VAR_VERSION: &CStr = if cfg!(feature = "lua52") {
    c"=LUA_INIT_5_2"
} else if cfg!(feature = "lua53") {
    c"=LUA_INIT_5_3"
} else if cfg!(feature = "lua55") {
    c"=LUA_INIT_5_5"
} else {
    c"=LUA_INIT_5_4"
};

/// Whether the version has warnings, and lua.c the option `-W` that turns them on.
pub const WARNINGS: bool = cfg!(any(feature = "lua54", feature = "lua55"));

/// Stops the collector while the state is set up, as lua.c does.
///
/// # Safety
/// `l` is a valid Lua state.
pub unsafe fn stop_collector(l: *mut lua_State) {
    gc(l, ffi::LUA_GCSTOP);
}

/// Restarts the collector after set-up, in the mode lua.c chooses: generational from 5.4 on.
///
/// # Safety
/// `l` is a valid Lua state.
pub unsafe fn restart_collector(l: *mut lua_State) {
    gc(l, ffi::LUA_GCRESTART);
    #[cfg(any(feature = "lua54", feature = "lua55"))]
    ffi::lua_gc(l, ffi::LUA_GCGEN, 0 as c_int, 0 as c_int);
}

/// `-W`: turns warnings on.
///
/// # Safety
/// `l` is a valid Lua state.
pub unsafe fn warnings_on(l: *mut lua_State) {
    #[cfg(any(feature = "lua54", feature = "lua55"))]
    ffi::lua_warning(l, c"@on".as_ptr(), 0);
    #[cfg(not(any(feature = "lua54", feature = "lua55")))]
    let _ = l;
}

#[cfg(any(feature = "lua54", feature = "lua55"))]
unsafe fn gc(l: *mut lua_State, what: c_int) {
    ffi::lua_gc(l, what);
}

#[cfg(not(any(feature = "lua54", feature = "lua55")))]
unsafe fn gc(l: *mut lua_State, what: c_int) {
    ffi::lua_gc(l, what, 0);
}
