//! libffi as the independent oracle: calls C functions of any generated signature through
//! libffi, makes libffi closures that record what they receive, and drives the round trips
//! thunk -> libffi closure and libffi call -> moonthunk callback. Shared by
//! `tests/libffi_diff.rs` and the fuzz target.
//!
//! libffi cannot describe packed structs, so packed aggregates stay out of its signatures;
//! the catalog's one union ({int, float}) is described as the struct of its first member,
//! which has the union's size, alignment and classification.

#![allow(dead_code)]

use std::cell::RefCell;
use std::ffi::{c_void, CStr, CString};

use libffi::middle::{Arg, Cif, Closure, CodePtr, Ret, Type};
use mlua::{Lua, Value};

use crate::model::*;

pub fn scalar_type(s: Scalar) -> Type {
    match s {
        Scalar::Bool | Scalar::U8 => Type::u8(),
        Scalar::I8 => Type::i8(),
        Scalar::I16 => Type::i16(),
        Scalar::U16 => Type::u16(),
        Scalar::I32 => Type::i32(),
        Scalar::U32 => Type::u32(),
        Scalar::I64 | Scalar::Isize => Type::i64(),
        Scalar::U64 | Scalar::Usize => Type::u64(),
        Scalar::F32 => Type::f32(),
        Scalar::F64 => Type::f64(),
        Scalar::Pointer | Scalar::Str => Type::pointer(),
    }
}

pub fn agg_type(cat: &[Agg], i: usize) -> Type {
    let agg = &cat[i];
    assert!(!agg.packed, "libffi cannot describe packed structs");
    let take = if agg.union { 1 } else { agg.fields.len() };
    let mut fields = Vec::new();
    for fld in agg.fields.iter().take(take) {
        for _ in 0..fld.count.unwrap_or(1) {
            fields.push(match fld.ty {
                FieldTy::S(s) => scalar_type(s),
                FieldTy::Agg(j) => agg_type(cat, j),
            });
        }
    }
    Type::structure(fields)
}

pub fn ffi_type(cat: &[Agg], t: Ty) -> Type {
    match t {
        Ty::Void => Type::void(),
        Ty::S(s) => scalar_type(s),
        Ty::Agg(i) => agg_type(cat, i),
    }
}

pub fn cif(cat: &[Agg], sig: &Sig) -> Cif {
    Cif::new(
        sig.params.iter().map(|&t| ffi_type(cat, t)),
        ffi_type(cat, sig.ret),
    )
}

pub fn type_size(cat: &[Agg], t: Ty) -> usize {
    match t {
        Ty::Void => 0,
        Ty::S(s) => s.size(),
        Ty::Agg(i) => size_align(cat, i).0,
    }
}

/// The memory of each argument, as libffi wants it (one buffer per argument).
pub struct ArgBuffers {
    bufs: Vec<Vec<u64>>,
    _strings: Vec<CString>,
}

impl ArgBuffers {
    pub fn new(cat: &[Agg], sig: &Sig, args: &[Vec<Val>]) -> ArgBuffers {
        let mut strings = Vec::new();
        let mut bufs = Vec::new();
        for (&t, vals) in sig.params.iter().zip(args) {
            let size = type_size(cat, t).max(8);
            let mut bytes = vec![0u8; size.div_ceil(8) * 8];
            for (leaf, v) in ty_leaves(cat, t).iter().zip(vals) {
                if let Val::Str(s) = v {
                    let c = CString::new(s.as_str()).unwrap();
                    let addr = c.as_ptr() as u64;
                    strings.push(c);
                    write_val(&mut bytes, leaf.offset, Scalar::U64, &Val::Int(addr));
                } else {
                    write_val(&mut bytes, leaf.offset, leaf.ty, v);
                }
            }
            bufs.push(
                bytes
                    .chunks(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            );
        }
        ArgBuffers {
            bufs,
            _strings: strings,
        }
    }

    pub fn args(&self) -> Vec<Arg<'_>> {
        self.bufs.iter().map(|b| Arg::new(&b[0])).collect()
    }
}

fn bytes_of(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The leaves of a value of type `t` stored at `bytes`.
pub fn decode(cat: &[Agg], t: Ty, bytes: &[u8]) -> Vec<Val> {
    ty_leaves(cat, t)
        .iter()
        .map(|l| {
            if l.ty == Scalar::Str {
                let mut b = [0u8; 8];
                b.copy_from_slice(&bytes[l.offset..l.offset + 8]);
                let p = u64::from_le_bytes(b) as *const std::ffi::c_char;
                if p.is_null() {
                    return Val::Str("<NULL>".into());
                }
                // SAFETY: a string argument points to a NUL-terminated string for the call.
                Val::Str(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            } else {
                read_val(bytes, l.offset, l.ty)
            }
        })
        .collect()
}

/// Calls `fun` through libffi; returns the leaves of its result.
///
/// # Safety
/// `fun` must be a C function of signature `sig`.
pub unsafe fn call(cat: &[Agg], sig: &Sig, fun: *const c_void, args: &[Vec<Val>]) -> Vec<Val> {
    let cif = cif(cat, sig);
    let buffers = ArgBuffers::new(cat, sig, args);
    let mut ret = [0u64; 16];
    // SAFETY: the caller guarantees that `fun` has signature `sig`, which `cif` describes;
    // `buffers` holds one argument of each parameter's type, and `ret` (128 bytes, 8-aligned)
    // holds any result of the catalogue, whose largest aggregate is 40 bytes.
    unsafe {
        cif.call_return_into(
            CodePtr::from_ptr(fun),
            &buffers.args(),
            Ret::new(&mut ret[0]),
        );
    }
    decode(cat, sig.ret, &bytes_of(&ret))
}

/// What a libffi closure target knows and saw.
pub struct Target {
    pub cat: Vec<Agg>,
    pub sig: Sig,
    pub n: usize,
    pub seen: RefCell<Option<Vec<Vec<Val>>>>,
}

unsafe extern "C" fn handler(
    _cif: &libffi::low::ffi_cif,
    result: &mut u64,
    args: *const *const c_void,
    t: &Target,
) {
    let mut got = Vec::new();
    for (i, &p) in t.sig.params.iter().enumerate() {
        // SAFETY: libffi passes one pointer per argument to memory of the argument's type.
        let bytes = unsafe {
            let ptr = *args.add(i) as *const u8;
            std::slice::from_raw_parts(ptr, type_size(&t.cat, p).max(1))
        };
        got.push(decode(&t.cat, p, bytes));
    }
    let h = args_hash(t.n, &got);
    let ret = derive_result(&t.cat, t.sig.ret, h);
    let size = type_size(&t.cat, t.sig.ret);
    let out = result as *mut u64 as *mut u8;
    match t.sig.ret {
        Ty::Void => {}
        // Integral results narrower than a register are written as a whole ffi_arg.
        Ty::S(s) if !s.is_float() => {
            if let Val::Int(x) = ret[0] {
                // SAFETY: libffi's result buffer holds at least an ffi_arg.
                unsafe { (out as *mut u64).write_unaligned(x) };
            }
        }
        _ => {
            let mut bytes = vec![0u8; size];
            for (leaf, v) in ty_leaves(&t.cat, t.sig.ret).iter().zip(&ret) {
                write_val(&mut bytes, leaf.offset, leaf.ty, v);
            }
            // SAFETY: the result buffer holds a value of the result type.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, size) };
        }
    }
    *t.seen.borrow_mut() = Some(got);
}

/// Converts the leaves Lua returned (a sequence) to values.
pub fn lua_leaves(v: Value) -> Result<Vec<Val>, String> {
    let Value::Table(t) = v else {
        return Err(format!("expected a table of leaves, got {v:?}"));
    };
    let mut out = Vec::new();
    for v in t.sequence_values::<Value>() {
        out.push(match v.map_err(|e| e.to_string())? {
            Value::Integer(i) => Val::Int(i as u64),
            Value::Number(x) => Val::F(x),
            Value::Boolean(b) => Val::Int(u64::from(b)),
            Value::String(s) => Val::Str(s.to_string_lossy()),
            other => return Err(format!("unexpected leaf {other:?}")),
        });
    }
    Ok(out)
}

/// Leaf lists compare exactly (floats by value, NaN equal to NaN); Lua integers compare by
/// their 64 bits.
pub fn same(a: &[Val], b: &[Val]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Val::F(p), Val::F(q)) => p == q || (p.is_nan() && q.is_nan()),
            _ => x == y,
        })
}

/// Installs the Lua helpers and the catalog's definitions in `lua`.
pub fn prepare(lua: &Lua, cat: &[Agg], aggregates: bool) -> mlua::Result<()> {
    lua.load(crate::generator::LUA_HELPERS).exec()?;
    if aggregates {
        let defs = format!(
            "local ffi = require(\"moonthunk\")\n{}",
            lua_definitions(cat)
        );
        lua.load(defs).exec()?;
    }
    Ok(())
}

fn lua_signature(sig: &Sig) -> (String, String) {
    let params: Vec<String> = sig.params.iter().map(|&t| lua_type(t)).collect();
    (lua_type(sig.ret), format!("{{{}}}", params.join(", ")))
}

/// Both directions for one signature and set of arguments: a thunk (`ffi.fn`) calls a
/// libffi closure, and libffi calls a moonthunk callback. Returns a description of every
/// discrepancy.
pub fn roundtrip(lua: &Lua, cat: &[Agg], n: usize, sig: &Sig, args: &[Vec<Val>]) -> Vec<String> {
    let mut problems = Vec::new();
    let (ret, params) = lua_signature(sig);
    let expected_hash = args_hash(n, args);
    let expected_ret = derive_result(cat, sig.ret, expected_hash);
    let lua_args: Vec<String> = sig
        .params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (&t, vals))| match t {
            Ty::Agg(k) if (n + i) % 2 == 1 => format!("V({k}, {})", lua_value(cat, t, vals)),
            _ => lua_value(cat, t, vals),
        })
        .collect();

    // 1. thunk -> libffi closure.
    let target = Target {
        cat: cat.to_vec(),
        sig: sig.clone(),
        n,
        seen: RefCell::new(None),
    };
    let closure = Closure::new(cif(cat, sig), handler, &target);
    let addr = *closure.code_ptr() as usize;
    let rkind = match sig.ret {
        Ty::Void => "nil".to_string(),
        t => lua_kind(t),
    };
    let chunk = format!(
        "local ffi = require('moonthunk')\n\
         local f = ffi.fn(ffi.ptr(0x{addr:x}), {ret}, {params})\n\
         local r = f({})\n\
         local out = {{}}\n\
         if {rkind} then FLAT(r, {rkind}, out) end\n\
         return out",
        lua_args.join(", ")
    );
    match lua.load(&chunk).eval::<Value>() {
        Err(e) => problems.push(format!("thunk call failed: {e}\n{chunk}")),
        Ok(v) => {
            match target.seen.borrow().as_ref() {
                None => problems.push("the closure was not called".into()),
                Some(seen) => {
                    for (i, (got, want)) in seen.iter().zip(args).enumerate() {
                        if !same(got, want) {
                            problems.push(format!(
                                "thunk passed argument {} ({:?}) as {got:?}, expected {want:?}",
                                i + 1,
                                sig.params[i]
                            ));
                        }
                    }
                }
            }
            match lua_leaves(v) {
                Err(e) => problems.push(format!("thunk result: {e}")),
                Ok(got) if !same(&got, &expected_ret) => problems.push(format!(
                    "thunk returned {got:?} for a {:?} result, libffi closure returned {expected_ret:?}",
                    sig.ret
                )),
                Ok(_) => {}
            }
        }
    }
    drop(closure);

    // 2. libffi -> moonthunk callback.
    let kinds: Vec<String> = sig.params.iter().map(|&t| lua_kind(t)).collect();
    let result = match sig.ret {
        Ty::Void => String::new(),
        t @ Ty::Agg(k) if n % 2 == 1 => format!("V({k}, {})", lua_value(cat, t, &expected_ret)),
        t => lua_value(cat, t, &expected_ret),
    };
    let chunk = format!(
        "local ffi = require('moonthunk')\n\
         local kinds = {{{}}}\n\
         CBARGS = nil\n\
         ORACLE_CB = ffi.callback(function(...)\n\
             local a = {{}}\n\
             for i = 1, #kinds do local one = {{}}; FLAT((select(i, ...)), kinds[i], one); a[i] = one end\n\
             CBARGS = a\n\
             return {result}\n\
         end, {ret}, {params})\n\
         return ORACLE_CB.ptr.addr",
        kinds.join(", ")
    );
    match lua.load(&chunk).eval::<i64>() {
        Err(e) => problems.push(format!("callback creation failed: {e}\n{chunk}")),
        Ok(addr) => {
            // SAFETY: the callback has the signature `sig`.
            let got = unsafe { call(cat, sig, addr as usize as *const c_void, args) };
            if !same(&got, &expected_ret) {
                problems.push(format!(
                    "libffi got {got:?} back from the callback, which returned {expected_ret:?}"
                ));
            }
            let seen: Value = lua.globals().get("CBARGS").unwrap_or(Value::Nil);
            match seen {
                Value::Table(t) => {
                    for (i, want) in args.iter().enumerate() {
                        match t.get::<Value>(i + 1).map_err(|e| e.to_string()).and_then(lua_leaves) {
                            Ok(got) if same(&got, want) => {}
                            Ok(got) => problems.push(format!(
                                "callback received argument {} ({:?}) as {got:?}, libffi passed {want:?}",
                                i + 1,
                                sig.params[i]
                            )),
                            Err(e) => problems.push(format!("callback argument {}: {e}", i + 1)),
                        }
                    }
                }
                _ => problems.push("the Lua callback did not run".into()),
            }
            let _ = lua
                // Freed objects stay referenced: collecting a freed callback object releases its
                // slot again, killing the callback that reused it (an engine bug, see
                // tests/conformance.rs).
                .load("ORACLE_CB:free(); FREED = FREED or {}; FREED[#FREED + 1] = ORACLE_CB; ORACLE_CB = nil; CBARGS = nil")
                .exec();
        }
    }
    problems
}
