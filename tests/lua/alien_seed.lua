-- The examples of the Alien 0.4.1 manual (../shared/seeds/alien.txt), in its order, adapted
-- where they need a terminal or a library we do not have: sscanf instead of scanf, a line read
-- with fgets from an in-memory FILE instead of gets, libc's malloc/free for libfoo's
-- create_foo/destroy_foo, and the manual's slips fixed (an undefined array type `t`, a
-- callback made from `sort` where the function is `cmp`). The constants tool is not a
-- library feature and is not covered here.
local T = dofile(TESTDIR .. "/testutil.lua")
local alien = require("alien")

do -- Basic Usage: libraries by name, by path, and alien.default
    local m = alien.m -- "alien.name" loads libname.so when name is not an alien function
    T.eq(rawequal(m, alien.load("m")), true, "alien.m is alien.load('m')")
    local path = alien.load(TESTLIB) -- a path works too
    T.eq(tostring(path), "alien library " .. TESTLIB, "a library loaded by path")

    local def = alien.default
    T.eq(tostring(def.puts), "alien function puts, library default", "=def.puts")
    def.puts:types("int", "string")
    T.eq(def.puts("foo") >= 0, true, "def.puts('foo') printed")
end

do -- By-reference types, with sscanf in place of scanf
    local sscanf = alien.default.sscanf
    sscanf:types("int", "string", "string", "ref int", "ref double")
    local n, x, y = sscanf("23 42.5", "%i %lf", 0, 0)
    T.eq(n, 2, "two conversions")
    T.eq(x, 23, "=x")
    T.eq(y, 42.5, "=y")
end

do -- The same with a table of types
    local sscanf = alien.default.sscanf
    sscanf:types{ ret = "int", "string", "string", "ref int", "ref double" }
    local _, x, y = sscanf("23 42.5", "%i %lf", 0, 0)
    T.eq(x, 23, "=x (table form)")
    T.eq(y, 42.5, "=y (table form)")
end

do -- alien.funcptr: a raw function pointer as an Alien function
    local get_add = alien.load(TESTLIB).al_get_add
    get_add:types("pointer")
    local add = alien.funcptr(get_add())
    add:types("int", "int", "int")
    T.eq(add(2, 3), 5, "a typed funcptr")
end

do -- Buffers: a C function fills one (fgets from an in-memory FILE stands in for gets)
    local def = alien.default
    local fmemopen, fgets, fclose = def.fmemopen, def.fgets, def.fclose
    fmemopen:types("pointer", "string", "size_t", "string")
    fgets:types("pointer", "pointer", "int", "pointer")
    fclose:types("int", "pointer")
    local input = "Foo bar\nsecond line\n"
    local stream = fmemopen(input, #input, "r")
    local buf = alien.buffer()
    T.eq(rawequal(fgets(buf, #buf, stream), buf:topointer()), true, "fgets returns the buffer")
    T.eq(tostring(buf), "Foo bar\n", "=tostring(buf)")
    T.eq(buf:tostring(), "Foo bar\n", "buf:tostring()")
    T.eq(buf:tostring(3), "Foo", "buf:tostring(n)")
    T.eq(buf:len(), 8, "buf:len() calls strlen")
    fclose(stream)

    -- buf[i] are C characters, 1-based
    T.eq(string.char(buf[1]), "F", "buf[1]")
    buf[1] = string.byte("G")
    T.eq(tostring(buf), "Goo bar\n", "buf[1] = v")

    -- get/set at byte offsets: three ints at 1, 5 and 9
    local ints = alien.buffer(3 * alien.sizeof("int"))
    ints:set(1, 10, "int")
    ints:set(5, 20, "int")
    ints:set(9, 30, "int")
    T.eq(ints:get(1, "int") + ints:get(5, "int") + ints:get(9, "int"), 60, "offsets 1, 5 and 9")
end

do -- Arrays: qsort of ints with a "ref int" comparator
    local function sort(a, b)
        return a - b
    end
    local compare = alien.callback(sort, "int", "ref int", "ref int")

    local qsort = alien.default.qsort
    qsort:types("void", "pointer", "int", "int", "callback")

    local nums = alien.array("int", { 4, 5, 3, 2, 6, 1 })
    qsort(nums.buffer, nums.length, nums.size, compare)
    local printed = {}
    for i, v in nums:ipairs() do printed[i] = v end
    T.eq(table.concat(printed, " "), "1 2 3 4 5 6", "prints numbers one to six")
end

do -- Pointer Unpacking: four floats from a pointer
    local floats = alien.buffer(4 * alien.sizeof("float"))
    for i = 1, 4 do floats:set(1 + (i - 1) * alien.sizeof("float"), i / 2, "float") end
    local ptr = floats:topointer()
    local fs = { alien.tofloat(ptr, 4) }
    T.eq(#fs, 4, "=#fs")
    T.eq(table.concat(fs, " "), "0.5 1.0 1.5 2.0", "the floats")
end

do -- Tags: a Foo* wrapped in a full userdata whose __gc destroys it
    local def = alien.default
    local create_foo, destroy_foo = def.malloc, def.free
    create_foo:types("pointer", "size_t")
    destroy_foo:types("void", "pointer")
    local destroyed = 0

    local tag_foo = alien.tag("libfoo_foo")

    local function new_foo()
        local foo = create_foo(16)
        return alien.wrap("libfoo_foo", foo)
    end

    tag_foo.__gc = function(obj)
        local foo = alien.unwrap("libfoo_foo", obj)
        destroy_foo(foo)
        destroyed = destroyed + 1
    end

    local foo = new_foo()
    T.eq(type(alien.unwrap("libfoo_foo", foo)), "userdata", "the wrapped Foo*")
    foo = nil
    collectgarbage()
    collectgarbage()
    T.eq(destroyed, 1, "destroy_foo ran when the object was collected")
end

do -- Error Codes
    local def = alien.default
    local strtoul = def.strtoul
    strtoul:types("ulong", "string", "pointer", "int")
    strtoul("123456789012345678901234567890", nil, 10)
    T.eq(alien.errno(), 34, "alien.errno() is ERANGE")
end

do -- Callbacks: qsort of the chars in a buffer with "ref char"
    local function cmp(a, b)
        return a - b
    end
    local cmp_cb = alien.callback(cmp, "int", "ref char", "ref char")

    local qsort = alien.default.qsort
    qsort:types("void", "pointer", "int", "int", "callback")

    local chars = alien.buffer("spam, spam, and spam")
    qsort(chars, chars:len(), alien.sizeof("char"), cmp_cb)
    T.eq(chars:tostring(), "   ,,aaaadmmmnpppsss", "sorted chars")
    T.eq(cmp_cb(string.byte("b"), string.byte("a")) > 0, true, "callbacks are callable from Lua")
end

do -- Miscellaneous: platform, sizeof, align, table
    T.eq(alien.platform, "linux", "alien.platform")
    T.eq(alien.sizeof("char"), 1, "alien.sizeof('char')")
    T.eq(alien.sizeof("double"), 8, "alien.sizeof('double')")
    T.eq(alien.align("double"), 8, "alien.align('double')")
    T.eq(alien.align("short"), 2, "alien.align('short')")
    local queue = alien.table(16, 0)
    T.eq(type(queue), "table", "alien.table(narray, nhash)")
end

do -- alien.struct, the module of struct packing that can unpack userdata
    local struct = require("alien.struct")
    local blob = alien.buffer(struct.pack("<hd", -7, 0.25))
    local h, d = struct.unpack("<hd", blob:topointer(), struct.size("<hd"))
    T.eq(h, -7, "a short from a binary blob")
    T.eq(d, 0.25, "a double from a binary blob")
end
