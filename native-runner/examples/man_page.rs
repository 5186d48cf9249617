//! The cloudabi-run(1) man page example, run natively: builds `programs/`
//! (needs gcc with 32-bit support), then starts the compiled `hello` with
//! three references to the launcher's standard output, every system call
//! served by capexec's i386 shim.
//!
//! ```text
//! cargo run -p capexec-native --example man_page
//! ```

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::sync::Arc;

    use capexec::fdtable::FdTable;
    use capexec_native::{BuiltPrograms, HostFile, Termination, rights, run_program};

    if !capexec_native::ptrace_available() {
        return Err("ptrace is not permitted on this machine".into());
    }
    // Built in a private folder that is gone again: the programs are in memory.
    let built = BuiltPrograms::build()?;
    let hello = built.image("hello").ok_or("hello was not built")?;
    let mut launcher = FdTable::new();
    let files = [
        (HostFile::stdin()?, rights::STDIN),
        (HostFile::stdout()?, rights::STDOUT),
        (HostFile::stderr()?, rights::STDOUT),
        (HostFile::from_bytes(hello.to_vec()), rights::EXECUTABLE),
    ];
    for (file, r) in files {
        if launcher.open(Arc::new(file), r).is_err() {
            return Err("launcher table full".into());
        }
    }
    // - !fd stdout three times: argdata [0, 0, 0], descriptor list [1].
    let argdata = [
        0x07, 0x85, 0x03, 0, 0, 0, 0, 0x85, 0x03, 0, 0, 0, 0, 0x85, 0x03, 0, 0, 0, 0,
    ];
    match run_program(&built.stub_path(), launcher, 3, &argdata, &[1])? {
        Termination::Exited(0) => Ok(()),
        other => Err(format!("hello ended with {other:?}").into()),
    }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn main() {
    eprintln!("the native runner needs Linux on x86_64");
}
