//! The C type model: one graph of C types that every face maps its spellings onto.
//!
//! # Nodes
//! A [`CType`] is a handle to a node of the graph: `Copy`, pointer-sized, compared and
//! hashed by address. Nodes are leaked and live for the process, so handles can be stored
//! anywhere (signatures, caches, userdata) without lifetimes. What a node is, its [`Kind`]:
//! `void`, `_Bool`, the integer types ([`IntType`]: plain/signed/unsigned `char`, `short`,
//! `int`, `long`, `long long`, the exact-width and the pointer-sized typedefs), `float`,
//! `double`, `long double`, pointers, qualified types, arrays (`T[n]`, and `T[]` as a
//! flexible array member), records, enums and function types.
//!
//! # Interning
//! Structural types are interned process-wide (a locked map from the kind to its node):
//! building `const char *` twice gives the same handle, so type equality is `==`. Build
//! them with [`CType::int`], [`CType::pointer_to`], [`CType::array_of`],
//! [`CType::qualified`], [`CType::function`]...
//!
//! # Records and enums are nominal
//! [`CType::new_record`] and [`CType::new_enum`] make a new type on every call, as each
//! `struct` declaration in C does: two records with the same fields are different types. A
//! record starts incomplete (`struct foo;`: pointers to it can be made, its size is `None`)
//! and is completed once with [`RecordType::set_body`]; an enum with [`EnumType::set_body`].
//! A face keeps its own table from tags to these handles; the graph has no namespace.
//!
//! # Qualifiers
//! `const` and `volatile` wrap a type in one `Qualified` node (never nested, never empty):
//! `CType::int(IntType::Char).constant().pointer_to()` is `const char *`, and
//! `...pointer_to().constant()` is `char *const`. [`CType::unqualified`] strips them; sizes,
//! values and layouts look through them.
//!
//! # How a face maps its spellings
//! A face is a table from its type names to graph types, e.g. for the native face's `i32`,
//! `pointer` and `string`, [`CType::from_scalar`] of each [`Scalar`]; for a C declaration
//! parser, `"unsigned long"` → `CType::int(IntType::ULong)`, `"struct foo"` → the handle its
//! tag table holds. Going back, [`CType::to_scalar`] gives the value kind a type is
//! converted as, and `Display` (or [`CType::declaration`]) spells a type in C for messages:
//! `int`, `struct foo`, `const char *`, `int [4]`, `int (*)(int, double)`.
//!
//! # Sizes depend on the target
//! Sizes, alignments, record layouts and value kinds are functions of a [`Target`] (the
//! data model: `long` is 8 bytes on LP64 Linux and macOS, 4 on Windows; plain `char` is
//! unsigned on AArch64 Linux...). [`CType::size_on`], [`CType::align_on`],
//! [`RecordType::layout`] take one; [`CType::size`], [`CType::align`] and
//! [`RecordType::host_layout`] are the host's, and a record keeps its host layout once
//! computed. Record layout is computed in one place only, the `layout` module, which also
//! gives the code generator its view of a record, [`CType::shape`].
//!
//! [`Scalar`] is the kind of a single value: how it is loaded, stored, read from Lua and
//! pushed back. [`Scalar::parse`] resolves the native spellings; a name it does not know is
//! an [`UnknownType`], which each face words as it likes.

mod graph;
mod layout;
mod scalar;
mod target;

pub use graph::{
    CType, CallConv, EnumBody, EnumType, Field, FieldLayout, FloatType, FunctionType, IntType,
    Kind, Qualifiers, RecordBody, RecordKind, RecordLayout, RecordType,
};
pub use scalar::{Scalar, UnknownType, ALIASES, CANONICAL};
pub use target::{RecordRules, SizeAlign, Target};
