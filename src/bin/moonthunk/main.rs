//! The `moonthunk` runner: a Lua 5.4 interpreter (vendored) with moonthunk preloaded.
//!
//! `moonthunk script.lua [args...]` runs a script the way the stock `lua` does: `arg` holds
//! the script name at 0 and its arguments from 1 (the runner's own name at -1), the
//! arguments are also the chunk's `...`, a first line starting with `#` is skipped, and `-`
//! reads the script from standard input. An error prints the message and a traceback to
//! standard error and exits with status 1.
//!
//! `moonthunk constants ...` is Alien's constants utility instead (`constants.rs`); a script
//! named `constants` runs as `moonthunk ./constants`.

mod constants;

use std::io::Read;
use std::process::ExitCode;

use mlua::{Lua, MultiValue, StdLib};

fn run(script: &str, args: &[String], runner: &str) -> mlua::Result<()> {
    // SAFETY: an FFI runner loads C code by design; the full standard library (including
    // `package.loadlib`) is what users of the stock interpreter expect.
    let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL, mlua::LuaOptions::default()) };
    moonthunk::open(&lua)?;

    let arg = lua.create_table()?;
    arg.raw_set(-1, runner)?;
    arg.raw_set(0, script)?;
    for (i, a) in args.iter().enumerate() {
        arg.raw_set(i as i64 + 1, a.as_str())?;
    }
    lua.globals().set("arg", arg)?;

    let (source, chunk_name) = if script == "-" {
        let mut source = Vec::new();
        std::io::stdin()
            .read_to_end(&mut source)
            .map_err(mlua::Error::external)?;
        (source, "=stdin".to_string())
    } else {
        let source = std::fs::read(script)
            .map_err(|e| mlua::Error::runtime(format!("cannot open {script}: {e}")))?;
        (source, format!("@{script}"))
    };
    let source = skip_shebang(source);

    let chunk = lua.load(source).set_name(chunk_name).into_function()?;
    let traceback: mlua::Function = lua.load("return debug.traceback").eval()?;
    let call: mlua::Function = lua
        .load("local f, tb = ... return function(...) return xpcall(f, function(e) return tb(tostring(e), 2) end, ...) end")
        .set_name("=moonthunk")
        .call((chunk, traceback))?;
    let mut results: MultiValue = call.call(MultiValue::from_iter(
        args.iter()
            .map(|a| lua.create_string(a).map(mlua::Value::String))
            .collect::<mlua::Result<Vec<_>>>()?,
    ))?;
    match results.pop_front() {
        Some(mlua::Value::Boolean(true)) => Ok(()),
        _ => {
            let message = results
                .pop_front()
                .map(|m| {
                    m.to_string()
                        .unwrap_or_else(|_| "(error object)".to_string())
                })
                .unwrap_or_default();
            Err(mlua::Error::runtime(message))
        }
    }
}

/// Blanks a first line starting with `#`, keeping line numbers, as `lua` does.
fn skip_shebang(mut source: Vec<u8>) -> Vec<u8> {
    if source.first() == Some(&b'#') {
        let end = source
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(source.len());
        source.drain(..end);
    }
    source
}

fn main() -> ExitCode {
    let mut argv = std::env::args();
    let runner = argv.next().unwrap_or_else(|| "moonthunk".to_string());
    let Some(script) = argv.next() else {
        eprintln!("usage: {runner} script.lua [args...]   (use - to read the script from stdin)");
        eprintln!("       {runner} constants --help");
        return ExitCode::from(2);
    };
    let args: Vec<String> = argv.collect();
    if script == "constants" {
        return constants::main(&runner, &args);
    }
    match run(&script, &args, &runner) {
        Ok(()) => ExitCode::SUCCESS,
        Err(mlua::Error::RuntimeError(message)) => {
            eprintln!("{runner}: {message}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{runner}: {e}");
            ExitCode::FAILURE
        }
    }
}
