-- The examples of the C/Invoke Lua binding's manual (../shared/seeds/cinvoke-lua.txt), in its
-- order. getpass needs a terminal: a non-interactive function of the same signature
-- (ci_string, which returns its argument) stands in for it; mylib is the test library.
local T = dofile(TESTDIR .. "/testutil.lua")
local module = require("cinvoke_lua")

do -- Loading the module defines the globals, and returns them too
    T.eq(rawequal(module.clibrary, clibrary), true, "clibrary global")
    T.eq(rawequal(module.cinv, cinv), true, "cinv global")
    T.eq(rawequal(module.Cint, Cint), true, "Cint global")
end

do -- General Info: a library and a function returning a Cstring
    local libc = clibrary.new("libc.so.6")
    local mylib = clibrary.new(TESTLIB)
    local getpass = mylib:get_function(Cstring, "ci_string", Cstring)
    local pass = getpass("Enter a password: ")
    T.eq("You entered " .. pass, "You entered Enter a password: ", "getpass stand-in")
    T.eq(type(libc:get_function(Cstring, "getpass", Cstring)), "function", "getpass binds")
end

do -- Arrays: strcpy into a char array, written back
    local libc = clibrary.new("libc.so.6")
    local strcpy = libc:get_function(Cptr, "strcpy", cinv.array(Cchar), Cstring);
    local buf = { "a", "b", "c", "d" }
    local p = strcpy(buf, "ef")
    T.eq(#buf, 4, "same length")
    T.eq(table.concat(buf), "ef\0d", "buf is now { 'e', 'f', '\\0', 'd' }")
    T.eq(type(p), "userdata", "a ptr result")
end

do -- Passing NULL: nil for an array or a ptr, 0 for a ptr
    local mylib = clibrary.new(TESTLIB)
    T.eq(mylib:get_function(Cint, "ci_array_is_null", cinv.array(Cint))(nil), 1, "nil array")
    local is_null = mylib:get_function(Cint, "ci_is_null", Cptr)
    T.eq(is_null(nil), 1, "nil ptr")
    T.eq(is_null(0), 1, "0 ptr")
end

do -- Structures: Foo in an array (note the extra level of indirection)
    local mylib = clibrary.new(TESTLIB)
    local Foo = cstructure.new(
        Cint, "i1",
        Cshort, "s1"
    )
    local myfunc = mylib:get_function(Cvoid, "ci_foo_double", cinv.array(Foo), Cint)
    local s = { i1 = 1, s1 = 2 }
    myfunc({ s }, 1)
    T.eq(s.i1, 2, "i1 written back")
    T.eq(s.s1, 4, "s1 written back")
end

do -- Callbacks: myfunc(cbobj) prints "1"
    local mylib = clibrary.new(TESTLIB)
    local printed = {}
    local function lua_cb(i)
        printed[#printed + 1] = tostring(i)
    end
    local myfunc = mylib:get_function(Cvoid, "ci_call_void", Ccallback, Cint);
    local cbobj = mylib:new_callback(Cvoid, lua_cb, Cint);
    myfunc(cbobj, 1)
    T.eq(table.concat(printed), "1", "the callback got 1")
end

do -- cinv helpers of the class reference
    T.eq(cinv.chararray_to_string({ "a", "b", "c" }), "abc", "chararray_to_string")
    T.eq(cinv.chararray_to_string({ "a", "b", "c" }, 2), "ab", "chararray_to_string, len")
    local arr = cinv.string_to_chararray("hi")
    T.eq(#arr, 2, "string_to_chararray")
    T.eq(arr[1] .. arr[2], "hi", "string_to_chararray chars")
    local with_nil = cinv.string_to_chararray("hi", true)
    T.eq(#with_nil, 3, "includenil appends the \\0")
    T.eq(with_nil[3], "\0", "the last element is \\0")
    local mylib = clibrary.new(TESTLIB)
    local text = mylib:get_function(Cptr, "ci_get_text")()
    T.eq(cinv.ptr_to_string(text), "hello", "ptr_to_string up to \\0")
    T.eq(cinv.ptr_to_string(text, 11), "hello\0world", "ptr_to_string honours len")
    local ints = mylib:get_function(Cptr, "ci_get_ints")()
    local a = cinv.ptr_to_array(ints, Cint, 3)
    T.eq(a[1] .. "," .. a[2] .. "," .. a[3], "10,-20,30", "ptr_to_array")
    T.eq(cinv.ptr_to_array(cinv.ptr_incr(ints, cinv.sizeof(Cint)), Cint, 1)[1], -20, "ptr_incr")
    T.eq(cinv.sizeof(Cint), 4, "sizeof")
    local triple = mylib:get_function(Cptr, "ci_get_triple")()
    local call_int = mylib:get_function(Cint, "ci_call_int", Ccallback, Cint)
    T.eq(call_int(cinv.ptr_to_callback(triple), 5), 15, "ptr_to_callback")
    local cb = mylib:new_callback(Cint, function(x) return x + 1 end, Cint)
    local raw = cinv.callback_to_ptr(cb)
    T.eq(type(raw), "userdata", "callback_to_ptr gives a ptr")
    T.eq(call_int(cinv.ptr_to_callback(raw), 1), 2, "and back")
end

do -- Tied variables
    local mylib = clibrary.new(TESTLIB)
    mylib:tie_init(Cint, "ci_var_int")
    T.eq(mylib:tie_get("ci_var_int"), 42, "tie_get")
    mylib:tie_set("ci_var_int", 7)
    T.eq(mylib:get_function(Cint, "ci_get_var_int")(), 7, "tie_set reaches C")
    mylib:tie_set("ci_var_int", 42)
end

do -- Nested structures: Inner in Outer, in an array and through a ptr
    local mylib = clibrary.new(TESTLIB)
    local Inner = cstructure.new(
        Cint, "u",
        Cint, "v"
    )
    local Outer = cstructure.new(
        Inner, "in",
        Cfloat, "out"
    )
    T.eq(cinv.sizeof(Outer), 12, "sizeof(Outer)")
    local swap = mylib:get_function(Cvoid, "ci_outer_swap", cinv.array(Outer))
    local o = { ["in"] = { u = 1, v = 2 }, out = 1.5 }
    local inner = o["in"]
    swap({ o })
    T.eq(o["in"].u, 2, "nested u written back")
    T.eq(o["in"].v, 1, "nested v written back")
    T.eq(rawequal(o["in"], inner), true, "into the same nested table")
    T.eq(o.out, 3.0, "out written back")
    local outers = mylib:get_function(Cptr, "ci_get_outers")()
    local second = cinv.ptr_to_array(outers, Outer, 2)[2]
    T.eq(second["in"].u + second["in"].v, 7, "ptr_to_array of nested structs")
    local first = cinv.ptr_to_struct(outers, Outer)
    T.eq(first["in"].v, 2, "ptr_to_struct")
    T.eq(first.out, 0.5, "ptr_to_struct float")
end
