//! Lua-level API fuzzing: each input becomes a Lua program (tests/api_fuzz/generator.rs) that
//! drives the whole native API with random and hostile arguments against the C test library,
//! each step in `pcall`; the run fails if the process crashes, a step fails with something
//! other than a message, or the state is unusable afterwards (the program's epilogue).
//! `MOONTHUNK_API_FUZZ_KNOWN_BUGS=1` also writes what reaches the known callback lifetime
//! bugs. The rest (the C test library, running a program) is `api_harness.rs`.

#![no_main]

mod api_harness;
#[path = "../../tests/api_fuzz/generator.rs"]
mod generator;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rng = api_harness::rng(data);
    let known_bugs = std::env::var_os("MOONTHUNK_API_FUZZ_KNOWN_BUGS").is_some();
    let program = generator::Generator::new(&mut rng, known_bugs).program(api_harness::MAX_STEPS);
    // Light userdata pure Lua cannot make: an address outside the NULL page and one inside.
    let args = (
        mlua::LightUserData(0x1234 as *mut std::ffi::c_void),
        mlua::LightUserData(0x10 as *mut std::ffi::c_void),
    );
    api_harness::run("API", &program, args);
});
