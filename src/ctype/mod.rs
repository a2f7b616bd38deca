//! The C type model.
//!
//! [`Scalar`] is the kind of a single value: how it is loaded, stored, read from Lua and
//! pushed back.

mod scalar;

pub use scalar::{Scalar, ALIASES, CANONICAL};
