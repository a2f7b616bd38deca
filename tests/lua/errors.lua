-- Every error a Lua programmer can hit at this level, with its message, and the state stays
-- usable after each.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)
local add = lib:bind("add_i32", "i32", {"i32", "i32"})
local addf = lib:bind("mixed8", "f64", {"f64", "i32", "f64", "i32", "f64", "i32", "f64", "i32"})

-- Wrong types.
T.raises({"bad argument #2 to 'add_i32' (number expected, got string)"}, add, 1, "x")
T.raises({"bad argument #1 to 'add_i32' (number expected, got table)"}, add, {}, 1)
T.raises({"bad argument #1 to 'add_i32' (number expected, got nil)"}, add, nil, 1)
T.raises({"bad argument #3 to 'mixed8' (number expected, got boolean)"}, addf, 1, 2, true, 4, 5, 6, 7, 8)
T.raises({"bad argument #1 to 't_strlen' (string expected, got table)"},
    lib:bind("t_strlen", "usize", {"string"}), {})
T.raises({"bad argument #1 to 't_ptr' (pointer expected, got number)"},
    lib:bind("t_ptr", "pointer", {"pointer"}), 5)
T.raises({"bad argument #1 to 't_bool' (boolean expected, got number)"},
    lib:bind("t_bool", "bool", {"bool"}), 1)
T.raises({"bad argument #1 to 'read_int' (pointer expected, got string)"},
    lib:bind("read_int", "i32", {"pointer"}), "not a pointer")

-- Too few and too many arguments.
T.raises({"bad argument #2 to 'add_i32' (number expected, got no value)"}, add, 1)
T.raises({"wrong number of arguments to 'add_i32' (expected 2, got 3)"}, add, 1, 2, 3)
T.raises({"bad argument #1 to 't_strlen' (string expected, got no value)"},
    lib:bind("t_strlen", "usize", {"string"}))
T.raises({"wrong number of arguments to 'zero_args' (expected 0, got 1)"},
    lib:bind("zero_args", "i32", {}), 1)

-- Non-integral floats for integers.
T.raises({"bad argument #1 to 'add_i32' (number has no integer representation)"}, add, 1.5, 2)
T.raises({"number has no integer representation"}, add, 1, 2 ^ 63)

-- Unknown types.
T.raises({"unknown C type 'foo'"}, lib.bind, lib, "add_i32", "foo", {"i32"})
T.raises({"unknown C type 'quux'"}, lib.call, lib, "add_i32", "i32", {"i32", "quux"}, 1, 2)
T.raises({"unknown C type 'int128'"}, ffi.sizeof, "int128")
T.raises({"unknown C type 'x'"}, ffi.load, TESTLIB, { add_i32 = { ret = "x" } })
T.raises({"'void' is not a parameter type"}, lib.bind, lib, "add_i32", "i32", {"void"})

-- Missing symbols and libraries that will not load.
T.raises({"symbol 'nope' not found in '" .. TESTLIB .. "'"}, lib.call, lib, "nope", "i32", {})
T.raises({"symbol 'nope' not found"}, lib.getSymbol, lib, "nope")
T.raises({"symbol 'nope' not found"}, ffi.load, TESTLIB, { nope = { ret = "i32" } })
T.raises({"cannot load library '/no/such/lib.so'", "No such file"}, ffi.open, "/no/such/lib.so")
T.raises({"cannot load library '" .. TESTDIR .. "/testutil.lua'"}, ffi.open, TESTDIR .. "/testutil.lua")
T.raises({"cannot load library 'no_such_library_name'"}, ffi.load, "no_such_library_name")

-- Calling through NULL or a non-pointer is refused before any call is made.
T.raises({"cannot call a NULL function pointer"}, ffi.fn, ffi.ptr(0), "void", {})
T.raises({"function pointer expected"}, lib.callPtr, lib, "add_i32", "i32", {})

-- Errors carry the caller's position when raised from a face function.
local ok, err = pcall(function() local size = ffi.sizeof("nope_t"); return size end)
T.eq(ok, false, "sizeof of an unknown type fails")
T.eq(err:find("errors.lua:%d+: unknown C type 'nope_t'") ~= nil, true, "position of " .. err)

-- The state is still usable.
T.eq(add(20, 22), 42, "calls still work after errors")
