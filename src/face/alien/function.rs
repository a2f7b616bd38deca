//! Alien's function objects: `lib.name`, `alien.funcptr(p)` and `alien.callback(f, ...)`,
//! typed with `f:types(...)` and called like functions.
//!
//! A function object is a userdata whose block is a [`FunctionHeader`] holding its C
//! address, so it passes wherever C takes a pointer, and is the one thing a "callback"
//! parameter takes (any function object, as in Alien). Each object has a metatable of its own, whose `__call` is the bound
//! thunk of its current signature, compiled to skip the object itself: a call is the thunk,
//! with no frame in between. `types` binds again and swaps `__call`. An untyped object is
//! `void f(void)`, as in Alien 0.7.
//!
//! The metatable also holds what `tostring` and `types` need: the function's name, its
//! library's name, and the keeper that holds the library loaded while the object lives.
//! `__metatable` hides it from Lua, and user value 1 (the shared methods table, which Lua
//! code cannot set) tells a function object from any other userdata.

use std::ffi::{c_int, c_void};

use mlua::ffi::{self, lua_State};
use mlua::{AnyUserData, Function, Lua, MultiValue, Result, Table, Value};

use super::types::AlienType;
use crate::callback::{Callback, Options};
use crate::face::errors::Render;
use crate::face::lift;
use crate::function::{self, Signature, ValueType};
use crate::memory::pointer::FunctionHeader;

const METHODS_KEY: &str = "moonthunk.alien.function_methods";

/// The block of a function object.
#[repr(C)]
struct FunctionBlock {
    header: FunctionHeader,
    /// The callback this object owns (`alien.callback`), released when it is collected.
    callback: Option<Callback>,
}

/// What a new function object calls and keeps.
pub struct Target<'a> {
    pub address: *mut c_void,
    /// The symbol name, `None` for a function pointer or a callback.
    pub name: Option<&'a str>,
    pub library: &'a str,
    /// What keeps the code mapped: the library's keeper, or nil.
    pub keeper: Value,
}

/// The shared methods table of function objects (`types`), built once per state.
fn methods(lua: &Lua) -> Result<Table> {
    if let Some(methods) = lua.named_registry_value::<Option<Table>>(METHODS_KEY)? {
        return Ok(methods);
    }
    let methods = lua.create_table()?;
    let types =
        lua.create_function(|lua, (this, spec): (Value, MultiValue)| set_types(lua, this, spec))?;
    methods.set("types", lift(lua, "types", types)?)?;
    lua.set_named_registry_value(METHODS_KEY, &methods)?;
    Ok(methods)
}

/// A new function object for `target`, typed `void f(void)`.
pub fn new(lua: &Lua, target: Target) -> Result<AnyUserData> {
    let object = push_object(lua, target.address, None)?;
    let meta = metatable(lua, &object)?;
    let name = target.name.unwrap_or("anonymous");
    meta.raw_set("name", name)?;
    meta.raw_set("library", target.library)?;
    meta.raw_set("keeper", target.keeper)?;
    let void = Signature::new(ValueType::Scalar(crate::ctype::Scalar::Void), vec![], false)
        .map_err(Render::render)?;
    bind(lua, &meta, &object, &void)?;
    Ok(object)
}

/// `alien.callback(f, ret, args...)` and `alien.callback(f, {ret = ..., args...})`.
pub fn callback(lua: &Lua, function: Function, spec: MultiValue) -> Result<AnyUserData> {
    let sig = signature(spec, true)?;
    let callback =
        Callback::create(lua, function, &sig, Options::default()).map_err(Render::render)?;
    let object = push_object(lua, callback.entry() as *mut c_void, Some(callback))?;
    let meta = metatable(lua, &object)?;
    meta.raw_set("name", "callback")?;
    meta.raw_set("library", "default")?;
    // Calling a callback from Lua goes through its C entry, which the object owns.
    meta.raw_set("keeper", &object)?;
    meta.raw_set("callback", true)?;
    bind(lua, &meta, &object, &sig)?;
    Ok(object)
}

/// `f:types(...)`: binds the object's thunk for the new signature.
fn set_types(lua: &Lua, this: Value, spec: MultiValue) -> Result<()> {
    let Some(object) = function_object(lua, &this)? else {
        let got = crate::convert::lua_type_name(lua, &this)?;
        return Err(mlua::Error::runtime(format!(
            "bad argument #1 to 'types' (alien function expected, got {got})"
        )));
    };
    let meta = metatable(lua, &object)?;
    if meta.raw_get::<bool>("callback")? {
        return Err(mlua::Error::runtime(
            "the types of a callback are fixed when it is made",
        ));
    }
    bind(lua, &meta, &object, &signature(spec, false)?)
}

/// The signature of `types`' arguments: a result type and parameter types, or one table
/// with `ret`, `abi` and the parameter types in its array part. A missing result is `int`.
/// A callback's parameters are what C passes it; a function's, what Lua passes.
pub fn signature(spec: MultiValue, callback: bool) -> Result<Signature> {
    let mut values = spec.into_iter();
    let (ret, args): (Value, Vec<Value>) = match values.next() {
        Some(Value::Table(t)) => {
            match t.get::<Value>("abi")? {
                Value::Nil => {}
                Value::String(abi)
                    if matches!(abi.to_str()?.as_ref(), "default" | "cdecl" | "stdcall") => {}
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "unknown abi '{}' (expected default, cdecl or stdcall)",
                        other.to_string()?
                    )))
                }
            }
            let args = t.sequence_values::<Value>().collect::<Result<_>>()?;
            (t.get("ret")?, args)
        }
        Some(ret) => (ret, values.collect()),
        None => (Value::Nil, Vec::new()),
    };
    let ret = match ret {
        Value::Nil => AlienType::Scalar(crate::ctype::Scalar::I32),
        ret => alien_type(&ret)?,
    };
    let args = args
        .iter()
        .map(|a| {
            let t = alien_type(a)?;
            Ok(if callback {
                t.value_type()
            } else {
                t.parameter_type()
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Signature::new(ret.value_type(), args, false).map_err(Render::render)
}

/// The Alien type a Lua value names.
pub fn alien_type(value: &Value) -> Result<AlienType> {
    match value {
        Value::String(name) => AlienType::parse(&name.to_str()?).map_err(Render::render),
        other => Err(mlua::Error::runtime(format!(
            "a type must be a type name, got {}",
            other.type_name()
        ))),
    }
}

/// Binds `object`'s target with `sig` as the `__call` of its metatable `meta`.
fn bind(lua: &Lua, meta: &Table, object: &AnyUserData, sig: &Signature) -> Result<()> {
    let name: String = meta.raw_get("name")?;
    let keeper: Value = meta.raw_get("keeper")?;
    let address = address(lua, object)?;
    // SAFETY: the user declares the function's signature; trusting it is inherent to an FFI.
    // The keeper holds the library (or the callback) while the function lives.
    let call = unsafe { function::bind_call_metamethod(lua, &name, address, sig, keeper) }
        .map_err(Render::render)?;
    // Alien gives a void function's result as nil, so that out-values come second:
    // `local none, sum = f(1, 2, 0)`. Only a void function with out-values needs the nil.
    let void = matches!(sig.ret, ValueType::Scalar(crate::ctype::Scalar::Void));
    if void && sig.args.iter().any(|a| matches!(a, ValueType::Ref(_))) {
        // SAFETY: makes a C closure over the thunk in mlua's protected raw call.
        let nil_first =
            unsafe { lua.exec_raw::<Function>(call, |l| ffi::lua_pushcclosure(l, nil_first, 1)) }?;
        return meta.raw_set("__call", nil_first);
    }
    meta.raw_set("__call", call)
}

/// The `__call` of a void function with out-values: calls the thunk (upvalue 1) with the
/// same arguments and puts nil, the void result, before the out-values it returns.
unsafe extern "C-unwind" fn nil_first(l: *mut lua_State) -> c_int {
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, ffi::lua_gettop(l) - 1, ffi::LUA_MULTRET);
    ffi::lua_pushnil(l);
    ffi::lua_insert(l, 1);
    ffi::lua_gettop(l)
}

/// Pushes a new function object for `address` (owning `callback`), with a metatable of its
/// own holding the shared methods, `__tostring`, and `__gc` for a callback.
fn push_object(lua: &Lua, address: *mut c_void, callback: Option<Callback>) -> Result<AnyUserData> {
    let methods = methods(lua)?;
    let owns_callback = callback.is_some();
    // SAFETY: builds the object from values mlua pushed, in its protected raw call.
    unsafe {
        lua.exec_raw::<AnyUserData>(methods, |l| {
            let block =
                ffi::lua_newuserdatauv(l, size_of::<FunctionBlock>(), 1) as *mut FunctionBlock;
            block.write(FunctionBlock {
                header: FunctionHeader::new(address),
                callback,
            });
            ffi::lua_pushvalue(l, 1);
            ffi::lua_setiuservalue(l, -2, 1);
            ffi::lua_createtable(l, 0, 8);
            ffi::lua_pushvalue(l, 1);
            ffi::lua_setfield(l, -2, c"__index".as_ptr());
            ffi::lua_pushcfunction(l, tostring);
            ffi::lua_setfield(l, -2, c"__tostring".as_ptr());
            ffi::lua_pushstring(l, c"alien function".as_ptr());
            ffi::lua_setfield(l, -2, c"__name".as_ptr());
            ffi::lua_pushstring(l, c"alien function".as_ptr());
            ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
            if owns_callback {
                // Set before the metatable is, so that Lua marks the object for finalization.
                ffi::lua_pushcfunction(l, release_callback);
                ffi::lua_setfield(l, -2, c"__gc".as_ptr());
            }
            ffi::lua_setmetatable(l, -2);
            ffi::lua_replace(l, 1);
        })
    }
}

/// The function object `value` is, if it is one.
pub fn function_object(lua: &Lua, value: &Value) -> Result<Option<AnyUserData>> {
    let Value::UserData(object) = value else {
        return Ok(None);
    };
    let methods = methods(lua)?;
    // SAFETY: inspects the pushed values in mlua's protected raw call.
    let is_function = unsafe {
        lua.exec_raw::<bool>((object, methods), |l| {
            let yes = is_function_at(l, 1, 2);
            ffi::lua_settop(l, 0);
            ffi::lua_pushboolean(l, yes as c_int);
        })?
    };
    Ok(is_function.then(|| object.clone()))
}

/// Whether the value at `idx` is a function object, given the methods table at `methods`.
///
/// # Safety
/// Both are acceptable indices of `l`, which has room for one value.
unsafe fn is_function_at(l: *mut lua_State, idx: c_int, methods: c_int) -> bool {
    if ffi::lua_type(l, idx) != ffi::LUA_TUSERDATA
        || ffi::lua_rawlen(l, idx) != size_of::<FunctionBlock>()
    {
        return false;
    }
    ffi::lua_getiuservalue(l, idx, 1);
    let yes = ffi::lua_rawequal(l, -1, methods) != 0;
    ffi::lua_settop(l, -2);
    yes
}

/// The metatable of a function object.
fn metatable(lua: &Lua, object: &AnyUserData) -> Result<Table> {
    // SAFETY: reads the metatable of the pushed object in mlua's protected raw call.
    unsafe {
        lua.exec_raw::<Table>(object, |l| {
            ffi::lua_getmetatable(l, 1);
            ffi::lua_replace(l, 1);
        })
    }
}

/// The C address a function object calls.
pub fn address(lua: &Lua, object: &AnyUserData) -> Result<*mut c_void> {
    let address = crate::convert::address_of(lua, Value::UserData(object.clone()))?;
    Ok(address.unwrap_or(0) as *mut c_void)
}

/// `tostring(f)`: "alien function puts, library default".
unsafe extern "C-unwind" fn tostring(l: *mut lua_State) -> c_int {
    ffi::lua_getmetatable(l, 1);
    ffi::lua_getfield(l, -1, c"name".as_ptr());
    ffi::lua_getfield(l, -2, c"library".as_ptr());
    ffi::lua_pushfstring(
        l,
        c"alien function %s, library %s".as_ptr(),
        ffi::lua_tolstring(l, -2, std::ptr::null_mut()),
        ffi::lua_tolstring(l, -1, std::ptr::null_mut()),
    );
    1
}

/// `__gc` of a callback object: gives its slot back.
unsafe extern "C-unwind" fn release_callback(l: *mut lua_State) -> c_int {
    let block = ffi::lua_touserdata(l, 1) as *mut FunctionBlock;
    if let Some(callback) = (*block).callback.take() {
        callback.free(l);
        // A resurrected object no longer passes as a pointer: the slot may serve another
        // callback.
        (*block).header.clear();
    }
    0
}
