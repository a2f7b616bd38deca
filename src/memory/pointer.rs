//! Memory objects: every pointer-like value Lua holds (raw pointers, typed pointers, struct
//! views, buffers) is a full userdata whose block starts with the same [`Header`]: the address
//! first, then a magic word. Generated code and [`address_at`] read the address of any of them
//! with one `lua_touserdata`, one `lua_rawlen` and one compare, without a metatable lookup.
//!
//! A [`MemObject`] adds what the safe accessors need: the managed region the address points
//! into (bounds), the arena that owns it and the arena's generation when the object was made
//! (use after `reset` is detected), and for typed pointers and views the element type or the
//! struct layout. User value 1 holds the owner (an arena or buffer storage, or for unmanaged
//! pointers the keeper of the library they point into, kept alive by every object pointing
//! into it); user value 2 the struct definition a view or typed pointer uses.
//!
//! This file also holds what the metatables of memory objects share: `__eq`, `__tostring`,
//! pointer arithmetic and [`new_metatable`]. The raw pointer's own metatable
//! (`moonthunk.pointer`) is in `raw_pointer`.

use std::ffi::{c_int, c_void, CStr};

use mlua::ffi::{self, lua_State};
use moonthunk_jit::PointerObjects;

use super::layout::StructLayout;
use super::raw;
use super::region::{ArenaState, Region};
use crate::ctype::Scalar;
use crate::lua_error::raise;
use crate::lua_version;

/// Registry name of the raw pointer metatable.
pub const METATABLE: &CStr = c"moonthunk.pointer";

/// Addresses below this are the NULL page, which nothing is ever mapped at: reading or
/// writing unmanaged memory there, and calling a function there, are refused.
pub const NULL_PAGE: usize = 4096;

/// Magic word of a userdata that only carries an address (a [`Header`]).
pub const MAGIC_ADDRESS: u64 = 0x6d6f_6f6e_7468_6b41;
/// Magic word of a full [`MemObject`].
pub const MAGIC_MEMORY: u64 = 0x6d6f_6f6e_7468_6b4d;

/// The start of every userdata that stands for an address. Other modules (callbacks) may make
/// objects that start with a `Header` whose magic is [`MAGIC_ADDRESS`]; they are then accepted
/// wherever a pointer is.
#[repr(C)]
pub struct Header {
    pub addr: *mut u8,
    pub magic: u64,
}

/// The start of every userdata that stands for a C function (callbacks, Alien's function
/// objects): a [`Header`] with [`MAGIC_ADDRESS`], so that it passes wherever a pointer does,
/// then [`FUNCTION_MARK`], which only a C function pointer parameter looks for.
#[repr(C)]
pub struct FunctionHeader {
    pub header: Header,
    pub mark: u64,
}

impl FunctionHeader {
    /// The header of an object standing for the C function at `addr`.
    pub fn new(addr: *const c_void) -> FunctionHeader {
        FunctionHeader {
            header: Header {
                addr: addr as *mut u8,
                magic: MAGIC_ADDRESS,
            },
            mark: FUNCTION_MARK,
        }
    }

    /// Makes the object stand for nothing, neither function nor pointer: what a released
    /// callback's object becomes, whose slot may serve another callback.
    pub fn clear(&mut self) {
        self.header.magic = 0;
    }
}

/// The mark of a [`FunctionHeader`].
pub const FUNCTION_MARK: u64 = 0x6d6f_6f6e_7468_6b46;

/// The upvalue of a function bound by `crate::function` that holds its keeper: a bound
/// function whose keeper stands for a C function stands for it too.
pub const KEEPER_UPVALUE: c_int = 3;

/// The C function the value at `idx` stands for: the address of a userdata starting with a
/// live [`FunctionHeader`] (a released callback's is cleared), or of a bound function whose
/// keeper is such a userdata (Alien's function objects); never one in the NULL page.
///
/// # Safety
/// `l` is a valid state with room for one value, and `idx` an acceptable index.
pub unsafe fn function_at(l: *mut lua_State, idx: c_int) -> Option<*mut c_void> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TUSERDATA => header_function(l, idx),
        ffi::LUA_TFUNCTION if ffi::lua_iscfunction(l, idx) != 0 => {
            let idx = ffi::lua_absindex(l, idx);
            if ffi::lua_getupvalue(l, idx, KEEPER_UPVALUE).is_null() {
                return None;
            }
            let f = header_function(l, -1);
            ffi::lua_settop(l, -2);
            f
        }
        _ => None,
    }
}

/// The C function of the value at `idx` if it is a userdata starting with a live
/// [`FunctionHeader`] outside the NULL page.
unsafe fn header_function(l: *mut lua_State, idx: c_int) -> Option<*mut c_void> {
    if ffi::lua_type(l, idx) != ffi::LUA_TUSERDATA
        || ffi::lua_rawlen(l, idx) < size_of::<FunctionHeader>()
    {
        return None;
    }
    let f = ffi::lua_touserdata(l, idx) as *const FunctionHeader;
    let live = (*f).header.magic == MAGIC_ADDRESS && (*f).mark == FUNCTION_MARK;
    (live && (*f).header.addr as usize >= NULL_PAGE).then_some((*f).header.addr as *mut c_void)
}

/// The kind of a memory object; each has its own metatable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Raw,
    Typed,
    View,
    Buffer,
}

impl Kind {
    pub fn metatable(self) -> &'static CStr {
        match self {
            Kind::Raw => METATABLE,
            Kind::Typed => c"moonthunk.typedpointer",
            Kind::View => c"moonthunk.view",
            Kind::Buffer => c"moonthunk.buffer",
        }
    }
}

/// The block of a memory object.
#[repr(C)]
pub struct MemObject {
    pub addr: *mut u8,
    pub magic: u64,
    pub kind: Kind,
    /// Typed pointers: the scalar element type (ignored when `layout` is set).
    pub elem: Scalar,
    /// Typed pointers: bytes per element.
    pub stride: usize,
    /// Views: the struct; typed pointers: the struct element type, or null.
    pub layout: *const StructLayout,
    pub region: Region,
}

/// The memory object at `idx`, or null when the value is not one.
///
/// # Safety
/// `l` is a valid state and `idx` an acceptable index.
#[inline]
pub unsafe fn object_at(l: *mut lua_State, idx: c_int) -> *mut MemObject {
    // Objects may carry their own memory after the block (views returned by value).
    if ffi::lua_type(l, idx) != ffi::LUA_TUSERDATA
        || ffi::lua_rawlen(l, idx) < size_of::<MemObject>()
    {
        return std::ptr::null_mut();
    }
    let o = ffi::lua_touserdata(l, idx) as *mut MemObject;
    if (*o).magic == MAGIC_MEMORY {
        o
    } else {
        std::ptr::null_mut()
    }
}

/// The memory object of kind `kind` at `idx`, or an argument error.
pub unsafe fn check_kind(l: *mut lua_State, idx: c_int, kind: Kind, fname: &str) -> *mut MemObject {
    let o = object_at(l, idx);
    if o.is_null() || (*o).kind != kind {
        let expected = match kind {
            Kind::Raw => "pointer",
            Kind::Typed => "typed pointer",
            Kind::View => "struct view",
            Kind::Buffer => "buffer",
        };
        raw::arg_error(
            l,
            idx,
            fname,
            format!("{expected} expected, got {}", raw::type_name(l, idx)),
        );
    }
    o
}

/// The address a value stands for when used as a pointer: nil, light userdata, every
/// userdata starting with a [`Header`], and the functions [`function_at`] takes. A managed
/// object whose arena was reset is an error.
///
/// # Safety
/// `l` is a valid state with room for one value and `idx` an acceptable index; may raise.
#[inline]
pub unsafe fn address_at(l: *mut lua_State, idx: c_int) -> Option<*mut c_void> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNIL => Some(std::ptr::null_mut()),
        ffi::LUA_TLIGHTUSERDATA => Some(ffi::lua_touserdata(l, idx)),
        ffi::LUA_TUSERDATA => {
            let len = ffi::lua_rawlen(l, idx);
            if len < size_of::<Header>() {
                return None;
            }
            let h = ffi::lua_touserdata(l, idx) as *const Header;
            match (*h).magic {
                MAGIC_ADDRESS => Some((*h).addr as *mut c_void),
                MAGIC_MEMORY if len >= size_of::<MemObject>() => {
                    let o = h as *const MemObject;
                    check_alive(l, &(*o).region, &|| "pointer passed to C".to_string());
                    Some((*o).addr as *mut c_void)
                }
                _ => None,
            }
        }
        ffi::LUA_TFUNCTION => function_at(l, idx),
        _ => None,
    }
}

/// Raises if `region` belongs to an arena reset (or collected) since it was handed out.
#[inline]
pub unsafe fn check_alive(l: *mut lua_State, region: &Region, what: Describe) {
    if !region.owner.is_null() && (*region.owner).gen != region.gen {
        raise(
            l,
            format!(
                "{}: use of arena memory after reset (the pointer is no longer valid)",
                what()
            ),
        );
    }
}

/// Where an access comes from, for messages: "i32 read", "write of field 'x'"...
pub type Describe<'a> = &'a dyn Fn() -> String;

/// Checks an access of `size` bytes with alignment `align` at `addr + off` through an object
/// with `region`, and returns the address. Managed regions check bounds, alignment and the
/// arena's generation; unmanaged ones only refuse the NULL page.
///
/// # Safety
/// `l` is the running state; may raise.
#[inline]
pub unsafe fn access(
    l: *mut lua_State,
    addr: *mut u8,
    region: &Region,
    off: isize,
    size: usize,
    align: usize,
    what: Describe,
) -> *mut u8 {
    let target = (addr as usize).wrapping_add(off as usize);
    if !region.managed {
        // An offset that wraps past either end of the address space lands nowhere.
        if (addr as usize).checked_add_signed(off).is_none() {
            raise(
                l,
                format!(
                    "out of bounds: {} at offset {off} (the address overflows)",
                    what()
                ),
            );
        }
        if target < NULL_PAGE {
            raise(
                l,
                format!("{} through a NULL pointer (address 0x{target:x})", what()),
            );
        }
        return target as *mut u8;
    }
    check_alive(l, region, what);
    // Offsets are checked against the region, without wrapping: an offset that overflows
    // lands nowhere, not back inside.
    let start = region.base as usize;
    let from_start = ((addr as usize).wrapping_sub(start) as isize).checked_add(off);
    let fits = from_start.is_some_and(|at| {
        at >= 0 && (at as usize) <= region.len && region.len - at as usize >= size
    });
    if !fits {
        let detail = match from_start {
            None => "the offset overflows".to_string(),
            Some(at) if at < 0 => format!("{size} bytes, {} before the memory", at.unsigned_abs()),
            Some(_) => {
                // A pointer moved far past the memory may be anywhere in the address space.
                let avail = (start + region.len) as i128 - addr as usize as i128;
                format!("{size} bytes; {avail} available")
            }
        };
        raise(
            l,
            format!("out of bounds: {} at offset {off} ({detail})", what()),
        );
    }
    if align > 1 && !target.is_multiple_of(align) {
        raise(
            l,
            format!(
                "misaligned {} at offset {off} (address 0x{target:x} is not a multiple of {align})",
                what()
            ),
        );
    }
    target as *mut u8
}

/// Pushes a new memory object (with two user values) and returns its block. The caller sets
/// the user values it needs.
///
/// # Safety
/// `l` has room for two values; the metatables are registered.
pub unsafe fn push_object(l: *mut lua_State, init: MemObject) -> *mut MemObject {
    push_object_with(l, init, 2)
}

/// [`push_object`] with `user_values` user value slots (0 for an object that owns nothing
/// and keeps nothing alive).
unsafe fn push_object_with(
    l: *mut lua_State,
    init: MemObject,
    user_values: c_int,
) -> *mut MemObject {
    let block = lua_version::new_userdata(l, size_of::<MemObject>(), user_values) as *mut MemObject;
    let kind = init.kind;
    block.write(init);
    // The metatable is also registered under its name's address: a light userdata key is
    // found without hashing a string (luaL_setmetatable interns the name on every call).
    ffi::lua_rawgetp(
        l,
        ffi::LUA_REGISTRYINDEX,
        kind.metatable().as_ptr() as *const c_void,
    );
    ffi::lua_setmetatable(l, -2);
    block
}

/// Pushes a new object of `kind` at `addr` in `region`, with user value 1 copied from the
/// object at `from` (its owner), and user value 2 from `def` (0 for none).
pub unsafe fn push_derived(
    l: *mut lua_State,
    from: c_int,
    def: c_int,
    init: MemObject,
) -> *mut MemObject {
    let from = ffi::lua_absindex(l, from);
    let def = if def != 0 {
        ffi::lua_absindex(l, def)
    } else {
        0
    };
    let block = push_object(l, init);
    if ffi::lua_type(l, from) == ffi::LUA_TUSERDATA {
        lua_version::user_value(l, from, 1);
        lua_version::set_user_value(l, -2, 1);
    }
    if def != 0 {
        ffi::lua_pushvalue(l, def);
        lua_version::set_user_value(l, -2, 2);
    }
    block
}

/// A raw pointer's initial block.
pub fn raw_object(addr: *mut u8, region: Region) -> MemObject {
    MemObject {
        addr,
        magic: MAGIC_MEMORY,
        kind: Kind::Raw,
        elem: Scalar::U8,
        stride: 1,
        layout: std::ptr::null(),
        region,
    }
}

/// Pushes a new unmanaged pointer object for `addr`.
///
/// # Safety
/// `l` is a valid Lua state with room for two values; the metatable is registered.
pub unsafe fn push(l: *mut lua_State, addr: *mut c_void) {
    // Unmanaged: no owner to keep alive, so no user values (a smaller block to allocate and
    // collect, which is most of the cost of a pointer result).
    push_object_with(l, raw_object(addr as *mut u8, Region::UNMANAGED), 0);
}

/// Pushes a new unmanaged pointer object for `addr` whose owner (user value 1) is the value
/// at `keeper`: what keeps the memory or code it points at mapped, such as the library a
/// symbol or a function's result came from. Objects derived from it (`p + n`, casts, views)
/// keep the owner too. A nil `keeper` makes the object of [`push`], with no user value.
///
/// # Safety
/// `l` is a valid Lua state with room for two values; the metatable is registered; `keeper`
/// is an acceptable index (a pseudo-index such as an upvalue's included).
#[inline]
pub unsafe fn push_kept(l: *mut lua_State, addr: *mut c_void, keeper: c_int) {
    if ffi::lua_type(l, keeper) <= ffi::LUA_TNIL {
        return push(l, addr);
    }
    // Pseudo-indices (upvalues) stay as they are.
    let keeper = ffi::lua_absindex(l, keeper);
    push_object_with(l, raw_object(addr as *mut u8, Region::UNMANAGED), 1);
    ffi::lua_pushvalue(l, keeper);
    lua_version::set_user_value(l, -2, 1);
}

/// Pushes the owner (user value 1) of the memory object at `idx`: what it keeps alive. Nil
/// for any other value and for objects that own nothing.
///
/// # Safety
/// `l` is a valid Lua state with room for one value; `idx` is an acceptable index.
pub unsafe fn push_owner(l: *mut lua_State, idx: c_int) {
    if object_at(l, idx).is_null() {
        ffi::lua_pushnil(l);
    } else {
        // An object with no user value pushes nil.
        lua_version::user_value(l, idx, 1);
    }
}

/// How generated code recognizes the objects [`address_at`] accepts without a check of its
/// own: headers with [`MAGIC_ADDRESS`], and memory objects whose region is unowned or whose
/// arena is still in the generation the region was handed out in.
pub fn generated_code_view() -> PointerObjects {
    let region = std::mem::offset_of!(MemObject, region);
    PointerObjects {
        addr: std::mem::offset_of!(Header, addr) as i32,
        magic: std::mem::offset_of!(Header, magic) as i32,
        address_magic: MAGIC_ADDRESS,
        address_size: size_of::<Header>() as u64,
        memory_magic: MAGIC_MEMORY,
        memory_size: size_of::<MemObject>() as u64,
        owner: (region + std::mem::offset_of!(Region, owner)) as i32,
        generation: (region + std::mem::offset_of!(Region, gen)) as i32,
        owner_generation: std::mem::offset_of!(ArenaState, gen) as i32,
        function_mark: FUNCTION_MARK,
        function_mark_at: std::mem::offset_of!(FunctionHeader, mark) as i32,
        function_size: size_of::<FunctionHeader>() as u64,
        null_page: NULL_PAGE as u64,
    }
}

/// The address and region a value designates as a memory source: a memory object, a light
/// userdata or another address object (unmanaged), nil (NULL, unmanaged).
pub unsafe fn target_at(l: *mut lua_State, idx: c_int, fname: &str) -> (*mut u8, Region) {
    let o = object_at(l, idx);
    if !o.is_null() {
        return ((*o).addr, (*o).region);
    }
    match address_at(l, idx) {
        Some(addr) => (addr as *mut u8, Region::UNMANAGED),
        None => raw::arg_error(
            l,
            idx,
            fname,
            format!("pointer expected, got {}", raw::type_name(l, idx)),
        ),
    }
}

/// A byte offset argument, with a check that `addr + off` does not wrap.
pub unsafe fn check_offset(l: *mut lua_State, arg: c_int, fname: &str) -> isize {
    raw::check_int(l, arg, fname) as isize
}

/// `p.addr`, `p.isNull`, `p.isManaged`: properties every memory object has.
pub unsafe fn push_common_property(l: *mut lua_State, o: *const MemObject, key: &[u8]) -> bool {
    match key {
        b"addr" => ffi::lua_pushinteger(l, (*o).addr as ffi::lua_Integer),
        b"isNull" => ffi::lua_pushboolean(l, (*o).addr.is_null() as c_int),
        b"isManaged" => ffi::lua_pushboolean(l, (*o).region.managed as c_int),
        _ => return false,
    }
    true
}

/// Raises the error of pointer arithmetic whose result does not fit an address.
unsafe fn overflow(l: *mut lua_State, n: isize, stride: usize) -> ! {
    raise(
        l,
        format!("out of bounds: moving by {n} elements of {stride} bytes overflows the address"),
    )
}

/// `p + n`, `p:offset(n)`: the same kind of object `n` bytes (typed: elements) further.
pub unsafe extern "C-unwind" fn add(l: *mut lua_State) -> c_int {
    let (p, n) = if object_at(l, 1).is_null() {
        (2, 1)
    } else {
        (1, 2)
    };
    let o = object_at(l, p);
    if o.is_null() || !matches!((*o).kind, Kind::Raw | Kind::Typed) {
        raise(l, "attempt to perform arithmetic on a memory object".into());
    }
    let n = raw::check_int(l, n, "+");
    offset_by(l, p, o, n as isize);
    1
}

/// `p - n`.
pub unsafe extern "C-unwind" fn sub(l: *mut lua_State) -> c_int {
    let o = object_at(l, 1);
    if o.is_null() || !matches!((*o).kind, Kind::Raw | Kind::Typed) {
        raise(l, "attempt to perform arithmetic on a memory object".into());
    }
    let n = raw::check_int(l, 2, "-");
    match (n as isize).checked_neg() {
        Some(back) => offset_by(l, 1, o, back),
        None => overflow(l, n as isize, (*o).stride),
    }
    1
}

/// Pushes the object at `idx` (`o`) moved by `n` elements (bytes for raw pointers).
pub unsafe fn offset_by(l: *mut lua_State, idx: c_int, o: *const MemObject, n: isize) {
    let stride = (*o).stride;
    let addr = n
        .checked_mul(stride as isize)
        .and_then(|step| ((*o).addr as isize).checked_add(step));
    let Some(addr) = addr else {
        overflow(l, n, stride)
    };
    let init = MemObject {
        addr: addr as *mut u8,
        magic: MAGIC_MEMORY,
        kind: (*o).kind,
        elem: (*o).elem,
        stride: (*o).stride,
        layout: (*o).layout,
        region: (*o).region,
    };
    let def = if (*o).layout.is_null() { 0 } else { idx };
    let block = push_derived(l, idx, 0, init);
    if def != 0 {
        lua_version::user_value(l, def, 2);
        lua_version::set_user_value(l, -2, 2);
    }
    let _ = block;
}

/// `__eq` of every memory object: same address.
pub unsafe extern "C-unwind" fn eq(l: *mut lua_State) -> c_int {
    let (a, b) = (object_at(l, 1), object_at(l, 2));
    let equal = !a.is_null() && !b.is_null() && (*a).addr == (*b).addr;
    ffi::lua_pushboolean(l, equal as c_int);
    1
}

/// `__tostring` of every memory object.
pub unsafe extern "C-unwind" fn tostring(l: *mut lua_State) -> c_int {
    let o = object_at(l, 1);
    if o.is_null() {
        raise(l, "memory object expected".into());
    }
    let addr = (*o).addr as *mut c_void;
    match (*o).kind {
        Kind::Raw => ffi::lua_pushfstring(l, c"pointer: %p".as_ptr(), addr),
        Kind::Typed => {
            let name = if (*o).layout.is_null() {
                (*o).elem.name()
            } else {
                "struct"
            };
            ffi::lua_pushlstring(l, name.as_ptr() as *const _, name.len());
            ffi::lua_pushfstring(
                l,
                c"pointer<%s>: %p".as_ptr(),
                ffi::lua_tolstring(l, -1, std::ptr::null_mut()),
                addr,
            )
        }
        Kind::View => ffi::lua_pushfstring(l, c"view: %p".as_ptr(), addr),
        Kind::Buffer => ffi::lua_pushfstring(
            l,
            c"buffer(%I): %p".as_ptr(),
            (*o).region.len as ffi::lua_Integer,
            addr,
        ),
    };
    1
}

/// Creates the metatable of `kind` with `__index` (a closure over a methods table built from
/// `methods`), the shared `__eq`/`__tostring`, and `extra` metamethods.
pub unsafe fn new_metatable(
    l: *mut lua_State,
    kind: Kind,
    name: &CStr,
    index: ffi::lua_CFunction,
    methods: &[(&CStr, ffi::lua_CFunction)],
    extra: &[(&CStr, ffi::lua_CFunction)],
) {
    if ffi::luaL_newmetatable(l, kind.metatable().as_ptr()) == 0 {
        ffi::lua_pop(l, 1);
        return;
    }
    ffi::lua_pushvalue(l, -1);
    ffi::lua_rawsetp(
        l,
        ffi::LUA_REGISTRYINDEX,
        kind.metatable().as_ptr() as *const c_void,
    );
    ffi::lua_createtable(l, 0, methods.len() as c_int);
    raw::set_functions(l, methods);
    ffi::lua_pushcclosure(l, index, 1);
    ffi::lua_setfield(l, -2, c"__index".as_ptr());
    raw::set_functions(l, &[(c"__eq", eq), (c"__tostring", tostring)]);
    raw::set_functions(l, extra);
    ffi::lua_pushstring(l, name.as_ptr());
    ffi::lua_setfield(l, -2, c"__name".as_ptr());
    ffi::lua_pushstring(l, c"moonthunk".as_ptr());
    ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
    ffi::lua_pop(l, 1);
}
