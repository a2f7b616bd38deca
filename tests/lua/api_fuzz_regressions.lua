-- Programs the Lua-level API fuzzer (tests/api_fuzz.rs) found crashing, reduced.
local T = dofile(TESTDIR .. "/testutil.lua")
local ffi = require("moonthunk")

-- An unmanaged access whose offset wraps the address space (NULL[-1]) is an error, not a
-- read at the top of memory.
T.raises({ "out of bounds: i16 read at index -1 at offset -2 (the address overflows)" },
    function() return ffi.cast(ffi.ptr(0), "i16")[-1] end)
T.raises({ "(the address overflows)" }, function() return ffi.cast(nil, "i16")[-1] end)
T.raises({ "(the address overflows)" }, ffi.read, ffi.ptr(16), -32, "i32")
T.raises({ "(the address overflows)" }, ffi.write, ffi.ptr(0), -1, "u8", 1)
