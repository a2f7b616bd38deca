//! Link arguments: which Lua C API symbols the executables export to the C code they load.

fn main() {
    // benches/calls.rs dlopens a hand-written Lua C module (benches/c/handbind.c) whose lua_*
    // symbols must resolve from the bench executable, which embeds mlua's vendored Lua.
    println!("cargo:rustc-link-arg-benches=-rdynamic");
    // The runner is the stock `lua` for C modules (`require` of a module built against the Lua
    // headers) and for `ffi.open(nil)`: both find the Lua C API in the executable's dynamic
    // symbol table. Only the API is exported, as the stock interpreter does, not every Rust
    // symbol (which `-rdynamic` would); an exported symbol is also kept by --gc-sections.
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os.ends_with("bsd") {
        for pattern in ["lua_*", "luaL_*", "luaopen_*"] {
            println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol={pattern}");
        }
    } else if target_os == "macos" {
        println!("cargo:rustc-link-arg-bins=-Wl,-export_dynamic");
    }
    // The tests start programs built for the target through cargo's runner for it
    // (tests/common/target.rs), whose environment variable is named after the target.
    let target = std::env::var("TARGET").expect("cargo sets TARGET for build scripts");
    println!("cargo:rustc-env=MOONTHUNK_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
