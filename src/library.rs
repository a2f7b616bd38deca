//! Shared libraries: finding, loading, symbol lookup and export listing.
//!
//! A library is named by a path, by a bare name such as `"c"` or `"m"` (resolved the way a C
//! programmer's `-lc`/`-lm` would be), or by nothing at all for the running process, whose
//! already loaded symbols (libc, the Lua library, the host program) are then reachable.
//! Export listing reads the library's file (ELF or Mach-O) with the `object` crate.
//!
//! A [`Library`] is unloaded when its last `Rc` is dropped. Everything Lua derives from a
//! library that could reach its code (bound functions, symbol addresses and what is made from
//! them) holds a [`keeper`], so closing or collecting the object that opened the library never
//! unmaps code that is still reachable. Addresses its functions return are not tracked one by
//! one (that would cost every pointer result an owner): binding a function that can return
//! one [`Library::pin`]s the library, which then stays loaded for the life of the process.
//!
//! Failures are an [`Error`], whose `Display` is the engine's default wording.

use std::cell::Cell;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use libloading::os::unix::{Library as RawLibrary, RTLD_LAZY, RTLD_LOCAL};
use object::{Object, ObjectSymbol};

/// Why a library could not be loaded, or a symbol or the exports not be had.
#[derive(Debug)]
pub enum Error {
    /// An empty name, which names no file (the running process is `None`, not `""`).
    EmptyName,
    /// No candidate file for `name` loaded; `reason` is the loader's message for the first
    /// one tried (`tried`, in order).
    NotFound {
        name: String,
        tried: Vec<String>,
        reason: Option<String>,
    },
    /// The library has no symbol `symbol`.
    SymbolNotFound { symbol: String, library: String },
    /// The file the library was loaded from is unknown, so its exports cannot be listed.
    FileUnknown { library: String },
    /// The library's file could not be read.
    Unreadable {
        file: PathBuf,
        cause: std::io::Error,
    },
    /// The library's file is not an object file the `object` crate understands.
    Unparsable { file: PathBuf, cause: object::Error },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::EmptyName => f.write_str("cannot load library '': the name is empty"),
            Error::NotFound { name, reason, .. } => write!(
                f,
                "cannot load library '{name}': {}",
                reason.as_deref().unwrap_or("no candidate file")
            ),
            Error::SymbolNotFound { symbol, library } => {
                write!(f, "symbol '{symbol}' not found in '{library}'")
            }
            Error::FileUnknown { library } => {
                write!(f, "cannot list exports of '{library}': file unknown")
            }
            Error::Unreadable { file, cause } => {
                write!(f, "cannot read '{}': {cause}", file.display())
            }
            Error::Unparsable { file, cause } => {
                write!(f, "cannot parse '{}': {cause}", file.display())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Unreadable { cause, .. } => Some(cause),
            Error::Unparsable { cause, .. } => Some(cause),
            _ => None,
        }
    }
}

/// A loaded library. Dropping it unloads the library.
pub struct Library {
    raw: RawLibrary,
    /// The file the library was loaded from, when known.
    file: Option<PathBuf>,
    /// The name the user gave (or `"<process>"`).
    path: String,
    /// Kept loaded for the life of the process (see [`Library::pin`]).
    pinned: Cell<bool>,
}

/// Directories searched for `lib<name>.so.<version>` when a bare name has no unversioned
/// development symlink, and for linker scripts: the target's multiarch directories only, so
/// that a process of one architecture never picks another's files (an emulated AArch64
/// process sees the x86-64 host's).
const LIBRARY_DIRS: &[&str] = &[
    #[cfg(target_arch = "x86_64")]
    "/lib/x86_64-linux-gnu",
    #[cfg(target_arch = "x86_64")]
    "/usr/lib/x86_64-linux-gnu",
    #[cfg(target_arch = "aarch64")]
    "/lib/aarch64-linux-gnu",
    #[cfg(target_arch = "aarch64")]
    "/usr/lib/aarch64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/lib",
];

impl Library {
    /// Loads the library named `name`; `None` is the running process.
    pub fn open(name: Option<&str>) -> Result<Library, Error> {
        let Some(name) = name else {
            return Ok(Library {
                raw: RawLibrary::this(),
                file: std::env::current_exe().ok(),
                path: "<process>".to_string(),
                pinned: Cell::new(false),
            });
        };
        if name.is_empty() {
            return Err(Error::EmptyName);
        }
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
                        pinned: Cell::new(false),
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
        Err(Error::NotFound {
            name: name.to_string(),
            tried: candidates,
            reason: first_error,
        })
    }

    /// The name the library was opened with.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The address of the symbol `name`.
    pub fn symbol(&self, name: &str) -> Result<*mut c_void, Error> {
        // SAFETY: the address is only handed out, never called or read here.
        match unsafe { self.raw.get::<*mut c_void>(name.as_bytes()) } {
            Ok(sym) => Ok(*sym),
            Err(_) => Err(Error::SymbolNotFound {
                symbol: name.to_string(),
                library: self.path.clone(),
            }),
        }
    }

    /// The names of the functions the library's file exports, sorted.
    pub fn exports(&self) -> Result<Vec<String>, Error> {
        let file = self.file.as_ref().ok_or_else(|| Error::FileUnknown {
            library: self.path.clone(),
        })?;
        let data = std::fs::read(file).map_err(|cause| Error::Unreadable {
            file: file.clone(),
            cause,
        })?;
        let object = object::File::parse(&*data).map_err(|cause| Error::Unparsable {
            file: file.clone(),
            cause,
        })?;
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

impl Library {
    /// Keeps the library loaded for the rest of the process: addresses its functions return
    /// may point into its data, and they are not tracked.
    pub fn pin(self: &Rc<Library>) {
        if !self.pinned.replace(true) {
            std::mem::forget(Rc::clone(self));
        }
    }
}

/// A Lua value that keeps `library` loaded while it is reachable: the keeper of functions
/// bound from it (see `function::bind`) and the owner of pointer objects into it (see
/// `convert::kept_pointer_value`).
pub fn keeper(lua: &mlua::Lua, library: &Rc<Library>) -> mlua::Result<mlua::AnyUserData> {
    lua.create_any_userdata(Rc::clone(library))
}

/// The files to try for a library name, in order.
fn candidates(name: &str) -> Vec<String> {
    let mut list = vec![name.to_string()];
    if name.contains(".so") {
        list.extend(linker_script_inputs(name));
        return list;
    }
    if name.contains('/') || name.ends_with(".dylib") {
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

/// The shared objects a linker script named `name` (a path, or a file of the library
/// directories) lists: glibc installs `libc.so` and `libm.so` as scripts such as
/// `GROUP ( /lib/x86_64-linux-gnu/libc.so.6 ... )`, which the dynamic loader cannot open.
/// Empty for anything else.
fn linker_script_inputs(name: &str) -> Vec<String> {
    let file = if name.contains('/') {
        Some(PathBuf::from(name))
    } else {
        LIBRARY_DIRS
            .iter()
            .map(|dir| Path::new(dir).join(name))
            .find(|path| path.is_file())
    };
    let Some(text) = file
        .and_then(|file| std::fs::read(file).ok())
        .filter(|bytes| bytes.len() < 64 * 1024 && !bytes.starts_with(b"\x7fELF"))
        .and_then(|bytes| String::from_utf8(bytes).ok())
    else {
        return Vec::new();
    };
    if !text.contains("GROUP") && !text.contains("INPUT") {
        return Vec::new();
    }
    text.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|word| word.contains(".so") && !word.starts_with("-"))
        .map(str::to_string)
        .collect()
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
        let Error::NotFound { ref tried, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(tried, &["/nonexistent/libx.so"]);
        let message = err.to_string();
        assert!(
            message.starts_with("cannot load library '/nonexistent/libx.so': "),
            "{message}"
        );
        assert!(message.contains("No such file"), "{message}");
        let libc = Library::open(Some("c")).unwrap();
        let err = libc.symbol("no_such_function").unwrap_err();
        assert!(matches!(err, Error::SymbolNotFound { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "symbol 'no_such_function' not found in 'c'"
        );
    }

    #[test]
    fn an_empty_name_is_refused() {
        let err = Library::open(Some("")).err().unwrap();
        assert!(matches!(err, Error::EmptyName), "{err:?}");
        assert_eq!(err.to_string(), "cannot load library '': the name is empty");
    }

    #[test]
    fn bare_names_try_the_versioned_files() {
        let Some(Error::NotFound { tried, .. }) = Library::open(Some("no_such_lib_zz")).err()
        else {
            panic!("no_such_lib_zz loaded")
        };
        assert_eq!(tried[0], "no_such_lib_zz");
        assert!(tried.len() >= 2, "{tried:?}");
    }

    /// A library of the running process whose file is `file`.
    fn process_with_file(file: Option<&str>) -> Library {
        Library {
            raw: RawLibrary::this(),
            file: file.map(PathBuf::from),
            path: "p".to_string(),
            pinned: Cell::new(false),
        }
    }

    #[test]
    fn exports_that_cannot_be_read_say_why() {
        let err = process_with_file(None).exports().unwrap_err();
        assert!(matches!(err, Error::FileUnknown { .. }), "{err:?}");
        assert_eq!(err.to_string(), "cannot list exports of 'p': file unknown");

        let err = process_with_file(Some("/nonexistent/libp.so"))
            .exports()
            .unwrap_err();
        assert!(matches!(err, Error::Unreadable { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.starts_with("cannot read '/nonexistent/libp.so': "),
            "{message}"
        );

        let not_an_object = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let err = process_with_file(Some(not_an_object))
            .exports()
            .unwrap_err();
        assert!(matches!(err, Error::Unparsable { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with(&format!("cannot parse '{not_an_object}': ")),
            "{err}"
        );
    }
}
