-- Strings and pointers in and out, NULL in and out.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)

local strlen = lib:bind("t_strlen", "size_t", {"string"})
T.eq(strlen("hello"), 5, "string parameter")
T.eq(strlen(""), 0, "empty string")
T.eq(strlen(string.rep("x", 100000)), 100000, "long string")
T.eq(strlen("a\0b"), 1, "a string stops at NUL for C")
T.eq(strlen(12345), 5, "a number passes as its string, as in Lua's own library")

local is_null_s = lib:bind("is_null", "int", {"string"})
T.eq(is_null_s(nil), 1, "nil string is NULL")
T.eq(is_null_s("x"), 0, "a string is not NULL")

T.eq(lib:callString("static_string"), "hello from C", "string result")
T.eq(lib:call("null_string", "string", {}), nil, "NULL string result is nil")
T.eq(lib:call("string_at", "string", {"string", "usize"}, "abcdef", 2), "cdef", "string result from a parameter")
T.eq(lib:call("count_char", "int", {"cstring", "int"}, "banana", string.byte("a")), 3, "string and int")

-- Pointers.
local null = lib:call("null_pointer", "pointer", {})
T.eq(type(null), "userdata", "NULL pointer result is a pointer object")
T.eq(null.isNull, true, "NULL pointer isNull")
T.eq(null.addr, 0, "NULL pointer addr")
T.eq(ffi.isNull(null), true, "ffi.isNull")
local p = lib:call("static_int", "pointer", {})
T.eq(p.isNull, false, "non-NULL pointer")
T.eq(lib:call("read_int", "i32", {"pointer"}, p), 42, "pointer passed back to C")
T.eq(lib:call("t_ptr", "pointer", {"pointer"}, p), p, "pointer identity keeps equality")
T.eq(lib:call("t_ptr", "pointer", {"pointer"}, p).addr, p.addr, "same address")
T.eq(lib:call("is_null", "int", {"pointer"}, nil), 1, "nil pointer is NULL")
T.eq(lib:call("is_null", "int", {"ptr"}, p), 0, "pointer object is not NULL")
T.eq(lib:call("read_int", "i32", {"string"}, p), 42, "a pointer object passes as a string parameter")
T.eq(tostring(p):find("^pointer: ") ~= nil, true, "tostring of a pointer")
T.eq(ffi.ptr(p.addr), p, "ffi.ptr makes an equal pointer")
T.eq(ffi.ptr(0).isNull, true, "ffi.ptr(0) is NULL")
T.eq(p.isManaged, false, "pointers from C are unmanaged")
T.eq(lib:call("t_ptr", "void*", {"void*"}, ffi.ptr(12345)).addr, 12345, "any address round-trips")
T.eq(p ~= null, true, "different addresses differ")

-- Strings through and back: the result is a copy made by the binding.
local tstr = lib:bind("t_string", "string", {"string"})
T.eq(tstr("round trip"), "round trip", "string identity")
T.eq(tstr(""), "", "empty string identity")
T.eq(tstr(nil), nil, "nil -> NULL -> nil")
T.eq(tstr("ab\0cd"), "ab", "the result stops at NUL")
T.eq(lib:call("t_string", "char*", {"char*"}, "alias"), "alias", "char* alias")
T.eq(lib:call("t_string", "cstring", {"cstring"}, "alias"), "alias", "cstring alias")
T.eq(#lib:callString("get_greeting"), 13, "callString length")
local s1 = lib:callString("static_string")
local s2 = lib:callString("static_string")
T.eq(s1 == s2 and type(s1) == "string", true, "string results are Lua strings")

-- Pointers out of C and back in, through bound functions and NULL checks.
local static_int = lib:bind("static_int", "pointer", {})
local p1, p2 = static_int(), static_int()
T.eq(p1 == p2, true, "two pointer objects to one address are equal")
T.eq(math.type(p1.addr), "integer", "addr is an integer")
T.eq(p1.addr ~= 0, true, "a static int has an address")
T.eq(lib:call("is_null", "int", {"pointer"}, p1), 0, "non-NULL pointer reaches C")
T.eq(lib:call("is_null", "int", {"pointer"}, ffi.ptr(0)), 1, "ffi.ptr(0) reaches C as NULL")
T.eq(lib:call("is_null", "int", {"pointer"}, null), 1, "a NULL pointer object reaches C as NULL")
T.eq(ffi.isNull(p1), false, "ffi.isNull on a real pointer")
T.eq(lib:call("t_ptr", "pointer", {"pointer"}, nil).isNull, true, "nil -> NULL -> NULL pointer object")
T.eq(lib:call("read_int", "int", {"void*"}, ffi.ptr(p1.addr)), 42, "a pointer rebuilt from its address")

-- Light userdata as a pointer parameter (only the embedded run can make one: the harness
-- sets TEST_LIGHTUSERDATA to address 0x1234).
if TEST_LIGHTUSERDATA ~= nil then
    T.eq(type(TEST_LIGHTUSERDATA), "userdata", "a light userdata from the harness")
    T.eq(lib:call("t_ptr", "pointer", {"pointer"}, TEST_LIGHTUSERDATA).addr, 0x1234, "light userdata passes its address")
    T.eq(lib:call("is_null", "int", {"void*"}, TEST_LIGHTUSERDATA), 0, "light userdata is not NULL")
end
