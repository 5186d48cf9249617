//! `cargo run -p capexec-kernel`: builds capexec's reference i386 kernel and boots it in
//! QEMU with the serial console on this terminal.
//!
//! 1. builds the test programs of `programs/` (`programs/build.sh`, gcc with 32-bit
//!    support);
//! 2. builds the freestanding kernel in `kernel/image` with its own target, flags and
//!    target directory (`kernel/image/.cargo/config.toml`), embedding the programs and
//!    the real cloudlibc programs (fixtures kept outside the repository: see
//!    [`realprog_dir`]);
//! 3. runs `qemu-system-i386 -kernel` with COM1 on standard output and QEMU's
//!    `isa-debug-exit` device, under a time limit.
//!
//! Exit status: 0 when the kernel reports that every program ended as expected, 1 when
//! it reports otherwise, 2 when the kernel could not be built or booted, or hung.
//! `CAPEXEC_KERNEL_TIMEOUT` (seconds, default 120) bounds the boot.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The QEMU exit status of the kernel's verdicts (`2v + 1` for the value `v` written to
/// the isa-debug-exit port).
const QEMU_PASS: i32 = 1;
const QEMU_FAIL: i32 = 3;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("capexec-kernel: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository root")?
        .to_path_buf();
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("capexec-kernel");
    let programs = target.join("programs");
    let realprog = match realprog_dir(&root) {
        Ok(dir) => Some(dir),
        Err(e) if env::var_os(REALPROG_ABSENT).is_some() => {
            eprintln!(
                "capexec-kernel: real programs ABSENT ({e}): {REALPROG_ABSENT} is set, they do not run"
            );
            None
        }
        Err(e) => return Err(format!("{e}; set {REALPROG_ABSENT}=1 to boot without them")),
    };
    let image = build(&root, &target, &programs, realprog.as_deref())?;
    let timeout = env::var("CAPEXEC_KERNEL_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    boot(&image, Duration::from_secs(timeout))
}

/// Names the folder of the real cloudlibc programs.
const REALPROG_DIR: &str = "CAPEXEC_REALPROG_DIR";
/// An explicit opt-out (CI never sets it): boot without the real programs when their
/// folder is absent, instead of failing.
const REALPROG_ABSENT: &str = "CAPEXEC_REALPROG_ABSENT";

/// The real cloudlibc programs (fixtures kept outside the repository):
/// `CAPEXEC_REALPROG_DIR`, else the first `shared/realprog/bin` beside the repository
/// or one of its parents, as the other real-program tests find them.
fn realprog_dir(root: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = env::var_os(REALPROG_DIR) {
        let dir = PathBuf::from(dir);
        return if dir.is_dir() {
            Ok(dir)
        } else {
            Err(format!("{REALPROG_DIR}={} is not a folder", dir.display()))
        };
    }
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    root.ancestors()
        .skip(1)
        .map(|a| a.join("shared/realprog/bin"))
        .find(|d| d.is_dir())
        .ok_or_else(|| {
            format!(
                "no shared/realprog/bin beside {} or its parents",
                root.display()
            )
        })
}

/// Builds the programs and the kernel; returns the kernel's ELF file.
fn build(
    root: &Path,
    target: &Path,
    programs: &Path,
    realprog: Option<&Path>,
) -> Result<PathBuf, String> {
    eprintln!(
        "capexec-kernel: building programs/ into {}",
        programs.display()
    );
    check(
        Command::new("sh")
            .arg(root.join("programs/build.sh"))
            .arg(programs),
        "programs/build.sh (needs gcc with 32-bit support: Debian gcc-multilib)",
    )?;
    eprintln!("capexec-kernel: building the kernel (kernel/image)");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let kernel_dir = root.join("kernel/image");
    let build_dir = target.join("build");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&kernel_dir)
        .args(["build", "--release", "--target-dir"])
        .arg(&build_dir)
        // The kernel's flags come from kernel/image/.cargo/config.toml alone.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env("CAPEXEC_KERNEL_PROGRAMS", programs);
    match realprog {
        Some(dir) => cmd.env("CAPEXEC_KERNEL_REALPROG", dir),
        None => cmd.env_remove("CAPEXEC_KERNEL_REALPROG"),
    };
    check(&mut cmd, "building kernel/image")?;
    Ok(build_dir.join("i686-unknown-linux-gnu/release/capexec-kernel-image"))
}

fn check(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Boots `image` and waits for QEMU, at most `limit`.
fn boot(image: &Path, limit: Duration) -> Result<ExitCode, String> {
    let mut qemu = Command::new("qemu-system-i386");
    qemu.arg("-kernel")
        .arg(image)
        .args(["-m", "128M", "-display", "none", "-monitor", "none"])
        .args(["-serial", "stdio", "-no-reboot"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .stdin(Stdio::null());
    eprintln!("capexec-kernel: booting {}", image.display());
    let start = Instant::now();
    let mut child = qemu
        .spawn()
        .map_err(|e| format!("qemu-system-i386: {e} (Debian: apt-get install qemu-system-x86)"))?;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "the kernel did not shut down within {}s",
                limit.as_secs()
            ));
        }
        thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    eprintln!(
        "capexec-kernel: QEMU ran {} ms from boot to shutdown",
        elapsed.as_millis()
    );
    match status.code() {
        Some(QEMU_PASS) => {
            eprintln!("capexec-kernel: every program ended as expected");
            Ok(ExitCode::SUCCESS)
        }
        Some(QEMU_FAIL) => {
            eprintln!("capexec-kernel: the kernel reports a failure");
            Ok(ExitCode::FAILURE)
        }
        _ => Err(format!(
            "QEMU ended without the kernel's verdict ({status})"
        )),
    }
}
