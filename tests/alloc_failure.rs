//! Allocation failure: every operation of the native face that allocates, run in an embedded
//! state under a Lua memory limit swept upward from the state's usage in small steps (so each
//! allocation inside it fails once), either succeeds or raises a Lua error, and leaves a state
//! that works once the limit is lifted; sizes the system allocator refuses are Lua errors too.

#[path = "common/testlib.rs"]
mod testlib;

use mlua::{Function, Lua};

/// How far the limit moves between two attempts: less than any allocation Lua makes.
const STEP: usize = 8;
/// An operation that still fails with this much room has a limit it never fits under.
const MAX_ATTEMPTS: usize = 20_000;

/// Globals every operation uses, made before any limit is set.
const SETUP: &str = r#"
T = dofile(TESTDIR .. "/testutil.lua")
ffi = require("moonthunk")
lib = ffi.open(TESTLIB)
libc = ffi.open("c")
abs = libc:bind("abs", "int", {"int"})
strlen = libc:bind("strlen", "usize", {"string"})
strchr = libc:bind("strchr", "string", {"string", "int"})
call_binary = lib:bind("cb_call_binary", "i32", {"pointer", "i32", "i32"})
read_int = lib:bind("read_int", "i32", {"pointer"})
qsort = libc:bind("qsort", "void", {"pointer", "size_t", "size_t", "pointer"})
adder = ffi.callback(function(a, b) return a + b end, "i32", {"i32", "i32"})
-- A parameter list per attempt number, distinct for distinct numbers: new signatures.
local types = {"i8", "i16", "i32", "i64", "f32", "f64", "u8", "u16", "string", "pointer"}
function signature(i)
    local args, n = {}, i
    repeat
        args[#args + 1] = types[n % #types + 1]
        n = n // #types
    until n == 0
    return args
end
"#;

/// Runs after every failed attempt with no limit: the calls made before still work, and the
/// state is not left inside a call.
const HEALTHY: &str = r#"
return function()
    assert(abs(-5) == 5, "a bound function")
    assert(call_binary(adder, 2, 3) == 5, "a callback round trip")
    assert(strchr("abc", 98) == "bc", "a string result")
end
"#;

/// Runs once after each sweep: binding and calling back anew work.
const WORKS: &str = r#"
return function()
    local labs = libc:bind("labs", "long", {"long"})
    T.eq(labs(-7), 7, "a new bind")
    local cb = ffi.callback(function(a, b) return a * b end, "i32", {"i32", "i32"})
    T.eq(call_binary(cb, 6, 7), 42, "a new callback")
    cb:free()
    local buf = ffi.buffer(16)
    buf:writeString(0, "ok")
    T.eq(buf:readString(), "ok", "a new buffer")
end
"#;

fn state() -> Lua {
    let lua = Lua::new();
    moonthunk::open(&lua).expect("moonthunk installs");
    let globals = lua.globals();
    globals
        .set("TESTLIB", testlib::test_library().to_str().unwrap())
        .unwrap();
    globals
        .set("TESTDIR", testlib::script_dir().to_str().unwrap())
        .unwrap();
    lua.load(SETUP).set_name("=setup").exec().expect("setup");
    lua
}

fn function(lua: &Lua, name: &str, source: &str) -> Function {
    lua.load(source)
        .set_name(format!("={name}"))
        .eval()
        .unwrap_or_else(|e| panic!("{name} compiles: {e}"))
}

/// Calls `op(attempt)` under limits from the state's usage upward, `STEP` bytes apart, until
/// it has succeeded three times running; every failure must be a Lua error caused by the
/// limit, after which the state must still work. Returns how many attempts failed.
fn sweep(name: &str, op: &str) -> usize {
    let lua = state();
    let op = function(&lua, name, op);
    let healthy = function(&lua, "healthy", HEALTHY);
    let (mut failed, mut successes, mut room) = (0, 0, 0);
    for attempt in 0..MAX_ATTEMPTS {
        lua.gc_collect().unwrap();
        lua.set_memory_limit(lua.used_memory() + room).unwrap();
        let result = op.call::<()>(attempt);
        lua.set_memory_limit(0).unwrap();
        match result {
            Ok(()) => {
                successes += 1;
                if successes == 3 {
                    function(&lua, "works", WORKS)
                        .call::<()>(())
                        .unwrap_or_else(|e| panic!("{name}: the state broke: {e}"));
                    return failed;
                }
            }
            Err(e) => {
                let message = e.to_string();
                // mlua's words when lua_checkstack cannot grow the stack under the limit.
                let stack = "out of Lua stack, too many arguments to a Lua function";
                assert!(
                    message.contains("not enough memory") || message.contains(stack),
                    "{name}: attempt {attempt} ({room} bytes of room) failed with an error \
                     that is not the limit's:\n{message}"
                );
                successes = 0;
                failed += 1;
                healthy.call::<()>(()).unwrap_or_else(|e| {
                    panic!("{name}: after attempt {attempt} ({room} bytes of room): {e}")
                });
            }
        }
        room += STEP;
    }
    panic!("{name} never succeeded within {MAX_ATTEMPTS} attempts");
}

#[test]
fn bind_new_signature() {
    let failed = sweep(
        "bind",
        r#"return function(i)
            assert(type(libc:bind("abs", "int", signature(i))) == "function")
            assert(libc:call("labs", "long", {"long"}, -3) == 3)
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

#[test]
fn load_interface() {
    let failed = sweep(
        "ffi.load",
        r#"return function(i)
            local m = ffi.load(TESTLIB, {
                read_int = { ret = "i32", args = { "pointer" } },
                cb_call_binary = { ret = "i32", args = { "pointer", "i32", "i32" } },
                read_int_odd = nil,
                ANSWER = 42,
            })
            assert(m.ANSWER == 42 and m.cb_call_binary(adder, 1, i) == 1 + i)
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

#[test]
fn call_with_strings() {
    let failed = sweep(
        "strings",
        r#"return function(i)
            local s = string.rep("x", 100 + i % 50) .. "y"
            assert(strlen(s) == 101 + i % 50)
            assert(strchr(s, 121) == "y")
            assert(strchr(s, 120) == s)
            assert(libc:call("strlen", "usize", {"string"}, s) == #s)
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

#[test]
fn callbacks() {
    let failed = sweep(
        "callbacks",
        r#"return function(i)
            local cb = ffi.callback(function(a, b) return a + b + i end, "i32", {"i32", "i32"})
            assert(call_binary(cb, 1, 2) == 3 + i)
            assert(ffi.fn(cb.ptr, "i32", {"i32", "i32"})(3, 4) == 7 + i)
            local ints = ffi.cast(ffi.buffer(4 * 8), "i32")
            for k = 0, 7 do ints[k] = (k * 5) % 8 end
            local cmp = ffi.callback(function(a, b)
                local x, y = read_int(a), read_int(b)
                return x < y and -1 or (x > y and 1 or 0)
            end, "int", {"pointer", "pointer"})
            qsort(ints, 8, 4, cmp)
            for k = 0, 7 do assert(ints[k] == k) end
            local safe = ffi.callback(function() end, "void", {}, { threadsafe = true })
            safe:free()
            cb:free()
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

#[test]
fn callback_errors_never_unwind_through_c() {
    // A memory error while a callback with a pointer result runs (its argument pushes, its
    // result's conversion) is recorded and raised when C returns: the C caller always runs to
    // its end.
    let failed = sweep(
        "callback_errors_never_unwind_through_c",
        r#"local counted_ptr = lib:bind("cb_ret_ptr_counted", "pointer", {"pointer"})
        local completed = lib:bind("cb_completed_calls", "i32", {})
        local res = ffi.callback(function() return ffi.ptr(64) end, "pointer", {})
        return function()
            local before = completed()
            local ok, err = pcall(counted_ptr, res)
            assert(completed() == before + 1, "cb_ret_ptr_counted ran to its end")
            if not ok then error(err, 0) end
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

#[test]
fn structs_by_value_and_out_parameters() {
    let failed = sweep(
        "structs",
        r#"return function(i)
            local V2 = ffi.struct({ {"x", "f64"}, {"y", "f64"} })
            local Big = ffi.struct({ {"a", "f64"}, {"b", "f64"}, {"c", "f64"}, {"d", "f64"}, {"e", "f64"} })
            local add = lib:bind("abi_v2_add", V2, {V2, V2})
            local r = add({x = 1, y = 2}, {x = 10, y = i})
            assert(r.x == 11 and add(r, r).y == 2 * (2 + i))
            local b = lib:call("abi_big_scale", Big, {Big, "f64"}, {a = 1, b = 2, c = 3, d = 4, e = 5}, 2)
            assert(b.e == 10)
            local q, rem = lib:call("abi_divmod", "void", {"int", "int", "ref int", "ref int"}, 17, 5)
            assert(q == 3 and rem == 2)
            local scale = ffi.callback(function(v, k) return {x = v.x * k, y = v.y * k} end, V2, {V2, "f64"})
            assert(lib:call("abi_cb_v2", "f64", {"pointer", "f64"}, scale, 3) == 68)
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

#[test]
fn callback_errors() {
    let failed = sweep(
        "callback errors",
        r#"return function(i)
            local n = 0
            local failing = ffi.callback(function(a, b)
                n = n + 1
                error("failure " .. n)
            end, "i32", {"i32", "i32"})
            local ok, err = pcall(call_binary, failing, 1, i)
            assert(not ok and err:find("failure 1", 1, true), err)
            local twice = ffi.callback(function(x) error("failure " .. x) end, "i32", {"i32"})
            ok, err = pcall(lib.call, lib, "cb_call_twice", "i32", {"pointer"}, twice)
            assert(not ok and type(err) == "string" and err:find("failure 2", 1, true), type(err) .. ": " .. tostring(err))
            local wrong = ffi.callback(function() return "no" end, "i32", {"i32", "i32"})
            ok, err = pcall(call_binary, wrong, 1, 2)
            assert(not ok and type(err) == "string", err)
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

#[test]
fn arenas() {
    let failed = sweep(
        "arenas",
        r#"return function(i)
            local arena = ffi.arena()
            local p = arena:alloc(64)
            p:write(8, "i64", i)
            assert(p:read(8, "i64") == i)
            local ints = ffi.cast(arena:allocArray("i32", 10), "i32")
            ints[3] = i
            local S = ffi.struct({ {"x", "f32"}, {"name", "u8", 16}, {"inner", ffi.struct({ {"n", "i32"} })} })
            local v = ffi.view(arena:allocType(S), S)
            v.name, v.x, v.inner.n = "bob", 1, i
            assert(ints[3] == i and v.inner.n == i and v.name:toRaw() ~= nil)
            assert(arena:allocAligned(32, 64).addr % 64 == 0)
            arena:reset()
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

#[test]
fn buffers() {
    let failed = sweep(
        "buffers",
        r#"return function(i)
            local b = ffi.buffer(256 + i % 64)
            b:writeString(0, "hello")
            assert(b:readString() == "hello")
            local s = b:slice(8, 16)
            s:write(0, "i32", i)
            assert(b:read(8, "i32") == i)
            assert(b:readBytes(0, 5) == "hello")
            assert(tostring(b):find("buffer", 1, true))
        end"#,
    );
    assert!(failed > 0, "the limit never bit");
}

/// Sizes the system allocator refuses (or that no layout can hold) are Lua errors saying so,
/// with or without a Lua memory limit, and the state works afterwards.
#[test]
fn sizes_the_allocator_refuses() {
    let lua = state();
    let cases = [
        ("ffi.buffer(2^46)", "out of memory allocating"),
        ("ffi.buffer(math.maxinteger)", "cannot allocate"),
        ("ffi.arena():alloc(2^46)", "out of memory allocating"),
        ("ffi.arena():alloc(math.maxinteger)", "cannot allocate"),
        (
            "ffi.arena():allocArray('i64', 2^44)",
            "out of memory allocating",
        ),
        ("ffi.arena():allocArray('i64', 2^61)", "cannot allocate"),
        (
            "ffi.arena():allocAligned(16, 2^46)",
            "out of memory allocating",
        ),
    ];
    for limit in [0, lua.used_memory() + 64 * 1024] {
        for (expr, fragment) in cases {
            lua.set_memory_limit(limit).unwrap();
            let result = lua.load(format!("return {expr}")).exec();
            lua.set_memory_limit(0).unwrap();
            let message = result.expect_err(expr).to_string();
            assert!(
                message.contains(fragment),
                "{expr} (limit {limit}): {message}"
            );
        }
    }
    function(&lua, "works", WORKS).call::<()>(()).unwrap();
}
