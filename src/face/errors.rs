//! How the faces word the engine's typed errors: [`Render`] turns each into the Lua error a
//! face raises. The engine's default wording (its `Display`) is every face's wording, unless
//! a variant is matched here.

use crate::callback;
use crate::ctype::UnknownType;
use crate::function::{BindError, SignatureError};
use crate::library;

/// An engine error as a face raises it in Lua.
pub(crate) trait Render {
    /// The Lua error, in the faces' words.
    fn render(self) -> mlua::Error;
}

impl Render for UnknownType {
    fn render(self) -> mlua::Error {
        mlua::Error::runtime(self.to_string())
    }
}

impl Render for library::Error {
    fn render(self) -> mlua::Error {
        mlua::Error::runtime(self.to_string())
    }
}

impl Render for SignatureError {
    fn render(self) -> mlua::Error {
        match self {
            SignatureError::Lua(e) => e,
            other => mlua::Error::runtime(other.to_string()),
        }
    }
}

impl Render for BindError {
    fn render(self) -> mlua::Error {
        match self {
            BindError::Lua(e) => e,
            other => mlua::Error::runtime(other.to_string()),
        }
    }
}

impl Render for callback::Error {
    fn render(self) -> mlua::Error {
        match self {
            callback::Error::Lua(e) => e,
            other => mlua::Error::runtime(other.to_string()),
        }
    }
}
