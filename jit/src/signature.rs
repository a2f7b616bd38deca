//! Signatures as the code generator sees them: how each argument is read from Lua and
//! passed to C, and how the result goes back. Type names and aliases are resolved before this
//! point; two spellings of one C type give the same `Signature`, and so share a thunk.

pub use crate::abi::Shape;

/// A C integer of a given width and signedness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IntKind {
    /// Width in bits: 8, 16, 32 or 64.
    pub bits: u8,
    pub signed: bool,
}

/// The scalar behind an out-parameter (`ref i32`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefKind {
    Bool,
    Int(IntKind),
    F32,
    F64,
    Pointer,
}

/// How a pointer looks on the Lua side. Every style reads the same values (nil, light
/// userdata, the host's pointer objects); the style decides what is pushed for a pointer
/// result, or for a pointer argument of a callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointerStyle {
    /// An object made by the host's `push_pointer` helper (the native face).
    Object,
    /// A light userdata, which Lua compares by address; NULL is nil when `nil_for_null`.
    Light { nil_for_null: bool },
    /// C/Invoke's opaque `Cptr`: a light userdata (NULL too); a parameter also takes the
    /// integer 0 (NULL) and a hexadecimal string ("0x7f.."), read by the host's `address_arg`.
    Address,
}

/// How one parameter is taken from the Lua stack.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
    Pointer(PointerStyle),
    /// A C function pointer: only an object that stands for a C function (a callback, a
    /// function object), read by the host's `function_arg`; nil and every other pointer are
    /// refused, so that C never calls NULL or data. A callback gets a light userdata (nil for
    /// NULL).
    FunctionPointer,
    /// A C `char` (signed or not) whose Lua value is a 1-character string, read by the host's
    /// `char_arg`.
    CharString {
        signed: bool,
    },
    /// A Lua table passed as a pointer to a temporary C array (nil passes NULL): the host's
    /// `table_array_arg` converts the elements, and `table_array_writeback` stores them back
    /// into the table after the call. The code is the host's, passed through unread.
    TableArray(i32),
    /// A struct or union by value: the host's `record_arg` copies a view or a table of
    /// fields into a temporary, which is passed as the ABI says.
    Record(Shape),
    /// An out-parameter: the host's `ref_arg` stores the initial value in a temporary whose
    /// address is passed; after the call `push_ref` returns the updated value as an extra
    /// result.
    Ref(RefKind),
}

/// How the C result is pushed back to Lua.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RetKind {
    Void,
    /// No C result, and nil for Lua, so that out-values come second (Alien's void results).
    Nil,
    Bool,
    Int(IntKind),
    F32,
    F64,
    /// A NUL-terminated string copied into a Lua string; NULL gives nil.
    String,
    Pointer(PointerStyle),
    /// A C `char` pushed as a 1-character string by the host's `push_char`.
    CharString {
        signed: bool,
    },
    /// A struct or union by value, pushed by the host's `push_record` as a view over fresh
    /// managed memory.
    Record(Shape),
}

/// A C function signature, the key of the thunk cache.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub ret: RetKind,
    pub args: Vec<ArgKind>,
    /// The thunk is a `__call` metamethod: Lua passes the called object (the receiver) before
    /// the arguments, and the thunk skips it, so that argument numbers, counts and results
    /// are those of a plain call. Callback code ignores it.
    pub receiver: bool,
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
    Table = 5,
    Function = 6,
    /// A pointer that may also be written as the integer 0 or a hexadecimal string.
    Address = 7,
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
            5 => Expected::Table,
            6 => Expected::Function,
            7 => Expected::Address,
            _ => Expected::Pointer,
        }
    }

    /// The Lua type name used in "... expected, got ..." messages.
    pub fn type_name(self) -> &'static std::ffi::CStr {
        match self {
            Expected::Boolean => c"boolean",
            Expected::Integer | Expected::Number => c"number",
            Expected::String => c"string",
            Expected::Pointer | Expected::Address => c"pointer",
            Expected::Table => c"table",
            Expected::Function => c"function pointer",
        }
    }
}

impl ArgKind {
    /// What a Lua value must be to be accepted for this parameter.
    pub fn expected(&self) -> Expected {
        match self {
            ArgKind::Bool => Expected::Boolean,
            ArgKind::Int(_) => Expected::Integer,
            ArgKind::F32 | ArgKind::F64 => Expected::Number,
            ArgKind::String | ArgKind::CharString { .. } => Expected::String,
            ArgKind::TableArray(_) => Expected::Table,
            ArgKind::FunctionPointer => Expected::Function,
            ArgKind::Pointer(PointerStyle::Address) => Expected::Address,
            ArgKind::Pointer(_) | ArgKind::Record(_) | ArgKind::Ref(_) => Expected::Pointer,
        }
    }
}

impl RefKind {
    /// The code passed to the host's `ref_arg` and `push_ref` helpers.
    pub fn code(self) -> i32 {
        match self {
            RefKind::Bool => 0,
            RefKind::Int(IntKind { bits, signed }) => 16 * bits as i32 + signed as i32,
            RefKind::F32 => 1,
            RefKind::F64 => 2,
            RefKind::Pointer => 3,
        }
    }

    /// The inverse of [`RefKind::code`].
    pub fn from_code(code: i32) -> RefKind {
        match code {
            0 => RefKind::Bool,
            1 => RefKind::F32,
            2 => RefKind::F64,
            3 => RefKind::Pointer,
            c => RefKind::Int(IntKind {
                bits: (c / 16) as u8,
                signed: c % 16 == 1,
            }),
        }
    }
}
