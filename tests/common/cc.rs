//! Compiling C for the tests: shared libraries built with gcc (or `$CC`) into the test
//! target's temporary directory, named per process so parallel test binaries never replace a
//! library another has loaded.

use std::path::{Path, PathBuf};
use std::process::Command;

const TMP_DIR: &str = env!("CARGO_TARGET_TMPDIR");

/// Compiles `sources` into `lib<name>_<pid>.so`, with `libs` (`-lm`...) after them.
pub fn shared_library(name: &str, sources: &[PathBuf], libs: &[&str]) -> PathBuf {
    let out = Path::new(TMP_DIR).join(format!("lib{name}_{}.so", std::process::id()));
    let result = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
        .args(["-shared", "-fPIC", "-O1", "-w", "-o"])
        .arg(&out)
        .args(sources)
        .args(libs)
        .output()
        .expect("cannot run the C compiler");
    assert!(
        result.status.success(),
        "compiling {name} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// Writes `source` to `<name>.c` and compiles it into a shared library.
#[allow(dead_code)] // each test binary uses one of the two entry points
pub fn shared_library_from(name: &str, source: &str) -> PathBuf {
    let c = Path::new(TMP_DIR).join(format!("{name}.c"));
    std::fs::write(&c, source).unwrap();
    shared_library(name, &[c], &[])
}
