//! The built-in programs. Each runs as the new image would: it learns its argument data
//! from the initial stack and auxiliary vector (the program's side of the ABI), and does
//! its I/O with real CloudABI system calls, trapped through the i386 shim with register
//! frames on its own simulated stack.

use std::io::Write;

use capexec::Errno;
use capexec::abi::cloudabi32::{FDSTAT_SIZE, Syscall};
use capexec::abi::{
    Cloudabi32Activator, Layout32, Regs32, SyscallAction, read_argdata, read_start_info, syscall32,
};
use capexec::argdata::{ArgdataRef, print_yaml};
use capexec::exec::{copyin, copyout};
use capexec::fdtable::{Fd, FileType, Rights};
use capexec_sim::SimProcess;

use capexec_host::{HostEntropy, HostFile};
use cloudabi_run::trace::describe;

/// How a program ended.
pub enum Exit {
    /// `proc_exit(code)`.
    Code(u32),
    /// The process died.
    Killed(String),
}

/// A running built-in program: its process and registers.
pub struct User<'a> {
    proc: &'a mut SimProcess<HostFile>,
    regs: Regs32,
    trace: bool,
    /// Bottom of the scratch area the program uses on its stack.
    scratch: u32,
}

impl<'a> User<'a> {
    /// The program that starts with `regs` (the entry state the shim returned).
    pub fn new(proc: &'a mut SimProcess<HostFile>, regs: Regs32, trace: bool) -> User<'a> {
        let scratch = regs.esp.saturating_sub(0x1_0000);
        User {
            proc,
            regs,
            trace,
            scratch,
        }
    }

    /// Traps system call `call` with `args` as the vDSO would: the words at `esp + 4`.
    fn syscall(&mut self, call: Syscall, args: &[u32]) -> Result<Result<(u32, u32), Errno>, Exit> {
        let esp = self.scratch;
        let words: Vec<u8> = args.iter().flat_map(|w| w.to_le_bytes()).collect();
        if let Err(e) = copyout(&mut self.proc.mem, esp + 4, &words) {
            return Err(Exit::Killed(format!("stack fault: {e}")));
        }
        let saved = self.regs;
        self.regs.eax = call.raw();
        self.regs.esp = esp;
        let mut exec_rng = HostEntropy;
        let mut act = Cloudabi32Activator::new(Layout32::default(), &mut exec_rng);
        let action = syscall32(self.proc, &mut act, &mut self.regs);
        if self.trace {
            let outcome = crate::sim::outcome(&action, &self.regs);
            eprintln!("  {}", describe(call.raw(), Some(args), &outcome));
        }
        match action {
            SyscallAction::Resume => {
                let r = if self.regs.carry() {
                    Err(u16::try_from(self.regs.eax)
                        .ok()
                        .and_then(Errno::from_raw)
                        .unwrap_or(Errno::EIO))
                } else {
                    Ok((self.regs.eax, self.regs.edx))
                };
                self.regs.esp = saved.esp;
                Ok(r)
            }
            SyscallAction::Exit(c) => Err(Exit::Code(c)),
            SyscallAction::Kill(e) => Err(Exit::Killed(format!("killed: {e}"))),
            SyscallAction::Exec(_) => Err(Exit::Killed("unexpected exec".into())),
            // The simulated process has one thread: nothing else single-threads it.
            SyscallAction::Restart => Err(Exit::Killed("unexpected restart".into())),
            SyscallAction::Terminate(sig) => Err(Exit::Killed(format!("killed by {}", sig.name()))),
            // One thread: a yield or a stop-and-continue returns success.
            SyscallAction::Yield | SyscallAction::Stop(_) => {
                self.regs.esp = saved.esp;
                Ok(Ok((0, 0)))
            }
            SyscallAction::ThreadExit => Err(Exit::Killed("unexpected thread_exit".into())),
        }
    }

    /// `fd_write(fd, [data])` with the buffer and the iovec on the program's stack.
    fn write(&mut self, fd: i32, data: &[u8]) -> Result<Result<u32, Errno>, Exit> {
        let fd = u32::try_from(fd).unwrap_or(u32::MAX);
        let iov = self.scratch + 0x100;
        let buf = self.scratch + 0x200;
        let len = u32::try_from(data.len()).unwrap_or(0).min(0x8000);
        let mut v = buf.to_le_bytes().to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        let copied = copyout(&mut self.proc.mem, iov, &v)
            .and_then(|()| copyout(&mut self.proc.mem, buf, &data[..len as usize]));
        if let Err(e) = copied {
            return Err(Exit::Killed(format!("stack fault: {e}")));
        }
        Ok(self
            .syscall(Syscall::fd_write, &[fd, iov, 1])?
            .map(|(n, _)| n))
    }

    /// `fd_read(fd, [buf])` of at most `len` bytes (up to 32 KiB), into a buffer on the
    /// program's stack.
    fn read(&mut self, fd: i32, len: u32) -> Result<Result<Vec<u8>, Errno>, Exit> {
        let fd = u32::try_from(fd).unwrap_or(u32::MAX);
        let iov = self.scratch + 0x100;
        let buf = self.scratch + 0x200;
        let len = len.min(0x8000);
        let mut v = buf.to_le_bytes().to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        if let Err(e) = copyout(&mut self.proc.mem, iov, &v) {
            return Err(Exit::Killed(format!("stack fault: {e}")));
        }
        match self.syscall(Syscall::fd_read, &[fd, iov, 1])? {
            Ok((n, _)) => {
                let mut data = vec![0u8; n.min(len) as usize];
                copyin(&self.proc.mem, buf, &mut data)
                    .map_err(|e| Exit::Killed(format!("fault: {e}")))?;
                Ok(Ok(data))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    /// `fd_stat_get(fd)`: the 24-byte `cloudabi_fdstat_t`.
    fn fd_stat_get(&mut self, fd: u32) -> Result<Result<[u8; FDSTAT_SIZE], Errno>, Exit> {
        let buf = self.scratch + 0x100;
        match self.syscall(Syscall::fd_stat_get, &[fd, buf])? {
            Ok(_) => {
                let mut st = [0u8; FDSTAT_SIZE];
                copyin(&self.proc.mem, buf, &mut st)
                    .map_err(|e| Exit::Killed(format!("fault: {e}")))?;
                Ok(Ok(st))
            }
            Err(e) => Ok(Err(e)),
        }
    }

    /// `proc_exit(code)`.
    fn exit(&mut self, code: u32) -> Exit {
        match self.syscall(Syscall::proc_exit, &[code]) {
            Err(end) => end,
            Ok(_) => Exit::Killed("proc_exit returned".into()),
        }
    }

    /// The argument data, found as cloudlibc's crt0 finds it.
    fn argdata(&self) -> Result<Vec<u8>, Exit> {
        let info = read_start_info(&self.proc.mem, self.regs.esp)
            .map_err(|e| Exit::Killed(format!("reading the auxiliary vector: {e}")))?;
        read_argdata(&self.proc.mem, &info)
            .map_err(|e| Exit::Killed(format!("reading the argument data: {e}")))
    }
}

/// `hello`: writes `Hello, world` to every descriptor in its sequence (the man page's
/// program). Elements that are not descriptors are skipped. Exits 0 when every write
/// wrote the whole line, 1 when any failed or was short.
pub fn hello(u: &mut User<'_>) -> Exit {
    const LINE: &[u8] = b"Hello, world\n";
    run(u, |u, data| {
        let ad = ArgdataRef::for_program(data);
        let mut failed = false;
        if let Ok(seq) = ad.seq() {
            for item in seq.map_while(Result::ok) {
                if let Ok(fd) = item.read_fd() {
                    failed |= u.write(fd, LINE)? != Ok(LINE.len() as u32);
                }
            }
        }
        Ok(u32::from(failed))
    })
}

/// `copy`: one `fd_read` of at most `bytes` bytes (default 4096) from the descriptor
/// `from`, written to the descriptor `to`, from an argument data map
/// `{from: FD, to: FD, bytes: N}`. Exits 0 when it wrote everything it read, 1 otherwise.
pub fn copy(u: &mut User<'_>) -> Exit {
    run(u, |u, data| {
        let (mut from, mut to, mut bytes) = (None, None, 4096u32);
        if let Ok(map) = ArgdataRef::for_program(data).map() {
            for (k, v) in map.map_while(Result::ok) {
                match k.read_str() {
                    Ok("from") => from = v.read_fd().ok(),
                    Ok("to") => to = v.read_fd().ok(),
                    Ok("bytes") => bytes = v.read_int().unwrap_or(bytes),
                    _ => {}
                }
            }
        }
        let (Some(from), Some(to)) = (from, to) else {
            return Ok(2);
        };
        let Ok(got) = u.read(from, bytes)? else {
            return Ok(1);
        };
        Ok(match u.write(to, &got)? {
            Ok(n) if n as usize == got.len() => 0,
            _ => 1,
        })
    })
}

/// `argdata`: prints its argument data as YAML on the launcher's standard output,
/// exactly as `argdata_print_yaml` does.
pub fn argdata(u: &mut User<'_>) -> Exit {
    run(u, |_, data| {
        let mut out = String::new();
        if let Err(e) = print_yaml(ArgdataRef::for_program(data), &mut out) {
            eprintln!("argdata: {e}");
            return Ok(1);
        }
        Ok(to_window(&out))
    })
}

fn type_name(raw: u8) -> &'static str {
    match FileType::from_raw(raw) {
        Some(FileType::Unknown) | None => "UNKNOWN",
        Some(FileType::BlockDevice) => "BLOCK_DEVICE",
        Some(FileType::CharacterDevice) => "CHARACTER_DEVICE",
        Some(FileType::Directory) => "DIRECTORY",
        Some(FileType::Process) => "PROCESS",
        Some(FileType::RegularFile) => "REGULAR_FILE",
        Some(FileType::SharedMemory) => "SHARED_MEMORY",
        Some(FileType::SocketDgram) => "SOCKET_DGRAM",
        Some(FileType::SocketStream) => "SOCKET_STREAM",
        Some(FileType::SymbolicLink) => "SYMBOLIC_LINK",
    }
}

/// The names of the rights in `bits`, joined with `|`.
pub fn rights_names(bits: u64) -> String {
    let r = Rights::from_bits_retain(bits);
    let names: Vec<&str> = r.iter_names().map(|(n, _)| n).collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join("|")
    }
}

/// `procstat`: lists its descriptor table like `procstat -f`, asking the kernel with
/// `fd_stat_get` on 0, 1, 2, ... until `EBADF`. What each descriptor refers to comes from
/// the simulator's view of the kernel table (a window no real program has).
pub fn procstat(u: &mut User<'_>) -> Exit {
    run(u, |u, _| {
        let mut out =
            String::from("  FD TYPE             BASE RIGHTS        INHERITING         NAME\n");
        for fd in 0u32.. {
            let st = match u.fd_stat_get(fd)? {
                Ok(st) => st,
                Err(Errno::EBADF) => break,
                Err(e) => {
                    out.push_str(&format!("{fd:4} error {e}\n"));
                    break;
                }
            };
            let base = u64::from_le_bytes(st[8..16].try_into().unwrap_or([0; 8]));
            let inh = u64::from_le_bytes(st[16..24].try_into().unwrap_or([0; 8]));
            let name = i32::try_from(fd)
                .ok()
                .and_then(|n| Fd::from_raw(n).ok())
                .and_then(|f| {
                    u.proc
                        .table
                        .lock()
                        .file(f)
                        .ok()
                        .map(|f| f.name().to_string())
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "{fd:4} {:<16} {base:#018x} {inh:#018x} {name}\n",
                type_name(st[0])
            ));
            out.push_str(&format!("     rights: {}\n", rights_names(base)));
        }
        Ok(to_window(&out))
    })
}

/// Prints a report on the launcher's standard output (the simulation's window onto
/// the world); the program's exit value: 0, or 1 if the output failed.
fn to_window(report: &str) -> u32 {
    let mut stdout = std::io::stdout().lock();
    let ok = stdout
        .write_all(report.as_bytes())
        .and_then(|()| stdout.flush())
        .is_ok();
    if ok { 0 } else { 1 }
}

/// Runs `body` with the program's argument data, then `proc_exit`s with its value.
fn run(u: &mut User<'_>, body: impl FnOnce(&mut User<'_>, &[u8]) -> Result<u32, Exit>) -> Exit {
    let data = match u.argdata() {
        Ok(d) => d,
        Err(end) => return end,
    };
    match body(u, &data) {
        Ok(code) => u.exit(code),
        Err(end) => end,
    }
}
