//! Managed memory: the [`Region`] a memory object may access and the [`ArenaState`] that owns
//! it (its allocations and generation). Plain data, shared by the objects, arenas and buffers.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where an address may be accessed: a managed region (bounds known) and its owner.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Region {
    /// Bounds are known (arena and buffer memory, and anything derived from it).
    pub managed: bool,
    pub base: *mut u8,
    pub len: usize,
    /// The arena (or buffer storage) the region belongs to, or null.
    pub owner: *const ArenaState,
    /// The owner's generation when the region was handed out.
    pub gen: u64,
}

impl Region {
    pub const UNMANAGED: Region = Region {
        managed: false,
        base: std::ptr::null_mut(),
        len: 0,
        owner: std::ptr::null(),
        gen: 0,
    };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// An arena's bookkeeping.
pub struct ArenaState {
    pub gen: u64,
    pub id: u64,
    pub allocations: Vec<(*mut u8, Layout)>,
    pub total: usize,
}

impl ArenaState {
    pub fn new() -> ArenaState {
        ArenaState {
            gen: 0,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            allocations: Vec::new(),
            total: 0,
        }
    }

    /// A zeroed block of `size` bytes aligned to `align` (a power of two).
    pub fn alloc(&mut self, size: usize, align: usize) -> Result<*mut u8, String> {
        let layout = Layout::from_size_align(size.max(1), align)
            .map_err(|_| format!("cannot allocate {size} bytes aligned to {align}"))?;
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { alloc_zeroed(layout) };
        if p.is_null() {
            return Err(format!("out of memory allocating {size} bytes"));
        }
        self.allocations.push((p, layout));
        self.total += size;
        Ok(p)
    }

    /// Frees every allocation; objects made before see a new generation.
    pub fn reset(&mut self) {
        for (p, layout) in self.allocations.drain(..) {
            // SAFETY: allocated by `alloc` with this layout, freed once.
            unsafe { dealloc(p, layout) };
        }
        self.total = 0;
        self.gen += 1;
    }
}
