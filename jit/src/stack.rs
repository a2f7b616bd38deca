//! The Lua value stack as generated code reads and writes it directly.
//!
//! A hand-written binding pays one Lua C API call per argument (`luaL_checkinteger`...) and
//! one per result. A thunk can do better when it knows how the Lua library lays out its
//! stack: the type tag of argument `i` is one byte at a fixed offset from the slot of the
//! running function, an integer or a float is the eight bytes before it, and pushing a number
//! is two stores and a bump of `L->top`. The common case of every argument is then one load
//! and one compare; anything else (a float for an integer parameter, a number for a string
//! parameter, a wrong type) takes the Lua C API path, which also produces the error.
//!
//! The layout is a property of the Lua build, not of the Lua version's documentation: the
//! host checks it once per process against the Lua C API itself (`lua_gettop`,
//! `lua_tointegerx`, `lua_tolstring`...) on a scratch state, and hands it to the code
//! generator only when every check agrees. Without it thunks use the Lua C API alone.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;

/// Where a Lua library keeps what thunks read. Offsets are in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StackLayout {
    /// `L->top` in `lua_State`: the first free stack slot.
    pub top: i32,
    /// `L->ci` in `lua_State`: the running call's `CallInfo`.
    pub call_info: i32,
    /// `ci->func` in `CallInfo`: the slot of the running function; argument `i` is `i`
    /// slots above it.
    pub func: i32,
    /// Bytes per stack slot.
    pub slot_size: i32,
    /// The type tag byte in a slot (the value is at offset 0).
    pub tag: i32,
    /// The bytes of a string from its `TString` (the value of a string slot).
    pub string_data: i32,
    pub userdata: UserdataLayout,
    /// The first upvalue (a slot-sized value) of a C closure, from the closure (the value of
    /// the running function's slot).
    pub closure_upvalues: i32,
    pub tags: Tags,
}

/// Where a full userdata's block is (the value of a userdata slot is the `Udata`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserdataLayout {
    /// The number of user values, an unsigned 16-bit field.
    pub user_values: i32,
    /// The block's length in bytes, a `size_t`.
    pub len: i32,
    /// The block of a userdata without user values.
    pub data_plain: i32,
    /// The block of a userdata with user values starts this far plus `user_value_size`
    /// bytes per user value.
    pub data_with_values: i32,
    pub user_value_size: i32,
}

/// The type tag bytes of the values thunks read inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tags {
    pub integer: u8,
    pub float: u8,
    pub r#false: u8,
    pub r#true: u8,
    pub light_userdata: u8,
    pub full_userdata: u8,
    pub short_string: u8,
    pub long_string: u8,
}

impl StackLayout {
    /// Lua 5.4 (every 5.4.x release): `lua_State` starts with the GC header (8 + 1 + 1
    /// bytes), `status`, `allowhook`, `nci`, then `top` at 16, `l_G` at 24 and `ci` at 32;
    /// `CallInfo` starts with `func`; a `StackValue` is a 16-byte `TValue` whose tag byte
    /// follows the 8-byte value; `TString`'s bytes start at 24; `Udata` has its user value
    /// count at 10 and its length at 16, and its block at 32 (`Udata0`) or after the user
    /// values that start at 40; a `CClosure`'s upvalues start at 32.
    pub const LUA54: StackLayout = StackLayout {
        top: 16,
        call_info: 32,
        func: 0,
        slot_size: 16,
        tag: 8,
        string_data: 24,
        userdata: UserdataLayout {
            user_values: 10,
            len: 16,
            data_plain: 32,
            data_with_values: 40,
            user_value_size: 16,
        },
        closure_upvalues: 32,
        tags: Tags {
            integer: 0x03,
            float: 0x13,
            r#false: 0x01,
            r#true: 0x11,
            light_userdata: 0x02,
            full_userdata: 0x47,
            short_string: 0x44,
            long_string: 0x54,
        },
    };
}

/// Emits direct stack accesses for one function under construction.
#[derive(Clone, Copy)]
pub(crate) struct StackAccess {
    pub layout: StackLayout,
    pub ptr: Type,
}

impl StackAccess {
    fn flags() -> MemFlagsData {
        MemFlagsData::trusted()
    }

    /// The slot of the running function (`ci->func`). Argument `i` is `i` slots above it.
    /// Stale after anything that can reallocate the stack (a Lua C API call that allocates).
    pub fn func(&self, b: &mut FunctionBuilder, lua_state: Value) -> Value {
        let ci = b
            .ins()
            .load(self.ptr, Self::flags(), lua_state, self.layout.call_info);
        b.ins().load(self.ptr, Self::flags(), ci, self.layout.func)
    }

    /// `L->top`.
    pub fn top(&self, b: &mut FunctionBuilder, lua_state: Value) -> Value {
        b.ins()
            .load(self.ptr, Self::flags(), lua_state, self.layout.top)
    }

    /// True when the running function got between `min` and `max` arguments.
    pub fn has_arg_count(
        &self,
        b: &mut FunctionBuilder,
        lua_state: Value,
        func: Value,
        min: usize,
        max: usize,
    ) -> Value {
        let top = self.top(b, lua_state);
        let used = b.ins().isub(top, func);
        let slot = self.layout.slot_size as i64;
        let least = (min as i64 + 1) * slot;
        if min == max {
            return b.ins().icmp_imm_s(IntCC::Equal, used, least);
        }
        let extra = b.ins().iadd_imm_s(used, -least);
        b.ins().icmp_imm_u(
            IntCC::UnsignedLessThanOrEqual,
            extra,
            (max - min) as i64 * slot,
        )
    }

    fn arg_offset(&self, index: usize) -> i32 {
        index as i32 * self.layout.slot_size
    }

    /// The type tag of argument `index` (1-based), as an `i8`.
    pub fn arg_tag(&self, b: &mut FunctionBuilder, func: Value, index: usize) -> Value {
        let offset = self.arg_offset(index) + self.layout.tag;
        b.ins().load(types::I8, Self::flags(), func, offset)
    }

    /// The value bits of argument `index` read as `ty`.
    pub fn arg_value(&self, b: &mut FunctionBuilder, func: Value, index: usize, ty: Type) -> Value {
        b.ins()
            .load(ty, Self::flags(), func, self.arg_offset(index))
    }

    /// `tag == expected`.
    pub fn tag_is(&self, b: &mut FunctionBuilder, tag: Value, expected: u8) -> Value {
        b.ins().icmp_imm_s(IntCC::Equal, tag, expected as i8 as i64)
    }

    /// `tag == first || tag == second`, in one compare when the two differ in one bit (short
    /// and long strings, false and true in Lua 5.4).
    pub fn tag_is_either(
        &self,
        b: &mut FunctionBuilder,
        tag: Value,
        first: u8,
        second: u8,
    ) -> Value {
        let differ = first ^ second;
        if differ.count_ones() == 1 {
            let merged = b.ins().bor_imm_s(tag, differ as i8 as i64);
            self.tag_is(b, merged, first | second)
        } else {
            let is_first = self.tag_is(b, tag, first);
            let is_second = self.tag_is(b, tag, second);
            b.ins().bor(is_first, is_second)
        }
    }

    /// The bytes of the string in argument `index` (whose tag says string).
    pub fn arg_string(&self, b: &mut FunctionBuilder, func: Value, index: usize) -> Value {
        let string = self.arg_value(b, func, index, self.ptr);
        b.ins().iadd_imm_s(string, self.layout.string_data as i64)
    }

    /// The block of the full userdata `udata` (the value of a userdata slot) and its length.
    pub fn userdata_block(&self, b: &mut FunctionBuilder, udata: Value) -> (Value, Value) {
        let layout = self.layout.userdata;
        let count = b
            .ins()
            .uload16(types::I64, Self::flags(), udata, layout.user_values);
        let values = b.ins().imul_imm_s(count, layout.user_value_size as i64);
        let with_values = b.ins().iadd_imm_s(values, layout.data_with_values as i64);
        let plain = b.ins().iconst(types::I64, layout.data_plain as i64);
        let offset = b.ins().select(count, with_values, plain);
        let block = b.ins().iadd(udata, offset);
        let len = b.ins().load(self.ptr, Self::flags(), udata, layout.len);
        (block, len)
    }

    /// Where the block of the full userdata in upvalue 1 of the running C closure (whose
    /// slot is `func`) is: at the returned offset from the returned address (for loads to
    /// fold). The caller guarantees that the upvalue is a userdata without user values.
    pub fn upvalue1_block(&self, b: &mut FunctionBuilder, func: Value) -> (Value, i32) {
        let closure = b.ins().load(self.ptr, Self::flags(), func, 0);
        let udata = b.ins().load(
            self.ptr,
            Self::flags(),
            closure,
            self.layout.closure_upvalues,
        );
        (udata, self.layout.userdata.data_plain)
    }

    /// Pushes a value of `ty` with tag `tag` (an `i8` value): writes the slot at `L->top`
    /// and moves `L->top` up. A C function always has room for its results
    /// (`LUA_MINSTACK` free slots on entry).
    pub fn push(
        &self,
        b: &mut FunctionBuilder,
        lua_state: Value,
        value: Option<Value>,
        tag: Value,
    ) {
        let top = self.top(b, lua_state);
        if let Some(value) = value {
            b.ins().store(Self::flags(), value, top, 0);
        }
        b.ins().store(Self::flags(), tag, top, self.layout.tag);
        let next = b.ins().iadd_imm_s(top, self.layout.slot_size as i64);
        b.ins()
            .store(Self::flags(), next, lua_state, self.layout.top);
    }

    /// An `i8` constant tag.
    pub fn tag(&self, b: &mut FunctionBuilder, tag: u8) -> Value {
        b.ins().iconst(types::I8, tag as i8 as i64)
    }
}
