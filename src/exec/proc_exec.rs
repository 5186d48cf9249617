//! The `proc_exec` driver: copy in, check, point of no return, install.

use super::copyin::exec_copyin_data_fds;
use super::exec_abi::AbiAddr;
use super::image_args::ImageArgs;
use super::usermem::UserMemory;
use crate::Errno;
use crate::fdtable::{
    Fd, FdTable, File, FileHandle, FileType, Rights, SharedFdTable, fdinstall_remapped,
};

/// The process that calls `proc_exec`, as the driver needs it.
pub trait Process {
    /// The kernel's open-file type.
    type File: ?Sized + File;
    /// The kernel's counted reference to an open file, as the descriptor table holds it
    /// (for example `Arc<Self::File>`).
    type Handle: FileHandle<Target = Self::File>;
    /// The process's user memory, reached through the ABI of the calling program (its
    /// [`UserMemory::Abi`] gives the address width and `ARG_MAX` of the exec).
    type Memory: UserMemory + ?Sized;
    /// The lock of the process's descriptor table (the kernel's own raw mutex, or
    /// [`DefaultRawMutex`](crate::fdtable::DefaultRawMutex)).
    type Lock: lock_api::RawMutex;

    /// Asks the process's other threads to stop before the exec proceeds (FreeBSD
    /// `pre_execve`). Its error comes before every other check. A kernel without threads
    /// keeps the default, which does nothing.
    fn stop_other_threads(&mut self) -> Result<(), Errno> {
        Ok(())
    }

    /// Lets the other threads run again after a failed exec (FreeBSD `post_execve`).
    fn resume_other_threads(&mut self) {}

    /// The process's descriptor table.
    fn fd_table(&self) -> &SharedFdTable<Self::Handle, Self::Lock>;

    /// The process's user memory, for copy-ins.
    fn memory(&self) -> &Self::Memory;

    /// The process's user memory, for the new image's copy-outs.
    fn memory_mut(&mut self) -> &mut Self::Memory;

    /// Installs the new descriptor table after the point of no return and hands the old
    /// one back, to be dropped after every lock is released. The default swaps the
    /// contents of [`fd_table`](Self::fd_table) in place
    /// ([`fdinstall_remapped`]); a kernel whose table handle is also shared with *other
    /// processes* overrides this to give this process a handle of its own (created
    /// before the exec, so nothing is allocated here), leaving the others' table intact.
    fn install_fd_table(&mut self, new: FdTable<Self::Handle>) -> FdTable<Self::Handle> {
        fdinstall_remapped(self.fd_table(), new)
    }
}

/// The two phases of loading a new image.
pub trait ImageActivator<P: Process + ?Sized> {
    /// Everything the second phase needs, allocated in the first.
    type PreparedImage;
    /// The new image's entry state (for i386: `eip`, `esp`, `%gs` base).
    type Entry;

    /// Phase one, before the point of no return: fallible and reversible. Inspects the
    /// executable (`ENOEXEC` if it is not an image this activator runs, or if it would
    /// not fit where it must go), reads from it everything the new image needs, and
    /// allocates the rest (the initial stack image), so that phase two only maps and
    /// copies. Must not change the process.
    fn prepare(
        &mut self,
        process: &P,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
    ) -> Result<Self::PreparedImage, Errno>;

    /// Phase two, after the point of no return: replaces the address space with the new
    /// image and copies the initial stack out, without reading the executable. An error
    /// here (a fault) kills the process.
    fn activate(
        &mut self,
        process: &mut P,
        prepared: Self::PreparedImage,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
    ) -> Result<Self::Entry, Errno>;
}

/// How a `proc_exec` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ExecOutcome<E> {
    /// Failed before the point of no return: the caller is exactly as it was (same table,
    /// same reference counts, same memory); return the errno to it.
    Failed(Errno),
    /// The new image is in place and the remapped table installed; resume the process at
    /// this entry state.
    Replaced(E),
    /// Failed after the point of no return (a fault while building the new image): the
    /// process must be killed. The remapped table was freed; the old table is left for
    /// the kernel's exit path.
    Killed(Errno),
}

/// The executable's descriptor checks, on the caller's table: open (`EBADF`), with the
/// `PROC_EXEC` right (`ENOTCAPABLE`), a regular file (a directory, device or symbolic
/// link is `EACCES`; a socket, process, shared memory or unknown type `EINVAL`).
pub fn check_executable<H: FileHandle, R: lock_api::RawMutex>(
    table: &SharedFdTable<H, R>,
    fd: u32,
) -> Result<H, Errno> {
    let fd = Fd::from_raw(i32::try_from(fd).map_err(|_| Errno::EBADF)?)?;
    let (file, rights) = table.get_file(fd)?;
    if !rights.base.contains(Rights::PROC_EXEC) {
        return Err(Errno::ENOTCAPABLE);
    }
    match file.file_type() {
        FileType::RegularFile => Ok(file),
        FileType::Directory
        | FileType::BlockDevice
        | FileType::CharacterDevice
        | FileType::SymbolicLink => Err(Errno::EACCES),
        FileType::SocketDgram
        | FileType::SocketStream
        | FileType::Process
        | FileType::SharedMemory
        | FileType::Unknown => Err(Errno::EINVAL),
    }
}

/// CloudABI `proc_exec(fd, data, data_len, fds, fds_len)`.
///
/// 1. stop the other threads ([`Process::stop_other_threads`]);
/// 2. [`exec_copyin_data_fds`]: `E2BIG`, `ENOMEM`, `EFAULT`, then the remapped table's
///    `E2BIG` / `EBADF` / `EINVAL`, in one lock section of the caller's table;
/// 3. [`check_executable`] (`EBADF`, `ENOTCAPABLE`, `EACCES`, `EINVAL`), then the
///    activator's [`prepare`](ImageActivator::prepare) (`ENOEXEC`, `ENOMEM`, the file's
///    read errors);
/// 4. **point of no return**: the activator's [`activate`](ImageActivator::activate)
///    builds the new image (a failure kills the process: [`ExecOutcome::Killed`]), then
///    the remapped table is installed and the old one released after the lock is dropped.
///
/// Before step 4 every failure frees the built table through
/// [`fdescfree_remapped`](crate::fdtable::fdescfree_remapped) and leaves the caller as
/// it was. The executable is not passed on unless it is in the list.
///
/// # References
/// - FreeBSD r285622, `sys/compat/cloudabi/cloudabi_proc.c` `cloudabi_sys_proc_exec`,
///   `sys/kern/kern_exec.c` `kern_execve` / `do_execve`.
pub fn proc_exec<P, A>(
    process: &mut P,
    activator: &mut A,
    fd: u32,
    data: AbiAddr<P::Memory>,
    data_len: AbiAddr<P::Memory>,
    fds: AbiAddr<P::Memory>,
    fds_len: AbiAddr<P::Memory>,
) -> ExecOutcome<A::Entry>
where
    P: Process + ?Sized,
    A: ImageActivator<P> + ?Sized,
{
    if let Err(e) = process.stop_other_threads() {
        return ExecOutcome::Failed(e);
    }
    let before = (|| {
        let args = exec_copyin_data_fds(
            process.fd_table(),
            process.memory(),
            data,
            data_len,
            fds,
            fds_len,
        )?;
        let exe = check_executable(process.fd_table(), fd)?;
        let prepared = activator.prepare(process, &exe, &args)?;
        Ok((args, exe, prepared))
    })();
    let (mut args, exe, prepared) = match before {
        Ok(v) => v,
        Err(e) => {
            process.resume_other_threads();
            return ExecOutcome::Failed(e);
        }
    };
    // Point of no return.
    let entry = match activator.activate(process, prepared, &exe, &args) {
        Ok(entry) => entry,
        // Dropping `args` frees the remapped table (`fdescfree_remapped`).
        Err(e) => return ExecOutcome::Killed(e),
    };
    if let Some(new) = args.take_table() {
        let old = process.install_fd_table(new);
        // The lock is released: the old table's files are released here.
        drop(old);
    }
    ExecOutcome::Replaced(entry)
}
