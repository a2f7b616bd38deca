-- Thunks are compiled once per signature: binding the same signature twice, under any
-- spelling, reuses one thunk; a different signature gets another.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)

local add = lib:bind("add_i32", "i32", {"i32", "i32"})
local sub = lib:bind("sub_i32", "int", {"int32", "int"})
local add_again = ffi.load(TESTLIB, { add_i32 = { ret = "int32_t", args = {"int32_t", "i32"} } }).add_i32
T.eq(add(2, 3), 5, "add"); T.eq(sub(2, 3), -1, "sub"); T.eq(add_again(4, 5), 9, "add again")

local thunk = ffi.thunkAddress(add)
T.eq(math.type(thunk), "integer", "bound functions are C closures of a thunk")
T.eq(ffi.thunkAddress(sub), thunk, "same signature, different function: one thunk")
T.eq(ffi.thunkAddress(add_again), thunk, "aliases resolve to the same signature")
local other = lib:bind("add_i32", "i64", {"i32", "i32"})
T.eq(ffi.thunkAddress(other) ~= thunk, true, "a different signature has its own thunk")

-- The counters: a signature never seen before compiles exactly once.
local sig = {}
for i = 1, 13 do sig[i] = (i % 3 == 0) and "u16" or "f32" end
local before = ffi.stats().thunks
lib:bind("add_i32", "u8", sig)
local after_first = ffi.stats().thunks
T.eq(after_first >= before + 1, true, "a new signature is compiled")
local hits = ffi.stats().hits
local again = lib:bind("sub_i32", "u8", sig)
T.eq(ffi.stats().hits > hits, true, "binding it again is a cache hit")
T.eq(ffi.thunkAddress(again), ffi.thunkAddress(lib:bind("add_i32", "u8", sig)), "and the same code")
T.eq(ffi.stats().codeBytes > 0, true, "code size is counted")
