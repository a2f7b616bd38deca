//! The interactive prompt of the stock `lua` (lua.c's `doREPL`, built without readline):
//! reads lines from C's `stdin`, evaluates `return <line>` first so that an expression prints
//! its values, and continues a statement on `>> ` lines while it is incomplete.
//!
//! It reads and writes through C's stdio, as lua.c does, so that the prompt, the output of
//! `print`/`io.write` and the lines `io.read` takes from standard input share one buffer each.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::io::IsTerminal;

use mlua::ffi::{self, lua_State};

use crate::interpreter::{do_call, message, report};

/// lua.c's `LUA_MAXINPUT`: longer lines arrive in pieces, as with lua.c.
const MAX_INPUT: usize = 512;

type File = c_void;

extern "C" {
    #[cfg_attr(target_os = "macos", link_name = "__stdinp")]
    static stdin: *mut File;
    #[cfg_attr(target_os = "macos", link_name = "__stdoutp")]
    static stdout: *mut File;
    fn fgets(buffer: *mut c_char, size: c_int, stream: *mut File) -> *mut c_char;
    fn fputs(text: *const c_char, stream: *mut File) -> c_int;
    fn fflush(stream: *mut File) -> c_int;
}

/// Whether lua.c would start the prompt when given no script and no `-e`/`-v`.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Writes `text` to C's standard output and flushes it (lua.c's `lua_writestring` and
/// `lua_writeline`).
pub fn write_stdout(text: &CStr) {
    // SAFETY: C's stdout is open for the life of the process; `text` is NUL-terminated.
    unsafe {
        fputs(text.as_ptr(), stdout);
        fflush(stdout);
    }
}

/// Runs the prompt until end of input. Errors print without the program's name, as in lua.c.
pub unsafe fn run(l: *mut lua_State) {
    loop {
        let mut status = load_line(l);
        if status == -1 {
            break;
        }
        if status == ffi::LUA_OK {
            status = do_call(l, 0, ffi::LUA_MULTRET);
        }
        if status == ffi::LUA_OK {
            print_results(l);
        } else {
            report(l, None, status);
        }
    }
    ffi::lua_settop(l, 0);
    write_stdout(c"\n");
}

/// Pushes the prompt: `_PROMPT`/`_PROMPT2` through `tostring` when set, else `> `/`>> `.
/// One value is left on the stack either way (nil for the defaults).
unsafe fn prompt(l: *mut lua_State, first_line: bool) -> *const c_char {
    let global = if first_line { c"_PROMPT" } else { c"_PROMPT2" };
    if ffi::lua_getglobal(l, global.as_ptr()) == ffi::LUA_TNIL {
        return if first_line { c"> " } else { c">> " }.as_ptr();
    }
    let text = ffi::luaL_tolstring(l, -1, std::ptr::null_mut());
    ffi::lua_remove(l, -2);
    text
}

/// Prompts and pushes the next line without its newline (lua.c's `pushline`); false at end
/// of input, leaving the prompt on the stack for the caller to clear.
unsafe fn push_line(l: *mut lua_State, first_line: bool) -> bool {
    let mut buffer = [0 as c_char; MAX_INPUT];
    fputs(prompt(l, first_line), stdout);
    fflush(stdout);
    if fgets(buffer.as_mut_ptr(), MAX_INPUT as c_int, stdin).is_null() {
        return false;
    }
    ffi::lua_pop(l, 1);
    let mut len = CStr::from_ptr(buffer.as_ptr()).count_bytes();
    if len > 0 && buffer[len - 1] == b'\n' as c_char {
        len -= 1;
        buffer[len] = 0;
    }
    // `=expr` is Lua 5.1's way to print an expression; 5.4's lua.c still takes it.
    if first_line && buffer[0] == b'=' as c_char {
        ffi::lua_pushfstring(l, c"return %s".as_ptr(), buffer.as_ptr().add(1));
    } else {
        ffi::lua_pushlstring(l, buffer.as_ptr(), len);
    }
    true
}

/// Tries the line on the stack as `return <line>;`, so an expression prints its values.
unsafe fn add_return(l: *mut lua_State) -> c_int {
    let line = ffi::lua_tostring(l, -1);
    let with_return = ffi::lua_pushfstring(l, c"return %s;".as_ptr(), line);
    let status = ffi::luaL_loadbuffer(
        l,
        with_return,
        CStr::from_ptr(with_return).count_bytes(),
        c"=stdin".as_ptr(),
    );
    if status == ffi::LUA_OK {
        ffi::lua_remove(l, -2);
    } else {
        ffi::lua_pop(l, 2);
    }
    status
}

/// Whether `status` is a syntax error at the end of the input, i.e. the statement goes on;
/// if so, pops the message.
unsafe fn incomplete(l: *mut lua_State, status: c_int) -> bool {
    if status != ffi::LUA_ERRSYNTAX {
        return false;
    }
    let mut len = 0;
    let msg = ffi::lua_tolstring(l, -1, &mut len);
    let msg = std::slice::from_raw_parts(msg.cast::<u8>(), len);
    if msg.ends_with(b"<eof>") {
        ffi::lua_pop(l, 1);
        return true;
    }
    false
}

/// Compiles the statement at index 1, reading continuation lines while it is incomplete.
unsafe fn multiline(l: *mut lua_State) -> c_int {
    loop {
        let mut len = 0;
        let line = ffi::lua_tolstring(l, 1, &mut len);
        let status = ffi::luaL_loadbuffer(l, line, len, c"=stdin".as_ptr());
        if !incomplete(l, status) || !push_line(l, false) {
            return status;
        }
        ffi::lua_pushliteral(l, c"\n");
        ffi::lua_insert(l, -2);
        ffi::lua_concat(l, 3);
    }
}

/// Reads and compiles one entry, leaving the function (or the error) alone on the stack;
/// -1 at end of input.
unsafe fn load_line(l: *mut lua_State) -> c_int {
    ffi::lua_settop(l, 0);
    if !push_line(l, true) {
        return -1;
    }
    let mut status = add_return(l);
    if status != ffi::LUA_OK {
        status = multiline(l);
    }
    ffi::lua_remove(l, 1);
    status
}

/// Prints the values an entry returned with the global `print`.
unsafe fn print_results(l: *mut lua_State) {
    let n = ffi::lua_gettop(l);
    if n == 0 {
        return;
    }
    ffi::luaL_checkstack(l, ffi::LUA_MINSTACK, c"too many results to print".as_ptr());
    ffi::lua_getglobal(l, c"print".as_ptr());
    ffi::lua_insert(l, 1);
    if ffi::lua_pcall(l, n, 0, 0) != ffi::LUA_OK {
        let msg = ffi::lua_pushfstring(
            l,
            c"error calling 'print' (%s)".as_ptr(),
            ffi::lua_tostring(l, -1),
        );
        message(None, CStr::from_ptr(msg).to_bytes());
    }
}
