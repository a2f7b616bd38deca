//! Shared libraries: finding, loading, symbol lookup and export listing.
//!
//! A library is named by a path, by a bare name such as `"c"` or `"m"` (resolved the way a C
//! programmer's `-lc`/`-lm` would be), or by nothing at all for the running process, whose
//! already loaded symbols (libc, the Lua library, the host program) are then reachable.
//! Export listing reads the library's file (ELF or Mach-O) with the `object` crate.

use std::ffi::c_void;
use std::path::{Path, PathBuf};

use libloading::os::unix::{Library as RawLibrary, RTLD_LAZY, RTLD_LOCAL};
use object::{Object, ObjectSymbol};

/// A loaded library. Dropping it unloads the library.
pub struct Library {
    raw: RawLibrary,
    /// The file the library was loaded from, when known.
    file: Option<PathBuf>,
    /// The name the user gave (or `"<process>"`).
    path: String,
}

/// Directories searched for `lib<name>.so.<version>` when a bare name has no unversioned
/// development symlink.
const LIBRARY_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib/aarch64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/lib",
];

impl Library {
    /// Loads the library named `name`; `None` is the running process.
    pub fn open(name: Option<&str>) -> Result<Library, String> {
        let Some(name) = name else {
            return Ok(Library {
                raw: RawLibrary::this(),
                file: std::env::current_exe().ok(),
                path: "<process>".to_string(),
            });
        };
        let candidates = candidates(name);
        let mut first_error = None;
        for candidate in &candidates {
            // SAFETY: loading a library runs its initializers; that is what the user asked.
            match unsafe { RawLibrary::open(Some(candidate), RTLD_LAZY | RTLD_LOCAL) } {
                Ok(raw) => {
                    let file = loaded_file(&raw).or_else(|| {
                        Path::new(candidate)
                            .exists()
                            .then(|| PathBuf::from(candidate))
                    });
                    return Ok(Library {
                        raw,
                        file,
                        path: name.to_string(),
                    });
                }
                Err(e) => {
                    first_error.get_or_insert_with(|| match std::error::Error::source(&e) {
                        Some(cause) => cause.to_string(),
                        None => e.to_string(),
                    });
                }
            }
        }
        Err(format!(
            "cannot load library '{name}': {}",
            first_error.unwrap_or_else(|| "no candidate file".to_string())
        ))
    }

    /// The name the library was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The address of the symbol `name`.
    pub fn symbol(&self, name: &str) -> Result<*mut c_void, String> {
        // SAFETY: the address is only handed out, never called or read here.
        match unsafe { self.raw.get::<*mut c_void>(name.as_bytes()) } {
            Ok(sym) => Ok(*sym),
            Err(_) => Err(format!("symbol '{name}' not found in '{}'", self.path)),
        }
    }

    /// The names of the functions the library's file exports, sorted.
    pub fn exports(&self) -> Result<Vec<String>, String> {
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| format!("cannot list exports of '{}': file unknown", self.path))?;
        let data =
            std::fs::read(file).map_err(|e| format!("cannot read '{}': {e}", file.display()))?;
        let object = object::File::parse(&*data)
            .map_err(|e| format!("cannot parse '{}': {e}", file.display()))?;
        let macho = object.format() == object::BinaryFormat::MachO;
        let mut names: Vec<String> = object
            .dynamic_symbols()
            .chain(object.symbols().filter(|_| macho))
            // Not `is_definition`: it leaves out ELF indirect functions (glibc's `cos`,
            // `strlen`...), which are functions to the caller.
            .filter(|s| !s.is_undefined() && !s.is_local() && s.kind() == object::SymbolKind::Text)
            .filter_map(|s| s.name().ok())
            .map(|n| match n.strip_prefix('_') {
                Some(bare) if macho => bare.to_string(),
                _ => n.to_string(),
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// The files to try for a library name, in order.
fn candidates(name: &str) -> Vec<String> {
    let mut list = vec![name.to_string()];
    if name.contains('/') || name.contains(".so") || name.ends_with(".dylib") {
        return list;
    }
    if cfg!(target_os = "macos") {
        list.push(format!("lib{name}.dylib"));
        if name == "c" || name == "m" {
            list.push("/usr/lib/libSystem.B.dylib".to_string());
        }
        return list;
    }
    list.push(format!("lib{name}.so"));
    // glibc's libc.so and libm.so are linker scripts; the versioned file is the library.
    let prefix = format!("lib{name}.so.");
    for dir in LIBRARY_DIRS {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut versioned: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|f| f.starts_with(&prefix))
            .collect();
        // The shortest name is the soname (libm.so.6 rather than libm.so.6.0.1).
        versioned.sort_by_key(|f| (f.len(), f.clone()));
        list.extend(versioned.into_iter().map(|f| format!("{dir}/{f}")));
    }
    list
}

/// The file the dynamic loader mapped for `raw`, from its link map.
#[cfg(target_os = "linux")]
fn loaded_file(raw: &RawLibrary) -> Option<PathBuf> {
    use std::ffi::{c_char, c_int, CStr};
    #[repr(C)]
    struct LinkMap {
        addr: usize,
        name: *const c_char,
    }
    extern "C" {
        fn dlinfo(handle: *mut c_void, request: c_int, info: *mut c_void) -> c_int;
    }
    const RTLD_DI_LINKMAP: c_int = 2;
    // SAFETY: `raw` is a live dlopen handle; the link map belongs to the loader and outlives
    // this call. `into_raw` on a bitwise copy hands out the handle without closing it.
    unsafe {
        let handle = std::ptr::read(raw).into_raw();
        let mut map: *const LinkMap = std::ptr::null();
        let ok = dlinfo(handle, RTLD_DI_LINKMAP, &mut map as *mut _ as *mut c_void) == 0;
        if !ok || map.is_null() || (*map).name.is_null() {
            return None;
        }
        let name = CStr::from_ptr((*map).name).to_str().ok()?;
        (!name.is_empty()).then(|| PathBuf::from(name))
    }
}

#[cfg(not(target_os = "linux"))]
fn loaded_file(_raw: &RawLibrary) -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_find_libc_and_libm() {
        let libc = Library::open(Some("c")).unwrap();
        assert!(!libc.symbol("strlen").unwrap().is_null());
        let libm = Library::open(Some("m")).unwrap();
        assert!(libm.exports().unwrap().iter().any(|n| n == "cos"));
    }

    #[test]
    fn the_process_itself_has_libc() {
        let this = Library::open(None).unwrap();
        assert!(!this.symbol("malloc").unwrap().is_null());
    }

    #[test]
    fn errors_name_the_library_and_the_symbol() {
        let err = Library::open(Some("/nonexistent/libx.so")).err().unwrap();
        assert!(
            err.contains("cannot load library '/nonexistent/libx.so'"),
            "{err}"
        );
        assert!(err.contains("No such file"), "{err}");
        let libc = Library::open(Some("c")).unwrap();
        let err = libc.symbol("no_such_function").unwrap_err();
        assert_eq!(err, "symbol 'no_such_function' not found in 'c'");
    }
}
