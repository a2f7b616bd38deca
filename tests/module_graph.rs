//! The modules of `src/` import each other without cycles.
//!
//! The graph has one node per source file of the library crate (`src/bin/` holds other
//! crates). A file depends on another when it names it: `use crate::...`, `use super::...`,
//! `use self::...` (grouped imports included), a `crate::a::b` path anywhere in its code, or
//! a path in code that starts with a name one of those `use` items bound.
//! A path resolves to the deepest module file it reaches. A module naming its own
//! descendants (a parent organising or re-exporting its children) is not an edge. Comments,
//! string and character literals are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path below the crate root (`[]` is the root, `["memory", "pointer"]`...).
type ModPath = Vec<String>;

/// A token of Rust source that matters for paths.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// Tokenizes `source`, dropping comments, string, byte-string, C-string, raw-string and
/// character literals, lifetimes, numbers and whitespace.
fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(&chars, i);
        } else if let Some(end) = raw_string_end(&chars, i) {
            i = end;
        } else if c == '\'' {
            i = skip_char_or_lifetime(&chars, i);
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // Byte, C and raw-identifier prefixes glued to a literal.
            if matches!(word.as_str(), "b" | "c") && i < chars.len() && chars[i] == '"' {
                i = skip_string(&chars, i);
            } else if word == "b" && i < chars.len() && chars[i] == '\'' {
                i = skip_char_or_lifetime(&chars, i);
            } else {
                tokens.push(Token::Ident(word));
            }
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == ':' && next == Some(':') {
            tokens.push(Token::PathSep);
            i += 2;
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// The index after the string literal whose opening quote is at `start`.
fn skip_string(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// When a raw string (`r"..."`, `r#"..."#`, `br#"..."#`, `cr"..."`) starts at `start`, the
/// index after it.
fn raw_string_end(chars: &[char], start: usize) -> Option<usize> {
    if start > 0 && (chars[start - 1].is_alphanumeric() || chars[start - 1] == '_') {
        return None;
    }
    let mut i = start;
    if matches!(chars[i], 'b' | 'c') {
        i += 1;
    }
    if chars.get(i) != Some(&'r') {
        return None;
    }
    i += 1;
    let mut hashes = 0;
    while chars.get(i) == Some(&'#') {
        hashes += 1;
        i += 1;
    }
    if chars.get(i) != Some(&'"') {
        return None;
    }
    i += 1;
    while i < chars.len() {
        if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
            return Some(i + 1 + hashes);
        }
        i += 1;
    }
    Some(i)
}

/// The index after the character literal or lifetime whose quote is at `start`.
fn skip_char_or_lifetime(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    if chars.get(i) == Some(&'\\') {
        i += 2;
        while i < chars.len() && chars[i] != '\'' {
            i += 1;
        }
        return i + 1;
    }
    if chars.get(i + 1) == Some(&'\'') {
        return i + 2;
    }
    // A lifetime or label: the identifier after the quote is skipped with it.
    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    i
}

/// A path a file names, and the name a `use` item binds it to.
struct Named {
    path: ModPath,
    binds: Option<String>,
}

/// Parses a use tree starting at `tokens[*i]` (its `crate`/`super`/`self` prefix already
/// resolved into `prefix`), adding every full path it names to `out`.
fn use_tree(tokens: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<Named>) {
    let mut path = prefix.to_vec();
    let mut binds = prefix.last().cloned();
    loop {
        match tokens.get(*i) {
            Some(Token::Ident(word)) if word == "self" => *i += 1,
            Some(Token::Ident(word)) => {
                path.push(word.clone());
                binds = Some(word.clone());
                *i += 1;
            }
            Some(Token::Punct('{')) => {
                *i += 1;
                while !matches!(tokens.get(*i), None | Some(Token::Punct('}'))) {
                    use_tree(tokens, i, &path, out);
                    if tokens.get(*i) == Some(&Token::Punct(',')) {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            Some(Token::Punct('*')) => {
                binds = None;
                *i += 1;
                break;
            }
            _ => break,
        }
        if tokens.get(*i) == Some(&Token::PathSep) {
            *i += 1;
        } else {
            break;
        }
    }
    if tokens.get(*i) == Some(&Token::Ident("as".into())) {
        binds = match tokens.get(*i + 1) {
            Some(Token::Ident(alias)) if alias != "_" => Some(alias.clone()),
            _ => None,
        };
        *i += 2;
    }
    out.push(Named { path, binds });
}

/// Every path that the module at `module` (a file's module path) names relative to the crate:
/// `crate::`, `super::` and `self::` paths, in `use` items and in code, inside inline
/// modules too; and paths in code that start with a name such a `use` item bound
/// (`use crate::memory; memory::pointer::push(..)` names `memory::pointer`).
fn named_paths(source: &str, module: &[String]) -> Vec<ModPath> {
    let tokens = tokenize(source);
    let mut named = Vec::new();
    let mut bound: BTreeMap<String, ModPath> = BTreeMap::new();
    // Paths in code that start with a plain name: (index after the `::`, the name).
    let mut plain = Vec::new();
    // The inline modules we are in, with the brace depth at which each opened.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let after_sep = i > 0 && tokens[i - 1] == Token::PathSep;
        let before_sep = tokens.get(i + 1) == Some(&Token::PathSep);
        match &tokens[i] {
            Token::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Token::Punct('}') => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth -= 1;
                i += 1;
            }
            Token::Ident(word)
                if word == "mod" && tokens.get(i + 2) == Some(&Token::Punct('{')) =>
            {
                if let Some(Token::Ident(name)) = tokens.get(i + 1) {
                    inline.push((name.clone(), depth + 1));
                }
                i += 2;
            }
            Token::Ident(word)
                if matches!(word.as_str(), "crate" | "super" | "self")
                    && before_sep
                    && !after_sep =>
            {
                let in_use = i > 0 && tokens[i - 1] == Token::Ident("use".into());
                let mut current: ModPath = module.to_vec();
                current.extend(inline.iter().map(|(name, _)| name.clone()));
                let mut base = match word.as_str() {
                    "crate" => Vec::new(),
                    "super" => {
                        current.pop();
                        current
                    }
                    _ => current,
                };
                i += 2;
                while tokens.get(i) == Some(&Token::Ident("super".into()))
                    && tokens.get(i + 1) == Some(&Token::PathSep)
                {
                    base.pop();
                    i += 2;
                }
                let first = named.len();
                use_tree(&tokens, &mut i, &base, &mut named);
                if in_use {
                    for item in &mut named[first..] {
                        if let Some(name) = item.binds.take() {
                            bound.insert(name, item.path.clone());
                        }
                    }
                }
            }
            Token::Ident(word) if before_sep && !after_sep => {
                plain.push((i + 2, word.clone()));
                i += 2;
            }
            _ => i += 1,
        }
    }
    let mut paths: Vec<ModPath> = named.into_iter().map(|n| n.path).collect();
    for (start, name) in plain {
        if let Some(base) = bound.get(&name) {
            let mut tail = Vec::new();
            use_tree(&tokens, &mut start.clone(), base, &mut tail);
            paths.extend(tail.into_iter().map(|n| n.path));
        }
    }
    paths
}

/// The module path of a source file under `src/`.
fn module_of(relative: &Path) -> ModPath {
    let mut parts: ModPath = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().expect("a file name");
    match file.as_str() {
        "lib.rs" | "mod.rs" => {}
        _ => parts.push(file.trim_end_matches(".rs").to_string()),
    }
    parts
}

/// Every `.rs` file under `dir`, recursively.
fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The dependency graph of the library's modules: for each module, the modules it names.
fn graph(src: &Path) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut files = Vec::new();
    source_files(src, &mut files);
    let sources: BTreeMap<ModPath, String> = files
        .iter()
        .filter(|f| !f.strip_prefix(src).unwrap().starts_with("bin"))
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("a readable source file");
            (module_of(f.strip_prefix(src).unwrap()), text)
        })
        .collect();
    let mut edges = BTreeMap::new();
    for (module, text) in &sources {
        let targets: &mut BTreeSet<ModPath> = edges.entry(module.clone()).or_default();
        for path in named_paths(text, module) {
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| sources.contains_key(prefix))
                .expect("the root module exists");
            if !target.starts_with(module) {
                targets.insert(target);
            }
        }
    }
    edges
}

/// A cycle of `edges`, if there is one.
fn find_cycle(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap();
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut marks, &mut Vec::new()))
}

fn name(module: &ModPath) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

fn paths(source: &str, module: &[&str]) -> Vec<String> {
    let module: ModPath = module.iter().map(|s| s.to_string()).collect();
    named_paths(source, &module)
        .iter()
        .map(|p| p.join("::"))
        .collect()
}

#[test]
fn src_modules_form_a_dag() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&src);
    assert!(edges.len() > 10, "src/ was not read: {edges:?}");
    if let Some(cycle) = find_cycle(&edges) {
        let shown: Vec<String> = cycle.iter().map(name).collect();
        let listing: Vec<String> = edges
            .iter()
            .map(|(from, to)| {
                let to: Vec<String> = to.iter().map(name).collect();
                format!("  {} -> {}", name(from), to.join(", "))
            })
            .collect();
        panic!(
            "the modules of src/ import each other in a cycle: {}\nthe graph:\n{}",
            shown.join(" -> "),
            listing.join("\n")
        );
    }
}

#[test]
fn grouped_and_relative_imports_resolve() {
    let source = "use crate::{a, b::{c, d::{self, E}}};\n\
                  use super::x::Y;\n\
                  use self::child::Z as W;\n\
                  fn f() { crate::g::h(); super::super::k::m(); }";
    assert_eq!(
        paths(source, &["p", "q"]),
        [
            "a",
            "b::c",
            "b::d",
            "b::d::E",
            "p::x::Y",
            "p::q::child::Z",
            "g::h",
            "k::m"
        ]
    );
}

#[test]
fn names_bound_by_use_items_extend_paths() {
    let source = "use crate::memory;\n\
                  use super::raw::{self, raise as fail};\n\
                  fn f() { memory::pointer::push(); raw::check(); fail(); mlua::ffi::x(); }";
    assert_eq!(
        paths(source, &["m", "n"]),
        [
            "memory",
            "m::raw",
            "m::raw::raise",
            "memory::pointer::push",
            "m::raw::check"
        ]
    );
}

#[test]
fn inline_modules_shift_super() {
    let source = "mod tests { use super::*; fn t() { crate::z::w(); } }\nuse super::y;";
    assert_eq!(paths(source, &["a", "b"]), ["a::b", "z::w", "a::y"]);
}

#[test]
fn comments_strings_and_chars_are_not_code() {
    let source = "// use crate::line;\n\
                  /* crate::block /* nested crate::inner */ crate::still */\n\
                  //! crate::doc\n\
                  const S: &str = \"crate::string \\\" crate::escaped\";\n\
                  const R: &str = r#\"crate::raw \"# ;\n\
                  const C: &CStr = c\"crate::cstring\";\n\
                  const Q: char = '\"'; fn f<'a>(x: &'a u8) { crate::real::path(); }\n\
                  const B: u8 = b'\\''; use crate::after;";
    assert_eq!(paths(source, &["m"]), ["real::path", "after"]);
}

#[test]
fn a_cycle_is_found_and_descendants_are_not_edges() {
    let dir = std::env::temp_dir().join(format!("module_graph_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a; mod b; use crate::a::x;").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "pub mod x; pub use self::x::f;").unwrap();
    std::fs::write(dir.join("a/x.rs"), "use crate::b::g;").unwrap();
    std::fs::write(dir.join("b.rs"), "fn g() { crate::a::x::f() }").unwrap();
    let edges = graph(&dir);
    let cycle: Vec<String> = find_cycle(&edges).unwrap().iter().map(name).collect();
    assert_eq!(cycle, ["a::x", "b", "a::x"]);
    std::fs::write(dir.join("b.rs"), "fn g() {}").unwrap();
    assert_eq!(find_cycle(&graph(&dir)), None);
    std::fs::remove_dir_all(&dir).unwrap();
}
