//! Struct layouts: records of scalars, nested records and fixed arrays, each field with the
//! value convention its values have on the Lua side.
//!
//! A face declares fields; the type graph (`crate::ctype`) places them: each definition is
//! a record type of the graph, whose layout gives the offsets, the size and the alignment
//! copied here for the accessors. Layouts are shared through `Rc` so that a nested
//! definition stays alive as long as any record using it.
//!
//! A field's convention is data, as a parameter's is (`crate::function::ValueType`): the
//! native face's fields are `FieldType::Scalar`, C/Invoke's `Cchar` and `Cptr` fields are
//! `CharString` and `Address`. Every path that reads or writes a field (records by value,
//! table-array elements, struct views) converts one element in its convention by the
//! conversions table-array elements use (`crate::memory::view::store_element`,
//! `push_element`, over `crate::convert::value_to_c` and `push_value`).

use std::rc::Rc;

use moonthunk_jit::abi::Shape;

use crate::ctype::{CType, Field as RecordField, RecordBody, RecordKind, Scalar};

/// What a field holds, and how its values look on the Lua side.
#[derive(Clone, Debug)]
pub enum FieldType {
    /// A scalar in the native convention: numbers, booleans, pointer objects.
    Scalar(Scalar),
    /// A `char` that Lua sees as a 1-character string (C/Invoke's `Cchar`).
    CharString {
        signed: bool,
    },
    /// A `void*` that Lua sees as an opaque light userdata, NULL included; stored from what
    /// an `Address` parameter takes (C/Invoke's `Cptr`).
    Address,
    Struct(Rc<StructLayout>),
}

impl FieldType {
    /// The size of one element.
    pub fn size(&self) -> usize {
        match (self, self.scalar()) {
            (FieldType::Struct(s), _) => s.size,
            (_, t) => t.expect("a field that is not a record is a scalar").size(),
        }
    }

    /// The alignment of one element.
    pub fn align(&self) -> usize {
        match (self, self.scalar()) {
            (FieldType::Struct(s), _) => s.align,
            (_, t) => t.expect("a field that is not a record is a scalar").align(),
        }
    }

    /// The C scalar of a field that is not a record.
    pub fn scalar(&self) -> Option<Scalar> {
        match self {
            FieldType::Scalar(t) => Some(*t),
            FieldType::CharString { signed: true } => Some(Scalar::I8),
            FieldType::CharString { signed: false } => Some(Scalar::U8),
            FieldType::Address => Some(Scalar::Pointer),
            FieldType::Struct(_) => None,
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
    /// The record type of the graph that placed the fields.
    pub record: CType,
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

impl FieldType {
    /// The graph's type of one element.
    fn ctype(&self) -> CType {
        match (self, self.scalar()) {
            (FieldType::Struct(s), _) => s.record,
            (_, t) => CType::from_scalar(t.expect("a field that is not a record is a scalar")),
        }
    }
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
        let mut members = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            if spec.name.is_empty() {
                return Err("field names must not be empty".into());
            }
            if specs[..i].iter().any(|f| f.name == spec.name) {
                return Err(format!("duplicate field '{}'", spec.name));
            }
            if let FieldType::Scalar(Scalar::Void) = spec.ty {
                return Err(format!("field '{}' cannot have type void", spec.name));
            }
            if spec.count.is_some()
                && !matches!(spec.ty, FieldType::Scalar(_) | FieldType::Struct(_))
            {
                // An array field is memory (a typed pointer in a view), whose elements have
                // the native convention only.
                return Err(format!(
                    "field '{}': arrays are native fields only",
                    spec.name
                ));
            }
            if spec.count == Some(0) {
                return Err(format!(
                    "field '{}': array length must be positive",
                    spec.name
                ));
            }
            spec.ty
                .size()
                .checked_mul(spec.count.unwrap_or(1))
                .filter(|&s| s <= isize::MAX as usize / 2)
                .ok_or_else(|| format!("field '{}' is too large", spec.name))?;
            let element = spec.ty.ctype();
            let ty = match spec.count {
                Some(n) => element.array_of(Some(n)),
                None => element,
            };
            members.push(RecordField::new(&spec.name, ty));
        }
        let kind = if options.union {
            RecordKind::Union
        } else {
            RecordKind::Struct
        };
        let record = CType::new_record(kind, None);
        let body = RecordBody {
            fields: members,
            packed: options.packed,
            ..RecordBody::default()
        };
        let placed = record
            .as_record()
            .expect("a record type")
            .set_body(body)
            .and_then(|()| record.as_record().expect("a record type").host_layout())
            // The fields were checked above: only their sum can be too large.
            .map_err(|_| "struct is too large".to_string())?;
        let fields = specs
            .into_iter()
            .zip(&placed.fields)
            .map(|(spec, place)| Field {
                size: spec.ty.size() * spec.count.unwrap_or(1),
                name: spec.name,
                ty: spec.ty,
                count: spec.count,
                offset: place.offset,
            })
            .collect();
        Ok(StructLayout {
            fields,
            size: placed.size,
            align: placed.align,
            record,
        })
    }

    /// The ABI's view: size, alignment and every scalar leaf at its offset.
    pub fn shape(&self) -> Shape {
        self.record
            .shape()
            .expect("records of scalars and records have a shape")
    }

    /// The field called `name`.
    pub fn field(&self, name: &[u8]) -> Option<&Field> {
        self.fields.iter().find(|f| f.name.as_bytes() == name)
    }
}

#[cfg(test)]
mod tests {
    use moonthunk_jit::abi::Leaf;

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
    fn convention_fields_are_placed_as_their_scalars() {
        let layout = layout(vec![
            FieldSpec {
                name: "c".into(),
                ty: FieldType::CharString { signed: true },
                count: None,
            },
            FieldSpec {
                name: "p".into(),
                ty: FieldType::Address,
                count: None,
            },
        ])
        .unwrap();
        let pointer = Scalar::Pointer.size();
        assert_eq!(
            (layout.size, layout.fields[1].offset),
            (2 * pointer, pointer)
        );
        let err = StructLayout::with_options(
            vec![FieldSpec {
                name: "s".into(),
                ty: FieldType::CharString { signed: false },
                count: Some(4),
            }],
            LayoutOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err, "field 's': arrays are native fields only");
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
