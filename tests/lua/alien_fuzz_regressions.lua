-- Programs the Alien face's API fuzzer (tests/api_fuzz/alien_generator.rs) found crashing or
-- misbehaving, reduced; each block pins the fix.
local T = dofile(TESTDIR .. "/testutil.lua")
local alien = require("alien")
local ffi = require("moonthunk")
local lib = alien.load(TESTLIB)

do -- the native face's managed memory keeps its bounds in Alien's memory functions
    local nb = ffi.buffer(8)
    T.raises({ "out of bounds" }, alien.memset, nb, 0, 9)
    T.raises({ "out of bounds" }, alien.memmove, nb, string.rep("x", 9))
    T.raises({ "out of bounds" }, alien.memmove, alien.buffer(16), nb, 9)
    T.raises({ "out of bounds" }, alien.toint, nb, 3)
    T.raises({ "out of bounds" }, alien.tostring, nb, 9)
    T.raises({ "out of bounds" }, alien.unpack, "i4", nb, 9)
    alien.memset(nb, 0x41, 8)
    T.eq(alien.tostring(nb), "AAAAAAAA", "a C string read stops at the end of the memory")
    T.eq(select("#", alien.toint(nb, 2)), 2, "reads inside the memory")
    local arena = ffi.arena()
    local m = arena:alloc(4)
    arena:reset()
    T.raises({ "after reset" }, alien.memset, m, 0, 1)
end

do -- an Alien buffer bounds unpack from memory
    local buf = alien.buffer(4)
    T.raises({ "out of bounds" }, alien.unpack, "i4", buf, 5)
    T.raises({ "out of bounds" }, alien.unpack, "s", buf, 1 << 40)
    T.eq(alien.unpack("i4", buf, 4), 0, "unpack inside the buffer")
end

do -- a function object is code, not data: Alien's memory functions refuse it
    local cb = alien.callback(function() return 1 end, "int")
    for _, f in ipairs({ lib.al_add, cb, alien.funcptr(lib.al_add) }) do
        local got = type(f) == "function" and "got function" or "got alien callback"
        T.raises({ "bad argument #1 to 'toint' (pointer to data expected, " .. got .. ")" },
            alien.toint, f)
        T.raises({ "bad argument #1 to 'tostring'", got }, alien.tostring, f, 4)
        T.raises({ "bad argument #2 to 'unpack'", got }, alien.unpack, "i4", f, 4)
        T.raises({ "bad argument #2 to 'memmove'", got }, alien.memmove, alien.buffer(4), f, 4)
        T.raises({ "bad argument #1 to 'memset'", got }, alien.memset, f, 0, 1)
        T.raises({ "bad argument #1 to 'memmove'", got }, alien.memmove, f, "abc")
    end
    local add = lib.al_add
    add:types("int", "int", "int")
    T.eq(add(1, 2), 3, "the function still works")
end
