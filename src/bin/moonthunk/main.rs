//! The `moonthunk` runner: the stock `lua` interpreter (Lua 5.4, vendored) with every
//! moonthunk module preloaded, and Alien's `constants` utility as a subcommand.
//!
//! `moonthunk [options] [script [args]]` takes the stock interpreter's command line
//! (`interpreter.rs`; the prompt is `repl.rs`). The executable exports the Lua C API
//! (build.rs), so C modules built against the Lua 5.4 headers load as under `lua5.4`, and
//! `ffi.open(nil)` finds `lua_*` functions.
//!
//! `moonthunk constants ...` is Alien's constants utility instead (`constants.rs`); a script
//! named `constants` runs as `moonthunk ./constants`.

mod constants;
mod interpreter;
mod lua_version;
mod repl;

use std::ffi::{CString, OsString};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "constants") {
        let runner = args[0].to_string_lossy().into_owned();
        let rest: Vec<String> = args[2..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return constants::main(&runner, &rest);
    }
    let mut argv = Vec::with_capacity(args.len());
    for arg in args {
        match CString::new(bytes(arg)) {
            Ok(arg) => argv.push(arg),
            Err(_) => {
                eprintln!("moonthunk: an argument holds a NUL byte");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::from(interpreter::main(&argv))
}

/// An argument as the bytes C's `argv` holds.
#[cfg(unix)]
fn bytes(arg: OsString) -> Vec<u8> {
    std::os::unix::ffi::OsStringExt::into_vec(arg)
}

#[cfg(not(unix))]
fn bytes(arg: OsString) -> Vec<u8> {
    arg.to_string_lossy().into_owned().into_bytes()
}
