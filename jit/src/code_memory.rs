//! Where generated code lives: on x86-64 Linux, one shared-memory file mapped twice.
//!
//! cranelift-jit's own memory maps a fresh page for every function and changes its protection
//! when the function is finalized, which cost about 9 µs and 4 KiB per thunk. Here thunks are
//! packed back to back in a file mapped writable at one address and executable
//! [`DualMappedCode::exec_offset`] bytes above it: no system call per function, and no page
//! is ever writable and executable at one address (the code stays writable at its other
//! address). Elsewhere the module keeps cranelift-jit's memory.

use std::io;

use cranelift_jit::{BranchProtection, JITMemoryKind, JITMemoryProvider};
use cranelift_module::ModuleResult;

/// The module's executable memory. The module writes and patches code in the writable view;
/// callers run it in the executable view. x86-64 needs no instruction cache maintenance for code written at addresses that never ran.
/// A forked child shares the file with its parent until it first compiles: then it copies the
/// code into a file of its own, mapped at the same addresses. Only code is allocated here (the
/// engine defines no data objects), and nothing is unmapped: JIT code lives as long as the
/// process.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub(crate) struct DualMappedCode {
    writable: *mut u8,
    /// Bytes of each view (address space and a sparse file: pages cost memory once written).
    size: usize,
    used: usize,
    /// The process whose own file the views map.
    owner: u32,
}

// SAFETY: the provider only hands out addresses inside its own mapping; the module that owns
// it is only touched through `&mut Jit`.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe impl Send for DualMappedCode {}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
impl DualMappedCode {
    /// How far above its writable address code runs.
    pub(crate) fn exec_offset(&self) -> usize {
        self.size
    }

    /// The mappings for `size` bytes of code (rounded up to whole pages), or `None` where the
    /// system refuses them (no `memfd_create`, or a policy against executable shared memory
    /// such as `vm.memfd_noexec`): the module then uses cranelift-jit's own memory.
    pub(crate) fn new(size: usize) -> Option<DualMappedCode> {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
        let size = size.max(1).checked_next_multiple_of(page)?;
        // SAFETY: reserves fresh address space, then maps the views over it; every failure is
        // checked and undone.
        unsafe {
            let reserved = libc::mmap(
                std::ptr::null_mut(),
                2 * size,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            );
            if reserved == libc::MAP_FAILED {
                return None;
            }
            let code = DualMappedCode {
                writable: reserved.cast(),
                size,
                used: 0,
                owner: std::process::id(),
            };
            if code.map_new_file().is_err() {
                libc::munmap(reserved, 2 * size);
                return None;
            }
            Some(code)
        }
    }

    /// Maps both views onto a new file holding a copy of the code written so far.
    ///
    /// # Safety
    /// Replaces the mappings at `self.writable`: no other thread may write code meanwhile.
    unsafe fn map_new_file(&self) -> io::Result<()> {
        let fd = libc::memfd_create(c"moonthunk-code".as_ptr(), libc::MFD_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let view = |offset: usize, prot| {
            libc::mmap(
                self.writable.add(offset).cast(),
                self.size,
                prot,
                libc::MAP_SHARED | libc::MAP_FIXED,
                fd,
                0,
            ) != libc::MAP_FAILED
        };
        let done = libc::ftruncate(fd, self.size as libc::off_t) == 0
            && libc::pwrite(fd, self.writable.cast(), self.used, 0) == self.used as isize
            && view(0, libc::PROT_READ | libc::PROT_WRITE)
            && view(self.size, libc::PROT_READ | libc::PROT_EXEC);
        let error = io::Error::last_os_error();
        libc::close(fd);
        if done {
            Ok(())
        } else {
            Err(error)
        }
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
impl JITMemoryProvider for DualMappedCode {
    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> io::Result<*mut u8> {
        if !matches!(kind, JITMemoryKind::Executable) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the JIT code space holds code only",
            ));
        }
        let pid = std::process::id();
        if pid != self.owner {
            // SAFETY: the module calls `allocate` under the engine's lock, and a forked child
            // has not compiled before.
            unsafe { self.map_new_file()? };
            self.owner = pid;
        }
        let start = usize::try_from(align)
            .ok()
            .and_then(|align| self.used.checked_next_multiple_of(align));
        let end = start.and_then(|start| start.checked_add(size));
        match (start, end) {
            (Some(start), Some(end)) if end <= self.size => {
                self.used = end;
                Ok(self.writable.wrapping_add(start))
            }
            _ => Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!("the JIT code space is full ({} bytes)", self.size),
            )),
        }
    }

    unsafe fn free_memory(&mut self) {}

    fn finalize(&mut self, _: BranchProtection) -> ModuleResult<()> {
        Ok(())
    }
}

/// Elsewhere the module uses cranelift-jit's own memory.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub(crate) enum DualMappedCode {}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
impl DualMappedCode {
    pub(crate) fn exec_offset(&self) -> usize {
        match *self {}
    }

    pub(crate) fn new(_size: usize) -> Option<DualMappedCode> {
        None
    }
}

/// Never constructed: the impl only lets the engine hand the provider to cranelift-jit with
/// the same code on every target.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
impl JITMemoryProvider for DualMappedCode {
    fn allocate(&mut self, _: usize, _: u64, _: JITMemoryKind) -> io::Result<*mut u8> {
        match *self {}
    }

    unsafe fn free_memory(&mut self) {
        match *self {}
    }

    fn finalize(&mut self, _: BranchProtection) -> ModuleResult<()> {
        match *self {}
    }
}

#[cfg(all(test, target_os = "linux", target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// Writes `bytes` as a new function; returns where it runs.
    fn put(code: &mut DualMappedCode, bytes: &[u8]) -> *const u8 {
        let at = code
            .allocate(bytes.len(), 16, JITMemoryKind::Executable)
            .unwrap();
        // SAFETY: `allocate` returned `bytes.len()` writable bytes.
        unsafe { at.copy_from_nonoverlapping(bytes.as_ptr(), bytes.len()) };
        at.wrapping_add(code.exec_offset())
    }

    fn read(at: *const u8, len: usize) -> Vec<u8> {
        // SAFETY: `at` is inside the executable view, which is readable.
        unsafe { std::slice::from_raw_parts(at, len).to_vec() }
    }

    #[test]
    fn code_is_packed_and_visible_at_the_executable_address() {
        let mut code = DualMappedCode::new(64 << 10).expect("memfd code space");
        let a = put(&mut code, &[1; 20]);
        let b = put(&mut code, &[2; 20]);
        assert_eq!(b as usize - a as usize, 32);
        assert_eq!(read(a, 20), [1; 20]);
        assert_eq!(read(b, 20), [2; 20]);
        assert!(code.allocate(8, 8, JITMemoryKind::Writable).is_err());
        let full = code
            .allocate(64 << 10, 16, JITMemoryKind::Executable)
            .unwrap_err();
        assert_eq!(full.to_string(), "the JIT code space is full (65536 bytes)");
        assert!(code.allocate(64, 16, JITMemoryKind::Executable).is_ok());
    }

    #[test]
    fn a_forked_child_writes_code_of_its_own() {
        let mut code = DualMappedCode::new(64 << 10).expect("memfd code space");
        let a = put(&mut code, &[1; 16]);
        // SAFETY: the child only runs this test's code and leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let b = put(&mut code, &[2; 16]);
            std::thread::sleep(std::time::Duration::from_millis(200));
            let intact = read(a, 16) == [1; 16] && read(b, 16) == [2; 16];
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(if intact { 0 } else { 1 }) };
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let c = put(&mut code, &[3; 16]);
        let mut status = -1;
        // SAFETY: waits for the child forked above.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(status, 0, "the child saw its code change");
        assert_eq!(read(a, 16), [1; 16]);
        assert_eq!(read(c, 16), [3; 16]);
    }
}
