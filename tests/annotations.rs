//! Drift between the faces and their editor annotations (`types/*.lua`): every name a face
//! exports, in its module tables and on each kind of object it makes, is annotated, and
//! every name the annotations give still exists on a live object.
//!
//! Module tables are enumerated with `pairs`. An object's methods come from its metatable's
//! `__index` (a table, or the methods table a C `__index` closure holds as an upvalue); the
//! properties a C `__index` computes cannot be enumerated, so they are read off the `b"name"`
//! arms of those functions in the source, and every annotated member is also looked up on a
//! live object, which catches annotations of names that are gone.

#[path = "common/testlib.rs"]
mod testlib;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

#[derive(Debug, PartialEq)]
enum Member {
    /// `---@field name type`: the type's first word.
    Field(String),
    /// `function X.name(` or `function X:name(`.
    Function,
}

/// What an annotation file declares.
#[derive(Default)]
struct Annotations {
    classes: BTreeMap<String, BTreeMap<String, Member>>,
    /// `---@alias` unions of string literals.
    aliases: BTreeMap<String, BTreeSet<String>>,
    /// Globals the file assigns at top level.
    globals: BTreeSet<String>,
}

impl Annotations {
    /// Parses the subset of LuaLS annotations the files use: a `---@class` applies to the
    /// `---@field` lines after it and to the table the next code line assigns, whose
    /// `function T.name(` / `function T:name(` definitions become its members.
    fn parse(file: &str) -> Annotations {
        let path = types_dir().join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut ann = Annotations::default();
        let mut tables: BTreeMap<String, String> = BTreeMap::new();
        let mut class: Option<String> = None;
        let mut alias: Option<String> = None;
        for (n, line) in text.lines().enumerate() {
            let at = || format!("{file}:{}", n + 1);
            let line = line.trim_end();
            if let Some(name) = line.strip_prefix("---@class ") {
                let name = name.split_whitespace().next().unwrap().to_string();
                ann.classes.entry(name.clone()).or_default();
                class = Some(name);
            } else if let Some(field) = line.strip_prefix("---@field ") {
                let class = class
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: field outside a class", at()));
                let mut words = field.split_whitespace();
                let name = words.next().unwrap();
                let ty = words
                    .next()
                    .unwrap_or_else(|| panic!("{}: field without a type", at()));
                // `[string]` and `[integer]` are index signatures, not names.
                let name = match name.strip_prefix("[\"") {
                    Some(quoted) => quoted.strip_suffix("\"]").unwrap(),
                    None if name.starts_with('[') => continue,
                    None => name.trim_end_matches('?'),
                };
                let previous = ann
                    .classes
                    .get_mut(class)
                    .unwrap()
                    .insert(name.into(), Member::Field(ty.into()));
                assert!(previous.is_none(), "{}: '{name}' annotated twice", at());
            } else if let Some(name) = line.strip_prefix("---@alias ") {
                let mut words = name.split_whitespace();
                let name = words.next().unwrap().to_string();
                alias = words.next().is_none().then(|| name.clone());
                ann.aliases.entry(name).or_default();
            } else if let Some(literal) = line.strip_prefix("---| ") {
                let alias = alias
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: '---|' outside an alias", at()));
                let literal = literal.split_whitespace().next().unwrap().trim_matches('"');
                ann.aliases.get_mut(alias).unwrap().insert(literal.into());
            } else if let Some(rest) = line.strip_prefix("function ") {
                let target = rest.split('(').next().unwrap();
                let split = target
                    .rfind([':', '.'])
                    .unwrap_or_else(|| panic!("{}: a global function", at()));
                let (table, name) = (&target[..split], &target[split + 1..]);
                let owner = tables
                    .get(table)
                    .unwrap_or_else(|| panic!("{}: '{table}' is no class's table", at()));
                let previous = ann
                    .classes
                    .get_mut(owner)
                    .unwrap()
                    .insert(name.into(), Member::Function);
                assert!(previous.is_none(), "{}: '{name}' annotated twice", at());
            } else if !line.starts_with("--") && !line.is_empty() {
                let assigned = line.strip_prefix("local ").unwrap_or(line);
                if let Some((target, _)) = assigned.split_once(" = ") {
                    if let Some(class) = class.take() {
                        tables.insert(target.to_string(), class);
                    }
                    let is_global = !line.starts_with("local ") && !target.contains('.');
                    if is_global {
                        ann.globals.insert(target.to_string());
                    }
                }
                class = None;
                alias = None;
            }
        }
        ann
    }

    fn class(&self, name: &str) -> &BTreeMap<String, Member> {
        self.classes
            .get(name)
            .unwrap_or_else(|| panic!("no ---@class {name}"))
    }
}

fn types_dir() -> PathBuf {
    Path::new(MANIFEST_DIR).join("types")
}

/// A state with moonthunk installed and the Lua helpers of this test as globals.
fn state() -> Lua {
    // SAFETY: the debug library, which reads metatables past `__metatable` and upvalues of C
    // closures, is used by this test's own chunks only, which never write through it.
    let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL_SAFE | StdLib::DEBUG, LuaOptions::new()) };
    moonthunk::open(&lua).expect("moonthunk installs");
    let globals = lua.globals();
    let lib = testlib::test_library();
    globals.set("TESTLIB", lib.to_str().unwrap()).unwrap();
    let dir = testlib::script_dir();
    globals.set("TESTDIR", dir.to_str().unwrap()).unwrap();
    lua.load(
        r#"
        -- The methods table behind an object's __index: the table itself, or the first table
        -- a C __index closure holds (the memory objects' upvalue 1, an Alien buffer's 2).
        function methods_of(obj)
            local index = debug.getmetatable(obj).__index
            if type(index) == "table" then return index end
            for i = 1, 255 do
                local name, value = debug.getupvalue(index, i)
                if name == nil then break end
                if type(value) == "table" then return value end
            end
            return {}
        end
        -- The type of obj[name], or nil when absent or an error.
        function probe(obj, name)
            local ok, value = pcall(function() return obj[name] end)
            if ok and value ~= nil then return type(value) end
        end
        "#,
    )
    .exec()
    .unwrap();
    lua
}

fn eval<T: mlua::FromLua>(lua: &Lua, chunk: &str) -> T {
    lua.load(chunk)
        .eval()
        .unwrap_or_else(|e| panic!("{chunk}: {e}"))
}

fn keys(t: &Table) -> BTreeSet<String> {
    t.pairs::<Value, Value>()
        .filter_map(|pair| match pair.unwrap().0 {
            Value::String(s) => Some(s.to_str().unwrap().to_string()),
            _ => None,
        })
        .collect()
}

/// The names a `b"name"` arm of `function` (in `file` under `src/`) answers to.
fn properties_in_source(file: &str, function: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(Path::new(MANIFEST_DIR).join("src").join(file)).unwrap();
    let start = text
        .find(&format!("fn {function}("))
        .unwrap_or_else(|| panic!("no fn {function} in src/{file}: update this test"));
    let body = &text[start..];
    let body = &body[..body.find("\n}").unwrap()];
    let names: BTreeSet<String> = body
        .split("b\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect();
    assert!(
        !names.is_empty(),
        "no properties found in src/{file} {function}"
    );
    names
}

/// A module table and its class agree exactly: every key is annotated, a function as a
/// function and anything else as a field, and every annotated name is a key.
fn check_table(ann: &Annotations, class: &str, table: &Table) {
    let members = ann.class(class);
    let mut problems = Vec::new();
    for pair in table.pairs::<Value, Value>() {
        let (key, value) = pair.unwrap();
        let Value::String(key) = key else { continue };
        let key = key.to_str().unwrap().to_string();
        match (members.get(&key), &value) {
            (None, _) => problems.push(format!("'{key}' is not annotated")),
            (Some(Member::Field(_)), Value::Function(_)) => {
                problems.push(format!("'{key}' is a function, annotated as a field"))
            }
            (Some(Member::Function), v) if !matches!(v, Value::Function(_)) => problems.push(
                format!("'{key}' is a {}, annotated as a function", v.type_name()),
            ),
            (Some(Member::Field(ty)), Value::String(s))
                if ty.starts_with('"') && !ty.contains('|') =>
            {
                let literal = ty.trim_matches('"');
                if s.to_str().unwrap() != literal {
                    problems.push(format!(
                        "'{key}' is \"{}\", annotated as {ty}",
                        s.to_str().unwrap()
                    ));
                }
            }
            _ => {}
        }
    }
    let present = keys(table);
    for name in members.keys().filter(|name| !present.contains(*name)) {
        problems.push(format!("'{name}' is annotated but does not exist"));
    }
    assert!(problems.is_empty(), "{class}:\n  {}", problems.join("\n  "));
}

/// An object kind and its class agree: each of `names` (its methods and properties) is
/// annotated, and each annotated member exists on `object` (a method as a function).
fn check_object(
    lua: &Lua,
    ann: &Annotations,
    class: &str,
    object: &Value,
    names: &BTreeSet<String>,
) {
    let members = ann.class(class);
    let probe: Function = lua.globals().get("probe").unwrap();
    let mut problems = Vec::new();
    for name in names.iter().filter(|name| !members.contains_key(*name)) {
        problems.push(format!("'{name}' is not annotated"));
    }
    for (name, member) in members {
        match (
            probe
                .call::<Option<String>>((object, name.as_str()))
                .unwrap(),
            member,
        ) {
            (None, _) => problems.push(format!("'{name}' is annotated but does not exist")),
            (Some(t), Member::Function) if t != "function" => {
                problems.push(format!("'{name}' is a {t}, annotated as a method"))
            }
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{class}:\n  {}", problems.join("\n  "));
}

/// `check_object` with the methods from `methods_of(object)` and the properties of the C
/// `__index` functions `(file, function)`.
fn check_memory_object(
    lua: &Lua,
    ann: &Annotations,
    class: &str,
    chunk: &str,
    index: &[(&str, &str)],
) {
    let object: Value = eval(lua, chunk);
    let methods_of: Function = lua.globals().get("methods_of").unwrap();
    let mut names = keys(&methods_of.call::<Table>(&object).unwrap());
    for (file, function) in index {
        names.extend(properties_in_source(file, function));
    }
    check_object(lua, ann, class, &object, &names);
}

#[test]
fn every_module_has_an_annotation_file() {
    let lua = state();
    let preload: Table = eval(&lua, "return package.preload");
    for name in keys(&preload) {
        let file = types_dir().join(format!("{}.lua", name.replace('.', "/")));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| {
            panic!(
                "require(\"{name}\") has no annotations at {}",
                file.display()
            )
        });
        let mut lines = text.lines();
        assert!(
            lines.next().is_some_and(|l| l.starts_with("-- ")),
            "{} opens with a line saying what it annotates",
            file.display()
        );
        assert_eq!(lines.next(), Some("---@meta"), "{}", file.display());
        // Valid Lua, as the language server reads it.
        if let Err(e) = lua.load(&text).into_function() {
            panic!("{}: {e}", file.display());
        }
    }
}

#[test]
fn native_module_tables() {
    let lua = state();
    let ann = Annotations::parse("moonthunk.lua");
    let ffi: Table = eval(&lua, r#"return require("moonthunk")"#);
    check_table(&ann, "moonthunk", &ffi);
    assert!(eval::<bool>(
        &lua,
        r#"return rawequal(require("@lune/ffi"), require("moonthunk"))"#
    ));
    check_table(&ann, "moonthunk.unsafe", &ffi.get("unsafe").unwrap());
    let types: Table = ffi.get("types").unwrap();
    check_table(&ann, "moonthunk.TypeMap", &types);
    check_table(&ann, "moonthunk.CTypes", &ffi.get("ctypes").unwrap());
    assert_eq!(
        ann.aliases["moonthunk.TypeName"],
        keys(&types),
        "moonthunk.TypeName"
    );
    check_table(
        &ann,
        "moonthunk.Stats",
        &eval(&lua, r#"return require("moonthunk").stats()"#),
    );
    check_table(
        &ann,
        "moonthunk.Export",
        &eval(
            &lua,
            r#"return require("moonthunk").open(TESTLIB):listExports()[1]"#,
        ),
    );
}

#[test]
fn native_objects() {
    let lua = state();
    let ann = Annotations::parse("moonthunk.lua");
    lua.load(
        r#"
        ffi = require("moonthunk")
        arena = ffi.arena()
        Point = ffi.struct({ { "x", "i32" }, { "y", "i32" } })
        "#,
    )
    .exec()
    .unwrap();

    // The first method lookup builds the methods table.
    let library: Value = eval(
        &lua,
        "local lib = ffi.open(TESTLIB); local _ = lib.call; return lib",
    );
    let methods: Table = lua
        .named_registry_value("moonthunk.native.library_methods")
        .expect("Library's methods table in the registry: update this test");
    check_object(&lua, &ann, "moonthunk.Library", &library, &keys(&methods));

    let smart = "return ffi.load(TESTLIB, { ANSWER = 42 })";
    check_memory_object(&lua, &ann, "moonthunk.SmartLibrary", smart, &[]);
    let callback = r#"return ffi.callback(function() end, "void", {})"#;
    check_memory_object(
        &lua,
        &ann,
        "moonthunk.Callback",
        callback,
        &[("face/native/callback.rs", "object_index")],
    );
    check_memory_object(
        &lua,
        &ann,
        "moonthunk.Arena",
        "return arena",
        &[("memory/arena.rs", "index")],
    );
    let common = ("memory/pointer.rs", "push_common_property");
    check_memory_object(
        &lua,
        &ann,
        "moonthunk.Pointer",
        "return arena:alloc(16)",
        &[common],
    );
    let typed = r#"return ffi.cast(arena:allocArray("i32", 4), "i32")"#;
    check_memory_object(
        &lua,
        &ann,
        "moonthunk.TypedPointer",
        typed,
        &[common, ("memory/typed.rs", "index")],
    );
    check_memory_object(
        &lua,
        &ann,
        "moonthunk.StructDef",
        "return Point",
        &[("memory/view.rs", "def_index")],
    );
    check_memory_object(
        &lua,
        &ann,
        "moonthunk.View",
        "return ffi.view(arena:allocType(Point), Point)",
        &[],
    );
    check_memory_object(
        &lua,
        &ann,
        "moonthunk.Buffer",
        "return ffi.buffer(16)",
        &[common, ("memory/buffer.rs", "index")],
    );
}

#[test]
fn alien_module_tables() {
    let lua = state();
    let ann = Annotations::parse("alien.lua");
    check_table(&ann, "alien", &eval(&lua, r#"return require("alien")"#));
    let struct_ann = Annotations::parse("alien/struct.lua");
    check_table(
        &struct_ann,
        "alien.struct",
        &eval(&lua, r#"return require("alien.struct")"#),
    );
    check_table(
        &ann,
        "alien.StructType",
        &eval(
            &lua,
            r#"return require("alien").defstruct({ { "x", "int" } })"#,
        ),
    );

    // Type names: the face's table of scalars and the names its parser matches.
    let source =
        std::fs::read_to_string(Path::new(MANIFEST_DIR).join("src/face/alien/types.rs")).unwrap();
    let scalars = &source[source.find("const SCALARS").unwrap()..];
    let scalars = &scalars[..scalars.find("];").unwrap()];
    let mut names: BTreeSet<String> = scalars
        .split("(\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect();
    names.extend(
        source
            .lines()
            .filter(|l| l.contains("\" => Some(AlienType::"))
            .map(|l| {
                l.trim()
                    .trim_start_matches('"')
                    .split('"')
                    .next()
                    .unwrap()
                    .to_string()
            }),
    );
    assert_eq!(ann.aliases["alien.TypeName"], names, "alien.TypeName");
    for name in &names {
        let size: Result<i64, _> = lua
            .load(format!(r#"return require("alien").sizeof("{name}")"#))
            .eval();
        assert!(size.is_ok(), "alien.sizeof(\"{name}\"): {size:?}");
    }
}

#[test]
fn alien_objects() {
    let lua = state();
    let ann = Annotations::parse("alien.lua");
    lua.load(r#"alien = require("alien")"#).exec().unwrap();
    let function = "local f = alien.load(TESTLIB).al_add; return f";
    check_memory_object(&lua, &ann, "alien.Function", function, &[]);
    check_memory_object(&lua, &ann, "alien.Buffer", "return alien.buffer(16)", &[]);

    let array: Table = eval(&lua, r#"return alien.array("int", { 1, 2, 3 })"#);
    let methods_of: Function = lua.globals().get("methods_of").unwrap();
    let mut names = keys(&array);
    names.extend(keys(&methods_of.call::<Table>(&array).unwrap()));
    check_object(&lua, &ann, "alien.Array", &Value::Table(array), &names);

    // Libraries, struct instances and callbacks' types have no named members.
    for class in ["alien.Library", "alien.Struct"] {
        assert!(ann.class(class).is_empty(), "{class} names no members");
    }
}

#[test]
fn cinvoke_module_tables_and_globals() {
    let lua = state();
    let ann = Annotations::parse("cinvoke_lua.lua");
    let module: Table = eval(&lua, r#"return require("cinvoke_lua")"#);
    check_table(&ann, "cinvoke_lua", &module);
    assert_eq!(ann.globals, keys(&module), "the globals the file assigns");
    for (table, class) in [
        ("clibrary", "cinvoke_lua.clibrary"),
        ("cstructure", "cinvoke_lua.cstructure"),
        ("cinv", "cinvoke_lua.cinv"),
    ] {
        check_table(&ann, class, &lua.globals().get(table).unwrap());
    }
}

#[test]
fn cinvoke_objects() {
    let lua = state();
    let ann = Annotations::parse("cinvoke_lua.lua");
    lua.load(r#"require("cinvoke_lua")"#).exec().unwrap();
    let library: Value = eval(&lua, "return clibrary.new(TESTLIB)");
    let methods: Table = lua
        .named_registry_value("moonthunk.cinvoke.library_methods")
        .expect("the library methods table in the registry: update this test");
    check_object(&lua, &ann, "cinvoke_lua.Library", &library, &keys(&methods));
    for class in ["cinvoke_lua.Type", "cinvoke_lua.Callback"] {
        assert!(ann.class(class).is_empty(), "{class} names no members");
    }
}
