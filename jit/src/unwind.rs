//! Unwind information for JIT code.
//!
//! cranelift-jit registers none. A Lua error raised from a thunk travels by longjmp on PUC Lua
//! built as C, but by unwinding on LuaJIT, Luau and Lua built as C++, and a Rust panic unwinds
//! too; without frame information an unwinder that meets a JIT frame aborts the process. So
//! each finalized function's unwind info is written as an `.eh_frame` and handed to the
//! platform's `__register_frame`. Registrations are never undone: JIT code lives as long as
//! the process.

use cranelift_codegen::isa::unwind::UnwindInfo;
use cranelift_codegen::isa::TargetIsa;
use gimli::write::{Address, EhFrame, EndianVec, FrameTable, Writer};
use gimli::RunTimeEndian;

extern "C" {
    fn __register_frame(fde: *const u8);
}

/// Registers `info` for the code at `code`. Returns false when the target has no
/// System V style unwind info (nothing is registered then).
pub(crate) fn register(isa: &dyn TargetIsa, info: &UnwindInfo, code: *const u8) -> bool {
    let UnwindInfo::SystemV(info) = info else {
        return false;
    };
    let Some(cie) = isa.create_systemv_cie() else {
        return false;
    };
    let mut table = FrameTable::default();
    let cie_id = table.add_cie(cie);
    table.add_fde(cie_id, info.to_fde(Address::Constant(code as u64)));

    let endian = match isa.endianness() {
        cranelift_codegen::ir::Endianness::Little => RunTimeEndian::Little,
        cranelift_codegen::ir::Endianness::Big => RunTimeEndian::Big,
    };
    let mut eh_frame = EhFrame(EndianVec::new(endian));
    if table.write_eh_frame(&mut eh_frame).is_err() {
        return false;
    }
    // A zero length entry terminates the section for libgcc's walker.
    if eh_frame.0.write_u32(0).is_err() {
        return false;
    }
    let bytes: &'static [u8] = Box::leak(eh_frame.0.into_vec().into_boxed_slice());
    // libgcc's `__register_frame` takes a whole section; libunwind (macOS) takes one FDE,
    // which follows the CIE.
    let entry = if cfg!(target_os = "macos") {
        let cie_len = u32::from_ne_bytes(bytes[0..4].try_into().unwrap()) as usize;
        &bytes[cie_len + 4..]
    } else {
        bytes
    };
    // SAFETY: `entry` is a well-formed eh_frame (written by gimli) that is never freed.
    unsafe { __register_frame(entry.as_ptr()) };
    true
}
