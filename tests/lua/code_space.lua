-- Run in a process of its own with MOONTHUNK_CODE_SPACE set (tests/lua_scripts.rs): a small
-- code space fills up with a Lua error where code is needed (a function's first call, or
-- thunkAddress), and what was compiled before keeps working; a hot function that cannot be
-- specialized stays on its shared thunk; a malformed setting is reported when code is first
-- needed.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)
local setting = os.getenv("MOONTHUNK_CODE_SPACE")

if setting ~= "16K" then
    T.raises({ "cannot start the code generator: MOONTHUNK_CODE_SPACE must be a size in bytes "
        .. "such as 65536, 64K or 1G (got '" .. setting .. "')" },
        lib:bind("add_i32", "i32", {"i32", "i32"}), 1, 2)
    T.raises({ "MOONTHUNK_CODE_SPACE must be a size" }, ffi.stats)
    T.raises({ "MOONTHUNK_CODE_SPACE must be a size" }, ffi.callback, function() end, "void", {})
    return
end

local add = lib:bind("add_i32", "i32", {"i32", "i32"})
local smart = ffi.load(TESTLIB, { sub_i32 = { ret = "i32", args = {"i32", "i32"} } })
T.eq(add(2, 3), 5, "a call before the space fills compiles the shared thunk")
T.eq(smart.sub_i32(2, 3), -1, "and so does a SmartLibrary function's")
local kinds = { "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64", "pointer" }
local bound, failure, refused = 0, nil, nil
for i = 0, 2000 do
    local sig = { kinds[i % 11 + 1], kinds[i // 11 % 11 + 1], kinds[i // 121 % 11 + 1] }
    local ok, err = pcall(ffi.thunkAddress, lib:bind("add_i32", "i64", sig))
    if not ok then failure, refused = err, sig; break end
    bound = bound + 1
end
T.contains(failure, "the JIT code space is full (16384 bytes)", "compiling past the code space")
T.eq(bound > 10, true, "some thunks fit in 16 KiB")
T.eq(ffi.stats().codeBytes <= 16384, true, "the code stays in its space")
-- The signature refused stays refused: what space is left fits no thunk for it, whether
-- bound again or loaded.
T.raises({ "the JIT code space is full (16384 bytes)" }, ffi.thunkAddress,
    lib:bind("add_i32", "i64", refused))
-- (A first call compiles before it reads its arguments.)
T.raises({ "the JIT code space is full (16384 bytes)" },
    ffi.load(TESTLIB, { add_i32 = { ret = "i64", args = refused } }).add_i32)
T.raises({ "the JIT code space is full (16384 bytes)" }, ffi.callback, function() end,
    "f64", {"f64", "i64", "f32", "u8", "i16", "u32", "pointer", "f64", "i8", "u64"})
T.eq(add(2, 3), 5, "a function compiled before still calls its thunk")
local specialized = ffi.stats().specialized
for i = 1, ffi.stats().promoteAfter + 10 do
    T.eq(smart.sub_i32(i, 3), i - 3, "a hot function whose specialization does not fit")
end
-- Where thunks read the stack directly, a specialized thunk is larger than any shared one
-- refused above; on the Lua C API path one may still fit.
if ffi.stats().directStack then
    T.eq(ffi.stats().specialized, specialized, "stays on its shared thunk")
end
T.eq(lib:bind("add_i32", "i32", {"i32", "i32"})(4, 5), 9, "a cached signature still binds")
