//! Differential test with libffi as the independent oracle.
//!
//! 1. Generated C targets (the conformance generator, another seed): each is called through
//!    libffi from Rust and through a thunk from Lua with the same arguments; the results and
//!    the argument hash C computed must be identical.
//! 2. The same signatures in both directions with libffi on the other side: a thunk calls a
//!    libffi closure (which records what it received), and libffi calls a moonthunk callback.

#[path = "common/cc.rs"]
mod cc;
#[path = "conformance/generator.rs"]
mod generator;
#[path = "conformance/model.rs"]
mod model;
#[path = "conformance/oracle.rs"]
mod oracle;

use generator::Suite;
use model::Mix;

const COUNT: usize = 200;

fn differential(name: &str, seed: u64, mix: Mix) {
    let suite = Suite::generate(seed, COUNT, mix);
    let cat = &suite.cat;
    let path = cc::shared_library_from(name, &suite.c_source());
    // SAFETY: the generated library has no initializers.
    let lib = unsafe { libloading::Library::new(&path) }.unwrap();
    let last_hash = || -> u64 {
        // SAFETY: conf_last_hash is `uint64_t (void)`.
        unsafe {
            let f: libloading::Symbol<unsafe extern "C" fn() -> u64> =
                lib.get(b"conf_last_hash").unwrap();
            f()
        }
    };

    // Thunks first: the generated script records RESULTS[n] and LAST[n].
    let lua = mlua::Lua::new();
    moonthunk::open(&lua).unwrap();
    lua.globals()
        .set("CONFLIB", path.to_str().unwrap())
        .unwrap();
    lua.load(suite.lua_script(false)).exec().unwrap();
    let results: mlua::Table = lua.globals().get("RESULTS").unwrap();
    let lasts: mlua::Table = lua.globals().get("LAST").unwrap();

    let mut problems = Vec::new();
    let (mut agree, mut roundtrips) = (0, 0);
    for func in &suite.funcs {
        let n = func.n;
        let sym = format!("conf_{n}");
        // SAFETY: only the address is taken.
        let addr = unsafe { *lib.get::<*const std::ffi::c_void>(sym.as_bytes()).unwrap() };
        // SAFETY: conf_<n> has the signature the suite generated.
        let by_ffi = unsafe { oracle::call(cat, &func.sig, addr, &func.args) };
        let ffi_hash = last_hash();
        let by_thunk = match results.get::<mlua::Value>(n) {
            Ok(mlua::Value::Nil) | Err(_) => None,
            Ok(v) => oracle::lua_leaves(v).ok(),
        };
        let thunk_hash = lasts
            .get::<Option<i64>>(n)
            .unwrap_or(None)
            .map(|h| h as u64);
        match by_thunk {
            None => problems.push(format!("conf_{n} {:?}: the thunk call failed", func.sig)),
            Some(t) if !oracle::same(&t, &by_ffi) || thunk_hash != Some(ffi_hash) => {
                problems.push(format!(
                    "conf_{n} {:?}: thunk returned {t:?} (C saw hash {thunk_hash:x?}), libffi {by_ffi:?} (hash {ffi_hash:x})",
                    func.sig
                ))
            }
            Some(_) => agree += 1,
        }
        if !oracle::same(&by_ffi, &func.ret) || ffi_hash != func.hash {
            problems.push(format!(
                "conf_{n}: libffi disagrees with the generator: {by_ffi:?} vs {:?}",
                func.ret
            ));
        }
    }

    // Both directions against libffi closures and libffi calls.
    let oracle_lua = mlua::Lua::new();
    moonthunk::open(&oracle_lua).unwrap();
    oracle::prepare(&oracle_lua, cat, mix.aggregates).unwrap();
    for func in &suite.funcs {
        let found = oracle::roundtrip(&oracle_lua, cat, func.n, &func.sig, &func.args);
        if found.is_empty() {
            roundtrips += 1;
        }
        for p in found {
            problems.push(format!("roundtrip {} {:?}: {p}", func.n, func.sig));
        }
    }
    eprintln!(
        "libffi differential {name}: {agree}/{COUNT} generated targets agree, {roundtrips}/{COUNT} closure/callback round trips agree"
    );
    assert!(
        problems.is_empty(),
        "{} discrepancies with libffi:\n{}",
        problems.len(),
        problems
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn scalars_agree_with_libffi() {
    differential(
        "libffi_scalars",
        0xd1ff,
        Mix {
            aggregates: false,
            packed: false,
            strings: true,
            max_params: 20,
        },
    );
}

/// Aggregates by value (all but packed ones, which libffi cannot describe).
///
/// Of 200 signatures, 198 agree. In the other two (conf_11 and conf_35 with the default
/// seed: 18 to 20 parameters) Debian's libffi 3.4.4 passes an aggregate differently from
/// gcc, while the thunks agree with gcc (the gcc conformance suite checks those same
/// functions, calls and callbacks). The fuzzer found the smallest such shape: a
/// `{{float,float},int}` followed by an `{int,float,double}` (and integer-class arguments
/// before them); a C program calling a gcc-compiled function through `ffi_call` with that
/// signature shows the callee receiving the second struct's double in place of the first
/// struct's floats. libffi is not the arbiter there; run with `--ignored` to see the list.
/// That is x86-64's libffi: on AArch64 all 200 agree, and the test runs.
#[test]
#[cfg_attr(
    target_arch = "x86_64",
    ignore = "libffi 3.4.4 disagrees with gcc on 2 of 200 long aggregate signatures; gcc agrees with the thunks"
)]
fn aggregates_agree_with_libffi() {
    differential(
        "libffi_aggregates",
        0x0d1f_fa66,
        Mix {
            aggregates: true,
            packed: false,
            strings: true,
            max_params: 20,
        },
    );
}
