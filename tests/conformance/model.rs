//! The C type and value model shared by the conformance generator, the libffi differential
//! test and the fuzz target: scalar types, the catalog of aggregates, their C layouts, the
//! argument hash every generated function computes, and the values derived from it.
//!
//! Everything here is deterministic: the same seed (or the same fuzz input) gives the same
//! signatures, values, C source and Lua script.

#![allow(dead_code)]

/// A deterministic random source: splitmix64 over a seed, or the bytes of a fuzz input
/// (zeros once they run out).
pub struct Rng {
    state: u64,
    bytes: Option<(Vec<u8>, usize)>,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            bytes: None,
        }
    }

    /// Draws come from `data`, eight bytes at a time.
    pub fn from_bytes(data: &[u8]) -> Rng {
        Rng {
            state: 0,
            bytes: Some((data.to_vec(), 0)),
        }
    }

    pub fn next(&mut self) -> u64 {
        if let Some((data, pos)) = &mut self.bytes {
            let mut v = 0u64;
            for i in 0..8 {
                v |= u64::from(data.get(*pos + i).copied().unwrap_or(0)) << (8 * i);
            }
            *pos += 8;
            return v;
        }
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if let Some((data, pos)) = &mut self.bytes {
            // Fuzz input: as few bytes as the range needs.
            let (mut v, mut span) = (0u64, 1u64);
            while span < n {
                v = (v << 8) | u64::from(data.get(*pos).copied().unwrap_or(0));
                *pos += 1;
                span = span.saturating_mul(256);
            }
            return v % n;
        }
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// The scalar types of the native face.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Scalar {
    Bool,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Isize,
    Usize,
    F32,
    F64,
    Pointer,
    /// `string`: a parameter only (a `const char*` the callee hashes byte by byte).
    Str,
}

pub const SCALARS: [Scalar; 15] = [
    Scalar::Bool,
    Scalar::I8,
    Scalar::U8,
    Scalar::I16,
    Scalar::U16,
    Scalar::I32,
    Scalar::U32,
    Scalar::I64,
    Scalar::U64,
    Scalar::Isize,
    Scalar::Usize,
    Scalar::F32,
    Scalar::F64,
    Scalar::Pointer,
    Scalar::Str,
];

impl Scalar {
    pub fn lua(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::I8 => "i8",
            Scalar::U8 => "u8",
            Scalar::I16 => "i16",
            Scalar::U16 => "u16",
            Scalar::I32 => "i32",
            Scalar::U32 => "u32",
            Scalar::I64 => "i64",
            Scalar::U64 => "u64",
            Scalar::Isize => "isize",
            Scalar::Usize => "usize",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
            Scalar::Pointer => "pointer",
            Scalar::Str => "string",
        }
    }

    pub fn c(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::I8 => "int8_t",
            Scalar::U8 => "uint8_t",
            Scalar::I16 => "int16_t",
            Scalar::U16 => "uint16_t",
            Scalar::I32 => "int32_t",
            Scalar::U32 => "uint32_t",
            Scalar::I64 => "int64_t",
            Scalar::U64 => "uint64_t",
            Scalar::Isize => "ssize_t",
            Scalar::Usize => "size_t",
            Scalar::F32 => "float",
            Scalar::F64 => "double",
            Scalar::Pointer => "void*",
            Scalar::Str => "const char*",
        }
    }

    pub fn size(self) -> usize {
        match self {
            Scalar::Bool | Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            _ => 8,
        }
    }

    /// Signed integer types (sign-extended to 64 bits when hashed).
    pub fn signed(self) -> bool {
        matches!(
            self,
            Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::I64 | Scalar::Isize
        )
    }

    pub fn is_float(self) -> bool {
        matches!(self, Scalar::F32 | Scalar::F64)
    }
}

/// What a field holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FieldTy {
    S(Scalar),
    Agg(usize),
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldTy,
    pub count: Option<usize>,
}

/// A struct or union of the catalog.
#[derive(Clone, Debug)]
pub struct Agg {
    pub name: &'static str,
    pub union: bool,
    pub packed: bool,
    pub fields: Vec<Field>,
}

fn f(name: &'static str, s: Scalar) -> Field {
    Field {
        name,
        ty: FieldTy::S(s),
        count: None,
    }
}

/// The aggregates the issue names, in dependency order (a nested one refers to earlier ones).
pub fn catalog() -> Vec<Agg> {
    use Scalar::*;
    let st = |name, fields| Agg {
        name,
        union: false,
        packed: false,
        fields,
    };
    vec![
        st("c1", vec![f("c", I8)]),
        st("sc", vec![f("s", I16), f("c", I8)]),
        st("ii", vec![f("a", I32), f("b", I32)]),
        st("ff", vec![f("a", F32), f("b", F32)]),
        st("fff", vec![f("a", F32), f("b", F32), f("c", F32)]),
        st("df", vec![f("d", F64), f("f", F32)]),
        st("ifd", vec![f("i", I32), f("f", F32), f("d", F64)]),
        st(
            "c3",
            vec![Field {
                name: "c",
                ty: FieldTy::S(U8),
                count: Some(3),
            }],
        ),
        st(
            "dddd",
            vec![f("a", F64), f("b", F64), f("c", F64), f("d", F64)],
        ),
        // 24 bytes: integer and float eightbytes mixed.
        st(
            "b24",
            vec![f("a", I64), f("b", I32), f("c", F32), f("d", F64)],
        ),
        // 40 bytes, with a small array.
        st(
            "b40",
            vec![
                f("a", F64),
                f("b", U64),
                f("c", I32),
                f("d", F32),
                f("e", I16),
                Field {
                    name: "g",
                    ty: FieldTy::S(U8),
                    count: Some(6),
                },
                f("h", F64),
            ],
        ),
        // Nested: {ff p; int k} (12 bytes) and {char c; ii in; short s} (16 bytes).
        st(
            "nest_ff",
            vec![
                Field {
                    name: "p",
                    ty: FieldTy::Agg(3),
                    count: None,
                },
                f("k", I32),
            ],
        ),
        st(
            "nest_ii",
            vec![
                f("c", I8),
                Field {
                    name: "inner",
                    ty: FieldTy::Agg(2),
                    count: None,
                },
                f("s", I16),
            ],
        ),
        Agg {
            name: "u_if",
            union: true,
            packed: false,
            fields: vec![f("i", I32), f("f", F32)],
        },
        Agg {
            name: "pk_cis",
            union: false,
            packed: true,
            fields: vec![f("c", I8), f("i", I32), f("s", I16)],
        },
        Agg {
            name: "pk_cd",
            union: false,
            packed: true,
            fields: vec![f("c", U8), f("d", F64), f("e", U16)],
        },
        // The HFAs of one to four members that ff, fff and dddd leave out (AAPCS64 passes
        // each member in its own v-register, or the whole HFA on the stack).
        st("f1", vec![f("a", F32)]),
        st("d1", vec![f("a", F64)]),
        st("dd", vec![f("a", F64), f("b", F64)]),
        st("ddd", vec![f("a", F64), f("b", F64), f("c", F64)]),
        st(
            "ffff",
            vec![f("a", F32), f("b", F32), f("c", F32), f("d", F32)],
        ),
    ]
}

/// A parameter or result type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Ty {
    Void,
    S(Scalar),
    Agg(usize),
}

/// One scalar inside a value: where it is (a C member path such as `.p.a` or `.g[2]`, and a
/// byte offset) and its type.
#[derive(Clone, Debug)]
pub struct Leaf {
    pub path: String,
    pub offset: usize,
    pub ty: Scalar,
}

/// Size and alignment of an aggregate, following gcc (packed: alignment 1, no padding).
pub fn size_align(cat: &[Agg], i: usize) -> (usize, usize) {
    let agg = &cat[i];
    let (mut off, mut size, mut align) = (0usize, 0usize, 1usize);
    for fld in &agg.fields {
        let (es, ea) = match fld.ty {
            FieldTy::S(s) => (s.size(), s.size()),
            FieldTy::Agg(j) => size_align(cat, j),
        };
        let ea = if agg.packed { 1 } else { ea };
        let fs = es * fld.count.unwrap_or(1);
        if agg.union {
            size = size.max(fs);
        } else {
            off = off.div_ceil(ea) * ea;
            off += fs;
            size = off;
        }
        align = align.max(ea);
    }
    (size.div_ceil(align) * align, align)
}

/// The byte offset of each field.
pub fn field_offsets(cat: &[Agg], i: usize) -> Vec<usize> {
    let agg = &cat[i];
    let mut off = 0usize;
    let mut out = Vec::new();
    for fld in &agg.fields {
        if agg.union {
            out.push(0);
            continue;
        }
        let (es, ea) = match fld.ty {
            FieldTy::S(s) => (s.size(), s.size()),
            FieldTy::Agg(j) => size_align(cat, j),
        };
        let ea = if agg.packed { 1 } else { ea };
        off = off.div_ceil(ea) * ea;
        out.push(off);
        off += es * fld.count.unwrap_or(1);
    }
    out
}

/// The scalars of an aggregate in hashing order: every field in order, every array element,
/// nested aggregates recursively; a union contributes its first member only.
pub fn leaves(cat: &[Agg], i: usize) -> Vec<Leaf> {
    let mut out = Vec::new();
    push_leaves(cat, i, "", 0, &mut out);
    out
}

fn push_leaves(cat: &[Agg], i: usize, prefix: &str, base: usize, out: &mut Vec<Leaf>) {
    let agg = &cat[i];
    let offsets = field_offsets(cat, i);
    let take = if agg.union { 1 } else { agg.fields.len() };
    for (fld, off) in agg.fields.iter().zip(offsets).take(take) {
        let path = format!("{prefix}.{}", fld.name);
        match (fld.ty, fld.count) {
            (FieldTy::S(s), None) => out.push(Leaf {
                path,
                offset: base + off,
                ty: s,
            }),
            (FieldTy::S(s), Some(n)) => {
                for k in 0..n {
                    out.push(Leaf {
                        path: format!("{path}[{k}]"),
                        offset: base + off + k * s.size(),
                        ty: s,
                    })
                }
            }
            (FieldTy::Agg(j), None) => push_leaves(cat, j, &path, base + off, out),
            (FieldTy::Agg(_), Some(_)) => unreachable!("no arrays of aggregates in the catalog"),
        }
    }
}

/// The leaves of any type (a scalar is one leaf at offset 0 with an empty path).
pub fn ty_leaves(cat: &[Agg], t: Ty) -> Vec<Leaf> {
    match t {
        Ty::Void => vec![],
        Ty::S(s) => vec![Leaf {
            path: String::new(),
            offset: 0,
            ty: s,
        }],
        Ty::Agg(i) => leaves(cat, i),
    }
}

/// A scalar value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// Integers and bools as the 64 bits C gets by sign- or zero-extending them; pointers as
    /// their address.
    Int(u64),
    /// Floats (an f32 value is exactly representable as f32).
    F(f64),
    Str(String),
}

/// C's conversion of any 64-bit pattern to an integer type, extended back to 64 bits.
pub fn narrow(s: Scalar, v: u64) -> u64 {
    match s {
        Scalar::Bool => u64::from(v != 0),
        Scalar::I8 => v as i8 as i64 as u64,
        Scalar::U8 => v as u8 as u64,
        Scalar::I16 => v as i16 as i64 as u64,
        Scalar::U16 => v as u16 as u64,
        Scalar::I32 => v as i32 as i64 as u64,
        Scalar::U32 => v as u32 as u64,
        _ => v,
    }
}

/// A random value of a scalar type, favouring edge cases now and then.
pub fn random_val(rng: &mut Rng, s: Scalar) -> Val {
    match s {
        Scalar::Str => {
            let n = rng.below(13) as usize;
            let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-";
            Val::Str(
                (0..n)
                    .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize] as char)
                    .collect(),
            )
        }
        Scalar::F32 => {
            let m = rng.below(1 << 24) as i64 - (1 << 23);
            let e = rng.below(40) as i32 - 20;
            Val::F(m as f64 * 2f64.powi(e))
        }
        Scalar::F64 => {
            let m = (rng.next() >> 11) as i64 - (1 << 52);
            let e = rng.below(160) as i32 - 100;
            Val::F(m as f64 * 2f64.powi(e))
        }
        Scalar::Pointer => Val::Int((rng.next() & 0x0000_7fff_ffff_fff8) | 0x1000),
        Scalar::Bool => Val::Int(rng.below(2)),
        _ => {
            let raw = match rng.below(8) {
                0 => 0,
                1 => u64::MAX,
                2 => 1u64 << (s.size() * 8 - 1),
                3 => (1u64 << (s.size() * 8 - 1)).wrapping_sub(1),
                _ => rng.next(),
            };
            Val::Int(narrow(s, raw))
        }
    }
}

pub fn random_vals(rng: &mut Rng, cat: &[Agg], t: Ty) -> Vec<Val> {
    ty_leaves(cat, t)
        .iter()
        .map(|l| random_val(rng, l.ty))
        .collect()
}

pub const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;
pub const RESULT_SEED: u64 = 0x5bd1_e995_0000_0000;

pub fn mix(h: u64, v: u64) -> u64 {
    let h = (h ^ v).wrapping_mul(0x0000_0100_0000_01b3);
    h ^ (h >> 29)
}

/// Mixes one scalar value into `h` (floats by the bits of their value as a double, strings
/// byte by byte then their length).
pub fn mix_val(h: u64, v: &Val) -> u64 {
    match v {
        Val::Int(x) => mix(h, *x),
        Val::F(x) => mix(h, x.to_bits()),
        Val::Str(s) => {
            let mut h = h;
            for b in s.bytes() {
                h = mix(h, u64::from(b));
            }
            mix(h, s.len() as u64)
        }
    }
}

/// The value of type `s` that a function derives from the hash `h`.
pub fn derive(s: Scalar, h: u64) -> Val {
    match s {
        Scalar::F32 => Val::F(((h >> 44) as i64 - 524_288) as f64),
        Scalar::F64 => Val::F((((h >> 11) as i64) - (1i64 << 52)) as f64 * 0.25),
        Scalar::Str => unreachable!("no string results"),
        Scalar::Bool => Val::Int(h & 1),
        _ => Val::Int(narrow(s, h)),
    }
}

/// What a generated function returns for arguments hashing to `h`: a scalar is derived
/// from `h`, an aggregate's leaf `i` from `mix(h, i + 1)`.
pub fn derive_result(cat: &[Agg], t: Ty, h: u64) -> Vec<Val> {
    match t {
        Ty::Void => vec![],
        Ty::S(s) => vec![derive(s, h)],
        Ty::Agg(_) => ty_leaves(cat, t)
            .iter()
            .enumerate()
            .map(|(i, l)| derive(l.ty, mix(h, i as u64 + 1)))
            .collect(),
    }
}

/// The hash a generated function `n` computes over its arguments.
pub fn args_hash(n: usize, args: &[Vec<Val>]) -> u64 {
    let mut h = HASH_SEED ^ n as u64;
    for a in args {
        for v in a {
            h = mix_val(h, v);
        }
    }
    h
}

/// The hash `conf_call_<n>` returns over the result it got from the callback.
pub fn result_hash(n: usize, vals: &[Val]) -> u64 {
    let mut h = RESULT_SEED ^ n as u64;
    for v in vals {
        h = mix_val(h, v);
    }
    h
}

/// Reads a scalar of type `s` from C memory (the bytes of an argument or result).
pub fn read_val(bytes: &[u8], off: usize, s: Scalar) -> Val {
    let mut b = [0u8; 8];
    b[..s.size()].copy_from_slice(&bytes[off..off + s.size()]);
    let raw = u64::from_le_bytes(b);
    match s {
        Scalar::F32 => Val::F(f32::from_bits(raw as u32) as f64),
        Scalar::F64 => Val::F(f64::from_bits(raw)),
        Scalar::Bool => Val::Int(u64::from(raw as u8 != 0)),
        Scalar::Str => unreachable!("strings are read by the caller"),
        _ => Val::Int(narrow(s, raw)),
    }
}

/// Writes a scalar (not a string) into C memory.
pub fn write_val(bytes: &mut [u8], off: usize, s: Scalar, v: &Val) {
    let raw: u64 = match (s, v) {
        (Scalar::F32, Val::F(x)) => u64::from((*x as f32).to_bits()),
        (Scalar::F64, Val::F(x)) => x.to_bits(),
        (_, Val::Int(x)) => *x,
        _ => panic!("cannot write {v:?} as {s:?}"),
    };
    bytes[off..off + s.size()].copy_from_slice(&raw.to_le_bytes()[..s.size()]);
}

/// A signature: result and parameters.
#[derive(Clone, Debug)]
pub struct Sig {
    pub ret: Ty,
    pub params: Vec<Ty>,
}

/// Which types a random signature may use.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    pub aggregates: bool,
    /// Packed aggregates (libffi cannot describe them).
    pub packed: bool,
    /// `string` parameters.
    pub strings: bool,
    pub max_params: u64,
}

fn random_scalar(rng: &mut Rng, mix: Mix, param: bool) -> Scalar {
    loop {
        let s = SCALARS[rng.below(SCALARS.len() as u64) as usize];
        if s == Scalar::Str && (!param || !mix.strings) {
            continue;
        }
        return s;
    }
}

fn random_ty(rng: &mut Rng, cat: &[Agg], mix: Mix, param: bool) -> Ty {
    if mix.aggregates && rng.chance(40) {
        loop {
            let i = rng.below(cat.len() as u64) as usize;
            if cat[i].packed && !mix.packed {
                continue;
            }
            return Ty::Agg(i);
        }
    }
    Ty::S(random_scalar(rng, mix, param))
}

pub fn random_sig(rng: &mut Rng, cat: &[Agg], mix: Mix) -> Sig {
    let ret = if rng.chance(10) {
        Ty::Void
    } else {
        random_ty(rng, cat, mix, false)
    };
    let n = match rng.below(10) {
        0 => mix.max_params,
        1..=3 => rng.below(mix.max_params + 1),
        _ => rng.below(7.min(mix.max_params + 1)),
    };
    let params = (0..n).map(|_| random_ty(rng, cat, mix, true)).collect();
    Sig { ret, params }
}

// ---------------------------------------------------------------------------------------------
// Spelling values and types in C and Lua.

/// A float literal both C and Lua read back exactly.
pub fn float_lit(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

pub fn c_scalar_lit(s: Scalar, v: &Val) -> String {
    match (s, v) {
        (Scalar::Bool, Val::Int(x)) => if *x != 0 { "true" } else { "false" }.into(),
        (Scalar::F32, Val::F(x)) => format!("(float){}", float_lit(*x)),
        (_, Val::F(x)) => float_lit(*x),
        (Scalar::Pointer, Val::Int(x)) => format!("(void*)0x{x:x}ULL"),
        (_, Val::Int(x)) => format!("({})0x{x:x}ULL", s.c()),
        (_, Val::Str(t)) => format!("\"{t}\""),
    }
}

pub fn lua_scalar_lit(s: Scalar, v: &Val) -> String {
    match (s, v) {
        (Scalar::Bool, Val::Int(x)) => if *x != 0 { "true" } else { "false" }.into(),
        (Scalar::Pointer, Val::Int(x)) => format!("ffi.ptr(0x{x:x})"),
        (_, Val::F(x)) => float_lit(*x),
        (_, Val::Int(x)) => format!("0x{x:x}"),
        (_, Val::Str(t)) => format!("\"{t}\""),
    }
}

/// How a leaf reads back in Lua when flattened (pointers as their address).
pub fn lua_leaf_lit(s: Scalar, v: &Val) -> String {
    match (s, v) {
        (Scalar::Pointer, Val::Int(x)) => format!("0x{x:x}"),
        _ => lua_scalar_lit(s, v),
    }
}

pub fn c_type(cat: &[Agg], t: Ty) -> String {
    match t {
        Ty::Void => "void".into(),
        Ty::S(s) => s.c().into(),
        Ty::Agg(i) => format!("{} {}", c_kw(&cat[i]), cat[i].name),
    }
}

/// The C keyword of an aggregate: `struct` or `union`.
pub fn c_kw(agg: &Agg) -> &'static str {
    if agg.union {
        "union"
    } else {
        "struct"
    }
}

/// C declarations of the catalog.
pub fn c_declarations(cat: &[Agg]) -> String {
    let mut out = String::new();
    for agg in cat {
        let attr = if agg.packed {
            " __attribute__((packed))"
        } else {
            ""
        };
        out.push_str(&format!("{}{attr} {} {{", c_kw(agg), agg.name));
        for fld in &agg.fields {
            let t = match fld.ty {
                FieldTy::S(s) => s.c().to_string(),
                FieldTy::Agg(j) => format!("{} {}", c_kw(&cat[j]), cat[j].name),
            };
            match fld.count {
                Some(n) => out.push_str(&format!(" {t} {}[{n}];", fld.name)),
                None => out.push_str(&format!(" {t} {};", fld.name)),
            }
        }
        out.push_str(" };\n");
    }
    out
}

/// A C initializer (`{ .a = 1, .g = { ... } }`) for an aggregate from its leaf values.
pub fn c_init(cat: &[Agg], i: usize, vals: &mut std::slice::Iter<'_, Val>) -> String {
    let agg = &cat[i];
    let take = if agg.union { 1 } else { agg.fields.len() };
    let mut parts = Vec::new();
    for fld in agg.fields.iter().take(take) {
        let v = match (fld.ty, fld.count) {
            (FieldTy::S(s), None) => c_scalar_lit(s, vals.next().unwrap()),
            (FieldTy::S(s), Some(n)) => {
                let items: Vec<String> = (0..n)
                    .map(|_| c_scalar_lit(s, vals.next().unwrap()))
                    .collect();
                format!("{{ {} }}", items.join(", "))
            }
            (FieldTy::Agg(j), _) => c_init(cat, j, vals),
        };
        parts.push(format!(".{} = {v}", fld.name));
    }
    format!("{{ {} }}", parts.join(", "))
}

/// A Lua table constructor for an aggregate (`{a = 1, g = {1, 2, 3}, p = {...}}`).
pub fn lua_table(cat: &[Agg], i: usize, vals: &mut std::slice::Iter<'_, Val>) -> String {
    let agg = &cat[i];
    let take = if agg.union { 1 } else { agg.fields.len() };
    let mut parts = Vec::new();
    for fld in agg.fields.iter().take(take) {
        let v = match (fld.ty, fld.count) {
            (FieldTy::S(s), None) => lua_scalar_lit(s, vals.next().unwrap()),
            (FieldTy::S(s), Some(n)) => {
                let items: Vec<String> = (0..n)
                    .map(|_| lua_scalar_lit(s, vals.next().unwrap()))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            (FieldTy::Agg(j), _) => lua_table(cat, j, vals),
        };
        parts.push(format!("{} = {v}", fld.name));
    }
    format!("{{{}}}", parts.join(", "))
}

/// A Lua value of type `t` from its leaves.
pub fn lua_value(cat: &[Agg], t: Ty, vals: &[Val]) -> String {
    match t {
        Ty::Void => "nil".into(),
        Ty::S(s) => lua_scalar_lit(s, &vals[0]),
        Ty::Agg(i) => lua_table(cat, i, &mut vals.iter()),
    }
}

/// The Lua spelling of a type in a signature (`S[i]` names a definition).
pub fn lua_type(t: Ty) -> String {
    match t {
        Ty::Void => "\"void\"".into(),
        Ty::S(s) => format!("\"{}\"", s.lua()),
        Ty::Agg(i) => format!("S[{i}]"),
    }
}

/// How the Lua helpers flatten a value of type `t` ("s" scalar, "p" pointer, or the index of
/// an aggregate spec).
pub fn lua_kind(t: Ty) -> String {
    match t {
        Ty::Agg(i) => i.to_string(),
        Ty::S(Scalar::Pointer) => "\"p\"".into(),
        _ => "\"s\"".into(),
    }
}

/// Lua definitions of the catalog: `S[i]` (ffi.struct / ffi.union / packed) and `SPEC[i]`,
/// the field list the flattening helper walks.
pub fn lua_definitions(cat: &[Agg]) -> String {
    let mut out = String::new();
    for (i, agg) in cat.iter().enumerate() {
        let fields: Vec<String> = agg
            .fields
            .iter()
            .map(|fld| {
                let t = match fld.ty {
                    FieldTy::S(s) => format!("\"{}\"", s.lua()),
                    FieldTy::Agg(j) => format!("S[{j}]"),
                };
                match fld.count {
                    Some(n) => format!("{{\"{}\", {t}, {n}}}", fld.name),
                    None => format!("{{\"{}\", {t}}}", fld.name),
                }
            })
            .collect();
        let ctor = if agg.union {
            format!("ffi.union({{{}}})", fields.join(", "))
        } else if agg.packed {
            format!("ffi.struct({{{}}}, {{packed = true}})", fields.join(", "))
        } else {
            format!("ffi.struct({{{}}})", fields.join(", "))
        };
        out.push_str(&format!("S[{i}] = {ctor}\n"));
        let take = if agg.union { 1 } else { agg.fields.len() };
        let spec: Vec<String> = agg
            .fields
            .iter()
            .take(take)
            .map(|fld| match (fld.ty, fld.count) {
                (FieldTy::S(_), None) => format!("{{\"{}\"}}", fld.name),
                (FieldTy::S(_), Some(n)) => format!("{{\"{}\", nil, {n}}}", fld.name),
                (FieldTy::Agg(j), _) => format!("{{\"{}\", {j}}}", fld.name),
            })
            .collect();
        out.push_str(&format!("SPEC[{i}] = {{{}}}\n", spec.join(", ")));
        let (size, _) = size_align(cat, i);
        out.push_str(&format!(
            "assert(S[{i}].size == {size}, \"size of {}: \" .. S[{i}].size .. \" (gcc: {size})\")\n",
            agg.name
        ));
    }
    out
}
