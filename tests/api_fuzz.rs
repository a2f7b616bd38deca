//! The Lua-level API fuzzer's short form: programs from `tests/api_fuzz/generator.rs` (the
//! native face), `tests/api_fuzz/alien_generator.rs` (the Alien face) and
//! `tests/api_fuzz/cinvoke_generator.rs` (the C/Invoke face) for a fixed range of seeds, each
//! run in a fresh embedded Lua state against the C test library. A program that fails (or
//! crashes the process) is saved as `target/tmp/api_fuzz_seed_<n>.lua` (Alien's:
//! `alien_fuzz_seed_<n>.lua`, C/Invoke's: `cinvoke_fuzz_seed_<n>.lua`), replayable with
//! `cargo run -- <file>`.
//!
//! `MOONTHUNK_API_FUZZ_SEED=n` runs seed `n` alone; `MOONTHUNK_API_FUZZ_SEEDS=n` runs seeds
//! `0..n` instead of the default range; `MOONTHUNK_API_FUZZ_STEPS` sets the steps per program;
//! `MOONTHUNK_API_FUZZ_KNOWN_BUGS=1` also writes what reaches the known callback lifetime bugs.

#[path = "api_fuzz/alien_generator.rs"]
mod alien_generator;
#[path = "common/cc.rs"]
mod cc;
#[path = "api_fuzz/cinvoke_generator.rs"]
mod cinvoke_generator;
#[path = "api_fuzz/generator.rs"]
mod generator;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SEEDS: u64 = 160;
const STEPS: usize = 150;
const BYTE_SEEDS: u64 = 4;
const ALIEN_SEEDS: u64 = 160;
const CINVOKE_SEEDS: u64 = 160;

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.parse().expect(name))
}

/// The C test library, compiled once per process (both tests share it).
fn test_library() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("tests/c exists")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "c"))
            .collect();
        sources.sort();
        cc::shared_library("moonthunk_api_fuzz", &sources, &["-lm", "-lpthread"])
    })
}

/// Writes seed `seed`'s program, standalone (the runner sets no `TESTLIB`), and returns it.
fn save(name: &str, seed: u64, program: &str, lib: &Path) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}_seed_{seed}.lua"));
    let header = format!("TESTLIB = TESTLIB or {:?}\n", lib.to_str().unwrap());
    std::fs::write(&path, header + program).expect("program written");
    path
}

/// Runs seed `seed`'s program (from `rng`) and panics with where it is saved if it fails.
fn run(seed: u64, mut rng: generator::Rng, steps: usize, lib: &Path) {
    let known_bugs = std::env::var_os("MOONTHUNK_API_FUZZ_KNOWN_BUGS").is_some();
    let program = generator::Generator::new(&mut rng, known_bugs).program(steps);
    run_program("api_fuzz", seed, &program, lib);
}

/// Runs `program` and panics with where it is saved (as `<name>_seed_<seed>.lua`) if it fails.
fn run_program(name: &str, seed: u64, program: &str, lib: &Path) {
    // Saved first: a crash leaves it behind.
    let saved = save(name, seed, program, lib);
    let lua = mlua::Lua::new();
    moonthunk::open(&lua).expect("moonthunk installs");
    lua.globals().set("TESTLIB", lib.to_str().unwrap()).unwrap();
    let result = lua
        .load(program)
        .set_name(format!("@{}", saved.display()))
        .call::<()>((
            mlua::LightUserData(0x1234 as *mut std::ffi::c_void),
            mlua::LightUserData(0x10 as *mut std::ffi::c_void),
        ));
    if let Err(e) = result {
        panic!("seed {seed} failed (program in {}):\n{e}", saved.display());
    }
    drop(lua);
    std::fs::remove_file(&saved).expect("program removed");
}

/// The seeds and the steps per program the environment asks for, or `seeds` and `STEPS`.
fn seeds_and_steps(seeds: u64) -> (std::ops::Range<u64>, usize) {
    let steps = env_number("MOONTHUNK_API_FUZZ_STEPS").map_or(STEPS, |n| n as usize);
    let seeds = match env_number("MOONTHUNK_API_FUZZ_SEED") {
        Some(seed) => seed..seed + 1,
        None => 0..env_number("MOONTHUNK_API_FUZZ_SEEDS").unwrap_or(seeds),
    };
    (seeds, steps)
}

#[test]
fn api_fuzz() {
    let lib = test_library();
    let (seeds, steps) = seeds_and_steps(SEEDS);
    for seed in seeds {
        run(seed, generator::Rng::from_seed(seed), steps, lib);
    }
}

#[test]
fn alien_api_fuzz() {
    let lib = test_library();
    let (seeds, steps) = seeds_and_steps(ALIEN_SEEDS);
    for seed in seeds {
        let mut rng = generator::Rng::from_seed(seed);
        let program = alien_generator::AlienGenerator::new(&mut rng).program(steps);
        run_program("alien_fuzz", seed, &program, lib);
    }
}

#[test]
fn cinvoke_api_fuzz() {
    let lib = test_library();
    let (seeds, steps) = seeds_and_steps(CINVOKE_SEEDS);
    for seed in seeds {
        let mut rng = generator::Rng::from_seed(seed);
        let program = cinvoke_generator::CinvokeGenerator::new(&mut rng).program(steps);
        run_program("cinvoke_fuzz", seed, &program, lib);
    }
}

/// The byte-driven form libFuzzer uses: programs end where the input does.
#[test]
fn api_fuzz_bytes() {
    let lib = test_library();
    for seed in 0..BYTE_SEEDS {
        let mut source = generator::Rng::from_seed(seed);
        let bytes: Vec<u8> = (0..2000).map(|_| source.below(256) as u8).collect();
        run(1000 + seed, generator::Rng::from_bytes(&bytes), STEPS, lib);
    }
}
