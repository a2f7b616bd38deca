//! Objects called like functions: a full userdata with a metatable of its own (as Alien's
//! function objects) or a table, whose `__call` is a function made by
//! `bind_call_metamethod`. Every kind of thunk and value convention is called through it, and
//! each call must be what the plain function bound by `bind` makes of the same arguments:
//! results, out-parameters, and errors word for word (argument numbers and counts leave the
//! object out). `portable_thunks` runs the same checks in a child process with thunks
//! restricted to the Lua C API (`MOONTHUNK_PORTABLE_THUNKS`, read once per process).

#[path = "common/target.rs"]
mod target;
#[path = "common/testlib.rs"]
mod testlib;

use std::ffi::c_void;
use std::rc::Rc;

use mlua::{Function, Lua, Value};
use moonthunk::ctype::Scalar;
use moonthunk::function::{bind, bind_call_metamethod, Signature, Thunking, ValueType};
use moonthunk::layout::{FieldSpec, FieldType, LayoutOptions, StructLayout};
use moonthunk::library::Library;

const PORTABLE_ENV: &str = "MOONTHUNK_PORTABLE_THUNKS";

/// A Lua state whose globals are the objects and plain functions it binds.
struct Face {
    lua: Lua,
    test_library: Library,
    libc: Library,
    libm: Library,
}

/// How the object whose `__call` is the bound function is made.
#[derive(Clone, Copy)]
enum Object {
    /// A full userdata with a metatable of its own, as Alien's function objects.
    Userdata,
    /// A table with a metatable.
    Table,
}

impl Face {
    fn new() -> Face {
        let lua = Lua::new();
        moonthunk::open(&lua).unwrap();
        for (name, addr) in [("LIGHT", 0x1234), ("LIGHT2", 0x5678)] {
            let light = mlua::LightUserData(addr as *mut c_void);
            lua.globals().set(name, light).unwrap();
        }
        Face {
            lua,
            test_library: Library::open(Some(testlib::test_library().to_str().unwrap())).unwrap(),
            libc: Library::open(Some("c")).unwrap(),
            libm: Library::open(Some("m")).unwrap(),
        }
    }

    /// Binds `symbol` of `library` with `sig` twice, named `name`: as the `__call` of a new
    /// `object` in the global `global`, and as the plain function `plain_<global>`.
    fn bind(
        &self,
        global: &str,
        library: &Library,
        symbol: &str,
        name: &str,
        sig: &Signature,
        object: Object,
    ) {
        let target = library.symbol(symbol).unwrap();
        // SAFETY: the signatures below are the C declarations of their targets, and the
        // libraries outlive the Lua state (fields drop in order: `lua` first).
        let (metamethod, plain) = unsafe {
            (
                bind_call_metamethod(&self.lua, name, target, sig, Value::Nil).unwrap(),
                bind(&self.lua, name, target, sig, Value::Nil, Thunking::Shared).unwrap(),
            )
        };
        let object = match object {
            Object::Userdata => self.userdata_calling(metamethod),
            Object::Table => self
                .lua
                .load("local f = ... return setmetatable({}, { __call = f })")
                .call(metamethod)
                .unwrap(),
        };
        let globals = self.lua.globals();
        globals.set(global, object).unwrap();
        globals.set(format!("plain_{global}"), plain).unwrap();
    }

    /// A new full userdata whose own metatable's `__call` is `f`.
    fn userdata_calling(&self, f: Function) -> Value {
        // SAFETY: works on the pushed function and values it pushes, in mlua's protected raw
        // call, and leaves the userdata alone on the stack as the result.
        unsafe {
            self.lua
                .exec_raw::<Value>(f, |l| {
                    mlua::ffi::lua_newuserdata(l, 8);
                    mlua::ffi::lua_createtable(l, 0, 1);
                    mlua::ffi::lua_pushvalue(l, 1);
                    mlua::ffi::lua_setfield(l, -2, c"__call".as_ptr());
                    mlua::ffi::lua_setmetatable(l, -2);
                    mlua::ffi::lua_remove(l, 1);
                })
                .unwrap()
        }
    }

    fn run(&self, chunk: &str) {
        let prelude = r#"
            local T = dofile(TESTDIR .. '/testutil.lua')
            -- The object and the plain function fail alike, with `message` when given.
            local function same_error(message, name, ...)
                local object, plain = _G[name], _G["plain_" .. name]
                local err = T.raises({ message or "" }, object, ...)
                local plain_err = T.raises({ message or "" }, plain, ...)
                T.eq(err, plain_err, name .. ": the object's error is the plain function's")
            end
        "#;
        self.lua
            .globals()
            .set("TESTDIR", testlib::script_dir().to_str().unwrap())
            .unwrap();
        if let Err(e) = self.lua.load(format!("{prelude}{chunk}")).exec() {
            panic!("{e}");
        }
    }
}

fn scalar(t: Scalar) -> ValueType {
    ValueType::Scalar(t)
}

fn sig(ret: ValueType, args: Vec<ValueType>) -> Signature {
    Signature::new(ret, args, false).unwrap()
}

fn v2() -> Rc<StructLayout> {
    let field = |name: &str| FieldSpec {
        name: name.into(),
        ty: FieldType::Scalar(Scalar::F64),
        count: None,
    };
    Rc::new(
        StructLayout::with_options(vec![field("x"), field("y")], LayoutOptions::default()).unwrap(),
    )
}

/// Whether this process's thunks are restricted to the Lua C API.
fn portable() -> bool {
    std::env::var_os(PORTABLE_ENV).is_some_and(|v| v != "0")
}

/// Every signature kind through `__call`, on objects made as `object`.
fn every_kind(object: Object) {
    let face = Face::new();
    let (lib, libc, libm) = (&face.test_library, &face.libc, &face.libm);
    let i32_ = || scalar(Scalar::I32);
    let f64_ = || scalar(Scalar::F64);
    let void = || scalar(Scalar::Void);
    face.bind("tick", lib, "tick", "tick", &sig(void(), vec![]), object);
    let count = sig(i32_(), vec![]);
    face.bind(
        "tick_count",
        lib,
        "tick_count",
        "tick_count",
        &count,
        object,
    );
    let add = sig(i32_(), vec![i32_(), i32_()]);
    face.bind("add", lib, "add_i32", "add", &add, object);
    let hypot = sig(f64_(), vec![f64_(), f64_()]);
    face.bind("hypot", libm, "hypot", "hypot", &hypot, object);
    let strlen = sig(scalar(Scalar::Usize), vec![scalar(Scalar::String)]);
    face.bind("strlen", libc, "strlen", "strlen", &strlen, object);
    let light = || ValueType::LightPointer { nil_for_null: true };
    face.bind(
        "t_ptr",
        lib,
        "t_ptr",
        "t_ptr",
        &sig(light(), vec![light()]),
        object,
    );
    let pointer = || scalar(Scalar::Pointer);
    let as_object = sig(pointer(), vec![pointer()]);
    face.bind("as_object", lib, "t_ptr", "t_ptr", &as_object, object);
    let every = sig(
        f64_(),
        vec![
            scalar(Scalar::String),
            i32_(),
            f64_(),
            scalar(Scalar::Bool),
            pointer(),
            scalar(Scalar::F32),
            scalar(Scalar::I64),
            scalar(Scalar::String),
        ],
    );
    face.bind(
        "every_kind",
        lib,
        "every_kind",
        "every_kind",
        &every,
        object,
    );
    let out = || ValueType::Ref(Scalar::I32);
    let scaled = sig(i32_(), vec![i32_(), out(), out()]);
    face.bind("scaled", lib, "scaled_out", "scaled_out", &scaled, object);
    let out_first = sig(i32_(), vec![out(), i32_()]);
    face.bind(
        "out_first",
        lib,
        "out_first",
        "out_first",
        &out_first,
        object,
    );
    let point = || ValueType::Record(v2());
    let v2_add = sig(point(), vec![point(), point()]);
    face.bind("v2_add", lib, "abi_v2_add", "v2_add", &v2_add, object);
    let array = ValueType::TableArray(Rc::new(i32_()));
    let scale = sig(void(), vec![array, i32_(), i32_()]);
    face.bind("scale", lib, "scale_i32", "scale_i32", &scale, object);
    let sum_ints = Signature::new(scalar(Scalar::I32), vec![i32_()], true).unwrap();
    face.bind(
        "sum_ints",
        lib,
        "abi_sum_ints",
        "sum_ints",
        &sum_ints,
        object,
    );
    let snprintf = Signature::new(
        i32_(),
        vec![pointer(), scalar(Scalar::Usize), scalar(Scalar::String)],
        true,
    )
    .unwrap();
    face.bind("snprintf", libc, "snprintf", "snprintf", &snprintf, object);
    face.lua.globals().set("DIRECT_STACK", !portable()).unwrap();

    face.run(
        r##"
        local ffi = require("moonthunk")
        T.eq(ffi.stats().directStack, DIRECT_STACK, "the thunks read the stack as expected")

        -- noop
        local before = tick_count()
        T.eq(select("#", tick()), 0, "a void function returns nothing")
        T.eq(tick_count(), before + 1, "the noop ran")
        same_error("wrong number of arguments to 'tick' (expected 0, got 1)", "tick", 1)

        -- add(i32, i32): the inline loads, and the host's rewriting of other forms
        T.eq(add(3, 4), 7, "add")
        T.eq(add(2.0, "5"), 7, "an integral float and a numeric string")
        T.eq(add(-1, 2^31), 2^31 - 1, "truncated like a C cast")
        same_error("bad argument #1 to 'add' (number expected, got string)", "add", "x", 1)
        same_error("bad argument #2 to 'add' (number expected, got string)", "add", 1, "x")
        same_error("bad argument #1 to 'add' (number has no integer representation)", "add", 1.5, 1)
        same_error("bad argument #2 to 'add' (number expected, got no value)", "add", 1)
        same_error("bad argument #1 to 'add' (number expected, got no value)", "add")
        same_error("wrong number of arguments to 'add' (expected 2, got 3)", "add", 1, 2, 3)

        -- double math
        T.eq(hypot(3.0, 4.0), 5.0, "hypot")
        T.eq(hypot(3, 4), 5.0, "integers for doubles")
        same_error("bad argument #1 to 'hypot' (number expected, got nil)", "hypot", nil, 4)
        same_error("bad argument #2 to 'hypot' (number expected, got table)", "hypot", 3, {})
        same_error("wrong number of arguments to 'hypot' (expected 2, got 3)", "hypot", 1, 2, 3)

        -- strings
        T.eq(strlen("hello"), 5, "strlen")
        T.eq(strlen(12345), 5, "a number as a string")
        same_error("bad argument #1 to 'strlen' (string expected, got table)", "strlen", {})
        same_error("bad argument #1 to 'strlen' (string expected, got no value)", "strlen")
        same_error("wrong number of arguments to 'strlen' (expected 1, got 2)", "strlen", "a", "b")

        -- pointers, as light userdata (Alien's convention) and as objects
        T.eq(t_ptr(LIGHT), LIGHT, "a light userdata through")
        T.eq(t_ptr(nil), nil, "NULL as nil")
        local p = as_object(LIGHT)
        T.eq(p.addr, 0x1234, "a pointer object's address")
        T.eq(t_ptr(p), LIGHT, "a pointer object as an argument")
        T.eq(as_object(nil).isNull, true, "NULL as an object")
        same_error("bad argument #1 to 't_ptr' (pointer expected, got string)", "t_ptr", "x")
        same_error("wrong number of arguments to 't_ptr' (expected 1, got 2)", "t_ptr", LIGHT, LIGHT)

        -- every inline kind at once
        local expected = plain_every_kind("abc", 2, 3, true, LIGHT, 0.5, 4, "xy")
        T.eq(every_kind("abc", 2, 3, true, LIGHT, 0.5, 4, "xy"), expected, "eight kinds")
        T.eq(every_kind("abc", 2, 3, nil, p, 0.5, 4, 12), expected - 1000, "rewritten forms")
        same_error("bad argument #4 to 'every_kind' (boolean expected, got number)",
            "every_kind", "abc", 2, 3, 1, LIGHT, 0.5, 4, "xy")
        same_error("bad argument #8 to 'every_kind' (string expected, got no value)",
            "every_kind", "abc", 2, 3, true, LIGHT, 0.5, 4)

        -- out-parameters: pushed after the result
        local r, twice, thrice = scaled(5)
        T.eq(r .. "," .. twice .. "," .. thrice, "5,10,15", "out-parameters after the result")
        T.eq(select("#", scaled(5, 0, nil)), 3, "initial values given")
        local x, plus_one = out_first(nil, 4)
        T.eq(x .. "," .. plus_one, "4,5", "an out-parameter before a scalar")
        same_error("bad argument #1 to 'scaled_out' (number expected, got string)", "scaled", "a")
        same_error("wrong number of arguments to 'scaled_out' (expected 3, got 4)",
            "scaled", 1, 2, 3, 4)
        same_error("bad argument #2 to 'out_first' (number expected, got no value)", "out_first", 0)
        same_error("bad argument #2 to 'out_first' (number expected, got string)",
            "out_first", 0, "x")

        -- structs by value
        local v = v2_add({ x = 1, y = 2 }, { x = 10, y = 20 })
        T.eq(v.x .. "," .. v.y, "11.0,22.0", "a struct in and out by value")
        local w = v2_add(v, v)
        T.eq(w.x, 22.0, "a view by value")
        same_error(nil, "v2_add", 1, v)
        same_error(nil, "v2_add", v, "x")
        T.raises({ "bad argument #2 to 'v2_add'" }, v2_add, v, "x")
        same_error("wrong number of arguments to 'v2_add' (expected 2, got 3)", "v2_add", v, v, v)

        -- table arrays, written back
        local t = { 1, 2, 3 }
        T.eq(scale(t, 3, 10), nil, "void result")
        T.eq(table.concat(t, ","), "10,20,30", "elements written back")
        same_error("bad argument #1 to 'scale_i32' (table expected, got number)", "scale", 5, 1, 1)
        same_error("bad argument #1 to 'scale_i32' (element 2: number expected, got string)",
            "scale", { 1, "x" }, 2, 1)
        same_error("bad argument #2 to 'scale_i32' (number expected, got string)",
            "scale", {}, "x", 1)
        same_error("bad argument #3 to 'scale_i32' (number expected, got no value)", "scale", {}, 0)

        -- variadic functions
        T.eq(sum_ints(3, 10, 20, 30), 60, "variadic integers")
        T.eq(sum_ints(0), 0, "no extra arguments")
        T.eq(sum_ints(2, 1, 2), 3, "another call shape")
        local buf = ffi.buffer(64)
        T.eq(snprintf(buf, 64, "%d %s %.1f", 42, "str", 2.5), 10, "snprintf's result")
        T.eq(buf:readString(), "42 str 2.5", "snprintf's text")
        same_error("bad argument #1 to 'sum_ints' (number expected, got table)", "sum_ints", {})
        same_error("bad argument #2 to 'sum_ints' (a table cannot be passed to a variadic function)",
            "sum_ints", 1, {})
        same_error("bad argument #1 to 'sum_ints' (number expected, got no value)", "sum_ints")

        -- the metamethod is a thunk like any other
        local metamethod = getmetatable(add).__call
        T.eq(type(ffi.thunkAddress(metamethod)), "number", "the thunk's address")
        T.contains(ffi.thunkDisassembly(metamethod), "block", "its machine code")
        T.eq(ffi.thunkAddress(metamethod) ~= ffi.thunkAddress(plain_add), true,
            "a thunk of its own, not the plain one")
        "##,
    );
}

#[test]
fn userdata_objects() {
    every_kind(Object::Userdata);
}

#[test]
fn table_objects() {
    every_kind(Object::Table);
}

/// The same checks in a process whose thunks use the Lua C API alone.
#[test]
fn portable_thunks() {
    if portable() {
        every_kind(Object::Userdata);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let output = target::target_command(exe)
        .args(["portable_thunks", "--exact", "--test-threads=1"])
        .env(PORTABLE_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the portable run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
