//! The Alien face: `require("alien")` and `require("alien.struct")`, compatible with Alien
//! 0.4.1 (the seed's manual) and 0.7.1.
//!
//! Every call is a thunk call: a function object is a bound function, and `f:types(...)`
//! gives it the thunk of its new signature in place (see `function`). The face picks engine conventions (pointers
//! as light userdata with NULL as nil, `ref` out-values, `char` as unsigned) through its type
//! names (`types`); buffers and tagged userdata are its own objects (`buffer`, `tags`);
//! arrays and structs are Lua over buffers (`alien.lua`), with layouts from the type graph.

mod buffer;
mod function;
mod library;
pub(crate) mod struct_format;
mod tags;
mod types;

use mlua::ffi;
use mlua::{Function, Lua, MultiValue, Result, Table, Value};

use super::lift;
use crate::ctype::Scalar;
use crate::memory::layout::{FieldSpec, FieldType, LayoutOptions, StructLayout};
use crate::memory::raw;
use function::Target;
use types::AlienType;

const MODULE_KEY: &str = "moonthunk.alien";
const STRUCT_MODULE_KEY: &str = "moonthunk.alien.struct";

/// The operating system, as `alien.platform` names it.
const PLATFORM: &str = if cfg!(target_os = "linux") {
    "linux"
} else if cfg!(target_os = "macos") {
    "darwin"
} else if cfg!(windows) {
    "windows"
} else {
    "bsd"
};

/// The `alien` module table, built once per Lua state.
pub fn module(lua: &Lua) -> Result<Table> {
    if let Some(module) = lua.named_registry_value::<Option<Table>>(MODULE_KEY)? {
        return Ok(module);
    }
    crate::memory::register(lua)?;
    let alien = lua.create_table()?;
    let def = |name: &str, f: Function| -> Result<()> { alien.set(name, lift(lua, name, f)?) };

    let funcptr = lua.create_function(|lua, p: Value| {
        let address = pointer_argument(lua, &p, "funcptr")?;
        function::new(
            lua,
            Target {
                address: address as *mut std::ffi::c_void,
                name: None,
                library: "default",
                keeper: crate::convert::owner_of(lua, &p)?,
            },
        )
    })?;
    let funcptr = lift(lua, "funcptr", funcptr)?;
    alien.set("funcptr", &funcptr)?;
    def(
        "callback",
        lua.create_function(|lua, (f, spec): (Function, MultiValue)| {
            function::callback(lua, f, spec)
        })?,
    )?;
    def(
        "sizeof",
        lua.create_function(|_, name: Option<Value>| Ok(type_or(name, "int")?.size()))?,
    )?;
    def(
        "align",
        lua.create_function(|_, name: Option<Value>| Ok(type_or(name, "char")?.align()))?,
    )?;
    def(
        "errno",
        lua.create_function(|lua, ()| crate::state::last_errno(lua))?,
    )?;
    def(
        "isnull",
        lua.create_function(|lua, p: Value| Ok(pointer_argument(lua, &p, "isnull")? == 0))?,
    )?;
    def(
        "table",
        lua.create_function(|lua, (narr, nhash): (Option<usize>, Option<usize>)| {
            lua.create_table_with_capacity(narr.unwrap_or(0), nhash.unwrap_or(0))
        })?,
    )?;
    alien.set("platform", PLATFORM)?;
    alien.set(
        "version",
        concat!("alien library for moonthunk ", env!("CARGO_PKG_VERSION")),
    )?;
    alien.set("default", library::load(lua, None)?)?;

    // SAFETY: registers raw C functions and metatables in mlua's protected raw call.
    unsafe {
        lua.exec_raw::<()>((&alien, &funcptr), |l| {
            buffer::register(l, 2);
            let module = 1;
            // The module table on top, where `set_functions` sets.
            ffi::lua_pushvalue(l, module);
            raw::set_functions(
                l,
                &[
                    (c"buffer", buffer::new),
                    (c"tostring", buffer::read_string),
                    (c"memmove", buffer::memmove),
                    (c"memset", buffer::memset),
                    (c"tag", tags::tag),
                    (c"wrap", tags::wrap),
                    (c"unwrap", tags::unwrap),
                    (c"rewrap", tags::rewrap),
                ],
            );
            ffi::lua_settop(l, -2);
            for (reader, t) in [
                (c"tochar", c"byte"),
                (c"toshort", c"short"),
                (c"toushort", c"ushort"),
                (c"toint", c"int"),
                (c"touint", c"uint"),
                (c"tolong", c"long"),
                (c"toulong", c"ulong"),
                (c"toptrdiff_t", c"ptrdiff_t"),
                (c"tosize_t", c"size_t"),
                (c"tofloat", c"float"),
                (c"todouble", c"double"),
            ] {
                ffi::lua_pushstring(l, t.as_ptr());
                ffi::lua_pushstring(l, reader.as_ptr());
                ffi::lua_pushcclosure(l, buffer::read_values, 2);
                ffi::lua_setfield(l, module, reader.as_ptr());
            }
            ffi::lua_settop(l, 0);
        })?;
    }

    library_cache(lua, &alien)?;
    struct_format::install(lua, &alien)?;
    let layout = lift(
        lua,
        "defstruct",
        lua.create_function(|_, types: Vec<Value>| struct_layout(types))?,
    )?;
    lua.load(include_str!("alien.lua"))
        .set_name("=alien")
        .call::<()>((&alien, layout))?;
    lua.set_named_registry_value(MODULE_KEY, &alien)?;
    Ok(alien)
}

/// The `alien.struct` module of Alien 0.4.1: `pack`, `unpack`, `size` and `offset`.
pub fn struct_module(lua: &Lua) -> Result<Table> {
    if let Some(module) = lua.named_registry_value::<Option<Table>>(STRUCT_MODULE_KEY)? {
        return Ok(module);
    }
    let module = lua.create_table()?;
    struct_format::install(lua, &module)?;
    lua.set_named_registry_value(STRUCT_MODULE_KEY, &module)?;
    Ok(module)
}

/// The address argument 1 of `function` stands for, or its argument error.
fn pointer_argument(lua: &Lua, value: &Value, function: &str) -> Result<usize> {
    match crate::convert::address_of(lua, value.clone())? {
        Some(address) => Ok(address),
        None => Err(mlua::Error::runtime(format!(
            "bad argument #1 to '{function}' (pointer expected, got {})",
            crate::convert::lua_type_name(lua, value)?
        ))),
    }
}

/// The Alien type a `sizeof`/`align` argument names, `default` when absent.
fn type_or(name: Option<Value>, default: &str) -> Result<AlienType> {
    match name {
        None | Some(Value::Nil) => Ok(AlienType::parse(default).expect("a known name")),
        Some(name) => function::alien_type(&name),
    }
}

/// `alien.load`, `alien.loaded` (libraries by name, weakly held) and `alien.<name>` (the
/// library `lib<name>`, for a name that is not one of the module's).
fn library_cache(lua: &Lua, alien: &Table) -> Result<()> {
    let loaded = lua.create_table()?;
    let load = lift(
        lua,
        "load",
        lua.create_function(|lua, (loaded, name): (Table, String)| {
            if let Value::UserData(lib) = loaded.raw_get(name.as_str())? {
                return Ok(lib);
            }
            let lib = library::load(lua, Some(&name))?;
            loaded.raw_set(name, &lib)?;
            Ok(lib)
        })?,
    )?;
    let weak = lua.create_table()?;
    weak.set("__mode", "kv")?;
    weak.set("__index", &load)?;
    loaded.set_metatable(Some(weak))?;
    alien.set("loaded", &loaded)?;
    let by_name = {
        let loaded = loaded.clone();
        lua.create_function(move |_, name: String| -> Result<Value> { loaded.get(name) })?
    };
    alien.set("load", lift(lua, "load", by_name)?)?;
    let member = lua.create_function(move |_, (_, name): (Table, String)| -> Result<Value> {
        loaded.get(name)
    })?;
    let meta = lua.create_table()?;
    meta.set("__index", lift(lua, "__index", member)?)?;
    alien.set_metatable(Some(meta))?;
    Ok(())
}

/// The size and field offsets of a struct of Alien types (`alien.defstruct`), laid out by
/// the type graph as C lays it out.
fn struct_layout(types: Vec<Value>) -> Result<(usize, Vec<usize>)> {
    let specs = types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let ty = match function::alien_type(t)? {
                AlienType::Scalar(t) => t,
                _ => Scalar::Pointer,
            };
            Ok(FieldSpec {
                name: format!("field{}", i + 1),
                ty: FieldType::Scalar(ty),
                count: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let layout = StructLayout::with_options(specs, LayoutOptions::default())
        .map_err(mlua::Error::runtime)?;
    Ok((
        layout.size,
        layout.fields.iter().map(|f| f.offset).collect(),
    ))
}
