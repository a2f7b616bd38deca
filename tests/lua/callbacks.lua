-- Callbacks: C calls Lua through Cranelift-built entries.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)
local libc = ffi.open("c")

-- The seed's example.
local callback = ffi.callback(function(a, b)
    return a + b
end, "i32", {"i32", "i32"})
T.eq(type(callback.ptr), "userdata", "callback.ptr is a pointer object")
T.eq(callback.ptr.isNull, false, "callback.ptr is not NULL")
T.eq(callback:getPtr(), callback.ptr, "getPtr")
T.eq(callback.retType, "i32", "retType")
T.eq(callback.argCount, 2, "argCount")
T.eq(callback.isValid, true, "isValid")

-- Passed as a pointer: the object itself, its ptr, and called back through ffi.fn/callPtr.
local call_binary = lib:bind("cb_call_binary", "i32", {"pointer", "i32", "i32"})
T.eq(call_binary(callback, 40, 2), 42, "the callback object passes as a pointer")
T.eq(call_binary(callback.ptr, 1, 2), 3, "callback.ptr passes as a pointer")
T.eq(ffi.fn(callback.ptr, "i32", {"i32", "i32"})(5, 6), 11, "ffi.fn calls a callback")
T.eq(lib:callPtr(callback, "i32", {"i32", "i32"}, 7, 8), 15, "callPtr calls a callback")

-- qsort from libc with a Lua comparator.
local n = 200
local ints = lib:call("cb_ints_new", "pointer", {"i32"}, n)
local get = lib:bind("cb_ints_get", "i32", {"pointer", "i32"})
local read = lib:bind("read_int", "i32", {"pointer"})
local calls = 0
local cmp = ffi.callback(function(a, b)
    calls = calls + 1
    local x, y = read(a), read(b)
    return x < y and -1 or (x > y and 1 or 0)
end, "int", {"pointer", "pointer"})
libc:call("qsort", "void", {"pointer", "size_t", "size_t", "pointer"}, ints, n, 4, cmp)
T.eq(calls > n, true, "the comparator ran")
for i = 1, n - 1 do
    if get(ints, i - 1) > get(ints, i) then error("not sorted at " .. i) end
end

-- Every scalar type as an argument, thirteen of them.
local seen
local all = ffi.callback(function(...)
    seen = table.pack(...)
    return 3.5
end, "f64", {"bool", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "pointer", "string"})
local marker = ffi.ptr(0x1234)
T.eq(lib:call("cb_call_all_types", "f64", {"pointer", "pointer", "string"}, all, marker, "hi"), 7.0, "result")
T.eq(seen.n, 13, "thirteen arguments")
local expected = {true, -8, 200, -16000, 60000, -2000000000, 4000000000, -(1 << 40),
    string.unpack("j", string.pack("J", 0x8000000000000001)), 1.5, -2.25}
for i = 1, 11 do T.eq(seen[i], expected[i], "argument " .. i) end
T.eq(seen[12], marker, "pointer argument")
T.eq(seen[13], "hi", "string argument")

-- Every scalar type as a result.
local results = {
    bool = true, i8 = -5, u8 = 250, i16 = -300, u16 = 65535, i32 = -2147483648,
    u32 = 4294967295, i64 = math.mininteger, u64 = string.unpack("j", string.pack("J", 0x8000000000000001)),
    f32 = 0.25, f64 = -1e300,
}
for t, v in pairs(results) do
    local cb = ffi.callback(function() return v end, t, {})
    T.eq(lib:call("cb_ret_" .. t, "int", {"pointer"}, cb), 1, "result of type " .. t)
end
T.eq(lib:call("cb_ret_ptr", "int", {"pointer", "pointer"},
    ffi.callback(function() return marker end, "pointer", {}), marker), 1, "pointer result")
local got
lib:call("cb_call_void", "void", {"pointer", "i32"}, ffi.callback(function(x) got = x end, "void", {"i32"}), 99)
T.eq(got, 99, "void callback")

-- Nested: Lua -> C -> Lua -> C -> Lua.
local inner = ffi.callback(function(a, b) return a * b end, "i32", {"i32", "i32"})
local outer = ffi.callback(function(a, b) return call_binary(inner, a, b) + 1 end, "i32", {"i32", "i32"})
T.eq(call_binary(outer, 6, 7), 43, "nested callbacks")

-- From a coroutine: the callback runs on the coroutine that made the C call.
local co_thread
local where = ffi.callback(function(a, b)
    co_thread = coroutine.running()
    return a - b
end, "i32", {"i32", "i32"})
local co = coroutine.create(function() return call_binary(where, 10, 3) end)
local ok, r = coroutine.resume(co)
T.eq(ok, true, "coroutine ran"); T.eq(r, 7, "result inside a coroutine")
T.eq(co_thread, co, "the callback ran on the calling coroutine")

-- A callback that resumes a coroutine which calls C leaves the calling thread in place for
-- the next callback of the same C call, whether it returned or failed.
local call_twice = lib:bind("cb_call_twice", "i32", {"pointer"})
local c_twice = lib:bind("twice", "int", {"int"})
local function resumer(fail)
    local ran_on = {}
    local cb = ffi.callback(function(x)
        ran_on[x] = coroutine.running()
        local inner = coroutine.wrap(function() return c_twice(x) end)
        T.eq(inner(), 2 * x, "C called from a coroutine inside a callback")
        if fail and x == 1 then error("resumer failed") end
        return 10 * x
    end, "i32", {"i32"})
    return cb, ran_on
end
local cb, ran_on = resumer(false)
local outer = coroutine.create(function() return call_twice(cb) end)
local ok, r = coroutine.resume(outer)
T.eq(ok, true, "outer coroutine ran"); T.eq(r, 30, "both calls returned")
T.eq(ran_on[1], outer, "first call on the calling coroutine")
T.eq(ran_on[2], outer, "second call still on the calling coroutine")
cb, ran_on = resumer(true)
outer = coroutine.create(function() return call_twice(cb) end)
ok, r = coroutine.resume(outer)
T.eq(ok, false, "the callback error is raised in the calling coroutine")
T.eq(string.find(r, "resumer failed", 1, true) ~= nil, true, "with its message")
T.eq(ran_on[2], outer, "after a failed call, the next one still runs on the calling coroutine")

-- A callback that frees itself still returns its result; later calls return zero.
local selfish
selfish = ffi.callback(function(a, b)
    selfish:free()
    return a + b
end, "i32", {"i32", "i32"})
T.eq(call_binary(selfish, 2, 3), 5, "a callback that freed itself returns its result")
T.eq(call_binary(selfish.ptr, 2, 3), 0, "and returns zero afterwards")

-- A reused slot calls its new function, not the one its entry called before.
for i = 1, 3 do
    local first = ffi.callback(function(a, b) return a * b end, "i32", {"i32", "i32"})
    T.eq(call_binary(first, 6, 7), 42, "before reuse " .. i)
    first:free()
    local second = ffi.callback(function(a, b) return a - b end, "i32", {"i32", "i32"})
    T.eq(call_binary(second, 6, 7), -1, "after reuse " .. i)
    second:free()
end

-- Errors never unwind through C: raised when the C call returns, state still usable.
local failing = ffi.callback(function() error("comparator failed") end, "int", {"pointer", "pointer"})
T.raises({"comparator failed", "stack traceback"}, libc.call, libc, "qsort", "void",
    {"pointer", "size_t", "size_t", "pointer"}, ints, n, 4, failing)
T.eq(call_binary(callback, 1, 1), 2, "usable after a callback error")
local twice = ffi.callback(function(x) error("failure " .. x) end, "i32", {"i32"})
local err = T.raises({"failure 1", "1 more callback error(s) in the same call suppressed", "failure 2"},
    lib.call, lib, "cb_call_twice", "i32", {"pointer"}, twice)
-- The same through a specialized thunk (SmartLibrary), which checks for the error inline.
local smart = ffi.load(TESTLIB, { cb_call_twice = { ret = "i32", args = {"pointer"} } })
T.raises({"failure 1", "1 more callback error(s) in the same call suppressed", "failure 2"},
    smart.cb_call_twice, twice)
cb, ran_on = resumer(true)
outer = coroutine.create(function() return smart.cb_call_twice(cb) end)
ok, r = coroutine.resume(outer)
T.eq(ok, false, "a specialized thunk raises the callback error in the calling coroutine")
T.contains(r, "resumer failed", "with its message")
T.eq(ran_on[2], outer, "and the next call still runs on the calling coroutine")
T.eq(smart.cb_call_twice(ffi.callback(function(x) return x end, "i32", {"i32"})), 3,
    "usable after a callback error")
T.raises({"bad result from callback (integer expected, got string)"}, call_binary,
    ffi.callback(function() return "x" end, "i32", {"i32", "i32"}), 1, 2)
T.raises({"bad result from callback (number expected, got nil)"}, lib.call, lib, "cb_ret_f64", "int", {"pointer"},
    ffi.callback(function() end, "f64", {}))
T.raises({"bad result from callback (number expected, got table)"}, lib.call, lib, "cb_ret_f32",
    "int", {"pointer"}, ffi.callback(function() return {} end, "f32", {}))
T.raises({"bad result from callback (pointer expected, got boolean)"}, lib.call, lib, "cb_ret_ptr", "int",
    {"pointer", "pointer"}, ffi.callback(function() return true end, "pointer", {}), marker)
-- A bool result follows the rule of bool arguments and stores: true, false or nil.
T.raises({"bad result from callback (boolean expected, got number)"}, lib.call, lib, "cb_ret_bool", "int",
    {"pointer"}, ffi.callback(function() return 0 end, "bool", {}))
T.raises({"bad result from callback (boolean expected, got string)"}, lib.call, lib, "cb_ret_bool", "int",
    {"pointer"}, ffi.callback(function() return "yes" end, "bool", {}))
T.eq(lib:call("cb_ret_bool", "int", {"pointer"}, ffi.callback(function() return true end, "bool", {})), 1,
    "true is a true bool result")
T.eq(lib:call("cb_ret_bool", "int", {"pointer"}, ffi.callback(function() return false end, "bool", {})), 0,
    "false is a false bool result")
T.eq(lib:call("cb_ret_bool", "int", {"pointer"}, ffi.callback(function() end, "bool", {})), 0,
    "nil is a false bool result")

-- Creation errors.
T.raises({"a callback cannot return 'string'"}, ffi.callback, function() end, "string", {})
T.raises({"unknown C type 'nope'"}, ffi.callback, function() end, "i32", {"nope"})
T.raises({"'async' callbacks must also be 'threadsafe'"}, ffi.callback, function() end, "void", {}, { async = true })
T.raises({"an async callback must return void"}, ffi.callback, function() end, "i32", {}, { threadsafe = true, async = true })

-- free(): the pointer stays safe to call, reports the misuse and returns zero.
local f = ffi.callback(function(a, b) return a + b end, "i32", {"i32", "i32"})
local ptr = f.ptr
f:free()
T.eq(f.isValid, false, "freed")
T.eq(call_binary(ptr, 2, 3), 0, "a freed callback returns zero")
T.raises({"bad argument #1 to 'cb_call_binary' (pointer expected, got callback)"}, call_binary, f, 2, 3)
f:free()

-- A wrong result that raises while it is converted (a pointer into a reset arena) is an
-- error of the call, raised when C returns: the C caller runs to its end.
do
    local counted_ptr = lib:bind("cb_ret_ptr_counted", "pointer", {"pointer"})
    local completed = lib:bind("cb_completed_calls", "i32", {})
    local arena = ffi.arena()
    local stale = arena:alloc(8)
    arena:reset()
    local returns_stale = ffi.callback(function() return stale end, "pointer", {})
    local before = completed()
    T.raises({"use of arena memory after reset"}, counted_ptr, returns_stale)
    T.eq(completed(), before + 1, "the error did not unwind through the C caller")
    returns_stale:free()
end

-- A pointer kept from a freed callback whose slot now serves a callback of another signature
-- reaches the host, which refuses it: the slot's new function is not run with the wrong
-- arguments (it was, and its result written as the wrong type).
if not SHARED_PROCESS then
    local stale = ffi.callback(function(a, b) return a + b end, "i32", {"i32", "i32"})
    local stale_ptr = stale.ptr
    stale:free()
    local ran, holders = false, {}
    local slots = ffi.stats().callbackSlots
    repeat -- take every free slot, the stale one among them
        holders[#holders + 1] = ffi.callback(function(x) ran = true; return x end, "f64", {"f64"})
    until ffi.stats().callbackSlots > slots
    T.eq(call_binary(stale_ptr, 2, 3), 0, "a stale pointer of another signature returns zero")
    T.eq(ran, false, "and runs no callback")
    for _, holder in ipairs(holders) do holder:free() end
end

-- 100,000 create/free cycles reuse slots: no new slots, so no new code, and flat memory.
local function rss_kb()
    local statm = io.open("/proc/self/statm")
    if not statm then return nil end
    local _, resident = statm:read("n", "n")
    statm:close()
    return resident * 4
end
local function cycle(count)
    for i = 1, count do
        local c = ffi.callback(function(a, b) return a + b + i end, "i32", {"i32", "i32"})
        if i % 1000 == 0 then T.eq(call_binary(c, 1, 2), 3 + i, "cycled callback " .. i) end
        c:free()
    end
end
cycle(2000)
collectgarbage()
local slots_before, rss_before = ffi.stats().callbackSlots, rss_kb()
-- Under GC_STRESS every allocation runs a whole collection: fewer cycles say the same.
cycle(GC_STRESS and 3000 or 100000)
collectgarbage()
-- Slots and RSS are the process's: only meaningful where this script has its process to
-- itself (the stock interpreter runs; the embedded runs share one process with parallel
-- tests, this script's other embedded run among them). RSS also needs the full count of cycles.
if not SHARED_PROCESS then
    T.eq(ffi.stats().callbackSlots, slots_before, "create/free cycles reuse one slot")
end
if rss_before and not SHARED_PROCESS and not GC_STRESS then
    local growth = rss_kb() - rss_before
    T.eq(growth < 8192, true, "RSS grew by " .. growth .. " KiB over 100,000 cycles")
end
-- Collected without free(): the slots come back too.
local function batch()
    local live = {}
    for i = 1, 500 do live[i] = ffi.callback(function() return i end, "i32", {}) end
    return live
end
local live = batch()
live = nil
collectgarbage(); collectgarbage()
local slots = ffi.stats().callbackSlots
live = batch()
if not SHARED_PROCESS then
    T.eq(ffi.stats().callbackSlots, slots, "collected callbacks give their slots back")
end

-- Foreign threads.
local start = lib:bind("cb_thread_start", "pointer", {"pointer", "i32"})
local start_void = lib:bind("cb_thread_start_void", "pointer", {"pointer", "i32"})
local join = lib:bind("cb_thread_join", "i32", {"pointer"})
local usleep = libc:bind("usleep", "int", {"u32"})

local plain_ran = false
local plain = ffi.callback(function(x) plain_ran = true; return x end, "i32", {"i32"})
T.eq(join(start(plain, 5)), 0, "a plain callback refuses a foreign thread and returns zero")
T.eq(plain_ran, false, "and never touched Lua")

local safe = ffi.callback(function(x) return x * 2 end, "i32", {"i32"}, { threadsafe = true })
local handle = start(safe, 21)
local ran, spins = 0, 0
while ran == 0 and spins < 5000 do ran = ffi.poll(); spins = spins + 1; usleep(1000) end
T.eq(ran, 1, "ffi.poll ran the queued call")
T.eq(join(handle), 42, "the blocked thread got the result")

local async_got
local async = ffi.callback(function(x) async_got = x end, "void", {"i32"}, { threadsafe = true, async = true })
join(start_void(async, 77))
T.eq(async_got, nil, "an async call waits for ffi.poll")
T.eq(ffi.poll(), 1, "one queued call")
T.eq(async_got, 77, "async callback ran in poll")
T.eq(ffi.poll(), 0, "queue empty")

-- A 'ref' parameter gives the callback the value C's pointer points at (nil for NULL).
local ref_ints = lib:call("cb_ints_new", "pointer", {"i32"}, 50)
local by_value = ffi.callback(function(a, b) return a - b end, "int", {"ref i32", "ref i32"})
libc:call("qsort", "void", {"pointer", "size_t", "size_t", "pointer"}, ref_ints, 50, 4, by_value)
for i = 1, 49 do
    if get(ref_ints, i - 1) > get(ref_ints, i) then error("ref comparator: not sorted at " .. i) end
end
local seen = {}
local refs = ffi.callback(function(c, u, d, f, n) seen = {c, u, d, f, n} end, "void",
    {"ref i8", "ref u16", "ref f64", "ref f32", "ref i64"})
local rc, ru, rd, rf = ffi.buffer(1), ffi.buffer(2), ffi.buffer(8), ffi.buffer(4)
rc:write(0, "i8", -5); ru:write(0, "u16", 65535); rd:write(0, "f64", 2.5); rf:write(0, "f32", 0.25)
ffi.fn(refs.ptr, "void", {"pointer", "pointer", "pointer", "pointer", "pointer"})(rc, ru, rd, rf, nil)
T.eq(seen[1], -5, "ref i8 sign-extends"); T.eq(seen[2], 65535, "ref u16 zero-extends")
T.eq(seen[3], 2.5, "ref f64"); T.eq(seen[4], 0.25, "ref f32"); T.eq(seen[5], nil, "a NULL ref is nil")

-- Callbacks take what C passes: no varargs.
T.raises({"a callback cannot have '...' parameters"}, ffi.callback, function() end, "void", {"i32", "..."})
