//! Every Lua test script, run embedded (vendored Lua) and through `require` from the stock
//! interpreter of the built Lua version, both also under `gc_stress` (the collector runs a
//! whole cycle at nearly every allocation check point); the scripts that cover argument
//! reading and results also run with thunks restricted to the Lua C API (`portable`).
//! `code_space` runs a process with a small or a malformed `MOONTHUNK_CODE_SPACE`.

mod common;

macro_rules! script_tests {
    ($($name:ident => $file:literal),* $(,)?) => {
        mod embedded {
            $(#[test] fn $name() { super::common::run_embedded($file); })*
        }
        mod stock_lua {
            $(#[test] fn $name() { super::common::run_host($file); })*
        }
        mod gc_stress {
            mod embedded {
                use crate::common::{run_embedded_after, GC_STRESS};
                $(#[test] fn $name() { run_embedded_after(Some(GC_STRESS), $file); })*
            }
            mod stock_lua {
                use crate::common::{run_host_after, GC_STRESS};
                $(#[test] fn $name() { run_host_after(Some(GC_STRESS), $file, &[]); })*
            }
        }
    };
}

mod portable {
    use super::common::run_host_portable;

    #[test]
    fn direct_stack() {
        run_host_portable("direct_stack.lua");
    }

    #[test]
    fn scalars() {
        run_host_portable("scalars.lua");
    }

    #[test]
    fn errors() {
        run_host_portable("errors.lua");
    }

    #[test]
    fn abi() {
        run_host_portable("abi.lua");
    }

    #[test]
    fn callbacks() {
        run_host_portable("callbacks.lua");
    }

    #[test]
    fn cinvoke() {
        run_host_portable("cinvoke.lua");
    }

    #[test]
    fn cinvoke_errors() {
        run_host_portable("cinvoke_errors.lua");
    }
}

mod code_space {
    use super::common::run_host_with;

    // The code space is a size only where moonthunk maps it itself (jit/src/code_memory.rs);
    // elsewhere cranelift-jit's memory has no such limit.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn full() {
        run_host_with("code_space.lua", &[("MOONTHUNK_CODE_SPACE", "16K")]);
    }

    #[test]
    fn malformed() {
        run_host_with("code_space.lua", &[("MOONTHUNK_CODE_SPACE", "lots")]);
    }
}

/// A "callback" parameter refuses what is not an Alien function object. Run only in a child
/// process (the stock interpreter): a face that lets NULL or data through crashes the process,
/// which must not take the other tests with it.
mod alien_callback_params {
    use super::common::run_host;

    #[test]
    fn stock_lua() {
        run_host("alien_callback_params.lua");
    }
}

script_tests! {
    scalars => "scalars.lua",
    mixed_signatures => "mixed_signatures.lua",
    strings_pointers => "strings_pointers.lua",
    libraries => "libraries.lua",
    lifetimes => "lifetimes.lua",
    errors => "errors.lua",
    seed_examples => "seed_examples.lua",
    cache => "cache.lua",
    unwind => "unwind.lua",
    memory_seed => "memory_seed.lua",
    memory => "memory.lua",
    memory_layout => "memory_layout.lua",
    memory_c => "memory_c.lua",
    memory_fuzz => "memory_fuzz.lua",
    callbacks => "callbacks.lua",
    abi => "abi.lua",
    direct_stack => "direct_stack.lua",
    aggregates => "aggregates.lua",
    api_fuzz_regressions => "api_fuzz_regressions.lua",
    alien => "alien.lua",
    alien_seed => "alien_seed.lua",
    alien_errors => "alien_errors.lua",
    alien_fuzz_regressions => "alien_fuzz_regressions.lua",
    cinvoke_seed => "cinvoke_seed.lua",
    cinvoke => "cinvoke.lua",
    cinvoke_errors => "cinvoke_errors.lua",
}
