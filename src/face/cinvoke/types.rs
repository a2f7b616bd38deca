//! C/Invoke's types: the built-in `C*` values, `cstructure.new` structures and `cinv.array`
//! arrays, each onto a C type of the type graph and the value convention C/Invoke gives its
//! values (`Cchar` as a 1-character string, `Cptr` as an opaque address, arrays as tables
//! written back after the call).

use std::rc::Rc;

use mlua::{AnyUserData, Lua, MetaMethod, Result, UserData, UserDataMethods, Value};

use crate::ctype::Scalar;
use crate::function::ValueType;
use crate::memory::layout::{FieldSpec, FieldType, LayoutOptions, StructLayout};
use crate::table_array::Element;

/// The built-in types, as C/Invoke names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basic {
    Void,
    Char,
    Short,
    Int,
    Long,
    LongLong,
    Int16,
    Int32,
    Int64,
    Float,
    Double,
    String,
    Ptr,
    Callback,
}

/// The globals the module defines for the built-in types.
pub const BASICS: [(&str, Basic); 14] = [
    ("Cvoid", Basic::Void),
    ("Cchar", Basic::Char),
    ("Cshort", Basic::Short),
    ("Cint", Basic::Int),
    ("Clong", Basic::Long),
    ("Clonglong", Basic::LongLong),
    ("Cint16", Basic::Int16),
    ("Cint32", Basic::Int32),
    ("Cint64", Basic::Int64),
    ("Cfloat", Basic::Float),
    ("Cdouble", Basic::Double),
    ("Cstring", Basic::String),
    ("Cptr", Basic::Ptr),
    ("Ccallback", Basic::Callback),
];

/// Whether the target's plain `char` is signed, which decides how a `Cchar` widens.
const CHAR_SIGNED: bool = (std::ffi::c_char::MIN as i32) < 0;

impl Basic {
    /// The C type: `Cptr` and `Ccallback` are pointers, `Cchar` the target's plain `char`.
    pub fn scalar(self) -> Scalar {
        match self {
            Basic::Void => Scalar::Void,
            Basic::Char if CHAR_SIGNED => Scalar::I8,
            Basic::Char => Scalar::U8,
            Basic::Short | Basic::Int16 => Scalar::I16,
            Basic::Int | Basic::Int32 => Scalar::I32,
            Basic::Long => Scalar::LONG,
            Basic::LongLong | Basic::Int64 => Scalar::I64,
            Basic::Float => Scalar::F32,
            Basic::Double => Scalar::F64,
            Basic::String => Scalar::String,
            Basic::Ptr | Basic::Callback => Scalar::Pointer,
        }
    }

    fn name(self) -> &'static str {
        BASICS
            .iter()
            .find(|(_, b)| *b == self)
            .map(|(n, _)| *n)
            .expect("every built-in type has a name")
    }

    /// The element of an array, or a tied variable, of this type.
    fn element(self) -> Option<Element> {
        match self {
            Basic::Void | Basic::String | Basic::Callback => None,
            Basic::Char => Some(Element::CharString),
            Basic::Ptr => Some(Element::Address),
            other => Some(Element::Scalar(other.scalar())),
        }
    }
}

/// A C/Invoke type value.
#[derive(Clone, Debug)]
pub enum CinvType {
    Basic(Basic),
    Struct(Rc<StructLayout>),
    /// `cinv.array(t)`: a table passed as a pointer to its elements.
    Array(Rc<CinvType>),
}

impl UserData for CinvType {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.name()));
    }
}

/// An error of a face function, worded as Lua words argument errors.
pub fn bad_argument(pos: usize, function: &str, problem: impl std::fmt::Display) -> mlua::Error {
    mlua::Error::runtime(format!("bad argument #{pos} to '{function}' ({problem})"))
}

impl CinvType {
    /// The type `value` is, or the argument error for argument `pos` of `function`.
    pub fn from_arg(lua: &Lua, value: &Value, pos: usize, function: &str) -> Result<CinvType> {
        if let Value::UserData(ud) = value {
            if let Ok(t) = ud.borrow::<CinvType>() {
                return Ok(t.clone());
            }
        }
        let got = crate::convert::lua_type_name(lua, value)?;
        Err(bad_argument(
            pos,
            function,
            format!("C type expected, got {got}"),
        ))
    }

    /// The Lua value of this type.
    pub fn into_lua(self, lua: &Lua) -> Result<AnyUserData> {
        lua.create_userdata(self)
    }

    /// How the type is shown: its global's name, `struct (12 bytes)`, `array of Cint`.
    pub fn name(&self) -> String {
        match self {
            CinvType::Basic(b) => b.name().to_string(),
            CinvType::Struct(layout) => format!("struct ({} bytes)", layout.size),
            CinvType::Array(element) => format!("array of {}", element.name()),
        }
    }

    /// `cinv.sizeof`: an array is passed as a pointer.
    pub fn size(&self) -> std::result::Result<usize, String> {
        match self {
            CinvType::Basic(Basic::Void) => Err("Cvoid has no size".into()),
            CinvType::Basic(b) => Ok(b.scalar().size()),
            CinvType::Struct(layout) => Ok(layout.size),
            CinvType::Array(_) => Ok(Scalar::Pointer.size()),
        }
    }

    /// The type and convention of a parameter of a function C/Invoke calls.
    pub fn parameter(&self) -> std::result::Result<ValueType, String> {
        match self {
            CinvType::Basic(Basic::Void) => {
                Err("Cvoid is a result type, not a parameter type".into())
            }
            CinvType::Basic(Basic::Callback) => Ok(ValueType::FunctionPointer),
            CinvType::Array(element) => Ok(ValueType::TableArray(Rc::new(element.in_array()?))),
            other => other.value(),
        }
    }

    /// The type and convention of a result, and of a callback's parameter: a function pointer
    /// C gives is a `Cptr` (for `cinv.ptr_to_callback`).
    pub fn value(&self) -> std::result::Result<ValueType, String> {
        match self {
            CinvType::Basic(Basic::Char) => Ok(ValueType::CharString {
                signed: CHAR_SIGNED,
            }),
            CinvType::Basic(Basic::Ptr | Basic::Callback) => Ok(ValueType::Address),
            CinvType::Basic(b) => Ok(ValueType::Scalar(b.scalar())),
            CinvType::Struct(_) => Err(
                "structures cannot be passed by value; pass them in an array (cinv.array)".into(),
            ),
            CinvType::Array(_) => Err(
                "an array is a parameter type only; return a Cptr and use cinv.ptr_to_array".into(),
            ),
        }
    }

    /// The parameter of a callback (what C passes): arrays are refused, as C/Invoke cannot
    /// know their length.
    pub fn callback_parameter(&self) -> std::result::Result<ValueType, String> {
        match self {
            CinvType::Array(_) => Err("arrays are not allowed as callback parameters".into()),
            CinvType::Basic(Basic::Void) => self.parameter(),
            other => other.value(),
        }
    }

    /// The elements of `cinv.array(self)` as the engine converts them.
    fn in_array(&self) -> std::result::Result<ValueType, String> {
        match self {
            CinvType::Basic(b) if b.element().is_some() => self.value(),
            CinvType::Struct(layout) => Ok(ValueType::Record(layout.clone())),
            other => Err(format!("arrays of {} are not supported", other.name())),
        }
    }

    /// `cinv.array(self)`.
    pub fn array(&self) -> std::result::Result<CinvType, String> {
        self.in_array()?;
        Ok(CinvType::Array(Rc::new(self.clone())))
    }

    /// How one element of memory of this type is read and written (`cinv.ptr_to_array`,
    /// tied variables), with a structure's layout; `None` for a type with no such form.
    pub fn element(&self) -> Option<(Element, Option<Rc<StructLayout>>)> {
        match self {
            CinvType::Basic(Basic::String) => Some((Element::Scalar(Scalar::String), None)),
            CinvType::Basic(Basic::Callback) => Some((Element::Address, None)),
            CinvType::Basic(b) => b.element().map(|e| (e, None)),
            CinvType::Struct(layout) => Some((Element::Record(0), Some(layout.clone()))),
            CinvType::Array(_) => None,
        }
    }

    /// A field of a structure: basic types, in the convention their values have everywhere
    /// else in the face, and nested structures.
    fn field(&self) -> std::result::Result<FieldType, String> {
        match self {
            CinvType::Basic(Basic::Void) => Err("Cvoid is not a field type".into()),
            CinvType::Basic(Basic::Callback) => Err("structures cannot contain callbacks".into()),
            CinvType::Basic(Basic::Char) => Ok(FieldType::CharString {
                signed: CHAR_SIGNED,
            }),
            CinvType::Basic(Basic::Ptr) => Ok(FieldType::Address),
            CinvType::Basic(b) => Ok(FieldType::Scalar(b.scalar())),
            CinvType::Struct(layout) => Ok(FieldType::Struct(layout.clone())),
            CinvType::Array(_) => Err("structures cannot contain arrays".into()),
        }
    }
}

/// `cstructure.new(type, name, ...)`: a structure laid out as C lays it out.
pub fn structure(lua: &Lua, args: Vec<Value>) -> Result<CinvType> {
    const FUNCTION: &str = "new";
    if args.is_empty() {
        return Err(bad_argument(1, FUNCTION, "C type expected, got no value"));
    }
    let mut specs = Vec::with_capacity(args.len() / 2);
    for (i, pair) in args.chunks(2).enumerate() {
        let pos = 2 * i + 1;
        let ty = CinvType::from_arg(lua, &pair[0], pos, FUNCTION)?;
        let name = match pair.get(1) {
            Some(Value::String(name)) => name.to_str()?.to_string(),
            other => {
                let got = match other {
                    Some(v) => crate::convert::lua_type_name(lua, v)?,
                    None => "no value".to_string(),
                };
                return Err(bad_argument(
                    pos + 1,
                    FUNCTION,
                    format!("field name expected, got {got}"),
                ));
            }
        };
        let field = ty
            .field()
            .map_err(|problem| bad_argument(pos, FUNCTION, problem))?;
        specs.push(FieldSpec {
            name,
            ty: field,
            count: None,
        });
    }
    let layout = StructLayout::with_options(specs, LayoutOptions::default())
        .map_err(mlua::Error::runtime)?;
    Ok(CinvType::Struct(Rc::new(layout)))
}
