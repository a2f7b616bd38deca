-- Thunks read the common case of each argument straight off the Lua stack and push numbers
-- by writing it, when a start-up check found the Lua library laid out as Lua 5.4 is; every
-- other value takes the Lua C API path. This script runs with both (MOONTHUNK_PORTABLE_THUNKS
-- turns the direct path off) and checks that they agree on every kind, on values that take
-- the slow path, and when the slow path moves the stack.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")

local portable = os.getenv("MOONTHUNK_PORTABLE_THUNKS")
-- Only Lua 5.4's layout is described (src/lua_version.rs): other versions always take the
-- Lua C API path.
T.eq(ffi.stats().directStack, _VERSION == "Lua 5.4" and (portable == nil or portable == "0"),
    "direct stack access is on for Lua 5.4 unless turned off")

local kinds = { "string", "i32", "f64", "bool", "pointer", "f32", "i64", "string" }
local lib = ffi.load(TESTLIB, {
    every_kind = { ret = "f64", args = kinds },
    scaled_out = { ret = "i32", args = { "i32", "ref i32", "ref i32" } },
    out_first = { ret = "i32", args = { "ref i32", "i32" } },
    t_bool = { ret = "bool", args = { "bool" } },
    t_i64 = { ret = "i64", args = { "i64" } },
    t_u8 = { ret = "u8", args = { "u8" } },
    t_f32 = { ret = "f32", args = { "f32" } },
})
local shared = ffi.open(TESTLIB):bind("every_kind", "f64", kinds)
local p = ffi.buffer(8)

local function expect(s, i, d, b, has_p, f, j, t)
    return #s + 10 * i + 100 * d + (b and 1000 or 0) + (has_p and 10000 or 0) + 100000 * f
        + 1e6 * j + 1e7 * #t
end

-- Every kind on its direct path, through a specialized and a shared thunk.
for _, f in ipairs({ lib.every_kind, shared }) do
    T.eq(f("abc", 2, 0.5, true, p, 0.25, 3, "xy"), expect("abc", 2, 0.5, true, true, 0.25, 3, "xy"),
        "every kind, common values")
    T.eq(f("", -2, -0.5, false, nil, -0.25, -3, ""), expect("", -2, -0.5, false, false, -0.25, -3, ""),
        "every kind, other values")
    -- Values that take the Lua C API path: integral floats for integers, integers for
    -- floats, numbers for strings, numeric strings for numbers, nil for booleans.
    T.eq(f(12345, 2.0, 3, nil, p, 1, "4", 6.5), expect("12345", 2, 3, false, true, 1, 4, "6.5"),
        "every kind, converted values")
    T.eq(f(string.rep("x", 100), "7", "0.5", true, p, "0.5", 2.0, string.rep("y", 60)),
        expect(string.rep("x", 100), 7, 0.5, true, true, 0.5, 2, string.rep("y", 60)),
        "long strings and numeric strings")
end
if TEST_LIGHTUSERDATA then
    T.eq(lib.every_kind("", 0, 0, false, TEST_LIGHTUSERDATA, 0, 0, ""), 10000,
        "a light userdata is its own address")
end

-- A shared thunk reads all-scalar arguments in one batch together with the count check;
-- past LUA_MINSTACK parameters it reads them one by one. Both report counts and values alike.
do
    local all = ffi.open(TESTLIB)
    local ints = {}
    for i = 1, 22 do ints[i] = "i64" end
    local sum22 = all:bind("sum22", "i64", ints)
    local args = {}
    for i = 1, 22 do args[i] = i end
    T.eq(sum22(table.unpack(args)), 253, "22 parameters")
    args[22] = 22.0
    T.eq(sum22(table.unpack(args)), 253, "22 parameters, one converted")
    T.raises({ "bad argument #22 to 'sum22' (number expected, got no value)" },
        sum22, table.unpack(args, 1, 21))
    args[23] = 23
    T.raises({ "wrong number of arguments to 'sum22' (expected 22, got 23)" },
        sum22, table.unpack(args, 1, 23))
    local add = all:bind("add_i32", "i32", { "i32", "i32" })
    T.eq(add(2, "3"), 5, "a numeric string, rewritten by the host")
    T.raises({ "bad argument #2 to 'add_i32' (number expected, got no value)" }, add, 1)
    T.raises({ "wrong number of arguments to 'add_i32' (expected 2, got 3)" }, add, 1, 2, 3)
    T.raises({ "bad argument #1 to 'add_i32' (number expected, got string)" }, add, "x", 2)
end

-- Pointer objects: accepted inline by a specialized thunk; a shared thunk (which reads all
-- its arguments at once) has the host rewrite them into addresses. Either way a reset arena's
-- memory and a userdata of another library are refused.
local cb = ffi.callback(function() end, "void", {})
for name, f in pairs({ specialized = lib.every_kind, shared = shared }) do
    local function pointer_in(ptr) return f("", 0, 0, false, ptr, 0, 0, "") end
    local arena = ffi.arena()
    local from_arena = arena:alloc(16)
    T.eq(pointer_in(cb), 10000, name .. ": a callback object")
    T.eq(pointer_in(p), 10000, name .. ": a buffer")
    T.eq(pointer_in(ffi.buffer(4)), 10000, name .. ": a temporary buffer")
    T.eq(pointer_in(from_arena), 10000, name .. ": arena memory")
    T.eq(pointer_in(from_arena + 8), 10000, name .. ": arena memory at an offset")
    T.eq(pointer_in(ffi.ptr(0)), 0, name .. ": a NULL pointer object")
    T.eq(pointer_in(ffi.ptr(64)), 10000, name .. ": an unmanaged pointer object")
    T.eq(f(p, 0, 0, false, nil, 0, 0, from_arena), 0, name .. ": pointer objects for strings")
    arena:reset()
    T.raises({ "pointer passed to C: use of arena memory after reset" }, pointer_in, from_arena)
    T.raises({ "bad argument #5 to 'every_kind' (pointer expected, got FILE*)" }, pointer_in,
        io.stdout)
    T.raises({ "bad argument #4 to 'every_kind' (boolean expected, got number)" },
        f, "", 1, 0, 1, nil, 0, 0, "")
    T.raises({ "bad argument #7 to 'every_kind' (number has no integer representation)" },
        f, "", 1, 0, true, nil, 0, 0.5, "")
end
cb:free()

-- Results pushed by writing the stack.
T.eq(lib.t_bool(true), true, "true back"); T.eq(lib.t_bool(false), false, "false back")
T.eq(lib.t_bool(nil), false, "nil is false")
T.eq(math.type(lib.t_i64(-5)), "integer", "an integer result is an integer")
T.eq(lib.t_i64(math.mininteger), math.mininteger, "i64 extremes")
T.eq(lib.t_u8(511), 255, "u8 truncates like C")
T.eq(lib.t_f32(0.5), 0.5, "f32 result")
T.eq(math.type(lib.t_f32(2)), "float", "a float result is a float")

-- Errors on the direct path, in Lua's words.
T.raises({ "bad argument #2 to 'every_kind' (number expected, got table)" },
    lib.every_kind, "", {}, 0, true, nil, 0, 0, "")
T.raises({ "bad argument #2 to 'every_kind' (number has no integer representation)" },
    lib.every_kind, "", 1.5, 0, true, nil, 0, 0, "")
T.raises({ "bad argument #4 to 'every_kind' (boolean expected, got number)" },
    lib.every_kind, "", 1, 0, 1, nil, 0, 0, "")
T.raises({ "bad argument #5 to 'every_kind' (pointer expected, got string)" },
    lib.every_kind, "", 1, 0, true, "p", 0, 0, "")
T.raises({ "bad argument #8 to 'every_kind' (string expected, got boolean)" },
    lib.every_kind, "", 1, 0, true, nil, 0, 0, false)
T.raises({ "bad argument #3 to 'every_kind' (number expected, got no value)" },
    lib.every_kind, "", 1)
T.raises({ "wrong number of arguments to 'every_kind' (expected 8, got 9)" },
    lib.every_kind, "", 1, 0, true, nil, 0, 0, "", 9)

-- Trailing out-parameters may be missing; one before a scalar may not.
T.eq(select("#", lib.scaled_out(7)), 3, "result and both out-parameters")
local r, twice, thrice = lib.scaled_out(7, nil)
T.eq(r + twice + thrice, 7 + 14 + 21, "out-parameters given or not")
T.raises({ "bad argument #1 to 'scaled_out' (number expected, got no value)" }, lib.scaled_out)
T.raises({ "wrong number of arguments to 'scaled_out' (expected 3, got 4)" }, lib.scaled_out, 1, 2, 3, 4)
T.raises({ "bad argument #2 to 'out_first' (number expected, got no value)" }, lib.out_first)
T.eq(select(2, lib.out_first(nil, 4)), 5, "an out-parameter first")

-- The slow path of one argument may move the stack (converting a number to a string
-- allocates, and the collector shrinks stacks); the arguments after it must still be read
-- from the moved stack. Grow the stack deep, then call with aggressive collection.
local function deep(n) if n == 0 then return 0 end return 1 + deep(n - 1) end
T.collect_often(true)
for k = 1, 300 do
    deep(2000)
    local got = lib.every_kind(k, k, 0.5, true, p, 0.25, k, "abc")
    T.eq(got, expect(tostring(k), k, 0.5, true, true, 0.25, k, "abc"), "after a moved stack")
end
T.collect_often(false)

-- Converting arguments of a shared thunk takes stack slots beyond the LUA_MINSTACK a C
-- function is guaranteed: with the Lua stack at its limit that is an error, never a write
-- past the stack. Calls of sum20 (20 arguments, the first a numeric string that needs
-- converting) are made at depths around the limit, with 0 to 3 extra registers below the
-- call for one-slot steps; some must land where the call fits but the conversion does not.
-- (It collects before each attempt on its own; GC_STRESS, whose every collection walks a
-- stack a million slots deep here, skips it.)
if ffi.stats().directStack and not GC_STRESS then
    local twenty = {}
    for i = 1, 20 do twenty[i] = "i64" end
    local sum20 = ffi.open(TESTLIB):bind("sum20", "i64", twenty)
    local at_bottom = {}
    for k = 0, 3 do
        local src = { "return function(f, first)" }
        for i = 1, k do src[#src + 1] = "local x" .. i .. " = " .. i end
        src[#src + 1] = "local r = f(first, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,"
            .. " 17, 18, 19, 20) return r end"
        at_bottom[k] = load(table.concat(src, "\n"))()
    end
    local function dive(depth, bottom, first)
        if depth == 0 then return bottom(sum20, first) end
        local r = dive(depth - 1, bottom, first)
        return r
    end
    local function outcome(depth, k, first)
        collectgarbage() -- shrinks the stack left at its limit by the previous attempt
        local ok, result = pcall(dive, depth, at_bottom[k], first)
        if ok then
            T.eq(result, 210, "sum20 near the stack limit")
            return "ok"
        end
        return result
    end
    -- The deepest call that fits with integer arguments (give or take a slot: whether the
    -- stack is already at its limit moves the boundary by one).
    local lo, hi = 1, 1000000
    while lo < hi do
        local mid = (lo + hi + 1) // 2
        if outcome(mid, 0, 1) == "ok" then lo = mid else hi = mid - 1 end
    end
    local converting = false
    for depth = lo - 4, lo + 1 do
        for k = 0, 3 do
            local result = outcome(depth, k, "1")
            if result ~= "ok" then
                T.contains(result, "stack overflow", "near the stack limit, only overflow errors")
            end
            converting = result:find("stack overflow (converting arguments)", 1, true) ~= nil
            if converting then break end
        end
        if converting then break end
    end
    T.eq(converting, true, "a call that fits but whose conversion does not is an error")
    collectgarbage()
end
