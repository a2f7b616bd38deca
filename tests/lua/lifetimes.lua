-- What is derived from a library keeps it loaded: symbol addresses and functions bound from
-- them with ffi.fn or called with callPtr stay usable after the library object is closed or
-- collected, and the library is unloaded once nothing derived from it is reachable; a
-- library one of whose functions can return an address stays loaded for good, so pointers
-- into its data never dangle. Each case opens a private copy of the test library, so
-- that closing it really unmaps it (other scripts keep TESTLIB itself loaded).
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")

local copies = {}
local function private_copy()
    local name = os.tmpname()
    local src = assert(io.open(TESTLIB, "rb"))
    local dst = assert(io.open(name, "wb"))
    dst:write(src:read("a"))
    src:close()
    dst:close()
    copies[#copies + 1] = name
    return name
end

local function collect()
    collectgarbage()
    collectgarbage()
end

-- Whether the file `name` is mapped into this process (nil where /proc is absent).
local function mapped(name)
    local maps = io.open("/proc/self/maps", "r")
    if not maps then return nil end
    local text = maps:read("a")
    maps:close()
    return string.find(text, name, 1, true) ~= nil
end

-- A symbol's address outlives close().
do
    local lib = ffi.open(private_copy())
    local sym = lib:getSymbol("add_i32")
    lib:close()
    collect()
    T.eq(ffi.fn(sym, "i32", {"i32", "i32"})(1, 2), 3, "ffi.fn of a symbol after close")
    T.eq(ffi.open("c"):callPtr(sym, "i32", {"i32", "i32"}, 40, 2), 42,
        "callPtr of a symbol after close")
    T.eq(ffi.fn(sym + 0, "i32", {"i32", "i32"})(2, 2), 4, "a pointer derived from a symbol")
end

-- A symbol's address outlives the collected library object.
do
    local sym
    do
        local lib = ffi.open(private_copy())
        sym = lib:getSymbol("add_i32")
    end
    collect()
    T.eq(ffi.fn(sym, "i32", {"i32", "i32"})(1, 2), 3, "ffi.fn after the library is collected")
end

-- A function bound with ffi.fn before close.
do
    local lib = ffi.open(private_copy())
    local add = ffi.fn(lib:getSymbol("add_i32"), "i32", {"i32", "i32"})
    lib:close()
    lib = nil
    collect()
    T.eq(add(20, 22), 42, "ffi.fn bound before close")
end

-- Static data a library function returned, through call, bind and a SmartLibrary.
do
    local lib = ffi.open(private_copy())
    local p1 = lib:call("static_int", "pointer", {})
    local p2 = lib:bind("static_int", "pointer", {})()
    local smart = ffi.load(private_copy(), { static_int = { ret = "pointer" } })
    local p3 = smart.static_int()
    local p4 = ffi.fn(lib:getSymbol("static_int"), "pointer", {})()
    lib:close()
    smart.close()
    lib, smart = nil, nil
    collect()
    T.eq(ffi.read(p1, 0, "i32"), 42, "pointer result of call")
    T.eq(ffi.read(p2, 0, "i32"), 42, "pointer result of bind")
    T.eq(ffi.read(p3, 0, "i32"), 42, "pointer result of a SmartLibrary function")
    T.eq(ffi.read(p4, 0, "i32"), 42, "pointer result of ffi.fn")
    T.eq(ffi.cast(p1, "i32")[0], 42, "a typed pointer derived from a pointer result")
end

-- Once nothing derived from it is reachable, the library is unloaded...
do
    local name = private_copy()
    local lib = ffi.open(name)
    local sym = lib:getSymbol("add_i32")
    local add = lib:bind("add_i32", "i32", {"i32", "i32"})
    lib:close()
    lib = nil
    collect()
    if mapped(name) ~= nil then
        T.eq(mapped(name), true, "mapped while a symbol and a function are reachable")
        sym, add = nil, nil
        collect()
        T.eq(mapped(name), false, "unloaded when nothing derived from it is reachable")
    end
end

-- ...unless one of its functions could return an address into it.
do
    local name = private_copy()
    local lib = ffi.open(name)
    local data = lib:call("static_int", "pointer", {})
    lib:close()
    lib, data = nil, nil
    collect()
    if mapped(name) ~= nil then
        T.eq(mapped(name), true, "a library that returned a pointer stays loaded")
    end
end

for _, name in ipairs(copies) do os.remove(name) end
