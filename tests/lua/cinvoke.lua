-- The C/Invoke face's API beyond the manual's examples: every type's extremes both ways,
-- arrays of every type written back, opaque pointers, callbacks of every kind of value.
local T = dofile(TESTDIR .. "/testutil.lua")
require("cinvoke_lua")
local lib = clibrary.new(TESTLIB)
local function f(ret, name, ...) return lib:get_function(ret, name, ...) end

do -- Sizes of the target platform
    T.eq(cinv.sizeof(Cchar), 1, "Cchar")
    T.eq(cinv.sizeof(Cshort), 2, "Cshort")
    T.eq(cinv.sizeof(Cint), 4, "Cint")
    T.eq(cinv.sizeof(Clong), string.packsize("l"), "Clong")
    T.eq(cinv.sizeof(Clonglong), 8, "Clonglong")
    T.eq(cinv.sizeof(Cint16), 2, "Cint16")
    T.eq(cinv.sizeof(Cint32), 4, "Cint32")
    T.eq(cinv.sizeof(Cint64), 8, "Cint64")
    T.eq(cinv.sizeof(Cfloat), 4, "Cfloat")
    T.eq(cinv.sizeof(Cdouble), 8, "Cdouble")
    T.eq(cinv.sizeof(Cptr), string.packsize("T"), "Cptr")
    T.eq(cinv.sizeof(Ccallback), string.packsize("T"), "Ccallback")
    T.eq(cinv.sizeof(Cstring), string.packsize("T"), "Cstring")
    T.eq(cinv.sizeof(cinv.array(Cdouble)), string.packsize("T"), "an array is a pointer")
    T.eq(cinv.sizeof(cstructure.new(Cint, "a", Cdouble, "b")), 16, "struct")
    T.eq(tostring(Cint), "Cint", "tostring of a type")
    T.eq(tostring(cinv.array(Cshort)), "array of Cshort", "tostring of an array type")
end

do -- Scalars round-trip their extremes
    local cases = {
        { Cshort, "ci_short", { -32768, 32767, 0 } },
        { Cint, "ci_int", { -2147483648, 2147483647, 0 } },
        { Clong, "ci_long", { math.mininteger, math.maxinteger } },
        { Clonglong, "ci_longlong", { math.mininteger, math.maxinteger } },
        { Cint16, "ci_int16", { -32768, 32767 } },
        { Cint32, "ci_int32", { -2147483648, 2147483647 } },
        { Cint64, "ci_int64", { math.mininteger, math.maxinteger } },
        { Cfloat, "ci_float", { 3.4028234663852886e38, -1.401298464324817e-45, 0.5 } },
        { Cdouble, "ci_double", { math.huge, -math.huge, 2.2250738585072014e-308, 1.7976931348623157e308 } },
    }
    for _, case in ipairs(cases) do
        local t, name, values = case[1], case[2], case[3]
        local g = f(t, name, t)
        for _, v in ipairs(values) do T.eq(g(v), v, name .. "(" .. tostring(v) .. ")") end
    end
    local nan = f(Cdouble, "ci_double", Cdouble)(0 / 0)
    T.eq(nan ~= nan, true, "NaN")
    T.eq(f(Cshort, "ci_short", Cshort)(32768), -32768, "truncated like a C cast")
    T.eq(f(Cint, "ci_int", Cint)(2.0), 2, "an integral float")
    local char = f(Cchar, "ci_char", Cchar)
    T.eq(char("A"), "A", "Cchar as a 1-character string")
    T.eq(char("\0"), "\0", "the NUL char")
    T.eq(char("\255"), "\255", "byte 255")
    T.eq(char("\128"), "\128", "byte 128")
    T.eq(f(Cchar, "ci_next_char", Cchar)("a"), "b", "C computes with the char")
    local mixed = f(Cdouble, "ci_mixed", Cchar, Cshort, Cint, Clong, Clonglong, Cfloat, Cdouble)
    T.eq(mixed("\1", 2, 3, 4, 5, 0.5, 0.25), 15.75, "seven types at once")
end

do -- Cstring: copied up to the first \0; NULL gives nil
    local s = f(Cstring, "ci_string", Cstring)
    T.eq(s("abc"), "abc", "a string")
    T.eq(s("ab\0cd"), "ab", "up to the first \\0")
    T.eq(s(nil), nil, "NULL gives nil")
    T.eq(s(""), "", "empty")
end

do -- Cptr: opaque, equal by address, usable as keys; nil, 0 and hex strings pass
    local ptr = f(Cptr, "ci_ptr", Cptr)
    local text = f(Cptr, "ci_get_text")()
    local again = f(Cptr, "ci_get_text")()
    T.eq(text == again, true, "equal when the addresses are equal")
    local seen = { [text] = "text" }
    T.eq(seen[again], "text", "usable as a table key")
    T.eq(ptr(text) == text, true, "a ptr passes back")
    local address = f(Cint64, "ci_address", Cptr)
    local hex = string.format("0x%x", address(text))
    T.eq(ptr(hex) == text, true, "a hexadecimal string is a pointer")
    T.eq(address((string.upper(hex):gsub("^0X", "0x"))), address(text), "upper-case digits")
    T.eq(address(0), 0, "0 is NULL")
    T.eq(address(nil), 0, "nil is NULL")
    local null = ptr(nil)
    T.eq(type(null), "userdata", "a NULL result is a ptr too")
    T.eq(address(null), 0, "and passes as NULL")
    T.eq(null == ptr(0), true, "NULL equals NULL")
    T.eq(cinv.ptr_incr(text, 6) == text, false, "ptr_incr makes another ptr")
    T.eq(cinv.ptr_to_string(cinv.ptr_incr(text, 6)), "world", "ptr_incr moves by bytes")
end

do -- Arrays of every type written back
    local function check(t, name, input, expected)
        local g = f(Cvoid, name, cinv.array(t), Cint)
        local arr = {}
        for i, v in ipairs(input) do arr[i] = v end
        g(arr, #arr)
        T.eq(#arr, #expected, name .. " length")
        for i = 1, #expected do T.eq(arr[i], expected[i], name .. "[" .. i .. "]") end
    end
    check(Cchar, "ci_negate_chars", { "\1", "\127", "\0" }, { "\255", "\129", "\0" })
    check(Cchar, "ci_upper", { "a", "b", "Z", "!" }, { "A", "B", "Z", "!" })
    check(Cshort, "ci_negate_shorts", { 1, -32767, 0 }, { -1, 32767, 0 })
    check(Cint, "ci_negate_ints", { 1, -2147483647, 5 }, { -1, 2147483647, -5 })
    check(Clong, "ci_negate_longs", { 1, math.maxinteger }, { -1, -math.maxinteger })
    check(Clonglong, "ci_negate_longlongs", { 1, math.maxinteger }, { -1, -math.maxinteger })
    check(Cint16, "ci_negate_int16s", { 7, -32767 }, { -7, 32767 })
    check(Cint32, "ci_negate_int32s", { 7, 2147483647 }, { -7, -2147483647 })
    check(Cint64, "ci_negate_int64s", { 7, math.mininteger + 1 }, { -7, math.maxinteger })
    check(Cfloat, "ci_halve_floats", { 1, 3 }, { 0.5, 1.5 })
    check(Cdouble, "ci_halve_doubles", { 1, 1e300 }, { 0.5, 5e299 })
    local a, b = f(Cptr, "ci_get_text")(), f(Cptr, "ci_get_ints")()
    local ptrs = { a, b, 0 }
    f(Cvoid, "ci_reverse_ptrs", cinv.array(Cptr), Cint)(ptrs, 3)
    T.eq(f(Cint64, "ci_address", Cptr)(ptrs[1]), 0, "Cptr array: NULL first")
    T.eq(ptrs[2] == b, true, "Cptr array: middle stays")
    T.eq(ptrs[3] == a, true, "Cptr array: first last")
    local empty = {}
    f(Cvoid, "ci_negate_ints", cinv.array(Cint), Cint)(empty, 0)
    T.eq(#empty, 0, "an empty array")
    local sixteen = {}
    for i = 1, 16 do sixteen[i] = i end
    T.eq(f(Cint, "ci_sum16", cinv.array(Cint))(sixteen), 136, "16 ints summed")
    T.eq(sixteen[16], 17, "and written back")
end

do -- Structures in arrays, several elements, nested ones, and fields left out
    local Foo = cstructure.new(Cint, "i1", Cshort, "s1")
    local foos = { { i1 = 1, s1 = 2 }, { i1 = -3, s1 = 4 }, { i1 = 5 } }
    f(Cvoid, "ci_foo_double", cinv.array(Foo), Cint)(foos, 3)
    T.eq(foos[2].i1, -6, "second struct")
    T.eq(foos[3].s1, 0, "a missing field is 0")
end

do -- Cchar fields are 1-character strings and Cptr fields light userdata, both ways
    local Tagged = cstructure.new(Cchar, "tag", Cptr, "data", Cint, "n")
    T.eq(cinv.sizeof(Tagged), 3 * string.packsize("T"), "char, pointer and int, padded as C pads them")
    local text = f(Cptr, "ci_get_text")()
    local address = f(Cint64, "ci_address", Cptr)
    local step = f(Cvoid, "ci_tagged_step", cinv.array(Tagged), Cint)
    local hex = string.format("0x%x", address(text))
    local items = {
        { tag = "a", data = text, n = 1 },
        { tag = "\255", data = hex, n = 6 },
        { tag = "\0", data = 0, n = 3 },
        {},
    }
    local first = items[1]
    step(items, #items)
    T.eq(items[1], first, "an element goes back into its table")
    T.eq(items[1].tag, "A", "a Cchar field written back")
    T.eq(type(items[1].data), "userdata", "a Cptr field is a light userdata")
    T.eq(cinv.ptr_to_string(items[1].data), "ello", "a Cptr field in and out")
    T.eq(items[1].n, 2, "the int field next to them")
    T.eq(items[2].tag, "\255", "byte 255 in a Cchar field")
    T.eq(cinv.ptr_to_string(items[2].data), "world", "a hexadecimal string in a Cptr field")
    T.eq(items[3].tag, "\0", "the NUL char in a Cchar field")
    T.eq(items[3].data == text, true, "0 in a Cptr field is NULL")
    T.eq(items[4].tag, "\0", "a missing Cchar field is the NUL char")
    T.eq(items[4].data == text, true, "a missing Cptr field is NULL")
    local seen = { [text] = true }
    T.eq(seen[items[4].data], true, "a Cptr field is usable as a key")

    local Holder = cstructure.new(Tagged, "t", Cchar, "c", Cptr, "p")
    local swap = f(Cvoid, "ci_holder_swap", cinv.array(Holder), Cint)
    local holders = { { t = { tag = "m", data = text, n = 5 }, c = "n" }, { t = {}, c = "z", p = text } }
    local inner = holders[1].t
    swap(holders, #holders)
    T.eq(holders[1].t, inner, "a nested structure goes back into its table")
    T.eq(holders[1].t.tag, "n", "a nested Cchar field")
    T.eq(holders[1].c, "m", "a Cchar field after a nested structure")
    T.eq(holders[1].p == text, true, "a Cptr field after a nested structure")
    T.eq(type(holders[1].t.data), "userdata", "a NULL nested Cptr field is a light userdata")
    T.eq(address(holders[1].t.data), 0, "and it is NULL")
    T.eq(holders[1].t.n, 5, "a nested int field")
    T.eq(holders[2].t.tag, "z", "second element, nested Cchar")
    T.eq(holders[2].c, "\0", "second element, Cchar from a missing field")
    T.eq(holders[2].t.data == text, true, "second element, nested Cptr")
    T.eq(address(holders[2].p), 0, "second element, Cptr from a missing field")

    local stored = f(Cptr, "ci_get_holders")()
    local h = cinv.ptr_to_struct(stored, Holder)
    T.eq(h.t.tag, "q", "ptr_to_struct: nested Cchar field")
    T.eq(type(h.t.data), "userdata", "ptr_to_struct: a NULL nested Cptr is a light userdata")
    T.eq(address(h.t.data), 0, "ptr_to_struct: and it is NULL")
    T.eq(h.t.n, 7, "ptr_to_struct: nested int field")
    T.eq(h.c, "r", "ptr_to_struct: Cchar field")
    T.eq(h.p == text, true, "ptr_to_struct: Cptr field")
    local both = cinv.ptr_to_array(stored, Holder, 2)
    T.eq(both[2].t.data == text, true, "ptr_to_array: nested Cptr field")
    T.eq(both[2].c, "\255", "ptr_to_array: byte 255 in a Cchar field")
    T.eq(address(both[2].p), 0, "ptr_to_array: NULL Cptr field")
end

do -- Callbacks of every kind of value
    local call_char = f(Cchar, "ci_call_char", Ccallback, Cchar)
    local got
    local cb = lib:new_callback(Cchar, function(c, s) got = s; return c:upper() end, Cchar, Cstring)
    T.eq(call_char(cb, "q"), "Q", "a Cchar callback")
    T.eq(got, "str", "a Cstring argument")
    local call_double = f(Cdouble, "ci_call_double", Ccallback, Cdouble)
    local dcb = lib:new_callback(Cdouble, function(x, y) return x * y end, Cdouble, Cfloat)
    T.eq(call_double(dcb, 3), 1.5, "double and float arguments")
    local call_ptr = f(Cptr, "ci_call_ptr", Ccallback, Cptr)
    local text = f(Cptr, "ci_get_text")()
    local seen
    local pcb = lib:new_callback(Cptr, function(p) seen = p; return cinv.ptr_incr(p, 1) end, Cptr)
    local r = call_ptr(pcb, text)
    T.eq(seen == text, true, "a Cptr argument is the same ptr")
    T.eq(cinv.ptr_to_string(r), "ello", "a Cptr result")
    local call_int = f(Cint, "ci_call_int", Ccallback, Cint)
    for i = 1, 200 do -- made and collected in a loop: slots are reused
        local c = lib:new_callback(Cint, function(x) return x + i end, Cint)
        T.eq(call_int(c, 1), i + 1, "callback in a loop")
    end
    collectgarbage()
end

do -- Tied variables of every basic type
    local cases = {
        { Cchar, "ci_var_char", "x", "\127" },
        { Cshort, "ci_var_short", -12, -32768 },
        { Cint, "ci_var_int", 42, 2147483647 },
        { Clong, "ci_var_long", -7, math.mininteger },
        { Clonglong, "ci_var_longlong", 1 << 40, math.maxinteger },
        { Cfloat, "ci_var_float", 1.5, -0.25 },
        { Cdouble, "ci_var_double", 2.25, 1e300 },
    }
    for _, case in ipairs(cases) do
        local t, name, initial, new = case[1], case[2], case[3], case[4]
        lib:tie_init(t, name)
        T.eq(lib:tie_get(name), initial, name .. " initial")
        lib:tie_set(name, new)
        T.eq(lib:tie_get(name), new, name .. " set")
        lib:tie_set(name, initial)
    end
    T.eq(f(Cchar, "ci_get_var_char")(), "x", "C sees the char")
    lib:tie_init(Cptr, "ci_var_ptr")
    local text = f(Cptr, "ci_get_text")()
    T.eq(f(Cint64, "ci_address", Cptr)(lib:tie_get("ci_var_ptr")), 0, "NULL ptr variable")
    lib:tie_set("ci_var_ptr", text)
    T.eq(lib:tie_get("ci_var_ptr") == text, true, "a ptr variable")
    T.eq(f(Cptr, "ci_get_var_ptr")() == text, true, "C sees the ptr")
    lib:tie_set("ci_var_ptr", 0)
end

do -- Calling conventions: every documented name is accepted
    for _, cc in ipairs({ "cdecl", "stdcall", "fastcall", "default" }) do
        local l = clibrary.new(TESTLIB, cc)
        T.eq(l:get_function(Cint, "ci_add", Cint, Cint)(40, 2), 42, cc)
    end
end

do -- A function outlives its disposed library
    local l = clibrary.new(TESTLIB)
    local add = l:get_function(Cint, "ci_add", Cint, Cint)
    l:dispose()
    l = nil
    collectgarbage()
    T.eq(add(1, 2), 3, "still callable")
end
