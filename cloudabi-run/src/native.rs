//! `--native`: run a real compiled i386 CloudABI program under ptrace, every system call
//! served by capexec's shim (the `capexec-native` runner).

use std::path::{Path, PathBuf};

use capexec::fdtable::FdTable;

use capexec_host::HostFile;

/// The bundled C programs (`programs/`) that `--native NAME` builds on demand.
pub const BUNDLED: &[&str] = &["hello", "procstat", "spawn", "errors", "loop"];

/// Builds the bundled programs and the tracee stub; returns their directory.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub fn programs_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("capexec-programs-{}", std::process::id()));
    capexec_native::build_programs(&dir).map_err(|e| e.to_string())
}

/// The executable for `program`: a bundled program's name, or a path to an ELF file.
pub fn resolve(program: &str, dir: &Path) -> PathBuf {
    if BUNDLED.contains(&program) && !Path::new(program).exists() {
        dir.join(program)
    } else {
        PathBuf::from(program)
    }
}

/// Runs the launcher table's `exe` with `data` and `fds` natively; the program's exit
/// value, or a launcher error.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub fn run(
    dir: &Path,
    table: FdTable<HostFile>,
    exe: i32,
    data: &[u8],
    fds: &[i32],
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
    match capexec_native::run_program(&dir.join("stub"), table, exe, data, &fds) {
        Ok(Termination::Exited(code)) => Ok(code),
        Ok(Termination::Signaled(sig)) => Err(format!("program killed by {sig}")),
        Err(Error::Exec(e)) => Err(format!("proc_exec failed: {e}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Without the runner (not Linux on x86_64), `--native` is an error.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub fn programs_dir() -> Result<PathBuf, String> {
    Err("--native needs Linux on x86_64".into())
}

/// Without the runner (not Linux on x86_64), `--native` is an error.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub fn run(_: &Path, _: FdTable<HostFile>, _: i32, _: &[u8], _: &[i32]) -> Result<u32, String> {
    Err("--native needs Linux on x86_64".into())
}
