//! Signatures, and binding a signature and an address to a Lua function.
//!
//! # For a face's author: types and value conventions
//! A [`Signature`] is a result and parameters, each a [`ValueType`]: a C type *and* how its
//! values look on the Lua side. The C types come from the face's spellings (a table of
//! names onto the type graph, `crate::ctype`); the Lua side is the face's convention, chosen
//! per parameter and result:
//!
//! | `ValueType` | C | Lua side | used by |
//! |---|---|---|---|
//! | `Scalar(t)` | a scalar | numbers, booleans; `string`: Lua strings; pointers: pointer objects | native face |
//! | `LightPointer { nil_for_null }` | `void*` | light userdata (compared by address); NULL as nil, or as a NULL light userdata | Alien |
//! | `Address` | `void*` | light userdata in and out (NULL too); in, also the integer 0 and "0x..." strings | C/Invoke's `Cptr` |
//! | `FunctionPointer` | a function pointer | in: only an object standing for a C function (a callback, a function object); out: a light userdata, NULL as nil | Alien's `callback` |
//! | `CharString { signed }` | `char` | a 1-character string | C/Invoke's `Cchar` |
//! | `Record(layout)` | a struct or union by value | a table of fields or any memory object in; a view out | native face |
//! | `Ref(t)` | `t*` to a temporary | the initial value in (nil: 0); the updated value as an extra result | native `ref`, Alien's `ref int` |
//! | `TableArray(element)` | a pointer to a temporary array | a table (nil: NULL), elements written back after the call | C/Invoke's `cinv.array` |
//! | `Nil` | `void` (results only) | nil, so that out-values come second | Alien |
//!
//! A struct layout's fields have conventions too (`crate::memory::layout::FieldType`: native,
//! `CharString`, `Address`), converted by the same element conversions as table arrays'.
//!
//! Every parameter reads nil, light userdata and any pointer object where C takes a pointer,
//! so faces share the engine's pointer objects. A convention is data: it is part of the
//! signature the code generator compiles (and of its thunk cache key), and each is
//! implemented once, in the thunk and callback-entry builders of `moonthunk-jit` and in the
//! host helpers they call (`crate::convert`, `crate::table_array`, `crate::record`). A new
//! face picks conventions; it adds none of its own marshalling.
//!
//! # The bound function
//! The Lua function is a C closure of the signature's cached thunk with four upvalues: a
//! `CallTarget` (the target address and the state's call context, read by the thunk), the
//! function's name (for error messages), a keeper value that keeps the target's library
//! loaded while the function is reachable (pointer results and pointer out-parameters keep
//! it too, as their owner), and a table of the struct definitions the helpers
//! of the call use (in order: records passed by value, the record returned by value, the
//! records of table-array elements).
//!
//! [`bind_call_metamethod`] makes the same closure for use as the `__call` metamethod of an
//! object that stands for the C function (Alien's function objects, called as `f(1, 2)`):
//! its thunk skips the object Lua passes first, at no cost for a shared thunk of scalars
//! (its loads read one slot up) and one host call elsewhere (the object is removed first).
//! Errors, results and out-parameters are those of [`bind`]'s function; a variadic
//! function's entry removes the object before it types the extra arguments.
//!
//! [`bind_pointer`] binds the function a pointer value points to, keeping what the pointer
//! keeps (the library a symbol came from). No function is bound at an address in the NULL
//! page.
//!
//! A signature that cannot be built is a [`SignatureError`]; a function that cannot be bound
//! a [`BindError`]. Their `Display` is the engine's default wording; faces render them.

use std::ffi::{c_int, c_void};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use mlua::ffi::lua_State;
use mlua::{Function, Lua, Value};
use moonthunk_jit::{ArgKind, PointerStyle, RefKind, RetKind, Signature as JitSignature};

use crate::codegen;
use crate::ctype::{Scalar, UnknownType};
use crate::library::Library;
use crate::memory::layout::StructLayout;
use crate::memory::pointer::NULL_PAGE;
use crate::state;
use crate::table_array::Element;

/// Why a signature could not be built from the types given.
#[derive(Debug)]
pub enum SignatureError {
    /// A type name that names no C type.
    UnknownType(UnknownType),
    /// `ref` of a type that has no out-parameter form (`void`, `string`), named as written.
    NotOutParameter(String),
    /// `void` among the parameters.
    VoidParameter,
    /// An out-parameter type as the result.
    RefResult(Scalar),
    /// A table array as the result.
    ArrayResult,
    /// A table array whose elements have no C array form.
    ArrayElement,
    /// A Lua value that is neither a type name nor a struct definition; its Lua type name.
    BadTypeValue(&'static str),
    /// Structs passed and returned by value of more bytes in all than a call copies on the
    /// C stack ([`MAX_BY_VALUE_BYTES`]).
    ByValueTooLarge(usize),
    /// The Lua state failed while the types were read.
    Lua(mlua::Error),
}

/// The most bytes of structs a signature passes and returns by value. A call copies each of
/// them on the C stack (twice in a thunk: the argument and the outgoing copy), in the frame
/// of whichever thread calls, so larger aggregates go by pointer.
pub const MAX_BY_VALUE_BYTES: usize = 64 * 1024;

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureError::UnknownType(unknown) => unknown.fmt(f),
            SignatureError::NotOutParameter(name) => {
                write!(f, "'ref {name}' is not an out-parameter type")
            }
            SignatureError::VoidParameter => f.write_str("'void' is not a parameter type"),
            SignatureError::RefResult(t) => write!(
                f,
                "'ref {}' is a parameter type, not a result type",
                t.name()
            ),
            SignatureError::ArrayResult => {
                f.write_str("an array is a parameter type, not a result type")
            }
            SignatureError::ArrayElement => {
                f.write_str("an array's elements must be scalars or records")
            }
            SignatureError::ByValueTooLarge(bytes) => write!(
                f,
                "structs of {bytes} bytes in all passed or returned by value, more than the \
                 {MAX_BY_VALUE_BYTES} bytes a call copies on the C stack; pass a pointer"
            ),
            SignatureError::BadTypeValue(got) => write!(
                f,
                "a type must be a type name or a struct definition, got {got}"
            ),
            SignatureError::Lua(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SignatureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SignatureError::UnknownType(unknown) => Some(unknown),
            SignatureError::Lua(e) => Some(e),
            _ => None,
        }
    }
}

impl From<UnknownType> for SignatureError {
    fn from(unknown: UnknownType) -> SignatureError {
        SignatureError::UnknownType(unknown)
    }
}

impl From<mlua::Error> for SignatureError {
    fn from(e: mlua::Error) -> SignatureError {
        SignatureError::Lua(e)
    }
}

/// Why a function could not be bound.
#[derive(Debug)]
pub enum BindError {
    /// The function's address is NULL or elsewhere in the NULL page, where no code is.
    NullPage(usize),
    /// The value given for a function pointer is none; its Lua type name.
    NotAPointer(String),
    /// The code generator failed (it could not start, or its code space is full).
    CodeGeneration(String),
    /// The Lua state failed while the function was built.
    Lua(mlua::Error),
    /// [`retype`] was given a variadic signature.
    VariadicInPlace,
    /// [`retype`] cannot replace code: this Lua build's closure layout is unknown.
    CodeNotReplaceable,
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::NullPage(0) => f.write_str("cannot call a NULL function pointer"),
            BindError::NullPage(addr) => write!(
                f,
                "cannot call address 0x{addr:x}: it is in the NULL page (below 0x{:x})",
                NULL_PAGE
            ),
            BindError::NotAPointer(got) => write!(f, "function pointer expected, got {got}"),
            BindError::CodeGeneration(message) => f.write_str(message),
            BindError::Lua(e) => e.fmt(f),
            BindError::VariadicInPlace => f.write_str("a function cannot become variadic in place"),
            BindError::CodeNotReplaceable => {
                f.write_str("this Lua build does not let a function change its signature in place")
            }
        }
    }
}

impl std::error::Error for BindError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BindError::Lua(e) => Some(e),
            _ => None,
        }
    }
}

impl From<mlua::Error> for BindError {
    fn from(e: mlua::Error) -> BindError {
        BindError::Lua(e)
    }
}

/// A type as a signature uses it: a C type and how its values look on the Lua side (the
/// value convention). The native face spells `Scalar`, `Record` and `Ref`; the other
/// conventions are there for faces whose users expect other Lua values. Each convention is
/// part of the thunk cache key, and is implemented once, by the code generator and the host
/// helpers it calls.
#[derive(Clone, Debug)]
pub enum ValueType {
    /// A scalar in the native convention: pointers as pointer objects, `char` as a number.
    Scalar(Scalar),
    /// A `void*` that Lua sees as a light userdata, NULL as nil when `nil_for_null`.
    LightPointer { nil_for_null: bool },
    /// C/Invoke's opaque pointer: a light userdata (NULL too) that Lua compares by address;
    /// a parameter also takes the integer 0 (NULL) and a hexadecimal string ("0x7f...").
    Address,
    /// A C function pointer: a parameter takes only an object that stands for a C function
    /// (never nil, data or a number); a result, or a callback's parameter, is a light
    /// userdata with NULL as nil.
    FunctionPointer,
    /// A C `char` that Lua sees as a 1-character string.
    CharString { signed: bool },
    /// A struct or union passed or returned by value.
    Record(Rc<StructLayout>),
    /// An out-parameter (`ref i32`): a pointer to a temporary holding the value.
    Ref(Scalar),
    /// A Lua table passed as a pointer to a C array of its elements (nil passes NULL), whose
    /// elements are written back into the table after the call. The element is a scalar
    /// other than `string`, a light or opaque pointer, a 1-character string or a record.
    TableArray(Rc<ValueType>),
    /// A result only: C returns nothing (`void`), Lua gets nil, so that out-values come
    /// second (`local none, n = f(0)`).
    Nil,
}

impl PartialEq for ValueType {
    fn eq(&self, other: &ValueType) -> bool {
        match (self, other) {
            (ValueType::Scalar(a), ValueType::Scalar(b))
            | (ValueType::Ref(a), ValueType::Ref(b)) => a == b,
            (
                ValueType::LightPointer { nil_for_null: a },
                ValueType::LightPointer { nil_for_null: b },
            )
            | (ValueType::CharString { signed: a }, ValueType::CharString { signed: b }) => a == b,
            (ValueType::Record(a), ValueType::Record(b)) => Rc::ptr_eq(a, b),
            (ValueType::TableArray(a), ValueType::TableArray(b)) => a == b,
            (ValueType::FunctionPointer, ValueType::FunctionPointer)
            | (ValueType::Address, ValueType::Address)
            | (ValueType::Nil, ValueType::Nil) => true,
            _ => false,
        }
    }
}

impl Eq for ValueType {}

impl Hash for ValueType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            ValueType::Scalar(t) | ValueType::Ref(t) => t.hash(state),
            ValueType::LightPointer { nil_for_null: flag }
            | ValueType::CharString { signed: flag } => flag.hash(state),
            ValueType::Record(r) => (Rc::as_ptr(r) as usize).hash(state),
            ValueType::TableArray(element) => element.hash(state),
            ValueType::FunctionPointer | ValueType::Address | ValueType::Nil => {}
        }
    }
}

impl ValueType {
    /// Parses a scalar type name or `ref <scalar>`.
    pub fn parse(name: &str) -> Result<ValueType, SignatureError> {
        match name.trim().strip_prefix("ref ") {
            Some(inner) => match Scalar::parse(inner)? {
                Scalar::Void | Scalar::String => {
                    Err(SignatureError::NotOutParameter(inner.trim().to_string()))
                }
                t => Ok(ValueType::Ref(t)),
            },
            None => Ok(ValueType::Scalar(Scalar::parse(name)?)),
        }
    }

    fn record(&self) -> Option<&Rc<StructLayout>> {
        match self {
            ValueType::Record(r) => Some(r),
            _ => None,
        }
    }

    /// The record a table array's elements are, if they are records.
    fn element_record(&self) -> Option<&Rc<StructLayout>> {
        match self {
            ValueType::TableArray(element) => element.record(),
            _ => None,
        }
    }
}

/// A C function type: result and parameter types, and whether more arguments may follow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub ret: ValueType,
    pub args: Vec<ValueType>,
    /// Declared with a trailing `...`: extra arguments are typed per call.
    pub variadic: bool,
}

impl Signature {
    /// Checks the types' places: void only as a result, `ref` and table arrays only as
    /// parameters, table arrays of elements that have a C array form.
    pub fn new(
        ret: ValueType,
        args: Vec<ValueType>,
        variadic: bool,
    ) -> Result<Signature, SignatureError> {
        if args.contains(&ValueType::Scalar(Scalar::Void)) || args.contains(&ValueType::Nil) {
            return Err(SignatureError::VoidParameter);
        }
        for arg in &args {
            if let ValueType::TableArray(element) = arg {
                if matches!(
                    **element,
                    ValueType::Scalar(Scalar::Void | Scalar::String)
                        | ValueType::Ref(_)
                        | ValueType::TableArray(_)
                        | ValueType::FunctionPointer
                        | ValueType::Nil
                ) {
                    return Err(SignatureError::ArrayElement);
                }
            }
        }
        if let ValueType::TableArray(_) = ret {
            return Err(SignatureError::ArrayResult);
        }
        if let ValueType::Ref(t) = ret {
            return Err(SignatureError::RefResult(t));
        }
        let by_value: usize = args
            .iter()
            .chain(std::iter::once(&ret))
            .filter_map(|t| t.record().map(|r| r.size))
            .sum();
        if by_value > MAX_BY_VALUE_BYTES {
            return Err(SignatureError::ByValueTooLarge(by_value));
        }
        Ok(Signature {
            ret,
            args,
            variadic,
        })
    }

    /// Parses type names; a last `...` makes the signature variadic.
    pub fn parse<'a>(
        ret: &str,
        args: impl IntoIterator<Item = &'a str>,
    ) -> Result<Signature, SignatureError> {
        let mut names: Vec<&str> = args.into_iter().collect();
        let variadic = names.last().map(|n| n.trim()) == Some("...");
        if variadic {
            names.pop();
        }
        let args = names
            .into_iter()
            .map(ValueType::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Signature::new(ValueType::parse(ret)?, args, variadic)
    }

    /// A signature from Lua values: type names, `ref` names and struct definitions; nil for
    /// the result is void; a last `"..."` makes it variadic.
    pub fn from_lua(lua: &Lua, ret: &Value, args: &[Value]) -> Result<Signature, SignatureError> {
        let variadic = matches!(args.last(), Some(Value::String(s)) if s.to_str().is_ok_and(|s| s.trim() == "..."));
        let fixed = &args[..args.len() - variadic as usize];
        let ret = match ret {
            Value::Nil => ValueType::Scalar(Scalar::Void),
            other => value_type(lua, other)?,
        };
        let args = fixed
            .iter()
            .map(|a| value_type(lua, a))
            .collect::<Result<Vec<_>, _>>()?;
        Signature::new(ret, args, variadic)
    }

    /// Whether a call may hand Lua an address (a pointer or struct result, an out-parameter,
    /// an array written back), which may point into the target's library.
    fn may_return_addresses(&self) -> bool {
        matches!(
            self.ret,
            ValueType::Scalar(Scalar::Pointer)
                | ValueType::LightPointer { .. }
                | ValueType::Address
                | ValueType::FunctionPointer
                | ValueType::Record(_)
        ) || self
            .args
            .iter()
            .any(|a| matches!(a, ValueType::Ref(_) | ValueType::TableArray(_)))
    }

    /// The struct layouts the helpers of calls need, in record order: those passed by
    /// value, the one returned by value, then the elements of table arrays.
    pub fn records(&self) -> Vec<Rc<StructLayout>> {
        let by_value = self
            .args
            .iter()
            .chain(std::iter::once(&self.ret))
            .filter_map(|t| t.record().cloned());
        let elements = self.args.iter().filter_map(|t| t.element_record().cloned());
        by_value.chain(elements).collect()
    }

    /// The signature as generated code sees it.
    pub(crate) fn lower(&self) -> JitSignature {
        let by_value = self
            .args
            .iter()
            .chain(std::iter::once(&self.ret))
            .filter(|t| t.record().is_some())
            .count();
        let mut element_records = by_value..;
        JitSignature {
            ret: match &self.ret {
                ValueType::Scalar(t) => t.ret_kind(),
                &ValueType::LightPointer { nil_for_null } => {
                    RetKind::Pointer(PointerStyle::Light { nil_for_null })
                }
                ValueType::FunctionPointer => {
                    RetKind::Pointer(PointerStyle::Light { nil_for_null: true })
                }
                ValueType::Address => RetKind::Pointer(PointerStyle::Address),
                &ValueType::CharString { signed } => RetKind::CharString { signed },
                ValueType::Record(r) => RetKind::Record(r.shape()),
                ValueType::Nil => RetKind::Nil,
                ValueType::Ref(_) | ValueType::TableArray(_) => {
                    unreachable!("rejected by Signature::new")
                }
            },
            args: self
                .args
                .iter()
                .map(|t| match t {
                    ValueType::Scalar(t) => t.arg_kind().expect("void was rejected"),
                    &ValueType::LightPointer { nil_for_null } => {
                        ArgKind::Pointer(PointerStyle::Light { nil_for_null })
                    }
                    ValueType::FunctionPointer => ArgKind::FunctionPointer,
                    ValueType::Address => ArgKind::Pointer(PointerStyle::Address),
                    &ValueType::CharString { signed } => ArgKind::CharString { signed },
                    ValueType::Record(r) => ArgKind::Record(r.shape()),
                    ValueType::Ref(t) => ArgKind::Ref(ref_kind(*t)),
                    ValueType::Nil => unreachable!("rejected by Signature::new"),
                    ValueType::TableArray(element) => {
                        let element = match **element {
                            ValueType::Scalar(t) => Element::Scalar(t),
                            ValueType::LightPointer { nil_for_null } => {
                                Element::LightPointer { nil_for_null }
                            }
                            ValueType::CharString { .. } => Element::CharString,
                            ValueType::Address => Element::Address,
                            ValueType::Record(_) => Element::Record(
                                element_records.next().expect("an open range") as c_int,
                            ),
                            ValueType::Ref(_)
                            | ValueType::TableArray(_)
                            | ValueType::FunctionPointer
                            | ValueType::Nil => {
                                unreachable!("rejected by Signature::new")
                            }
                        };
                        ArgKind::TableArray(element.code())
                    }
                })
                .collect(),
            receiver: false,
        }
    }
}

/// A type from a Lua value: a type name or a struct definition.
fn value_type(lua: &Lua, value: &Value) -> Result<ValueType, SignatureError> {
    match value {
        Value::String(name) => ValueType::parse(&name.to_string_lossy()),
        Value::UserData(_) => {
            // SAFETY: inspects the pushed value in mlua's protected raw call.
            let layout = unsafe {
                lua.exec_raw::<Option<mlua::LightUserData>>(value, |l| {
                    let layout = crate::memory::view::layout_at(l, -1);
                    mlua::ffi::lua_settop(l, 0);
                    match layout {
                        Some(p) => mlua::ffi::lua_pushlightuserdata(l, p as *mut c_void),
                        None => mlua::ffi::lua_pushnil(l),
                    }
                })?
            };
            match layout {
                // SAFETY: a definition owns one strong count of its layout, alive while the
                // definition is on the stack of the caller; take one more for the signature.
                Some(p) => unsafe {
                    let p = p.0 as *const StructLayout;
                    Rc::increment_strong_count(p);
                    Ok(ValueType::Record(Rc::from_raw(p)))
                },
                None => Err(SignatureError::BadTypeValue("userdata")),
            }
        }
        other => Err(SignatureError::BadTypeValue(other.type_name())),
    }
}

/// The out-parameter kind of a scalar type.
pub fn ref_kind(t: Scalar) -> RefKind {
    match t.arg_kind() {
        Some(ArgKind::Bool) => RefKind::Bool,
        Some(ArgKind::Int(int)) => RefKind::Int(int),
        Some(ArgKind::F32) => RefKind::F32,
        Some(ArgKind::F64) => RefKind::F64,
        _ => RefKind::Pointer,
    }
}

/// How a bound function's thunk is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thunking {
    /// The signature's shared thunk, from the cache: binding costs a hash lookup.
    Shared,
    /// A thunk compiled for this one function (its `CallTarget` baked in): binding compiles,
    /// calls are cheaper.
    Specialized,
    /// Nothing compiled at binding: the shared thunk from the first call, the specialized
    /// one once the function is hot (see `crate::tier`). What faces bind declared functions
    /// with.
    Tiered,
}

/// Makes a Lua function that calls `target` with signature `sig`. Variadic signatures always
/// use shared thunks, one per call shape. A target in the NULL page is refused.
///
/// # Safety
/// `target` must be a C function of that signature for as long as `keeper` is alive: a wrong
/// declaration is the one thing that can crash the process.
pub unsafe fn bind(
    lua: &Lua,
    name: &str,
    target: *mut c_void,
    sig: &Signature,
    keeper: Value,
    thunking: Thunking,
) -> Result<Function, BindError> {
    // SAFETY: the caller's contract.
    unsafe { bind_as(lua, name, target, sig, keeper, thunking, false) }
}

/// Makes a function to install as the `__call` metamethod of objects that stand for the C
/// function `target` (Alien's function objects): Lua calls it with the object before the
/// arguments, and the thunk skips that receiver, so that the call is what [`bind`]'s function
/// makes of the arguments (results, out-parameters, argument numbers and counts in errors),
/// with no frame added. The receiver is not kept alive by the call: what the call needs must
/// be in `keeper`, as for [`bind`]. Uses the signature's shared thunk.
///
/// # Safety
/// As [`bind`].
pub unsafe fn bind_call_metamethod(
    lua: &Lua,
    name: &str,
    target: *mut c_void,
    sig: &Signature,
    keeper: Value,
) -> Result<Function, BindError> {
    // SAFETY: the caller's contract.
    unsafe { bind_as(lua, name, target, sig, keeper, Thunking::Shared, true) }
}

/// [`bind`], or [`bind_call_metamethod`] with `receiver`.
unsafe fn bind_as(
    lua: &Lua,
    name: &str,
    target: *mut c_void,
    sig: &Signature,
    keeper: Value,
    thunking: Thunking,
    receiver: bool,
) -> Result<Function, BindError> {
    if (target as usize) < NULL_PAGE {
        return Err(BindError::NullPage(target as usize));
    }
    keep_library_for(sig, &keeper);
    if sig.variadic {
        return bind_variadic(lua, name, target, sig, keeper, receiver);
    }
    let context = state::context(lua)?;
    let lowered = JitSignature {
        receiver,
        ..sig.lower()
    };
    // A specialized thunk has its `CallTarget`'s address baked in: made first, then; else it
    // is made with the closure, in one raw call.
    let call_target = match thunking {
        Thunking::Specialized => Some(
            // SAFETY: pushes one new userdata in mlua's protected raw call.
            unsafe { lua.exec_raw::<Value>((), |l| state::push_call_target(l, target, context))? },
        ),
        Thunking::Shared | Thunking::Tiered => None,
    };
    let code = compile(
        &lowered,
        thunking,
        call_target.as_ref().map_or(0, |t| t.to_pointer() as usize),
    )?;
    let records = sig.records();
    // SAFETY: `code` is for this signature (and, when specialized, for this `CallTarget`,
    // which the closure keeps alive as upvalue 1), or the tier entry with its tier block;
    // the closure is built from values mlua pushed, in its protected raw call.
    unsafe {
        Ok(lua.exec_raw::<Function>((call_target, name, keeper), |l| {
            if mlua::ffi::lua_type(l, 1) == mlua::ffi::LUA_TNIL {
                state::push_call_target(l, target, context);
                mlua::ffi::lua_replace(l, 1);
            }
            crate::record::push_definitions(l, &records);
            let code = match code {
                Some(code) => {
                    mlua::ffi::lua_pushnil(l);
                    code
                }
                None => crate::tier::push_tier(l, &lowered),
            };
            mlua::ffi::lua_pushcclosure(l, code, crate::tier::TIER_UPVALUE);
        })?)
    }
}

/// The thunk of `lowered` for `thunking`: the signature's shared one, or one specialized for
/// the `CallTarget` at `call_target`; `None` for a tiered function, which compiles nothing
/// until it is called.
fn compile(
    lowered: &JitSignature,
    thunking: Thunking,
    call_target: usize,
) -> Result<Option<mlua::ffi::lua_CFunction>, BindError> {
    let thunk = match thunking {
        Thunking::Tiered => return Ok(None),
        Thunking::Shared => codegen::jit().and_then(|mut jit| jit.thunk(lowered)),
        Thunking::Specialized => {
            codegen::jit().and_then(|mut jit| jit.specialized_thunk(lowered, call_target))
        }
    }
    .map_err(BindError::CodeGeneration)?;
    // SAFETY: a finalized thunk is a `lua_CFunction`.
    Ok(Some(unsafe {
        std::mem::transmute::<*const u8, mlua::ffi::lua_CFunction>(thunk.code)
    }))
}

/// Keeps the library of `keeper` (the keeper of a function with signature `sig`) loaded
/// for the rest of the process when a call may hand Lua an address, which may point into
/// the library and is not tracked. A face whose functions keep their library indirectly
/// calls it with the library's keeper.
pub fn keep_library_for(sig: &Signature, keeper: &Value) {
    if sig.may_return_addresses() {
        if let Value::UserData(keeper) = keeper {
            if let Ok(library) = keeper.borrow::<Rc<Library>>() {
                library.pin();
            }
        }
    }
}

/// Gives the function `f`, made by [`bind`], the signature `sig` in place: its code becomes
/// the thunk of `sig` (shared, or specialized for its target) and its struct definitions
/// those of `sig`, while the Lua value stays the same one (Alien's `f:types(...)`). Its
/// target, name and keeper stay. The keeper's library is not pinned here: see
/// [`keep_library_for`].
///
/// # Safety
/// `f` was made by [`bind`] or by this function, with a signature that is not variadic, and
/// its target is a C function of signature `sig` for as long as its keeper is alive.
pub unsafe fn retype(
    lua: &Lua,
    f: &Function,
    sig: &Signature,
    thunking: Thunking,
) -> Result<(), BindError> {
    if sig.variadic {
        return Err(BindError::VariadicInPlace);
    }
    let call_target = match thunking {
        // SAFETY: reads upvalue 1 of the pushed closure in mlua's protected raw call.
        Thunking::Specialized => unsafe {
            lua.exec_raw::<mlua::LightUserData>(f, |l| {
                mlua::ffi::lua_getupvalue(l, 1, 1);
                mlua::ffi::lua_pushlightuserdata(l, mlua::ffi::lua_touserdata(l, -1));
                mlua::ffi::lua_replace(l, 1);
                mlua::ffi::lua_settop(l, 1);
            })?
            .0 as usize
        },
        Thunking::Shared | Thunking::Tiered => 0,
    };
    let lowered = sig.lower();
    let code = compile(&lowered, thunking, call_target)?;
    let records = sig.records();
    // SAFETY: `code` is the thunk of `sig` for this closure's `CallTarget` (upvalue 1), or
    // the tier entry with a new tier block; the closure's upvalues stay those of a bound
    // function, and the records and tier are replaced only with the code.
    let replaced = unsafe {
        lua.exec_raw::<bool>(f, |l| {
            let code = match code {
                Some(code) => {
                    mlua::ffi::lua_pushnil(l);
                    code
                }
                None => crate::tier::push_tier(l, &lowered),
            };
            let replaced = crate::closure::replace_code(l, 1, code);
            if replaced {
                mlua::ffi::lua_setupvalue(l, 1, crate::tier::TIER_UPVALUE);
                crate::record::push_definitions(l, &records);
                mlua::ffi::lua_setupvalue(l, 1, RECORDS_UPVALUE);
            }
            mlua::ffi::lua_settop(l, 0);
            mlua::ffi::lua_pushboolean(l, replaced as c_int);
        })?
    };
    if replaced {
        Ok(())
    } else {
        Err(BindError::CodeNotReplaceable)
    }
}

/// The thunk the bound function `f` runs, as an address: its code, or, while a tiered
/// function runs on its signature's shared thunk, that thunk (compiled now if it was not);
/// `None` for a function that is not a C function.
pub fn thunk_of(lua: &Lua, f: &Function) -> mlua::Result<Option<usize>> {
    // SAFETY: inspects the pushed function in mlua's protected raw call; a C function whose
    // code is the tier entry was made tiered by `bind_as` or `retype`.
    let code = unsafe {
        lua.exec_raw::<mlua::Value>(f, |l| {
            let code = crate::tier::running_thunk(l, 1);
            mlua::ffi::lua_settop(l, 0);
            match code {
                Ok(Some(code)) => mlua::ffi::lua_pushinteger(l, code as mlua::Integer),
                Ok(None) => mlua::ffi::lua_pushnil(l),
                Err(message) => {
                    mlua::ffi::lua_pushlstring(l, message.as_ptr().cast(), message.len());
                }
            }
        })?
    };
    match code {
        mlua::Value::Integer(code) => Ok(Some(code as usize)),
        mlua::Value::String(message) => Err(mlua::Error::runtime(message.to_str()?.to_string())),
        _ => Ok(None),
    }
}

/// The upvalue of a bound function that holds its name (for messages).
pub const NAME_UPVALUE: c_int = 2;

/// The upvalue of a bound function that keeps its target loaded (its keeper).
pub use crate::memory::pointer::KEEPER_UPVALUE;

/// The upvalue of a bound function that holds its struct definitions.
const RECORDS_UPVALUE: c_int = 4;

/// Makes a Lua function that calls the C function `ptr` points to (nil, a light userdata or
/// any pointer object) with signature `sig`, named after its address. The function keeps
/// alive what the pointer object keeps (its owner: the library a symbol came from), so that
/// the code stays mapped while the function is reachable.
///
/// # Safety
/// As [`bind`]: `ptr` must point to a C function of that signature.
pub unsafe fn bind_pointer(
    lua: &Lua,
    ptr: &Value,
    sig: &Signature,
    thunking: Thunking,
) -> Result<Function, BindError> {
    let Some(addr) = crate::convert::address_of(lua, ptr.clone())? else {
        return Err(BindError::NotAPointer(crate::convert::lua_type_name(
            lua, ptr,
        )?));
    };
    let keeper = crate::convert::owner_of(lua, ptr)?;
    // SAFETY: the caller vouches for the signature.
    unsafe {
        bind(
            lua,
            &format!("function at 0x{addr:x}"),
            addr as *mut c_void,
            sig,
            keeper,
            thunking,
        )
    }
}

/// A variadic function: a C closure of [`variadic_call`] with the upvalues of a thunk (its
/// `CallTarget` calls the variadic trampoline) plus the index of its fixed signature. With
/// `receiver`, a `__call` metamethod (see [`bind_call_metamethod`]).
unsafe fn bind_variadic(
    lua: &Lua,
    name: &str,
    target: *mut c_void,
    sig: &Signature,
    keeper: Value,
    receiver: bool,
) -> Result<Function, BindError> {
    let context = state::context(lua)?;
    let trampoline = codegen::jit()
        .and_then(|mut jit| jit.variadic_target(target as usize))
        .map_err(BindError::CodeGeneration)?;
    let fixed = sig.lower();
    let index = codegen::intern_signature(&fixed);
    let records = sig.records();
    // SAFETY: builds the closure from values mlua pushed, in its protected raw call.
    unsafe {
        Ok(lua.exec_raw::<Function>((name, keeper), |l| {
            state::push_call_target(l, trampoline as *const c_void, context);
            mlua::ffi::lua_rotate(l, -3, 1);
            crate::record::push_definitions(l, &records);
            mlua::ffi::lua_pushinteger(l, index as mlua::ffi::lua_Integer);
            let last =
                crate::lua_version::new_userdata(l, size_of::<LastShape>(), 0) as *mut LastShape;
            last.write(LastShape {
                receiver,
                fixed: fixed.args.len(),
                len: usize::MAX,
                codes: [0; LastShape::MAX],
                code: None,
            });
            mlua::ffi::lua_pushcclosure(l, variadic_call, 6);
        })?)
    }
}

/// How an extra argument of a variadic call travels, from its Lua value (C's default
/// argument promotions: integers as `long`, floats as `double`, booleans as `int`), as a
/// small code (see [`promoted_kind`]).
unsafe fn promoted(l: *mut lua_State, arg: c_int) -> Result<u8, String> {
    Ok(match mlua::ffi::lua_type(l, arg) {
        mlua::ffi::LUA_TNUMBER if mlua::ffi::lua_isinteger(l, arg) != 0 => 0,
        mlua::ffi::LUA_TNUMBER => 1,
        mlua::ffi::LUA_TSTRING => 2,
        mlua::ffi::LUA_TBOOLEAN => 3,
        mlua::ffi::LUA_TNIL | mlua::ffi::LUA_TLIGHTUSERDATA => 4,
        mlua::ffi::LUA_TUSERDATA if crate::memory::view::is_view(l, arg) => {
            return Err(
                "a struct cannot be passed by value to a variadic function; pass its address"
                    .to_string(),
            )
        }
        mlua::ffi::LUA_TUSERDATA => 4,
        other => {
            let name = std::ffi::CStr::from_ptr(mlua::ffi::lua_typename(l, other));
            return Err(format!(
                "a {} cannot be passed to a variadic function",
                name.to_string_lossy()
            ));
        }
    })
}

/// The parameter kind of a promotion code.
fn promoted_kind(code: u8) -> ArgKind {
    match code {
        0 => ArgKind::Int(moonthunk_jit::IntKind {
            bits: 64,
            signed: true,
        }),
        1 => ArgKind::F64,
        2 => ArgKind::String,
        3 => ArgKind::Bool,
        _ => ArgKind::Pointer(PointerStyle::Object),
    }
}

/// Upvalue 6 of a variadic function: the last call shape and its thunk, so that a loop
/// calling with one shape skips the lock and the cache lookup.
#[repr(C)]
struct LastShape {
    /// The function is a `__call` metamethod: its entry removes the receiver, so that the
    /// call shapes and their thunks are a plain function's.
    receiver: bool,
    /// The number of fixed parameters.
    fixed: usize,
    len: usize,
    codes: [u8; LastShape::MAX],
    code: Option<mlua::ffi::lua_CFunction>,
}

impl LastShape {
    const MAX: usize = 32;
}

/// The Lua entry of a variadic function: types the extra arguments of this call, takes the
/// thunk of the whole call shape from the cache (compiling it the first time) and runs it.
unsafe extern "C-unwind" fn variadic_call(l: *mut lua_State) -> c_int {
    let index = mlua::ffi::lua_tointegerx(l, mlua::ffi::lua_upvalueindex(5), std::ptr::null_mut());
    let last =
        &mut *(mlua::ffi::lua_touserdata(l, mlua::ffi::lua_upvalueindex(6)) as *mut LastShape);
    if last.receiver {
        crate::convert::remove_receiver(l);
    }
    let fixed = last.fixed;
    let top = mlua::ffi::lua_gettop(l);
    let mut codes = [0u8; LastShape::MAX];
    let mut len = 0;
    let mut problem = None;
    for arg in fixed as c_int + 1..=top {
        match promoted(l, arg) {
            Ok(code) if len < LastShape::MAX => {
                codes[len] = code;
                len += 1;
            }
            Ok(_) => {
                problem = Some((arg, format!("more than {} extra arguments", LastShape::MAX)));
                break;
            }
            Err(message) => {
                problem = Some((arg, message));
                break;
            }
        }
    }
    if problem.is_none() && last.len == len && last.codes[..len] == codes[..len] {
        if let Some(code) = last.code {
            return code(l);
        }
    }
    let thunk = match problem {
        Some((arg, message)) => {
            let name = crate::convert::function_name(l);
            let name = std::ffi::CStr::from_ptr(name).to_string_lossy();
            Err(format!("bad argument #{arg} to '{name}' ({message})"))
        }
        None => {
            let mut sig = codegen::interned_signature(index as u32);
            sig.args
                .extend(codes[..len].iter().map(|&c| promoted_kind(c)));
            codegen::jit().and_then(|mut jit| jit.thunk(&sig))
        }
    };
    match thunk {
        Ok(thunk) => {
            let code: mlua::ffi::lua_CFunction = std::mem::transmute(thunk.code);
            last.len = len;
            last.codes = codes;
            last.code = Some(code);
            code(l)
        }
        Err(message) => crate::lua_error::raise(l, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(ret: &str, args: &[&str]) -> SignatureError {
        Signature::parse(ret, args.iter().copied()).unwrap_err()
    }

    #[test]
    fn type_names_out_of_place_are_refused_by_variant() {
        let err = parse_error("i32", &["i32", "nope"]);
        assert!(
            matches!(&err, SignatureError::UnknownType(UnknownType(name)) if name == "nope"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "unknown C type 'nope'");

        let err = parse_error("void", &[" ref  string"]);
        assert!(matches!(&err, SignatureError::NotOutParameter(name) if name == "string"));
        assert_eq!(err.to_string(), "'ref string' is not an out-parameter type");

        let err = parse_error("i32", &["void"]);
        assert!(matches!(err, SignatureError::VoidParameter));
        assert_eq!(err.to_string(), "'void' is not a parameter type");

        let err = parse_error("ref int", &[]);
        assert!(matches!(err, SignatureError::RefResult(Scalar::I32)));
        assert_eq!(
            err.to_string(),
            "'ref i32' is a parameter type, not a result type"
        );
    }

    /// The receiver of a `__call` thunk that reads its scalars in one batch costs nothing at
    /// call time: the same instructions, loads one slot up, another normalizing helper.
    #[test]
    fn a_batched_call_metamethod_thunk_is_the_plain_one_one_slot_up() {
        if crate::stack_layout::checked().is_none() {
            return;
        }
        let plain = Signature::parse("i32", ["i32", "f64", "string", "pointer"])
            .unwrap()
            .lower();
        let receiver = JitSignature {
            receiver: true,
            ..plain.clone()
        };
        let mut jit = codegen::jit().unwrap();
        let (plain, receiver) = (jit.thunk_ir(&plain), jit.thunk_ir(&receiver));
        assert_eq!(plain.lines().count(), receiver.lines().count());
    }

    #[test]
    fn lua_values_that_are_not_types_are_named() {
        let lua = Lua::new();
        let err = Signature::from_lua(&lua, &Value::Boolean(true), &[]).unwrap_err();
        assert!(matches!(err, SignatureError::BadTypeValue("boolean")));
        assert_eq!(
            err.to_string(),
            "a type must be a type name or a struct definition, got boolean"
        );
        let sig = Signature::from_lua(
            &lua,
            &Value::Nil,
            &[Value::String(lua.create_string("...").unwrap())],
        )
        .unwrap();
        assert!(sig.variadic && sig.args.is_empty());
    }
}
