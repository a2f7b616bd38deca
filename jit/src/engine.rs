//! The JIT engine: one Cranelift module per process, and the thunk cache.
//!
//! Code is compiled at one of two tiers, each a Cranelift ISA of its own (Cranelift's
//! optimization settings are per ISA); both define into the same module:
//! - Baseline (`opt_level=none`, single-pass register allocation) for the generic thunks
//!   that [`Jit::thunk`] caches per signature: what `lib:bind` and variadic call shapes use.
//!   A signature seen for the first time is compiled while the program waits for `bind`, so
//!   compile time comes first: this tier compiles in less than half the time of the
//!   optimizing one, into code that spills more (a shared thunk costs some 20 instructions
//!   per call more than a specialized one).
//!
//! [`Jit::disassemble`] lists the machine code of any call thunk, by compiling it again.
//! - Optimized (`opt_level=speed`, backtracking register allocation) for the code whose
//!   speed is the product's claim: [`Jit::specialized_thunk`] (the functions of a
//!   SmartLibrary, `ffi.load(path, {name = {...}})`, each compiled once), callback entries
//!   and invokers.
//!
//! The ISAs, the codegen context and the function builder context are built once and reused.
//! Cranelift cannot free a single function, so every thunk lives for the life of the process;
//! the cache guarantees that each signature is compiled at most once. On x86-64 Linux the code
//! is packed back to back in `DualMappedCode`, with no system call per function.

use std::collections::HashMap;

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetFrontendConfig, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Module, ModuleReloc};

use crate::code_memory::DualMappedCode;
use crate::luaapi::{ApiAddresses, LuaApi};
use crate::signature::Signature;
use crate::{callback, thunk};

/// The code space a host gives the engine unless it has a reason to choose: 256 MiB of
/// address space (some half a million thunks), of which only the pages written cost memory.
pub const DEFAULT_CODE_SPACE: usize = 256 << 20;

/// A piece of generated code. For a call thunk, a `lua_CFunction` that expects a
/// [`crate::CallTarget`] as upvalue 1 and the function's name as upvalue 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thunk {
    pub code: *const u8,
    pub size: usize,
}

/// Counters for observing the cache and the cost of compilation.
#[derive(Clone, Copy, Debug, Default)]
pub struct JitStats {
    /// Thunks compiled (cache misses).
    pub thunks: u64,
    /// Thunks specialized for one bound function.
    pub specialized: u64,
    /// Cache lookups that found a compiled thunk.
    pub hits: u64,
    /// Bytes of machine code generated (thunks and callback code).
    pub code_bytes: u64,
}

/// The code generator and its cache. Not thread-safe by itself: callers keep one behind a
/// lock.
pub struct Jit {
    module: JITModule,
    /// What to add to the module's address of a function to get the address it runs at: the
    /// distance between the views of [`DualMappedCode`], or 0.
    exec_offset: usize,
    baseline: OwnedTargetIsa,
    optimized: OwnedTargetIsa,
    ctx: Context,
    fctx: FunctionBuilderContext,
    api: ApiAddresses,
    call_conv: CallConv,
    thunks: HashMap<Signature, Thunk>,
    /// What each specialized thunk was compiled from (by code address): its signature and
    /// `CallTarget`, to compile it again for [`Jit::disassemble`].
    specialized: HashMap<usize, (Signature, usize)>,
    invokers: HashMap<Signature, Thunk>,
    entries: HashMap<(Signature, usize), Thunk>,
    variadic_trampolines: HashMap<usize, *const u8>,
    stats: JitStats,
}

// SAFETY: the raw code pointers in the cache point at immutable, never-freed JIT memory, and
// the module is only touched through `&mut self`.
unsafe impl Send for Jit {}

impl Jit {
    /// Builds the engine for the host, calling into Lua through `api`, with `code_space`
    /// bytes of address space for generated code where the engine manages that memory itself
    /// (x86-64 Linux; see [`DEFAULT_CODE_SPACE`]): compiling more fails with "the JIT code
    /// space is full". `S` is the host's `lua_State` type; the engine keeps only the
    /// addresses of `api`'s functions.
    pub fn new<S>(api: LuaApi<S>, code_space: usize) -> Result<Jit, String> {
        let baseline = host_isa(Tier::Baseline)?;
        let optimized = host_isa(Tier::Optimized)?;
        let mut builder =
            JITBuilder::with_isa(optimized.clone(), cranelift_module::default_libcall_names());
        let exec_offset = match DualMappedCode::new(code_space) {
            Some(memory) => {
                let exec_offset = memory.exec_offset();
                builder.memory_provider(Box::new(memory));
                exec_offset
            }
            None => 0,
        };
        let module = JITModule::new(builder);
        let call_conv = CallConv::triple_default(optimized.triple());
        Ok(Jit {
            ctx: module.make_context(),
            module,
            exec_offset,
            baseline,
            optimized,
            fctx: FunctionBuilderContext::new(),
            api: api.addresses(),
            call_conv,
            thunks: HashMap::new(),
            specialized: HashMap::new(),
            invokers: HashMap::new(),
            entries: HashMap::new(),
            variadic_trampolines: HashMap::new(),
            stats: JitStats::default(),
        })
    }

    /// The thunk for `sig`, compiled on first request at the baseline tier (quick to compile)
    /// and shared by every function bound with `sig`.
    pub fn thunk(&mut self, sig: &Signature) -> Result<Thunk, String> {
        if let Some(&thunk) = self.thunks.get(sig) {
            self.stats.hits += 1;
            return Ok(thunk);
        }
        let (api, cc) = (self.api, self.call_conv);
        let thunk = self.compile(Tier::Baseline, |func, fctx, config| {
            thunk::build(func, fctx, sig, &api, cc, config, None)
        })?;
        self.thunks.insert(sig.clone(), thunk);
        self.stats.thunks += 1;
        Ok(thunk)
    }

    /// A thunk for `sig` specialized for the one bound function whose `CallTarget` is at
    /// `call_target` (which must stay alive and unmoved as long as the thunk may run: it is
    /// the closure's upvalue 1). Not cached: one per bound function, compiled at the
    /// optimizing tier.
    pub fn specialized_thunk(
        &mut self,
        sig: &Signature,
        call_target: usize,
    ) -> Result<Thunk, String> {
        let (api, cc) = (self.api, self.call_conv);
        let thunk = self.compile(Tier::Optimized, |func, fctx, config| {
            thunk::build(func, fctx, sig, &api, cc, config, Some(call_target))
        })?;
        self.specialized
            .insert(thunk.code as usize, (sig.clone(), call_target));
        self.stats.specialized += 1;
        Ok(thunk)
    }

    /// The callback invoker for `sig`: `void invoker(lua_State*, const u64 *args, void *slot)`.
    pub fn callback_invoker(&mut self, sig: &Signature) -> Result<Thunk, String> {
        if let Some(&code) = self.invokers.get(sig) {
            return Ok(code);
        }
        let (api, cc) = (self.api, self.call_conv);
        let code = self.compile(Tier::Optimized, |func, fctx, config| {
            callback::build_invoker(func, fctx, sig, &api, cc, config)
        })?;
        self.invokers.insert(sig.clone(), code);
        Ok(code)
    }

    /// The C entry for callback slot `slot` (the address of a [`crate::CallbackSlot`],
    /// baked into the code) with `sig`: the whole call on the owning OS thread,
    /// `dispatch(slot, args, result)` otherwise. Compiled once per (signature, slot).
    pub fn callback_entry(
        &mut self,
        sig: &Signature,
        slot: usize,
        entry_index: u32,
        dispatch: usize,
    ) -> Result<Thunk, String> {
        let key = (sig.clone(), slot);
        if let Some(&code) = self.entries.get(&key) {
            return Ok(code);
        }
        let (api, cc) = (self.api, self.call_conv);
        let code = self.compile(Tier::Optimized, |func, fctx, config| {
            let entry = callback::EntryPlace {
                slot,
                index: entry_index,
                dispatch,
            };
            callback::build_entry(func, fctx, sig, entry, &api, cc, config)
        })?;
        self.entries.insert(key, code);
        Ok(code)
    }

    /// The address to call for the variadic C function at `target`. On x86-64 System V a
    /// variadic callee reads an upper bound of the vector registers used from AL, which
    /// Cranelift cannot set: a three-instruction trampoline sets AL = 8 (always a valid
    /// bound) and jumps to the target. Elsewhere the target itself.
    pub fn variadic_target(&mut self, target: usize) -> Result<*const u8, String> {
        if !cfg!(all(target_arch = "x86_64", not(windows))) {
            return Ok(target as *const u8);
        }
        if let Some(&code) = self.variadic_trampolines.get(&target) {
            return Ok(code);
        }
        let mut bytes = vec![0xB8, 8, 0, 0, 0]; // mov eax, 8
        bytes.extend([0x49, 0xBB]); // movabs r11, target
        bytes.extend((target as u64).to_le_bytes());
        bytes.extend([0x41, 0xFF, 0xE3]); // jmp r11
        let id = self
            .module
            .declare_anonymous_function(&cranelift_codegen::ir::Signature::new(self.call_conv))
            .map_err(|e| e.to_string())?;
        self.module
            .define_function_bytes(id, 16, &bytes, &[])
            .map_err(|e| e.to_string())?;
        let code = finalize(&mut self.module, self.exec_offset, id)?;
        self.stats.code_bytes += bytes.len() as u64;
        self.variadic_trampolines.insert(target, code);
        Ok(code)
    }

    pub fn stats(&self) -> JitStats {
        self.stats
    }

    /// The Cranelift IR of the thunk for `sig`, for debugging generated code.
    pub fn thunk_ir(&mut self, sig: &Signature) -> String {
        self.module.clear_context(&mut self.ctx);
        let config = self.module.target_config();
        thunk::build(
            &mut self.ctx.func,
            &mut self.fctx,
            sig,
            &self.api,
            self.call_conv,
            config,
            None,
        );
        let text = self.ctx.func.display().to_string();
        self.module.clear_context(&mut self.ctx);
        text
    }

    /// The machine code of the call thunk at `code` as Cranelift lists it (instructions with
    /// their registers, by block), or `None` when `code` is not a call thunk this engine
    /// compiled. The thunk is compiled again, at its tier and with its constants, with the
    /// listing kept: compilation is deterministic, so the listing is of the code that runs.
    pub fn disassemble(&mut self, code: *const u8) -> Result<Option<String>, String> {
        let shared = self
            .thunks
            .iter()
            .find(|(_, thunk)| thunk.code == code)
            .map(|(sig, _)| (sig.clone(), None));
        let specialized = || {
            self.specialized
                .get(&(code as usize))
                .map(|(sig, call_target)| (sig.clone(), Some(*call_target)))
        };
        let Some((sig, baked)) = shared.or_else(specialized) else {
            return Ok(None);
        };
        let tier = match baked {
            Some(_) => Tier::Optimized,
            None => Tier::Baseline,
        };
        let (api, cc) = (self.api, self.call_conv);
        let listing = self
            .compile_in_context(tier, true, |func, fctx, config| {
                thunk::build(func, fctx, &sig, &api, cc, config, baked)
            })
            .map(|()| {
                self.ctx
                    .compiled_code()
                    .and_then(|compiled| compiled.vcode.clone())
                    .unwrap_or_default()
            });
        self.module.clear_context(&mut self.ctx);
        listing.map(Some)
    }

    /// Builds a function with `build` and compiles it at `tier` (keeping Cranelift's listing
    /// of the machine code with `listing`), leaving the result in the codegen context (cleared
    /// on failure).
    fn compile_in_context(
        &mut self,
        tier: Tier,
        listing: bool,
        build: impl FnOnce(&mut Function, &mut FunctionBuilderContext, TargetFrontendConfig),
    ) -> Result<(), String> {
        self.module.clear_context(&mut self.ctx);
        self.ctx.set_disasm(listing);
        build(
            &mut self.ctx.func,
            &mut self.fctx,
            self.module.target_config(),
        );
        // `JITModule::define_function` would compile with the module's ISA: compile with the
        // tier's ISA here and hand the module the bytes.
        let isa = tier.isa(&self.baseline, &self.optimized);
        if let Err(e) = self.ctx.compile(isa, &mut ControlPlane::default()) {
            let message = format!("cannot compile generated code: {:?}", e.inner);
            self.module.clear_context(&mut self.ctx);
            return Err(message);
        }
        Ok(())
    }

    /// Builds a function with `build`, compiles it at `tier`, finalizes it and registers its
    /// unwind info.
    fn compile(
        &mut self,
        tier: Tier,
        build: impl FnOnce(&mut Function, &mut FunctionBuilderContext, TargetFrontendConfig),
    ) -> Result<Thunk, String> {
        self.compile_in_context(tier, false, build)?;
        let isa = tier.isa(&self.baseline, &self.optimized);
        let id = self
            .module
            .declare_anonymous_function(&self.ctx.func.signature)
            .map_err(|e| e.to_string())?;
        let compiled = self
            .ctx
            .compiled_code()
            .expect("compiled function has code");
        let relocs: Vec<ModuleReloc> = compiled
            .buffer
            .relocs()
            .iter()
            .map(|reloc| ModuleReloc::from_mach_reloc(reloc, &self.ctx.func, id))
            .collect();
        // Code is patched at its writable address: only absolute relocations stay right at
        // another address.
        if self.exec_offset != 0 && relocs.iter().any(|r| r.kind != Reloc::Abs8) {
            self.module.clear_context(&mut self.ctx);
            return Err("generated code needs a position-dependent relocation".to_string());
        }
        self.module
            .define_function_bytes(
                id,
                compiled.buffer.alignment.into(),
                compiled.code_buffer(),
                &relocs,
            )
            .map_err(|e| e.to_string())?;
        let size = compiled.code_info().total_size as usize;
        let unwind = compiled
            .create_unwind_info(isa)
            .map_err(|e| e.to_string())?;
        self.module.clear_context(&mut self.ctx);
        let code = finalize(&mut self.module, self.exec_offset, id)?;
        if let Some(info) = unwind {
            crate::unwind::register(isa, &info, code);
        }
        self.stats.code_bytes += size as u64;
        Ok(Thunk { code, size })
    }
}

/// Finalizes the functions defined in `module` so far; the address `id` runs at.
fn finalize(module: &mut JITModule, exec_offset: usize, id: FuncId) -> Result<*const u8, String> {
    module.finalize_definitions().map_err(|e| e.to_string())?;
    Ok(module.get_finalized_function(id).wrapping_add(exec_offset))
}

/// How hard Cranelift works on a function: each tier is one ISA (Cranelift's optimization
/// settings are per ISA).
#[derive(Clone, Copy, Debug)]
enum Tier {
    /// Quick to compile: no mid-end optimization, single-pass register allocation.
    Baseline,
    /// Quick to run: the e-graph optimizer and backtracking register allocation.
    Optimized,
}

impl Tier {
    /// This tier's ISA among the engine's.
    fn isa<'a>(
        self,
        baseline: &'a OwnedTargetIsa,
        optimized: &'a OwnedTargetIsa,
    ) -> &'a dyn TargetIsa {
        match self {
            Tier::Baseline => baseline.as_ref(),
            Tier::Optimized => optimized.as_ref(),
        }
    }
}

/// The ISA of the host for `tier`.
fn host_isa(tier: Tier) -> Result<OwnedTargetIsa, String> {
    let (opt_level, regalloc) = match tier {
        Tier::Baseline => ("none", "single_pass"),
        Tier::Optimized => ("speed", "backtracking"),
    };
    let mut flags = settings::builder();
    for (name, value) in [
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        ("opt_level", opt_level),
        ("regalloc_algorithm", regalloc),
        ("preserve_frame_pointers", "true"),
        // Debug builds (the tests) verify every function; release builds skip the
        // verifier, which took a third of the compile time.
        (
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        ),
    ] {
        flags.set(name, value).map_err(|e| e.to_string())?;
    }
    cranelift_native::builder()?
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())
}
