-- ffi.struct lays out structs as gcc does: the C test library reports sizeof, _Alignof and
-- offsetof of the same structs (tests/c/memory.c).
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)
local layout = lib:bind("mt_layout", "size_t", {"int", "int"})
local alignof = lib:bind("mt_alignof", "size_t", {"int"})

local S1 = ffi.struct({ {"a", "char"}, {"b", "double"}, {"c", "char"} })
local S2 = ffi.struct({ {"a", "u8"}, {"b", "u16"}, {"c", "u32"}, {"d", "u64"} })
local S3 = ffi.struct({ {"x", "i32"}, {"inner", S1}, {"tail", "u8"} })
local S4 = ffi.struct({ {"name", "u8", 3}, {"arr", "i16", 5}, {"f", "float"} })
local Pair = ffi.struct({ {"a", "u8"}, {"b", "u8"} })
local S5 = ffi.struct({ {"c", "char"}, {"pair", Pair, 3}, {"big", "int64_t"}, {"p", "void*"} })
local S6 = ffi.struct({ {"a", "u8"}, {"arr", S2, 2}, {"flag", "bool"} })
local Player = ffi.struct({ {"x", "f32"}, {"y", "f32"}, {"health", "i32"}, {"name", "u8", 32} })
local S7 = ffi.struct({ {"s", "short"}, {"d", "f64", 2}, {"u", "uchar"} })

for which, def in ipairs({ S1, S2, S3, S4, S5, S6, Player, S7 }) do
    local c = which - 1
    T.eq(def.size, layout(c, -1), "sizeof struct #" .. c)
    T.eq(def.alignment, alignof(c), "alignof struct #" .. c)
    for i, name in ipairs(def:fields()) do
        T.eq(def:offsetOf(name), layout(c, i - 1), "offsetof struct #" .. c .. " ." .. name)
    end
end
T.eq(Player.size, 44, "Player")
T.eq(S6:sizeOf("arr"), 2 * S2.size, "sizeOf of a struct array")
T.eq(S4:sizeOf("arr"), 10, "sizeOf of a scalar array")

-- tostring gives sizes past 32 bits whole.
local Huge = ffi.struct({ {"x", "i32"}, {"a", "i64", 2^40} })
T.eq(tostring(Huge), "struct (8796093022216 bytes, 2 fields)", "tostring of a huge struct")
