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

return T
