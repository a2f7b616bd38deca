//! The Lua-level API fuzzer's programs for the C/Invoke face (`require("cinvoke_lua")`): a
//! stream of random numbers becomes a Lua program that drives `clibrary` (loading, disposing,
//! `get_function`, calls, callbacks, tied variables), `cstructure.new` and the `cinv` helpers
//! with random and hostile arguments against the C test library, each step in `pcall`, then
//! checks that the state is still usable. Shared by `tests/api_fuzz.rs` and
//! `fuzz/fuzz_targets/cinvoke_api.rs`.
//!
//! What a program may legitimately crash on is kept out: a C function is only called with the
//! types it truly has, and a count argument never exceeds the array C gets; C only calls back
//! callbacks of the signature it calls with; `ptr_to_*` only read memory C handed out (the
//! test library's statics, within their size) or the NULL page, never a made-up address;
//! tied variables are only tied with their own type.

use crate::generator::{program_of, Rng};

/// Values of no C type, hostile to every parameter.
const HOSTILE: &[&str] = &[
    "nil",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "255",
    "65536",
    "0x7fffffff",
    "-0x80000000",
    "0xffffffff",
    "1 << 44",
    "math.maxinteger",
    "math.mininteger",
    "0.5",
    "-0.0",
    "1e308",
    "0/0",
    "math.huge",
    "-math.huge",
    "2^63",
    "''",
    "'x'",
    "'ab'",
    "'0x'",
    "'0x10'",
    "'0xZZ'",
    "'42'",
    "'\\0'",
    "BIG",
    "{}",
    "{1, 2, 3}",
    "RAISING",
    "BADSTR",
    "print",
    "function() end",
    "CO",
    "io.stdout",
    "Cint",
    "Foo",
    "cinv.array(Cint)",
];

/// Type arguments, valid and not.
const TYPES: &[&str] = &[
    "Cvoid",
    "Cchar",
    "Cshort",
    "Cint",
    "Clong",
    "Clonglong",
    "Cint16",
    "Cint32",
    "Cint64",
    "Cfloat",
    "Cdouble",
    "Cstring",
    "Cptr",
    "Ccallback",
    "Foo",
    "Outer",
    "Holder",
    "cinv.array(Cint)",
    "cinv.array(Cchar)",
    "cinv.array(Foo)",
    "cinv.array(Holder)",
    "'Cint'",
    "'int'",
    "nil",
    "1",
    "{}",
    "clibrary",
];

/// Field types of structures that may be read from memory of any content: no `Cstring`,
/// whose value is read through the pointer the bytes hold.
const PLAIN_FIELDS: &[&str] = &[
    "Cchar",
    "Cshort",
    "Cint",
    "Clong",
    "Clonglong",
    "Cint16",
    "Cint32",
    "Cint64",
    "Cfloat",
    "Cdouble",
    "Cptr",
    "Foo",
    "Inner",
    "Outer",
];

/// Library names, good and bad.
const LIBRARY_NAMES: &[&str] = &[
    "TESTLIB",
    "TESTLIB",
    "'libc.so.6'",
    "'libm.so.6'",
    "'libnope_nope.so'",
    "''",
    "'/'",
    "'/etc/passwd'",
    "'\\0'",
    "BIG",
    "nil",
    "1",
    "{}",
    "true",
];

const CONVENTIONS: &[&str] = &[
    "",
    ", nil",
    ", 'cdecl'",
    ", 'stdcall'",
    ", 'fastcall'",
    ", 'default'",
    ", 'pascal'",
    ", ''",
    ", 'CDECL'",
    ", 1",
    ", {}",
    ", true",
];

/// Symbol names: of the test library, of libc, and missing.
const SYMBOLS: &[&str] = &[
    "'ci_add'",
    "'ci_int'",
    "'ci_get_text'",
    "'ci_var_int'",
    "'qsort'",
    "'strlen'",
    "'no_such_symbol'",
    "''",
    "'ci_add\\0x'",
    "'get_function'",
    "BIG",
    "1",
    "nil",
    "{}",
];

/// A C function of the test library that never dereferences its arguments, with its true
/// signature in C/Invoke's words: `(name, ret, params)`.
const SCALAR_FUNCS: &[(&str, &str, &[&str])] = &[
    ("ci_add", "Cint", &["Cint", "Cint"]),
    ("ci_char", "Cchar", &["Cchar"]),
    ("ci_next_char", "Cchar", &["Cchar"]),
    ("ci_short", "Cshort", &["Cshort"]),
    ("ci_int", "Cint", &["Cint"]),
    ("ci_long", "Clong", &["Clong"]),
    ("ci_longlong", "Clonglong", &["Clonglong"]),
    ("ci_int16", "Cint16", &["Cint16"]),
    ("ci_int32", "Cint32", &["Cint32"]),
    ("ci_int64", "Cint64", &["Cint64"]),
    ("ci_float", "Cfloat", &["Cfloat"]),
    ("ci_double", "Cdouble", &["Cdouble"]),
    ("ci_string", "Cstring", &["Cstring"]),
    ("ci_ptr", "Cptr", &["Cptr"]),
    ("ci_is_null", "Cint", &["Cptr"]),
    ("ci_address", "Cint64", &["Cptr"]),
    (
        "ci_mixed",
        "Cdouble",
        &[
            "Cchar",
            "Cshort",
            "Cint",
            "Clong",
            "Clonglong",
            "Cfloat",
            "Cdouble",
        ],
    ),
    ("ci_get_text", "Cptr", &[]),
    ("ci_get_ints", "Cptr", &[]),
    ("ci_get_outers", "Cptr", &[]),
    ("ci_get_holders", "Cptr", &[]),
    ("ci_get_triple", "Cptr", &[]),
    ("ci_get_var_int", "Cint", &[]),
    ("ci_get_var_char", "Cchar", &[]),
    ("ci_get_var_ptr", "Cptr", &[]),
];

/// A C function taking an array and the number of elements it touches: `(name, element
/// type, element kind)`.
const ARRAY_FUNCS: &[(&str, &str, &str)] = &[
    ("ci_negate_chars", "Cchar", "char"),
    ("ci_upper", "Cchar", "char"),
    ("ci_negate_shorts", "Cshort", "int"),
    ("ci_negate_ints", "Cint", "int"),
    ("ci_negate_longs", "Clong", "int"),
    ("ci_negate_longlongs", "Clonglong", "int"),
    ("ci_negate_int16s", "Cint16", "int"),
    ("ci_negate_int32s", "Cint32", "int"),
    ("ci_negate_int64s", "Cint64", "int"),
    ("ci_halve_floats", "Cfloat", "float"),
    ("ci_halve_doubles", "Cdouble", "float"),
    ("ci_reverse_ptrs", "Cptr", "ptr"),
    ("ci_foo_double", "Foo", "Foo"),
    ("ci_tagged_step", "Tagged", "Tagged"),
    ("ci_holder_swap", "Holder", "Holder"),
];

/// Callback shapes, each with how C calls it: `(new_callback's types, a valid result, the
/// call of a callback value written as `{}`)`.
const SHAPES: &[(&str, &str, &str)] = &[
    (
        "Cint, F, Cint",
        "7",
        "typed(Cint, 'ci_call_int', Ccallback, Cint)({}, ARG_N)",
    ),
    (
        "Cvoid, F, Cint",
        "nil",
        "typed(Cvoid, 'ci_call_void', Ccallback, Cint)({}, ARG_N)",
    ),
    (
        "Cchar, F, Cchar, Cstring",
        "'A'",
        "typed(Cchar, 'ci_call_char', Ccallback, Cchar)({}, ARG_C)",
    ),
    (
        "Cdouble, F, Cdouble, Cfloat",
        "0.5",
        "typed(Cdouble, 'ci_call_double', Ccallback, Cdouble)({}, ARG_N)",
    ),
    (
        "Cptr, F, Cptr",
        "nil",
        "typed(Cptr, 'ci_call_ptr', Ccallback, Cptr)({}, ARG_P)",
    ),
    // qsort's comparator, over QT (an int array C sorts in a temporary copy).
    ("Cint, F, Cptr, Cptr", "0", "QSORT({}, ARG_T)"),
];

const P_SLOTS: usize = 8;
const FN_SLOTS: usize = 4;
const LIB_SLOTS: usize = 3;
const T_SLOTS: usize = 4;
const S_SLOTS: usize = 3;
const PCB_SLOTS: usize = 2;

const PRELUDE: &str = r#"local M = require("cinvoke_lua")
local BIG = string.rep("A", 70000)
local CO = coroutine.create(function() end)
local RAISING = setmetatable({}, {__index = function() error("index raised") end,
    __newindex = function() error("newindex raised") end,
    __len = function() error("len raised") end})
local BADSTR = setmetatable({}, {__tostring = function() return {} end})
-- Never disposed: the library the checked calls use.
local lib = clibrary.new(TESTLIB)
local libc = clibrary.new("libc.so.6")
local Foo = cstructure.new(Cint, "i1", Cshort, "s1")
local Inner = cstructure.new(Cint, "u", Cint, "v")
local Outer = cstructure.new(Inner, "in", Cfloat, "out")
local Tagged = cstructure.new(Cchar, "tag", Cptr, "data", Cint, "n")
local Holder = cstructure.new(Tagged, "t", Cchar, "c", Cptr, "p")
-- ci_holders' layout with its pointers read as strings: NULL and ci_text.
local TaggedS = cstructure.new(Cchar, "tag", Cstring, "data", Cint, "n")
local HolderS = cstructure.new(TaggedS, "t", Cchar, "c", Cstring, "p")
local function typed(ret, name, ...) return lib:get_function(ret, name, ...) end
-- Memory C hands out, and how many bytes of it may be read.
local TEXT = typed(Cptr, "ci_get_text")()
local INTS = typed(Cptr, "ci_get_ints")()
local OUTERS = typed(Cptr, "ci_get_outers")()
local HOLDERS = typed(Cptr, "ci_get_holders")()
local MEM = {{TEXT, 12}, {INTS, 16}, {OUTERS, 24}, {HOLDERS, 80}}
local TRIPLE = cinv.ptr_to_callback(typed(Cptr, "ci_get_triple")())
local qsort = libc:get_function(Cvoid, "qsort", cinv.array(Cint), Clong, Clong, Ccallback)
-- QT: the table qsort sorts, which its comparator may change while C sorts the copy.
local QT = {}
-- CUR: the table of the array call being made, which metamethods change under it.
local CUR = {}
local function QSORT(cb, t)
    if type(t) == "table" then QT = t end
    return qsort(t, type(t) == "table" and rawlen(t) or 0, 4, cb)
end
-- P: opaque pointers and values (never read through); FN: functions of any declaration
-- (never called); LIB: libraries that may be disposed of; T: tables passed as arrays;
-- S: structures; CB: callbacks by shape; PCB: callbacks of any address (never called).
local P, FN, LIB, T, S, CB, PCB = {}, {}, {}, {}, {}, {}, {}
LIB[1], LIB[2], LIB[3] = clibrary.new(TESTLIB), clibrary.new(TESTLIB), clibrary.new("libc.so.6")
S[1], S[2], S[3] = Foo, Outer, Holder
-- Error values a callback or metamethod raises on purpose: those may come back as they are.
local RAISED = setmetatable({}, {__mode = "k"})
local NILERR = false
local function raise(v) if v == nil then NILERR = true else RAISED[v] = true end error(v, 0) end
local DEPTH = 0
-- `v`, which must not be nil: one value, where `assert` would give its message too.
local function need(v, what) if v == nil then error(what, 2) end return v end
-- The number of elements `t` passes as an array, at most `n`.
local function len(t, n) if type(t) ~= "table" then return 0 end return math.min(rawlen(t), n) end
local function step(n, f)
    NILERR, DEPTH = false, 0
    local ok, e = pcall(f)
    if not ok and type(e) ~= "string" and not (e == nil and NILERR) and not RAISED[e] then
        error(("step %d failed with a %s, not a message"):format(n, type(e)), 0)
    end
end
"#;

const EPILOGUE: &str = r#"
-- The state is still usable.
DEPTH = 0
collectgarbage()
local lib2 = clibrary.new(TESTLIB)
assert(lib2:get_function(Cint, "ci_add", Cint, Cint)(2, 3) == 5, "a call after the steps")
local cb = lib2:new_callback(Cint, function(x) return x * 2 end, Cint)
assert(lib2:get_function(Cint, "ci_call_int", Ccallback, Cint)(cb, 21) == 42, "a callback after the steps")
local t = {1, -2, 3}
lib2:get_function(Cvoid, "ci_negate_ints", cinv.array(Cint), Cint)(t, 3)
assert(t[1] == -1 and t[2] == 2 and t[3] == -3, "an array after the steps")
assert(cinv.ptr_to_string(lib2:get_function(Cptr, "ci_get_text")()) == "hello", "ptr_to_string after the steps")
lib2:dispose()
collectgarbage()
"#;

/// Writes C/Invoke-face Lua programs from random numbers.
pub struct CinvokeGenerator<'a> {
    rng: &'a mut Rng,
    /// Nesting of callback bodies being written (a body may call C with another callback).
    depth: usize,
}

impl<'a> CinvokeGenerator<'a> {
    pub fn new(rng: &'a mut Rng) -> CinvokeGenerator<'a> {
        CinvokeGenerator { rng, depth: 0 }
    }

    /// A whole program of at most `steps` steps (fewer when a byte stream runs out). It
    /// expects the global `TESTLIB` (the C test library's path).
    pub fn program(&mut self, steps: usize) -> String {
        program_of(PRELUDE, EPILOGUE, steps, || {
            self.rng.has_input().then(|| self.step())
        })
    }

    fn step(&mut self) -> String {
        match self.rng.below(40) {
            0..=2 => self.library_step(),
            3..=5 => self.declare_step(),
            6..=10 => self.call_step(),
            11..=16 => self.array_step(),
            17..=21 => self.callback_step(),
            22..=23 => self.tie_step(),
            24..=25 => self.structure_step(),
            26..=32 => self.helper_step(),
            33..=35 => self.gc_step(),
            36 => self.finalizer_step(),
            _ => {
                let inner = match self.rng.below(3) {
                    0 => self.callback_call(),
                    1 => self.array_step(),
                    _ => self.call_step(),
                };
                format!("local co = coroutine.wrap(function()\n{inner}\nend)\nco()")
            }
        }
    }

    fn slot(&mut self, table: &str, n: usize) -> String {
        format!("{table}[{}]", 1 + self.rng.below(n))
    }

    fn hostile(&mut self) -> String {
        match self.rng.below(12) {
            0 => self.slot("P", P_SLOTS),
            1 => self.slot("FN", FN_SLOTS),
            2 => self.slot("CB", SHAPES.len()),
            3 => self.slot("T", T_SLOTS),
            4 => self.slot("LIB", LIB_SLOTS),
            5 => self.slot("PCB", PCB_SLOTS),
            _ => self.rng.pick(HOSTILE).to_string(),
        }
    }

    fn number(&mut self) -> String {
        if self.rng.chance(4) {
            self.hostile()
        } else {
            self.rng.pick(&HOSTILE[..21]).to_string()
        }
    }

    fn ty(&mut self) -> String {
        if self.rng.chance(10) {
            self.hostile()
        } else {
            self.rng.pick(TYPES).to_string()
        }
    }

    /// A value for a `Cptr` C never dereferences: pointers of every origin, the forms that
    /// stand for one (nil, 0, hexadecimal strings) and ones that do not.
    fn pointer(&mut self) -> String {
        match self.rng.below(6) {
            0 | 1 => self.slot("P", P_SLOTS),
            2 => self
                .rng
                .pick(&["TEXT", "INTS", "HOLDERS", "cinv.ptr_incr(TEXT, 3)"])
                .to_string(),
            3 => self
                .rng
                .pick(&[
                    "nil",
                    "0",
                    "'0x0'",
                    "'0x10'",
                    "'0xdeadbeef'",
                    "'0XFFFFFFFFFFFFFFFF'",
                    "'0x1ffffffffffffffff'",
                    "'0x'",
                    "'0x-1'",
                    "' 0x10'",
                ])
                .to_string(),
            _ => self.hostile(),
        }
    }

    fn char_value(&mut self) -> String {
        if self.rng.chance(5) {
            self.hostile()
        } else {
            self.rng
                .pick(&["'a'", "'z'", "'A'", "'\\0'", "'\\255'", "'\\128'", "'-'"])
                .to_string()
        }
    }

    fn library_step(&mut self) -> String {
        let l = self.slot("LIB", LIB_SLOTS);
        match self.rng.below(9) {
            0 | 1 => format!(
                "{l} = clibrary.new({}{})",
                self.rng.pick(LIBRARY_NAMES),
                self.rng.pick(CONVENTIONS)
            ),
            2 => format!("need({l}, 'no library'):dispose()"),
            3 => {
                // Taken before the library is disposed of, it keeps working.
                format!(
                    "local l = clibrary.new(TESTLIB)\nlocal add = l:get_function(Cint, 'ci_add', Cint, Cint)\nlocal neg = l:get_function(Cvoid, 'ci_negate_ints', cinv.array(Cint), Cint)\nl:dispose()\n{}\ncollectgarbage()\nassert(add(2, 3) == 5, 'a function outlives its library')\nlocal t = {{4}}\nneg(t, 1)\nassert(t[1] == -4, 'an array function outlives its library')",
                    if self.rng.chance(2) { "l:dispose()" } else { "l = nil" }
                )
            }
            4 => {
                let m = self.rng.pick(&[
                    "get_function",
                    "new_callback",
                    "tie_init",
                    "tie_get",
                    "tie_set",
                    "dispose",
                ]);
                format!(
                    "local _ = need({l}, 'no library').{m}({}, {}, {}, {})",
                    self.hostile(),
                    self.ty(),
                    self.hostile(),
                    self.ty()
                )
            }
            5 => format!(
                "local _ = tostring({l}), tostring(Cint), tostring(Foo), tostring(cinv.array(Holder)), need({l}, 'no library')[{}]",
                self.hostile()
            ),
            6 => format!("need({l}, 'no library')[{}] = {}", self.hostile(), self.hostile()),
            7 => "local _ = require('cinvoke_lua') == M, M.Cint == Cint".to_string(),
            _ => format!("local _ = clibrary.new({}{})", self.hostile(), self.rng.pick(CONVENTIONS)),
        }
    }

    /// Declares a function with random types, never calling it after.
    fn declare_step(&mut self) -> String {
        let l = if self.rng.chance(2) {
            "lib".to_string()
        } else {
            format!("need({}, 'no library')", self.slot("LIB", LIB_SLOTS))
        };
        let n = self.rng.below(4);
        let types: Vec<String> = (0..n).map(|_| self.ty()).collect();
        format!(
            "{} = {l}:get_function({}, {}{}{})",
            self.slot("FN", FN_SLOTS),
            self.ty(),
            self.rng.pick(SYMBOLS),
            sep(&types),
            types.join(", ")
        )
    }

    /// An argument of type `t` of a function that never dereferences it.
    fn arg(&mut self, t: &str) -> String {
        // A Cstring parameter also takes pointers, which ci_string hands back to be read as
        // its Cstring result: made-up addresses, there, are the user's.
        if t == "Cstring" && self.rng.chance(6) {
            return self.rng.pick(HOSTILE).to_string();
        }
        if self.rng.chance(6) {
            return self.hostile();
        }
        match t {
            "Cchar" => self.char_value(),
            "Cstring" => self
                .rng
                .pick(&["'hi'", "''", "BIG", "'a\\0b'", "nil", "42", "1.5"])
                .to_string(),
            "Cptr" => self.pointer(),
            _ => self.number(),
        }
    }

    fn call_step(&mut self) -> String {
        let (name, ret, params) = SCALAR_FUNCS[self.rng.below(SCALAR_FUNCS.len())];
        let mut args: Vec<String> = params.iter().map(|t| self.arg(t)).collect();
        match self.rng.below(8) {
            0 => args.push(self.hostile()),
            1 => {
                args.pop();
            }
            _ => {}
        }
        let keep = self.slot("P", P_SLOTS);
        let args = args.join(", ");
        match self.rng.below(3) {
            0 => format!(
                "local l = need({}, 'no library')\n{keep} = l:get_function({ret}, '{name}'{}{})({args})",
                self.slot("LIB", 2),
                sep(params),
                params.join(", ")
            ),
            _ => format!(
                "local r = table.pack(typed({}, '{name}'{}{})({args}))\n{keep} = r[1]",
                ret,
                sep(params),
                params.join(", ")
            ),
        }
    }

    /// A table for an array of `kind` elements: right values, hostile ones, holes, and
    /// metatables that raise or yield (which raw accesses never see, but a structure's
    /// fields, read as Lua reads fields, do).
    fn table(&mut self, kind: &str) -> String {
        match self.rng.below(12) {
            0 => return self.slot("T", T_SLOTS),
            1 => return self.hostile(),
            _ => {}
        }
        let n = self.rng.below(6);
        let mut elems: Vec<String> = (0..n).map(|_| self.element(kind)).collect();
        if n > 1 && self.rng.chance(5) {
            let hole = self.rng.below(n);
            elems[hole] = "nil".to_string();
        }
        let t = format!("{{{}}}", elems.join(", "));
        if self.rng.chance(6) {
            format!("setmetatable({t}, {})", self.metatable())
        } else {
            t
        }
    }

    fn metatable(&mut self) -> String {
        let action = match self.rng.below(7) {
            0 => "raise('metamethod raised')".to_string(),
            1 => "coroutine.yield(1)".to_string(),
            2 => "collectgarbage()".to_string(),
            3 => "QT[1] = nil; CUR[1] = nil; CUR[2] = {}".to_string(),
            4 => "setmetatable(CUR, nil); CUR[#CUR + 1] = 'x'".to_string(),
            5 => format!("{} = nil; collectgarbage()", self.slot("T", T_SLOTS)),
            _ => "return 1".to_string(),
        };
        let key = self.rng.pick(&["__index", "__newindex", "__len", "__gc"]);
        format!("{{{key} = function() {action} end}}")
    }

    fn element(&mut self, kind: &str) -> String {
        if self.rng.chance(8) {
            return self.hostile();
        }
        match kind {
            "char" => self.char_value(),
            "int" | "float" => self.number(),
            "ptr" => self.pointer(),
            "Foo" => self.record(&[("i1", "int"), ("s1", "int")]),
            "Inner" => self.record(&[("u", "int"), ("v", "int")]),
            "Outer" => self.record(&[("in", "Inner"), ("out", "float")]),
            "Tagged" => self.record(&[("tag", "char"), ("data", "ptr"), ("n", "int")]),
            _ => self.record(&[("t", "Tagged"), ("c", "char"), ("p", "ptr")]),
        }
    }

    /// A structure's table: fields missing, of the wrong type, or behind a metatable.
    fn record(&mut self, fields: &[(&str, &str)]) -> String {
        let mut parts = Vec::new();
        for (name, kind) in fields {
            match self.rng.below(8) {
                0 => {}
                1 => parts.push(format!("[\"{name}\"] = {}", self.hostile())),
                _ => {
                    let v = self.element(kind);
                    parts.push(format!("[\"{name}\"] = {v}"));
                }
            }
        }
        if self.rng.chance(4) {
            parts.push(format!(
                "{} = 1",
                self.rng.pick(&["extra", "[1]", "[true]"])
            ));
        }
        let t = format!("{{{}}}", parts.join(", "));
        if self.rng.chance(5) {
            format!("setmetatable({t}, {})", self.metatable())
        } else {
            t
        }
    }

    fn array_step(&mut self) -> String {
        match self.rng.below(12) {
            0 => {
                // C reads 16 ints: given a table, it holds at least 16 elements.
                let vals: Vec<String> = (0..16).map(|_| self.number()).collect();
                format!(
                    "local t = {{{}}}\nCUR = t\nif rawlen(t) >= 16 then local _ = typed(Cint, 'ci_sum16', cinv.array(Cint))(t) end",
                    vals.join(", ")
                )
            }
            1 => {
                // C swaps the first element: a table of at least one, or no table at all
                // (nil would pass NULL).
                let t = self.table("Outer");
                format!(
                    "local t = {t}\nCUR = t\nif t ~= nil and (type(t) ~= 'table' or rawlen(t) >= 1) then typed(Cvoid, 'ci_outer_swap', cinv.array(Outer))(t) end"
                )
            }
            2 => format!(
                "local _ = typed(Cint, 'ci_array_is_null', cinv.array(Cint))({})",
                self.table("int")
            ),
            3 => {
                // A table slot, kept for later steps.
                let (_, _, kind) = ARRAY_FUNCS[self.rng.below(ARRAY_FUNCS.len())];
                format!("{} = {}", self.slot("T", T_SLOTS), self.table(kind))
            }
            _ => {
                let (name, elem, kind) = ARRAY_FUNCS[self.rng.below(ARRAY_FUNCS.len())];
                let t = self.table(kind);
                // The count never exceeds the copy C gets; a count of no number is refused.
                let n = match self.rng.below(6) {
                    0 => self
                        .rng
                        .pick(&["-1", "0", "math.mininteger", "'x'", "nil", "{}", "0.5"])
                        .to_string(),
                    _ => format!("len(t, {})", self.rng.below(8)),
                };
                let check = if self.rng.chance(3) {
                    "\nlocal _ = type(t) == 'table' and #t".to_string()
                } else {
                    String::new()
                };
                format!(
                    "local t = {t}\nCUR = t\ntyped(Cvoid, '{name}', cinv.array({elem}), Cint)(t, {n}){check}"
                )
            }
        }
    }

    /// The Lua function of a callback of shape `k`.
    fn callback_body(&mut self, k: usize) -> String {
        let ok = SHAPES[k].1;
        let ok = if k == 5 {
            // qsort hands pointers into the copy it sorts: each reads one int.
            "cinv.ptr_to_array(a, Cint, 1)[1] < cinv.ptr_to_array(b, Cint, 1)[1] and -1 or 1"
        } else {
            ok
        };
        let body = match self.rng.below(12) {
            0..=2 => format!("return {ok}"),
            3 => format!("return {}", self.hostile()),
            4 => "raise('callback raised')".to_string(),
            5 => format!(
                "raise({})",
                self.rng.pick(&["nil", "{}", "42", "false", "CO"])
            ),
            // The value C calls is on the caller's stack: collecting it is not possible.
            6 => format!(
                "{} = nil; collectgarbage(); return {ok}",
                self.rng.pick(&["CB[1]", "CB[6]", "QT", "CUR"])
            ),
            7 if self.depth < 2 => {
                self.depth += 1;
                let inner = match self.rng.below(4) {
                    0 => self.callback_call(),
                    1 => self.call_step(),
                    2 => self.helper_step(),
                    _ => self.array_step(),
                };
                self.depth -= 1;
                format!("if DEPTH < 3 then DEPTH = DEPTH + 1; {inner}; DEPTH = DEPTH - 1 end; return {ok}")
            }
            8 => format!(
                "{}:dispose(); {}:dispose(); return {ok}",
                self.slot("LIB", LIB_SLOTS),
                self.rng.pick(&["libc", "LIB[1]", "LIB[3]"])
            ),
            9 => "coroutine.yield(1)".to_string(),
            10 => format!(
                "QT[1] = nil; QT[#QT + 2] = {}; setmetatable(QT, {}); return {ok}",
                self.hostile(),
                self.metatable()
            ),
            _ => format!(
                "local v = ...; {} = v; return {ok}, v",
                self.slot("P", P_SLOTS)
            ),
        };
        format!("function(...) local a, b = ...; {body} end")
    }

    /// A C call that calls back a callback of the signature it calls with.
    fn callback_call(&mut self) -> String {
        let k = self.rng.below(SHAPES.len());
        let f = match (k, self.rng.below(8)) {
            (0, 0) => "TRIPLE".to_string(),
            (_, 1) => "cinv.ptr_to_callback(cinv.callback_to_ptr(KEEP))".to_string(),
            (_, 2) => self.not_a_callback(),
            _ => "KEEP".to_string(),
        };
        let call = SHAPES[k].2.replace("{}", "CBV");
        let arg_n = self.number();
        let arg_c = self.char_value();
        let arg_p = self.pointer();
        let arg_t = self.table("int");
        let make = SHAPES[k].0.replace('F', &self.callback_body(k));
        // The callback stays referenced for the call (KEEP), whatever its body drops: dropping
        // a running callback is a known engine bug (see generator.rs).
        format!(
            "local KEEP = CB[{}] or lib:new_callback({make})\nlocal CBV = {f}\n{} = {}",
            k + 1,
            self.slot("P", P_SLOTS),
            call.replace("ARG_N", &arg_n)
                .replace("ARG_C", &arg_c)
                .replace("ARG_P", &arg_p)
                .replace("ARG_T", &arg_t)
        )
    }

    /// What a `Ccallback` parameter must refuse: no callback value, but data, pointers,
    /// functions and plain values.
    fn not_a_callback(&mut self) -> String {
        match self.rng.below(4) {
            0 => self.slot("P", P_SLOTS),
            1 => self.slot("FN", FN_SLOTS),
            2 => "typed(Cint, 'ci_add', Cint, Cint)".to_string(),
            _ => self.rng.pick(HOSTILE).to_string(),
        }
    }

    fn callback_step(&mut self) -> String {
        let k = self.rng.below(SHAPES.len());
        let l = if self.rng.chance(3) {
            format!("need({}, 'no library')", self.slot("LIB", LIB_SLOTS))
        } else {
            "lib".to_string()
        };
        match self.rng.below(9) {
            0..=2 => {
                let body = self.callback_body(k);
                let args = SHAPES[k].0.replace('F', &body);
                format!("CB[{}] = {l}:new_callback({args})", k + 1)
            }
            3..=6 => self.callback_call(),
            7 => {
                // Random declarations, and functions that are no function.
                let n = self.rng.below(4);
                let types: Vec<String> = (0..n).map(|_| self.ty()).collect();
                let f = if self.rng.chance(3) {
                    self.hostile()
                } else {
                    "function() return 1 end".to_string()
                };
                format!(
                    "{} = {l}:new_callback({}, {f}{}{})",
                    self.slot("PCB", PCB_SLOTS),
                    self.ty(),
                    sep(&types),
                    types.join(", ")
                )
            }
            _ => format!("CB[{}] = nil", k + 1),
        }
    }

    fn tie_step(&mut self) -> String {
        let (name, types) = [
            ("ci_var_char", &["Cchar"][..]),
            ("ci_var_short", &["Cshort", "Cint16"][..]),
            ("ci_var_int", &["Cint", "Cint32"][..]),
            ("ci_var_long", &["Clong"][..]),
            ("ci_var_longlong", &["Clonglong", "Cint64"][..]),
            ("ci_var_float", &["Cfloat"][..]),
            ("ci_var_double", &["Cdouble"][..]),
            ("ci_var_ptr", &["Cptr"][..]),
        ][self.rng.below(8)];
        let l = if self.rng.chance(3) {
            format!("need({}, 'no library')", self.slot("LIB", LIB_SLOTS))
        } else {
            "lib".to_string()
        };
        let wrong_name = self
            .rng
            .pick(&["'nope_var'", "''", "nil", "1", "{}", "BIG"]);
        match self.rng.below(8) {
            0 | 1 => format!("{l}:tie_init({}, '{name}')", self.rng.pick(types)),
            2 => format!(
                "{l}:tie_init({}, '{name}')",
                self.rng.pick(&[
                    "Cstring",
                    "Ccallback",
                    "Cvoid",
                    "Foo",
                    "cinv.array(Cint)",
                    "nil",
                    "'Cint'",
                    "{}",
                ])
            ),
            3 => format!("{l}:tie_init({}, {wrong_name})", self.rng.pick(types)),
            4 | 5 => {
                let v = match name {
                    "ci_var_char" => self.char_value(),
                    "ci_var_ptr" => self.pointer(),
                    _ => self.number(),
                };
                format!(
                    "{}{l}:tie_set('{name}', {v})",
                    self.tie_first(&l, types, name)
                )
            }
            6 => format!(
                "{}{} = {l}:tie_get('{name}')",
                self.tie_first(&l, types, name),
                self.slot("P", P_SLOTS)
            ),
            _ => format!(
                "local _ = {l}:tie_get({wrong_name}), {l}:tie_set({wrong_name}, {})",
                self.number()
            ),
        }
    }

    /// Sometimes ties `name` first, so that the step reaches the variable.
    fn tie_first(&mut self, l: &str, types: &[&str], name: &str) -> String {
        if self.rng.chance(2) {
            format!("{l}:tie_init({}, '{name}')\n", self.rng.pick(types))
        } else {
            String::new()
        }
    }

    fn structure_step(&mut self) -> String {
        match self.rng.below(4) {
            0 | 1 => {
                // Any list: wrong types, names of no string, odd lengths, repeated names.
                let n = self.rng.below(7);
                let args: Vec<String> = (0..n)
                    .map(|i| {
                        if i % 2 == 0 {
                            self.ty()
                        } else if self.rng.chance(4) {
                            self.hostile()
                        } else {
                            self.rng
                                .pick(&["'a'", "'b'", "'a'", "''", "'in'", "'\\0'"])
                                .to_string()
                        }
                    })
                    .collect();
                format!(
                    "local s = cstructure.new({})\nlocal _ = tostring(s), cinv.sizeof(s), cinv.array(s)",
                    args.join(", ")
                )
            }
            _ => {
                // A structure of plain fields, read where C's memory is large enough.
                let n = 1 + self.rng.below(4);
                let fields: Vec<String> = (0..n)
                    .map(|i| format!("{}, 'f{i}'", self.rng.pick(PLAIN_FIELDS)))
                    .collect();
                format!(
                    "local s = cstructure.new({})\n{} = s\nif cinv.sizeof(s) <= 80 then local v = cinv.ptr_to_struct(HOLDERS, s); local _ = v.f0 end",
                    fields.join(", "),
                    self.slot("S", S_SLOTS)
                )
            }
        }
    }

    /// Memory C handed out and a type to read it as: `(pointer, bytes readable, type)`, the
    /// reader keeping inside those bytes.
    fn readable(&mut self) -> (String, String, String) {
        if self.rng.chance(8) {
            // ci_holders' pointers, read as strings: NULL and ci_text.
            let (offset, t) = [
                ("8", "Cstring"),
                ("32", "Cstring"),
                ("48", "Cstring"),
                ("0", "HolderS"),
                ("40", "HolderS"),
            ][self.rng.below(5)];
            let bytes = if t == "HolderS" { "40" } else { "8" };
            return (
                format!("cinv.ptr_incr(HOLDERS, {offset})"),
                bytes.to_string(),
                t.to_string(),
            );
        }
        let i = 1 + self.rng.below(4);
        let t = self.rng.pick(&[
            "Cchar",
            "Cshort",
            "Cint",
            "Clong",
            "Clonglong",
            "Cint16",
            "Cint32",
            "Cint64",
            "Cfloat",
            "Cdouble",
            "Cptr",
            "Ccallback",
            "Foo",
            "Inner",
            "Outer",
            "Tagged",
            "Holder",
            "S[1]",
            "S[2]",
            "S[3]",
        ]);
        (
            format!("MEM[{i}][1]"),
            format!("MEM[{i}][2]"),
            t.to_string(),
        )
    }

    fn helper_step(&mut self) -> String {
        match self.rng.below(14) {
            0 => format!("local _ = cinv.sizeof({}), cinv.array({})", self.ty(), self.ty()),
            1 => {
                let vals: Vec<String> = (0..self.rng.below(5)).map(|_| self.char_value()).collect();
                format!(
                    "local _ = cinv.chararray_to_string({{{}}}{})",
                    vals.join(", "),
                    match self.rng.below(3) {
                        0 => String::new(),
                        _ => format!(", {}", self.number()),
                    }
                )
            }
            2 => format!("local _ = cinv.chararray_to_string({}, {})", self.hostile(), self.number()),
            3 => format!(
                "local t = cinv.string_to_chararray({}, {})\nlocal _ = cinv.chararray_to_string(t)",
                self.rng.pick(&["'abc'", "''", "BIG", "'a\\0b'", "42", "1.5", "nil", "{}", "true", "BADSTR"]),
                self.hostile()
            ),
            4 | 5 => {
                // ci_text is 12 bytes with a NUL at 5 and 11.
                let at = self.rng.below(12);
                let len = match self.rng.below(4) {
                    0 => String::new(),
                    1 => format!(", {}", self.rng.pick(&["-1", "0.5", "'x'", "{}", "0/0", "math.huge", "math.mininteger", "nil"])),
                    _ => format!(", {}", self.rng.below(13 - at)),
                };
                format!("local _ = cinv.ptr_to_string(cinv.ptr_incr(TEXT, {at}){len})")
            }
            6 => format!(
                "local _ = cinv.ptr_to_string({}{})",
                self.null_or_not_pointer(),
                if self.rng.chance(2) { ", 4" } else { "" }
            ),
            7 | 8 => {
                let (ptr, bytes, t) = self.readable();
                let n = match self.rng.below(5) {
                    0 => self
                        .rng
                        .pick(&["-1", "0.5", "'x'", "nil", "{}", "math.mininteger", "0/0"])
                        .to_string(),
                    _ => format!("math.min({}, {bytes} // cinv.sizeof({t}))", self.rng.below(12)),
                };
                format!(
                    "local r = cinv.ptr_to_array({ptr}, {t}, {n})\n{} = r[1]",
                    self.slot("P", P_SLOTS)
                )
            }
            9 => {
                let (ptr, bytes, t) = self.readable();
                format!(
                    "if cinv.sizeof({t}) <= {bytes} then local s = cinv.ptr_to_struct({ptr}, {t}); local _ = s.t, s['in'] end"
                )
            }
            10 => format!(
                "local _ = cinv.{}({}, {})",
                self.rng.pick(&["ptr_to_array", "ptr_to_struct"]),
                self.null_or_not_pointer(),
                self.ty()
            ),
            11 => format!(
                "local _ = cinv.ptr_to_array(INTS, {}, 0), cinv.ptr_to_struct(INTS, {})",
                self.ty(),
                self.ty()
            ),
            12 => format!(
                "{} = cinv.ptr_incr({}, {})",
                self.slot("P", P_SLOTS),
                self.pointer(),
                self.number()
            ),
            _ => match self.rng.below(3) {
                0 => format!(
                    "{} = cinv.ptr_to_callback({})",
                    self.slot("PCB", PCB_SLOTS),
                    self.pointer()
                ),
                1 => format!(
                    "{} = cinv.callback_to_ptr({})",
                    self.slot("P", P_SLOTS),
                    if self.rng.chance(2) {
                        self.slot("CB", SHAPES.len())
                    } else {
                        self.hostile()
                    }
                ),
                _ => format!(
                    "local p = cinv.callback_to_ptr(need({}, 'no callback'))\nlocal _ = cinv.ptr_to_callback(p), cinv.ptr_incr(p, 1)",
                    self.slot("CB", SHAPES.len())
                ),
            },
        }
    }

    /// A pointer to read through that is NULL, inside the NULL page, or no pointer at all.
    fn null_or_not_pointer(&mut self) -> String {
        match self.rng.below(3) {
            0 => self
                .rng
                .pick(&[
                    "nil",
                    "0",
                    "'0x0'",
                    "'0x10'",
                    "'0x1'",
                    "cinv.ptr_incr(nil, 8)",
                    "cinv.ptr_incr(0, 4095)",
                ])
                .to_string(),
            1 => self
                .rng
                .pick(&["'0x'", "'0xZZ'", "'hello'", "1", "-1", "0.5", "{}", "true"])
                .to_string(),
            _ => self.rng.pick(&HOSTILE[1..]).to_string(),
        }
    }

    fn gc_step(&mut self) -> String {
        let slot = match self.rng.below(5) {
            0 => self.slot("CB", SHAPES.len()),
            1 => self.slot("FN", FN_SLOTS),
            2 => self.slot("LIB", LIB_SLOTS),
            3 => self.slot("T", T_SLOTS),
            _ => self.slot("PCB", PCB_SLOTS),
        };
        match self.rng.below(3) {
            0 => "collectgarbage()".to_string(),
            1 => "collectgarbage('step', 0)".to_string(),
            _ => format!("{slot} = nil; collectgarbage()"),
        }
    }

    /// An object whose finalizer works the API when the collector next runs.
    fn finalizer_step(&mut self) -> String {
        let action = match self.rng.below(4) {
            0 => self.library_step(),
            1 => self.callback_call(),
            2 => self.call_step(),
            _ => self.helper_step(),
        };
        format!("setmetatable({{}}, {{__gc = function() {action} end}})")
    }
}

fn sep<T>(items: &[T]) -> &'static str {
    if items.is_empty() {
        ""
    } else {
        ", "
    }
}
