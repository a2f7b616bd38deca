//! The native face: `require("moonthunk")` and `require("@lune/ffi")`.
//!
//! A superset of Lune's FFI (see the seeds): `ffi.open`/`ffi.load` give a `Library` with
//! `call`, `callInt`, ..., `bind`, `getSymbol`, `listExports`; `ffi.load(path, interface)`
//! gives a SmartLibrary whose fields are the declared functions and constants. Every function
//! here translates names and shapes only; types, loading and binding live in the engine,
//! whose typed errors the face words (see `errors`).

mod memory;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use mlua::{
    AnyUserData, Function, Lua, MetaMethod, MultiValue, Result, Table, UserData, UserDataMethods,
    UserDataRef, Value,
};

mod callback;

use super::errors::Render;
use super::lift;
use crate::codegen;
use crate::convert::{address_of, kept_pointer_value, pointer_value};
use crate::ctype::{Scalar, ALIASES, CANONICAL};
use crate::function::{self, bind, Signature, Thunking};
use crate::library::{self, Library};

const MODULE_KEY: &str = "moonthunk.native";
const LIBRARY_METHODS_KEY: &str = "moonthunk.native.library_methods";

/// The module table, built once per Lua state.
pub fn module(lua: &Lua) -> Result<Table> {
    if let Some(module) = lua.named_registry_value::<Option<Table>>(MODULE_KEY)? {
        return Ok(module);
    }
    crate::memory::register(lua)?;
    let ffi = lua.create_table()?;
    callback::install(lua, &ffi)?;
    let def = |name: &str, f: Function| -> Result<()> { ffi.set(name, lift(lua, name, f)?) };

    def(
        "open",
        lua.create_function(|lua, path: Option<String>| open(lua, path))?,
    )?;
    def(
        "load",
        lua.create_function(|lua, (path, interface): (Option<String>, Option<Table>)| {
            match interface {
                None => open(lua, path).map(Value::UserData),
                Some(interface) => smart_library(lua, path, interface).map(Value::Table),
            }
        })?,
    )?;
    def(
        "sizeof",
        lua.create_function(|_, name: String| Ok(ctype(&name)?.size()))?,
    )?;
    def(
        "alignof",
        lua.create_function(|_, name: String| Ok(ctype(&name)?.align()))?,
    )?;
    def(
        "ptr",
        lua.create_function(|lua, addr: mlua::Integer| pointer_value(lua, addr as usize))?,
    )?;
    def(
        "isNull",
        lua.create_function(|lua, value: Value| {
            let addr =
                address_of(lua, value)?.ok_or_else(|| mlua::Error::runtime("pointer expected"))?;
            Ok(addr == 0)
        })?,
    )?;
    def(
        "fn",
        lua.create_function(|lua, (ptr, ret, args): (Value, Value, Option<Table>)| {
            bind_pointer(lua, ptr, ret, args)
        })?,
    )?;
    def(
        "errno",
        lua.create_function(|lua, ()| crate::state::last_errno(lua))?,
    )?;
    def(
        "stats",
        lua.create_function(|lua, ()| {
            let stats = codegen::jit().map_err(mlua::Error::runtime)?.stats();
            let t = lua.create_table()?;
            t.set("thunks", stats.thunks)?;
            t.set("hits", stats.hits)?;
            t.set("specialized", stats.specialized)?;
            t.set("codeBytes", stats.code_bytes)?;
            t.set("callbackSlots", crate::callback::slot_count())?;
            t.set("directStack", crate::stack_layout::checked().is_some())?;
            t.set("promoteAfter", crate::tier::PROMOTE_AFTER)?;
            Ok(t)
        })?,
    )?;
    def(
        "thunkIR",
        lua.create_function(|lua, (ret, args): (Value, Option<Table>)| {
            let sig = signature(lua, ret, args)?;
            let mut jit = codegen::jit().map_err(mlua::Error::runtime)?;
            Ok(jit.thunk_ir(&sig.lower()))
        })?,
    )?;
    def(
        "thunkAddress",
        lua.create_function(|lua, f: Function| code_address(lua, f))?,
    )?;
    def(
        "thunkDisassembly",
        lua.create_function(|lua, (f_or_ret, args): (Value, Option<Table>)| {
            let code = match f_or_ret {
                Value::Function(f) => code_address(lua, f)?.unwrap_or(0) as usize,
                ret => {
                    let sig = signature(lua, ret, args)?;
                    let mut jit = codegen::jit().map_err(mlua::Error::runtime)?;
                    jit.thunk(&sig.lower()).map_err(mlua::Error::runtime)?.code as usize
                }
            };
            let mut jit = codegen::jit().map_err(mlua::Error::runtime)?;
            jit.disassemble(code as *const u8)
                .map_err(mlua::Error::runtime)?
                .ok_or_else(|| {
                    mlua::Error::runtime(
                        "not a function with a call thunk (a function bound by moonthunk, \
                         not variadic)",
                    )
                })
        })?,
    )?;

    let ctypes = lua.create_table()?;
    let types = lua.create_table()?;
    for t in CANONICAL {
        ctypes.set(t.name(), t.name())?;
        types.set(t.name(), t.name())?;
    }
    for &(alias, t) in ALIASES {
        types.set(alias, t.name())?;
    }
    ffi.set("ctypes", ctypes)?;
    ffi.set("types", types)?;

    memory::register(lua, &ffi)?;
    lua.set_named_registry_value(MODULE_KEY, &ffi)?;
    Ok(ffi)
}

fn ctype(name: &str) -> Result<Scalar> {
    Scalar::parse(name).map_err(Render::render)
}

/// A signature from a result type (nil is void) and a table of parameter types.
pub(super) fn signature(lua: &Lua, ret: Value, args: Option<Table>) -> Result<Signature> {
    let args: Vec<Value> = match args {
        Some(args) => args.sequence_values::<Value>().collect::<Result<_>>()?,
        None => Vec::new(),
    };
    Signature::from_lua(lua, &ret, &args).map_err(Render::render)
}

/// A Lua function calling the C function pointer `ptr` with the declared signature; it keeps
/// what the pointer keeps alive (the library of a symbol).
fn bind_pointer(lua: &Lua, ptr: Value, ret: Value, args: Option<Table>) -> Result<Function> {
    let sig = signature(lua, ret, args)?;
    // SAFETY: the user declares the pointer's signature; trusting it is inherent to an FFI.
    unsafe { function::bind_pointer(lua, &ptr, &sig, Thunking::Tiered) }.map_err(Render::render)
}

/// A `Library` object. `close` drops this object's hold on the library and makes every later
/// use of the object an error; what was derived from it (bound functions, symbol addresses,
/// pointers its functions returned) holds a keeper that keeps the library loaded until it is
/// collected, so nothing reachable points into unmapped code or data.
struct LibraryObject {
    library: RefCell<Option<Rc<Library>>>,
    path: String,
    bound: RefCell<HashMap<(String, Signature), Function>>,
    /// The keeper of the functions bound from it, made once (until the object is closed).
    keeper: RefCell<Option<AnyUserData>>,
}

impl LibraryObject {
    fn library(&self) -> Result<Rc<Library>> {
        self.library
            .borrow()
            .clone()
            .ok_or_else(|| mlua::Error::runtime(format!("library '{}' is closed", self.path)))
    }

    /// The function `name` bound with `sig`, cached per object.
    fn function(
        &self,
        lua: &Lua,
        name: &str,
        sig: Signature,
        thunking: Thunking,
    ) -> Result<Function> {
        let key = (name.to_string(), sig);
        if let Some(f) = self.bound.borrow().get(&key) {
            return Ok(f.clone());
        }
        let f = self.bind_new(lua, name, &key.1, thunking)?;
        self.bound.borrow_mut().insert(key, f.clone());
        Ok(f)
    }

    /// A new function for the symbol `name` with signature `sig`, not cached (a
    /// SmartLibrary's functions are bound once each).
    fn bind_new(
        &self,
        lua: &Lua,
        name: &str,
        sig: &Signature,
        thunking: Thunking,
    ) -> Result<Function> {
        let library = self.library()?;
        let target = library.symbol(name).map_err(Render::render)?;
        let keeper = match &*self.keeper.borrow() {
            Some(keeper) => keeper.clone(),
            None => library::keeper(lua, &library)?,
        };
        self.keeper
            .borrow_mut()
            .get_or_insert_with(|| keeper.clone());
        // SAFETY: the user declares the symbol's signature; trusting it is inherent to an FFI.
        // The keeper holds the library loaded while the function lives.
        unsafe { bind(lua, name, target, sig, Value::UserData(keeper), thunking) }
            .map_err(Render::render)
    }

    fn call(&self, lua: &Lua, name: &str, sig: Signature, args: MultiValue) -> Result<MultiValue> {
        self.function(lua, name, sig, Thunking::Tiered)?.call(args)
    }

    /// Closes the object: an error if it is closed already.
    fn close(&self) -> Result<()> {
        self.library()?;
        self.library.borrow_mut().take();
        self.bound.borrow_mut().clear();
        self.keeper.borrow_mut().take();
        Ok(())
    }
}

impl UserData for LibraryObject {
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        // A lifted function rather than a meta method, so that `path` of a closed library
        // raises a clean error at the caller's line.
        fields.add_meta_field_with(MetaMethod::Index, |lua| {
            let index = lua.create_function(|lua, (this, key): (Value, Value)| {
                let this = library_object(lua, &this, "__index")?;
                match key {
                    Value::String(key) if key == "path" => {
                        this.library()?;
                        Ok(Value::String(lua.create_string(&this.path)?))
                    }
                    key => library_methods(lua)?.raw_get(key),
                }
            })?;
            lift(lua, "__index", index)
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("Library: {}", this.path))
        });
    }
}

/// The `Library` object `this` (argument 1 of its method `method`), or the error of a method
/// called with another value as its `self`: "bad argument #1 to 'bind' (Library expected,
/// got buffer)".
fn library_object(lua: &Lua, this: &Value, method: &str) -> Result<UserDataRef<LibraryObject>> {
    if let Value::UserData(ud) = this {
        if let Ok(object) = ud.borrow::<LibraryObject>() {
            return Ok(object);
        }
    }
    let got = crate::convert::lua_type_name(lua, this)?;
    Err(mlua::Error::runtime(format!(
        "bad argument #1 to '{method}' (Library expected, got {got})"
    )))
}

fn open(lua: &Lua, path: Option<String>) -> Result<AnyUserData> {
    let library = Library::open(path.as_deref()).map_err(Render::render)?;
    lua.create_userdata(LibraryObject {
        path: library.path().to_string(),
        library: RefCell::new(Some(Rc::new(library))),
        bound: RefCell::new(HashMap::new()),
        keeper: RefCell::new(None),
    })
}

/// The methods of `Library` objects, lifted, built once per state.
fn library_methods(lua: &Lua) -> Result<Table> {
    if let Some(methods) = lua.named_registry_value::<Option<Table>>(LIBRARY_METHODS_KEY)? {
        return Ok(methods);
    }
    let methods = lua.create_table()?;
    let def = |name: &str, f: Function| -> Result<()> { methods.set(name, lift(lua, name, f)?) };
    def(
        "call",
        lua.create_function(
            |lua,
             (this, name, ret, args, rest): (
                Value,
                String,
                Value,
                Option<Table>,
                MultiValue,
            )| {
                library_object(lua, &this, "call")?.call(lua, &name, signature(lua, ret, args)?, rest)
            },
        )?,
    )?;
    // The fixed-signature shortcuts of Lune's legacy API.
    for (method, ret, args) in [
        ("callInt", "i32", &[][..]),
        ("callIntArg", "i32", &["i32"][..]),
        ("callDouble", "f64", &[][..]),
        ("callVoid", "void", &[][..]),
        ("callString", "string", &[][..]),
    ] {
        let sig = Signature::parse(ret, args.iter().copied()).map_err(Render::render)?;
        def(
            method,
            lua.create_function(
                move |lua, (this, name, rest): (Value, String, MultiValue)| {
                    library_object(lua, &this, method)?.call(lua, &name, sig.clone(), rest)
                },
            )?,
        )?;
    }
    def(
        "bind",
        lua.create_function(
            |lua, (this, name, ret, args): (Value, String, Value, Option<Table>)| {
                library_object(lua, &this, "bind")?.function(
                    lua,
                    &name,
                    signature(lua, ret, args)?,
                    Thunking::Tiered,
                )
            },
        )?,
    )?;
    def(
        "callPtr",
        lua.create_function(
            |lua,
             (this, ptr, ret, args, rest): (
                Value,
                Value,
                Value,
                Option<Table>,
                MultiValue,
            )| {
                library_object(lua, &this, "callPtr")?.library()?;
                bind_pointer(lua, ptr, ret, args)?.call::<MultiValue>(rest)
            },
        )?,
    )?;
    def(
        "getSymbol",
        lua.create_function(|lua, (this, name): (Value, String)| {
            let library = library_object(lua, &this, "getSymbol")?.library()?;
            let addr = library.symbol(&name).map_err(Render::render)?;
            // The address keeps the library loaded, and so does all derived from it.
            let keeper = library::keeper(lua, &library)?;
            kept_pointer_value(lua, addr as usize, Value::UserData(keeper))
        })?,
    )?;
    def(
        "hasSymbol",
        lua.create_function(|lua, (this, name): (Value, String)| {
            Ok(library_object(lua, &this, "hasSymbol")?
                .library()?
                .symbol(&name)
                .is_ok())
        })?,
    )?;
    def(
        "listExports",
        lua.create_function(|lua, this: Value| {
            let library = library_object(lua, &this, "listExports")?.library()?;
            let names = library.exports().map_err(Render::render)?;
            let list = lua.create_table_with_capacity(names.len(), 0)?;
            for name in names {
                let entry = lua.create_table_with_capacity(0, 1)?;
                entry.set("name", name)?;
                list.push(entry)?;
            }
            Ok(list)
        })?,
    )?;
    def(
        "close",
        lua.create_function(|lua, this: Value| library_object(lua, &this, "close")?.close())?,
    )?;
    lua.set_named_registry_value(LIBRARY_METHODS_KEY, &methods)?;
    Ok(methods)
}

/// `ffi.load(path, interface)`: a table of the declared functions and constants, whose
/// metatable supplies `path` and `close` (so an interface may declare a C `close`).
fn smart_library(lua: &Lua, path: Option<String>, interface: Table) -> Result<Table> {
    let library = open(lua, path)?;
    let smart = lua.create_table()?;
    {
        let object = library.borrow::<LibraryObject>()?;
        // Made once: an interface may declare hundreds of functions.
        let (ret_key, args_key) = (lua.create_string("ret")?, lua.create_string("args")?);
        for pair in interface.pairs::<mlua::LuaString, Value>() {
            let (name, decl) = pair?;
            let value = match decl {
                Value::Table(decl) => {
                    let sig = signature(lua, decl.get(&ret_key)?, decl.get(&args_key)?)?;
                    let symbol = name.to_str()?;
                    Value::Function(object.bind_new(lua, &symbol, &sig, Thunking::Tiered)?)
                }
                constant => constant,
            };
            smart.raw_set(name, value)?;
        }
    }
    let meta = lua.create_table()?;
    let fields = lua.create_table()?;
    fields.set("path", library.borrow::<LibraryObject>()?.path.clone())?;
    let close = {
        let smart = smart.clone();
        let meta = meta.clone();
        lua.create_function(move |lua, _: MultiValue| {
            let object = library.borrow::<LibraryObject>()?;
            let message = format!("library '{}' is closed", object.path);
            object.close()?;
            smart.clear()?;
            let closed = lua.create_function(move |_, _: MultiValue| -> Result<()> {
                Err(mlua::Error::runtime(message.clone()))
            })?;
            meta.set("__index", lift(lua, "close", closed)?)
        })?
    };
    fields.set("close", lift(lua, "close", close)?)?;
    meta.set("__index", fields)?;
    smart.set_metatable(Some(meta))?;
    Ok(smart)
}

/// The address of `f`'s C function, or `None` for a Lua function.
fn code_address(lua: &Lua, f: Function) -> mlua::Result<Option<mlua::Integer>> {
    function::thunk_of(lua, &f).map(|code| code.map(|c| c as mlua::Integer))
}
