//! Alien's binary packing functions `pack`, `unpack`, `size` and `offset`: the format language
//! of Roberto Ierusalimschy's `struct` library, with Alien's extension that `unpack` also reads
//! from memory given as a userdata and a size.
//!
//! A format is a sequence of options: `<` `>` `=` pick little, big or native byte order; `!n`
//! caps the alignment of the items that follow at `n` (`!` alone: the strictest alignment a
//! C scalar needs); `x` is a zero byte of padding; `b B h H l L T` are the signed and
//! unsigned C integers `char`, `short`, `long` and `size_t`; `i[n] I[n]` signed and unsigned
//! integers of `n` bytes (default: `int`); `f d` floats and doubles; `p` a pointer (native
//! byte order, a light userdata when unpacked); `s` a zero-terminated string; `c[n]` `n`
//! characters (`c0`: the whole string when packing, a length taken from the value unpacked
//! just before when unpacking); spaces are ignored. Items are aligned to their own size,
//! capped by the current `!`, counted from the start of the data.
//!
//! Decoding runs in plain Rust over a byte slice before any Lua value is made, so that no
//! Lua code (a finalizer) can run while the slice borrows memory it might free.

use std::ffi::c_void;

use mlua::{ffi, Error, Function, LightUserData, Lua, LuaString, MultiValue, Result, Table, Value};

use crate::convert::{address_of, lua_type_name};
use crate::ctype::{Scalar, Target};
use crate::face::lift;
use crate::memory::pointer;

/// The widest integer a format may name: Lua's `string.pack` limit. Alien's C shifts bytes
/// past the 64 bits of a `long` there, which C leaves undefined; here the extra bytes extend
/// the 64-bit value.
const MAX_INT_SIZE: usize = 16;

/// Installs `pack`, `unpack`, `size` and `offset` into `table` (the `alien` module in Alien
/// 0.5 and later, `alien.struct` in Alien 0.4).
pub(crate) fn install(lua: &Lua, table: &Table) -> Result<()> {
    let def = |name: &str, f: Function| -> Result<()> { table.set(name, lift(lua, name, f)?) };
    def(
        "pack",
        lua.create_function(|lua, args: MultiValue| pack(lua, &Args::new("pack", args)))?,
    )?;
    def(
        "unpack",
        lua.create_function(|lua, args: MultiValue| unpack(lua, &Args::new("unpack", args)))?,
    )?;
    def(
        "size",
        lua.create_function(|lua, args: MultiValue| size(lua, &Args::new("size", args)))?,
    )?;
    def(
        "offset",
        lua.create_function(|lua, args: MultiValue| offset(lua, &Args::new("offset", args)))?,
    )?;
    Ok(())
}

/// The C sizes the format letters stand for, on the host.
#[derive(Clone, Copy)]
struct Sizes {
    short: usize,
    int: usize,
    long: usize,
    size_t: usize,
    /// What `!` alone caps alignment at: the alignment of a `double` inside a struct, or the
    /// size of an `int` where that is larger.
    max_align: usize,
}

impl Sizes {
    fn host() -> Sizes {
        let target = Target::host();
        Sizes {
            short: target.short.size,
            int: target.int.size,
            long: target.long.size,
            size_t: target.size_t.size,
            max_align: target.double.align.max(target.int.size),
        }
    }
}

/// An option of a format that occupies data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Pad,
    Int {
        size: usize,
        signed: bool,
    },
    Float,
    Double,
    Pointer,
    /// `c[n]`; 0 has no fixed size.
    Chars(usize),
    /// `s`.
    Zstr,
}

impl Item {
    /// The bytes the item takes, when the format alone decides it.
    fn size(self) -> Option<usize> {
        match self {
            Item::Pad => Some(1),
            Item::Int { size, .. } => Some(size),
            Item::Float => Some(Scalar::F32.size()),
            Item::Double => Some(Scalar::F64.size()),
            Item::Pointer => Some(Scalar::Pointer.size()),
            Item::Chars(0) | Item::Zstr => None,
            Item::Chars(n) => Some(n),
        }
    }

    /// The alignment the item asks for before `!` caps it: numbers and pointers their size,
    /// bytes and strings none.
    fn natural_align(self) -> usize {
        match self {
            Item::Pad | Item::Chars(_) | Item::Zstr => 1,
            other => other.size().unwrap_or(1),
        }
    }
}

/// A format being read: the options not read yet and the byte order and alignment cap that
/// those already read set.
struct Format<'a> {
    spec: &'a [u8],
    at: usize,
    sizes: Sizes,
    little: bool,
    max_align: usize,
}

impl<'a> Format<'a> {
    fn new(spec: &'a [u8]) -> Format<'a> {
        Format {
            spec,
            at: 0,
            sizes: Sizes::host(),
            little: cfg!(target_endian = "little"),
            max_align: 1,
        }
    }

    /// The decimal number at the cursor, if there is one.
    fn number(&mut self) -> std::result::Result<Option<usize>, String> {
        let start = self.at;
        while self.spec.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = &self.spec[start..self.at];
        if digits.is_empty() {
            return Ok(None);
        }
        digits
            .iter()
            .try_fold(0usize, |n, d| {
                n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
            })
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "number {} in format is too large",
                    String::from_utf8_lossy(digits)
                )
            })
    }

    /// The next item, after applying the byte-order and alignment options before it.
    fn next_item(&mut self) -> std::result::Result<Option<Item>, String> {
        loop {
            let Some(&option) = self.spec.get(self.at) else {
                return Ok(None);
            };
            self.at += 1;
            let item = match option {
                b' ' => continue,
                b'<' => {
                    self.little = true;
                    continue;
                }
                b'>' => {
                    self.little = false;
                    continue;
                }
                b'=' => {
                    self.little = cfg!(target_endian = "little");
                    continue;
                }
                b'!' => {
                    let align = self.number()?.unwrap_or(self.sizes.max_align);
                    if !align.is_power_of_two() {
                        return Err(format!("alignment {align} is not a power of 2"));
                    }
                    self.max_align = align;
                    continue;
                }
                b'x' => Item::Pad,
                b'b' | b'B' => Item::Int {
                    size: 1,
                    signed: option == b'b',
                },
                b'h' | b'H' => Item::Int {
                    size: self.sizes.short,
                    signed: option == b'h',
                },
                b'l' | b'L' => Item::Int {
                    size: self.sizes.long,
                    signed: option == b'l',
                },
                b'T' => Item::Int {
                    size: self.sizes.size_t,
                    signed: false,
                },
                b'i' | b'I' => {
                    let size = self.number()?.unwrap_or(self.sizes.int);
                    if !size.is_power_of_two() {
                        return Err(format!("integral size {size} is not a power of 2"));
                    }
                    if size > MAX_INT_SIZE {
                        return Err(format!(
                            "integral size {size} is larger than {MAX_INT_SIZE}"
                        ));
                    }
                    Item::Int {
                        size,
                        signed: option == b'i',
                    }
                }
                b'f' => Item::Float,
                b'd' => Item::Double,
                b'p' => Item::Pointer,
                b's' => Item::Zstr,
                b'c' => Item::Chars(self.number()?.unwrap_or(1)),
                other => {
                    let shown = if other.is_ascii_graphic() {
                        char::from(other).to_string()
                    } else {
                        format!("\\{other}")
                    };
                    return Err(format!("invalid format option '{shown}'"));
                }
            };
            return Ok(Some(item));
        }
    }

    /// The zero bytes that go before `item` when it would start `at` bytes into the data.
    fn padding(&self, at: usize, item: Item) -> usize {
        let align = item.natural_align().min(self.max_align);
        (align - (at & (align - 1))) & (align - 1)
    }

    /// Where the data of a fixed-size `item` ends when the data so far takes `at` bytes.
    fn advance(&self, at: usize, item: Item) -> std::result::Result<usize, String> {
        let size = item
            .size()
            .ok_or("options 'c0' and 's' have no fixed size")?;
        at.checked_add(self.padding(at, item))
            .and_then(|start| start.checked_add(size))
            .ok_or_else(|| "the format's size overflows".to_string())
    }
}

/// The arguments of a call, for reading them with Lua's conversions and messages.
struct Args {
    function: &'static str,
    values: MultiValue,
}

impl Args {
    fn new(function: &'static str, values: MultiValue) -> Args {
        Args { function, values }
    }

    /// Argument `n` (1-based), `None` when the call passed fewer.
    fn value(&self, n: usize) -> Option<&Value> {
        self.values.get(n - 1)
    }

    fn error(&self, n: usize, message: impl std::fmt::Display) -> Error {
        Error::runtime(format!(
            "bad argument #{n} to '{}' ({message})",
            self.function
        ))
    }

    fn expected(&self, lua: &Lua, n: usize, what: &str) -> Error {
        let got = match self.value(n) {
            Some(value) => match lua_type_name(lua, value) {
                Ok(name) => name,
                Err(e) => return e,
            },
            None => "no value".to_string(),
        };
        self.error(n, format!("{what} expected, got {got}"))
    }

    /// A string argument; numbers are converted, as Lua's own string functions do.
    fn string(&self, lua: &Lua, n: usize) -> Result<LuaString> {
        self.string_as(lua, n, "string")
    }

    /// A string argument where the message names `what` as the expected alternatives.
    fn string_as(&self, lua: &Lua, n: usize, what: &str) -> Result<LuaString> {
        match self.value(n) {
            Some(value) => lua.coerce_string(value.clone())?,
            None => None,
        }
        .ok_or_else(|| self.expected(lua, n, what))
    }

    fn number(&self, lua: &Lua, n: usize) -> Result<f64> {
        match self.value(n) {
            Some(value) => lua.coerce_number(value.clone())?,
            None => None,
        }
        .ok_or_else(|| self.expected(lua, n, "number"))
    }

    /// An integer argument; a float must have an integral value.
    fn integer(&self, lua: &Lua, n: usize) -> Result<i64> {
        let value = self.value(n).cloned().unwrap_or(Value::Nil);
        if let Some(i) = lua.coerce_integer(value.clone())? {
            return Ok(i.into());
        }
        match value {
            Value::Number(_) => Err(self.error(n, "number has no integer representation")),
            _ => Err(self.expected(lua, n, "number")),
        }
    }

    fn opt_integer(&self, lua: &Lua, n: usize, default: i64) -> Result<i64> {
        match self.value(n) {
            None | Some(Value::Nil) => Ok(default),
            Some(_) => self.integer(lua, n),
        }
    }

    /// The 0-based start of unpacking given by argument `n`, a 1-based position.
    fn start(&self, lua: &Lua, n: usize) -> Result<usize> {
        let init = self.opt_integer(lua, n, 1)?;
        init.checked_sub(1)
            .and_then(|start| usize::try_from(start).ok())
            .ok_or_else(|| self.error(n, "initial position must be at least 1"))
    }

    /// The 64 bits an integer item packs. Floats are truncated toward zero as Alien's C cast
    /// did; values up to 2^64 pack as unsigned.
    fn packed_integer(&self, lua: &Lua, n: usize) -> Result<u64> {
        let value = self.value(n).cloned().unwrap_or(Value::Nil);
        if let Some(i) = lua.coerce_integer(value.clone())? {
            return Ok(i64::from(i) as u64);
        }
        let f = lua
            .coerce_number(value)?
            .ok_or_else(|| self.expected(lua, n, "number"))?;
        let t = f.trunc();
        if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&t) {
            Ok(t as i64 as u64)
        } else if (0.0..18_446_744_073_709_551_616.0).contains(&t) {
            Ok(t as u64)
        } else {
            Err(self.error(n, "number has no integer representation"))
        }
    }

    /// The address a `p` item packs: nil, a light userdata or a pointer object.
    fn address(&self, lua: &Lua, n: usize) -> Result<usize> {
        match self.value(n) {
            Some(value @ (Value::Nil | Value::LightUserData(_) | Value::UserData(_))) => {
                address_of(lua, value.clone())?
            }
            _ => None,
        }
        .ok_or_else(|| self.expected(lua, n, "userdata or nil"))
    }
}

fn pack(lua: &Lua, args: &Args) -> Result<LuaString> {
    let spec = args.string(lua, 1)?.as_bytes().to_vec();
    let mut format = Format::new(&spec);
    let mut out = Vec::new();
    let mut arg = 2;
    while let Some(item) = format.next_item().map_err(|m| args.error(1, m))? {
        out.resize(out.len() + format.padding(out.len(), item), 0);
        match item {
            Item::Pad => {
                out.push(0);
                continue;
            }
            Item::Int { size, signed } => {
                let value = args.packed_integer(lua, arg)?;
                put_integer(&mut out, value, size, signed, format.little);
            }
            Item::Float => {
                let f = args.number(lua, arg)? as f32;
                out.extend(if format.little {
                    f.to_le_bytes()
                } else {
                    f.to_be_bytes()
                });
            }
            Item::Double => {
                let d = args.number(lua, arg)?;
                out.extend(if format.little {
                    d.to_le_bytes()
                } else {
                    d.to_be_bytes()
                });
            }
            Item::Pointer => out.extend(args.address(lua, arg)?.to_ne_bytes()),
            Item::Chars(n) => {
                let s = args.string(lua, arg)?;
                let bytes = s.as_bytes();
                let n = if n == 0 { bytes.len() } else { n };
                let taken = bytes
                    .get(..n)
                    .ok_or_else(|| args.error(arg, "string too short"))?;
                out.extend_from_slice(taken);
            }
            Item::Zstr => {
                out.extend_from_slice(&args.string(lua, arg)?.as_bytes());
                out.push(0);
            }
        }
        arg += 1;
    }
    lua.create_string(out)
}

/// Appends the low `size` bytes of `value`; bytes past its 64 bits extend it.
fn put_integer(out: &mut Vec<u8>, value: u64, size: usize, signed: bool, little: bool) {
    let extension = if signed && (value as i64) < 0 {
        0xff
    } else {
        0
    };
    let byte = |i: usize| {
        if i < 8 {
            (value >> (8 * i)) as u8
        } else {
            extension
        }
    };
    if little {
        out.extend((0..size).map(byte));
    } else {
        out.extend((0..size).rev().map(byte));
    }
}

/// A value unpacked, before it becomes a Lua value.
#[derive(Debug, PartialEq)]
enum Field {
    Int(i64),
    Num(f64),
    Bytes(Vec<u8>),
    Pointer(usize),
}

/// Why unpacking failed: the format (argument 1) or the data (argument 2).
#[derive(Debug, PartialEq)]
enum Fault {
    Format(String),
    Data(String),
}

fn too_short() -> Fault {
    Fault::Data("data string too short".to_string())
}

/// Unpacks `spec` from `data` starting `start` bytes in; gives the fields and where the data
/// read ends.
fn decode(
    spec: &[u8],
    data: &[u8],
    start: usize,
) -> std::result::Result<(Vec<Field>, usize), Fault> {
    let mut format = Format::new(spec);
    let mut fields = Vec::new();
    let mut pos = start;
    while let Some(item) = format.next_item().map_err(Fault::Format)? {
        pos = pos
            .checked_add(format.padding(pos, item))
            .ok_or_else(too_short)?;
        let span = |len: usize| {
            pos.checked_add(len)
                .and_then(|end| data.get(pos..end))
                .ok_or_else(too_short)
        };
        let bytes = span(item.size().unwrap_or(0))?;
        let (field, len) = match item {
            Item::Pad => (None, 1),
            Item::Int { size, signed } => (
                Some(Field::Int(
                    get_integer(bytes, signed, format.little).map_err(Fault::Data)?,
                )),
                size,
            ),
            Item::Float => {
                let raw = bytes.try_into().expect("a float's bytes");
                let f = if format.little {
                    f32::from_le_bytes(raw)
                } else {
                    f32::from_be_bytes(raw)
                };
                (Some(Field::Num(f64::from(f))), bytes.len())
            }
            Item::Double => {
                let raw = bytes.try_into().expect("a double's bytes");
                let d = if format.little {
                    f64::from_le_bytes(raw)
                } else {
                    f64::from_be_bytes(raw)
                };
                (Some(Field::Num(d)), bytes.len())
            }
            Item::Pointer => {
                let raw = bytes.try_into().expect("a pointer's bytes");
                (Some(Field::Pointer(usize::from_ne_bytes(raw))), bytes.len())
            }
            Item::Chars(0) => {
                // The length unpacked just before stands in for the count, and is not
                // returned itself.
                let len = match fields.pop() {
                    Some(Field::Int(n)) => usize::try_from(n).ok(),
                    Some(Field::Num(n))
                        if n >= 0.0 && n.fract() == 0.0 && n < usize::MAX as f64 =>
                    {
                        Some(n as usize)
                    }
                    _ => {
                        return Err(Fault::Format(
                            "format 'c0' needs a previous size".to_string(),
                        ))
                    }
                }
                .ok_or_else(|| {
                    Fault::Data("the size before format 'c0' is negative".to_string())
                })?;
                (Some(Field::Bytes(span(len)?.to_vec())), len)
            }
            Item::Chars(n) => (Some(Field::Bytes(bytes.to_vec())), n),
            Item::Zstr => {
                let rest = &data[pos..];
                let len = rest
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or_else(|| Fault::Data("unfinished string in data".to_string()))?;
                (Some(Field::Bytes(rest[..len].to_vec())), len + 1)
            }
        };
        fields.extend(field);
        pos += len;
    }
    Ok((fields, pos))
}

/// The integer in `bytes`; bytes past 64 bits must only extend it.
fn get_integer(bytes: &[u8], signed: bool, little: bool) -> std::result::Result<i64, String> {
    let size = bytes.len();
    let byte = |i: usize| {
        u64::from(if little {
            bytes[i]
        } else {
            bytes[size - 1 - i]
        })
    };
    let mut value = (0..size.min(8)).fold(0u64, |v, i| v | byte(i) << (8 * i));
    if signed && size < 8 {
        let unused = 64 - 8 * size as u32;
        value = (((value << unused) as i64) >> unused) as u64;
    }
    let extension = if signed && (value as i64) < 0 {
        0xff
    } else {
        0
    };
    if (8..size).any(|i| byte(i) != extension) {
        return Err(format!(
            "{size}-byte integer does not fit into a Lua integer"
        ));
    }
    Ok(value as i64)
}

fn unpack(lua: &Lua, args: &Args) -> Result<MultiValue> {
    let spec = args.string(lua, 1)?.as_bytes().to_vec();
    let decoded = match args.value(2) {
        Some(source @ (Value::LightUserData(_) | Value::UserData(_))) => {
            let len = usize::try_from(args.integer(lua, 3)?)
                .ok()
                .filter(|&len| len <= isize::MAX as usize)
                .ok_or_else(|| args.error(3, "size out of range"))?;
            let start = args.start(lua, 4)?;
            let addr = readable(lua, source.clone(), len)?;
            let data: &[u8] = if len == 0 {
                &[]
            } else {
                // SAFETY: the caller vouches that `len` bytes are readable at the address it
                // gave, the contract of Alien's unpack; managed memory was bounds-checked.
                unsafe { std::slice::from_raw_parts(addr as *const u8, len) }
            };
            decode(&spec, data, start)
        }
        _ => {
            let s = args.string_as(lua, 2, "string or userdata")?;
            decode(&spec, &s.as_bytes(), args.start(lua, 3)?)
        }
    };
    let (fields, end) = decoded.map_err(|fault| match fault {
        Fault::Format(m) => args.error(1, m),
        Fault::Data(m) => args.error(2, m),
    })?;
    let mut values = MultiValue::with_capacity(fields.len() + 1);
    for field in fields {
        values.push_back(match field {
            Field::Int(i) => Value::Integer(i.into()),
            Field::Num(n) => Value::Number(n),
            Field::Bytes(b) => Value::String(lua.create_string(b)?),
            Field::Pointer(p) => Value::LightUserData(LightUserData(p as *mut c_void)),
        });
    }
    let next = i64::try_from(end)
        .ok()
        .and_then(|end| end.checked_add(1))
        .ok_or_else(|| args.error(2, "data too large"))?;
    values.push_back(Value::Integer(next.into()));
    Ok(values)
}

/// The address of the `len` bytes `source` (argument 2 of `unpack`) designates, after the
/// checks its memory allows: bounds for managed memory, the NULL page for any.
fn readable(lua: &Lua, source: Value, len: usize) -> Result<usize> {
    // The nil in front puts the source at stack index 2, its argument number, which the
    // messages of `target_at` name.
    // SAFETY: inspects the second pushed value in mlua's protected raw call; the raises of
    // `target_at` and `access` are Lua errors that mlua catches.
    let addr = unsafe {
        lua.exec_raw::<mlua::Integer>((Value::Nil, source), |l| {
            let (addr, region) = pointer::target_at(l, 2, "unpack");
            let at = if len == 0 {
                addr
            } else {
                pointer::access(l, addr, &region, 0, len, 1, &|| {
                    format!("unpack of {len} bytes")
                })
            };
            ffi::lua_settop(l, 0);
            ffi::lua_pushinteger(l, at as ffi::lua_Integer);
        })
    }? as usize;
    addr.checked_add(len).map(|_| addr).ok_or_else(|| {
        Error::runtime("bad argument #3 to 'unpack' (size runs past the end of the address space)")
    })
}

fn size(lua: &Lua, args: &Args) -> Result<i64> {
    let spec = args.string(lua, 1)?.as_bytes().to_vec();
    let mut format = Format::new(&spec);
    let mut total = 0usize;
    while let Some(item) = format.next_item().map_err(|m| args.error(1, m))? {
        total = format.advance(total, item).map_err(|m| args.error(1, m))?;
    }
    i64::try_from(total).map_err(|_| args.error(1, "the format's size overflows"))
}

/// `offset(fmt [, n])`: the 1-based position where item `n` of `fmt` goes, or past the end
/// when `fmt` has fewer items.
fn offset(lua: &Lua, args: &Args) -> Result<i64> {
    let spec = args.string(lua, 1)?.as_bytes().to_vec();
    let n = args.opt_integer(lua, 2, 1)?;
    let mut format = Format::new(&spec);
    let mut total = 0usize;
    let mut item_number = 1;
    // As in Alien, this is where item n-1 ends: the padding `!` may add before item n is
    // left out, which `unpack` from that position adds itself.
    while item_number < n {
        let Some(item) = format.next_item().map_err(|m| args.error(1, m))? else {
            break;
        };
        total = format.advance(total, item).map_err(|m| args.error(1, m))?;
        item_number += 1;
    }
    i64::try_from(total)
        .ok()
        .and_then(|total| total.checked_add(1))
        .ok_or_else(|| args.error(1, "the format's size overflows"))
}
