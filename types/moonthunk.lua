-- Lua language server annotations of the native face, require("moonthunk") (src/face/native/, src/memory/).
---@meta

---@alias moonthunk.TypeName
---| "void"
---| "bool"
---| "i8"
---| "u8"
---| "i16"
---| "u16"
---| "i32"
---| "u32"
---| "i64"
---| "u64"
---| "isize"
---| "usize"
---| "f32"
---| "f64"
---| "pointer"
---| "string"
---| "char"
---| "int8"
---| "uchar"
---| "byte"
---| "short"
---| "int16"
---| "ushort"
---| "uint16"
---| "int"
---| "int32"
---| "uint"
---| "uint32"
---| "long"
---| "int64"
---| "ulong"
---| "uint64"
---| "ssize_t"
---| "ptrdiff_t"
---| "size_t"
---| "float"
---| "double"
---| "ptr"
---| "void*"
---| "cstring"
---| "char*"
---| "int8_t"
---| "uint8_t"
---| "int16_t"
---| "uint16_t"
---| "int32_t"
---| "uint32_t"
---| "int64_t"
---| "uint64_t"
---| "intptr_t"
---| "uintptr_t"

--- A scalar type name, or a struct or union definition (passed and returned by value).
---@alias moonthunk.CType moonthunk.TypeName|moonthunk.StructDef

--- A parameter type: a `moonthunk.CType`, `"ref T"` (an out-parameter: the argument is the
--- initial value, the final value is returned after the result) or, last, `"..."` (variadic).
---@alias moonthunk.ParamType moonthunk.CType|"..."|string

--- What a `pointer` parameter takes: nil (NULL), a light userdata or any memory object.
---@alias moonthunk.Address nil|lightuserdata|moonthunk.Pointer|moonthunk.TypedPointer|moonthunk.View|moonthunk.Buffer|moonthunk.Callback

--- One field of `ffi.struct`/`ffi.union`: `{name, type [, count]}` (count makes a fixed array).
---@alias moonthunk.FieldSpec { [1]: string, [2]: moonthunk.CType, [3]: integer? }

--- A function of a `ffi.load` interface (missing `ret` is void, missing `args` is none).
---@class moonthunk.FunctionDecl
---@field ret? moonthunk.CType
---@field args? moonthunk.ParamType[]

---@class moonthunk.CallbackOptions
---@field threadsafe? boolean calls from other threads are queued for `ffi.poll()`
---@field async? boolean (with threadsafe) a void callback queued without blocking the caller

---@class moonthunk.StructOptions
---@field packed? boolean no padding between fields

--- `ffi.stats()`.
---@class moonthunk.Stats
---@field thunks integer thunks compiled
---@field hits integer thunk cache hits
---@field specialized integer thunks specialized for one function (hot functions)
---@field codeBytes integer bytes of generated code
---@field promoteAfter integer calls on the shared thunk before a function gets its specialized one
---@field callbackSlots integer callback slots in existence
---@field directStack boolean whether thunks read the Lua stack directly

--- An entry of `lib:listExports()`.
---@class moonthunk.Export
---@field name string

--- Every name `ffi.types` knows, mapped to its canonical name.
---@class moonthunk.TypeMap
---@field void "void"
---@field bool "bool"
---@field i8 "i8"
---@field u8 "u8"
---@field i16 "i16"
---@field u16 "u16"
---@field i32 "i32"
---@field u32 "u32"
---@field i64 "i64"
---@field u64 "u64"
---@field isize "isize"
---@field usize "usize"
---@field f32 "f32"
---@field f64 "f64"
---@field pointer "pointer"
---@field string "string"
---@field char "i8"
---@field int8 "i8"
---@field uchar "u8"
---@field byte "u8"
---@field short "i16"
---@field int16 "i16"
---@field ushort "u16"
---@field uint16 "u16"
---@field int "i32"
---@field int32 "i32"
---@field uint "u32"
---@field uint32 "u32"
---@field long "i64" C's long on the target (i32 on Windows)
---@field int64 "i64"
---@field ulong "u64" C's unsigned long on the target (u32 on Windows)
---@field uint64 "u64"
---@field ssize_t "isize"
---@field ptrdiff_t "isize"
---@field size_t "usize"
---@field float "f32"
---@field double "f64"
---@field ptr "pointer"
---@field ["void*"] "pointer"
---@field cstring "string"
---@field ["char*"] "string"
---@field int8_t "i8"
---@field uint8_t "u8"
---@field int16_t "i16"
---@field uint16_t "u16"
---@field int32_t "i32"
---@field uint32_t "u32"
---@field int64_t "i64"
---@field uint64_t "u64"
---@field intptr_t "isize"
---@field uintptr_t "usize"

--- The canonical type names, each mapped to itself.
---@class moonthunk.CTypes
---@field void "void"
---@field bool "bool"
---@field i8 "i8"
---@field u8 "u8"
---@field i16 "i16"
---@field u16 "u16"
---@field i32 "i32"
---@field u32 "u32"
---@field i64 "i64"
---@field u64 "u64"
---@field isize "isize"
---@field usize "usize"
---@field f32 "f32"
---@field f64 "f64"
---@field pointer "pointer"
---@field string "string"

--- `require("moonthunk")` (also `require("@lune/ffi")`).
---@class moonthunk
---@field types moonthunk.TypeMap
---@field ctypes moonthunk.CTypes
---@field unsafe moonthunk.unsafe
local ffi = {}

--- Opens a library: a path, a bare name (`"m"`: libm) or nil for the running process.
---@param name? string
---@return moonthunk.Library
function ffi.open(name) end

--- Opens a library; with an interface, a SmartLibrary whose fields are the declared
--- functions (specialized for them once hot) and constants.
---@param name? string
---@param interface? table<string, moonthunk.FunctionDecl|any>
---@return moonthunk.Library|moonthunk.SmartLibrary
---@overload fun(name?: string): moonthunk.Library
---@overload fun(name: string?, interface: table<string, moonthunk.FunctionDecl|any>): moonthunk.SmartLibrary
function ffi.load(name, interface) end

---@param t moonthunk.TypeName
---@return integer bytes
function ffi.sizeof(t) end

---@param t moonthunk.TypeName
---@return integer bytes
function ffi.alignof(t) end

--- An unmanaged pointer object to `addr` (an integer, a light userdata or a pointer).
---@param addr integer|lightuserdata|moonthunk.Address
---@return moonthunk.Pointer
function ffi.ptr(addr) end

---@param p moonthunk.Address
---@return boolean
function ffi.isNull(p) end

--- A Lua function calling the C function `ptr` points to, with the declared signature.
---@param ptr moonthunk.Address
---@param ret? moonthunk.CType nil is void
---@param args? moonthunk.ParamType[]
---@return function
function ffi.fn(ptr, ret, args) end

--- errno as it was right after the last C call made through moonthunk on this state.
---@return integer
function ffi.errno() end

---@return moonthunk.Stats
function ffi.stats() end

--- The Cranelift IR of the shared thunk of a signature.
---@param ret? moonthunk.CType
---@param args? moonthunk.ParamType[]
---@return string
function ffi.thunkIR(ret, args) end

--- The machine code address behind a bound function (nil for a Lua function).
---@param f function
---@return integer?
function ffi.thunkAddress(f) end

--- The disassembled machine code of a bound function's thunk, or of a signature's shared thunk.
---@param f_or_ret function|moonthunk.CType
---@param args? moonthunk.ParamType[]
---@return string
---@overload fun(f: function): string
---@overload fun(ret: moonthunk.CType, args?: moonthunk.ParamType[]): string
function ffi.thunkDisassembly(f_or_ret, args) end

--- A C function pointer that calls `fn`; it lives while the returned object is reachable.
---@param fn function
---@param ret? moonthunk.CType no `string` results
---@param args? moonthunk.CType[]
---@param options? moonthunk.CallbackOptions
---@return moonthunk.Callback
function ffi.callback(fn, ret, args, options) end

--- Runs the calls that thread-safe callbacks queued from other threads.
---@return integer ran
function ffi.poll() end

--- A new arena: zeroed allocations, freed on `reset` or collection.
---@return moonthunk.Arena
function ffi.arena() end

--- A zeroed, bounds-checked buffer of `size` bytes.
---@param size integer
---@return moonthunk.Buffer
function ffi.buffer(size) end

--- Lays out a C struct.
---@param fields moonthunk.FieldSpec[]
---@param options? moonthunk.StructOptions
---@return moonthunk.StructDef
function ffi.struct(fields, options) end

--- Lays out a C union (every field at offset 0).
---@param fields moonthunk.FieldSpec[]
---@return moonthunk.StructDef
function ffi.union(fields) end

--- A view of the struct `def` at `p`.
---@param p moonthunk.Address
---@param def moonthunk.StructDef
---@return moonthunk.View
function ffi.view(p, def) end

--- A typed pointer (`t` a type name) or a struct view (`t` a definition) at `p`.
---@param p moonthunk.Address
---@param t moonthunk.TypeName|moonthunk.StructDef
---@return moonthunk.TypedPointer|moonthunk.View
---@overload fun(p: moonthunk.Address, t: moonthunk.TypeName): moonthunk.TypedPointer
---@overload fun(p: moonthunk.Address, t: moonthunk.StructDef): moonthunk.View
function ffi.cast(p, t) end

--- Reads a `t` at byte offset `offset` of `p` (bounds-checked on managed memory).
---@param p moonthunk.Address
---@param offset integer
---@param t moonthunk.TypeName
---@return any
function ffi.read(p, offset, t) end

---@param p moonthunk.Address
---@param offset integer
---@param t moonthunk.TypeName
---@param value any
function ffi.write(p, offset, t, value) end

--- Copies `len` bytes from `src` (memory or a Lua string) to `dst`.
---@param dst moonthunk.Address
---@param src moonthunk.Address|string
---@param len integer
function ffi.copy(dst, src, len) end

---@param p moonthunk.Address
---@param len integer
---@param byte integer
function ffi.fill(p, len, byte) end

--- The unchecked memory functions: addresses (integers) or pointers, no bounds.
---@class moonthunk.unsafe
ffi.unsafe = {}

---@param addr integer|moonthunk.Address
---@param t moonthunk.TypeName
---@return any
function ffi.unsafe.read(addr, t) end

---@param addr integer|moonthunk.Address
---@param t moonthunk.TypeName
---@param value any
function ffi.unsafe.write(addr, t, value) end

---@param dst integer|moonthunk.Address
---@param src integer|moonthunk.Address|string
---@param len integer
function ffi.unsafe.copy(dst, src, len) end

---@param addr integer|moonthunk.Address
---@param len integer
---@param byte integer
function ffi.unsafe.fill(addr, len, byte) end

---@param addr integer|moonthunk.Address
---@param len integer
function ffi.unsafe.zero(addr, len) end

--- A library from `ffi.open`/`ffi.load`; every use after `close()` is an error.
---@class moonthunk.Library
---@field path string the file it was loaded from
local Library = {}

--- Calls `name` with that signature (bound on first use, then cached).
---@param name string
---@param ret? moonthunk.CType
---@param args? moonthunk.ParamType[]
---@param ... any the arguments
---@return any ...
function Library:call(name, ret, args, ...) end

--- A Lua function calling `name` through its signature's shared thunk.
---@param name string
---@param ret? moonthunk.CType
---@param args? moonthunk.ParamType[]
---@return function
function Library:bind(name, ret, args) end

--- `int name(void)`.
---@param name string
---@return integer
function Library:callInt(name) end

--- `int name(int)`.
---@param name string
---@param n integer
---@return integer
function Library:callIntArg(name, n) end

--- `double name(void)`.
---@param name string
---@return number
function Library:callDouble(name) end

--- `void name(void)`.
---@param name string
function Library:callVoid(name) end

--- `const char *name(void)`.
---@param name string
---@return string?
function Library:callString(name) end

--- Calls the C function `ptr` points to.
---@param ptr moonthunk.Address
---@param ret? moonthunk.CType
---@param args? moonthunk.ParamType[]
---@param ... any the arguments
---@return any ...
function Library:callPtr(ptr, ret, args, ...) end

--- A symbol's address; it keeps the library loaded.
---@param name string
---@return moonthunk.Pointer
function Library:getSymbol(name) end

---@param name string
---@return boolean
function Library:hasSymbol(name) end

--- The functions the library file exports.
---@return moonthunk.Export[]
function Library:listExports() end

function Library:close() end

--- `ffi.load(name, interface)`: the declared functions and constants by name.
---@class moonthunk.SmartLibrary
---@field path string
---@field [string] function|any
local SmartLibrary = {}

function SmartLibrary:close() end

--- A callback from `ffi.callback`; passes wherever a pointer does.
---@class moonthunk.Callback
---@field ptr moonthunk.Pointer its C function pointer
---@field retType string the canonical name of its result type ("struct" for a struct)
---@field argCount integer
---@field isValid boolean false once freed
local Callback = {}

---@return moonthunk.Pointer
function Callback:getPtr() end

--- Releases the callback's slot; C must not call it afterwards.
function Callback:free() end

--- `ffi.arena()`.
---@class moonthunk.Arena
---@field id integer
---@field totalAllocated integer bytes
---@field allocationCount integer
local Arena = {}

---@param size integer
---@return moonthunk.Pointer
function Arena:alloc(size) end

---@param size integer
---@param align integer a power of two
---@return moonthunk.Pointer
function Arena:allocAligned(size, align) end

---@param t moonthunk.TypeName|moonthunk.StructDef
---@return moonthunk.Pointer
function Arena:allocType(t) end

---@param t moonthunk.TypeName|moonthunk.StructDef
---@param count integer
---@return moonthunk.Pointer
function Arena:allocArray(t, count) end

--- Frees every allocation; old pointers into the arena become errors to use.
function Arena:reset() end

--- A raw pointer: `p + n` and `p - n` move by bytes, `p1 == p2` compares addresses.
---@class moonthunk.Pointer
---@field addr integer
---@field isNull boolean
---@field isManaged boolean whether it points into an arena or buffer (bounds-checked)
---@operator add(integer): moonthunk.Pointer
---@operator sub(integer): moonthunk.Pointer
local Pointer = {}

---@param offset integer bytes
---@param t moonthunk.TypeName
---@return any
function Pointer:read(offset, t) end

---@param offset integer bytes
---@param t moonthunk.TypeName
---@param value any
function Pointer:write(offset, t, value) end

---@param n integer bytes
---@return moonthunk.Pointer
function Pointer:offset(n) end

---@return lightuserdata
function Pointer:toLightUserData() end

--- A typed pointer from `ffi.cast(p, t)`: `p[i]` reads and writes elements, `p + n` moves by
--- elements.
---@class moonthunk.TypedPointer
---@field addr integer
---@field isNull boolean
---@field isManaged boolean
---@field stride integer bytes per element
---@field count integer? elements left in managed memory (nil when unmanaged)
---@field [integer] any
---@operator add(integer): moonthunk.TypedPointer
---@operator sub(integer): moonthunk.TypedPointer
local TypedPointer = {}

---@param i integer
---@return any
function TypedPointer:get(i) end

---@param i integer
---@param value any
function TypedPointer:set(i, value) end

---@return moonthunk.Pointer
function TypedPointer:toRaw() end

--- A struct or union definition from `ffi.struct`/`ffi.union`; also a type of signatures.
---@class moonthunk.StructDef
---@field size integer
---@field alignment integer
---@field fieldCount integer
local StructDef = {}

---@param field string
---@return integer
function StructDef:offsetOf(field) end

---@param field string
---@return integer
function StructDef:sizeOf(field) end

--- The field names, in order.
---@return string[]
function StructDef:fields() end

--- A struct view: its fields read and write C memory (nested structs as views, arrays as
--- typed pointers).
---@class moonthunk.View
---@field [string] any
local View = {}

--- Repoints the view at `p` without allocating.
---@param p moonthunk.Address
---@return moonthunk.View self
function View:pointTo(p) end

---@return moonthunk.Pointer
function View:toRaw() end

--- `ffi.buffer(size)`; `#buf` is its size.
---@class moonthunk.Buffer
---@field size integer
---@field ptr moonthunk.Pointer
---@field addr integer
---@field isNull boolean
---@field isManaged boolean
---@operator len: integer
local Buffer = {}

---@param offset integer
---@param t moonthunk.TypeName
---@return any
function Buffer:read(offset, t) end

---@param offset integer
---@param t moonthunk.TypeName
---@param value any
function Buffer:write(offset, t, value) end

function Buffer:zero() end

---@param offset integer
---@param len integer
---@return string
function Buffer:readBytes(offset, len) end

---@param offset integer
---@param bytes string
function Buffer:writeBytes(offset, bytes) end

--- The bytes from `offset` (default 0) to the first NUL or the end.
---@param offset? integer
---@return string
function Buffer:readString(offset) end

--- Writes `s` and a NUL.
---@param offset integer
---@param s string
function Buffer:writeString(offset, s) end

--- A buffer sharing `len` bytes of this one from `offset`; it keeps this one alive.
---@param offset integer
---@param len integer
---@return moonthunk.Buffer
function Buffer:slice(offset, len) end

return ffi
