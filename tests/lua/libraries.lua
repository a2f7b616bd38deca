-- Loading libraries by path, bare name and the process itself; Library methods; the
-- SmartLibrary interface; libc and libm through both.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local C = ffi.ctypes

-- A path.
local lib = ffi.open(TESTLIB)
T.eq(lib.path, TESTLIB, "path of a library opened by path")
T.eq(lib:hasSymbol("add_i32"), true, "hasSymbol finds a function")
T.eq(lib:hasSymbol("no_such_symbol"), false, "hasSymbol misses")
local sym = lib:getSymbol("add_i32")
T.eq(sym.isNull, false, "getSymbol gives an address")
T.eq(lib:callPtr(sym, "i32", {"i32", "i32"}, 40, 2), 42, "callPtr through getSymbol")
T.eq(ffi.fn(sym, "i32", {"i32", "i32"})(1, 2), 3, "ffi.fn binds a function pointer")

-- listExports reads the library file.
local names = {}
for _, e in ipairs(lib:listExports()) do names[e.name] = true end
T.eq(names.add_i32, true, "exports list add_i32")
T.eq(names.mixed16, true, "exports list mixed16")
T.eq(names.the_int, nil, "data symbols are not functions")

-- Bare names: libc and libm.
local libc = ffi.open("c")
T.eq(libc:call("strlen", "usize", {"string"}, "hello"), 5, "libc strlen")
T.eq(libc:call("abs", "int", {"int"}, -5), 5, "libc abs")
T.eq(libc:call("labs", "long", {"long"}, -(1 << 40)), 1 << 40, "libc labs")
local libm = ffi.load("m")
T.eq(libm:call("sqrt", "f64", {"f64"}, 2.25), 1.5, "libm sqrt")
T.eq(libm:call("pow", "double", {"double", "double"}, 2, 10), 1024.0, "libm pow")
T.eq(libm:call("floor", "f64", {"f64"}, -1.5), -2.0, "libm floor")
T.eq(libm:call("cos", "f64", {"f64"}, 0), 1.0, "libm cos")
T.eq(libm:call("cosf", "f32", {"f32"}, 0), 1.0, "libm cosf")
T.eq(libm:call("cos", "f64", {"f64"}, math.pi), -1.0, "libm cos(pi)")

-- glibc's libm.so and libc.so are linker scripts naming the real library (where the target's
-- development files are installed).
local multiarch = lib:call("target_multiarch", "string", {})
local f = io.open("/usr/lib/" .. multiarch .. "/libm.so") or io.open("/lib/" .. multiarch .. "/libm.so")
if f and f:read(4) ~= "\127ELF" then
    T.eq(ffi.open("libm.so"):call("sqrt", "f64", {"f64"}, 6.25), 2.5, "libm.so, a linker script")
    T.eq(ffi.open("libc.so"):call("abs", "i32", {"i32"}, -3), 3, "libc.so, a linker script")
end
if f then f:close() end
local libm2 = ffi.open("m")
T.eq(libm2:call("sqrt", "double", {"double"}, 81), 9.0, "ffi.open('m') sqrt")
T.eq(libm2:call("pow", "f64", {"f64", "f64"}, 2, 0.5), math.sqrt(2), "ffi.open('m') pow")
T.eq(libm2:call("floor", "double", {"double"}, 2.75), 2.0, "ffi.open('m') floor")
T.eq(libm2:call("cos", "double", {"double"}, 0.5), math.cos(0.5), "ffi.open('m') cos")
T.eq(libm2:call("sqrt", "f64", {"f64"}, -1) ~= libm2:call("sqrt", "f64", {"f64"}, -1), true, "sqrt(-1) is NaN")
local libc2 = ffi.load("c")
T.eq(libc2:call("strlen", "size_t", {"cstring"}, "twelve chars"), 12, "ffi.load('c') strlen")
T.eq(libc2:call("abs", "i32", {"i32"}, -2147483647), 2147483647, "ffi.load('c') abs")
T.eq(libc2:call("labs", "i64", {"i64"}, -math.maxinteger), math.maxinteger, "ffi.load('c') labs")
local bound_abs = libc2:bind("abs", "int", {"int"})
T.eq(bound_abs(-7), 7, "bound libc abs")

-- The running process: libc is already loaded.
local self = ffi.open(nil)
T.eq(self:call("strlen", "usize", {"string"}, "four"), 4, "the process's own symbols")

-- SmartLibrary over libc and libm.
local S = ffi.load("c", {
    strlen = { ret = C.usize, args = { C.string } },
    abs = { ret = C.i32, args = { C.i32 } },
    getpid = { ret = C.i32 },
    close = { ret = C.i32, args = { C.i32 } },
    ANSWER = 42,
    NAME = "libc",
})
T.eq(S.strlen("abc"), 3, "SmartLibrary function")
T.eq(S.abs(-9), 9, "SmartLibrary abs")
T.eq(S.getpid() > 0, true, "no args, ret only")
T.eq(S.ANSWER, 42, "constant")
T.eq(S.NAME, "libc", "string constant")
T.eq(S.close(-1), -1, "an interface may declare C's close")
T.eq(S.path, "c", "SmartLibrary path")
local M = ffi.load("m", {
    sqrt = { ret = "double", args = { "double" } },
    pow = { ret = C.f64, args = { C.f64, C.f64 } },
    floor = { ret = "f64", args = { "f64" } },
    cos = { ret = "f64", args = { "f64" } },
    cosf = { ret = "float", args = { "float" } },
})
T.eq(M.sqrt(16), 4.0, "SmartLibrary libm sqrt")
T.eq(M.pow(3, 4), 81.0, "SmartLibrary libm pow")
T.eq(M.pow(2, -1), 0.5, "SmartLibrary libm pow, negative exponent")
T.eq(M.floor(-0.5), -1.0, "SmartLibrary libm floor")
T.eq(M.cos(0), 1.0, "SmartLibrary libm cos")
T.eq(M.cos(math.pi), -1.0, "SmartLibrary libm cos(pi)")
T.eq(M.cosf(0), 1.0, "SmartLibrary libm cosf")
T.eq(M.path, "m", "SmartLibrary libm path")
local L = ffi.load("c", { labs = { ret = "long", args = { "long" } }, strlen = { ret = "usize", args = { "string" } } })
T.eq(L.labs(-(1 << 50)), 1 << 50, "SmartLibrary labs")
T.eq(L.labs(7), 7, "SmartLibrary labs positive")
T.eq(L.strlen(""), 0, "SmartLibrary strlen of an empty string")
L:close()
T.raises_match("library.-is closed", function() return L.labs end)
local strlen = S.strlen
M.close()
T.raises_match("library.-is closed", function() return M.sqrt end)
T.raises_match("library.-is closed", function() return M.path end)
T.raises_match("library.-is closed", function() M.close() end)
T.eq(strlen("still safe"), 10, "functions bound before close stay callable")

-- A SmartLibrary over the test library: every field of the interface, defaults for
-- missing ret (void) and args (none).
local TL = ffi.load(TESTLIB, {
    add_i32 = { ret = "i32", args = { "i32", "i32" } },
    zero_args = { ret = "int" },
    tick = {},
    tick_count = { ret = C.i32, args = {} },
    mixed16 = { ret = "f64", args = { "i64", "f64", "i64", "f64", "i64", "f64", "i64", "f64",
                                      "i64", "f64", "i64", "f64", "i64", "f64", "i64", "f64" } },
    K = 42,
    PI = 3.5,
    FLAG = true,
})
T.eq(TL.add_i32(40, 2), 42, "SmartLibrary over the test library")
T.eq(TL.zero_args(), 7, "missing args means none")
local before = TL.tick_count()
T.eq(select("#", TL.tick()), 0, "missing ret means void: no results")
T.eq(TL.tick_count(), before + 1, "the void function ran")
local w = 0
local a = {}
for i = 1, 16 do a[i] = i; w = w + i * i end
T.eq(TL.mixed16(table.unpack(a)), w, "SmartLibrary with 16 parameters")
T.eq(TL.K, 42, "integer constant"); T.eq(TL.PI, 3.5, "float constant"); T.eq(TL.FLAG, true, "boolean constant")
T.eq(TL.path, TESTLIB, "SmartLibrary path")
T.eq(TL.not_declared, nil, "names outside the interface are absent")

-- Closing a Library.
local lib2 = ffi.open(TESTLIB)
local add = lib2:bind("add_i32", "i32", {"i32", "i32"})
lib2:close()
T.eq(add(2, 3), 5, "a bound function keeps its library loaded")
T.raises_match("library.-is closed", lib2.call, lib2, "add_i32", "i32", {"i32", "i32"}, 1, 2)
T.raises({"is closed"}, lib2.getSymbol, lib2, "add_i32")
T.raises({"is closed"}, lib2.close, lib2)
T.raises({"is closed"}, function() return lib2.path end)
