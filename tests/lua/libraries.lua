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
local M = ffi.load("m", { sqrt = { ret = "double", args = { "double" } } })
T.eq(M.sqrt(16), 4.0, "SmartLibrary libm")
local strlen = S.strlen
M.close()
T.raises({"library 'm' is closed"}, function() return M.sqrt end)
T.eq(strlen("still safe"), 10, "functions bound before close stay callable")

-- Closing a Library.
local lib2 = ffi.open(TESTLIB)
local add = lib2:bind("add_i32", "i32", {"i32", "i32"})
lib2:close()
T.eq(add(2, 3), 5, "a bound function keeps its library loaded")
T.raises({"library '" .. TESTLIB .. "' is closed"}, lib2.call, lib2, "add_i32", "i32", {"i32", "i32"}, 1, 2)
T.raises({"is closed"}, lib2.getSymbol, lib2, "add_i32")
T.raises({"is closed"}, lib2.close, lib2)
