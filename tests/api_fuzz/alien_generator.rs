//! The Lua-level API fuzzer's programs for the Alien face (`require("alien")`): a stream of
//! random numbers becomes a Lua program that drives libraries, function objects and their
//! types, calls, callbacks, buffers, arrays, structs, `pack`/`unpack`, the pointer readers,
//! tags, `memmove`/`memset` and the helpers with random and hostile arguments against the C
//! test library, each step in `pcall`, then checks that the state is still usable. Shared by
//! `tests/api_fuzz.rs` and `fuzz/fuzz_targets/alien_api.rs`.
//!
//! What a program may legitimately crash on is kept out: a C function is only called right
//! after `:types` gave it its true signature, and C only calls back function objects of the
//! signature it calls with; C only reads memory of the size it is told; light userdata (from
//! `topointer`, `unpack("p")`, pointer results, `unwrap`) and buffers over them are never
//! read through, except those inside the NULL page, at offsets that stay inside it.

use crate::generator::{program_of, Rng};

/// Values of no pointer kind, hostile to every parameter.
const HOSTILE: &[&str] = &[
    "nil",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "2",
    "8",
    "255",
    "256",
    "-129",
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
    "2^64",
    "''",
    "'x'",
    "'int'",
    "'pointer'",
    "'callback'",
    "'ref int'",
    "'abc\\0def'",
    "'42'",
    "BIG",
    "{}",
    "{1, 2, 3}",
    "{ret = 'int'}",
    "RAISING",
    "BADSTR",
    "print",
    "function() end",
    "CO",
    "io.stdout",
    "alien",
];

/// Alien type names, valid and not.
const TYPES: &[&str] = &[
    "'void'",
    "'byte'",
    "'char'",
    "'short'",
    "'ushort'",
    "'int'",
    "'uint'",
    "'long'",
    "'ulong'",
    "'longlong'",
    "'ulonglong'",
    "'ptrdiff_t'",
    "'size_t'",
    "'float'",
    "'double'",
    "'string'",
    "'pointer'",
    "'callback'",
    "'ref int'",
    "'ref char'",
    "'ref double'",
    "'ref uint'",
    "'ref string'",
    "'ref void'",
    "'ref  int'",
    "'i32'",
    "'int '",
    "''",
    "'ref'",
    "nil",
    "1",
    "{}",
];

/// Sizes: small, zero, negative, non-integral, and too large ever to be granted.
const SIZES: &[&str] = &[
    "0",
    "1",
    "3",
    "4",
    "8",
    "16",
    "40",
    "100",
    "4096",
    "-1",
    "1 << 62",
    "math.maxinteger",
    "math.mininteger",
    "0.5",
    "0/0",
    "math.huge",
    "'8'",
    "nil",
    "{}",
];

/// 1-based byte offsets and indexes, in range and not.
const OFFSETS: &[&str] = &[
    "1",
    "1",
    "2",
    "4",
    "5",
    "8",
    "9",
    "16",
    "17",
    "0",
    "-1",
    "100",
    "4097",
    "math.maxinteger",
    "math.mininteger",
    "1.5",
    "0/0",
    "'3'",
    "'x'",
    "nil",
];

/// Offsets that keep an access through the NULL page inside it.
const NULL_OFFSETS: &[&str] = &["1", "2", "8", "100", "0", "-1", "nil", "'x'"];

/// Format options of `pack`/`unpack`, valid and not.
const FORMAT_OPTIONS: &[&str] = &[
    "<",
    ">",
    "=",
    "!",
    "!4",
    "!8",
    "!3",
    "x",
    "b",
    "B",
    "h",
    "H",
    "l",
    "L",
    "T",
    "i",
    "I",
    "i1",
    "i2",
    "i3",
    "I8",
    "i16",
    "i17",
    "I0",
    "f",
    "d",
    "p",
    "s",
    "c",
    "c0",
    "c3",
    "c99999999999",
    " ",
    "z",
    "%",
    "i99999999999999999999",
];

/// Library names for `alien.load`, good and bad.
const LIBRARY_NAMES: &[&str] = &[
    "TESTLIB",
    "TESTLIB",
    "'m'",
    "'c'",
    "'nope'",
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

/// Symbol names: of the test library, of libc, and missing.
const SYMBOLS: &[&str] = &[
    "'al_add'",
    "'al_answer'",
    "'al_echo_ptr'",
    "'al_apply2'",
    "'al_id_double'",
    "'strlen'",
    "'abort'",
    "'no_such_symbol'",
    "''",
    "'al_add\\0x'",
    "'types'",
    "BIG",
    "1",
    "true",
    "{}",
];

/// A C function of the test library that never dereferences its arguments, with its
/// signature in Alien's words: `(name, ret, params)`.
const SAFE_FUNCS: &[(&str, &str, &[&str])] = &[
    ("al_add", "int", &["int", "int"]),
    ("al_answer", "int", &[]),
    ("al_touch", "void", &[]),
    ("al_touch_count", "int", &[]),
    ("al_see_schar", "longlong", &["byte"]),
    ("al_see_uchar", "longlong", &["char"]),
    ("al_see_short", "longlong", &["short"]),
    ("al_see_ushort", "longlong", &["ushort"]),
    ("al_see_uint", "longlong", &["uint"]),
    ("al_see_long", "longlong", &["long"]),
    ("al_see_ulong", "ulonglong", &["ulong"]),
    ("al_see_ulonglong", "ulonglong", &["ulonglong"]),
    ("al_see_size", "ulonglong", &["size_t"]),
    ("al_see_ptrdiff", "longlong", &["ptrdiff_t"]),
    ("al_cut_schar", "byte", &["longlong"]),
    ("al_cut_uchar", "char", &["longlong"]),
    ("al_cut_ushort", "ushort", &["longlong"]),
    ("al_cut_uint", "uint", &["longlong"]),
    ("al_cut_size", "size_t", &["longlong"]),
    ("al_id_float", "float", &["float"]),
    ("al_id_double", "double", &["double"]),
    ("al_id_ulonglong", "ulonglong", &["ulonglong"]),
    ("al_max_ulong", "ulong", &[]),
    ("al_max_size", "size_t", &[]),
    (
        "al_weigh_int",
        "int",
        &[
            "byte",
            "short",
            "int",
            "long",
            "ptrdiff_t",
            "float",
            "double",
            "longlong",
        ],
    ),
    (
        "al_weigh_double",
        "double",
        &[
            "byte",
            "short",
            "int",
            "long",
            "ptrdiff_t",
            "float",
            "double",
            "longlong",
        ],
    ),
    ("al_usum", "ulong", &["ushort", "uint", "ulong"]),
    ("al_after_byte", "short", &["byte", "short"]),
    ("al_third", "float", &["float"]),
    ("al_greeting", "string", &[]),
    ("al_no_string", "string", &[]),
    ("al_echo_string", "string", &["string"]),
    ("al_strlen_or_neg", "long", &["string"]),
    ("al_echo_ptr", "pointer", &["pointer"]),
    ("al_no_ptr", "pointer", &[]),
    ("al_is_null", "int", &["pointer"]),
    ("al_add_to_ptr", "pointer", &["pointer", "long"]),
    ("al_get_add", "pointer", &[]),
    ("al_data", "pointer", &["int"]),
    ("al_sum_into", "void", &["int", "int", "ref int"]),
    ("al_swap_ints", "int", &["ref int", "ref int"]),
    ("al_flip_uint", "void", &["ref uint"]),
    ("al_scale_in_place", "double", &["ref double", "double"]),
    ("al_next_letter", "int", &["ref char"]),
    ("al_set_errno", "int", &["int"]),
    ("al_mixed_size", "size_t", &[]),
    ("al_padded_offset", "size_t", &["int"]),
];

/// Callback shapes, each with the C function of the test library that calls it: `(types
/// as Alien's arguments, a valid result, the caller's name and types, the kinds of its
/// arguments before and after the callback)`. A kind is `n` (a number), `count` (a small
/// count: the caller loops that many times) or `p` (any pointer, never dereferenced).
struct Shape {
    types: &'static str,
    ok: &'static str,
    caller: &'static str,
    caller_types: &'static str,
    before: &'static [&'static str],
    after: &'static [&'static str],
}

const SHAPES: &[Shape] = &[
    Shape {
        types: "'int', 'int', 'int'",
        ok: "7",
        caller: "al_apply2",
        caller_types: "'int', 'callback', 'int', 'int'",
        before: &[],
        after: &["n", "n"],
    },
    Shape {
        types: "'int', 'int'",
        ok: "-3",
        caller: "al_countdown",
        caller_types: "'int', 'int', 'callback'",
        before: &["count"],
        after: &[],
    },
    Shape {
        types: "'double', 'double'",
        ok: "0.5",
        caller: "al_integrate",
        caller_types: "'double', 'double', 'double', 'callback', 'long'",
        before: &["n", "n"],
        after: &["count"],
    },
    Shape {
        types: "'int', 'char'",
        ok: "1",
        caller: "al_cb_uchar",
        caller_types: "'int', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'int', 'byte'",
        ok: "-1",
        caller: "al_cb_schar",
        caller_types: "'int', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'int', 'ushort'",
        ok: "2",
        caller: "al_cb_ushort",
        caller_types: "'int', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'uint', 'uint'",
        ok: "4000000000",
        caller: "al_cb_uint",
        caller_types: "'uint', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'long', 'long'",
        ok: "math.mininteger",
        caller: "al_cb_long",
        caller_types: "'long', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'double', 'float', 'double'",
        ok: "1.25",
        caller: "al_cb_float_double",
        caller_types: "'double', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'int', 'string'",
        ok: "4",
        caller: "al_cb_string",
        caller_types: "'int', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'int', 'pointer'",
        ok: "0",
        caller: "al_cb_pointer",
        caller_types: "'int', 'callback', 'pointer'",
        before: &[],
        after: &["p"],
    },
    Shape {
        types: "'int', 'ref int'",
        ok: "41",
        caller: "al_cb_ref_int",
        caller_types: "'int', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'double', 'ref double'",
        ok: "2.5",
        caller: "al_cb_ref_double",
        caller_types: "'double', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'pointer'",
        ok: "nil",
        caller: "al_cb_ret_pointer",
        caller_types: "'pointer', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'byte'",
        ok: "-5",
        caller: "al_cb_ret_schar",
        caller_types: "'int', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'char'",
        ok: "200",
        caller: "al_cb_ret_uchar",
        caller_types: "'int', 'callback'",
        before: &[],
        after: &[],
    },
    Shape {
        types: "'void', 'int'",
        ok: "nil",
        caller: "al_cb_void",
        caller_types: "'void', 'callback', 'int'",
        before: &[],
        after: &["n"],
    },
];

const B_SLOTS: usize = 8;
const N_SLOTS: usize = 3;
const P_SLOTS: usize = 8;
const FN_SLOTS: usize = 6;
const ARR_SLOTS: usize = 4;
const ST_SLOTS: usize = 3;
const W_SLOTS: usize = 4;
/// The prelude's struct definitions.
const PROTO_COUNT: usize = 3;
const TAGS: &[&str] = &[
    "'t1'",
    "'t2'",
    "'alien buffer'",
    "'FILE*'",
    "''",
    "1",
    "nil",
    "{}",
];

const PRELUDE: &str = r#"local alien = require("alien")
local ffi = require("moonthunk")
-- A light userdata inside the NULL page, made as a program replayed by the runner can.
local LUDZ = alien.unpack("p", alien.pack("T", 16))
local BIG = string.rep("A", 70000)
local CO = coroutine.create(function() end)
local RAISING = setmetatable({}, {__index = function() error("index raised") end,
    __len = function() error("len raised") end})
local BADSTR = setmetatable({}, {__tostring = function() return {} end})
local lib = alien.load(TESTLIB)
-- B: buffers of known size; N: the native face's managed memory; P: opaque pointers and
-- values (never read through); Z: memory inside the NULL page; FN: function objects of
-- any symbol (never called: only typed, printed and passed as data).
local B, N, P, Z, FN, ARR, ST, CB, W = {}, {}, {}, {}, {}, {}, {}, {}, {}
local LIB = {lib, alien.default, lib}
local ARENA = ffi.arena()
N[1], N[2], N[3] = ffi.buffer(8), ARENA:alloc(16), ffi.buffer(0)
Z[1], Z[2] = LUDZ, alien.buffer(LUDZ)
local PROTO = {
    alien.defstruct({{"c", "char"}, {"d", "double"}, {"s", "short"}, {"i", "int"}}),
    alien.defstruct({{"p", "pointer"}, {"h", "short"}, {"s", "callback"}}),
    alien.defstruct({{"f", "float"}, {"l", "long"}, {"b", "byte"}}),
}
-- Error values a callback raises on purpose: those may come back as they are.
local RAISED = setmetatable({}, {__mode = "k"})
local NILERR = false
local function raise(v) if v == nil then NILERR = true else RAISED[v] = true end error(v, 0) end
local DEPTH = 0
-- An empty slot: nil would pass as NULL.
local EMPTY = setmetatable({}, {__name = "empty slot"})
local function b(i) local v = B[i]; if v == nil then return EMPTY end return v end
-- `v`, which must not be nil: one value, where `assert` would give its message too.
local function need(v, what) if v == nil then error(what, 2) end return v end
-- The test library's function `name`, given its true signature.
local function typed(name, ...) local f = lib[name]; f:types(...); return f end
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
local lib2 = alien.load(TESTLIB)
local add = lib2.al_add
add:types("int", "int", "int")
assert(add(2, 3) == 5, "types and call after the steps")
local buf = alien.buffer(16)
buf:set(5, 9, "int")
assert(buf:get(5, "int") == 9, "a buffer after the steps")
local cb = alien.callback(function(a, b) return a * b end, "int", "int", "int")
local apply2 = lib2.al_apply2
apply2:types("int", "callback", "int", "int")
assert(apply2(cb, 6, 7) == 42, "a callback after the steps")
assert(alien.unpack("i", alien.pack("i", 5)) == 5, "pack after the steps")
collectgarbage()
"#;

/// Writes Alien-face Lua programs from random numbers.
pub struct AlienGenerator<'a> {
    rng: &'a mut Rng,
    /// Nesting of callback bodies being written (a body may call C with another callback).
    depth: usize,
}

impl<'a> AlienGenerator<'a> {
    pub fn new(rng: &'a mut Rng) -> AlienGenerator<'a> {
        AlienGenerator { rng, depth: 0 }
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
            0 | 1 => self.library_step(),
            2..=4 => self.types_step(),
            5..=9 => self.call_step(),
            10..=14 => self.callback_step(),
            15..=20 => self.buffer_step(),
            21 | 22 => self.array_step(),
            23 | 24 => self.struct_step(),
            25..=27 => self.pack_step(),
            28 | 29 => self.reader_step(),
            30 | 31 => self.tag_step(),
            32 | 33 => self.memory_step(),
            34 => self.deref_call_step(),
            35 => self.misc_step(),
            36 | 37 => self.gc_step(),
            38 => self.finalizer_step(),
            _ => {
                let inner = if self.rng.chance(2) {
                    self.callback_call()
                } else {
                    self.call_step()
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
            0 => self.memory(),
            1 => self.slot("P", P_SLOTS),
            2 => self.slot("FN", FN_SLOTS),
            3 => self.slot("CB", SHAPES.len()),
            4 => self.slot("W", W_SLOTS),
            5 => self.slot("ARR", ARR_SLOTS),
            _ => self.rng.pick(HOSTILE).to_string(),
        }
    }

    /// A value that is no pointer of any kind and not nil.
    fn non_pointer(&mut self) -> String {
        self.rng.pick(&HOSTILE[1..]).to_string()
    }

    fn number(&mut self) -> String {
        if self.rng.chance(4) {
            self.hostile()
        } else {
            self.rng.pick(&HOSTILE[..26]).to_string()
        }
    }

    /// What Alien's memory functions may be given: memory of known size, memory inside the
    /// NULL page, function objects (which are no memory), no pointer at all.
    fn memory(&mut self) -> String {
        match self.rng.below(10) {
            0..=4 => format!("b({})", 1 + self.rng.below(B_SLOTS)),
            5 | 6 => self.slot("N", N_SLOTS),
            7 => self.slot("Z", 2),
            8 => self.slot("FN", FN_SLOTS),
            _ => self.non_pointer(),
        }
    }

    fn ty(&mut self) -> String {
        if self.rng.chance(10) {
            self.hostile()
        } else {
            self.rng.pick(TYPES).to_string()
        }
    }

    /// A type to read memory of any content as: a `string` read follows whatever pointer
    /// the bytes hold (as `unpack("p")` makes one), so it is left out.
    fn data_ty(&mut self) -> String {
        let t = self.ty();
        if t == "'string'" {
            "'pointer'".to_string()
        } else {
            t
        }
    }

    fn size(&mut self) -> String {
        self.rng.pick(SIZES).to_string()
    }

    fn offset(&mut self) -> String {
        self.rng.pick(OFFSETS).to_string()
    }

    /// A random argument list for `f:types(...)` or `alien.callback(f, ...)`, in either form.
    fn types_args(&mut self) -> String {
        let n = self.rng.below(5);
        let types: Vec<String> = (0..n).map(|_| self.ty()).collect();
        match self.rng.below(4) {
            0 => format!(
                "{{ret = {}, abi = {}, {}}}",
                self.ty(),
                self.rng
                    .pick(&["nil", "'default'", "'cdecl'", "'stdcall'", "'pascal'", "1"]),
                types.join(", ")
            ),
            1 => format!("{{{}}}", types.join(", ")),
            2 => self.hostile(),
            _ => types.join(", "),
        }
    }

    fn library_step(&mut self) -> String {
        let l = self.slot("LIB", 3);
        match self.rng.below(7) {
            0 => format!("{l} = alien.load({})", self.rng.pick(LIBRARY_NAMES)),
            1 => format!("local _ = alien[{}]", self.rng.pick(LIBRARY_NAMES)),
            2 => format!("local _ = alien.loaded[{}]", self.rng.pick(LIBRARY_NAMES)),
            3 | 4 => format!(
                "{} = {l}[{}]",
                self.slot("FN", FN_SLOTS),
                self.rng.pick(SYMBOLS)
            ),
            5 => format!("local _ = tostring({l}), tostring({})", self.hostile()),
            _ => format!("{l}[{}] = {}", self.rng.pick(SYMBOLS), self.hostile()),
        }
    }

    /// Gives a function object random types, never calling it after.
    fn types_step(&mut self) -> String {
        let target = match self.rng.below(4) {
            0 => self.slot("CB", SHAPES.len()),
            1 => self.hostile(),
            _ => self.slot("FN", FN_SLOTS),
        };
        let args = self.types_args();
        match self.rng.below(4) {
            0 => format!("({target}):types({args})"),
            1 => format!(
                "local t = lib.al_answer.types\nt({target}{}{args})",
                comma(&args)
            ),
            2 => format!(
                "{} = alien.funcptr({})",
                self.slot("FN", FN_SLOTS),
                self.hostile()
            ),
            _ => format!("local _ = tostring({target}), ({target}).types"),
        }
    }

    /// Arguments for `params`, each from its kind or hostile; sometimes one too many or few.
    fn args(&mut self, params: &[&str]) -> String {
        let mut args: Vec<String> = params.iter().map(|t| self.arg(t)).collect();
        match self.rng.below(8) {
            0 => args.push(self.hostile()),
            1 => {
                args.pop();
            }
            _ => {}
        }
        args.join(", ")
    }

    fn arg(&mut self, t: &str) -> String {
        if t != "string" && self.rng.chance(5) {
            return self.hostile();
        }
        match t {
            // C reads a string parameter up to its NUL: only Lua strings, never buffers.
            "string" => self
                .rng
                .pick(&["'hi'", "''", "BIG", "'a\\0b'", "nil", "42", "{}", "true"])
                .to_string(),
            // A pointer parameter of a function that never dereferences it takes anything
            // that passes as a pointer.
            "pointer" => match self.rng.below(4) {
                0 => self.slot("P", P_SLOTS),
                1 => self.slot("FN", FN_SLOTS),
                _ => self.memory(),
            },
            _ => self.number(),
        }
    }

    fn call_step(&mut self) -> String {
        let (name, ret, params) = SAFE_FUNCS[self.rng.below(SAFE_FUNCS.len())];
        let types = alien_types(ret, params);
        let args = self.args(params);
        let keep = self.slot("P", P_SLOTS);
        match self.rng.below(4) {
            0 => format!("local f = lib.{name}\nf:types({{ret = '{ret}', {}}})\n{keep} = f({args})", quoted(params)),
            1 => format!(
                "local f = alien.funcptr(lib.{name})\nf:types({types})\n{keep} = f({args})"
            ),
            2 => format!(
                "local f = alien.load(TESTLIB).{name}\nf:types({types})\nlocal r = table.pack(f({args}))\n{keep} = r[1]"
            ),
            _ => format!("{keep} = typed('{name}', {types})({args})"),
        }
    }

    /// A call whose C function reads or writes memory: it gets fresh memory of the size it
    /// uses, or a value that is no pointer at all.
    fn deref_call_step(&mut self) -> String {
        let n = self.rng.pick(&["0", "1", "4", "16"]);
        // A pointer parameter takes a Lua string (and a number, as its string) for C to write
        // into: the values C must not get are the ones no pointer parameter takes.
        let buf = if self.rng.chance(4) {
            self.rng
                .pick(&["true", "false", "{}", "print", "CO", "io.stdout", "RAISING"])
                .to_string()
        } else {
            format!("alien.buffer(8 * {n})")
        };
        match self.rng.below(8) {
            0 => format!(
                "local _ = typed('al_fill_text', 'int', 'pointer', 'size_t', 'string', 'int')({buf}, 8 * {n}, {}, {})",
                self.rng.pick(&["'p'", "''", "BIG", "nil"]),
                self.number()
            ),
            1 => format!(
                "typed('al_fill_bytes', 'void', 'pointer', 'size_t', 'int')({buf}, {n}, {})",
                self.number()
            ),
            2 => format!(
                "local _ = typed('al_sum_doubles', 'double', 'pointer', 'int')({buf}, {n})"
            ),
            3 => {
                let vals: Vec<String> = (0..4).map(|_| self.number()).collect();
                format!(
                    "local a = alien.array('int', {{{}}})\nlocal _ = typed('al_sum_ints', 'long', 'pointer', 'int')(a.buffer, #a)",
                    vals.join(", ")
                )
            }
            4 => format!(
                "local s = PROTO[1]:new()\ntyped('al_fill_mixed', 'void', 'pointer', 'int')(s(), {})\nlocal _ = s.c, s.d, s.s, s.i\nlocal _ = typed('al_sum_mixed', 'double', 'pointer')(s())",
                self.number()
            ),
            5 => {
                let vals: Vec<String> = (0..3)
                    // C reads every element: no NULL among them.
                    .map(|_| self.rng.pick(&["'a'", "''", "'bc'", "{}", "true", "BIG"]).to_string())
                    .collect();
                format!(
                    "local a = alien.array('string', {{{}}})\nlocal out = alien.buffer(100)\nlocal _ = typed('al_join', 'int', 'pointer', 'int', 'pointer', 'size_t')(a.buffer, 3, out, 100), out:tostring()",
                    vals.join(", ")
                )
            }
            6 => format!(
                "local _ = typed('al_divmod', 'void', 'int', 'ref int', 'int', 'ref int')({}, {}, {}, {})",
                self.number(),
                self.hostile(),
                self.rng.pick(&["1", "2", "-3", "7", "'x'", "nil", "{}"]),
                self.hostile()
            ),
            _ => {
                let (which, reader, most) = [
                    (0, "tochar", 6),
                    (1, "toshort", 4),
                    (2, "toushort", 4),
                    (3, "toint", 4),
                    (4, "touint", 4),
                    (5, "tolong", 4),
                    (6, "toulong", 4),
                    (7, "tofloat", 4),
                    (8, "todouble", 4),
                ][self.rng.below(9)];
                let count = 1 + self.rng.below(most);
                format!("local _ = alien.{reader}(typed('al_data', 'pointer', 'int')({which}), {count})")
            }
        }
    }

    /// The Lua function of a callback of shape `k` (in slot `k + 1`).
    fn callback_body(&mut self, k: usize) -> String {
        let ok = SHAPES[k].ok;
        let body = match self.rng.below(11) {
            0..=2 => format!("return {ok}"),
            3 => format!("return {}", self.hostile()),
            4 => "raise('callback raised')".to_string(),
            5 => format!(
                "raise({})",
                self.rng.pick(&["nil", "{}", "42", "false", "CO"])
            ),
            6 => format!("collectgarbage(); return {ok}"),
            7 if self.depth < 2 => {
                self.depth += 1;
                let inner = match self.rng.below(3) {
                    0 => self.callback_call(),
                    1 => self.call_step(),
                    _ => self.types_step(),
                };
                self.depth -= 1;
                format!("if DEPTH < 3 then DEPTH = DEPTH + 1; {inner}; DEPTH = DEPTH - 1 end; return {ok}")
            }
            8 => format!("{} = ...; return ...", self.slot("P", P_SLOTS)),
            9 => "coroutine.yield(1)".to_string(),
            _ => format!("local a = ...; return {ok}, a, a"),
        };
        format!("function(...) {body} end")
    }

    /// A C call that calls back a function object of the signature it calls with.
    fn callback_call(&mut self) -> String {
        let k = self.rng.below(SHAPES.len());
        let shape = &SHAPES[k];
        let f = match (k, self.rng.below(8)) {
            // al_add is a C function of the right signature.
            (0, 0) => "lib.al_add".to_string(),
            (0, 1) => "alien.funcptr(lib.al_add)".to_string(),
            (_, 2) => format!("alien.funcptr(need(CB[{}], 'no callback'))", k + 1),
            (_, 3) => self.not_a_function(),
            _ => format!("need(CB[{}], 'no callback')", k + 1),
        };
        let mut args: Vec<String> = shape.before.iter().map(|kind| self.kind(kind)).collect();
        args.push(f);
        for kind in shape.after {
            let arg = self.kind(kind);
            args.push(arg);
        }
        format!(
            "{} = typed('{}', {})({})",
            self.slot("P", P_SLOTS),
            shape.caller,
            shape.caller_types,
            args.join(", ")
        )
    }

    /// An argument of a callback caller's kind (see [`Shape`]).
    fn kind(&mut self, kind: &str) -> String {
        match kind {
            "count" => self
                .rng
                .pick(&["0", "1", "3", "-1", "nil", "0.5", "'x'", "{}"])
                .to_string(),
            "p" => self.arg("pointer"),
            _ => self.number(),
        }
    }

    /// What a callback parameter must refuse: no function object (which C would call, whatever
    /// its signature), but data, pointers and plain values.
    fn not_a_function(&mut self) -> String {
        match self.rng.below(4) {
            0 => format!("b({})", 1 + self.rng.below(B_SLOTS)),
            1 => self.slot("P", P_SLOTS),
            2 => self.slot("N", N_SLOTS),
            _ => self.rng.pick(HOSTILE).to_string(),
        }
    }

    fn callback_step(&mut self) -> String {
        let k = self.rng.below(SHAPES.len());
        let types = SHAPES[k].types;
        match self.rng.below(10) {
            0 | 1 => {
                let body = self.callback_body(k);
                format!("CB[{}] = alien.callback({body}, {types})", k + 1)
            }
            2 => {
                let body = self.callback_body(k);
                // The table form: the result type under `ret`, the parameters after it.
                let mut parts = types.split(", ");
                let ret = parts.next().unwrap_or("'int'");
                let rest: Vec<&str> = parts.collect();
                format!(
                    "CB[{}] = alien.callback({body}, {{ret = {ret}, {}}})",
                    k + 1,
                    rest.join(", ")
                )
            }
            3..=5 => self.callback_call(),
            6 => {
                // Called from Lua, with hostile arguments.
                let n = self.rng.below(4);
                let args: Vec<String> = (0..n).map(|_| self.hostile()).collect();
                format!(
                    "{} = need(CB[{}], 'no callback')({})",
                    self.slot("P", P_SLOTS),
                    k + 1,
                    args.join(", ")
                )
            }
            7 => format!("CB[{}] = nil", k + 1),
            8 => {
                // An array of function pointers C calls in turn.
                let fs: Vec<String> = (0..self.rng.below(3) + 1)
                    .map(|_| match self.rng.below(4) {
                        0 => "lib.al_add".to_string(),
                        1 => "CB[1]".to_string(),
                        // C calls whatever pointer the array holds, a string's too: values
                        // that are no pointer only.
                        2 => self
                            .rng
                            .pick(&["true", "0", "1.5", "{}", "print", "CO", "0/0"])
                            .to_string(),
                        _ => "need(CB[1], 'no callback')".to_string(),
                    })
                    .collect();
                format!(
                    "local a = alien.array('pointer', {{{}}})\nfor i = 1, #a do need(a[i], 'no function') end\nlocal _ = typed('al_call_each', 'int', 'pointer', 'int')(a.buffer, #a)",
                    fs.join(", ")
                )
            }
            _ => {
                let args = self.types_args();
                format!(
                    "local _ = alien.callback({}{}{args})",
                    self.hostile(),
                    comma(&args)
                )
            }
        }
    }

    fn buffer_step(&mut self) -> String {
        let slot = self.slot("B", B_SLOTS);
        let buf = format!("b({})", 1 + self.rng.below(B_SLOTS));
        match self.rng.below(16) {
            0 => format!("{slot} = alien.buffer({})", self.size()),
            1 => format!(
                "{slot} = alien.buffer({})",
                self.rng
                    .pick(&["'hello'", "''", "BIG", "'a\\0b'", "nil", "{}", "true", "print"])
            ),
            2 => format!("{slot} = alien.buffer()"),
            3 | 4 => format!(
                "local _ = {buf}:get({}, {})",
                self.offset(),
                self.data_ty()
            ),
            5 | 6 => format!(
                "{buf}:set({}, {}, {})",
                self.offset(),
                self.value(),
                self.ty()
            ),
            7 => format!("local _ = {buf}[{}]", self.offset()),
            8 => format!("{buf}[{}] = {}", self.offset(), self.value()),
            9 => format!(
                "local _ = {buf}:tostring({}, {}), tostring({buf}), {buf}:tostring()",
                self.size(),
                self.offset()
            ),
            10 => format!("local _ = {buf}:strlen(), {buf}:len(), #{buf}"),
            11 => format!(
                "{} = {buf}:topointer({})",
                self.slot("P", P_SLOTS),
                self.offset()
            ),
            12 => format!(
                "local _ = {buf}:tooffset({})",
                match self.rng.below(3) {
                    0 => format!("{buf}:topointer({})", self.offset()),
                    1 => self.slot("P", P_SLOTS),
                    _ => self.hostile(),
                }
            ),
            13 => format!("{buf}:realloc({})", self.size()),
            14 => {
                // A method called on something else.
                let m = self
                    .rng
                    .pick(&["get", "set", "tostring", "strlen", "topointer", "tooffset", "realloc"]);
                format!(
                    "local f = alien.buffer(4).{m}\nlocal _ = f({}, {}, {})",
                    self.hostile(),
                    self.offset(),
                    self.hostile()
                )
            }
            _ => format!(
                "Z[2] = alien.buffer(Z[1])\nlocal _ = Z[2]:get({}, {}), Z[2][{}]\nZ[2]:set({}, {}, {})",
                self.rng.pick(NULL_OFFSETS),
                self.ty(),
                self.rng.pick(NULL_OFFSETS),
                self.rng.pick(NULL_OFFSETS),
                self.value(),
                self.ty()
            ),
        }
    }

    /// A value to store: numbers and hostile values, strings, memory and function objects.
    fn value(&mut self) -> String {
        match self.rng.below(4) {
            0 => self.memory(),
            1 => self.rng.pick(&["'str'", "BIG", "''"]).to_string(),
            _ => self.number(),
        }
    }

    fn array_step(&mut self) -> String {
        let slot = self.slot("ARR", ARR_SLOTS);
        let arr = format!("need({slot}, 'no array')");
        match self.rng.below(9) {
            0 => format!("{slot} = alien.array({}, {})", self.ty(), self.size()),
            1 => {
                let vals: Vec<String> = (0..self.rng.below(4)).map(|_| self.value()).collect();
                format!(
                    "{slot} = alien.array({}, {{{}}})",
                    self.ty(),
                    vals.join(", ")
                )
            }
            2 => format!(
                "{slot} = alien.array({}, {}, {})",
                self.ty(),
                self.rng.pick(&["1", "2", "4", "0", "16"]),
                match self.rng.below(3) {
                    0 => format!("b({})", 1 + self.rng.below(B_SLOTS)),
                    1 => self.hostile(),
                    _ => "{5, 6}".to_string(),
                }
            ),
            3 | 4 => format!("local _ = {arr}[{}]", self.offset()),
            5 | 6 => format!("{arr}[{}] = {}", self.offset(), self.value()),
            7 => format!("local _ = #{arr}\nfor _, v in {arr}:ipairs() do local _ = v end"),
            _ => format!("{arr}:realloc({})", self.size()),
        }
    }

    fn struct_step(&mut self) -> String {
        let slot = self.slot("ST", ST_SLOTS);
        let field = self.rng.pick(&[
            "'c'", "'d'", "'s'", "'i'", "'p'", "'h'", "'f'", "'l'", "'b'", "'nope'", "1", "nil",
        ]);
        match self.rng.below(7) {
            0 => format!(
                "{slot} = PROTO[{}]:new({})",
                1 + self.rng.below(PROTO_COUNT),
                if self.rng.chance(3) {
                    self.non_pointer()
                } else {
                    String::new()
                }
            ),
            // Over the NULL page: every field access is an error.
            1 if self.rng.chance(3) => format!(
                "local s = PROTO[{}]:new(LUDZ)\nlocal _ = s[{field}]\ns[{field}] = {}",
                1 + self.rng.below(PROTO_COUNT),
                self.value()
            ),
            1 | 2 => format!("local _ = need({slot}, 'no struct')[{field}]"),
            3 | 4 => format!("need({slot}, 'no struct')[{field}] = {}", self.value()),
            5 => format!("{} = need({slot}, 'no struct')()", self.slot("B", B_SLOTS)),
            _ => {
                let n = self.rng.below(4);
                let fields: Vec<String> = (0..n)
                    .map(|_| match self.rng.below(4) {
                        0 => self.hostile(),
                        1 => format!("{{{}, {}}}", self.hostile(), self.ty()),
                        _ => format!("{{'f{}', {}}}", self.rng.below(3), self.ty()),
                    })
                    .collect();
                format!(
                    "local s = alien.defstruct({{{}}})\nlocal _ = s.size, s.offsets\nlocal v = s:new()\nlocal _ = v.f1, v.f0\nv.f2 = {}\nlocal _ = alien.byval(v())",
                    fields.join(", "),
                    self.value()
                )
            }
        }
    }

    fn format(&mut self) -> String {
        if self.rng.chance(10) {
            return self.hostile();
        }
        let n = self.rng.below(6);
        let opts: Vec<&str> = (0..n).map(|_| self.rng.pick(FORMAT_OPTIONS)).collect();
        format!("'{}'", opts.concat())
    }

    fn pack_step(&mut self) -> String {
        let fmt = self.format();
        match self.rng.below(8) {
            0 | 1 => {
                let vals: Vec<String> = (0..self.rng.below(5)).map(|_| self.value()).collect();
                format!("local _ = alien.pack({fmt}{}{})", sep(&vals), vals.join(", "))
            }
            2 => format!(
                "local _ = alien.unpack({fmt}, {}, {})",
                self.rng.pick(&["'abcdefgh'", "''", "BIG", "'\\0\\0\\0\\0\\0\\0\\0\\0\\1\\2\\3\\4'"]),
                self.offset()
            ),
            3 | 4 => {
                // From memory: of known size (any size may be asked), or the NULL page.
                let (src, size) = match self.rng.below(5) {
                    0 => (self.slot("Z", 2), self.rng.pick(&["0", "1", "8", "64"]).to_string()),
                    1 => (self.slot("FN", FN_SLOTS), self.size()),
                    _ => (self.memory(), self.size()),
                };
                format!(
                    "local r = table.pack(alien.unpack({fmt}, {src}, {size}, {}))\n{} = r[1]",
                    self.rng.pick(&["nil", "1", "2", "0", "9", "'x'"]),
                    self.slot("P", P_SLOTS)
                )
            }
            5 => format!("local _ = alien.size({fmt}), alien.offset({fmt}, {})", self.number()),
            6 => {
                let v = self.value();
                format!(
                    "local s = alien.pack({fmt}, {v}, {v}, {v})\nlocal r = table.pack(alien.unpack({fmt}, s))\n{} = r[1]",
                    self.slot("P", P_SLOTS)
                )
            }
            _ => format!(
                "local st = require('alien.struct')\nlocal _ = st.size({fmt}), st.pack({fmt}, {}), st.unpack({fmt}, {})",
                self.value(),
                self.hostile()
            ),
        }
    }

    fn reader_step(&mut self) -> String {
        let reader = self.rng.pick(&[
            "tochar",
            "toshort",
            "toushort",
            "toint",
            "touint",
            "tolong",
            "toulong",
            "toptrdiff_t",
            "tosize_t",
            "tofloat",
            "todouble",
            "tostring",
        ]);
        let count = if self.rng.chance(3) {
            String::new()
        } else {
            format!(", {}", self.size())
        };
        format!("local _ = alien.{reader}({}{count})", self.memory())
    }

    fn tag_step(&mut self) -> String {
        let name = self.rng.pick(TAGS);
        let w = self.slot("W", W_SLOTS);
        let vals: Vec<String> = (0..self.rng.below(4)).map(|_| self.value()).collect();
        match self.rng.below(7) {
            0 => format!("{w} = alien.wrap({name}{}{})", sep(&vals), vals.join(", ")),
            1 | 2 => format!(
                "local r = table.pack(alien.unwrap({name}, {}))\n{} = r[1]",
                if self.rng.chance(4) {
                    self.hostile()
                } else {
                    w.clone()
                },
                self.slot("P", P_SLOTS)
            ),
            3 => format!(
                "alien.rewrap({name}, {}{}{})",
                if self.rng.chance(4) {
                    self.hostile()
                } else {
                    w
                },
                sep(&vals),
                vals.join(", ")
            ),
            4 => format!("local t = alien.tag({name})\nlocal _ = t.__name, getmetatable({w})"),
            5 => format!(
                "alien.tag({name}).__gc = function(o) {} = o end",
                self.slot("P", P_SLOTS)
            ),
            _ => format!("alien.tag({name}).__index = {}", self.hostile()),
        }
    }

    fn memory_step(&mut self) -> String {
        match self.rng.below(4) {
            0 => format!(
                "alien.memmove({}, {}, {})",
                self.memory(),
                self.memory(),
                self.size()
            ),
            1 => format!(
                "alien.memmove({}, {}{})",
                self.memory(),
                self.rng.pick(&["'abc'", "''", "BIG", "'a\\0b'"]),
                if self.rng.chance(2) {
                    format!(", {}", self.size())
                } else {
                    String::new()
                }
            ),
            _ => format!(
                "alien.memset({}, {}, {})",
                self.memory(),
                self.number(),
                self.size()
            ),
        }
    }

    fn misc_step(&mut self) -> String {
        match self.rng.below(6) {
            0 => format!(
                "local _ = alien.sizeof({}), alien.align({})",
                self.ty(),
                self.ty()
            ),
            1 => format!("local _ = alien.isnull({})", self.hostile()),
            2 => format!(
                "local _ = alien.table({}, {})",
                self.rng.pick(&["nil", "0", "4", "-1", "0.5", "'x'", "{}"]),
                self.rng.pick(&["nil", "0", "4", "-1", "0.5", "'x'", "{}"])
            ),
            3 => "local _ = alien.errno(), alien.platform, alien.version".to_string(),
            4 => format!("local _ = alien.byval({})", self.hostile()),
            _ => format!(
                "{} = {}",
                self.slot("N", N_SLOTS),
                self.rng
                    .pick(&["ffi.buffer(8)", "ARENA:alloc(4)", "ffi.buffer(0)"])
            ),
        }
    }

    fn gc_step(&mut self) -> String {
        let slot = match self.rng.below(7) {
            0 => self.slot("B", B_SLOTS),
            1 => self.slot("FN", FN_SLOTS),
            2 => self.slot("CB", SHAPES.len()),
            3 => self.slot("ARR", ARR_SLOTS),
            4 => self.slot("ST", ST_SLOTS),
            5 => self.slot("W", W_SLOTS),
            _ => self.slot("LIB", 3),
        };
        match self.rng.below(4) {
            0 => "collectgarbage()".to_string(),
            1 => "collectgarbage('step', 0)".to_string(),
            2 => format!("{slot} = nil; collectgarbage()"),
            _ => "ARENA:reset()".to_string(),
        }
    }

    /// An object whose finalizer works the API when the collector next runs.
    fn finalizer_step(&mut self) -> String {
        let action = match self.rng.below(5) {
            0 => format!("{} = nil", self.slot("B", B_SLOTS)),
            1 => self.buffer_step(),
            2 => self.callback_call(),
            3 => self.memory_step(),
            _ => "ARENA:reset()".to_string(),
        };
        format!("setmetatable({{}}, {{__gc = function() {action} end}})")
    }
}

/// A signature as the arguments of `:types`.
fn alien_types(ret: &str, params: &[&str]) -> String {
    let mut all = vec![format!("'{ret}'")];
    all.extend(params.iter().map(|p| format!("'{p}'")));
    all.join(", ")
}

fn quoted(params: &[&str]) -> String {
    params
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn comma(args: &str) -> &'static str {
    if args.is_empty() {
        ""
    } else {
        ", "
    }
}

fn sep<T>(items: &[T]) -> &'static str {
    if items.is_empty() {
        ""
    } else {
        ", "
    }
}
