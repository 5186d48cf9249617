//! Building the C programs and the stub of `programs/`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `programs/` directory of the capexec source tree this crate was
/// built from.
pub fn programs_source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../programs")
}

/// The C compiler `programs/build.sh` uses: `$CC`, or `gcc`.
fn compiler() -> std::ffi::OsString {
    std::env::var_os("CC").unwrap_or_else(|| "gcc".into())
}

/// Checks that the C compiler `programs/build.sh` uses (`$CC`, or `gcc`)
/// exists and compiles freestanding i386 code (`-m32`), on a one-line
/// translation unit of its own: a failure here means the machine lacks the
/// compiler, while a failure of [`build_programs`] after a successful probe
/// is an error in `programs/`.
pub fn probe_compiler() -> Result<(), String> {
    let cc = compiler();
    let mut child = Command::new(&cc)
        .args([
            "-m32",
            "-ffreestanding",
            "-x",
            "c",
            "-c",
            "-o",
            "/dev/null",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", cc.to_string_lossy()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A compiler that exits early closes the pipe; its status says why.
        let _ = stdin.write_all(b"#include <stdint.h>\nuint32_t capexec_probe;\n");
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for {}: {e}", cc.to_string_lossy()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} -m32 cannot compile ({}); Debian: apt-get install gcc-multilib\n{}",
            cc.to_string_lossy(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

/// Builds the CloudABI test programs (`hello`, `procstat`, `spawn`,
/// `errors`, `loop`, `mode64`) and the ptrace stub (`stub`) into `out_dir` with
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
