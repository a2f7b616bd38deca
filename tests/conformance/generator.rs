//! The conformance generator: from a seed, random signatures over every scalar and the
//! catalog's aggregates, written as C functions that hash their arguments (`conf_<n>`) and
//! as C callers of a callback with fixed arguments (`conf_call_<n>`), plus the Lua script
//! that calls each function through a thunk and installs a Lua callback for each caller,
//! with every expected value computed here.
//!
//! The hash (see `model.rs`) covers every scalar of every argument in order, every field of
//! every aggregate, every array element; floats by the bits of their value as a double.
//! `conf_<n>` stores it in `conf_last` and returns a value derived from it (an aggregate is
//! filled from it leaf by leaf). `conf_call_<n>` calls its callback with the generator's
//! argument values and returns the hash of the result it got back.

#![allow(dead_code)]

use crate::model::*;

/// One generated function.
pub struct Func {
    pub n: usize,
    pub sig: Sig,
    /// The leaves of each argument.
    pub args: Vec<Vec<Val>>,
    /// The hash `conf_<n>` computes over `args`.
    pub hash: u64,
    /// The leaves of the value `conf_<n>` returns.
    pub ret: Vec<Val>,
    /// What `conf_call_<n>` returns when its callback returns `ret`.
    pub cb_hash: u64,
}

impl Func {
    /// Function `n` of `sig`, with random arguments and the values they make.
    fn new(rng: &mut Rng, cat: &[Agg], n: usize, sig: Sig) -> Func {
        let args: Vec<Vec<Val>> = sig
            .params
            .iter()
            .map(|&t| random_vals(rng, cat, t))
            .collect();
        let hash = args_hash(n, &args);
        let ret = derive_result(cat, sig.ret, hash);
        let cb_hash = result_hash(n, &ret);
        Func {
            n,
            sig,
            args,
            hash,
            ret,
            cb_hash,
        }
    }
}

pub struct Suite {
    pub cat: Vec<Agg>,
    pub mix: Mix,
    pub funcs: Vec<Func>,
}

impl Suite {
    pub fn generate(seed: u64, count: usize, mix: Mix) -> Suite {
        let cat = catalog();
        let mut rng = Rng::new(seed);
        let mut funcs = Vec::with_capacity(count);
        for n in 0..count {
            let mut sig = random_sig(&mut rng, &cat, mix);
            // Make sure every aggregate appears as a parameter and as a result early on.
            if mix.aggregates && n < 2 * cat.len() {
                let i = n % cat.len();
                if cat[i].packed && !mix.packed {
                    // leave the random signature
                } else if n < cat.len() {
                    if sig.params.len() as u64 >= mix.max_params {
                        sig.params.remove(0);
                    }
                    sig.params.insert(0, Ty::Agg(i));
                } else {
                    sig.ret = Ty::Agg(i);
                }
            }
            funcs.push(Func::new(&mut rng, &cat, n, sig));
        }
        Suite { cat, mix, funcs }
    }

    /// A suite of the given signatures, with argument values drawn from `seed`.
    pub fn of_signatures(seed: u64, sigs: Vec<Sig>, mix: Mix) -> Suite {
        let cat = catalog();
        let mut rng = Rng::new(seed);
        let funcs = sigs
            .into_iter()
            .enumerate()
            .map(|(n, sig)| Func::new(&mut rng, &cat, n, sig))
            .collect();
        Suite { cat, mix, funcs }
    }

    /// The C library: every `conf_<n>` and `conf_call_<n>`.
    pub fn c_source(&self) -> String {
        let cat = &self.cat;
        let mut out = String::from(C_PRELUDE);
        out.push_str(&c_declarations(cat));
        for func in &self.funcs {
            let n = func.n;
            let ret = c_type(cat, func.sig.ret);
            let params: Vec<String> = func
                .sig
                .params
                .iter()
                .enumerate()
                .map(|(i, &t)| format!("{} a{i}", c_type(cat, t)))
                .collect();
            let params = if params.is_empty() {
                "void".to_string()
            } else {
                params.join(", ")
            };
            out.push_str(&format!("\n{ret} conf_{n}({params}) {{\n"));
            out.push_str(&format!("    uint64_t h = 0x{HASH_SEED:x}ULL ^ {n};\n"));
            for (i, &t) in func.sig.params.iter().enumerate() {
                for leaf in ty_leaves(cat, t) {
                    out.push_str(&format!(
                        "    h = {};\n",
                        c_mix(leaf.ty, &format!("a{i}{}", leaf.path))
                    ));
                }
            }
            out.push_str("    conf_last = h;\n");
            match func.sig.ret {
                Ty::Void => {}
                Ty::S(s) => out.push_str(&format!("    return {};\n", c_derive(s, "h"))),
                t @ Ty::Agg(_) => {
                    out.push_str(&format!("    {ret} r;\n    memset(&r, 0, sizeof r);\n"));
                    for (k, leaf) in ty_leaves(cat, t).iter().enumerate() {
                        out.push_str(&format!(
                            "    r{} = {};\n",
                            leaf.path,
                            c_derive(leaf.ty, &format!("mix(h, {})", k + 1))
                        ));
                    }
                    out.push_str("    return r;\n");
                }
            }
            out.push_str("}\n");

            // The caller of a callback of the same signature.
            let types: Vec<String> = func.sig.params.iter().map(|&t| c_type(cat, t)).collect();
            let types = if types.is_empty() {
                "void".to_string()
            } else {
                types.join(", ")
            };
            out.push_str(&format!("typedef {ret} (*conf_fp_{n})({types});\n"));
            out.push_str(&format!("uint64_t conf_call_{n}(conf_fp_{n} f) {{\n"));
            let consts: Vec<String> = func
                .sig
                .params
                .iter()
                .zip(&func.args)
                .map(|(&t, vals)| match t {
                    Ty::S(s) => c_scalar_lit(s, &vals[0]),
                    Ty::Agg(i) => {
                        format!("({}){}", c_type(cat, t), c_init(cat, i, &mut vals.iter()))
                    }
                    Ty::Void => unreachable!(),
                })
                .collect();
            let call = format!("f({})", consts.join(", "));
            if func.sig.ret == Ty::Void {
                out.push_str(&format!("    {call};\n"));
            } else {
                out.push_str(&format!("    {ret} r = {call};\n"));
            }
            out.push_str(&format!("    uint64_t h = 0x{RESULT_SEED:x}ULL ^ {n};\n"));
            for leaf in ty_leaves(cat, func.sig.ret) {
                out.push_str(&format!(
                    "    h = {};\n",
                    c_mix(leaf.ty, &format!("r{}", leaf.path))
                ));
            }
            out.push_str("    return h;\n}\n");
        }
        out
    }

    /// The Lua script. It expects the global `CONFLIB` (the compiled library's path) and
    /// leaves its counts in `CALLS_OK`, `CALLS_FAIL`, `CBS_OK`, `CBS_FAIL`, the messages in
    /// `ERRORS`, and what each call returned in `RESULTS[n]` (leaves) and `LAST[n]` (the
    /// argument hash C computed).
    pub fn lua_script(&self, callbacks: bool) -> String {
        let cat = &self.cat;
        let mut out = format!("{LUA_HELPERS}\n{LUA_PRELUDE}\n{LUA_CHECKS}\n");
        if self.mix.aggregates {
            out.push_str(&lua_definitions(cat));
        }
        for func in &self.funcs {
            let n = func.n;
            let ret = lua_type(func.sig.ret);
            let params: Vec<String> = func.sig.params.iter().map(|&t| lua_type(t)).collect();
            let params = format!("{{{}}}", params.join(", "));
            // Aggregate arguments alternate between tables and views.
            let args: Vec<String> = func
                .sig
                .params
                .iter()
                .zip(&func.args)
                .enumerate()
                .map(|(i, (&t, vals))| match t {
                    Ty::Agg(k) if (n + i) % 2 == 1 => {
                        format!("V({k}, {})", lua_value(cat, t, vals))
                    }
                    _ => lua_value(cat, t, vals),
                })
                .collect();
            let rkind = match func.sig.ret {
                Ty::Void => "nil".to_string(),
                t => lua_kind(t),
            };
            let exp: Vec<String> = ty_leaves(cat, func.sig.ret)
                .iter()
                .zip(&func.ret)
                .map(|(l, v)| lua_leaf_lit(l.ty, v))
                .collect();
            out.push_str(&format!(
                "call({n}, {ret}, {params}, {rkind}, function(f) return f({}) end, {{{}}}, 0x{:x})\n",
                args.join(", "),
                exp.join(", "),
                func.hash
            ));
            if !callbacks {
                continue;
            }
            let kinds: Vec<String> = func.sig.params.iter().map(|&t| lua_kind(t)).collect();
            let exp_args: Vec<String> = func
                .sig
                .params
                .iter()
                .zip(&func.args)
                .map(|(&t, vals)| {
                    let leaves: Vec<String> = ty_leaves(cat, t)
                        .iter()
                        .zip(vals)
                        .map(|(l, v)| lua_leaf_lit(l.ty, v))
                        .collect();
                    format!("{{{}}}", leaves.join(", "))
                })
                .collect();
            let result = match func.sig.ret {
                Ty::Void => String::new(),
                t @ Ty::Agg(k) if n % 2 == 1 => format!("V({k}, {})", lua_value(cat, t, &func.ret)),
                t => lua_value(cat, t, &func.ret),
            };
            out.push_str(&format!(
                "callback({n}, {ret}, {params}, {{{}}}, {{{}}}, function() return {result} end, 0x{:x})\n",
                kinds.join(", "),
                exp_args.join(", "),
                func.cb_hash
            ));
        }
        out
    }
}

/// C: mixes the scalar expression `e` of type `s` into `h`.
fn c_mix(s: Scalar, e: &str) -> String {
    match s {
        Scalar::Bool => format!("mix(h, ({e}) ? 1 : 0)"),
        Scalar::F32 | Scalar::F64 => format!("mix(h, hd((double)({e})))"),
        Scalar::Pointer => format!("mix(h, (uint64_t)(uintptr_t)({e}))"),
        Scalar::Str => format!("hs(h, {e})"),
        s if s.signed() => format!("mix(h, (uint64_t)(int64_t)({e}))"),
        _ => format!("mix(h, (uint64_t)({e}))"),
    }
}

/// C: the value of type `s` derived from the hash expression `h`.
fn c_derive(s: Scalar, h: &str) -> String {
    match s {
        Scalar::F32 => format!("(float)((int64_t)(({h}) >> 44) - 524288)"),
        Scalar::F64 => format!("(double)((int64_t)(({h}) >> 11) - ((int64_t)1 << 52)) * 0.25"),
        Scalar::Bool => format!("(bool)(({h}) & 1)"),
        Scalar::Pointer => format!("(void*)(uintptr_t)({h})"),
        Scalar::Str => unreachable!("no string results"),
        s => format!("({})({h})", s.c()),
    }
}

const C_PRELUDE: &str = r#"/* Generated by tests/conformance/generator.rs: do not edit. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

static uint64_t mix(uint64_t h, uint64_t v) {
    h = (h ^ v) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}
static uint64_t hd(double x) {
    uint64_t u;
    memcpy(&u, &x, 8);
    return u;
}
static uint64_t hs(uint64_t h, const char *s) {
    size_t n = 0;
    if (s)
        for (; s[n]; n++) h = mix(h, (unsigned char)s[n]);
    return mix(h, n);
}
uint64_t conf_last;
uint64_t conf_last_hash(void) { return conf_last; }
"#;

const LUA_PRELUDE: &str = r##"-- Generated by tests/conformance/generator.rs: do not edit.
local ffi = require("moonthunk")
local lib = ffi.open(CONFLIB)
local last = lib:bind("conf_last_hash", "u64", {})
RESULTS, LAST, ERRORS, FREED = {}, {}, {}, {}
CALLS_OK, CALLS_FAIL, CBS_OK, CBS_FAIL = 0, 0, 0, 0

"##;

/// Lua helpers shared with the libffi oracle: `S`/`SPEC` (definitions), `V` (a view from a
/// table), `FLAT` (the leaves of a value), `DIFF` (compares leaf lists).
pub const LUA_HELPERS: &str = r##"local ffi = require("moonthunk")
local arena = ffi.arena()
S, SPEC = {}, {}

local function show(v)
    if math.type(v) == "integer" then return string.format("0x%x (%d)", v, v) end
    if math.type(v) == "float" then return string.format("%.17g", v) end
    if type(v) == "string" then return string.format("%q", v) end
    return tostring(v)
end

-- Fills a view from a table of field values (arrays 1-based, nested tables for records).
local function fill(view, spec, tbl)
    for _, f in ipairs(spec) do
        local name, sub, count = f[1], f[2], f[3]
        local v = tbl[name]
        if count then
            local arr = view[name]
            for i = 1, count do arr[i - 1] = v[i] end
        elseif sub then
            fill(view[name], SPEC[sub], v)
        else
            view[name] = v
        end
    end
end

-- A view of definition k over fresh arena memory holding the table's values.
function V(k, tbl)
    local v = ffi.view(arena:allocType(S[k]), S[k])
    fill(v, SPEC[k], tbl)
    return v
end

local function flatten_view(v, spec, out)
    for _, f in ipairs(spec) do
        local name, sub, count = f[1], f[2], f[3]
        local x = v[name]
        if count then
            for i = 0, count - 1 do out[#out + 1] = x[i] end
        elseif sub then
            flatten_view(x, SPEC[sub], out)
        else
            out[#out + 1] = x
        end
    end
end

-- Appends the leaves of a value: "s" a scalar, "p" a pointer (its address), k a view of S[k].
function FLAT(v, kind, out)
    if kind == "p" then
        out[#out + 1] = v ~= nil and v.addr or "nil pointer"
    elseif kind == "s" then
        out[#out + 1] = v
    elseif type(v) ~= "userdata" then
        out[#out + 1] = "not a view: " .. type(v)
    else
        flatten_view(v, SPEC[kind], out)
    end
end
local flat = FLAT

function DIFF(got, exp)
    if #got ~= #exp then return string.format("%d leaves, expected %d", #got, #exp) end
    for i = 1, #exp do
        local a, b = got[i], exp[i]
        local same = (a == b and math.type(a) == math.type(b)) or (a ~= a and b ~= b)
        if not same then
            return string.format("leaf %d: got %s, expected %s", i, show(a), show(b))
        end
    end
end

"##;

const LUA_CHECKS: &str = r##"local diff = DIFF
local flat = FLAT

function call(n, ret, params, rkind, invoke, exp, hash)
    local ok, err = pcall(function()
        local f = lib:bind("conf_" .. n, ret, params)
        local got = {}
        if rkind then flat(invoke(f), rkind, got) else invoke(f) end
        RESULTS[n], LAST[n] = got, last()
        if LAST[n] ~= hash then
            error(string.format("C hashed its arguments to 0x%x, expected 0x%x (it got other values)",
                LAST[n], hash), 0)
        end
        local d = diff(got, exp)
        if d then error("result " .. d, 0) end
    end)
    if ok then
        CALLS_OK = CALLS_OK + 1
    else
        CALLS_FAIL = CALLS_FAIL + 1
        ERRORS[#ERRORS + 1] = string.format("call conf_%d: %s", n, tostring(err))
    end
end

function callback(n, ret, params, kinds, exp_args, result, hash)
    local ok, err = pcall(function()
        local problem
        local cb = ffi.callback(function(...)
            local count = select("#", ...)
            if count ~= #kinds then
                problem = problem or string.format("%d arguments, expected %d", count, #kinds)
            end
            for i = 1, #kinds do
                local one = {}
                flat((select(i, ...)), kinds[i], one)
                local d = diff(one, exp_args[i])
                if d then problem = problem or string.format("argument %d: %s", i, d) end
            end
            return result()
        end, ret, params)
        local h = lib:call("conf_call_" .. n, "u64", {"pointer"}, cb)
        cb:free()
        -- Keep the freed object: collecting it would release its slot a second time (an
        -- engine bug, see tests/conformance.rs).
        FREED[#FREED + 1] = cb
        if problem then error(problem, 0) end
        if h ~= hash then
            error(string.format("C hashed the callback's result to 0x%x, expected 0x%x", h, hash), 0)
        end
    end)
    if ok then
        CBS_OK = CBS_OK + 1
    else
        CBS_FAIL = CBS_FAIL + 1
        ERRORS[#ERRORS + 1] = string.format("callback conf_call_%d: %s", n, tostring(err))
    end
end

"##;
