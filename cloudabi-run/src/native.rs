//! `--native`: run a real compiled i386 CloudABI program under ptrace, every system call
//! served by capexec's shim (the `capexec-native` runner).

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
use std::path::Path;
use std::sync::Arc;

use capexec::fdtable::FdTable;

use capexec_host::HostFile;

/// The bundled C programs (`programs/`) that `--native NAME` builds on demand.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub const BUNDLED: &[&str] = &["hello", "procstat", "spawn", "errors", "loop", "tryio"];

/// The bundled programs and the tracee stub, built in a private folder that is gone
/// before the program runs: they are held in memory.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub type Built = capexec_native::BuiltPrograms;

/// Without the runner (not Linux on x86_64) nothing is ever built.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub enum Built {}

/// Builds the bundled programs and the tracee stub (see [`Built`]).
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub fn build() -> Result<Built, String> {
    capexec_native::BuiltPrograms::build().map_err(|e| e.to_string())
}

/// The executable for `program`: a bundled program's name (unless a file of that name
/// exists), or a path to an ELF file.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub fn executable(program: &str, built: &Built) -> Result<HostFile, String> {
    match built.image(program) {
        Some(bytes) if BUNDLED.contains(&program) && !Path::new(program).exists() => {
            Ok(HostFile::from_bytes(bytes.to_vec()).with_name(format!("bundled:{program}")))
        }
        _ => HostFile::open_executable(Path::new(program))
            .map_err(|e| format!("cannot read {program}: {e}")),
    }
}

/// Runs the launcher table's `exe` with `data` and `fds` natively; the program's exit
/// value, or a launcher error. With `trace`, every system call the program makes is
/// printed to standard error as it is served.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub fn run(
    built: &Built,
    table: FdTable<Arc<HostFile>>,
    exe: i32,
    data: &[u8],
    fds: &[i32],
    trace: bool,
) -> Result<u32, String> {
    use capexec_native::{Error, Termination};
    if !capexec_native::ptrace_available() {
        return Err("--native needs ptrace, which this machine does not permit".into());
    }
    let exe = u32::try_from(exe).map_err(|_| "bad executable descriptor")?;
    let fds: Vec<u32> = fds
        .iter()
        .map(|&f| u32::try_from(f).unwrap_or(u32::MAX))
        .collect();
    let mut observer = |r: &capexec_native::SyscallRecord<'_>| {
        if trace {
            let outcome = crate::sim::outcome(r.action, r.after);
            let line = cloudabi_run::trace::describe(r.before.eax, r.args, &outcome);
            eprintln!("  {line}");
        }
    };
    let ran = capexec_native::run_program_traced(
        &built.stub_path(),
        table,
        exe,
        data,
        &fds,
        &mut observer,
    );
    match ran {
        Ok(Termination::Exited(code)) => Ok(code),
        Ok(Termination::Signaled(sig)) => Err(format!("program killed by {sig}")),
        Err(Error::Exec(e)) => Err(format!("proc_exec failed: {e}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Without the runner (not Linux on x86_64), `--native` is an error.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub fn build() -> Result<Built, String> {
    Err("--native needs Linux on x86_64".into())
}

/// Without the runner nothing is built, so there is nothing to start.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub fn executable(_: &str, built: &Built) -> Result<HostFile, String> {
    match *built {}
}

/// Without the runner nothing is built, so there is nothing to run.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub fn run(
    built: &Built,
    _: FdTable<Arc<HostFile>>,
    _: i32,
    _: &[u8],
    _: &[i32],
    _: bool,
) -> Result<u32, String> {
    match *built {}
}
