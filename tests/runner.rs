//! The `moonthunk` runner as the stock `lua`: C modules built against the Lua 5.4 headers load,
//! the Lua C API is in its dynamic symbol table, its options and `LUA_INIT` behave as lua.c's,
//! and its error reports, tracebacks and exit statuses match `lua5.4`'s.

#[path = "common/target.rs"]
mod target;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use target::target_command;

const RUNNER: &str = env!("CARGO_BIN_EXE_moonthunk");

/// A fresh directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("runner")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether a test that needs `what` runs: absent is a loud skip, or a failure in CI
/// (MOONTHUNK_REQUIRE_HOST_LUA).
fn available(found: bool, what: &str) -> bool {
    if found {
        return true;
    }
    if std::env::var_os("MOONTHUNK_REQUIRE_HOST_LUA").is_some() {
        panic!("{what} is required (MOONTHUNK_REQUIRE_HOST_LUA is set) but was not found");
    }
    eprintln!("SKIPPED: {what} not found; this runner test did not run");
    false
}

fn host_lua() -> bool {
    available(Command::new("lua5.4").arg("-v").output().is_ok(), "lua5.4")
}

/// Runs `command args...` in `dir` with `stdin` piped in and the Lua variables of the
/// environment cleared, then `env` set.
fn run_in(
    dir: &Path,
    mut command: Command,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> Output {
    command.args(args).current_dir(dir);
    for var in [
        "LUA_INIT",
        "LUA_INIT_5_4",
        "LUA_PATH",
        "LUA_PATH_5_4",
        "LUA_CPATH",
        "LUA_CPATH_5_4",
    ] {
        command.env_remove(var);
    }
    let mut child = command
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    // A process that does not read its input (most do not) closes the pipe: no error.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    run_in(dir, target_command(RUNNER), args, env, stdin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts success and returns standard output.
fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "status {:?}\n{}{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// `luaopen_hello` from a C module built against the Lua 5.4 headers, in `dir/hello.so`; false
/// (after a loud skip) without the headers.
fn build_hello(dir: &Path) -> bool {
    if !available(
        Path::new("/usr/include/lua5.4/lua.h").exists(),
        "the Lua 5.4 headers (/usr/include/lua5.4, package liblua5.4-dev)",
    ) {
        return false;
    }
    let source = dir.join("hello.c");
    std::fs::write(
        &source,
        r#"#include <lua.h>
#include <lauxlib.h>
static int hi(lua_State *L) {
  lua_pushfstring(L, "hi from %s", luaL_optstring(L, 1, "C"));
  return 1;
}
int luaopen_hello(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, hi);
  lua_setfield(L, -2, "hi");
  return 1;
}
"#,
    )
    .unwrap();
    let result = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
        .args(["-shared", "-fPIC", "-I/usr/include/lua5.4", "-o"])
        .arg(dir.join("hello.so"))
        .arg(&source)
        .output()
        .expect("cannot run the C compiler");
    assert!(result.status.success(), "{}", text(&result.stderr));
    true
}

#[test]
fn loads_a_c_module_built_against_the_lua_headers() {
    let dir = scratch("c_module");
    if !build_hello(&dir) {
        return;
    }
    let output = run(&dir, &["-e", r#"print(require("hello").hi())"#], &[], "");
    assert_eq!(stdout_of(&output), "hi from C\n");
    // -l loads it too, under its own name or another.
    let output = run(
        &dir,
        &[
            "-l",
            "hello",
            "-l",
            "h=hello",
            "-e",
            "print(h.hi(hello.hi()))",
        ],
        &[],
        "",
    );
    assert_eq!(stdout_of(&output), "hi from hi from C\n");
}

/// The defined dynamic symbols of the executable at `path` that are Lua's C API.
fn lua_api_exports(path: &Path) -> Vec<String> {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let mut names: Vec<String> = file
        .dynamic_symbols()
        .filter(|s| s.is_definition())
        .filter_map(|s| s.name().ok().map(str::to_string))
        .filter(|n| n.starts_with("lua_") || n.starts_with("luaL_") || n.starts_with("luaopen_"))
        .collect();
    names.sort();
    names
}

#[test]
fn exports_the_lua_c_api_the_stock_interpreter_exports() {
    let ours = lua_api_exports(Path::new(RUNNER));
    assert!(ours.iter().any(|n| n == "lua_setfield"), "{ours:?}");
    if !host_lua() {
        return;
    }
    let which = Command::new("sh")
        .args(["-c", "command -v lua5.4"])
        .output()
        .unwrap();
    let stock = std::fs::canonicalize(text(&which.stdout).trim()).unwrap();
    let missing: Vec<String> = lua_api_exports(&stock)
        .into_iter()
        .filter(|n| !ours.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "not exported by the runner: {missing:?}"
    );
}

#[test]
fn ffi_open_nil_finds_the_lua_c_api() {
    let dir = scratch("open_nil");
    let script = r#"
        local ffi = require("moonthunk")
        print(ffi.open(nil):bind("lua_version", "double", {"pointer"})(nil))
        local f = require("alien").default.lua_version
        f:types("double", "pointer")
        print(f(nil))
    "#;
    assert_eq!(
        stdout_of(&run(&dir, &["-e", script], &[], "")),
        "504.0\n504.0\n"
    );
}

/// Runs `args` with the runner and with `lua5.4` in `dir`, and checks that both give the same
/// status, standard output and standard error, the program's name aside.
fn same_as_lua54(dir: &Path, args: &[&str], stdin: &str) {
    let ours = run(dir, args, &[], stdin);
    let stock = run_in(dir, Command::new("lua5.4"), args, &[], stdin);
    let ours_err = text(&ours.stderr).replace(RUNNER, "PROGRAM");
    let stock_err = text(&stock.stderr).replace("lua5.4", "PROGRAM");
    assert_eq!(
        (ours.status.code(), text(&ours.stdout), ours_err),
        (stock.status.code(), text(&stock.stdout), stock_err),
        "moonthunk (left) and lua5.4 (right) differ for {args:?}"
    );
}

#[test]
fn errors_tracebacks_and_statuses_match_lua54() {
    if !host_lua() {
        return;
    }
    let dir = scratch("tracebacks");
    std::fs::write(
        dir.join("nested.lua"),
        "local function inner(x)\n  error('boom ' .. x)\nend\nlocal function outer(x)\n  \
         inner(x)\nend\nlocal t = {}\nfunction t.method(...) outer(...) end\nprint('before')\n\
         t.method(...)\n",
    )
    .unwrap();
    std::fs::write(dir.join("syntax.lua"), "print('a'\nlocal = 1\n").unwrap();
    std::fs::write(dir.join("exit.lua"), "io.write('out') os.exit(3)\n").unwrap();
    std::fs::write(dir.join("ok.lua"), "print(..., #arg, arg[0])\n").unwrap();
    let cases: &[&[&str]] = &[
        &["nested.lua", "x"],
        &["-e", "error({})"],
        &[
            "-e",
            "error(setmetatable({}, {__tostring = function() return 'TS' end}))",
        ],
        &["-e", "error('no position', 0)"],
        &["-e", "local"],
        &["syntax.lua"],
        &["no_such_file.lua"],
        &["exit.lua"],
        &["ok.lua", "a", "b"],
        &["-e", "print(1)", "-e", "error('second')", "ok.lua"],
        &["-x"],
        &["-e"],
        &["-l"],
        &["-ix"],
        &["--", "ok.lua", "-e"],
        &["-", "p", "q"],
    ];
    for args in cases {
        same_as_lua54(&dir, args, "print('stdin', ...)\n");
    }
}

#[test]
fn script_from_stdin_takes_its_arguments() {
    let dir = scratch("stdin");
    let output = run(&dir, &["-", "a", "b"], &[], "print(arg[0], ...)\n");
    assert_eq!(stdout_of(&output), "-\ta\tb\n");
    // With no script and standard input not a terminal, standard input is the script.
    let output = run(&dir, &[], &[], "print('piped')\n");
    assert_eq!(stdout_of(&output), "piped\n");
}

#[test]
fn version_is_the_vendored_lua() {
    let dir = scratch("version");
    let out = stdout_of(&run(&dir, &["-v", "-e", "io.write(_VERSION)"], &[], ""));
    let (banner, version) = out.split_once('\n').unwrap();
    assert!(
        banner.starts_with(&format!("{version}.")) && banner.contains("Lua.org, PUC-Rio"),
        "{out}"
    );
    // -v alone prints the banner and does not read standard input.
    assert_eq!(
        stdout_of(&run(&dir, &["-v"], &[], "print('not run')")),
        format!("{banner}\n")
    );
}

#[test]
fn lua_init_runs_first_unless_e_is_given() {
    let dir = scratch("lua_init");
    std::fs::write(dir.join("init.lua"), "INIT = 'from file'\n").unwrap();
    let show = ["-e", "print(INIT)"];
    let cases = [
        (vec![("LUA_INIT", "INIT = 'code'")], "code"),
        (vec![("LUA_INIT", "@init.lua")], "from file"),
        (
            vec![
                ("LUA_INIT", "INIT = 'plain'"),
                ("LUA_INIT_5_4", "INIT = 'versioned'"),
            ],
            "versioned",
        ),
    ];
    for (env, expected) in cases {
        assert_eq!(
            stdout_of(&run(&dir, &show, &env, "")),
            format!("{expected}\n")
        );
        let ignored = run(&dir, &["-E", show[0], show[1]], &env, "");
        assert_eq!(stdout_of(&ignored), "nil\n");
    }
    let failing = run(&dir, &show, &[("LUA_INIT", "error('in init')")], "");
    assert_eq!(failing.status.code(), Some(1));
    assert!(
        text(&failing.stderr).contains("LUA_INIT:1: in init"),
        "{}",
        text(&failing.stderr)
    );
    assert!(failing.stdout.is_empty());
}

#[test]
fn e_option_ignores_lua_path_and_lua_cpath() {
    let dir = scratch("no_env");
    std::fs::create_dir_all(dir.join("mods")).unwrap();
    std::fs::write(dir.join("mods").join("m.lua"), "return 'found'\n").unwrap();
    let env = [("LUA_PATH", "mods/?.lua"), ("LUA_CPATH", "mods/?.so")];
    let show = r#"print(package.path:find("mods", 1, true) ~= nil, package.cpath:find("mods", 1, true) ~= nil, (pcall(require, "m")))"#;
    assert_eq!(
        stdout_of(&run(&dir, &["-e", show], &env, "")),
        "true\ttrue\ttrue\n"
    );
    assert_eq!(
        stdout_of(&run(&dir, &["-E", "-e", show], &env, "")),
        "false\tfalse\tfalse\n"
    );
}

#[test]
fn l_option_sets_a_global() {
    let dir = scratch("l_option");
    let out = run(
        &dir,
        &[
            "-l",
            "moonthunk",
            "-lg=alien",
            "-e",
            "print(moonthunk.sizeof('int'), type(g.default))",
        ],
        &[],
        "",
    );
    assert_eq!(stdout_of(&out), "4\tuserdata\n");
    let missing = run(
        &dir,
        &["-l", "no_such_module", "-e", "print('not run')"],
        &[],
        "",
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("module 'no_such_module' not found"));
    assert!(missing.stdout.is_empty());
}

#[test]
fn w_option_turns_warnings_on() {
    let dir = scratch("warnings");
    let on = run(&dir, &["-W", "-e", "warn('careful')"], &[], "");
    assert_eq!(text(&on.stderr), "Lua warning: careful\n");
    let off = run(&dir, &["-e", "warn('careful')"], &[], "");
    assert_eq!(text(&off.stderr), "");
}

#[test]
fn interactive_prompt_prints_expressions_and_continues_statements() {
    let dir = scratch("interactive");
    let input = "1 + 1\nx = 5\nx, 'two'\nfor i = 1, 2 do\nprint(i)\nend\nerror('oops')\n=x\n";
    let out = run(&dir, &["-i", "-e", "y = 1"], &[], input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let (banner, session) = stdout.split_once('\n').unwrap();
    assert!(banner.starts_with("Lua 5.4."), "{stdout}");
    assert_eq!(session, "> 2\n> > 5\ttwo\n> >> >> 1\n2\n> > 5\n> \n");
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("stdin:1: oops\nstack traceback:\n"),
        "an error in the prompt prints without the program's name: {stderr}"
    );
    // _PROMPT changes the prompt.
    let out = run(&dir, &["-i"], &[], "_PROMPT = 'lua% '\n1\n");
    assert!(
        text(&out.stdout).ends_with("> lua% 1\nlua% \n"),
        "{}",
        text(&out.stdout)
    );
}
