//! Starting programs built for the target. In a cross run the tests themselves run under
//! cargo's runner for the target (an emulator such as `qemu-aarch64`), set in the environment
//! as `CARGO_TARGET_<TRIPLE>_RUNNER`; the target programs they start go through the same
//! runner, since without binfmt_misc (a container) the kernel cannot start them itself.

use std::ffi::OsStr;
use std::process::Command;

/// A command running `program`, an executable built for the target: through the target's
/// runner when the environment names one, directly otherwise.
pub fn target_command(program: impl AsRef<OsStr>) -> Command {
    let triple = env!("MOONTHUNK_TARGET");
    let variable = format!(
        "CARGO_TARGET_{}_RUNNER",
        triple.to_uppercase().replace(['-', '.'], "_")
    );
    let runner = std::env::var(variable).unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(emulator) => {
            let mut command = Command::new(emulator);
            command.args(words).arg(program);
            command
        }
        None => Command::new(program),
    }
}
