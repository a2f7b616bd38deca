//! The type graph: interned C type nodes, their kinds, records, enums and functions, and
//! their C spellings.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{LazyLock, Mutex, OnceLock};

use super::target::{SizeAlign, Target};
use super::Scalar;

/// A C type: a handle to a node of the process-wide type graph.
///
/// Nodes live for the process. Structural types (everything but records and enums) are
/// interned, so two handles to `const int *` are the same node and compare by address.
#[derive(Clone, Copy)]
pub struct CType(&'static Kind);

impl PartialEq for CType {
    fn eq(&self, other: &CType) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for CType {}

impl Hash for CType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::ptr::hash(self.0, state)
    }
}

impl fmt::Debug for CType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CType({self})")
    }
}

/// What a type is.
#[derive(Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Void,
    /// `_Bool`.
    Bool,
    Int(IntType),
    Float(FloatType),
    Pointer(CType),
    /// A type with `const` and/or `volatile` (never empty, never nested).
    Qualified(CType, Qualifiers),
    /// `T[n]`, or `T[]` (a flexible array member) when the length is `None`.
    Array(CType, Option<usize>),
    Record(RecordType),
    Enum(EnumType),
    Function(FunctionType),
}

/// The integer types, each spelled as C spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntType {
    /// Plain `char`: signed or not per target, yet a type of its own.
    Char,
    SChar,
    UChar,
    Short,
    UShort,
    Int,
    UInt,
    Long,
    ULong,
    LongLong,
    ULongLong,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    Size,
    SSize,
    PtrDiff,
    IntPtr,
    UIntPtr,
}

impl IntType {
    /// The C spelling.
    pub fn name(self) -> &'static str {
        match self {
            IntType::Char => "char",
            IntType::SChar => "signed char",
            IntType::UChar => "unsigned char",
            IntType::Short => "short",
            IntType::UShort => "unsigned short",
            IntType::Int => "int",
            IntType::UInt => "unsigned int",
            IntType::Long => "long",
            IntType::ULong => "unsigned long",
            IntType::LongLong => "long long",
            IntType::ULongLong => "unsigned long long",
            IntType::I8 => "int8_t",
            IntType::U8 => "uint8_t",
            IntType::I16 => "int16_t",
            IntType::U16 => "uint16_t",
            IntType::I32 => "int32_t",
            IntType::U32 => "uint32_t",
            IntType::I64 => "int64_t",
            IntType::U64 => "uint64_t",
            IntType::Size => "size_t",
            IntType::SSize => "ssize_t",
            IntType::PtrDiff => "ptrdiff_t",
            IntType::IntPtr => "intptr_t",
            IntType::UIntPtr => "uintptr_t",
        }
    }

    /// Whether values of this type are signed on `target`.
    pub fn is_signed(self, target: &Target) -> bool {
        match self {
            IntType::Char => target.char_signed,
            IntType::SChar
            | IntType::Short
            | IntType::Int
            | IntType::Long
            | IntType::LongLong
            | IntType::I8
            | IntType::I16
            | IntType::I32
            | IntType::I64
            | IntType::SSize
            | IntType::PtrDiff
            | IntType::IntPtr => true,
            _ => false,
        }
    }

    /// Size and alignment on `target`.
    pub fn size_align(self, target: &Target) -> SizeAlign {
        // The exact-width types are typedefs of the standard type of their width.
        let exact = |bytes: usize| {
            [target.short, target.int, target.long, target.long_long]
                .into_iter()
                .find(|t| t.size == bytes)
                .unwrap_or(SizeAlign {
                    size: bytes,
                    align: bytes,
                })
        };
        match self {
            IntType::Char | IntType::SChar | IntType::UChar | IntType::I8 | IntType::U8 => {
                SizeAlign { size: 1, align: 1 }
            }
            IntType::Short | IntType::UShort => target.short,
            IntType::Int | IntType::UInt => target.int,
            IntType::Long | IntType::ULong => target.long,
            IntType::LongLong | IntType::ULongLong => target.long_long,
            IntType::I16 | IntType::U16 => exact(2),
            IntType::I32 | IntType::U32 => exact(4),
            IntType::I64 | IntType::U64 => exact(8),
            IntType::Size
            | IntType::SSize
            | IntType::PtrDiff
            | IntType::IntPtr
            | IntType::UIntPtr => target.size_t,
        }
    }
}

/// The floating-point types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatType {
    Float,
    Double,
    /// Recognised and laid out; never converted as a value.
    LongDouble,
}

/// `const` and `volatile`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Qualifiers {
    pub is_const: bool,
    pub is_volatile: bool,
}

impl Qualifiers {
    pub const CONST: Qualifiers = Qualifiers {
        is_const: true,
        is_volatile: false,
    };
    pub const VOLATILE: Qualifiers = Qualifiers {
        is_const: false,
        is_volatile: true,
    };

    fn is_empty(self) -> bool {
        !self.is_const && !self.is_volatile
    }

    fn union(self, other: Qualifiers) -> Qualifiers {
        Qualifiers {
            is_const: self.is_const || other.is_const,
            is_volatile: self.is_volatile || other.is_volatile,
        }
    }
}

impl fmt::Display for Qualifiers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_const, self.is_volatile) {
            (true, true) => f.write_str("const volatile"),
            (true, false) => f.write_str("const"),
            (false, true) => f.write_str("volatile"),
            (false, false) => Ok(()),
        }
    }
}

/// Struct or union.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Struct,
    Union,
}

/// A struct or union type. Nominal: each declaration is a type of its own, whatever its
/// fields; it may be declared first (`struct foo;`) and given its body once, later.
#[derive(Debug)]
pub struct RecordType {
    pub(super) kind: RecordKind,
    name: Option<String>,
    pub(super) body: OnceLock<RecordBody>,
    /// The layout for the host, computed on first use.
    pub(super) host_layout: OnceLock<Result<RecordLayout, String>>,
}

/// Nominal types are equal only to themselves.
impl PartialEq for RecordType {
    fn eq(&self, other: &RecordType) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for RecordType {}

impl Hash for RecordType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::ptr::hash(self, state)
    }
}

/// The members of a record and the attributes that place them.
#[derive(Clone, Debug, Default)]
pub struct RecordBody {
    pub fields: Vec<Field>,
    /// `__attribute__((packed))` on the record: every member aligned to 1 byte, unless the
    /// member asks for an alignment itself.
    pub packed: bool,
    /// `#pragma pack(n)`: no member aligned to more than `n` bytes.
    pub max_align: Option<usize>,
    /// `__attribute__((aligned(n)))` on the record: at least this alignment.
    pub align: Option<usize>,
}

/// One member of a record.
#[derive(Clone, Debug)]
pub struct Field {
    /// `None` for an anonymous struct/union member or an unnamed bit-field.
    pub name: Option<String>,
    pub ty: CType,
    /// `Some(width)` for a bit-field.
    pub bits: Option<u32>,
    /// `__attribute__((aligned(n)))` on the member.
    pub align: Option<usize>,
}

impl Field {
    /// A plain member.
    pub fn new(name: &str, ty: CType) -> Field {
        Field {
            name: Some(name.to_string()),
            ty,
            bits: None,
            align: None,
        }
    }

    /// An anonymous struct or union member, whose members are reached as the record's own.
    pub fn anonymous(ty: CType) -> Field {
        Field {
            name: None,
            ty,
            bits: None,
            align: None,
        }
    }

    /// A bit-field; `name` is `None` for an unnamed one (`int : 3;`).
    pub fn bit_field(name: Option<&str>, ty: CType, width: u32) -> Field {
        Field {
            name: name.map(str::to_string),
            ty,
            bits: Some(width),
            align: None,
        }
    }

    /// The same member with `__attribute__((aligned(n)))`.
    pub fn aligned(self, align: usize) -> Field {
        Field {
            align: Some(align),
            ..self
        }
    }
}

/// Where a member sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldLayout {
    /// Bytes from the start of the record; for a bit-field, to the byte holding its first bit.
    pub offset: usize,
    /// Bits from the start of the record to the member's first bit (bit `k` is the bit of
    /// value `1 << (k % 8)` in byte `k / 8`: the little-endian numbering).
    pub bit_offset: usize,
    /// `Some(width)` for a bit-field.
    pub bit_width: Option<u32>,
}

impl FieldLayout {
    /// The same member seen from a record that holds this one at `bytes`.
    pub fn shifted_by(self, bytes: usize) -> FieldLayout {
        FieldLayout {
            offset: self.offset + bytes,
            bit_offset: self.bit_offset + bytes * 8,
            bit_width: self.bit_width,
        }
    }
}

/// A laid-out record: its size, its alignment and its members' places, in declaration order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordLayout {
    pub size: usize,
    pub align: usize,
    pub fields: Vec<FieldLayout>,
}

impl RecordType {
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The body, once the record is complete.
    pub fn body(&self) -> Option<&RecordBody> {
        self.body.get()
    }

    pub(super) fn spelling(&self) -> String {
        let keyword = match self.kind {
            RecordKind::Struct => "struct",
            RecordKind::Union => "union",
        };
        match &self.name {
            Some(name) => format!("{keyword} {name}"),
            None => format!("{keyword} <anonymous>"),
        }
    }
}

/// An enum type: nominal like records, completed once.
#[derive(Debug)]
pub struct EnumType {
    name: Option<String>,
    body: OnceLock<EnumBody>,
}

impl PartialEq for EnumType {
    fn eq(&self, other: &EnumType) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for EnumType {}

impl Hash for EnumType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::ptr::hash(self, state)
    }
}

/// The constants of an enum and the integer type that holds them.
#[derive(Clone, Debug)]
pub struct EnumBody {
    pub base: CType,
    pub constants: Vec<(String, i128)>,
}

impl EnumBody {
    /// The constants with the base type gcc gives them: `unsigned int` when none is
    /// negative and all fit, else `int`, else the 64-bit type that holds them all.
    pub fn new(constants: Vec<(String, i128)>) -> Result<EnumBody, String> {
        let min = constants.iter().map(|c| c.1).min().unwrap_or(0);
        let max = constants.iter().map(|c| c.1).max().unwrap_or(0);
        let base = if min >= 0 && max <= u32::MAX as i128 {
            IntType::UInt
        } else if min >= i32::MIN as i128 && max <= i32::MAX as i128 {
            IntType::Int
        } else if min >= 0 && max <= u64::MAX as i128 {
            IntType::ULongLong
        } else if min >= i64::MIN as i128 && max <= i64::MAX as i128 {
            IntType::LongLong
        } else {
            return Err("enumerator value out of range of every integer type".into());
        };
        Ok(EnumBody {
            base: CType::int(base),
            constants,
        })
    }
}

impl EnumType {
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn body(&self) -> Option<&EnumBody> {
        self.body.get()
    }

    /// Completes the enum. Its base must be an integer type.
    pub fn set_body(&self, body: EnumBody) -> Result<(), String> {
        if !matches!(body.base.unqualified().kind(), Kind::Int(_)) {
            return Err(format!(
                "enum base type {} is not an integer type",
                body.base
            ));
        }
        let spelling = match &self.name {
            Some(name) => format!("enum {name}"),
            None => "enum <anonymous>".into(),
        };
        self.body
            .set(body)
            .map_err(|_| format!("{spelling} is already defined"))
    }

    /// The value of the constant called `name`.
    pub fn constant(&self, name: &str) -> Option<i128> {
        let body = self.body.get()?;
        body.constants.iter().find(|c| c.0 == name).map(|c| c.1)
    }
}

/// Calling conventions a function type may name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CallConv {
    /// The platform's C convention (`__cdecl`).
    #[default]
    C,
    Stdcall,
    Fastcall,
    Thiscall,
    Vectorcall,
}

impl CallConv {
    fn keyword(self) -> Option<&'static str> {
        match self {
            CallConv::C => None,
            CallConv::Stdcall => Some("__stdcall"),
            CallConv::Fastcall => Some("__fastcall"),
            CallConv::Thiscall => Some("__thiscall"),
            CallConv::Vectorcall => Some("__vectorcall"),
        }
    }
}

/// A function type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FunctionType {
    pub result: CType,
    pub params: Vec<CType>,
    pub variadic: bool,
    pub convention: CallConv,
}

/// Every structural node, by its kind.
static INTERNED: LazyLock<Mutex<HashMap<&'static Kind, CType>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl CType {
    /// The one node of `kind`, made on first use.
    fn intern(kind: Kind) -> CType {
        let mut nodes = INTERNED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(&node) = nodes.get(&kind) {
            return node;
        }
        let node: &'static Kind = Box::leak(Box::new(kind));
        nodes.insert(node, CType(node));
        CType(node)
    }

    pub fn void() -> CType {
        CType::intern(Kind::Void)
    }

    /// `_Bool`.
    pub fn bool() -> CType {
        CType::intern(Kind::Bool)
    }

    pub fn int(int: IntType) -> CType {
        CType::intern(Kind::Int(int))
    }

    pub fn float(float: FloatType) -> CType {
        CType::intern(Kind::Float(float))
    }

    /// A pointer to `self`.
    pub fn pointer_to(self) -> CType {
        CType::intern(Kind::Pointer(self))
    }

    /// `self` with `qualifiers` added.
    pub fn qualified(self, qualifiers: Qualifiers) -> CType {
        let (base, had) = match self.kind() {
            Kind::Qualified(base, had) => (*base, *had),
            _ => (self, Qualifiers::default()),
        };
        let all = had.union(qualifiers);
        if all.is_empty() {
            return base;
        }
        CType::intern(Kind::Qualified(base, all))
    }

    /// `const self`.
    pub fn constant(self) -> CType {
        self.qualified(Qualifiers::CONST)
    }

    /// `self[len]`, or `self[]` for `None`.
    pub fn array_of(self, len: Option<usize>) -> CType {
        CType::intern(Kind::Array(self, len))
    }

    pub fn function(function: FunctionType) -> CType {
        CType::intern(Kind::Function(function))
    }

    /// A new, incomplete struct or union (complete it with [`RecordType::set_body`]).
    pub fn new_record(kind: RecordKind, name: Option<&str>) -> CType {
        CType(Box::leak(Box::new(Kind::Record(RecordType {
            kind,
            name: name.map(str::to_string),
            body: OnceLock::new(),
            host_layout: OnceLock::new(),
        }))))
    }

    /// A new, incomplete enum (complete it with [`EnumType::set_body`]).
    pub fn new_enum(name: Option<&str>) -> CType {
        CType(Box::leak(Box::new(Kind::Enum(EnumType {
            name: name.map(str::to_string),
            body: OnceLock::new(),
        }))))
    }

    /// The graph's type for a value kind of the native face.
    pub fn from_scalar(scalar: Scalar) -> CType {
        match scalar {
            Scalar::Void => CType::void(),
            Scalar::Bool => CType::bool(),
            Scalar::I8 => CType::int(IntType::I8),
            Scalar::U8 => CType::int(IntType::U8),
            Scalar::I16 => CType::int(IntType::I16),
            Scalar::U16 => CType::int(IntType::U16),
            Scalar::I32 => CType::int(IntType::I32),
            Scalar::U32 => CType::int(IntType::U32),
            Scalar::I64 => CType::int(IntType::I64),
            Scalar::U64 => CType::int(IntType::U64),
            Scalar::Isize => CType::int(IntType::PtrDiff),
            Scalar::Usize => CType::int(IntType::Size),
            Scalar::F32 => CType::float(FloatType::Float),
            Scalar::F64 => CType::float(FloatType::Double),
            Scalar::Pointer => CType::void().pointer_to(),
            Scalar::String => CType::int(IntType::Char).constant().pointer_to(),
        }
    }

    pub fn kind(self) -> &'static Kind {
        self.0
    }

    /// The type without its qualifiers.
    pub fn unqualified(self) -> CType {
        match self.kind() {
            Kind::Qualified(base, _) => *base,
            _ => self,
        }
    }

    /// The qualifiers of this type itself (not of what it points to).
    pub fn qualifiers(self) -> Qualifiers {
        match self.kind() {
            Kind::Qualified(_, qualifiers) => *qualifiers,
            _ => Qualifiers::default(),
        }
    }

    /// What a pointer points to.
    pub fn pointee(self) -> Option<CType> {
        match self.unqualified().kind() {
            Kind::Pointer(to) => Some(*to),
            _ => None,
        }
    }

    /// The element type of an array.
    pub fn element(self) -> Option<CType> {
        match self.unqualified().kind() {
            Kind::Array(element, _) => Some(*element),
            _ => None,
        }
    }

    /// The length of a fixed array (`None` for `T[]` and non-arrays).
    pub fn array_len(self) -> Option<usize> {
        match self.unqualified().kind() {
            Kind::Array(_, len) => *len,
            _ => None,
        }
    }

    pub fn as_record(self) -> Option<&'static RecordType> {
        match self.unqualified().kind() {
            Kind::Record(record) => Some(record),
            _ => None,
        }
    }

    pub fn as_enum(self) -> Option<&'static EnumType> {
        match self.unqualified().kind() {
            Kind::Enum(enumeration) => Some(enumeration),
            _ => None,
        }
    }

    pub fn as_function(self) -> Option<&'static FunctionType> {
        match self.unqualified().kind() {
            Kind::Function(function) => Some(function),
            _ => None,
        }
    }

    /// Whether the type has a size (objects of it can exist).
    pub fn is_complete(self) -> bool {
        match self.unqualified().kind() {
            Kind::Void | Kind::Function(_) | Kind::Array(_, None) => false,
            Kind::Array(element, Some(_)) => element.is_complete(),
            Kind::Record(record) => record.body().is_some(),
            Kind::Enum(enumeration) => enumeration.body().is_some(),
            _ => true,
        }
    }

    /// The value kind of this type on `target`: integers by size and signedness (the
    /// pointer-sized typedefs as `Isize`/`Usize`), pointers as `Pointer`, enums as their base.
    /// `None` for what is not a single value (records, arrays, functions, `long double`).
    pub fn to_scalar(self, target: &Target) -> Option<Scalar> {
        match self.unqualified().kind() {
            Kind::Void => Some(Scalar::Void),
            Kind::Bool => Some(Scalar::Bool),
            Kind::Int(IntType::Size | IntType::UIntPtr) => Some(Scalar::Usize),
            Kind::Int(IntType::SSize | IntType::PtrDiff | IntType::IntPtr) => Some(Scalar::Isize),
            Kind::Int(int) => {
                let signed = int.is_signed(target);
                Some(match (int.size_align(target).size, signed) {
                    (1, true) => Scalar::I8,
                    (1, false) => Scalar::U8,
                    (2, true) => Scalar::I16,
                    (2, false) => Scalar::U16,
                    (4, true) => Scalar::I32,
                    (4, false) => Scalar::U32,
                    (8, true) => Scalar::I64,
                    (8, false) => Scalar::U64,
                    _ => return None,
                })
            }
            Kind::Float(FloatType::Float) => Some(Scalar::F32),
            Kind::Float(FloatType::Double) => Some(Scalar::F64),
            Kind::Pointer(_) => Some(Scalar::Pointer),
            Kind::Enum(enumeration) => enumeration.body()?.base.to_scalar(target),
            Kind::Float(FloatType::LongDouble)
            | Kind::Qualified(..)
            | Kind::Array(..)
            | Kind::Record(_)
            | Kind::Function(_) => None,
        }
    }

    /// Writes the type around `declarator` (what is already spelled of the declaration,
    /// from the inside out), as C declarations nest: `int (*)[4]`, `char *const`.
    fn spell(self, declarator: String, out: &mut String) {
        let around = |base: &str, out: &mut String| {
            out.push_str(base);
            if !declarator.is_empty() {
                out.push(' ');
                out.push_str(&declarator);
            }
        };
        match self.kind() {
            Kind::Void => around("void", out),
            Kind::Bool => around("_Bool", out),
            Kind::Int(int) => around(int.name(), out),
            Kind::Float(FloatType::Float) => around("float", out),
            Kind::Float(FloatType::Double) => around("double", out),
            Kind::Float(FloatType::LongDouble) => around("long double", out),
            Kind::Record(record) => around(&record.spelling(), out),
            Kind::Enum(enumeration) => match &enumeration.name {
                Some(name) => around(&format!("enum {name}"), out),
                None => around("enum <anonymous>", out),
            },
            Kind::Qualified(base, qualifiers) => {
                if base.pointee().is_some() {
                    // A qualified pointer: the qualifier follows its `*`.
                    let declarator = if declarator.is_empty() {
                        qualifiers.to_string()
                    } else {
                        format!("{qualifiers} {declarator}")
                    };
                    base.spell(declarator, out);
                } else {
                    out.push_str(&qualifiers.to_string());
                    out.push(' ');
                    base.spell(declarator, out);
                }
            }
            Kind::Pointer(to) => {
                let star = format!("*{declarator}");
                let grouped =
                    matches!(to.unqualified().kind(), Kind::Array(..) | Kind::Function(_));
                to.spell(if grouped { format!("({star})") } else { star }, out);
            }
            Kind::Array(element, len) => {
                let len = len.map(|n| n.to_string()).unwrap_or_default();
                element.spell(format!("{declarator}[{len}]"), out);
            }
            Kind::Function(function) => {
                let mut params: Vec<String> =
                    function.params.iter().map(|p| p.to_string()).collect();
                if function.variadic {
                    params.push("...".into());
                } else if params.is_empty() {
                    params.push("void".into());
                }
                let declarator = match function.convention.keyword() {
                    Some(keyword) if declarator.starts_with('(') => {
                        format!("({keyword} {}", &declarator[1..])
                    }
                    Some(keyword) => format!("{keyword} {declarator}"),
                    None => declarator,
                };
                function
                    .result
                    .spell(format!("{declarator}({})", params.join(", ")), out);
            }
        }
    }
}

impl CType {
    /// A C declaration of `name` with this type: `int (*name)[4]`, `const char *name`.
    pub fn declaration(self, name: &str) -> String {
        let mut out = String::new();
        self.spell(name.to_string(), &mut out);
        out
    }
}

/// The C spelling, as in a cast: `int`, `const char *`, `int [4]`, `int (*)(int, double)`.
impl fmt::Display for CType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.declaration(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(triple: &str) -> Target {
        Target::from_triple(triple).unwrap()
    }

    #[test]
    fn structural_types_are_interned() {
        let a = CType::int(IntType::Char).constant().pointer_to();
        let b = CType::from_scalar(Scalar::String);
        assert_eq!(a, b);
        assert_eq!(
            a.pointee().unwrap().unqualified(),
            CType::int(IntType::Char)
        );
        assert_eq!(std::mem::size_of::<CType>(), std::mem::size_of::<usize>());
        let twice = CType::int(IntType::Int).constant().constant();
        assert_eq!(twice, CType::int(IntType::Int).constant());
    }

    #[test]
    fn records_are_nominal() {
        let body = || RecordBody {
            fields: vec![Field::new("x", CType::int(IntType::Int))],
            ..RecordBody::default()
        };
        let a = CType::new_record(RecordKind::Struct, Some("p"));
        let b = CType::new_record(RecordKind::Struct, Some("p"));
        a.as_record().unwrap().set_body(body()).unwrap();
        b.as_record().unwrap().set_body(body()).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            a.as_record().unwrap().set_body(body()).unwrap_err(),
            "struct p is already defined"
        );
    }

    #[test]
    fn incomplete_records_complete_later() {
        let node = CType::new_record(RecordKind::Struct, Some("node"));
        assert_eq!(node.size(), None);
        let record = node.as_record().unwrap();
        record
            .set_body(RecordBody {
                fields: vec![
                    Field::new("value", CType::int(IntType::Int)),
                    Field::new("next", node.pointer_to()),
                ],
                ..RecordBody::default()
            })
            .unwrap();
        let host = Target::host();
        assert_eq!(node.size(), Some(2 * host.pointer.size));
        assert_eq!(
            record.find_field("next", &host).unwrap().1.offset,
            host.pointer.size
        );
    }

    #[test]
    fn long_per_target() {
        let long = CType::int(IntType::Long);
        let linux = target("x86_64-unknown-linux-gnu");
        let arm = target("aarch64-unknown-linux-gnu");
        let windows = target("x86_64-pc-windows-msvc");
        assert_eq!(
            (long.size_on(&linux), long.align_on(&linux)),
            (Some(8), Some(8))
        );
        assert_eq!(
            (long.size_on(&arm), long.align_on(&arm)),
            (Some(8), Some(8))
        );
        assert_eq!(
            (long.size_on(&windows), long.align_on(&windows)),
            (Some(4), Some(4))
        );
        assert_eq!(long.to_scalar(&linux), Some(Scalar::I64));
        assert_eq!(long.to_scalar(&windows), Some(Scalar::I32));
        let ulong = CType::int(IntType::ULong);
        assert_eq!(ulong.to_scalar(&windows), Some(Scalar::U32));
    }

    #[test]
    fn plain_char_signedness_per_target() {
        let char = CType::int(IntType::Char);
        assert_eq!(
            char.to_scalar(&target("x86_64-unknown-linux-gnu")),
            Some(Scalar::I8)
        );
        assert_eq!(
            char.to_scalar(&target("aarch64-unknown-linux-gnu")),
            Some(Scalar::U8)
        );
        assert_eq!(
            char.to_scalar(&target("aarch64-apple-darwin")),
            Some(Scalar::I8)
        );
        let schar = CType::int(IntType::SChar);
        assert_eq!(
            schar.to_scalar(&target("aarch64-unknown-linux-gnu")),
            Some(Scalar::I8)
        );
    }

    #[test]
    fn size_t_and_long_double() {
        let size_t = CType::int(IntType::Size);
        for triple in [
            "x86_64-unknown-linux-gnu",
            "x86_64-pc-windows-msvc",
            "aarch64-apple-darwin",
        ] {
            assert_eq!(size_t.size_on(&target(triple)), Some(8));
            assert_eq!(size_t.to_scalar(&target(triple)), Some(Scalar::Usize));
        }
        let long_double = CType::float(FloatType::LongDouble);
        assert_eq!(
            long_double.size_on(&target("x86_64-unknown-linux-gnu")),
            Some(16)
        );
        assert_eq!(
            long_double.align_on(&target("x86_64-unknown-linux-gnu")),
            Some(16)
        );
        assert_eq!(
            long_double.size_on(&target("aarch64-unknown-linux-gnu")),
            Some(16)
        );
        assert_eq!(
            long_double.size_on(&target("x86_64-pc-windows-msvc")),
            Some(8)
        );
        assert_eq!(
            long_double.size_on(&target("aarch64-apple-darwin")),
            Some(8)
        );
        assert_eq!(long_double.to_scalar(&Target::host()), None);
    }

    #[test]
    fn scalars_round_trip_through_the_graph() {
        let host = Target::host();
        for scalar in crate::ctype::CANONICAL {
            let ty = CType::from_scalar(scalar);
            let expected = match scalar {
                Scalar::String => Scalar::Pointer,
                other => other,
            };
            assert_eq!(ty.to_scalar(&host), Some(expected), "{scalar:?}");
            if scalar != Scalar::Void {
                assert_eq!(ty.size(), Some(scalar.size()), "{scalar:?}");
                assert_eq!(ty.align(), Some(scalar.align()), "{scalar:?}");
            }
        }
    }

    #[test]
    fn enums_take_gcc_base_types() {
        let e = CType::new_enum(Some("color"));
        let body = EnumBody::new(vec![("RED".into(), 0), ("BLUE".into(), 2)]).unwrap();
        e.as_enum().unwrap().set_body(body).unwrap();
        assert_eq!(e.to_scalar(&Target::host()), Some(Scalar::U32));
        assert_eq!(e.as_enum().unwrap().constant("BLUE"), Some(2));
        let negative = EnumBody::new(vec![("M".into(), -1)]).unwrap();
        assert_eq!(negative.base, CType::int(IntType::Int));
        let wide = EnumBody::new(vec![("W".into(), 1 << 40)]).unwrap();
        assert_eq!(wide.base.size(), Some(8));
    }

    #[test]
    fn spellings_follow_c_declarators() {
        let int = CType::int(IntType::Int);
        let double = CType::float(FloatType::Double);
        let char = CType::int(IntType::Char);
        assert_eq!(int.to_string(), "int");
        assert_eq!(int.pointer_to().to_string(), "int *");
        assert_eq!(char.constant().pointer_to().to_string(), "const char *");
        assert_eq!(char.pointer_to().constant().to_string(), "char *const");
        assert_eq!(int.array_of(Some(4)).to_string(), "int [4]");
        assert_eq!(int.array_of(Some(4)).pointer_to().to_string(), "int (*)[4]");
        assert_eq!(int.array_of(None).to_string(), "int []");
        assert_eq!(int.array_of(Some(4)).array_len(), Some(4));
        assert_eq!(int.array_of(Some(4)).element(), Some(int));
        let table = int.array_of(Some(3)).array_of(Some(2));
        assert_eq!(table.declaration("t"), "int t[2][3]");
        assert_eq!(table.pointer_to().declaration("p"), "int (*p)[2][3]");
        let function = CType::function(FunctionType {
            result: int,
            params: vec![int, double],
            variadic: false,
            convention: CallConv::C,
        });
        assert_eq!(function.pointer_to().to_string(), "int (*)(int, double)");
        assert_eq!(function.to_string(), "int (int, double)");
        let stdcall = CType::function(FunctionType {
            result: CType::void(),
            params: vec![],
            variadic: false,
            convention: CallConv::Stdcall,
        });
        assert_eq!(stdcall.pointer_to().to_string(), "void (__stdcall *)(void)");
        let printf = CType::function(FunctionType {
            result: int,
            params: vec![char.constant().pointer_to()],
            variadic: true,
            convention: CallConv::C,
        });
        assert_eq!(printf.to_string(), "int (const char *, ...)");
        let foo = CType::new_record(RecordKind::Struct, Some("foo"));
        assert_eq!(foo.pointer_to().to_string(), "struct foo *");
    }
}
