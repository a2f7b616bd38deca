//! The C type model.
//!
//! A `CType` is a C scalar type as the native face spells it (`i32`, `f64`, `pointer`,
//! `string`...). Every alias of the seed's type table (`int`, `size_t`, `char*`...) resolves
//! to one canonical type, so two spellings of one signature share a thunk. Sizes and
//! alignments are the host's C ABI's.

use std::mem::{align_of, size_of};

use moonthunk_jit::{ArgKind, IntKind, RetKind};

/// A C scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CType {
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
pub const CANONICAL: [CType; 16] = [
    CType::Void,
    CType::Bool,
    CType::I8,
    CType::U8,
    CType::I16,
    CType::U16,
    CType::I32,
    CType::U32,
    CType::I64,
    CType::U64,
    CType::Isize,
    CType::Usize,
    CType::F32,
    CType::F64,
    CType::Pointer,
    CType::String,
];

/// Every accepted alias and the type it names (the seed's type table).
pub const ALIASES: &[(&str, CType)] = &[
    ("char", CType::I8),
    ("int8", CType::I8),
    ("uchar", CType::U8),
    ("byte", CType::U8),
    ("short", CType::I16),
    ("int16", CType::I16),
    ("ushort", CType::U16),
    ("uint16", CType::U16),
    ("int", CType::I32),
    ("int32", CType::I32),
    ("uint", CType::U32),
    ("uint32", CType::U32),
    ("long", CType::I64),
    ("int64", CType::I64),
    ("ulong", CType::U64),
    ("uint64", CType::U64),
    ("ssize_t", CType::Isize),
    ("ptrdiff_t", CType::Isize),
    ("size_t", CType::Usize),
    ("float", CType::F32),
    ("double", CType::F64),
    ("ptr", CType::Pointer),
    ("void*", CType::Pointer),
    ("cstring", CType::String),
    ("char*", CType::String),
    ("int8_t", CType::I8),
    ("uint8_t", CType::U8),
    ("int16_t", CType::I16),
    ("uint16_t", CType::U16),
    ("int32_t", CType::I32),
    ("uint32_t", CType::U32),
    ("int64_t", CType::I64),
    ("uint64_t", CType::U64),
    ("intptr_t", CType::Isize),
    ("uintptr_t", CType::Usize),
];

impl CType {
    /// Resolves a type name or alias. The error names the unknown type.
    pub fn parse(name: &str) -> Result<CType, String> {
        let trimmed = name.trim();
        CANONICAL
            .iter()
            .find(|t| t.name() == trimmed)
            .copied()
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == trimmed)
                    .map(|&(_, t)| t)
            })
            .ok_or_else(|| format!("unknown C type '{name}'"))
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().expect("ASCII names")
    }

    /// The canonical name as a C string, for raw Lua C API calls.
    pub fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            CType::Void => c"void",
            CType::Bool => c"bool",
            CType::I8 => c"i8",
            CType::U8 => c"u8",
            CType::I16 => c"i16",
            CType::U16 => c"u16",
            CType::I32 => c"i32",
            CType::U32 => c"u32",
            CType::I64 => c"i64",
            CType::U64 => c"u64",
            CType::Isize => c"isize",
            CType::Usize => c"usize",
            CType::F32 => c"f32",
            CType::F64 => c"f64",
            CType::Pointer => c"pointer",
            CType::String => c"string",
        }
    }

    /// `sizeof` in bytes (0 for void).
    pub fn size(self) -> usize {
        match self {
            CType::Void => 0,
            CType::Bool | CType::I8 | CType::U8 => 1,
            CType::I16 | CType::U16 => 2,
            CType::I32 | CType::U32 | CType::F32 => 4,
            CType::I64 | CType::U64 | CType::F64 => 8,
            CType::Isize | CType::Usize | CType::Pointer | CType::String => size_of::<usize>(),
        }
    }

    /// `alignof` in bytes (1 for void, as GNU C says).
    pub fn align(self) -> usize {
        match self {
            CType::Void => 1,
            CType::I64 | CType::U64 => align_of::<u64>(),
            CType::F64 => align_of::<f64>(),
            other => other.size(),
        }
    }

    fn int_kind(self) -> Option<IntKind> {
        let (bits, signed) = match self {
            CType::I8 => (8, true),
            CType::U8 => (8, false),
            CType::I16 => (16, true),
            CType::U16 => (16, false),
            CType::I32 => (32, true),
            CType::U32 => (32, false),
            CType::I64 => (64, true),
            CType::U64 => (64, false),
            CType::Isize => (usize::BITS as u8, true),
            CType::Usize => (usize::BITS as u8, false),
            _ => return None,
        };
        Some(IntKind { bits, signed })
    }

    /// How a parameter of this type is read from Lua; `None` for void.
    pub fn arg_kind(self) -> Option<ArgKind> {
        Some(match self {
            CType::Void => return None,
            CType::Bool => ArgKind::Bool,
            CType::F32 => ArgKind::F32,
            CType::F64 => ArgKind::F64,
            CType::Pointer => ArgKind::Pointer,
            CType::String => ArgKind::String,
            int => ArgKind::Int(int.int_kind().expect("integer type")),
        })
    }

    /// How a result of this type is pushed to Lua.
    pub fn ret_kind(self) -> RetKind {
        match self {
            CType::Void => RetKind::Void,
            CType::Bool => RetKind::Bool,
            CType::F32 => RetKind::F32,
            CType::F64 => RetKind::F64,
            CType::Pointer => RetKind::Pointer,
            CType::String => RetKind::String,
            int => RetKind::Int(int.int_kind().expect("integer type")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_canonical_types() {
        assert_eq!(CType::parse("int"), Ok(CType::I32));
        assert_eq!(CType::parse("size_t"), Ok(CType::Usize));
        assert_eq!(CType::parse("char*"), Ok(CType::String));
        assert_eq!(CType::parse(" f64 "), Ok(CType::F64));
        for t in CANONICAL {
            assert_eq!(CType::parse(t.name()), Ok(t));
        }
    }

    #[test]
    fn unknown_names_are_named_in_the_error() {
        assert_eq!(CType::parse("foo"), Err("unknown C type 'foo'".to_string()));
    }

    #[test]
    fn sizes_follow_the_host_abi() {
        assert_eq!(CType::I32.size(), 4);
        assert_eq!(CType::F64.align(), 8);
        assert_eq!(CType::Pointer.size(), size_of::<*const u8>());
        assert_eq!(CType::Void.size(), 0);
    }
}
