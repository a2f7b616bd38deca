--- The build and install steps of moonthunk-scm-1.rockspec, run by LuaRocks with the Lua it
--- targets (`$(LUA)`), which is how the cargo feature for that Lua version is chosen.
---
--- `lua luarocks-build.lua build` builds the loadable module with cargo (profile
--- module-release, target directory $CARGO_TARGET_DIR or ./target);
--- `lua luarocks-build.lua install DIR` copies it into DIR under every module name it answers
--- to. Copies rather than links: LuaRocks moves the files when it deploys them. Loading two of
--- them in one process is harmless: the first `require` preloads every other name.

-- mlua's feature per Lua version, for every version the engine is designed for.
local features = {
   ["Lua 5.1"] = "lua51",
   ["Lua 5.2"] = "lua52",
   ["Lua 5.3"] = "lua53",
   ["Lua 5.4"] = "lua54",
   ["Lua 5.5"] = "lua55",
}
-- The versions built and tested today; the others come with issue 15.
local supported = { lua54 = true }

-- `alien.struct` needs no file of its own: Lua's all-in-one loader finds
-- luaopen_alien_struct in alien.so. A separate alien/struct.so would be a second copy of the
-- library, loaded beside alien.so when both are required first by their own names.
local module_names = { "moonthunk", "alien", "cinvoke_lua" }

local function fail(message)
   io.stderr:write("moonthunk: ", message, "\n")
   os.exit(1)
end

local function run(command)
   print(command)
   local ok = os.execute(command)
   -- Lua 5.1 returns the status; later versions true or nil.
   if ok ~= true and ok ~= 0 then
      fail("failed: " .. command)
   end
end

local target_dir = os.getenv("CARGO_TARGET_DIR") or "target"

local function build()
   local version = rawget(_G, "jit") and "LuaJIT" or _VERSION
   local feature = version == "LuaJIT" and "luajit" or features[version]
   if not feature or not supported[feature] then
      fail("this LuaRocks targets " .. version .. "; moonthunk builds for Lua 5.4 only so far")
   end
   run(string.format(
      "%s build --profile module-release --lib --no-default-features --features %s,module",
      os.getenv("CARGO") or "cargo", feature))
end

local function copy(from, to)
   local input = assert(io.open(from, "rb"))
   local bytes = input:read("*a")
   input:close()
   local output = assert(io.open(to, "wb"))
   assert(output:write(bytes))
   assert(output:close())
end

local function install(dir)
   local built = target_dir .. "/module-release/"
   for _, name in ipairs({ "libmoonthunk.so", "libmoonthunk.dylib", "moonthunk.dll" }) do
      local file = io.open(built .. name, "rb")
      if file then
         file:close()
         local extension = name:match("%.dll$") and ".dll" or ".so"
         for _, module in ipairs(module_names) do
            copy(built .. name, dir .. "/" .. module .. extension)
         end
         return
      end
   end
   fail("no library in " .. built .. "; run the build step first")
end

local step, dir = ...
if step == "build" then
   build()
elseif step == "install" and dir then
   install(dir)
else
   fail("usage: lua luarocks-build.lua build | install DIR")
end
