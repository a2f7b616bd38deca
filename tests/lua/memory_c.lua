-- Memory handed to C and filled by C: arena pointers, typed pointers, views, buffers and
-- slices passed as pointer and string parameters.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)
local libc = ffi.open(nil)

local memset = libc:bind("memset", "pointer", {"pointer", "int", "size_t"})
local strlen = libc:bind("strlen", "size_t", {"string"})
local fill_i32 = lib:bind("mt_fill_i32", "void", {"pointer", "int", "i32"})
local sum_i32 = lib:bind("mt_sum_i32", "i64", {"pointer", "int"})
local format = lib:bind("mt_format", "int", {"pointer", "size_t", "int", "double"})
local score = lib:bind("mt_player_score", "i32", {"pointer"})
local fill_s3 = lib:bind("mt_fill_s3", "void", {"pointer"})
local byte_sum = lib:bind("mt_byte_sum", "uint", {"string"})
local deref = lib:bind("mt_deref_i32_at", "i32", {"pointer"})

local arena = ffi.arena()

do -- memset into a buffer, an arena pointer and a slice
    local buf = ffi.buffer(32)
    T.eq(memset(buf, 0x41, 8), buf.ptr, "memset returns its first argument")
    T.eq(buf:readString(), "AAAAAAAA", "memset filled a buffer")
    memset(buf:slice(2, 3), 0x42, 3)
    T.eq(buf:readString(), "AABBBAAA", "memset into a slice")
    local p = arena:alloc(16)
    memset(p, 0xFF, 16)
    T.eq(ffi.read(p, 12, "i32"), -1, "memset into arena memory")
    memset(p + 8, 0, 8)
    T.eq(ffi.read(p, 8, "i64"), 0, "memset through p + n")
    T.eq(ffi.read(p, 0, "i64"), -1, "before p + n untouched")
    T.eq(strlen(buf), 8, "a buffer passed as a string parameter")
    T.eq(byte_sum(buf:slice(2, 8)), 3 * 66 + 3 * 65, "a slice as a string parameter")
end

do -- snprintf into a buffer
    local buf = ffi.buffer(64)
    local n = format(buf, buf.size, 42, 0.5)
    T.eq(n, 17, "snprintf result")
    T.eq(buf:readString(), "value=42 half=0.5", "snprintf wrote the buffer")
    local small = ffi.buffer(8)
    format(small, small.size, 7, 1.5)
    T.eq(small:readString(), "value=7", "snprintf truncates at the size")
end

do -- a C function filling an int32_t*
    local p = arena:allocArray("i32", 100)
    fill_i32(p, 100, 1000)
    local ints = ffi.cast(p, "i32")
    T.eq(ints[0], 1000, "first element")
    T.eq(ints[99], 1099, "last element")
    T.eq(sum_i32(ints, 100), 100 * 1000 + 4950, "a typed pointer passed back")
    fill_i32(ints + 50, 50, 0)
    T.eq(ints[50], 0, "typed pointer arithmetic then passed to C")
    T.eq(ints[49], 1049, "before untouched")
    local buf = ffi.buffer(40)
    fill_i32(buf, 10, -5)
    T.eq(buf:read(36, "i32"), 4, "filled a buffer")
    T.eq(sum_i32(buf, 10), -5 * 10 + 45, "sum of the buffer")
end

do -- structs shared with C through views
    local Player = ffi.struct({ {"x", "f32"}, {"y", "f32"}, {"health", "i32"}, {"name", "u8", 32} })
    local player = ffi.view(arena:allocType(Player), Player)
    player.x, player.y, player.health, player.name = 1.5, 2, 3, "A"
    T.eq(score(player), 3000 + 15 + 2 + 65, "C reads a struct written through a view")
    local S1 = ffi.struct({ {"a", "char"}, {"b", "double"}, {"c", "char"} })
    local S3 = ffi.struct({ {"x", "i32"}, {"inner", S1}, {"tail", "u8"} })
    local s = ffi.view(arena:allocType(S3), S3)
    fill_s3(s)
    T.eq(s.x, -7, "i32 field filled by C")
    T.eq(s.inner.a, string.byte("q"), "nested char")
    T.eq(s.inner.b, 2.5, "nested double")
    T.eq(s.inner.c, -1, "signed char")
    T.eq(s.tail, 200, "u8 field")
    local inner_addr = lib:bind("t_ptr", "pointer", {"pointer"})
    T.eq(inner_addr(s.inner).addr, s:toRaw().addr + S3:offsetOf("inner"), "a nested view passes its address")
end

do -- pointers stored in memory for C to follow
    local slot = arena:alloc(8)
    local target = arena:alloc(4)
    ffi.write(target, 0, "i32", 31337)
    ffi.write(slot, 0, "pointer", target)
    T.eq(deref(slot), 31337, "C follows a pointer written from Lua")
end

do -- stale arena memory cannot be passed to C
    local a = ffi.arena()
    local p = a:alloc(16)
    a:reset()
    T.raises({ "pointer passed to C: use of arena memory after reset" }, memset, p, 0, 16)
    T.raises({ "use of arena memory after reset" }, strlen, p)
end

do -- wrong objects
    T.raises({ "bad argument #1 to 'memset' (pointer expected, got struct definition)" },
        memset, ffi.struct({ {"a", "i8"} }), 0, 1)
    T.raises({ "bad argument #1 to 'memset' (pointer expected, got arena)" }, memset, ffi.arena(), 0, 1)
end
