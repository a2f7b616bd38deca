//! Struct definitions (`ffi.struct`) and struct views (`ffi.view`, `ffi.cast(ptr, def)`).
//!
//! A definition is a userdata holding an `Rc<StructLayout>`; a view is a memory object whose
//! `layout` points at it and whose user value 2 holds the definition (which keeps the layout,
//! and every nested layout, alive). Field reads and writes check the field's bytes against the
//! view's region; array fields read as bounded typed pointers, nested structs as views, and
//! other fields convert in their convention, as table-array elements do.

use std::ffi::{c_int, c_void, CStr};
use std::rc::Rc;

use mlua::ffi::{self, lua_State};

use super::layout::{Field, FieldSpec, FieldType, LayoutOptions, StructLayout};
use super::pointer::{self, access, Kind, MemObject, MAGIC_MEMORY};
use super::raw;
use super::region::Region;
use crate::convert::{self, Convention, Site};
use crate::ctype::Scalar;
use crate::lua_error::raise;
use crate::lua_version;

/// Registry name of the struct definition metatable.
pub const DEF_METATABLE: &CStr = c"moonthunk.struct";

#[repr(C)]
struct DefBlock {
    layout: *const StructLayout,
}

/// The definition metatable is also registered under this static's address: a light
/// userdata key is found without interning a name, as `luaL_testudata` does on every call
/// (a call passing structs by value looks up each of its definitions).
static DEF_KEY: u8 = 0;

/// The block of the struct definition at `idx`, or null when the value is not one.
///
/// # Safety
/// `idx` is an acceptable index of `l`, which has room for two values.
unsafe fn def_at(l: *mut lua_State, idx: c_int) -> *mut DefBlock {
    if ffi::lua_type(l, idx) != ffi::LUA_TUSERDATA || ffi::lua_getmetatable(l, idx) == 0 {
        return std::ptr::null_mut();
    }
    ffi::lua_rawgetp(
        l,
        ffi::LUA_REGISTRYINDEX,
        &DEF_KEY as *const u8 as *const c_void,
    );
    let is_def = ffi::lua_rawequal(l, -1, -2) != 0;
    ffi::lua_settop(l, -3);
    if is_def {
        ffi::lua_touserdata(l, idx) as *mut DefBlock
    } else {
        std::ptr::null_mut()
    }
}

/// The layout of the definition at `idx`, a value the engine stored itself (in a bound
/// function's or a callback's definitions table), so read without the metatable check that
/// costs a call passing structs by value a registry lookup per struct.
///
/// # Safety
/// The value at `idx` is a struct definition.
pub(crate) unsafe fn trusted_layout(l: *mut lua_State, idx: c_int) -> *const StructLayout {
    (*(ffi::lua_touserdata(l, idx) as *const DefBlock)).layout
}

/// The layout of the struct definition at `idx`, if the value is one.
pub unsafe fn layout_at(l: *mut lua_State, idx: c_int) -> Option<*const StructLayout> {
    let block = def_at(l, idx);
    (!block.is_null()).then(|| (*block).layout)
}

/// Whether the value at `idx` is a struct view.
pub unsafe fn is_view(l: *mut lua_State, idx: c_int) -> bool {
    let object = pointer::object_at(l, idx);
    !object.is_null() && (*object).kind == Kind::View
}

/// Pushes a definition userdata owning `layout`.
pub unsafe fn push_def(l: *mut lua_State, layout: Rc<StructLayout>) {
    let block = lua_version::new_userdata(l, size_of::<DefBlock>(), 0) as *mut DefBlock;
    block.write(DefBlock {
        layout: Rc::into_raw(layout),
    });
    ffi::luaL_setmetatable(l, DEF_METATABLE.as_ptr());
}

/// Reads the field list of `ffi.struct` from the table at `idx` without raising.
unsafe fn parse_specs(l: *mut lua_State, idx: c_int) -> Result<Vec<FieldSpec>, String> {
    let n = ffi::lua_rawlen(l, idx);
    let mut specs = Vec::with_capacity(n);
    for i in 1..=n {
        ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
        let entry = ffi::lua_gettop(l);
        let spec = parse_spec(l, entry, i);
        ffi::lua_settop(l, entry - 1);
        specs.push(spec?);
    }
    Ok(specs)
}

unsafe fn parse_spec(l: *mut lua_State, entry: c_int, i: usize) -> Result<FieldSpec, String> {
    if ffi::lua_type(l, entry) != ffi::LUA_TTABLE {
        return Err(format!(
            "field #{i} must be a table {{name, type [, count]}}, got {}",
            raw::type_name(l, entry)
        ));
    }
    ffi::lua_rawgeti(l, entry, 1);
    let name = match raw::string_at(l, -1) {
        Some(s) => String::from_utf8_lossy(s).into_owned(),
        None => return Err(format!("field #{i}: name expected")),
    };
    ffi::lua_rawgeti(l, entry, 2);
    let ty = if let Some(layout) = layout_at(l, -1) {
        Rc::increment_strong_count(layout);
        FieldType::Struct(Rc::from_raw(layout))
    } else if let Some(tname) = raw::string_at(l, -1) {
        let tname = String::from_utf8_lossy(tname);
        FieldType::Scalar(Scalar::parse(&tname).map_err(|e| format!("field '{name}': {e}"))?)
    } else {
        return Err(format!(
            "field '{name}': type name or struct definition expected, got {}",
            raw::type_name(l, -1)
        ));
    };
    ffi::lua_rawgeti(l, entry, 3);
    let count = match ffi::lua_type(l, -1) {
        ffi::LUA_TNIL => None,
        _ => {
            let mut isnum = 0;
            let n = ffi::lua_tointegerx(l, -1, &mut isnum);
            if isnum == 0 || n <= 0 {
                return Err(format!(
                    "field '{name}': array length must be a positive integer"
                ));
            }
            Some(n as usize)
        }
    };
    Ok(FieldSpec { name, ty, count })
}

/// `ffi.struct({{name, type [, count]}, ...} [, {packed = true}])`.
pub unsafe extern "C-unwind" fn new_struct(l: *mut lua_State) -> c_int {
    let packed = ffi::lua_type(l, 2) == ffi::LUA_TTABLE && {
        ffi::lua_getfield(l, 2, c"packed".as_ptr());
        let packed = ffi::lua_toboolean(l, -1) != 0;
        ffi::lua_settop(l, -2);
        packed
    };
    new_record(
        l,
        "struct",
        LayoutOptions {
            union: false,
            packed,
        },
    )
}

/// `ffi.union({{name, type [, count]}, ...})`: every field at offset 0.
pub unsafe extern "C-unwind" fn new_union(l: *mut lua_State) -> c_int {
    new_record(
        l,
        "union",
        LayoutOptions {
            union: true,
            packed: false,
        },
    )
}

unsafe fn new_record(l: *mut lua_State, fname: &str, options: LayoutOptions) -> c_int {
    if ffi::lua_type(l, 1) != ffi::LUA_TTABLE {
        raw::arg_error(
            l,
            1,
            fname,
            format!("table of fields expected, got {}", raw::type_name(l, 1)),
        );
    }
    let layout = parse_specs(l, 1).and_then(|specs| StructLayout::with_options(specs, options));
    match layout {
        Ok(layout) => push_def(l, Rc::new(layout)),
        Err(msg) => raise(l, format!("bad {fname} definition: {msg}")),
    }
    1
}

unsafe fn check_def(l: *mut lua_State, idx: c_int, fname: &str) -> *const StructLayout {
    match layout_at(l, idx) {
        Some(layout) => layout,
        None => raw::arg_error(
            l,
            idx,
            fname,
            format!("struct definition expected, got {}", raw::type_name(l, idx)),
        ),
    }
}

unsafe fn check_field<'a>(
    l: *mut lua_State,
    layout: *const StructLayout,
    idx: c_int,
    fname: &str,
) -> &'a Field {
    let Some(name) = raw::string_at(l, idx) else {
        raw::arg_error(
            l,
            idx,
            fname,
            format!("field name expected, got {}", raw::type_name(l, idx)),
        );
    };
    match (*layout).field(name) {
        Some(f) => f,
        None => raise(
            l,
            format!("struct has no field '{}'", String::from_utf8_lossy(name)),
        ),
    }
}

unsafe extern "C-unwind" fn offset_of(l: *mut lua_State) -> c_int {
    let layout = check_def(l, 1, "offsetOf");
    let field = check_field(l, layout, 2, "offsetOf");
    ffi::lua_pushinteger(l, field.offset as i64);
    1
}

unsafe extern "C-unwind" fn size_of_field(l: *mut lua_State) -> c_int {
    let layout = check_def(l, 1, "sizeOf");
    let field = check_field(l, layout, 2, "sizeOf");
    ffi::lua_pushinteger(l, field.size as i64);
    1
}

unsafe extern "C-unwind" fn fields(l: *mut lua_State) -> c_int {
    let layout = check_def(l, 1, "fields");
    let fields = &(*layout).fields;
    ffi::lua_createtable(l, fields.len() as c_int, 0);
    for (i, f) in fields.iter().enumerate() {
        ffi::lua_pushlstring(l, f.name.as_ptr() as *const _, f.name.len());
        ffi::lua_rawseti(l, -2, i as ffi::lua_Integer + 1);
    }
    1
}

unsafe extern "C-unwind" fn def_index(l: *mut lua_State) -> c_int {
    let layout = check_def(l, 1, "__index");
    match raw::string_at(l, 2) {
        Some(b"size") => ffi::lua_pushinteger(l, (*layout).size as i64),
        Some(b"alignment") => ffi::lua_pushinteger(l, (*layout).align as i64),
        Some(b"fieldCount") => ffi::lua_pushinteger(l, (*layout).fields.len() as i64),
        _ => {
            ffi::lua_pushvalue(l, 2);
            ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
        }
    }
    1
}

unsafe extern "C-unwind" fn def_gc(l: *mut lua_State) -> c_int {
    let block = def_at(l, 1);
    if !block.is_null() && !(*block).layout.is_null() {
        // Views never outlive the definition they hold in a user value, so this is the last
        // use of the block's share of the layout.
        drop(Rc::from_raw((*block).layout));
        (*block).layout = std::ptr::null();
    }
    0
}

unsafe extern "C-unwind" fn def_tostring(l: *mut lua_State) -> c_int {
    let layout = check_def(l, 1, "__tostring");
    ffi::lua_pushfstring(
        l,
        c"struct (%I bytes, %I fields)".as_ptr(),
        (*layout).size as ffi::lua_Integer,
        (*layout).fields.len() as ffi::lua_Integer,
    );
    1
}

/// Checks that a `layout` fits at `addr` in `region`.
unsafe fn check_fits(
    l: *mut lua_State,
    addr: *mut u8,
    region: &Region,
    layout: *const StructLayout,
) {
    access(l, addr, region, 0, (*layout).size, (*layout).align, &|| {
        format!("view of a {}-byte struct", (*layout).size)
    });
}

/// Pushes a view of the definition at `def` over the memory object (or address) at `src`.
pub unsafe fn push_view(l: *mut lua_State, src: c_int, def: c_int, fname: &str) {
    let layout = check_def(l, def, fname);
    let (addr, region) = pointer::target_at(l, src, fname);
    check_fits(l, addr, &region, layout);
    pointer::push_derived(
        l,
        src,
        def,
        MemObject {
            addr,
            magic: MAGIC_MEMORY,
            kind: Kind::View,
            elem: Scalar::U8,
            stride: (*layout).size,
            layout,
            region,
        },
    );
}

/// Pushes a view that owns a copy of the `size` bytes at `src`, stored in the view's own
/// userdata after its block: one allocation for a struct returned by value. The definition
/// of `layout` is at `def`. The view is its own owner (user value 1), so objects derived from
/// it keep it alive.
///
/// # Safety
/// `src` is readable for the layout's size; `def` is `layout`'s definition; `l` has room for
/// three values.
pub unsafe fn push_owned_view(
    l: *mut lua_State,
    def: c_int,
    layout: *const StructLayout,
    src: *const u8,
) {
    let def = ffi::lua_absindex(l, def);
    let size = (*layout).size;
    let block = lua_version::new_userdata(l, size_of::<MemObject>() + size, 2) as *mut MemObject;
    let data = (block as *mut u8).add(size_of::<MemObject>());
    std::ptr::copy_nonoverlapping(src, data, size);
    block.write(MemObject {
        addr: data,
        magic: MAGIC_MEMORY,
        kind: Kind::View,
        elem: Scalar::U8,
        stride: size,
        layout,
        region: Region {
            managed: true,
            base: data,
            len: size,
            owner: std::ptr::null(),
            gen: 0,
        },
    });
    ffi::lua_rawgetp(
        l,
        ffi::LUA_REGISTRYINDEX,
        Kind::View.metatable().as_ptr() as *const std::ffi::c_void,
    );
    ffi::lua_setmetatable(l, -2);
    ffi::lua_pushvalue(l, -1);
    lua_version::set_user_value(l, -2, 1);
    ffi::lua_pushvalue(l, def);
    lua_version::set_user_value(l, -2, 2);
}

/// `ffi.view(ptr, def)`.
pub unsafe extern "C-unwind" fn new_view(l: *mut lua_State) -> c_int {
    push_view(l, 1, 2, "view");
    1
}

/// Pushes what reading `field` of the object at `obj` (address `p`, already checked)
/// gives: a value, a bounded typed pointer for arrays, a view for nested structs.
pub unsafe fn push_field(
    l: *mut lua_State,
    obj: c_int,
    region: &Region,
    field: &Field,
    p: *mut u8,
) {
    let sub = Region {
        managed: true,
        base: p,
        len: field.size,
        ..*region
    };
    match (&field.ty, field.count) {
        (FieldType::Scalar(t), Some(_)) => {
            pointer::push_derived(
                l,
                obj,
                0,
                MemObject {
                    addr: p,
                    magic: MAGIC_MEMORY,
                    kind: Kind::Typed,
                    elem: *t,
                    stride: t.size(),
                    layout: std::ptr::null(),
                    region: sub,
                },
            );
        }
        (FieldType::Struct(s), count) => {
            let kind = if count.is_some() {
                Kind::Typed
            } else {
                Kind::View
            };
            pointer::push_derived(
                l,
                obj,
                0,
                MemObject {
                    addr: p,
                    magic: MAGIC_MEMORY,
                    kind,
                    elem: Scalar::U8,
                    stride: s.size,
                    layout: Rc::as_ptr(s),
                    region: sub,
                },
            );
            lua_version::user_value(l, obj, 2);
            lua_version::set_user_value(l, -2, 2);
        }
        (ty, None) => push_element(l, ty, p),
        (_, Some(_)) => unreachable!("arrays are native fields only"),
    }
}

/// How one element of a field of type `ty` (not a record) converts.
fn convention(ty: &FieldType) -> Convention {
    match ty {
        FieldType::Scalar(t) => Convention::Scalar(*t),
        FieldType::CharString { .. } => Convention::CharString,
        FieldType::Address => Convention::Address,
        FieldType::Struct(_) => unreachable!("records convert field by field"),
    }
}

/// Pushes one element of a field of type `ty` (not a record) at `p`, in the field's
/// convention.
///
/// # Safety
/// `p` is readable for the element's size; `l` has room for one value.
pub(crate) unsafe fn push_element(l: *mut lua_State, ty: &FieldType, p: *const u8) {
    convert::push_value(l, convention(ty), p);
}

/// Stores the value at `idx` as one element of `field` (not a record) at `p`, in the field's
/// convention. A wrong value raises the error of `site` (the field's, inside a table-array
/// element) or, with none, "bad value for i32 (...)" for a native field and "bad value for
/// field 'c' (...)" for the others, whose C type says less than the name.
///
/// # Safety
/// `p` is writable for the element's size; `idx` is an acceptable index of `l`.
pub(crate) unsafe fn store_element(
    l: *mut lua_State,
    idx: c_int,
    field: &Field,
    p: *mut u8,
    site: Option<Site>,
) {
    let Err(mismatch) = convert::value_to_c(l, idx, convention(&field.ty), p) else {
        return;
    };
    let message = match (site, &field.ty) {
        (Some(site), _) => convert::mismatch_message(l, idx, site, mismatch),
        (None, FieldType::Scalar(t)) => {
            convert::mismatch_message(l, idx, Site::Store(*t), mismatch)
        }
        (None, _) => format!(
            "bad value for field '{}' ({})",
            field.name,
            mismatch.describe(l, idx, "number")
        ),
    };
    raise(l, message)
}

/// Stores the value at `val` into `field` at `p` (already checked).
pub unsafe fn store_field(l: *mut lua_State, field: &Field, p: *mut u8, val: c_int) {
    match (&field.ty, field.count) {
        (FieldType::Scalar(Scalar::U8 | Scalar::I8), Some(n))
            if raw::string_at(l, val).is_some() =>
        {
            let s = raw::string_at(l, val).unwrap_or_default();
            if s.len() > n {
                raise(
                    l,
                    format!(
                        "string of {} bytes does not fit in field '{}' ({n} bytes)",
                        s.len(),
                        field.name
                    ),
                );
            }
            std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
            std::ptr::write_bytes(p.add(s.len()), 0, n - s.len());
        }
        (FieldType::Struct(s), None) => {
            let src = pointer::object_at(l, val);
            if src.is_null() || (*src).kind != Kind::View || (*src).layout != Rc::as_ptr(s) {
                raise(
                    l,
                    format!(
                        "cannot assign to struct field '{}' (a view of the same struct expected, got {})",
                        field.name,
                        raw::type_name(l, val)
                    ),
                );
            }
            let from = access(l, (*src).addr, &(*src).region, 0, s.size, 1, &|| {
                "struct copy read".to_string()
            });
            std::ptr::copy(from, p, s.size);
        }
        (_, None) => store_element(l, val, field, p, None),
        _ => raise(
            l,
            format!(
                "cannot assign to array field '{}' (index it, or assign a string to a char array)",
                field.name
            ),
        ),
    }
}

unsafe fn lookup<'a>(l: *mut lua_State, o: *const MemObject) -> Option<&'a Field> {
    let key = raw::string_at(l, 2)?;
    (*(*o).layout).field(key)
}

unsafe fn no_field(l: *mut lua_State) -> ! {
    let name = match raw::string_at(l, 2) {
        Some(s) => String::from_utf8_lossy(s).into_owned(),
        None => raw::type_name(l, 2),
    };
    raise(l, format!("struct has no field '{name}'"))
}

unsafe extern "C-unwind" fn view_index(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::View, "__index");
    match lookup(l, o) {
        Some(field) => {
            let p = access(
                l,
                (*o).addr,
                &(*o).region,
                field.offset as isize,
                field.size,
                field.ty.align().min((*(*o).layout).align),
                &|| format!("read of field '{}'", field.name),
            );
            push_field(l, 1, &(*o).region, field, p);
        }
        None => {
            ffi::lua_pushvalue(l, 2);
            if ffi::lua_rawget(l, ffi::lua_upvalueindex(1)) == ffi::LUA_TNIL {
                no_field(l);
            }
        }
    }
    1
}

unsafe extern "C-unwind" fn view_newindex(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::View, "__newindex");
    let Some(field) = lookup(l, o) else {
        no_field(l)
    };
    let p = access(
        l,
        (*o).addr,
        &(*o).region,
        field.offset as isize,
        field.size,
        field.ty.align().min((*(*o).layout).align),
        &|| format!("write of field '{}'", field.name),
    );
    store_field(l, field, p, 3);
    0
}

/// `view:pointTo(ptr)`: repoints the view without allocating.
unsafe extern "C-unwind" fn point_to(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::View, "pointTo");
    let (addr, region) = pointer::target_at(l, 2, "pointTo");
    check_fits(l, addr, &region, (*o).layout);
    (*o).addr = addr;
    (*o).region = region;
    if ffi::lua_type(l, 2) == ffi::LUA_TUSERDATA {
        lua_version::user_value(l, 2, 1);
    } else {
        ffi::lua_pushnil(l);
    }
    lua_version::set_user_value(l, 1, 1);
    ffi::lua_settop(l, 1);
    1
}

/// `view:toRaw()`: a raw pointer to the viewed struct.
unsafe extern "C-unwind" fn view_to_raw(l: *mut lua_State) -> c_int {
    let o = pointer::check_kind(l, 1, Kind::View, "toRaw");
    pointer::push_derived(l, 1, 0, pointer::raw_object((*o).addr, (*o).region));
    1
}

/// Registers the definition and view metatables.
pub unsafe fn register(l: *mut lua_State) {
    if ffi::luaL_newmetatable(l, DEF_METATABLE.as_ptr()) != 0 {
        ffi::lua_pushvalue(l, -1);
        ffi::lua_rawsetp(
            l,
            ffi::LUA_REGISTRYINDEX,
            &DEF_KEY as *const u8 as *const c_void,
        );
        ffi::lua_createtable(l, 0, 3);
        raw::set_functions(
            l,
            &[
                (c"offsetOf", offset_of),
                (c"sizeOf", size_of_field),
                (c"fields", fields),
            ],
        );
        ffi::lua_pushcclosure(l, def_index, 1);
        ffi::lua_setfield(l, -2, c"__index".as_ptr());
        raw::set_functions(l, &[(c"__gc", def_gc), (c"__tostring", def_tostring)]);
        ffi::lua_pushstring(l, c"struct definition".as_ptr());
        ffi::lua_setfield(l, -2, c"__name".as_ptr());
        ffi::lua_pushstring(l, c"moonthunk".as_ptr());
        ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
    }
    ffi::lua_pop(l, 1);
    pointer::new_metatable(
        l,
        Kind::View,
        c"struct view",
        view_index,
        &[(c"pointTo", point_to), (c"toRaw", view_to_raw)],
        &[(c"__newindex", view_newindex)],
    );
}
