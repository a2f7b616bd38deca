//! The C test library (every `tests/c/*.c` in one shared object) and the directory of the
//! Lua test scripts, for every test binary that calls C through moonthunk.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
const TMP_DIR: &str = env!("CARGO_TARGET_TMPDIR");

/// The directory of the Lua test scripts.
pub fn script_dir() -> PathBuf {
    Path::new(MANIFEST_DIR).join("tests").join("lua")
}

/// The C test library: every `tests/c/*.c` file in one shared object, compiled once per
/// test process.
pub fn test_library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = Path::new(MANIFEST_DIR).join("tests/c");
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("tests/c exists")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "c"))
            .collect();
        sources.sort();
        let out = Path::new(TMP_DIR).join(format!("libmoonthunk_test_{}.so", std::process::id()));
        let result = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
            .args(["-shared", "-fPIC", "-O1", "-o"])
            .arg(&out)
            .args(&sources)
            .args(["-lm", "-lpthread"])
            .output()
            .expect("cannot run the C compiler");
        assert!(
            result.status.success(),
            "compiling {} failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&result.stderr)
        );
        out
    })
}
