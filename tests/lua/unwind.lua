-- JIT code carries registered unwind information: the unwinder walks from C, through the
-- thunk, into the Lua interpreter's frames below it (without it, the walk stops at the thunk).
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")
local lib = ffi.open(TESTLIB)
local depth = lib:bind("backtrace_depth", "int", {})
-- Lua's own C frames below the thunk: luaD_precall, luaV_execute, luaD_call, lua_pcall...,
-- and the host's main: well over four.
local d = depth()
T.eq(d > 6, true, "backtrace depth through the thunk is " .. d)
