//! Structs and unions by value, and out-parameters: the helpers generated code calls.
//!
//! A thunk copies each by-value argument into a temporary of its own with [`record_arg`]
//! (from a view or any memory object: its bytes; from a table: field by field, each in its
//! convention, nested tables for nested records and Lua arrays for fixed arrays), then passes
//! the temporary as the ABI
//! says. A by-value result comes back through [`push_record`] as a view over a fresh managed
//! copy. The struct definitions travel as upvalue 4 of the bound function (a table, in
//! record order: parameters, then the result). Out-parameters (`ref T`) are a temporary
//! holding one scalar: [`ref_arg`] stores the initial value, [`push_ref`] returns it after
//! the call.

use std::ffi::{c_int, c_void, CStr};
use std::rc::Rc;

use mlua::ffi::{self, lua_State};
use moonthunk_jit::{IntKind, RefKind};

use crate::convert::{self, Mismatch, Site};
use crate::ctype::Scalar;
use crate::lua_error::raise;
use crate::memory::layout::{Field, FieldType, StructLayout};
use crate::memory::{pointer, view};

/// Pushes a table of definition objects for `records` (the bound function's upvalue 4), or
/// nil when there are none (no helper reads it then; binding allocates less).
///
/// # Safety
/// `l` has room for three values.
pub unsafe fn push_definitions(l: *mut lua_State, records: &[Rc<StructLayout>]) {
    if records.is_empty() {
        ffi::lua_pushnil(l);
        return;
    }
    ffi::lua_createtable(l, records.len() as c_int, 0);
    for (i, layout) in records.iter().enumerate() {
        view::push_def(l, layout.clone());
        ffi::lua_rawseti(l, -2, i as ffi::lua_Integer + 1);
    }
}

/// Pushes definition `record` (0-based) of the table at `defs`; returns its layout.
pub(crate) unsafe fn push_definition(
    l: *mut lua_State,
    defs: c_int,
    record: c_int,
) -> *const StructLayout {
    // Callers push up to three more values after the definition.
    ffi::luaL_checkstack(l, 6, std::ptr::null());
    ffi::lua_rawgeti(l, defs, record as ffi::lua_Integer + 1);
    // SAFETY: definitions tables are made by `push_definitions` and reachable from Lua only
    // through the debug library.
    view::trusted_layout(l, -1)
}

/// Fills `dest` (the layout's size, zeroed here) from the Lua value at `idx`: a table of
/// fields, or any memory object holding at least the layout's bytes. Returns false when the
/// value is neither. `site` is where the record is going, when the errors of its fields'
/// values name it (table-array elements); else they are worded as stores into memory.
///
/// # Safety
/// `dest` is writable for the layout's size; may raise.
pub unsafe fn fill(
    l: *mut lua_State,
    idx: c_int,
    layout: &StructLayout,
    dest: *mut u8,
    site: Option<Site>,
) -> bool {
    let idx = ffi::lua_absindex(l, idx);
    std::ptr::write_bytes(dest, 0, layout.size);
    if ffi::lua_type(l, idx) == ffi::LUA_TTABLE {
        fill_from_table(l, idx, layout, dest, site);
        return true;
    }
    let object = pointer::object_at(l, idx);
    if object.is_null() {
        return false;
    }
    let src = pointer::access(
        l,
        (*object).addr,
        &(*object).region,
        0,
        layout.size,
        1,
        &|| format!("copy of a {}-byte struct", layout.size),
    );
    std::ptr::copy_nonoverlapping(src, dest, layout.size);
    true
}

unsafe fn fill_from_table(
    l: *mut lua_State,
    table: c_int,
    layout: &StructLayout,
    dest: *mut u8,
    site: Option<Site>,
) {
    ffi::luaL_checkstack(l, 4, std::ptr::null());
    for field in &layout.fields {
        let name = std::ffi::CString::new(field.name.as_str()).unwrap_or_default();
        ffi::lua_getfield(l, table, name.as_ptr());
        drop(name);
        let value = ffi::lua_absindex(l, -1);
        let p = dest.add(field.offset);
        match (&field.ty, field.count) {
            _ if ffi::lua_type(l, value) == ffi::LUA_TNIL => {}
            (ty, Some(n)) if ffi::lua_type(l, value) == ffi::LUA_TTABLE => {
                let elem = ty.size();
                for i in 0..n {
                    ffi::lua_rawgeti(l, value, i as ffi::lua_Integer + 1);
                    let item = ffi::lua_absindex(l, -1);
                    if ffi::lua_type(l, item) != ffi::LUA_TNIL {
                        store_element(l, item, field, p.add(i * elem), site);
                    }
                    ffi::lua_settop(l, -2);
                }
            }
            (_, None) => store_element(l, value, field, p, site),
            _ => view::store_field(l, field, p, value),
        }
        ffi::lua_settop(l, -2);
    }
}

/// Stores the value at `idx` as one element of `field` at `p`; `site` is where the record
/// holding the field is going (see [`fill`]).
unsafe fn store_element(
    l: *mut lua_State,
    idx: c_int,
    field: &Field,
    p: *mut u8,
    site: Option<Site>,
) {
    let field_site = site.as_ref().map(|record| Site::Field {
        record,
        name: &field.name,
    });
    match &field.ty {
        FieldType::Struct(inner) => {
            if !fill(l, idx, inner, p, field_site) {
                let mismatch = Mismatch::Expected("table or view");
                let message = match field_site {
                    Some(site) => convert::mismatch_message(l, idx, site, mismatch),
                    None => format!(
                        "bad value for a nested struct ({})",
                        mismatch.describe(l, idx, "number")
                    ),
                };
                raise(l, message);
            }
        }
        _ => view::store_element(l, idx, field, p, field_site),
    }
}

/// Stores the struct at `src` into the table at `table`, field by field: scalars as values,
/// nested records as tables and fixed arrays as sequences (both reusing the tables already
/// there). The mirror of filling a struct from a table.
///
/// # Safety
/// `src` is readable for the layout's size; `table` is a table index of `l`.
pub unsafe fn store_in_table(
    l: *mut lua_State,
    layout: &StructLayout,
    src: *const u8,
    table: c_int,
) {
    let table = ffi::lua_absindex(l, table);
    ffi::luaL_checkstack(l, 4, std::ptr::null());
    for field in &layout.fields {
        let name = std::ffi::CString::new(field.name.as_str()).unwrap_or_default();
        let p = src.add(field.offset);
        match field.count {
            None => push_element(l, &field.ty, p, table, &name),
            Some(n) => {
                table_field(l, table, &name);
                let elem = field.ty.size();
                for i in 0..n {
                    ffi::lua_rawgeti(l, -1, i as ffi::lua_Integer + 1);
                    let existing = ffi::lua_absindex(l, -1);
                    push_element_value(l, &field.ty, p.add(i * elem), existing);
                    ffi::lua_rawseti(l, -3, i as ffi::lua_Integer + 1);
                    ffi::lua_settop(l, -2);
                }
                ffi::lua_setfield(l, table, name.as_ptr());
            }
        }
    }
}

/// Sets field `name` of `table` to the element of type `ty` at `p`.
unsafe fn push_element(
    l: *mut lua_State,
    ty: &FieldType,
    p: *const u8,
    table: c_int,
    name: &std::ffi::CStr,
) {
    ffi::lua_getfield(l, table, name.as_ptr());
    let existing = ffi::lua_absindex(l, -1);
    push_element_value(l, ty, p, existing);
    ffi::lua_setfield(l, table, name.as_ptr());
    ffi::lua_settop(l, -2);
}

/// Pushes the element of type `ty` at `p`: a value, or for a record the table at `existing`
/// (refilled) when it is one, else a new table.
unsafe fn push_element_value(l: *mut lua_State, ty: &FieldType, p: *const u8, existing: c_int) {
    match ty {
        FieldType::Struct(inner) => {
            if ffi::lua_type(l, existing) == ffi::LUA_TTABLE {
                ffi::lua_pushvalue(l, existing);
            } else {
                ffi::lua_createtable(l, 0, inner.fields.len() as c_int);
            }
            store_in_table(l, inner, p, -1);
        }
        _ => view::push_element(l, ty, p),
    }
}

/// Pushes field `name` of `table` when it is a table, else a new table (which becomes the
/// field when the caller sets it).
unsafe fn table_field(l: *mut lua_State, table: c_int, name: &std::ffi::CStr) {
    if ffi::lua_getfield(l, table, name.as_ptr()) != ffi::LUA_TTABLE {
        ffi::lua_settop(l, -2);
        ffi::lua_createtable(l, 0, 0);
    }
}

/// Replaces the definition of `layout` on top of the stack by a view owning a copy of the
/// struct at `src`.
unsafe fn push_copy(l: *mut lua_State, layout: *const StructLayout, src: *const u8) {
    view::push_owned_view(l, -1, layout, src);
    ffi::lua_replace(l, -2);
}

/// Thunk helper: copies argument `arg` into `dest` as record `record` of the bound function.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn record_arg(
    l: *mut lua_State,
    arg: c_int,
    dest: *mut c_void,
    record: c_int,
) {
    let layout = push_definition(l, ffi::lua_upvalueindex(4), record);
    if !fill(l, arg, &*layout, dest.cast(), None) {
        let got = crate::memory::raw::type_name(l, arg);
        let name = CStr::from_ptr(crate::convert::function_name(l)).to_string_lossy();
        raise(
            l,
            format!("bad argument #{arg} to '{name}' (struct (table or view) expected, got {got})"),
        );
    }
    ffi::lua_settop(l, -2);
}

/// Thunk helper: pushes the by-value result at `src` as a view over a managed copy.
///
/// # Safety
/// Called only from a thunk, on the thunk's Lua state.
pub unsafe extern "C-unwind" fn push_record(l: *mut lua_State, src: *const c_void, record: c_int) {
    let layout = push_definition(l, ffi::lua_upvalueindex(4), record);
    push_copy(l, layout, src.cast());
}

/// Pushes record `record` of a callback whose definitions table is at registry reference
/// `defs`, copied from `src`, as a view.
///
/// # Safety
/// `l` is a thread of the callback's state.
pub unsafe fn push_callback_record(l: *mut lua_State, defs: c_int, record: c_int, src: *const u8) {
    ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, defs as ffi::lua_Integer);
    let table = ffi::lua_absindex(l, -1);
    let layout = push_definition(l, table, record);
    push_copy(l, layout, src);
    ffi::lua_replace(l, table);
}

/// Fills `dest` with the value on top of `l` as record `record` of the definitions at
/// registry reference `defs`; false when the value is neither a table nor memory.
///
/// # Safety
/// `l` is a thread of the callback's state; `dest` holds the layout's size.
pub unsafe fn fill_callback_record(
    l: *mut lua_State,
    defs: c_int,
    record: c_int,
    dest: *mut u8,
) -> bool {
    let value = ffi::lua_absindex(l, -1);
    ffi::lua_rawgeti(l, ffi::LUA_REGISTRYINDEX, defs as ffi::lua_Integer);
    let layout = push_definition(l, -1, record);
    ffi::lua_settop(l, value);
    fill(l, value, &*layout, dest, None)
}

/// The scalar type behind an out-parameter code.
fn ref_type(code: c_int) -> Scalar {
    match RefKind::from_code(code) {
        RefKind::Bool => Scalar::Bool,
        RefKind::F32 => Scalar::F32,
        RefKind::F64 => Scalar::F64,
        RefKind::Pointer => Scalar::Pointer,
        RefKind::Int(IntKind { bits, signed }) => match (bits, signed) {
            (8, true) => Scalar::I8,
            (8, false) => Scalar::U8,
            (16, true) => Scalar::I16,
            (16, false) => Scalar::U16,
            (32, true) => Scalar::I32,
            (32, false) => Scalar::U32,
            (_, true) => Scalar::I64,
            (_, false) => Scalar::U64,
        },
    }
}

/// Thunk helper: stores the initial value of an out-parameter (nil or none is 0).
///
/// # Safety
/// Called only from a thunk; `dest` holds 8 bytes.
pub unsafe extern "C-unwind" fn ref_arg(
    l: *mut lua_State,
    arg: c_int,
    dest: *mut c_void,
    code: c_int,
) {
    let dest = dest.cast::<u8>();
    std::ptr::write_bytes(dest, 0, 8);
    if ffi::lua_type(l, arg) > ffi::LUA_TNIL {
        // A wrong value is an argument error: "bad argument #n to 'f' (...)".
        if let Err(mismatch) = convert::to_c(l, arg, ref_type(code), dest) {
            convert::raise_mismatch(l, arg, convert::Site::Argument(arg), mismatch);
        }
    }
}

/// Thunk helper: pushes the value of an out-parameter after the call.
///
/// # Safety
/// Called only from a thunk; `src` holds 8 bytes.
pub unsafe extern "C-unwind" fn push_ref(l: *mut lua_State, src: *const c_void, code: c_int) {
    convert::to_lua(l, ref_type(code), src.cast());
}
