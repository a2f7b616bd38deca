//! Targets: the data model (sizes, alignments, `char` signedness, record-layout rules) that
//! every size, alignment and offset of the type graph is computed for.

use std::ffi::{c_char, c_int, c_long, c_longlong, c_short};
use std::mem::{align_of, size_of};

/// The size and alignment of a type, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SizeAlign {
    pub size: usize,
    pub align: usize,
}

const fn sa(size: usize, align: usize) -> SizeAlign {
    SizeAlign { size, align }
}

/// The rules records are laid out by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordRules {
    /// The System V / gcc rules (Linux, macOS, BSDs on every architecture here).
    SysV,
    /// Microsoft's rules (Windows): the same for ordinary members, different for bit-fields.
    Msvc,
}

/// The data model of a target, as C compilers for it see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub pointer: SizeAlign,
    pub bool: SizeAlign,
    pub short: SizeAlign,
    pub int: SizeAlign,
    pub long: SizeAlign,
    pub long_long: SizeAlign,
    pub float: SizeAlign,
    pub double: SizeAlign,
    pub long_double: SizeAlign,
    /// Whether plain `char` is signed.
    pub char_signed: bool,
    /// `size_t`, and with it `ssize_t`, `ptrdiff_t`, `intptr_t` and `uintptr_t`.
    pub size_t: SizeAlign,
    pub record_rules: RecordRules,
    /// Whether unnamed bit-fields, zero-width ones included, count towards the alignment of
    /// the record holding them as named ones do (AAPCS64: "without exception for zero-sized or
    /// anonymous bit-fields"; gcc's `TARGET_ALIGN_ANON_BITFIELD`). Not on x86-64, nor on Apple's
    /// arm64, whose compiler leaves them out as on x86-64. System V rules only: Microsoft's
    /// count every bit-field.
    pub unnamed_bit_fields_align: bool,
}

/// The architectures and systems whose data models are known.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arch {
    X86_64,
    Aarch64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum System {
    Linux,
    Apple,
    WindowsMsvc,
    WindowsGnu,
}

impl Target {
    /// The target this crate was built for. Integer and pointer sizes come from Rust's own
    /// C types; what Rust does not know (`long double`, the record rules) from the platform.
    pub fn host() -> Target {
        let of = |size, align| sa(size, align);
        let long_double = if cfg!(any(
            windows,
            all(target_arch = "aarch64", target_vendor = "apple")
        )) {
            of(size_of::<f64>(), align_of::<f64>())
        } else if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            of(16, 16)
        } else {
            // Other hosts are not among the targets this project builds for; a `long double`
            // there is laid out as the widest float Rust knows until someone needs better.
            of(size_of::<f64>(), align_of::<f64>())
        };
        Target {
            pointer: of(size_of::<*const u8>(), align_of::<*const u8>()),
            bool: of(size_of::<bool>(), align_of::<bool>()),
            short: of(size_of::<c_short>(), align_of::<c_short>()),
            int: of(size_of::<c_int>(), align_of::<c_int>()),
            long: of(size_of::<c_long>(), align_of::<c_long>()),
            long_long: of(size_of::<c_longlong>(), align_of::<c_longlong>()),
            float: of(size_of::<f32>(), align_of::<f32>()),
            double: of(size_of::<f64>(), align_of::<f64>()),
            long_double,
            char_signed: c_char::MIN != 0,
            size_t: of(size_of::<usize>(), align_of::<usize>()),
            record_rules: if cfg!(windows) {
                RecordRules::Msvc
            } else {
                RecordRules::SysV
            },
            unnamed_bit_fields_align: cfg!(all(
                target_arch = "aarch64",
                not(target_vendor = "apple"),
                not(windows)
            )),
        }
    }

    /// The target named by an LLVM/Rust target triple, when its data model is known:
    /// x86-64 and AArch64 on Linux, macOS (Apple) and Windows (MSVC or MinGW).
    pub fn from_triple(triple: &str) -> Option<Target> {
        let arch = match triple.split('-').next()? {
            "x86_64" => Arch::X86_64,
            "aarch64" | "arm64" => Arch::Aarch64,
            _ => return None,
        };
        let system = if triple.contains("linux") {
            System::Linux
        } else if triple.contains("apple") || triple.contains("darwin") {
            System::Apple
        } else if triple.contains("windows") && triple.ends_with("gnu") {
            System::WindowsGnu
        } else if triple.contains("windows") {
            System::WindowsMsvc
        } else {
            return None;
        };
        Some(Target::of(arch, system))
    }

    fn of(arch: Arch, system: System) -> Target {
        let windows = matches!(system, System::WindowsMsvc | System::WindowsGnu);
        let long_double = match (arch, system) {
            (_, System::WindowsMsvc) | (Arch::Aarch64, System::Apple | System::WindowsGnu) => {
                sa(8, 8)
            }
            _ => sa(16, 16),
        };
        Target {
            pointer: sa(8, 8),
            bool: sa(1, 1),
            short: sa(2, 2),
            int: sa(4, 4),
            // LP64 everywhere but Windows, which is LLP64.
            long: if windows { sa(4, 4) } else { sa(8, 8) },
            long_long: sa(8, 8),
            float: sa(4, 4),
            double: sa(8, 8),
            long_double,
            // AAPCS64 makes `char` unsigned; Apple and Microsoft keep it signed on arm64.
            char_signed: !(arch == Arch::Aarch64 && system == System::Linux),
            size_t: sa(8, 8),
            record_rules: if windows {
                RecordRules::Msvc
            } else {
                RecordRules::SysV
            },
            unnamed_bit_fields_align: arch == Arch::Aarch64 && system == System::Linux,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(triple: &str) -> Target {
        Target::from_triple(triple).expect("known triple")
    }

    #[test]
    fn long_is_lp64_except_on_windows() {
        assert_eq!(target("x86_64-unknown-linux-gnu").long, sa(8, 8));
        assert_eq!(target("aarch64-unknown-linux-gnu").long, sa(8, 8));
        assert_eq!(target("x86_64-apple-darwin").long, sa(8, 8));
        assert_eq!(target("aarch64-apple-darwin").long, sa(8, 8));
        assert_eq!(target("x86_64-pc-windows-msvc").long, sa(4, 4));
    }

    #[test]
    fn plain_char_is_unsigned_only_on_aarch64_linux() {
        assert!(target("x86_64-unknown-linux-gnu").char_signed);
        assert!(!target("aarch64-unknown-linux-gnu").char_signed);
        assert!(target("x86_64-pc-windows-msvc").char_signed);
        assert!(target("aarch64-apple-darwin").char_signed);
    }

    #[test]
    fn unnamed_bit_fields_align_records_only_on_aarch64_linux() {
        assert!(target("aarch64-unknown-linux-gnu").unnamed_bit_fields_align);
        for triple in [
            "x86_64-unknown-linux-gnu",
            "aarch64-apple-darwin",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc",
        ] {
            assert!(!target(triple).unnamed_bit_fields_align, "{triple}");
        }
    }

    #[test]
    fn long_double_and_size_t_per_triple() {
        assert_eq!(target("x86_64-unknown-linux-gnu").long_double, sa(16, 16));
        assert_eq!(target("aarch64-unknown-linux-gnu").long_double, sa(16, 16));
        assert_eq!(target("x86_64-apple-darwin").long_double, sa(16, 16));
        assert_eq!(target("x86_64-pc-windows-msvc").long_double, sa(8, 8));
        assert_eq!(target("aarch64-apple-darwin").long_double, sa(8, 8));
        for triple in ["x86_64-unknown-linux-gnu", "x86_64-pc-windows-msvc"] {
            assert_eq!(target(triple).size_t, sa(8, 8));
        }
        assert_eq!(
            target("x86_64-pc-windows-msvc").record_rules,
            RecordRules::Msvc
        );
        assert_eq!(Target::from_triple("riscv64gc-unknown-linux-gnu"), None);
    }

    #[test]
    fn the_host_agrees_with_its_triple() {
        let triple = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            "x86_64-unknown-linux-gnu"
        } else if cfg!(all(target_arch = "aarch64", target_os = "linux")) {
            "aarch64-unknown-linux-gnu"
        } else if cfg!(all(target_arch = "aarch64", target_vendor = "apple")) {
            "aarch64-apple-darwin"
        } else if cfg!(all(target_arch = "x86_64", target_vendor = "apple")) {
            "x86_64-apple-darwin"
        } else if cfg!(all(target_arch = "x86_64", target_env = "msvc")) {
            "x86_64-pc-windows-msvc"
        } else {
            return;
        };
        assert_eq!(Target::host(), target(triple));
    }
}
