//! Scalars: the leaves of the type graph that values are loaded, stored and passed as.
//!
//! A `Scalar` is a C scalar type as the native face spells it (`i32`, `f64`, `pointer`,
//! `string`...). Every alias of the seed's type table (`int`, `size_t`, `char*`...) resolves
//! to one canonical type, so two spellings of one signature share a thunk. Sizes and
//! alignments are the host's C ABI's.

use std::mem::{align_of, size_of};

use moonthunk_jit::{ArgKind, IntKind, PointerStyle, RetKind};

/// A type name that is neither a canonical name nor an alias, as it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownType(pub String);

impl std::fmt::Display for UnknownType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown C type '{}'", self.0)
    }
}

impl std::error::Error for UnknownType {}

/// A C scalar type, as values of it are converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    Void,
    Bool,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Isize,
    Usize,
    F32,
    F64,
    Pointer,
    String,
}

/// Canonical names, in the order `ffi.ctypes` lists them.
pub const CANONICAL: [Scalar; 16] = [
    Scalar::Void,
    Scalar::Bool,
    Scalar::I8,
    Scalar::U8,
    Scalar::I16,
    Scalar::U16,
    Scalar::I32,
    Scalar::U32,
    Scalar::I64,
    Scalar::U64,
    Scalar::Isize,
    Scalar::Usize,
    Scalar::F32,
    Scalar::F64,
    Scalar::Pointer,
    Scalar::String,
];

impl Scalar {
    /// C's `long` on the target: 64 bits on LP64 (Linux, macOS), 32 on Windows (LLP64).
    pub const LONG: Scalar = if size_of::<std::ffi::c_long>() == 8 {
        Scalar::I64
    } else {
        Scalar::I32
    };
    /// C's `unsigned long` on the target.
    pub const ULONG: Scalar = if size_of::<std::ffi::c_ulong>() == 8 {
        Scalar::U64
    } else {
        Scalar::U32
    };
}

/// Every accepted alias and the type it names (the seed's type table).
pub const ALIASES: &[(&str, Scalar)] = &[
    ("char", Scalar::I8),
    ("int8", Scalar::I8),
    ("uchar", Scalar::U8),
    ("byte", Scalar::U8),
    ("short", Scalar::I16),
    ("int16", Scalar::I16),
    ("ushort", Scalar::U16),
    ("uint16", Scalar::U16),
    ("int", Scalar::I32),
    ("int32", Scalar::I32),
    ("uint", Scalar::U32),
    ("uint32", Scalar::U32),
    ("long", Scalar::LONG),
    ("int64", Scalar::I64),
    ("ulong", Scalar::ULONG),
    ("uint64", Scalar::U64),
    ("ssize_t", Scalar::Isize),
    ("ptrdiff_t", Scalar::Isize),
    ("size_t", Scalar::Usize),
    ("float", Scalar::F32),
    ("double", Scalar::F64),
    ("ptr", Scalar::Pointer),
    ("void*", Scalar::Pointer),
    ("cstring", Scalar::String),
    ("char*", Scalar::String),
    ("int8_t", Scalar::I8),
    ("uint8_t", Scalar::U8),
    ("int16_t", Scalar::I16),
    ("uint16_t", Scalar::U16),
    ("int32_t", Scalar::I32),
    ("uint32_t", Scalar::U32),
    ("int64_t", Scalar::I64),
    ("uint64_t", Scalar::U64),
    ("intptr_t", Scalar::Isize),
    ("uintptr_t", Scalar::Usize),
];

impl Scalar {
    /// Resolves a type name or alias. The error names the unknown type.
    pub fn parse(name: &str) -> Result<Scalar, UnknownType> {
        let trimmed = name.trim();
        CANONICAL
            .iter()
            .find(|t| t.c_name().to_bytes() == trimmed.as_bytes())
            .copied()
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == trimmed)
                    .map(|&(_, t)| t)
            })
            .ok_or_else(|| UnknownType(name.to_string()))
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().expect("ASCII names")
    }

    /// The canonical name as a C string, for raw Lua C API calls.
    pub fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            Scalar::Void => c"void",
            Scalar::Bool => c"bool",
            Scalar::I8 => c"i8",
            Scalar::U8 => c"u8",
            Scalar::I16 => c"i16",
            Scalar::U16 => c"u16",
            Scalar::I32 => c"i32",
            Scalar::U32 => c"u32",
            Scalar::I64 => c"i64",
            Scalar::U64 => c"u64",
            Scalar::Isize => c"isize",
            Scalar::Usize => c"usize",
            Scalar::F32 => c"f32",
            Scalar::F64 => c"f64",
            Scalar::Pointer => c"pointer",
            Scalar::String => c"string",
        }
    }

    /// `sizeof` in bytes (0 for void).
    pub fn size(self) -> usize {
        match self {
            Scalar::Void => 0,
            Scalar::Bool | Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
            Scalar::Isize | Scalar::Usize | Scalar::Pointer | Scalar::String => size_of::<usize>(),
        }
    }

    /// `alignof` in bytes (1 for void, as GNU C says).
    pub fn align(self) -> usize {
        match self {
            Scalar::Void => 1,
            Scalar::I64 | Scalar::U64 => align_of::<u64>(),
            Scalar::F64 => align_of::<f64>(),
            other => other.size(),
        }
    }

    fn int_kind(self) -> Option<IntKind> {
        let (bits, signed) = match self {
            Scalar::I8 => (8, true),
            Scalar::U8 => (8, false),
            Scalar::I16 => (16, true),
            Scalar::U16 => (16, false),
            Scalar::I32 => (32, true),
            Scalar::U32 => (32, false),
            Scalar::I64 => (64, true),
            Scalar::U64 => (64, false),
            Scalar::Isize => (usize::BITS as u8, true),
            Scalar::Usize => (usize::BITS as u8, false),
            _ => return None,
        };
        Some(IntKind { bits, signed })
    }

    /// How a parameter of this type is read from Lua; `None` for void.
    pub fn arg_kind(self) -> Option<ArgKind> {
        Some(match self {
            Scalar::Void => return None,
            Scalar::Bool => ArgKind::Bool,
            Scalar::F32 => ArgKind::F32,
            Scalar::F64 => ArgKind::F64,
            Scalar::Pointer => ArgKind::Pointer(PointerStyle::Object),
            Scalar::String => ArgKind::String,
            int => ArgKind::Int(int.int_kind().expect("integer type")),
        })
    }

    /// How a result of this type is pushed to Lua.
    pub fn ret_kind(self) -> RetKind {
        match self {
            Scalar::Void => RetKind::Void,
            Scalar::Bool => RetKind::Bool,
            Scalar::F32 => RetKind::F32,
            Scalar::F64 => RetKind::F64,
            Scalar::Pointer => RetKind::Pointer(PointerStyle::Object),
            Scalar::String => RetKind::String,
            int => RetKind::Int(int.int_kind().expect("integer type")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_canonical_types() {
        assert_eq!(Scalar::parse("int"), Ok(Scalar::I32));
        assert_eq!(Scalar::parse("size_t"), Ok(Scalar::Usize));
        assert_eq!(Scalar::parse("char*"), Ok(Scalar::String));
        assert_eq!(Scalar::parse(" f64 "), Ok(Scalar::F64));
        for t in CANONICAL {
            assert_eq!(Scalar::parse(t.name()), Ok(t));
        }
    }

    #[test]
    fn long_is_the_targets_long() {
        use crate::ctype::{CType, IntType, Target};
        let host = Target::host();
        for (name, int) in [("long", IntType::Long), ("ulong", IntType::ULong)] {
            let graph = CType::int(int).to_scalar(&host);
            assert_eq!(Scalar::parse(name).ok(), graph, "{name}");
        }
        assert_eq!(
            Scalar::parse("long").unwrap().size(),
            std::mem::size_of::<std::ffi::c_long>()
        );
    }

    #[test]
    fn unknown_names_are_named_in_the_error() {
        let err = Scalar::parse("foo").unwrap_err();
        assert_eq!(err, UnknownType("foo".to_string()));
        assert_eq!(err.to_string(), "unknown C type 'foo'");
    }

    #[test]
    fn sizes_follow_the_host_abi() {
        assert_eq!(Scalar::I32.size(), 4);
        assert_eq!(Scalar::F64.align(), 8);
        assert_eq!(Scalar::Pointer.size(), size_of::<*const u8>());
        assert_eq!(Scalar::Void.size(), 0);
    }
}
