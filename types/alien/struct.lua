-- Lua language server annotations of require("alien.struct") (src/face/alien/struct_format.rs).
---@meta

--- `require("alien.struct")`: Alien 0.4.1's binary packing, with C's sizes and alignment.
---@class alien.struct
local struct = {}

--- Packs the values by `format`: `b B h H l L T i[n] I[n] f d p s c[n] x`, with the controls
--- `<` `>` `=` (byte order) and `!n` (alignment cap).
---@param format string
---@param ... any
---@return string
function struct.pack(format, ...) end

--- Unpacks a string, or `size` bytes of memory (a buffer, pointer or light userdata), from
--- byte `init` (default 1): the values, then the position after them.
---@param format string
---@param data string|userdata|lightuserdata
---@param size_or_init? integer
---@param init? integer
---@return any ...
---@overload fun(format: string, data: string, init?: integer): any
---@overload fun(format: string, data: userdata|lightuserdata, size: integer, init?: integer): any
function struct.unpack(format, data, size_or_init, init) end

--- The size in bytes of `format`.
---@param format string
---@return integer
function struct.size(format) end

--- The 1-based byte offset of the `n`th item (default 1) of `format`.
---@param format string
---@param n? integer
---@return integer
function struct.offset(format, n) end

return struct
