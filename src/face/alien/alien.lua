-- The Alien face's arrays and structs: Lua over the buffers and types of the Rust part
-- (src/face/alien/), as Alien builds them over its own.
local alien, layout = ...
local error, ipairs, pcall, rawset, setmetatable, type, tostring =
    error, ipairs, pcall, rawset, setmetatable, type, tostring
local find, sub, unpack = string.find, string.sub, table.unpack or unpack
local buffer, sizeof = alien.buffer, alien.sizeof

-- Re-raises an error of a buffer access at the level of the code using the array or struct,
-- without the position the buffer function gave it.
local function relay(ok, ...)
    if ok then return ... end
    local message = tostring((...))
    local at = find(message, ": ", 1, true)
    if at and find(sub(message, 1, at), "^[^\n]*:%d+:") then
        message = sub(message, at + 2)
    end
    error(message, 3)
end

local array_methods = {}

local function array_next(arr, i)
    if i < arr.length then
        return i + 1, arr[i + 1]
    end
end

function array_methods:ipairs()
    return array_next, self, 0
end

function array_methods:realloc(length)
    self.buffer:realloc(length * self.size)
    self.length = length
end

local function check_index(arr, i)
    if i % 1 ~= 0 or i < 1 or i > arr.length then
        error("array access out of bounds: index " .. tostring(i) .. " of an array of "
            .. arr.length .. " elements", 3)
    end
end

local array_meta = {
    __index = function(arr, key)
        if type(key) ~= "number" then return array_methods[key] end
        check_index(arr, key)
        local buf, offset, t = arr.buffer, (key - 1) * arr.size + 1, arr.type
        local value = relay(pcall(buf.get, buf, offset, t))
        return value
    end,
    __newindex = function(arr, key, value)
        if type(key) ~= "number" then return rawset(arr, key, value) end
        check_index(arr, key)
        local buf, offset, t = arr.buffer, (key - 1) * arr.size + 1, arr.type
        relay(pcall(buf.set, buf, offset, value, t))
        -- A buffer or string stored in a pointer array stays alive while it is there.
        if t == "pointer" then arr.pinned[key] = value end
    end,
    __len = function(arr) return arr.length end,
}

function alien.array(t, length, init)
    local ok, size = pcall(sizeof, t)
    if not ok then error("type " .. tostring(t) .. " does not exist", 2) end
    if type(length) == "table" then
        init, length = length, #length
    end
    if type(length) ~= "number" or length % 1 ~= 0 or length < 0 then
        error("bad argument #2 to 'array' (length expected, got " .. type(length) .. ")", 2)
    end
    local arr = setmetatable({ type = t, length = length, size = size, pinned = {} }, array_meta)
    if type(init) == "userdata" then
        rawset(arr, "buffer", init)
    else
        rawset(arr, "buffer", buffer(size * length))
        if type(init) == "table" then
            for i = 1, length do arr[i] = init[i] end
        end
    end
    return arr
end

local function struct_new(proto, ptr)
    local buf = buffer(ptr or proto.size)
    local offsets, types = proto.offsets, proto.types
    local function field(key)
        local offset = offsets[key]
        if not offset then error("field " .. tostring(key) .. " does not exist", 3) end
        return offset + 1, types[key]
    end
    return setmetatable({}, {
        __index = function(_, key)
            local offset, t = field(key)
            local value = relay(pcall(buf.get, buf, offset, t))
            return value
        end,
        __newindex = function(_, key, value)
            local offset, t = field(key)
            relay(pcall(buf.set, buf, offset, value, t))
        end,
        __call = function() return buf end,
    })
end

-- The values Alien 0.7 passes for a struct "by value": its bytes as ints, then a short or
-- a char for the tail.
local function struct_byval(proto)
    local types, size = {}, proto.size
    for i = 0, size - 1, 4 do
        types[#types + 1] = size - i == 1 and "char" or (size - i == 2 and "short" or "int")
    end
    return unpack(types)
end

function alien.defstruct(fields)
    local names, types, field_types = {}, {}, {}
    for i, field in ipairs(fields) do
        if type(field) ~= "table" or type(field[1]) ~= "string" then
            error("bad argument #1 to 'defstruct' (field " .. i .. " must be {name, type})", 2)
        end
        names[i], types[field[1]], field_types[i] = field[1], field[2], field[2]
    end
    local ok, size, offsets = pcall(layout, field_types)
    if not ok then relay(false, size) end
    local by_name = {}
    for i, name in ipairs(names) do by_name[name] = offsets[i] end
    return { names = names, offsets = by_name, types = types, size = size,
             new = struct_new, byval = struct_byval }
end

function alien.byval(buf)
    local size = buf.size
    if not size then error("this type of buffer can't be passed by value", 2) end
    local values = {}
    for i = 1, size, 4 do
        local kind = size - i == 0 and "char" or (size - i == 1 and "short" or "int")
        values[#values + 1] = buf:get(i, kind)
    end
    return unpack(values)
end

