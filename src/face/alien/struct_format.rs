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
//! capped by the current `!`, counted from the start of the data. `=` and `T` come from later
//! versions of the `struct` library than the one Alien carries; nothing Alien accepts reads
//! differently because of them.
//!
//! Decoding runs in plain Rust over a byte slice before any Lua value is made, so that no
//! Lua code (a finalizer) can run while the slice borrows memory it might free.

use std::ffi::c_void;

use mlua::{ffi, Error, Function, LightUserData, Lua, LuaString, MultiValue, Result, Table, Value};

use crate::convert::{address_of, lua_type_name};
use crate::ctype::{Scalar, Target};
use crate::face::lift;

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
            return Ok(i);
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
            return Ok(i as u64);
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
                    Some(Field::Num(n)) => (n >= 0.0 && n.fract() == 0.0 && n < usize::MAX as f64)
                        .then_some(n as usize),
                    _ => {
                        return Err(Fault::Format(
                            "format 'c0' needs a previous size".to_string(),
                        ))
                    }
                }
                .ok_or_else(|| {
                    Fault::Data("the number before format 'c0' is not a size".to_string())
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
            let addr = readable(lua, args, source.clone(), len)?;
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
            Field::Int(i) => Value::Integer(i),
            Field::Num(n) => Value::Number(n),
            Field::Bytes(b) => Value::String(lua.create_string(b)?),
            Field::Pointer(p) => Value::LightUserData(LightUserData(p as *mut c_void)),
        });
    }
    let next = i64::try_from(end)
        .ok()
        .and_then(|end| end.checked_add(1))
        .ok_or_else(|| args.error(2, "data too large"))?;
    values.push_back(Value::Integer(next));
    Ok(values)
}

/// The address of the `len` bytes `source` (argument 2 of `unpack`) designates, after the
/// checks its memory allows: bounds for buffers and managed memory, the NULL page for any.
fn readable(lua: &Lua, args: &Args, source: Value, len: usize) -> Result<usize> {
    // The nil in front puts the source at stack index 2, its argument number, which the
    // messages of `memory_at` name.
    // SAFETY: inspects the second pushed value in mlua's protected raw call; the raises of
    // `memory_at` and `span` are Lua errors that mlua catches.
    let addr = unsafe {
        lua.exec_raw::<mlua::Integer>((Value::Nil, source), |l| {
            let (addr, bounds) = super::buffer::memory_at(l, 2, "unpack");
            let at = if len == 0 {
                addr
            } else {
                super::buffer::span(l, addr, &bounds, 1, len, "unpack")
            };
            ffi::lua_settop(l, 0);
            ffi::lua_pushinteger(l, at as ffi::lua_Integer);
        })
    }? as usize;
    addr.checked_add(len)
        .map(|_| addr)
        .ok_or_else(|| args.error(3, "size runs past the end of the address space"))
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

#[cfg(test)]
mod tests {
    use std::ffi::{c_int, c_long, c_short};

    use super::*;

    /// A state with the functions in a global `alien`, the host's C sizes as globals and
    /// `fails(expected, f, ...)`, which checks that `f(...)` raises a message containing
    /// `expected`.
    fn state() -> Lua {
        let lua = Lua::new();
        let alien = lua.create_table().unwrap();
        install(&lua, &alien).unwrap();
        let globals = lua.globals();
        globals.set("alien", alien).unwrap();
        globals.set("SHORT", size_of::<c_short>()).unwrap();
        globals.set("INT", size_of::<c_int>()).unwrap();
        globals.set("LONG", size_of::<c_long>()).unwrap();
        globals.set("SIZE_T", size_of::<usize>()).unwrap();
        globals.set("PTR", size_of::<*const u8>()).unwrap();
        globals
            .set("LITTLE", cfg!(target_endian = "little"))
            .unwrap();
        run(
            &lua,
            r##"
            function fails(expected, f, ...)
                local ok, message = pcall(f, ...)
                assert(not ok, "no error; expected: " .. expected)
                assert(message:find(expected, 1, true),
                    "message: " .. message .. "\nexpected: " .. expected)
            end
            "##,
        );
        lua
    }

    fn run(lua: &Lua, code: &str) {
        if let Err(e) = lua.load(code).set_name("=test").exec() {
            panic!("{e}");
        }
    }

    #[test]
    fn every_option_round_trips() {
        run(
            &state(),
            r##"
            local function round(fmt, ...)
                local packed = alien.pack(fmt, ...)
                local values = table.pack(alien.unpack(fmt, packed))
                local n = select("#", ...)
                assert(values.n == n + 1, fmt .. ": " .. values.n .. " values")
                for i = 1, n do
                    assert(values[i] == select(i, ...),
                        fmt .. ", value " .. i .. ": " .. tostring(values[i]))
                    assert(math.type(values[i]) == math.type(select(i, ...)), fmt)
                end
                assert(values[n + 1] == #packed + 1, fmt .. ": next position")
                return packed
            end
            assert(#round("b", -128) == 1 and #round("b", 127) == 1)
            assert(#round("B", 255) == 1)
            assert(#round("h", -32768) == SHORT and #round("H", 65535) == SHORT)
            assert(#round("l", -2147483648) == LONG and #round("L", 4294967295) == LONG)
            assert(#round("T", 4294967295) == SIZE_T)
            assert(#round("i", -7) == INT and #round("I", 4000000000) == INT)
            assert(#round("i1", -1) == 1 and #round("I1", 200) == 1)
            assert(#round("i2", -300) == 2 and #round("I2", 65535) == 2)
            assert(#round("i4", -2147483648) == 4 and #round("I4", 4294967295) == 4)
            assert(#round("i8", math.mininteger) == 8 and #round("I8", math.maxinteger) == 8)
            assert(#round("i16", -5) == 16 and #round("I16", 77) == 16)
            assert(#round("f", 1.5) == 4 and #round("d", -0.1) == 8)
            assert(round("s", "hello") == "hello\0" and round("s", "") == "\0")
            assert(round("c5", "world") == "world" and round("c", "w") == "w")
            assert(#round("b h i l f d s c3", 1, 2, 3, 4, 0.5, 0.25, "s", "abc") > 0)

            assert(alien.pack("x") == "\0" and alien.pack("xx") == "\0\0")
            local nothing = table.pack(alien.unpack("xbx", "\0\5\0"))
            assert(nothing.n == 2 and nothing[1] == 5 and nothing[2] == 4)
            assert(alien.pack(" b  b ", 1, 2) == "\1\2")

            -- c0 packs the whole string and unpacks as many bytes as the value before it says,
            -- which it replaces.
            assert(alien.pack("c0", "abc") == "abc")
            local s, nxt = alien.unpack("Bc0", alien.pack("Bc0", 3, "abc"))
            assert(s == "abc" and nxt == 5)
            local n, s, nxt = alien.unpack("b Bc0", "\7\2xyz")
            assert(n == 7 and s == "xy" and nxt == 5)
            assert(alien.unpack("dc0", alien.pack("d", 2) .. "hey") == "he")

            local p = alien.unpack("p", alien.pack("T", 0x1234))
            assert(type(p) == "userdata" and #alien.pack("p", p) == PTR)
            assert(alien.unpack("T", alien.pack("p", p)) == 0x1234)
            local null = alien.unpack("p", alien.pack("T", 0))
            assert(type(null) == "userdata" and alien.pack("p", nil) == alien.pack("p", null))
            "##,
        );
    }

    #[test]
    fn integers_follow_c_casts_and_keep_64_bits() {
        run(
            &state(),
            r##"
            assert(alien.pack("<b", 257) == "\1" and alien.pack("<B", -1) == "\255")
            assert(alien.pack("<i", 2.7) == alien.pack("<i", 2))
            assert(alien.pack("<i", -2.7) == alien.pack("<i", -2))
            assert(alien.pack("<i", "12") == alien.pack("<i", 12))
            assert(alien.pack("<I8", 2^63) == "\0\0\0\0\0\0\0\128")
            assert(alien.pack("<I8", 2^64 - 2048) == alien.pack("<i8", -2048))
            assert(alien.unpack("<I8", ("\255"):rep(8)) == -1)
            assert(alien.unpack("<i2", "\254\255") == -2 and alien.unpack("<I2", "\254\255") == 65534)
            assert(alien.pack("<i16", -2) == "\254" .. ("\255"):rep(15))
            assert(alien.pack("<I16", -1) == ("\255"):rep(8) .. ("\0"):rep(8))
            assert(alien.unpack("<i16", ("\255"):rep(16)) == -1)
            fails("bad argument #2 to 'unpack' (16-byte integer does not fit into a Lua integer)",
                alien.unpack, "<I16", ("\255"):rep(16))
            fails("16-byte integer does not fit", alien.unpack, "<i16", ("\0"):rep(15) .. "\1")
            fails("bad argument #2 to 'pack' (number has no integer representation)",
                alien.pack, "i", 2^64)
            fails("number has no integer representation", alien.pack, "i", 0/0)
            fails("number has no integer representation", alien.pack, "i", -2^63 - 4096)
            "##,
        );
    }

    #[test]
    fn byte_order() {
        run(
            &state(),
            r##"
            assert(alien.pack(">i4", 1) == "\0\0\0\1" and alien.pack("<i4", 1) == "\1\0\0\0")
            assert(alien.pack(">h<h", 0x0102, 0x0102) == "\1\2\2\1")
            assert(alien.pack(">d", 1.5) == "\63\248\0\0\0\0\0\0")
            assert(alien.pack("<d", 1.5) == "\0\0\0\0\0\0\248\63")
            assert(alien.pack(">f", 1) == "\63\128\0\0" and alien.pack("<f", 1) == "\0\0\128\63")
            assert(alien.pack(">I16", 1) == ("\0"):rep(15) .. "\1")
            local native = LITTLE and "\1\0\0\0" or "\0\0\0\1"
            assert(alien.pack("i4", 1) == native and alien.pack(">=i4", 1) == native)
            assert(alien.unpack(">i4", "\0\0\1\0") == 256 and alien.unpack("<i4", "\0\0\1\0") == 65536)
            assert(alien.unpack(">f", "\63\128\0\0") == 1 and alien.unpack(">d", "\63\248\0\0\0\0\0\0") == 1.5)
            -- pointers keep the native order whatever the option says
            local p = alien.unpack("p", alien.pack("T", 0x0102))
            assert(alien.pack(">p", p) == alien.pack("<p", p))
            "##,
        );
    }

    #[test]
    fn alignment_with_bang() {
        run(
            &state(),
            r##"
            assert(alien.pack("<b i4", 1, 2) == "\1\2\0\0\0")
            assert(alien.pack("<!4 b i4", 1, 2) == "\1\0\0\0\2\0\0\0")
            assert(alien.pack("<!2 b i4", 1, 2) == "\1\0\2\0\0\0")
            assert(alien.pack("<!8 b h b i4 b d", 1, 2, 3, 4, 5, 6)
                == "\1\0\2\0\3\0\0\0\4\0\0\0\5\0\0\0" .. alien.pack("<d", 6))
            -- ! alone: the alignment of a double in a struct (8 on every target built here)
            assert(alien.size("! b d") == 16 and alien.size("!b d") == 16)
            -- characters, strings and padding bytes are not aligned; what follows them is
            assert(alien.pack("<!4 b c3 h", 1, "abc", 2) == "\1abc\2\0")
            assert(alien.pack("<!4 b s h", 1, "ab", 2) == "\1ab\0\2\0")
            assert(alien.pack("<!4 b x h", 1, 2) == "\1\0\2\0")
            assert(alien.size("!4 b c3 h") == 6)
            -- a later ! changes the cap for the items after it
            assert(alien.pack("<!4 b i4 !1 b i4", 1, 2, 3, 4) == "\1\0\0\0\2\0\0\0\3\4\0\0\0")
            local a, b, nxt = alien.unpack("<!4 b i4", "\1\0\0\0\2\0\0\0")
            assert(a == 1 and b == 2 and nxt == 9)
            -- unpacking aligns from the start of the data, not from the initial position
            local v, nxt = alien.unpack("<!4 i4", "\0\0\0\0\5\0\0\0", 2)
            assert(v == 5 and nxt == 9)
            fails("bad argument #1 to 'pack' (alignment 3 is not a power of 2)", alien.pack, "!3 b", 1)
            fails("alignment 0 is not a power of 2", alien.size, "!0")
            assert(alien.size("!1099511627776 b d") == 16)
            "##,
        );
    }

    #[test]
    fn size_and_offset() {
        run(
            &state(),
            r##"
            local S = ">ipbph"
            assert(alien.size(S) == INT + PTR + 1 + PTR + 2)
            assert(math.type(alien.size(S)) == "integer")
            assert(alien.size("") == 0 and alien.size("c10 x") == 11)
            assert(alien.offset(S) == 1 and alien.offset(S, 1) == 1 and alien.offset(S, 0) == 1)
            assert(alien.offset(S, 2) == INT + 1)
            assert(alien.offset(S, 4) == INT + PTR + 2)
            assert(alien.offset(S, 6) == alien.size(S) + 1)
            assert(alien.offset(S, 100) == alien.size(S) + 1)
            -- Alien's offset leaves out the padding before the item, which unpack adds
            assert(alien.offset("!4 b i4", 2) == 2 and alien.size("!4 b i4") == 8)
            assert(alien.unpack("<!4 i4", alien.pack("<!4 b i4", 1, 9), alien.offset("!4 b i4", 2)) == 9)
            -- items from n on may have any size
            assert(alien.offset("b s c0", 2) == 2)
            fails("bad argument #1 to 'size' (options 'c0' and 's' have no fixed size)", alien.size, "s")
            fails("options 'c0' and 's' have no fixed size", alien.size, "b c0")
            fails("bad argument #1 to 'offset' (options 'c0' and 's' have no fixed size)",
                alien.offset, "s b", 2)
            fails("bad argument #2 to 'offset' (number expected, got table)", alien.offset, "b", {})

            -- the items of a struct read from the middle, as Alien's own test does
            local p = alien.unpack("p", alien.pack("T", 0xbeef))
            local s = alien.pack(S, 1, p, 2, nil, 3)
            local one, pa, two, pb, three, nxt = alien.unpack(S, s)
            assert(one == 1 and pa == p and two == 2 and three == 3 and nxt == #s + 1)
            assert(pb == alien.unpack("p", alien.pack("T", 0)))
            local pb2, three2 = alien.unpack(">ph", s, alien.offset(S, 4))
            assert(pb2 == pb and three2 == 3)
            "##,
        );
    }

    #[test]
    fn unpack_from_a_string_with_an_initial_position() {
        run(
            &state(),
            r##"
            local v, nxt = alien.unpack("<h", "xx\1\0", 3)
            assert(v == 1 and nxt == 5)
            local only = table.pack(alien.unpack("", "abc", 7))
            assert(only.n == 1 and only[1] == 7)
            local a, b, c, nxt = alien.unpack("s s B", "ab\0\0\7")
            assert(a == "ab" and b == "" and c == 7 and nxt == 6)
            assert(alien.unpack("c2", 12345, 2) == "23")
            fails("bad argument #3 to 'unpack' (initial position must be at least 1)",
                alien.unpack, "b", "a", 0)
            fails("initial position must be at least 1", alien.unpack, "b", "a", math.mininteger)
            fails("bad argument #3 to 'unpack' (number has no integer representation)",
                alien.unpack, "b", "a", 1.5)
            "##,
        );
    }

    #[test]
    fn short_data_is_an_error() {
        run(
            &state(),
            r##"
            local short = "bad argument #2 to 'unpack' (data string too short)"
            fails(short, alien.unpack, "i4", "abc")
            fails(short, alien.unpack, "<h", "abc", 3)
            fails(short, alien.unpack, "<h", "abc", 100)
            fails(short, alien.unpack, "c4", "abc")
            fails(short, alien.unpack, "Bc0", "\5abc")
            fails(short, alien.unpack, "I8c0", ("\255"):rep(7) .. "\127abc")
            fails(short, alien.unpack, "x", "")
            fails(short, alien.unpack, "d", "1234567")
            fails(short, alien.unpack, "c18446744073709551615", "abc")
            fails(short, alien.unpack, "b c18446744073709551615", "abc")
            fails(short, alien.unpack, "<!8 b d", "\1\0\0\0\0\0\0\0")
            fails(short, alien.unpack, "b", "a", math.maxinteger)
            fails("bad argument #2 to 'unpack' (unfinished string in data)", alien.unpack, "s", "abc")
            fails("bad argument #1 to 'unpack' (format 'c0' needs a previous size)",
                alien.unpack, "c0", "abc")
            fails("format 'c0' needs a previous size", alien.unpack, "sc0", "a\0bc")
            fails("bad argument #2 to 'unpack' (the number before format 'c0' is not a size)",
                alien.unpack, "bc0", "\255abc")
            fails("the number before format 'c0' is not a size",
                alien.unpack, "<fc0", alien.pack("<f", 1.5) .. "ab")
            "##,
        );
    }

    #[test]
    fn bad_formats_and_arguments_are_errors() {
        run(
            &state(),
            r##"
            fails("bad argument #1 to 'pack' (invalid format option 'q')", alien.pack, "q", 1)
            fails("bad argument #1 to 'unpack' (invalid format option 'z')", alien.unpack, "z", "a")
            fails("bad argument #1 to 'size' (invalid format option '4')", alien.size, "b4")
            fails("invalid format option '\\0'", alien.size, "b\0")
            fails("invalid format option '\\200'", alien.size, "\200")
            fails("bad argument #1 to 'pack' (integral size 3 is not a power of 2)", alien.pack, "i3", 1)
            fails("integral size 0 is not a power of 2", alien.size, "I0")
            fails("integral size 32 is larger than 16", alien.size, "i32")
            fails("number 99999999999999999999999 in format is too large",
                alien.size, "c99999999999999999999999")
            fails("bad argument #1 to 'size' (the format's size overflows)",
                alien.size, "c18446744073709551615 c1")
            fails("the format's size overflows", alien.size, "c9223372036854775808")

            fails("bad argument #1 to 'pack' (string expected, got nil)", alien.pack, nil)
            fails("bad argument #1 to 'size' (string expected, got no value)", alien.size)
            fails("bad argument #2 to 'pack' (number expected, got string)", alien.pack, "i", "x")
            fails("bad argument #3 to 'pack' (number expected, got no value)", alien.pack, "ii", 1)
            fails("bad argument #2 to 'pack' (number expected, got boolean)", alien.pack, "d", true)
            fails("bad argument #2 to 'pack' (string too short)", alien.pack, "c3", "ab")
            assert(alien.pack("c2", "abc") == "ab")
            fails("bad argument #2 to 'pack' (string expected, got table)", alien.pack, "s", {})
            fails("bad argument #2 to 'pack' (userdata or nil expected, got number)", alien.pack, "p", 5)
            fails("bad argument #3 to 'pack' (userdata or nil expected, got no value)",
                alien.pack, "bp", 1)
            fails("bad argument #2 to 'unpack' (string or userdata expected, got table)",
                alien.unpack, "b", {})
            fails("bad argument #2 to 'unpack' (string or userdata expected, got no value)",
                alien.unpack, "b")
            -- errors leave the functions usable, and name the caller's line
            assert(alien.pack("b", 1) == "\1")
            local ok, message = pcall(function() alien.size("q") end)
            assert(not ok and message:find("^test:%d+: bad argument #1 to 'size'"), message)
            "##,
        );
    }

    #[test]
    fn unpack_from_memory_bounded_by_a_size() {
        let lua = state();
        let data: Vec<u8> = vec![1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, b'h', b'i', 0, 9];
        let globals = lua.globals();
        globals
            .set("mem", LightUserData(data.as_ptr() as *mut c_void))
            .unwrap();
        globals
            .set("null", LightUserData(std::ptr::null_mut()))
            .unwrap();
        globals
            .set("high", LightUserData((usize::MAX - 3) as *mut c_void))
            .unwrap();
        run(
            &lua,
            r##"
            local a, b, s, nxt = alien.unpack("<i4 i4 s", mem, 12)
            assert(a == 1 and b == -2 and s == "hi" and nxt == 12)
            local v, nxt = alien.unpack("<i4", mem, 12, 5)
            assert(v == -2 and nxt == 9)
            assert(alien.unpack("<B", mem, 12, 12) == 9)
            assert(alien.unpack("<B", mem, "12", 12) == 9)
            local short = "bad argument #2 to 'unpack' (data string too short)"
            fails(short, alien.unpack, "<i4", mem, 3)
            fails(short, alien.unpack, "B", mem, 12, 13)
            fails(short, alien.unpack, "B", mem, 0)
            fails("bad argument #2 to 'unpack' (unfinished string in data)", alien.unpack, "s", mem, 10, 9)
            fails("bad argument #3 to 'unpack' (size out of range)", alien.unpack, "B", mem, -1)
            fails("bad argument #3 to 'unpack' (number expected, got no value)", alien.unpack, "B", mem)
            fails("bad argument #3 to 'unpack' (size runs past the end of the address space)",
                alien.unpack, "B", high, 8)
            fails("bad argument #4 to 'unpack' (initial position must be at least 1)",
                alien.unpack, "B", mem, 12, 0)
            fails("through a NULL pointer", alien.unpack, "B", null, 1)
            local only = table.pack(alien.unpack("", null, 0))
            assert(only.n == 1 and only[1] == 1)
            fails("bad argument #2 to 'unpack' (pointer expected, got FILE*)",
                alien.unpack, "B", io.stdout, 1)
            "##,
        );
        drop(data);
    }

    #[test]
    fn managed_memory_is_bounds_checked() {
        let lua = state();
        lua.globals()
            .set("ffi", crate::face::native::module(&lua).unwrap())
            .unwrap();
        run(
            &lua,
            r##"
            local buf = ffi.buffer(8)
            local a, b, nxt = alien.unpack("<i4 i4", buf, 8)
            assert(a == 0 and b == 0 and nxt == 9)
            fails("out of bounds", alien.unpack, "<i4", buf, 9)
            assert(alien.unpack("T", alien.pack("p", buf)) == buf.addr)
            "##,
        );
    }

    #[test]
    fn integers_round_trip_through_bytes_of_every_size() {
        for size in [1, 2, 4, 8, 16] {
            for little in [false, true] {
                for value in [0i64, 1, -1, 127, -128, 0x1234, i64::MIN, i64::MAX] {
                    let mut out = Vec::new();
                    put_integer(&mut out, value as u64, size, true, little);
                    assert_eq!(out.len(), size);
                    let bits = 8 * size as u32;
                    let expected = if bits >= 64 {
                        value
                    } else {
                        (value << (64 - bits)) >> (64 - bits)
                    };
                    assert_eq!(get_integer(&out, true, little), Ok(expected));
                }
            }
        }
    }

    #[test]
    fn decoding_reports_which_argument_is_wrong() {
        assert_eq!(decode(b"<h", &[1, 0, 2], 0), Ok((vec![Field::Int(1)], 2)));
        assert_eq!(
            decode(b"<h", &[1], 0),
            Err(Fault::Data("data string too short".to_string()))
        );
        assert_eq!(
            decode(b"w", &[1], 0),
            Err(Fault::Format("invalid format option 'w'".to_string()))
        );
    }
}
