//! x86-64 System V (the psABI, section 3.2.3): Linux, macOS, the BSDs.
//!
//! An aggregate of at most 16 bytes is split into eightbytes; each is INTEGER if any leaf in
//! it is an integer, SSE if all are floats. An aggregate over 16 bytes (or with a misaligned
//! leaf) is MEMORY: copied onto the stack as an argument, returned through a hidden pointer
//! passed in RDI. An argument whose eightbytes do not all fit in the registers left (six
//! INTEGER, eight SSE) goes whole onto the stack; registers are never split across it.

use cranelift_codegen::ir::{types, Type};

use super::{
    int_of_size, AbiValue, FunctionLowering, Leaf, ParamLowering, Part, ReturnLowering, Shape,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Integer,
    Sse,
}

/// The eightbyte classes of `shape`, or `None` for MEMORY.
fn classify(shape: &Shape) -> Option<Vec<(Class, u32)>> {
    if shape.size > 16 || shape.size == 0 {
        return None;
    }
    let words = shape.size.div_ceil(8) as usize;
    let mut classes: Vec<Option<Class>> = vec![None; words];
    for &(offset, leaf) in &shape.leaves {
        if offset % leaf.size() != 0 {
            return None; // a packed, misaligned leaf
        }
        let word = (offset / 8) as usize;
        let class = if leaf.is_float() {
            Class::Sse
        } else {
            Class::Integer
        };
        classes[word] = Some(match (classes[word], class) {
            (Some(Class::Integer), _) | (_, Class::Integer) => Class::Integer,
            _ => Class::Sse,
        });
    }
    Some(
        classes
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let bytes = (shape.size - i as u32 * 8).min(8);
                (c.unwrap_or(Class::Sse), bytes)
            })
            .collect(),
    )
}

/// The register type of one eightbyte holding `bytes` bytes.
fn part_type(class: Class, bytes: u32, shape: &Shape, word: u32) -> Type {
    match class {
        Class::Integer => int_of_size(bytes),
        Class::Sse => {
            // A lone float in the eightbyte travels as F32; anything else (a double, two
            // floats) as the whole 64 bits.
            let floats: Vec<Leaf> = shape
                .leaves
                .iter()
                .filter(|(o, _)| o / 8 == word)
                .map(|&(_, l)| l)
                .collect();
            if bytes <= 4 && floats.iter().all(|&l| l == Leaf::F32) {
                types::F32
            } else {
                types::F64
            }
        }
    }
}

fn parts(shape: &Shape, classes: &[(Class, u32)]) -> Vec<Part> {
    classes
        .iter()
        .enumerate()
        .map(|(i, &(class, bytes))| Part {
            ty: part_type(class, bytes, shape, i as u32),
            offset: i as u32 * 8,
        })
        .collect()
}

/// Lowers a signature for x86-64 System V.
pub fn lower(params: &[AbiValue], ret: Option<&AbiValue>) -> FunctionLowering {
    let (mut ints, mut sses) = (6u32, 8u32);
    let ret = match ret {
        None => ReturnLowering::Void,
        Some(AbiValue::Scalar(t)) => ReturnLowering::Scalar(*t),
        Some(AbiValue::Aggregate(shape)) => match classify(shape) {
            Some(classes) => ReturnLowering::Parts(parts(shape, &classes)),
            None => {
                ints -= 1; // the hidden pointer takes RDI
                ReturnLowering::Hidden
            }
        },
    };
    let params = params
        .iter()
        .map(|p| match p {
            AbiValue::Scalar(t) => {
                if t.is_float() {
                    sses = sses.saturating_sub(1);
                } else {
                    ints = ints.saturating_sub(1);
                }
                ParamLowering::Scalar(*t)
            }
            AbiValue::Aggregate(shape) => match classify(shape) {
                Some(classes) => {
                    let need_int = classes.iter().filter(|c| c.0 == Class::Integer).count() as u32;
                    let need_sse = classes.len() as u32 - need_int;
                    if need_int <= ints && need_sse <= sses {
                        ints -= need_int;
                        sses -= need_sse;
                        ParamLowering::Parts(parts(shape, &classes))
                    } else {
                        ParamLowering::StackCopy { size: shape.size }
                    }
                }
                None => ParamLowering::StackCopy { size: shape.size },
            },
        })
        .collect();
    FunctionLowering { params, ret }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::abi::tests::shape;

    fn one(v: AbiValue) -> ParamLowering {
        lower(&[v], None).params.remove(0)
    }

    fn p(ty: Type, offset: u32) -> Part {
        Part { ty, offset }
    }

    #[test]
    fn small_aggregates_split_into_eightbytes() {
        assert_eq!(
            one(shape(1, 1, &[(0, Leaf::Int(1))])),
            ParamLowering::Parts(vec![p(types::I8, 0)])
        );
        assert_eq!(
            one(shape(8, 4, &[(0, Leaf::Int(4)), (4, Leaf::Int(4))])),
            ParamLowering::Parts(vec![p(types::I64, 0)])
        );
        assert_eq!(
            one(shape(8, 4, &[(0, Leaf::F32), (4, Leaf::F32)])),
            ParamLowering::Parts(vec![p(types::F64, 0)])
        );
        assert_eq!(
            one(shape(
                12,
                4,
                &[(0, Leaf::F32), (4, Leaf::F32), (8, Leaf::F32)]
            )),
            ParamLowering::Parts(vec![p(types::F64, 0), p(types::F32, 8)])
        );
        // {int, float, double}: int and float share an INTEGER eightbyte.
        assert_eq!(
            one(shape(
                16,
                8,
                &[(0, Leaf::Int(4)), (4, Leaf::F32), (8, Leaf::F64)]
            )),
            ParamLowering::Parts(vec![p(types::I64, 0), p(types::F64, 8)])
        );
        assert_eq!(
            one(shape(
                3,
                1,
                &[(0, Leaf::Int(1)), (1, Leaf::Int(1)), (2, Leaf::Int(1))]
            )),
            ParamLowering::Parts(vec![p(types::I32, 0)])
        );
    }

    #[test]
    fn large_and_misaligned_aggregates_are_memory() {
        let big = shape(24, 8, &[(0, Leaf::F64), (8, Leaf::F64), (16, Leaf::F64)]);
        assert_eq!(one(big.clone()), ParamLowering::StackCopy { size: 24 });
        assert_eq!(lower(&[], Some(&big)).ret, ReturnLowering::Hidden);
        let packed = shape(5, 1, &[(0, Leaf::Int(1)), (1, Leaf::Int(4))]);
        assert_eq!(one(packed), ParamLowering::StackCopy { size: 5 });
    }

    #[test]
    fn register_exhaustion_moves_the_whole_aggregate_to_the_stack() {
        let pair = shape(16, 8, &[(0, Leaf::Int(8)), (8, Leaf::Int(8))]);
        let mut params = vec![AbiValue::Scalar(types::I64); 5];
        params.push(pair.clone());
        let lowered = lower(&params, None);
        assert_eq!(lowered.params[5], ParamLowering::StackCopy { size: 16 });
        params.remove(0);
        assert!(matches!(
            lower(&params, None).params[4],
            ParamLowering::Parts(_)
        ));
        // The hidden return pointer takes one integer register.
        let big = shape(
            32,
            8,
            &[
                (0, Leaf::Int(8)),
                (8, Leaf::Int(8)),
                (16, Leaf::Int(8)),
                (24, Leaf::Int(8)),
            ],
        );
        assert_eq!(
            lower(&params, Some(&big)).params[4],
            ParamLowering::StackCopy { size: 16 }
        );
    }
}
