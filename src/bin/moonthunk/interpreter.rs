//! The stock `lua` interpreter (lua.c of Lua 5.4; `lua_version` has what other versions
//! change), over the raw C API of the vendored Lua: options, `LUA_INIT`, running chunks under
//! the traceback message handler, exit status.
//!
//! It is lua.c rather than a loop over mlua so that everything a Lua user sees matches the
//! stock interpreter: the script runs from a C-level `lua_pcall` whose message handler calls
//! `luaL_traceback` at level 1, so no wrapper frame shows in a traceback; `-E` reaches the
//! package library before it reads `LUA_PATH`; warnings start off as `luaL_newstate` leaves
//! them. The one addition: every moonthunk module is preloaded before any user code runs.
//!
//! Lua errors travel by longjmp through the `extern "C-unwind"` functions here, so none of
//! them owns anything that needs dropping while it calls into Lua.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::io::Write;
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use mlua::ffi::{self, lua_State};

use crate::lua_version::{self, COPYRIGHT, INIT_VAR_VERSION};
use crate::repl;

const INIT_VAR: &CStr = c"=LUA_INIT";

/// The state a SIGINT interrupts, for the signal handler (lua.c's `globalL`).
static INTERRUPTIBLE: AtomicPtr<lua_State> = AtomicPtr::new(ptr::null_mut());

/// Runs the interpreter with the command line `argv` (program name first) and returns the
/// process's exit status: 0 when everything ran, 1 after any error or a bad option.
pub fn main(argv: &[CString]) -> u8 {
    // SAFETY: a fresh state, used only from this thread and closed before returning; `pmain`
    // runs under lua_pcall and reads `argv` (a light userdata) while `argv` is borrowed here.
    unsafe {
        let l = ffi::luaL_newstate();
        if l.is_null() {
            message(
                argv.first().map(CString::as_c_str),
                b"cannot create state: not enough memory",
            );
            return 1;
        }
        lua_version::stop_collector(l);
        ffi::lua_pushcfunction(l, pmain);
        ffi::lua_pushlightuserdata(l, &argv as *const &[CString] as *mut c_void);
        let status = ffi::lua_pcall(l, 1, 1, 0);
        let result = ffi::lua_toboolean(l, -1) != 0;
        report(l, argv.first().map(CString::as_c_str), status);
        ffi::lua_close(l);
        if result && status == ffi::LUA_OK {
            0
        } else {
            1
        }
    }
}

/// The options the command line holds, and where the script's name is.
struct Options {
    bad: bool,
    interactive: bool,
    version: bool,
    execute: bool,
    no_env: bool,
    /// The index of the script's name in argv (or of the bad option); 0 when there is none.
    script: usize,
}

/// lua.c's `collectargs`: options stop at the first argument not starting with `-`, at `--`
/// and at `-`.
fn collect_options(argv: &[CString]) -> Options {
    let mut options = Options {
        bad: false,
        interactive: false,
        version: false,
        execute: false,
        no_env: false,
        script: 0,
    };
    let mut i = 1;
    while i < argv.len() {
        let arg = argv[i].as_bytes();
        options.script = i;
        if arg.first() != Some(&b'-') {
            return options;
        }
        let alone = arg.len() == 2;
        match arg.get(1) {
            Some(b'-') if alone => {
                options.script = i + 1;
                return options;
            }
            None => return options,
            Some(b'E') if alone => options.no_env = true,
            Some(b'W') if alone && lua_version::WARNINGS => {}
            Some(b'i') if alone => {
                options.interactive = true;
                options.version = true;
            }
            Some(b'v') if alone => options.version = true,
            Some(&c @ (b'e' | b'l')) => {
                options.execute |= c == b'e';
                if alone {
                    i += 1;
                    if argv
                        .get(i)
                        .is_none_or(|a| a.as_bytes().first() == Some(&b'-'))
                    {
                        options.bad = true;
                        return options;
                    }
                }
            }
            _ => {
                options.bad = true;
                return options;
            }
        }
        i += 1;
    }
    options.script = 0;
    options
}

/// lua.c's `pmain`, run in protected mode: argument 1 points to the command line, a
/// `&[CString]`.
unsafe extern "C-unwind" fn pmain(l: *mut lua_State) -> c_int {
    let argv: &[CString] = *(ffi::lua_touserdata(l, 1) as *const &[CString]);
    let progname = Some(
        argv.first()
            .filter(|name| !name.is_empty())
            .map_or(c"moonthunk", CString::as_c_str),
    );
    let options = collect_options(argv);
    let first_non_option = if options.script > 0 {
        options.script
    } else {
        argv.len()
    };
    if options.bad {
        print_usage(progname, argv.get(options.script).map(CString::as_bytes));
        return 0;
    }
    if options.version {
        print_version();
    }
    if options.no_env {
        ffi::lua_pushboolean(l, 1);
        ffi::lua_setfield(l, ffi::LUA_REGISTRYINDEX, c"LUA_NOENV".as_ptr());
    }
    ffi::luaL_openlibs(l);
    preload_moonthunk(l);
    create_arg_table(l, argv, options.script);
    lua_version::restart_collector(l);
    if !options.no_env && handle_lua_init(l, progname) != ffi::LUA_OK {
        return 0;
    }
    if !run_options(l, progname, &argv[..first_non_option]) {
        return 0;
    }
    if options.script > 0 && handle_script(l, progname, argv, options.script) != ffi::LUA_OK {
        return 0;
    }
    if options.interactive {
        repl::run(l);
    } else if options.script == 0 && !options.execute && !options.version {
        if repl::stdin_is_terminal() {
            print_version();
            repl::run(l);
        } else {
            do_chunk(l, progname, ffi::luaL_loadfile(l, ptr::null()));
        }
    }
    ffi::lua_pushboolean(l, 1);
    1
}

/// Installs the moonthunk modules in `package.preload`, as `moonthunk::open` does for any
/// embedder; a failure is a Lua error of the protected `pmain`.
unsafe fn preload_moonthunk(l: *mut lua_State) {
    let lua = mlua::Lua::get_or_init_from_ptr(l);
    let Err(e) = moonthunk::open(lua) else {
        return;
    };
    // Not dropped if pushing fails (a longjmp): a leak on the way out, never a skipped drop.
    let text = ManuallyDrop::new(e.to_string());
    drop(e);
    ffi::lua_pushlstring(l, text.as_ptr().cast(), text.len());
    drop(ManuallyDrop::into_inner(text));
    ffi::lua_error(l);
}

/// lua.c's `createargtable`: the script's name at 0, its arguments from 1, the interpreter
/// and its options at negative indices. Without a script, the options count from 0.
unsafe fn create_arg_table(l: *mut lua_State, argv: &[CString], script: usize) {
    let script = script as c_int;
    let count = argv.len() as c_int;
    ffi::lua_createtable(l, (count - script - 1).max(0), script + 1);
    for (i, arg) in argv.iter().enumerate() {
        ffi::lua_pushstring(l, arg.as_ptr());
        ffi::lua_rawseti(l, -2, i as ffi::lua_Integer - script as ffi::lua_Integer);
    }
    ffi::lua_setglobal(l, c"arg".as_ptr());
}

/// lua.c's `handle_luainit`: `LUA_INIT_5_4`, else `LUA_INIT`, holding code or `@file`.
unsafe fn handle_lua_init(l: *mut lua_State, progname: Option<&CStr>) -> c_int {
    let mut name = INIT_VAR_VERSION;
    let mut init = libc_getenv(name.as_ptr().add(1));
    if init.is_null() {
        name = INIT_VAR;
        init = libc_getenv(name.as_ptr().add(1));
    }
    if init.is_null() {
        return ffi::LUA_OK;
    }
    if *init == b'@' as c_char {
        do_chunk(l, progname, ffi::luaL_loadfile(l, init.add(1)))
    } else {
        let status =
            ffi::luaL_loadbuffer(l, init, CStr::from_ptr(init).count_bytes(), name.as_ptr());
        do_chunk(l, progname, status)
    }
}

extern "C" {
    #[link_name = "getenv"]
    fn libc_getenv(name: *const c_char) -> *const c_char;
}

/// lua.c's `runargs`: `-e` and `-l` in order, and `-W`; false after the first failure.
unsafe fn run_options(l: *mut lua_State, progname: Option<&CStr>, options: &[CString]) -> bool {
    let mut i = 1;
    while i < options.len() {
        let option = options[i].as_bytes();
        match option[1] {
            b'e' | b'l' => {
                let argument = if option.len() > 2 {
                    options[i].as_ptr().add(2)
                } else {
                    i += 1;
                    options[i].as_ptr()
                };
                let status = if option[1] == b'e' {
                    do_chunk(
                        l,
                        progname,
                        ffi::luaL_loadbuffer(
                            l,
                            argument,
                            CStr::from_ptr(argument).count_bytes(),
                            c"=(command line)".as_ptr(),
                        ),
                    )
                } else {
                    do_library(l, progname, argument)
                };
                if status != ffi::LUA_OK {
                    return false;
                }
            }
            b'W' => lua_version::warnings_on(l),
            _ => {}
        }
        i += 1;
    }
    true
}

/// lua.c's `dolibrary`: `-l mod` sets global `mod` to `require("mod")`, `-l g=mod` sets `g`.
unsafe fn do_library(l: *mut lua_State, progname: Option<&CStr>, spec: *const c_char) -> c_int {
    let spec = CStr::from_ptr(spec).to_bytes();
    let (global, module) = match spec.iter().position(|&b| b == b'=') {
        Some(at) => (&spec[..at], &spec[at + 1..]),
        None => (spec, spec),
    };
    ffi::lua_getglobal(l, c"require".as_ptr());
    ffi::lua_pushlstring(l, module.as_ptr().cast(), module.len());
    let status = do_call(l, 1, 1);
    if status == ffi::LUA_OK {
        // `global` is a slice, not a C string: lua_settable rather than lua_setglobal.
        ffi::lua_pushglobaltable(l);
        ffi::lua_pushlstring(l, global.as_ptr().cast(), global.len());
        ffi::lua_pushvalue(l, -3);
        ffi::lua_settable(l, -3);
        ffi::lua_pop(l, 2);
    }
    report(l, progname, status)
}

/// lua.c's `handle_script`: loads the script (stdin for `-`, unless it came after `--`) and
/// calls it with the script's arguments, `arg[1]...`.
unsafe fn handle_script(
    l: *mut lua_State,
    progname: Option<&CStr>,
    argv: &[CString],
    script: usize,
) -> c_int {
    let name = &argv[script];
    let from_stdin = name.as_bytes() == b"-" && argv[script - 1].as_bytes() != b"--";
    let mut status = ffi::luaL_loadfile(
        l,
        if from_stdin {
            ptr::null()
        } else {
            name.as_ptr()
        },
    );
    if status == ffi::LUA_OK {
        let n = push_args(l);
        status = do_call(l, n, ffi::LUA_MULTRET);
    }
    report(l, progname, status)
}

/// lua.c's `pushargs`: pushes `arg[1]`..`arg[#arg]`, read back from the table so that
/// `LUA_INIT` and `-e` may have changed them.
unsafe fn push_args(l: *mut lua_State) -> c_int {
    if ffi::lua_getglobal(l, c"arg".as_ptr()) != ffi::LUA_TTABLE {
        ffi::luaL_error(l, c"'arg' is not a table".as_ptr());
    }
    let n = ffi::luaL_len(l, -1) as c_int;
    ffi::luaL_checkstack(l, n + 3, c"too many arguments to script".as_ptr());
    for i in 1..=n {
        ffi::lua_rawgeti(l, -i, i as ffi::lua_Integer);
    }
    ffi::lua_remove(l, -n - 1);
    n
}

/// Runs the chunk `status` says was loaded (lua.c's `dochunk`), reporting any error.
pub unsafe fn do_chunk(l: *mut lua_State, progname: Option<&CStr>, status: c_int) -> c_int {
    let status = if status == ffi::LUA_OK {
        do_call(l, 0, 0)
    } else {
        status
    };
    report(l, progname, status)
}

/// lua.c's `docall`: calls the function below its `nargs` arguments under the traceback
/// message handler, interruptible by SIGINT.
pub unsafe fn do_call(l: *mut lua_State, nargs: c_int, nresults: c_int) -> c_int {
    let base = ffi::lua_gettop(l) - nargs;
    ffi::lua_pushcfunction(l, message_handler);
    ffi::lua_insert(l, base);
    INTERRUPTIBLE.store(l, Ordering::SeqCst);
    set_sigint(on_interrupt as *const () as usize);
    let status = ffi::lua_pcall(l, nargs, nresults, base);
    set_sigint(SIG_DFL);
    ffi::lua_remove(l, base);
    status
}

/// lua.c's `msghandler`: a string message (or an object's `__tostring`) gets the traceback
/// from the level of the error on; any other object is named by its type.
unsafe extern "C-unwind" fn message_handler(l: *mut lua_State) -> c_int {
    let mut msg = ffi::lua_tostring(l, 1);
    if msg.is_null() {
        if ffi::luaL_callmeta(l, 1, c"__tostring".as_ptr()) != 0
            && ffi::lua_type(l, -1) == ffi::LUA_TSTRING
        {
            return 1;
        }
        msg = ffi::lua_pushfstring(
            l,
            c"(error object is a %s value)".as_ptr(),
            ffi::luaL_typename(l, 1),
        );
    }
    ffi::luaL_traceback(l, l, msg, 1);
    1
}

const SIGINT: c_int = 2;
const SIG_DFL: usize = 0;

extern "C" {
    fn signal(signum: c_int, handler: usize) -> usize;
}

unsafe fn set_sigint(handler: usize) {
    signal(SIGINT, handler);
}

/// lua.c's `laction`: a SIGINT while Lua runs sets a hook that raises "interrupted!" at the
/// next instruction; a second SIGINT kills the process (the default action is back).
extern "C" fn on_interrupt(signum: c_int) {
    let flags = ffi::LUA_MASKCALL | ffi::LUA_MASKRET | ffi::LUA_MASKLINE | ffi::LUA_MASKCOUNT;
    // SAFETY: lua_sethook is the one call the Lua manual allows from a signal handler; the
    // state is the one running the interrupted call (it outlives every docall).
    unsafe {
        signal(signum, SIG_DFL);
        ffi::lua_sethook(INTERRUPTIBLE.load(Ordering::SeqCst), Some(stop), flags, 1);
    }
}

unsafe extern "C-unwind" fn stop(l: *mut lua_State, _ar: *mut ffi::lua_Debug) {
    ffi::lua_sethook(l, None, 0, 0);
    ffi::luaL_error(l, c"interrupted!".as_ptr());
}

/// lua.c's `report`: prints the error message on top of the stack, if `status` is an error.
pub unsafe fn report(l: *mut lua_State, progname: Option<&CStr>, status: c_int) -> c_int {
    if status != ffi::LUA_OK {
        let msg = ffi::lua_tostring(l, -1);
        let msg = if msg.is_null() {
            b"(error object is not a string)".as_slice()
        } else {
            CStr::from_ptr(msg).to_bytes()
        };
        message(progname, msg);
        ffi::lua_pop(l, 1);
    }
    status
}

/// lua.c's `l_message`: `progname: msg` on standard error.
pub fn message(progname: Option<&CStr>, msg: &[u8]) {
    let mut err = std::io::stderr().lock();
    if let Some(name) = progname {
        let _ = err.write_all(name.to_bytes());
        let _ = err.write_all(b": ");
    }
    let _ = err.write_all(msg);
    let _ = err.write_all(b"\n");
    let _ = err.flush();
}

/// lua.c's `print_usage`, naming the option that was not understood.
fn print_usage(progname: Option<&CStr>, bad: Option<&[u8]>) {
    let name = String::from_utf8_lossy(progname.map_or(b"moonthunk".as_slice(), CStr::to_bytes))
        .into_owned();
    let bad = String::from_utf8_lossy(bad.unwrap_or_default()).into_owned();
    let problem = if matches!(bad.as_bytes().get(1), Some(b'e' | b'l')) {
        format!("'{bad}' needs argument")
    } else {
        format!("unrecognized option '{bad}'")
    };
    eprint!(
        "{name}: {problem}
usage: {name} [options] [script [args]]
Available options are:
  -e stat   execute string 'stat'
  -i        enter interactive mode after executing 'script'
  -l mod    require library 'mod' into global 'mod'
  -l g=mod  require library 'mod' into global 'g'
  -v        show version information
  -E        ignore environment variables
{warnings}  --        stop handling options
  -         stop handling options and execute stdin
",
        warnings = if lua_version::WARNINGS {
            "  -W        turn warnings on\n"
        } else {
            ""
        }
    );
}

/// lua.c's `print_version`, on standard output.
fn print_version() {
    repl::write_stdout(COPYRIGHT);
}
