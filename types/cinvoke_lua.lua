-- Lua language server annotations of the C/Invoke face, require("cinvoke_lua") (src/face/cinvoke/), and the globals it defines.
---@meta

--- A C/Invoke type value: a built-in `C*` global, a `cstructure.new` structure or a
--- `cinv.array` array. `tostring` names it.
---@class cinvoke_lua.Type

--- A `Cptr` value: a light userdata (a parameter also takes nil, 0 and a "0x..." string).
---@alias cinvoke_lua.Ptr lightuserdata

--- A callback value from `lib:new_callback` or `cinv.ptr_to_callback`: what a `Ccallback`
--- parameter takes.
---@class cinvoke_lua.Callback

--- `clibrary.new(...)`.
---@class cinvoke_lua.Library
local Library = {}

--- The C function `name`, bound with that signature (tiered: specialized once hot).
---@param rettype cinvoke_lua.Type
---@param name string
---@param ... cinvoke_lua.Type parameter types
---@return function
function Library:get_function(rettype, name, ...) end

--- A C function pointer calling `f`.
---@param rettype cinvoke_lua.Type
---@param f function
---@param ... cinvoke_lua.Type parameter types
---@return cinvoke_lua.Callback
function Library:new_callback(rettype, f, ...) end

--- Ties the global variable `name` of the library, of type `t`, for `tie_get`/`tie_set`.
---@param t cinvoke_lua.Type
---@param name string
function Library:tie_init(t, name) end

---@param name string
---@return any
function Library:tie_get(name) end

---@param name string
---@param value any
function Library:tie_set(name, value) end

--- Ends the object's use; functions already taken keep working.
function Library:dispose() end

---@class cinvoke_lua.clibrary
clibrary = {}

--- Loads a library.
---@param libname string
---@param callingconv? "cdecl"|"stdcall"|"fastcall"|"default"
---@return cinvoke_lua.Library
function clibrary.new(libname, callingconv) end

---@class cinvoke_lua.cstructure
cstructure = {}

--- A structure type from pairs of a type and a field name.
---@param ... cinvoke_lua.Type|string type1, "name1", type2, "name2", ...
---@return cinvoke_lua.Type
function cstructure.new(...) end

---@class cinvoke_lua.cinv
cinv = {}

--- The type of a table passed as a C array (written back after the call).
---@param t cinvoke_lua.Type
---@return cinvoke_lua.Type
function cinv.array(t) end

---@param t cinvoke_lua.Type
---@return integer
function cinv.sizeof(t) end

--- The bytes of the first `len` (default `#arr`) 1-character strings of `arr`.
---@param arr string[]
---@param len? integer
---@return string
function cinv.chararray_to_string(arr, len) end

--- A table of the 1-character strings of `s`, with a "\0" appended if `includenil`.
---@param s string
---@param includenil? boolean
---@return string[]
function cinv.string_to_chararray(s, includenil) end

--- `len` bytes from `ptr`, or up to the first "\0".
---@param ptr cinvoke_lua.Ptr
---@param len? integer
---@return string
function cinv.ptr_to_string(ptr, len) end

--- `len` elements of type `t` read from `ptr`.
---@param ptr cinvoke_lua.Ptr
---@param t cinvoke_lua.Type
---@param len integer
---@return any[]
function cinv.ptr_to_array(ptr, t, len) end

--- The structure of type `t` at `ptr`, as a table of its fields.
---@param ptr cinvoke_lua.Ptr
---@param t cinvoke_lua.Type
---@return table<string, any>
function cinv.ptr_to_struct(ptr, t) end

--- `ptr` moved by `n` bytes.
---@param ptr cinvoke_lua.Ptr
---@param n integer
---@return cinvoke_lua.Ptr
function cinv.ptr_incr(ptr, n) end

--- A callback value for the C function at `ptr`.
---@param ptr cinvoke_lua.Ptr
---@return cinvoke_lua.Callback
function cinv.ptr_to_callback(ptr) end

---@param cb cinvoke_lua.Callback
---@return cinvoke_lua.Ptr
function cinv.callback_to_ptr(cb) end

---@type cinvoke_lua.Type
Cvoid = nil
---@type cinvoke_lua.Type
Cchar = nil
---@type cinvoke_lua.Type
Cshort = nil
---@type cinvoke_lua.Type
Cint = nil
---@type cinvoke_lua.Type
Clong = nil
---@type cinvoke_lua.Type
Clonglong = nil
---@type cinvoke_lua.Type
Cint16 = nil
---@type cinvoke_lua.Type
Cint32 = nil
---@type cinvoke_lua.Type
Cint64 = nil
---@type cinvoke_lua.Type
Cfloat = nil
---@type cinvoke_lua.Type
Cdouble = nil
---@type cinvoke_lua.Type
Cstring = nil
---@type cinvoke_lua.Type
Cptr = nil
---@type cinvoke_lua.Type
Ccallback = nil

--- `require("cinvoke_lua")`: the globals it defines, in one table.
---@class cinvoke_lua
---@field clibrary cinvoke_lua.clibrary
---@field cstructure cinvoke_lua.cstructure
---@field cinv cinvoke_lua.cinv
---@field Cvoid cinvoke_lua.Type
---@field Cchar cinvoke_lua.Type a 1-character string both ways
---@field Cshort cinvoke_lua.Type
---@field Cint cinvoke_lua.Type
---@field Clong cinvoke_lua.Type
---@field Clonglong cinvoke_lua.Type
---@field Cint16 cinvoke_lua.Type
---@field Cint32 cinvoke_lua.Type
---@field Cint64 cinvoke_lua.Type
---@field Cfloat cinvoke_lua.Type
---@field Cdouble cinvoke_lua.Type
---@field Cstring cinvoke_lua.Type
---@field Cptr cinvoke_lua.Type
---@field Ccallback cinvoke_lua.Type
local cinvoke_lua = {}

return cinvoke_lua
