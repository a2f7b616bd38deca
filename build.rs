fn main() {
    // benches/calls.rs dlopens a hand-written Lua C module (benches/c/handbind.c) whose lua_*
    // symbols must resolve from the bench executable, which embeds mlua's vendored Lua.
    println!("cargo:rustc-link-arg-benches=-rdynamic");
    println!("cargo:rerun-if-changed=build.rs");
}
