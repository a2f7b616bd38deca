-- Assertions shared by the test scripts: dofile(TESTDIR .. "/testutil.lua").
local T = {}

local function show(v)
    if type(v) == "string" then return string.format("%q", v) end
    return tostring(v)
end

-- Equality that also holds for NaN == NaN and tells -0.0 from 0.0 when asked to.
function T.eq(actual, expected, what)
    if actual ~= expected and not (actual ~= actual and expected ~= expected) then
        error(string.format("%s: expected %s, got %s", what or "value", show(expected), show(actual)), 2)
    end
end

-- Calls fn(...) and checks that it raises an error containing every given fragment.
function T.raises(fragments, fn, ...)
    local ok, err = pcall(fn, ...)
    if ok then error("expected an error containing " .. show(fragments[1]), 2) end
    if type(err) ~= "string" then
        error("expected a string error, got " .. type(err) .. ": " .. tostring(err), 2)
    end
    for _, fragment in ipairs(fragments) do
        if not string.find(err, fragment, 1, true) then
            error(string.format("error %s does not contain %s", show(err), show(fragment)), 2)
        end
    end
    return err
end

-- Calls fn(...) and returns its error message (a string), failing when fn does not raise.
local function error_of(level, fn, ...)
    local ok, err = pcall(fn, ...)
    if ok then error("expected an error, but the call succeeded", level + 1) end
    if type(err) ~= "string" then
        error("expected a string error, got " .. type(err) .. ": " .. tostring(err), level + 1)
    end
    return err
end

-- Calls fn(...) and checks that its error message matches the Lua pattern.
function T.raises_match(pattern, fn, ...)
    local err = error_of(2, fn, ...)
    if not string.find(err, pattern) then
        error(string.format("error %s does not match %s", show(err), show(pattern)), 2)
    end
    return err
end

-- Calls fn(...) and checks that its error message contains at least one of the fragments
-- (for messages whose wording the specification leaves open).
function T.raises_any(fragments, fn, ...)
    local err = error_of(2, fn, ...)
    for _, fragment in ipairs(fragments) do
        if string.find(err, fragment, 1, true) then return err end
    end
    error(string.format("error %s contains none of %s", show(err), table.concat(fragments, " | ")), 2)
end

-- Checks that `s` contains `fragment` (plain text).
function T.contains(s, fragment, what)
    if type(s) ~= "string" or not string.find(s, fragment, 1, true) then
        error(string.format("%s: %s does not contain %s", what or "string", show(s), show(fragment)), 2)
    end
end

-- Makes the collector run nearly all the time (`on`), or as it does by default, in the
-- words of each Lua version.
function T.collect_often(on)
    if _VERSION == "Lua 5.4" then
        collectgarbage("incremental", on and 1 or 200, 100)
    elseif _VERSION == "Lua 5.5" then
        collectgarbage("incremental")
        collectgarbage("param", "pause", on and 1 or 250)
    else
        collectgarbage("setpause", on and 1 or 200)
        collectgarbage("setstepmul", on and 100 or 200)
    end
end

-- Lua versions differ in their numbers: 5.3 and later have an integer subtype; 5.1, 5.2 and
-- LuaJIT have doubles only, and moonthunk gives them a 64-bit value beyond 2^53 as a boxed
-- integer (moonthunk.int64/uint64 make either form). Scripts write version-specific
-- expectations through these helpers, and no 5.3 syntax (`<<`, `//`, `&`), so that every
-- version parses them.
T.has_integers = math.type ~= nil
local moonthunk = require("moonthunk")
T.int64, T.uint64, T.sizeof = moonthunk.int64, moonthunk.uint64, moonthunk.sizeof
T.MININT = T.int64("-0x8000000000000000")
T.MAXINT = T.int64("0x7fffffffffffffff")
T.UINT64_MAX = T.uint64("0xffffffffffffffff")

-- Checks that `v` is an integer result: of the integer subtype where Lua has one, else a
-- number with an integral value or a boxed 64-bit integer.
function T.is_integer(v, what)
    local ok
    if T.has_integers then
        ok = math.type(v) == "integer"
    else
        ok = (type(v) == "number" and v % 1 == 0)
            or (type(v) == "userdata" and tostring(v):match("^%-?%d+$") ~= nil)
    end
    if not ok then error(string.format("%s: expected an integer, got %s", what or "value", show(v)), 2) end
end

-- Checks that `v` is a float result: of the float subtype where Lua has one, else a number.
function T.is_float(v, what)
    local ok = type(v) == "number" and (not T.has_integers or math.type(v) == "float")
    if not ok then error(string.format("%s: expected a float, got %s", what or "value", show(v)), 2) end
end

-- How Lua's messages name a userdata whose metatable has `__name` (5.3 and later) or whose
-- library sets none (io's files before 5.3): Lua 5.1 and 5.2 say "userdata".
function T.userdata_name(name)
    if _VERSION == "Lua 5.1" or _VERSION == "Lua 5.2" then return "userdata" end
    return name
end

-- `x` rounded to a C float.
function T.as_float(x)
    if string.pack then return (string.unpack("f", string.pack("f", x))) end
    local b = moonthunk.buffer(4)
    moonthunk.write(b, 0, "f32", x)
    return moonthunk.read(b, 0, "f32")
end

-- Little-endian bytes of `v` in `fmt` ("<i1", "<I1" ... "<i8", "<I8", "<f", "<d"), and back:
-- string.pack where Lua has it, else the same bytes computed here (floats: normal numbers and
-- zero only; any bytes decode).
local function float_bytes(v, size)
    local mantissa_bits, bias = size == 4 and 23 or 52, size == 4 and 127 or 1023
    local sign, exponent, mantissa = (v < 0 or 1 / v < 0) and 1 or 0, 0, 0
    if v ~= 0 then
        local f, e = math.frexp(math.abs(v))
        exponent, mantissa = e - 1 + bias, (f * 2 - 1) * 2 ^ mantissa_bits
    end
    local high_bits = size == 4 and 31 or 63
    local high = sign * 2 ^ (high_bits - 32) + exponent * 2 ^ (mantissa_bits - 32)
    local low = mantissa
    if size == 8 then
        high, low = high + math.floor(mantissa / 2 ^ 32), mantissa % 2 ^ 32
    else
        high, low = 0, sign * 2 ^ 31 + exponent * 2 ^ 23 + mantissa
    end
    local bytes = {}
    for i = 1, size do
        local word = i <= 4 and low or high
        bytes[i] = string.char(math.floor(word / 2 ^ (8 * ((i - 1) % 4))) % 256)
    end
    return table.concat(bytes)
end

local function float_value(s)
    local size = #s
    local function word(from)
        local w = 0
        for i = from + 3, from, -1 do w = w * 256 + s:byte(i) end
        return w
    end
    local mantissa_bits, bias = size == 4 and 23 or 52, size == 4 and 127 or 1023
    local top = size == 4 and word(1) or word(5)
    local exponent_shift = size == 4 and 23 or 20
    local sign = top >= 2 ^ 31 and -1 or 1
    local exponent = math.floor(top / 2 ^ exponent_shift) % (size == 4 and 256 or 2048)
    local mantissa = top % 2 ^ exponent_shift
    if size == 8 then mantissa = mantissa * 2 ^ 32 + word(1) end
    if exponent == 0 then return sign * math.ldexp(mantissa / 2 ^ mantissa_bits, 1 - bias) end
    if exponent == (size == 4 and 255 or 2047) then
        if mantissa ~= 0 then return 0 / 0 end
        return sign * math.huge
    end
    return sign * math.ldexp(1 + mantissa / 2 ^ mantissa_bits, exponent - bias)
end

function T.encode(fmt, v)
    if string.pack then return string.pack(fmt, v) end
    if fmt == "<f" or fmt == "<d" then return float_bytes(v, fmt == "<f" and 4 or 8) end
    local size = tonumber(fmt:sub(3))
    if size < 8 and v < 0 then v = v + 2 ^ (8 * size) end
    local bytes = {}
    for i = 1, size do
        local byte = v % 256
        bytes[i] = string.char(tonumber(tostring(byte)))
        v = (v - byte) / 256
    end
    return table.concat(bytes)
end

function T.decode(fmt, s)
    if string.unpack then return (string.unpack(fmt, s)) end
    if fmt == "<f" or fmt == "<d" then return float_value(s) end
    local size = #s
    if size == 8 then
        local hex = s:reverse():gsub(".", function(c) return string.format("%02x", c:byte()) end)
        return (fmt == "<i8" and T.int64 or T.uint64)("0x" .. hex)
    end
    local v = 0
    for i = size, 1, -1 do v = v * 256 + s:byte(i) end
    if fmt:sub(2, 2) == "i" and v >= 2 ^ (8 * size - 1) then v = v - 2 ^ (8 * size) end
    return v
end

-- table.pack and table.unpack (5.2 and later), and their 5.1 forms.
T.unpack = table.unpack or unpack
T.pack = table.pack or function(...) return { n = select("#", ...), ... } end

-- `a // b` for numbers that a double holds exactly.
function T.idiv(a, b)
    return math.floor(a / b)
end

-- Runs `source` (Lua 5.3 syntax, e.g. bitwise operators) where Lua has integers and returns
-- its results; `fallback(...)` elsewhere.
function T.integers_only(source, fallback, ...)
    if T.has_integers then return assert((loadstring or load)(source))(...) end
    return fallback(...)
end

return T
