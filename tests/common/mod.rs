//! Shared by the integration tests: the C test library, the loadable module for the stock
//! interpreter, and running a Lua test script both ways.

pub mod cc;
pub mod testlib;

pub use testlib::{script_dir, test_library};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const TMP_DIR: &str = env!("CARGO_TARGET_TMPDIR");

/// The prelude of the `gc_stress` mode (a script of `tests/lua/`): the collector runs a whole
/// cycle at nearly every allocation check point.
pub const GC_STRESS: &str = "gc_stress.lua";

/// Runs `script` in a fresh embedded Lua state with moonthunk installed.
pub fn run_embedded(script: &str) {
    run_embedded_after(None, script);
}

/// Runs `script` embedded, after the prelude `prelude` (a script of `tests/lua/`) when given.
pub fn run_embedded_after(prelude: Option<&str>, script: &str) {
    let path = script_dir().join(script);
    let source = std::fs::read_to_string(&path).expect("script readable");
    let lua = mlua::Lua::new();
    moonthunk::open(&lua).expect("moonthunk installs");
    let globals = lua.globals();
    globals
        .set("TESTLIB", test_library().to_str().unwrap())
        .unwrap();
    globals
        .set("TESTDIR", script_dir().to_str().unwrap())
        .unwrap();
    // Parallel embedded tests share this process: process-wide measures (RSS) mean little.
    globals.set("SHARED_PROCESS", true).unwrap();
    // Pure Lua cannot make a light userdata; the embedded run hands the scripts one.
    globals
        .set(
            "TEST_LIGHTUSERDATA",
            mlua::LightUserData(0x1234 as *mut std::ffi::c_void),
        )
        .unwrap();
    if let Some(prelude) = prelude {
        let prelude = script_dir().join(prelude);
        lua.load(std::fs::read_to_string(&prelude).expect("prelude readable"))
            .set_name(format!("@{}", prelude.display()))
            .exec()
            .expect("prelude runs");
    }
    if let Err(e) = lua
        .load(source)
        .set_name(format!("@{}", path.display()))
        .exec()
    {
        panic!("{script} failed (embedded):\n{e}");
    }
}

/// The stock `lua5.4`, or `None` (with a loud note) when it is absent outside CI.
fn host_lua() -> Option<&'static str> {
    let found = Command::new("lua5.4").arg("-v").output().is_ok();
    if found {
        return Some("lua5.4");
    }
    if std::env::var_os("MOONTHUNK_REQUIRE_HOST_LUA").is_some() {
        panic!("lua5.4 is required (MOONTHUNK_REQUIRE_HOST_LUA is set) but was not found");
    }
    eprintln!("SKIPPED: lua5.4 not found; the stock-interpreter tests did not run");
    None
}

/// The directory holding `moonthunk.so` (and `alien.so` and `cinvoke_lua.so`, links to it),
/// built once with the `module` feature.
fn module_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = Path::new(MANIFEST_DIR).join("target").join("module");
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(MANIFEST_DIR)
            .args([
                "build",
                "--lib",
                "--no-default-features",
                "--features",
                "lua54,module",
            ])
            .arg("--target-dir")
            .arg(&target)
            .output()
            .expect("cannot run cargo");
        assert!(
            output.status.success(),
            "building the loadable module failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let dir = Path::new(TMP_DIR).join("luamod");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            target.join("debug").join("libmoonthunk.so"),
            dir.join("moonthunk.so"),
        )
        .expect("module built");
        // The same library exports luaopen_alien and luaopen_alien_struct: under the name
        // alien.so, `require("alien")` finds it, and `require("alien.struct")` through Lua's
        // all-in-one loader. A link, not a copy, so that one process that requires both
        // names maps the library once (the dynamic loader knows it by its file).
        let alien = dir.join("alien.so");
        let _ = std::fs::remove_file(&alien);
        std::os::unix::fs::symlink("moonthunk.so", &alien).expect("alien.so links to the module");
        // And luaopen_cinvoke_lua, for `require("cinvoke_lua")`.
        let cinvoke = dir.join("cinvoke_lua.so");
        let _ = std::fs::remove_file(&cinvoke);
        std::os::unix::fs::symlink("moonthunk.so", &cinvoke)
            .expect("cinvoke_lua.so links to the module");
        dir
    })
}

/// Runs `script` with the stock `lua5.4`, loading moonthunk with `require`.
pub fn run_host(script: &str) {
    run_host_with(script, &[]);
}

/// Runs `script` with the stock `lua5.4` and thunks restricted to the Lua C API (the path
/// taken where the Lua stack layout is not known).
pub fn run_host_portable(script: &str) {
    run_host_with(script, &[("MOONTHUNK_PORTABLE_THUNKS", "1")]);
}

/// Runs `script` with the stock `lua5.4` and `env` added to its environment.
pub fn run_host_with(script: &str, env: &[(&str, &str)]) {
    run_host_after(None, script, env);
}

/// Runs `script` with the stock `lua5.4` and `env` added to its environment, after the prelude
/// `prelude` (a script of `tests/lua/`) when given.
pub fn run_host_after(prelude: Option<&str>, script: &str, env: &[(&str, &str)]) {
    let Some(lua) = host_lua() else { return };
    let path = script_dir().join(script);
    let mut setup = format!(
        "TESTLIB = {:?}; TESTDIR = {:?}",
        test_library().to_str().unwrap(),
        script_dir().to_str().unwrap()
    );
    if let Some(prelude) = prelude {
        setup += &format!(
            "; dofile({:?})",
            script_dir().join(prelude).to_str().unwrap()
        );
    }
    let output = Command::new(lua)
        .envs(env.iter().copied())
        .env("LUA_CPATH", format!("{}/?.so", module_dir().display()))
        .arg("-e")
        .arg(setup)
        .arg(&path)
        .output()
        .expect("cannot run lua5.4");
    assert!(
        output.status.success(),
        "{script} failed (lua5.4):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
