-- Every scalar type as parameter and result, with boundary values and C conversions.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)

local function f(name, ret, args) return lib:bind(name, ret, args) end

-- Identity through every type.
T.eq(f("t_bool", "bool", {"bool"})(true), true, "bool true")
T.eq(f("t_bool", "bool", {"bool"})(false), false, "bool false")
T.eq(f("t_bool", "bool", {"bool"})(nil), false, "bool nil")
T.eq(f("t_i8", "i8", {"i8"})(-128), -128, "i8 min")
T.eq(f("t_i8", "i8", {"i8"})(127), 127, "i8 max")
T.eq(f("t_u8", "u8", {"u8"})(255), 255, "u8 max")
T.eq(f("t_i16", "i16", {"i16"})(-32768), -32768, "i16 min")
T.eq(f("t_u16", "u16", {"u16"})(65535), 65535, "u16 max")
T.eq(f("t_i32", "i32", {"i32"})(-2147483648), -2147483648, "i32 min")
T.eq(f("t_u32", "u32", {"u32"})(4294967295), 4294967295, "u32 max")
T.eq(f("t_i64", "i64", {"i64"})(math.mininteger), math.mininteger, "i64 min")
T.eq(f("t_i64", "i64", {"i64"})(math.maxinteger), math.maxinteger, "i64 max")
T.eq(f("t_isize", "isize", {"isize"})(-5), -5, "isize")
T.eq(f("t_usize", "usize", {"usize"})(5), 5, "usize")
T.eq(f("t_f32", "f32", {"f32"})(1.5), 1.5, "f32")
T.eq(f("t_f64", "f64", {"f64"})(-2.25), -2.25, "f64")

-- u64 above 2^63 keeps its 64 bits, as string.pack("J") does.
local big = string.unpack("J", string.pack("J", 0x8000000000000001))
T.eq(f("t_u64", "u64", {"u64"})(big), big, "u64 identity")
T.eq(f("u64_big", "u64", {})(), big, "u64 result above 2^63")
T.eq(math.ult(math.maxinteger, f("u64_big", "u64", {})()), true, "u64 compares unsigned")
T.eq(f("u64_is_big", "int", {"u64"})(big), 1, "u64 parameter above 2^63")

-- Boundary results.
T.eq(f("int_min", "int", {})(), -2147483648, "INT_MIN")
T.eq(f("uint32_max", "uint32", {})(), 4294967295, "UINT32_MAX")
T.eq(f("i64_min", "int64", {})(), math.mininteger, "INT64_MIN")
local nz = f("neg_zero", "double", {})()
T.eq(nz, 0.0, "-0.0 equals 0"); T.eq(1 / nz, -math.huge, "-0.0 keeps its sign")
local nan = f("nan_value", "double", {})()
T.eq(nan ~= nan, true, "NaN result")
T.eq(f("is_nan", "int", {"double"})(0 / 0), 1, "NaN parameter")
T.eq(f("is_neg_zero", "int", {"double"})(-0.0), 1, "-0.0 parameter")

-- Narrow parameters are truncated like a C cast and extended by the callee's rules.
T.eq(f("widen_u8", "int", {"u8"})(300), 44, "300 as u8")
T.eq(f("widen_i8", "int", {"i8"})(200), -56, "200 as i8")
T.eq(f("widen_i8", "int", {"i8"})(-1), -1, "-1 as i8")
T.eq(f("widen_u8", "int", {"u8"})(-1), 255, "-1 as u8")
T.eq(f("widen_i16", "int", {"i16"})(0x18000), -32768, "0x18000 as i16")
T.eq(f("widen_u16", "u32", {"u16"})(-1), 65535, "-1 as u16")
T.eq(f("widen_i32", "i64", {"i32"})(0x80000000), -2147483648, "2^31 as i32")
T.eq(f("widen_u32", "u64", {"u32"})(-1), 4294967295, "-1 as u32")
T.eq(f("not_bool", "int", {"bool"})(true), 0, "bool true reaches C as 1")
T.eq(f("not_bool", "int", {"bool"})(false), 1, "bool false reaches C as 0")
T.eq(f("f32_to_f64", "f64", {"f32"})(0.1), 0.10000000149011612, "f64 rounded to f32")

-- Integral floats are accepted for integers.
T.eq(f("t_i32", "i32", {"i32"})(3.0), 3, "3.0 as int")
T.eq(math.type(f("t_i32", "i32", {"i32"})(3.0)), "integer", "integer results are integers")
T.eq(math.type(f("t_f64", "f64", {"f64"})(3)), "float", "an integer passes as a double")

-- Narrow results: the callee leaves the wide value in the upper register bits, so the
-- result is only right when the caller extends it from the declared width.
T.eq(f("narrow_i8", "i8", {"i32"})(200), -56, "i8 result sign-extended")
T.eq(f("narrow_i8", "i8", {"i32"})(0x17f), 127, "i8 result truncated")
T.eq(f("narrow_u8", "u8", {"i32"})(-1), 255, "u8 result zero-extended")
T.eq(f("narrow_u8", "uchar", {"i32"})(0x1234), 0x34, "u8 result truncated")
T.eq(f("narrow_i16", "i16", {"i32"})(0x18000), -32768, "i16 result sign-extended")
T.eq(f("narrow_u16", "u16", {"i32"})(-2), 65534, "u16 result zero-extended")
T.eq(f("narrow_i32", "i32", {"i64"})(0x1ffffffff), -1, "i32 result from a 64-bit register")
T.eq(f("narrow_i32", "int", {"i64"})(0x100000005), 5, "i32 result drops the upper half")
T.eq(f("narrow_u32", "u32", {"i64"})(-1), 4294967295, "u32 result zero-extended")
T.eq(f("narrow_u32", "uint", {"i64"})(0x700000003), 3, "u32 result drops the upper half")
T.eq(f("is_positive", "bool", {"i64"})(5), true, "bool result true")
T.eq(f("is_positive", "bool", {"i64"})(-5), false, "bool result false")
T.eq(math.type(f("half_f32", "f32", {"f64"})(3)), "float", "f32 result is a float")
T.eq(f("half_f32", "float", {"double"})(0.2), 0.10000000149011612, "f32 result widened exactly")

-- Every alias of the type table reaches the same C type.
local aliases = {
    {"t_i8", {"char", "int8"}, -5}, {"t_u8", {"uchar", "byte"}, 250},
    {"t_i16", {"short", "int16"}, -300}, {"t_u16", {"ushort", "uint16"}, 65000},
    {"t_i32", {"int", "int32"}, -70000}, {"t_u32", {"uint", "uint32"}, 4000000000},
    {"t_i64", {"long", "int64"}, -(1 << 40)}, {"t_u64", {"ulong", "uint64"}, 1 << 62},
    {"t_isize", {"ssize_t", "ptrdiff_t"}, -(1 << 41)}, {"t_usize", {"size_t"}, 1 << 42},
    {"t_f32", {"float"}, 0.5}, {"t_f64", {"double"}, 1e300},
}
for _, a in ipairs(aliases) do
    for _, ty in ipairs(a[2]) do
        T.eq(lib:call(a[1], ty, {ty}, a[3]), a[3], a[1] .. " as " .. ty)
    end
end

-- u64 values round-trip through lib:call as well as bound functions.
local top = string.unpack("J", string.pack("J", -1))
T.eq(lib:call("t_u64", "u64", {"u64"}, top), -1, "UINT64_MAX comes back as -1")
T.eq(string.pack("J", lib:call("t_u64", "uint64", {"uint64"}, top)), string.pack("J", -1), "UINT64_MAX bits")
T.eq(lib:call("t_usize", "usize", {"usize"}, math.mininteger), math.mininteger, "usize 2^63")
