-- Lua language server annotations of the Alien face, require("alien") (src/face/alien/); alien.struct is in alien/struct.lua.
---@meta

---@alias alien.TypeName
---| "void"
---| "byte"
---| "char"
---| "short"
---| "ushort"
---| "int"
---| "uint"
---| "long"
---| "ulong"
---| "longlong"
---| "ulonglong"
---| "ptrdiff_t"
---| "size_t"
---| "float"
---| "double"
---| "string"
---| "pointer"
---| "callback"

--- A type of `f:types(...)`: an `alien.TypeName`, or `"ref T"` (T a numeric type: an
--- out-value returned after the result).
---@alias alien.Type alien.TypeName|string

--- The one-table form of `f:types{...}` and `alien.callback(f, {...})`.
---@class alien.Signature
---@field ret? alien.Type default "int"
---@field abi? "default"|"cdecl"|"stdcall"
---@field [integer] alien.Type the parameter types

--- Memory a reader or `alien.tostring` accepts.
---@alias alien.Memory alien.Buffer|lightuserdata|userdata|string

--- `require("alien")`; `alien.<name>` is `alien.load(name)` for a name that is not the
--- module's.
---@class alien
---@field platform "linux"|"darwin"|"windows"|"bsd"
---@field version string
---@field default alien.Library the running process
---@field loaded table<string, alien.Library> libraries by name, weakly held; indexing loads
---@field [string] alien.Library
local alien = {}

--- The library `name` (a path, a file name or a bare name such as "m"), loaded once.
---@param name string
---@return alien.Library
function alien.load(name) end

--- A function object for the C function at `p`.
---@param p lightuserdata|userdata
---@return alien.Function
function alien.funcptr(p) end

--- A C function pointer calling `f` (no `string` result).
---@param f function
---@param ret_or_signature? alien.Type|alien.Signature
---@param ... alien.Type parameter types
---@return alien.Function
function alien.callback(f, ret_or_signature, ...) end

--- The size of a type in bytes (default "int").
---@param t? alien.TypeName
---@return integer
function alien.sizeof(t) end

--- The alignment of a type in bytes (default "char").
---@param t? alien.TypeName
---@return integer
function alien.align(t) end

--- errno right after the last C call made through moonthunk.
---@return integer
function alien.errno() end

---@param p lightuserdata|userdata|nil
---@return boolean
function alien.isnull(p) end

--- A table with room for `narr` array and `nhash` hash entries.
---@param narr? integer
---@param nhash? integer
---@return table
function alien.table(narr, nhash) end

--- A zeroed buffer of `size` bytes (default 256), a NUL-terminated copy of a string, or an
--- unchecked buffer over a light userdata.
---@param init? integer|string|lightuserdata
---@return alien.Buffer
function alien.buffer(init) end

--- `len` bytes at `p`, or its C string (nil for nil).
---@param p alien.Memory?
---@param len? integer
---@return string?
function alien.tostring(p, len) end

--- Copies `n` bytes (default: all of a string) from `src` to `dst`.
---@param dst alien.Memory
---@param src alien.Memory
---@param n? integer
function alien.memmove(dst, src, n) end

---@param dst alien.Memory
---@param byte integer
---@param n integer
function alien.memset(dst, byte, n) end

--- The metatable of objects wrapped with `name`, made on first use.
---@param name string
---@return table
function alien.tag(name) end

--- A new object of tag `name` holding the values (integers and addresses).
---@param name string
---@param ... integer|lightuserdata|userdata|nil
---@return userdata
function alien.wrap(name, ...) end

--- The values `obj` holds.
---@param name string
---@param obj userdata
---@return any ...
function alien.unwrap(name, obj) end

--- Replaces the values `obj` holds, as many as it has.
---@param name string
---@param obj userdata
---@param ... integer|lightuserdata|userdata|nil
function alien.rewrap(name, obj, ...) end

--- `n` (default 1) unsigned chars read from `p`, unchecked on foreign memory.
---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.tochar(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.toshort(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.toushort(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.toint(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.touint(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.tolong(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.toulong(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.toptrdiff_t(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return integer ...
function alien.tosize_t(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return number ...
function alien.tofloat(p, n) end

---@param p alien.Memory?
---@param n? integer
---@return number ...
function alien.todouble(p, n) end

--- An array of `length` elements of type `t` in a new buffer (or over `buffer`), filled
--- from `init`; `alien.array(t, init)` takes the length from the table.
---@param t alien.TypeName
---@param length integer|table
---@param init? table|alien.Buffer
---@return alien.Array
---@overload fun(t: alien.TypeName, init: table): alien.Array
function alien.array(t, length, init) end

--- A struct prototype laid out as C lays out the fields.
---@param fields { [1]: string, [2]: alien.TypeName }[]
---@return alien.StructType
function alien.defstruct(fields) end

--- A struct's bytes as the ints (and a short or char tail) Alien passes "by value".
---@param buf alien.Buffer
---@return integer ...
function alien.byval(buf) end

--- `alien.struct.pack`, also in `alien` since Alien 0.5.
---@param format string
---@param ... any
---@return string
function alien.pack(format, ...) end

---@param format string
---@param data string|userdata|lightuserdata
---@param size_or_init? integer
---@param init? integer
---@return any ...
function alien.unpack(format, data, size_or_init, init) end

---@param format string
---@return integer
function alien.size(format) end

---@param format string
---@param n? integer
---@return integer
function alien.offset(format, n) end

--- A loaded library: `lib.name` is the function object of the symbol `name`.
---@class alien.Library
---@field [string] alien.Function

--- A C function; typed `void f(void)` until `types` is called. Calling it calls C.
---@class alien.Function
---@overload fun(...: any): any
local Function = {}

--- Sets the signature: a result type (default "int") and parameter types, or one table.
---@param ret_or_signature? alien.Type|alien.Signature
---@param ... alien.Type
function Function:types(ret_or_signature, ...) end

--- `alien.buffer()`: 1-based byte offsets; `buf[i]` is a byte, `#buf` its size.
---@class alien.Buffer
---@field [integer] integer
---@operator len: integer
local Buffer = {}

--- The value of type `t` (default "char") at byte `offset`.
---@param offset integer
---@param t? alien.TypeName
---@return any
function Buffer:get(offset, t) end

---@param offset integer
---@param value any
---@param t? alien.TypeName
function Buffer:set(offset, value, t) end

--- `len` bytes from `offset` (default 1), or the buffer's C string.
---@param len? integer
---@param offset? integer
---@return string
function Buffer:tostring(len, offset) end

--- The length of the buffer's C string (Alien 0.4.1).
---@return integer
function Buffer:len() end

--- The length of the buffer's C string (Alien 0.7).
---@return integer
function Buffer:strlen() end

--- The address of byte `offset` (default 1).
---@param offset? integer
---@return lightuserdata
function Buffer:topointer(offset) end

--- The 1-based offset `p` points at in the buffer.
---@param p lightuserdata
---@return integer
function Buffer:tooffset(p) end

--- Grows or shrinks the buffer's own memory (new bytes are zero).
---@param size integer
function Buffer:realloc(size) end

--- `alien.array(t, length)`: `arr[i]` from 1 to `arr.length`, bounds-checked.
---@class alien.Array
---@field type alien.TypeName
---@field length integer
---@field size integer bytes per element
---@field buffer alien.Buffer
---@field pinned table the values stored in a pointer array, kept alive while stored
---@field [integer] any
---@operator len: integer
local Array = {}

---@return fun(arr: alien.Array, i: integer): integer?, any
---@return alien.Array
---@return integer
function Array:ipairs() end

---@param length integer
function Array:realloc(length) end

--- `alien.defstruct(fields)`.
---@class alien.StructType
---@field names string[] field names in order
---@field offsets table<string, integer> 0-based byte offsets
---@field types table<string, alien.TypeName>
---@field size integer
local StructType = {}

--- A struct in a new buffer (or in `ptr`'s memory); `s.field` reads and writes, `s()` is
--- its buffer.
---@param ptr? integer|string|lightuserdata
---@return alien.Struct
function StructType:new(ptr) end

--- The types of the values `alien.byval` gives for this struct.
---@return alien.TypeName ...
function StructType:byval() end

---@class alien.Struct
---@field [string] any
---@overload fun(): alien.Buffer

return alien
