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

return T
