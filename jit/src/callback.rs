//! Callback code: C entry stubs and Lua-side invokers.
//!
//! A callback is reached through two pieces of generated code:
//!
//! ```text
//! ret entry(args...)                      one per (signature, slot); a C function pointer
//!     each argument as a 64-bit word       (integers extended, floats raw; structs copied
//!                                           to the spill array)
//!     if thread_id() == slot->owner        live, on the OS thread that owns the Lua state,
//!        and slot->entry_index == index:   and the live callback is this entry's
//!         saved = context->current; L = saved ? saved : slot->main
//!         if !lua_checkstack(L, nargs + 8): goto slow
//!         running calls + 1
//!         push traceback, then the function: lua_rawgeti(L, REGISTRY, slot->function_ref)
//!         push each argument
//!         status = lua_pcallk(L, nargs, 1, handler, 0, NULL)
//!         context->current = saved        (the callback may have resumed coroutines)
//!         status ? record_error(context, L)
//!                : convert the result      (numbers and booleans here; pointers, structs
//!                                           and wrong values through the host)
//!         pop; running calls - 1 (a callback freed during its last call: release_freed)
//!         return result
//!     slow: spill args into a u64 array; dispatch(slot, args, &result, entry index)
//!                                          the host: freed slots, foreign threads, queueing
//!     return result                        (narrowed to the C result type)
//!
//! void invoker(lua_State *L, const u64 *args, void *slot)     one per signature
//!     push each spilled argument as a Lua value
//! ```
//!
//! When the host vouches for the Lua stack layout (`LuaApi::stack`), pushes of numbers and
//! booleans, of the handler and of the function are stack writes, and a number result of the
//! expected type is read off the stack: the entry's first call caches the function's stack
//! value in the slot (see [`crate::CallbackSlot`]). Otherwise each goes through the Lua C
//! API. The entry and the invoker push arguments with the same code. Errors never unwind
//! through the C frames above the entry. Splitting at the argument array lets a call from a
//! foreign OS thread be queued and replayed on the Lua thread with the invoker.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, SigRef, Signature as IrSignature,
    StackSlotData, StackSlotKind, Type, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::abi::{ParamLowering, ReturnLowering};
use crate::context::{
    CURRENT_OFFSET, SLOT_CONTEXT_OFFSET, SLOT_ENTRY_INDEX_OFFSET, SLOT_FUNCTION_BITS_OFFSET,
    SLOT_FUNCTION_REF_OFFSET, SLOT_FUNCTION_TAG_OFFSET, SLOT_HANDLER_TAG_OFFSET, SLOT_LIVE_OFFSET,
    SLOT_MAIN_OFFSET, SLOT_OWNER_OFFSET, SLOT_RUNNING_OFFSET,
};
use crate::luaapi::ApiAddresses;
use crate::signature::{ArgKind, PointerStyle, RefKind, RetKind, Signature};
use crate::stack::StackAccess;
use crate::thunk::{int_type, stack_copy_size, target_signature, LUA_TBOOLEAN};

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

/// Aggregates up to this many bytes are copied and zeroed with inline loads and stores;
/// larger ones with `memcpy` and `memset`, so that code size and compile time do not grow
/// with the aggregate.
const INLINE_COPY_LIMIT: u32 = 64;

/// Copies `size` bytes from `src + src_offset` to `dst + dst_offset` with exact-size
/// accesses (never reading past the source).
fn copy_bytes(
    b: &mut FunctionBuilder,
    (c, memcpy): (CCalls, usize),
    (src, src_offset): (Value, i32),
    (dst, dst_offset): (Value, i32),
    size: u32,
) {
    if size > INLINE_COPY_LIMIT {
        let ptr = c.ptr;
        let sig = c.import(b, &[ptr, ptr, ptr], &[ptr]);
        let from = b.ins().iadd_imm_s(src, src_offset as i64);
        let to = b.ins().iadd_imm_s(dst, dst_offset as i64);
        let len = b.ins().iconst(ptr, size as i64);
        c.call(b, sig, memcpy, &[to, from, len]);
        return;
    }
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

/// Calls C functions by address from the function under construction.
#[derive(Clone, Copy)]
struct CCalls {
    cc: CallConv,
    ptr: Type,
}

impl CCalls {
    /// Imports the signature `(params...) -> returns` with the C calling convention.
    fn import(&self, b: &mut FunctionBuilder, params: &[Type], returns: &[Type]) -> SigRef {
        let mut s = IrSignature::new(self.cc);
        s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        s.returns.extend(returns.iter().map(|&t| AbiParam::new(t)));
        b.import_signature(s)
    }

    /// Calls the C function at `addr` with `sig`; returns its results.
    fn call(
        &self,
        b: &mut FunctionBuilder,
        sig: SigRef,
        addr: usize,
        args: &[Value],
    ) -> Vec<Value> {
        let callee = b.ins().iconst(self.ptr, addr as i64);
        let call = b.ins().call_indirect(sig, callee, args);
        b.inst_results(call).to_vec()
    }
}

/// Where an entry belongs: its slot's address, its index among the slot's entries (see
/// `CallbackSlot::entry_index`) and the host's `dispatch(slot, args, result, index)`.
#[derive(Clone, Copy)]
pub(crate) struct EntryPlace {
    pub slot: usize,
    pub index: u32,
    pub dispatch: usize,
}

/// Builds the C entry for `sig` at `place`: the whole call on the owning OS thread while the
/// slot's live callback is this entry's, `dispatch(slot, args, result, index)` for
/// everything else (see the module doc).
pub(crate) fn build_entry(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    sig: &Signature,
    place: EntryPlace,
    api: &ApiAddresses,
    call_conv: CallConv,
    config: TargetFrontendConfig,
) {
    let ptr = config.pointer_type();
    let c = CCalls { cc: call_conv, ptr };
    let stack = api.stack.map(|layout| StackAccess { layout, ptr });
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
    // Zeroes the result buffer: what C gets back when the call fails or never runs.
    let zero_result = |b: &mut FunctionBuilder| {
        let size = result_size(sig);
        if size > INLINE_COPY_LIMIT {
            let memset = c.import(b, &[ptr, types::I32, ptr], &[ptr]);
            let at = b.ins().stack_addr(ptr, result, 0);
            let zero = b.ins().iconst(types::I32, 0);
            let len = b.ins().iconst(ptr, size as i64);
            c.call(b, memset, api.memset, &[at, zero, len]);
            return;
        }
        let zero = b.ins().iconst(types::I64, 0);
        for word in 0..size as i32 / WORD {
            b.ins().stack_store(ptr, zero, result, word * WORD);
        }
    };
    let args_addr = b.ins().stack_addr(ptr, args, 0);
    // Each argument as a spill word (see `push_arguments`); structs go to the spill array
    // right away, scalars only on the slow path.
    let offsets = spill_offsets(sig);
    let mut words = Vec::with_capacity(sig.args.len());
    for ((kind, lowered), &offset) in sig.args.iter().zip(&lowering.params).zip(&offsets) {
        match lowered {
            ParamLowering::Parts(parts) | ParamLowering::OnStack { parts, .. } => {
                if let ParamLowering::OnStack { pad, .. } = lowered {
                    // The registers the ABI closed carry nothing.
                    params.by_ref().take(pad.len()).for_each(drop);
                }
                for part in parts {
                    let v = params.next().unwrap();
                    b.ins()
                        .stack_store(ptr, v, args, offset + part.offset as i32);
                }
                words.push(b.ins().stack_addr(ptr, args, offset));
            }
            ParamLowering::StackCopy { .. } | ParamLowering::Reference => {
                let src = params.next().unwrap();
                let ArgKind::Record(shape) = kind else {
                    unreachable!("only aggregates are lowered to memory")
                };
                copy_bytes(
                    &mut b,
                    (c, api.memcpy),
                    (src, 0),
                    (args_addr, offset),
                    shape.size,
                );
                words.push(b.ins().stack_addr(ptr, args, offset));
            }
            ParamLowering::Scalar(_) => {
                let value = params.next().unwrap();
                words.push(match kind {
                    ArgKind::Int(int) if int.bits < 64 && int.signed => {
                        b.ins().sextend(types::I64, value)
                    }
                    ArgKind::Int(int) if int.bits < 64 => b.ins().uextend(types::I64, value),
                    ArgKind::CharString { signed: true } => b.ins().sextend(types::I64, value),
                    ArgKind::CharString { signed: false } => b.ins().uextend(types::I64, value),
                    ArgKind::Bool => b.ins().uextend(types::I64, value),
                    _ => value,
                });
            }
        }
    }
    let slot = b.ins().iconst(ptr, place.slot as i64);
    // The host reads arguments from the spill array (structs are there already).
    let spill_scalars = |b: &mut FunctionBuilder| {
        for ((kind, &word), &offset) in sig.args.iter().zip(&words).zip(&offsets) {
            if !matches!(kind, ArgKind::Record(_)) {
                b.ins().stack_store(ptr, word, args, offset);
            }
        }
    };

    let (fast, run, convert, bad, failed_result, done, failed, slow, finish, epilogue) = (
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
    );
    let release = b.create_block();
    let protected = converts_on_host(sig).then_some(api.callback_protected_call);
    for cold in [bad, failed_result, failed, slow, release] {
        b.set_cold_block(cold);
    }
    let flags = MemFlagsData::trusted();

    // Called on the thread that owns the Lua state, while the slot is live?
    let thread_id = c.import(&mut b, &[], &[ptr]);
    let me = c.call(&mut b, thread_id, api.thread_id, &[])[0];
    let owner = b.ins().load(ptr, flags, slot, SLOT_OWNER_OFFSET);
    let is_owner = b.ins().icmp(IntCC::Equal, me, owner);
    let index = b
        .ins()
        .load(types::I32, flags, slot, SLOT_ENTRY_INDEX_OFFSET);
    let is_mine = b.ins().icmp_imm_u(IntCC::Equal, index, place.index as i64);
    let runs_here = b.ins().band(is_owner, is_mine);
    b.ins().brif(runs_here, fast, &[], slow, &[]);
    b.seal_block(fast);

    // The Lua thread calling into C right now, else the main thread; room on its stack?
    b.switch_to_block(fast);
    let context = b.ins().load(ptr, flags, slot, SLOT_CONTEXT_OFFSET);
    let saved = b.ins().load(ptr, flags, context, CURRENT_OFFSET);
    let main = b.ins().load(ptr, flags, slot, SLOT_MAIN_OFFSET);
    let l = b.ins().select(saved, saved, main);
    let nargs = sig.args.len() as i64;
    let checkstack = c.import(&mut b, &[ptr, types::I32], &[types::I32]);
    // Each argument takes one slot; pushing a struct argument briefly takes four more.
    let room = b.ins().iconst(types::I32, nargs + 8);
    let has_room = c.call(&mut b, checkstack, api.checkstack, &[l, room])[0];
    b.ins().brif(has_room, run, &[], slow, &[]);
    b.seal_block(run);

    // Handler, function, arguments; protected call; the current thread back.
    b.switch_to_block(run);
    let running = b.ins().load(types::I32, flags, slot, SLOT_RUNNING_OFFSET);
    let running = b.ins().iadd_imm_s(running, 1);
    b.ins().store(flags, running, slot, SLOT_RUNNING_OFFSET);
    let record_error = c.import(&mut b, &[ptr, ptr], &[]);
    let settop = c.import(&mut b, &[ptr, types::I32], &[]);
    if let Some(protected_call) = protected {
        // A result the host converts: the host's protected_call(args, slot, result) pushes
        // the arguments, calls and converts inside the protected call, so that no error
        // (not even a memory error) unwinds through the C code calling us.
        spill_scalars(&mut b);
        let pushcclosure = c.import(&mut b, &[ptr, ptr, types::I32], &[]);
        let no_upvalues = b.ins().iconst(types::I32, 0);
        for function in [api.callback_traceback, protected_call] {
            let function = b.ins().iconst(ptr, function as i64);
            c.call(
                &mut b,
                pushcclosure,
                api.pushcclosure,
                &[l, function, no_upvalues],
            );
        }
        let push_light = c.import(&mut b, &[ptr, ptr], &[]);
        let result_addr = b.ins().stack_addr(ptr, result, 0);
        for light in [args_addr, slot, result_addr] {
            c.call(&mut b, push_light, api.pushlightuserdata, &[l, light]);
        }
        let pcallk = c.import(
            &mut b,
            &[ptr, types::I32, types::I32, types::I32, ptr, ptr],
            &[types::I32],
        );
        let three = b.ins().iconst(types::I32, 3);
        let none = b.ins().iconst(types::I32, 0);
        let handler_index = b.ins().iconst(types::I32, -5);
        let null = b.ins().iconst(ptr, 0);
        let status = c.call(
            &mut b,
            pcallk,
            api.pcallk,
            &[l, three, none, handler_index, null, null],
        )[0];
        b.ins().store(flags, saved, context, CURRENT_OFFSET);
        let converted = b.create_block();
        b.ins().brif(status, failed, &[], converted, &[]);
        b.seal_block(converted);
        b.seal_block(failed);
        // The result is converted; pop the handler.
        b.switch_to_block(converted);
        let below = b.ins().iconst(types::I32, -2);
        c.call(&mut b, settop, api.settop, &[l, below]);
        b.ins().jump(finish, &[]);
    } else {
        match stack {
            Some(stack) => {
                // Written straight to the stack once the first call cached the values.
                let (cached, first, pushed) =
                    (b.create_block(), b.create_block(), b.create_block());
                b.set_cold_block(first);
                let tag = b
                    .ins()
                    .load(types::I8, flags, slot, SLOT_FUNCTION_TAG_OFFSET);
                b.ins().brif(tag, cached, &[], first, &[]);
                b.seal_block(cached);
                b.seal_block(first);
                b.switch_to_block(cached);
                let handler_tag = b
                    .ins()
                    .load(types::I8, flags, slot, SLOT_HANDLER_TAG_OFFSET);
                let handler = b.ins().iconst(ptr, api.callback_traceback as i64);
                stack.push(&mut b, l, Some(handler), handler_tag);
                let bits = b.ins().load(ptr, flags, slot, SLOT_FUNCTION_BITS_OFFSET);
                stack.push(&mut b, l, Some(bits), tag);
                b.ins().jump(pushed, &[]);
                b.switch_to_block(first);
                push_function(&mut b, c, api, l, slot);
                let top = stack.top(&mut b, l);
                let size = stack.layout.slot_size;
                let handler_tag = b
                    .ins()
                    .load(types::I8, flags, top, stack.layout.tag - 2 * size);
                b.ins()
                    .store(flags, handler_tag, slot, SLOT_HANDLER_TAG_OFFSET);
                let bits = b.ins().load(ptr, flags, top, -size);
                b.ins().store(flags, bits, slot, SLOT_FUNCTION_BITS_OFFSET);
                let tag = b.ins().load(types::I8, flags, top, stack.layout.tag - size);
                b.ins().store(flags, tag, slot, SLOT_FUNCTION_TAG_OFFSET);
                b.ins().jump(pushed, &[]);
                b.seal_block(pushed);
                b.switch_to_block(pushed);
            }
            None => push_function(&mut b, c, api, l, slot),
        }
        push_arguments(&mut b, c, stack, sig, api, l, &words, slot);
        let pcallk = c.import(
            &mut b,
            &[ptr, types::I32, types::I32, types::I32, ptr, ptr],
            &[types::I32],
        );
        let nargs_value = b.ins().iconst(types::I32, nargs);
        let one = b.ins().iconst(types::I32, 1);
        let handler_index = b.ins().iconst(types::I32, -(nargs + 2));
        let null = b.ins().iconst(ptr, 0);
        let status = c.call(
            &mut b,
            pcallk,
            api.pcallk,
            &[l, nargs_value, one, handler_index, null, null],
        )[0];
        b.ins().store(flags, saved, context, CURRENT_OFFSET);
        b.ins().brif(status, failed, &[], convert, &[]);
        b.seal_block(convert);
        b.seal_block(failed);

        // The result, on top of the handler.
        b.switch_to_block(convert);
        let callback_result = c.import(&mut b, &[ptr, ptr, ptr], &[types::I32]);
        let top_index = b.ins().iconst(types::I32, -1);
        let ret_f32 = matches!(sig.ret, RetKind::F32);
        let store_number = |b: &mut FunctionBuilder, value: Value| {
            let value = if ret_f32 {
                b.ins().fdemote(types::F32, value)
            } else {
                value
            };
            b.ins().stack_store(ptr, value, result, 0);
        };
        // A number result: read off the stack when its tag is `fast_tag`, else through the Lua C
        // API function at `addr` (which converts strings and floats with integral values).
        let number = |b: &mut FunctionBuilder, fast_tag: u8, addr: usize, ty: Type| {
            let api_path = b.create_block();
            if let Some(stack) = stack {
                let fast = b.create_block();
                let top = stack.top(b, l);
                let size = stack.layout.slot_size;
                let tag = b.ins().load(types::I8, flags, top, stack.layout.tag - size);
                let is_fast = stack.tag_is(b, tag, fast_tag);
                b.ins().brif(is_fast, fast, &[], api_path, &[]);
                b.seal_block(fast);
                b.switch_to_block(fast);
                let value = b.ins().load(ty, flags, top, -size);
                store_number(b, value);
                b.ins().jump(done, &[]);
            } else {
                b.ins().jump(api_path, &[]);
            }
            b.seal_block(api_path);
            b.switch_to_block(api_path);
            let isnum =
                b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 4, 2));
            let isnum_addr = b.ins().stack_addr(ptr, isnum, 0);
            let to = c.import(b, &[ptr, types::I32, ptr], &[ty]);
            let value = c.call(b, to, addr, &[l, top_index, isnum_addr])[0];
            store_number(b, value);
            let ok = b.ins().stack_load(ptr, types::I32, isnum, 0);
            b.ins().brif(ok, done, &[], bad, &[]);
        };
        let tags = stack.map(|s| s.layout.tags);
        match &sig.ret {
            RetKind::Void | RetKind::Nil => {
                b.ins().jump(done, &[]);
            }
            RetKind::Bool => {
                // nil and false are false, true is true; any other value is the wrong type (the
                // rule of `bool` arguments and memory stores), reported by the host.
                let toboolean = c.import(&mut b, &[ptr, types::I32], &[types::I32]);
                let truth = c.call(&mut b, toboolean, api.toboolean, &[l, top_index])[0];
                let word = b.ins().uextend(types::I64, truth);
                b.ins().stack_store(ptr, word, result, 0);
                let truthy = b.create_block();
                b.ins().brif(truth, truthy, &[], done, &[]);
                b.seal_block(truthy);
                b.switch_to_block(truthy);
                let type_of = c.import(&mut b, &[ptr, types::I32], &[types::I32]);
                let t = c.call(&mut b, type_of, api.type_of, &[l, top_index])[0];
                let is_boolean = b.ins().icmp_imm_s(IntCC::Equal, t, LUA_TBOOLEAN);
                b.ins().brif(is_boolean, done, &[], bad, &[]);
            }
            RetKind::Int(_) => number(
                &mut b,
                tags.map_or(0, |t| t.integer),
                api.tointegerx,
                types::I64,
            ),
            RetKind::F64 | RetKind::F32 => number(
                &mut b,
                tags.map_or(0, |t| t.float),
                api.tonumberx,
                types::F64,
            ),
            RetKind::Pointer(_)
            | RetKind::String
            | RetKind::CharString { .. }
            | RetKind::Record(_) => {
                let result_addr = b.ins().stack_addr(ptr, result, 0);
                let ok = c.call(
                    &mut b,
                    callback_result,
                    api.callback_result,
                    &[l, slot, result_addr],
                )[0];
                b.ins().brif(ok, done, &[], failed_result, &[]);
            }
        }
        b.seal_block(bad);

        // A wrong value: the host converts again and pushes the message.
        b.switch_to_block(bad);
        let result_addr = b.ins().stack_addr(ptr, result, 0);
        c.call(
            &mut b,
            callback_result,
            api.callback_result,
            &[l, slot, result_addr],
        );
        b.ins().jump(failed_result, &[]);
        b.seal_block(failed_result);

        b.switch_to_block(failed_result);
        zero_result(&mut b);
        c.call(&mut b, record_error, api.record_error, &[context, l]);
        b.ins().jump(done, &[]);
        b.seal_block(done);

        // Pop the handler and the result.
        b.switch_to_block(done);
        match stack {
            Some(stack) => {
                let top = stack.top(&mut b, l);
                let below = b.ins().iadd_imm_s(top, -2 * stack.layout.slot_size as i64);
                b.ins().store(flags, below, l, stack.layout.top);
            }
            None => {
                let below = b.ins().iconst(types::I32, -3);
                c.call(&mut b, settop, api.settop, &[l, below]);
            }
        }
        b.ins().jump(finish, &[]);
    }

    // The function failed: record the message, pop the handler.
    b.switch_to_block(failed);
    zero_result(&mut b);
    c.call(&mut b, record_error, api.record_error, &[context, l]);
    let below = b.ins().iconst(types::I32, -2);
    c.call(&mut b, settop, api.settop, &[l, below]);
    b.ins().jump(finish, &[]);
    b.seal_block(finish);

    // The call is over; a callback freed during it is released once no call of it runs.
    b.switch_to_block(finish);
    let running = b.ins().load(types::I32, flags, slot, SLOT_RUNNING_OFFSET);
    let running = b.ins().iadd_imm_s(running, -1);
    b.ins().store(flags, running, slot, SLOT_RUNNING_OFFSET);
    let live = b.ins().load(types::I8, flags, slot, SLOT_LIVE_OFFSET);
    let live = b.ins().uextend(types::I32, live);
    let running_or_live = b.ins().bor(running, live);
    b.ins().brif(running_or_live, epilogue, &[], release, &[]);
    b.seal_block(release);
    b.switch_to_block(release);
    let release_freed = c.import(&mut b, &[ptr, ptr], &[]);
    c.call(&mut b, release_freed, api.release_freed, &[slot, l]);
    b.ins().jump(epilogue, &[]);
    b.seal_block(slow);

    b.switch_to_block(slow);
    spill_scalars(&mut b);
    zero_result(&mut b);
    let result_addr = b.ins().stack_addr(ptr, result, 0);
    let dispatch_sig = c.import(&mut b, &[ptr, ptr, ptr, types::I32], &[]);
    let index = b.ins().iconst(types::I32, place.index as i64);
    c.call(
        &mut b,
        dispatch_sig,
        place.dispatch,
        &[slot, args_addr, result_addr, index],
    );
    b.ins().jump(epilogue, &[]);
    b.seal_block(epilogue);

    b.switch_to_block(epilogue);
    let returned: Vec<Value> = match (&sig.ret, &lowering.ret) {
        (_, ReturnLowering::Void) => vec![],
        (RetKind::Record(shape), ReturnLowering::Hidden) => {
            let result_addr = b.ins().stack_addr(ptr, result, 0);
            copy_bytes(
                &mut b,
                (c, api.memcpy),
                (result_addr, 0),
                (sret.unwrap(), 0),
                shape.size,
            );
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
        (RetKind::Int(_) | RetKind::CharString { .. }, _) => {
            let bits = match sig.ret {
                RetKind::Int(int) => int.bits,
                _ => 8,
            };
            let word = b.ins().stack_load(ptr, types::I64, result, 0);
            vec![if bits < 64 {
                b.ins().ireduce(crate::thunk::int_type(bits), word)
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
    api: &ApiAddresses,
    call_conv: CallConv,
    config: TargetFrontendConfig,
) {
    let c = CCalls {
        cc: call_conv,
        ptr: config.pointer_type(),
    };
    func.signature = IrSignature::new(call_conv);
    func.signature.params.extend([AbiParam::new(c.ptr); 3]);
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
    let flags = MemFlagsData::trusted();
    let words: Vec<Value> = sig
        .args
        .iter()
        .zip(spill_offsets(sig))
        .map(|(kind, offset)| match word_type(kind, c.ptr) {
            Some(ty) => b.ins().load(ty, flags, args, offset),
            None => b.ins().iadd_imm_s(args, offset as i64),
        })
        .collect();
    let stack = api.stack.map(|layout| StackAccess { layout, ptr: c.ptr });
    push_arguments(&mut b, c, stack, sig, api, lua_state, &words, slot);
    b.ins().return_(&[]);
    b.finalize(config);
}

/// Pushes values by writing the stack: `(value, tag)` pairs (`None` for a value that is its
/// tag alone) in one go, with one read and one write of `L->top`.
fn push_direct(
    b: &mut FunctionBuilder,
    stack: StackAccess,
    lua_state: Value,
    values: &[(Option<Value>, Value)],
) {
    if values.is_empty() {
        return;
    }
    let flags = MemFlagsData::trusted();
    let size = stack.layout.slot_size;
    let top = stack.top(b, lua_state);
    for (i, &(value, tag)) in values.iter().enumerate() {
        let at = i as i32 * size;
        if let Some(value) = value {
            b.ins().store(flags, value, top, at);
        }
        b.ins().store(flags, tag, top, at + stack.layout.tag);
    }
    let next = b.ins().iadd_imm_s(top, values.len() as i64 * size as i64);
    b.ins().store(flags, next, lua_state, stack.layout.top);
}

/// Pushes the message handler of callback calls and the slot's function (by its registry
/// reference, read at call time) through the Lua C API.
fn push_function(b: &mut FunctionBuilder, c: CCalls, api: &ApiAddresses, l: Value, slot: Value) {
    let ptr = c.ptr;
    let pushcclosure = c.import(b, &[ptr, ptr, types::I32], &[]);
    let handler = b.ins().iconst(ptr, api.callback_traceback as i64);
    let no_upvalues = b.ins().iconst(types::I32, 0);
    c.call(
        b,
        pushcclosure,
        api.pushcclosure,
        &[l, handler, no_upvalues],
    );
    let function_ref = b.ins().load(
        types::I32,
        MemFlagsData::trusted(),
        slot,
        SLOT_FUNCTION_REF_OFFSET,
    );
    let function_ref = b.ins().sextend(types::I64, function_ref);
    let registry = b.ins().iconst(types::I32, api.registry_index as i64);
    let rawgeti = c.import(b, &[ptr, types::I32, types::I64], &[types::I32]);
    c.call(b, rawgeti, api.rawgeti, &[l, registry, function_ref]);
}

/// Whether the host converts the callback's result (pointers, strings, structs,
/// characters): a conversion that may raise (a pointer into a reset arena, a struct filled
/// from a table), so the call runs inside the protected call, in the host's
/// `protected_call`, with the pushes of its arguments. Callbacks with a number or boolean
/// result push inline, which costs a C call less (a tenth of a qsort comparison's cost); only
/// a memory error while a pointer, string or struct argument is pushed can then leave them.
fn converts_on_host(sig: &Signature) -> bool {
    matches!(
        sig.ret,
        RetKind::Pointer(_) | RetKind::String | RetKind::CharString { .. } | RetKind::Record(_)
    )
}

/// The type of the spill word of a scalar argument; `None` for a struct, spilled as its bytes.
fn word_type(kind: &ArgKind, ptr: Type) -> Option<Type> {
    match kind {
        ArgKind::Int(_) | ArgKind::Bool | ArgKind::CharString { .. } => Some(types::I64),
        ArgKind::F32 => Some(types::F32),
        ArgKind::F64 => Some(types::F64),
        ArgKind::Pointer(_)
        | ArgKind::FunctionPointer
        | ArgKind::Ref(_)
        | ArgKind::String
        | ArgKind::TableArray(_) => Some(ptr),
        ArgKind::Record(_) => None,
    }
}

/// Pushes every argument of `sig` onto `lua_state`'s stack from its spill word (of
/// [`word_type`]; the address of its bytes for a struct, pushed through the host's
/// `push_callback_record`, which takes `slot`).
#[allow(clippy::too_many_arguments)]
fn push_arguments(
    b: &mut FunctionBuilder,
    c: CCalls,
    stack: Option<StackAccess>,
    sig: &Signature,
    api: &ApiAddresses,
    lua_state: Value,
    words: &[Value],
    slot: Value,
) {
    let ptr = c.ptr;
    let push_integer = c.import(b, &[ptr, types::I64], &[]);
    let push_number = c.import(b, &[ptr, types::F64], &[]);
    let push_int32 = c.import(b, &[ptr, types::I32], &[]);
    let push_ptr = c.import(b, &[ptr, ptr], &[]);
    let push_nothing = c.import(b, &[ptr], &[]);
    let push_record = c.import(b, &[ptr, ptr, ptr, types::I32], &[]);
    // lua_pushstring returns a pointer; the result is unused.
    let push_string = c.import(b, &[ptr, ptr], &[ptr]);

    let mut records = 0i64;
    // Direct writes wait for the next Lua C API push, or the end.
    let mut pending = Vec::new();
    for (kind, &word) in sig.args.iter().zip(words) {
        let direct = matches!(
            kind,
            ArgKind::Int(_) | ArgKind::F32 | ArgKind::F64 | ArgKind::Bool
        );
        if let (Some(stack), false) = (stack, direct) {
            push_direct(b, stack, lua_state, &pending);
            pending.clear();
        }
        match kind {
            ArgKind::Int(_) => match stack {
                Some(stack) => {
                    let tag = stack.tag(b, stack.layout.tags.integer);
                    pending.push((Some(word), tag));
                }
                None => {
                    c.call(b, push_integer, api.pushinteger, &[lua_state, word]);
                }
            },
            ArgKind::F32 | ArgKind::F64 => {
                let wide = match kind {
                    ArgKind::F32 => b.ins().fpromote(types::F64, word),
                    _ => word,
                };
                match stack {
                    Some(stack) => {
                        let tag = stack.tag(b, stack.layout.tags.float);
                        pending.push((Some(wide), tag));
                    }
                    None => {
                        c.call(b, push_number, api.pushnumber, &[lua_state, wide]);
                    }
                }
            }
            ArgKind::Bool => match stack {
                Some(stack) => {
                    let (yes, no) = (
                        stack.tag(b, stack.layout.tags.r#true),
                        stack.tag(b, stack.layout.tags.r#false),
                    );
                    let tag = b.ins().select(word, yes, no);
                    pending.push((None, tag));
                }
                None => {
                    let narrow = b.ins().ireduce(types::I32, word);
                    c.call(b, push_int32, api.pushboolean, &[lua_state, narrow]);
                }
            },
            ArgKind::Pointer(PointerStyle::Object) => {
                c.call(b, push_ptr, api.push_pointer, &[lua_state, word]);
            }
            &ArgKind::Ref(kind) => {
                // C passes the address of a value: Lua gets the value (nil for NULL).
                push_nil_if_null(b, c, (push_nothing, api.pushnil), lua_state, word, |b| {
                    // Not `trusted`: C's pointer need not be aligned.
                    let flags = MemFlagsData::new();
                    match kind {
                        RefKind::Int(int) => {
                            let v = b.ins().load(int_type(int.bits), flags, word, 0);
                            let wide = match int.bits {
                                64 => v,
                                _ if int.signed => b.ins().sextend(types::I64, v),
                                _ => b.ins().uextend(types::I64, v),
                            };
                            c.call(b, push_integer, api.pushinteger, &[lua_state, wide]);
                        }
                        RefKind::Bool => {
                            let v = b.ins().load(types::I8, flags, word, 0);
                            let set = b.ins().icmp_imm_s(IntCC::NotEqual, v, 0);
                            let set = b.ins().uextend(types::I32, set);
                            c.call(b, push_int32, api.pushboolean, &[lua_state, set]);
                        }
                        RefKind::F32 | RefKind::F64 => {
                            let v = match kind {
                                RefKind::F32 => {
                                    let v = b.ins().load(types::F32, flags, word, 0);
                                    b.ins().fpromote(types::F64, v)
                                }
                                _ => b.ins().load(types::F64, flags, word, 0),
                            };
                            c.call(b, push_number, api.pushnumber, &[lua_state, v]);
                        }
                        RefKind::Pointer => {
                            let v = b.ins().load(ptr, flags, word, 0);
                            c.call(b, push_ptr, api.push_pointer, &[lua_state, v]);
                        }
                    }
                });
            }
            ArgKind::Pointer(PointerStyle::Light { nil_for_null: true })
            | ArgKind::FunctionPointer => {
                push_nil_if_null(b, c, (push_nothing, api.pushnil), lua_state, word, |b| {
                    c.call(b, push_ptr, api.pushlightuserdata, &[lua_state, word]);
                });
            }
            ArgKind::Pointer(PointerStyle::Light {
                nil_for_null: false,
            })
            | ArgKind::Pointer(PointerStyle::Address) => {
                c.call(b, push_ptr, api.pushlightuserdata, &[lua_state, word]);
            }
            ArgKind::CharString { .. } => {
                let byte = b.ins().ireduce(types::I32, word);
                c.call(b, push_int32, api.push_char, &[lua_state, byte]);
            }
            ArgKind::TableArray(_) => unreachable!("the host refuses arrays in callbacks"),
            ArgKind::Record(_) => {
                let record = b.ins().iconst(types::I32, records);
                records += 1;
                c.call(
                    b,
                    push_record,
                    api.push_callback_record,
                    &[lua_state, word, slot, record],
                );
            }
            ArgKind::String => {
                push_nil_if_null(b, c, (push_nothing, api.pushnil), lua_state, word, |b| {
                    c.call(b, push_string, api.pushstring, &[lua_state, word]);
                });
            }
        }
    }
    if let Some(stack) = stack {
        push_direct(b, stack, lua_state, &pending);
    }
}

/// Pushes nil when the pointer `word` is NULL, else what `push` pushes.
/// `push_nothing` is the imported signature of `lua_pushnil`.
fn push_nil_if_null(
    b: &mut FunctionBuilder,
    c: CCalls,
    (push_nothing, pushnil): (SigRef, usize),
    lua_state: Value,
    word: Value,
    push: impl FnOnce(&mut FunctionBuilder),
) {
    let is_null = b.ins().icmp_imm_s(IntCC::Equal, word, 0);
    let (null, value, next) = (b.create_block(), b.create_block(), b.create_block());
    b.ins().brif(is_null, null, &[], value, &[]);
    b.seal_block(null);
    b.seal_block(value);
    b.switch_to_block(null);
    c.call(b, push_nothing, pushnil, &[lua_state]);
    b.ins().jump(next, &[]);
    b.switch_to_block(value);
    push(b);
    b.ins().jump(next, &[]);
    b.seal_block(next);
    b.switch_to_block(next);
}
