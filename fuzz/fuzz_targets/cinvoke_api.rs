//! Lua-level API fuzzing of the C/Invoke face: each input becomes a Lua program
//! (tests/api_fuzz/cinvoke_generator.rs) that drives `require("cinvoke_lua")` with random and hostile
//! arguments against the C test library, each step in `pcall`; the run fails if the process
//! crashes, a step fails with something other than a message, or the state is unusable
//! afterwards (the program's epilogue). The rest is `api_harness.rs`.

#![no_main]

mod api_harness;
#[path = "../../tests/api_fuzz/cinvoke_generator.rs"]
mod cinvoke_generator;
// Only its `Rng`: the native face's programs are `lua_api`'s.
#[allow(dead_code)]
#[path = "../../tests/api_fuzz/generator.rs"]
mod generator;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rng = api_harness::rng(data);
    let program =
        cinvoke_generator::CinvokeGenerator::new(&mut rng).program(api_harness::MAX_STEPS);
    api_harness::run("C/Invoke API", &program, ());
});
