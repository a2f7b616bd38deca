//! The call thunk: Cranelift IR for one C signature.
//!
//! ```text
//! int thunk(lua_State *L)
//!     if lua_gettop(L) > nargs: arity_error(L, nargs)
//!     t = lua_touserdata(L, upvalue 1)            (a CallTarget)
//!     per argument i: one Lua C API read + an inline type check, branching to a cold
//!                     arg_error(L, i, kind) on failure
//!     saved = t->context->current; t->context->current = L
//!     result = t->target(args...)                 (host C calling convention)
//!     t->context->current = saved; t->context->errno = errno
//!     if t->context->pending_error: raise_pending(L)    (a callback failed)
//!     push result; return 0 or 1
//! ```
//! Nothing is allocated and no Rust frame sits between Lua and the target.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, ArgumentPurpose, Block, InstBuilder, MemFlagsData, SigRef,
    Signature as IrSignature, StackSlotData, StackSlotKind, TrapCode, Type, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::abi::{self, AbiValue, FunctionLowering, ParamLowering, ReturnLowering};
use crate::context::{
    CONTEXT_OFFSET, CURRENT_OFFSET, ERRNO_LOCATION_OFFSET, ERRNO_OFFSET, PENDING_OFFSET,
    TARGET_OFFSET,
};
use crate::luaapi::LuaApi;
use crate::signature::{ArgKind, IntKind, RetKind, Signature};

const LUA_TBOOLEAN: i64 = 1;
const LUA_TLIGHTUSERDATA: i64 = 2;

/// The C-level Cranelift type of an integer kind, with the ABI extension it needs.
fn int_param(kind: IntKind) -> AbiParam {
    let param = AbiParam::new(int_type(kind.bits));
    match (kind.bits, kind.signed) {
        (64, _) => param,
        (_, true) => param.sext(),
        (_, false) => param.uext(),
    }
}

pub(crate) fn int_type(bits: u8) -> Type {
    match bits {
        8 => types::I8,
        16 => types::I16,
        32 => types::I32,
        _ => types::I64,
    }
}

/// How a scalar parameter or result of kind `arg` appears to the ABI classifier.
fn scalar_value(kind: &ArgKind, ptr: Type) -> AbiValue {
    match kind {
        ArgKind::Bool => AbiValue::Scalar(types::I8),
        ArgKind::Int(int) => AbiValue::Scalar(int_type(int.bits)),
        ArgKind::F32 => AbiValue::Scalar(types::F32),
        ArgKind::F64 => AbiValue::Scalar(types::F64),
        ArgKind::String | ArgKind::Pointer | ArgKind::Ref(_) => AbiValue::Scalar(ptr),
        ArgKind::Record(shape) => AbiValue::Aggregate(shape.clone()),
    }
}

fn scalar_param(kind: &ArgKind, ptr: Type) -> AbiParam {
    match kind {
        ArgKind::Bool => AbiParam::new(types::I8).uext(),
        ArgKind::Int(int) => int_param(*int),
        ArgKind::F32 => AbiParam::new(types::F32),
        ArgKind::F64 => AbiParam::new(types::F64),
        _ => AbiParam::new(ptr),
    }
}

fn ret_value(ret: &RetKind, ptr: Type) -> Option<AbiValue> {
    Some(match ret {
        RetKind::Void => return None,
        RetKind::Bool => AbiValue::Scalar(types::I8),
        RetKind::Int(int) => AbiValue::Scalar(int_type(int.bits)),
        RetKind::F32 => AbiValue::Scalar(types::F32),
        RetKind::F64 => AbiValue::Scalar(types::F64),
        RetKind::String | RetKind::Pointer => AbiValue::Scalar(ptr),
        RetKind::Record(shape) => AbiValue::Aggregate(shape.clone()),
    })
}

/// Rounds a stack copy's size up to whole eightbytes, as Cranelift's `StructArgument` needs.
pub(crate) fn stack_copy_size(size: u32) -> u32 {
    size.div_ceil(8).max(1) * 8
}

/// The Cranelift signature of the C target, and how the ABI lowered it.
pub(crate) fn target_signature(
    sig: &Signature,
    call_conv: CallConv,
    ptr: Type,
) -> (IrSignature, FunctionLowering) {
    let params: Vec<AbiValue> = sig.args.iter().map(|a| scalar_value(a, ptr)).collect();
    let lowering = abi::lower_for_host(&params, ret_value(&sig.ret, ptr).as_ref());
    let mut ir = IrSignature::new(call_conv);
    if lowering.ret == ReturnLowering::Hidden {
        ir.params
            .push(AbiParam::special(ptr, ArgumentPurpose::StructReturn));
    }
    for (arg, lowered) in sig.args.iter().zip(&lowering.params) {
        match lowered {
            ParamLowering::Scalar(_) => ir.params.push(scalar_param(arg, ptr)),
            ParamLowering::Parts(parts) => {
                ir.params.extend(parts.iter().map(|p| AbiParam::new(p.ty)))
            }
            ParamLowering::StackCopy { size } => ir.params.push(AbiParam::special(
                ptr,
                ArgumentPurpose::StructArgument(stack_copy_size(*size)),
            )),
            ParamLowering::Reference => ir.params.push(AbiParam::new(ptr)),
        }
    }
    match (&sig.ret, &lowering.ret) {
        (_, ReturnLowering::Void | ReturnLowering::Hidden) => {}
        (_, ReturnLowering::Parts(parts)) => {
            ir.returns.extend(parts.iter().map(|p| AbiParam::new(p.ty)))
        }
        (RetKind::Bool, _) => ir.returns.push(AbiParam::new(types::I8).uext()),
        (RetKind::Int(kind), _) => ir.returns.push(int_param(*kind)),
        (ret, ReturnLowering::Scalar(t)) => {
            let _ = ret;
            ir.returns.push(AbiParam::new(*t))
        }
    }
    (ir, lowering)
}

/// Imported signatures of the Lua C API functions and helpers, built once per thunk.
struct ApiSigs {
    /// `(L) -> int`
    l_int: SigRef,
    /// `(L, int) -> int`
    l_i_int: SigRef,
    /// `(L, int) -> ptr`
    l_i_ptr: SigRef,
    /// `(L, int, ptr) -> lua_Integer`
    l_i_p_integer: SigRef,
    /// `(L, int, ptr) -> lua_Number`
    l_i_p_number: SigRef,
    /// `(L, int, ptr) -> ptr`
    l_i_p_ptr: SigRef,
    /// `(L, lua_Integer)`
    l_integer: SigRef,
    /// `(L, lua_Number)`
    l_number: SigRef,
    /// `(L, int)`
    l_i: SigRef,
    /// `(L, int, int)`
    l_i_i: SigRef,
    /// `(L, ptr)`
    l_ptr: SigRef,
    /// `(L, ptr) -> ptr`
    l_p_ptr: SigRef,
    /// `(L, int, ptr, int)`
    l_i_p_i: SigRef,
    /// `(L, ptr, int)`
    l_p_i: SigRef,
    /// `(L)`
    l: SigRef,
}

impl ApiSigs {
    fn new(b: &mut FunctionBuilder, cc: CallConv, ptr: Type) -> Self {
        let mut make = |params: &[Type], ret: Option<Type>| {
            let mut s = IrSignature::new(cc);
            s.params.push(AbiParam::new(ptr));
            s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
            s.returns.extend(ret.map(AbiParam::new));
            b.import_signature(s)
        };
        let int = types::I32;
        ApiSigs {
            l_int: make(&[], Some(int)),
            l_i_int: make(&[int], Some(int)),
            l_i_ptr: make(&[int], Some(ptr)),
            l_i_p_integer: make(&[int, ptr], Some(types::I64)),
            l_i_p_number: make(&[int, ptr], Some(types::F64)),
            l_i_p_ptr: make(&[int, ptr], Some(ptr)),
            l_integer: make(&[types::I64], None),
            l_number: make(&[types::F64], None),
            l_i: make(&[int], None),
            l_i_i: make(&[int, int], None),
            l_ptr: make(&[ptr], None),
            l_p_ptr: make(&[ptr], Some(ptr)),
            l_i_p_i: make(&[int, ptr, int], None),
            l_p_i: make(&[ptr, int], None),
            l: make(&[], None),
        }
    }
}

/// Emits calls by absolute address.
struct Emitter<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    sigs: ApiSigs,
    ptr: Type,
    lua_state: Value,
}

impl Emitter<'_, '_> {
    fn call(&mut self, sig: SigRef, addr: usize, extra: &[Value]) -> Option<Value> {
        let callee = self.b.ins().iconst(self.ptr, addr as i64);
        let mut args = vec![self.lua_state];
        args.extend_from_slice(extra);
        let inst = self.b.ins().call_indirect(sig, callee, &args);
        self.b.inst_results(inst).first().copied()
    }

    fn int(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I32, v)
    }
}

/// Builds the body of the thunk for `sig` into the builder's function.
///
/// With `baked` (the address of the bound function's `CallTarget`, which never moves: Lua's
/// collector does not move userdata), the thunk is specialized for one function and skips
/// the `lua_touserdata` of upvalue 1, the costliest step of a generic call.
pub(crate) fn build(
    func: &mut cranelift_codegen::ir::Function,
    fctx: &mut FunctionBuilderContext,
    sig: &Signature,
    api: &LuaApi,
    call_conv: CallConv,
    config: TargetFrontendConfig,
    baked: Option<usize>,
) {
    let ptr = config.pointer_type();
    func.signature = IrSignature::new(call_conv);
    func.signature.params.push(AbiParam::new(ptr));
    func.signature.returns.push(AbiParam::new(types::I32));

    let mut b = FunctionBuilder::new(func, fctx);
    let (target_ir, lowering) = target_signature(sig, call_conv, ptr);
    let target_sig = b.import_signature(target_ir);
    let sigs = ApiSigs::new(&mut b, call_conv, ptr);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let lua_state = b.block_params(entry)[0];
    let mut e = Emitter {
        b: &mut b,
        sigs,
        ptr,
        lua_state,
    };

    // Cold blocks that raise; the helpers never return.
    let arg_error = e.b.create_block();
    e.b.append_block_param(arg_error, types::I32);
    e.b.append_block_param(arg_error, types::I32);
    e.b.set_cold_block(arg_error);
    let arity_error = e.b.create_block();
    e.b.set_cold_block(arity_error);

    let nargs = sig.args.len() as i64;
    let top = e.call(e.sigs.l_int, api.gettop, &[]).unwrap();
    let too_many = e.b.ins().icmp_imm_s(IntCC::SignedGreaterThan, top, nargs);
    let read_args = e.b.create_block();
    e.b.ins().brif(too_many, arity_error, &[], read_args, &[]);
    e.b.seal_block(read_args);
    e.b.switch_to_block(read_args);

    let call_target = match baked {
        Some(address) => e.b.ins().iconst(ptr, address as i64),
        None => {
            let upvalue1 = e.int(api.upvalue1_index as i64);
            e.call(e.sigs.l_i_ptr, api.touserdata, &[upvalue1]).unwrap()
        }
    };

    let needs_flag = sig
        .args
        .iter()
        .any(|a| matches!(a, ArgKind::Int(_) | ArgKind::F32 | ArgKind::F64));
    let mut records = 0i64;
    let mut refs = Vec::new();
    let flag_slot = needs_flag.then(|| {
        e.b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 4, 2))
    });

    let mut c_args = Vec::with_capacity(sig.args.len() + 1);
    let result_slot = match &sig.ret {
        RetKind::Record(shape) => {
            let slot = e.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                stack_copy_size(shape.size),
                4,
            ));
            if lowering.ret == ReturnLowering::Hidden {
                let addr = e.b.ins().stack_addr(ptr, slot, 0);
                c_args.push(addr);
            }
            Some(slot)
        }
        _ => None,
    };
    for (i, (kind, lowered)) in sig.args.iter().zip(&lowering.params).enumerate() {
        let index = e.int(i as i64 + 1);
        let value = match kind {
            ArgKind::Record(shape) => {
                let slot = e.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    stack_copy_size(shape.size),
                    4,
                ));
                let addr = e.b.ins().stack_addr(ptr, slot, 0);
                let record = e.int(records);
                records += 1;
                e.call(e.sigs.l_i_p_i, api.record_arg, &[index, addr, record]);
                match lowered {
                    ParamLowering::Parts(parts) => {
                        for part in parts {
                            let v = e.b.ins().stack_load(ptr, part.ty, slot, part.offset as i32);
                            c_args.push(v);
                        }
                        continue;
                    }
                    _ => addr,
                }
            }
            ArgKind::Ref(ref_kind) => {
                let slot = e.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8,
                    3,
                ));
                let addr = e.b.ins().stack_addr(ptr, slot, 0);
                let code = e.int(ref_kind.code() as i64);
                e.call(e.sigs.l_i_p_i, api.ref_arg, &[index, addr, code]);
                refs.push((slot, *ref_kind));
                addr
            }
            ArgKind::Int(int) => {
                let flag = e.b.ins().stack_addr(ptr, flag_slot.unwrap(), 0);
                let v = e
                    .call(e.sigs.l_i_p_integer, api.tointegerx, &[index, flag])
                    .unwrap();
                check_flag(&mut e, flag_slot.unwrap(), arg_error, index, kind);
                if int.bits < 64 {
                    e.b.ins().ireduce(int_type(int.bits), v)
                } else {
                    v
                }
            }
            ArgKind::F32 | ArgKind::F64 => {
                let flag = e.b.ins().stack_addr(ptr, flag_slot.unwrap(), 0);
                let v = e
                    .call(e.sigs.l_i_p_number, api.tonumberx, &[index, flag])
                    .unwrap();
                check_flag(&mut e, flag_slot.unwrap(), arg_error, index, kind);
                if *kind == ArgKind::F32 {
                    e.b.ins().fdemote(types::F32, v)
                } else {
                    v
                }
            }
            ArgKind::Bool => {
                let t = e.call(e.sigs.l_i_int, api.type_of, &[index]).unwrap();
                let v = branch_on_type(
                    &mut e,
                    t,
                    LUA_TBOOLEAN,
                    types::I32,
                    |e| e.call(e.sigs.l_i_int, api.toboolean, &[index]).unwrap(),
                    |e| e.call(e.sigs.l_i_int, api.bool_arg, &[index]).unwrap(),
                );
                // icmp yields an i8 that is 0 or 1: a C bool.
                e.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0)
            }
            ArgKind::String => {
                // lua_tolstring gives NULL for anything but strings and numbers (which it
                // converts, as luaL_checklstring does); the slow path sorts out the rest.
                let no_len = e.b.ins().iconst(ptr, 0);
                let s = e
                    .call(e.sigs.l_i_p_ptr, api.tolstring, &[index, no_len])
                    .unwrap();
                let is_null = e.b.ins().icmp_imm_s(IntCC::Equal, s, 0);
                let slow = e.b.create_block();
                let join = e.b.create_block();
                e.b.append_block_param(join, ptr);
                e.b.set_cold_block(slow);
                e.b.ins().brif(is_null, slow, &[], join, &[s.into()]);
                e.b.seal_block(slow);
                e.b.switch_to_block(slow);
                let v = e.call(e.sigs.l_i_ptr, api.cstring_arg, &[index]).unwrap();
                e.b.ins().jump(join, &[v.into()]);
                e.b.seal_block(join);
                e.b.switch_to_block(join);
                e.b.block_params(join)[0]
            }
            ArgKind::Pointer => {
                // A light userdata is its own address; everything else (nil, pointer
                // objects, errors) goes through the host.
                let t = e.call(e.sigs.l_i_int, api.type_of, &[index]).unwrap();
                branch_on_type(
                    &mut e,
                    t,
                    LUA_TLIGHTUSERDATA,
                    ptr,
                    |e| e.call(e.sigs.l_i_ptr, api.touserdata, &[index]).unwrap(),
                    |e| e.call(e.sigs.l_i_ptr, api.pointer_arg, &[index]).unwrap(),
                )
            }
        };
        c_args.push(value);
    }

    let flags = MemFlagsData::trusted();
    let target = e.b.ins().load(ptr, flags, call_target, TARGET_OFFSET);
    let context = e.b.ins().load(ptr, flags, call_target, CONTEXT_OFFSET);
    let saved = e.b.ins().load(ptr, flags, context, CURRENT_OFFSET);
    e.b.ins().store(flags, lua_state, context, CURRENT_OFFSET);
    let call = e.b.ins().call_indirect(target_sig, target, &c_args);
    let results = e.b.inst_results(call).to_vec();
    if let (Some(slot), ReturnLowering::Parts(parts)) = (result_slot, &lowering.ret) {
        for (part, &v) in parts.iter().zip(&results) {
            e.b.ins().stack_store(ptr, v, slot, part.offset as i32);
        }
    }
    e.b.ins().store(flags, saved, context, CURRENT_OFFSET);
    let errno_location = e.b.ins().load(ptr, flags, context, ERRNO_LOCATION_OFFSET);
    let errno = e.b.ins().load(types::I32, flags, errno_location, 0);
    e.b.ins().store(flags, errno, context, ERRNO_OFFSET);
    let pending = e.b.ins().load(types::I32, flags, context, PENDING_OFFSET);
    let raise = e.b.create_block();
    e.b.set_cold_block(raise);
    let push = e.b.create_block();
    e.b.ins().brif(pending, raise, &[], push, &[]);
    e.b.seal_block(raise);
    e.b.seal_block(push);
    e.b.switch_to_block(raise);
    e.call(e.sigs.l, api.raise_pending, &[]);
    e.b.ins().trap(TrapCode::unwrap_user(1));
    e.b.switch_to_block(push);
    let mut pushed = match (result_slot, &sig.ret) {
        (Some(slot), _) => {
            let addr = e.b.ins().stack_addr(ptr, slot, 0);
            let record = e.int(records);
            e.call(e.sigs.l_p_i, api.push_record, &[addr, record]);
            1
        }
        (None, ret) => push_result(&mut e, ret, results.first().copied(), api),
    };
    for (slot, ref_kind) in refs {
        let addr = e.b.ins().stack_addr(ptr, slot, 0);
        let code = e.int(ref_kind.code() as i64);
        e.call(e.sigs.l_p_i, api.push_ref, &[addr, code]);
        pushed += 1;
    }
    let count = e.int(pushed);
    e.b.ins().return_(&[count]);

    e.b.switch_to_block(arg_error);
    e.b.seal_block(arg_error);
    let params = e.b.block_params(arg_error).to_vec();
    e.call(e.sigs.l_i_i, api.arg_error, &params);
    e.b.ins().trap(TrapCode::unwrap_user(1));

    e.b.switch_to_block(arity_error);
    e.b.seal_block(arity_error);
    let expected = e.int(nargs);
    e.call(e.sigs.l_i, api.arity_error, &[expected]);
    e.b.ins().trap(TrapCode::unwrap_user(1));

    b.finalize(config);
}

/// Loads the `isnum` flag written by `lua_to{integer,number}x` and branches to the error
/// block when it is zero.
fn check_flag(
    e: &mut Emitter,
    slot: cranelift_codegen::ir::StackSlot,
    arg_error: Block,
    index: Value,
    kind: &ArgKind,
) {
    let ok = e.b.ins().stack_load(e.ptr, types::I32, slot, 0);
    let next = e.b.create_block();
    let code = e.int(kind.expected().code() as i64);
    e.b.ins()
        .brif(ok, next, &[], arg_error, &[index.into(), code.into()]);
    e.b.seal_block(next);
    e.b.switch_to_block(next);
}

/// `if lua_type == expected { fast } else { slow }`, joining with the value of either arm.
fn branch_on_type(
    e: &mut Emitter,
    lua_type: Value,
    expected: i64,
    ty: Type,
    fast: impl FnOnce(&mut Emitter) -> Value,
    slow: impl FnOnce(&mut Emitter) -> Value,
) -> Value {
    let fast_block = e.b.create_block();
    let slow_block = e.b.create_block();
    let join = e.b.create_block();
    e.b.append_block_param(join, ty);
    e.b.set_cold_block(slow_block);
    let is_expected = e.b.ins().icmp_imm_s(IntCC::Equal, lua_type, expected);
    e.b.ins()
        .brif(is_expected, fast_block, &[], slow_block, &[]);
    e.b.seal_block(fast_block);
    e.b.seal_block(slow_block);

    e.b.switch_to_block(fast_block);
    let v = fast(e);
    e.b.ins().jump(join, &[v.into()]);
    e.b.switch_to_block(slow_block);
    let v = slow(e);
    e.b.ins().jump(join, &[v.into()]);

    e.b.seal_block(join);
    e.b.switch_to_block(join);
    e.b.block_params(join)[0]
}

/// Pushes the C result; returns the number of Lua results.
fn push_result(e: &mut Emitter, ret: &RetKind, result: Option<Value>, api: &LuaApi) -> i64 {
    let Some(v) = result else { return 0 };
    match ret {
        RetKind::Void | RetKind::Record(_) => return 0,
        RetKind::Bool => {
            let wide = e.b.ins().uextend(types::I32, v);
            e.call(e.sigs.l_i, api.pushboolean, &[wide]);
        }
        &RetKind::Int(kind) => {
            let wide = match (kind.bits, kind.signed) {
                (64, _) => v,
                (_, true) => e.b.ins().sextend(types::I64, v),
                (_, false) => e.b.ins().uextend(types::I64, v),
            };
            e.call(e.sigs.l_integer, api.pushinteger, &[wide]);
        }
        RetKind::F32 => {
            let wide = e.b.ins().fpromote(types::F64, v);
            e.call(e.sigs.l_number, api.pushnumber, &[wide]);
        }
        RetKind::F64 => {
            e.call(e.sigs.l_number, api.pushnumber, &[v]);
        }
        RetKind::String => {
            let is_null = e.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
            let null_block = e.b.create_block();
            let string_block = e.b.create_block();
            let done = e.b.create_block();
            e.b.ins().brif(is_null, null_block, &[], string_block, &[]);
            e.b.seal_block(null_block);
            e.b.seal_block(string_block);
            e.b.switch_to_block(null_block);
            e.call(e.sigs.l, api.pushnil, &[]);
            e.b.ins().jump(done, &[]);
            e.b.switch_to_block(string_block);
            e.call(e.sigs.l_p_ptr, api.pushstring, &[v]);
            e.b.ins().jump(done, &[]);
            e.b.seal_block(done);
            e.b.switch_to_block(done);
        }
        RetKind::Pointer => {
            e.call(e.sigs.l_ptr, api.push_pointer, &[v]);
        }
    }
    1
}
