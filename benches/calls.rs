//! `cargo bench --bench calls`: the cost of one Lua-to-C call through three bindings of the
//! same C functions, in the same process and run: moonthunk's thunks, a hand-written Lua C API
//! binding, and a libffi-based binding written the way a typical libffi FFI is.
//!
//! The C side lives in `benches/c/`: `target.c` (the functions called), `handbind.c` (the
//! hand-written binding) and `ffibind.c` (the libffi binding: an `ffi_cif` per bound function,
//! per-call marshalling from the Lua stack, `ffi_call`, libffi closures for callbacks; the
//! marshalling rules are moonthunk's). They are compiled with the system C compiler at run
//! time into a temporary directory; the bindings' `lua_*` symbols resolve from this
//! executable, which embeds mlua's vendored Lua and is linked with `-rdynamic` (see
//! `build.rs`). The Lua and libffi headers come from the system
//! (`apt-get install liblua5.4-dev libffi-dev`).
//!
//! Modes (after `cargo bench --bench calls --`):
//! - (none): wall time. Every binding of a function is timed by the same Lua loop
//!   (`local f, n, a1, ... = ...; for _ = 1, n do f(a1, ...) end`), with the iteration count
//!   calibrated for about `TARGET_SECONDS` per measurement; the best of `REPS` interleaved
//!   repetitions is reported as ns per call of the loop as is (loop overhead included), with
//!   the ratios of `RATIOS` (thunk/hand-written, libffi/thunk). Written to
//!   `target/bench-calls.json`.
//! - `--callgrind`: instructions per call. Each (function, binding) loop runs in a child of
//!   this executable (`MOONTHUNK_BENCH_CHILD=case|binding|n`) under
//!   `valgrind --tool=callgrind`, at `CALLGRIND_SHORT` and `CALLGRIND_LONG` iterations; the
//!   slope of the process's total Ir between the two, minus the slope of an empty
//!   `for _ = 1, n do end`, is the cost of one call (setup cancels in the slope). Deterministic
//!   where wall time on a shared machine is not. Written to `target/bench-calls-callgrind.json`,
//!   and drawn as a bar chart in `target/bench-calls-callgrind.svg` (`chart.rs`).
//! - `--bind`: bind-time costs of moonthunk. Binding compiles nothing, so: `lib:bind` of
//!   `BIND_SIGNATURES` distinct signatures and their first use (each compiles a shared thunk:
//!   median and p90 µs), then of the same signatures on other symbols (cached thunks); the
//!   load of a `DECLARED_FUNCTIONS`-function interface through each face (µs per function);
//!   the optimizing tier's compile of a specialized thunk (what a hot function's promotion
//!   compiles) for 1, 4, 8 and 16 parameters; code bytes per signature and per specialized
//!   thunk from `require("moonthunk").stats()`. With valgrind, also the host instructions per new signature's compile: a callgrind child
//!   binds `BIND_CALLGRIND_SIGNATURES` of the signatures, counting inside `Jit::thunk` only
//!   (machine-independent, where the times move with the machine's load). Written to
//!   `target/bench-calls-bind.json`.
//!
//! Options:
//! - `--quick` or `MOONTHUNK_BENCH_QUICK=1`: small fixed iteration count, one repetition (a
//!   smoke run, figures are not meaningful).
//! - `MOONTHUNK_BENCH_N=<n>`: a fixed iteration count instead of calibration.
//! - `MOONTHUNK_BENCH_REPS=<r>`: the number of repetitions.
//! - any other argument: run only the functions whose name contains it (time, callgrind).
//! - `CC` (default `cc`) and `MOONTHUNK_LUA_INCLUDE` (default: the first of
//!   `/usr/include/lua5.4`, `/usr/local/include/lua5.4`, `/usr/include/lua`, `/usr/include`
//!   holding `lua.h`) choose the compiler and the Lua headers.
//!
//! Adding a function: a row in `CASES`, the C function in `target.c` and its bindings in
//! `handbind.c` (and `ffibind.c` if it needs a new type). A row named after the function
//! with the suffix `VIA_CALL` or `SHARED` measures moonthunk alone, calling the function as
//! an object's `__call` metamethod or through its signature's shared thunk (bound through the
//! engine's API, never promoted). The rows with
//! the suffix ` (alien)` call through the Alien face (`require("alien")`), whose function
//! objects are specialized thunk closures once typed, next to the hand-written binding; the
//! rows with the suffix ` (cinvoke)` call through the C/Invoke face (`require("cinvoke_lua")`), whose functions are
//! specialized thunks, beside `add_i32 (native, same loop)` (the native face's `ffi.load` in the
//! same loop); `reverse16 (cinvoke)` passes a table of 16 ints written back after the call,
//! against a hand-written binding that copies the table in and out. Adding a binding: an entry in
//! `BINDINGS`, whose loader returns one Lua function (or an error) per case.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use mlua::{Function, Lua, MultiValue, Table, Value};

mod chart;

/// The wall time one calibrated measurement aims at.
const TARGET_SECONDS: f64 = 0.25;
/// Repetitions of each measurement; the best is reported.
const REPS: usize = 5;
/// The iteration count of a quick (smoke) run.
const QUICK_N: u64 = 20_000;

/// An argument value passed to a benchmarked function.
#[derive(Clone, Copy, Debug)]
enum Arg {
    Int(i64),
    Num(f64),
    Str(&'static str),
    /// A light userdata pointing at `POINT`.
    Point,
}

/// `struct point` of `target.c`.
#[repr(C)]
struct Point {
    x: i32,
    y: f64,
}

/// The struct `point_read` reads, passed as light userdata to every binding.
static POINT: Point = Point { x: 3, y: 0.5 };

/// What a call must return.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Nothing,
    Int(i64),
    Num(f64),
    /// Any value but nil (a pointer).
    NotNil,
}

/// A benchmarked C function: its symbol, its moonthunk signature, the arguments of the timed
/// call and that call's result.
struct Case {
    name: &'static str,
    ret: &'static str,
    params: &'static [&'static str],
    args: &'static [Arg],
    expect: Expect,
    /// A loop case (memory, callbacks): the timed loop runs inside one Lua function per binding.
    memory: Option<Memory>,
}

/// A memory benchmark: every binding makes an object `o` with its own setup chunk, and the
/// same loop `body` (with `o` and the iteration count `n` in scope, returning a check value)
/// runs over it. The case's single argument is the iteration count of the check call.
#[derive(Clone, Copy, Debug)]
struct Memory {
    body: &'static str,
    /// Receives the moonthunk module and the target library; returns `o`.
    moonthunk: &'static str,
    /// Receives the hand-written binding module; returns `o`.
    handbind: &'static str,
    /// Receives the libffi binding module and the target library's path; returns `o`. `None`:
    /// the case measures memory objects, which the libffi binding does not have.
    ffibind: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "noop",
        ret: "void",
        params: &[],
        args: &[],
        expect: Expect::Nothing,
        memory: None,
    },
    Case {
        name: "noop (shared)",
        ret: "void",
        params: &[],
        args: &[],
        expect: Expect::Nothing,
        memory: None,
    },
    Case {
        name: "noop via __call",
        ret: "void",
        params: &[],
        args: &[],
        expect: Expect::Nothing,
        memory: None,
    },
    Case {
        name: "add_i32",
        ret: "i32",
        params: &["i32", "i32"],
        args: &[Arg::Int(3), Arg::Int(4)],
        expect: Expect::Int(7),
        memory: None,
    },
    Case {
        name: "add_i32 (shared)",
        ret: "i32",
        params: &["i32", "i32"],
        args: &[Arg::Int(3), Arg::Int(4)],
        expect: Expect::Int(7),
        memory: None,
    },
    Case {
        name: "add_i32 via __call",
        ret: "i32",
        params: &["i32", "i32"],
        args: &[Arg::Int(3), Arg::Int(4)],
        expect: Expect::Int(7),
        memory: None,
    },
    Case {
        name: "add_f64",
        ret: "f64",
        params: &["f64", "f64"],
        args: &[Arg::Num(1.5), Arg::Num(2.25)],
        expect: Expect::Num(3.75),
        memory: None,
    },
    Case {
        name: "add_i64",
        ret: "i64",
        params: &["i64", "i64"],
        args: &[Arg::Int(1 << 40), Arg::Int(-5)],
        expect: Expect::Int((1 << 40) - 5),
        memory: None,
    },
    Case {
        name: "str_len",
        ret: "usize",
        params: &["string"],
        args: &[Arg::Str("hello, world")],
        expect: Expect::Int(12),
        memory: None,
    },
    Case {
        name: "str_len (shared)",
        ret: "usize",
        params: &["string"],
        args: &[Arg::Str("hello, world")],
        expect: Expect::Int(12),
        memory: None,
    },
    Case {
        name: "str_len via __call",
        ret: "usize",
        params: &["string"],
        args: &[Arg::Str("hello, world")],
        expect: Expect::Int(12),
        memory: None,
    },
    Case {
        name: "sum8",
        ret: "f64",
        params: &["f64", "f64", "f64", "f64", "f64", "f64", "f64", "f64"],
        args: &[
            Arg::Num(0.5),
            Arg::Num(1.5),
            Arg::Num(2.5),
            Arg::Num(3.5),
            Arg::Num(4.5),
            Arg::Num(5.5),
            Arg::Num(6.5),
            Arg::Num(7.5),
        ],
        expect: Expect::Num(32.0),
        memory: None,
    },
    Case {
        name: "mixed12",
        ret: "f64",
        params: &[
            "i32", "f64", "i64", "f32", "i32", "f64", "i64", "f32", "i32", "f64", "i64", "i32",
        ],
        args: &[
            Arg::Int(1),
            Arg::Num(0.5),
            Arg::Int(2),
            Arg::Num(0.25),
            Arg::Int(3),
            Arg::Num(1.5),
            Arg::Int(4),
            Arg::Num(0.75),
            Arg::Int(5),
            Arg::Num(2.5),
            Arg::Int(6),
            Arg::Int(7),
        ],
        expect: Expect::Num(33.5),
        memory: None,
    },
    Case {
        name: "point_read",
        ret: "f64",
        params: &["pointer"],
        args: &[Arg::Point],
        expect: Expect::Num(POINT.x as f64 + POINT.y),
        memory: None,
    },
    Case {
        name: "ptr_ret",
        ret: "pointer",
        params: &[],
        args: &[],
        expect: Expect::NotNil,
        memory: None,
    },
    Case {
        name: "view_field_rw",
        ret: "loop",
        params: &["o.x = o.x + 1"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(1000),
        memory: Some(Memory {
            body: "for _ = 1, n do o.x = o.x + 1 end return o.x",
            moonthunk: r#"local ffi = ...
                local Point = ffi.struct({ {"x", "i32"}, {"y", "f64"} })
                return ffi.view(ffi.arena():allocType(Point), Point)"#,
            handbind: "local m = ... return m.new_point()",
            ffibind: None,
        }),
    },
    Case {
        name: "typed_index_safe",
        ret: "loop",
        params: &["p[j] = i; s = s + p[j]"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(500500),
        memory: Some(Memory {
            body: "local s = 0 for i = 1, n do local j = i & 63 o[j] = i s = s + o[j] end return s",
            moonthunk: r#"local ffi = ...
                return ffi.cast(ffi.arena():allocArray("i32", 64), "i32")"#,
            handbind: "local m = ... return m.new_int_array(64)",
            ffibind: None,
        }),
    },
    Case {
        name: "typed_index_unsafe",
        ret: "loop",
        params: &["p[j] = i; s = s + p[j] (unmanaged)"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(500500),
        memory: Some(Memory {
            body: "local s = 0 for i = 1, n do local j = i & 63 o[j] = i s = s + o[j] end return s",
            moonthunk: r#"local ffi = ...
                local arena = ffi.arena()
                BENCH_KEEP = arena
                return ffi.cast(ffi.ptr(arena:allocArray("i32", 64).addr), "i32")"#,
            handbind: "local m = ... return m.new_int_array(64)",
            ffibind: None,
        }),
    },
    Case {
        name: "buffer_to_c",
        ret: "loop",
        params: &["buf_sum(buffer, 16)"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(16),
        memory: Some(Memory {
            body: "local b, f = o[1], o[2] local r for _ = 1, n do r = f(b, 16) end return r",
            moonthunk: r#"local ffi, lib = ...
                local b = ffi.buffer(16)
                ffi.fill(b, 16, 1)
                return { b, ffi.load(lib.path, { buf_sum = { ret = "u32", args = { "pointer", "usize" } } }).buf_sum }"#,
            handbind: r#"local m = ...
                local b = m.new_buffer(16)
                m.buffer_fill(b, 1)
                return { b, m.buf_sum }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "struct_by_value",
        ret: "loop",
        params: &["r = v2_add(a, b), {double,double} in and out by value"],
        args: &[Arg::Int(1000)],
        expect: Expect::Num(3.0),
        memory: Some(Memory {
            body: "local f, a, b = o[1], o[2], o[3] local r for _ = 1, n do r = f(a, b) end return r.x",
            moonthunk: r#"local ffi, lib = ...
                local V2 = ffi.struct({ { "x", "f64" }, { "y", "f64" } })
                local f = ffi.load(lib.path, { v2_add = { ret = V2, args = { V2, V2 } } }).v2_add
                return { f, f({ x = 1, y = 2 }, { x = 0, y = 0 }), f({ x = 2, y = 3 }, { x = 0, y = 0 }) }"#,
            handbind: r#"local m = ...
                return { m.v2_add, { x = 1, y = 2 }, { x = 2, y = 3 } }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "snprintf",
        ret: "loop",
        params: &["snprintf(buf, 64, \"%ld %f\", i, 1.5)"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(13),
        memory: Some(Memory {
            body: "local f, b = o[1], o[2] local r for i = 1, n do r = f(b, 64, '%ld %f', i, 1.5) end return r",
            moonthunk: r#"local ffi = ...
                local libc = ffi.load("c", { snprintf = { ret = "int", args = { "pointer", "usize", "string", "..." } } })
                return { libc.snprintf, ffi.buffer(64) }"#,
            handbind: r#"local m = ...
                return { m.snprintf_id, m.new_buffer(64) }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "callback_roundtrip",
        ret: "loop",
        params: &["call_cb(f, i, 1), f = function(a, b) return a + b end"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(1001),
        memory: Some(Memory {
            body: "local f, cb = o[1], o[2] local r for i = 1, n do r = f(cb, i, 1) end return r",
            moonthunk: r#"local ffi, lib = ...
                local cb = ffi.callback(function(a, b) return a + b end, "i32", { "i32", "i32" })
                return { ffi.load(lib.path, { call_cb = { ret = "i32", args = { "pointer", "i32", "i32" } } }).call_cb, cb }"#,
            handbind: r#"local m = ...
                return { m.call_cb, function(a, b) return a + b end }"#,
            ffibind: Some(
                r#"local m, path = ...
                local cb = m.callback(function(a, b) return a + b end, "i32", { "i32", "i32" })
                return { m.bind(m.sym(path, "call_cb"), "i32", { "pointer", "i32", "i32" }), cb }"#,
            ),
        }),
    },
    Case {
        name: "noop (alien)",
        ret: "loop",
        params: &["f() through require(\"alien\")"],
        args: &[Arg::Int(1000)],
        expect: Expect::Nothing,
        memory: Some(Memory {
            body: "local f = o[1] for _ = 1, n do f() end",
            moonthunk: r#"local ffi, lib = ...
                local f = require("alien").load(lib.path).noop
                f:types("void")
                return { f }"#,
            handbind: r#"local m = ...
                return { m.noop }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "add_i32 (alien)",
        ret: "loop",
        params: &["f(3, 4) through require(\"alien\")"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(7),
        memory: Some(Memory {
            body: "local f = o[1] for _ = 1, n do f(3, 4) end return f(3, 4)",
            moonthunk: r#"local ffi, lib = ...
                local f = require("alien").load(lib.path).add_i32
                f:types("int", "int", "int")
                return { f }"#,
            handbind: r#"local m = ...
                return { m.add_i32 }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "str_len (alien)",
        ret: "loop",
        params: &["f(\"hello, world\") through require(\"alien\")"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(12),
        memory: Some(Memory {
            body: "local f, s = o[1], 'hello, world' for _ = 1, n do f(s) end return f(s)",
            moonthunk: r#"local ffi, lib = ...
                local f = require("alien").load(lib.path).str_len
                f:types("size_t", "string")
                return { f }"#,
            handbind: r#"local m = ...
                return { m.str_len }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "callback_roundtrip (alien)",
        ret: "loop",
        params: &["call_cb(cb, i, 1) through require(\"alien\")"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(1001),
        memory: Some(Memory {
            body: "local f, cb = o[1], o[2] local r for i = 1, n do r = f(cb, i, 1) end return r",
            moonthunk: r#"local ffi, lib = ...
                local alien = require("alien")
                local cb = alien.callback(function(a, b) return a + b end, "int", "int", "int")
                local f = alien.load(lib.path).call_cb
                f:types("int", "callback", "int", "int")
                return { f, cb }"#,
            handbind: r#"local m = ...
                return { m.call_cb, function(a, b) return a + b end }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "noop (cinvoke)",
        ret: "loop",
        params: &["f() through require(\"cinvoke_lua\")"],
        args: &[Arg::Int(1000)],
        expect: Expect::Nothing,
        memory: Some(Memory {
            body: "local f = o[1] for _ = 1, n do f() end",
            moonthunk: r#"local ffi, lib = ...
                require("cinvoke_lua")
                return { clibrary.new(lib.path):get_function(Cvoid, "noop") }"#,
            handbind: r#"local m = ...
                return { m.noop }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "add_i32 (cinvoke)",
        ret: "loop",
        params: &["f(3, 4) through require(\"cinvoke_lua\")"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(7),
        memory: Some(Memory {
            body: "local f = o[1] for _ = 1, n do f(3, 4) end return f(3, 4)",
            moonthunk: r#"local ffi, lib = ...
                require("cinvoke_lua")
                return { clibrary.new(lib.path):get_function(Cint, "add_i32", Cint, Cint) }"#,
            handbind: r#"local m = ...
                return { m.add_i32 }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "add_i32 (native, same loop)",
        ret: "loop",
        params: &["f(3, 4) through ffi.load(path, {...})"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(7),
        memory: Some(Memory {
            body: "local f = o[1] for _ = 1, n do f(3, 4) end return f(3, 4)",
            moonthunk: r#"local ffi, lib = ...
                local l = ffi.load(lib.path, { add_i32 = { ret = "i32", args = { "i32", "i32" } } })
                return { l.add_i32 }"#,
            handbind: r#"local m = ...
                return { m.add_i32 }"#,
            ffibind: None,
        }),
    },
    Case {
        name: "reverse16 (cinvoke)",
        ret: "loop",
        params: &["f(t), t a table of 16 ints written back, through require(\"cinvoke_lua\")"],
        args: &[Arg::Int(1000)],
        expect: Expect::Int(136),
        memory: Some(Memory {
            body: "local f, t = o[1], o[2] local r for _ = 1, n do r = f(t) end return r",
            moonthunk: r#"local ffi, lib = ...
                require("cinvoke_lua")
                local f = clibrary.new(lib.path):get_function(Cint, "reverse16", cinv.array(Cint))
                local t = {} for i = 1, 16 do t[i] = i end
                return { f, t }"#,
            handbind: r#"local m = ...
                local t = {} for i = 1, 16 do t[i] = i end
                return { m.reverse16, t }"#,
            ffibind: None,
        }),
    },
];

/// Makes the loop function of a memory case from a binding's setup chunk.
fn memory_loop(
    lua: &Lua,
    memory: &Memory,
    setup: &str,
    args: MultiValue,
) -> Result<Function, String> {
    let object: Value = lua
        .load(setup)
        .set_name("=memory setup")
        .call(args)
        .map_err(|e| e.to_string())?;
    lua.load(format!(
        "local o = ...\nreturn function(n) {} end",
        memory.body
    ))
    .set_name("=memory loop")
    .call(object)
    .map_err(|e| e.to_string())
}

/// The suffix of a case that calls moonthunk's binding of its function as the `__call`
/// metamethod of an object (`bind_call_metamethod`, a shared thunk that skips the receiver),
/// and of one that calls its signature's shared thunk for good, the plain function that the
/// metamethod compares with (the unsuffixed case calls a function of `ffi.load`, tiered:
/// specialized after its first `promoteAfter` calls, before the loops measured). The other
/// bindings have no such forms.
const VIA_CALL: &str = " via __call";
const SHARED: &str = " (shared)";

impl Case {
    fn signature(&self) -> String {
        format!("{}({})", self.ret, self.params.join(", "))
    }

    /// The C function the case calls: its name without a suffix.
    fn symbol(&self) -> &'static str {
        let name = self.name;
        name.strip_suffix(VIA_CALL)
            .or_else(|| name.strip_suffix(SHARED))
            .unwrap_or(name)
    }

    /// Whether the case calls a form of moonthunk's binding that the others do not have.
    fn moonthunk_only(&self) -> bool {
        self.symbol() != self.name
    }

    fn via_call(&self) -> bool {
        self.name.ends_with(VIA_CALL)
    }
}

/// The compiled C side, all in one directory.
struct Artifacts {
    /// The directory (handed to the callgrind children).
    dir: PathBuf,
    /// The shared library holding the target functions.
    target: PathBuf,
    /// The hand-written Lua C module (`luaopen_handbind`).
    handbind: PathBuf,
    /// The libffi-based Lua C module (`luaopen_ffibind`).
    ffibind: PathBuf,
    /// `DECLARED_FUNCTIONS` empty functions `mt_decl_<i>`, the symbols of the declared
    /// interface the load measurement binds.
    decls: PathBuf,
}

impl Artifacts {
    fn in_dir(dir: &Path) -> Artifacts {
        Artifacts {
            dir: dir.to_path_buf(),
            target: dir.join("libmtbench_target.so"),
            handbind: dir.join("handbind.so"),
            ffibind: dir.join("ffibind.so"),
            decls: dir.join("libmtbench_decls.so"),
        }
    }
}

/// What a binding returns for a case it does not cover (memory objects for the libffi
/// binding): shown as `n/a`, not an error.
const NOT_APPLICABLE: &str = "n/a";

/// One Lua function per case (in `cases` order), or why that case could not be bound.
type Bound = Vec<Result<Function, String>>;

/// One way of calling the C functions from Lua.
struct Binding {
    /// The key in the JSON output and in `RATIOS`.
    key: &'static str,
    /// The column title.
    title: &'static str,
    /// Whether the binding covers a case at all.
    covers: fn(&Case) -> bool,
    /// Makes one Lua function per case, or says why it could not.
    load: fn(&Lua, &Artifacts, &[&Case]) -> Result<Bound, String>,
}

const BINDINGS: &[Binding] = &[
    Binding {
        key: "handbind",
        title: "hand-written",
        covers: |case| !case.moonthunk_only(),
        load: load_handbind,
    },
    Binding {
        key: "moonthunk",
        title: "moonthunk",
        covers: |_| true,
        load: load_moonthunk,
    },
    Binding {
        key: "ffibind",
        title: "libffi",
        covers: |case| !case.moonthunk_only() && case.memory.is_none_or(|m| m.ffibind.is_some()),
        load: load_ffibind,
    },
];

/// The ratios reported: (title, numerator binding, denominator binding).
const RATIOS: &[(&str, &str, &str)] = &[
    ("thunk/hand", "moonthunk", "handbind"),
    ("libffi/thunk", "ffibind", "moonthunk"),
];

fn binding_index(key: &str) -> usize {
    BINDINGS
        .iter()
        .position(|b| b.key == key)
        .expect("RATIOS names a binding of BINDINGS")
}

/// `package.loadlib(path, open)()`.
fn load_c_module(lua: &Lua, path: &Path, open: &str) -> Result<Table, String> {
    lua.load(
        r#"
        local path, name = ...
        local open, err = package.loadlib(path, name)
        if not open then error("package.loadlib: " .. tostring(err), 0) end
        return open()
        "#,
    )
    .set_name("=C module loader")
    .call((path.to_str().ok_or("non-UTF-8 temporary path")?, open))
    .map_err(|e| e.to_string())
}

fn load_handbind(lua: &Lua, art: &Artifacts, cases: &[&Case]) -> Result<Bound, String> {
    let module = load_c_module(lua, &art.handbind, "luaopen_handbind")?;
    Ok(cases
        .iter()
        .map(|case| match &case.memory {
            Some(memory) => memory_loop(
                lua,
                memory,
                memory.handbind,
                MultiValue::from_iter([Value::Table(module.clone())]),
            ),
            None if case.moonthunk_only() => Err(NOT_APPLICABLE.to_string()),
            None => match module.get::<Value>(case.name) {
                Ok(Value::Function(f)) => Ok(f),
                Ok(other) => Err(format!("handbind.{} is a {}", case.name, other.type_name())),
                Err(e) => Err(e.to_string()),
            },
        })
        .collect())
}

fn load_ffibind(lua: &Lua, art: &Artifacts, cases: &[&Case]) -> Result<Bound, String> {
    let module = load_c_module(lua, &art.ffibind, "luaopen_ffibind")?;
    let target = art.target.to_str().ok_or("non-UTF-8 temporary path")?;
    let bind: Function = lua
        .load(
            r#"
            local m, path, name, ret, params = ...
            return m.bind(m.sym(path, name), ret, params)
            "#,
        )
        .set_name("=ffibind bind")
        .into_function()
        .map_err(|e| e.to_string())?;
    Ok(cases
        .iter()
        .map(|case| match &case.memory {
            Some(memory) => match memory.ffibind {
                Some(setup) => memory_loop(
                    lua,
                    memory,
                    setup,
                    MultiValue::from_iter([
                        Value::Table(module.clone()),
                        Value::String(lua.create_string(target).map_err(|e| e.to_string())?),
                    ]),
                ),
                None => Err(NOT_APPLICABLE.to_string()),
            },
            None if case.moonthunk_only() => Err(NOT_APPLICABLE.to_string()),
            None => lua
                .create_sequence_from(case.params.iter().copied())
                .and_then(|params| {
                    bind.call::<Function>((module.clone(), target, case.name, case.ret, params))
                })
                .map_err(|e| e.to_string()),
        })
        .collect())
}

/// Opens moonthunk in `lua` and the target library; returns the library object.
fn open_moonthunk(lua: &Lua, art: &Artifacts) -> Result<Value, String> {
    moonthunk::open(lua).map_err(|e| e.to_string())?;
    lua.load(r#"return require("moonthunk").open(...)"#)
        .set_name("=moonthunk loader")
        .call(art.target.to_str().ok_or("non-UTF-8 temporary path")?)
        .map_err(|e| e.to_string())
}

/// `lib:bind(name, ret, params)`.
fn moonthunk_binder(lua: &Lua) -> Result<Function, String> {
    lua.load(
        r#"
        local lib, name, ret, params = ...
        return lib:bind(name, ret, params)
        "#,
    )
    .set_name("=moonthunk bind")
    .into_function()
    .map_err(|e| e.to_string())
}

/// A SmartLibrary function (`ffi.load(path, {name = {ret, args}})`): the interface users
/// bind hot functions with, tiered: specialized for the function once hot.
fn moonthunk_smart_binder(lua: &Lua) -> Result<Function, String> {
    lua.load(
        r#"
        local lib, name, ret, params = ...
        return require("moonthunk").load(lib.path, { [name] = { ret = ret, args = params } })[name]
        "#,
    )
    .set_name("=moonthunk load")
    .into_function()
    .map_err(|e| e.to_string())
}

/// `case`'s function bound through the engine's API: as the `__call` metamethod of the case's
/// loop object (`bind_call_metamethod`), or with its signature's shared thunk for good.
fn moonthunk_engine_bound(lua: &Lua, art: &Artifacts, case: &Case) -> Result<Function, String> {
    let path = art.target.to_str().ok_or("non-UTF-8 temporary path")?;
    // Open for the life of the process: the function's keeper is nil.
    let library: &'static moonthunk::library::Library = Box::leak(Box::new(
        moonthunk::library::Library::open(Some(path)).map_err(|e| e.to_string())?,
    ));
    let target = library.symbol(case.symbol()).map_err(|e| e.to_string())?;
    let sig = moonthunk::function::Signature::parse(case.ret, case.params.iter().copied())
        .map_err(|e| e.to_string())?;
    // SAFETY: the cases' signatures are the declarations of `target.c`, whose library stays
    // open.
    unsafe {
        if case.via_call() {
            moonthunk::function::bind_call_metamethod(lua, case.symbol(), target, &sig, Value::Nil)
        } else {
            moonthunk::function::bind(
                lua,
                case.symbol(),
                target,
                &sig,
                Value::Nil,
                moonthunk::function::Thunking::Shared,
            )
        }
    }
    .map_err(|e| e.to_string())
}

fn load_moonthunk(lua: &Lua, art: &Artifacts, cases: &[&Case]) -> Result<Bound, String> {
    let lib = open_moonthunk(lua, art)?;
    let smart = moonthunk_smart_binder(lua)?;
    Ok(cases
        .iter()
        .map(|case| {
            if let Some(memory) = &case.memory {
                let ffi: Value = lua
                    .load(r#"return require("moonthunk")"#)
                    .eval()
                    .map_err(|e| e.to_string())?;
                return memory_loop(
                    lua,
                    memory,
                    memory.moonthunk,
                    MultiValue::from_iter([ffi, lib.clone()]),
                );
            }
            if case.moonthunk_only() {
                return moonthunk_engine_bound(lua, art, case);
            }
            let params = lua.create_sequence_from(case.params.iter().copied());
            params
                .and_then(|params| {
                    smart.call::<Function>((lib.clone(), case.symbol(), case.ret, params))
                })
                .map_err(|e| e.to_string())
        })
        .collect())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Wall time per call.
    Time,
    /// Instructions per call under callgrind.
    Callgrind,
    /// Bind-time costs.
    Bind,
}

struct Options {
    mode: Mode,
    quick: bool,
    fixed_n: Option<u64>,
    reps: usize,
    filters: Vec<String>,
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn env_number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a number")),
        _ => Ok(None),
    }
}

fn options() -> Result<Options, String> {
    let mut quick = env_flag("MOONTHUNK_BENCH_QUICK");
    let mut mode = Mode::Time;
    let mut filters = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            "--callgrind" => mode = Mode::Callgrind,
            "--bind" => mode = Mode::Bind,
            // `cargo bench` passes --bench; libtest options are ignored.
            a if a.starts_with('-') => {}
            a => filters.push(a.to_string()),
        }
    }
    let fixed_n = env_number::<u64>("MOONTHUNK_BENCH_N")?.or(quick.then_some(QUICK_N));
    let reps = env_number::<usize>("MOONTHUNK_BENCH_REPS")?
        .unwrap_or(if quick { 1 } else { REPS })
        .max(1);
    Ok(Options {
        mode,
        quick,
        fixed_n,
        reps,
        filters,
    })
}

/// Deletes the temporary directory when the run ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lua_include_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("MOONTHUNK_LUA_INCLUDE") {
        return Ok(dir.into());
    }
    [
        "/usr/include/lua5.4",
        "/usr/local/include/lua5.4",
        "/usr/include/lua",
        "/usr/include",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|dir| dir.join("lua.h").is_file() && dir.join("lauxlib.h").is_file())
    .ok_or_else(|| {
        "no Lua 5.4 headers found (install them: apt-get install liblua5.4-dev, \
         or set MOONTHUNK_LUA_INCLUDE)"
            .to_string()
    })
}

fn run_cc(args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let out = Command::new(&cc)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run C compiler {cc:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cc} {} failed:\n{}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn build_c(dir: &Path) -> Result<Artifacts, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/c");
    let include = lua_include_dir()?;
    let art = Artifacts::in_dir(dir);
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    run_cc(&[
        os("-O2"),
        os("-shared"),
        os("-fPIC"),
        os("-o"),
        art.target.as_os_str(),
        src.join("target.c").as_os_str(),
    ])?;
    let include_flag = format!("-I{}", include.display());
    let lib_dir_flag = format!("-L{}", dir.display());
    let rpath_flag = format!("-Wl,-rpath,{}", dir.display());
    run_cc(&[
        os("-O2"),
        os("-shared"),
        os("-fPIC"),
        include_flag.as_ref(),
        os("-o"),
        art.handbind.as_os_str(),
        src.join("handbind.c").as_os_str(),
        lib_dir_flag.as_ref(),
        os("-lmtbench_target"),
        rpath_flag.as_ref(),
    ])?;
    run_cc(&[
        os("-O2"),
        os("-shared"),
        os("-fPIC"),
        include_flag.as_ref(),
        os("-o"),
        art.ffibind.as_os_str(),
        src.join("ffibind.c").as_os_str(),
        os("-lffi"),
        os("-ldl"),
    ])
    .map_err(|e| {
        format!("{e}\n(the libffi binding needs libffi's headers: apt-get install libffi-dev)")
    })?;
    let decls_c = dir.join("decls.c");
    let source: String = (0..DECLARED_FUNCTIONS)
        .map(|i| format!("void mt_decl_{i}(void) {{}}\n"))
        .collect();
    std::fs::write(&decls_c, source).map_err(|e| format!("{}: {e}", decls_c.display()))?;
    run_cc(&[
        os("-shared"),
        os("-fPIC"),
        os("-o"),
        art.decls.as_os_str(),
        decls_c.as_os_str(),
    ])?;
    Ok(art)
}

fn arg_value(lua: &Lua, arg: Arg) -> mlua::Result<Value> {
    Ok(match arg {
        Arg::Int(i) => Value::Integer(i),
        Arg::Num(n) => Value::Number(n),
        Arg::Str(s) => Value::String(lua.create_string(s)?),
        Arg::Point => Value::LightUserData(mlua::LightUserData(
            std::ptr::from_ref(&POINT).cast_mut().cast(),
        )),
    })
}

/// Calls `f` once with the case's arguments (after a receiver, as `__call` does, for a
/// metamethod) and checks the result.
fn check(f: &Function, case: &Case, args: &[Value]) -> Result<(), String> {
    let receiver = case.via_call().then_some(Value::Boolean(true));
    let results: MultiValue = f
        .call(MultiValue::from_iter(
            receiver.into_iter().chain(args.iter().cloned()),
        ))
        .map_err(|e| e.to_string())?;
    let first = results.front().cloned().unwrap_or(Value::Nil);
    let ok = match (case.expect, &first) {
        (Expect::Nothing, _) => results.is_empty() || matches!(first, Value::Nil),
        (Expect::NotNil, v) => !matches!(v, Value::Nil),
        (Expect::Int(want), Value::Integer(got)) => *got == want,
        (Expect::Int(want), Value::Number(got)) => *got == want as f64,
        (Expect::Num(want), Value::Number(got)) => *got == want,
        (Expect::Num(want), Value::Integer(got)) => *got as f64 == want,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{}{:?} returned {:?}, expected {:?}",
            case.name, case.args, results, case.expect
        ))
    }
}

/// The timing loop of a case: the same source for every binding.
fn loop_chunk(lua: &Lua, case: &Case) -> mlua::Result<Function> {
    if case.memory.is_some() {
        // The loop runs inside the case's function; `n` is its iteration count.
        return lua
            .load("local f, n = ...\nf(n)\n")
            .set_name(format!("=loop {}", case.name))
            .into_function();
    }
    let params: Vec<String> = (1..=case.args.len()).map(|i| format!("a{i}")).collect();
    let mut head = String::from("local f, n");
    for p in &params {
        write!(head, ", {p}").unwrap();
    }
    // A metamethod is called through an object; making it once cancels in the slope.
    let object = if case.via_call() {
        "f = setmetatable({}, { __call = f })\n"
    } else {
        ""
    };
    let source = format!(
        "{head} = ...\n{object}for _ = 1, n do f({}) end\n",
        params.join(", ")
    );
    lua.load(source)
        .set_name(format!("=loop {}", case.name))
        .into_function()
}

fn time_loop(runner: &Function, f: &Function, n: u64, args: &[Value]) -> Result<Duration, String> {
    let mut call_args = vec![Value::Function(f.clone()), Value::Integer(n as i64)];
    call_args.extend(args.iter().cloned());
    let call_args = MultiValue::from_iter(call_args);
    let start = Instant::now();
    runner.call::<()>(call_args).map_err(|e| e.to_string())?;
    Ok(start.elapsed())
}

/// An iteration count for about `TARGET_SECONDS` per measurement.
fn calibrate(runner: &Function, f: &Function, args: &[Value]) -> Result<u64, String> {
    let mut n: u64 = 1_000;
    loop {
        let t = time_loop(runner, f, n, args)?.as_secs_f64();
        if t >= 0.02 || n >= 1 << 40 {
            let scaled = (n as f64 * TARGET_SECONDS / t.max(1e-9)) as u64;
            return Ok(scaled.max(1_000));
        }
        n *= if t < 0.002 { 10 } else { 2 };
    }
}

/// A measurement of one binding of one case: ns or instructions per call.
struct Measured {
    per_call: f64,
    iterations: u64,
}

type Cell = Result<Measured, String>;

/// The environment variable that makes this executable a callgrind child: `case|binding|n`
/// (binding `-` with case `empty`: the empty loop).
const CHILD_ENV: &str = "MOONTHUNK_BENCH_CHILD";
/// The directory of the compiled C side, for a callgrind child.
const ARTIFACTS_ENV: &str = "MOONTHUNK_BENCH_ARTIFACTS";
/// The two loop lengths of the callgrind slope.
const CALLGRIND_SHORT: u64 = 10_000;
const CALLGRIND_LONG: u64 = 110_000;
/// The number of distinct signatures of the bind-time measurement.
const BIND_SIGNATURES: usize = 1_000;
/// The signatures compiled under callgrind for the host instructions per compile.
const BIND_CALLGRIND_SIGNATURES: usize = 200;
/// The function callgrind counts in, for the instructions per compile.
const COMPILE_FUNCTION: &str = "*moonthunk_jit::engine::Jit::thunk*";

fn main() -> ExitCode {
    let result = match std::env::var(CHILD_ENV) {
        Ok(spec) => run_child(&spec).map(|()| true),
        Err(_) => options().and_then(|opts| match opts.mode {
            Mode::Time => run_time(&opts),
            Mode::Callgrind => run_callgrind(&opts),
            Mode::Bind => run_bind(),
        }),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench calls: {e}");
            ExitCode::FAILURE
        }
    }
}

fn selected_cases(opts: &Options) -> Result<Vec<&'static Case>, String> {
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| {
            opts.filters.is_empty() || opts.filters.iter().any(|f| c.name.contains(f.as_str()))
        })
        .collect();
    if cases.is_empty() {
        return Err(format!("no function matches {:?}", opts.filters));
    }
    Ok(cases)
}

fn temp_dir() -> Result<TempDir, String> {
    let tmp =
        TempDir(std::env::temp_dir().join(format!("moonthunk-bench-calls-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).map_err(|e| format!("{}: {e}", tmp.0.display()))?;
    Ok(tmp)
}

fn case_args(lua: &Lua, case: &Case) -> Result<Vec<Value>, String> {
    case.args
        .iter()
        .map(|&a| arg_value(lua, a))
        .collect::<mlua::Result<_>>()
        .map_err(|e| e.to_string())
}

/// Reports the cells that failed (not the cases a binding does not cover); true when none did.
fn report_errors(cases: &[&Case], cells: &[Vec<Cell>]) -> bool {
    let mut all_ok = true;
    for (case, row) in cases.iter().zip(cells) {
        for (b, cell) in BINDINGS.iter().zip(row) {
            if let Err(e) = cell {
                if e != NOT_APPLICABLE {
                    eprintln!("error: {} via {}: {e}", case.name, b.key);
                    all_ok = false;
                }
            }
        }
    }
    all_ok
}

fn write_result(name: &str, json: &str) {
    let path = target_dir().join(name);
    match std::fs::create_dir_all(path.parent().unwrap()).and_then(|()| std::fs::write(&path, json))
    {
        Ok(()) => println!("results written to {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}

/// Wall time: runs the benchmark; `Ok(false)` when some binding failed for some function.
fn run_time(opts: &Options) -> Result<bool, String> {
    let cases = selected_cases(opts)?;
    let tmp = temp_dir()?;
    let art = build_c(&tmp.0)?;

    // SAFETY: the benchmark loads C modules on purpose (package.loadlib).
    let lua = unsafe { Lua::unsafe_new() };
    let version: String = lua.globals().get("_VERSION").map_err(|e| e.to_string())?;

    // functions[binding][case]
    let functions: Vec<Bound> = BINDINGS
        .iter()
        .map(|b| match (b.load)(&lua, &art, &cases) {
            Ok(fs) => fs,
            Err(e) => cases.iter().map(|_| Err(e.clone())).collect(),
        })
        .collect();

    println!(
        "bench calls: {version} (mlua vendored), {} repetition(s), {}",
        opts.reps,
        match opts.fixed_n {
            Some(n) => format!("{n} iterations per measurement"),
            None => format!("~{TARGET_SECONDS} s per measurement"),
        }
    );
    if opts.quick {
        println!("quick run: the figures are not meaningful");
    }

    // cells[case][binding]
    let mut cells: Vec<Vec<Cell>> = Vec::new();
    for (ci, case) in cases.iter().enumerate() {
        let runner = loop_chunk(&lua, case).map_err(|e| e.to_string())?;
        let args = case_args(&lua, case)?;
        // Check and calibrate every binding, then interleave the repetitions.
        let mut plan: Vec<Result<(Function, u64), String>> = BINDINGS
            .iter()
            .enumerate()
            .map(|(bi, _)| {
                let f = functions[bi][ci].clone()?;
                check(&f, case, &args)?;
                let n = match opts.fixed_n {
                    Some(n) => n,
                    None => calibrate(&runner, &f, &args)?,
                };
                Ok((f, n))
            })
            .collect();
        let mut best: Vec<Option<Duration>> = vec![None; BINDINGS.len()];
        for _ in 0..opts.reps {
            for (bi, slot) in plan.iter_mut().enumerate() {
                let Ok((f, n)) = slot else { continue };
                lua.gc_collect().map_err(|e| e.to_string())?;
                match time_loop(&runner, f, *n, &args) {
                    Ok(t) => best[bi] = Some(best[bi].map_or(t, |b| b.min(t))),
                    Err(e) => *slot = Err(e),
                }
            }
        }
        cells.push(
            plan.into_iter()
                .zip(best)
                .map(|(slot, t)| {
                    let (_, n) = slot?;
                    let t = t.ok_or("not measured")?;
                    Ok(Measured {
                        per_call: t.as_secs_f64() * 1e9 / n as f64,
                        iterations: n,
                    })
                })
                .collect(),
        );
    }

    println!(
        "\nns per call (the Lua loop included), best of {}:",
        opts.reps
    );
    print_table("ns/call", 2, &cases, &cells);
    let all_ok = report_errors(&cases, &cells);
    let json = to_json(
        "time",
        "ns_per_call",
        &[
            ("quick", opts.quick.to_string()),
            ("reps", opts.reps.to_string()),
            ("lua", json_str(&version)),
        ],
        &cases,
        &cells,
    );
    write_result("bench-calls.json", &json);
    Ok(all_ok)
}

/// A callgrind child: binds one case through one binding, checks it, runs its loop `n` times
/// and exits. Everything but the loop is the same at every `n`, so it cancels in the slope.
fn run_child(spec: &str) -> Result<(), String> {
    let parts: Vec<&str> = spec.split('|').collect();
    let [case_name, binding_key, n] = parts[..] else {
        return Err(format!("{CHILD_ENV}={spec:?}: expected case|binding|n"));
    };
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{CHILD_ENV}={spec:?}: bad n"))?;
    let dir = std::env::var_os(ARTIFACTS_ENV).ok_or(format!("{ARTIFACTS_ENV} is not set"))?;
    let art = Artifacts::in_dir(Path::new(&dir));
    // SAFETY: the benchmark loads C modules on purpose (package.loadlib).
    let lua = unsafe { Lua::unsafe_new() };
    if case_name == "bind" {
        return compile_signatures(&lua, &art, n as usize);
    }
    if case_name == "empty" {
        return lua
            .load("local n = ...\nfor _ = 1, n do end\n")
            .set_name("=empty loop")
            .call::<()>(n as i64)
            .map_err(|e| e.to_string());
    }
    let case = CASES
        .iter()
        .find(|c| c.name == case_name)
        .ok_or(format!("no case {case_name}"))?;
    let binding = BINDINGS
        .iter()
        .find(|b| b.key == binding_key)
        .ok_or(format!("no binding {binding_key}"))?;
    let f = (binding.load)(&lua, &art, &[case])?.remove(0)?;
    let runner = loop_chunk(&lua, case).map_err(|e| e.to_string())?;
    let args = case_args(&lua, case)?;
    check(&f, case, &args)?;
    time_loop(&runner, &f, n, &args).map(|_| ())
}

/// Runs one callgrind child; returns the instructions it executed (in the whole process, or
/// inside the functions `collect` names).
fn callgrind_ir(
    art: &Artifacts,
    spec: &str,
    out: &Path,
    collect: Option<&str>,
) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let result = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .args(collect.map(|f| format!("--toggle-collect={f}")))
        .arg(&exe)
        .env(CHILD_ENV, spec)
        .env(ARTIFACTS_ENV, &art.dir)
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        return Err(format!(
            "valgrind {spec}: {}\n{}",
            result.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    let text = std::fs::read_to_string(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let _ = std::fs::remove_file(out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no totals in {}", out.display()))
}

/// Instructions per call: every (case, binding) loop under callgrind at two lengths, the
/// slope minus the slope of the empty loop.
fn run_callgrind(opts: &Options) -> Result<bool, String> {
    let cases = selected_cases(opts)?;
    let version = Command::new("valgrind")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run valgrind ({e}): apt-get install valgrind"))?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let tmp = temp_dir()?;
    let art = build_c(&tmp.0)?;

    // Jobs: (case index or None for the empty loop, binding index, n).
    let mut jobs: Vec<(Option<usize>, usize, u64)> = Vec::new();
    for n in [CALLGRIND_SHORT, CALLGRIND_LONG] {
        jobs.push((None, 0, n));
        for (ci, case) in cases.iter().enumerate() {
            for (bi, b) in BINDINGS.iter().enumerate() {
                if (b.covers)(case) {
                    jobs.push((Some(ci), bi, n));
                }
            }
        }
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "bench calls --callgrind: {version}, {} runs on {workers} thread(s), loops of \
         {CALLGRIND_SHORT} and {CALLGRIND_LONG} iterations",
        jobs.len()
    );
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<u64, String>>>> =
        jobs.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(case, bi, n)) = jobs.get(j) else {
                    break;
                };
                let spec = match case {
                    Some(ci) => format!("{}|{}|{n}", cases[ci].name, BINDINGS[bi].key),
                    None => format!("empty|-|{n}"),
                };
                let out = tmp.0.join(format!("callgrind.{j}.out"));
                *results[j].lock().unwrap() = Some(callgrind_ir(&art, &spec, &out, None));
            });
        }
    });
    let ir = |case: Option<usize>, bi: usize, n: u64| -> Result<u64, String> {
        let j = jobs
            .iter()
            .position(|&job| job == (case, bi, n))
            .ok_or(NOT_APPLICABLE)?;
        results[j]
            .lock()
            .unwrap()
            .take()
            .unwrap_or(Err("not run".into()))
    };
    let span = (CALLGRIND_LONG - CALLGRIND_SHORT) as f64;
    let slope = |case: Option<usize>, bi: usize| -> Result<f64, String> {
        let long = ir(case, bi, CALLGRIND_LONG)?;
        let short = ir(case, bi, CALLGRIND_SHORT)?;
        Ok((long as f64 - short as f64) / span)
    };
    let empty = slope(None, 0).map_err(|e| format!("the empty loop: {e}"))?;
    let cells: Vec<Vec<Cell>> = (0..cases.len())
        .map(|ci| {
            (0..BINDINGS.len())
                .map(|bi| {
                    Ok(Measured {
                        per_call: slope(Some(ci), bi)? - empty,
                        iterations: CALLGRIND_LONG,
                    })
                })
                .collect()
        })
        .collect();
    println!(
        "\ninstructions per call (callgrind Ir slope between the two loop lengths, minus the \
         empty loop's {empty:.1}):"
    );
    print_table("instr/call", 0, &cases, &cells);
    let all_ok = report_errors(&cases, &cells);
    let json = to_json(
        "callgrind",
        "instructions_per_call",
        &[
            ("valgrind", json_str(&version)),
            ("short", CALLGRIND_SHORT.to_string()),
            ("long", CALLGRIND_LONG.to_string()),
            ("empty_loop", format!("{empty:.3}")),
        ],
        &cases,
        &cells,
    );
    write_result("bench-calls-callgrind.json", &json);
    write_result(
        "bench-calls-callgrind.svg",
        &callgrind_chart(&cases, &cells),
    );
    Ok(all_ok)
}

/// The bar chart of instructions per call (`docs/bench-calls.svg` is a copy): one group per
/// function, one bar per binding.
fn callgrind_chart(cases: &[&Case], cells: &[Vec<Cell>]) -> String {
    let titles: Vec<&str> = BINDINGS.iter().map(|b| b.title).collect();
    let groups: Vec<chart::Group> = cases
        .iter()
        .zip(cells)
        .map(|(case, row)| chart::Group {
            label: case.name.to_string(),
            detail: case.signature(),
            values: row
                .iter()
                .map(|c| c.as_ref().ok().map(|m| m.per_call))
                .collect(),
        })
        .collect();
    chart::bar_chart(
        "Instructions per Lua-to-C call (cargo bench --bench calls -- --callgrind)",
        "instructions per call",
        &titles,
        &groups,
    )
}

/// `BIND_SIGNATURES` distinct signatures: every parameter list of 1, 2, 3... types in order,
/// with a return type cycling through a few.
fn bind_signatures() -> Vec<(&'static str, Vec<&'static str>)> {
    const PARAMS: &[&str] = &[
        "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "pointer", "string",
    ];
    const RETS: &[&str] = &["void", "i32", "f64", "u8", "i64", "f32", "pointer", "u16"];
    let mut sigs = Vec::new();
    let mut len = 1;
    while sigs.len() < BIND_SIGNATURES {
        let count = PARAMS.len().pow(len);
        for k in 0..count {
            if sigs.len() == BIND_SIGNATURES {
                break;
            }
            let mut rest = k;
            let params = (0..len)
                .map(|_| {
                    let t = PARAMS[rest % PARAMS.len()];
                    rest /= PARAMS.len();
                    t
                })
                .collect();
            sigs.push((RETS[sigs.len() % RETS.len()], params));
        }
        len += 1;
    }
    sigs
}

/// The median and the 90th percentile (nearest rank) of `v`, in µs.
fn median_p90(v: &mut [Duration]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    v.sort();
    let at = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5).as_secs_f64() * 1e6, at(0.9).as_secs_f64() * 1e6)
}

/// A callgrind child: binds `count` of the bind-time signatures (after `void()`, which starts
/// the engine), each a new one.
fn compile_signatures(lua: &Lua, art: &Artifacts, count: usize) -> Result<(), String> {
    let lib = open_moonthunk(lua, art)?;
    let bind = moonthunk_binder(lua)?;
    let first_use: Function = lua
        .load(r#"return require("moonthunk").thunkAddress"#)
        .eval()
        .map_err(|e| e.to_string())?;
    let none = lua.create_table().map_err(|e| e.to_string())?;
    let noop = bind
        .call::<Function>((lib.clone(), "noop", "void", none))
        .map_err(|e| e.to_string())?;
    first_use.call::<()>(noop).map_err(|e| e.to_string())?;
    for (ret, params) in bind_signatures().into_iter().take(count) {
        let params = lua
            .create_sequence_from(params)
            .map_err(|e| e.to_string())?;
        let f = bind
            .call::<Function>((lib.clone(), "noop", ret, params))
            .map_err(|e| e.to_string())?;
        first_use.call::<()>(f).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Host instructions per new signature's compile (everything inside `Jit::thunk`), counted by
/// callgrind: machine-independent where the bind times are not. `None` without valgrind.
fn compile_instructions(art: &Artifacts) -> Option<Result<f64, String>> {
    Command::new("valgrind").arg("--version").output().ok()?;
    let out = art.dir.join("bind.callgrind");
    let spec = format!("bind|moonthunk|{BIND_CALLGRIND_SIGNATURES}");
    Some(
        callgrind_ir(art, &spec, &out, Some(COMPILE_FUNCTION))
            .map(|ir| ir as f64 / (BIND_CALLGRIND_SIGNATURES + 1) as f64),
    )
}

/// Bind-time costs. Binding compiles nothing, so each measurement says what it makes happen:
/// `lib:bind` of `BIND_SIGNATURES` new signatures and their first use (`thunkAddress`, which
/// compiles what a first call compiles: the shared thunk), then the same on other symbols
/// (cached thunks); the load of a `DECLARED_FUNCTIONS`-function interface through each face
/// (nothing compiled); the optimizing tier's compile of a specialized thunk per parameter
/// count; code bytes.
fn run_bind() -> Result<bool, String> {
    let tmp = temp_dir()?;
    let art = build_c(&tmp.0)?;
    // SAFETY: as in run_time.
    let lua = unsafe { Lua::unsafe_new() };
    let lib = open_moonthunk(&lua, &art)?;
    let bind = moonthunk_binder(&lua)?;
    let first_use: Function = lua
        .load(r#"return require("moonthunk").thunkAddress"#)
        .eval()
        .map_err(|e| e.to_string())?;
    let stats: Function = lua
        .load(
            r#"local s = require("moonthunk").stats() return s.thunks, s.codeBytes, s.specialized"#,
        )
        .into_function()
        .map_err(|e| e.to_string())?;
    let stats = || stats.call::<(u64, u64, u64)>(()).map_err(|e| e.to_string());
    // The symbols bound (the calls never happen): the functions of the plain rows.
    let names: Vec<&str> = CASES
        .iter()
        .filter(|c| c.memory.is_none() && !c.name.contains(' '))
        .map(|c| c.name)
        .collect();
    let sigs = bind_signatures();
    let tables: Vec<Table> = sigs
        .iter()
        .map(|(_, params)| lua.create_sequence_from(params.iter().copied()))
        .collect::<mlua::Result<_>>()
        .map_err(|e| e.to_string())?;
    // Start the engine (ISA, module) outside the measurement.
    let none = lua.create_table().map_err(|e| e.to_string())?;
    let noop = bind
        .call::<Function>((lib.clone(), "noop", "void", none))
        .map_err(|e| e.to_string())?;
    first_use.call::<()>(noop).map_err(|e| e.to_string())?;
    lua.gc_collect().map_err(|e| e.to_string())?;

    let mut keep = Vec::with_capacity(2 * sigs.len());
    let mut bind_and_use = |symbol_shift: usize| -> Result<(Vec<Duration>, usize), String> {
        let mut compiled = Vec::new();
        let mut cached = 0;
        for (i, ((ret, _), params)) in sigs.iter().zip(&tables).enumerate() {
            let (before, _, _) = stats()?;
            let start = Instant::now();
            let f = bind
                .call::<Function>((
                    lib.clone(),
                    names[(i + symbol_shift) % names.len()],
                    *ret,
                    params,
                ))
                .map_err(|e| e.to_string())?;
            first_use.call::<()>(&f).map_err(|e| e.to_string())?;
            let t = start.elapsed();
            keep.push(f);
            if stats()?.0 > before {
                compiled.push(t);
            } else {
                cached += 1;
            }
        }
        Ok((compiled, cached))
    };
    let (thunks0, bytes0, _) = stats()?;
    let (mut new, not_compiled) = bind_and_use(0)?;
    let (thunks1, bytes1, _) = stats()?;
    let cached_start = Instant::now();
    let (compiled_again, cached_count) = bind_and_use(1)?;
    let cached_us = cached_start.elapsed().as_secs_f64() * 1e6 / sigs.len() as f64;

    let (thunks2, _, specialized2) = stats()?;
    let declared = declared_interface_loads(&lua, &art)?;
    let (thunks3, _, specialized3) = stats()?;
    if (thunks3, specialized3) != (thunks2, specialized2) {
        return Err(format!(
            "loading declared interfaces compiled {} thunks and {} specialized thunks",
            thunks3 - thunks2,
            specialized3 - specialized2
        ));
    }
    let (_, bytes4, specialized4) = stats()?;
    let promotions = specialized_compiles(&lua, &art)?;
    let (_, bytes5, specialized5) = stats()?;

    let compiled = thunks1 - thunks0;
    let bytes = bytes1 - bytes0;
    let per_sig = bytes as f64 / compiled.max(1) as f64;
    let per_specialized = (bytes5 - bytes4) as f64 / (specialized5 - specialized4).max(1) as f64;
    let (new_median, new_p90) = median_p90(&mut new);

    println!(
        "bench calls --bind: lib:bind of {} distinct signatures (1 to {} parameters) and their \
         first use, then the same on other symbols",
        sigs.len(),
        sigs.iter().map(|(_, p)| p.len()).max().unwrap_or(0)
    );
    println!();
    println!("| binding | count | median µs | p90 µs |");
    println!("|---|---:|---:|---:|");
    println!(
        "| new signature: bind and first use (compiles the shared thunk) | {} | {new_median:.1} \
         | {new_p90:.1} |",
        new.len()
    );
    println!(
        "| cached signature: bind and first use (mean) | {cached_count} | {cached_us:.2} | - |"
    );
    for (face, per_function) in &declared {
        println!(
            "| {face}: one of {DECLARED_FUNCTIONS} declared functions (nothing compiled; mean) | \
             {DECLARED_FUNCTIONS} | {per_function:.2} | - |"
        );
    }
    for (params, median, p90) in &promotions {
        println!(
            "| specialized thunk of {params} parameter(s) (optimizing tier, what promotion \
             compiles) | {SPECIALIZED_REPS} | {median:.1} | {p90:.1} |"
        );
    }
    println!();
    println!(
        "code: {bytes} bytes for {compiled} thunks, {per_sig:.0} bytes per signature; \
         {per_specialized:.0} bytes per specialized thunk (stats().codeBytes)"
    );
    let compile_ir = match compile_instructions(&art) {
        Some(Ok(ir)) => {
            println!(
                "compile: {ir:.0} host instructions per new signature (callgrind, inside \
                 Jit::thunk, the first {BIND_CALLGRIND_SIGNATURES} signatures)"
            );
            format!("{ir:.0}")
        }
        Some(Err(e)) => return Err(e),
        None => {
            println!("compile: host instructions not counted (valgrind not found)");
            "null".to_string()
        }
    };
    if not_compiled > 0 || !compiled_again.is_empty() {
        println!(
            "note: {not_compiled} new signature(s) shared a thunk with an earlier one; \
             {} rebind(s) compiled",
            compiled_again.len()
        );
    }
    let declared_json: Vec<String> = declared
        .iter()
        .map(|(face, us)| format!("\"{face}\": {us:.3}"))
        .collect();
    let promotions_json: Vec<String> = promotions
        .iter()
        .map(|(n, median, p90)| {
            format!("{{\"params\": {n}, \"median_us\": {median:.3}, \"p90_us\": {p90:.3}}}")
        })
        .collect();
    let json = format!(
        "{{\n  \"bench\": \"calls\",\n  \"mode\": \"bind\",\n  \"signatures\": {},\n  \
         \"new\": {{\"count\": {}, \"median_us\": {new_median:.3}, \"p90_us\": {new_p90:.3}}},\n  \
         \"cached\": {{\"count\": {cached_count}, \"mean_us\": {cached_us:.3}}},\n  \
         \"declared_us_per_function\": {{{}}},\n  \
         \"specialized\": [{}],\n  \
         \"thunks_compiled\": {compiled},\n  \"code_bytes\": {bytes},\n  \
         \"code_bytes_per_signature\": {per_sig:.1},\n  \
         \"code_bytes_per_specialized\": {per_specialized:.1},\n  \
         \"compile_instructions_per_signature\": {compile_ir}\n}}\n",
        sigs.len(),
        new.len(),
        declared_json.join(", "),
        promotions_json.join(", "),
    );
    write_result("bench-calls-bind.json", &json);
    drop(keep);
    Ok(true)
}

/// The functions of the declared-interface measurement.
const DECLARED_FUNCTIONS: usize = 500;

/// µs per declared function of loading a `DECLARED_FUNCTIONS`-function interface (the
/// signatures of `bind_signatures`, on the empty functions of `decls`), for each face: the
/// native `ffi.load(path, interface)`, Alien's `lib.name` and `types`, C/Invoke's
/// `get_function`. The mean of five loads, each of a fresh library object.
fn declared_interface_loads(
    lua: &Lua,
    art: &Artifacts,
) -> Result<Vec<(&'static str, f64)>, String> {
    let sigs = bind_signatures();
    let interface = lua.create_table().map_err(|e| e.to_string())?;
    for (i, (ret, params)) in sigs.iter().take(DECLARED_FUNCTIONS).enumerate() {
        let decl = lua.create_table().map_err(|e| e.to_string())?;
        decl.set("ret", *ret).map_err(|e| e.to_string())?;
        decl.set(
            "args",
            lua.create_sequence_from(params.iter().copied())
                .map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        interface
            .set(format!("mt_decl_{i}"), decl)
            .map_err(|e| e.to_string())?;
    }
    let loaders: [(&'static str, &str); 3] = [
        (
            "native ffi.load(path, interface)",
            r#"local path, interface = ...
            return function() return require("moonthunk").load(path, interface) end"#,
        ),
        (
            "Alien lib.name and :types",
            r#"local path, interface = ...
            local alien = require("alien")
            local names = { i8 = "byte", u8 = "char", i16 = "short", u16 = "ushort", i32 = "int",
                u32 = "uint", i64 = "longlong", u64 = "ulonglong", f32 = "float", f64 = "double",
                pointer = "pointer", string = "string", void = "void" }
            local decls = {}
            for name, decl in pairs(interface) do
                local types = { names[decl.ret] }
                for i, t in ipairs(decl.args) do types[i + 1] = names[t] end
                decls[name] = types
            end
            return function()
                local lib = alien.load(path)
                for name, types in pairs(decls) do lib[name]:types(table.unpack(types)) end
                return lib
            end"#,
        ),
        (
            "C/Invoke get_function",
            r#"local path, interface = ...
            require("cinvoke_lua")
            local names = { i8 = Cchar, u8 = Cchar, i16 = Cint16, u16 = Cshort, i32 = Cint32,
                u32 = Cint, i64 = Cint64, u64 = Clonglong, f32 = Cfloat, f64 = Cdouble,
                pointer = Cptr, string = Cstring, void = Cvoid }
            local decls = {}
            for name, decl in pairs(interface) do
                local types = { names[decl.ret], name }
                for i, t in ipairs(decl.args) do types[i + 2] = names[t] end
                decls[name] = types
            end
            return function()
                local lib = clibrary.new(path)
                local fs = {}
                for name, types in pairs(decls) do fs[name] = lib:get_function(table.unpack(types)) end
                return fs
            end"#,
        ),
    ];
    let path = art.decls.to_str().ok_or("non-UTF-8 temporary path")?;
    let mut results = Vec::new();
    for (face, source) in loaders {
        let load: Function = lua
            .load(source)
            .set_name(format!("={face}"))
            .call((path, &interface))
            .map_err(|e| format!("{face}: {e}"))?;
        load.call::<Value>(()).map_err(|e| format!("{face}: {e}"))?;
        let mut total = Duration::ZERO;
        for _ in 0..5 {
            lua.gc_collect().map_err(|e| e.to_string())?;
            let start = Instant::now();
            let loaded = load.call::<Value>(()).map_err(|e| format!("{face}: {e}"))?;
            total += start.elapsed();
            drop(loaded);
        }
        results.push((
            face,
            total.as_secs_f64() * 1e6 / (5 * DECLARED_FUNCTIONS) as f64,
        ));
    }
    Ok(results)
}

/// Parameter counts of the optimizing tier's compile-time measurement.
const SPECIALIZED_PARAMS: [usize; 4] = [1, 4, 8, 16];
/// Compiles per parameter count.
const SPECIALIZED_REPS: usize = 30;

/// The optimizing tier's latency: median and p90 µs of binding a function with a thunk
/// specialized for it (what a hot function's promotion compiles), for signatures of
/// `SPECIALIZED_PARAMS` parameters mixing integers, floats and pointers.
fn specialized_compiles(lua: &Lua, art: &Artifacts) -> Result<Vec<(usize, f64, f64)>, String> {
    let path = art.decls.to_str().ok_or("non-UTF-8 temporary path")?;
    // Open for the life of the process: the functions' keeper is nil.
    let library: &'static moonthunk::library::Library = Box::leak(Box::new(
        moonthunk::library::Library::open(Some(path)).map_err(|e| e.to_string())?,
    ));
    let target = library.symbol("mt_decl_0").map_err(|e| e.to_string())?;
    let kinds = ["i32", "f64", "pointer", "i64", "u8", "f32"];
    let mut results = Vec::new();
    for n in SPECIALIZED_PARAMS {
        let params: Vec<&str> = (0..n).map(|i| kinds[i % kinds.len()]).collect();
        let sig = moonthunk::function::Signature::parse("i64", params.iter().copied())
            .map_err(|e| e.to_string())?;
        let mut times = Vec::with_capacity(SPECIALIZED_REPS);
        for _ in 0..SPECIALIZED_REPS {
            let start = Instant::now();
            // SAFETY: the function is bound, never called.
            let f = unsafe {
                moonthunk::function::bind(
                    lua,
                    "mt_decl_0",
                    target,
                    &sig,
                    Value::Nil,
                    moonthunk::function::Thunking::Specialized,
                )
            }
            .map_err(|e| e.to_string())?;
            times.push(start.elapsed());
            drop(f);
        }
        let (median, p90) = median_p90(&mut times);
        results.push((n, median, p90));
    }
    Ok(results)
}

fn ratio(row: &[Cell], num: &str, den: &str) -> Option<f64> {
    match (&row[binding_index(num)], &row[binding_index(den)]) {
        (Ok(n), Ok(d)) => Some(n.per_call / d.per_call),
        _ => None,
    }
}

/// Prints a Markdown table: one column per binding, then the `RATIOS`.
fn print_table(unit: &str, decimals: usize, cases: &[&Case], cells: &[Vec<Cell>]) {
    let mut header = vec!["function".to_string()];
    header.extend(BINDINGS.iter().map(|b| format!("{} {unit}", b.title)));
    header.extend(RATIOS.iter().map(|(title, _, _)| title.to_string()));
    let mut rows = vec![header];
    for (case, row) in cases.iter().zip(cells) {
        let mut line = vec![format!("{} {}", case.name, case.signature())];
        line.extend(row.iter().map(|c| match c {
            Ok(m) => format!("{:.*}", decimals, m.per_call),
            Err(e) if e == NOT_APPLICABLE => NOT_APPLICABLE.to_string(),
            Err(_) => "error".to_string(),
        }));
        line.extend(
            RATIOS.iter().map(|(_, num, den)| {
                ratio(row, num, den).map_or("-".into(), |r| format!("{r:.2}"))
            }),
        );
        rows.push(line);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    println!();
    for (ri, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (s, &w))| {
                if i == 0 {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        println!("| {} |", line.join(" | "));
        if ri == 0 {
            let rule: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(i, &w)| {
                    if i == 0 {
                        "-".repeat(w + 2)
                    } else {
                        format!("{}:", "-".repeat(w + 1))
                    }
                })
                .collect();
            println!("|{}|", rule.join("|"));
        }
    }
    println!();
}

/// Where `bench-calls.json` goes: `$CARGO_TARGET_DIR`, else the `target` directory this
/// executable was built in (`target/release/deps/calls-*`), else `./target`.
fn target_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return manifest.join(dir);
    }
    if let Ok(exe) = std::env::current_exe() {
        let deps = exe.parent();
        if deps
            .and_then(|d| d.file_name())
            .is_some_and(|n| n == "deps")
        {
            if let Some(target) = deps.and_then(|d| d.parent()).and_then(|p| p.parent()) {
                return target.to_path_buf();
            }
        }
    }
    manifest.join("target")
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The results as JSON: `meta` holds extra top-level fields (already JSON values).
fn to_json(
    mode: &str,
    unit: &str,
    meta: &[(&str, String)],
    cases: &[&Case],
    cells: &[Vec<Cell>],
) -> String {
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut s = String::new();
    s.push_str("{\n");
    writeln!(s, "  \"bench\": \"calls\",").unwrap();
    writeln!(s, "  \"mode\": {},", json_str(mode)).unwrap();
    writeln!(s, "  \"unix_time\": {unix_time},").unwrap();
    for (key, value) in meta {
        writeln!(s, "  {}: {value},", json_str(key)).unwrap();
    }
    writeln!(s, "  \"unit\": {},", json_str(unit)).unwrap();
    let keys: Vec<String> = BINDINGS.iter().map(|b| json_str(b.key)).collect();
    writeln!(s, "  \"bindings\": [{}],", keys.join(", ")).unwrap();
    s.push_str("  \"results\": [\n");
    for (i, (case, row)) in cases.iter().zip(cells).enumerate() {
        s.push_str("    {\n");
        writeln!(s, "      \"function\": {},", json_str(case.name)).unwrap();
        writeln!(s, "      \"signature\": {},", json_str(&case.signature())).unwrap();
        s.push_str("      \"bindings\": {\n");
        for (j, (b, cell)) in BINDINGS.iter().zip(row).enumerate() {
            let body = match cell {
                Ok(m) => format!(
                    "{}: {:.3}, \"iterations\": {}",
                    json_str(unit),
                    m.per_call,
                    m.iterations
                ),
                Err(e) => format!("\"error\": {}", json_str(e)),
            };
            let comma = if j + 1 < BINDINGS.len() { "," } else { "" };
            writeln!(s, "        {}: {{{body}}}{comma}", json_str(b.key)).unwrap();
        }
        s.push_str("      },\n");
        let ratios: Vec<String> = RATIOS
            .iter()
            .filter_map(|(_, num, den)| {
                let r = ratio(row, num, den)?;
                Some(format!("{}: {r:.4}", json_str(&format!("{num}/{den}"))))
            })
            .collect();
        writeln!(s, "      \"ratios\": {{{}}}", ratios.join(", ")).unwrap();
        let comma = if i + 1 < cases.len() { "," } else { "" };
        writeln!(s, "    }}{comma}").unwrap();
    }
    s.push_str("  ]\n}\n");
    s
}
