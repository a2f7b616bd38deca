//! The Windows x64 calling convention (Microsoft x64 ABI, "Parameter passing" and "Return
//! values").
//!
//! This file owns the classification of C structs and unions for Windows x64. It is written
//! from Microsoft's documentation and is **untested on hardware**: only the unit tests below
//! check it, against the rules as written.
//!
//! The rules:
//!
//! * A struct or union of 1, 2, 4 or 8 bytes is passed as an integer of that size, in a
//!   general register or a stack slot, whatever its members are (`{float, float}` travels in
//!   RCX/RDX/R8/R9, never in an XMM register).
//! * Every other aggregate (3, 5, 6, 7 or more than 8 bytes, including 16-byte ones) is
//!   copied by the caller to 16-byte-aligned memory and passed as a pointer to the copy
//!   ([`ParamLowering::Reference`]). No argument is ever spread over several registers.
//! * The first four arguments take the four register slots by position, an integer argument
//!   slot *n* in RCX, RDX, R8 or R9 and a floating-point one in XMM*n*, the other register of
//!   the slot going unused; later arguments take 8-byte stack slots above the 32-byte shadow
//!   area. Since every lowered argument is a single register-sized value, running out of
//!   registers changes nothing in the classification: Cranelift's `WindowsFastcall` assigns
//!   the positions.
//! * A result of 1, 2, 4 or 8 bytes comes back in RAX as an integer of that size (again
//!   whatever its members). Any other aggregate result is written to memory whose address
//!   the caller passes as a hidden first argument in RCX, shifting the declared arguments one
//!   slot to the right; the callee returns that address in RAX ([`ReturnLowering::Hidden`]).

use cranelift_codegen::ir::{types, Type};

use super::{AbiValue, FunctionLowering, ParamLowering, Part, ReturnLowering, Shape};

/// The integer type an aggregate travels as, if its size allows it.
fn as_integer(shape: &Shape) -> Option<Type> {
    match shape.size {
        1 => Some(types::I8),
        2 => Some(types::I16),
        4 => Some(types::I32),
        8 => Some(types::I64),
        _ => None,
    }
}

/// Lowers a signature for Windows x64.
pub fn lower(params: &[AbiValue], ret: Option<&AbiValue>) -> FunctionLowering {
    let ret = match ret {
        None => ReturnLowering::Void,
        Some(AbiValue::Scalar(t)) => ReturnLowering::Scalar(*t),
        Some(AbiValue::Aggregate(shape)) => match as_integer(shape) {
            Some(ty) => ReturnLowering::Parts(vec![Part { ty, offset: 0 }]),
            None => ReturnLowering::Hidden,
        },
    };
    let params = params
        .iter()
        .map(|p| match p {
            AbiValue::Scalar(t) => ParamLowering::Scalar(*t),
            AbiValue::Aggregate(shape) => match as_integer(shape) {
                Some(ty) => ParamLowering::Parts(vec![Part { ty, offset: 0 }]),
                None => ParamLowering::Reference,
            },
        })
        .collect();
    FunctionLowering { params, ret }
}

#[cfg(test)]
mod tests {
    use super::super::Leaf;
    use super::*;

    use crate::abi::tests::{c, double4, double5, float2, shape};

    fn int(ty: Type) -> ParamLowering {
        ParamLowering::Parts(vec![Part { ty, offset: 0 }])
    }

    fn one(v: AbiValue) -> ParamLowering {
        lower(&[v], None).params.remove(0)
    }

    fn ret(v: AbiValue) -> ReturnLowering {
        lower(&[], Some(&v)).ret
    }

    fn long3() -> AbiValue {
        shape(
            24,
            8,
            &[(0, Leaf::Int(8)), (8, Leaf::Int(8)), (16, Leaf::Int(8))],
        )
    }

    /// Where an argument lands, by the positional rule: slot `n` is RCX/RDX/R8/R9 or XMMn,
    /// later arguments take 8-byte stack slots after the 32-byte shadow area.
    #[derive(Debug, PartialEq, Eq)]
    enum Slot {
        Gpr(u32),
        Xmm(u32),
        Stack(u32),
    }

    fn slots(lowering: &FunctionLowering) -> Vec<Slot> {
        let first = u32::from(lowering.ret == ReturnLowering::Hidden);
        lowering
            .params
            .iter()
            .enumerate()
            .map(|(i, param)| {
                let n = first + i as u32;
                let float = matches!(param, ParamLowering::Scalar(t) if t.is_float());
                match param {
                    ParamLowering::Parts(parts) => assert_eq!(parts.len(), 1, "one register"),
                    ParamLowering::StackCopy { .. } => panic!("no stack copies on Windows x64"),
                    _ => {}
                }
                match (n < 4, float) {
                    (true, true) => Slot::Xmm(n),
                    (true, false) => Slot::Gpr(n),
                    (false, _) => Slot::Stack(32 + 8 * (n - 4)),
                }
            })
            .collect()
    }

    #[test]
    fn aggregates_of_one_two_four_or_eight_bytes_are_integers() {
        assert_eq!(one(c()), int(types::I8));
        assert_eq!(one(shape(2, 2, &[(0, Leaf::Int(2))])), int(types::I16));
        // {short, char}: 3 bytes of data, 4 with padding.
        assert_eq!(
            one(shape(4, 2, &[(0, Leaf::Int(2)), (2, Leaf::Int(1))])),
            int(types::I32)
        );
        assert_eq!(
            one(shape(8, 4, &[(0, Leaf::Int(4)), (4, Leaf::Int(4))])),
            int(types::I64)
        );
        // Float members do not matter: {float, float} and {float} go in general registers.
        assert_eq!(one(float2()), int(types::I64));
        assert_eq!(one(shape(4, 4, &[(0, Leaf::F32)])), int(types::I32));
        assert_eq!(one(shape(8, 8, &[(0, Leaf::F64)])), int(types::I64));
        // A union of int and float is 4 bytes.
        assert_eq!(
            one(shape(4, 4, &[(0, Leaf::Int(4)), (0, Leaf::F32)])),
            int(types::I32)
        );
    }

    #[test]
    fn aggregates_of_other_sizes_are_passed_by_reference() {
        let char3 = shape(
            3,
            1,
            &[(0, Leaf::Int(1)), (1, Leaf::Int(1)), (2, Leaf::Int(1))],
        );
        let float3 = shape(12, 4, &[(0, Leaf::F32), (4, Leaf::F32), (8, Leaf::F32)]);
        let double_float = shape(16, 8, &[(0, Leaf::F64), (8, Leaf::F32)]);
        let int_float_double = shape(16, 8, &[(0, Leaf::Int(4)), (4, Leaf::F32), (8, Leaf::F64)]);
        let packed5 = shape(5, 1, &[(0, Leaf::Int(1)), (1, Leaf::Int(4))]);
        for v in [
            char3,
            float3,
            double_float,
            int_float_double,
            packed5,
            double4(),
            long3(),
            double5(),
        ] {
            assert_eq!(one(v), ParamLowering::Reference);
        }
    }

    #[test]
    fn results_of_one_two_four_or_eight_bytes_come_back_in_rax() {
        let rax = |ty| ReturnLowering::Parts(vec![Part { ty, offset: 0 }]);
        assert_eq!(ret(c()), rax(types::I8));
        assert_eq!(ret(float2()), rax(types::I64));
        assert_eq!(
            ret(shape(4, 4, &[(0, Leaf::Int(4)), (0, Leaf::F32)])),
            rax(types::I32)
        );
        let char3 = shape(
            3,
            1,
            &[(0, Leaf::Int(1)), (1, Leaf::Int(1)), (2, Leaf::Int(1))],
        );
        for v in [
            char3,
            shape(12, 4, &[(0, Leaf::F32), (4, Leaf::F32), (8, Leaf::F32)]),
        ] {
            assert_eq!(ret(v), ReturnLowering::Hidden);
        }
        for v in [double4(), long3(), double5()] {
            assert_eq!(ret(v), ReturnLowering::Hidden);
        }
    }

    #[test]
    fn register_slots_are_positional_and_exhaustion_changes_no_classification() {
        // double, {float, float}, {double x4}, int, {char}, {long x3}
        let params = [
            AbiValue::Scalar(types::F64),
            float2(),
            double4(),
            AbiValue::Scalar(types::I32),
            c(),
            long3(),
        ];
        let lowered = lower(&params, None);
        assert_eq!(
            lowered.params,
            vec![
                ParamLowering::Scalar(types::F64),
                int(types::I64),
                ParamLowering::Reference,
                ParamLowering::Scalar(types::I32),
                int(types::I8),
                ParamLowering::Reference,
            ]
        );
        assert_eq!(
            slots(&lowered),
            vec![
                Slot::Xmm(0),
                Slot::Gpr(1),
                Slot::Gpr(2),
                Slot::Gpr(3),
                Slot::Stack(32),
                Slot::Stack(40)
            ]
        );
        // A hidden result pointer takes RCX and shifts everything by one slot, without
        // changing how any argument is lowered.
        let hidden = lower(&params, Some(&double5()));
        assert_eq!(hidden.ret, ReturnLowering::Hidden);
        assert_eq!(hidden.params, lowered.params);
        assert_eq!(
            slots(&hidden),
            vec![
                Slot::Xmm(1),
                Slot::Gpr(2),
                Slot::Gpr(3),
                Slot::Stack(32),
                Slot::Stack(40),
                Slot::Stack(48)
            ]
        );
    }
}
