//! Callback code: C entry stubs and Lua-side invokers.
//!
//! A callback is reached through two pieces of generated code:
//!
//! ```text
//! ret entry(args...)                      one per (signature, slot); a C function pointer
//!     spill args into a u64 array          (integers extended to 64 bits, floats raw)
//!     dispatch(slot, args, &result)        the host: thread checks, queueing, protected call
//!     return result                        (narrowed to the C result type)
//!
//! void invoker(lua_State *L, const u64 *args)     one per signature
//!     push each argument as a Lua value    (lua_pushinteger, lua_pushnumber, ...)
//! ```
//!
//! The host pushes the Lua function, runs the invoker, calls the function in protected mode
//! and writes the converted result; errors never unwind through the C frames above the
//! entry. Splitting at the argument array lets a call from a foreign OS thread be queued and
//! replayed on the Lua thread with the same invoker.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature as IrSignature, StackSlotData,
    StackSlotKind, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::abi::{ParamLowering, ReturnLowering};
use crate::luaapi::LuaApi;
use crate::signature::{ArgKind, RetKind, Signature};
use crate::thunk::{stack_copy_size, target_signature};

/// Bytes per spilled argument word.
pub const WORD: i32 = 8;

/// Where each argument starts in the spill array (bytes): one word per scalar, whole words
/// for a struct's bytes.
pub fn spill_offsets(sig: &Signature) -> Vec<i32> {
    let mut offset = 0;
    sig.args
        .iter()
        .map(|a| {
            let here = offset;
            offset += match a {
                ArgKind::Record(shape) => stack_copy_size(shape.size) as i32,
                _ => WORD,
            };
            here
        })
        .collect()
}

/// The size of the spill array of `sig` in 64-bit words.
pub fn spill_words(sig: &Signature) -> usize {
    sig.args
        .iter()
        .map(|a| match a {
            ArgKind::Record(shape) => stack_copy_size(shape.size) as usize / 8,
            _ => 1,
        })
        .sum()
}

/// The size of the result buffer the host writes into.
pub fn result_size(sig: &Signature) -> u32 {
    match &sig.ret {
        RetKind::Record(shape) => stack_copy_size(shape.size),
        _ => 8,
    }
}

/// Copies `size` bytes from `src + src_offset` to `dst + dst_offset` with exact-size
/// accesses (never reading past the source).
fn copy_bytes(
    b: &mut FunctionBuilder,
    src: Value,
    src_offset: i32,
    dst: Value,
    dst_offset: i32,
    size: u32,
) {
    let flags = MemFlagsData::new();
    let mut done = 0u32;
    for (chunk, ty) in [
        (8u32, types::I64),
        (4, types::I32),
        (2, types::I16),
        (1, types::I8),
    ] {
        while size - done >= chunk {
            let v = b.ins().load(ty, flags, src, src_offset + done as i32);
            b.ins().store(flags, v, dst, dst_offset + done as i32);
            done += chunk;
        }
    }
}

/// Builds the C entry for `sig` that hands its arguments to `dispatch(slot, args, result)`.
pub(crate) fn build_entry(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    sig: &Signature,
    slot: usize,
    dispatch: usize,
    call_conv: CallConv,
    config: TargetFrontendConfig,
) {
    let ptr = config.pointer_type();
    let (ir, lowering) = target_signature(sig, call_conv, ptr);
    func.signature = ir;
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let mut params = b.block_params(entry).to_vec().into_iter();

    let sret = (lowering.ret == ReturnLowering::Hidden).then(|| params.next().unwrap());
    let words = (spill_words(sig).max(1) as u32) * WORD as u32;
    let args = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, words, 3));
    let result = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        result_size(sig),
        4,
    ));
    let zero = b.ins().iconst(types::I64, 0);
    b.ins().stack_store(ptr, zero, result, 0);
    let args_addr = b.ins().stack_addr(ptr, args, 0);
    let offsets = spill_offsets(sig);
    for ((kind, lowered), &offset) in sig.args.iter().zip(&lowering.params).zip(&offsets) {
        match lowered {
            ParamLowering::Parts(parts) => {
                for part in parts {
                    let v = params.next().unwrap();
                    b.ins()
                        .stack_store(ptr, v, args, offset + part.offset as i32);
                }
            }
            ParamLowering::StackCopy { .. } | ParamLowering::Reference => {
                let src = params.next().unwrap();
                let ArgKind::Record(shape) = kind else {
                    unreachable!("only aggregates are lowered to memory")
                };
                copy_bytes(&mut b, src, 0, args_addr, offset, shape.size);
            }
            ParamLowering::Scalar(_) => {
                let value = params.next().unwrap();
                let word = match kind {
                    ArgKind::Int(int) if int.bits < 64 && int.signed => {
                        b.ins().sextend(types::I64, value)
                    }
                    ArgKind::Int(int) if int.bits < 64 => b.ins().uextend(types::I64, value),
                    ArgKind::Bool => b.ins().uextend(types::I64, value),
                    _ => value,
                };
                b.ins().stack_store(ptr, word, args, offset);
            }
        }
    }

    let mut dispatch_sig = IrSignature::new(call_conv);
    dispatch_sig.params.extend([AbiParam::new(ptr); 3]);
    let dispatch_sig = b.import_signature(dispatch_sig);
    let dispatch = b.ins().iconst(ptr, dispatch as i64);
    let slot = b.ins().iconst(ptr, slot as i64);
    let result_addr = b.ins().stack_addr(ptr, result, 0);
    b.ins()
        .call_indirect(dispatch_sig, dispatch, &[slot, args_addr, result_addr]);

    let returned: Vec<Value> = match (&sig.ret, &lowering.ret) {
        (_, ReturnLowering::Void) => vec![],
        (RetKind::Record(shape), ReturnLowering::Hidden) => {
            copy_bytes(&mut b, result_addr, 0, sret.unwrap(), 0, shape.size);
            vec![]
        }
        (_, ReturnLowering::Hidden) => unreachable!("only aggregates return through memory"),
        (_, ReturnLowering::Parts(parts)) => parts
            .iter()
            .map(|p| b.ins().stack_load(ptr, p.ty, result, p.offset as i32))
            .collect(),
        (RetKind::Bool, _) => {
            let word = b.ins().stack_load(ptr, types::I64, result, 0);
            vec![b.ins().icmp_imm_s(IntCC::NotEqual, word, 0)]
        }
        (RetKind::Int(int), _) => {
            let word = b.ins().stack_load(ptr, types::I64, result, 0);
            vec![if int.bits < 64 {
                b.ins().ireduce(crate::thunk::int_type(int.bits), word)
            } else {
                word
            }]
        }
        (RetKind::F32, _) => vec![b.ins().stack_load(ptr, types::F32, result, 0)],
        (RetKind::F64, _) => vec![b.ins().stack_load(ptr, types::F64, result, 0)],
        (_, ReturnLowering::Scalar(_)) => vec![b.ins().stack_load(ptr, ptr, result, 0)],
    };
    b.ins().return_(&returned);
    b.finalize(config);
}

/// Builds `void invoker(lua_State *L, const u64 *args, void *slot)` for `sig`: pushes every
/// spilled argument onto `L`'s stack (structs through the host's `push_callback_record`).
pub(crate) fn build_invoker(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    sig: &Signature,
    api: &LuaApi,
    call_conv: CallConv,
    config: TargetFrontendConfig,
) {
    let ptr = config.pointer_type();
    func.signature = IrSignature::new(call_conv);
    func.signature.params.extend([AbiParam::new(ptr); 3]);
    let mut b = FunctionBuilder::new(func, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let (lua_state, args, slot) = (
        b.block_params(entry)[0],
        b.block_params(entry)[1],
        b.block_params(entry)[2],
    );

    let mut import = |params: &[types::Type]| {
        let mut s = IrSignature::new(call_conv);
        s.params.push(AbiParam::new(ptr));
        s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        b.import_signature(s)
    };
    let push_integer = import(&[types::I64]);
    let push_number = import(&[types::F64]);
    let push_int32 = import(&[types::I32]);
    let push_ptr = import(&[ptr]);
    let push_nothing = import(&[]);
    let push_record = import(&[ptr, ptr, types::I32]);

    let flags = MemFlagsData::trusted();
    let mut records = 0i64;
    for (kind, offset) in sig.args.iter().zip(spill_offsets(sig)) {
        let call = |b: &mut FunctionBuilder, sig, addr: usize, value: Option<_>| {
            let callee = b.ins().iconst(ptr, addr as i64);
            let mut call_args = vec![lua_state];
            call_args.extend(value);
            b.ins().call_indirect(sig, callee, &call_args);
        };
        match kind {
            ArgKind::Int(_) => {
                let v = b.ins().load(types::I64, flags, args, offset);
                call(&mut b, push_integer, api.pushinteger, Some(v));
            }
            ArgKind::F32 => {
                let v = b.ins().load(types::F32, flags, args, offset);
                let wide = b.ins().fpromote(types::F64, v);
                call(&mut b, push_number, api.pushnumber, Some(wide));
            }
            ArgKind::F64 => {
                let v = b.ins().load(types::F64, flags, args, offset);
                call(&mut b, push_number, api.pushnumber, Some(v));
            }
            ArgKind::Bool => {
                let v = b.ins().load(types::I64, flags, args, offset);
                let narrow = b.ins().ireduce(types::I32, v);
                call(&mut b, push_int32, api.pushboolean, Some(narrow));
            }
            ArgKind::Pointer | ArgKind::Ref(_) => {
                let v = b.ins().load(ptr, flags, args, offset);
                call(&mut b, push_ptr, api.push_pointer, Some(v));
            }
            ArgKind::Record(_) => {
                let src = b.ins().iadd_imm_s(args, offset as i64);
                let record = b.ins().iconst(types::I32, records);
                records += 1;
                let callee = b.ins().iconst(ptr, api.push_callback_record as i64);
                b.ins()
                    .call_indirect(push_record, callee, &[lua_state, src, slot, record]);
            }
            ArgKind::String => {
                let v = b.ins().load(ptr, flags, args, offset);
                let is_null = b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let (null, string, next) = (b.create_block(), b.create_block(), b.create_block());
                b.ins().brif(is_null, null, &[], string, &[]);
                b.seal_block(null);
                b.seal_block(string);
                b.switch_to_block(null);
                call(&mut b, push_nothing, api.pushnil, None);
                b.ins().jump(next, &[]);
                b.switch_to_block(string);
                // lua_pushstring returns a pointer; the result is unused.
                let mut s = IrSignature::new(call_conv);
                s.params.extend([AbiParam::new(ptr); 2]);
                s.returns.push(AbiParam::new(ptr));
                let push_string = b.import_signature(s);
                call(&mut b, push_string, api.pushstring, Some(v));
                b.ins().jump(next, &[]);
                b.seal_block(next);
                b.switch_to_block(next);
            }
        }
    }
    b.ins().return_(&[]);
    b.finalize(config);
}
