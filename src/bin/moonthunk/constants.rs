//! `moonthunk constants`, Alien's constants utility: a definitions file naming C constants
//! becomes a C program that writes their values as a Lua file; `--run` also compiles and runs it.
//!
//! A definitions file holds preprocessor lines (copied verbatim, continuation lines included),
//! blank lines, and definitions: `NAME` (the Lua name and the C expression are the same) or
//! `lua_name = C expression`. Directives before the first definition land above `main`; later
//! ones inside it, so `#ifdef` can guard definitions. The C file follows the one Alien's manual
//! shows, except that values print as `long long` (Alien's `%i` is wrong for `sizeof` on LP64)
//! and the program reports a Lua file it cannot write.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn usage(runner: &str) -> String {
    format!(
        "usage: {runner} constants DEFS OUT.c OUT.lua
       {runner} constants --run DEFS OUT.lua [-- CFLAGS...]

Writes OUT.c, a C program that writes the values of the constants DEFS names to OUT.lua as
`name = value` lines. With --run, compiles that program in a temporary directory with $CC
(default cc) and any CFLAGS given after -- (e.g. -I/opt/include), runs it, and leaves OUT.lua.

DEFS lines: preprocessor lines (copied verbatim), blank lines, `NAME`, or
`lua_name = C expression` (e.g. `TIMEVAL_SIZE = sizeof(struct timeval)`)."
    )
}

/// Why the subcommand stopped: a mistake in how it was called (status 2) or a failure while
/// doing the work (status 1).
enum Failure {
    Usage(String),
    Failed(String),
}

/// What the command line asks for.
enum Request {
    Help,
    Write {
        defs: String,
        c_file: String,
        lua_file: String,
    },
    Run {
        defs: String,
        lua_file: String,
        cflags: Vec<String>,
    },
}

/// A line of the definitions file that reaches the C program.
enum Line {
    /// A preprocessor line and the lines it continues onto with a trailing backslash.
    Directive(String),
    Constant {
        lua_name: String,
        expr: String,
        /// What precedes `expr` on its line, blanked but for tabs, so the expression can be
        /// placed at its column in the definitions file.
        indent: String,
    },
}

pub fn main(runner: &str, args: &[String]) -> ExitCode {
    match constants(runner, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("{runner} constants: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("{runner} constants: {message}");
            ExitCode::FAILURE
        }
    }
}

fn constants(runner: &str, args: &[String]) -> Result<(), Failure> {
    let request = parse_args(args)
        .map_err(|message| Failure::Usage(format!("{message}\n{}", usage(runner))))?;
    match request {
        Request::Help => {
            println!("{}", usage(runner));
            Ok(())
        }
        Request::Write {
            defs,
            c_file,
            lua_file,
        } => {
            let lines = read_definitions(&defs)?;
            let program = c_program(&lines, &lua_file, None);
            std::fs::write(&c_file, program)
                .map_err(|e| Failure::Failed(format!("cannot write {c_file}: {e}")))
        }
        Request::Run {
            defs,
            lua_file,
            cflags,
        } => {
            let lines = read_definitions(&defs)?;
            // `#line` points the compiler's messages at DEFS: the C file is deleted afterwards.
            let program = c_program(&lines, &lua_file, Some(&defs));
            compile_and_run(&program, &defs, &lua_file, &cflags)
        }
    }
}

fn parse_args(args: &[String]) -> Result<Request, String> {
    let (options, cflags) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], Some(&args[i + 1..])),
        None => (args, None),
    };
    let mut run = false;
    let mut files = Vec::new();
    for arg in options {
        match arg.as_str() {
            "--run" => run = true,
            "-h" | "--help" => return Ok(Request::Help),
            option if option.starts_with('-') => return Err(format!("unknown option {option}")),
            file => files.push(file.to_string()),
        }
    }
    if run {
        let [defs, lua_file] = <[String; 2]>::try_from(files).map_err(|files| {
            format!(
                "--run expects DEFS OUT.lua, got {} file argument(s)",
                files.len()
            )
        })?;
        let cflags = cflags.unwrap_or_default().to_vec();
        Ok(Request::Run {
            defs,
            lua_file,
            cflags,
        })
    } else if cflags.is_some() {
        Err("compiler flags after -- need --run".to_string())
    } else {
        let [defs, c_file, lua_file] = <[String; 3]>::try_from(files).map_err(|files| {
            format!(
                "expected DEFS OUT.c OUT.lua, got {} file argument(s)",
                files.len()
            )
        })?;
        Ok(Request::Write {
            defs,
            c_file,
            lua_file,
        })
    }
}

fn read_definitions(defs: &str) -> Result<Vec<(usize, Line)>, Failure> {
    let text = std::fs::read_to_string(defs)
        .map_err(|e| Failure::Usage(format!("cannot read {defs}: {e}")))?;
    parse_definitions(&text)
        .map_err(|(number, message)| Failure::Usage(format!("{defs}:{number}: {message}")))
}

fn parse_definitions(text: &str) -> Result<Vec<(usize, Line)>, (usize, String)> {
    let mut lines = Vec::new();
    let mut continuing = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if continuing {
            if let Some((_, Line::Directive(directive))) = lines.last_mut() {
                directive.push('\n');
                directive.push_str(line);
            }
            continuing = line.ends_with('\\');
        } else if line.trim_start().starts_with('#') {
            lines.push((number, Line::Directive(line.to_string())));
            continuing = line.ends_with('\\');
        } else if !line.trim().is_empty() {
            lines.push((number, definition(line).map_err(|m| (number, m))?));
        }
    }
    Ok(lines)
}

fn definition(line: &str) -> Result<Line, String> {
    let (lua_name, expr_and_rest) = match line.split_once('=') {
        Some((lua_name, after)) => (lua_name.trim(), after.trim_start()),
        None => (line.trim(), line.trim_start()),
    };
    let expr = expr_and_rest.trim_end();
    let expr_start = line.len() - expr_and_rest.len();
    if lua_name.is_empty() {
        return Err("missing the Lua name before `=`".to_string());
    }
    if expr.is_empty() {
        return Err(format!("missing the C expression after `{lua_name} =`"));
    }
    if !is_name(lua_name) {
        return Err(if line.contains('=') {
            format!("`{lua_name}` is not a Lua name")
        } else {
            format!("expected `NAME` or `lua_name = C expression`, found `{lua_name}`")
        });
    }
    if LUA_KEYWORDS.contains(&lua_name) {
        return Err(format!("`{lua_name}` is a Lua keyword, not a name"));
    }
    let indent = line[..expr_start]
        .chars()
        .map(|c| if c == '\t' { c } else { ' ' })
        .collect();
    Ok(Line::Constant {
        lua_name: lua_name.to_string(),
        expr: expr.to_string(),
        indent,
    })
}

const LUA_KEYWORDS: [&str; 22] = [
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
];

/// A Lua name, which is also a C identifier, so it needs no escaping in either language.
fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The C program; `origin` (the definitions file's path) adds `#line` directives so the
/// compiler reports errors at the definition that caused them.
fn c_program(lines: &[(usize, Line)], lua_file: &str, origin: Option<&str>) -> String {
    let mut c = String::from("/* Generated by Alien constants */\n\n#include <stdio.h>\n\n");
    let mut in_main = false;
    let mut open_main = |c: &mut String| {
        if !in_main {
            in_main = true;
            write_main_opening(c, lua_file);
        }
    };
    for (number, line) in lines {
        if let Line::Constant { .. } = line {
            open_main(&mut c);
        }
        let line_directive = origin.map(|origin| format!("#line {number} {}\n", c_string(origin)));
        if let Some(line_directive) = &line_directive {
            c.push_str(line_directive);
        }
        match line {
            Line::Directive(text) => writeln!(c, "{text}").unwrap(),
            Line::Constant {
                lua_name,
                expr,
                indent,
            } => {
                write!(
                    c,
                    "  fprintf(f, \"%s = %lld\\n\", \"{lua_name}\", (long long)("
                )
                .unwrap();
                // Under `#line`, the expression starts a line of its own at its column in the
                // definitions file, so the compiler's column and caret point into it.
                if let Some(line_directive) = &line_directive {
                    write!(c, "\n{line_directive}{indent}").unwrap();
                }
                writeln!(c, "{expr}));").unwrap();
            }
        }
    }
    open_main(&mut c);
    c.push_str(
        "  int failed = ferror(f);
  if (fclose(f) != 0 || failed) {
    perror(LUA_FILE);
    return 1;
  }
  return 0;
}
",
    );
    c
}

fn write_main_opening(c: &mut String, lua_file: &str) {
    write!(
        c,
        "#define LUA_FILE {}
int main() {{
  FILE *f = fopen(LUA_FILE, \"w+\");
  if (f == NULL) {{
    perror(LUA_FILE);
    return 1;
  }}
  fprintf(f, \"-- Generated by Alien constants\\n\\n\");
",
        c_string(lua_file)
    )
    .unwrap();
}

/// A C string literal holding `text`'s bytes.
fn c_string(text: &str) -> String {
    let mut literal = String::from("\"");
    for byte in text.bytes() {
        match byte {
            b'"' | b'\\' => {
                literal.push('\\');
                literal.push(byte as char);
            }
            // `??x` is a trigraph in strict C modes.
            b'?' => literal.push_str("\\?"),
            b' '..=b'~' => literal.push(byte as char),
            // Three octal digits, so a following digit is not taken into the escape.
            _ => write!(literal, "\\{byte:03o}").unwrap(),
        }
    }
    literal.push('"');
    literal
}

fn compile_and_run(
    program: &str,
    defs: &str,
    lua_file: &str,
    cflags: &[String],
) -> Result<(), Failure> {
    let dir = TempDir::new()
        .map_err(|e| Failure::Failed(format!("cannot create a temporary directory: {e}")))?;
    let source = dir.0.join("constants.c");
    let executable = dir.0.join("constants");
    std::fs::write(&source, program)
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", source.display())))?;

    // Like make, $CC may carry its own arguments ("ccache gcc", "gcc -m32").
    let cc = std::env::var("CC").unwrap_or_default();
    let mut cc_words = cc.split_whitespace();
    let compiler = cc_words.next().unwrap_or("cc");
    let compiled = Command::new(compiler)
        .args(cc_words)
        .arg("-o")
        .arg(&executable)
        .arg(&source)
        .args(cflags)
        .status()
        .map_err(|e| Failure::Failed(format!("cannot run the C compiler {compiler}: {e}")))?;
    if !compiled.success() {
        return Err(Failure::Failed(format!(
            "the C compiler ({compiler}) failed on the program made from {defs} ({compiled}); \
             its messages are above"
        )));
    }

    let ran = Command::new(&executable)
        .status()
        .map_err(|e| Failure::Failed(format!("cannot run the program made from {defs}: {e}")))?;
    if !ran.success() {
        return Err(Failure::Failed(format!(
            "the program made from {defs} could not write {lua_file} ({ran})"
        )));
    }
    Ok(())
}

/// A directory of this process's own, removed with its contents when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let base = std::env::temp_dir();
        let mut attempt = 0;
        loop {
            let dir = base.join(format!(
                "moonthunk-constants-{}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                // Left over by an earlier process with the same id.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                    attempt += 1
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_what_c_would_misread() {
        assert_eq!(c_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(c_string("??=é1"), "\"\\?\\?=\\303\\2511\"");
    }

    #[test]
    fn continued_directives_stay_one_line_of_the_program() {
        let lines = parse_definitions("#define TWICE(x) \\\n  ((x) * 2)\nFOUR = TWICE(2)\n")
            .unwrap_or_else(|(n, m)| panic!("{n}: {m}"));
        assert_eq!(lines.len(), 2);
        assert!(matches!(&lines[0], (1, Line::Directive(d)) if d.ends_with("((x) * 2)")));
        assert!(matches!(&lines[1], (3, Line::Constant { indent, .. }) if indent == "       "));
    }

    #[test]
    fn a_file_without_definitions_still_makes_a_whole_program() {
        let program = c_program(&[], "out.lua", None);
        assert!(program.contains("int main() {") && program.ends_with("  return 0;\n}\n"));
    }

    #[test]
    fn unusable_names_are_refused() {
        for (line, message) in [
            ("= 1", "missing the Lua name before `=`"),
            ("X =", "missing the C expression after `X =`"),
            ("end = 1", "`end` is a Lua keyword, not a name"),
            ("2X = 1", "`2X` is not a Lua name"),
            (
                "sizeof(int)",
                "expected `NAME` or `lua_name = C expression`, found `sizeof(int)`",
            ),
        ] {
            assert_eq!(definition(line).err().as_deref(), Some(message), "{line}");
        }
    }
}
