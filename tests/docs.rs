//! Docs that run: every ```lua block of README.md and of the pages under docs/ runs here,
//! embedded (`moonthunk::open`), each in a fresh Lua state, so that no example in the docs
//! is a fragment or has gone stale.
//!
//! What a block gets, as the Lua test scripts do: the globals `TESTLIB` (the path of the C
//! test library compiled from `tests/c/*.c`; a block that calls a function of it says so in
//! the text around it) and `TESTDIR` (`tests/lua/`). The block runs as a chunk named after its
//! file, with its lines numbered as in that file, so an error reads `README.md:123: ...`.
//!
//! Results shown in a block are checked. The convention:
//! - `--> text` at the end of a line that calls `print` says what that line prints: every
//!   line `print` writes from that source line (values joined by tabs) must equal `text`,
//!   whitespace runs compared as one space (so a doc may align `--> 1024.0  42`).
//! - A line that is only a `--> text` comment continues the line above it: its text is a
//!   further printed line expected from the last code line before it (for a long message).
//! - A `-->` on a line that printed nothing is an error: a block may not show a result it
//!   does not produce. Lines that print without a `-->` are not checked (a listing that
//!   changes from build to build); blocks state the rest with `assert`.
//!
//! Fragments that are not meant to run (shell commands, C source, output) use another fence
//! (```sh, ```c, ```text).

#[path = "common/testlib.rs"]
mod testlib;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{Function, Lua, MultiValue};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// A ```lua block: its text and the line of the file its first line is on.
struct Block {
    file: String,
    first_line: usize,
    source: String,
}

/// The ```lua blocks of a Markdown file, in order. A fence is three backticks at the start
/// of a line (indented ones too, as in lists); its language is the word after them.
fn lua_blocks(path: &Path, file: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut blocks = Vec::new();
    let mut open: Option<(bool, usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(lang) = trimmed.strip_prefix("```") {
                    open = Some((lang.trim() == "lua", n + 2, String::new()));
                }
            }
            Some((is_lua, first, source)) => {
                if trimmed.starts_with("```") {
                    if *is_lua {
                        blocks.push(Block {
                            file: file.to_string(),
                            first_line: *first,
                            source: std::mem::take(source),
                        });
                    }
                    open = None;
                } else {
                    source.push_str(line);
                    source.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "{file}: a code fence is not closed");
    blocks
}

/// The `-->` expectations of a block: file line -> the lines it must print.
fn expectations(block: &Block) -> BTreeMap<usize, Vec<String>> {
    let mut expected: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut last_code_line = None;
    for (i, line) in block.source.lines().enumerate() {
        let at = block.first_line + i;
        let trimmed = line.trim_start();
        if let Some(text) = trimmed.strip_prefix("-->") {
            // A continuation line: more output of the last code line.
            let owner = last_code_line
                .unwrap_or_else(|| panic!("{}:{at}: `-->` before any code", block.file));
            expected.entry(owner).or_default().push(normalize(text));
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        last_code_line = Some(at);
        if let Some((_, text)) = line.split_once("-->") {
            expected.entry(at).or_default().push(normalize(text));
        }
    }
    expected
}

/// Whitespace runs as one space, trimmed: tabs between printed values and the spaces a doc
/// aligns them with compare equal.
fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs one block in a fresh state and checks its `-->` lines; the error says where.
fn run(block: &Block) -> Result<(), String> {
    let lua = Lua::new();
    moonthunk::open(&lua).map_err(|e| e.to_string())?;
    let globals = lua.globals();
    let lib = testlib::test_library();
    globals.set("TESTLIB", lib.to_str().unwrap()).unwrap();
    let dir = testlib::script_dir();
    globals.set("TESTDIR", dir.to_str().unwrap()).unwrap();
    // `print` records each line it writes with the source line that called it, so that the
    // block's `-->` comments can be checked line by line.
    let printed = Rc::new(RefCell::new(BTreeMap::<usize, Vec<String>>::new()));
    let record = printed.clone();
    // Lua's own `tostring`, so that values print as the stock `print` writes them (1024.0).
    let tostring: Function = globals.get("tostring").unwrap();
    let print = lua
        .create_function(move |lua, args: MultiValue| {
            let line = lua
                .inspect_stack(1, |d| d.current_line())
                .flatten()
                .unwrap_or(0);
            let parts = args
                .iter()
                .map(|v| tostring.call::<String>(v))
                .collect::<mlua::Result<Vec<_>>>()?;
            let mut record = record.borrow_mut();
            for text in parts.join("\t").split('\n') {
                record.entry(line).or_default().push(normalize(text));
            }
            Ok(())
        })
        .unwrap();
    globals.set("print", print).unwrap();
    // Blank lines before the block put its lines at their line numbers in the file.
    let source = "\n".repeat(block.first_line - 1) + &block.source;
    lua.load(source)
        .set_name(format!("@{}", block.file))
        .exec()
        .map_err(|e| e.to_string())?;

    let got = printed.borrow();
    for (line, want) in expectations(block) {
        let have = got.get(&line).cloned().unwrap_or_default();
        if have != want {
            return Err(format!(
                "{}:{line}: expected the line to print {want:?}, it printed {have:?}",
                block.file
            ));
        }
    }
    Ok(())
}

/// README.md and every Markdown page under docs/, as (path, name relative to the crate).
fn doc_files() -> Vec<(PathBuf, String)> {
    let root = Path::new(MANIFEST_DIR);
    let mut files = vec![(root.join("README.md"), "README.md".to_string())];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let name = format!("docs/{}", page.file_name().unwrap().to_str().unwrap());
        files.push((page, name));
    }
    files
}

#[test]
fn every_lua_block_runs() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (path, name) in doc_files() {
        for block in lua_blocks(&path, &name) {
            count += 1;
            if let Err(e) = run(&block) {
                failures.push(format!(
                    "the ```lua block at {}:{} failed:\n{e}",
                    block.file,
                    block.first_line - 1
                ));
            }
        }
    }
    assert!(count > 0, "no ```lua blocks found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Each face has its page, and each page shows at least one example that runs.
#[test]
fn every_face_page_has_an_example() {
    let root = Path::new(MANIFEST_DIR);
    for page in ["docs/native.md", "docs/alien.md", "docs/cinvoke.md"] {
        let blocks = lua_blocks(&root.join(page), page);
        assert!(!blocks.is_empty(), "{page} has no ```lua example");
    }
}

/// The checker itself: a `-->` that does not match, or that nothing printed, fails.
#[test]
fn expectations_are_enforced() {
    let block = |source: &str| Block {
        file: "test.md".into(),
        first_line: 10,
        source: source.into(),
    };
    run(&block("print(1 + 1, 'x')   --> 2  x\n")).unwrap();
    let wrong = run(&block("print(3) --> 4\n")).unwrap_err();
    assert!(wrong.contains("test.md:10"), "{wrong}");
    let silent = run(&block("local x = 1\nlocal y = 2 --> 2\n")).unwrap_err();
    assert!(silent.contains("test.md:11"), "{silent}");
    let continued = "print(pcall(error, 'boom', 0))\n--> false  boom\n";
    assert!(run(&block(continued)).is_ok());
    let error = run(&block("local x = 1\nerror('here')\n")).unwrap_err();
    assert!(error.contains("test.md:11: here"), "{error}");
}
