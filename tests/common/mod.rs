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

/// The Lua version of this build (one cargo feature named as mlua's) and its stock
/// interpreter as Debian packages it; Lua 5.5 has none, its scripts run embedded only.
const LUA_VERSION: (&str, Option<&str>) = if cfg!(feature = "lua51") {
    ("lua51", Some("lua5.1"))
} else if cfg!(feature = "lua52") {
    ("lua52", Some("lua5.2"))
} else if cfg!(feature = "lua53") {
    ("lua53", Some("lua5.3"))
} else if cfg!(feature = "lua55") {
    ("lua55", None)
} else if cfg!(feature = "luajit") {
    ("luajit", Some("luajit"))
} else {
    ("lua54", Some("lua5.4"))
};

/// The stock interpreter of this build's Lua version, or `None` (with a loud note) when it
/// is absent outside CI or none is packaged.
fn host_lua() -> Option<&'static str> {
    let Some(lua) = LUA_VERSION.1 else {
        eprintln!(
            "SKIPPED: no stock interpreter is packaged for {}; the scripts ran embedded only",
            LUA_VERSION.0
        );
        return None;
    };
    if Command::new(lua).arg("-v").output().is_ok() {
        return Some(lua);
    }
    if std::env::var_os("MOONTHUNK_REQUIRE_HOST_LUA").is_some() {
        panic!("{lua} is required (MOONTHUNK_REQUIRE_HOST_LUA is set) but was not found");
    }
    eprintln!("SKIPPED: {lua} not found; the stock-interpreter tests did not run");
    None
}

/// The directory holding `moonthunk.so` (and `alien.so` and `cinvoke_lua.so`, links to it),
/// built once with the `module` feature for this build's Lua version.
fn module_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Next to this build's own target directory (one per Lua version).
        let target = Path::new(TMP_DIR)
            .parent()
            .expect("the temporary directory is inside the target directory")
            .join("module");
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(MANIFEST_DIR)
            .args(["build", "--lib", "--no-default-features", "--features"])
            .arg(format!("{},module", LUA_VERSION.0))
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

/// Runs `script` with the stock interpreter, loading moonthunk with `require`.
pub fn run_host(script: &str) {
    run_host_with(script, &[]);
}

/// Runs `script` with the stock interpreter and thunks restricted to the Lua C API (the path
/// taken where the Lua stack layout is not known).
pub fn run_host_portable(script: &str) {
    run_host_with(script, &[("MOONTHUNK_PORTABLE_THUNKS", "1")]);
}

/// Runs `script` with the stock interpreter and `env` added to its environment.
pub fn run_host_with(script: &str, env: &[(&str, &str)]) {
    run_host_after(None, script, env);
}

/// Runs `script` with the stock interpreter and `env` added to its environment, after the prelude
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
        .expect("the stock interpreter runs");
    assert!(
        output.status.success(),
        "{script} failed ({lua}):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
