-- Prelude of the gc_stress test mode: the collector runs a whole cycle at (nearly) every
-- allocation check point, so any value the engine uses without anchoring it is collected at
-- the worst moment. With pause 1% (stored as 0) a new cycle starts as soon as one ends, and a
-- step multiplier of 1000 with a 2-byte step size makes each step finish the cycle it is in.
-- Scripts that change the collector's mode or parameters get the stress back at once, and
-- GC_STRESS tells them to shorten long loops and skip measures the collector distorts.
GC_STRESS = true
local collect = collectgarbage
local function stress()
    collect("incremental", 1, 1000, 1)
end
function collectgarbage(opt, ...)
    local results = table.pack(collect(opt, ...))
    if opt == "incremental" or opt == "generational" then stress() end
    return table.unpack(results, 1, results.n)
end
stress()
