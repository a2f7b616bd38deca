//! `clibrary`: C/Invoke's library objects, `clibrary.new(name[, callingconv])`, and their
//! methods `get_function`, `new_callback`, `tie_init`, `tie_get`, `tie_set` and `dispose`.
//!
//! A function from `get_function` is the engine's bound function, a C closure of its thunk,
//! holding the library's keeper: disposing of the library object ends the object's use (a
//! clear error afterwards), while functions already taken keep their code mapped.

use std::collections::HashMap;
use std::ffi::c_void;
use std::rc::Rc;

use mlua::ffi;
use mlua::{
    AnyUserData, Function, Lua, MetaMethod, MultiValue, Result, Table, UserData, UserDataFields,
    Value,
};

use super::callback;
use super::types::{bad_argument, Basic, CinvType};
use crate::face::errors::Render;
use crate::face::lift;
use crate::function::{self, Signature, Thunking};
use crate::library::{self, Library};
use crate::table_array::{element_to_c, push_element, Element};

const METHODS_KEY: &str = "moonthunk.cinvoke.library_methods";

/// The calling conventions `clibrary.new` knows. On the platforms built here each is the C
/// default; the name is checked, as C/Invoke checks it.
const CALLING_CONVENTIONS: [&str; 4] = ["cdecl", "stdcall", "fastcall", "default"];

/// A library object; `library` is `None` once disposed of.
pub struct CLibrary {
    library: Option<Rc<Library>>,
    name: String,
    /// Tied variables by name: their element conversion and address.
    ties: HashMap<String, (Element, *mut c_void)>,
}

impl UserData for CLibrary {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, methods);
        fields.add_meta_field("__name", "clibrary");
    }
}

/// `clibrary.new(libname[, callingconv])`.
pub fn new(lua: &Lua, name: Value, convention: Option<Value>) -> Result<AnyUserData> {
    let Value::String(name) = name else {
        let got = crate::convert::lua_type_name(lua, &name)?;
        return Err(bad_argument(
            1,
            "new",
            format!("string expected, got {got}"),
        ));
    };
    let name = name.to_str()?.to_string();
    match convention {
        None | Some(Value::Nil) => {}
        Some(Value::String(c)) if CALLING_CONVENTIONS.contains(&&*c.to_str()?) => {}
        Some(other) => {
            let problem = match &other {
                Value::String(s) => format!(
                    "unknown calling convention '{}' (expected cdecl, stdcall, fastcall or \
                     default)",
                    s.to_string_lossy()
                ),
                v => format!(
                    "string expected, got {}",
                    crate::convert::lua_type_name(lua, v)?
                ),
            };
            return Err(bad_argument(2, "new", problem));
        }
    }
    let library = Library::open(Some(&name)).map_err(Render::render)?;
    let object = lua.create_userdata(CLibrary {
        library: Some(Rc::new(library)),
        name,
        ties: HashMap::new(),
    })?;
    Ok(object)
}

/// The methods table of library objects, built once per state.
fn methods(lua: &Lua) -> Result<Table> {
    if let Some(methods) = lua.named_registry_value::<Option<Table>>(METHODS_KEY)? {
        return Ok(methods);
    }
    let methods = lua.create_table()?;
    let def = |name: &str, f: Function| -> Result<()> { methods.set(name, lift(lua, name, f)?) };
    def(
        "get_function",
        lua.create_function(
            |lua, (this, ret, name, args): (Value, Value, Value, MultiValue)| {
                get_function(lua, &this, &ret, &name, args)
            },
        )?,
    )?;
    def(
        "new_callback",
        lua.create_function(
            |lua, (this, ret, f, args): (Value, Value, Value, MultiValue)| {
                open_library(lua, &this, "new_callback")?;
                callback::new(lua, &ret, f, args)
            },
        )?,
    )?;
    def(
        "tie_init",
        lua.create_function(|lua, (this, ty, name): (Value, Value, Value)| {
            tie_init(lua, &this, &ty, &name)
        })?,
    )?;
    def(
        "tie_get",
        lua.create_function(|lua, (this, name): (Value, Value)| {
            let (element, address) = tie(lua, &this, &name, "tie_get")?;
            // SAFETY: the address is the tied variable's, of the tied type; pushes one value
            // in mlua's protected raw call.
            unsafe {
                lua.exec_raw::<Value>((), |l| {
                    push_element(l, element, None, address.cast(), None);
                })
            }
        })?,
    )?;
    def(
        "tie_set",
        lua.create_function(|lua, (this, name, value): (Value, Value, Value)| {
            let (element, address) = tie(lua, &this, &name, "tie_set")?;
            // SAFETY: writes the tied variable's bytes from the pushed value, in mlua's
            // protected raw call; the conversion's error is returned as a string.
            let problem = unsafe {
                lua.exec_raw::<Option<String>>(value, |l| {
                    let mut bytes = [0u8; 8];
                    match element_to_c(l, 1, element, None, None, bytes.as_mut_ptr()) {
                        Ok(()) => {
                            let (size, _) = element.size_align().expect("tied scalars");
                            std::ptr::copy_nonoverlapping(bytes.as_ptr(), address.cast(), size);
                            ffi::lua_settop(l, 0);
                            ffi::lua_pushnil(l);
                        }
                        Err(mismatch) => {
                            let message = mismatch.describe(l, 1, "number");
                            ffi::lua_settop(l, 0);
                            ffi::lua_pushlstring(l, message.as_ptr().cast(), message.len());
                        }
                    }
                })?
            };
            match problem {
                Some(problem) => Err(bad_argument(2, "tie_set", problem)),
                None => Ok(()),
            }
        })?,
    )?;
    def(
        "dispose",
        lua.create_function(|lua, this: Value| {
            let object = library_object(lua, &this, "dispose")?;
            let mut library = object.borrow_mut::<CLibrary>()?;
            library.library = None;
            library.ties.clear();
            Ok(())
        })?,
    )?;
    lua.set_named_registry_value(METHODS_KEY, &methods)?;
    Ok(methods)
}

/// The library object `this` is, or the error of a method called on something else.
fn library_object(lua: &Lua, this: &Value, method: &str) -> Result<AnyUserData> {
    if let Value::UserData(ud) = this {
        if ud.is::<CLibrary>() {
            return Ok(ud.clone());
        }
    }
    let got = crate::convert::lua_type_name(lua, this)?;
    Err(mlua::Error::runtime(format!(
        "calling '{method}' on bad self (clibrary expected, got {got})"
    )))
}

/// The loaded library of `this`; an error once it was disposed of.
fn open_library(lua: &Lua, this: &Value, method: &str) -> Result<Rc<Library>> {
    let object = library_object(lua, this, method)?;
    let library = object.borrow::<CLibrary>()?;
    library.library.clone().ok_or_else(|| {
        mlua::Error::runtime(format!(
            "library '{}' was disposed of; '{method}' cannot use it",
            library.name
        ))
    })
}

/// A string argument (`pos` counts after the object, as Lua counts a method's arguments).
fn name_arg(lua: &Lua, value: &Value, pos: usize, method: &str) -> Result<String> {
    match value {
        Value::String(s) => Ok(s.to_str()?.to_string()),
        other => {
            let got = crate::convert::lua_type_name(lua, other)?;
            Err(bad_argument(
                pos,
                method,
                format!("string expected, got {got}"),
            ))
        }
    }
}

/// `lib:get_function(rettype, name, ...)`: the bound function of the symbol `name`.
fn get_function(
    lua: &Lua,
    this: &Value,
    ret: &Value,
    name: &Value,
    args: MultiValue,
) -> Result<Function> {
    const METHOD: &str = "get_function";
    let library = open_library(lua, this, METHOD)?;
    let ret = CinvType::from_arg(lua, ret, 1, METHOD)?
        .value()
        .map_err(|e| bad_argument(1, METHOD, e))?;
    let name = name_arg(lua, name, 2, METHOD)?;
    let params = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            CinvType::from_arg(lua, arg, i + 3, METHOD)?
                .parameter()
                .map_err(|e| bad_argument(i + 3, METHOD, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let sig = Signature::new(ret, params, false).map_err(Render::render)?;
    let address = library.symbol(&name).map_err(Render::render)?;
    let keeper = library::keeper(lua, &library)?;
    // SAFETY: the user declares the function's types; trusting them is inherent to an FFI.
    // The keeper holds the library loaded while the function lives.
    unsafe {
        function::bind(
            lua,
            &name,
            address,
            &sig,
            Value::UserData(keeper),
            Thunking::Tiered,
        )
    }
    .map_err(Render::render)
}

/// `lib:tie_init(type, name)`: ties the global variable `name` of a basic type.
fn tie_init(lua: &Lua, this: &Value, ty: &Value, name: &Value) -> Result<()> {
    const METHOD: &str = "tie_init";
    let library = open_library(lua, this, METHOD)?;
    let ty = CinvType::from_arg(lua, ty, 1, METHOD)?;
    let element = match &ty {
        CinvType::Basic(Basic::String | Basic::Callback | Basic::Void)
        | CinvType::Struct(_)
        | CinvType::Array(_) => None,
        CinvType::Basic(_) => ty.element().map(|(element, _)| element),
    };
    let Some(element) = element else {
        return Err(bad_argument(
            1,
            METHOD,
            format!("only basic types can be tied, not {}", ty.name()),
        ));
    };
    let name = name_arg(lua, name, 2, METHOD)?;
    let address = library.symbol(&name).map_err(Render::render)?;
    let object = library_object(lua, this, METHOD)?;
    object
        .borrow_mut::<CLibrary>()?
        .ties
        .insert(name, (element, address));
    Ok(())
}

/// The tied variable `name` of `this`.
fn tie(lua: &Lua, this: &Value, name: &Value, method: &str) -> Result<(Element, *mut c_void)> {
    open_library(lua, this, method)?;
    let name = name_arg(lua, name, 1, method)?;
    let object = library_object(lua, this, method)?;
    let library = object.borrow::<CLibrary>()?;
    library.ties.get(&name).copied().ok_or_else(|| {
        mlua::Error::runtime(format!(
            "'{name}' is not a tied variable of library '{}' (tie_init it first)",
            library.name
        ))
    })
}
