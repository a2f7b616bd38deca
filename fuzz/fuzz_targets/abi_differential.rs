//! Differential ABI fuzzing: the input becomes a signature (every scalar, strings,
//! pointers and the conformance catalog's aggregates except packed ones, up to 20
//! parameters) and argument values. A thunk (`ffi.fn`) calls a libffi closure of that
//! signature, which records what it received and returns a value derived from it; then libffi
//! calls a moonthunk callback of the same signature. Any difference from what libffi passed
//! or returned panics with the signature, the values and the discrepancy.
//!
//! `MOONTHUNK_FUZZ_SCALARS=1` leaves aggregates out.

#![no_main]

#[path = "../../tests/conformance/generator.rs"]
mod generator;
#[path = "../../tests/conformance/model.rs"]
mod model;
#[path = "../../tests/conformance/oracle.rs"]
mod oracle;

use libfuzzer_sys::fuzz_target;
use model::{catalog, random_sig, random_vals, Agg, Mix, Rng};

struct State {
    lua: mlua::Lua,
    cat: Vec<Agg>,
    mix: Mix,
}

thread_local! {
    static STATE: State = {
        let aggregates = std::env::var_os("MOONTHUNK_FUZZ_SCALARS").is_none();
        let cat = catalog();
        let lua = mlua::Lua::new();
        moonthunk::open(&lua).expect("moonthunk installs");
        oracle::prepare(&lua, &cat, aggregates).expect("the Lua helpers load");
        State {
            lua,
            cat,
            mix: Mix { aggregates, packed: false, strings: true, max_params: 20 },
        }
    };
}

fuzz_target!(|data: &[u8]| {
    STATE.with(|s| {
        let mut rng = Rng::from_bytes(data);
        let n = rng.below(1 << 16) as usize;
        let sig = random_sig(&mut rng, &s.cat, s.mix);
        let args: Vec<_> = sig
            .params
            .iter()
            .map(|&t| random_vals(&mut rng, &s.cat, t))
            .collect();
        let problems = oracle::roundtrip(&s.lua, &s.cat, n, &sig, &args);
        if !problems.is_empty() {
            panic!(
                "thunk/callback vs libffi for {sig:?}\nargs {args:?}\n{}",
                problems.join("\n")
            );
        }
        // Keep the Lua heap flat across millions of runs.
        let _ = s.lua.gc_collect();
    })
});
