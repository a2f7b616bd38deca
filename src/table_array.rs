//! Lua tables passed as C arrays: the `TableArray` value convention (C/Invoke's `cinv.array`).
//!
//! A thunk hands a table argument to [`table_array_arg`], which converts its elements
//! (`1..#t`) into a temporary C array and returns the array's address for the call; after the
//! call [`table_array_writeback`] stores every element back into the table, so that C can
//! write through the pointer as it would through any array. nil passes NULL. The temporary is
//! a userdata left on the Lua stack above the arguments, alive until the thunk returns; it
//! starts with the element count, which the write-back reads.
//!
//! Elements are scalars, light or opaque pointers, 1-character strings or records; the thunk passes
//! their kind as an opaque code made by [`Element::code`]. A record element's layout is entry
//! `record` of the bound function's definitions (upvalue 4), as for records by value. Records
//! go in from tables (or any memory object) and come back into the tables that were there
//! (or new ones), field by field.

use std::ffi::{c_int, c_void, CStr};

use mlua::ffi::{self, lua_State};

use crate::convert::{self, function_name, raise_mismatch, Convention, Mismatch, Site};
use crate::ctype::{Scalar, CANONICAL};
use crate::lua_error::raise;
use crate::lua_version;
use crate::memory::layout::StructLayout;
use crate::record;

/// The bytes before the elements: the count, padded to the strictest alignment an element
/// can need.
const HEADER: usize = 16;

/// What a table array's elements are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    Scalar(Scalar),
    LightPointer {
        nil_for_null: bool,
    },
    CharString,
    /// C/Invoke's opaque pointer (`ValueType::Address`).
    Address,
    /// A record: its entry in the bound function's definitions.
    Record(c_int),
}

const TAG_BITS: i32 = 4;
const TAG_SCALAR: i32 = 0;
const TAG_LIGHT: i32 = 1;
const TAG_CHAR: i32 = 2;
const TAG_RECORD: i32 = 3;
const TAG_ADDRESS: i32 = 4;

impl Element {
    /// The code generated code passes back to the helpers.
    pub fn code(self) -> i32 {
        let (tag, payload) = match self {
            Element::Scalar(t) => {
                let index = CANONICAL.iter().position(|&c| c == t);
                (TAG_SCALAR, index.expect("every scalar is canonical") as i32)
            }
            Element::LightPointer { nil_for_null } => (TAG_LIGHT, nil_for_null as i32),
            Element::CharString => (TAG_CHAR, 0),
            Element::Address => (TAG_ADDRESS, 0),
            Element::Record(record) => (TAG_RECORD, record),
        };
        tag | payload << TAG_BITS
    }

    fn from_code(code: c_int) -> Element {
        let payload = code >> TAG_BITS;
        match code & ((1 << TAG_BITS) - 1) {
            TAG_SCALAR => Element::Scalar(CANONICAL[payload as usize]),
            TAG_LIGHT => Element::LightPointer {
                nil_for_null: payload != 0,
            },
            TAG_CHAR => Element::CharString,
            TAG_ADDRESS => Element::Address,
            _ => Element::Record(payload),
        }
    }

    /// How an element that is not a record converts.
    fn convention(self) -> Option<Convention> {
        match self {
            Element::Scalar(t) => Some(Convention::Scalar(t)),
            Element::LightPointer { nil_for_null } => {
                Some(Convention::LightPointer { nil_for_null })
            }
            Element::CharString => Some(Convention::CharString),
            Element::Address => Some(Convention::Address),
            Element::Record(_) => None,
        }
    }

    /// Size and alignment of one element that is not a record (a record's are its layout's).
    pub fn size_align(self) -> Option<(usize, usize)> {
        match self {
            Element::Scalar(t) => Some((t.size(), t.align())),
            Element::LightPointer { .. } | Element::Address => {
                Some((Scalar::Pointer.size(), Scalar::Pointer.align()))
            }
            Element::CharString => Some((1, 1)),
            Element::Record(_) => None,
        }
    }

    /// Size and alignment of one element; pushes a record's definition (popped by the
    /// caller), whose layout is returned.
    unsafe fn layout(self, l: *mut lua_State) -> (usize, usize, Option<*const StructLayout>) {
        match (self, self.size_align()) {
            (_, Some((size, align))) => (size, align, None),
            (Element::Record(record), None) => {
                let layout = record::push_definition(l, ffi::lua_upvalueindex(4), record);
                ((*layout).size, (*layout).align, Some(layout))
            }
            (_, None) => unreachable!("only records have no size of their own"),
        }
    }
}

/// Thunk helper: the temporary C array for table argument `arg` (see the module docs), or
/// NULL for nil.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn table_array_arg(
    l: *mut lua_State,
    arg: c_int,
    code: c_int,
) -> *mut c_void {
    match ffi::lua_type(l, arg) {
        ffi::LUA_TNIL => return std::ptr::null_mut(),
        ffi::LUA_TTABLE => {}
        _ => convert::arg_error(l, arg, moonthunk_jit::Expected::Table.code()),
    }
    let element = Element::from_code(code);
    ffi::luaL_checkstack(l, 4, std::ptr::null());
    let (size, align, layout) = element.layout(l);
    debug_assert!(align <= HEADER);
    let count = ffi::lua_rawlen(l, arg);
    let Some(bytes) = count.checked_mul(size).and_then(|b| b.checked_add(HEADER)) else {
        argument_error(l, arg, format!("an array of {count} elements is too large"))
    };
    let block = lua_version::new_userdata(l, bytes, 0) as *mut u8;
    std::ptr::write_bytes(block, 0, bytes);
    (block as *mut usize).write(count);
    let data = block.add(HEADER);
    for i in 0..count {
        ffi::lua_rawgeti(l, arg, i as ffi::lua_Integer + 1);
        let p = data.add(i * size);
        let site = Site::Element {
            argument: arg,
            index: i + 1,
        };
        let converted = element_to_c(l, -1, element, layout.map(|r| &*r), Some(site), p);
        if let Err(mismatch) = converted {
            raise_mismatch(l, -1, site, mismatch);
        }
        ffi::lua_settop(l, -2);
    }
    if layout.is_some() {
        // The definition, under the array, which stays on the stack for the call.
        ffi::lua_rotate(l, -2, 1);
        ffi::lua_settop(l, -2);
    }
    data.cast()
}

/// Thunk helper: stores the elements of `array` (from [`table_array_arg`]) back into table
/// argument `arg`; nothing for NULL.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state, with what `table_array_arg` returned
/// for the same argument and code.
pub unsafe extern "C-unwind" fn table_array_writeback(
    l: *mut lua_State,
    arg: c_int,
    array: *const c_void,
    code: c_int,
) {
    if array.is_null() {
        return;
    }
    let array = array.cast::<u8>();
    let count = (array.sub(HEADER) as *const usize).read();
    let element = Element::from_code(code);
    ffi::luaL_checkstack(l, 6, std::ptr::null());
    let (size, _, layout) = element.layout(l);
    for i in 0..count {
        let p = array.add(i * size);
        let key = i as ffi::lua_Integer + 1;
        match layout {
            Some(layout) => {
                // A record goes back into the table that was there.
                ffi::lua_rawgeti(l, arg, key);
                push_element(
                    l,
                    element,
                    Some(&*layout),
                    p,
                    Some(ffi::lua_absindex(l, -1)),
                );
                ffi::lua_rawseti(l, arg, key);
                ffi::lua_settop(l, -2);
            }
            None => {
                push_element(l, element, None, p, None);
                ffi::lua_rawseti(l, arg, key);
            }
        }
    }
    if layout.is_some() {
        ffi::lua_settop(l, -2);
    }
}

/// Converts the Lua value at `idx` into the element at `p` (zeroed); `layout` is a record
/// element's, and `site` where the record is going, which words its fields' errors (they
/// raise).
///
/// # Safety
/// `p` is writable for the element's size; `idx` is an acceptable index of `l`; may raise as
/// memory objects do.
pub(crate) unsafe fn element_to_c(
    l: *mut lua_State,
    idx: c_int,
    element: Element,
    layout: Option<&StructLayout>,
    site: Option<Site>,
    p: *mut u8,
) -> Result<(), Mismatch> {
    match (element.convention(), layout) {
        (Some(convention), _) => convert::value_to_c(l, idx, convention, p),
        (None, Some(layout)) => match record::fill(l, idx, layout, p, site) {
            true => Ok(()),
            false => Err(Mismatch::Expected("struct (table or view)")),
        },
        (None, None) => unreachable!("records have a layout"),
    }
}

/// Pushes the element at `p`; a record is stored into the table at `existing` when there is
/// one there, else into a new table.
///
/// # Safety
/// `p` is readable for the element's size; `l` has room for four values; `existing` is an
/// absolute index of `l`.
pub(crate) unsafe fn push_element(
    l: *mut lua_State,
    element: Element,
    layout: Option<&StructLayout>,
    p: *const u8,
    existing: Option<c_int>,
) {
    match (element.convention(), layout) {
        (Some(convention), _) => convert::push_value(l, convention, p),
        (None, Some(layout)) => {
            match existing {
                Some(existing) if ffi::lua_type(l, existing) == ffi::LUA_TTABLE => {
                    ffi::lua_pushvalue(l, existing)
                }
                _ => ffi::lua_createtable(l, 0, layout.fields.len() as c_int),
            }
            record::store_in_table(l, layout, p, -1);
        }
        (None, None) => unreachable!("records have a layout"),
    }
}

/// Raises "bad argument #arg to 'f' (problem)".
unsafe fn argument_error(l: *mut lua_State, arg: c_int, problem: String) -> ! {
    let name = CStr::from_ptr(function_name(l)).to_string_lossy();
    raise(l, format!("bad argument #{arg} to '{name}' ({problem})"))
}
