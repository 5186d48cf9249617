//! Building the C programs and the stub of `programs/`.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `programs/` directory of the capexec source tree this crate was
/// built from.
pub fn programs_source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../programs")
}

/// Builds the CloudABI test programs (`hello`, `procstat`, `spawn`,
/// `errors`, `loop`) and the ptrace stub (`stub`) into `out_dir` with
/// `programs/build.sh`, and returns `out_dir`.
///
/// Needs `sh` and a gcc that can compile for i386 (`-m32`; Debian package
/// `gcc-multilib`). A failed build is an error whose message carries the
/// compiler's output and that hint.
pub fn build_programs(out_dir: &Path) -> io::Result<PathBuf> {
    let script = programs_source_dir().join("build.sh");
    let out = Command::new("sh")
        .arg(&script)
        .arg(out_dir)
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("cannot run {}: {e}", script.display())))?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{} failed ({}); it needs gcc with 32-bit support \
             (Debian: apt-get install gcc-multilib):\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    Ok(out_dir.to_path_buf())
}
