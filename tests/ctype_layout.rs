//! The type graph's record layout against gcc's: declarations are built with the graph,
//! written out as C from the graph itself, compiled, and every size, alignment, offset and
//! bit-field position the C program prints must equal what the graph computes for the host.

#[path = "common/target.rs"]
mod target;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use moonthunk::ctype::{
    CType, EnumBody, Field, FloatType, FunctionType, IntType, RecordBody, RecordKind, RecordRules,
    Target,
};

const TMP_DIR: &str = env!("CARGO_TARGET_TMPDIR");

/// The declarations under test, and the C text that declares the same types.
#[derive(Default)]
struct Declarations {
    /// Top-level records whose layout is printed, by name.
    checked: Vec<CType>,
    /// The checked records laid out by Microsoft's rules (gcc's `ms_struct`).
    microsoft: Vec<CType>,
    /// C definitions of every named record and enum, in the order they were made.
    c_definitions: String,
}

impl Declarations {
    /// `struct name;`: a record to complete later with [`Declarations::define`].
    fn declare(&mut self, kind: RecordKind, name: &str) -> CType {
        writeln!(self.c_definitions, "{}{name};", keyword(kind)).unwrap();
        CType::new_record(kind, Some(name))
    }

    /// Completes `ty` and writes its C definition, under its `#pragma pack` if it has one.
    fn define(&mut self, ty: CType, body: RecordBody) {
        let microsoft = self.microsoft.contains(&ty);
        let definition = record_definition(ty, &body, microsoft);
        match body.max_align {
            Some(max) => writeln!(
                self.c_definitions,
                "#pragma pack(push, {max})\n{definition};\n#pragma pack(pop)"
            ),
            None => writeln!(self.c_definitions, "{definition};"),
        }
        .unwrap();
        ty.as_record()
            .unwrap()
            .set_body(body)
            .expect("a valid body");
    }

    fn record(&mut self, kind: RecordKind, name: &str, body: RecordBody) -> CType {
        let ty = CType::new_record(kind, Some(name));
        self.define(ty, body);
        ty
    }

    /// A record whose layout the C program prints.
    fn check(&mut self, kind: RecordKind, name: &str, body: RecordBody) -> CType {
        let ty = self.record(kind, name, body);
        self.checked.push(ty);
        ty
    }

    /// A record whose layout the C program prints, laid out by Microsoft's rules. Only where
    /// gcc knows `ms_struct` (x86): elsewhere it ignores the attribute, and the graph's
    /// Microsoft rules are left to its unit tests.
    fn check_microsoft(&mut self, kind: RecordKind, name: &str, body: RecordBody) {
        if !cfg!(target_arch = "x86_64") {
            return;
        }
        let ty = CType::new_record(kind, Some(name));
        self.microsoft.push(ty);
        self.define(ty, body);
        self.checked.push(ty);
    }

    /// The rules `ty` is laid out by: the host's, or Microsoft's on the host's data model.
    fn target_of(&self, ty: CType) -> Target {
        let host = Target::host();
        if self.microsoft.contains(&ty) {
            Target {
                record_rules: RecordRules::Msvc,
                ..host
            }
        } else {
            host
        }
    }

    fn enumeration(&mut self, name: &str, constants: &[(&str, i128)]) -> CType {
        let ty = CType::new_enum(Some(name));
        let constants: Vec<(String, i128)> =
            constants.iter().map(|&(n, v)| (n.to_string(), v)).collect();
        let values: Vec<String> = constants
            .iter()
            .map(|(n, v)| match i64::try_from(*v) {
                Ok(v) => format!("{n} = {v}LL"),
                Err(_) => format!("{n} = {v}ULL"),
            })
            .collect();
        writeln!(
            self.c_definitions,
            "enum {name} {{ {} }};",
            values.join(", ")
        )
        .unwrap();
        let body = EnumBody::new(constants).unwrap();
        ty.as_enum().unwrap().set_body(body).unwrap();
        ty
    }
}

fn keyword(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Struct => "struct ",
        RecordKind::Union => "union ",
    }
}

/// `struct name { members } __attribute__((...))`, anonymous member records inline.
fn record_definition(ty: CType, body: &RecordBody, microsoft: bool) -> String {
    let record = ty.as_record().unwrap();
    let mut c = format!(
        "{}{} {{ ",
        keyword(record.kind()),
        record.name().unwrap_or("")
    );
    for field in &body.fields {
        let name = field.name.as_deref().unwrap_or("");
        let inner = field.ty.as_record().filter(|r| r.name().is_none());
        match inner {
            Some(inner) => {
                let inner_body = inner.body().expect("anonymous records are complete");
                assert_eq!(
                    inner_body.max_align, body.max_align,
                    "an inline record is under its parent's #pragma pack"
                );
                c.push_str(&record_definition(field.ty, inner_body, microsoft));
                c.push(' ');
                c.push_str(name);
            }
            None => c.push_str(&field.ty.declaration(name)),
        }
        if let Some(width) = field.bits {
            write!(c, " : {width}").unwrap();
        }
        if let Some(align) = field.align {
            write!(c, " __attribute__((aligned({align})))").unwrap();
        }
        c.push_str("; ");
    }
    c.push('}');
    let mut attributes = Vec::new();
    if microsoft {
        attributes.push("ms_struct".to_string());
    }
    if body.packed {
        attributes.push("packed".to_string());
    }
    if let Some(align) = body.align {
        attributes.push(format!("aligned({align})"));
    }
    if !attributes.is_empty() {
        write!(c, " __attribute__(({}))", attributes.join(", ")).unwrap();
    }
    c
}

/// The members reachable by name from a record (through anonymous members), with their types.
fn member_names(ty: CType) -> Vec<(String, CType, Option<u32>)> {
    let mut names = Vec::new();
    for field in &ty.as_record().unwrap().body().unwrap().fields {
        match &field.name {
            Some(name) => names.push((name.clone(), field.ty, field.bits)),
            None if field.bits.is_none() => names.extend(member_names(field.ty)),
            None => {}
        }
    }
    names
}

fn record_name(ty: CType) -> String {
    ty.to_string()
}

/// The C program printing what gcc made of every checked record.
fn c_program(declarations: &Declarations) -> String {
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\
         #include <sys/types.h>\n\n",
    );
    c.push_str(&declarations.c_definitions);
    c.push_str(
        "\nstatic void bits(const char *what, const unsigned char *p, size_t n) {\n\
         \x20   size_t first = (size_t)-1, count = 0;\n\
         \x20   for (size_t i = 0; i < n * 8; i++)\n\
         \x20       if (p[i / 8] & (1u << (i % 8))) { if (first == (size_t)-1) first = i; count++; }\n\
         \x20   printf(\"%s bit %zu %zu\\n\", what, first, count);\n}\n\nint main(void) {\n",
    );
    for &ty in &declarations.checked {
        let name = record_name(ty);
        writeln!(c, "    printf(\"{name} size %zu\\n\", sizeof({name}));").unwrap();
        writeln!(c, "    printf(\"{name} align %zu\\n\", _Alignof({name}));").unwrap();
        for (member, member_type, bits) in member_names(ty) {
            match bits {
                None => writeln!(
                    c,
                    "    printf(\"{name}.{member} offset %zu\\n\", offsetof({name}, {member}));"
                )
                .unwrap(),
                Some(_) => {
                    let ones = if member_type.unqualified() == CType::bool() {
                        "1"
                    } else {
                        "-1"
                    };
                    writeln!(
                        c,
                        "    {{ {name} s; memset(&s, 0, sizeof s); s.{member} = {ones}; \
                         bits(\"{name}.{member}\", (const unsigned char *)&s, sizeof s); }}"
                    )
                    .unwrap()
                }
            }
        }
    }
    c.push_str("    return 0;\n}\n");
    c
}

/// The same report, from the graph.
fn graph_report(declarations: &Declarations) -> String {
    let mut report = String::new();
    for &ty in &declarations.checked {
        let name = record_name(ty);
        let target = declarations.target_of(ty);
        let record = ty.as_record().unwrap();
        let layout = record.layout(&target).unwrap();
        writeln!(report, "{name} size {}", layout.size).unwrap();
        writeln!(report, "{name} align {}", layout.align).unwrap();
        for (member, _, _) in member_names(ty) {
            let (_, place) = record.find_field(&member, &target).unwrap();
            match place.bit_width {
                None => writeln!(report, "{name}.{member} offset {}", place.offset).unwrap(),
                Some(width) => {
                    writeln!(report, "{name}.{member} bit {} {width}", place.bit_offset).unwrap()
                }
            }
        }
    }
    report
}

fn gcc_report(program: &str) -> String {
    let dir = Path::new(TMP_DIR);
    let source = dir.join(format!("ctype_layout_{}.c", std::process::id()));
    let binary = dir.join(format!("ctype_layout_{}", std::process::id()));
    std::fs::write(&source, program).unwrap();
    let compiled = Command::new(std::env::var("CC").unwrap_or_else(|_| "gcc".into()))
        .args(["-std=gnu11", "-w", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("cannot run the C compiler");
    assert!(
        compiled.status.success(),
        "compiling the layout probe failed:\n{}\n{program}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let run = target::target_command(&binary)
        .output()
        .expect("the probe runs");
    assert!(run.status.success());
    String::from_utf8(run.stdout).unwrap()
}

fn int(t: IntType) -> CType {
    CType::int(t)
}

fn named(name: &str, ty: CType) -> Field {
    Field::new(name, ty)
}

fn fields(fields: Vec<Field>) -> RecordBody {
    RecordBody {
        fields,
        ..RecordBody::default()
    }
}

fn packed(fields: Vec<Field>) -> RecordBody {
    RecordBody {
        fields,
        packed: true,
        ..RecordBody::default()
    }
}

fn pragma_pack(max: usize, fields: Vec<Field>) -> RecordBody {
    RecordBody {
        fields,
        max_align: Some(max),
        ..RecordBody::default()
    }
}

fn bits(name: &str, ty: CType, width: u32) -> Field {
    Field::bit_field(Some(name), ty, width)
}

fn unnamed_bits(ty: CType, width: u32) -> Field {
    Field::bit_field(None, ty, width)
}

/// Every declaration under test.
fn declarations() -> Declarations {
    use IntType::*;
    use RecordKind::{Struct, Union};
    let mut d = Declarations::default();
    let (char, uchar, short, uint, long, llong) = (
        int(Char),
        int(UChar),
        int(Short),
        int(UInt),
        int(Long),
        int(LongLong),
    );
    let int_ = int(Int);
    let float = CType::float(FloatType::Float);
    let double = CType::float(FloatType::Double);
    let long_double = CType::float(FloatType::LongDouble);
    let void_ptr = CType::void().pointer_to();

    d.check(
        Struct,
        "padding",
        fields(vec![
            named("c", char),
            named("d", double),
            named("s", short),
        ]),
    );
    let every_integer = [
        Char, SChar, UChar, Short, UShort, Int, UInt, Long, ULong, LongLong, ULongLong, I8, U8,
        I16, U16, I32, U32, I64, U64, Size, SSize, PtrDiff, IntPtr, UIntPtr,
    ];
    let mut integers = vec![named("b", CType::bool())];
    for (i, t) in every_integer.into_iter().enumerate() {
        integers.push(named(&format!("i{i}"), int(t)));
        integers.push(named(&format!("c{i}"), char));
    }
    d.check(Struct, "integers", fields(integers));
    d.check(
        Struct,
        "floats",
        fields(vec![
            named("c", char),
            named("f", float),
            named("d", double),
            named("c2", char),
            named("ld", long_double),
            named("c3", char),
        ]),
    );
    let callback = CType::function(FunctionType {
        result: int_,
        params: vec![int_, double],
        variadic: false,
        convention: Default::default(),
    });
    let list = d.declare(Struct, "list");
    d.check(
        Struct,
        "pointers",
        fields(vec![
            named("c", char),
            named("p", void_ptr),
            named("s", char.constant().pointer_to()),
            named("fn", callback.pointer_to()),
            named("next", list.pointer_to()),
            named("fixed", char.pointer_to().constant()),
            named("rows", int_.array_of(Some(3)).pointer_to()),
        ]),
    );
    d.check(
        Struct,
        "arrays",
        fields(vec![
            named("a", int_.array_of(Some(3))),
            named("s", char.array_of(Some(5))),
            named("d", double),
            named("grid", short.array_of(Some(3)).array_of(Some(2))),
            named("tail", char),
        ]),
    );
    let point = d.check(
        Struct,
        "point",
        fields(vec![
            named("x", float),
            named("y", double),
            named("tag", char),
        ]),
    );
    d.check(
        Struct,
        "nested",
        fields(vec![named("c", char), named("p", point), named("s", short)]),
    );
    d.check(
        Struct,
        "array_of_records",
        fields(vec![
            named("n", char),
            named("points", point.array_of(Some(3))),
            named("z", char),
        ]),
    );
    let number = d.check(
        Union,
        "number",
        fields(vec![
            named("i", int_),
            named("d", double),
            named("b", char.array_of(Some(3))),
        ]),
    );
    d.check(
        Union,
        "union_of_records",
        fields(vec![
            named("p", point),
            named("n", number),
            named("bytes", uchar.array_of(Some(13))),
        ]),
    );
    d.check(
        Struct,
        "record_with_union",
        fields(vec![
            named("tag", char),
            named("value", number),
            named("end", short),
        ]),
    );
    d.check(
        Struct,
        "packed",
        packed(vec![named("c", char), named("i", int_), named("d", double)]),
    );
    d.check(
        Struct,
        "packed_aligned_member",
        packed(vec![
            named("c", char),
            named("i", int_).aligned(4),
            named("s", short),
        ]),
    );
    d.check(
        Struct,
        "packed_holding_record",
        packed(vec![named("c", char), named("p", point)]),
    );
    d.check(
        Struct,
        "pack1",
        pragma_pack(
            1,
            vec![named("c", char), named("d", double), named("s", short)],
        ),
    );
    d.check(
        Struct,
        "pack2",
        pragma_pack(
            2,
            vec![
                named("c", char),
                named("d", double),
                named("i", int_),
                named("c2", char),
            ],
        ),
    );
    d.check(
        Struct,
        "pack4",
        pragma_pack(
            4,
            vec![
                named("c", char),
                named("ll", llong),
                named("ld", long_double),
            ],
        ),
    );
    d.check(
        Struct,
        "pack2_aligned_member",
        pragma_pack(2, vec![named("c", char), named("d", double).aligned(16)]),
    );
    d.check(
        Struct,
        "aligned_record",
        RecordBody {
            align: Some(16),
            ..fields(vec![named("c", char)])
        },
    );
    d.check(
        Struct,
        "aligned_member",
        fields(vec![
            named("c", char),
            named("d", double).aligned(32),
            named("e", char),
        ]),
    );
    d.check(
        Struct,
        "aligned_char",
        fields(vec![
            named("a", char),
            named("b", char).aligned(8),
            named("c", char),
        ]),
    );
    let packed_aligned = d.check(
        Struct,
        "packed_and_aligned",
        RecordBody {
            align: Some(16),
            ..packed(vec![named("c", char), named("i", int_)])
        },
    );
    d.check(
        Struct,
        "packed_holding_aligned",
        packed(vec![
            named("c", char),
            named("inner", packed_aligned),
            named("e", char),
        ]),
    );
    let color = d.enumeration("color", &[("RED", 0), ("GREEN", 1), ("BLUE", 2)]);
    let sign = d.enumeration("sign", &[("NEGATIVE", -1), ("POSITIVE", 1)]);
    let wide = d.enumeration("wide", &[("SMALL", 1), ("HUGE", 1 << 40)]);
    let huge = d.enumeration("huge", &[("TOP", u64::MAX as i128)]);
    d.check(
        Struct,
        "enums",
        fields(vec![
            named("c", char),
            named("color", color),
            named("c2", char),
            named("sign", sign),
            named("c3", char),
            named("wide", wide),
            named("huge", huge),
        ]),
    );
    d.check(
        Struct,
        "bit_fields",
        fields(vec![
            bits("a", uint, 3),
            bits("b", uint, 5),
            bits("c", uint, 24),
            bits("d", uint, 1),
        ]),
    );
    d.check(
        Struct,
        "straddling",
        fields(vec![
            bits("a", int_, 30),
            bits("b", int_, 4),
            bits("c", short, 9),
            bits("d", short, 9),
        ]),
    );
    d.check(
        Struct,
        "zero_width",
        fields(vec![
            named("a", char),
            unnamed_bits(int_, 0),
            named("b", char),
        ]),
    );
    d.check(
        Struct,
        "zero_width_between_bit_fields",
        fields(vec![
            bits("a", uchar, 3),
            unnamed_bits(llong, 0),
            bits("b", uchar, 3),
        ]),
    );
    d.check(
        Struct,
        "unnamed_bit_field",
        fields(vec![
            named("a", char),
            unnamed_bits(int_, 4),
            named("b", char),
        ]),
    );
    d.check(
        Struct,
        "mixed_bit_fields",
        fields(vec![
            bits("a", char, 3),
            bits("b", short, 10),
            bits("c", int_, 20),
            bits("d", llong, 40),
            bits("e", uchar, 7),
        ]),
    );
    d.check(
        Struct,
        "bool_and_signed_bit_fields",
        fields(vec![
            bits("flag", CType::bool(), 1),
            bits("g", int(SChar), 5),
            bits("h", int(Int), 5),
            bits("l", long, 33),
        ]),
    );
    d.check(
        Struct,
        "bit_field_after_member",
        fields(vec![
            named("c", char),
            bits("x", int_, 20),
            named("d", char),
            bits("y", short, 9),
        ]),
    );
    d.check(
        Struct,
        "long_long_bit_fields",
        fields(vec![
            bits("a", llong, 60),
            bits("b", llong, 10),
            bits("c", int(ULongLong), 64),
        ]),
    );
    d.check(
        Struct,
        "enum_bit_fields",
        fields(vec![
            bits("color", color, 2),
            bits("sign", sign, 2),
            named("c", char),
        ]),
    );
    d.check(
        Struct,
        "aligned_bit_field",
        fields(vec![
            named("a", char),
            bits("b", int_, 3).aligned(8),
            bits("c", int_, 3),
        ]),
    );
    d.check(
        Struct,
        "packed_bit_fields",
        packed(vec![
            bits("a", uint, 3),
            bits("b", uint, 30),
            named("c", char),
            bits("d", uchar, 7),
        ]),
    );
    d.check(
        Struct,
        "pack1_bit_fields",
        pragma_pack(
            1,
            vec![bits("a", int_, 30), bits("b", int_, 4), named("c", char)],
        ),
    );
    d.check(
        Struct,
        "pack2_bit_fields",
        pragma_pack(
            2,
            vec![
                named("c", char),
                bits("a", int_, 20),
                unnamed_bits(int_, 0),
                bits("b", int_, 3),
            ],
        ),
    );
    d.check(
        Union,
        "union_bit_fields",
        fields(vec![
            bits("a", uint, 3),
            bits("b", uchar, 7),
            named("s", short),
        ]),
    );
    // Neither `#pragma pack` nor `packed` lowers a zero-width bit-field's alignment; AAPCS64
    // counts unnamed bit-fields towards the record's alignment.
    d.check(
        Struct,
        "pack1_zero_width",
        pragma_pack(
            1,
            vec![named("a", char), unnamed_bits(int_, 0), named("b", char)],
        ),
    );
    d.check(
        Struct,
        "packed_zero_width",
        packed(vec![
            named("a", char),
            unnamed_bits(llong, 0),
            named("b", char),
        ]),
    );
    d.check(
        Struct,
        "pack2_unnamed_bit_field",
        pragma_pack(
            2,
            vec![named("a", char), unnamed_bits(llong, 4), named("b", char)],
        ),
    );
    d.check(
        Struct,
        "packed_unnamed_bit_field",
        packed(vec![
            named("a", char),
            unnamed_bits(int_, 4),
            named("b", char),
        ]),
    );
    d.check(
        Union,
        "union_unnamed_bit_fields",
        fields(vec![
            named("c", char),
            unnamed_bits(short, 3),
            unnamed_bits(int_, 0),
        ]),
    );
    d.check(
        Struct,
        "flexible_array",
        fields(vec![named("n", int_), named("data", double.array_of(None))]),
    );
    d.check(
        Struct,
        "flexible_chars",
        fields(vec![named("c", char), named("data", short.array_of(None))]),
    );
    let anonymous_union = CType::new_record(Union, None);
    anonymous_union
        .as_record()
        .unwrap()
        .set_body(fields(vec![named("i", int_), named("d", double)]))
        .unwrap();
    let anonymous_struct = CType::new_record(Struct, None);
    anonymous_struct
        .as_record()
        .unwrap()
        .set_body(fields(vec![named("x", char), named("y", char)]))
        .unwrap();
    d.check(
        Struct,
        "anonymous_members",
        fields(vec![
            named("tag", int_),
            Field::anonymous(anonymous_union),
            Field::anonymous(anonymous_struct),
            named("end", char),
        ]),
    );
    let packed_union = CType::new_record(Union, None);
    packed_union
        .as_record()
        .unwrap()
        .set_body(pragma_pack(1, vec![named("u", int_), named("v", double)]))
        .unwrap();
    d.check(
        Struct,
        "pack1_anonymous_union",
        pragma_pack(1, vec![named("c", char), Field::anonymous(packed_union)]),
    );
    d.check(
        Struct,
        "long_double",
        fields(vec![
            named("c", char),
            named("ld", long_double),
            named("tail", short),
        ]),
    );
    d.check(
        Struct,
        "array_of_unions",
        fields(vec![
            named("c", char),
            named("numbers", number.array_of(Some(2))),
        ]),
    );
    d.check(
        Struct,
        "qualified_members",
        fields(vec![
            named("c", char.constant()),
            named(
                "v",
                int(Long).qualified(moonthunk::ctype::Qualifiers::VOLATILE),
            ),
            named("p", int_.constant().pointer_to().constant()),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_bit_fields",
        fields(vec![
            bits("a", uint, 3),
            bits("b", uint, 5),
            bits("c", uint, 24),
            bits("d", uint, 1),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_bit_field_after_member",
        fields(vec![
            named("c", char),
            bits("x", int_, 20),
            named("d", char),
            bits("y", short, 9),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_mixed_sizes",
        fields(vec![
            bits("a", char, 3),
            bits("b", short, 10),
            bits("c", int_, 20),
            bits("d", llong, 40),
            bits("e", uchar, 7),
            bits("f", int(Char), 2),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_same_size_types_share",
        fields(vec![
            bits("a", int_, 7),
            bits("b", uint, 9),
            bits("c", int_, 17),
            bits("d", uint, 1),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_zero_width_after_bit_field",
        fields(vec![
            bits("foo", char, 4),
            unnamed_bits(short, 0),
            named("bar", char),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_zero_width_after_member",
        fields(vec![
            named("foo", char),
            unnamed_bits(long, 0),
            named("bar", char),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_unnamed_bit_field",
        fields(vec![
            named("a", char),
            unnamed_bits(int_, 4),
            named("b", char),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_pack2",
        pragma_pack(
            2,
            vec![
                named("c", char),
                bits("a", int_, 20),
                bits("b", int_, 20),
                named("d", double),
            ],
        ),
    );
    d.check_microsoft(
        Union,
        "ms_union",
        fields(vec![
            bits("a", uchar, 3),
            bits("b", short, 7),
            named("c", char),
        ]),
    );
    d.check_microsoft(
        Struct,
        "ms_enum_and_bool",
        fields(vec![
            bits("flag", CType::bool(), 1),
            bits("color", color, 2),
            bits("e", uchar, 3),
        ]),
    );
    d.define(
        list,
        fields(vec![named("value", int_), named("next", list.pointer_to())]),
    );
    d.checked.push(list);
    d
}

#[test]
fn layouts_agree_with_gcc() {
    let declarations = declarations();
    assert!(declarations.checked.len() >= 30);
    let expected = gcc_report(&c_program(&declarations));
    let computed = graph_report(&declarations);
    if computed != expected {
        let differences: Vec<String> = computed
            .lines()
            .zip(expected.lines())
            .filter(|(ours, theirs)| ours != theirs)
            .map(|(ours, theirs)| format!("graph: {ours}\n  gcc: {theirs}"))
            .collect();
        panic!(
            "the graph and gcc disagree:\n{}\n\n{}",
            differences.join("\n"),
            declarations.c_definitions
        );
    }
}

#[test]
fn every_shape_leaf_lies_inside_its_record() {
    let declarations = declarations();
    let mut shapes = 0;
    for ty in &declarations.checked {
        // Records holding an x87 `long double` have no shape.
        let Some(shape) = ty.shape() else { continue };
        shapes += 1;
        assert_eq!(shape.size as usize, ty.size().unwrap());
        for (offset, leaf) in shape.leaves {
            assert!(
                offset + leaf.size() <= shape.size,
                "{ty}: a leaf at {offset}"
            );
        }
    }
    assert!(shapes >= 30);
}
