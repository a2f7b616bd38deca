//! A Rust program that embeds Lua gets the C/Invoke face from `moonthunk::open`:
//! `require("cinvoke_lua")` defines its globals in that state and calls C.

#[path = "common/testlib.rs"]
mod testlib;

use mlua::{Lua, Table};

#[test]
fn require_cinvoke_lua_after_open() {
    let lua = Lua::new();
    moonthunk::open(&lua).expect("moonthunk installs");
    lua.globals()
        .set("TESTLIB", testlib::test_library().to_str().unwrap())
        .unwrap();
    lua.globals()
        .set("TESTDIR", testlib::script_dir().to_str().unwrap())
        .unwrap();
    let module: Table = lua
        .load(r#"return require("cinvoke_lua")"#)
        .eval()
        .expect("require('cinvoke_lua')");
    assert!(module.contains_key("clibrary").unwrap());
    let (sum, written): (i64, String) = lua
        .load(
            r#"
            local T = dofile(TESTDIR .. "/testutil.lua")
            local lib = clibrary.new(TESTLIB)
            local add = lib:get_function(Cint, "ci_add", Cint, Cint)
            local upper = lib:get_function(Cvoid, "ci_upper", cinv.array(Cchar), Cint)
            local chars = cinv.string_to_chararray("moon")
            upper(chars, #chars)
            T.eq(#chars, 4, "the array keeps its length")
            return add(40, 2), cinv.chararray_to_string(chars)
            "#,
        )
        .eval()
        .expect("calls through the C/Invoke face");
    assert_eq!(sum, 42);
    assert_eq!(written, "MOON");
    let same: bool = lua
        .load(r#"return rawequal(require("cinvoke_lua"), require("cinvoke_lua"))"#)
        .eval()
        .unwrap();
    assert!(same);
}
