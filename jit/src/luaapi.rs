//! The functions generated code may call, by address.
//!
//! Every address must be a real C function with the C calling convention: an exported Lua C
//! API function, or a host helper declared `extern "C-unwind"`. Never a Rust shim of a Lua
//! macro (those have the Rust ABI).

use crate::stack::StackLayout;

/// The full userdata the host passes as pointers, as far as a thunk checks them inline.
/// Every such block starts with the address and a magic word. Objects with the address
/// magic are valid as long as they exist; objects with the memory magic are valid unless
/// their owner (an arena, null for none) has moved to another generation since they were
/// made. Anything else goes to the host's `pointer_arg`.
#[derive(Clone, Copy, Debug)]
pub struct PointerObjects {
    /// The address, a pointer at this offset of the block.
    pub addr: i32,
    /// The magic word, a `u64` at this offset.
    pub magic: i32,
    pub address_magic: u64,
    /// The smallest block with the address magic.
    pub address_size: u64,
    pub memory_magic: u64,
    /// The smallest block with the memory magic.
    pub memory_size: u64,
    /// A memory object's owner pointer, and the owner generation it was made in (`u64`).
    pub owner: i32,
    pub generation: i32,
    /// The owner's current generation (`u64`) in the owner's block.
    pub owner_generation: i32,
}

/// Addresses of the Lua C API functions and host helpers that thunks call.
#[derive(Clone, Copy, Debug)]
pub struct LuaApi {
    /// The pseudo-index of upvalue 1 of a C closure (`lua_upvalueindex(1)`).
    pub upvalue1_index: i32,
    /// `int lua_gettop(lua_State*)`
    pub gettop: usize,
    /// `int lua_type(lua_State*, int)`
    pub type_of: usize,
    /// `lua_Integer lua_tointegerx(lua_State*, int, int*)`
    pub tointegerx: usize,
    /// `lua_Number lua_tonumberx(lua_State*, int, int*)`
    pub tonumberx: usize,
    /// `int lua_toboolean(lua_State*, int)`
    pub toboolean: usize,
    /// `const char* lua_tolstring(lua_State*, int, size_t*)`
    pub tolstring: usize,
    /// `void* lua_touserdata(lua_State*, int)`
    pub touserdata: usize,
    /// `void lua_pushinteger(lua_State*, lua_Integer)`
    pub pushinteger: usize,
    /// `void lua_pushnumber(lua_State*, lua_Number)`
    pub pushnumber: usize,
    /// `void lua_pushboolean(lua_State*, int)`
    pub pushboolean: usize,
    /// `const char* lua_pushstring(lua_State*, const char*)`
    pub pushstring: usize,
    /// `void lua_pushnil(lua_State*)`
    pub pushnil: usize,
    /// `void lua_pushlightuserdata(lua_State*, void*)`
    pub pushlightuserdata: usize,
    /// Host: `void arg_error(lua_State*, int arg, int expected_code)`; raises, never returns.
    pub arg_error: usize,
    /// Host: `lua_Integer integer_arg(lua_State*, int arg)`: the argument as
    /// `lua_tointegerx` converts it; raises the argument error when it cannot.
    pub integer_arg: usize,
    /// Host: `lua_Number number_arg(lua_State*, int arg)`: the argument as `lua_tonumberx`
    /// converts it; raises the argument error when it cannot.
    pub number_arg: usize,
    /// Host: `void normalize_args(lua_State*, int nargs, const u64 *kinds)` for a shared
    /// thunk that reads all its arguments at once: raises the count error when there are not
    /// `nargs` arguments, else rewrites each argument whose slot does not
    /// hold a form the thunk loads (an integer for an integer; a number for a float; a
    /// boolean; a string or a light userdata for a string; a light userdata for a pointer)
    /// into one, keeping converted objects alive above the arguments, or raises the argument
    /// error. `kinds` as for `arity_error`.
    pub normalize_args: usize,
    /// Host: `void arity_error(lua_State*, int expected, const u64 *kinds)` for a call with
    /// the wrong number of arguments: "wrong number of arguments" for too many, the error of
    /// the first missing argument for too few (`kinds` packs each parameter's
    /// [`crate::Expected`] code, [`crate::EXPECTED_BITS`] bits each, [`crate::EXPECTED_PER_WORD`]
    /// to a word); raises, never returns.
    pub arity_error: usize,
    /// Host: `int bool_arg(lua_State*, int arg)` for a non-boolean value: nil is false,
    /// anything else raises.
    pub bool_arg: usize,
    /// Host: `const char* cstring_arg(lua_State*, int arg)` for a non-string value: nil is
    /// NULL, a pointer object gives its address, anything else raises.
    pub cstring_arg: usize,
    /// Host: `void* pointer_arg(lua_State*, int arg)`: nil, light userdata, pointer objects.
    pub pointer_arg: usize,
    /// Host: `void push_pointer(lua_State*, void*)`: pushes a pointer object.
    pub push_pointer: usize,
    /// Host: `int char_arg(lua_State*, int arg)`: a 1-character string argument's byte;
    /// raises the argument error for anything else.
    pub char_arg: usize,
    /// Host: `void push_char(lua_State*, int c)`: pushes `c` as a 1-character string.
    pub push_char: usize,
    /// Host: `void *table_array_arg(lua_State*, int arg, int code)`: a temporary C array
    /// holding the elements of the table argument `arg` (kept alive on the stack above the
    /// arguments), or NULL for nil; raises the argument error for anything else. `code` is
    /// the host's, from [`crate::ArgKind::TableArray`].
    pub table_array_arg: usize,
    /// Host: `void table_array_writeback(lua_State*, int arg, void *array, int code)`: after
    /// the call, stores the elements of `array` (from `table_array_arg`) back into the table
    /// argument `arg`; does nothing for NULL.
    pub table_array_writeback: usize,
    /// Host: `void raise_pending(CallContext*)`: raises, on the context's `current` thread
    /// (which it clears), the error a callback left in the call context; never returns.
    pub raise_pending: usize,
    /// Host: `void finish_call(CallContext*)`: what a thunk does right after its C call
    /// returns (records errno, clears `current`, raises a pending callback error), for thunks
    /// that favour a quick compile over the few instructions that doing it inline saves.
    pub finish_call: usize,
    /// Host: `void record_arg(lua_State*, int arg, void *dest, int record)`: copies a view or
    /// a table of fields into `dest` as the bound function's `record`-th struct; raises on a
    /// wrong value.
    pub record_arg: usize,
    /// Host: `void push_record(lua_State*, const void *src, int record)`: pushes a view over
    /// fresh managed memory holding a copy of the struct at `src`.
    pub push_record: usize,
    /// Host: `void ref_arg(lua_State*, int arg, void *dest, int ref_code)`: stores the
    /// initial value of an out-parameter (nil is 0).
    pub ref_arg: usize,
    /// Host: `void push_ref(lua_State*, const void *src, int ref_code)`: pushes the updated
    /// value of an out-parameter.
    pub push_ref: usize,
    /// Host: `void push_callback_record(lua_State*, const void *src, void *slot, int record)`:
    /// pushes a struct argument of a callback as a view over a managed copy.
    pub push_callback_record: usize,
    /// How to read and write the Lua stack directly, when the host checked it against this
    /// Lua library; `None` makes thunks use the Lua C API alone.
    pub stack: Option<StackLayout>,
    /// The host's pointer objects, which thunks reading the stack directly accept inline.
    pub pointer_objects: PointerObjects,
    /// The pseudo-index of the registry (`LUA_REGISTRYINDEX`).
    pub registry_index: i32,
    /// `int lua_checkstack(lua_State*, int)`
    pub checkstack: usize,
    /// `void lua_settop(lua_State*, int)`
    pub settop: usize,
    /// `int lua_rawgeti(lua_State*, int, lua_Integer)`
    pub rawgeti: usize,
    /// `void lua_pushcclosure(lua_State*, lua_CFunction, int)`
    pub pushcclosure: usize,
    /// `int lua_pcallk(lua_State*, int nargs, int nresults, int msgh, lua_KContext, lua_KFunction)`
    pub pcallk: usize,
    /// `uintptr_t thread_id(void)`: the identity of the calling OS thread (`pthread_self`).
    pub thread_id: usize,
    /// Host: `int callback_traceback(lua_State*)`: the message handler of callback calls.
    pub callback_traceback: usize,
    /// Host: `int callback_result(lua_State*, void *slot, void *result)`: converts the
    /// callback's result on top of the stack into `result`; on a wrong value pushes the error
    /// message and returns 0.
    pub callback_result: usize,
    /// Host: `void record_error(void *context, lua_State*)`: pops the error message on top of
    /// the stack and records it for the thunk calling into C.
    pub record_error: usize,
}
