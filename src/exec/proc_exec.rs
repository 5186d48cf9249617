//! The `proc_exec` driver: copy in, check, point of no return, install.

use alloc::vec::Vec;

use super::copyin::exec_copyin_data_fds_into;
use super::exec_abi::AbiAddr;
use super::image_args::ImageArgs;
use super::usermem::UserMemory;
use super::vm::{MapRequest, VirtualMemory};
use crate::Errno;
#[cfg(doc)]
use crate::fdtable::fdinstall_remapped;
#[cfg(doc)]
use crate::fdtable::fdinstall_remapped_in_place;
use crate::fdtable::{Fd, FdTable, File, FileHandle, FileType, Rights, SharedFdTable};

/// The process that calls `proc_exec`, as the driver needs it.
///
/// # Example
///
/// A kernel's process: its table shared by its threads only, its memory, and the
/// single-threading protocol of its scheduler.
///
/// ```
/// use std::sync::Arc;
///
/// use capexec::Errno;
/// use capexec::abi::Cloudabi32;
/// use capexec::exec::{
///     ExecOutcome, ImageActivator, ImageArgs, Process, Restart, SingleThreadEnd, UserAccess,
///     UserMemory, proc_exec,
/// };
/// use capexec::fdtable::{DefaultRawMutex, FdTable, File, FileType, SharedFdTable, fdinstall_remapped};
///
/// struct Vnode;
/// impl File for Vnode {
///     fn file_type(&self) -> FileType {
///         FileType::RegularFile
///     }
/// }
///
/// /// Nothing mapped (a real kernel walks its page tables).
/// struct NoMemory;
/// impl UserMemory for NoMemory {
///     type Abi = Cloudabi32;
///     fn read_user(&self, _: u32, _: &mut [u8]) -> Result<(), Errno> {
///         Err(Errno::EFAULT)
///     }
///     fn write_user(&mut self, _: u32, _: &[u8]) -> Result<(), Errno> {
///         Err(Errno::EFAULT)
///     }
///     fn check_access(&self, _: u32, _: usize, _: UserAccess) -> Result<(), Errno> {
///         Err(Errno::EFAULT)
///     }
/// }
///
/// struct KernelProcess {
///     table: SharedFdTable<Arc<Vnode>>,
///     mem: NoMemory,
///     /// Another thread is single-threading this process (the scheduler knows).
///     single_threaded_by_other: bool,
/// }
///
/// impl Process for KernelProcess {
///     type File = Vnode;
///     type Handle = Arc<Vnode>;
///     type Memory = NoMemory;
///     type Lock = DefaultRawMutex;
///
///     fn single_thread_begin(&mut self) -> Result<(), Restart> {
///         if self.single_threaded_by_other {
///             return Err(Restart);
///         }
///         // ... ask the other threads to stop at the boundary and wait for them ...
///         Ok(())
///     }
///     fn single_thread_end(&mut self, how: SingleThreadEnd) {
///         match how {
///             SingleThreadEnd::Resume => { /* let the other threads run on */ }
///             SingleThreadEnd::Exit => { /* make the other threads exit */ }
///         }
///     }
///     fn fd_table(&self) -> &SharedFdTable<Arc<Vnode>> {
///         &self.table
///     }
///     fn memory(&self) -> &NoMemory {
///         &self.mem
///     }
///     fn memory_mut(&mut self) -> &mut NoMemory {
///         &mut self.mem
///     }
///     fn install_fd_table(&mut self, new: FdTable<Arc<Vnode>>) -> FdTable<Arc<Vnode>> {
///         // Only this process's threads share the table: swap it in place.
///         fdinstall_remapped(&self.table, new)
///     }
/// }
///
/// /// A kernel with no image format yet.
/// struct NoFormat;
/// impl ImageActivator<KernelProcess> for NoFormat {
///     type PreparedImage = ();
///     type Entry = ();
///     fn prepare(&mut self, _: &KernelProcess, _: &Arc<Vnode>, _: &ImageArgs<Arc<Vnode>>)
///     -> Result<(), Errno> {
///         Err(Errno::ENOEXEC)
///     }
///     fn activate(&mut self, _: &mut KernelProcess, _: (), _: &Arc<Vnode>, _: &ImageArgs<Arc<Vnode>>)
///     -> Result<(), Errno> {
///         unreachable!("prepare never succeeds")
///     }
/// }
///
/// let mut p = KernelProcess {
///     table: SharedFdTable::new(FdTable::new()),
///     mem: NoMemory,
///     single_threaded_by_other: true,
/// };
/// assert_eq!(proc_exec(&mut p, &mut NoFormat, 0, 0, 0, 0, 0), ExecOutcome::Restart);
/// p.single_threaded_by_other = false;
/// // No descriptor 0: the executable check fails before the activator is asked.
/// assert_eq!(proc_exec(&mut p, &mut NoFormat, 0, 0, 0, 0, 0), ExecOutcome::Failed(Errno::EBADF));
/// ```
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

    /// Makes the calling thread the only one running in the process before the exec
    /// proceeds: FreeBSD's `pre_execve`, `thread_single(p, SINGLE_BOUNDARY)`. The other
    /// threads are stopped at the user boundary (a kernel with its own scheduler may block
    /// here until they are). Called first, before every other check; every call that
    /// returns `Ok` is matched by exactly one [`single_thread_end`](Self::single_thread_end).
    ///
    /// If another thread is already single-threading the process (or this thread is
    /// being stopped), FreeBSD fails the exec with `ERESTART`: return [`Restart`], and
    /// [`proc_exec`] reports [`ExecOutcome::Restart`] without touching anything; the
    /// kernel lets this thread be stopped and restarts the system call afterwards. A
    /// kernel without threads keeps the default, which does nothing.
    ///
    /// # References
    /// - FreeBSD `sys/kern/kern_exec.c` `pre_execve`; `sys/kern/kern_thread.c`
    ///   `thread_single`.
    fn single_thread_begin(&mut self) -> Result<(), Restart> {
        Ok(())
    }

    /// Ends the single-threading of [`single_thread_begin`](Self::single_thread_begin),
    /// after the exec: FreeBSD's `post_execve`. `how` is [`SingleThreadEnd::Resume`] when
    /// the exec failed before its point of no return (`thread_single_end(p,
    /// SINGLE_BOUNDARY)`: the other threads run on), [`SingleThreadEnd::Exit`] when it
    /// went past it (`thread_single(p, SINGLE_EXIT)`: the other threads exit, as the old
    /// image is gone). The default does nothing.
    ///
    /// # References
    /// - FreeBSD `sys/kern/kern_exec.c` `post_execve`; `sys/kern/kern_thread.c`
    ///   `thread_single`, `thread_single_end`.
    fn single_thread_end(&mut self, how: SingleThreadEnd) {
        let _ = how;
    }

    /// The process's descriptor table.
    fn fd_table(&self) -> &SharedFdTable<Self::Handle, Self::Lock>;

    /// The process's user memory, for copy-ins.
    fn memory(&self) -> &Self::Memory;

    /// The process's user memory, for the new image's copy-outs.
    fn memory_mut(&mut self) -> &mut Self::Memory;

    /// The process's virtual memory, as the `mem_*` system calls change it; `None` (the
    /// default) when the kernel does not map memory on a program's request, and those
    /// calls are then `ENOSYS`. A kernel usually returns its [`Self::memory_mut`]:
    /// `Some(&mut self.vm)`.
    fn virtual_memory(
        &mut self,
    ) -> Option<&mut dyn VirtualMemory<Abi = <Self::Memory as UserMemory>::Abi>> {
        None
    }

    /// Maps `file` from byte `offset` as `request` asks (`mem_map` without `MAP_ANON`)
    /// and returns the address. capexec has validated the request as for
    /// [`VirtualMemory::mmap`], made `offset` page-aligned, and checked the descriptor's
    /// rights (`MEM_MAP`; `FD_READ` to read, `FD_WRITE` to write a shared mapping,
    /// `MEM_MAP_EXEC` to execute). The kernel's own checks follow FreeBSD's `fo_mmap`:
    /// `ENODEV` for a file that cannot be mapped (the default answers so for every
    /// file), `EACCES` for a shared writable mapping of a file not open for writing,
    /// `ENXIO` for an offset the object does not have.
    ///
    /// # References
    /// - FreeBSD `sys/vm/vm_mmap.c` (`kern_mmap`, `vn_mmap`); `mmap(2)`.
    fn map_file(
        &mut self,
        file: &Self::Handle,
        request: &MapRequest<AbiAddr<Self::Memory>>,
        offset: u64,
    ) -> Result<AbiAddr<Self::Memory>, Errno> {
        let _ = (file, request, offset);
        Err(Errno::ENODEV)
    }

    /// Installs the new descriptor table after the point of no return and hands the old
    /// one back, to be dropped after every lock is released. Cannot fail and must not
    /// allocate.
    ///
    /// There is no default, because the right answer depends on who else holds the
    /// table: when only this process's threads share it, swap its contents in place
    /// with [`fdinstall_remapped`]`(self.fd_table(), new)`; when *other processes* share
    /// it too, give this process a table of its own (its handle created before the exec)
    /// and leave theirs intact.
    ///
    /// # References
    /// - FreeBSD r285622 `fdinstall_remapped`; `sys/kern/kern_descrip.c` `fdunshare`.
    fn install_fd_table(&mut self, new: FdTable<Self::Handle>) -> FdTable<Self::Handle>;

    /// [`install_fd_table`](Self::install_fd_table) in place, what the exec driver
    /// calls: `new` (built in place by the driver) becomes the process's table and
    /// holds the old one afterwards, dropped by the driver after every lock is
    /// released. Cannot fail and must not allocate.
    ///
    /// The default moves `new` through [`install_fd_table`](Self::install_fd_table). A
    /// kernel that swaps in place there overrides this with
    /// [`fdinstall_remapped_in_place`]`(self.fd_table(), new)`, which moves neither table
    /// (a table is hundreds of bytes).
    ///
    /// # References
    /// - FreeBSD r285622 `fdinstall_remapped` (a pointer swap).
    fn install_fd_table_in_place(&mut self, new: &mut FdTable<Self::Handle>) {
        let installed = core::mem::take(new);
        *new = self.install_fd_table(installed);
    }

    /// Whether this process is the only user of [`fd_table`](Self::fd_table) (its own
    /// threads apart): no other process shares it. Default `false`.
    ///
    /// When `true`, [`proc_exec`] passes descriptors by *moving* them: the copy-in
    /// checks the list and lays out the new table without taking any reference, and at
    /// the point of no return, in one lock section, the list is checked again and each
    /// handle it names moves from the old table into the new one, which is swapped in
    /// (`install_fd_table*` is then not called). A descriptor passed costs no reference
    /// count operation, where taking a reference and dropping the old table's costs two
    /// atomic ones. If a thread the kernel did not stop changed one of the listed
    /// descriptors in between, the exec returns [`ExecOutcome::Restart`] with nothing
    /// changed. Return `false` when other processes may share the table: moving would
    /// take their descriptors.
    ///
    /// # References
    /// - FreeBSD `sys/kern/kern_exec.c` `do_execve` (`fdunshare` before the image is
    ///   activated: the exec'ing process's table is its own).
    fn fd_table_exclusive(&self) -> bool {
        false
    }

    /// Storage for the argument data of an exec by this process: [`proc_exec`] copies
    /// the data into it (growing it, fallibly, only when it is too small) and hands it
    /// back through [`put_arg_buffer`](Self::put_arg_buffer) when the exec ends,
    /// whatever its outcome. The default is an empty vector: each exec with data then
    /// allocates its buffer and frees it. A kernel that keeps buffers ready (FreeBSD
    /// takes one from its preallocated `exec_map`) saves that allocation and free.
    ///
    /// # References
    /// - FreeBSD `sys/kern/kern_exec.c` `exec_alloc_args`, `exec_free_args`.
    fn take_arg_buffer(&mut self) -> Vec<u8> {
        Vec::new()
    }

    /// Takes back the buffer of [`take_arg_buffer`](Self::take_arg_buffer), holding the
    /// last exec's argument data (clear it if that matters). The default frees it.
    fn put_arg_buffer(&mut self, buf: Vec<u8>) {
        drop(buf);
    }
}

/// The two phases of loading a new image.
///
/// The reference activator for static ELF32 i386 CloudABI images is
/// `capexec::abi::Cloudabi32Activator` (feature `abi-i386`); the [`Process`] example
/// shows the smallest one (a kernel that refuses every image with `ENOEXEC`). Phase
/// one must leave the process as it was; phase two may only map and copy what phase one
/// prepared, since its failure kills the process.
///
/// # Example
///
/// A kernel's own flat format: the file holds the code, loaded at 0x1000 and entered
/// there. Phase one reads the whole file (fallibly allocated) and checks it fits; phase
/// two only resets the address space, maps and copies.
///
/// ```
/// # use std::sync::Arc;
/// # use capexec::abi::Cloudabi32;
/// # use capexec::fdtable::{DefaultRawMutex, FdTable, File, FileType, SharedFdTable, fdinstall_remapped};
/// # use capexec::exec::{AddressSpace, UserAccess, UserMemory};
/// use capexec::Errno;
/// use capexec::exec::{copyout, ImageActivator, ImageArgs, ImageFile, Process, Protection};
///
/// const LOAD_AT: u32 = 0x1000;
/// const MAX_IMAGE: usize = 64 * 1024;
///
/// struct FlatBinary;
///
/// impl<P> ImageActivator<P> for FlatBinary
/// where
///     P: Process<Memory = Ram> + ?Sized,
///     P::File: ImageFile,
/// {
///     /// The file's bytes, read before the point of no return.
///     type PreparedImage = Vec<u8>;
///     /// The entry address.
///     type Entry = u32;
///
///     fn prepare(&mut self, _: &P, exe: &P::Handle, _: &ImageArgs<P::Handle>)
///         -> Result<Vec<u8>, Errno>
///     {
///         let mut code = Vec::new();
///         code.try_reserve_exact(MAX_IMAGE + 1).map_err(|_| Errno::ENOMEM)?;
///         code.resize(MAX_IMAGE + 1, 0);
///         let mut len = 0;
///         loop {
///             let n = exe.read_at(len as u64, &mut code[len..])?;
///             if n == 0 { break; }
///             len += n;
///             if len > MAX_IMAGE { return Err(Errno::ENOEXEC); } // too large: refused
///         }
///         if len == 0 { return Err(Errno::ENOEXEC); }
///         code.truncate(len);
///         Ok(code)
///     }
///
///     fn activate(&mut self, p: &mut P, code: Vec<u8>, _: &P::Handle, _: &ImageArgs<P::Handle>)
///         -> Result<u32, Errno>
///     {
///         let mem = p.memory_mut();
///         mem.reset();
///         let len = code.len() as u32; // at most MAX_IMAGE, checked in phase one
///         mem.map_region(LOAD_AT, len, Protection::READ | Protection::WRITE)?;
///         copyout(mem, LOAD_AT, &code)?;
///         mem.protect_region(LOAD_AT, len, Protection::READ | Protection::EXEC)?;
///         Ok(LOAD_AT)
///     }
/// }
/// # struct Ram { bytes: Vec<u8>, mapped: bool }
/// # impl UserMemory for Ram {
/// #     type Abi = Cloudabi32;
/// #     fn read_user(&self, a: u32, b: &mut [u8]) -> Result<(), Errno> {
/// #         let r = self.bytes.get(a as usize..a as usize + b.len()).ok_or(Errno::EFAULT)?;
/// #         b.copy_from_slice(r); Ok(())
/// #     }
/// #     fn write_user(&mut self, a: u32, d: &[u8]) -> Result<(), Errno> {
/// #         let r = self.bytes.get_mut(a as usize..a as usize + d.len()).ok_or(Errno::EFAULT)?;
/// #         r.copy_from_slice(d); Ok(())
/// #     }
/// #     fn check_access(&self, a: u32, l: usize, _: UserAccess) -> Result<(), Errno> {
/// #         self.bytes.get(a as usize..a as usize + l).map(|_| ()).ok_or(Errno::EFAULT)
/// #     }
/// # }
/// # impl AddressSpace for Ram {
/// #     fn reset(&mut self) { self.bytes.fill(0xcc); self.mapped = false; }
/// #     fn map_region(&mut self, _: u32, _: u32, _: Protection) -> Result<(), Errno> { self.mapped = true; Ok(()) }
/// #     fn protect_region(&mut self, _: u32, _: u32, _: Protection) -> Result<(), Errno> { Ok(()) }
/// # }
/// # struct Blob(&'static [u8]);
/// # impl File for Blob { fn file_type(&self) -> FileType { FileType::RegularFile } }
/// # impl ImageFile for Blob {
/// #     fn read_at(&self, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
/// #         let rest = self.0.get(off as usize..).unwrap_or(&[]);
/// #         let n = rest.len().min(buf.len()); buf[..n].copy_from_slice(&rest[..n]); Ok(n)
/// #     }
/// # }
/// # struct K { table: SharedFdTable<Arc<Blob>>, mem: Ram }
/// # impl Process for K {
/// #     type File = Blob; type Handle = Arc<Blob>; type Memory = Ram; type Lock = DefaultRawMutex;
/// #     fn fd_table(&self) -> &SharedFdTable<Arc<Blob>> { &self.table }
/// #     fn memory(&self) -> &Ram { &self.mem }
/// #     fn memory_mut(&mut self) -> &mut Ram { &mut self.mem }
/// #     fn install_fd_table(&mut self, new: FdTable<Arc<Blob>>) -> FdTable<Arc<Blob>> {
/// #         fdinstall_remapped(&self.table, new)
/// #     }
/// # }
/// # let mut k = K { table: SharedFdTable::new(FdTable::new()), mem: Ram { bytes: vec![0; 0x3000], mapped: false } };
/// # let args = capexec::exec::exec_copyin_data_fds(&k.table, &k.mem, 0, 0, 0, 0)?; // no data, no fds
/// let exe = Arc::new(Blob(&[0x90, 0xcc])); // nop; int3
/// let code = FlatBinary.prepare(&k, &exe, &args)?;
/// assert_eq!(FlatBinary.activate(&mut k, code, &exe, &args), Ok(0x1000));
/// assert!(k.mem.mapped);
/// assert_eq!(&k.mem.bytes[0x1000..0x1003], &[0x90, 0xcc, 0xcc]);
/// // An empty file is not an image: refused in phase one, nothing touched.
/// assert_eq!(FlatBinary.prepare(&k, &Arc::new(Blob(&[])), &args), Err(Errno::ENOEXEC));
/// # Ok::<(), Errno>(())
/// ```
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

    /// [`prepare`](Self::prepare) into `out` (`None` on entry), what the exec driver
    /// calls: a prepared image is hundreds of bytes (an ELF segment table, a stack
    /// header), and an activator that fills `out` in place spares moving it through a
    /// `Result`. On failure `out` may hold a partly prepared image, which the driver
    /// drops. The default moves [`prepare`](Self::prepare)'s result into `out`.
    fn prepare_in_place(
        &mut self,
        process: &P,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
        out: &mut Option<Self::PreparedImage>,
    ) -> Result<(), Errno> {
        *out = Some(self.prepare(process, executable, args)?);
        Ok(())
    }

    /// [`activate`](Self::activate) from the image
    /// [`prepare_in_place`](Self::prepare_in_place) left in `prepared`, what the exec
    /// driver calls after the point of no return; the driver drops `prepared` afterwards.
    /// The default takes the image out and calls [`activate`](Self::activate); `None`
    /// (which the driver never passes) is `EINVAL`.
    fn activate_in_place(
        &mut self,
        process: &mut P,
        prepared: &mut Option<Self::PreparedImage>,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
    ) -> Result<Self::Entry, Errno> {
        match prepared.take() {
            Some(p) => self.activate(process, p, executable, args),
            None => Err(Errno::EINVAL),
        }
    }
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
    /// process must be killed. The process keeps the table it has, left for the
    /// kernel's exit path: its old table, or with [`Process::fd_table_exclusive`] the
    /// new one (installed at the point of no return, the old one freed).
    Killed(Errno),
    /// Another thread of the process is single-threading it
    /// ([`Process::single_thread_begin`] returned [`Restart`]), or changed a descriptor
    /// of the list while the exec was under way ([`Process::fd_table_exclusive`]):
    /// nothing was done; let this thread be stopped, then restart the system call
    /// (FreeBSD `ERESTART`).
    Restart,
}

/// [`Process::single_thread_begin`] could not make the caller the only running thread:
/// another thread is single-threading the process, or this one is being stopped
/// (FreeBSD's `thread_single` fails and `kern_execve` returns `ERESTART`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Restart;

/// How [`Process::single_thread_end`] ends single-threading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SingleThreadEnd {
    /// The exec failed before its point of no return: the other threads run on
    /// (FreeBSD `thread_single_end(p, SINGLE_BOUNDARY)`).
    Resume,
    /// The exec went past its point of no return (a new image, or a process about to be
    /// killed): the other threads exit (FreeBSD `thread_single(p, SINGLE_EXIT)`).
    Exit,
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
/// 1. single-thread the process ([`Process::single_thread_begin`]; if another thread is
///    already doing so: [`ExecOutcome::Restart`]);
/// 2. [`exec_copyin_data_fds`](super::exec_copyin_data_fds): `E2BIG`, `ENOMEM`, `EFAULT`, then the remapped table's
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
/// it was. The executable is not passed on unless it is in the list. Every path after a
/// successful step 1 ends with one [`Process::single_thread_end`]:
/// [`SingleThreadEnd::Resume`] on failure before step 4, [`SingleThreadEnd::Exit`] after
/// it (replaced or killed). [`kern_execve`] is the same driver for arguments the kernel
/// holds itself.
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
    do_execve(process, activator, fd, true, |p, args| {
        let moving = p.fd_table_exclusive();
        exec_copyin_data_fds_into(
            args,
            p.fd_table(),
            p.memory(),
            data,
            data_len,
            fds,
            fds_len,
            moving,
        )
    })
}

/// Execs `executable` in `process` with arguments the kernel built itself: the
/// kernel-space entry of [`proc_exec`], to start a program that no program asked for
/// (the first process, a launcher's children) without writing the arguments into user
/// memory and faking a system call.
///
/// `args` usually comes from [`exec_sysspace_data_fds`](super::exec_sysspace_data_fds)
/// over `process`'s own table. The driver is [`proc_exec`]'s from its step 1 on, step 2
/// apart: single-threading, [`check_executable`], the activator's two phases around the
/// point of no return, the installation of `args`' table. `args` is consumed: whenever
/// the outcome is not [`ExecOutcome::Replaced`], its table is released through
/// [`fdescfree_remapped`](crate::fdtable::fdescfree_remapped) and, for
/// [`ExecOutcome::Failed`] and [`ExecOutcome::Restart`], the process is as it was.
///
/// # References
/// - FreeBSD `sys/kern/kern_exec.c` `kern_execve` (which takes the `image_args` its
///   caller filled, from user space or, to start `init`, from the kernel's).
pub fn kern_execve<P, A>(
    process: &mut P,
    activator: &mut A,
    executable: Fd,
    args: ImageArgs<P::Handle>,
) -> ExecOutcome<A::Entry>
where
    P: Process + ?Sized,
    A: ImageActivator<P> + ?Sized,
{
    // A descriptor number is never negative: the cast is exact.
    do_execve(
        process,
        activator,
        executable.raw() as u32,
        false,
        |_, a| {
            *a = args;
            Ok(())
        },
    )
}

/// The driver both entries share; `args` builds the exec's arguments once the process
/// is single-threaded, in the process's argument buffer when `arg_buffer`.
fn do_execve<P, A, F>(
    process: &mut P,
    activator: &mut A,
    fd: u32,
    arg_buffer: bool,
    args_into: F,
) -> ExecOutcome<A::Entry>
where
    P: Process + ?Sized,
    A: ImageActivator<P> + ?Sized,
    F: FnOnce(&P, &mut ImageArgs<P::Handle>) -> Result<(), Errno>,
{
    if process.single_thread_begin().is_err() {
        return ExecOutcome::Restart;
    }
    // Each step's value stays where it is made (the prepared image and the remapped
    // table are hundreds of bytes: no tuple or `Result` to move them through); a failure
    // drops what was built so far, freeing the remapped table, before the other threads
    // run on.
    let mut args = ImageArgs::empty();
    if arg_buffer {
        args.buf = process.take_arg_buffer();
    }
    if let Err(e) = args_into(process, &mut args) {
        release(process, &mut args);
        return failed(process, e);
    }
    let exe = match check_executable(process.fd_table(), fd) {
        Ok(exe) => exe,
        Err(e) => {
            release(process, &mut args);
            return failed(process, e);
        }
    };
    let mut prepared = None;
    if let Err(e) = activator.prepare_in_place(process, &exe, &args, &mut prepared) {
        drop(prepared);
        drop(exe);
        release(process, &mut args);
        return failed(process, e);
    }
    // A pending table gets its handles now, moved out of the old one and swapped in;
    // if the old one changed since the copy-in, start over.
    let moved = args.pending.take();
    if let Some(generation) = moved {
        let installed = match args.table.as_mut() {
            Some(new) => {
                process
                    .fd_table()
                    .fdinstall_remapped_moving(new, args.list.as_slice(), generation)
            }
            None => true,
        };
        if !installed {
            drop(prepared);
            drop(exe);
            release(process, &mut args);
            process.single_thread_end(SingleThreadEnd::Resume);
            return ExecOutcome::Restart;
        }
        // `args.table` holds the old table now.
    }
    // Point of no return.
    let activated = activator.activate_in_place(process, &mut prepared, &exe, &args);
    drop(prepared);
    let entry = match activated {
        Ok(entry) => entry,
        Err(e) => {
            // Releasing `args` frees the remapped table (`fdescfree_remapped`), or the
            // old one when the new one was moved in.
            release(process, &mut args);
            process.single_thread_end(SingleThreadEnd::Exit);
            return ExecOutcome::Killed(e);
        }
    };
    if moved.is_none() {
        if let Some(new) = args.table_mut() {
            // Swapped in place: `new` holds the old table now.
            process.install_fd_table_in_place(new);
        }
    }
    // The lock is released: the old table's files are released here.
    release(process, &mut args);
    process.single_thread_end(SingleThreadEnd::Exit);
    ExecOutcome::Replaced(entry)
}

/// Ends an exec's arguments, in place (they are hundreds of bytes, not moved into a
/// call): the table they hold (the remapped one, or the old one once swapped) is dropped
/// and the data buffer goes back to the process.
fn release<P: Process + ?Sized>(process: &mut P, args: &mut ImageArgs<P::Handle>) {
    args.release_table();
    process.put_arg_buffer(core::mem::take(&mut args.buf));
}

/// Ends single-threading after a failure before the point of no return.
fn failed<P: Process + ?Sized, E>(process: &mut P, e: Errno) -> ExecOutcome<E> {
    process.single_thread_end(SingleThreadEnd::Resume);
    ExecOutcome::Failed(e)
}
