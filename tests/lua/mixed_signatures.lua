-- Mixed integer/float signatures of 0, 1, 6, 8, 9 and 16 parameters, and register
-- exhaustion for both register classes.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)

local function weighted(args)
    local s = 0
    for i, v in ipairs(args) do s = s + i * v end
    return s
end

T.eq(lib:call("zero_args", "i32", {}), 7, "0 parameters")
T.eq(lib:call("one_arg", "f64", {"f32"}, 1.25), 2.5, "1 parameter")

local a6 = {-7, 2.5, -3, 0.75, 1 << 40, 65000}
T.eq(lib:call("mixed6", "f64", {"i32", "f64", "i8", "f32", "i64", "u16"}, table.unpack(a6)),
    weighted(a6), "6 parameters")

local a8 = {1.5, -2, 3.25, 4, -5.5, 6, 7.75, -8}
T.eq(lib:call("mixed8", "f64", {"f64", "i32", "f64", "i32", "f64", "i32", "f64", "i32"},
    table.unpack(a8)), weighted(a8), "8 parameters")

local a9 = {1, -2, 3, -4, 5, -6, 7, 0.5, -9}
T.eq(lib:call("mixed9", "f64", {"i64", "i64", "i64", "i64", "i64", "i64", "i64", "f64", "i64"},
    table.unpack(a9)), weighted(a9), "9 parameters")

local a16, t16 = {}, {}
for i = 1, 16 do
    if i % 2 == 1 then a16[i], t16[i] = -i * 3, "i64" else a16[i], t16[i] = i + 0.25, "f64" end
end
T.eq(lib:call("mixed16", "f64", t16, table.unpack(a16)), weighted(a16), "16 parameters")

local a18, t18 = {}, {}
for i = 1, 18 do
    a18[i] = i * 0.5
    t18[i] = i <= 10 and "double" or "float"
end
T.eq(lib:call("floats18", "f64", t18, table.unpack(a18)), weighted(a18), "18 float parameters")

local a16i = {-1, 200, -300, 60000, -70000, 4000000000, -(1 << 40), 1 << 50, 5, 6, -7, 8, 9, 10, -11, 1}
local t16i = {"i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "bool"}
a16i[16] = true
local expected = 0
for i = 1, 15 do expected = expected + i * a16i[i] end
expected = expected + 16
T.eq(lib:call("ints16", "i64", t16i, table.unpack(a16i)), expected, "16 integer parameters")

-- Eleven floats and a float result: three f32 arguments spill to the stack.
local a11, t11 = {}, {}
for i = 1, 11 do a11[i], t11[i] = i * 0.25, "f32" end
T.eq(lib:call("f32_weighted11", "f32", t11, table.unpack(a11)), weighted(a11), "11 f32 parameters")

-- The same signatures bound once and called many times give the same answers each time
-- (a bound thunk keeps no state between calls).
local m16 = lib:bind("mixed16", "f64", t16)
for round = 1, 50 do
    local args = {}
    for i = 1, 16 do args[i] = (i % 2 == 1) and (round * i) or (round + i / 4) end
    T.eq(m16(table.unpack(args)), weighted(args), "mixed16 round " .. round)
end

-- Integers passed for double parameters and integral floats for integer parameters.
T.eq(lib:call("mixed8", "f64", {"f64", "i32", "f64", "i32", "f64", "i32", "f64", "i32"},
    1, 2.0, 3, 4.0, 5, 6.0, 7, 8.0), weighted({1, 2, 3, 4, 5, 6, 7, 8}), "numbers of either subtype")
