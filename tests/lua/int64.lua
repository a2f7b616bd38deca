-- 64-bit integers on every Lua version: ffi.int64/uint64 convert as C casts; where Lua has
-- no integer subtype (5.1, 5.2, LuaJIT), a value beyond 2^53 is a boxed integer with C's
-- wrapping arithmetic, comparison and tostring, taken back by every 64-bit parameter.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)
local id_u64 = lib:bind("t_u64", "u64", {"u64"})
local id_i64 = lib:bind("t_i64", "i64", {"i64"})

-- The constructors, the same on every version.
T.eq(ffi.int64(5), 5, "a small value is a plain number")
T.eq(ffi.uint64("42"), 42, "from a decimal string")
T.eq(ffi.int64("-0x10"), -16, "from a hexadecimal string")
T.eq(ffi.int64(2^53), 2^53, "2^53 is a number")
T.eq(tostring(ffi.int64("9223372036854775807")), "9223372036854775807", "INT64_MAX")
T.eq(tostring(ffi.int64("-9223372036854775808")), "-9223372036854775808", "INT64_MIN")
T.eq(ffi.int64("0xffffffffffffffff"), -1, "int64 casts like C")
T.raises({ "bad argument #1 to 'int64'" }, ffi.int64, 1.5)
T.raises({ "bad argument #1 to 'uint64'" }, ffi.uint64, "18446744073709551616")
T.raises({ "bad argument #1 to 'uint64'" }, ffi.uint64, {})
T.eq(id_u64(T.UINT64_MAX), T.UINT64_MAX, "UINT64_MAX round-trips")
T.eq(id_i64(T.MININT), T.MININT, "INT64_MIN round-trips")
T.eq(id_i64(2^53 + 2), T.int64("9007199254740994"), "beyond 2^53 an integral float is exact")

if T.has_integers then
    T.eq(math.type(ffi.int64("0x7fffffffffffffff")), "integer", "a Lua integer where Lua has them")
    T.eq(ffi.uint64("0xffffffffffffffff"), -1, "a u64 keeps its bits in an integer")
    return
end

-- Boxes: only where Lua has no integers.
local max = T.UINT64_MAX
T.eq(type(max), "userdata", "UINT64_MAX is a box")
T.eq(tostring(max), "18446744073709551615", "tostring of an unsigned box")
T.eq(type(id_u64(2^53)), "number", "a result in the safe range is a number")
T.eq(type(id_u64(2^53 + 2)), "userdata", "beyond it a box")
T.eq(max == ffi.uint64("18446744073709551615"), true, "boxes of one value are equal")
T.eq(max == T.MAXINT, false, "different values differ")
T.eq(T.MAXINT < max, true, "unsigned compares by value")
T.eq(T.MININT < T.MAXINT, true, "signed compares by value")
T.eq(T.MININT <= T.MININT, true, "<=")
T.eq(T.MAXINT + 1, T.MININT, "signed addition wraps as in C")
T.eq(max + 1, 0, "unsigned addition wraps, and a small result is a number")
T.eq(max - max, 0, "subtraction")
T.eq(T.MAXINT * 2, ffi.int64(-2), "multiplication wraps")
T.eq(max / 2, T.MAXINT, "unsigned division")
T.eq(-T.MAXINT, T.MININT + 1, "unary minus")
T.eq(T.MININT / -1, T.MININT, "INT64_MIN / -1 wraps")
T.eq(ffi.int64("-9007199254740995") % 2, 1, "% takes the divisor's sign, as Lua's does")
T.eq(T.MAXINT % -2, -1, "% with a negative divisor")
T.eq(max % 10, 5, "unsigned %")
T.eq("x" .. max, "x18446744073709551615", "concatenation")
T.raises({ "attempt to divide an int64 by zero" }, function() return max / 0 end)
T.raises({ "attempt to add an int64 and a" }, function() return max + 0.5 end)
T.raises({ "attempt to add an int64 and a" }, function() return max + {} end)
T.eq(lib:call("u64_is_big", "int", {"u64"}, T.uint64("0x8000000000000001")), 1, "a box as a u64 argument")
T.eq(id_u64(max - 1) + 1, max, "boxes go back into calls")
-- The other faces take and give the same boxes.
local alien = require("alien")
local alib = alien.load(TESTLIB)
alib.t_u64:types("ulonglong", "ulonglong")
T.eq(alib.t_u64(max), max, "Alien: boxes both ways")
