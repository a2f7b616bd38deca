//! Alien's function objects: `lib.name`, `alien.funcptr(p)` and `alien.callback(f, ...)`,
//! typed with `f:types(...)` and called like functions.
//!
//! A function object of a C function is a bound function of the engine, a C closure of its
//! signature's thunk, so that a call costs what a call of a native-face function costs.
//! `f:types(...)` gives it a thunk specialized for the new signature in place
//! (`function::retype`): the function value stays the same one. Its keeper is a small
//! block starting with a [`FunctionHeader`] of its address, so that it passes wherever C
//! takes a pointer or a function pointer; the block holds the library's keeper and name.
//! `f:types` and `tostring(f)` are served by the metatable of the function type, which the
//! face installs once per state: every function shares it, so for any other function it
//! keeps what Lua (or a metatable set before) does.
//!
//! A callback object is a userdata starting with a [`FunctionHeader`], with a metatable of
//! its own whose `__call` is the bound thunk of its entry, compiled to skip the object
//! itself. An untyped function is `void f(void)`, as in Alien 0.7.

use std::ffi::{c_int, c_void, CStr};

use mlua::ffi::{self, lua_State};
use mlua::{AnyUserData, Function, Lua, MultiValue, Result, Table, Value};

use super::types::AlienType;
use crate::callback::{Callback, Options};
use crate::face::errors::Render;
use crate::face::lift;
use crate::function::{self, Signature, Thunking, ValueType, KEEPER_UPVALUE, NAME_UPVALUE};
use crate::lua_version;
use crate::memory::pointer::FunctionHeader;

const METHODS_KEY: &str = "moonthunk.alien.function_methods";
/// The registry name of the metatable of function objects' blocks, which tells them from
/// other values.
const BLOCK_METATABLE: &CStr = c"moonthunk.alien.function_block";
/// Set once the function type's metatable serves function objects.
const FUNCTION_TYPE_KEY: &str = "moonthunk.alien.function_type";

/// The keeper block of a function object's closure.
#[repr(C)]
struct FunctionBlock {
    header: FunctionHeader,
}

/// The user values of a [`FunctionBlock`].
const LIBRARY_KEEPER: c_int = 1;
const LIBRARY_NAME: c_int = 2;

/// The block of a callback object.
#[repr(C)]
struct CallbackBlock {
    header: FunctionHeader,
    /// Released when the object is collected.
    callback: Option<Callback>,
}

/// What a new function object calls and keeps.
pub struct Target<'a> {
    pub address: *mut c_void,
    /// The symbol name, `None` for a function pointer.
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
pub fn new(lua: &Lua, target: Target) -> Result<Function> {
    serve_function_type(lua)?;
    // SAFETY: builds the block from values mlua pushed, in its protected raw call.
    let block = unsafe {
        lua.exec_raw::<AnyUserData>((target.keeper, target.library), |l| {
            let block =
                lua_version::new_userdata(l, size_of::<FunctionBlock>(), 2) as *mut FunctionBlock;
            block.write(FunctionBlock {
                header: FunctionHeader::new(target.address),
            });
            ffi::lua_insert(l, 1);
            lua_version::set_user_value(l, 1, LIBRARY_NAME);
            lua_version::set_user_value(l, 1, LIBRARY_KEEPER);
            ffi::luaL_getmetatable(l, BLOCK_METATABLE.as_ptr());
            ffi::lua_setmetatable(l, 1);
        })?
    };
    let void = Signature::new(ValueType::Scalar(crate::ctype::Scalar::Void), vec![], false)
        .map_err(Render::render)?;
    let name = target.name.unwrap_or("anonymous");
    // SAFETY: the user declares the function's signature; trusting it is inherent to an FFI.
    // The block holds the library while the function lives.
    unsafe {
        function::bind(
            lua,
            name,
            target.address,
            &void,
            Value::UserData(block),
            Thunking::Tiered,
        )
    }
    .map_err(Render::render)
}

/// `alien.callback(f, ret, args...)` and `alien.callback(f, {ret = ..., args...})`.
pub fn callback(lua: &Lua, function: Function, spec: MultiValue) -> Result<AnyUserData> {
    let sig = signature(spec, true)?;
    let callback =
        Callback::create(lua, function, &sig, Options::default()).map_err(Render::render)?;
    let entry = callback.entry() as *mut c_void;
    let methods = methods(lua)?;
    // SAFETY: builds the object from values mlua pushed, in its protected raw call.
    let object = unsafe {
        lua.exec_raw::<AnyUserData>(methods, |l| {
            let block =
                lua_version::new_userdata(l, size_of::<CallbackBlock>(), 0) as *mut CallbackBlock;
            block.write(CallbackBlock {
                header: FunctionHeader::new(entry),
                callback: Some(callback),
            });
            ffi::lua_createtable(l, 0, 6);
            ffi::lua_pushvalue(l, 1);
            ffi::lua_setfield(l, -2, c"__index".as_ptr());
            ffi::lua_pushcfunction(l, callback_tostring);
            ffi::lua_setfield(l, -2, c"__tostring".as_ptr());
            ffi::lua_pushstring(l, c"alien callback".as_ptr());
            ffi::lua_setfield(l, -2, c"__name".as_ptr());
            ffi::lua_pushstring(l, c"alien callback".as_ptr());
            ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
            // Set before the metatable is, so that Lua marks the object for finalization.
            ffi::lua_pushcfunction(l, release_callback);
            ffi::lua_setfield(l, -2, c"__gc".as_ptr());
            ffi::lua_setmetatable(l, -2);
            ffi::lua_replace(l, 1);
        })?
    };
    // Calling a callback from Lua goes through its C entry, which the object owns.
    // SAFETY: the entry has the signature it was made for while the object lives.
    let call = unsafe {
        function::bind_call_metamethod(
            lua,
            "callback",
            entry,
            &sig,
            Value::UserData(object.clone()),
        )
    }
    .map_err(Render::render)?;
    // SAFETY: sets a field of the object's metatable, pushed by mlua, in its protected call.
    unsafe {
        lua.exec_raw::<()>((&object, call), |l| {
            ffi::lua_getmetatable(l, 1);
            ffi::lua_insert(l, 2);
            ffi::lua_setfield(l, 2, c"__call".as_ptr());
            ffi::lua_settop(l, 0);
        })?
    };
    Ok(object)
}

/// `f:types(...)`: gives a function object the new signature, in place.
fn set_types(lua: &Lua, this: Value, spec: MultiValue) -> Result<()> {
    let f = match &this {
        Value::Function(f) if library_keeper(lua, f)?.is_some() => f,
        Value::UserData(_) if is_callback(lua, &this)? => {
            return Err(mlua::Error::runtime(
                "the types of a callback are fixed when it is made",
            ))
        }
        _ => {
            let got = crate::convert::lua_type_name(lua, &this)?;
            return Err(mlua::Error::runtime(format!(
                "bad argument #1 to 'types' (alien function expected, got {got})"
            )));
        }
    };
    let mut sig = signature(spec, false)?;
    // Alien gives a void function's result as nil, so that out-values come second:
    // `local none, sum = f(1, 2, 0)`.
    let void = matches!(sig.ret, ValueType::Scalar(crate::ctype::Scalar::Void));
    if void && sig.args.iter().any(|a| matches!(a, ValueType::Ref(_))) {
        sig.ret = ValueType::Nil;
    }
    function::keep_library_for(&sig, &library_keeper(lua, f)?.unwrap_or(Value::Nil));
    // SAFETY: `f` is a function object, bound by `new` with a fixed signature; the user
    // declares the function's signature, trusting it is inherent to an FFI.
    unsafe { function::retype(lua, f, &sig, Thunking::Tiered) }.map_err(Render::render)
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

/// The library keeper of `f` (nil for a function pointer's) if `f` is a function object.
fn library_keeper(lua: &Lua, f: &Function) -> Result<Option<Value>> {
    // SAFETY: inspects the pushed function in mlua's protected raw call.
    let (is_object, keeper) = unsafe {
        lua.exec_raw::<(bool, Value)>(f, |l| {
            let is_object = block_of(l, 1).is_some();
            ffi::lua_pushboolean(l, is_object as c_int);
            if is_object {
                lua_version::user_value(l, -2, LIBRARY_KEEPER);
            } else {
                ffi::lua_pushnil(l);
            }
            ffi::lua_rotate(l, 1, 2);
            ffi::lua_settop(l, 2);
        })?
    };
    Ok(is_object.then_some(keeper))
}

/// Whether `value` is a callback object (of any face): a userdata standing for a C
/// function.
fn is_callback(lua: &Lua, value: &Value) -> Result<bool> {
    // SAFETY: inspects the pushed value in mlua's protected raw call.
    unsafe {
        lua.exec_raw::<bool>(value, |l| {
            let yes = ffi::lua_type(l, 1) == ffi::LUA_TUSERDATA
                && crate::memory::pointer::function_at(l, 1).is_some();
            ffi::lua_settop(l, 0);
            ffi::lua_pushboolean(l, yes as c_int);
        })
    }
}

/// Pushes the block of the function object at `idx` and returns it, if the value is one;
/// pushes nothing otherwise.
///
/// # Safety
/// `idx` is an acceptable index of `l`, which has room for two values.
unsafe fn block_of(l: *mut lua_State, idx: c_int) -> Option<*const FunctionBlock> {
    if ffi::lua_type(l, idx) != ffi::LUA_TFUNCTION || ffi::lua_iscfunction(l, idx) == 0 {
        return None;
    }
    let idx = ffi::lua_absindex(l, idx);
    if ffi::lua_getupvalue(l, idx, KEEPER_UPVALUE).is_null() {
        return None;
    }
    let block = ffi::luaL_testudata(l, -1, BLOCK_METATABLE.as_ptr());
    if block.is_null() {
        ffi::lua_settop(l, -2);
        return None;
    }
    Some(block as *const FunctionBlock)
}

/// Makes the metatable of the function type serve function objects (`f:types`,
/// `tostring(f)`), once per state. Its `__index` and `__tostring` keep, for every other
/// function, what they did before: the ones already there, or Lua's own behaviour.
fn serve_function_type(lua: &Lua) -> Result<()> {
    if lua.named_registry_value::<bool>(FUNCTION_TYPE_KEY)? {
        return Ok(());
    }
    let methods = methods(lua)?;
    // SAFETY: registers the block metatable and sets the function type's metatable, from
    // values mlua pushed, in its protected raw call.
    unsafe {
        lua.exec_raw::<()>(methods, |l| {
            if ffi::luaL_newmetatable(l, BLOCK_METATABLE.as_ptr()) != 0 {
                ffi::lua_pushstring(l, c"alien function".as_ptr());
                ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
            }
            ffi::lua_settop(l, 1);
            ffi::lua_pushcfunction(l, index_function);
            if ffi::lua_getmetatable(l, 2) == 0 {
                ffi::lua_newtable(l);
            }
            ffi::lua_pushvalue(l, 1);
            ffi::lua_getfield(l, 3, c"__index".as_ptr());
            ffi::lua_pushcclosure(l, index_function, 2);
            ffi::lua_setfield(l, 3, c"__index".as_ptr());
            ffi::lua_getfield(l, 3, c"__tostring".as_ptr());
            ffi::lua_pushcclosure(l, tostring_function, 1);
            ffi::lua_setfield(l, 3, c"__tostring".as_ptr());
            ffi::lua_setmetatable(l, 2);
            ffi::lua_settop(l, 0);
        })?
    };
    lua.set_named_registry_value(FUNCTION_TYPE_KEY, true)
}

/// `__index` of the function type: a function object's methods (upvalue 1); for any other
/// function, the `__index` there was before (upvalue 2), or Lua's error.
unsafe extern "C-unwind" fn index_function(l: *mut lua_State) -> c_int {
    if block_of(l, 1).is_some() {
        ffi::lua_pushvalue(l, 2);
        ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
        return 1;
    }
    match ffi::lua_type(l, ffi::lua_upvalueindex(2)) {
        ffi::LUA_TNIL => ffi::luaL_error(l, c"attempt to index a function value".as_ptr()),
        ffi::LUA_TFUNCTION => {
            ffi::lua_pushvalue(l, ffi::lua_upvalueindex(2));
            ffi::lua_insert(l, 1);
            ffi::lua_settop(l, 3);
            ffi::lua_call(l, 2, 1);
            1
        }
        _ => {
            ffi::lua_pushvalue(l, 2);
            ffi::lua_gettable(l, ffi::lua_upvalueindex(2));
            1
        }
    }
}

/// `__tostring` of the function type: "alien function puts, library default" for a function
/// object; for any other function, the `__tostring` there was before (upvalue 1), or Lua's
/// own "function: 0x...".
unsafe extern "C-unwind" fn tostring_function(l: *mut lua_State) -> c_int {
    if block_of(l, 1).is_some() {
        ffi::lua_getupvalue(l, 1, NAME_UPVALUE);
        lua_version::user_value(l, -2, LIBRARY_NAME);
        ffi::lua_pushfstring(
            l,
            c"alien function %s, library %s".as_ptr(),
            ffi::lua_tolstring(l, -2, std::ptr::null_mut()),
            ffi::lua_tolstring(l, -1, std::ptr::null_mut()),
        );
        return 1;
    }
    if ffi::lua_type(l, ffi::lua_upvalueindex(1)) != ffi::LUA_TNIL {
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        ffi::lua_settop(l, 2);
        ffi::lua_call(l, 1, 1);
        return 1;
    }
    ffi::lua_pushfstring(l, c"function: %p".as_ptr(), ffi::lua_topointer(l, 1));
    1
}

/// `tostring(cb)` of a callback object.
unsafe extern "C-unwind" fn callback_tostring(l: *mut lua_State) -> c_int {
    ffi::lua_pushstring(l, c"alien function callback, library default".as_ptr());
    1
}

/// `__gc` of a callback object: gives its slot back.
unsafe extern "C-unwind" fn release_callback(l: *mut lua_State) -> c_int {
    let block = ffi::lua_touserdata(l, 1) as *mut CallbackBlock;
    if let Some(callback) = (*block).callback.take() {
        callback.free(l);
        // A resurrected object no longer passes as a pointer: the slot may serve another
        // callback.
        (*block).header.clear();
    }
    0
}
