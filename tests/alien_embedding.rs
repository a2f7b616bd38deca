//! A Rust program that embeds Lua gets the Alien face from `moonthunk::open`: `require("alien")`
//! and `require("alien.struct")` work in its state, and call C (the C test library and libc).

#[path = "common/testlib.rs"]
mod testlib;

use mlua::{Function, Lua, Table};

/// A state with moonthunk installed and the test scripts' globals set.
fn state() -> Lua {
    let lua = Lua::new();
    moonthunk::open(&lua).expect("moonthunk installs");
    let globals = lua.globals();
    let lib = testlib::test_library();
    globals.set("TESTLIB", lib.to_str().unwrap()).unwrap();
    let dir = testlib::script_dir();
    globals.set("TESTDIR", dir.to_str().unwrap()).unwrap();
    lua
}

#[test]
fn require_alien_after_open() {
    let lua = state();
    let alien: Table = lua
        .load(r#"return require("alien")"#)
        .eval()
        .expect("require('alien')");
    let load: Function = alien.get("load").unwrap();
    let lib: mlua::Value = load
        .call(testlib::test_library().to_str().unwrap())
        .expect("alien.load of the test library");
    lua.globals().set("lib", lib).unwrap();
    let sum: i64 = lua
        .load(
            r#"
            local f = lib.al_add
            f:types("int", "int", "int")
            return f(40, 2)
            "#,
        )
        .eval()
        .expect("a call through the Alien face");
    assert_eq!(sum, 42);
    // The same module table on a second require.
    let again: bool = lua
        .load(r#"return rawequal(require("alien"), require("alien"))"#)
        .eval()
        .unwrap();
    assert!(again);
}

#[test]
fn alien_default_calls_libc() {
    let lua = state();
    let len: i64 = lua
        .load(
            r#"
            local alien = require("alien")
            local strlen = alien.default.strlen
            strlen:types("size_t", "string")
            return strlen("embedded")
            "#,
        )
        .eval()
        .expect("libc's strlen through alien.default");
    assert_eq!(len, 8);
}

#[test]
fn require_alien_struct_after_open() {
    let lua = state();
    let (packed, value): (mlua::LuaString, i64) = lua
        .load(
            r#"
            local struct = require("alien.struct")
            local s = struct.pack("<i", 258)
            return s, (struct.unpack("<i", s))
            "#,
        )
        .eval()
        .expect("require('alien.struct')");
    assert_eq!(packed.as_bytes().as_ref(), &[2u8, 1, 0, 0][..]);
    assert_eq!(value, 258);
}

#[test]
fn the_native_face_is_still_there() {
    let lua = state();
    let kinds: (String, String) = lua
        .load(r#"return type(require("moonthunk")), type(require("alien"))"#)
        .eval()
        .unwrap();
    assert_eq!(kinds, ("table".to_string(), "table".to_string()));
}

#[test]
fn a_function_metatable_set_before_alien_keeps_working() {
    let lua = state();
    let earlier: Table = lua
        .load(
            r#"return {
                __index = function(f, key) return key .. "!" end,
                __tostring = function() return "a function" end,
            }"#,
        )
        .eval()
        .unwrap();
    lua.set_type_metatable::<Function>(Some(earlier));
    let (index, text, sum, name): (String, String, i64, String) = lua
        .load(
            r#"
            local alien = require("alien")
            local f = alien.load(TESTLIB).al_add
            f:types("int", "int", "int")
            return print.hello, tostring(print), f(40, 2), tostring(f)
            "#,
        )
        .eval()
        .expect("Lua runs");
    assert_eq!(index, "hello!");
    assert_eq!(text, "a function");
    assert_eq!(sum, 42);
    assert!(name.starts_with("alien function al_add, library "));

    let lua = state();
    let earlier: Table = lua
        .load("return { __index = { answer = 42 } }")
        .eval()
        .unwrap();
    lua.set_type_metatable::<Function>(Some(earlier));
    let (answer, other): (i64, Option<i64>) = lua
        .load(r#"require("alien") return print.answer, print.other"#)
        .eval()
        .expect("Lua runs");
    assert_eq!(
        (answer, other),
        (42, None),
        "a table as the earlier __index"
    );
}
