-- The whole C ABI from Lua: aggregates by value (calls and callbacks), unions, packed and
-- nested structs, variadic functions, out-parameters, errno.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)

local V2 = ffi.struct({{"x", "f64"}, {"y", "f64"}})
local IFD = ffi.struct({{"a", "i32"}, {"b", "f32"}, {"c", "f64"}})
local Big = ffi.struct({{"a", "f64"}, {"b", "f64"}, {"c", "f64"}, {"d", "f64"}, {"e", "f64"}})
local Mid = ffi.struct({{"a", "i64"}, {"b", "i64"}, {"c", "i64"}})
local C3 = ffi.struct({{"c", "i8", 3}})
local F3 = ffi.struct({{"x", "f32"}, {"y", "f32"}, {"z", "f32"}})
local SC = ffi.struct({{"s", "i16"}, {"c", "i8"}})
local DF = ffi.struct({{"d", "f64"}, {"f", "f32"}})
local IF = ffi.union({{"i", "i32"}, {"f", "f32"}})
local Packed = ffi.struct({{"c", "u8"}, {"i", "i32"}}, {packed = true})
local Nested = ffi.struct({{"pos", V2}, {"id", "i32"}})

-- Layouts of unions and packed structs.
T.eq(IF.size, 4, "union size"); T.eq(IF:offsetOf("f"), 0, "union members overlap")
T.eq(Packed.size, 5, "packed size"); T.eq(Packed:offsetOf("i"), 1, "packed offset")

-- Calls with aggregates by value, from tables and from views.
local add = lib:bind("abi_v2_add", V2, {V2, V2})
local r = add({x = 1, y = 2}, {x = 10, y = 20})
T.eq(r.x, 11.0, "V2 result x"); T.eq(r.y, 22.0, "V2 result y")
local r2 = add(r, r)
T.eq(r2.x, 22.0, "a view passed by value"); T.eq(r2.y, 44.0, "a view passed by value, y")
T.eq(lib:call("abi_ifd_sum", "f64", {IFD}, {a = 1, b = 2.5, c = 3.25}), 6.75, "{int,float,double}")
local m = lib:call("abi_ifd_make", IFD, {"i32", "f32", "f64"}, 7, 1.5, 2.25)
T.eq(m.a, 7, "IFD.a"); T.eq(m.b, 1.5, "IFD.b"); T.eq(m.c, 2.25, "IFD.c")
local b = lib:call("abi_big_scale", Big, {Big, "f64"}, {a = 1, b = 2, c = 3, d = 4, e = 5}, 2)
T.eq(b.a, 2.0, "40-byte struct through memory"); T.eq(b.e, 10.0, "40-byte struct e")
local mid = lib:call("abi_mid_make", Mid, {"i64"}, 5)
T.eq(mid.c, 15, "24-byte result through a hidden pointer")
T.eq(lib:call("abi_mid_sum", "i64", {Mid}, mid), 30, "24-byte argument on the stack")
T.eq(lib:call("abi_c3_sum", "int", {C3}, {c = {1, 2, 3}}), 6, "{char[3]} from a table")
local c3 = lib:call("abi_c3_make", C3, {"i8"}, 10)
T.eq(c3.c[0] + c3.c[1] + c3.c[2], 33, "{char[3]} result")
local f3 = lib:call("abi_f3_make", F3, {"f32"}, 1.5)
T.eq(f3.x, 1.5, "F3.x"); T.eq(f3.y, 3.0, "F3.y"); T.eq(f3.z, 4.5, "F3.z")
T.eq(lib:call("abi_sc_sum", "int", {SC}, {s = -300, c = 7}), -293, "{short,char}")
local sc = lib:call("abi_sc_make", SC, {"i16", "i8"}, 1234, -5)
T.eq(sc.s, 1234, "SC.s"); T.eq(sc.c, -5, "SC.c")
T.eq(lib:call("abi_df_sum", "f64", {DF}, {d = 0.5, f = 0.25}), 0.75, "{double,float}")
local u = lib:call("abi_if_from_int", IF, {"i32"}, 0x3F800000)
T.eq(u.f, 1.0, "union result read as float")
T.eq(lib:call("abi_if_as_float", "f32", {IF}, {i = 0x40000000}), 2.0, "union argument")
T.eq(lib:call("abi_packed_sum", "i64", {Packed}, {c = 200, i = -1000}), -800, "packed argument")
local p = lib:call("abi_packed_make", Packed, {"u8", "i32"}, 3, 123456)
T.eq(p.c, 3, "packed result c"); T.eq(p.i, 123456, "packed result i")
T.eq(lib:call("abi_nested_sum", "f64", {Nested}, {pos = {x = 1, y = 2}, id = 3}), 6.0, "nested struct")
T.eq(lib:call("abi_exhausted", "i64", {"i64", "i64", "i64", "i64", "i64", V2, "i64"},
    1, 2, 3, 4, 5, {x = 6, y = 7}, 8), 15 + 67 + 800, "register exhaustion puts the struct on the stack")

-- Callbacks with aggregates by value.
local scale = ffi.callback(function(v, k) return {x = v.x * k, y = v.y * k} end, V2, {V2, "f64"})
T.eq(lib:call("abi_cb_v2", "f64", {"pointer", "f64"}, scale, 3), 68.0, "callback V2 in and out")
local twice = ffi.callback(function(v)
    return {a = v.a * 2, b = v.b * 2, c = v.c * 2, d = v.d * 2, e = v.e * 2}
end, Big, {Big})
T.eq(lib:call("abi_cb_big", "f64", {"pointer"}, twice), 2 + 40 + 600 + 8000 + 100000, "callback 40-byte in and out")

-- A callback that frees itself (or is collected) while it runs still returns its struct: the
-- slot keeps its definitions until the call is over (this crashed), and is not handed to a
-- callback created during the call.
local slots = ffi.stats().callbackSlots
local selfish
selfish = ffi.callback(function(v)
    selfish:free()
    local other = ffi.callback(function() return 0 end, "i32", {})
    other:free()
    return {a = v.a, b = 0, c = 0, d = 0, e = v.e}
end, Big, {Big})
T.eq(lib:call("abi_cb_big", "f64", {"pointer"}, selfish.ptr), 1 + 50000, "freed during its call")
T.eq(selfish.isValid, false, "freed")
T.eq(lib:call("abi_cb_big", "f64", {"pointer"}, selfish.ptr), 0.0, "a freed callback returns zero")
if not SHARED_PROCESS then
    T.eq(ffi.stats().callbackSlots, slots + 2, "the freed slot was not reused during the call")
end
local reused = ffi.callback(function(v) return v end, Big, {Big})
T.eq(lib:call("abi_cb_big", "f64", {"pointer"}, reused), 54321.0, "its slot serves again after the call")
local seen
local mixed = ffi.callback(function(ifd, c3v, midv, uv)
    seen = {ifd.a, ifd.b, ifd.c, c3v.c[0], c3v.c[2], midv.a, midv.c, uv.i}
    return 5
end, "i64", {IFD, C3, Mid, IF})
T.eq(lib:call("abi_cb_mixed", "i64", {"pointer"}, mixed), 5, "callback mixed aggregates")
local expected = {7, 0.5, 0.25, 1, 3, 10, 30, 99}
for i = 1, #expected do T.eq(seen[i], expected[i], "callback aggregate value " .. i) end
local view_back = ffi.callback(function(v, k) return add(v, v) end, V2, {V2, "f64"})
T.eq(lib:call("abi_cb_v2", "f64", {"pointer", "f64"}, view_back, 3), 68.0, "a callback may return a view")

-- Variadic functions.
local libc = ffi.open("c")
local snprintf = libc:bind("snprintf", "int", {"pointer", "usize", "string", "..."})
local buf = ffi.buffer(256)
local n = snprintf(buf, 256, "%d %ld %f %s %p|%5.2f %c %x", 42, 1 << 40, 3.5, "str", ffi.ptr(0x1234),
    -2.25, string.byte("z"), 255)
local reference = lib:callString("abi_reference_format")
T.eq(buf:readString(), reference, "snprintf through the varargs path matches C")
T.eq(n, #reference, "snprintf's result")
local sum_ints = lib:bind("abi_sum_ints", "int", {"int", "..."})
T.eq(sum_ints(3, 10, 20, 30), 60, "variadic integers")
T.eq(sum_ints(0), 0, "no extra arguments")
T.eq(lib:call("abi_sum_doubles", "f64", {"int", "..."}, 9, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5),
    49.5, "nine doubles: registers and stack")
T.raises({"bad argument #4 to 'snprintf'", "a struct cannot be passed by value to a variadic function"},
    snprintf, buf, 256, "%d", r)
T.raises({"bad argument #4 to 'snprintf'", "a table cannot be passed to a variadic function"},
    snprintf, buf, 256, "%d", {})
T.raises({"bad argument #3 to 'snprintf' (string expected, got table)"}, snprintf, buf, 256, {})

-- Out-parameters.
local q, rem = lib:call("abi_divmod", "void", {"int", "int", "ref int", "ref int"}, 17, 5)
T.eq(q, 3, "quotient"); T.eq(rem, 2, "remainder")
local ret, x, cnt, small = lib:call("abi_scale_inout", "int", {"ref f64", "ref i64", "ref u8"}, 1.25, 41, 255)
T.eq(ret, 7, "result first"); T.eq(x, 2.5, "ref f64 in and out"); T.eq(cnt, 42, "ref i64")
T.eq(small, 0, "ref u8 wraps like C")
T.raises({"'ref string' is not an out-parameter type"}, lib.bind, lib, "abi_divmod", "void", {"ref string"})
T.raises({"is a parameter type, not a result type"}, lib.bind, lib, "abi_divmod", "ref int", {})

-- errno right after the call.
local fail = lib:bind("abi_fail_with", "int", {"int"})
local ok = lib:bind("abi_succeed", "int", {})
fail(34)
T.eq(ffi.errno(), 34, "errno after the failing call")
local _ = {} -- Lua's own work does not clobber it
T.eq(ffi.errno(), 34, "errno kept across Lua work")
fail(2)
T.eq(ffi.errno(), 2, "errno of the latest call")
-- A specialized thunk (SmartLibrary) records errno inline; a shared one through the host.
local smart_fail = ffi.load(TESTLIB, { abi_fail_with = { ret = "int", args = {"int"} } }).abi_fail_with
smart_fail(13)
T.eq(ffi.errno(), 13, "errno after a specialized thunk's call")
fail(7)
T.eq(ffi.errno(), 7, "and after a shared thunk's again")

-- Bad aggregate arguments.
T.raises({"bad argument #1 to 'abi_v2_add' (struct (table or view) expected, got number)"}, add, 5, {})
T.raises({"bad value for f64"}, add, {x = "nope"}, {})
T.raises({"a type must be a type name or a struct definition, got table"}, lib.bind, lib, "abi_v2_add", {}, {})

-- A by-value result owns its memory: a nested view taken from it keeps it alive.
local pos = lib:call("abi_nested_make", Nested, {"f64", "f64", "i32"}, 1.5, 2.5, 9).pos
collectgarbage(); collectgarbage()
T.eq(pos.x + pos.y, 4.0, "a nested view outlives its parent's last reference")
local made = lib:call("abi_nested_make", Nested, {"f64", "f64", "i32"}, 1, 2, 3)
T.eq(lib:call("abi_nested_sum", "f64", {Nested}, made), 6.0, "a by-value result passed back by value")

-- At most 32 extra arguments in one variadic call.
local many = {}
for i = 1, 33 do many[i] = i end
T.raises({"bad argument #34 to 'abi_sum_ints' (more than 32 extra arguments)"}, sum_ints, 33, table.unpack(many))
T.eq(sum_ints(32, table.unpack(many, 1, 32)), 528, "32 extra arguments")

-- A callback returning a struct must return a table or a view.
T.raises({"bad result from callback (struct (table or view) expected, got number)"}, lib.call, lib,
    "abi_cb_v2", "f64", {"pointer", "f64"}, ffi.callback(function() return 5 end, V2, {V2, "f64"}), 1)
