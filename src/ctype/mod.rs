//! The C type model: one graph of C types that every face maps its spellings onto.
//!
//! [`Scalar`] is the kind of a single value: how it is loaded, stored, read from Lua and
//! pushed back.

mod graph;
mod layout;
mod scalar;
mod target;

pub use graph::{
    CType, CallConv, EnumBody, EnumType, Field, FloatType, FunctionType, IntType, Kind, Qualifiers,
    RecordBody, RecordKind, RecordType,
};
pub use layout::{FieldLayout, RecordLayout};
pub use scalar::{Scalar, ALIASES, CANONICAL};
pub use target::{RecordRules, SizeAlign, Target};
