//! The functions generated code may call, by address.
//!
//! Every address must be a real C function with the C calling convention: an exported Lua C
//! API function, or a host helper declared `extern "C-unwind"`. Never a Rust shim of a Lua
//! macro (those have the Rust ABI).
//!
//! The host hands them over as typed function pointers, a [`LuaApi`] over its `lua_State`
//! type, so that rustc checks each function's signature against the one generated code calls
//! it with. The code generator reads the same table with the addresses erased to `usize`
//! ([`ApiAddresses`]); both are made from one list of fields by `api_table!`.

use std::ffi::{c_char, c_int, c_void};
use std::fmt;

use crate::context::{CallContext, CallbackSlot};
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
    /// Objects standing for a C function: the address magic, then this mark (`u64`) at
    /// `function_mark_at`, in a block of at least `function_size` bytes.
    pub function_mark: u64,
    pub function_mark_at: i32,
    pub function_size: u64,
    /// Addresses below this are never a function (the NULL page).
    pub null_page: u64,
}

/// Defines the host's table (`$typed<$state>`, public) and the code generator's
/// (`$erased`, the same fields with every function as its address) from one list of fields,
/// and the method `addresses` that makes the second from the first. A field is either a
/// function, written as a Rust declaration without parameter names (`fn name(args) -> ret;`,
/// with the ABI `extern "C-unwind"` unless it names another), or a value (`name: Type,`),
/// the same in both tables.
macro_rules! api_table {
    (@munch $tables:tt [$($done:tt)*]
        $(#[$doc:meta])* fn $name:ident($($arg:ty),*) $(-> $ret:ty)?; $($rest:tt)*) => {
        api_table!(@munch $tables [$($done)*
            $(#[$doc])* $name: unsafe extern "C-unwind" fn($($arg),*) $(-> $ret)? as usize;
        ] $($rest)*);
    };
    (@munch $tables:tt [$($done:tt)*]
        $(#[$doc:meta])* extern $abi:literal fn $name:ident($($arg:ty),*) $(-> $ret:ty)?;
        $($rest:tt)*) => {
        api_table!(@munch $tables [$($done)*
            $(#[$doc])* $name: unsafe extern $abi fn($($arg),*) $(-> $ret)? as usize;
        ] $($rest)*);
    };
    (@munch $tables:tt [$($done:tt)*] $(#[$doc:meta])* $name:ident: $ty:ty, $($rest:tt)*) => {
        api_table!(@munch $tables [$($done)* $(#[$doc])* $name: $ty;] $($rest)*);
    };
    (@munch {
        $(#[$typed_doc:meta])* $typed:ident<$state:ident>;
        $(#[$erased_doc:meta])* $erased:ident;
    } [$($(#[$doc:meta])* $name:ident: $ty:ty $(as $address:ty)?;)*]) => {
        $(#[$typed_doc])*
        pub struct $typed<$state> {
            $($(#[$doc])* pub $name: $ty,)*
        }

        impl<$state> Clone for $typed<$state> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<$state> Copy for $typed<$state> {}

        impl<$state> fmt::Debug for $typed<$state> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($typed))
                    $(.field(stringify!($name), &self.$name))*
                    .finish()
            }
        }

        impl<$state> $typed<$state> {
            /// The table as the code generator reads it: every function as its address.
            pub(crate) fn addresses(&self) -> $erased {
                $erased {
                    $($name: self.$name $(as $address)?,)*
                }
            }
        }

        $(#[$erased_doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $erased {
            $($(#[$doc])* pub $name: api_table!(@address $ty $(as $address)?),)*
        }
    };
    (@address $ty:ty) => { $ty };
    (@address $ty:ty as $address:ty) => { $address };
    (
        $(#[$typed_doc:meta])* pub struct $typed:ident<$state:ident>;
        $(#[$erased_doc:meta])* pub(crate) struct $erased:ident;
        $($fields:tt)*
    ) => {
        api_table!(@munch {
            $(#[$typed_doc])* $typed<$state>;
            $(#[$erased_doc])* $erased;
        } [] $($fields)*);
    };
}

api_table! {
    /// The Lua C API functions and host helpers that thunks call, as function pointers over
    /// the host's `lua_State` type `S`, so that each has the signature generated code calls
    /// it with.
    pub struct LuaApi<S>;

    /// A [`LuaApi`] with every function erased to its address, what the code generator
    /// reads.
    pub(crate) struct ApiAddresses;

    /// The pseudo-index of upvalue 1 of a C closure (`lua_upvalueindex(1)`).
    upvalue1_index: i32,
    /// `int lua_gettop(lua_State*)`
    fn gettop(*mut S) -> c_int;
    /// `int lua_type(lua_State*, int)`
    fn type_of(*mut S, c_int) -> c_int;
    /// `lua_Integer lua_tointegerx(lua_State*, int, int*)`
    fn tointegerx(*mut S, c_int, *mut c_int) -> i64;
    /// `lua_Number lua_tonumberx(lua_State*, int, int*)`
    fn tonumberx(*mut S, c_int, *mut c_int) -> f64;
    /// `int lua_toboolean(lua_State*, int)`
    fn toboolean(*mut S, c_int) -> c_int;
    /// `const char* lua_tolstring(lua_State*, int, size_t*)`
    fn tolstring(*mut S, c_int, *mut usize) -> *const c_char;
    /// `void* lua_touserdata(lua_State*, int)`
    fn touserdata(*mut S, c_int) -> *mut c_void;
    /// `void lua_pushinteger(lua_State*, lua_Integer)`
    fn pushinteger(*mut S, i64);
    /// `void lua_pushnumber(lua_State*, lua_Number)`
    fn pushnumber(*mut S, f64);
    /// `void lua_pushboolean(lua_State*, int)`
    fn pushboolean(*mut S, c_int);
    /// `const char* lua_pushstring(lua_State*, const char*)`
    fn pushstring(*mut S, *const c_char) -> *const c_char;
    /// `void lua_pushnil(lua_State*)`
    fn pushnil(*mut S);
    /// `void lua_pushlightuserdata(lua_State*, void*)`
    fn pushlightuserdata(*mut S, *mut c_void);
    /// Host: `void arg_error(lua_State*, int arg, int expected_code)`; raises, never returns.
    fn arg_error(*mut S, c_int, c_int);
    /// Host: `lua_Integer integer_arg(lua_State*, int arg)`: the argument as
    /// `lua_tointegerx` converts it; raises the argument error when it cannot.
    fn integer_arg(*mut S, c_int) -> i64;
    /// Host: `lua_Number number_arg(lua_State*, int arg)`: the argument as `lua_tonumberx`
    /// converts it; raises the argument error when it cannot.
    fn number_arg(*mut S, c_int) -> f64;
    /// Host: `void normalize_args(lua_State*, int nargs, const u64 *kinds)` for a shared
    /// thunk that reads all its arguments at once: raises the count error when there are not
    /// `nargs` arguments, else rewrites each argument whose slot does not
    /// hold a form the thunk loads (an integer for an integer; a number for a float; a
    /// boolean; a string or a light userdata for a string; a light userdata for a pointer)
    /// into one, keeping converted objects alive above the arguments, or raises the argument
    /// error. `kinds` as for `arity_error`.
    fn normalize_args(*mut S, c_int, *const u64);
    /// Host: `void normalize_receiver_args(lua_State*, int nargs, const u64 *kinds)`: as
    /// `normalize_args` for a thunk whose arguments follow a receiver (see
    /// [`crate::Signature::receiver`]): the count and argument numbers of its errors leave
    /// the receiver out, and on return the slot of the receiver holds a placeholder, so that
    /// the arguments are one slot up, where the thunk loads them.
    fn normalize_receiver_args(*mut S, c_int, *const u64);
    /// Host: `void remove_receiver(lua_State*)`: removes the first value on the stack (the
    /// receiver of a `__call` metamethod), if there is one.
    fn remove_receiver(*mut S);
    /// Host: `void arity_error(lua_State*, int expected, const u64 *kinds)` for a call with
    /// the wrong number of arguments: "wrong number of arguments" for too many, the error of
    /// the first missing argument for too few (`kinds` packs each parameter's
    /// [`crate::Expected`] code, [`crate::EXPECTED_BITS`] bits each, [`crate::EXPECTED_PER_WORD`]
    /// to a word); raises, never returns.
    fn arity_error(*mut S, c_int, *const u64);
    /// Host: `int bool_arg(lua_State*, int arg)` for a non-boolean value: nil is false,
    /// anything else raises.
    fn bool_arg(*mut S, c_int) -> c_int;
    /// Host: `const char* cstring_arg(lua_State*, int arg)` for a non-string value: nil is
    /// NULL, a pointer object gives its address, anything else raises.
    fn cstring_arg(*mut S, c_int) -> *const c_char;
    /// Host: `void* pointer_arg(lua_State*, int arg)`: nil, light userdata, pointer objects.
    fn pointer_arg(*mut S, c_int) -> *mut c_void;
    /// Host: `void* address_arg(lua_State*, int arg)`: what `pointer_arg` takes, the integer
    /// 0 and hexadecimal strings (a `PointerStyle::Address` parameter).
    fn address_arg(*mut S, c_int) -> *mut c_void;
    /// Host: `void* function_arg(lua_State*, int arg)`: the C function an object that stands
    /// for one calls; raises the argument error for anything else.
    fn function_arg(*mut S, c_int) -> *mut c_void;
    /// Host: `void push_pointer(lua_State*, void*)`: pushes a pointer object.
    fn push_pointer(*mut S, *mut c_void);
    /// Host: `int char_arg(lua_State*, int arg)`: a 1-character string argument's byte;
    /// raises the argument error for anything else.
    fn char_arg(*mut S, c_int) -> c_int;
    /// Host: `void push_char(lua_State*, int c)`: pushes `c` as a 1-character string.
    fn push_char(*mut S, c_int);
    /// Host: `void *table_array_arg(lua_State*, int arg, int code)`: a temporary C array
    /// holding the elements of the table argument `arg` (kept alive on the stack above the
    /// arguments), or NULL for nil; raises the argument error for anything else. `code` is
    /// the host's, from [`crate::ArgKind::TableArray`].
    fn table_array_arg(*mut S, c_int, c_int) -> *mut c_void;
    /// Host: `void table_array_writeback(lua_State*, int arg, const void *array, int code)`:
    /// after the call, stores the elements of `array` (from `table_array_arg`) back into the
    /// table argument `arg`; does nothing for NULL.
    fn table_array_writeback(*mut S, c_int, *const c_void, c_int);
    /// Host: `void raise_pending(CallContext*)`: raises, on the context's `current` thread
    /// (which it clears), the error a callback left in the call context; never returns.
    ///
    /// The context is the one a [`crate::CallTarget`] points at. A host whose per-state
    /// block holds more starts it with the `CallContext` (`#[repr(C)]`) and casts inside: the
    /// pointer type says what generated code passes, which is all a signature here promises.
    fn raise_pending(*mut CallContext);
    /// Host: `void finish_call(CallContext*)`: what a thunk does right after its C call
    /// returns (records errno, clears `current`, raises a pending callback error), for thunks
    /// that favour a quick compile over the few instructions that doing it inline saves.
    fn finish_call(*mut CallContext);
    /// Host: `void record_arg(lua_State*, int arg, void *dest, int record)`: copies a view or
    /// a table of fields into `dest` as the bound function's `record`-th struct; raises on a
    /// wrong value.
    fn record_arg(*mut S, c_int, *mut c_void, c_int);
    /// Host: `void push_record(lua_State*, const void *src, int record)`: pushes a view over
    /// fresh managed memory holding a copy of the struct at `src`.
    fn push_record(*mut S, *const c_void, c_int);
    /// Host: `void ref_arg(lua_State*, int arg, void *dest, int ref_code)`: stores the
    /// initial value of an out-parameter (nil is 0).
    fn ref_arg(*mut S, c_int, *mut c_void, c_int);
    /// Host: `void push_ref(lua_State*, const void *src, int ref_code)`: pushes the updated
    /// value of an out-parameter.
    fn push_ref(*mut S, *const c_void, c_int);
    /// Host: `void push_callback_record(lua_State*, const void *src, const CallbackSlot *slot,
    /// int record)`: pushes a struct argument of a callback as a view over a managed copy.
    /// `slot` is the callback's slot, whose host type starts with the [`CallbackSlot`].
    fn push_callback_record(*mut S, *const c_void, *const CallbackSlot, c_int);
    /// How to read and write the Lua stack directly, when the host checked it against this
    /// Lua library; `None` makes thunks use the Lua C API alone.
    stack: Option<StackLayout>,
    /// The host's pointer objects, which thunks reading the stack directly accept inline.
    pointer_objects: PointerObjects,
    /// The pseudo-index of the registry (`LUA_REGISTRYINDEX`).
    registry_index: i32,
    /// `int lua_checkstack(lua_State*, int)`
    fn checkstack(*mut S, c_int) -> c_int;
    /// `void lua_settop(lua_State*, int)`
    fn settop(*mut S, c_int);
    /// `int lua_rawgeti(lua_State*, int, lua_Integer)`
    fn rawgeti(*mut S, c_int, i64) -> c_int;
    /// `void lua_pushcclosure(lua_State*, lua_CFunction, int)`
    fn pushcclosure(*mut S, unsafe extern "C-unwind" fn(*mut S) -> c_int, c_int);
    /// `int lua_pcallk(lua_State*, int nargs, int nresults, int msgh, lua_KContext, lua_KFunction)`
    fn pcallk(
        *mut S,
        c_int,
        c_int,
        c_int,
        isize,
        Option<unsafe extern "C-unwind" fn(*mut S, c_int, isize) -> c_int>
    ) -> c_int;
    /// `uintptr_t thread_id(void)`: the identity of the calling OS thread (`pthread_self`).
    extern "C" fn thread_id() -> usize;
    /// `void *memcpy(void *dst, const void *src, size_t n)`: copies of aggregates too large
    /// to copy inline.
    extern "C" fn memcpy(*mut c_void, *const c_void, usize) -> *mut c_void;
    /// `void *memset(void *dst, int c, size_t n)`: zeroing aggregates too large to zero
    /// inline.
    extern "C" fn memset(*mut c_void, c_int, usize) -> *mut c_void;
    /// Host: `int callback_traceback(lua_State*)`: the message handler of callback calls.
    fn callback_traceback(*mut S) -> c_int;
    /// Host: `int protected_call(lua_State*)`, called in protected mode with three light
    /// userdata, the spilled arguments, the slot and the result buffer: pushes the callback's
    /// function and arguments, calls it and converts its result, raising any error.
    fn callback_protected_call(*mut S) -> c_int;
    /// Host: `int callback_result(lua_State*, const CallbackSlot *slot, void *result)`:
    /// converts the callback's result on top of the stack into `result`; on a wrong value
    /// pushes the error message and returns 0.
    fn callback_result(*mut S, *const CallbackSlot, *mut c_void) -> c_int;
    /// Host: `void release_freed(const CallbackSlot *slot, lua_State*)`: releases the slot of a
    /// callback freed while it ran, once its last call is over.
    fn release_freed(*const CallbackSlot, *mut S);
    /// Host: `void record_error(CallContext *context, lua_State*)`: pops the error message on
    /// top of the stack and records it for the thunk calling into C. The context is the one
    /// the callback's slot points at.
    fn record_error(*mut CallContext, *mut S);
}
