-- Thousands of random operations on arenas, buffers, slices, views and typed pointers, each
-- checked against a model of the bytes kept in Lua (string.pack/unpack, little-endian as the
-- host). Out-of-bounds and misaligned accesses must raise and change nothing.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
math.randomseed(20240603)

local types = {
    {"i8", "<i1", 1}, {"u8", "<I1", 1}, {"i16", "<i2", 2}, {"u16", "<I2", 2},
    {"i32", "<i4", 4}, {"u32", "<I4", 4}, {"i64", "<i8", 8}, {"u64", "<i8", 8},
    {"f32", "<f", 4}, {"f64", "<d", 8},
}
local SIZE = 256

local function random_value(t)
    local name, size = t[1], t[3]
    if name == "f32" then return math.random(-1000, 1000) / 4 end
    if name == "f64" then return math.random(-100000, 100000) / 64 end
    -- Two halves: Lua 5.3's math.random refuses an interval of 2^64 values.
    if size == 8 then return math.random(0, 0xffffffff) << 32 | math.random(0, 0xffffffff) end
    local bits = size * 8
    local v = math.random(0, (1 << bits) - 1)
    if name:sub(1, 1) == "i" and v >= (1 << (bits - 1)) then v = v - (1 << bits) end
    return v
end

-- The model: one byte table per region.
local function model_write(m, off, t, v)
    local s = string.pack(t[2], v)
    for i = 1, #s do m[off + i] = s:byte(i) end
end
local function model_read(m, off, t)
    local chars = {}
    for i = 1, t[3] do chars[i] = string.char(m[off + i]) end
    return (string.unpack(t[2], table.concat(chars)))
end
local function fresh_model()
    local m = {}
    for i = 1, SIZE do m[i] = 0 end
    return m
end

local function ok_access(off, size, align, len)
    return off >= 0 and off + size <= len and off % align == 0
end

local arena = ffi.arena()
local regions = {}
local function new_region()
    if math.random(2) == 1 then
        return { mem = arena:alloc(SIZE), model = fresh_model(), len = SIZE, arena = true }
    end
    return { mem = ffi.buffer(SIZE), model = fresh_model(), len = SIZE }
end
for i = 1, 4 do regions[i] = new_region() end

local ops, errors = 0, 0
for step = 1, 6000 do
    local r = regions[math.random(#regions)]
    local t = types[math.random(#types)]
    local off = math.random(-8, SIZE + 8)
    local good = ok_access(off, t[3], t[3], r.len)
    local op = math.random(9)
    local ok, res
    if op == 1 then -- ffi.write / ffi.read
        local v = random_value(t)
        ok = pcall(ffi.write, r.mem, off, t[1], v)
        if ok then model_write(r.model, off, t, v) end
    elseif op == 2 then
        ok, res = pcall(ffi.read, r.mem, off, t[1])
        if ok then T.eq(res, model_read(r.model, off, t), "ffi.read " .. t[1] .. " @" .. off) end
    elseif op == 3 then -- typed pointer index
        local p = ffi.cast(r.mem, t[1])
        local i = math.random(-2, SIZE // t[3] + 2)
        good = i >= 0 and i < SIZE // t[3]
        if math.random(2) == 1 then
            local v = random_value(t)
            ok = pcall(function() p[i] = v end)
            if ok then model_write(r.model, i * t[3], t, v) end
        else
            ok, res = pcall(function() return p[i] end)
            if ok then T.eq(res, model_read(r.model, i * t[3], t), "p[" .. i .. "] " .. t[1]) end
        end
    elseif op == 4 then -- a view over a random place
        local S = ffi.struct({ {"a", "u8"}, {"v", t[1]} })
        local base = math.random(-4, SIZE)
        local fits = ok_access(base, S.size, S.alignment, r.len)
        local vok, view = pcall(ffi.view, (r.mem.ptr or r.mem) + base, S)
        T.eq(vok, fits, "view fits " .. base)
        if vok then
            local v = random_value(t)
            view.v = v
            model_write(r.model, base + S:offsetOf("v"), t, v)
            T.eq(view.v, model_read(r.model, base + S:offsetOf("v"), t), "view field " .. t[1])
        end
        good, ok = fits, vok
    elseif op == 5 then -- copy within the region
        local len = math.random(0, 40)
        local from, to = math.random(-4, SIZE), math.random(-4, SIZE)
        good = from >= 0 and to >= 0 and from + len <= r.len and to + len <= r.len
        local base = r.mem.ptr or r.mem
        ok = pcall(ffi.copy, base + to, base + from, len)
        if ok then
            local tmp = {}
            for i = 1, len do tmp[i] = r.model[from + i] end
            for i = 1, len do r.model[to + i] = tmp[i] end
        end
    elseif op == 6 then -- fill
        local len = math.random(0, 40)
        local byte = math.random(0, 255)
        good = off >= 0 and off + len <= r.len
        ok = pcall(ffi.fill, (r.mem.ptr or r.mem) + off, len, byte)
        if ok then for i = 1, len do r.model[off + i] = byte end end
    elseif op == 7 then -- bytes through a buffer slice or raw pointer methods
        local len = math.random(0, 16)
        good = off >= 0 and off + len <= r.len
        if r.mem.slice then
            ok, res = pcall(r.mem.slice, r.mem, off, len)
            if ok then
                local got = res:readBytes(0, len)
                local want = {}
                for i = 1, len do want[i] = string.char(r.model[off + i]) end
                T.eq(got, table.concat(want), "slice bytes")
            end
        else
            local v = random_value(t)
            ok = pcall(r.mem.write, r.mem, off, t[1], v)
            good = ok_access(off, t[3], t[3], r.len)
            if ok then model_write(r.model, off, t, v) end
        end
    elseif op == 8 then -- unsafe read of an in-bounds aligned place
        local o = (math.random(0, SIZE - 8) // t[3]) * t[3]
        good, ok = true, true
        res = ffi.unsafe.read((r.mem.ptr or r.mem).addr + o, t[1])
        T.eq(res, model_read(r.model, o, t), "unsafe.read " .. t[1])
    else -- now and then: reset the arena; stale regions must fail, then be replaced
        if math.random(40) == 1 then
            arena:reset()
            for i, reg in ipairs(regions) do
                if reg.arena then
                    T.raises({ "use of arena memory after reset" }, ffi.read, reg.mem, 0, "u8")
                    regions[i] = new_region()
                end
            end
        end
        good, ok = true, true
    end
    T.eq(ok, good, "step " .. step .. " op " .. op .. " " .. t[1] .. " off " .. off)
    ops = ops + 1
    if not ok then errors = errors + 1 end
end
T.eq(ops, 6000, "operations")
T.eq(errors > 100, true, "the fuzz reached error paths")
-- Full comparison at the end.
for _, r in ipairs(regions) do
    local want = {}
    for i = 1, SIZE do want[i] = string.char(r.model[i]) end
    T.eq(ffi.cast(r.mem, "u8").count, SIZE, "count")
    local got = {}
    for i = 0, SIZE - 1 do got[i + 1] = string.char(ffi.read(r.mem, i, "u8")) end
    T.eq(table.concat(got), table.concat(want), "final bytes")
end
