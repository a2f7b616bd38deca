//! AArch64 Procedure Call Standard (AAPCS64, parameter passing rules of section 6.8.2), with
//! the Apple arm64 differences that touch aggregates.
//!
//! This file owns the classification of C structs and unions for AArch64: which aggregates
//! travel in registers and in which registers, which go to the stack, and which are replaced
//! by a pointer to a copy. It is written from the specification and is **untested on
//! hardware**: only the unit tests below check it, against the rules as written.
//!
//! The rules:
//!
//! * A Homogeneous Floating-point Aggregate (HFA) is an aggregate of one to four members of
//!   the same floating-point type and nothing else (no padding, no other leaves; unions whose
//!   members all overlay the same float array count). It travels one member per v-register
//!   (C.2), whatever its size, so `{double, double, double, double}` (32 bytes) is an HFA.
//! * Any other aggregate over 16 bytes is copied by the caller and replaced by a pointer to
//!   the copy (B.3), which then travels like any pointer ([`ParamLowering::Reference`]).
//! * Any other aggregate of at most 16 bytes has its size rounded up to a multiple of 8 (B.4)
//!   and travels in one general register per 8 bytes (C.10); one aligned to 16 starts at an
//!   even register (C.8).
//! * Composites are never split between registers and the stack. An HFA that does not find
//!   enough free v-registers goes whole onto the stack and sets NSRN to 8 (C.3), so no later
//!   argument uses a v-register; a general composite that does not fit in the x-registers
//!   left goes onto the stack and sets NGRN to 8 (C.11). Scalars use x0-x7 and v0-v7
//!   independently; the pointer of an indirect composite counts as a scalar.
//! * Results travel as the first argument would (x0-x1, or v0-v3 for an HFA); a result
//!   that would be passed by reference is written to memory whose address the caller passes
//!   in x8 ([`ReturnLowering::Hidden`], Cranelift's `StructReturn`); x8 is not one of the
//!   argument registers, so it does not shift the parameters.
//!
//! Apple arm64 (macOS, iOS) follows AAPCS64 for aggregates, except that:
//!
//! * stack arguments are packed at their natural alignment, so an HFA on the stack occupies
//!   its own size at its member alignment (`{float, float, float}` takes 12 bytes, not 16);
//!   other composites still take whole 8-byte words;
//! * a composite aligned to 16 does not skip to an even register (no C.8);
//! * empty structs (a GNU C extension) are ignored, which is also what a zero-size composite
//!   comes to under AAPCS64.
//!
//! Cranelift's aarch64 backend rejects `StructArgument` and allocates each parameter by
//! itself, so it neither stops using x-registers after C.11 nor v-registers after C.3. A
//! composite on the stack is therefore [`ParamLowering::OnStack`]: dummy parameters fill the
//! registers the rule closes, then parts whose types make Cranelift's stack placement (8-byte
//! slots, or natural alignment on Apple; 16 for an `I128`) reproduce the composite's bytes.

use cranelift_codegen::ir::{types, Type};

use super::{
    int_of_size, AbiValue, FunctionLowering, Leaf, ParamLowering, Part, ReturnLowering, Shape,
};

/// x0-x7 and v0-v7 carry arguments.
const ARG_REGS: u32 = 8;

/// Which variant of the procedure call standard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// AAPCS64 as ARM specifies it (Linux, the BSDs).
    Standard,
    /// Apple arm64 (macOS, iOS).
    Apple,
}

impl Flavor {
    /// The flavor of the platform this crate is built for.
    pub const HOST: Flavor = if cfg!(target_vendor = "apple") {
        Flavor::Apple
    } else {
        Flavor::Standard
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// A Homogeneous Floating-point Aggregate of `count` members of type `member`.
    Hfa { member: Leaf, count: u32 },
    /// A composite of at most 16 bytes, in general registers.
    General,
    /// A composite over 16 bytes that is not an HFA: passed by reference.
    Indirect,
}

/// The HFA member type and count of `shape`, if it is one.
fn hfa(shape: &Shape) -> Option<(Leaf, u32)> {
    let member = shape.leaves.first()?.1;
    if !member.is_float() || shape.leaves.iter().any(|&(_, leaf)| leaf != member) {
        return None;
    }
    let step = member.size();
    let mut offsets: Vec<u32> = shape.leaves.iter().map(|&(offset, _)| offset).collect();
    offsets.sort_unstable();
    offsets.dedup(); // union members overlaying the same float count once
    let count = offsets.len() as u32;
    let contiguous = offsets
        .iter()
        .enumerate()
        .all(|(i, &o)| o == i as u32 * step);
    (count <= 4 && contiguous && shape.size == count * step).then_some((member, count))
}

fn classify(shape: &Shape) -> Class {
    match hfa(shape) {
        Some((member, count)) => Class::Hfa { member, count },
        None if shape.size > 16 => Class::Indirect,
        None => Class::General,
    }
}

fn float_type(leaf: Leaf) -> Type {
    match leaf {
        Leaf::F64 => types::F64,
        _ => types::F32,
    }
}

/// One part per member, each in its own v-register.
fn hfa_parts(member: Leaf, count: u32) -> Vec<Part> {
    (0..count)
        .map(|i| Part {
            ty: float_type(member),
            offset: i * member.size(),
        })
        .collect()
}

/// One part per 8 bytes, the last narrowed to the bytes it holds. A 16-byte composite aligned
/// to 16 is one `I128`, which Cranelift places in a register pair the way each flavor wants
/// (an even pair for AAPCS64, any pair for Apple).
fn general_parts(shape: &Shape) -> Vec<Part> {
    if shape.align >= 16 && shape.size == 16 {
        return vec![Part {
            ty: types::I128,
            offset: 0,
        }];
    }
    (0..shape.size.div_ceil(8))
        .map(|i| Part {
            ty: int_of_size((shape.size - i * 8).min(8)),
            offset: i * 8,
        })
        .collect()
}

/// An HFA on the stack. AAPCS64 copies its bytes into 8-byte words (the last may hold one
/// float): `F64` parts carry two floats' bits unchanged, and an `F32` stack slot still takes 8
/// bytes. Apple packs the members at their own alignment, as Cranelift places `F32`s there.
/// Float types keep the parts off the x-registers, which may still be open.
fn hfa_stack_parts(flavor: Flavor, shape: &Shape, member: Leaf, count: u32) -> Vec<Part> {
    match flavor {
        Flavor::Apple => hfa_parts(member, count),
        Flavor::Standard => (0..shape.size.div_ceil(8))
            .map(|i| Part {
                ty: if shape.size - i * 8 >= 8 {
                    types::F64
                } else {
                    types::F32
                },
                offset: i * 8,
            })
            .collect(),
    }
}

/// A general composite on the stack: whole 8-byte words on both flavors (a narrower last part
/// would let Apple pack the next argument into the word's tail), or one `I128`, which
/// Cranelift aligns to 16 as C.16 wants for a composite aligned to 16.
fn general_stack_parts(shape: &Shape) -> Vec<Part> {
    if shape.align >= 16 && shape.size == 16 {
        return general_parts(shape);
    }
    (0..shape.size.div_ceil(8))
        .map(|i| Part {
            ty: types::I64,
            offset: i * 8,
        })
        .collect()
}

/// The next general (NGRN) and SIMD/floating-point (NSRN) register numbers.
struct Registers {
    flavor: Flavor,
    ngrn: u32,
    nsrn: u32,
}

impl Registers {
    /// Takes `n` consecutive x-registers (C.8-C.11), or closes them and answers false.
    fn take_general(&mut self, n: u32, align16: bool) -> bool {
        if align16 && self.flavor == Flavor::Standard {
            self.ngrn = self.ngrn.next_multiple_of(2);
        }
        if self.ngrn + n <= ARG_REGS {
            self.ngrn += n;
            true
        } else {
            self.ngrn = ARG_REGS;
            false
        }
    }

    /// Takes `n` consecutive v-registers (C.1-C.3), or closes them and answers false.
    fn take_vector(&mut self, n: u32) -> bool {
        if self.nsrn + n <= ARG_REGS {
            self.nsrn += n;
            true
        } else {
            self.nsrn = ARG_REGS;
            false
        }
    }

    fn param(&mut self, value: &AbiValue) -> ParamLowering {
        let shape = match value {
            AbiValue::Scalar(t) => {
                if t.is_float() || t.is_vector() {
                    self.take_vector(1);
                } else if t.bits() == 128 {
                    self.take_general(2, true);
                } else {
                    self.take_general(1, false);
                }
                return ParamLowering::Scalar(*t);
            }
            AbiValue::Aggregate(shape) => shape,
        };
        if shape.size == 0 {
            return ParamLowering::Parts(Vec::new());
        }
        match classify(shape) {
            Class::Hfa { member, count } => {
                let free = ARG_REGS - self.nsrn;
                if self.take_vector(count) {
                    ParamLowering::Parts(hfa_parts(member, count))
                } else {
                    ParamLowering::OnStack {
                        pad: vec![types::F64; free as usize],
                        parts: hfa_stack_parts(self.flavor, shape, member, count),
                    }
                }
            }
            Class::General => {
                let free = ARG_REGS - self.ngrn;
                if self.take_general(shape.size.div_ceil(8), shape.align >= 16) {
                    ParamLowering::Parts(general_parts(shape))
                } else {
                    ParamLowering::OnStack {
                        pad: vec![types::I64; free as usize],
                        parts: general_stack_parts(shape),
                    }
                }
            }
            Class::Indirect => {
                self.take_general(1, false);
                ParamLowering::Reference
            }
        }
    }
}

/// Lowers a signature for the host's flavor of AAPCS64.
pub fn lower(params: &[AbiValue], ret: Option<&AbiValue>) -> FunctionLowering {
    lower_for(Flavor::HOST, params, ret)
}

/// Lowers a signature for AAPCS64 in the given flavor.
pub fn lower_for(flavor: Flavor, params: &[AbiValue], ret: Option<&AbiValue>) -> FunctionLowering {
    let ret = match ret {
        None => ReturnLowering::Void,
        Some(AbiValue::Scalar(t)) => ReturnLowering::Scalar(*t),
        Some(AbiValue::Aggregate(shape)) if shape.size == 0 => ReturnLowering::Parts(Vec::new()),
        Some(AbiValue::Aggregate(shape)) => match classify(shape) {
            Class::Hfa { member, count } => ReturnLowering::Parts(hfa_parts(member, count)),
            Class::General => ReturnLowering::Parts(general_parts(shape)),
            Class::Indirect => ReturnLowering::Hidden, // x8: no argument register is used
        },
    };
    let mut registers = Registers {
        flavor,
        ngrn: 0,
        nsrn: 0,
    };
    let params = params.iter().map(|p| registers.param(p)).collect();
    FunctionLowering { params, ret }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::abi::tests::{c, double4, double5, float2, shape};

    fn p(ty: Type, offset: u32) -> Part {
        Part { ty, offset }
    }

    /// `n` whole 8-byte words of a general composite on the stack.
    fn words(n: u32) -> Vec<Part> {
        (0..n).map(|i| p(types::I64, i * 8)).collect()
    }

    fn on_stack(pad: &[Type], parts: Vec<Part>) -> ParamLowering {
        ParamLowering::OnStack {
            pad: pad.to_vec(),
            parts,
        }
    }

    fn one(v: AbiValue) -> ParamLowering {
        lower_for(Flavor::Standard, &[v], None).params.remove(0)
    }

    fn ret(v: AbiValue) -> ReturnLowering {
        lower_for(Flavor::Standard, &[], Some(&v)).ret
    }

    fn short_char() -> AbiValue {
        shape(4, 2, &[(0, Leaf::Int(2)), (2, Leaf::Int(1))])
    }
    fn int_int() -> AbiValue {
        shape(8, 4, &[(0, Leaf::Int(4)), (4, Leaf::Int(4))])
    }
    fn float3() -> AbiValue {
        shape(12, 4, &[(0, Leaf::F32), (4, Leaf::F32), (8, Leaf::F32)])
    }
    fn double_float() -> AbiValue {
        shape(16, 8, &[(0, Leaf::F64), (8, Leaf::F32)])
    }
    fn int_float_double() -> AbiValue {
        shape(16, 8, &[(0, Leaf::Int(4)), (4, Leaf::F32), (8, Leaf::F64)])
    }
    fn char3() -> AbiValue {
        shape(
            3,
            1,
            &[(0, Leaf::Int(1)), (1, Leaf::Int(1)), (2, Leaf::Int(1))],
        )
    }
    fn long2() -> AbiValue {
        shape(16, 8, &[(0, Leaf::Int(8)), (8, Leaf::Int(8))])
    }
    /// `{long, double, int}`: 24 bytes, not an HFA.
    fn mixed24() -> AbiValue {
        shape(
            24,
            8,
            &[(0, Leaf::Int(8)), (8, Leaf::F64), (16, Leaf::Int(4))],
        )
    }
    /// `{double x5}`: 40 bytes, too many members for an HFA.
    fn int_or_float() -> AbiValue {
        shape(4, 4, &[(0, Leaf::Int(4)), (0, Leaf::F32)])
    }

    #[test]
    fn small_integer_composites_use_general_registers_per_eight_bytes() {
        assert_eq!(one(c()), ParamLowering::Parts(vec![p(types::I8, 0)]));
        assert_eq!(
            one(short_char()),
            ParamLowering::Parts(vec![p(types::I32, 0)])
        );
        assert_eq!(one(int_int()), ParamLowering::Parts(vec![p(types::I64, 0)]));
        assert_eq!(one(char3()), ParamLowering::Parts(vec![p(types::I32, 0)]));
        assert_eq!(
            one(long2()),
            ParamLowering::Parts(vec![p(types::I64, 0), p(types::I64, 8)])
        );
        // A 12-byte integer composite: the second word holds 4 bytes.
        let int3 = shape(
            12,
            4,
            &[(0, Leaf::Int(4)), (4, Leaf::Int(4)), (8, Leaf::Int(4))],
        );
        assert_eq!(
            one(int3),
            ParamLowering::Parts(vec![p(types::I64, 0), p(types::I32, 8)])
        );
    }

    #[test]
    fn mixed_int_and_float_composites_use_general_registers() {
        // {double, float}: two float types, so not an HFA.
        let two_words = ParamLowering::Parts(vec![p(types::I64, 0), p(types::I64, 8)]);
        assert_eq!(one(double_float()), two_words);
        assert_eq!(one(int_float_double()), two_words);
        // A union of int and float is not homogeneous.
        assert_eq!(
            one(int_or_float()),
            ParamLowering::Parts(vec![p(types::I32, 0)])
        );
        assert_eq!(
            ret(int_or_float()),
            ReturnLowering::Parts(vec![p(types::I32, 0)])
        );
    }

    #[test]
    fn homogeneous_float_aggregates_use_one_v_register_per_member() {
        assert_eq!(
            one(float2()),
            ParamLowering::Parts(vec![p(types::F32, 0), p(types::F32, 4)])
        );
        assert_eq!(
            one(float3()),
            ParamLowering::Parts(vec![p(types::F32, 0), p(types::F32, 4), p(types::F32, 8)])
        );
        let d4 = vec![
            p(types::F64, 0),
            p(types::F64, 8),
            p(types::F64, 16),
            p(types::F64, 24),
        ];
        assert_eq!(one(double4()), ParamLowering::Parts(d4.clone()));
        assert_eq!(ret(double4()), ReturnLowering::Parts(d4));
        // A 24-byte HFA still travels in registers.
        let d3 = shape(24, 8, &[(0, Leaf::F64), (8, Leaf::F64), (16, Leaf::F64)]);
        assert_eq!(
            one(d3),
            ParamLowering::Parts(vec![p(types::F64, 0), p(types::F64, 8), p(types::F64, 16)])
        );
        // A single float member is an HFA of one.
        let f1 = shape(4, 4, &[(0, Leaf::F32)]);
        assert_eq!(one(f1), ParamLowering::Parts(vec![p(types::F32, 0)]));
        // A union of floats overlaying {float, float} is an HFA of two.
        let overlay = shape(8, 4, &[(0, Leaf::F32), (0, Leaf::F32), (4, Leaf::F32)]);
        assert_eq!(
            one(overlay),
            ParamLowering::Parts(vec![p(types::F32, 0), p(types::F32, 4)])
        );
    }

    #[test]
    fn padded_float_composites_are_not_homogeneous() {
        // struct { float x; } __attribute__((aligned(8))): four bytes of tail padding.
        let padded = shape(8, 8, &[(0, Leaf::F32)]);
        assert_eq!(one(padded), ParamLowering::Parts(vec![p(types::I64, 0)]));
        // {float, double}: the float is padded to 8.
        let float_double = shape(16, 8, &[(0, Leaf::F32), (8, Leaf::F64)]);
        assert!(
            matches!(one(float_double), ParamLowering::Parts(parts) if parts[0].ty == types::I64)
        );
    }

    #[test]
    fn large_composites_are_passed_by_reference_and_returned_through_x8() {
        for big in [mixed24(), double5()] {
            assert_eq!(one(big.clone()), ParamLowering::Reference);
            assert_eq!(ret(big), ReturnLowering::Hidden);
        }
        let bytes17 = shape(17, 1, &[(0, Leaf::Int(1)), (16, Leaf::Int(1))]);
        assert_eq!(one(bytes17), ParamLowering::Reference);
    }

    #[test]
    fn small_results_travel_as_the_first_argument_would() {
        assert_eq!(ret(c()), ReturnLowering::Parts(vec![p(types::I8, 0)]));
        assert_eq!(ret(char3()), ReturnLowering::Parts(vec![p(types::I32, 0)]));
        assert_eq!(
            ret(float3()),
            ReturnLowering::Parts(vec![p(types::F32, 0), p(types::F32, 4), p(types::F32, 8)])
        );
        assert_eq!(
            ret(double_float()),
            ReturnLowering::Parts(vec![p(types::I64, 0), p(types::I64, 8)])
        );
        assert_eq!(ret(shape(0, 1, &[])), ReturnLowering::Parts(vec![]));
        assert_eq!(one(shape(0, 1, &[])), ParamLowering::Parts(vec![]));
    }

    #[test]
    fn general_composites_are_not_split_and_close_the_x_registers() {
        let ints = |n| vec![AbiValue::Scalar(types::I64); n];
        // Six integers leave x6-x7: the pair fits.
        let mut params = ints(6);
        params.push(long2());
        assert!(matches!(
            lower(&params, None).params[6],
            ParamLowering::Parts(_)
        ));
        // Seven leave only x7: the pair goes whole to the stack, and NGRN becomes 8, so even
        // a one-word composite after it does not use x7.
        let mut params = ints(7);
        params.extend([long2(), c()]);
        let lowered = lower_for(Flavor::Standard, &params, None);
        // x7 is filled with a dummy so that Cranelift puts neither the pair nor `c` there.
        assert_eq!(lowered.params[7], on_stack(&[types::I64], words(2)));
        assert_eq!(lowered.params[8], on_stack(&[], words(1)));
        // On the stack a composite's size is rounded up to 8.
        let mut params = ints(8);
        params.extend([char3(), float3()]);
        let lowered = lower_for(Flavor::Standard, &params, None);
        assert_eq!(lowered.params[8], on_stack(&[], words(1)));
        // ... while the v-registers are still free for an HFA.
        assert!(matches!(lowered.params[9], ParamLowering::Parts(_)));
    }

    #[test]
    fn hfas_are_not_split_and_close_the_v_registers() {
        let doubles = |n| vec![AbiValue::Scalar(types::F64); n];
        // Four doubles leave v4-v7: exactly enough for four members.
        let mut params = doubles(4);
        params.push(double4());
        assert!(matches!(
            lower(&params, None).params[4],
            ParamLowering::Parts(_)
        ));
        // Six leave two: the HFA goes whole to the stack, NSRN becomes 8, and a two-member
        // HFA after it goes to the stack too.
        let mut params = doubles(6);
        params.extend([double4(), float2(), int_int()]);
        let lowered = lower_for(Flavor::Standard, &params, None);
        let d4 = (0..4).map(|i| p(types::F64, i * 8)).collect();
        assert_eq!(lowered.params[6], on_stack(&[types::F64; 2], d4));
        assert_eq!(lowered.params[7], on_stack(&[], vec![p(types::F64, 0)]));
        // The x-registers are untouched.
        assert_eq!(
            lowered.params[8],
            ParamLowering::Parts(vec![p(types::I64, 0)])
        );
    }

    #[test]
    fn hfas_on_the_stack_are_rounded_to_eight_bytes_except_on_apple() {
        let mut params = vec![AbiValue::Scalar(types::F32); 8];
        params.push(float3());
        let standard = lower_for(Flavor::Standard, &params, None);
        assert_eq!(
            standard.params[8],
            on_stack(&[], vec![p(types::F64, 0), p(types::F32, 8)])
        );
        let apple = lower_for(Flavor::Apple, &params, None);
        assert_eq!(
            apple.params[8],
            on_stack(
                &[],
                vec![p(types::F32, 0), p(types::F32, 4), p(types::F32, 8)]
            )
        );
        // Non-HFA composites take whole words on both.
        let mut params = vec![AbiValue::Scalar(types::I32); 8];
        params.push(char3());
        let apple = lower_for(Flavor::Apple, &params, None);
        assert_eq!(apple.params[8], on_stack(&[], words(1)));
    }

    #[test]
    fn references_take_an_x_register_and_the_result_pointer_does_not() {
        // The pointer to a 24-byte copy takes x7, so {int, int} goes to the stack.
        let mut params = vec![AbiValue::Scalar(types::I64); 7];
        params.extend([mixed24(), int_int()]);
        let lowered = lower(&params, None);
        assert_eq!(lowered.params[7], ParamLowering::Reference);
        assert_eq!(lowered.params[8], on_stack(&[], words(1)));
        // A hidden result pointer goes in x8, so six integers still leave room for a pair.
        let mut params = vec![AbiValue::Scalar(types::I64); 6];
        params.push(long2());
        let lowered = lower(&params, Some(&double5()));
        assert_eq!(lowered.ret, ReturnLowering::Hidden);
        assert!(matches!(lowered.params[6], ParamLowering::Parts(_)));
    }

    #[test]
    fn composites_aligned_to_sixteen_start_at_an_even_register_except_on_apple() {
        let aligned = shape(16, 16, &[(0, Leaf::Int(8)), (8, Leaf::Int(8))]);
        let word = shape(8, 8, &[(0, Leaf::Int(8))]);
        let mut params = vec![AbiValue::Scalar(types::I32); 5];
        params.extend([aligned, word.clone(), word]);
        // AAPCS64: x5 is skipped, the pair takes x6-x7, and both words go to the stack.
        let standard = lower_for(Flavor::Standard, &params, None);
        assert_eq!(
            standard.params[5],
            ParamLowering::Parts(vec![p(types::I128, 0)])
        );
        assert_eq!(standard.params[6], on_stack(&[], words(1)));
        // Apple: the pair takes x5-x6 and the first word x7.
        let apple = lower_for(Flavor::Apple, &params, None);
        assert_eq!(
            apple.params[5],
            ParamLowering::Parts(vec![p(types::I128, 0)])
        );
        assert_eq!(
            apple.params[6],
            ParamLowering::Parts(vec![p(types::I64, 0)])
        );
        assert_eq!(apple.params[7], on_stack(&[], words(1)));
        // With x7 the only one left, the aligned pair goes to the stack as one `I128` (which
        // Cranelift aligns to 16) after a dummy in x7.
        let mut params = vec![AbiValue::Scalar(types::I64); 7];
        params.push(shape(16, 16, &[(0, Leaf::Int(8)), (8, Leaf::Int(8))]));
        assert_eq!(
            lower_for(Flavor::Standard, &params, None).params[7],
            on_stack(&[types::I64], vec![p(types::I128, 0)])
        );
    }
}
