-- A tour of moonthunk: call libc and libm from Lua, no C glue.
-- Run it with: cargo run -- examples/tour.lua
local ffi = require("moonthunk")

-- 1. A library by bare name, and calls that name their signature each time.
local libc = ffi.open("c")
print("strlen('moonthunk') =", libc:call("strlen", "usize", {"string"}, "moonthunk"))
print("abs(-42) =", libc:call("abs", "int", {"int"}, -42))

-- 2. Bind once, call many times: the thunk for (i64) -> i64 is compiled once and cached.
local labs = libc:bind("labs", "long", {"long"})
local total = 0
for i = 1, 1000 do total = total + labs(-i) end
print("sum of labs(-1..-1000) =", total)

-- 3. The SmartLibrary interface: declare the functions and constants you use.
local C = ffi.ctypes
local libm = ffi.load("m", {
    sqrt = { ret = C.f64, args = { C.f64 } },
    pow = { ret = C.f64, args = { C.f64, C.f64 } },
    cosf = { ret = C.f32, args = { C.f32 } },
    TAU = 2 * math.pi,
})
print("sqrt(2) =", libm.sqrt(2))
print("pow(2, 10) =", libm.pow(2, 10))
print("cosf(TAU) =", libm.cosf(libm.TAU))

-- 4. Strings and pointers: NULL comes back as nil, pointers as pointer objects.
local getenv = libc:bind("getenv", C.string, { C.string })
print("getenv('MOONTHUNK_SURELY_UNSET') =", getenv("MOONTHUNK_SURELY_UNSET"))
local strlen = libc:getSymbol("strlen")
print("strlen lives at", strlen, "and is callable:", libc:callPtr(strlen, "usize", {"string"}, "abc"))

-- 5. Mistakes are Lua errors, never crashes.
print(pcall(labs, "not a number"))
print(pcall(libc.call, libc, "no_such_function", "void", {}))
print(pcall(ffi.sizeof, "quaternion"))

-- 6. The code generator's cache.
local stats = ffi.stats()
print(("thunks compiled: %d, machine code: %d bytes"):format(stats.thunks, stats.codeBytes))
libc:close()
