//! Signatures as the code generator sees them: how each argument is read from Lua and
//! passed to C, and how the result goes back. Type names and aliases are resolved before this
//! point; two spellings of one C type give the same `Signature`, and so share a thunk.

/// A C integer of a given width and signedness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IntKind {
    /// Width in bits: 8, 16, 32 or 64.
    pub bits: u8,
    pub signed: bool,
}

/// How one parameter is taken from the Lua stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// A Lua boolean (nil reads as false), passed as a C `bool`.
    Bool,
    /// A Lua integer, or a float with an integral value, truncated to the width like a C cast.
    Int(IntKind),
    F32,
    F64,
    /// A Lua string (valid for the call), nil, or any pointer object; passed as `const char*`.
    String,
    /// nil, light userdata or any pointer object; passed as `void*`.
    Pointer,
}

/// How the C result is pushed back to Lua.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetKind {
    Void,
    Bool,
    Int(IntKind),
    F32,
    F64,
    /// A NUL-terminated string copied into a Lua string; NULL gives nil.
    String,
    /// A pointer object made by the host's `push_pointer` helper.
    Pointer,
}

/// A C function signature, the key of the thunk cache.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub ret: RetKind,
    pub args: Vec<ArgKind>,
}

/// What a parameter expected, as reported by the host's `arg_error` helper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Expected {
    Boolean = 0,
    Integer = 1,
    Number = 2,
    String = 3,
    Pointer = 4,
}

impl Expected {
    /// The value generated code passes in a register.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The inverse of [`Expected::code`]; unknown codes read as `Pointer`.
    pub fn from_code(code: i32) -> Expected {
        match code {
            0 => Expected::Boolean,
            1 => Expected::Integer,
            2 => Expected::Number,
            3 => Expected::String,
            _ => Expected::Pointer,
        }
    }

    /// The Lua type name used in "... expected, got ..." messages.
    pub fn type_name(self) -> &'static std::ffi::CStr {
        match self {
            Expected::Boolean => c"boolean",
            Expected::Integer | Expected::Number => c"number",
            Expected::String => c"string",
            Expected::Pointer => c"pointer",
        }
    }
}

impl ArgKind {
    /// What a Lua value must be to be accepted for this parameter.
    pub fn expected(self) -> Expected {
        match self {
            ArgKind::Bool => Expected::Boolean,
            ArgKind::Int(_) => Expected::Integer,
            ArgKind::F32 | ArgKind::F64 => Expected::Number,
            ArgKind::String => Expected::String,
            ArgKind::Pointer => Expected::Pointer,
        }
    }
}
