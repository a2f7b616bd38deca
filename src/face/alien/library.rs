//! Alien's library objects: `alien.load(name)`, `alien.default`, and `lib.name`, which makes
//! (once per name) the function object of a symbol.
//!
//! Function objects hold the library's keeper, so a library object may be collected (and
//! `alien.loaded` forget it) while functions taken from it keep working.

use std::rc::Rc;

use mlua::{
    AnyUserData, Lua, MetaMethod, Result, Table, UserData, UserDataFields, UserDataMethods, Value,
};

use super::function::{self, Target};
use crate::face::errors::Render;
use crate::face::lift;
use crate::library::{self, Library};

/// A loaded library and the function objects taken from it (its user value, by name).
pub struct AlienLibrary {
    library: Rc<Library>,
    /// The name it was loaded by ("default" for the process).
    name: String,
}

impl AlienLibrary {
    /// The function object of the symbol `symbol`, made on first use.
    fn function(lua: &Lua, this: &AnyUserData, symbol: &str) -> Result<Value> {
        let cache: Table = this.user_value()?;
        if let Value::Function(f) = cache.raw_get(symbol)? {
            return Ok(Value::Function(f));
        }
        let (library, name) = {
            let this = this.borrow::<AlienLibrary>()?;
            (this.library.clone(), this.name.clone())
        };
        let address = library.symbol(symbol).map_err(Render::render)?;
        let keeper = library::keeper(lua, &library)?;
        let f = function::new(
            lua,
            Target {
                address,
                name: Some(symbol),
                library: &name,
                keeper: Value::UserData(keeper),
            },
        )?;
        cache.raw_set(symbol, &f)?;
        Ok(Value::Function(f))
    }
}

impl UserData for AlienLibrary {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        // A lifted function rather than a meta method, so that a missing symbol raises a
        // clean error at the caller's line.
        fields.add_meta_field_with(MetaMethod::Index, |lua| {
            let index = lua.create_function(|lua, (this, symbol): (AnyUserData, String)| {
                AlienLibrary::function(lua, &this, &symbol)
            })?;
            lift(lua, "__index", index)
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("alien library {}", this.name))
        });
    }
}

/// Loads the library `name` (a path, a file name, or a bare name such as "m"), or the
/// running process for `None`, as a library object named `name` ("default").
pub fn load(lua: &Lua, name: Option<&str>) -> Result<AnyUserData> {
    let library = Library::open(name).map_err(Render::render)?;
    let object = lua.create_userdata(AlienLibrary {
        library: Rc::new(library),
        name: name.unwrap_or("default").to_string(),
    })?;
    object.set_user_value(lua.create_table()?)?;
    Ok(object)
}
