-- A "callback" parameter takes an Alien function object (a callback, a library function or
-- an alien.funcptr), as Alien's alien_checkfunction does; anything else is an error before C
-- calls it, never a jump to NULL or into data. Kept apart from alien_errors.lua because a
-- face that lets these through crashes the process.
local T = dofile(TESTDIR .. "/testutil.lua")
local alien = require("alien")
local lib = alien.load(TESTLIB)
local apply2 = lib.al_apply2
apply2:types("int", "callback", "int", "int")

T.raises({ "bad argument #1 to 'al_apply2'", "got nil" }, apply2, nil, 1, 2)
T.raises({ "bad argument #1 to 'al_apply2'", "got number" }, apply2, 0, 1, 2)
T.raises({ "bad argument #1 to 'al_apply2'", "got string" }, apply2, "code", 1, 2)
T.raises({ "bad argument #1 to 'al_apply2'" }, apply2, alien.buffer(16), 1, 2)
T.raises({ "bad argument #1 to 'al_apply2'" }, apply2, alien.buffer(16):topointer(), 1, 2)

-- What it does take: a callback, a library function, a function pointer.
local mul = alien.callback(function(a, b) return a * b end, "int", "int", "int")
T.eq(apply2(mul, 6, 7), 42, "a callback")
local add = lib.al_add
add:types("int", "int", "int")
T.eq(apply2(add, 6, 7), 13, "a library function")
local get_add = lib.al_get_add
get_add:types("pointer")
T.eq(apply2(alien.funcptr(get_add()), 1, 2), 3, "an alien.funcptr")
