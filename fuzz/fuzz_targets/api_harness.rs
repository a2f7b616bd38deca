//! What the Lua-level API fuzz targets share: the C test library they call, the random
//! stream a libFuzzer input stands for, and running one generated program in a fresh state.
//!
//! The C test library comes from `MOONTHUNK_TESTLIB` (a path) or is compiled once from
//! `tests/c/*.c` with gcc (or `$CC`). `MOONTHUNK_API_FUZZ_PRINT=1` prints each program.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::generator::Rng;

/// Steps per generated program.
pub const MAX_STEPS: usize = 64;

fn test_library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        if let Some(path) = std::env::var_os("MOONTHUNK_TESTLIB") {
            return PathBuf::from(path);
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/c");
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("tests/c exists")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "c"))
            .collect();
        sources.sort();
        let out =
            std::env::temp_dir().join(format!("libmoonthunk_fuzz_test_{}.so", std::process::id()));
        let result = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
            .args(["-shared", "-fPIC", "-O1", "-w", "-o"])
            .arg(&out)
            .args(&sources)
            .args(["-lm", "-lpthread"])
            .output()
            .expect("cannot run the C compiler");
        assert!(
            result.status.success(),
            "compiling the C test library failed:\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
        out
    })
}

/// The random stream of a libFuzzer input; the empty input (libFuzzer's first) stands for a
/// full-length seeded program.
pub fn rng(data: &[u8]) -> Rng {
    match data {
        [] => Rng::from_seed(0),
        _ => Rng::from_bytes(data),
    }
}

/// Runs `program` (the `what` API's) in a fresh state, with `args` as the chunk's `...`;
/// panics with the program if it fails.
pub fn run(what: &str, program: &str, args: impl mlua::IntoLuaMulti) {
    let lib = test_library().to_str().unwrap();
    if std::env::var_os("MOONTHUNK_API_FUZZ_PRINT").is_some() {
        eprintln!("TESTLIB = TESTLIB or {lib:?}\n{program}");
    }
    // A fresh state per input: what one program leaves behind never leaks into the next.
    let lua = mlua::Lua::new();
    moonthunk::open(&lua).expect("moonthunk installs");
    lua.globals().set("TESTLIB", lib).unwrap();
    if let Err(e) = lua.load(program).call::<()>(args) {
        panic!(
            "the {what} program failed:\n{e}\nprogram:\nTESTLIB = TESTLIB or {lib:?}\n{program}"
        );
    }
}
