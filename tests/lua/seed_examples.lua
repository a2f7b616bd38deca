-- The documented examples of lune-ffi-basic.txt and lune-ffi-reference.txt, adapted only in
-- library paths (Linux libraries instead of Windows DLLs).
local T = dofile(TESTDIR .. "/testutil.lua")
-- From a stock interpreter, loading moonthunk is what registers "@lune/ffi".
require("moonthunk")

do -- lune-ffi-basic: Basic Usage, Calling Functions, Checking for Symbols, Closing
    local ffi = require("@lune/ffi")
    local lib = ffi.open(TESTLIB)
    local result = lib:callInt("get_version")
    T.eq(result, 3, "callInt")
    local doubled = lib:callIntArg("double", 21) -- exported under an asm label in testlib.c
    T.eq(doubled, 42, "callIntArg")
    local pi = lib:callDouble("get_pi")
    T.eq(pi, 3.14159265358979, "callDouble")
    local name = lib:callString("get_name")
    T.eq(name, "moonthunk test library", "callString")
    local calls_before = lib:callInt("my_function_count")
    lib:callVoid("initialize")
    T.eq(lib:callInt("is_initialized"), 1, "callVoid ran")
    if lib:hasSymbol("my_function") then
        lib:callVoid("my_function")
    else
        error("my_function not found")
    end
    T.eq(lib:callInt("my_function_count"), calls_before + 1, "hasSymbol then callVoid")
    lib:close()
end

do -- lune-ffi-basic: Example: Using a C Library (mymath.c)
    local ffi = require("@lune/ffi")
    local lib = ffi.open(TESTLIB)
    local doubled = lib:callIntArg("add", 21)
    T.eq(doubled, 42, "21 + 21")
    local pi = lib:callDouble("get_pi")
    T.eq(pi, 3.14159265358979, "PI")
    local greeting = lib:callString("get_greeting")
    T.eq(greeting, "Hello from C!", "greeting")
    lib:close()
end

do -- lune-ffi-reference: Example usage (user32.dll -> libc)
    local ffi = require("@lune/ffi")
    local lib = ffi.open("c")
    local exports = lib:listExports()
    T.eq(#exports > 100, true, "Found " .. #exports .. " exports")
    local result = lib:call("abs", "i32", {"i32"}, -640)
    T.eq(result, 640, "call with a specific signature")
    local seen = {}
    for _, e in ipairs(exports) do
        T.eq(type(e.name), "string", "ExportInfo.name")
        seen[e.name] = true
    end
    T.eq(seen.abs and seen.strlen and seen.getpid and true, true, "libc exports abs, strlen, getpid")
    local mine = ffi.open(TESTLIB):listExports()
    local names = {}
    for _, e in ipairs(mine) do names[e.name] = true end
    for _, n in ipairs({"add", "get_pi", "get_greeting", "get_version", "double", "get_name",
                        "initialize", "my_function"}) do
        T.eq(names[n], true, "the test library exports " .. n)
    end
end

do -- lune-ffi-full: ffi.load, SmartLibrary, ctypes, types, sizeof, alignof
    local ffi = require("@lune/ffi")
    local C = ffi.ctypes
    local Kernel32 = ffi.load("c", {
        getpid = { ret = C.u32 },
        usleep = { args = { C.u32 } },
        getppid = { args = {}, ret = C.u32 },
        INFINITE = 0xFFFFFFFF,
    })
    local pid = Kernel32.getpid()
    T.eq(math.type(pid), "integer", "PID")
    T.eq(pid > 0, true, "PID positive")
    T.eq(Kernel32.usleep(100), nil, "void function returns nothing")
    T.eq(Kernel32.getppid() > 0, true, "args = {}")
    T.eq(Kernel32.INFINITE, 4294967295, "constant")

    local legacy = ffi.load("c")
    T.eq(legacy:call("getpid", "u32", {}), pid, "legacy mode")

    T.eq(C.u32, "u32", "C.u32"); T.eq(C.f64, "f64", "C.f64")
    T.eq(C.pointer, "pointer", "C.pointer"); T.eq(C.string, "string", "C.string")
    for _, n in ipairs({"void", "bool", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64",
                        "f32", "f64", "isize", "usize", "pointer", "string"}) do
        T.eq(C[n], n, "ctypes." .. n)
    end
    T.eq(ffi.types.int, "i32", "types.int"); T.eq(ffi.types.void, "void", "types.void")
    T.eq(ffi.sizeof("i32"), 4, "sizeof i32"); T.eq(ffi.alignof("f64"), 8, "alignof f64")
    local sizes = { void = 0, bool = 1, i8 = 1, char = 1, int8 = 1, u8 = 1, uchar = 1, byte = 1,
        i16 = 2, short = 2, int16 = 2, u16 = 2, ushort = 2, uint16 = 2, i32 = 4, int = 4,
        int32 = 4, u32 = 4, uint = 4, uint32 = 4, i64 = 8, long = 8, int64 = 8, u64 = 8,
        ulong = 8, uint64 = 8, isize = 8, ssize_t = 8, ptrdiff_t = 8, usize = 8, size_t = 8,
        f32 = 4, float = 4, f64 = 8, double = 8, pointer = 8, ptr = 8, ["void*"] = 8,
        string = 8, cstring = 8, ["char*"] = 8 }
    for name, size in pairs(sizes) do T.eq(ffi.sizeof(name), size, "sizeof " .. name) end
    T.eq(ffi.types.size_t, "usize", "types.size_t"); T.eq(ffi.types["char*"], "string", "types char*")
end
