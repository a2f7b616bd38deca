-- Large structs by value: copied with memcpy (not unrolled code), and refused at bind time
-- past what a call may copy on the C stack (tests/c/aggregates.c).
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)

local Big = ffi.struct({ { "bytes", "u8", 4096 } })
local function expected_sum(value)
    local sum = 0
    for i = 0, 4095 do sum = sum + (value + i) % 256 end
    return sum
end

local big_filled = lib:bind("big_filled", Big, { "u8" })
local big_sum = lib:bind("big_sum", "u32", { Big })
local s = big_filled(3)
T.eq(s.bytes[4095], (3 + 4095) % 256, "a 4 KiB struct result")
T.eq(big_sum(s), expected_sum(3), "a 4 KiB struct argument")

local seen
local summing = ffi.callback(function(v)
    seen = v.bytes[100]
    return big_sum(v)
end, "u32", { Big })
T.eq(lib:call("big_through_callback", "u32", { "pointer", "u8" }, summing, 7), expected_sum(7),
    "a 4 KiB struct into a callback")
T.eq(seen, 107, "the callback saw the struct's bytes")
local before = ffi.stats().codeBytes
local filling = ffi.callback(function(v) return big_filled(v) end, Big, { "u8" })
if not SHARED_PROCESS then -- the code space is the process's
    local grown = ffi.stats().codeBytes - before
    T.eq(grown < 4096, true, "a callback returning 4 KiB compiles to less code than its size ("
        .. grown .. " bytes)")
end
T.eq(lib:call("big_from_callback", "u32", { "pointer", "u8" }, filling, 9), expected_sum(9),
    "a 4 KiB struct out of a callback")

-- A 16 MiB struct by value would need 16 MiB of C stack (and crashed); it is refused.
local Huge = ffi.struct({ { "bytes", "u8", 16 * 1024 * 1024 } })
local too_large = "structs of 16777216 bytes in all passed or returned by value, more than the "
    .. "65536 bytes a call copies on the C stack; pass a pointer"
T.raises({ too_large }, lib.bind, lib, "big_sum", "u32", { Huge })
T.raises({ too_large }, ffi.callback, function() end, "void", { Huge })
T.raises({ too_large }, ffi.fn, lib:getSymbol("big_filled"), Huge, { "u8" })
local Half = ffi.struct({ { "bytes", "u8", 40000 } })
T.raises({ "structs of 80000 bytes in all" }, lib.bind, lib, "big_sum", Half, { Half })
