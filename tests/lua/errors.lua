-- Every error a Lua programmer can hit at this level, with its message, and the state stays
-- usable after each. Where the name of the called function appears in a message it may come
-- from Lua's debug information or from the binding, so the fragments below leave it out
-- except in the naming check.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)
local add = lib:bind("add_i32", "i32", {"i32", "i32"})
local addf = lib:bind("mixed8", "f64", {"f64", "i32", "f64", "i32", "f64", "i32", "f64", "i32"})

-- Wrong types.
T.raises({"bad argument #2", "(number expected, got string)"}, add, 1, "x")
T.raises({"bad argument #1", "(number expected, got table)"}, add, {}, 1)
T.raises({"bad argument #1", "(number expected, got nil)"}, add, nil, 1)
T.raises({"bad argument #2", "(number expected, got boolean)"}, add, 1, false)
T.raises({"bad argument #3", "(number expected, got boolean)"}, addf, 1, 2, true, 4, 5, 6, 7, 8)
T.raises({"bad argument #8", "(number expected, got string)"}, addf, 1, 2, 3, 4, 5, 6, 7, "eight")
T.raises({"bad argument #1", "(string expected, got table)"},
    lib:bind("t_strlen", "usize", {"string"}), {})
T.raises({"bad argument #1", "(string expected, got boolean)"},
    lib:bind("t_strlen", "usize", {"string"}), true)
T.raises({"bad argument #1", "(pointer expected, got number)"},
    lib:bind("t_ptr", "pointer", {"pointer"}), 5)
T.raises({"bad argument #1", "(boolean expected, got number)"},
    lib:bind("t_bool", "bool", {"bool"}), 1)
T.raises({"bad argument #1", "(pointer expected, got string)"},
    lib:bind("read_int", "i32", {"pointer"}), "not a pointer")

-- The message names the function: by the Lua name it was called through, or by its C name.
local ok, err = pcall(function() return add(1, "x") end)
T.eq(ok, false, "a wrong type fails")
T.eq(err:find("to 'add'", 1, true) ~= nil or err:find("to 'add_i32'", 1, true) ~= nil, true,
    "the function is named in " .. err)

-- Too few and too many arguments.
T.raises({"bad argument #2", "(number expected, got no value)"}, add, 1)
T.raises({"bad argument #1", "(number expected, got no value)"}, add)
T.raises({"bad argument #1", "(string expected, got no value)"},
    lib:bind("t_strlen", "usize", {"string"}))
local too_many = T.raises_any({"no more than 2 arguments expected", "expected 2 arguments, got 3",
    "(expected 2, got 3)"}, add, 1, 2, 3)
T.contains(too_many, "argument", "too many arguments")
T.raises_any({"no more than 0 arguments expected", "expected 0 arguments, got 1",
    "(expected 0, got 1)"}, lib:bind("zero_args", "i32", {}), 1)
T.raises_any({"no more than 2 arguments expected", "expected 2 arguments, got 5",
    "(expected 2, got 5)"}, add, 1, 2, nil, nil, nil)

-- Non-integral floats for integers.
T.raises({"bad argument #1", "number has no integer representation"}, add, 1.5, 2)
T.raises({"bad argument #2", "number has no integer representation"}, add, 1, 2 ^ 63)
T.raises({"number has no integer representation"}, add, 1, 0 / 0)
T.raises({"number has no integer representation"}, add, math.huge, 1)
T.raises({"number has no integer representation"}, lib:bind("t_u8", "u8", {"u8"}), 3.5)
T.raises({"number has no integer representation"}, lib.call, lib, "t_i64", "i64", {"i64"}, 0.25)
T.raises({"number has no integer representation"}, lib.callIntArg, lib, "twice", 3.5)

-- The same checks through lib:call and through a SmartLibrary.
T.raises({"number expected, got string"}, lib.call, lib, "add_i32", "i32", {"i32", "i32"}, 1, "x")
T.raises({"number expected, got no value"}, lib.call, lib, "add_i32", "i32", {"i32", "i32"}, 1)
local S = ffi.load(TESTLIB, { add_i32 = { ret = "i32", args = {"i32", "i32"} } })
T.raises({"bad argument #2", "(number expected, got string)"}, S.add_i32, 1, "x")
T.raises({"bad argument #2", "(number expected, got no value)"}, S.add_i32, 1)

-- Unknown types.
T.raises({"unknown C type 'foo'"}, lib.bind, lib, "add_i32", "foo", {"i32"})
T.raises({"unknown C type 'quux'"}, lib.call, lib, "add_i32", "i32", {"i32", "quux"}, 1, 2)
T.raises({"unknown C type 'int128'"}, ffi.sizeof, "int128")
T.raises({"unknown C type 'int128'"}, ffi.alignof, "int128")
T.raises({"unknown C type 'x'"}, ffi.load, TESTLIB, { add_i32 = { ret = "x" } })
T.raises({"unknown C type 'y'"}, ffi.load, TESTLIB, { add_i32 = { ret = "i32", args = {"i32", "y"} } })
T.raises({"'void' is not a parameter type"}, lib.bind, lib, "add_i32", "i32", {"void"})
T.raises({"a type must be a type name or a struct definition, got boolean"},
    lib.bind, lib, "add_i32", true, {})
T.raises({"a type must be a type name or a struct definition, got userdata"},
    lib.bind, lib, "add_i32", "i32", {ffi.ptr(0)})

-- Missing symbols.
T.raises({"symbol 'nope' not found in '" .. TESTLIB .. "'"}, lib.call, lib, "nope", "i32", {})
T.raises({"symbol 'nope' not found", TESTLIB}, lib.bind, lib, "nope", "i32", {})
T.raises({"symbol 'nope' not found"}, lib.getSymbol, lib, "nope")
T.raises({"symbol 'nope' not found"}, lib.callInt, lib, "nope")
T.raises({"symbol 'nope' not found"}, lib.callVoid, lib, "nope")
T.raises({"symbol 'nope' not found"}, ffi.load, TESTLIB, { nope = { ret = "i32" } })

-- Libraries that will not load: the message carries the path and the loader's reason.
T.raises({"cannot load library '/no/such/lib.so': ", "No such file or directory"}, ffi.open, "/no/such/lib.so")
T.raises({"/no/such/lib.so", "No such file or directory"}, ffi.load, "/no/such/lib.so", {})
local not_elf = T.raises({TESTDIR .. "/testutil.lua"}, ffi.open, TESTDIR .. "/testutil.lua")
T.eq(not_elf:find("invalid ELF header", 1, true) ~= nil or not_elf:find("too short", 1, true) ~= nil,
    true, "the loader's reason in " .. not_elf)
T.raises({"no_such_library_name"}, ffi.load, "no_such_library_name")
T.raises({"cannot load library '': the name is empty"}, ffi.open, "")
T.raises({"cannot load library '': the name is empty"}, ffi.load, "", {})

-- Closed libraries.
local closed = ffi.open(TESTLIB)
local bound_before = closed:bind("add_i32", "i32", {"i32", "i32"})
closed:close()
T.raises_match("library.-is closed", closed.call, closed, "add_i32", "i32", {"i32", "i32"}, 1, 2)
T.raises_match("library.-is closed", closed.bind, closed, "add_i32", "i32", {"i32", "i32"})
T.raises_match("library.-is closed", closed.callInt, closed, "zero_args")
T.raises_match("library.-is closed", closed.hasSymbol, closed, "add_i32")
T.raises_match("library.-is closed", closed.getSymbol, closed, "add_i32")
-- Every use after close is an error: its path and a second close too.
T.raises_match("library.-is closed", function() return closed.path end)
T.raises_match("library.-is closed", closed.close, closed)
T.eq(tostring(closed), "Library: " .. TESTLIB, "tostring names a closed library")
T.eq(bound_before(1, 2), 3, "a function bound before close still works")

-- Calling through NULL or a non-pointer is refused before any call is made.
T.raises({"cannot call a NULL function pointer"}, ffi.fn, ffi.ptr(0), "void", {})
T.raises({"function pointer expected, got string"}, lib.callPtr, lib, "add_i32", "i32", {})
-- Anywhere in the NULL page, where no code is mapped.
T.raises({"cannot call address 0x10: it is in the NULL page"}, lib.callPtr, lib, ffi.ptr(16), "int", {})
T.raises({"cannot call address 0xfff: it is in the NULL page"}, ffi.fn, ffi.ptr(4095), "int", {})
T.raises({"it is in the NULL page"}, ffi.fn, ffi.ptr(8), "int", {"int", "..."})
T.raises({"it is in the NULL page"}, lib.callPtr, lib, ffi.ptr(16) + 8, "void", {})

-- Library methods called with another value as self name the type they expect.
local buf = ffi.buffer(8)
T.raises({"bad argument #1 to 'bind' (Library expected, got buffer)"}, lib.bind, buf, "add_i32", "i32", {})
T.raises({"bad argument #1 to 'close' (Library expected, got buffer)"}, lib.close, buf)
T.raises({"bad argument #1 to 'call' (Library expected, got pointer)"}, lib.call, ffi.ptr(8), "f", "void", {})
T.raises({"bad argument #1 to 'getSymbol' (Library expected, got table)"}, lib.getSymbol, {}, "add_i32")
T.raises({"bad argument #1 to 'hasSymbol' (Library expected, got string)"}, lib.hasSymbol, "x", "add_i32")
T.raises({"bad argument #1 to 'callInt' (Library expected, got nil)"}, lib.callInt, nil, "zero_args")
T.raises({"bad argument #1 to 'listExports' (Library expected, got number)"}, lib.listExports, 1)
T.raises({"bad argument #1 to 'callPtr' (Library expected, got boolean)"}, lib.callPtr, true, ffi.ptr(8), "void", {})

-- Errors carry the caller's position when raised from a face function.
local ok2, err2 = pcall(function() local size = ffi.sizeof("nope_t"); return size end)
T.eq(ok2, false, "sizeof of an unknown type fails")
T.eq(err2:find("errors.lua:%d+: unknown C type 'nope_t'") ~= nil, true, "position of " .. err2)

-- Many errors in a row leave the stack and the state intact.
for i = 1, 1000 do
    pcall(add, i, "x")
    pcall(add, i)
    pcall(add, 1.5, i)
end
T.eq(add(20, 22), 42, "calls still work after errors")
T.eq(lib:call("mixed6", "f64", {"i32", "f64", "i8", "f32", "i64", "u16"}, 1, 2, 3, 4, 5, 6),
    1 + 4 + 9 + 16 + 25 + 36.0, "lib:call still works after errors")

-- Face functions name themselves in argument errors, in Lua's words.
T.raises({"bad argument #4 to 'bind' (table expected, got string)"}, lib.bind, lib, "add_i32", "i32", "i32")
T.raises({"bad argument #1 to 'sizeof' (string expected, got nil)"}, ffi.sizeof)
T.raises({"bad argument #1 to 'callback' (function expected, got number)"}, ffi.callback, 5, "i32", {})
local err_call = T.raises({"bad argument #1 to 'add_i32' (number expected, got no value)"},
    lib.call, lib, "add_i32", "i32", {"i32", "i32"})
T.eq(err_call:find("stack traceback", 1, true), nil, "no traceback text inside the message")
