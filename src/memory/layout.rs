//! Struct layouts: C's rules for a record of scalars, nested records and fixed arrays.
//!
//! Each field sits at the next offset that is a multiple of its alignment; the record's
//! alignment is the largest of its fields', and its size is rounded up to that alignment
//! (the rules gcc and clang follow on every ABI moonthunk targets). Layouts are shared through
//! `Rc` so that a nested definition stays alive as long as any record using it.

use std::rc::Rc;

use moonthunk_jit::abi::{Leaf, Shape};

use crate::ctype::Scalar;

/// What a field holds.
#[derive(Clone, Debug)]
pub enum FieldType {
    Scalar(Scalar),
    Struct(Rc<StructLayout>),
}

impl FieldType {
    /// The size of one element.
    pub fn size(&self) -> usize {
        match self {
            FieldType::Scalar(t) => t.size(),
            FieldType::Struct(s) => s.size,
        }
    }

    /// The alignment of one element.
    pub fn align(&self) -> usize {
        match self {
            FieldType::Scalar(t) => t.align(),
            FieldType::Struct(s) => s.align,
        }
    }
}

/// One field of a layout.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
    /// `Some(n)` for a fixed array of `n` elements.
    pub count: Option<usize>,
    pub offset: usize,
    /// The field's whole size (all elements of an array).
    pub size: usize,
}

/// A laid-out C struct.
#[derive(Clone, Debug)]
pub struct StructLayout {
    pub fields: Vec<Field>,
    pub size: usize,
    pub align: usize,
}

/// How fields are placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayoutOptions {
    /// Every field at offset 0 (a C union).
    pub union: bool,
    /// No padding: every field at alignment 1 (`__attribute__((packed))`).
    pub packed: bool,
}

/// A field as declared, before layout.
pub struct FieldSpec {
    pub name: String,
    pub ty: FieldType,
    pub count: Option<usize>,
}

fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

impl StructLayout {
    /// Lays out `specs` as a struct or a union, packed or not.
    pub fn with_options(
        specs: Vec<FieldSpec>,
        options: LayoutOptions,
    ) -> Result<StructLayout, String> {
        if specs.is_empty() {
            return Err("a struct needs at least one field".into());
        }
        let mut fields: Vec<Field> = Vec::with_capacity(specs.len());
        let (mut offset, mut align, mut extent) = (0usize, 1usize, 0usize);
        for spec in specs {
            if spec.name.is_empty() {
                return Err("field names must not be empty".into());
            }
            if fields.iter().any(|f| f.name == spec.name) {
                return Err(format!("duplicate field '{}'", spec.name));
            }
            if let FieldType::Scalar(Scalar::Void) = spec.ty {
                return Err(format!("field '{}' cannot have type void", spec.name));
            }
            if spec.count == Some(0) {
                return Err(format!(
                    "field '{}': array length must be positive",
                    spec.name
                ));
            }
            let elem = spec.ty.size();
            let size = elem
                .checked_mul(spec.count.unwrap_or(1))
                .filter(|&s| s <= isize::MAX as usize / 2)
                .ok_or_else(|| format!("field '{}' is too large", spec.name))?;
            let field_align = if options.packed { 1 } else { spec.ty.align() };
            if options.union {
                offset = 0;
            }
            offset = round_up(offset, field_align);
            align = align.max(field_align);
            fields.push(Field {
                name: spec.name,
                ty: spec.ty,
                count: spec.count,
                offset,
                size,
            });
            let end = offset
                .checked_add(size)
                .filter(|&s| s <= isize::MAX as usize / 2)
                .ok_or("struct is too large")?;
            extent = extent.max(end);
            offset = end;
        }
        Ok(StructLayout {
            fields,
            size: round_up(extent, align),
            align,
        })
    }

    /// The ABI's view: size, alignment and every scalar leaf at its offset.
    pub fn shape(&self) -> Shape {
        let mut leaves = Vec::new();
        self.collect_leaves(0, &mut leaves);
        leaves.sort_by_key(|&(offset, _)| offset);
        Shape {
            size: self.size as u32,
            align: self.align as u32,
            leaves,
        }
    }

    fn collect_leaves(&self, base: usize, leaves: &mut Vec<(u32, Leaf)>) {
        for field in &self.fields {
            let elem = field.ty.size();
            for i in 0..field.count.unwrap_or(1) {
                let at = base + field.offset + i * elem;
                match &field.ty {
                    FieldType::Struct(inner) => inner.collect_leaves(at, leaves),
                    FieldType::Scalar(Scalar::F32) => leaves.push((at as u32, Leaf::F32)),
                    FieldType::Scalar(Scalar::F64) => leaves.push((at as u32, Leaf::F64)),
                    FieldType::Scalar(t) => leaves.push((at as u32, Leaf::Int(t.size() as u8))),
                }
            }
        }
    }

    /// The field called `name`.
    pub fn field(&self, name: &[u8]) -> Option<&Field> {
        self.fields.iter().find(|f| f.name.as_bytes() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(specs: Vec<FieldSpec>) -> Result<StructLayout, String> {
        StructLayout::with_options(specs, LayoutOptions::default())
    }

    #[test]
    fn unions_overlap_and_packed_structs_have_no_padding() {
        let fields = || vec![spec("c", Scalar::U8, None), spec("i", Scalar::I32, None)];
        let union = StructLayout::with_options(
            fields(),
            LayoutOptions {
                union: true,
                packed: false,
            },
        )
        .unwrap();
        assert_eq!((union.size, union.align, union.fields[1].offset), (4, 4, 0));
        let packed = StructLayout::with_options(
            fields(),
            LayoutOptions {
                union: false,
                packed: true,
            },
        )
        .unwrap();
        assert_eq!(
            (packed.size, packed.align, packed.fields[1].offset),
            (5, 1, 1)
        );
    }

    #[test]
    fn shapes_flatten_arrays_and_nested_records() {
        let inner = Rc::new(layout(vec![spec("f", Scalar::F32, Some(2))]).unwrap());
        let outer = layout(vec![
            spec("c", Scalar::I8, None),
            FieldSpec {
                name: "in".into(),
                ty: FieldType::Struct(inner),
                count: None,
            },
        ])
        .unwrap();
        let shape = outer.shape();
        assert_eq!((shape.size, shape.align), (12, 4));
        assert_eq!(
            shape.leaves,
            vec![(0, Leaf::Int(1)), (4, Leaf::F32), (8, Leaf::F32)]
        );
    }

    fn spec(name: &str, t: Scalar, count: Option<usize>) -> FieldSpec {
        FieldSpec {
            name: name.into(),
            ty: FieldType::Scalar(t),
            count,
        }
    }

    #[test]
    fn seed_player_layout() {
        let player = layout(vec![
            spec("x", Scalar::F32, None),
            spec("y", Scalar::F32, None),
            spec("health", Scalar::I32, None),
            spec("name", Scalar::U8, Some(32)),
        ])
        .unwrap();
        assert_eq!(player.size, 44);
        assert_eq!(player.align, 4);
        assert_eq!(player.field(b"health").unwrap().offset, 8);
    }

    #[test]
    fn padding_and_nesting() {
        let inner = Rc::new(
            layout(vec![
                spec("c", Scalar::U8, None),
                spec("d", Scalar::F64, None),
            ])
            .unwrap(),
        );
        assert_eq!((inner.size, inner.align), (16, 8));
        let outer = layout(vec![
            spec("a", Scalar::U8, None),
            FieldSpec {
                name: "in".into(),
                ty: FieldType::Struct(inner),
                count: Some(2),
            },
            spec("z", Scalar::U16, None),
        ])
        .unwrap();
        assert_eq!(outer.field(b"in").unwrap().offset, 8);
        assert_eq!(outer.field(b"z").unwrap().offset, 40);
        assert_eq!(outer.size, 48);
    }

    #[test]
    fn bad_fields_are_named() {
        let err = layout(vec![
            spec("a", Scalar::U8, None),
            spec("a", Scalar::U8, None),
        ])
        .unwrap_err();
        assert_eq!(err, "duplicate field 'a'");
        let err = layout(vec![spec("v", Scalar::Void, None)]).unwrap_err();
        assert_eq!(err, "field 'v' cannot have type void");
        let err = layout(vec![spec("n", Scalar::U8, Some(0))]).unwrap_err();
        assert_eq!(err, "field 'n': array length must be positive");
    }
}
