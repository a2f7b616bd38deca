-- The Alien face (Alien 0.4.1 and 0.7.1): libraries, functions and their types, callbacks,
-- buffers, arrays, structs, struct packing, pointer readers, tags and the small helpers,
-- each checked against C code (tests/c/alien.c) or libc.
local T = dofile(TESTDIR .. "/testutil.lua")
local alien = require("alien")

local lib = alien.load(TESTLIB)

-- Binds `name` of the test library with the given types.
local function bind(name, ...)
    local f = lib[name]
    f:types(...)
    return f
end

-- A float as C's float holds it.
local function as_float(x)
    return (string.unpack("f", string.pack("f", x)))
end

local PTR = alien.sizeof("pointer")

do -- alien.load: a path, bare names through lib<name>.so (glibc's are linker scripts)
    T.eq(tostring(lib), "alien library " .. TESTLIB, "tostring of a library loaded by path")
    local m = alien.load("m")
    local cos = m.cos
    cos:types("double", "double")
    T.eq(cos(0), 1.0, "libm's cos through alien.load('m')")
    local c = alien.load("c")
    local strlen = c.strlen
    strlen:types("size_t", "string")
    T.eq(strlen("four"), 4, "libc's strlen through alien.load('c')")
    T.eq(tostring(m):sub(1, #"alien library "), "alien library ", "tostring of libm")
    T.contains(tostring(m), "m", "tostring of libm names it")
end

do -- alien.loaded and alien.<name>: one library object per name
    local m = alien.load("m")
    T.eq(rawequal(alien.loaded.m, m), true, "alien.loaded.m is what alien.load('m') gave")
    T.eq(rawequal(alien.m, m), true, "alien.m is the same library")
    T.eq(rawequal(alien.load("m"), m), true, "loading again gives the cached library")
    local floor = alien.m.floor
    floor:types("double", "double")
    T.eq(floor(2.75), 2.0, "alien.m.floor")
    -- Names of alien's own functions are not libraries.
    T.eq(type(alien.load), "function", "alien.load stays a function")
    T.eq(type(alien.buffer), "function", "alien.buffer stays a function")
end

do -- alien.default: the running process
    local def = alien.default
    T.eq(tostring(def), "alien library default", "tostring(alien.default)")
    local strlen = def.strlen
    strlen:types("int", "string")
    T.eq(strlen("hello"), 5, "libc's strlen from the process")
    T.eq(tostring(strlen), "alien function strlen, library default", "tostring of a default function")
end

do -- function objects: cached per name, named by tostring
    T.eq(rawequal(lib.al_add, lib.al_add), true, "lib.f == lib.f")
    local libname = tostring(lib):sub(#"alien library " + 1)
    T.eq(tostring(lib.al_add), "alien function al_add, library " .. libname, "tostring of a function")
    -- Types set through one lookup hold for the next.
    lib.al_add:types("int", "int", "int")
    T.eq(lib.al_add(40, 2), 42, "typed through lib.al_add, called through lib.al_add")

    -- A function object is a Lua function; :types changes it in place.
    local f = lib.al_see_int
    local key = { [f] = "found" }
    T.eq(type(f), "function", "type of a function object")
    f:types("longlong", "int")
    T.eq(f(70000), 70000, "typed")
    f:types("short", "int")
    T.eq(rawequal(f, lib.al_see_int), true, "retyping keeps the value")
    T.eq(key[f], "found", "a table keyed by the function still finds it")
    T.eq(f(70000), 70000 - 65536, "retyped: the result is now cut to a short")
    local promote_after = require("moonthunk").stats().promoteAfter
    for _ = 1, promote_after + 1 do f(70000) end
    T.eq(f(70000), 70000 - 65536, "hot, on its specialized thunk")
    f:types("longlong", "int")
    T.eq(f(70000), 70000, "retyped after it was hot")
    for _ = 1, promote_after + 1 do f(1) end
    T.eq(f(70000), 70000, "and hot again")
    T.eq(tostring(alien.funcptr(lib.al_add)), "alien function anonymous, library default",
        "tostring of a funcptr")

    -- C functions pass where C takes a callback or a pointer.
    lib.al_add:types("int", "int", "int")
    T.eq(bind("al_apply2", "int", "callback", "int", "int")(lib.al_add, 30, 12), 42,
        "a function object passed as a callback")
    T.eq(bind("al_echo_ptr", "pointer", "pointer")(lib.al_add),
        bind("al_echo_ptr", "pointer", "callback")(lib.al_add), "and as a pointer: its address")
    T.raises({ "bad argument #1 to 'al_apply2' (function pointer expected, got function)" },
        bind("al_apply2", "int", "callback", "int", "int"), print, 1, 2)

    -- Any face's callback passes; a freed one no longer does, nor does other memory.
    local apply2 = bind("al_apply2", "int", "callback", "int", "int")
    local native = require("moonthunk").callback(function(a, b) return a * b end, "i32", { "i32", "i32" })
    T.eq(apply2(native, 6, 7), 42, "a native-face callback passed as a callback")
    native:free()
    T.raises({ "bad argument #1 to 'al_apply2' (function pointer expected, got" }, apply2, native, 6, 7)
    T.raises({ "bad argument #1 to 'al_apply2' (function pointer expected, got alien buffer)" },
        apply2, alien.buffer(64), 6, 7)
end

do -- the function type's metatable serves function objects only
    T.raises({ "attempt to index a function value" }, function() return print.types end)
    T.raises({ "attempt to index a function value" }, function() return (function() end).x end)
    T.eq(tostring(print):match("^function: 0x%x+$") ~= nil, true, "tostring(print): " .. tostring(print))
    T.eq(tostring(print), tostring(print), "a function's tostring is stable")
    T.raises({ "bad argument #1 to 'types' (alien function expected, got function)" },
        lib.al_add.types, print, "int")
    T.raises({ "bad argument #1 to 'types' (alien function expected, got table)" },
        lib.al_add.types, {}, "int")
end

do -- :types in both forms; ret defaults to int; abi names
    local weigh = lib.al_weigh_int
    weigh:types("int", "byte", "short", "int", "long", "ptrdiff_t", "float", "double", "longlong")
    T.eq(weigh(1, 2, 3, 4, 5, 6, 7, 8), 204, "positional types")
    T.eq(weigh(-1, -2, -3, -4, -5, -6, -7, -8), -204, "negative arguments")
    T.eq(weigh(string.byte("x"), 1, 1, 1, 1, 1, 1, 1), 120 + 35, "a byte from string.byte")
    weigh:types{ ret = "int", "byte", "short", "int", "long", "ptrdiff_t", "float", "double", "longlong" }
    T.eq(weigh(1, 2, 3, 4, 5, 6, 7, 8), 204, "table types with ret")
    weigh:types{ "byte", "short", "int", "long", "ptrdiff_t", "float", "double", "longlong" }
    T.eq(weigh(1, 2, 3, 4, 5, 6, 7, 8), 204, "table types, ret defaults to int")
    for _, abi in ipairs({ "default", "cdecl", "stdcall" }) do
        weigh:types{ ret = "int", abi = abi, "byte", "short", "int", "long", "ptrdiff_t", "float",
            "double", "longlong" }
        T.eq(weigh(1, 2, 3, 4, 5, 6, 7, 8), 204, "abi " .. abi)
    end
    -- Retyping an existing function object: a short result of the same call.
    weigh:types("short", "byte", "short", "int", "long", "ptrdiff_t", "float", "double", "longlong")
    T.eq(weigh(1, 2, 3, 4, 5, 6, 7, 8), 204, "retyped to a short result")
    T.eq(weigh(0, 0, 0, 0, 0, 0, 0, 4096), -32768, "the short result is cut from the int")
    -- Integral floats pass for integer parameters.
    T.eq(weigh(1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0), 204, "integral floats")
    local wf = bind("al_weigh_float", "float", "byte", "short", "int", "long", "ptrdiff_t", "float",
        "double", "longlong")
    T.eq(wf(1, 2, 3, 4, 5, 6.5, 7.25, 8), 204 + 3 + 1.75, "float result")
    local wd = bind("al_weigh_double", "double", "byte", "short", "int", "long", "ptrdiff_t", "float",
        "double", "longlong")
    T.eq(wd(-1, -2, -3, -4, -5, -6.5, -7.25, -8), -(204 + 3 + 1.75), "double result")
    local usum = bind("al_usum", "ulong", "ushort", "uint", "ulong")
    T.eq(usum(65535, 0, 0), 65535, "ushort maximum")
    T.eq(usum(0, 4294967295, 0), 4294967295, "uint maximum")
    T.eq(usum(1, 2, 2 ^ 40), 2 ^ 40 + 3, "ulong beyond 32 bits")
    T.eq(math.type(usum(1, 2, 3)), "integer", "integer results are Lua integers")
end

do -- integer arguments: the callee sees them cut like C casts
    local cases = {
        { "al_see_schar", "byte", { { 65, 65 }, { -1, -1 }, { 200, -56 }, { 255, -1 }, { 256 + 7, 7 } } },
        { "al_see_uchar", "char", { { 65, 65 }, { -1, 255 }, { 200, 200 }, { 256, 0 }, { -128, 128 } } },
        { "al_see_short", "short", { { -32768, -32768 }, { 40000, -25536 }, { 0x10004, 4 } } },
        { "al_see_ushort", "ushort", { { -1, 65535 }, { 65536 + 9, 9 }, { 40000, 40000 } } },
        { "al_see_int", "int", { { -1, -1 }, { 0x80000000, -2147483648 }, { 0x100000005, 5 } } },
        { "al_see_uint", "uint", { { -1, 4294967295 }, { 0x100000005, 5 }, { 3000000000, 3000000000 } } },
        { "al_see_long", "long", { { -1, -1 }, { 2 ^ 40, 2 ^ 40 }, { math.mininteger, math.mininteger } } },
        { "al_see_longlong", "longlong", { { math.maxinteger, math.maxinteger }, { -2 ^ 53, -2 ^ 53 } } },
        { "al_see_ptrdiff", "ptrdiff_t", { { -7, -7 }, { 2 ^ 40, 2 ^ 40 } } },
    }
    for _, case in ipairs(cases) do
        local name, t, pairs_ = case[1], case[2], case[3]
        local f = bind(name, "longlong", t)
        for _, p in ipairs(pairs_) do
            T.eq(f(p[1]), p[2], name .. "(" .. tostring(p[1]) .. ") as " .. t)
        end
    end
    -- Unsigned 64-bit values keep their 64 bits in a Lua integer (as string.pack("J") does).
    local ul = bind("al_see_ulong", "ulonglong", "ulong")
    T.eq(ul(-1), 0xffffffffffffffff, "ulong -1")
    T.eq(ul(2 ^ 40), 2 ^ 40, "ulong 2^40")
    local ull = bind("al_see_ulonglong", "ulonglong", "ulonglong")
    T.eq(ull(0xfedcba9876543210), 0xfedcba9876543210, "ulonglong keeps all 64 bits")
    local sz = bind("al_see_size", "ulonglong", "size_t")
    T.eq(sz(-1), 0xffffffffffffffff, "size_t -1")
    T.eq(sz(12345), 12345, "size_t")
end

do -- integer results: extended from their C width
    local cases = {
        { "al_cut_schar", "byte", { { 0x1ff, -1 }, { 0x17f, 127 }, { 0x80, -128 } } },
        { "al_cut_uchar", "char", { { 0x1ff, 255 }, { -1, 255 }, { 0x141, 65 } } },
        { "al_cut_short", "short", { { 0x18000, -32768 }, { -1, -1 }, { 0x12345, 0x2345 } } },
        { "al_cut_ushort", "ushort", { { -1, 65535 }, { 0x18000, 32768 } } },
        { "al_cut_int", "int", { { 0x180000000, -2147483648 }, { 0x100000007, 7 } } },
        { "al_cut_uint", "uint", { { -1, 4294967295 }, { 0x180000000, 2147483648 } } },
        { "al_cut_long", "long", { { -5, -5 }, { 2 ^ 50, 2 ^ 50 } } },
        { "al_cut_ulong", "ulong", { { -1, 0xffffffffffffffff }, { 2 ^ 50, 2 ^ 50 } } },
        { "al_cut_size", "size_t", { { -1, 0xffffffffffffffff }, { 99, 99 } } },
        { "al_cut_ptrdiff", "ptrdiff_t", { { -99, -99 }, { 2 ^ 50, 2 ^ 50 } } },
    }
    for _, case in ipairs(cases) do
        local name, t, pairs_ = case[1], case[2], case[3]
        local f = bind(name, t, "longlong")
        for _, p in ipairs(pairs_) do
            T.eq(f(p[1]), p[2], name .. "(" .. tostring(p[1]) .. ") as " .. t)
        end
    end
    -- A narrow parameter that is not the first: "byte" first, then the value.
    local after = bind("al_after_byte", "short", "byte", "short")
    T.eq(after(0, -32766), -32766, "short after a byte")
    T.eq(after(-2, 32767), -32767, "short result computed from both")
end

do -- identities of every type, and the unsigned maxima
    local ids = {
        { "al_id_schar", "byte", -128 }, { "al_id_uchar", "char", 255 },
        { "al_id_short", "short", -32768 }, { "al_id_ushort", "ushort", 65535 },
        { "al_id_int", "int", -2147483648 }, { "al_id_uint", "uint", 4294967295 },
        { "al_id_long", "long", math.mininteger }, { "al_id_ulong", "ulong", 0xffffffffffffffff },
        { "al_id_longlong", "longlong", math.maxinteger },
        { "al_id_ulonglong", "ulonglong", 0x8000000000000001 },
        { "al_id_size", "size_t", 0xffffffffffffffff }, { "al_id_ptrdiff", "ptrdiff_t", -2 ^ 62 },
        { "al_id_double", "double", 1 / 3 }, { "al_id_float", "float", as_float(1 / 3) },
    }
    for _, id in ipairs(ids) do
        local f = bind(id[1], id[2], id[2])
        T.eq(f(id[3]), id[3], id[1])
    end
    T.eq(bind("al_id_float", "float", "float")(0.1), as_float(0.1), "a double rounded to float")
    T.eq(bind("al_id_double", "double", "double")(0 / 0) ~= bind("al_id_double", "double", "double")(0 / 0),
        true, "NaN passes through")
    T.eq(bind("al_id_double", "double", "double")(-math.huge), -math.huge, "-inf passes through")
    T.eq(bind("al_third", "float", "float")(-42), -14.0, "float arithmetic in C")
    T.eq(bind("al_halve", "double", "double")(3), 1.5, "an integer passes for a double")
    local maxima = {
        { "al_max_uchar", "char", 255 }, { "al_max_ushort", "ushort", 65535 },
        { "al_max_uint", "uint", 4294967295 }, { "al_max_ulong", "ulong", 0xffffffffffffffff },
        { "al_max_ulonglong", "ulonglong", 0xffffffffffffffff },
        { "al_max_size", "size_t", 0xffffffffffffffff },
    }
    for _, m in ipairs(maxima) do
        T.eq(bind(m[1], m[2])(), m[3], m[1])
    end
    -- Reading a maximum as its signed type gives -1.
    T.eq(bind("al_max_uchar", "byte")(), -1, "unsigned char maximum read as byte")
    T.eq(bind("al_max_ushort", "short")(), -1, "unsigned short maximum read as short")
    T.eq(bind("al_max_uint", "int")(), -1, "unsigned int maximum read as int")
end

do -- void, untyped functions, functions of no arguments
    local touch, count = lib.al_touch, bind("al_touch_count", "int")
    local before = count()
    T.eq(touch(), nil, "an untyped function is void with no arguments")
    T.eq(count(), before + 1, "the untyped function ran")
    T.eq(bind("al_answer", "int")(), 42, "no arguments")
    local void = bind("al_touch", "void")
    T.eq(void(), nil, "void result")
    T.eq(count(), before + 2, "the typed void function ran")
end

do -- strings
    T.eq(bind("al_greeting", "string")(), "hello from alien.c", "a static C string")
    T.eq(bind("al_no_string", "string")(), nil, "a NULL string result is nil")
    local echo = bind("al_echo_string", "string", "string")
    T.eq(echo("round trip"), "round trip", "string argument and result")
    T.eq(echo(""), "", "empty string")
    T.eq(echo(nil), nil, "nil passes NULL")
    T.eq(echo(alien.buffer("from a buffer")), "from a buffer", "a buffer passes for a string")
    local len = bind("al_strlen_or_neg", "long", "string")
    T.eq(len("abc"), 3, "string argument")
    T.eq(len(nil), -1, "nil is NULL")
    T.eq(len("a\0b"), 1, "C sees the string up to its first NUL")
    local buf = alien.buffer("abcdef")
    T.eq(len(buf:topointer(3)), 4, "a light userdata passes for a string")
    local find = bind("al_find_char", "pointer", "string", "int")
    local p = find(buf, string.byte("c"))
    T.eq(type(p), "userdata", "a pointer result is a userdata")
    T.eq(alien.tostring(p), "cdef", "the pointer points into the buffer")
    T.eq(rawequal(p, buf:topointer(3)), true, "the same light userdata as buf:topointer(3)")
    T.eq(find(buf, string.byte("z")), nil, "a NULL pointer result is nil")
end

do -- pointers: light userdata out, buffers/strings/light userdata/nil in
    local echo = bind("al_echo_ptr", "pointer", "pointer")
    local buf = alien.buffer(16)
    local p = echo(buf)
    T.eq(type(p), "userdata", "pointer result")
    T.eq(rawequal(p, buf:topointer()), true, "a buffer passes its address")
    T.eq(rawequal(echo(p), p), true, "a light userdata passes itself")
    T.eq(echo(nil), nil, "nil passes NULL and NULL comes back as nil")
    T.eq(bind("al_no_ptr", "pointer")(), nil, "NULL result")
    local isnull = bind("al_is_null", "int", "pointer")
    T.eq(isnull(nil), 1, "nil is NULL")
    T.eq(isnull(buf), 0, "a buffer is not NULL")
    T.eq(isnull("a string"), 0, "a Lua string passes for a pointer")
    local peek = bind("al_peek_int", "int", "pointer")
    local poke = bind("al_poke_int", "void", "pointer", "int")
    buf:set(1, 77, "int")
    T.eq(peek(buf), 77, "C reads what buf:set wrote")
    poke(buf:topointer(5), -9)
    T.eq(buf:get(5, "int"), -9, "buf:get reads what C wrote")
    local add = bind("al_add_to_ptr", "pointer", "pointer", "long")
    T.eq(rawequal(add(buf, 4), buf:topointer(5)), true, "pointer arithmetic in C and topointer agree")
    T.eq(alien.isnull(p), false, "alien.isnull of a buffer's address")
    local null = alien.unpack("p", string.rep("\0", PTR))
    T.eq(type(null), "userdata", "a NULL light userdata from alien.unpack")
    T.eq(alien.isnull(null), true, "alien.isnull of NULL")
    T.eq(isnull(null), 1, "a NULL light userdata passes NULL")
end

do -- by-reference types: out-values follow the result
    local sum_into = bind("al_sum_into", "void", "int", "int", "ref int")
    local r1, r2 = sum_into(1, 2, 0)
    T.eq(r1, nil, "void result first")
    T.eq(r2, 3, "then the ref int")
    T.eq(select("#", sum_into(1, 2, 0)), 2, "one result and one out-value")
    local swap = bind("al_swap_ints", "int", "ref int", "ref int")
    local d, a, b = swap(10, 3)
    T.eq(d, -7, "result")
    T.eq(a, 3, "first out-value")
    T.eq(b, 10, "second out-value")
    local flip = bind("al_flip_uint", "void", "ref uint")
    T.eq(select(2, flip(0)), 4294967295, "ref uint")
    T.eq(select(2, flip(4294967295)), 0, "ref uint from its maximum")
    local scale = bind("al_scale_in_place", "double", "ref double", "double")
    local old, new = scale(2.5, 4)
    T.eq(old, 2.5, "the value C read")
    T.eq(new, 10.0, "the value C wrote")
    local next_letter = bind("al_next_letter", "int", "ref char")
    local was, now = next_letter(string.byte("a"))
    T.eq(was, string.byte("a"), "ref char in")
    T.eq(now, string.byte("b"), "ref char out")
    local divmod = bind("al_divmod", "void", "int", "ref int", "int", "ref int")
    local none, q, r = divmod(47, 0, 5, 0)
    T.eq(none, nil, "void")
    T.eq(q, 9, "quotient")
    T.eq(r, 2, "remainder")
    -- The out-values of libc's sscanf.
    local sscanf = alien.default.sscanf
    sscanf:types("int", "string", "string", "ref int", "ref double")
    local n, i, x = sscanf("17 0.125", "%i %lf", 0, 0)
    T.eq(n, 2, "sscanf matched two")
    T.eq(i, 17, "sscanf's int")
    T.eq(x, 0.125, "sscanf's double")
end

do -- callbacks: both type forms, passed to C and called from Lua
    local mul = alien.callback(function(a, b) return a * b end, "int", "int", "int")
    local apply2 = bind("al_apply2", "int", "callback", "int", "int")
    T.eq(apply2(mul, 6, 7), 42, "a callback passed to C")
    T.eq(mul(6, 7), 42, "a callback called from Lua")
    local sub = alien.callback(function(a, b) return a - b end, { ret = "int", "int", "int" })
    T.eq(apply2(sub, 10, 4), 6, "table form with ret")
    local add = alien.callback(function(a, b) return a + b end, { "int", "int" })
    T.eq(apply2(add, 10, 4), 14, "table form, ret defaults to int")
    local std = alien.callback(function(a, b) return a + b end, { abi = "stdcall", "int", "int" })
    T.eq(apply2(std, 3, 4), 7, "stdcall is the default convention here")
    T.eq(std(3, 4), 7, "a stdcall callback called from Lua")

    local seen = {}
    local record = alien.callback(function(v) seen[#seen + 1] = v; return v * 10 end, "int", "int")
    T.eq(bind("al_countdown", "int", "int", "callback")(4, record), 100, "C sums what Lua returned")
    T.eq(table.concat(seen, ","), "4,3,2,1", "the callback saw each value in order")

    local integrate = bind("al_integrate", "double", "double", "double", "callback", "long")
    local square = alien.callback(function(x) return x * x end, "double", "double")
    local area = integrate(0, 1, square, 1000)
    T.eq(math.abs(area - 1 / 3) < 1e-6, true, "midpoint rule of x^2 over [0, 1]: " .. area)
    T.eq(integrate(0, 2, alien.callback(function() return 3 end, "double", "double"), 4), 6.0,
        "a constant integrates exactly")

    -- Callbacks stored in memory as function pointers.
    local table_of = alien.buffer(2 * alien.sizeof("callback"))
    local got = {}
    local c1 = alien.callback(function(a, b) got[#got + 1] = a + b; return a + b end, { "int", "int" })
    local c2 = alien.callback(function(a, b) got[#got + 1] = a * b; return a * b end,
        { abi = "stdcall", "int", "int" })
    table_of:set(1, c1, "callback")
    table_of:set(1 + alien.sizeof("callback"), c2, "callback")
    T.eq(bind("al_call_each", "int", "pointer", "int")(table_of, 2), 11 + 40, "C called both")
    T.eq(got[1], 11, "first callback got (1, 10)")
    T.eq(got[2], 40, "second callback got (2, 20)")
    local back = table_of:get(1, "callback")
    back:types("int", "int", "int")
    T.eq(back(5, 6), 11, "buf:get(off, 'callback') is a callable function object")

    -- Argument types as a callback sees them.
    local function seen_by(cfunc, ret, cbtypes, fn)
        return bind(cfunc, ret, "callback")(alien.callback(fn, table.unpack(cbtypes)))
    end
    local v
    seen_by("al_cb_uchar", "int", { "int", "char" }, function(x) v = x; return 0 end)
    T.eq(v, 200, "char is unsigned in a callback")
    seen_by("al_cb_schar", "int", { "int", "byte" }, function(x) v = x; return 0 end)
    T.eq(v, -100, "byte is signed in a callback")
    seen_by("al_cb_short", "int", { "int", "short" }, function(x) v = x; return 0 end)
    T.eq(v, -30000, "short in a callback")
    seen_by("al_cb_ushort", "int", { "int", "ushort" }, function(x) v = x; return 0 end)
    T.eq(v, 60000, "ushort in a callback")
    T.eq(seen_by("al_cb_uint", "uint", { "uint", "uint" }, function(x) v = x; return x - 1 end),
        3999999999, "uint result of a callback")
    T.eq(v, 4000000000, "uint in a callback")
    T.eq(seen_by("al_cb_long", "long", { "long", "long" }, function(x) v = x; return x * 2 end),
        -10000000000, "long result of a callback")
    T.eq(v, -5000000000, "long in a callback")
    local fv, dv
    T.eq(seen_by("al_cb_float_double", "double", { "double", "float", "double" },
        function(f, d) fv, dv = f, d; return f + d end), 1.75, "double result of a callback")
    T.eq(fv, 1.5, "float in a callback")
    T.eq(dv, 0.25, "double in a callback")
    seen_by("al_cb_string", "int", { "int", "string" }, function(s) v = s; return 0 end)
    T.eq(v, "text from C", "string in a callback")
    local buf = alien.buffer(8)
    local cbp = alien.callback(function(p) v = p; return 0 end, "int", "pointer")
    bind("al_cb_pointer", "int", "callback", "pointer")(cbp, buf)
    T.eq(rawequal(v, buf:topointer()), true, "pointer in a callback is a light userdata")
    bind("al_cb_pointer", "int", "callback", "pointer")(cbp, nil)
    T.eq(v, nil, "a NULL pointer in a callback is nil")
    T.eq(seen_by("al_cb_ref_int", "int", { "int", "ref int" }, function(x) return x + 1 end), 42,
        "ref int in a callback is the pointed-to value")
    T.eq(seen_by("al_cb_ref_double", "double", { "double", "ref double" }, function(x) return x * 2 end),
        5.0, "ref double in a callback")
    local ret_ptr = bind("al_cb_ret_pointer", "pointer", "callback")
    T.eq(rawequal(ret_ptr(alien.callback(function() return buf end, "pointer")), buf:topointer()), true,
        "a callback returns a buffer as its address")
    T.eq(ret_ptr(alien.callback(function() return nil end, "pointer")), nil,
        "a callback returns nil as NULL")
    T.eq(bind("al_cb_ret_schar", "int", "callback")(alien.callback(function() return 300 end, "byte")),
        44, "a byte result is cut like a C cast")
    T.eq(bind("al_cb_ret_uchar", "int", "callback")(alien.callback(function() return -1 end, "char")),
        255, "a char result is cut like a C cast")
    local got_void
    bind("al_cb_void", "void", "callback", "int")(alien.callback(function(x) got_void = x end, "void", "int"), 31)
    T.eq(got_void, 31, "a void callback")

    -- Nested: a callback that calls C that calls another callback.
    local inner = alien.callback(function(a, b) return a * b end, "int", "int", "int")
    local outer = alien.callback(function(a, b) return apply2(inner, a, b) + 1 end, "int", "int", "int")
    T.eq(apply2(outer, 6, 7), 43, "nested callbacks")

    -- An error inside a callback reaches the caller of the C function, and the state stays usable.
    local failing = alien.callback(function() error("raised inside the callback") end, "int", "int", "int")
    local ok, err = pcall(apply2, failing, 1, 2)
    T.eq(ok, false, "the error propagates")
    T.contains(err, "raised inside the callback", "the callback's error message")
    T.eq(apply2(mul, 2, 3), 6, "usable after a callback error")
end

do -- alien.funcptr: function objects from raw addresses
    local fp = alien.funcptr(bind("al_get_add", "pointer")())
    fp:types("int", "int", "int")
    T.eq(fp(20, 22), 42, "a C function through its address")
    local cb = alien.callback(function(a, b) return a - b end, { "int", "int" })
    local addr = bind("al_echo_ptr", "pointer", "callback")(cb)
    T.eq(type(addr), "userdata", "a callback passed as a pointer")
    local again = alien.funcptr(addr)
    again:types{ "int", "int" }
    T.eq(again(9, 4), 5, "a callback's address called as a function")
end

do -- buffers
    local def = alien.buffer()
    T.eq(#def, 8192, "alien.buffer() has BUFSIZ bytes")
    local buf = alien.buffer(16)
    T.eq(#buf, 16, "alien.buffer(n) has n bytes")
    buf[1] = 72
    buf[2] = 105
    buf[3] = 0
    T.eq(buf[1], 72, "buf[i] get")
    T.eq(tostring(buf), "Hi", "tostring(buf) is its C string")
    T.eq(buf:tostring(), "Hi", "buf:tostring()")
    buf[16] = 255
    T.eq(buf[16], 255, "the last byte, unsigned")
    buf[4] = -1
    T.eq(buf[4], 255, "a byte is stored like a C cast")
    local s = alien.buffer("hello")
    T.eq(#s, 6, "a buffer from a string holds it and a NUL")
    T.eq(s:tostring(), "hello", "copy of the string")
    T.eq(s:tostring(3), "hel", "tostring(len)")
    T.eq(s:tostring(3, 2), "ell", "tostring(len, offset)")
    T.eq(s:tostring(6), "hello\0", "tostring(len) includes NULs")
    T.eq(s:len(), 5, "buf:len() is strlen")
    T.eq(s:strlen(), 5, "buf:strlen()")
    s[3] = 0
    T.eq(s:strlen(), 2, "strlen stops at a NUL written through buf[i]")
    T.eq(tostring(s), "he", "tostring stops there too")
    -- A buffer over memory it does not own.
    local base = alien.buffer("123456")
    local view = alien.buffer(base:topointer(3))
    T.eq(view:tostring(), "3456", "a buffer over a light userdata")
    T.eq(view:tostring(3, 2), "456", "tostring(len, offset) over a light userdata")
    view[1] = string.byte("x")
    T.eq(base:tostring(), "12x456", "writes through the view reach the buffer")

    -- get/set of every type at byte offsets.
    local b = alien.buffer(64)
    local samples = {
        { "byte", -5 }, { "char", 250 }, { "short", -1234 }, { "ushort", 65000 },
        { "int", -123456 }, { "uint", 4000000000 }, { "long", -2 ^ 40 }, { "ulong", 0x8000000000000005 },
        { "longlong", math.mininteger }, { "ulonglong", 0xffffffffffffffff },
        { "ptrdiff_t", -3 }, { "size_t", 2 ^ 40 }, { "float", 2.5 }, { "double", 1 / 3 },
    }
    for _, sample in ipairs(samples) do
        local t, v = sample[1], sample[2]
        for _, off in ipairs({ 1, 9, 2 }) do
            b:set(off, v, t)
            T.eq(b:get(off, t), v, "get/set " .. t .. " at " .. off)
        end
    end
    b:set(1, 0xffff, "ushort")
    T.eq(b:get(1, "short"), -1, "the same bytes as short")
    b:set(1, 4294967295, "uint")
    T.eq(b:get(1, "int"), -1, "the same bytes as int")
    b:set(1, 1, "int")
    b:set(5, 2, "int")
    b:set(9, 3, "int")
    T.eq(bind("al_sum_ints", "long", "pointer", "int")(b, 3), 6, "ints at offsets 1, 5 and 9")
    b:set(17, 1.5, "double")
    b:set(25, 2.25, "double")
    T.eq(bind("al_sum_doubles", "double", "pointer", "int")(b:topointer(17), 2), 3.75,
        "doubles through topointer(offset)")
    -- pointer and string slots
    local target = alien.buffer("pointed at")
    b:set(33, target, "pointer")
    T.eq(rawequal(b:get(33, "pointer"), target:topointer()), true, "a pointer slot holds the address")
    T.eq(b:get(33, "string"), "pointed at", "a string slot reads the C string it points to")
    b:set(33, nil, "pointer")
    T.eq(b:get(33, "pointer"), nil, "a NULL pointer slot reads nil")
    T.eq(b:get(33, "string"), nil, "a NULL string slot reads nil")

    -- C fills a caller's buffer.
    local out = alien.buffer(32)
    local n = bind("al_fill_text", "int", "pointer", "size_t", "string", "int")(out, #out, "answer", 42)
    T.eq(n, 9, "snprintf's length")
    T.eq(out:tostring(), "answer:42", "the text C wrote")
    bind("al_fill_bytes", "void", "pointer", "size_t", "int")(out, 4, 250)
    T.eq(out[1] .. "," .. out[2] .. "," .. out[3] .. "," .. out[4], "250,251,252,253", "bytes C wrote")
    T.eq(bind("al_sum_bytes", "long", "pointer", "size_t")(out, 4), 250 + 251 + 252 + 253, "C reads them back")

    -- topointer, realloc, empty buffers
    T.eq(rawequal(out:topointer(), out:topointer(1)), true, "topointer defaults to offset 1")
    local grow = alien.buffer("abc")
    grow:realloc(64)
    T.eq(#grow, 64, "realloc changes the size")
    T.eq(grow:tostring(), "abc", "realloc keeps the contents")
    grow[64] = 7
    T.eq(grow[64], 7, "the new last byte is usable")
    grow:realloc(2)
    T.eq(#grow, 2, "realloc shrinks")
    T.eq(grow:tostring(2), "ab", "the kept prefix")
    local empty = alien.buffer(0)
    T.eq(#empty, 0, "an empty buffer")
    T.eq(empty:tostring(), "", "its string")
    T.eq(empty:strlen(), 0, "its strlen")
    local big = alien.buffer()
    big:realloc(0)
    T.eq(#big, 0, "realloc to 0")

    -- memmove and memset
    local mem = alien.buffer(16)
    alien.memset(mem, string.byte("-"), 15)
    mem[16] = 0
    T.eq(mem:tostring(), string.rep("-", 15), "memset")
    alien.memmove(mem, "abc")
    T.eq(mem:tostring(), "abc" .. string.rep("-", 12), "memmove from a string, its whole length")
    alien.memmove(mem:topointer(5), "xyz", 2)
    T.eq(mem:tostring(), "abc-xy" .. string.rep("-", 9), "memmove from a string with a count")
    alien.memmove(mem:topointer(10), mem, 3)
    T.eq(mem:tostring(), "abc-xy---abc---", "memmove from a buffer")
    alien.memset(mem:topointer(2), 0, 1)
    T.eq(mem:tostring(), "a", "memset through a light userdata")
end

do -- arrays
    for _, t in ipairs({ "char", "byte", "short", "int", "long", "float", "double" }) do
        local arr = alien.array(t, 4)
        T.eq(arr.type, t, "arr.type")
        T.eq(arr.length, 4, "arr.length")
        T.eq(arr.size, alien.sizeof(t), "arr.size")
        T.eq(#arr.buffer, 4 * alien.sizeof(t), "arr.buffer holds the elements")
        for i = 1, 4 do arr[i] = i * 3 end
        for i = 1, 4 do T.eq(arr[i], i * 3, t .. " element " .. i) end
        local seen = {}
        for i, v in arr:ipairs() do seen[#seen + 1] = { i, v } end
        T.eq(#seen, 4, t .. " arr:ipairs() visits every element")
        for k, iv in ipairs(seen) do
            T.eq(iv[1], k, t .. " arr:ipairs() index")
            T.eq(iv[2], k * 3, t .. " arr:ipairs() value")
        end
        arr:realloc(10)
        T.eq(arr.length, 10, "realloc changes the length")
        T.eq(arr.size, alien.sizeof(t), "and keeps the element size")
        T.eq(arr[4], 12, "and the elements")
        for i = 1, 10 do arr[i] = i end
        for i = 1, 10 do T.eq(arr[i], i, t .. " element " .. i .. " after realloc") end
    end
    local d = alien.array("double", { 1.5, 2.5, 4 })
    T.eq(d.length, 3, "length of a table array")
    T.eq(bind("al_sum_doubles", "double", "pointer", "int")(d.buffer, d.length), 8.0, "C sums the array")
    local ints = alien.array("int", { -1, 2, -3 })
    T.eq(bind("al_sum_ints", "long", "pointer", "int")(ints.buffer, 3), -2, "negative ints")
    local bytes = alien.array("byte", { -1, 127, -128 })
    T.eq(bytes[1] .. "," .. bytes[2] .. "," .. bytes[3], "-1,127,-128", "byte elements are signed")
    local chars = alien.array("char", { -1, 200 })
    T.eq(chars[1] .. "," .. chars[2], "255,200", "char elements are unsigned")
    -- An array over an existing buffer.
    local buf = alien.buffer(3 * alien.sizeof("int"))
    local over = alien.array("int", 3, buf)
    T.eq(rawequal(over.buffer, buf), true, "the array's buffer is the given one")
    buf:set(1 + alien.sizeof("int"), 99, "int")
    T.eq(over[2], 99, "the array reads the buffer")
    over[3] = -4
    T.eq(buf:get(1 + 2 * alien.sizeof("int"), "int"), -4, "the array writes the buffer")
    -- String arrays: C reads a char ** whose strings stay alive while in the array.
    local strs = alien.array("string", { "Red", "Green", "Blue" })
    collectgarbage()
    collectgarbage()
    local out = alien.buffer(64)
    local join = bind("al_join", "int", "pointer", "int", "pointer", "size_t")
    T.eq(join(strs.buffer, strs.length, out, #out), 14, "joined length")
    T.eq(out:tostring(), "Red+Green+Blue", "C reads every string")
    T.eq(strs[2], "Green", "a string element reads back")
    strs[1] = "Cyan" .. string.rep("!", 3)
    collectgarbage()
    collectgarbage()
    join(strs.buffer, strs.length, out, #out)
    T.eq(out:tostring(), "Cyan!!!+Green+Blue", "a string stored later is pinned too")
    T.eq(bind("al_pick", "string", "pointer", "int")(strs.buffer, 2), "Blue", "C picks one")
    -- Pointer arrays pin the buffers stored in them.
    local ptrs = alien.array("pointer", 2)
    ptrs[1] = alien.buffer("kept alive")
    ptrs[2] = nil
    collectgarbage()
    collectgarbage()
    T.eq(alien.tostring(ptrs[1]), "kept alive", "a buffer in a pointer array stays alive")
    T.eq(ptrs[2], nil, "a NULL element")
end

do -- structs
    local mixed = alien.defstruct{
        { "c", "char" }, { "d", "double" }, { "s", "short" }, { "i", "int" },
    }
    local size = bind("al_mixed_size", "size_t")
    local offset = bind("al_mixed_offset", "size_t", "int")
    T.eq(mixed.size, size(), "struct size as C's sizeof")
    for i, name in ipairs({ "c", "d", "s", "i" }) do
        T.eq(mixed.offsets[name], offset(i), "offset of " .. name .. " as C's offsetof")
    end
    local m = mixed:new()
    bind("al_fill_mixed", "void", "pointer", "int")(m(), 3)
    T.eq(m.c, string.byte("d"), "char field C wrote")
    T.eq(m.d, 3.25, "double field C wrote")
    T.eq(m.s, -3, "short field C wrote")
    T.eq(m.i, 3000, "int field C wrote")
    m.c, m.d, m.s, m.i = 1, 0.5, -2, 100
    T.eq(bind("al_sum_mixed", "double", "pointer")(m()), 99.5, "C reads the fields Lua wrote")
    T.eq(#m(), mixed.size, "the instance's buffer has the struct's size")

    local rect = alien.defstruct{
        { "left", "long" }, { "top", "long" }, { "right", "long" }, { "bottom", "long" },
    }
    T.eq(rect.size, 4 * alien.sizeof("long"), "four longs")
    local r = rect:new()
    local fill = bind("al_fill_rect", "int", "int", "pointer")
    T.eq(fill(1, r()), 1, "C filled the struct")
    T.eq(r.left .. " " .. r.top .. " " .. r.right .. " " .. r.bottom, "1 2 3 4", "the fields")
    r.left, r.right, r.top, r.bottom = 0, 5, 0, 7
    T.eq(bind("al_rect_area", "long", "pointer")(r()), 35, "C reads them")
    -- An instance over existing memory.
    local again = rect:new(r():topointer())
    T.eq(again.right, 5, "a struct over a light userdata reads the same memory")
    again.right = 6
    T.eq(r.right, 6, "and writes it")

    local padded = alien.defstruct{
        { "left", "short" }, { "top", "long" }, { "right", "short" }, { "bottom", "long" },
    }
    T.eq(padded.size, bind("al_padded_size", "size_t")(), "padded struct size")
    local poff = bind("al_padded_offset", "size_t", "int")
    for i, name in ipairs({ "left", "top", "right", "bottom" }) do
        T.eq(padded.offsets[name], poff(i), "offset of " .. name)
    end
    local p = padded:new()
    bind("al_fill_padded", "int", "int", "pointer")(2, p())
    T.eq(p.left .. " " .. p.top .. " " .. p.right .. " " .. p.bottom, "2 20 3 30", "padded fields from C")
    p.left, p.top, p.right, p.bottom = 1, 2, 3, 4
    bind("al_triple_padded", "void", "pointer")(p())
    T.eq(p.left .. " " .. p.top .. " " .. p.right .. " " .. p.bottom, "3 6 9 12", "padded fields both ways")

    -- A struct that ends with padding takes C's size (an array of them strides by it).
    local tail = alien.defstruct{ { "d", "double" }, { "c", "char" } }
    T.eq(tail.size, bind("al_tail_size", "size_t")(), "trailing padding counts in the size")
end

do -- alien.pack/unpack/size/offset (0.7) and the alien.struct module (0.4.1)
    local st = require("alien.struct")
    T.eq(type(st), "table", "require('alien.struct')")
    for _, m in ipairs({ st, alien }) do
        local s = m.pack("<ihb", 1, -2, 3)
        T.eq(s, string.pack("<i4i2i1", 1, -2, 3), "little-endian pack")
        T.eq(m.pack(">I2", 0x0102), "\1\2", "big-endian pack")
        local a, b, c, nextpos = m.unpack("<ihb", s)
        T.eq(a, 1, "unpack int")
        T.eq(b, -2, "unpack short")
        T.eq(c, 3, "unpack byte")
        T.eq(nextpos, 8, "unpack returns the next position")
        T.eq(m.size("<ihb"), 7, "size without alignment")
        T.eq(m.size("!<bd"), 16, "size with native alignment")
        T.eq(m.size("<bd"), 9, "no alignment by default")
        T.eq(m.unpack("<h", s, 5), -2, "unpack from a position")
        local str, after = m.unpack("s", m.pack("s", "zero-terminated"))
        T.eq(str, "zero-terminated", "s round trip")
        T.eq(after, 17, "after the string and its NUL")
        T.eq(m.unpack("c3", "abcdef"), "abc", "c3")
        T.eq(m.pack("c0", "whole"), "whole", "c0 packs the whole string")
        local five, pos = m.unpack("Bc0", m.pack("Bc0", 5, "hello"))
        T.eq(five, "hello", "c0 unpacks the previous number of chars, which it consumes")
        T.eq(pos, 7, "the position after the chars")
        T.eq(m.unpack("<f", m.pack("<f", 0.5)), 0.5, "float")
        T.eq(m.unpack(">d", m.pack(">d", -1 / 3)), -1 / 3, "big-endian double")
        T.eq(m.unpack("<H", "\255\255"), 65535, "unsigned short")
        T.eq(m.unpack("<b", "\255"), -1, "signed byte")
        T.eq(m.unpack("<x<B", "\0\7"), 7, "padding byte")
    end
    -- Unpacking from a buffer or a light userdata, with the size of the data.
    local buf = alien.buffer(alien.pack("<iid", 7, -8, 2.5))
    local a, b, c = alien.unpack("<iid", buf, #buf)
    T.eq(a .. " " .. b .. " " .. c, "7 -8 2.5", "unpack from a buffer")
    T.eq(st.unpack("<i", buf:topointer(5), 4), -8, "alien.struct.unpack from a light userdata")
    T.eq(alien.unpack("<d", buf, #buf, 9), 2.5, "unpack from a buffer at a position")
    -- Pointers pack as addresses.
    local fmt = "<ipbph"
    local pa, pb = alien.buffer("first"), alien.buffer("second")
    local packed = alien.buffer(alien.pack(fmt, 10, pa, 20, pb, 30))
    local ten, qa, twenty, qb, thirty = alien.unpack(fmt, packed, alien.size(fmt))
    T.eq(ten + twenty + thirty, 60, "numbers around pointers")
    T.eq(alien.tostring(qa), "first", "a packed buffer address")
    T.eq(alien.buffer(qb):tostring(), "second", "another")
    local qb2, thirty2 = alien.unpack("<ph", packed, alien.size(fmt), alien.offset(fmt, 4))
    T.eq(alien.tostring(qb2) .. thirty2, "second30", "unpack from an offset of the format")
    T.eq(alien.size("p"), PTR, "size of a pointer")
    T.eq(alien.offset(fmt, 1), 1, "offset of the first item")
    T.eq(alien.offset(fmt, 2), 5, "offset of the second item")
    T.eq(alien.offset(fmt, 4), 6 + PTR, "offset of the fourth item")
    T.eq(alien.offset(fmt, 6), alien.size(fmt) + 1, "offset past the last item")
    T.eq(alien.offset("!<bhi", 3), 5, "offset with alignment")
end

do -- pointer readers
    local data = bind("al_data", "pointer", "int")
    local chars = data(0)
    T.eq(alien.tostring(chars), "Alien", "alien.tostring")
    T.eq(alien.tostring(chars, 3), "Ali", "alien.tostring with a length")
    T.eq(alien.tochar(chars), string.byte("A"), "alien.tochar")
    local c1, c2, c3 = alien.tochar(chars, 3)
    T.eq(c1 .. "," .. c2 .. "," .. c3, "65,108,105", "alien.tochar(p, 3)")
    local function all(reader, which, n)
        return table.concat({ alien[reader](data(which), n) }, ",")
    end
    T.eq(all("toshort", 1, 4), "-2,300,-32768,32767", "toshort")
    T.eq(all("toushort", 2, 4), "65535,1,2,3", "toushort")
    T.eq(all("toint", 3, 4), "-1,2,-3,2147483647", "toint")
    T.eq(all("touint", 4, 4), "4294967295,7,8,9", "touint")
    T.eq(all("tolong", 5, 4), "-5,6,-7,8", "tolong")
    T.eq(all("toulong", 6, 1), tostring(0xffffffffffffffff), "toulong keeps 64 bits")
    T.eq(all("toulong", 6, 4):sub(-9), ",10,11,12", "toulong")
    T.eq(all("tofloat", 7, 4), table.concat({ 0.5, -1.25, 2.75, 1024.0 }, ","), "tofloat")
    T.eq(all("todouble", 8, 4), table.concat({ 0.1, -2.5, 1e300, 4.0 }, ","), "todouble")
    T.eq(select("#", alien.toint(data(3), 4)), 4, "n values, not a table")
    T.eq(select("#", alien.toint(data(3))), 1, "one value by default")
    T.eq(alien.toint(data(3)), -1, "the first int")
    -- The readers read buffers' memory through topointer.
    for _, t in ipairs({ "short", "int", "long", "ushort", "uint", "ulong" }) do
        local b = alien.buffer(alien.sizeof(t) * 4)
        for i = 1, 4 do b:set(1 + (i - 1) * alien.sizeof(t), i * 11, t) end
        T.eq(table.concat({ alien["to" .. t](b:topointer(), 4) }, ","), "11,22,33,44", "to" .. t .. " of a buffer")
    end
    for _, t in ipairs({ "float", "double" }) do
        local b = alien.buffer(alien.sizeof(t) * 2)
        b:set(1, 2.5, t)
        b:set(1 + alien.sizeof(t), -0.75, t)
        local x, y = alien["to" .. t](b:topointer(), 2)
        T.eq(x, 2.5, "to" .. t)
        T.eq(y, -0.75, "to" .. t .. " second")
    end
end

do -- tags: wrap, unwrap, rewrap, __gc
    local tag = alien.tag("moonthunk_alien_test")
    T.eq(type(tag), "table", "a tag is a metatable")
    T.eq(rawequal(alien.tag("moonthunk_alien_test"), tag), true, "the same tag twice")
    T.eq(rawequal(alien.tag("moonthunk_alien_other"), tag), false, "another tag")
    local released = {}
    tag.__gc = function(obj)
        local _, _, p = alien.unwrap("moonthunk_alien_test", obj)
        released[#released + 1] = p
    end
    local mem = alien.buffer(8)
    local ptr = mem:topointer()
    local obj = alien.wrap("moonthunk_alien_test", 1, 2, ptr, 10)
    T.eq(type(obj), "userdata", "wrap makes a full userdata")
    T.eq(rawequal(getmetatable(obj), tag), true, "tagged with the tag's metatable")
    local a, b, p, z = alien.unwrap("moonthunk_alien_test", obj)
    T.eq(a, 1, "first value")
    T.eq(b, 2, "second value")
    T.eq(rawequal(p, ptr), true, "the pointer")
    T.eq(z, 10, "last value")
    T.eq(select("#", alien.unwrap("moonthunk_alien_test", obj)), 4, "as many values as wrapped")
    alien.rewrap("moonthunk_alien_test", obj, 3, 4, nil, 5)
    a, b, p, z = alien.unwrap("moonthunk_alien_test", obj)
    T.eq(a .. "," .. b .. "," .. tostring(p) .. "," .. z, "3,4,nil,5", "rewrap replaces the values")
    alien.rewrap("moonthunk_alien_test", obj, 6)
    a, b, p, z = alien.unwrap("moonthunk_alien_test", obj)
    T.eq(a, 6, "rewrap with fewer values")
    T.eq(b, nil, "the rest are nil")
    T.eq(z, nil, "the last too")
    alien.rewrap("moonthunk_alien_test", obj, 7, 8, ptr, 9, 100)
    T.eq(select("#", alien.unwrap("moonthunk_alien_test", obj)), 4, "extra values are ignored")
    obj = nil
    collectgarbage()
    collectgarbage()
    T.eq(#released, 1, "__gc of the tag ran")
    T.eq(rawequal(released[1], ptr), true, "__gc unwrapped the values")
end

do -- helpers: errno, platform, sizeof, align, table
    local set_errno = bind("al_set_errno", "int", "int")
    set_errno(33)
    T.eq(alien.errno(), 33, "alien.errno after C set it")
    local strtol = alien.default.strtol
    strtol:types("long", "string", "pointer", "int")
    T.eq(strtol("123", nil, 10), 123, "strtol")
    set_errno(0)
    strtol("99999999999999999999999", nil, 10)
    T.eq(alien.errno(), 34, "ERANGE from strtol")
    T.eq(alien.platform, "linux", "alien.platform")
    local sizes = {
        char = 1, byte = 1, short = 2, ushort = 2, int = 4, uint = 4, long = 8, ulong = 8,
        longlong = 8, ulonglong = 8, ptrdiff_t = 8, size_t = 8, float = 4, double = 8,
        string = 8, pointer = 8, callback = 8,
    }
    for t, n in pairs(sizes) do T.eq(alien.sizeof(t), n, "sizeof " .. t) end
    local aligns = { char = 1, byte = 1, short = 2, int = 4, long = 8, double = 8, float = 4, pointer = 8 }
    for t, n in pairs(aligns) do T.eq(alien.align(t), n, "align " .. t) end
    local t = alien.table(10, 4)
    T.eq(type(t), "table", "alien.table")
    T.eq(next(t), nil, "an empty table")
    t[1], t.x = 1, 2
    T.eq(t[1] + t.x, 3, "usable")
    T.eq(type(alien.table()), "table", "alien.table() with no sizes")
end
