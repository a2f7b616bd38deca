//! C ABI classification of aggregates.
//!
//! Cranelift passes scalars by itself but knows nothing of C structs and unions: the project
//! classifies them and lowers each to Cranelift parameters. An aggregate is described by its
//! [`Shape`] (size, alignment and its scalar leaves at their offsets, nested records and arrays
//! flattened, union members overlapping); an ABI turns a whole signature into a
//! [`FunctionLowering`] that says, for each parameter and the result, how the bytes travel.
//!
//! One file per ABI: [`sysv_x64`] (x86-64 System V: Linux, macOS, BSDs; tested on hardware),
//! [`aapcs64`] (AArch64) and [`win64`] (Windows x64), the last two written from their
//! specifications and tested by their own unit tests only.

pub mod aapcs64;
pub mod sysv_x64;
pub mod win64;

use cranelift_codegen::ir::{types, Type};

/// A scalar leaf of an aggregate, as the classifiers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// An integer or pointer of this many bytes (1, 2, 4 or 8).
    Int(u8),
    F32,
    F64,
}

impl Leaf {
    pub fn size(self) -> u32 {
        match self {
            Leaf::Int(n) => n as u32,
            Leaf::F32 => 4,
            Leaf::F64 => 8,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Leaf::F32 | Leaf::F64)
    }
}

/// The memory shape of a struct or union.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    pub size: u32,
    pub align: u32,
    /// Every scalar leaf with its byte offset, in offset order (unions repeat offsets).
    pub leaves: Vec<(u32, Leaf)>,
}

/// A value of a signature as the ABI sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AbiValue {
    /// A scalar passed in one register of this Cranelift type (or its stack slot).
    Scalar(Type),
    Aggregate(Shape),
}

/// One register-sized piece of an aggregate: loaded from (or stored to) the aggregate's
/// memory at `offset` as `ty`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Part {
    pub ty: Type,
    pub offset: u32,
}

/// How one parameter travels.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParamLowering {
    /// A scalar, as is.
    Scalar(Type),
    /// An aggregate in registers (or, for some ABIs, in stack words), part by part.
    Parts(Vec<Part>),
    /// An aggregate copied onto the stack by value (Cranelift's `StructArgument`).
    StackCopy { size: u32 },
    /// An aggregate on the stack placed part by part, for backends that reject
    /// `StructArgument` (AArch64). Cranelift allocates each parameter by itself, so the ABI's
    /// "this register file is now closed" is spelled as `pad`: dummy parameters of these types
    /// that take the registers left, after which the parts and every later argument of that
    /// class land on the stack, in order, where Cranelift's stack rules put them.
    OnStack { pad: Vec<Type>, parts: Vec<Part> },
    /// An aggregate passed as a pointer to a copy the caller made.
    Reference,
}

/// How the result travels.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReturnLowering {
    Void,
    Scalar(Type),
    /// An aggregate returned in registers, part by part (in the order Cranelift assigns
    /// return registers of each class).
    Parts(Vec<Part>),
    /// An aggregate written through a hidden pointer the caller passes (Cranelift's
    /// `StructReturn`).
    Hidden,
}

/// A whole signature, lowered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FunctionLowering {
    pub params: Vec<ParamLowering>,
    pub ret: ReturnLowering,
}

/// The integer type of an `n`-byte piece, for parts that do not fill a whole register.
pub(crate) fn int_of_size(n: u32) -> Type {
    match n {
        1 => types::I8,
        2 => types::I16,
        3 | 4 => types::I32,
        _ => types::I64,
    }
}

/// The host's ABI.
pub fn lower_for_host(params: &[AbiValue], ret: Option<&AbiValue>) -> FunctionLowering {
    #[cfg(target_arch = "aarch64")]
    let lower = aapcs64::lower;
    #[cfg(all(target_arch = "x86_64", windows))]
    let lower = win64::lower;
    #[cfg(not(any(target_arch = "aarch64", all(target_arch = "x86_64", windows))))]
    let lower = sysv_x64::lower;
    lower(params, ret)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{AbiValue, Leaf, Shape};

    /// An aggregate argument for the classifiers' tests.
    pub(crate) fn shape(size: u32, align: u32, leaves: &[(u32, Leaf)]) -> AbiValue {
        AbiValue::Aggregate(Shape {
            size,
            align,
            leaves: leaves.to_vec(),
        })
    }

    // Aggregates of the list that several ABIs' tests classify.
    pub(crate) fn c() -> AbiValue {
        shape(1, 1, &[(0, Leaf::Int(1))])
    }
    pub(crate) fn float2() -> AbiValue {
        shape(8, 4, &[(0, Leaf::F32), (4, Leaf::F32)])
    }
    pub(crate) fn double4() -> AbiValue {
        shape(
            32,
            8,
            &[
                (0, Leaf::F64),
                (8, Leaf::F64),
                (16, Leaf::F64),
                (24, Leaf::F64),
            ],
        )
    }
    pub(crate) fn double5() -> AbiValue {
        let leaves: Vec<(u32, Leaf)> = (0..5).map(|i| (i * 8, Leaf::F64)).collect();
        shape(40, 8, &leaves)
    }
}
