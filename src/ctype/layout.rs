//! Sizes and record layout: the one place where the sizes and alignments of types, member
//! offsets, padding, bit-fields, packing and explicit alignment are computed, for any
//! [`Target`]; and the ABI view of a record ([`Shape`]) that the code generator classifies.
//! (The graph's nodes hold a record's layout; this module computes it, so the graph itself
//! depends on nothing here.)
//!
//! The rules are gcc's for System V targets (the x86-64 and AArch64 psABIs agree with them):
//! - an ordinary member sits at the next multiple of its alignment: its type's, raised by
//!   `aligned(n)` on the member, lowered to 1 byte in a `packed` record (unless the member
//!   has `aligned(n)` itself, which then wins), and capped by `#pragma pack(n)` in any case;
//! - a bit-field takes the next free bits, unless they would straddle more storage units
//!   of its type's alignment than its type has; then it starts at the next such unit (not in
//!   packed records or under `#pragma pack`, where bit-fields run on bit by bit);
//! - a zero-width bit-field moves the next member to its type's alignment, which neither
//!   `packed` nor `#pragma pack` lowers;
//! - the record's alignment is the largest of its members' (named bit-fields count with
//!   their type's alignment, capped like ordinary members) and of its own `aligned(n)`; its
//!   size is the end of its last member rounded up to that alignment;
//! - unnamed bit-fields leave the record's alignment alone on x86-64 and Apple's arm64; AAPCS64
//!   counts them as named ones, a zero-width one with its type's alignment uncapped
//!   ([`Target::unnamed_bit_fields_align`]);
//! - a flexible array member adds its element's alignment and no size.
//!
//! Microsoft's rules (Windows; gcc's `ms_struct`) differ for bit-fields only:
//! - a bit-field opens a storage unit of its type's size, at its type's alignment; the
//!   bit-fields after it share that unit while their types have the same size and they fit,
//!   and the whole unit counts towards the record's size;
//! - every bit-field, named or not, adds its type's alignment to the record's;
//! - a zero-width bit-field right after a bit-field closes its unit and aligns what follows
//!   to its own type (adding that alignment to the record's); anywhere else it is ignored;
//! - in a union, a bit-field occupies a whole unit of its type.

use moonthunk_jit::abi::{Leaf, Shape};

use super::graph::{
    CType, FieldLayout, FloatType, Kind, RecordBody, RecordKind, RecordLayout, RecordType,
};
use super::target::{RecordRules, SizeAlign, Target};

// ---------------------------------------------------------------- the graph's sizes

impl RecordType {
    /// Completes the record. Fails if it already has a body or the body is malformed
    /// (incomplete member types, misplaced flexible arrays, bad bit-fields, duplicate names).
    pub fn set_body(&self, body: RecordBody) -> Result<(), String> {
        check_body(self.kind, &body)?;
        self.body
            .set(body)
            .map_err(|_| format!("{} is already defined", self.spelling()))
    }

    /// The layout on `target`; the host's is computed once and kept.
    pub fn layout(&self, target: &Target) -> Result<RecordLayout, String> {
        if *target == Target::host() {
            return self.host_layout().cloned();
        }
        self.compute_layout(target)
    }

    /// The host's layout, computed once.
    pub fn host_layout(&self) -> Result<&RecordLayout, String> {
        if self.body.get().is_none() {
            return Err(format!("{} is incomplete", self.spelling()));
        }
        self.host_layout
            .get_or_init(|| self.compute_layout(&Target::host()))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn compute_layout(&self, target: &Target) -> Result<RecordLayout, String> {
        let body = self
            .body
            .get()
            .ok_or_else(|| format!("{} is incomplete", self.spelling()))?;
        lay_out(self.kind, body, target)
    }

    /// The member called `name`, looking through anonymous members: its type and its
    /// layout (offsets from the start of this record).
    pub fn find_field(&self, name: &str, target: &Target) -> Option<(CType, FieldLayout)> {
        let body = self.body.get()?;
        let layout = self.layout(target).ok()?;
        for (field, at) in body.fields.iter().zip(&layout.fields) {
            match &field.name {
                Some(n) if n == name => return Some((field.ty, *at)),
                Some(_) => {}
                None => {
                    // An anonymous member: its members are this record's (an unnamed
                    // bit-field has none).
                    let found = field
                        .ty
                        .as_record()
                        .and_then(|inner| inner.find_field(name, target));
                    if let Some((ty, place)) = found {
                        return Some((ty, place.shifted_by(at.offset)));
                    }
                }
            }
        }
        None
    }
}

impl CType {
    /// Size and alignment on `target`; `None` for void, functions and incomplete types.
    pub fn size_align(self, target: &Target) -> Option<SizeAlign> {
        match self.kind() {
            Kind::Void | Kind::Function(_) => None,
            Kind::Bool => Some(target.bool),
            Kind::Int(int) => Some(int.size_align(target)),
            Kind::Float(FloatType::Float) => Some(target.float),
            Kind::Float(FloatType::Double) => Some(target.double),
            Kind::Float(FloatType::LongDouble) => Some(target.long_double),
            Kind::Pointer(_) => Some(target.pointer),
            Kind::Qualified(base, _) => base.size_align(target),
            Kind::Array(element, len) => {
                let element = element.size_align(target)?;
                Some(SizeAlign {
                    size: element.size.checked_mul((*len)?)?,
                    align: element.align,
                })
            }
            Kind::Record(record) => {
                let of = |layout: &RecordLayout| SizeAlign {
                    size: layout.size,
                    align: layout.align,
                };
                // The host's layout is kept: read it rather than copy it.
                if *target == Target::host() {
                    record.host_layout().ok().map(of)
                } else {
                    record.layout(target).ok().map(|layout| of(&layout))
                }
            }
            Kind::Enum(enumeration) => enumeration.body()?.base.size_align(target),
        }
    }

    /// `sizeof` on `target`.
    pub fn size_on(self, target: &Target) -> Option<usize> {
        self.size_align(target).map(|t| t.size)
    }

    /// `_Alignof` on `target`. Incomplete arrays have their element's alignment.
    pub fn align_on(self, target: &Target) -> Option<usize> {
        match self.unqualified().kind() {
            Kind::Array(element, None) => element.align_on(target),
            _ => self.size_align(target).map(|t| t.align),
        }
    }

    /// `sizeof` on the host.
    pub fn size(self) -> Option<usize> {
        match self.unqualified().kind() {
            Kind::Record(record) => record.host_layout().ok().map(|l| l.size),
            _ => self.size_on(&Target::host()),
        }
    }

    /// `_Alignof` on the host.
    pub fn align(self) -> Option<usize> {
        match self.unqualified().kind() {
            Kind::Record(record) => record.host_layout().ok().map(|l| l.align),
            _ => self.align_on(&Target::host()),
        }
    }
}

/// A storage unit that bit-fields share under the Microsoft rules.
struct StorageUnit {
    start: usize,
    bits: usize,
    used: usize,
}

/// Records larger than this are refused, so that offsets never overflow anywhere.
const MAX_RECORD_SIZE: usize = isize::MAX as usize / 16;

fn name_of(field: &super::graph::Field) -> &str {
    field.name.as_deref().unwrap_or("<unnamed>")
}

fn check_alignment(what: &str, align: Option<usize>) -> Result<(), String> {
    match align {
        Some(n) if !n.is_power_of_two() => {
            Err(format!("{what}: alignment {n} is not a power of two"))
        }
        _ => Ok(()),
    }
}

/// Checks what does not depend on the target: that every member can be laid out at all.
pub(super) fn check_body(kind: RecordKind, body: &RecordBody) -> Result<(), String> {
    check_alignment("record", body.align)?;
    check_alignment("#pragma pack", body.max_align)?;
    let mut names = Vec::new();
    collect_names(body, &mut names);
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("duplicate member '{}'", pair[0]));
    }
    let last = body.fields.len().saturating_sub(1);
    for (i, field) in body.fields.iter().enumerate() {
        let name = name_of(field);
        check_alignment(&format!("member '{name}'"), field.align)?;
        let ty = field.ty.unqualified();
        if let Some(width) = field.bits {
            if !matches!(ty.kind(), Kind::Int(_) | Kind::Bool | Kind::Enum(_)) {
                return Err(format!(
                    "bit-field '{name}' has non-integer type {}",
                    field.ty
                ));
            }
            if width == 0 && field.name.is_some() {
                return Err(format!("zero width for bit-field '{name}'"));
            }
        } else if field.name.is_none() && ty.as_record().is_none() {
            return Err(format!(
                "unnamed member of type {} declares nothing",
                field.ty
            ));
        }
        if let Kind::Array(element, None) = ty.kind() {
            if kind == RecordKind::Union {
                return Err(format!("flexible array member '{name}' in a union"));
            }
            if i != last {
                return Err(format!(
                    "flexible array member '{name}' not at end of struct"
                ));
            }
            if i == 0 {
                return Err(format!(
                    "flexible array member '{name}' in an otherwise empty struct"
                ));
            }
            if !element.is_complete() {
                return Err(format!("member '{name}' has incomplete type {}", field.ty));
            }
        } else if !ty.is_complete() {
            return Err(format!("member '{name}' has incomplete type {}", field.ty));
        }
    }
    Ok(())
}

/// The names a record's members are reached by, anonymous members' included.
fn collect_names<'a>(body: &'a RecordBody, names: &mut Vec<&'a str>) {
    for field in &body.fields {
        match &field.name {
            Some(name) => names.push(name),
            None => {
                if let Some(inner) = field.ty.as_record().and_then(|r| r.body()) {
                    collect_names(inner, names);
                }
            }
        }
    }
}

fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

/// Lays out a complete record body on `target`.
pub(super) fn lay_out(
    kind: RecordKind,
    body: &RecordBody,
    target: &Target,
) -> Result<RecordLayout, String> {
    let msvc = target.record_rules == RecordRules::Msvc;
    let cap = |align: usize| body.max_align.map_or(align, |max| align.min(max));
    let mut next_bit = 0usize; // the first free bit of a struct
    let mut end_bit = 0usize; // the end of the furthest member
    let mut record_align = 1usize;
    // Microsoft rules: the storage unit the last bit-field opened, while bit-fields follow.
    let mut open_unit: Option<StorageUnit> = None;
    let mut fields = Vec::with_capacity(body.fields.len());
    for field in &body.fields {
        let name = name_of(field);
        let start = if kind == RecordKind::Union {
            0
        } else {
            next_bit
        };
        let ty = field.ty;
        let (bit, width) = if let Some(width) = field.bits {
            let unit = ty
                .size_align(target)
                .expect("checked: bit-fields are integers");
            let width = width as usize;
            if width > unit.size * 8 {
                return Err(format!(
                    "width of bit-field '{name}' ({width} bits) exceeds its type ({} bits)",
                    unit.size * 8
                ));
            }
            let zero_width = FieldLayout {
                offset: start / 8,
                bit_offset: start,
                bit_width: Some(0),
            };
            if width == 0 && msvc {
                // Ends the unit of a bit-field before it, and aligns what follows to its
                // type; after anything else it means nothing.
                if open_unit.take().is_some() && kind == RecordKind::Struct {
                    let align = cap(unit.align);
                    record_align = record_align.max(align);
                    next_bit = round_up(next_bit, align * 8);
                }
                fields.push(zero_width);
                continue;
            }
            if width == 0 {
                fields.push(zero_width);
                next_bit = round_up(start, unit.align * 8);
                if target.unnamed_bit_fields_align {
                    record_align = record_align.max(unit.align);
                }
                continue;
            }
            if msvc {
                let align = cap(match (body.packed, field.align) {
                    (true, own) => own.unwrap_or(1),
                    (false, own) => unit.align.max(own.unwrap_or(1)),
                });
                record_align = record_align.max(align);
                let unit_bits = unit.size * 8;
                let shared = open_unit.as_mut().filter(|open| {
                    kind == RecordKind::Struct
                        && open.bits == unit_bits
                        && open.used + width <= unit_bits
                });
                let bit = match shared {
                    Some(open) => {
                        open.used += width;
                        open.start + open.used - width
                    }
                    None => {
                        let bit = round_up(start, align * 8);
                        open_unit = Some(StorageUnit {
                            start: bit,
                            bits: unit_bits,
                            used: width,
                        });
                        bit
                    }
                };
                fields.push(FieldLayout {
                    offset: bit / 8,
                    bit_offset: bit,
                    bit_width: field.bits,
                });
                // The whole unit is the record's, whatever of it the bit-fields use.
                let unit_start = open_unit.as_ref().map_or(0, |open| open.start);
                end_bit = end_bit.max(unit_start + unit_bits);
                next_bit = unit_start + unit_bits;
                continue;
            }
            let mut bit = match field.align {
                Some(align) => round_up(start, cap(align) * 8),
                None => start,
            };
            let unit_bits = unit.align * 8;
            let may_straddle = body.packed || body.max_align.is_some();
            if !may_straddle
                && (bit % unit_bits + width).div_ceil(unit_bits) > unit.size * 8 / unit_bits
            {
                bit = round_up(bit, unit_bits);
            }
            if field.name.is_some() || target.unnamed_bit_fields_align {
                let type_align = match body.max_align {
                    Some(max) => unit.align.min(max),
                    None if body.packed => 1,
                    None => unit.align,
                };
                let own = field.align.map_or(1, cap);
                record_align = record_align.max(type_align).max(own);
            }
            (bit, width)
        } else {
            open_unit = None;
            let element = match ty.unqualified().kind() {
                Kind::Array(element, None) => *element,
                _ => ty,
            };
            let natural = element
                .align_on(target)
                .ok_or_else(|| format!("member '{name}' has no size"))?;
            let align = match (body.packed, field.align) {
                (true, Some(own)) => own,
                (true, None) => 1,
                (false, own) => natural.max(own.unwrap_or(1)),
            };
            let align = cap(align);
            let size = match ty.unqualified().kind() {
                Kind::Array(_, None) => 0,
                _ => ty
                    .size_on(target)
                    .ok_or_else(|| format!("member '{name}' has no size"))?,
            };
            if size > MAX_RECORD_SIZE {
                return Err(format!("member '{name}' is too large"));
            }
            record_align = record_align.max(align);
            (round_up(start, align * 8), size * 8)
        };
        fields.push(FieldLayout {
            offset: bit / 8,
            bit_offset: bit,
            bit_width: field.bits,
        });
        let end = bit + width;
        if end / 8 > MAX_RECORD_SIZE {
            return Err("record is too large".into());
        }
        end_bit = end_bit.max(end);
        next_bit = end;
    }
    if kind == RecordKind::Struct {
        end_bit = end_bit.max(next_bit);
    }
    let align = record_align.max(body.align.unwrap_or(1));
    Ok(RecordLayout {
        size: round_up(end_bit.div_ceil(8), align),
        align,
        fields,
    })
}

impl CType {
    /// The ABI's view of a record on the host: its size, alignment and every scalar leaf at
    /// its offset, arrays and nested records flattened, union members overlapping. `None`
    /// for non-records, incomplete records and records holding a `long double` wider than a
    /// double (no leaf describes it). Bit-fields are seen as the integer bytes they cover.
    pub fn shape(self) -> Option<Shape> {
        let record = self.as_record()?;
        let layout = record.host_layout().ok()?;
        let mut leaves = Vec::new();
        collect_leaves(self, 0, &Target::host(), &mut leaves)?;
        leaves.sort_by_key(|&(offset, _)| offset);
        Some(Shape {
            size: u32::try_from(layout.size).ok()?,
            align: u32::try_from(layout.align).ok()?,
            leaves,
        })
    }
}

/// Adds the leaves of a `ty` at `base` to `leaves`, in declaration order.
fn collect_leaves(
    ty: CType,
    base: usize,
    target: &Target,
    leaves: &mut Vec<(u32, Leaf)>,
) -> Option<()> {
    let at = |offset: usize| u32::try_from(offset).ok();
    match ty.unqualified().kind() {
        Kind::Record(record) => {
            let body = record.body()?;
            let layout = record.layout(target).ok()?;
            for (field, place) in body.fields.iter().zip(&layout.fields) {
                match place.bit_width {
                    Some(0) => {}
                    Some(width) => {
                        let first = place.bit_offset / 8;
                        let last = (place.bit_offset + width as usize - 1) / 8;
                        for byte in first..=last {
                            leaves.push((at(base + byte)?, Leaf::Int(1)));
                        }
                    }
                    None => collect_leaves(field.ty, base + place.offset, target, leaves)?,
                }
            }
        }
        Kind::Array(element, len) => {
            let size = element.size_on(target)?;
            for i in 0..len.unwrap_or(0) {
                collect_leaves(*element, base + i * size, target, leaves)?;
            }
        }
        Kind::Float(FloatType::Float) => leaves.push((at(base)?, Leaf::F32)),
        Kind::Float(FloatType::Double) => leaves.push((at(base)?, Leaf::F64)),
        Kind::Float(FloatType::LongDouble) if target.long_double.size == 8 => {
            leaves.push((at(base)?, Leaf::F64))
        }
        Kind::Float(FloatType::LongDouble) | Kind::Void | Kind::Function(_) => return None,
        Kind::Bool | Kind::Int(_) | Kind::Pointer(_) | Kind::Enum(_) => {
            let size = ty.size_on(target)?;
            leaves.push((at(base)?, Leaf::Int(u8::try_from(size).ok()?)));
        }
        Kind::Qualified(..) => unreachable!("unqualified above"),
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctype::graph::{Field, IntType};

    fn int(t: IntType) -> CType {
        CType::int(t)
    }

    fn record(kind: RecordKind, body: RecordBody) -> CType {
        let ty = CType::new_record(kind, None);
        ty.as_record().unwrap().set_body(body).unwrap();
        ty
    }

    fn fields(fields: Vec<Field>) -> RecordBody {
        RecordBody {
            fields,
            ..RecordBody::default()
        }
    }

    #[test]
    fn padding_follows_member_alignment() {
        let s = record(
            RecordKind::Struct,
            fields(vec![
                Field::new("c", int(IntType::Char)),
                Field::new("d", CType::float(FloatType::Double)),
                Field::new("s", int(IntType::Short)),
            ]),
        );
        let layout = s.as_record().unwrap().host_layout().unwrap();
        let offsets: Vec<usize> = layout.fields.iter().map(|f| f.offset).collect();
        assert_eq!(
            (layout.size, layout.align, offsets),
            (24, 8, vec![0, 8, 16])
        );
    }

    #[test]
    fn bit_fields_move_to_the_next_unit_rather_than_straddle() {
        let s = record(
            RecordKind::Struct,
            fields(vec![
                Field::bit_field(Some("a"), int(IntType::UInt), 30),
                Field::bit_field(Some("b"), int(IntType::UInt), 4),
                Field::bit_field(None, int(IntType::UInt), 0),
                Field::bit_field(Some("c"), int(IntType::UChar), 3),
            ]),
        );
        let layout = s.as_record().unwrap().host_layout().unwrap();
        let bits: Vec<usize> = layout.fields.iter().map(|f| f.bit_offset).collect();
        assert_eq!(bits, vec![0, 32, 36, 64]);
        assert_eq!((layout.size, layout.align), (12, 4));
    }

    #[test]
    fn unnamed_bit_fields_align_records_on_aapcs64_only() {
        let x86_64 = Target::from_triple("x86_64-unknown-linux-gnu").unwrap();
        let aarch64 = Target::from_triple("aarch64-unknown-linux-gnu").unwrap();
        let char_ = || Field::new("c", int(IntType::Char));
        let end = || Field::new("end", int(IntType::Char));
        // (size, align, offset of `end`) on x86-64 and on AArch64 Linux, as gcc lays them out.
        let cases = [
            // `#pragma pack(1)` lowers neither the zero-width bit-field's alignment nor, on
            // AArch64, the record's.
            (
                RecordKind::Struct,
                vec![char_(), Field::bit_field(None, int(IntType::Int), 0), end()],
                Some(1),
                false,
                (5, 1, 4),
                (8, 4, 4),
            ),
            // Nor does `packed`.
            (
                RecordKind::Struct,
                vec![
                    char_(),
                    Field::bit_field(None, int(IntType::LongLong), 0),
                    end(),
                ],
                None,
                true,
                (9, 1, 8),
                (16, 8, 8),
            ),
            // An unnamed bit-field with a width counts as a named one would: capped by
            // `#pragma pack`...
            (
                RecordKind::Struct,
                vec![
                    char_(),
                    Field::bit_field(None, int(IntType::LongLong), 4),
                    end(),
                ],
                Some(2),
                false,
                (3, 1, 2),
                (4, 2, 2),
            ),
            // ... lowered to a byte by `packed`...
            (
                RecordKind::Struct,
                vec![char_(), Field::bit_field(None, int(IntType::Int), 4), end()],
                None,
                true,
                (3, 1, 2),
                (3, 1, 2),
            ),
            // ... and in unions too.
            (
                RecordKind::Union,
                vec![end(), Field::bit_field(None, int(IntType::Int), 4)],
                None,
                false,
                (1, 1, 0),
                (4, 4, 0),
            ),
        ];
        for (kind, members, max_align, packed, on_x86_64, on_aarch64) in cases {
            let body = RecordBody {
                max_align,
                packed,
                ..fields(members)
            };
            let ty = record(kind, body);
            let record = ty.as_record().unwrap();
            for (name, target, expected) in [
                ("x86-64", &x86_64, on_x86_64),
                ("AArch64", &aarch64, on_aarch64),
            ] {
                let layout = record.layout(target).unwrap();
                let (_, end) = record.find_field("end", target).unwrap();
                assert_eq!(
                    (layout.size, layout.align, end.offset),
                    expected,
                    "{:?} on {name}",
                    record.body().unwrap().fields
                );
            }
        }
    }

    #[test]
    fn bad_bodies_are_refused_with_the_member_named() {
        let bad = |kind, body| {
            CType::new_record(kind, Some("bad"))
                .as_record()
                .unwrap()
                .set_body(body)
                .unwrap_err()
        };
        let double = CType::float(FloatType::Double);
        assert_eq!(
            bad(
                RecordKind::Struct,
                fields(vec![Field::bit_field(Some("f"), double, 3)])
            ),
            "bit-field 'f' has non-integer type double"
        );
        let flexible = int(IntType::Int).array_of(None);
        assert_eq!(
            bad(
                RecordKind::Struct,
                fields(vec![
                    Field::new("tail", flexible),
                    Field::new("n", int(IntType::Int))
                ])
            ),
            "flexible array member 'tail' not at end of struct"
        );
        let incomplete = CType::new_record(RecordKind::Struct, Some("later"));
        assert_eq!(
            bad(RecordKind::Union, fields(vec![Field::new("x", incomplete)])),
            "member 'x' has incomplete type struct later"
        );
        assert_eq!(
            bad(
                RecordKind::Struct,
                fields(vec![Field::new("x", double), Field::new("x", double)])
            ),
            "duplicate member 'x'"
        );
        let wide = record(
            RecordKind::Struct,
            fields(vec![Field::bit_field(Some("w"), int(IntType::Long), 40)]),
        );
        let windows = Target::from_triple("x86_64-pc-windows-msvc").unwrap();
        assert!(wide.size_on(&windows).is_none());
        let linux = Target::from_triple("x86_64-unknown-linux-gnu").unwrap();
        assert_eq!(wide.size_on(&linux), Some(8));
    }

    #[test]
    fn shapes_flatten_arrays_nested_records_and_unions() {
        let float = CType::float(FloatType::Float);
        let inner = record(
            RecordKind::Struct,
            fields(vec![Field::new("f", float.array_of(Some(2)))]),
        );
        let outer = record(
            RecordKind::Struct,
            fields(vec![
                Field::new("c", int(IntType::I8)),
                Field::new("in", inner),
            ]),
        );
        let shape = outer.shape().unwrap();
        assert_eq!((shape.size, shape.align), (12, 4));
        assert_eq!(
            shape.leaves,
            vec![(0, Leaf::Int(1)), (4, Leaf::F32), (8, Leaf::F32)]
        );
        let union = record(
            RecordKind::Union,
            fields(vec![
                Field::new("i", int(IntType::I32)),
                Field::new("f", float),
            ]),
        );
        assert_eq!(
            union.shape().unwrap().leaves,
            vec![(0, Leaf::Int(4)), (0, Leaf::F32)]
        );
    }
}
