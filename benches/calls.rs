//! `cargo bench --bench calls`: the cost of one Lua-to-C call, through moonthunk's thunks and
//! through a hand-written Lua C API binding of the same C functions, in the same run.
//!
//! The C side lives in `benches/c/`: `target.c` (the functions called) and `handbind.c` (the
//! hand-written binding). Both are compiled with the system C compiler at run time into a
//! temporary directory; the binding's `lua_*` symbols resolve from this executable, which
//! embeds mlua's vendored Lua and is linked with `-rdynamic` (see `build.rs`). The Lua headers
//! come from the system (`apt-get install liblua5.4-dev`).
//!
//! Every binding of a function is timed by the same Lua loop
//! (`local f, n, a1, ... = ...; for _ = 1, n do f(a1, ...) end`), with the iteration count
//! calibrated for about `TARGET_SECONDS` per measurement; the best of `REPS` interleaved
//! repetitions is reported as ns per call of the loop as is (loop overhead included), with
//! the ratio of each binding to the hand-written one. Results also go to
//! `target/bench-calls.json`.
//!
//! Options (after `cargo bench --bench calls --`):
//! - `--quick` or `MOONTHUNK_BENCH_QUICK=1`: small fixed iteration count, one repetition (a
//!   smoke run, figures are not meaningful).
//! - `MOONTHUNK_BENCH_N=<n>`: a fixed iteration count instead of calibration.
//! - `MOONTHUNK_BENCH_REPS=<r>`: the number of repetitions.
//! - any other argument: run only the functions whose name contains it.
//! - `CC` (default `cc`) and `MOONTHUNK_LUA_INCLUDE` (default: the first of
//!   `/usr/include/lua5.4`, `/usr/local/include/lua5.4`, `/usr/include/lua`, `/usr/include`
//!   holding `lua.h`) choose the compiler and the Lua headers.
//!
//! Adding a function: a row in `CASES` and the C function in `target.c` (and its binding in
//! `handbind.c`). Adding a binding: an entry in `BINDINGS`, whose loader returns one Lua
//! function (or an error) per case.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use mlua::{Function, Lua, MultiValue, Table, Value};

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
}

/// What a call must return.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Nothing,
    Int(i64),
    Num(f64),
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
        name: "add_i32",
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
        name: "str_len",
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
                return { b, lib:bind("buf_sum", "u32", { "pointer", "usize" }) }"#,
            handbind: r#"local m = ...
                local b = m.new_buffer(16)
                m.buffer_fill(b, 1)
                return { b, m.buf_sum }"#,
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
                return { lib:bind("call_cb", "i32", { "pointer", "i32", "i32" }), cb }"#,
            handbind: r#"local m = ...
                return { m.call_cb, function(a, b) return a + b end }"#,
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

impl Case {
    fn signature(&self) -> String {
        format!("{}({})", self.ret, self.params.join(", "))
    }
}

/// The compiled C side.
struct Artifacts {
    /// The shared library holding the target functions.
    target: PathBuf,
    /// The hand-written Lua C module (`luaopen_handbind`).
    handbind: PathBuf,
}

/// One Lua function per case (in `cases` order), or why that case could not be bound.
type Bound = Vec<Result<Function, String>>;

/// One way of calling the C functions from Lua. The first binding is the baseline of the
/// ratios.
struct Binding {
    /// The key in the JSON output.
    key: &'static str,
    /// The column title.
    title: &'static str,
    /// Makes one Lua function per case, or says why it could not.
    load: fn(&Lua, &Artifacts, &[&Case]) -> Result<Bound, String>,
}

const BINDINGS: &[Binding] = &[
    Binding {
        key: "handbind",
        title: "hand-written",
        load: load_handbind,
    },
    Binding {
        key: "moonthunk",
        title: "moonthunk",
        load: load_moonthunk,
    },
];

fn load_handbind(lua: &Lua, art: &Artifacts, cases: &[&Case]) -> Result<Bound, String> {
    let module: Table = lua
        .load(
            r#"
            local path = ...
            local open, err = package.loadlib(path, "luaopen_handbind")
            if not open then error("package.loadlib: " .. tostring(err), 0) end
            return open()
            "#,
        )
        .set_name("=handbind loader")
        .call(art.handbind.to_str().ok_or("non-UTF-8 temporary path")?)
        .map_err(|e| e.to_string())?;
    Ok(cases
        .iter()
        .map(|case| match &case.memory {
            Some(memory) => memory_loop(
                lua,
                memory,
                memory.handbind,
                MultiValue::from_iter([Value::Table(module.clone())]),
            ),
            None => match module.get::<Value>(case.name) {
                Ok(Value::Function(f)) => Ok(f),
                Ok(other) => Err(format!("handbind.{} is a {}", case.name, other.type_name())),
                Err(e) => Err(e.to_string()),
            },
        })
        .collect())
}

fn load_moonthunk(lua: &Lua, art: &Artifacts, cases: &[&Case]) -> Result<Bound, String> {
    moonthunk::open(lua).map_err(|e| e.to_string())?;
    let lib: Value = lua
        .load(r#"return require("moonthunk").open(...)"#)
        .set_name("=moonthunk loader")
        .call(art.target.to_str().ok_or("non-UTF-8 temporary path")?)
        .map_err(|e| e.to_string())?;
    let bind: Function = lua
        .load(
            r#"
            local lib, name, ret, params = ...
            return lib:bind(name, ret, params)
            "#,
        )
        .set_name("=moonthunk bind")
        .into_function()
        .map_err(|e| e.to_string())?;
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
            let params = lua.create_sequence_from(case.params.iter().copied());
            params
                .and_then(|params| {
                    bind.call::<Function>((lib.clone(), case.name, case.ret, params))
                })
                .map_err(|e| e.to_string())
        })
        .collect())
}

struct Options {
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
    let mut filters = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
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
    let target = dir.join("libmtbench_target.so");
    let handbind = dir.join("handbind.so");
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    run_cc(&[
        os("-O2"),
        os("-shared"),
        os("-fPIC"),
        os("-o"),
        target.as_os_str(),
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
        handbind.as_os_str(),
        src.join("handbind.c").as_os_str(),
        lib_dir_flag.as_ref(),
        os("-lmtbench_target"),
        rpath_flag.as_ref(),
    ])?;
    Ok(Artifacts { target, handbind })
}

fn arg_value(lua: &Lua, arg: Arg) -> mlua::Result<Value> {
    Ok(match arg {
        Arg::Int(i) => Value::Integer(i),
        Arg::Num(n) => Value::Number(n),
        Arg::Str(s) => Value::String(lua.create_string(s)?),
    })
}

/// Calls `f` once with the case's arguments and checks the result.
fn check(f: &Function, case: &Case, args: &[Value]) -> Result<(), String> {
    let results: MultiValue = f
        .call(MultiValue::from_iter(args.iter().cloned()))
        .map_err(|e| e.to_string())?;
    let first = results.front().cloned().unwrap_or(Value::Nil);
    let ok = match (case.expect, &first) {
        (Expect::Nothing, _) => results.is_empty() || matches!(first, Value::Nil),
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
    let source = format!(
        "{head} = ...\nfor _ = 1, n do f({}) end\n",
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

/// A measurement of one binding of one case.
struct Measured {
    ns_per_call: f64,
    iterations: u64,
}

type Cell = Result<Measured, String>;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench calls: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the benchmark; `Ok(false)` when some binding failed for some function.
fn run() -> Result<bool, String> {
    let opts = options()?;
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| {
            opts.filters.is_empty() || opts.filters.iter().any(|f| c.name.contains(f.as_str()))
        })
        .collect();
    if cases.is_empty() {
        return Err(format!("no function matches {:?}", opts.filters));
    }

    let tmp =
        TempDir(std::env::temp_dir().join(format!("moonthunk-bench-calls-{}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).map_err(|e| format!("{}: {e}", tmp.0.display()))?;
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
        let args: Vec<Value> = case
            .args
            .iter()
            .map(|&a| arg_value(&lua, a))
            .collect::<mlua::Result<_>>()
            .map_err(|e| e.to_string())?;
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
                        ns_per_call: t.as_secs_f64() * 1e9 / n as f64,
                        iterations: n,
                    })
                })
                .collect(),
        );
    }

    print_table(&cases, &cells);
    let all_ok = cells.iter().flatten().all(|c| c.is_ok());
    for (case, row) in cases.iter().zip(&cells) {
        for (b, cell) in BINDINGS.iter().zip(row) {
            if let Err(e) = cell {
                eprintln!("error: {} via {}: {e}", case.name, b.key);
            }
        }
    }
    let json_path = target_dir().join("bench-calls.json");
    let json = to_json(&opts, &version, &cases, &cells);
    match std::fs::create_dir_all(json_path.parent().unwrap())
        .and_then(|()| std::fs::write(&json_path, json))
    {
        Ok(()) => println!("results written to {}", json_path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", json_path.display()),
    }
    Ok(all_ok)
}

fn ratio(cell: &Cell, base: &Cell) -> Option<f64> {
    match (cell, base) {
        (Ok(c), Ok(b)) => Some(c.ns_per_call / b.ns_per_call),
        _ => None,
    }
}

fn print_table(cases: &[&Case], cells: &[Vec<Cell>]) {
    let base = &BINDINGS[0];
    let mut header = vec!["function".to_string(), format!("{} ns/call", base.title)];
    for b in &BINDINGS[1..] {
        header.push(format!("{} ns/call", b.title));
        header.push(format!("ratio {}/{}", b.key, base.key));
    }
    let mut rows = vec![header];
    for (case, row) in cases.iter().zip(cells) {
        let ns = |c: &Cell| match c {
            Ok(m) => format!("{:.2}", m.ns_per_call),
            Err(_) => "error".to_string(),
        };
        let mut line = vec![format!("{} {}", case.name, case.signature()), ns(&row[0])];
        for cell in &row[1..] {
            line.push(ns(cell));
            line.push(ratio(cell, &row[0]).map_or("-".into(), |r| format!("{r:.2}")));
        }
        rows.push(line);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
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
        println!("{}", line.join(" | ").trim_end());
        if ri == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
            println!("{}", rule.join("-|-"));
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

fn to_json(opts: &Options, version: &str, cases: &[&Case], cells: &[Vec<Cell>]) -> String {
    let unix_time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut s = String::new();
    s.push_str("{\n");
    writeln!(s, "  \"bench\": \"calls\",").unwrap();
    writeln!(s, "  \"unix_time\": {unix_time},").unwrap();
    writeln!(s, "  \"lua\": {},", json_str(version)).unwrap();
    writeln!(s, "  \"quick\": {},", opts.quick).unwrap();
    writeln!(s, "  \"reps\": {},", opts.reps).unwrap();
    writeln!(s, "  \"unit\": \"ns/call\",").unwrap();
    writeln!(s, "  \"baseline\": {},", json_str(BINDINGS[0].key)).unwrap();
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
                Ok(m) => {
                    let mut body = format!(
                        "\"ns_per_call\": {:.3}, \"iterations\": {}",
                        m.ns_per_call, m.iterations
                    );
                    if j > 0 {
                        if let Some(r) = ratio(cell, &row[0]) {
                            write!(body, ", \"ratio\": {r:.4}").unwrap();
                        }
                    }
                    body
                }
                Err(e) => format!("\"error\": {}", json_str(e)),
            };
            let comma = if j + 1 < BINDINGS.len() { "," } else { "" };
            writeln!(s, "        {}: {{{body}}}{comma}", json_str(b.key)).unwrap();
        }
        s.push_str("      }\n");
        let comma = if i + 1 < cases.len() { "," } else { "" };
        writeln!(s, "    }}{comma}").unwrap();
    }
    s.push_str("  ]\n}\n");
    s
}
