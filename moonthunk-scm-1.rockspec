-- moonthunk's loadable module for the Lua that LuaRocks targets, from a checkout:
--   luarocks --lua-version 5.4 make
-- Needs cargo (Rust 1.95) and a C compiler. Installs moonthunk, alien (with alien.struct) and
-- cinvoke_lua; luarocks-build.lua holds the steps.
rockspec_format = "3.0"
package = "moonthunk"
version = "scm-1"
source = {
   -- No public repository yet: `luarocks make` builds the checkout it runs in.
   url = "git+file://.",
}
description = {
   summary = "A Lua FFI whose every call path is machine code compiled by Cranelift for its signature",
   detailed = [[
      Lua code loads a shared library, declares a C function's types and calls it like a Lua
      function. Speaks Lune's FFI (moonthunk), Alien (alien, alien.struct) and C/Invoke
      (cinvoke_lua).
   ]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.1",
}
build = {
   type = "command",
   build_command = [["$(LUA)" luarocks-build.lua build]],
   install_command = [["$(LUA)" luarocks-build.lua install "$(LIBDIR)"]],
}
