//! Binding a C signature and an address to a Lua function.
//!
//! The Lua function is a C closure of the signature's cached thunk with three upvalues: a
//! `CallTarget` (the target address and the state's call context, read by the thunk), the
//! function's name (for error messages) and a keeper value that keeps the target's library
//! loaded while the function is reachable.

use std::ffi::c_void;

use mlua::{Function, Lua, Value};
use moonthunk_jit::Signature as JitSignature;

use crate::codegen;
use crate::ctype::CType;
use crate::state;

/// A C function type: result and parameter types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    pub ret: CType,
    pub args: Vec<CType>,
}

impl Signature {
    /// Parses a result type name and a list of parameter type names.
    pub fn parse<'a>(
        ret: &str,
        args: impl IntoIterator<Item = &'a str>,
    ) -> Result<Signature, String> {
        let ret = CType::parse(ret)?;
        let args = args
            .into_iter()
            .map(|name| {
                let t = CType::parse(name)?;
                match t {
                    CType::Void => Err("'void' is not a parameter type".to_string()),
                    t => Ok(t),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Signature { ret, args })
    }

    /// The signature as generated code sees it.
    pub(crate) fn lower(&self) -> JitSignature {
        JitSignature {
            ret: self.ret.ret_kind(),
            args: self
                .args
                .iter()
                .map(|t| t.arg_kind().expect("void was rejected by parse"))
                .collect(),
        }
    }
}

/// Makes a Lua function that calls `target` with signature `sig`.
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
) -> mlua::Result<Function> {
    let context = state::context(lua)?;
    let thunk = codegen::jit()
        .and_then(|mut jit| jit.thunk(&sig.lower()))
        .map_err(mlua::Error::runtime)?;
    // SAFETY: `thunk.code` is a finalized `lua_CFunction` for this signature; the closure is
    // built from values mlua pushed, in its protected raw call.
    unsafe {
        let code: mlua::ffi::lua_CFunction = std::mem::transmute(thunk.code);
        lua.exec_raw::<Function>((name, keeper), |l| {
            state::push_call_target(l, target, context);
            mlua::ffi::lua_rotate(l, -3, 1);
            mlua::ffi::lua_pushcclosure(l, code, 3);
        })
    }
}
