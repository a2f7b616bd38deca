-- Arenas, pointers, typed pointers, views and buffers: values of every scalar type, bounds,
-- alignment, NULL, use after reset, lifetimes, and every error message a user can hit.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")

local arena = ffi.arena()

do -- every scalar type round-trips with the value rules of calls
    local p = arena:alloc(64)
    local cases = {
        {"i8", -128, -128}, {"i8", 200, -56}, {"u8", 300, 44}, {"u8", -1, 255},
        {"i16", -32768, -32768}, {"u16", 65535, 65535}, {"u16", 65536, 0},
        {"i32", -2147483648, -2147483648}, {"i32", 4294967295, -1}, {"u32", -1, 4294967295},
        {"i64", math.mininteger, math.mininteger}, {"u64", -1, -1},
        {"isize", -5, -5}, {"usize", 5, 5}, {"int", 3.0, 3}, {"uint8_t", 255, 255},
        {"f32", 0.5, 0.5}, {"f32", 1 / 3, 0.3333333432674408}, {"f64", 1 / 3, 1 / 3},
        {"float", 7, 7.0}, {"double", -0.0, -0.0},
        {"bool", true, true}, {"bool", false, false}, {"bool", nil, false},
    }
    for _, c in ipairs(cases) do
        local t, v, want = c[1], c[2], c[3]
        ffi.write(p, 8, t, v)
        T.eq(ffi.read(p, 8, t), want, t .. " " .. tostring(v))
        ffi.unsafe.write(p.addr + 16, t, v)
        T.eq(ffi.unsafe.read(p.addr + 16, t), want, "unsafe " .. t)
    end
    T.eq(math.type(ffi.read(p, 8, "i32")), "integer", "integers read as integers")
    T.eq(math.type(ffi.read(p, 8, "f64")), "float", "floats read as floats")
    -- pointers and strings stored in memory
    ffi.write(p, 0, "pointer", p)
    T.eq(ffi.read(p, 0, "pointer"), p, "pointer round-trip")
    T.eq(ffi.read(p, 0, "pointer").isManaged, false, "a pointer read from memory is unmanaged")
    ffi.write(p, 0, "pointer", nil)
    T.eq(ffi.read(p, 0, "pointer").isNull, true, "nil stores NULL")
    T.eq(ffi.read(p, 0, "string"), nil, "a NULL char* reads as nil")
    local buf = ffi.buffer(8)
    buf:writeString(0, "hi")
    ffi.write(p, 0, "string", buf)
    T.eq(ffi.read(p, 0, "string"), "hi", "char* read copies the C string")
end

do -- wrong values and types: messages
    local p = arena:alloc(16)
    T.raises({ "bad value for i32 (number has no integer representation)" }, ffi.write, p, 0, "i32", 3.5)
    T.raises({ "bad value for i32 (number expected, got table)" }, ffi.write, p, 0, "i32", {})
    T.raises({ "bad value for f64 (number expected, got boolean)" }, ffi.write, p, 0, "f64", true)
    T.raises({ "bad value for bool (boolean expected, got number)" }, ffi.write, p, 0, "bool", 1)
    T.raises({ "bad value for pointer (pointer expected, got number)" }, ffi.write, p, 0, "pointer", 5)
    T.raises({ "a Lua string cannot be stored as a char*" }, ffi.write, p, 0, "string", "x")
    T.raises({ "unknown C type 'foo'" }, ffi.read, p, 0, "foo")
    T.raises({ "unknown C type 'bar'" }, ffi.write, p, 0, "bar", 1)
    T.raises({ "bad argument #3 to 'read' (type name expected, got no value)" }, ffi.read, p, 0)
    T.raises({ "cannot read a void value" }, ffi.read, p, 0, "void")
    T.raises({ "cannot write a void value" }, ffi.write, p, 0, "void", 1)
    T.raises({ "bad argument #1 to 'read' (pointer expected, got number)" }, ffi.read, 5, 0, "i32")
    T.raises({ "bad argument #2 to 'read' (number has no integer representation)" }, ffi.read, p, 0.5, "i32")
    T.raises({ "unknown C type 'nope'" }, ffi.cast, p, "nope")
    T.raises({ "cannot cast to void" }, ffi.cast, p, "void")
    T.raises({ "unknown C type 'zz'" }, ffi.unsafe.read, p.addr, "zz")
    T.raises({ "bad argument #1 to 'read' (address expected, got table)" }, ffi.unsafe.read, {}, "i32")
    T.raises({ "bad argument #1 to 'isNull' (pointer expected, got string)" }, ffi.isNull, "x")
    T.eq(ffi.isNull(nil), true, "isNull(nil)")
end

do -- bounds and alignment through each safe accessor
    local p = arena:alloc(16)
    T.raises({ "out of bounds: i32 read at offset 16 (4 bytes; 16 available)" }, ffi.read, p, 16, "i32")
    T.raises({ "out of bounds: i64 read at offset 12" }, p.read, p, 12, "i64")
    T.raises({ "out of bounds: i8 write at offset -1" }, ffi.write, p, -1, "i8", 0)
    T.raises({ "out of bounds: u8 write at offset 16" }, p.write, p, 16, "u8", 0)
    T.raises({ "misaligned i32 read at offset 2" }, ffi.read, p, 2, "i32")
    T.raises({ "misaligned f64 write at offset 4" }, ffi.write, p, 4, "f64", 1)
    T.eq(ffi.read(p, 15, "u8"), 0, "last byte is in bounds")
    local q = p + 12
    T.raises({ "out of bounds: i64 read at offset 0 (8 bytes; 4 available)" }, ffi.read, q, 0, "i64")
    T.eq(ffi.read(q, -12, "i32"), 0, "negative offsets inside the region are fine")
    -- typed pointers
    local ints = ffi.cast(p, "i32")
    T.eq(ints.count, 4, "count of a managed typed pointer")
    T.raises({ "out of bounds: i32 read at index 4 at offset 16" }, function() return ints[4] end)
    T.raises({ "out of bounds: i32 write at index -1" }, function() ints[-1] = 0 end)
    T.raises({ "out of bounds: i32 read at index 9" }, ints.get, ints, 9)
    T.raises({ "out of bounds: i32 write at index 4" }, ints.set, ints, 4, 1)
    T.raises({ "pointer index has no integer representation" }, function() return ints[1.5] end)
    T.raises({ "typed pointers are indexed by integers, got string" }, function() ints.x = 1 end)
    T.eq(ints[1.0], 0, "an integral float index")
    T.eq((ints + 3).count, 1, "count after arithmetic")
    T.eq((ints + 5).count, 0, "count past the end")
    T.eq((ints + 2 - 1).addr - ints.addr, 4, "p - n")
    local odd = ffi.cast(p + 1, "i32")
    T.raises({ "misaligned i32 read at index 0" }, function() return odd[0] end)
    local bytes = ffi.cast(p, "u8")
    T.eq(bytes.count, 16, "u8 count")
    -- copy and fill
    local big = arena:alloc(32)
    T.raises({ "out of bounds: copy destination of 32 bytes" }, ffi.copy, p, big, 32)
    T.raises({ "out of bounds: copy source of 20 bytes" }, ffi.copy, big, p, 20)
    T.raises({ "out of bounds: fill of 17 bytes" }, ffi.fill, p, 17, 1)
    T.raises({ "out of bounds: copy of 5 bytes from a 3-byte string" }, ffi.copy, p, "abc", 5)
    ffi.copy(p, "abcd", 4)
    T.eq(ffi.read(p, 0, "u32"), 0x64636261, "copy from a Lua string")
    ffi.fill(p, 16, 0x101)
    T.eq(ffi.read(p, 0, "u8"), 1, "fill truncates the byte value")
    T.raises({ "bad argument #3 to 'copy' (length must not be negative, got -1)" }, ffi.copy, p, big, -1)
end

do -- NULL and unmanaged memory
    local null = ffi.ptr(0)
    T.raises({ "i32 read through a NULL pointer" }, ffi.read, null, 0, "i32")
    T.raises({ "i32 write through a NULL pointer" }, ffi.write, null, 4, "i32", 1)
    T.raises({ "f64 read at index 0 through a NULL pointer" }, function() return ffi.cast(null, "f64")[0] end)
    T.raises({ "fill of 4 bytes through a NULL pointer" }, ffi.fill, null, 4, 0)
    T.eq(ffi.cast(null, "i32").count, nil, "unmanaged count is unknown")
    T.eq(ffi.cast(nil, "i32").isNull, true, "cast of nil is NULL")
    -- an unmanaged pointer to arena memory is unchecked
    local p = arena:alloc(8)
    local raw = ffi.ptr(p.addr)
    T.eq(raw.isManaged, false, "ffi.ptr is unmanaged")
    ffi.write(raw, 4, "i32", 77)
    T.eq(ffi.read(p, 4, "i32"), 77, "unmanaged write reaches the memory")
    T.eq(ffi.ptr(p), p, "ffi.ptr of a pointer")
    T.eq(ffi.ptr(p:toLightUserData()).addr, p.addr, "light userdata round trip")
    T.raises({ "bad argument #1 to 'ptr' (number expected, got table)" }, ffi.ptr, {})
end

do -- use after reset, through every kind of object
    local a = ffi.arena()
    local p = a:alloc(64)
    local ints = ffi.cast(p, "i32")
    local S = ffi.struct({ {"v", "i32"} })
    local v = ffi.view(p, S)
    local q = p + 4
    a:reset()
    T.raises({ "i32 read: use of arena memory after reset" }, ffi.read, p, 0, "i32")
    T.raises({ "i32 write at index 1: use of arena memory after reset" }, function() ints[1] = 1 end)
    T.raises({ "read of field 'v': use of arena memory after reset" }, function() return v.v end)
    T.raises({ "write of field 'v': use of arena memory after reset" }, function() v.v = 1 end)
    T.raises({ "use of arena memory after reset" }, q.read, q, 0, "i32")
    T.raises({ "use of arena memory after reset" }, ffi.fill, p, 4, 0)
    T.raises({ "use of arena memory after reset" }, ffi.view, p, S)
    T.raises({ "use of arena memory after reset" }, ffi.write, p + 0, 0, "i8", 1)
    -- the arena itself stays usable
    local fresh = a:alloc(4)
    ffi.write(fresh, 0, "i32", 5)
    T.eq(ffi.read(fresh, 0, "i32"), 5, "arena usable after reset")
    T.eq(a.allocationCount, 1, "one allocation after reset")
end

do -- memory is zeroed; pointers keep their arena alive
    local keep = {}
    for i = 1, 50 do
        local p = ffi.arena():alloc(256)
        ffi.write(p, 0, "i32", i)
        keep[i] = p
    end
    collectgarbage(); collectgarbage()
    for i = 1, 50 do
        T.eq(ffi.read(keep[i], 0, "i32"), i, "the arena lives while its pointer does")
        T.eq(ffi.read(keep[i], 252, "i32"), 0, "zeroed")
    end
    local views = {}
    local S = ffi.struct({ {"a", "f64"}, {"b", "i32", 4} })
    for i = 1, 20 do
        views[i] = ffi.view(ffi.arena():allocType(S), S)
        views[i].a = i
    end
    local arr = ffi.struct({ {"x", "u8"} })
    S, arr = nil, nil
    collectgarbage(); collectgarbage()
    for i = 1, 20 do T.eq(views[i].a, i, "a view keeps its arena and definition alive") end
    local slices = {}
    for i = 1, 20 do
        local b = ffi.buffer(32)
        b:write(8, "i32", i)
        slices[i] = b:slice(8, 8)
    end
    collectgarbage(); collectgarbage()
    for i = 1, 20 do T.eq(slices[i]:read(0, "i32"), i, "a slice keeps its parent alive") end
end

do -- arena argument errors
    local a = ffi.arena()
    T.raises({ "bad argument #2 to 'alloc' (size must not be negative, got -1)" }, a.alloc, a, -1)
    T.raises({ "bad argument #2 to 'alloc' (number expected, got string)" }, a.alloc, a, "x")
    T.raises({ "bad argument #3 to 'allocAligned' (alignment must be a power of two, got 3)" },
        a.allocAligned, a, 8, 3)
    T.raises({ "unknown C type 'what'" }, a.allocType, a, "what")
    T.raises({ "bad argument #2 to 'allocType' (cannot allocate a void)" }, a.allocType, a, "void")
    T.raises({ "bad argument #1 to 'alloc' (arena expected, got nil)" }, a.alloc, nil, 4)
    T.raises({ "cannot allocate" }, a.allocArray, a, "i64", math.maxinteger)
    T.eq(a:alloc(0).isNull, false, "zero-size allocation")
    T.raises({ "out of bounds: u8 read at offset 0 (1 bytes; 0 available)" }, ffi.read, a:alloc(0), 0, "u8")
    T.eq(tostring(a):find("^arena %d+") ~= nil, true, "tostring(arena)")
end

do -- views: nested structs, arrays, pointTo, errors
    local Vec2 = ffi.struct({ {"x", "f32"}, {"y", "f32"} })
    local Entity = ffi.struct({
        {"id", "u16"}, {"pos", Vec2}, {"path", Vec2, 3}, {"tag", "char", 8}, {"hp", "f64"},
    })
    T.eq(Entity:offsetOf("pos"), 4, "nested offset")
    T.eq(Entity:offsetOf("path"), 12, "struct array offset")
    T.eq(Entity:offsetOf("tag"), 36, "char array offset")
    T.eq(Entity:offsetOf("hp"), 48, "f64 offset")
    T.eq(Entity.size, 56, "size")
    T.eq(Entity.alignment, 8, "alignment")
    local e = ffi.view(arena:allocType(Entity), Entity)
    e.id = 70000
    T.eq(e.id, 70000 - 65536, "u16 field truncates")
    e.pos.x = 1.5
    T.eq(e.pos.x, 1.5, "nested view writes through")
    T.eq(ffi.read(e, 4, "f32"), 1.5, "at the nested offset")
    e.path[2].y = 9
    T.eq(e.path[2].y, 9.0, "struct array element")
    T.eq(e.path.count, 3, "struct array count")
    T.raises({ "out of bounds: struct read at index 3" }, function() return e.path[3] end)
    e.tag = "abc"
    T.eq(e.tag[0], 97, "char array from a string")
    T.eq(e.tag[3], 0, "zero padded")
    T.eq(e.tag.count, 8, "array count")
    T.raises({ "out of bounds: i8 read at index 8" }, function() return e.tag[8] end)
    T.raises({ "string of 9 bytes does not fit in field 'tag' (8 bytes)" }, function() e.tag = "123456789" end)
    T.raises({ "cannot assign to array field 'path'" }, function() e.path = 1 end)
    local other = ffi.view(arena:allocType(Vec2), Vec2)
    other.x, other.y = 3, 4
    e.pos = other
    T.eq(e.pos.y, 4.0, "struct field assigned from a view copies")
    e.path[0] = other
    T.eq(e.path[0].x, 3.0, "struct array element assigned from a view")
    T.raises({ "cannot assign to struct field 'pos' (a view of the same struct expected, got number)" },
        function() e.pos = 5 end)
    T.raises({ "struct has no field 'nope'" }, function() return e.nope end)
    T.raises({ "struct has no field 'nope'" }, function() e.nope = 1 end)
    T.raises({ "bad value for f64 (number expected, got string)" }, function() e.hp = "x" end)
    -- a view must fit
    T.raises({ "out of bounds: view of a 56-byte struct at offset 0 (56 bytes; 16 available)" },
        ffi.view, arena:alloc(16), Entity)
    T.raises({ "bad argument #2 to 'view' (struct definition expected, got string)" }, ffi.view, arena:alloc(8), "i32")
    T.raises({ "out of bounds: view of a 8-byte struct" }, other.pointTo, other, arena:alloc(4))
    T.raises({ "view of a 8-byte struct through a NULL pointer" }, ffi.view, ffi.ptr(0), Vec2)
    T.eq(other:toRaw().addr, ffi.cast(other:toRaw(), Vec2):toRaw().addr, "toRaw")
    -- views of unmanaged memory are unchecked but array fields stay bounded
    local u = ffi.view(ffi.ptr(e:toRaw().addr), Entity)
    T.eq(u.pos.y, 4.0, "unmanaged view reads")
    T.raises({ "out of bounds: i8 read at index 8" }, function() return u.tag[8] end)
end

do -- struct definition errors
    T.raises({ "bad argument #1 to 'struct' (table of fields expected, got no value)" }, ffi.struct)
    T.raises({ "bad struct definition: a struct needs at least one field" }, ffi.struct, {})
    T.raises({ "bad struct definition: field #1 must be a table {name, type [, count]}, got string" },
        ffi.struct, { "x" })
    T.raises({ "bad struct definition: field #2: name expected" }, ffi.struct, { {"a", "i8"}, {1, "i8"} })
    T.raises({ "bad struct definition: field 'a': unknown C type 'i9'" }, ffi.struct, { {"a", "i9"} })
    T.raises({ "bad struct definition: duplicate field 'a'" }, ffi.struct, { {"a", "i8"}, {"a", "i8"} })
    T.raises({ "bad struct definition: field 'v' cannot have type void" }, ffi.struct, { {"v", "void"} })
    T.raises({ "bad struct definition: field 'n': array length must be a positive integer" },
        ffi.struct, { {"n", "u8", 0} })
    T.raises({ "bad struct definition: field 't': type name or struct definition expected, got table" },
        ffi.struct, { {"t", {}} })
    local S = ffi.struct({ {"a", "i8"} })
    T.raises({ "struct has no field 'b'" }, S.offsetOf, S, "b")
    T.raises({ "struct has no field 'b'" }, S.sizeOf, S, "b")
    T.raises({ "bad argument #1 to 'offsetOf' (struct definition expected, got nil)" }, S.offsetOf, nil, "a")
end

do -- buffers
    local b = ffi.buffer(16)
    T.eq(#b, 16, "#buffer")
    T.eq(b:read(12, "u32"), 0, "zeroed")
    T.raises({ "out of bounds: u32 read at offset 13" }, b.read, b, 13, "u32")
    T.raises({ "out of bounds: i64 write at offset 16" }, b.write, b, 16, "i64", 1)
    T.raises({ "out of bounds: readBytes of 5 bytes at offset 12" }, b.readBytes, b, 12, 5)
    T.raises({ "out of bounds: writeBytes of 3 bytes at offset 14" }, b.writeBytes, b, 14, "abc")
    T.raises({ "out of bounds: writeString of 16 bytes plus NUL at offset 0" }, b.writeString, b, 0, string.rep("x", 16))
    T.raises({ "out of bounds: slice of 8 bytes at offset 9" }, b.slice, b, 9, 8)
    T.raises({ "out of bounds: readString at offset 17" }, b.readString, b, 17)
    T.raises({ "bad argument #3 to 'writeBytes' (string expected, got number)" }, b.writeBytes, b, 0, 5)
    T.raises({ "bad argument #1 to 'buffer' (size must not be negative, got -4)" }, ffi.buffer, -4)
    b:writeBytes(0, string.rep("z", 16))
    T.eq(b:readString(10), "zzzzzz", "readString stops at the end of the buffer")
    T.eq(b:readString(16), "", "readString at the end")
    local s = b:slice(4, 8)
    T.raises({ "out of bounds: i32 read at offset 8" }, s.read, s, 8, "i32")
    local ss = s:slice(4, 4)
    ss:write(0, "i32", 5)
    T.eq(b:read(8, "i32"), 5, "slice of a slice")
    s:zero()
    T.eq(b:read(8, "i32"), 0, "zero clears only the slice")
    T.eq(b:read(0, "u8"), string.byte("z"), "outside the slice untouched")
    T.eq(b.ptr.isManaged, true, "buffer.ptr is managed")
    T.raises({ "out of bounds: i32 read at offset 16" }, ffi.read, b.ptr, 16, "i32")
    T.eq(ffi.cast(b, "u16").count, 8, "cast a buffer")
    T.eq(tostring(b):find("^buffer%(16%)") ~= nil, true, "tostring(buffer)")
    T.raises({ "bad argument #1 to 'read' (buffer expected, got pointer)" }, b.read, b.ptr, 0, "i32")
end

do -- equality and tostring
    local p = arena:alloc(8)
    T.eq(p == ffi.ptr(p.addr), true, "same address, equal")
    T.eq(ffi.cast(p, "i32") == p, true, "typed and raw with one address are equal")
    T.eq(p == p + 1, false, "different addresses differ")
    T.eq(tostring(ffi.cast(p, "i32")):find("^pointer<i32>: ") ~= nil, true, "tostring(typed)")
    T.eq(tostring(p):find("^pointer: ") ~= nil, true, "tostring(raw)")
    T.raises({ "attempt to perform arithmetic on a buffer value" }, function() return ffi.buffer(4) + 1 end)
end

do -- index x stride and pointer arithmetic never wrap back into the memory
    local t = ffi.cast(arena:allocArray("i32", 4), "i32")
    t[1], t[2] = 11, 22
    T.raises({ "out of bounds: i32 read at index 4611686018427387905 (the offset overflows)" },
        function() return t[(1 << 62) + 1] end)
    T.raises({ "out of bounds: i32 write at index 4611686018427387906 (the offset overflows)" },
        function() t[(1 << 62) + 2] = 222 end)
    T.eq(t[2], 22, "the element the wrapped index aimed at is untouched")
    T.raises({ "out of bounds: moving by 4611686018427387905 elements of 4 bytes overflows the address" },
        function() return t + ((1 << 62) + 1) end)
    T.raises({ "out of bounds: moving by" }, function() return t - math.mininteger end)
    local raw = t:toRaw()
    T.raises({ "out of bounds: moving by" }, raw.offset, raw, math.maxinteger)
    T.raises({ "out of bounds: i32 read at offset 9223372036854775807 (the offset overflows)" },
        ffi.read, raw + 8, math.maxinteger, "i32")
    T.raises({ "out of bounds: i32 read at offset -9223372036854775808 (4 bytes, 9223372036854775808 before the memory)" },
        ffi.read, raw, math.mininteger, "i32")
    -- a pointer moved half the address space away (its message overflowed: a panic)
    T.raises({ "out of bounds: u8 read at offset 0 (1 bytes; " }, ffi.read, raw - math.maxinteger - 3, 0, "u8")
    -- a pointer before its slice: the message says how far before, not bytes "available"
    local b = ffi.buffer(16)
    T.raises({ "out of bounds: i32 read at offset 0 (4 bytes, 8 before the memory)" },
        ffi.read, b:slice(8, 4).ptr - 8, 0, "i32")
end
