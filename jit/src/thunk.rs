//! The call thunk: Cranelift IR for one C signature.
//!
//! ```text
//! int thunk(lua_State *L)
//!     (a `__call` metamethod gets the called object, the receiver, before its arguments:
//!      remove_receiver(L), so that all that follows is a plain thunk's; a batched thunk,
//!      below, instead reads every argument one slot up and tells `normalize_args` so)
//!     if the argument count is not nargs: count_error(L, nargs, expected kinds)
//!     target, context = constants (specialized) or the CallTarget of upvalue 1 (shared)
//!     per argument i: with a known stack layout, the tag of slot i decides inline
//!                     (integer, float, string, boolean, light userdata, a pointer object:
//!                     a load or a few); anything else takes the Lua C API or a host helper
//!                     on a cold path, which raises the argument error. Without the layout,
//!                     one Lua C API read + an inline check
//!     (a shared thunk whose parameters are all scalars instead compares every tag at once
//!      and, when one disagrees, lets the host rewrite the arguments: fewer blocks, so a
//!      quicker compile for `lib:bind`; see `read_batched`)
//!     context->current = L                       (for callbacks entered during the call)
//!     result = target(args...)                   (host C calling convention)
//!     context->errno = errno
//!     if context->pending_error: raise_pending(context)   (a callback failed)
//!     context->current = NULL
//!     (the three lines above are inline in a specialized thunk, and one call to the host's
//!      `finish_call` in a shared one, which compiles faster)
//!     push result (numbers and booleans inline), then out-parameters; return their count
//! ```
//! Nothing is allocated and no Rust frame sits between Lua and the target. See `stack` for
//! when the stack layout is known and what the inline reads assume.

use std::collections::BTreeSet;
use std::sync::Mutex;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, ArgumentPurpose, Block, InstBuilder, MemFlagsData, SigRef,
    Signature as IrSignature, StackSlot, StackSlotData, StackSlotKind, TrapCode, Type, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};

use crate::abi::{self, AbiValue, FunctionLowering, ParamLowering, ReturnLowering};
use crate::context::{
    CallTarget, CONTEXT_OFFSET, CURRENT_OFFSET, ERRNO_LOCATION_OFFSET, ERRNO_OFFSET,
    PENDING_OFFSET, TARGET_OFFSET,
};
use crate::luaapi::{ApiAddresses, PointerObjects};
use crate::signature::{ArgKind, IntKind, PointerStyle, RetKind, Signature};
use crate::stack::{StackAccess, Tags};

pub(crate) const LUA_TBOOLEAN: i64 = 1;
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
        ArgKind::CharString { .. } => AbiValue::Scalar(types::I8),
        ArgKind::String
        | ArgKind::Pointer(_)
        | ArgKind::FunctionPointer
        | ArgKind::Ref(_)
        | ArgKind::TableArray(_) => AbiValue::Scalar(ptr),
        ArgKind::Record(shape) => AbiValue::Aggregate(shape.clone()),
    }
}

fn scalar_param(kind: &ArgKind, ptr: Type) -> AbiParam {
    match kind {
        ArgKind::Bool => AbiParam::new(types::I8).uext(),
        ArgKind::Int(int) => int_param(*int),
        &ArgKind::CharString { signed } => int_param(IntKind { bits: 8, signed }),
        ArgKind::F32 => AbiParam::new(types::F32),
        ArgKind::F64 => AbiParam::new(types::F64),
        _ => AbiParam::new(ptr),
    }
}

fn ret_value(ret: &RetKind, ptr: Type) -> Option<AbiValue> {
    Some(match ret {
        RetKind::Void | RetKind::Nil => return None,
        RetKind::Bool => AbiValue::Scalar(types::I8),
        RetKind::Int(int) => AbiValue::Scalar(int_type(int.bits)),
        RetKind::F32 => AbiValue::Scalar(types::F32),
        RetKind::F64 => AbiValue::Scalar(types::F64),
        RetKind::CharString { .. } => AbiValue::Scalar(types::I8),
        RetKind::String | RetKind::Pointer(_) => AbiValue::Scalar(ptr),
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
            ParamLowering::OnStack { pad, parts } => ir.params.extend(
                pad.iter()
                    .chain(parts.iter().map(|p| &p.ty))
                    .map(|&ty| AbiParam::new(ty)),
            ),
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
        (&RetKind::CharString { signed }, _) => {
            ir.returns.push(int_param(IntKind { bits: 8, signed }))
        }
        (ret, ReturnLowering::Scalar(t)) => {
            let _ = ret;
            ir.returns.push(AbiParam::new(*t))
        }
    }
    (ir, lowering)
}

/// Emits calls by absolute address, importing each call signature once per function.
struct Emitter<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    call_conv: CallConv,
    ptr: Type,
    lua_state: Value,
    signatures: Vec<(Vec<Type>, Option<Type>, SigRef)>,
    /// Direct access to the Lua stack, when the host vouched for its layout.
    stack: Option<StackAccess>,
    /// The slot of the running function, reloaded after calls that may move the stack.
    func: Variable,
    /// Whether an argument after the one being read is read from the stack.
    func_needed_later: bool,
}

impl Emitter<'_, '_> {
    /// The signature `(lua_State*, params...) -> ret`, imported on first use.
    fn signature(&mut self, params: &[Type], ret: Option<Type>) -> SigRef {
        if let Some(&(_, _, sig)) = self
            .signatures
            .iter()
            .find(|(p, r, _)| p == params && *r == ret)
        {
            return sig;
        }
        let mut ir = IrSignature::new(self.call_conv);
        ir.params.push(AbiParam::new(self.ptr));
        ir.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        ir.returns.extend(ret.map(AbiParam::new));
        let sig = self.b.import_signature(ir);
        self.signatures.push((params.to_vec(), ret, sig));
        sig
    }

    /// Calls the C function at `addr` with `L` followed by `extra`; returns its result.
    fn call(&mut self, addr: usize, extra: &[Value], ret: Option<Type>) -> Option<Value> {
        let params: Vec<Type> = extra
            .iter()
            .map(|&v| self.b.func.dfg.value_type(v))
            .collect();
        let sig = self.signature(&params, ret);
        let callee = self.b.ins().iconst(self.ptr, addr as i64);
        let mut args = vec![self.lua_state];
        args.extend_from_slice(extra);
        let inst = self.b.ins().call_indirect(sig, callee, &args);
        self.b.inst_results(inst).first().copied()
    }

    fn int(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I32, v)
    }

    /// Pushes nil (with `lua_pushnil` at `pushnil`) when the pointer `v` is NULL, else what
    /// `push` pushes.
    fn push_nil_if_null(&mut self, v: Value, pushnil: usize, push: impl FnOnce(&mut Self)) {
        let is_null = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
        let (null_block, value_block, done) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b
            .ins()
            .brif(is_null, null_block, &[], value_block, &[]);
        self.b.seal_block(null_block);
        self.b.seal_block(value_block);
        self.b.switch_to_block(null_block);
        self.call(pushnil, &[], None);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(value_block);
        push(self);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }

    /// Re-reads the running function's slot after a call that may have moved the stack,
    /// when a later argument is read from it.
    fn reload_func(&mut self) {
        if !self.func_needed_later {
            return;
        }
        if let Some(stack) = &self.stack {
            let func = stack.func(self.b, self.lua_state);
            self.b.def_var(self.func, func);
        }
    }

    /// Branches on `cond` to a new cold block (when `cond` is set if `cold_when_set`, clear
    /// otherwise) and continues in a new block; returns the cold block, sealed and empty.
    fn split_cold(&mut self, cond: Value, cold_when_set: bool) -> Block {
        let cold = self.b.create_block();
        self.b.set_cold_block(cold);
        let next = self.b.create_block();
        if cold_when_set {
            self.b.ins().brif(cond, cold, &[], next, &[]);
        } else {
            self.b.ins().brif(cond, next, &[], cold, &[]);
        }
        self.b.seal_block(cold);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
        cold
    }

    /// `if cond { fast } else { slow }` with the slow arm cold; joins with either value.
    /// The slow arm may call into Lua, so the function's slot is re-read after it.
    fn fast_or_slow(
        &mut self,
        cond: Value,
        ty: Type,
        fast: impl FnOnce(&mut Self) -> Value,
        slow: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        let fast_block = self.b.create_block();
        let slow_block = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, ty);
        self.b.set_cold_block(slow_block);
        self.b.ins().brif(cond, fast_block, &[], slow_block, &[]);
        self.b.seal_block(fast_block);
        self.b.seal_block(slow_block);

        self.b.switch_to_block(fast_block);
        let v = fast(self);
        self.b.ins().jump(join, &[v.into()]);
        self.slow_then_join(slow_block, join, slow)
    }

    /// Emits the (sealed) slow block, which re-reads the function's slot after `slow` and
    /// jumps to `join` with its value; continues in `join` and returns its parameter.
    fn slow_then_join(
        &mut self,
        slow_block: Block,
        join: Block,
        slow: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        self.b.switch_to_block(slow_block);
        let v = slow(self);
        self.reload_func();
        self.b.ins().jump(join, &[v.into()]);
        self.b.seal_block(join);
        self.b.switch_to_block(join);
        self.b.block_params(join)[0]
    }
}

/// The fixed cost of a call, the part the thunk adds to what a hand-written binding does:
/// where the target and the state's call context come from.
enum Target {
    /// A specialized thunk: both are constants.
    Baked { target: i64, context: i64 },
    /// A shared thunk: read from the `CallTarget` in upvalue 1.
    Upvalue,
}

/// Builds the body of the thunk for `sig` into the builder's function.
///
/// With `baked` (the address of the bound function's `CallTarget`, which is never written
/// after creation and never moves: Lua's collector does not move userdata), the thunk is
/// specialized for one function: the target and the call context become constants, which
/// saves the `lua_touserdata` of upvalue 1 and two loads.
pub(crate) fn build(
    func: &mut cranelift_codegen::ir::Function,
    fctx: &mut FunctionBuilderContext,
    sig: &Signature,
    api: &ApiAddresses,
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
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let lua_state = b.block_params(entry)[0];
    let func_slot = b.declare_var(ptr);
    let mut e = Emitter {
        b: &mut b,
        call_conv,
        ptr,
        lua_state,
        signatures: Vec::new(),
        stack: api.stack.map(|layout| StackAccess { layout, ptr }),
        func: func_slot,
        func_needed_later: false,
    };
    let target = match baked {
        Some(address) => {
            // SAFETY: the engine's contract: `address` is a live `CallTarget`.
            let call_target = unsafe { &*(address as *const CallTarget) };
            Target::Baked {
                target: call_target.target as i64,
                context: call_target.context as i64,
            }
        }
        None => Target::Upvalue,
    };

    let nargs = sig.args.len();
    // A receiver read past in place costs nothing but the offsets of the loads.
    let receiver_slots = sig.receiver as usize;
    // A shared thunk whose parameters are all scalars reads them in one batch, which also
    // takes the count check (its slow path raises the count error): argument slots up to
    // LUA_MINSTACK above the function are always allocated, so reading stale tags there is
    // harmless.
    let batched = match e.stack {
        Some(stack)
            if baked.is_none()
                && nargs + receiver_slots <= LUA_MINSTACK
                && sig.args.iter().all(read_by_thunk) =>
        {
            Some(stack)
        }
        _ => None,
    };
    // Every other thunk reads arguments at many places, by stack index through the host's
    // helpers too: removing the receiver first (one call) lets all of them stay those of a
    // plain thunk.
    let slots_before = match batched {
        Some(_) => receiver_slots,
        None => {
            if sig.receiver {
                e.call(api.remove_receiver, &[], None);
            }
            0
        }
    };
    let count_ok = count_check(&mut e, sig, api, slots_before);
    // A cold block that raises; the helper never returns.
    let count_error = batched.is_none().then(|| e.split_cold(count_ok, false));

    // Reading the stack directly, the rare numbers that need converting go to host helpers
    // that check them, which keeps the `isnum` flag (and a stack frame) out of the thunk.
    let needs_flag = e.stack.is_none()
        && sig
            .args
            .iter()
            .any(|a| matches!(a, ArgKind::Int(_) | ArgKind::F32 | ArgKind::F64));
    let mut records = 0i64;
    let mut refs = Vec::new();
    let mut arrays = Vec::new();
    let flag = needs_flag.then(|| {
        let arg_error = e.b.create_block();
        e.b.append_block_param(arg_error, types::I32);
        e.b.append_block_param(arg_error, types::I32);
        e.b.set_cold_block(arg_error);
        FlagCheck {
            slot: e.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                4,
                2,
            )),
            arg_error,
        }
    });

    let kinds = interned(expected_codes(sig)).as_ptr() as i64;

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
    if let Some(stack) = batched {
        let values = read_batched(&mut e, &stack, api, sig, count_ok, kinds, slots_before);
        c_args.extend(values);
    }
    let per_argument = if batched.is_some() {
        &[][..]
    } else {
        &sig.args[..]
    };
    for (i, (kind, lowered)) in per_argument.iter().zip(&lowering.params).enumerate() {
        let position = i + 1;
        // Later arguments, and a shared thunk's upvalue, are read from the stack.
        e.func_needed_later =
            matches!(target, Target::Upvalue) || sig.args[position..].iter().any(read_by_thunk);
        let value = match kind {
            ArgKind::Record(shape) => {
                let slot = e.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    stack_copy_size(shape.size),
                    4,
                ));
                let addr = e.b.ins().stack_addr(ptr, slot, 0);
                let index = e.int(position as i64);
                let record = e.int(records);
                records += 1;
                e.call(api.record_arg, &[index, addr, record], None);
                e.reload_func();
                let (pad, parts) = match lowered {
                    ParamLowering::Parts(parts) => (&[][..], parts),
                    ParamLowering::OnStack { pad, parts } => (&pad[..], parts),
                    _ => {
                        c_args.push(addr);
                        continue;
                    }
                };
                for &ty in pad {
                    // The callee never reads these registers: any value does.
                    let filler = match ty {
                        types::F32 => e.b.ins().f32const(0.0),
                        types::F64 => e.b.ins().f64const(0.0),
                        _ => e.b.ins().iconst(ty, 0),
                    };
                    c_args.push(filler);
                }
                for part in parts {
                    let v = e.b.ins().stack_load(ptr, part.ty, slot, part.offset as i32);
                    c_args.push(v);
                }
                continue;
            }
            ArgKind::Ref(ref_kind) => {
                let slot = e.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    8,
                    3,
                ));
                let addr = e.b.ins().stack_addr(ptr, slot, 0);
                let index = e.int(position as i64);
                let code = e.int(ref_kind.code() as i64);
                e.call(api.ref_arg, &[index, addr, code], None);
                e.reload_func();
                refs.push((slot, *ref_kind));
                addr
            }
            ArgKind::FunctionPointer => {
                let host_read = |e: &mut Emitter| {
                    let index = e.int(position as i64);
                    let code = e.call(api.function_arg, &[index], Some(ptr)).unwrap();
                    e.reload_func();
                    code
                };
                match e.stack {
                    Some(stack) => read_function_inline(
                        &mut e,
                        &stack,
                        &api.pointer_objects,
                        position,
                        host_read,
                    ),
                    None => host_read(&mut e),
                }
            }
            ArgKind::CharString { .. } => {
                let index = e.int(position as i64);
                let byte = e.call(api.char_arg, &[index], Some(types::I32)).unwrap();
                e.reload_func();
                e.b.ins().ireduce(types::I8, byte)
            }
            &ArgKind::TableArray(code) => {
                let index = e.int(position as i64);
                let code = e.int(code as i64);
                let array = e
                    .call(api.table_array_arg, &[index, code], Some(ptr))
                    .unwrap();
                e.reload_func();
                arrays.push((index, array, code));
                array
            }
            _ => read_scalar(&mut e, api, kind, position, flag),
        };
        c_args.push(value);
    }

    let flags = MemFlagsData::trusted();
    let (target, context) = target_and_context(&mut e, api, target);
    // `current` is only meaningful during the C call (a callback restores the value it
    // found after running Lua code, which may have called C on other threads).
    e.b.ins().store(flags, lua_state, context, CURRENT_OFFSET);
    let call = e.b.ins().call_indirect(target_sig, target, &c_args);
    let results = e.b.inst_results(call).to_vec();
    if let (Some(slot), ReturnLowering::Parts(parts)) = (result_slot, &lowering.ret) {
        for (part, &v) in parts.iter().zip(&results) {
            e.b.ins().stack_store(ptr, v, slot, part.offset as i32);
        }
    }
    end_call(&mut e, api, baked.is_some(), context);
    for (index, array, code) in arrays {
        e.call(api.table_array_writeback, &[index, array, code], None);
    }
    let mut pushed = match (result_slot, &sig.ret) {
        (Some(slot), _) => {
            let addr = e.b.ins().stack_addr(ptr, slot, 0);
            let record = e.int(records);
            e.call(api.push_record, &[addr, record], None);
            1
        }
        (None, ret) => push_result(&mut e, ret, results.first().copied(), api),
    };
    for (slot, ref_kind) in refs {
        let addr = e.b.ins().stack_addr(ptr, slot, 0);
        let code = e.int(ref_kind.code() as i64);
        e.call(api.push_ref, &[addr, code], None);
        pushed += 1;
    }
    let count = e.int(pushed);
    e.b.ins().return_(&[count]);

    if let Some(FlagCheck { arg_error, .. }) = flag {
        e.b.switch_to_block(arg_error);
        e.b.seal_block(arg_error);
        let params = e.b.block_params(arg_error).to_vec();
        e.call(api.arg_error, &params, None);
        e.b.ins().trap(TrapCode::unwrap_user(1));
    }

    if let Some(count_error) = count_error {
        e.b.switch_to_block(count_error);
        let codes_addr = e.b.ins().iconst(ptr, kinds);
        let expected = e.int(nargs as i64);
        e.call(api.arity_error, &[expected, codes_addr], None);
        e.b.ins().trap(TrapCode::unwrap_user(1));
    }

    b.finalize(config);
}

/// Whether the thunk got a right number of arguments (after `slots_before` values that are
/// not arguments, with the stack layout). With the stack layout, also defines the function's
/// slot for the reads that follow.
fn count_check(e: &mut Emitter, sig: &Signature, api: &ApiAddresses, slots_before: usize) -> Value {
    let nargs = sig.args.len();
    match e.stack {
        Some(stack) => {
            // Argument slots above the top hold stale values: every argument but trailing
            // out-parameters must be there.
            let func = stack.func(e.b, e.lua_state);
            e.b.def_var(e.func, func);
            let least = slots_before + nargs - optional_refs(sig);
            stack.has_arg_count(e.b, e.lua_state, func, least, slots_before + nargs)
        }
        None if sig.args.iter().any(|a| matches!(a, ArgKind::TableArray(_))) => {
            // A table array's temporary stays on the stack above the arguments, where a
            // missing argument after it would read it: too few arguments fail here.
            let top = e.call(api.gettop, &[], Some(types::I32)).unwrap();
            let least = (nargs - optional_refs(sig)) as i64;
            let extra = e.b.ins().iadd_imm_s(top, -least);
            e.b.ins()
                .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, extra, nargs as i64 - least)
        }
        None => {
            // Too few arguments fail in the reads below, as "got no value".
            let top = e.call(api.gettop, &[], Some(types::I32)).unwrap();
            e.b.ins()
                .icmp_imm_s(IntCC::SignedLessThanOrEqual, top, nargs as i64)
        }
    }
}

/// How many parameters may be missing: the trailing out-parameters (read by the host, for
/// which none is nil).
fn optional_refs(sig: &Signature) -> usize {
    sig.args
        .iter()
        .rev()
        .take_while(|a| matches!(a, ArgKind::Ref(_)))
        .count()
}

/// The C function to call and the state's call context. A shared thunk reads them last, next
/// to the call, so that nothing but the arguments lives across the blocks of the argument
/// reads.
fn target_and_context(e: &mut Emitter, api: &ApiAddresses, target: Target) -> (Value, Value) {
    let ptr = e.ptr;
    match target {
        Target::Baked { target, context } => (
            e.b.ins().iconst(ptr, target),
            e.b.ins().iconst(ptr, context),
        ),
        Target::Upvalue => {
            let (call_target, offset) = match e.stack {
                Some(stack) => {
                    let func = e.b.use_var(e.func);
                    stack.upvalue1_block(e.b, func)
                }
                None => {
                    let upvalue1 = e.int(api.upvalue1_index as i64);
                    let block = e.call(api.touserdata, &[upvalue1], Some(ptr));
                    (block.expect("lua_touserdata returns a pointer"), 0)
                }
            };
            let flags = MemFlagsData::trusted();
            (
                e.b.ins()
                    .load(ptr, flags, call_target, offset + TARGET_OFFSET),
                e.b.ins()
                    .load(ptr, flags, call_target, offset + CONTEXT_OFFSET),
            )
        }
    }
}

/// What follows the C call: errno is recorded, a callback's error raised, and the call
/// context's `current` cleared.
fn end_call(e: &mut Emitter, api: &ApiAddresses, specialized: bool, context: Value) {
    let ptr = e.ptr;
    if !specialized {
        // A shared thunk is compiled while `bind` waits: one call to the host here instead
        // of the two blocks the inline check needs takes a seventh off its compile time.
        let finish = e.b.ins().iconst(ptr, api.finish_call as i64);
        let finish_sig = e.signature(&[], None);
        e.b.ins().call_indirect(finish_sig, finish, &[context]);
        return;
    }
    // A new block lets Cranelift rematerialize the baked context after the call instead of
    // keeping it in a callee-saved register across it.
    let after_call = e.b.create_block();
    e.b.ins().jump(after_call, &[]);
    e.b.seal_block(after_call);
    e.b.switch_to_block(after_call);
    let flags = MemFlagsData::trusted();
    let errno_location = e.b.ins().load(ptr, flags, context, ERRNO_LOCATION_OFFSET);
    let errno = e.b.ins().load(types::I32, flags, errno_location, 0);
    e.b.ins().store(flags, errno, context, ERRNO_OFFSET);
    let pending = e.b.ins().load(types::I32, flags, context, PENDING_OFFSET);
    let raise = e.split_cold(pending, true);
    let push =
        e.b.current_block()
            .expect("split_cold continues in a block");
    e.b.switch_to_block(raise);
    // The host finds the calling state in the context, so that a function without results
    // keeps nothing alive across the C call.
    let helper = e.b.ins().iconst(ptr, api.raise_pending as i64);
    let raise_sig = e.signature(&[], None);
    e.b.ins().call_indirect(raise_sig, helper, &[context]);
    e.b.ins().trap(TrapCode::unwrap_user(1));
    e.b.switch_to_block(push);
    let null = e.b.ins().iconst(ptr, 0);
    e.b.ins().store(flags, null, context, CURRENT_OFFSET);
}

/// What each parameter expects ([`crate::Expected`] codes, or [`EXPECTED_NOTHING`] for an
/// out-parameter, which may be missing), packed for the host's `arity_error`: code `i`
/// (0-based) in bits `EXPECTED_BITS * (i % EXPECTED_PER_WORD)` of word
/// `i / EXPECTED_PER_WORD`.
fn expected_codes(sig: &Signature) -> Vec<u64> {
    let mut words = vec![0u64; sig.args.len().div_ceil(EXPECTED_PER_WORD)];
    for (i, arg) in sig.args.iter().enumerate() {
        let code = match arg {
            ArgKind::Ref(_) => EXPECTED_NOTHING,
            _ => arg.expected().code() as u64,
        };
        words[i / EXPECTED_PER_WORD] |= code << (EXPECTED_BITS * (i % EXPECTED_PER_WORD));
    }
    words
}

/// The one copy of `codes` for the life of the process (code points at it for ever), shared
/// by every thunk with the same packed codes: compiling a thunk again gives the same code.
fn interned(codes: Vec<u64>) -> &'static [u64] {
    static INTERNED: Mutex<BTreeSet<&'static [u64]>> = Mutex::new(BTreeSet::new());
    let mut interned = INTERNED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(&codes) = interned.get(codes.as_slice()) {
        return codes;
    }
    let codes: &'static [u64] = Box::leak(codes.into_boxed_slice());
    interned.insert(codes);
    codes
}

/// The free stack slots a C function is guaranteed (`LUA_MINSTACK`).
const LUA_MINSTACK: usize = 20;

/// The packed code of parameter `i` (0-based) in `kinds`, as the thunk builder packs it
/// (`expected_codes`).
///
/// # Safety
/// `kinds` holds the packed codes of more than `i` parameters.
pub unsafe fn expected_at(kinds: *const u64, i: usize) -> u64 {
    let word = *kinds.add(i / EXPECTED_PER_WORD);
    (word >> (EXPECTED_BITS * (i % EXPECTED_PER_WORD))) & EXPECTED_NOTHING
}

/// Bits per packed expected-kind code, and codes per 64-bit word.
pub const EXPECTED_BITS: usize = 4;
pub const EXPECTED_PER_WORD: usize = 64 / EXPECTED_BITS;
/// The packed code of a parameter that may be missing (an out-parameter).
pub const EXPECTED_NOTHING: u64 = (1 << EXPECTED_BITS) - 1;

/// Whether the thunk reads the argument off the stack itself (the other kinds are read by a
/// host helper, which may move the stack).
fn read_by_thunk(kind: &ArgKind) -> bool {
    !matches!(
        kind,
        ArgKind::Record(_)
            | ArgKind::Ref(_)
            | ArgKind::CharString { .. }
            | ArgKind::TableArray(_)
            | ArgKind::FunctionPointer
    )
}

/// Reads every argument of a shared thunk whose parameters are all scalars with one branch
/// (argument `i` from stack slot `slots_before + i`: the receiver of a `__call` thunk stays),
/// together with the argument count (`count_ok`): the type tag of each is compared with the forms a load can take (an integer; a float or an
/// integer; a boolean; a string or a light userdata; a light userdata), and when all agree
/// the values are loaded. Otherwise the host's `normalize_args` raises the count error, or
/// rewrites each argument in its stack slot into such a form (keeping the original values alive above the arguments) or
/// raises the argument error, and the loads follow. One block for any number of arguments
/// keeps shared thunks quick to compile.
fn read_batched(
    e: &mut Emitter,
    stack: &StackAccess,
    api: &ApiAddresses,
    sig: &Signature,
    count_ok: Value,
    kinds: i64,
    slots_before: usize,
) -> Vec<Value> {
    let tags = stack.layout.tags;
    let func = e.b.use_var(e.func);
    let mut all_agree = count_ok;
    for (i, kind) in sig.args.iter().enumerate() {
        let tag = stack.arg_tag(e.b, func, slots_before + i + 1);
        let agrees = match kind {
            ArgKind::Int(_) => stack.tag_is(e.b, tag, tags.integer),
            ArgKind::F32 | ArgKind::F64 => stack.tag_is_either(e.b, tag, tags.float, tags.integer),
            ArgKind::Bool => stack.tag_is_either(e.b, tag, tags.r#false, tags.r#true),
            ArgKind::String => {
                let string = stack.tag_is_either(e.b, tag, tags.short_string, tags.long_string);
                let light = stack.tag_is(e.b, tag, tags.light_userdata);
                e.b.ins().bor(string, light)
            }
            ArgKind::Pointer(_) => stack.tag_is(e.b, tag, tags.light_userdata),
            _ => unreachable!("read by a host helper"),
        };
        all_agree = e.b.ins().band(all_agree, agrees);
    }
    let load = e.b.create_block();
    let normalize = e.b.create_block();
    e.b.set_cold_block(normalize);
    e.b.ins().brif(all_agree, load, &[], normalize, &[]);
    e.b.seal_block(normalize);
    e.b.switch_to_block(normalize);
    let nargs = e.int(sig.args.len() as i64);
    let kinds_addr = e.b.ins().iconst(e.ptr, kinds);
    let normalize_args = match slots_before {
        0 => api.normalize_args,
        _ => api.normalize_receiver_args,
    };
    e.call(normalize_args, &[nargs, kinds_addr], None);
    e.b.ins().jump(load, &[]);
    e.b.seal_block(load);
    e.b.switch_to_block(load);
    // Read again rather than passed from either side: normalizing may move the stack, and a
    // block without parameters needs no extra block on the edge from the check.
    let func = stack.func(e.b, e.lua_state);
    e.b.def_var(e.func, func);

    let ptr = e.ptr;
    sig.args
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let position = slots_before + i + 1;
            match kind {
                ArgKind::Int(int) => {
                    let v = stack.arg_value(e.b, func, position, types::I64);
                    narrow(e, *int, v)
                }
                ArgKind::F32 | ArgKind::F64 => {
                    let tag = stack.arg_tag(e.b, func, position);
                    let is_int = stack.tag_is(e.b, tag, tags.integer);
                    let int = stack.arg_value(e.b, func, position, types::I64);
                    let converted = e.b.ins().fcvt_from_sint(types::F64, int);
                    let float = stack.arg_value(e.b, func, position, types::F64);
                    let v = e.b.ins().select(is_int, converted, float);
                    if *kind == ArgKind::F32 {
                        e.b.ins().fdemote(types::F32, v)
                    } else {
                        v
                    }
                }
                ArgKind::Bool => {
                    let tag = stack.arg_tag(e.b, func, position);
                    stack.tag_is(e.b, tag, tags.r#true)
                }
                ArgKind::String => {
                    let tag = stack.arg_tag(e.b, func, position);
                    let is_string =
                        stack.tag_is_either(e.b, tag, tags.short_string, tags.long_string);
                    let data = e.b.ins().iconst(ptr, stack.layout.string_data as i64);
                    let none = e.b.ins().iconst(ptr, 0);
                    let offset = e.b.ins().select(is_string, data, none);
                    let bits = stack.arg_value(e.b, func, position, ptr);
                    e.b.ins().iadd(bits, offset)
                }
                ArgKind::Pointer(_) => stack.arg_value(e.b, func, position, ptr),
                _ => unreachable!("read by a host helper"),
            }
        })
        .collect()
}

/// Where `lua_to{integer,number}x` write their `isnum` flag, and the cold block that raises
/// the argument error when it is zero (thunks that only use the Lua C API).
#[derive(Clone, Copy)]
struct FlagCheck {
    slot: StackSlot,
    arg_error: Block,
}

/// Reads scalar argument `position` (1-based): inline off the stack when its tag is the
/// common one, else (and always without a stack layout) through the Lua C API.
fn read_scalar(
    e: &mut Emitter,
    api: &ApiAddresses,
    kind: &ArgKind,
    position: usize,
    flag: Option<FlagCheck>,
) -> Value {
    let api_read = |e: &mut Emitter| read_scalar_api(e, api, kind, position, flag);
    let wide = match e.stack {
        None => api_read(e),
        Some(stack) => {
            read_scalar_inline(e, &stack, &api.pointer_objects, kind, position, api_read)
        }
    };
    match kind {
        ArgKind::Int(int) => narrow(e, *int, wide),
        ArgKind::F32 => e.b.ins().fdemote(types::F32, wide),
        _ => wide,
    }
}

/// The inline part of [`read_scalar`]: a tag check and a load, with `api_read` as the cold
/// path. Returns the value as wide as [`read_scalar_api`] does.
fn read_scalar_inline(
    e: &mut Emitter,
    stack: &StackAccess,
    objects: &PointerObjects,
    kind: &ArgKind,
    position: usize,
    api_read: impl FnOnce(&mut Emitter) -> Value,
) -> Value {
    let ptr = e.ptr;
    let tags = stack.layout.tags;
    let func = e.b.use_var(e.func);
    let tag = stack.arg_tag(e.b, func, position);
    match kind {
        ArgKind::Int(_) => {
            let is_int = stack.tag_is(e.b, tag, tags.integer);
            e.fast_or_slow(
                is_int,
                types::I64,
                |e| stack.arg_value(e.b, func, position, types::I64),
                api_read,
            )
        }
        ArgKind::F32 | ArgKind::F64 => {
            let is_float = stack.tag_is(e.b, tag, tags.float);
            e.fast_or_slow(
                is_float,
                types::F64,
                |e| stack.arg_value(e.b, func, position, types::F64),
                |e| {
                    // An integer for a float parameter is common enough to convert inline.
                    let is_int = stack.tag_is(e.b, tag, tags.integer);
                    e.fast_or_slow(
                        is_int,
                        types::F64,
                        |e| {
                            let i = stack.arg_value(e.b, func, position, types::I64);
                            e.b.ins().fcvt_from_sint(types::F64, i)
                        },
                        api_read,
                    )
                },
            )
        }
        ArgKind::Bool => {
            let is_bool = stack.tag_is_either(e.b, tag, tags.r#false, tags.r#true);
            e.fast_or_slow(
                is_bool,
                types::I8,
                |e| stack.tag_is(e.b, tag, tags.r#true),
                api_read,
            )
        }
        ArgKind::String => {
            let is_string = stack.tag_is_either(e.b, tag, tags.short_string, tags.long_string);
            e.fast_or_slow(
                is_string,
                ptr,
                |e| stack.arg_string(e.b, func, position),
                api_read,
            )
        }
        ArgKind::Pointer(_) => {
            read_pointer_inline(e, stack, objects, func, position, tag, api_read)
        }
        _ => unreachable!("read by a host helper"),
    }
}

/// A pointer argument: a light userdata, or a host pointer object that needs no checking
/// beyond its magic (and, for memory, that its arena was not reset since). Everything else
/// (nil, other userdata, errors) takes `api_read`.
fn read_pointer_inline(
    e: &mut Emitter,
    stack: &StackAccess,
    objects: &PointerObjects,
    func: Value,
    position: usize,
    tag: Value,
    api_read: impl FnOnce(&mut Emitter) -> Value,
) -> Value {
    let ptr = e.ptr;
    let flags = MemFlagsData::trusted();
    let tags = stack.layout.tags;
    let [light, not_light, address, memory, owned, slow] = [(); 6].map(|_| e.b.create_block());
    let join = e.b.create_block();
    e.b.append_block_param(join, ptr);
    e.b.set_cold_block(slow);

    let is_light = stack.tag_is(e.b, tag, tags.light_userdata);
    e.b.ins().brif(is_light, light, &[], not_light, &[]);
    e.b.seal_block(light);
    e.b.seal_block(not_light);
    e.b.switch_to_block(light);
    let v = stack.arg_value(e.b, func, position, ptr);
    e.b.ins().jump(join, &[v.into()]);

    e.b.switch_to_block(not_light);
    let (block, len) =
        userdata_block_of_size(e, stack, func, (position, tag), objects.address_size, slow);
    let magic = e.b.ins().load(types::I64, flags, block, objects.magic);
    let is_address =
        e.b.ins()
            .icmp_imm_u(IntCC::Equal, magic, objects.address_magic as i64);
    let not_address = e.b.create_block();
    e.b.ins().brif(is_address, address, &[], not_address, &[]);
    e.b.seal_block(not_address);
    e.b.switch_to_block(not_address);
    let is_memory =
        e.b.ins()
            .icmp_imm_u(IntCC::Equal, magic, objects.memory_magic as i64);
    let big_enough = e.b.ins().icmp_imm_u(
        IntCC::UnsignedGreaterThanOrEqual,
        len,
        objects.memory_size as i64,
    );
    let is_object = e.b.ins().band(is_memory, big_enough);
    e.b.ins().brif(is_object, memory, &[], slow, &[]);
    e.b.seal_block(memory);
    e.b.switch_to_block(memory);
    let owner = e.b.ins().load(ptr, flags, block, objects.owner);
    e.b.ins().brif(owner, owned, &[], address, &[]);
    e.b.seal_block(owned);
    e.b.switch_to_block(owned);
    let current =
        e.b.ins()
            .load(types::I64, flags, owner, objects.owner_generation);
    let made_in = e.b.ins().load(types::I64, flags, block, objects.generation);
    let alive = e.b.ins().icmp(IntCC::Equal, current, made_in);
    e.b.ins().brif(alive, address, &[], slow, &[]);
    e.b.seal_block(address);
    e.b.seal_block(slow);

    e.b.switch_to_block(address);
    let v = e.b.ins().load(ptr, flags, block, objects.addr);
    e.b.ins().jump(join, &[v.into()]);

    // Nil, other values, a reset arena's memory: the host decides (and raises).
    e.slow_then_join(slow, join, api_read)
}

/// A function pointer argument: an object standing for a C function (a userdata starting
/// with the address magic and the function mark), whose address is outside the NULL page.
/// Everything else (bound functions standing for C functions, errors) takes `host_read`.
fn read_function_inline(
    e: &mut Emitter,
    stack: &StackAccess,
    objects: &PointerObjects,
    position: usize,
    host_read: impl FnOnce(&mut Emitter) -> Value,
) -> Value {
    let ptr = e.ptr;
    let flags = MemFlagsData::trusted();
    let [marked, slow] = [(); 2].map(|_| e.b.create_block());
    let join = e.b.create_block();
    e.b.append_block_param(join, ptr);
    e.b.set_cold_block(slow);

    let func = e.b.use_var(e.func);
    let tag = stack.arg_tag(e.b, func, position);
    let (block, _) =
        userdata_block_of_size(e, stack, func, (position, tag), objects.function_size, slow);
    let magic = e.b.ins().load(types::I64, flags, block, objects.magic);
    let mark =
        e.b.ins()
            .load(types::I64, flags, block, objects.function_mark_at);
    let is_address =
        e.b.ins()
            .icmp_imm_u(IntCC::Equal, magic, objects.address_magic as i64);
    let is_function =
        e.b.ins()
            .icmp_imm_u(IntCC::Equal, mark, objects.function_mark as i64);
    let live = e.b.ins().band(is_address, is_function);
    e.b.ins().brif(live, marked, &[], slow, &[]);
    e.b.seal_block(marked);
    e.b.switch_to_block(marked);
    let v = e.b.ins().load(ptr, flags, block, objects.addr);
    let callable = e.b.ins().icmp_imm_u(
        IntCC::UnsignedGreaterThanOrEqual,
        v,
        objects.null_page as i64,
    );
    let done = e.b.create_block();
    e.b.ins().brif(callable, done, &[], slow, &[]);
    e.b.seal_block(done);
    e.b.seal_block(slow);
    e.b.switch_to_block(done);
    e.b.ins().jump(join, &[v.into()]);

    e.slow_then_join(slow, join, host_read)
}

/// Branches to `slow` unless argument `position` (whose tag is `tag`) is a full userdata of
/// at least `size` bytes; returns its block's address and length, in the block where that
/// holds.
fn userdata_block_of_size(
    e: &mut Emitter,
    stack: &StackAccess,
    func: Value,
    (position, tag): (usize, Value),
    size: u64,
    slow: Block,
) -> (Value, Value) {
    let [udata, big_enough] = [(); 2].map(|_| e.b.create_block());
    let is_full = stack.tag_is(e.b, tag, stack.layout.tags.full_userdata);
    e.b.ins().brif(is_full, udata, &[], slow, &[]);
    e.b.seal_block(udata);
    e.b.switch_to_block(udata);
    let object = stack.arg_value(e.b, func, position, e.ptr);
    let (block, len) = stack.userdata_block(e.b, object);
    let has_size =
        e.b.ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, len, size as i64);
    e.b.ins().brif(has_size, big_enough, &[], slow, &[]);
    e.b.seal_block(big_enough);
    e.b.switch_to_block(big_enough);
    (block, len)
}

/// An integer argument truncated to its C width, like a C cast.
fn narrow(e: &mut Emitter, int: IntKind, v: Value) -> Value {
    if int.bits < 64 {
        e.b.ins().ireduce(int_type(int.bits), v)
    } else {
        v
    }
}

/// Reads scalar argument `position` with one Lua C API call plus an inline check (numbers:
/// with a host helper that checks them when there is no `isnum` flag slot). Integers and
/// floats come back 64 bits wide (narrowed by the caller).
fn read_scalar_api(
    e: &mut Emitter,
    api: &ApiAddresses,
    kind: &ArgKind,
    position: usize,
    flag: Option<FlagCheck>,
) -> Value {
    let ptr = e.ptr;
    let index = e.int(position as i64);
    match (kind, flag) {
        (ArgKind::Int(_), Some(check)) => {
            let isnum = e.b.ins().stack_addr(ptr, check.slot, 0);
            let v = e
                .call(api.tointegerx, &[index, isnum], Some(types::I64))
                .unwrap();
            check_flag(e, check, index, kind);
            v
        }
        (ArgKind::Int(_), None) => e.call(api.integer_arg, &[index], Some(types::I64)).unwrap(),
        (ArgKind::F32 | ArgKind::F64, Some(check)) => {
            let isnum = e.b.ins().stack_addr(ptr, check.slot, 0);
            let v = e
                .call(api.tonumberx, &[index, isnum], Some(types::F64))
                .unwrap();
            check_flag(e, check, index, kind);
            v
        }
        (ArgKind::F32 | ArgKind::F64, None) => {
            e.call(api.number_arg, &[index], Some(types::F64)).unwrap()
        }
        (ArgKind::Bool, _) => {
            let t = e.call(api.type_of, &[index], Some(types::I32)).unwrap();
            let is_boolean = e.b.ins().icmp_imm_s(IntCC::Equal, t, LUA_TBOOLEAN);
            let v = e.fast_or_slow(
                is_boolean,
                types::I32,
                |e| e.call(api.toboolean, &[index], Some(types::I32)).unwrap(),
                |e| e.call(api.bool_arg, &[index], Some(types::I32)).unwrap(),
            );
            // icmp yields an i8 that is 0 or 1: a C bool.
            e.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0)
        }
        (ArgKind::String, _) => {
            // lua_tolstring gives NULL for anything but strings and numbers (which it
            // converts, as luaL_checklstring does); the slow path sorts out the rest.
            let no_len = e.b.ins().iconst(ptr, 0);
            let s = e.call(api.tolstring, &[index, no_len], Some(ptr)).unwrap();
            let is_string = e.b.ins().icmp_imm_s(IntCC::NotEqual, s, 0);
            e.fast_or_slow(
                is_string,
                ptr,
                |_| s,
                |e| e.call(api.cstring_arg, &[index], Some(ptr)).unwrap(),
            )
        }
        (ArgKind::Pointer(style), _) => {
            // A light userdata is its own address; everything else (nil, pointer
            // objects, errors) goes through the host.
            let t = e.call(api.type_of, &[index], Some(types::I32)).unwrap();
            let is_light = e.b.ins().icmp_imm_s(IntCC::Equal, t, LUA_TLIGHTUSERDATA);
            e.fast_or_slow(
                is_light,
                ptr,
                |e| e.call(api.touserdata, &[index], Some(ptr)).unwrap(),
                |e| {
                    let helper = match style {
                        PointerStyle::Address => api.address_arg,
                        _ => api.pointer_arg,
                    };
                    e.call(helper, &[index], Some(ptr)).unwrap()
                },
            )
        }
        _ => unreachable!("read by a host helper"),
    }
}

/// Loads the `isnum` flag written by `lua_to{integer,number}x` and branches to the error
/// block when it is zero.
fn check_flag(e: &mut Emitter, check: FlagCheck, index: Value, kind: &ArgKind) {
    let ok = e.b.ins().stack_load(e.ptr, types::I32, check.slot, 0);
    let next = e.b.create_block();
    let code = e.int(kind.expected().code() as i64);
    e.b.ins()
        .brif(ok, next, &[], check.arg_error, &[index.into(), code.into()]);
    e.b.seal_block(next);
    e.b.switch_to_block(next);
}

/// Pushes the number `wide` (an `i64` or an `f64`): written to the stack with the tag
/// `tag_of` picks, or with the Lua C API's `api_push`.
fn push_number(e: &mut Emitter, wide: Value, tag_of: fn(&Tags) -> u8, api_push: usize) {
    match e.stack {
        Some(stack) => {
            let tag = stack.tag(e.b, tag_of(&stack.layout.tags));
            stack.push(e.b, e.lua_state, Some(wide), tag);
        }
        None => {
            e.call(api_push, &[wide], None);
        }
    }
}

/// Pushes the C result; returns the number of Lua results.
fn push_result(e: &mut Emitter, ret: &RetKind, result: Option<Value>, api: &ApiAddresses) -> i64 {
    if let RetKind::Nil = ret {
        e.call(api.pushnil, &[], None);
        return 1;
    }
    let Some(v) = result else { return 0 };
    let inline = e.stack;
    match ret {
        RetKind::Void | RetKind::Nil | RetKind::Record(_) => return 0,
        RetKind::Bool => match inline {
            Some(stack) => {
                let tags = stack.layout.tags;
                let t = stack.tag(e.b, tags.r#true);
                let f = stack.tag(e.b, tags.r#false);
                let tag = e.b.ins().select(v, t, f);
                stack.push(e.b, e.lua_state, None, tag);
            }
            None => {
                let wide = e.b.ins().uextend(types::I32, v);
                e.call(api.pushboolean, &[wide], None);
            }
        },
        &RetKind::Int(kind) => {
            let wide = match (kind.bits, kind.signed) {
                (64, _) => v,
                (_, true) => e.b.ins().sextend(types::I64, v),
                (_, false) => e.b.ins().uextend(types::I64, v),
            };
            push_number(e, wide, |tags| tags.integer, api.pushinteger);
        }
        RetKind::F32 | RetKind::F64 => {
            let wide = if *ret == RetKind::F32 {
                e.b.ins().fpromote(types::F64, v)
            } else {
                v
            };
            push_number(e, wide, |tags| tags.float, api.pushnumber);
        }
        RetKind::String => e.push_nil_if_null(v, api.pushnil, |e| {
            e.call(api.pushstring, &[v], Some(e.ptr));
        }),
        RetKind::Pointer(PointerStyle::Object) => {
            e.call(api.push_pointer, &[v], None);
        }
        RetKind::Pointer(PointerStyle::Light { nil_for_null: true }) => {
            e.push_nil_if_null(v, api.pushnil, |e| {
                e.call(api.pushlightuserdata, &[v], None);
            })
        }
        RetKind::Pointer(PointerStyle::Light {
            nil_for_null: false,
        })
        | RetKind::Pointer(PointerStyle::Address) => {
            e.call(api.pushlightuserdata, &[v], None);
        }
        &RetKind::CharString { signed } => {
            let byte = if signed {
                e.b.ins().sextend(types::I32, v)
            } else {
                e.b.ins().uextend(types::I32, v)
            };
            e.call(api.push_char, &[byte], None);
        }
    }
    1
}
