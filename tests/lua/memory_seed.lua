-- The memory examples of lune-ffi-full.txt (arenas, pointers, casts, structs, views,
-- pointTo iteration, unsafe, buffers), run with their documented results.
local T = dofile(TESTDIR .. "/testutil.lua")
require("moonthunk")
local ffi = require("@lune/ffi")

do -- Overview: arena, cast to typed pointer, array access
    local arena = ffi.arena()
    local ptr = arena:alloc(1024)
    local ints = ffi.cast(ptr, "i32")
    ints[0] = 42
    T.eq(ints[0], 42, "ints[0]") -- print(ints[0]) -- 42
end

do -- ffi.arena(): scoped arena
    local arena = ffi.arena()
    local ptr = arena:alloc(256)
    T.eq(ptr.isManaged, true, "arena pointers are managed")
    T.eq(ptr.isNull, false, "arena pointer is not NULL")
end

do -- ffi.read / ffi.write / ffi.copy / ffi.fill
    local arena = ffi.arena()
    local ptr = arena:alloc(1024)
    ffi.write(ptr, 8, "f64", 2.5)
    local value = ffi.read(ptr, 8, "f64")
    T.eq(value, 2.5, "ffi.read after ffi.write")
    local dst = arena:alloc(1024)
    ffi.copy(dst, ptr, 16)
    T.eq(ffi.read(dst, 8, "f64"), 2.5, "ffi.copy")
    ffi.fill(ptr, 1024, 0)
    T.eq(ffi.read(ptr, 8, "f64"), 0.0, "ffi.fill")
end

do -- RawPointer: ptr + n advances by n bytes; properties and methods
    local arena = ffi.arena()
    local p = arena:alloc(64)
    local q = p + 8
    T.eq(q.addr - p.addr, 8, "p + n advances by bytes")
    T.eq(p:offset(8), q, "offset(bytes)")
    p:write(4, "u16", 513)
    T.eq(p:read(4, "u16"), 513, "read/write methods")
    T.eq(type(p:toLightUserData()), "userdata", "toLightUserData")
    T.eq(p.isManaged, true, "isManaged")
    T.eq(p[0], nil, "no indexing on raw pointers - must cast first")
end

do -- TypedPointer
    local arena = ffi.arena()
    local raw = arena:alloc(100)
    local ints = ffi.cast(raw, "i32")
    ints[0] = 42
    ints[1] = 100
    T.eq(ints[0], 42, "ints[0]")
    T.eq(ints[1], 100, "ints[1]") -- print(ints[0], ints[1]) -- 42, 100
    T.eq(ints.addr, raw.addr, "addr")
    T.eq(ints.stride, 4, "stride")
    T.eq(ints.isNull, false, "isNull")
    T.eq(ints.count, 25, "count")
    ints:set(2, 7)
    T.eq(ints:get(2), 7, "get/set")
    T.eq(ints:toRaw(), raw, "toRaw")
    T.eq((ints + 1)[0], 100, "p + n advances by n * sizeof(T)")
    T.eq((ints + 1).addr - ints.addr, 4, "stride arithmetic")
end

local Player = ffi.struct({
    -- { Name, Type, [ArraySize] }
    { "x", "f32" },
    { "y", "f32" },
    { "health", "i32" },
    { "name", "u8", 32 }, -- Fixed array
})
T.eq(Player.size, 44, "Player.size") -- print(Player.size) -- 44
T.eq(Player:offsetOf("health"), 8, "offsetOf health") -- print(Player:offsetOf("health")) -- 8
T.eq(Player.alignment, 4, "alignment")
T.eq(Player.fieldCount, 4, "fieldCount")
T.eq(Player:sizeOf("name"), 32, "sizeOf name")
T.eq(table.concat(Player:fields(), ","), "x,y,health,name", "fields")

do -- ffi.view
    local arena = ffi.arena()
    local ptr = arena:alloc(Player.size)
    local player = ffi.view(ptr, Player)
    player.x = 10.5
    player.health = 100
    T.eq(player.health, 100, "view field") -- print(player.health) -- 100
    T.eq(player.x, 10.5, "f32 field")
end

do -- Arena properties
    local arena = ffi.arena()
    local p1 = arena:alloc(1024)
    local p2 = arena:allocArray("f32", 100)
    T.eq(arena.totalAllocated, 1424, "totalAllocated") -- print(arena.totalAllocated)
    T.eq(arena.allocationCount, 2, "allocationCount")
    T.eq(type(arena.id), "number", "id")
    T.eq(ffi.arena().id ~= arena.id, true, "ids are unique")
    local p3 = arena:allocType("f64")
    local p4 = arena:allocAligned(10, 64)
    T.eq(p4.addr % 64, 0, "allocAligned")
    T.eq(p3.addr % 8, 0, "allocType is aligned")
    arena:reset() -- Free all
    T.eq(arena.totalAllocated, 0, "reset frees all")
    T.eq(arena.allocationCount, 0, "no allocations after reset")
    T.raises({ "use of arena memory after reset" }, function() return ffi.read(p1, 0, "i32") end)
    T.raises({ "use of arena memory after reset" }, function() return ffi.cast(p2, "f32")[0] end)
end

do -- ffi.ptr, ffi.cast(raw, PlayerDef), ffi.isNull
    local ptr = ffi.ptr(0x12345678)
    T.eq(ptr.addr, 0x12345678, "ffi.ptr")
    T.eq(ptr.isManaged, false, "ffi.ptr is unmanaged")
    local arena = ffi.arena()
    local raw = arena:alloc(Player.size)
    local player = ffi.cast(raw, Player)
    player.health = 7
    T.eq(ffi.read(raw, 8, "i32"), 7, "cast to a struct view")
    T.eq(ffi.isNull(ffi.ptr(0)), true, "isNull(NULL)")
    T.eq(ffi.isNull(raw), false, "isNull(arena pointer)")
    if ffi.isNull(ptr) then error("not null") end
end

do -- ffi.unsafe
    local arena = ffi.arena()
    local ptr = arena:alloc(1024)
    local addr = ptr.addr
    -- Direct read/write by address
    ffi.unsafe.write(addr, "i32", 12345)
    local val = ffi.unsafe.read(addr, "i32")
    T.eq(val, 12345, "unsafe read/write")
    -- Bulk operations
    ffi.unsafe.fill(addr, 1024, 0xFF) -- memset
    T.eq(ffi.unsafe.read(addr + 1020, "u32"), 0xFFFFFFFF, "unsafe.fill")
    ffi.unsafe.zero(addr, 1024) -- zero memory
    T.eq(ffi.unsafe.read(addr + 1020, "u32"), 0, "unsafe.zero")
    local dst, src = arena:alloc(16).addr, arena:alloc(16).addr
    ffi.unsafe.write(src, "i64", -5)
    ffi.unsafe.copy(dst, src, 8) -- memcpy
    T.eq(ffi.unsafe.read(dst, "i64"), -5, "unsafe.copy")
end

do -- view:pointTo: one view reused for every element
    local arena = ffi.arena()
    local Point = ffi.struct({ {"x", "f32"}, {"y", "f32"} })
    local array = arena:allocArray("u8", 1000 * Point.size)
    -- Create one view, reuse for all iterations
    local view = ffi.view(array, Point)
    for i = 0, 999 do
        view:pointTo(array:offset(i * Point.size))
        view.x = i * 0.5
        view.y = i * 1.5
    end
    local floats = ffi.cast(array, "f32")
    T.eq(floats[2 * 999], 999 * 0.5, "last x")
    T.eq(floats[2 * 999 + 1], 999 * 1.5, "last y")
    T.eq(floats[2 * 10 + 1], 15.0, "y of element 10")
end

do -- ffi.buffer
    local buf = ffi.buffer(1024)
    buf:write(0, "i32", 42)
    T.eq(buf:read(0, "i32"), 42, "buffer read/write") -- print(buf:read(0, "i32")) -- 42
    T.eq(buf.size, 1024, "size")
    T.eq(buf.ptr.addr, buf.addr, "ptr")
    buf:writeBytes(4, "abc")
    T.eq(buf:readBytes(4, 3), "abc", "readBytes/writeBytes")
    buf:writeString(16, "hello")
    T.eq(buf:readString(16), "hello", "readString/writeString")
    buf:zero()
    T.eq(buf:read(0, "i32"), 0, "zero")
    local s = buf:slice(512, 16)
    s:write(0, "i32", 9)
    T.eq(buf:read(512, "i32"), 9, "a slice shares memory")
    T.eq(s.size, 16, "slice size")
end
