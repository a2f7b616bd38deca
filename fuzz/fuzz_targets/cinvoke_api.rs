//! Lua-level API fuzzing of the C/Invoke face: each input becomes a Lua program
//! (tests/api_fuzz/cinvoke_generator.rs) that drives `require("cinvoke_lua")` with random and
//! hostile arguments against the C test library, each step in `pcall`; the run fails if the
//! process crashes, a step fails with something other than a message, or the state is
//! unusable afterwards (the program's epilogue).
//!
//! The C test library comes from `MOONTHUNK_TESTLIB` (a path) or is compiled once from
//! `tests/c/*.c` with gcc (or `$CC`).

#![no_main]

#[path = "../../tests/api_fuzz/cinvoke_generator.rs"]
mod cinvoke_generator;
// Only its `Rng`: the native face's programs are `lua_api`'s.
#[allow(dead_code)]
#[path = "../../tests/api_fuzz/generator.rs"]
mod generator;

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const MAX_STEPS: usize = 64;

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

fuzz_target!(|data: &[u8]| {
    let lib = test_library();
    // The empty input (libFuzzer's first) stands for a full-length seeded program.
    let mut rng = match data {
        [] => generator::Rng::from_seed(0),
        _ => generator::Rng::from_bytes(data),
    };
    let program = cinvoke_generator::CinvokeGenerator::new(&mut rng).program(MAX_STEPS);
    if std::env::var_os("MOONTHUNK_API_FUZZ_PRINT").is_some() {
        eprintln!(
            "TESTLIB = TESTLIB or {:?}\n{program}",
            lib.to_str().unwrap()
        );
    }
    // A fresh state per input: what one program leaves behind never leaks into the next.
    let lua = mlua::Lua::new();
    moonthunk::open(&lua).expect("moonthunk installs");
    lua.globals().set("TESTLIB", lib.to_str().unwrap()).unwrap();
    let result = lua.load(program.as_str()).call::<()>(());
    if let Err(e) = result {
        panic!(
            "the C/Invoke API program failed:\n{e}\nprogram:\nTESTLIB = TESTLIB or {:?}\n{program}",
            lib.to_str().unwrap()
        );
    }
});
