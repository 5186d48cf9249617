//! A traced process as capexec's `Process`, the serving loop that hands
//! every trapped system call to capexec's i386 shim, and the launcher.

use std::path::Path;
use std::sync::Arc;

use capexec::Errno;
use capexec::abi::cloudabi32::Syscall;
use capexec::abi::{Cloudabi32, Cloudabi32Activator, Layout32, Regs32, SyscallAction, syscall32};
use capexec::exec::{
    ExecOutcome, ImageFile, MapRequest, Process, Protection, Sharing, VirtualMemory, copyout,
    exec_sysspace_data_fds, kern_execve,
};
use capexec::fdtable::{Fd, FdTable, File, FileIo, FileType, SharedFdTable};

use capexec_host::HostEntropy;

use crate::memory::WINDOW;
use crate::regs::{regs_from_user, store_regs};
use crate::space::TraceeAddressSpace;
use crate::tracee::{Error, Termination, Tracee, Trap};

/// Where images go in the stub: below the stub (linked at `0x6000_0000`)
/// and its Linux stack (near the top of the 4 GiB space), above the
/// programs (linked at `0x0804_8000`). A 1 MiB stack ends at `0x5000_0000`,
/// capexec's vDSO is mapped right above it; `ET_DYN` images load at 4 MiB. An image reaching the stub
/// (`user_top`) is `ENOEXEC` before the point of no return.
pub const NATIVE_LAYOUT: Layout32 = Layout32 {
    stack_top: 0x5000_0000,
    stack_size: 1 << 20,
    dyn_base: 0x0040_0000,
    ncpus: 1,
    tid: 1,
    sysinfo_ehdr: 0x5000_0000,
    user_top: 0x6000_0000,
};

/// Most argument words a CloudABI system call takes (`mem_map`, `file_link`).
const MAX_ARG_WORDS: usize = 7;

// The bytes kept at each stop hold every argument word of any call.
const _: () = assert!(WINDOW >= 4 * MAX_ARG_WORDS);

/// One system call [`NativeProcess::serve_traced`] served.
#[derive(Debug)]
pub struct SyscallRecord<'a> {
    /// The registers at the trap (`eax` the number, `esp` the stack).
    pub before: &'a Regs32,
    /// The argument words from `esp + 4`, as many as the call takes; `None`
    /// for an unknown number or words that could not be read.
    pub args: Option<&'a [u32]>,
    /// The registers the program resumes with (results or errno).
    pub after: &'a Regs32,
    /// What the shim decided.
    pub action: &'a SyscallAction,
}

/// A CloudABI process running natively: a traced stub whose address space
/// capexec builds and whose descriptor table capexec keeps.
///
/// It is capexec's [`Process`]: `Memory` is the [`TraceeAddressSpace`]
/// (copies through `process_vm_readv`/`writev`, mappings through injected
/// `mmap2`/`mprotect`/`munmap`), `File` is the caller's file type.
pub struct NativeProcess<F: ?Sized> {
    table: SharedFdTable<Arc<F>>,
    space: TraceeAddressSpace,
    layout: Layout32,
    syscalls: u64,
}

/// The calls whose meaning is the kernel's: the clocks, from the host; the others are
/// `ENOSYS`.
impl<F: ?Sized + File + ImageFile> capexec::abi::KernelCalls for NativeProcess<F> {
    fn provides(&self, call: capexec::abi::cloudabi32::Syscall) -> bool {
        use capexec::abi::cloudabi32::Syscall;
        matches!(call, Syscall::clock_res_get | Syscall::clock_time_get)
    }
    fn clock_res_get(&mut self, clock: capexec::abi::cloudabi32::ClockId) -> Result<u64, Errno> {
        crate::clock::read(clock, self.space.tracee().pid(), true)
    }
    fn clock_time_get(
        &mut self,
        clock: capexec::abi::cloudabi32::ClockId,
        _precision: u64,
    ) -> Result<u64, Errno> {
        crate::clock::read(clock, self.space.tracee().pid(), false)
    }
}

impl<F: ?Sized + File + ImageFile> Process for NativeProcess<F> {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    fn install_fd_table_in_place(&mut self, new: &mut capexec::fdtable::FdTable<Self::Handle>) {
        capexec::fdtable::fdinstall_remapped_in_place(self.fd_table(), new);
    }

    // No other process shares this table: exec moves the descriptors it passes.
    fn fd_table_exclusive(&self) -> bool {
        true
    }

    type File = F;
    type Handle = Arc<F>;
    type Memory = TraceeAddressSpace;
    type Lock = capexec::fdtable::DefaultRawMutex;

    fn fd_table(&self) -> &SharedFdTable<Arc<F>> {
        &self.table
    }

    fn memory(&self) -> &TraceeAddressSpace {
        &self.space
    }

    fn memory_mut(&mut self) -> &mut TraceeAddressSpace {
        &mut self.space
    }

    fn virtual_memory(&mut self) -> Option<&mut dyn VirtualMemory<Abi = Cloudabi32>> {
        Some(&mut self.space)
    }

    /// A private copy of a regular file: the bytes from `offset` are read first
    /// (a read error is the call's errno and nothing is mapped), then copied
    /// into a fresh read-write mapping that gets the asked protection. Bytes
    /// past the end of the file read as zero. A shared mapping of a file is
    /// `ENOTSUP` (the runner has no page cache to share); a file that is not
    /// regular is `ENODEV`.
    fn map_file(
        &mut self,
        file: &Arc<F>,
        request: &MapRequest<u32>,
        offset: u64,
    ) -> Result<u32, Errno> {
        if file.file_type() != FileType::RegularFile {
            return Err(Errno::ENODEV);
        }
        if request.sharing == Sharing::Shared {
            return Err(Errno::ENOTSUP);
        }
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(request.len as usize)
            .map_err(|_| Errno::ENOMEM)?;
        bytes.resize(request.len as usize, 0);
        let mut done = 0;
        while done < bytes.len() {
            let at = offset.checked_add(done as u64).ok_or(Errno::EOVERFLOW)?;
            match file.read_at(at, &mut bytes[done..])? {
                0 => break,
                n => done += n,
            }
        }
        let writable = MapRequest {
            prot: Protection::READ | Protection::WRITE,
            ..*request
        };
        let at = self.space.mmap(&writable)?;
        let filled = copyout(&mut self.space, at, &bytes[..done])
            .and_then(|()| self.space.mprotect(at, request.len, request.prot));
        if let Err(e) = filled {
            let _ = self.space.munmap(at, request.len);
            return Err(e);
        }
        Ok(at)
    }
}

impl<F: ?Sized> std::fmt::Debug for NativeProcess<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeProcess")
            .field("space", &self.space)
            .field("layout", &self.layout)
            .field("syscalls", &self.syscalls)
            .finish_non_exhaustive()
    }
}

impl<F> NativeProcess<F>
where
    F: ?Sized + File + FileIo + ImageFile,
{
    /// Starts the stub (`programs/stub.S`, built by
    /// [`build_programs`](crate::build_programs)) under ptrace as a process
    /// holding `table` and no image yet: the launcher process.
    pub fn spawn(stub: &Path, table: FdTable<Arc<F>>) -> Result<Self, Error> {
        Ok(NativeProcess {
            table: SharedFdTable::new(table),
            space: TraceeAddressSpace::new(Tracee::spawn(stub)?),
            layout: NATIVE_LAYOUT,
            syscalls: 0,
        })
    }

    /// Uses `layout` instead of [`NATIVE_LAYOUT`] for the images to come.
    pub fn set_layout(&mut self, layout: Layout32) {
        self.layout = layout;
        self.space.set_user_top(layout.user_top);
    }

    /// The address space (and, through it, the tracee).
    pub fn address_space(&self) -> &TraceeAddressSpace {
        &self.space
    }

    /// The address space, for injecting calls or serving without capexec.
    pub fn address_space_mut(&mut self) -> &mut TraceeAddressSpace {
        &mut self.space
    }

    /// System calls served by [`serve`](Self::serve) so far.
    pub fn syscalls(&self) -> u64 {
        self.syscalls
    }

    /// The launcher's `proc_exec(exe_fd, argdata, fds)`, with the arguments
    /// straight from the runner's memory: capexec's kernel-space exec entry
    /// ([`exec_sysspace_data_fds`], then [`kern_execve`]) makes the checks
    /// of the i386 `proc_exec` in the same order, without laying the
    /// arguments out in the stub. Each `cloudabi_fd_t` in `fds` is read as a
    /// signed 32-bit number, as the system call reads it (2^31 and above are
    /// `EBADF`). On success the new image is in place and stopped at its
    /// entry point; [`serve`](Self::serve) runs it.
    ///
    /// A failure before the point of no return is [`Error::Exec`] and
    /// leaves the launcher as it was; one after it is [`Error::Killed`].
    pub fn exec(&mut self, exe_fd: u32, argdata: &[u8], fds: &[u32]) -> Result<(), Error> {
        let list: Vec<i32> = fds.iter().map(|&fd| fd as i32).collect();
        let args = exec_sysspace_data_fds::<Cloudabi32, _, _>(&self.table, argdata, &list)
            .map_err(Error::Exec)?;
        // As the system call: the arguments' errors come before the executable's.
        let exe = i32::try_from(exe_fd)
            .ok()
            .and_then(|fd| Fd::from_raw(fd).ok())
            .ok_or(Error::Exec(Errno::EBADF))?;
        let mut image_rng = HostEntropy;
        let mut activator = Cloudabi32Activator::new(self.layout, &mut image_rng);
        match kern_execve(self, &mut activator, exe, args) {
            ExecOutcome::Replaced(entry) => self.start(entry.eip, entry.esp, entry.gs_base),
            ExecOutcome::Failed(errno) => Err(Error::Exec(errno)),
            ExecOutcome::Killed(errno) => Err(self.killed(errno)),
            // The traced program has one thread: nothing else single-threads it.
            ExecOutcome::Restart => Err(Error::Unexpected("proc_exec asked for a restart".into())),
        }
    }

    /// Starts the new image at its entry state; a failure kills it.
    fn start(&mut self, eip: u32, esp: u32, gs_base: u32) -> Result<(), Error> {
        let r = self.space.tracee_mut().start_image(eip, esp, gs_base);
        if r.is_err() {
            self.space.tracee_mut().kill();
        }
        r
    }

    /// Kills the tracee after capexec's `Kill`, keeping the host cause.
    fn killed(&mut self, errno: Errno) -> Error {
        self.space.tracee_mut().kill();
        Error::Killed {
            errno,
            cause: self.space.take_error().map(Box::new),
        }
    }

    /// Runs the program, serving each trapped system call with capexec's
    /// [`syscall32`] (a `proc_exec` replaces the image in place), until it
    /// calls `proc_exit` or a signal ends it. The tracee is gone afterwards;
    /// the descriptor table stays for inspection.
    pub fn serve(&mut self) -> Result<Termination, Error> {
        self.serve_traced(&mut |_| {})
    }

    /// [`serve`](Self::serve), showing `observer` every call once it is served:
    /// its number, its argument words and the outcome (what `cloudabi-run
    /// --trace` prints). The argument words the observer sees come from the
    /// same copy from the tracee as the shim's: observing costs no host call.
    pub fn serve_traced(
        &mut self,
        observer: &mut dyn FnMut(&SyscallRecord<'_>),
    ) -> Result<Termination, Error> {
        let mut image_rng = HostEntropy;
        let mut activator = Cloudabi32Activator::new(self.layout, &mut image_rng);
        let mut words = [0u8; 4 * MAX_ARG_WORDS];
        let mut args = [0u32; MAX_ARG_WORDS];
        loop {
            let mut raw = match self.space.tracee_mut().next_syscall()? {
                Trap::Syscall(raw) => raw,
                Trap::Ended(t) => return Ok(t),
            };
            self.syscalls += 1;
            let mut regs = regs_from_user(&raw, true);
            let before = regs;
            // One host read at the stop serves the argument words to the
            // observer here and to the shim's copy-in below, and usually the
            // small buffers on the caller's stack too (an iovec array).
            if let Some(at) = regs.esp.checked_add(4) {
                self.space.tracee_mut().memory_mut().prefetch(at, WINDOW);
            }
            // The words the call takes, read before it runs (it may change them).
            let nargs = Syscall::from_raw(regs.eax)
                .map(|c| usize::from(c.arg_words()))
                .filter(|&n| {
                    regs.esp.checked_add(4).is_some_and(|at| {
                        capexec::exec::copyin(&self.space, at, &mut words[..4 * n]).is_ok()
                    })
                });
            let action = syscall32(self, &mut activator, &mut regs);
            let n = nargs.unwrap_or(0);
            for (arg, w) in args.iter_mut().zip(words.chunks_exact(4)).take(n) {
                *arg = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            }
            observer(&SyscallRecord {
                before: &before,
                args: nargs.map(|n| &args[..n]),
                after: &regs,
                action: &action,
            });
            match action {
                // One thread: a yield or a stop-and-continue simply resumes it.
                SyscallAction::Resume | SyscallAction::Yield | SyscallAction::Stop(_) => {
                    store_regs(&regs, &mut raw);
                    self.space.tracee_mut().set_regs(raw)?;
                }
                SyscallAction::Exec(entry) => self.start(entry.eip, entry.esp, entry.gs_base)?,
                SyscallAction::Exit(code) => {
                    self.space.tracee_mut().kill();
                    return Ok(Termination::Exited(code));
                }
                SyscallAction::Kill(errno) => return Err(self.killed(errno)),
                // The traced program has one thread: nothing else single-threads it.
                SyscallAction::Restart => {
                    return Err(Error::Unexpected("proc_exec asked for a restart".into()));
                }
                SyscallAction::Terminate(sig) => {
                    self.space.tracee_mut().kill();
                    return Ok(Termination::Signaled(host_signal(sig)));
                }
                // The runner reports one thread, so `thread_exit` ends the process.
                SyscallAction::ThreadExit => {
                    return Err(Error::Unexpected("thread_exit of a second thread".into()));
                }
            }
        }
    }
}

/// Runs a CloudABI program natively, as `cloudabi-run --native` does: the
/// stub at `stub` becomes a launcher process holding `launcher_table`,
/// which calls `proc_exec(exe_fd, argdata, fds)` through capexec; the new
/// program is then served until it exits. The program gets exactly the
/// descriptors `fds` names, renumbered from 0.
pub fn run_program<F>(
    stub: &Path,
    launcher_table: FdTable<Arc<F>>,
    exe_fd: u32,
    argdata: &[u8],
    fds: &[u32],
) -> Result<Termination, Error>
where
    F: File + FileIo + ImageFile,
{
    run_program_traced(stub, launcher_table, exe_fd, argdata, fds, &mut |_| {})
}

/// [`run_program`], showing `observer` every system call the program makes
/// (see [`NativeProcess::serve_traced`]).
pub fn run_program_traced<F>(
    stub: &Path,
    launcher_table: FdTable<Arc<F>>,
    exe_fd: u32,
    argdata: &[u8],
    fds: &[u32],
    observer: &mut dyn FnMut(&SyscallRecord<'_>),
) -> Result<Termination, Error>
where
    F: File + FileIo + ImageFile,
{
    let mut p = NativeProcess::spawn(stub, launcher_table)?;
    p.exec(exe_fd, argdata, fds)?;
    p.serve_traced(observer)
}

/// The host signal that stands for a CloudABI signal in a [`Termination`].
fn host_signal(sig: capexec::abi::cloudabi32::Signal) -> nix::sys::signal::Signal {
    use capexec::abi::cloudabi32::Signal as C;
    use nix::sys::signal::Signal as H;
    match sig {
        C::SIGABRT => H::SIGABRT,
        C::SIGALRM => H::SIGALRM,
        C::SIGBUS => H::SIGBUS,
        C::SIGCHLD => H::SIGCHLD,
        C::SIGCONT => H::SIGCONT,
        C::SIGFPE => H::SIGFPE,
        C::SIGHUP => H::SIGHUP,
        C::SIGILL => H::SIGILL,
        C::SIGINT => H::SIGINT,
        C::SIGKILL => H::SIGKILL,
        C::SIGPIPE => H::SIGPIPE,
        C::SIGQUIT => H::SIGQUIT,
        C::SIGSEGV => H::SIGSEGV,
        C::SIGSTOP => H::SIGSTOP,
        C::SIGSYS => H::SIGSYS,
        C::SIGTERM => H::SIGTERM,
        C::SIGTRAP => H::SIGTRAP,
        C::SIGTSTP => H::SIGTSTP,
        C::SIGTTIN => H::SIGTTIN,
        C::SIGTTOU => H::SIGTTOU,
        C::SIGURG => H::SIGURG,
        C::SIGUSR1 => H::SIGUSR1,
        C::SIGUSR2 => H::SIGUSR2,
        C::SIGVTALRM => H::SIGVTALRM,
        C::SIGXCPU => H::SIGXCPU,
        C::SIGXFSZ => H::SIGXFSZ,
    }
}
