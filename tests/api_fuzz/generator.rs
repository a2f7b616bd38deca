//! The Lua-level API fuzzer's program generator: a stream of random numbers (a seed or
//! libFuzzer's bytes) becomes a Lua program that drives the whole native API with random and
//! hostile arguments against the C test library, each step in `pcall`, then checks that the
//! state is still usable. Shared by `tests/api_fuzz.rs` and `fuzz/fuzz_targets/lua_api.rs`.
//!
//! The program only ever declares C functions of the test library correctly, dereferences
//! unmanaged memory only inside the NULL page (where it is an error), and never hands
//! made-up addresses to `ffi.fn`, `callPtr` or `ffi.unsafe.*`: whatever crashes is the
//! engine's fault.

/// A program: `prelude`, each step `next` writes (up to `steps`, fewer when it has none) run
/// in the prelude's `step` function, then `epilogue`.
pub fn program_of(
    prelude: &str,
    epilogue: &str,
    steps: usize,
    mut next: impl FnMut() -> Option<String>,
) -> String {
    let mut out = String::from(prelude);
    for n in 1..=steps {
        let Some(body) = next() else { break };
        out.push_str(&format!("step({n}, function()\n{body}\nend)\n"));
    }
    out.push_str(epilogue);
    out
}

/// Random numbers from a seed (splitmix64) or from a byte string (zero once it runs out).
pub struct Rng {
    bytes: Option<(Vec<u8>, usize)>,
    state: u64,
}

impl Rng {
    pub fn from_seed(seed: u64) -> Rng {
        Rng {
            bytes: None,
            state: seed,
        }
    }

    pub fn from_bytes(data: &[u8]) -> Rng {
        Rng {
            bytes: Some((data.to_vec(), 0)),
            state: 0,
        }
    }

    /// Whether a byte-driven generator has input left (a seeded one always has).
    pub fn has_input(&self) -> bool {
        self.bytes.as_ref().is_none_or(|(b, pos)| *pos < b.len())
    }

    fn next(&mut self, n: usize) -> u64 {
        match &mut self.bytes {
            Some((bytes, pos)) => {
                // As many bytes as `n` needs: small choices consume one byte, so that
                // libFuzzer's mutations map to small program changes.
                let width = if n <= 256 { 1 } else { 4 };
                let mut v = 0u64;
                for _ in 0..width {
                    let b = bytes.get(*pos).copied().unwrap_or(0);
                    *pos = (*pos + 1).min(bytes.len());
                    v = (v << 8) | u64::from(b);
                }
                v
            }
            None => {
                self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = self.state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            }
        }
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next(n) % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Values of no pointer kind, hostile to every parameter: nil, booleans, boundary integers,
/// NaN and infinities, non-integral floats, type names and other strings, tables (one whose
/// metamethods raise), functions, a coroutine, a foreign userdata, the library table itself.
const HOSTILE: &[&str] = &[
    "nil",
    "true",
    "false",
    "0",
    "1",
    "-1",
    "2",
    "3",
    "7",
    "8",
    "255",
    "256",
    "-129",
    "4095",
    "4096",
    "65536",
    "0x7fffffff",
    "-0x80000000",
    "0xffffffff",
    "1 << 44",
    "1 << 53",
    "math.maxinteger",
    "math.mininteger",
    "math.maxinteger - 1",
    "-math.maxinteger",
    "0.5",
    "-0.5",
    "3.0",
    "-0.0",
    "1e308",
    "-1e308",
    "0/0",
    "math.huge",
    "-math.huge",
    "2^63",
    "-2^63",
    "2^64",
    "1e-310",
    "''",
    "'x'",
    "'i32'",
    "'u8'",
    "'f64'",
    "'pointer'",
    "'string'",
    "'void'",
    "'bool'",
    "'...'",
    "'ref int'",
    "'ref pointer'",
    "'struct'",
    "'abc\\0def'",
    "'42'",
    "'0x10'",
    "BIG",
    "{}",
    "{1, 2, 3}",
    "{x = 1, y = 2}",
    "{a = 'x', c = {}}",
    "RAISING",
    "BADSTR",
    "print",
    "function() end",
    "CO",
    "io.stdout",
    "ffi",
    "ffi.ctypes",
];

/// Type names and definitions, valid and not.
const TYPES: &[&str] = &[
    "'void'",
    "'bool'",
    "'i8'",
    "'u8'",
    "'i16'",
    "'u16'",
    "'i32'",
    "'u32'",
    "'i64'",
    "'u64'",
    "'isize'",
    "'usize'",
    "'f32'",
    "'f64'",
    "'pointer'",
    "'string'",
    "'char'",
    "'size_t'",
    "'int32_t'",
    "'void*'",
    "'cstring'",
    "'ref int'",
    "'ref double'",
    "'ref pointer'",
    "'ref V2'",
    "'...'",
    "'int '",
    "'I32'",
    "'i128'",
    "''",
    "S.V2",
    "S.Big",
    "S.Mid",
    "S.C3",
    "S.IF",
    "S.Packed",
    "S.Nested",
    "R[1]",
    "R[2]",
    "R[3]",
];

/// Scalar type names, the ones callbacks and `ffi.fn` take for every position.
const SCALARS: &[&str] = &[
    "bool", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "isize", "usize", "f32", "f64",
    "pointer",
];

/// Sizes for allocations: small, zero, negative, non-integral, and too large to ever be
/// granted (never a size the machine could really commit and then fill).
const SIZES: &[&str] = &[
    "0",
    "1",
    "3",
    "4",
    "8",
    "16",
    "24",
    "40",
    "64",
    "100",
    "4096",
    "-1",
    "-8",
    "1 << 44",
    "1 << 62",
    "math.maxinteger",
    "math.mininteger",
    "0.5",
    "0/0",
    "math.huge",
    "2^64",
    "'8'",
    "nil",
    "{}",
];

const FIELDS: &[&str] = &[
    "'x'",
    "'y'",
    "'a'",
    "'b'",
    "'c'",
    "'d'",
    "'e'",
    "'i'",
    "'f'",
    "'s'",
    "'pos'",
    "'id'",
    "'v'",
    "'nope'",
    "''",
    "1",
    "0",
    "nil",
    "true",
    "'size'",
    "'toRaw'",
    "'pointTo'",
];

/// Memory pools: `M` managed objects (anything derived from arenas and buffers), `Z`
/// pointers into the NULL page, `O` opaque pointers (any address: never dereferenced).
const M_SLOTS: usize = 12;
const Z_SLOTS: usize = 4;
const O_SLOTS: usize = 8;
const A_SLOTS: usize = 3;
const L_SLOTS: usize = 3;
const V_SLOTS: usize = 4;

/// A correctly declared C function of the test library whose arguments are never
/// dereferenced: `(name, ret, args)`.
const SAFE_FUNCS: &[(&str, &str, &[&str])] = &[
    ("t_bool", "bool", &["bool"]),
    ("t_i8", "i8", &["i8"]),
    ("t_u8", "u8", &["u8"]),
    ("t_i16", "i16", &["i16"]),
    ("t_u16", "u16", &["u16"]),
    ("t_i32", "i32", &["i32"]),
    ("t_u32", "u32", &["u32"]),
    ("t_i64", "i64", &["i64"]),
    ("t_u64", "u64", &["u64"]),
    ("t_isize", "isize", &["isize"]),
    ("t_usize", "usize", &["usize"]),
    ("t_f32", "f32", &["f32"]),
    ("t_f64", "f64", &["f64"]),
    ("t_ptr", "pointer", &["pointer"]),
    ("widen_i8", "i32", &["i8"]),
    ("widen_u16", "u32", &["u16"]),
    ("widen_u32", "u64", &["u32"]),
    ("not_bool", "i32", &["bool"]),
    ("f32_to_f64", "f64", &["f32"]),
    ("narrow_i8", "i8", &["i32"]),
    ("narrow_u32", "u32", &["i64"]),
    ("is_positive", "bool", &["i64"]),
    ("half_f32", "f32", &["f64"]),
    ("int_min", "i32", &[]),
    ("u64_big", "u64", &[]),
    ("nan_value", "f64", &[]),
    ("is_nan", "int", &["f64"]),
    ("u64_is_big", "int", &["u64"]),
    ("zero_args", "i32", &[]),
    ("one_arg", "f64", &["f32"]),
    ("mixed6", "f64", &["i32", "f64", "i8", "f32", "i64", "u16"]),
    (
        "mixed9",
        "f64",
        &[
            "i64", "i64", "i64", "i64", "i64", "i64", "i64", "f64", "i64",
        ],
    ),
    (
        "f32_weighted11",
        "f32",
        &[
            "f32", "f32", "f32", "f32", "f32", "f32", "f32", "f32", "f32", "f32", "f32",
        ],
    ),
    (
        "ints16",
        "i64",
        &[
            "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "i8", "u8", "i16", "u16", "i32",
            "u32", "i64", "bool",
        ],
    ),
    ("is_null", "int", &["pointer"]),
    ("static_string", "string", &[]),
    ("null_string", "string", &[]),
    ("null_pointer", "pointer", &[]),
    ("static_int", "pointer", &[]),
    ("add", "int", &["int"]),
    ("double", "int", &["int"]),
    ("get_pi", "f64", &[]),
    ("get_greeting", "string", &[]),
    ("tick", "void", &[]),
    ("add_i32", "i32", &["i32", "i32"]),
    ("backtrace_depth", "int", &[]),
    (
        "sum22",
        "i64",
        &[
            "i64", "i64", "i64", "i64", "i64", "i64", "i64", "i64", "i64", "i64", "i64", "i64",
            "i64", "i64", "i64", "i64", "i64", "i64", "i64", "i64", "i64", "i64",
        ],
    ),
    ("scaled_out", "i32", &["i32", "ref i32", "ref i32"]),
    ("out_first", "i32", &["ref i32", "i32"]),
    ("abi_fail_with", "int", &["int"]),
    ("mt_layout", "usize", &["int", "int"]),
    ("mt_alignof", "usize", &["int"]),
    ("abi_v2_add", "S.V2", &["S.V2", "S.V2"]),
    ("abi_ifd_sum", "f64", &["S.IFD"]),
    ("abi_ifd_make", "S.IFD", &["i32", "f32", "f64"]),
    ("abi_big_scale", "S.Big", &["S.Big", "f64"]),
    ("abi_mid_make", "S.Mid", &["i64"]),
    ("abi_mid_sum", "i64", &["S.Mid"]),
    ("abi_c3_sum", "int", &["S.C3"]),
    ("abi_c3_make", "S.C3", &["i8"]),
    ("abi_if_from_int", "S.IF", &["i32"]),
    ("abi_if_as_float", "f32", &["S.IF"]),
    ("abi_packed_sum", "i64", &["S.Packed"]),
    ("abi_packed_make", "S.Packed", &["u8", "i32"]),
    ("abi_nested_sum", "f64", &["S.Nested"]),
    (
        "abi_exhausted",
        "i64",
        &["i64", "i64", "i64", "i64", "i64", "S.V2", "i64"],
    ),
];

/// Callback shapes, each with the C function of the test library that calls it: `(ret,
/// args, valid result, C caller, C caller's other parameters and the Lua expressions that
/// produce them)`. The callback is always the caller's first argument.
struct Shape {
    ret: &'static str,
    args: &'static str,
    ok: &'static str,
    caller: &'static str,
    caller_ret: &'static str,
    rest: &'static [&'static str],
}

const SHAPES: &[Shape] = &[
    Shape {
        ret: "'i32'",
        args: "{'i32', 'i32'}",
        ok: "7",
        caller: "cb_call_binary",
        caller_ret: "i32",
        rest: &["i32", "i32"],
    },
    Shape {
        ret: "'i32'",
        args: "{'i32'}",
        ok: "-3",
        caller: "cb_call_twice",
        caller_ret: "i32",
        rest: &[],
    },
    Shape {
        ret: "'f64'",
        args: "{'bool', 'i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'pointer', 'string'}",
        ok: "2.5",
        caller: "cb_call_all_types",
        caller_ret: "f64",
        rest: &["pointer", "cstring"],
    },
    Shape {
        ret: "'void'",
        args: "{'i32'}",
        ok: "nil",
        caller: "cb_call_void",
        caller_ret: "void",
        rest: &["i32"],
    },
    Shape {
        ret: "'bool'",
        args: "{}",
        ok: "true",
        caller: "cb_ret_bool",
        caller_ret: "int",
        rest: &[],
    },
    Shape {
        ret: "'u8'",
        args: "{}",
        ok: "250",
        caller: "cb_ret_u8",
        caller_ret: "int",
        rest: &[],
    },
    Shape {
        ret: "'i64'",
        args: "{}",
        ok: "math.mininteger",
        caller: "cb_ret_i64",
        caller_ret: "int",
        rest: &[],
    },
    Shape {
        ret: "'u64'",
        args: "{}",
        ok: "-1",
        caller: "cb_ret_u64",
        caller_ret: "int",
        rest: &[],
    },
    Shape {
        ret: "'f32'",
        args: "{}",
        ok: "0.25",
        caller: "cb_ret_f32",
        caller_ret: "int",
        rest: &[],
    },
    Shape {
        ret: "'pointer'",
        args: "{}",
        ok: "nil",
        caller: "cb_ret_ptr",
        caller_ret: "int",
        rest: &["pointer"],
    },
    Shape {
        ret: "S.V2",
        args: "{S.V2, 'f64'}",
        ok: "{x = 1, y = 2}",
        caller: "abi_cb_v2",
        caller_ret: "f64",
        rest: &["f64"],
    },
    Shape {
        ret: "S.Big",
        args: "{S.Big}",
        ok: "{a = 1, e = 5}",
        caller: "abi_cb_big",
        caller_ret: "f64",
        rest: &[],
    },
    Shape {
        ret: "'i64'",
        args: "{S.IFD, S.C3, S.Mid, S.IF}",
        ok: "9",
        caller: "abi_cb_mixed",
        caller_ret: "i64",
        rest: &[],
    },
];

/// Callback slots per shape.
const CB_PER_SHAPE: usize = 2;

const PRELUDE: &str = r#"local ffi = require("moonthunk")
local LUD, LUDZ = ...
local BIG = string.rep("A", 70000)
local CO = coroutine.create(function() end)
local RAISING = setmetatable({}, {__index = function() error("index raised") end,
    __len = function() error("len raised") end})
local BADSTR = setmetatable({}, {__tostring = function() return {} end})
local lib = ffi.open(TESTLIB)
local S = {
    V2 = ffi.struct({{"x", "f64"}, {"y", "f64"}}),
    IFD = ffi.struct({{"a", "i32"}, {"b", "f32"}, {"c", "f64"}}),
    Big = ffi.struct({{"a", "f64"}, {"b", "f64"}, {"c", "f64"}, {"d", "f64"}, {"e", "f64"}}),
    Mid = ffi.struct({{"a", "i64"}, {"b", "i64"}, {"c", "i64"}}),
    C3 = ffi.struct({{"c", "i8", 3}}),
    IF = ffi.union({{"i", "i32"}, {"f", "f32"}}),
    Packed = ffi.struct({{"c", "u8"}, {"i", "i32"}}, {packed = true}),
}
S.Nested = ffi.struct({{"pos", S.V2}, {"id", "i32"}})
local A, M, Z, O, CB, R, L, V, F = {}, {}, {}, {}, {}, {}, {}, {}, {}
for i = 1, 3 do A[i] = ffi.arena() end
for i = 1, 3 do L[i] = ffi.open(TESTLIB) end
Z[1], Z[2], Z[3], Z[4] = ffi.ptr(0), ffi.ptr(16), LUDZ, ffi.cast(nil, "i32")
O[1] = LUD
-- Error values a callback raises on purpose: those may come back as they are.
local RAISED = setmetatable({}, {__mode = "k"})
local NILERR = false
local function raise(v) if v == nil then NILERR = true else RAISED[v] = true end error(v, 0) end
local DEPTH = 0
-- An empty slot of managed memory: nil would pass as NULL, with unchecked offsets.
local EMPTY = setmetatable({}, {__name = "empty slot"})
local function m(i) local v = M[i]; if v == nil then return EMPTY end return v end
local function step(n, f)
    NILERR, DEPTH = false, 0
    local ok, e = pcall(f)
    -- Known: methods written with mlua (the library object's __index) raise mlua's error
    -- userdata for a key of the wrong type (a boolean, a table), not a message.
    local mlua_conversion = type(e) == "userdata" and tostring(e):find("error converting Lua", 1, true)
    if not ok and type(e) ~= "string" and not (e == nil and NILERR) and not RAISED[e]
        and not mlua_conversion then
        error(("step %d failed with a %s, not a message"):format(n, type(e)), 0)
    end
end
"#;

const EPILOGUE: &str = r#"
-- The state is still usable.
DEPTH = 0
collectgarbage()
local lib2 = ffi.open(TESTLIB)
local add = lib2:bind("add_i32", "i32", {"i32", "i32"})
assert(add(2, 3) == 5, "bind and call after the steps")
local arena = ffi.arena()
local ints = ffi.cast(arena:allocArray("i32", 4), "i32")
ints[3] = 9
assert(ints[3] == 9, "allocate after the steps")
local cb = ffi.callback(function(a, b) return a * b end, "i32", {"i32", "i32"})
assert(lib2:call("cb_call_binary", "i32", {"pointer", "i32", "i32"}, cb, 6, 7) == 42,
    "a callback after the steps")
cb:free()
collectgarbage()
"#;

/// Writes Lua programs from random numbers.
pub struct Generator<'a> {
    rng: &'a mut Rng,
    /// Nesting of callback bodies being written (a body may call C with another callback).
    depth: usize,
    /// Whether to write what reaches the known callback lifetime bugs: freeing (or dropping
    /// and collecting) a callback while it runs, and passing a freed callback to C after
    /// its slot may have been reused. Both corrupt memory today.
    known_bugs: bool,
}

impl<'a> Generator<'a> {
    /// A generator; `known_bugs` as [`Generator::known_bugs`] says.
    pub fn new(rng: &'a mut Rng, known_bugs: bool) -> Generator<'a> {
        Generator {
            rng,
            depth: 0,
            known_bugs,
        }
    }

    /// A whole program of at most `steps` steps (fewer when a byte stream runs out). It
    /// expects the global `TESTLIB` (the C test library's path) and takes two light userdata
    /// as `...`: any address (never dereferenced) and one inside the NULL page.
    pub fn program(&mut self, steps: usize) -> String {
        program_of(PRELUDE, EPILOGUE, steps, || {
            self.rng.has_input().then(|| self.step())
        })
    }

    fn hostile(&mut self) -> String {
        match self.rng.below(10) {
            0 => self.any_pointer(),
            1 => format!("V[{}]", 1 + self.rng.below(V_SLOTS)),
            2 => format!("CB[{}]", 1 + self.rng.below(SHAPES.len() * CB_PER_SHAPE)),
            3 => format!("A[{}]", 1 + self.rng.below(A_SLOTS)),
            4 => self.rng.pick(TYPES).to_string(),
            _ => self.rng.pick(HOSTILE).to_string(),
        }
    }

    /// A value that is no pointer of any kind (so a C function may not receive an address
    /// from it) and not nil (which a pointer parameter takes as NULL).
    fn non_pointer(&mut self) -> String {
        // HOSTILE[0] is nil.
        self.rng.pick(&HOSTILE[1..]).to_string()
    }

    /// A managed memory object; an empty slot reads as a table, not as nil (NULL).
    fn managed(&mut self) -> String {
        format!("m({})", 1 + self.rng.below(M_SLOTS))
    }

    fn managed_slot(&mut self) -> String {
        format!("M[{}]", 1 + self.rng.below(M_SLOTS))
    }

    fn null_page(&mut self) -> String {
        format!("Z[{}]", 1 + self.rng.below(Z_SLOTS))
    }

    fn opaque(&mut self) -> String {
        format!("O[{}]", 1 + self.rng.below(O_SLOTS))
    }

    fn any_pointer(&mut self) -> String {
        match self.rng.below(3) {
            0 => self.managed(),
            1 => self.null_page(),
            _ => self.opaque(),
        }
    }

    fn small_offset(&mut self) -> String {
        self.rng
            .pick(&["0", "1", "4", "8", "-1", "100", "2000", "0.5", "nil", "'x'"])
            .to_string()
    }

    fn number(&mut self) -> String {
        if self.rng.chance(4) {
            self.hostile()
        } else {
            self.rng.pick(HOSTILE[..38].as_ref()).to_string()
        }
    }

    fn ty(&mut self) -> String {
        if self.rng.chance(8) {
            self.hostile()
        } else {
            self.rng.pick(TYPES).to_string()
        }
    }

    fn scalar(&mut self) -> String {
        format!("'{}'", self.rng.pick(SCALARS))
    }

    fn size(&mut self) -> String {
        self.rng.pick(SIZES).to_string()
    }

    /// Somewhere memory may be read or written: managed memory at any offset, or the NULL
    /// page at a small one (still inside it), or no memory at all.
    fn place(&mut self) -> (String, String) {
        match self.rng.below(6) {
            0 => (self.null_page(), self.small_offset()),
            1 => (self.non_pointer(), self.number()),
            _ => (self.managed(), self.number()),
        }
    }

    fn field(&mut self) -> String {
        if self.rng.chance(6) {
            self.hostile()
        } else {
            self.rng.pick(FIELDS).to_string()
        }
    }

    /// A value for a struct field or a by-value struct argument.
    fn record(&mut self) -> String {
        match self.rng.below(8) {
            0 => format!("{{x = {}, y = {}}}", self.number(), self.number()),
            1 => format!(
                "{{a = {}, b = {}, c = {}}}",
                self.number(),
                self.number(),
                self.number()
            ),
            2 => format!(
                "{{c = {{{}, {}, {}}}}}",
                self.number(),
                self.number(),
                self.number()
            ),
            3 => format!(
                "{{pos = {{x = {}}}, id = {}}}",
                self.number(),
                self.number()
            ),
            4 => format!("{{i = {}, f = {}}}", self.number(), self.number()),
            5 => format!("V[{}]", 1 + self.rng.below(V_SLOTS)),
            6 => self.managed(),
            _ => self.hostile(),
        }
    }

    /// An argument for a parameter of type `t` of a function that never dereferences it.
    fn arg(&mut self, t: &str) -> String {
        if self.rng.chance(3) {
            return self.hostile();
        }
        match t {
            "pointer" => self.any_pointer(),
            t if t.starts_with("S.") => self.record(),
            "bool" => self.rng.pick(&["true", "false", "nil"]).to_string(),
            _ => self.number(),
        }
    }

    fn args(&mut self, types: &[&str]) -> String {
        let mut n = types.len();
        if self.rng.chance(8) {
            // Too few or too many.
            n = self.rng.below(types.len() + 3);
        }
        (0..n)
            .map(|i| self.arg(types.get(i).copied().unwrap_or("i32")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn step(&mut self) -> String {
        match self.rng.below(25) {
            0..=2 => self.arena_step(),
            3 | 4 => self.buffer_step(),
            5..=7 => self.pointer_step(),
            8 | 9 => self.typed_step(),
            10 | 11 => self.struct_step(),
            12 => self.memory_fn_step(),
            13..=15 => self.call_step(),
            16 => self.library_step(),
            17..=19 => self.callback_step(),
            20 => self.deref_call_step(),
            21 => self.misc_step(),
            22 => self.gc_step(),
            23 => self.finalizer_step(),
            _ => self.coroutine_step(),
        }
    }

    fn arena_step(&mut self) -> String {
        let a = format!("A[{}]", 1 + self.rng.below(A_SLOTS));
        let m = self.managed_slot();
        match self.rng.below(8) {
            0 => format!("{m} = {a}:alloc({})", self.size()),
            1 => format!(
                "{m} = {a}:allocAligned({}, {})",
                self.size(),
                self.rng
                    .pick(&["1", "2", "8", "16", "4096", "3", "0", "-8", "1 << 62", "'x'"])
            ),
            2 => format!("{m} = {a}:allocType({})", self.ty()),
            3 => format!("{m} = {a}:allocArray({}, {})", self.ty(), self.size()),
            4 => format!("{a}:reset()"),
            5 => format!("{a} = ffi.arena()"),
            6 => format!(
                "local _ = {a}.id, {a}.totalAllocated, {a}.allocationCount, tostring({a}), {a}[{}]",
                self.field()
            ),
            _ => format!("{a}.alloc({}, {})", self.hostile(), self.size()),
        }
    }

    fn buffer_step(&mut self) -> String {
        let m = self.managed_slot();
        let b = self.managed();
        match self.rng.below(10) {
            0 => format!("{m} = ffi.buffer({})", self.size()),
            1 => format!("{m} = {b}:slice({}, {})", self.number(), self.number()),
            2 => format!("local _ = {b}:read({}, {})", self.number(), self.ty()),
            3 => format!(
                "{b}:write({}, {}, {})",
                self.number(),
                self.ty(),
                self.hostile()
            ),
            4 => format!("local _ = {b}:readString({})", self.number()),
            5 => format!("{b}:writeString({}, {})", self.number(), self.hostile()),
            6 => format!(
                "local _ = {b}:readBytes({}, {})",
                self.number(),
                self.number()
            ),
            7 => format!("{b}:writeBytes({}, {})", self.number(), self.hostile()),
            8 => format!("{b}:zero()"),
            _ => format!(
                "local _ = {b}.size, {b}.ptr, #{b}, tostring({b}), {b}[{}]",
                self.field()
            ),
        }
    }

    fn pointer_step(&mut self) -> String {
        let m = self.managed_slot();
        let o = self.opaque();
        let z = self.null_page();
        match self.rng.below(14) {
            0 => {
                let (p, off) = self.place();
                format!("local _ = ({p}):read({off}, {})", self.ty())
            }
            1 => {
                let (p, off) = self.place();
                format!("({p}):write({off}, {}, {})", self.ty(), self.hostile())
            }
            2 => format!("{m} = {} + {}", self.managed(), self.number()),
            3 => format!("{m} = {} - {}", self.managed(), self.number()),
            4 => format!("{m} = {}:offset({})", self.managed(), self.number()),
            5 => format!("{o} = {} + {}", self.any_pointer(), self.number()),
            6 => format!("{o} = ffi.ptr({})", self.hostile()),
            7 => format!("{o} = {}:toLightUserData()", self.any_pointer()),
            8 => format!(
                "local p = {}; local _ = p.addr, p.isNull, p.isManaged, tostring(p), ffi.isNull(p), p == {}, p[{}]",
                self.hostile(),
                self.hostile(),
                self.field()
            ),
            9 => format!("{z} = ffi.ptr({})", self.rng.pick(&["0", "1", "8", "64", "1024"])),
            10 => format!("local _ = {} < {}, {} .. ''", self.any_pointer(), self.any_pointer(), self.any_pointer()),
            11 => format!("{m} = {}:toRaw()", self.managed()),
            12 => format!("{o} = ffi.ptr({}.addr)", self.any_pointer()),
            _ => format!("local _ = {}({})", self.any_pointer(), self.hostile()),
        }
    }

    fn typed_step(&mut self) -> String {
        let m = self.managed_slot();
        match self.rng.below(9) {
            0 => format!("{m} = ffi.cast({}, {})", self.managed(), self.ty()),
            1 => format!(
                "{} = ffi.cast({}, {})",
                self.opaque(),
                self.any_pointer(),
                self.ty()
            ),
            2 => format!("local _ = {}[{}]", self.managed(), self.number()),
            3 => format!("{}[{}] = {}", self.managed(), self.number(), self.hostile()),
            4 => format!(
                "local p = ffi.cast({}, {}); local _ = p[{}]",
                self.null_page(),
                self.scalar(),
                self.rng.pick(&["0", "1", "-1", "7"])
            ),
            5 => format!("local _ = {}:get({})", self.managed(), self.number()),
            6 => format!(
                "{}:set({}, {})",
                self.managed(),
                self.number(),
                self.hostile()
            ),
            7 => format!(
                "local p = {}; local _ = p.count, p.stride, p:toRaw(), #p",
                self.managed()
            ),
            _ => format!("{m} = {} + {}", self.managed(), self.number()),
        }
    }

    fn struct_def(&mut self) -> String {
        let n = self.rng.below(4);
        let mut fields = Vec::new();
        for i in 0..n {
            let name = if self.rng.chance(8) {
                self.hostile()
            } else {
                format!("'{}'", ["x", "y", "a", "b", "c", "pos", "v"][i % 7])
            };
            let ty = if self.rng.chance(3) {
                self.scalar()
            } else {
                self.ty()
            };
            if self.rng.chance(3) {
                fields.push(format!("{{{name}, {ty}, {}}}", self.size()));
            } else {
                fields.push(format!("{{{name}, {ty}}}"));
            }
        }
        if self.rng.chance(10) {
            fields.push(self.hostile());
        }
        let fields = format!("{{{}}}", fields.join(", "));
        let ctor = if self.rng.chance(4) {
            "union"
        } else {
            "struct"
        };
        match self.rng.below(6) {
            0 => format!("ffi.{ctor}({fields}, {{packed = {}}})", self.hostile()),
            1 => format!("ffi.{ctor}({})", self.hostile()),
            _ => format!("ffi.{ctor}({fields})"),
        }
    }

    fn struct_step(&mut self) -> String {
        let r = format!("R[{}]", 1 + self.rng.below(3));
        let v = format!("V[{}]", 1 + self.rng.below(V_SLOTS));
        match self.rng.below(10) {
            0 | 1 => format!("{r} = {}", self.struct_def()),
            2 => format!("{v} = ffi.view({}, {})", self.managed(), self.ty()),
            3 => format!(
                "{v} = ffi.view({}, S.{})",
                self.null_page(),
                self.rng.pick(&["V2", "IFD", "C3", "IF", "Nested"])
            ),
            4 => format!("local _ = {v}[{}]", self.field()),
            5 => format!("{v}[{}] = {}", self.field(), self.record()),
            6 => format!("{v}:pointTo({})", self.managed()),
            7 => format!(
                "local d = {}; local _ = d.size, d.alignment, d.fieldCount, d:offsetOf({}), d:sizeOf({}), d:fields()",
                self.ty(),
                self.field(),
                self.field()
            ),
            // A view may be of the NULL page: its raw pointer joins those.
            8 => format!("{} = {v}:toRaw()", self.null_page()),
            _ => format!(
                "local _ = ffi.sizeof({}), ffi.alignof({})",
                self.ty(),
                self.ty()
            ),
        }
    }

    fn memory_fn_step(&mut self) -> String {
        match self.rng.below(6) {
            0 => {
                let (p, off) = self.place();
                format!("local _ = ffi.read({p}, {off}, {})", self.ty())
            }
            1 => {
                let (p, off) = self.place();
                format!("ffi.write({p}, {off}, {}, {})", self.ty(), self.hostile())
            }
            2 => {
                let src = match self.rng.below(3) {
                    0 => self.managed(),
                    1 => self.non_pointer(),
                    _ => "BIG".to_string(),
                };
                format!("ffi.copy({}, {src}, {})", self.managed(), self.number())
            }
            3 => format!(
                "ffi.fill({}, {}, {})",
                self.managed(),
                self.number(),
                self.number()
            ),
            4 => format!(
                "ffi.copy({}, {}, {})",
                self.null_page(),
                self.non_pointer(),
                self.rng.pick(&["0", "1", "8"])
            ),
            _ => format!("ffi.fill({}, {}, 0)", self.non_pointer(), self.number()),
        }
    }

    /// A call of a correctly declared, non-dereferencing function, with hostile arguments.
    fn call_step(&mut self) -> String {
        let (name, ret, params) = SAFE_FUNCS[self.rng.below(SAFE_FUNCS.len())];
        let args = self.args(params);
        let decl = format!("{}, {}", lua_type(ret), lua_types(params));
        let f = format!("F[{}]", 1 + self.rng.below(6));
        let l = if self.rng.chance(4) {
            format!("L[{}]", 1 + self.rng.below(L_SLOTS))
        } else {
            "lib".to_string()
        };
        let keep = format!("{} = ", self.opaque());
        match self.rng.below(6) {
            0 => format!("{keep}{l}:call('{name}', {decl}{}{args})", sep(&args)),
            1 => format!("{f} = {l}:bind('{name}', {decl})\n{keep}{f}({args})"),
            2 => format!(
                "local c = ffi.load(TESTLIB, {{{name} = {{ret = {}, args = {}}}, K = {}}})\n{keep}c.{name}({args})",
                lua_type(ret),
                lua_types(params),
                self.hostile()
            ),
            3 => format!(
                "{keep}{l}:callPtr({l}:getSymbol('{name}'), {decl}{}{args})",
                sep(&args)
            ),
            4 => format!("{keep}ffi.fn({l}:getSymbol('{name}'), {decl})({args})"),
            _ => format!("local _ = {f}({args})"),
        }
    }

    fn library_step(&mut self) -> String {
        let l = format!("L[{}]", 1 + self.rng.below(L_SLOTS));
        match self.rng.below(12) {
            0 => format!("{l} = ffi.open(TESTLIB)"),
            1 => format!(
                "{l} = ffi.open({})",
                self.rng.pick(&[
                    "nil",
                    "'c'",
                    "'m'",
                    "'nope'",
                    "''",
                    "'/'",
                    "'/etc/passwd'",
                    "BIG",
                    "1",
                    "{}",
                    "'\\0'",
                ])
            ),
            2 => format!("{l}:close()"),
            3 => format!("local _ = {l}:getSymbol({})", self.hostile()),
            4 => format!("local _ = {l}:hasSymbol({})", self.hostile()),
            5 => format!("local _ = #{l}:listExports(), {l}.path"),
            6 => format!(
                "local _ = {l}:bind({}, {}, {})",
                self.rng
                    .pick(&["'t_i32'", "'no_such_symbol'", "''", "BIG", "1", "nil"]),
                self.ty(),
                self.type_list()
            ),
            7 => format!(
                "local _ = {l}:call({}, {}, {})",
                self.rng.pick(&["'no_such_symbol'", "''", "1", "nil", "{}"]),
                self.ty(),
                self.type_list()
            ),
            8 => match self.rng.below(5) {
                0 => format!("local _ = {l}:callInt('zero_args')"),
                1 => format!("local _ = {l}:callIntArg('add', {})", self.number()),
                2 => format!("local _ = {l}:callDouble('get_pi')"),
                3 => format!("local _ = {l}:callString('get_greeting')"),
                _ => format!("{l}:callVoid('tick')"),
            },
            9 => format!(
                "local lb = ffi.load({}, {{{}}})\nlocal _ = lb.path, lb.K\nlb:close()",
                self.rng.pick(&["TESTLIB", "nil", "'nope'", "{}"]),
                self.interface_entries()
            ),
            10 => format!("local _ = {l}[{}], tostring({l})", self.field()),
            _ => format!("{l}[{}] = {}", self.field(), self.hostile()),
        }
    }

    /// Entries of a SmartLibrary interface: bound but never called, so any declaration goes.
    fn interface_entries(&mut self) -> String {
        let n = self.rng.below(4);
        (0..n)
            .map(|_| match self.rng.below(5) {
                0 => format!(
                    "t_i32 = {{ret = {}, args = {}}}",
                    self.ty(),
                    self.type_list()
                ),
                1 => format!("no_such = {{ret = {}}}", self.ty()),
                2 => format!("K = {}", self.hostile()),
                3 => format!("close = {{ret = 'i32', args = {}}}", self.type_list()),
                _ => format!("[{}] = {{}}", self.hostile()).replace("[nil]", "[1]"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn type_list(&mut self) -> String {
        match self.rng.below(6) {
            0 => self.hostile(),
            _ => {
                let n = self.rng.below(5);
                let v: Vec<String> = (0..n).map(|_| self.ty()).collect();
                format!("{{{}}}", v.join(", "))
            }
        }
    }

    /// The Lua function of a callback of shape `k` in slot `slot`.
    fn callback_body(&mut self, k: usize, slot: usize) -> String {
        let ok = SHAPES[k].ok;
        let body = match self.rng.below(12) {
            0 | 1 => format!("return {ok}"),
            2 => format!("return {}", self.hostile()),
            3 => "raise('callback raised')".to_string(),
            4 => format!(
                "raise({})",
                self.rng.pick(&["nil", "{}", "42", "false", "CO"])
            ),
            5 => format!("collectgarbage(); return {ok}"),
            6 if self.known_bugs => format!("CB[{slot}]:free(); return {ok}"),
            7 => format!("A[{}]:reset(); return {ok}", 1 + self.rng.below(A_SLOTS)),
            8 if self.depth < 2 => {
                self.depth += 1;
                let call = self.callback_call();
                self.depth -= 1;
                format!("if DEPTH < 3 then DEPTH = DEPTH + 1; {call}; DEPTH = DEPTH - 1 end; return {ok}")
            }
            9 => format!("V[{}] = ...; return ...", 1 + self.rng.below(V_SLOTS)),
            10 => "coroutine.yield(1)".to_string(),
            _ => format!("local a = ...; return {ok}, a, a"),
        };
        format!("function(...) {body} end")
    }

    fn new_callback(&mut self, k: usize, slot: usize) -> String {
        let body = self.callback_body(k, slot);
        let opts = match self.rng.below(6) {
            0 => ", {threadsafe = true}".to_string(),
            1 => format!(", {}", self.hostile()),
            _ => String::new(),
        };
        format!(
            "CB[{slot}] = ffi.callback({body}, {}, {}{opts})",
            SHAPES[k].ret, SHAPES[k].args
        )
    }

    /// A C call that calls back the callback in a random slot, through its declared caller.
    fn callback_call(&mut self) -> String {
        let slot = 1 + self.rng.below(SHAPES.len() * CB_PER_SHAPE);
        let k = (slot - 1) % SHAPES.len();
        let shape = &SHAPES[k];
        let f = match self.rng.below(8) {
            0 => format!("CB[{slot}].ptr"),
            1 => format!("CB[{slot}]:getPtr()"),
            2 => self.non_pointer(),
            _ => format!("assert(CB[{slot}], 'no callback')"),
        };
        let mut args = vec![f];
        let mut params = vec!["pointer"];
        for &t in shape.rest {
            params.push(if t == "cstring" { "string" } else { t });
            args.push(match t {
                "pointer" => self.any_pointer(),
                // The caller hands its string to the callback, which reads it: no addresses.
                "cstring" => self
                    .rng
                    .pick(&["'hi'", "''", "BIG", "nil", "'a\\0b'", "1", "{}"])
                    .to_string(),
                _ => self.number(),
            });
        }
        format!(
            "lib:call('{}', '{}', {}, {})",
            shape.caller,
            shape.caller_ret,
            lua_types(&params),
            args.join(", ")
        )
    }

    fn callback_step(&mut self) -> String {
        let slot = 1 + self.rng.below(SHAPES.len() * CB_PER_SHAPE);
        let k = (slot - 1) % SHAPES.len();
        match self.rng.below(10) {
            0..=2 => self.new_callback(k, slot),
            3..=5 => self.callback_call(),
            6 if self.known_bugs => format!("CB[{slot}]:free()"),
            6 => format!("CB[{slot}]:free(); CB[{slot}] = nil"),
            7 => format!(
                "local c = CB[{slot}]; local _ = c.ptr, c.retType, c.argCount, c.isValid, tostring(c), c[{}]",
                self.field()
            ),
            8 => {
                // Any scalar signature, called from Lua through a thunk: declared alike.
                let n = self.rng.below(5);
                let params: Vec<String> = (0..n).map(|_| self.scalar()).collect();
                let ret = if self.rng.chance(4) { "'void'".to_string() } else { self.scalar() };
                let body = self.callback_body(0, slot);
                let args = (0..n).map(|_| self.hostile()).collect::<Vec<_>>().join(", ");
                format!(
                    "local c = ffi.callback({body}, {ret}, {{{p}}})\nlocal _ = ffi.fn(c, {ret}, {{{p}}})({args})\nif {} then c:free() end",
                    self.rng.pick(&["true", "false"]),
                    p = params.join(", ")
                )
            }
            _ => format!(
                "local _ = ffi.callback({}, {}, {})",
                self.hostile(),
                self.ty(),
                self.type_list()
            ),
        }
    }

    /// Calls of functions that read or write through their pointer arguments: they get fresh
    /// memory of the size they use, or a value that is no pointer at all.
    fn deref_call_step(&mut self) -> String {
        let n = self.rng.pick(&["0", "1", "4", "16"]);
        let mem = if self.rng.chance(4) {
            self.non_pointer()
        } else if self.rng.chance(2) {
            format!("ffi.buffer(4 * {n})")
        } else {
            format!("A[1]:allocArray('i32', {n})")
        };
        let s = match self.rng.below(3) {
            0 => self.non_pointer(),
            _ => self.rng.pick(&["'hi'", "''", "BIG", "'a\\0b'"]).to_string(),
        };
        match self.rng.below(7) {
            0 => format!("lib:call('mt_fill_i32', 'void', {{'pointer', 'int', 'i32'}}, {mem}, {n}, {})", self.number()),
            1 => format!("local _ = lib:call('mt_sum_i32', 'i64', {{'pointer', 'int'}}, {mem}, {n})"),
            2 => format!("local _ = lib:call('t_strlen', 'usize', {{'string'}}, {s})"),
            3 => format!("local _ = lib:call('mt_byte_sum', 'u32', {{'string'}}, {s})"),
            4 => format!("local _ = lib:call('count_char', 'int', {{'string', 'int'}}, {s}, {})", self.number()),
            5 => format!(
                "local b = ffi.buffer(64)\nlocal _ = lib:call('mt_format', 'int', {{'pointer', 'size_t', 'int', 'f64'}}, b, 64, {}, {})\nlocal _ = b:readString()",
                self.number(),
                self.number()
            ),
            _ => format!(
                "local _ = lib:call('abi_sum_ints', 'int', {{'int', '...'}}, 3, {}, {}, {})",
                self.hostile(),
                self.hostile(),
                self.hostile()
            ),
        }
    }

    fn misc_step(&mut self) -> String {
        match self.rng.below(8) {
            0 => format!("local _ = ffi.thunkIR({}, {})", self.ty(), self.type_list()),
            1 => format!("local _ = ffi.thunkDisassembly({})", self.hostile()),
            2 => format!("local _ = ffi.thunkAddress({})", self.hostile()),
            3 => "local _ = ffi.errno(), ffi.stats(), ffi.poll()".to_string(),
            4 => format!(
                "local _ = ffi.types[{}], ffi.ctypes[{}]",
                self.hostile(),
                self.hostile()
            ),
            5 => format!(
                "local _ = ffi.thunkDisassembly({}, {})",
                self.ty(),
                self.type_list()
            ),
            6 => format!(
                "local _ = ffi.unsafe.read({}, {})",
                self.rng.pick(&["{}", "true", "print", "CO"]),
                self.ty()
            ),
            _ => format!(
                "local _ = ffi.isNull({}), ffi.sizeof({})",
                self.hostile(),
                self.hostile()
            ),
        }
    }

    fn gc_step(&mut self) -> String {
        match self.rng.below(4) {
            0 => "collectgarbage()".to_string(),
            1 => "collectgarbage('step', 0)".to_string(),
            2 => format!("{} = nil; collectgarbage()", self.hostile_slot()),
            _ => format!("{} = nil", self.hostile_slot()),
        }
    }

    fn memory_slot(&mut self) -> String {
        match self.rng.below(3) {
            0 => self.managed_slot(),
            1 => format!("A[{}]", 1 + self.rng.below(A_SLOTS)),
            _ => format!("V[{}]", 1 + self.rng.below(V_SLOTS)),
        }
    }

    fn hostile_slot(&mut self) -> String {
        match self.rng.below(6) {
            0 => self.managed_slot(),
            1 => format!("CB[{}]", 1 + self.rng.below(SHAPES.len() * CB_PER_SHAPE)),
            2 => format!("A[{}]", 1 + self.rng.below(A_SLOTS)),
            3 => format!("V[{}]", 1 + self.rng.below(V_SLOTS)),
            4 => format!("L[{}]", 1 + self.rng.below(L_SLOTS)),
            _ => format!("R[{}]", 1 + self.rng.below(3)),
        }
    }

    /// An object whose finalizer works the API when the collector next runs, in the middle of
    /// whatever allocates then.
    fn finalizer_step(&mut self) -> String {
        let action = match self.rng.below(6) {
            0 => format!("A[{}]:reset()", 1 + self.rng.below(A_SLOTS)),
            1 if self.known_bugs => format!(
                "CB[{}]:free()",
                1 + self.rng.below(SHAPES.len() * CB_PER_SHAPE)
            ),
            2 => format!("L[{}]:close()", 1 + self.rng.below(L_SLOTS)),
            // A finalizer may run inside a callback: it drops no callbacks.
            1 | 3 => format!("{} = nil", self.memory_slot()),
            4 => self.callback_call(),
            _ => format!("{} = ffi.buffer(8)", self.managed_slot()),
        };
        format!("setmetatable({{}}, {{__gc = function() {action} end}})")
    }

    fn coroutine_step(&mut self) -> String {
        let inner = if self.rng.chance(2) {
            self.callback_call()
        } else {
            self.call_step()
        };
        format!("local co = coroutine.wrap(function()\n{inner}\nend)\nco()")
    }
}

/// A type of the tables above as Lua: a quoted name, or a definition of the prelude's `S`.
fn lua_type(t: &str) -> String {
    if t.starts_with("S.") {
        t.to_string()
    } else {
        format!("'{t}'")
    }
}

fn lua_types(ts: &[&str]) -> String {
    let v: Vec<String> = ts.iter().map(|t| lua_type(t)).collect();
    format!("{{{}}}", v.join(", "))
}

fn sep(args: &str) -> &'static str {
    if args.is_empty() {
        ""
    } else {
        ", "
    }
}
