//! Value conventions are data: a face made for this test binds the same C functions of the C
//! test library (tests/c/conventions.c) and libc with two conventions each, through the
//! engine's public binding API, and both work, at every thunk tier.

#[path = "common/testlib.rs"]
mod testlib;

use std::rc::Rc;

use mlua::{Function, Lua, Value};
use moonthunk::ctype::Scalar;
use moonthunk::function::{bind, retype, Signature, SignatureError, Thunking, ValueType};
use moonthunk::layout::{FieldSpec, FieldType, LayoutOptions, StructLayout};
use moonthunk::library::Library;
use moonthunk::{Callback, CallbackError, CallbackOptions};

const TIERS: [Thunking; 3] = [Thunking::Shared, Thunking::Specialized, Thunking::Tiered];

/// The test face: a Lua state whose globals are the functions it binds.
struct Face {
    lua: Lua,
    test_library: Library,
    libc: Library,
}

impl Face {
    fn new() -> Face {
        let lua = Lua::new();
        moonthunk::open(&lua).unwrap();
        for (name, addr) in [("LIGHT", 0x1234), ("LIGHT2", 0x5678)] {
            let light = mlua::LightUserData(addr as *mut std::ffi::c_void);
            lua.globals().set(name, light).unwrap();
        }
        Face {
            lua,
            test_library: Library::open(Some(testlib::test_library().to_str().unwrap())).unwrap(),
            libc: Library::open(Some("c")).unwrap(),
        }
    }

    /// Binds `symbol` (from the test library, or libc when `from_libc`) with `ret` and
    /// `args` as the global `global`.
    fn bind(
        &self,
        global: &str,
        symbol: &str,
        ret: ValueType,
        args: Vec<ValueType>,
        thunking: Thunking,
    ) {
        let library = if symbol.starts_with("str") {
            &self.libc
        } else {
            &self.test_library
        };
        let target = library.symbol(symbol).unwrap();
        let sig = Signature::new(ret, args, false).unwrap();
        // SAFETY: the signatures below are the C declarations of their targets, and both
        // libraries outlive the Lua state (fields drop in order: `lua` first).
        let f = unsafe { bind(&self.lua, symbol, target, &sig, Value::Nil, thunking) }.unwrap();
        self.lua.globals().set(global, f).unwrap();
    }

    /// A callback of signature `ret(args)` calling the Lua function `source` evaluates to,
    /// passed to Lua as the light userdata `global`.
    fn callback(
        &self,
        global: &str,
        source: &str,
        ret: ValueType,
        args: Vec<ValueType>,
    ) -> Callback {
        let function: Function = self.lua.load(source).eval().unwrap();
        let sig = Signature::new(ret, args, false).unwrap();
        let callback =
            Callback::create(&self.lua, function, &sig, CallbackOptions::default()).unwrap();
        let entry = mlua::LightUserData(callback.entry() as *mut std::ffi::c_void);
        self.lua.globals().set(global, entry).unwrap();
        callback
    }

    fn run(&self, chunk: &str) {
        let prelude = "local T = dofile(TESTDIR .. '/testutil.lua')\n";
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

fn array_of(element: ValueType) -> ValueType {
    ValueType::TableArray(Rc::new(element))
}

#[test]
fn pointer_results_as_objects_or_light_userdata() {
    for tier in TIERS {
        let face = Face::new();
        let pointer = || scalar(Scalar::Pointer);
        face.bind("as_object", "t_ptr", pointer(), vec![pointer()], tier);
        let light = ValueType::LightPointer { nil_for_null: true };
        face.bind("as_light", "t_ptr", light.clone(), vec![light], tier);
        let opaque = ValueType::LightPointer {
            nil_for_null: false,
        };
        face.bind("as_opaque", "t_ptr", opaque.clone(), vec![opaque], tier);
        face.run(
            r#"
            local object = as_object(LIGHT)
            T.eq(getmetatable(object) ~= nil, true, "a pointer object has a metatable")
            T.eq(object.addr, 0x1234, "the object's address")
            T.eq(object == LIGHT, false, "an object is not the light userdata")
            T.eq(as_object(nil).isNull, true, "NULL as an object")

            local light = as_light(LIGHT)
            T.eq(type(light), "userdata", "a light userdata")
            T.eq(getmetatable(light), nil, "a light userdata has no metatable")
            T.eq(light == LIGHT, true, "light userdata compare by address")
            T.eq(as_light(nil), nil, "NULL as nil")
            T.eq(as_light(as_object(LIGHT)), LIGHT, "objects pass as pointers")

            local null = as_opaque(nil)
            T.eq(type(null), "userdata", "NULL as an opaque value")
            T.eq(null == as_opaque(nil), true, "opaque values compare by address")
            T.eq(as_opaque(LIGHT) == LIGHT, true, "an opaque value is its address")
            "#,
        );
    }
}

#[test]
fn chars_as_numbers_or_strings() {
    for tier in TIERS {
        let face = Face::new();
        face.bind(
            "as_number",
            "next_char",
            scalar(Scalar::I8),
            vec![scalar(Scalar::I8)],
            tier,
        );
        let char_string = || ValueType::CharString { signed: true };
        face.bind(
            "as_string",
            "next_char",
            char_string(),
            vec![char_string()],
            tier,
        );
        face.run(
            r#"
            T.eq(as_number(65), 66, "char as a number")
            T.eq(as_string("A"), "B", "char as a 1-character string")
            T.eq(as_string("\0"), "\1", "the NUL character")
            T.eq(as_number(127), -128, "a signed char wraps")
            T.eq(as_string("\127"), "\128", "the same byte as a string")
            T.raises({ "bad argument #1 to 'next_char' (1-character string expected, got a string of length 2)" },
                as_string, "AB")
            T.raises({ "bad argument #1 to 'next_char' (1-character string expected, got number)" },
                as_string, 65)
            T.raises({ "bad argument #1 to 'next_char' (string expected, got no value)" }, as_string)
            "#,
        );
    }
}

#[test]
fn table_arrays_are_written_back() {
    let point = Rc::new(
        StructLayout::with_options(
            vec![
                FieldSpec {
                    name: "x".into(),
                    ty: FieldType::Scalar(Scalar::I32),
                    count: None,
                },
                FieldSpec {
                    name: "y".into(),
                    ty: FieldType::Scalar(Scalar::F64),
                    count: None,
                },
            ],
            LayoutOptions::default(),
        )
        .unwrap(),
    );
    for tier in TIERS {
        let face = Face::new();
        let i32_ = || scalar(Scalar::I32);
        face.bind(
            "scale",
            "scale_i32",
            scalar(Scalar::Void),
            vec![array_of(i32_()), i32_(), i32_()],
            tier,
        );
        face.bind(
            "scale_memory",
            "scale_i32",
            scalar(Scalar::Void),
            vec![scalar(Scalar::Pointer), i32_(), i32_()],
            tier,
        );
        face.bind(
            "strcpy",
            "strcpy",
            ValueType::LightPointer {
                nil_for_null: false,
            },
            vec![
                array_of(ValueType::CharString { signed: true }),
                scalar(Scalar::String),
            ],
            tier,
        );
        face.bind(
            "move_points",
            "move_points",
            scalar(Scalar::F64),
            vec![array_of(ValueType::Record(point.clone())), i32_(), i32_()],
            tier,
        );
        let light = || ValueType::LightPointer { nil_for_null: true };
        face.bind(
            "swap",
            "swap_pointers",
            scalar(Scalar::Void),
            vec![array_of(light())],
            tier,
        );
        face.bind(
            "nth",
            "nth_pointer",
            light(),
            vec![array_of(light()), i32_()],
            tier,
        );
        face.run(
            r#"
            local t = { 1, 2, 3 }
            T.eq(scale(t, 3, 10), nil, "void result")
            T.eq(t[1] .. "," .. t[2] .. "," .. t[3], "10,20,30", "elements written back")
            scale(nil, 0, 2)
            local empty = {}
            scale(empty, 0, 2)
            T.eq(#empty, 0, "an empty table stays empty")

            local ffi = require("moonthunk")
            local buf = ffi.buffer(8)
            buf:write(0, "i32", 4)
            buf:write(4, "i32", 5)
            scale_memory(buf, 2, 3)
            T.eq(buf:read(4, "i32"), 15, "the same function through a pointer")

            local chars = { "a", "b", "c", "d" }
            strcpy(chars, "ef")
            T.eq(table.concat(chars, ","), "e,f,\0,d", "C/Invoke's strcpy example")

            local first, second = { x = 1, y = 0.5 }, { x = 2, y = 1.5 }
            local points = { first, second }
            T.eq(move_points(points, 2, 5), 4.0, "records read")
            T.eq(points[1], first, "element tables are kept")
            T.eq(first.x .. "," .. first.y .. "," .. second.x .. "," .. second.y, "6,1.0,7,3.0",
                "record fields written back")

            local pointers = { LIGHT, nil }
            pointers[2] = false
            T.raises({ "bad argument #1 to 'swap_pointers' (element 2: pointer expected, got boolean)" },
                swap, pointers)
            pointers = { LIGHT, LIGHT }
            T.eq(nth(pointers, 1), LIGHT, "light pointer elements")
            local other = { LIGHT, LIGHT2 }
            swap(other)
            T.eq(other[1] == LIGHT2 and other[2] == LIGHT, true, "swapped in C, written back")

            T.raises({ "bad argument #1 to 'scale_i32' (table expected, got number)" }, scale, 5, 1, 1)
            T.raises({ "bad argument #1 to 'scale_i32' (element 2: number expected, got string)" },
                scale, { 1, "x" }, 2, 1)
            T.raises({ "bad argument #1 to 'scale_i32' (element 1: number has no integer representation)" },
                scale, { 1.5 }, 1, 1)
            T.raises({ "bad argument #1 to 'strcpy' (element 1: 1-character string expected, got a string of length 2)" },
                strcpy, { "ab" }, "x")
            T.raises({ "bad argument #1 to 'move_points' (element 1: struct (table or view) expected, got number)" },
                move_points, { 1 }, 1, 1)
            T.raises({ "bad argument #1 to 'scale_i32' (table expected, got no value)" }, scale)
            "#,
        );
    }
}

#[test]
fn callbacks_see_and_return_values_in_their_convention() {
    let face = Face::new();
    let light = || ValueType::LightPointer { nil_for_null: true };
    let opaque = || ValueType::LightPointer {
        nil_for_null: false,
    };
    face.bind(
        "call_with_pointer",
        "call_with_pointer",
        light(),
        vec![opaque(), light()],
        Thunking::Shared,
    );
    let char_string = || ValueType::CharString { signed: true };
    face.bind(
        "call_with_char",
        "call_with_char",
        char_string(),
        vec![opaque(), char_string()],
        Thunking::Shared,
    );
    let keep = "return function(p) seen = p; return p end";
    let callbacks = [
        face.callback("LIGHT_CB", keep, light(), vec![light()]),
        face.callback(
            "OBJECT_CB",
            keep,
            scalar(Scalar::Pointer),
            vec![scalar(Scalar::Pointer)],
        ),
        face.callback(
            "CHAR_CB",
            "return function(c) seen = c; return string.char(c:byte() + 1) end",
            char_string(),
            vec![char_string()],
        ),
        face.callback(
            "BAD_CHAR_CB",
            "return function(c) return c .. c end",
            char_string(),
            vec![char_string()],
        ),
    ];
    face.run(
        r#"
        T.eq(call_with_pointer(LIGHT_CB, LIGHT), LIGHT, "a light pointer result")
        T.eq(seen, LIGHT, "the callback saw a light userdata")
        seen = false
        T.eq(call_with_pointer(LIGHT_CB, nil), nil, "NULL both ways")
        T.eq(seen, nil, "the callback saw NULL as nil")

        T.eq(call_with_pointer(OBJECT_CB, LIGHT), LIGHT, "an object returned as a pointer")
        T.eq(getmetatable(seen) ~= nil and seen.addr, 0x1234, "the callback saw a pointer object")

        T.eq(call_with_char(CHAR_CB, "a"), "b", "a char result as a string")
        T.eq(seen, "a", "the callback saw a 1-character string")
        T.raises({ "bad result from callback (1-character string expected, got a string of length 2)" },
            call_with_char, BAD_CHAR_CB, "a")
        "#,
    );
    for callback in &callbacks {
        callback.release(&face.lua).unwrap();
    }
    let array = Signature::new(
        scalar(Scalar::Void),
        vec![array_of(scalar(Scalar::I32))],
        false,
    )
    .unwrap();
    let function: Function = face.lua.load("return print").eval().unwrap();
    let refused = Callback::create(&face.lua, function, &array, CallbackOptions::default());
    assert!(
        matches!(refused, Err(CallbackError::ArrayParameter)),
        "a table array is no callback parameter"
    );
}

#[test]
fn table_arrays_too_large_for_memory_are_refused() {
    // Elements of 2^58 bytes: 65 of them take more bytes than an address can count.
    let huge = Rc::new(
        StructLayout::with_options(
            vec![FieldSpec {
                name: "bytes".into(),
                ty: FieldType::Scalar(Scalar::U8),
                count: Some(1 << 58),
            }],
            LayoutOptions::default(),
        )
        .unwrap(),
    );
    let face = Face::new();
    face.bind(
        "move_points",
        "move_points",
        scalar(Scalar::F64),
        vec![
            array_of(ValueType::Record(huge)),
            scalar(Scalar::I32),
            scalar(Scalar::I32),
        ],
        Thunking::Shared,
    );
    face.run(
        r#"
        local many = {}
        for i = 1, 65 do many[i] = {} end
        T.raises({ "bad argument #1 to 'move_points' (an array of 65 elements is too large)" },
            move_points, many, 0, 0)
        "#,
    );
}

#[test]
fn signatures_refuse_conventions_out_of_place() {
    let array = || array_of(scalar(Scalar::I32));
    let err = Signature::new(array(), vec![], false).unwrap_err();
    assert!(matches!(err, SignatureError::ArrayResult), "{err:?}");
    assert_eq!(
        err.to_string(),
        "an array is a parameter type, not a result type"
    );
    for element in [
        scalar(Scalar::String),
        scalar(Scalar::Void),
        array(),
        ValueType::Ref(Scalar::I32),
    ] {
        let err = Signature::new(scalar(Scalar::Void), vec![array_of(element)], false).unwrap_err();
        assert!(matches!(err, SignatureError::ArrayElement), "{err:?}");
        assert_eq!(
            err.to_string(),
            "an array's elements must be scalars or records"
        );
    }
}

#[test]
fn a_nil_result_comes_before_the_out_values() {
    let face = Face::new();
    for thunking in TIERS {
        face.bind(
            "next_void",
            "conv_bump",
            ValueType::Nil,
            vec![ValueType::Ref(Scalar::I32)],
            thunking,
        );
        face.run(
            r##"
            T.eq(select("#", next_void(41)), 2, "nil and the out-value")
            local none, bumped = next_void(41)
            T.eq(none, nil, "the void result as nil")
            T.eq(bumped, 42, "the out-value second")
            "##,
        );
    }
    let err = Signature::new(scalar(Scalar::I32), vec![ValueType::Nil], false).unwrap_err();
    assert!(matches!(err, SignatureError::VoidParameter), "{err:?}");
}

#[test]
fn retyping_a_function_keeps_its_value() {
    let face = Face::new();
    face.bind(
        "see",
        "conv_identity_i64",
        scalar(Scalar::I64),
        vec![scalar(Scalar::I64)],
        Thunking::Shared,
    );
    let see: Function = face.lua.globals().get("see").unwrap();
    face.run(r#"SAME = see; T.eq(see(70000), 70000, "as declared")"#);
    for (ret, thunking, expected) in [
        (Scalar::I16, Thunking::Specialized, 70000 - 65536),
        (Scalar::U8, Thunking::Shared, 70000 % 256),
    ] {
        let sig = Signature::new(scalar(ret), vec![scalar(Scalar::I64)], false).unwrap();
        // SAFETY: a narrower result of the same function reads the low bits of its result.
        unsafe { retype(&face.lua, &see, &sig, thunking) }.unwrap();
        face.run(&format!(
            r#"T.eq(rawequal(see, SAME), true, "the same value")
            T.eq(see(70000), {expected}, "the new signature")"#
        ));
    }
    let variadic = Signature::new(scalar(Scalar::I64), vec![scalar(Scalar::I64)], true).unwrap();
    // SAFETY: refused before any code changes.
    let err = unsafe { retype(&face.lua, &see, &variadic, Thunking::Shared) }.unwrap_err();
    assert_eq!(
        err.to_string(),
        "a function cannot become variadic in place"
    );
    face.run(r#"T.eq(see(300), 300 % 256, "the refused retyping changed nothing")"#);
}
