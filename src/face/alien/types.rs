//! Alien's type names, each onto a C scalar of the type graph and the Lua convention Alien
//! gives its values.
//!
//! Alien 0.7 reads `char` as unsigned (its results, buffer reads and callback arguments all
//! go through `unsigned char`) and `byte` as signed, whatever the target's plain `char` is.

use crate::ctype::{Scalar, UnknownType};
use crate::function::ValueType;

/// A type as an Alien signature, buffer or array uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlienType {
    /// Numbers, and `string` (Lua strings in, a copy of the C string out).
    Scalar(Scalar),
    /// `void*`: a light userdata in Lua, NULL as nil.
    Pointer,
    /// A function pointer: an Alien function object (or any pointer) in; a function object
    /// out of memory.
    Callback,
    /// `ref T`: a pointer to a temporary holding the Lua value; the updated value is an
    /// extra result. In a callback, the value C's pointer points at.
    Ref(Scalar),
}

/// Alien's names of its scalar types.
const SCALARS: &[(&str, Scalar)] = &[
    ("void", Scalar::Void),
    ("byte", Scalar::I8),
    ("char", Scalar::U8),
    ("short", Scalar::I16),
    ("ushort", Scalar::U16),
    ("int", Scalar::I32),
    ("uint", Scalar::U32),
    ("long", Scalar::LONG),
    ("ulong", Scalar::ULONG),
    ("longlong", Scalar::I64),
    ("ulonglong", Scalar::U64),
    ("ptrdiff_t", Scalar::Isize),
    ("size_t", Scalar::Usize),
    ("float", Scalar::F32),
    ("double", Scalar::F64),
    ("string", Scalar::String),
];

impl AlienType {
    /// The type named `name` ("int", "ref double", "callback"...).
    pub fn parse(name: &str) -> Result<AlienType, UnknownType> {
        let scalar = |name: &str| SCALARS.iter().find(|(n, _)| *n == name).map(|&(_, t)| t);
        let found = match name {
            "pointer" => Some(AlienType::Pointer),
            "callback" => Some(AlienType::Callback),
            _ => match name.strip_prefix("ref ") {
                Some(inner) => scalar(inner.trim())
                    .filter(|t| !matches!(t, Scalar::Void | Scalar::String))
                    .map(AlienType::Ref),
                None => scalar(name).map(AlienType::Scalar),
            },
        };
        found.ok_or_else(|| UnknownType(name.to_string()))
    }

    /// The type and convention a bound function's parameter uses for it: a `pointer` is
    /// passed as a `const char*` is, which also takes Lua strings, as Alien's does; a
    /// `callback` takes only function objects, never NULL or data for C to call.
    pub fn parameter_type(self) -> ValueType {
        match self {
            AlienType::Pointer => ValueType::Scalar(Scalar::String),
            AlienType::Callback => ValueType::FunctionPointer,
            other => other.value_type(),
        }
    }

    /// The type and convention of a result, and of a callback's parameter.
    pub fn value_type(self) -> ValueType {
        match self {
            AlienType::Scalar(t) => ValueType::Scalar(t),
            AlienType::Pointer | AlienType::Callback => {
                ValueType::LightPointer { nil_for_null: true }
            }
            AlienType::Ref(t) => ValueType::Ref(t),
        }
    }

    /// `alien.sizeof`: a reference or a function pointer is a pointer.
    pub fn size(self) -> usize {
        match self {
            AlienType::Scalar(t) => t.size(),
            _ => Scalar::Pointer.size(),
        }
    }

    /// `alien.align`.
    pub fn align(self) -> usize {
        match self {
            AlienType::Scalar(Scalar::Void) => 1,
            AlienType::Scalar(t) => t.align(),
            _ => Scalar::Pointer.align(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_to_c_types_of_the_target() {
        assert_eq!(AlienType::parse("byte"), Ok(AlienType::Scalar(Scalar::I8)));
        assert_eq!(AlienType::parse("char"), Ok(AlienType::Scalar(Scalar::U8)));
        assert_eq!(
            AlienType::parse("long").unwrap().size(),
            size_of::<std::ffi::c_long>()
        );
        assert_eq!(AlienType::parse("ref int"), Ok(AlienType::Ref(Scalar::I32)));
        assert_eq!(AlienType::parse("callback").unwrap().size(), 8);
        assert_eq!(
            AlienType::parse("ref string"),
            Err(UnknownType("ref string".into()))
        );
        assert_eq!(AlienType::parse("i32"), Err(UnknownType("i32".into())));
    }
}
