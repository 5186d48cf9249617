//! cloudabi32 numbers and layouts: system call numbers, auxiliary vector types, sizes.
//!
//! # References
//! - NuxiNL/cloudabi `cloudabi.txt`, `cloudabi_types_common.h`, `cloudabi32_types.h`.
//! - FreeBSD 12 `sys/compat/cloudabi32`, `sys/i386/cloudabi32`.

/// `ARG_MAX` on i386: the argument data must be strictly shorter (256 KiB).
pub const ARG_MAX: u32 = 262_144;

/// The cloudabi32 ABI as the exec layer sees it: 32-bit addresses and sizes, [`ARG_MAX`].
/// A kernel's [`UserMemory`](crate::exec::UserMemory) for a 32-bit CloudABI process names
/// it as its `Abi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cloudabi32;

impl crate::exec::ExecAbi for Cloudabi32 {
    type Addr = u32;
    const ARG_MAX: usize = ARG_MAX as usize;
}

/// Number of system calls in the final ABI; numbers at or above it are `ENOSYS`.
pub const SYSCALL_COUNT: u32 = 49;

/// Page size reported in `AT_PAGESZ`.
pub const PAGE_SIZE: u32 = 4096;

/// Length of the random canary (`AT_CANARYLEN`).
pub const CANARY_LEN: u32 = 64;

/// Size of `cloudabi_fdstat_t` (align 8).
pub const FDSTAT_SIZE: usize = 24;
/// Offset of `fs_filetype` (u8) in `cloudabi_fdstat_t`.
pub const FDSTAT_FILETYPE_OFFSET: usize = 0;
/// Offset of `fs_flags` (u16) in `cloudabi_fdstat_t`.
pub const FDSTAT_FLAGS_OFFSET: usize = 2;
/// Offset of `fs_rights_base` (u64) in `cloudabi_fdstat_t`.
pub const FDSTAT_RIGHTS_BASE_OFFSET: usize = 8;
/// Offset of `fs_rights_inheriting` (u64) in `cloudabi_fdstat_t`.
pub const FDSTAT_RIGHTS_INHERITING_OFFSET: usize = 16;
/// `fd_stat_put` flag: set the descriptor flags (`CLOUDABI_FDSTAT_FLAGS`).
pub const FDSTAT_FLAGS: u16 = 0x1;
/// `fd_stat_put` flag: narrow the rights (`CLOUDABI_FDSTAT_RIGHTS`).
pub const FDSTAT_RIGHTS: u16 = 0x2;

/// Size of `cloudabi32_iovec_t` / `cloudabi32_ciovec_t`: `{ u32 buf; u32 buf_len; }`.
pub const IOVEC32_SIZE: usize = 8;

/// Size of one `cloudabi32_auxv_t`: `{ u32 a_type; u32 a_val; }`.
pub const AUXV32_SIZE: usize = 8;

macro_rules! numbered {
    ($(#[$m:meta])* $name:ident : $ty:ty { $($(#[$vm:meta])* $v:ident = $n:expr,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        #[allow(non_camel_case_types)]
        pub enum $name { $($(#[$vm])* $v = $n,)* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v,)*];

            /// The value with number `raw`, if any.
            pub const fn from_raw(raw: $ty) -> Option<$name> {
                match raw { $($n => Some($name::$v),)* _ => None }
            }

            /// The number.
            pub const fn raw(self) -> $ty { self as $ty }

            /// The lower-case CloudABI name.
            pub const fn name(self) -> &'static str {
                match self { $($name::$v => stringify!($v),)* }
            }
        }
    };
}

numbered! {
    /// System call numbers of the final cloudabi32 ABI (alphabetical order of
    /// `cloudabi.txt`).
    Syscall: u32 {
        /// `clock_res_get`.
        clock_res_get = 0,
        /// `clock_time_get`.
        clock_time_get = 1,
        /// `condvar_signal`.
        condvar_signal = 2,
        /// `fd_close(fd)`.
        fd_close = 3,
        /// `fd_create1`.
        fd_create1 = 4,
        /// `fd_create2`.
        fd_create2 = 5,
        /// `fd_datasync`.
        fd_datasync = 6,
        /// `fd_dup(from) -> fd`.
        fd_dup = 7,
        /// `fd_pread`.
        fd_pread = 8,
        /// `fd_pwrite`.
        fd_pwrite = 9,
        /// `fd_read(fd, iovs, iovs_len) -> nread`.
        fd_read = 10,
        /// `fd_replace(from, to)`.
        fd_replace = 11,
        /// `fd_seek`.
        fd_seek = 12,
        /// `fd_stat_get(fd, buf)`.
        fd_stat_get = 13,
        /// `fd_stat_put(fd, buf, flags)`.
        fd_stat_put = 14,
        /// `fd_sync`.
        fd_sync = 15,
        /// `fd_write(fd, iovs, iovs_len) -> nwritten`.
        fd_write = 16,
        /// `file_advise`.
        file_advise = 17,
        /// `file_allocate`.
        file_allocate = 18,
        /// `file_create`.
        file_create = 19,
        /// `file_link`.
        file_link = 20,
        /// `file_open`.
        file_open = 21,
        /// `file_readdir`.
        file_readdir = 22,
        /// `file_readlink`.
        file_readlink = 23,
        /// `file_rename`.
        file_rename = 24,
        /// `file_stat_fget`.
        file_stat_fget = 25,
        /// `file_stat_fput`.
        file_stat_fput = 26,
        /// `file_stat_get`.
        file_stat_get = 27,
        /// `file_stat_put`.
        file_stat_put = 28,
        /// `file_symlink`.
        file_symlink = 29,
        /// `file_unlink`.
        file_unlink = 30,
        /// `lock_unlock`.
        lock_unlock = 31,
        /// `mem_advise`.
        mem_advise = 32,
        /// `mem_map`.
        mem_map = 33,
        /// `mem_protect`.
        mem_protect = 34,
        /// `mem_sync`.
        mem_sync = 35,
        /// `mem_unmap`.
        mem_unmap = 36,
        /// `poll`.
        poll = 37,
        /// `proc_exec(fd, data, data_len, fds, fds_len)`.
        proc_exec = 38,
        /// `proc_exit(rval)`.
        proc_exit = 39,
        /// `proc_fork`.
        proc_fork = 40,
        /// `proc_raise`.
        proc_raise = 41,
        /// `random_get(buf, len)`.
        random_get = 42,
        /// `sock_recv`.
        sock_recv = 43,
        /// `sock_send`.
        sock_send = 44,
        /// `sock_shutdown`.
        sock_shutdown = 45,
        /// `thread_create`.
        thread_create = 46,
        /// `thread_exit`.
        thread_exit = 47,
        /// `thread_yield`.
        thread_yield = 48,
    }
}

numbered! {
    /// Auxiliary vector entry types (`cloudabi_auxtype_t`).
    AuxType: u32 {
        /// End of the vector.
        AT_NULL = 0,
        /// Address of the program headers.
        AT_PHDR = 3,
        /// Number of program headers.
        AT_PHNUM = 4,
        /// Page size.
        AT_PAGESZ = 6,
        /// Load base of the image.
        AT_BASE = 7,
        /// Address of the argument data.
        AT_ARGDATA = 256,
        /// Length of the argument data (without the appended NUL).
        AT_ARGDATALEN = 257,
        /// Address of the random canary.
        AT_CANARY = 258,
        /// Length of the canary.
        AT_CANARYLEN = 259,
        /// Number of CPUs.
        AT_NCPUS = 260,
        /// Thread id of the initial thread.
        AT_TID = 261,
        /// Address of the vDSO's ELF header.
        AT_SYSINFO_EHDR = 262,
        /// Address of the 16-byte UUID v4 process id.
        AT_PID = 263,
    }
}

/// What a system call hands back on success, through the output pointers the caller
/// passes as its last argument words (the vDSO stores `eax`/`edx` there; the kernel
/// never reads those words). Indices count argument words from `esp + 4`, from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallResults {
    /// Nothing: success is 0.
    None,
    /// One 32-bit word (`eax`) through the pointer in argument word `i`.
    Word(u8),
    /// One 64-bit value (`eax` low, `edx` high) through the pointer in argument word `i`.
    Wide(u8),
    /// Two 32-bit words: `eax` through the pointer in word `i`, `edx` through word `j`.
    TwoWords(u8, u8),
}

impl Syscall {
    /// How many 32-bit argument words the call takes from `esp + 4` (64-bit values and
    /// `cloudabi_lookup_t` count as two words, low first), not counting the output
    /// pointers of [`results`](Self::results).
    ///
    /// # References
    /// - NuxiNL/cloudabi `cloudabi.txt`; FreeBSD `sys/compat/cloudabi32/syscalls.master`.
    pub const fn arg_words(self) -> u8 {
        use Syscall::*;
        match self {
            proc_fork | thread_yield => 0,
            clock_res_get | fd_close | fd_create1 | fd_create2 | fd_datasync | fd_dup | fd_sync
            | proc_exit | proc_raise | thread_create => 1,
            fd_replace | fd_stat_get | file_stat_fget | lock_unlock | mem_unmap | random_get
            | sock_shutdown | thread_exit => 2,
            clock_time_get | condvar_signal | fd_read | fd_stat_put | fd_write | file_stat_fput
            | mem_advise | mem_protect | mem_sync | poll | sock_recv | sock_send => 3,
            fd_seek | file_create | file_unlink => 4,
            fd_pread | fd_pwrite | file_allocate | file_readdir | file_readlink | file_stat_get
            | file_symlink | proc_exec => 5,
            file_advise | file_open | file_rename | file_stat_put => 6,
            file_link | mem_map => 7,
        }
    }

    /// What the call returns on success and through which output pointers.
    ///
    /// # References
    /// - NuxiNL/cloudabi `cloudabi.txt` (each call's `out` values).
    pub const fn results(self) -> SyscallResults {
        use Syscall::*;
        let at = self.arg_words();
        match self {
            // A 64-bit timestamp or file offset.
            clock_res_get | clock_time_get | fd_seek => SyscallResults::Wide(at),
            // A descriptor, a size or an address.
            fd_create1 | fd_dup | fd_pread | fd_pwrite | fd_read | fd_write | file_open
            | file_readdir | file_readlink | mem_map | poll | thread_create => {
                SyscallResults::Word(at)
            }
            // Two descriptors; for proc_fork the child's descriptor (or
            // CLOUDABI_PROCESS_CHILD) and the thread id.
            fd_create2 | proc_fork => SyscallResults::TwoWords(at, at + 1),
            _ => SyscallResults::None,
        }
    }
}

/// Most 32-bit argument words any cloudabi32 system call has (`mem_map`, `file_link`).
pub const MAX_ARG_WORDS: usize = 7;

impl Syscall {
    /// Whether a successful call does not return to its caller (`proc_exit`,
    /// `thread_exit`; `proc_exec` returns to the new image's entry point instead).
    pub const fn never_returns(self) -> bool {
        matches!(self, Syscall::proc_exit | Syscall::thread_exit)
    }
}

numbered! {
    /// Clock identifiers (`cloudabi_clockid_t`).
    ClockId: u32 {
        /// The system-wide monotonic clock; its epoch is undefined.
        CLOCK_MONOTONIC = 1,
        /// CPU time of the calling process.
        CLOCK_PROCESS_CPUTIME_ID = 2,
        /// Wall-clock time; zero is 1970-01-01T00:00:00Z.
        CLOCK_REALTIME = 3,
        /// CPU time of the calling thread.
        CLOCK_THREAD_CPUTIME_ID = 4,
    }
}

numbered! {
    /// Whether a lock or condition variable lives in private or shared memory
    /// (`cloudabi_scope_t`).
    Scope: u8 {
        /// Private to the process.
        SCOPE_PRIVATE = 4,
        /// In memory shared with other processes.
        SCOPE_SHARED = 8,
    }
}

numbered! {
    /// Signals (`cloudabi_signal_t`). CloudABI programs install no handlers: each
    /// signal has its [default action](Signal::default_action).
    Signal: u8 {
        /// Process abort.
        SIGABRT = 1,
        /// Alarm clock.
        SIGALRM = 2,
        /// Access to an undefined portion of a memory object.
        SIGBUS = 3,
        /// Child process terminated, paused or continued.
        SIGCHLD = 4,
        /// Continue executing, if stopped.
        SIGCONT = 5,
        /// Erroneous arithmetic operation.
        SIGFPE = 6,
        /// Hangup.
        SIGHUP = 7,
        /// Illegal instruction.
        SIGILL = 8,
        /// Terminate interrupt.
        SIGINT = 9,
        /// Kill.
        SIGKILL = 10,
        /// Write on a pipe with no one to read it.
        SIGPIPE = 11,
        /// Terminal quit.
        SIGQUIT = 12,
        /// Invalid memory reference.
        SIGSEGV = 13,
        /// Stop executing.
        SIGSTOP = 14,
        /// Bad system call.
        SIGSYS = 15,
        /// Termination.
        SIGTERM = 16,
        /// Trace or breakpoint trap.
        SIGTRAP = 17,
        /// Terminal stop.
        SIGTSTP = 18,
        /// Background process attempting read.
        SIGTTIN = 19,
        /// Background process attempting write.
        SIGTTOU = 20,
        /// High bandwidth data available at a socket.
        SIGURG = 21,
        /// User-defined signal 1.
        SIGUSR1 = 22,
        /// User-defined signal 2.
        SIGUSR2 = 23,
        /// Virtual timer expired.
        SIGVTALRM = 24,
        /// CPU time limit exceeded.
        SIGXCPU = 25,
        /// File size limit exceeded.
        SIGXFSZ = 26,
    }
}

/// What a signal does to a process that installed no handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalAction {
    /// The process ends with the signal.
    Terminate,
    /// Nothing happens.
    Ignore,
    /// The process stops until continued.
    Stop,
    /// A stopped process continues; a running one is unaffected.
    Continue,
}

impl Signal {
    /// The default action of this signal.
    ///
    /// # References
    /// - NuxiNL/cloudabi `cloudabi.txt` (`signal`, "Action"); POSIX `<signal.h>`.
    pub const fn default_action(self) -> SignalAction {
        match self {
            Signal::SIGCHLD | Signal::SIGPIPE | Signal::SIGURG => SignalAction::Ignore,
            Signal::SIGCONT => SignalAction::Continue,
            Signal::SIGSTOP | Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU => {
                SignalAction::Stop
            }
            _ => SignalAction::Terminate,
        }
    }
}

numbered! {
    /// The base of an `fd_seek` offset (`cloudabi_whence_t`).
    Whence: u8 {
        /// From the current offset.
        WHENCE_CUR = 1,
        /// From the end of the file.
        WHENCE_END = 2,
        /// From the start of the file.
        WHENCE_SET = 3,
    }
}

numbered! {
    /// Access-pattern advice for `file_advise` and `mem_advise` (`cloudabi_advice_t`).
    Advice: u8 {
        /// The data will not be accessed soon.
        ADVICE_DONTNEED = 1,
        /// The data will be accessed once.
        ADVICE_NOREUSE = 2,
        /// No advice.
        ADVICE_NORMAL = 3,
        /// Random access.
        ADVICE_RANDOM = 4,
        /// Sequential access.
        ADVICE_SEQUENTIAL = 5,
        /// The data will be accessed soon.
        ADVICE_WILLNEED = 6,
    }
}

numbered! {
    /// Event and subscription types of `poll` (`cloudabi_eventtype_t`).
    EventType: u8 {
        /// A clock reached a time.
        EVENTTYPE_CLOCK = 1,
        /// A condition variable was signalled and its lock acquired.
        EVENTTYPE_CONDVAR = 2,
        /// A descriptor has data to read.
        EVENTTYPE_FD_READ = 3,
        /// A descriptor has room to write.
        EVENTTYPE_FD_WRITE = 4,
        /// A lock was acquired for reading.
        EVENTTYPE_LOCK_RDLOCK = 5,
        /// A lock was acquired for writing.
        EVENTTYPE_LOCK_WRLOCK = 6,
        /// The process of a process descriptor terminated.
        EVENTTYPE_PROC_TERMINATE = 7,
    }
}

/// `cloudabi_lookupflags_t`: follow symbolic links while resolving the path.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 0x1;
/// `cloudabi_oflags_t`: create the file if it does not exist.
pub const O_CREAT: u16 = 0x1;
/// `cloudabi_oflags_t`: fail unless a directory.
pub const O_DIRECTORY: u16 = 0x2;
/// `cloudabi_oflags_t`: fail if the file exists.
pub const O_EXCL: u16 = 0x4;
/// `cloudabi_oflags_t`: truncate to size 0.
pub const O_TRUNC: u16 = 0x8;
/// `cloudabi_fsflags_t`: set the access time to `st_atim`.
pub const FILESTAT_ATIM: u16 = 0x1;
/// `cloudabi_fsflags_t`: set the access time to now.
pub const FILESTAT_ATIM_NOW: u16 = 0x2;
/// `cloudabi_fsflags_t`: set the modification time to `st_mtim`.
pub const FILESTAT_MTIM: u16 = 0x4;
/// `cloudabi_fsflags_t`: set the modification time to now.
pub const FILESTAT_MTIM_NOW: u16 = 0x8;
/// `cloudabi_fsflags_t`: set the size to `st_size`.
pub const FILESTAT_SIZE: u16 = 0x10;
/// `cloudabi_ulflags_t`: remove a directory (`rmdir`) instead of a file.
pub const UNLINK_REMOVEDIR: u8 = 0x1;
/// `cloudabi_sdflags_t`: shut down receiving.
pub const SHUT_RD: u8 = 0x1;
/// `cloudabi_sdflags_t`: shut down sending.
pub const SHUT_WR: u8 = 0x2;
/// `cloudabi_riflags_t`: leave the data in the queue.
pub const SOCK_RECV_PEEK: u16 = 0x4;
/// `cloudabi_riflags_t`: wait for the whole buffer.
pub const SOCK_RECV_WAITALL: u16 = 0x10;
/// `cloudabi_roflags_t`: descriptors were dropped for lack of room.
pub const SOCK_RECV_FDS_TRUNCATED: u16 = 0x1;
/// `cloudabi_roflags_t`: data was dropped for lack of room.
pub const SOCK_RECV_DATA_TRUNCATED: u16 = 0x8;
/// `cloudabi_subclockflags_t`: the timeout is an absolute time.
pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 0x1;
/// `cloudabi_subrwflags_t`: report readiness without blocking.
pub const SUBSCRIPTION_FD_READWRITE_POLL: u16 = 0x1;
/// `cloudabi_eventrwflags_t`: the peer hung up.
pub const EVENT_FD_READWRITE_HANGUP: u16 = 0x1;
/// `cloudabi_fd_t` returned to the child by `proc_fork`, and passed to `mem_map` for an
/// anonymous mapping.
pub const PROCESS_CHILD: u32 = 0xffff_ffff;
/// `PATH_MAX`: a path argument of this many bytes or more is `ENAMETOOLONG`.
pub const PATH_MAX: u32 = 1024;
