-- Every error a C/Invoke face user can hit, with its message: clean Lua strings, at the
-- caller's line where the call is made from Lua code, and the state usable afterwards.
local T = dofile(TESTDIR .. "/testutil.lua")
require("cinvoke_lua")
local lib = clibrary.new(TESTLIB)
local function raises(message, fn) T.raises({ message }, fn) end

-- clibrary.new
raises("bad argument #2 to 'new' (unknown calling convention 'pascal' (expected cdecl, stdcall, fastcall or default))",
    function() return clibrary.new(TESTLIB, "pascal") end)
raises("bad argument #2 to 'new' (string expected, got number)", function() return clibrary.new(TESTLIB, 3) end)
raises("cannot load library 'libnope_nope.so'", function() return clibrary.new("libnope_nope.so") end)
raises("bad argument #1 to 'new' (string expected, got nil)", function() return clibrary.new(nil) end)
T.raises_match("^[^:]+cinvoke_errors%.lua:%d+: cannot load library", function() clibrary.new("libnope_nope.so") end)

-- get_function
raises("symbol 'nope_nope' not found in '" .. TESTLIB .. "'", function() return lib:get_function(Cint, "nope_nope") end)
raises("bad argument #1 to 'get_function' (C type expected, got string)", function() return lib:get_function("int", "ci_add") end)
raises("bad argument #2 to 'get_function' (string expected, got nil)", function() return lib:get_function(Cint) end)
raises("bad argument #3 to 'get_function' (Cvoid is a result type, not a parameter type)",
    function() return lib:get_function(Cint, "ci_add", Cvoid) end)
raises("calling 'get_function' on bad self (clibrary expected, got number)", function() return lib.get_function(5, Cint, "x") end)

-- Structures by value, arrays as results
local Foo = cstructure.new(Cint, "i1", Cshort, "s1")
raises("bad argument #3 to 'get_function' (structures cannot be passed by value; pass them in an array (cinv.array))",
    function() return lib:get_function(Cvoid, "ci_foo_double", Foo, Cint) end)
raises("bad argument #1 to 'get_function' (structures cannot be passed by value; pass them in an array (cinv.array))",
    function() return lib:get_function(Foo, "ci_foo_double") end)
raises("bad argument #1 to 'get_function' (an array is a parameter type only; return a Cptr and use cinv.ptr_to_array)",
    function() return lib:get_function(cinv.array(Cint), "ci_get_ints") end)

-- Calls: argument types and counts
local add = lib:get_function(Cint, "ci_add", Cint, Cint)
T.raises_match("cinvoke_errors%.lua:%d+: bad argument #2 to 'ci_add' %(number expected, got string%)",
    function() return add(1, "x") end)
raises("bad argument #2 to 'ci_add' (number expected, got no value)", function() return add(1) end)
raises("wrong number of arguments to 'ci_add' (expected 2, got 3)", function() return add(1, 2, 3) end)
raises("bad argument #1 to 'ci_add' (number has no integer representation)", function() return add(1.5, 2) end)
local char = lib:get_function(Cchar, "ci_char", Cchar)
raises("bad argument #1 to 'ci_char' (1-character string expected, got a string of length 2)", function() return char("ab") end)
raises("bad argument #1 to 'ci_char' (1-character string expected, got number)", function() return char(65) end)
local ptr = lib:get_function(Cptr, "ci_ptr", Cptr)
raises("bad argument #1 to 'ci_ptr' (pointer expected, got number)", function() return ptr(1) end)
raises("bad argument #1 to 'ci_ptr' (pointer expected, got string)", function() return ptr("0xZZ") end)
raises("bad argument #1 to 'ci_ptr' (pointer expected, got string)", function() return ptr("hello") end)
raises("bad argument #1 to 'ci_ptr' (pointer expected, got string)", function() return ptr("0x") end)
raises("bad argument #1 to 'ci_ptr' (pointer expected, got string)", function() return ptr("0x+1") end)
local negate = lib:get_function(Cvoid, "ci_negate_ints", cinv.array(Cint), Cint)
raises("bad argument #1 to 'ci_negate_ints' (table expected, got number)", function() return negate(5, 1) end)
raises("bad argument #1 to 'ci_negate_ints' (element 2: number expected, got string)", function() return negate({ 1, "x" }, 2) end)
raises("bad argument #1 to 'ci_upper' (element 2: 1-character string expected, got number)",
    function() return lib:get_function(Cvoid, "ci_upper", cinv.array(Cchar), Cint)({ "a", 1 }, 2) end)
raises("bad argument #1 to 'ci_foo_double' (element 1: struct (table or view) expected, got number)",
    function() return lib:get_function(Cvoid, "ci_foo_double", cinv.array(Foo), Cint)({ 5 }, 1) end)
local Tagged = cstructure.new(Cchar, "tag", Cptr, "data", Cint, "n")
local step = lib:get_function(Cvoid, "ci_tagged_step", cinv.array(Tagged), Cint)
local function step_error(problem) return "bad argument #1 to 'ci_tagged_step' (" .. problem .. ")" end
raises(step_error("element 1: field 'tag': 1-character string expected, got number"), function() return step({ { tag = 65 } }, 1) end)
raises(step_error("element 1: field 'tag': 1-character string expected, got a string of length 2"),
    function() return step({ { tag = "ab" } }, 1) end)
raises(step_error("element 2: field 'data': pointer expected, got number"), function() return step({ {}, { data = 5 } }, 2) end)
raises(step_error("element 1: field 'data': pointer expected, got string"), function() return step({ { data = "0xZZ" } }, 1) end)
raises(step_error("element 1: field 'n': number expected, got string"), function() return step({ { n = "x" } }, 1) end)
local Holder = cstructure.new(Tagged, "t", Cchar, "c", Cptr, "p")
local swap = lib:get_function(Cvoid, "ci_holder_swap", cinv.array(Holder), Cint)
raises("bad argument #1 to 'ci_holder_swap' (element 1: field 't.tag': 1-character string expected, got boolean)",
    function() return swap({ { t = { tag = true } } }, 1) end)
raises("bad argument #1 to 'ci_holder_swap' (element 2: field 'p': pointer expected, got table)",
    function() return swap({ {}, { p = {} } }, 2) end)
raises("bad argument #1 to 'ci_holder_swap' (element 1: field 't': table or view expected, got number)",
    function() return swap({ { t = 5 } }, 1) end)
T.eq(lib:get_function(Cint, "ci_add", Cint, Cint)(1, 2), 3, "the state is usable after a field's error")
local call_int = lib:get_function(Cint, "ci_call_int", Ccallback, Cint)
raises("bad argument #1 to 'ci_call_int' (function pointer expected, got nil)", function() return call_int(nil, 1) end)
raises("bad argument #1 to 'ci_call_int' (function pointer expected, got function)", function() return call_int(print, 1) end)
raises("bad argument #1 to 'ci_call_int' (function pointer expected, got light userdata)",
    function() return call_int(lib:get_function(Cptr, "ci_get_triple")(), 1) end)

-- Callbacks
raises("bad argument #3 to 'new_callback' (arrays are not allowed as callback parameters)",
    function() return lib:new_callback(Cvoid, function() end, cinv.array(Cint)) end)
raises("bad argument #2 to 'new_callback' (function expected, got number)", function() return lib:new_callback(Cvoid, 5, Cint) end)
local failing = lib:new_callback(Cint, function() error("inside the callback") end, Cint)
raises("inside the callback", function() return call_int(failing, 1) end)
T.eq(add(1, 2), 3, "the state is usable after a callback's error")

-- Tied variables
raises("symbol 'nope_var' not found in '" .. TESTLIB .. "'", function() return lib:tie_init(Cint, "nope_var") end)
raises("bad argument #1 to 'tie_init' (only basic types can be tied, not Cstring)", function() return lib:tie_init(Cstring, "ci_var_int") end)
raises("bad argument #1 to 'tie_init' (only basic types can be tied, not struct (8 bytes))", function() return lib:tie_init(Foo, "ci_var_int") end)
raises("bad argument #1 to 'tie_init' (only basic types can be tied, not Ccallback)", function() return lib:tie_init(Ccallback, "ci_var_int") end)
raises("bad argument #1 to 'tie_init' (only basic types can be tied, not array of Cint)",
    function() return lib:tie_init(cinv.array(Cint), "ci_var_int") end)
raises("'ci_var_short' is not a tied variable of library '" .. TESTLIB .. "' (tie_init it first)", function() return lib:tie_get("ci_var_short") end)
raises("'ci_var_short' is not a tied variable of library '" .. TESTLIB .. "' (tie_init it first)", function() return lib:tie_set("ci_var_short", 1) end)
lib:tie_init(Cint, "ci_var_int")
raises("bad argument #2 to 'tie_set' (number expected, got string)", function() return lib:tie_set("ci_var_int", "x") end)

-- Types
raises("bad argument #1 to 'array' (arrays of array of Cint are not supported)", function() return cinv.array(cinv.array(Cint)) end)
raises("bad argument #1 to 'array' (arrays of Cstring are not supported)", function() return cinv.array(Cstring) end)
raises("bad argument #1 to 'array' (arrays of Ccallback are not supported)", function() return cinv.array(Ccallback) end)
raises("bad argument #1 to 'new' (structures cannot contain arrays)", function() return cstructure.new(cinv.array(Cint), "a") end)
raises("bad argument #1 to 'new' (structures cannot contain callbacks)", function() return cstructure.new(Ccallback, "a") end)
raises("bad argument #2 to 'new' (field name expected, got no value)", function() return cstructure.new(Cint) end)
raises("bad argument #1 to 'new' (C type expected, got no value)", function() return cstructure.new() end)
raises("duplicate field 'a'", function() return cstructure.new(Cint, "a", Cint, "a") end)
raises("bad argument #1 to 'sizeof' (Cvoid has no size)", function() return cinv.sizeof(Cvoid) end)
raises("bad argument #1 to 'sizeof' (C type expected, got string)", function() return cinv.sizeof("Cint") end)

-- cinv helpers
raises("bad argument #1 to 'chararray_to_string' (element 2: 1-character string expected, got a string of length 2)",
    function() return cinv.chararray_to_string({ "a", "bc" }) end)
-- A huge length is the error of its first missing element, not an allocation that aborts
raises("bad argument #1 to 'chararray_to_string' (element 2: 1-character string expected, got nil)",
    function() return cinv.chararray_to_string({ "a" }, 1 << 44) end)
raises("bad argument #1 to 'chararray_to_string' (table expected, got string)", function() return cinv.chararray_to_string("abc") end)
raises("bad argument #1 to 'ptr_to_string' (NULL pointer)", function() return cinv.ptr_to_string(nil) end)
-- Inside the NULL page, where a hexadecimal string or ptr_incr reaches from pure Lua: an error, not a crash
raises("bad argument #1 to 'ptr_to_string' (address 0x1 is in the NULL page)", function() return cinv.ptr_to_string("0x1") end)
raises("bad argument #1 to 'ptr_to_string' (address 0xfff is in the NULL page)",
    function() return cinv.ptr_to_string(cinv.ptr_incr(nil, 4095), 1) end)
raises("bad argument #1 to 'ptr_to_array' (address 0x10 is in the NULL page)", function() return cinv.ptr_to_array("0x10", Cint, 1) end)
raises("bad argument #1 to 'ptr_to_struct' (address 0x8 is in the NULL page)",
    function() return cinv.ptr_to_struct(cinv.ptr_incr(0, 8), cstructure.new(Cint, "a")) end)
raises("bad argument #1 to 'ptr_to_string' (pointer expected, got table)", function() return cinv.ptr_to_string({}) end)
raises("bad argument #3 to 'ptr_to_array' (non-negative integer expected)", function() return cinv.ptr_to_array("0x10", Cint, -1) end)
raises("bad argument #2 to 'ptr_to_struct' (structure expected, got Cint)", function() return cinv.ptr_to_struct("0x10", Cint) end)
raises("bad argument #1 to 'ptr_to_callback' (0x0 is not a function's address)", function() return cinv.ptr_to_callback(0) end)
raises("bad argument #1 to 'callback_to_ptr' (callback expected, got number)", function() return cinv.callback_to_ptr(5) end)
raises("bad argument #2 to 'ptr_incr' (integer expected, got string)", function() return cinv.ptr_incr(nil, "x") end)

-- Use after dispose: errors, never a crash; functions already taken keep working
local disposed = clibrary.new(TESTLIB)
disposed:tie_init(Cint, "ci_var_int")
local kept = disposed:get_function(Cint, "ci_add", Cint, Cint)
disposed:dispose()
local gone = "library '" .. TESTLIB .. "' was disposed of; "
raises(gone .. "'get_function' cannot use it", function() return disposed:get_function(Cint, "ci_add") end)
raises(gone .. "'tie_get' cannot use it", function() return disposed:tie_get("ci_var_int") end)
raises(gone .. "'tie_set' cannot use it", function() return disposed:tie_set("ci_var_int", 1) end)
raises(gone .. "'tie_init' cannot use it", function() return disposed:tie_init(Cint, "ci_var_int") end)
raises(gone .. "'new_callback' cannot use it", function() return disposed:new_callback(Cint, print) end)
disposed:dispose()
T.eq(kept(2, 3), 5, "a function taken before dispose still works")
