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

impl Syscall {
    /// How many 32-bit argument words the kernel reads from `esp + 4` for this call
    /// (the vDSO passes output pointers to itself, not to the kernel), for the calls
    /// capexec implements; `None` for the others.
    pub const fn implemented_arg_words(self) -> Option<usize> {
        Some(match self {
            Syscall::fd_close => 1,
            Syscall::fd_dup => 1,
            Syscall::fd_read => 3,
            Syscall::fd_replace => 2,
            Syscall::fd_stat_get => 2,
            Syscall::fd_stat_put => 3,
            Syscall::fd_write => 3,
            Syscall::proc_exec => 5,
            Syscall::proc_exit => 1,
            Syscall::random_get => 2,
            _ => return None,
        })
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
