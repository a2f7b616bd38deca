//! `luarocks make` of moonthunk-scm-1.rockspec from this checkout into a temporary tree, then
//! `require` of every module name from the stock `lua5.4` with that tree's paths.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether `program` runs; absent is a loud skip, or a failure in CI
/// (MOONTHUNK_REQUIRE_HOST_LUA).
fn available(program: &str, version_flag: &str) -> bool {
    if Command::new(program).arg(version_flag).output().is_ok() {
        return true;
    }
    if std::env::var_os("MOONTHUNK_REQUIRE_HOST_LUA").is_some() {
        panic!("{program} is required (MOONTHUNK_REQUIRE_HOST_LUA is set) but was not found");
    }
    eprintln!("SKIPPED: {program} not found; the LuaRocks test did not run");
    false
}

#[test]
fn luarocks_make_installs_every_module_name() {
    if !available("luarocks", "--version") || !available("lua5.4", "-v") {
        return;
    }
    let tree = Path::new(env!("CARGO_TARGET_TMPDIR")).join("luarocks-tree");
    let _ = std::fs::remove_dir_all(&tree);
    // The checkout's own target directory: the release build of the dependencies is made once
    // and reused by every later run.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(MANIFEST_DIR).join("target"));
    let started = Instant::now();
    let output = Command::new("luarocks")
        .args(["--lua-version", "5.4", "make", "--tree"])
        .arg(&tree)
        .arg("moonthunk-scm-1.rockspec")
        .current_dir(MANIFEST_DIR)
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("cannot run luarocks");
    eprintln!("luarocks make took {:.1?}", started.elapsed());
    assert!(
        output.status.success(),
        "luarocks make failed:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );

    let lib = tree.join("lib").join("lua").join("5.4");
    // Each name first in its own process: the first `require` preloads the other names.
    let checks = [
        ("moonthunk", "assert(m.sizeof('int') == 4)"),
        ("alien", "assert(type(m.default) == 'userdata')"),
        ("alien.struct", "assert(m.size('i') == 4)"),
        ("cinvoke_lua", "assert(type(clibrary) == 'table')"),
    ];
    for (name, check) in checks {
        let script = format!(
            "local m = require({name:?}) {check} \
             assert(package.searchpath({first:?}, package.cpath):find({lib:?}, 1, true)) \
             for _, other in ipairs({{'moonthunk', 'alien', 'alien.struct', 'cinvoke_lua'}}) do \
               require(other) end print('ok')",
            first = name.split('.').next().unwrap(),
            lib = lib.to_str().unwrap(),
        );
        let output = Command::new("lua5.4")
            .env("LUA_CPATH", format!("{}/?.so", lib.display()))
            .args(["-e", &script])
            .output()
            .expect("cannot run lua5.4");
        assert_eq!(
            text(&output.stdout),
            "ok\n",
            "require({name:?}) from the LuaRocks tree failed:\n{}",
            text(&output.stderr)
        );
    }
}
