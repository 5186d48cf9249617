//! Building the C programs and the stub of `programs/`.

use std::fs::{self, DirBuilder};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

/// The CloudABI programs `programs/build.sh` builds, besides the stub.
pub const BUNDLED_PROGRAMS: &[&str] = &[
    "hello", "procstat", "spawn", "errors", "loop", "mode64", "tryio",
];

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
/// `errors`, `loop`, `mode64`, `tryio`) and the ptrace stub (`stub`) into `out_dir` with
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

/// A folder only this user can enter (mode 0700), created under `parent`
/// with a random name that did not exist before (`mkdir` fails on any
/// existing entry, a symbolic link included, and is retried with another
/// name), so no other user can have prepared or can swap its contents.
///
/// # References
/// - POSIX `mkdtemp`; Linux `mkdir(2)` (`EEXIST` for any existing path).
pub(crate) fn create_private_dir(parent: &Path, prefix: &str) -> io::Result<PathBuf> {
    for _ in 0..64 {
        let mut random = [0u8; 12];
        capexec_host::HostEntropy
            .try_fill(&mut random)
            .map_err(io::Error::other)?;
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let dir = parent.join(format!("{prefix}{name}"));
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no unused name for a private folder",
    ))
}

/// Removes its folder when dropped, on every path out of a build.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Blocks the signals that end a process from a terminal or a service
/// manager (`SIGINT`, `SIGTERM`, `SIGHUP`, `SIGQUIT`) in the calling thread
/// until dropped; one that arrived meanwhile is delivered then.
struct DeferTermination(SigSet);

impl DeferTermination {
    fn new() -> io::Result<DeferTermination> {
        let mut set = SigSet::empty();
        for sig in [
            Signal::SIGINT,
            Signal::SIGTERM,
            Signal::SIGHUP,
            Signal::SIGQUIT,
        ] {
            set.add(sig);
        }
        let mut old = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))
            .map_err(io::Error::from)?;
        Ok(DeferTermination(old))
    }
}

impl Drop for DeferTermination {
    fn drop(&mut self) {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.0), None);
    }
}

/// The bundled programs ([`BUNDLED_PROGRAMS`]) and the stub, built and held
/// in memory: nothing of them stays on disk, so nobody can swap a program
/// between its build and its run.
///
/// [`build`](Self::build) runs `programs/build.sh` in a fresh private
/// folder (random name, mode 0700, created by `mkdir`, so never an
/// existing one), reads the results into memory and removes the folder
/// before it returns, on success and on every error. The stub is kept in a
/// sealed anonymous memory file (`memfd_create`, `F_SEAL_WRITE` and
/// friends), which [`stub_path`](Self::stub_path) names for
/// [`Tracee::spawn`](crate::Tracee::spawn).
#[derive(Debug)]
pub struct BuiltPrograms {
    images: Vec<(&'static str, Vec<u8>)>,
    stub: OwnedFd,
}

impl BuiltPrograms {
    /// Builds the programs in a private folder under the host's temporary
    /// directory (`$TMPDIR`, or `/tmp`); see [`build_in`](Self::build_in).
    pub fn build() -> io::Result<BuiltPrograms> {
        BuiltPrograms::build_in(&std::env::temp_dir())
    }

    /// Builds the programs in a private folder created under `parent`,
    /// which is removed before this returns.
    ///
    /// While the folder exists, `SIGINT`, `SIGTERM`, `SIGHUP` and `SIGQUIT`
    /// are blocked in the calling thread (the compiler's processes still get
    /// them); one that arrives meanwhile takes effect once the folder is
    /// gone. In a single-threaded launcher, no way of ending it leaves the
    /// folder behind, short of `SIGKILL`.
    pub fn build_in(parent: &Path) -> io::Result<BuiltPrograms> {
        let _defer = DeferTermination::new()?;
        let dir = RemoveOnDrop(create_private_dir(parent, "capexec-programs-")?);
        build_programs(&dir.0)?;
        let mut images = Vec::with_capacity(BUNDLED_PROGRAMS.len());
        for &name in BUNDLED_PROGRAMS {
            images.push((name, fs::read(dir.0.join(name))?));
        }
        let stub = sealed_memfd(&fs::read(dir.0.join("stub"))?)?;
        Ok(BuiltPrograms { images, stub })
    }

    /// The bytes of the bundled program `name`, if it is one.
    pub fn image(&self, name: &str) -> Option<&[u8]> {
        self.images
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.as_slice())
    }

    /// A path that executes the stub while `self` lives:
    /// `/proc/self/fd/N` for its sealed memory file (the child started by
    /// [`Tracee::spawn`](crate::Tracee::spawn) inherits `N` up to its
    /// `execve`, which opens the file before closing close-on-exec
    /// descriptors).
    pub fn stub_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.stub.as_raw_fd()))
    }
}

/// An anonymous, close-on-exec memory file holding `bytes`, sealed so that
/// its contents can never change.
fn sealed_memfd(bytes: &[u8]) -> io::Result<OwnedFd> {
    let fd = memfd_create(
        c"capexec-stub",
        MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING,
    )
    .map_err(io::Error::from)?;
    let mut file = fs::File::from(fd);
    file.write_all(bytes)?;
    let fd = OwnedFd::from(file);
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    fcntl(&fd, FcntlArg::F_ADD_SEALS(seals)).map_err(io::Error::from)?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("capexec-native-unit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir(&d).unwrap();
        d
    }

    #[test]
    fn private_dirs_are_fresh_random_and_0700() {
        let parent = scratch("private");
        let a = create_private_dir(&parent, "p-").unwrap();
        let b = create_private_dir(&parent, "p-").unwrap();
        assert_ne!(a, b);
        for d in [&a, &b] {
            let meta = fs::symlink_metadata(d).unwrap();
            assert!(meta.is_dir());
            assert_eq!(meta.permissions().mode() & 0o777, 0o700);
            let name = d.file_name().unwrap().to_str().unwrap();
            assert_eq!(name.len(), "p-".len() + 24, "{name}");
        }
        fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn a_missing_parent_is_an_error_not_created() {
        let scratch = scratch("missing");
        let parent = scratch.join("not-there");
        assert!(create_private_dir(&parent, "p-").is_err());
        assert!(!parent.exists());
        fs::remove_dir(&scratch).unwrap();
    }

    #[test]
    fn sealed_memory_files_cannot_change() {
        let fd = sealed_memfd(b"\x7fELF").unwrap();
        let mut f = fs::File::from(fd);
        assert!(f.write_all(b"x").is_err());
        assert!(f.set_len(0).is_err());
    }
}
