//! The Alien face: `require("alien")` and `require("alien.struct")`, compatible with Alien 0.4.1 to 0.7.1.

pub(crate) mod struct_format;
