-- Prelude of the gc_stress test mode: the collector runs a whole cycle at (nearly) every
-- allocation check point, so any value the engine uses without anchoring it is collected at
-- the worst moment. With the smallest pause a new cycle starts as soon as one ends, and a
-- step multiplier of 1000 with the smallest step size makes each step finish the cycle it is
-- in (Lua 5.2 and 5.3 have a fixed step size).
-- Scripts that change the collector's mode or parameters get the stress back at once, and
-- GC_STRESS tells them to shorten long loops and skip measures the collector distorts.
GC_STRESS = true
local collect = collectgarbage
local function stress()
    if _VERSION == "Lua 5.4" then
        collect("incremental", 1, 1000, 1)
    elseif _VERSION == "Lua 5.5" then
        collect("incremental")
        collect("param", "pause", 0)
        collect("param", "stepmul", 1000)
        collect("param", "stepsize", 64)
    else
        collect("setpause", 0)
        collect("setstepmul", 1000)
    end
end
-- The tuning options of every Lua version: what a script changes by calling one, the stress
-- restores.
local tuning = { incremental = true, generational = true, param = true, setpause = true,
    setstepmul = true }
function collectgarbage(opt, ...)
    local results = table.pack(collect(opt, ...))
    if tuning[opt] then stress() end
    return table.unpack(results, 1, results.n)
end
stress()
