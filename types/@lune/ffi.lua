-- Lua language server annotations of require("@lune/ffi"): the native face under Lune's name.
---@meta

return require("moonthunk")
