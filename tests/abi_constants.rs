//! Cross-checks capexec's CloudABI constants against the `cloudabi` crate (0.1.0),
//! so a typo in either cannot hide, and pins the cloudabi32 struct layouts to the
//! numbers of `abi-i386.md`.
//!
//! Decision 14: only *constants* are compared with the crate. Its `repr(C)` structs
//! follow the host's alignment and pointer width (on i686 a `u64` is 4-aligned, so
//! its `fdstat` is 20 bytes there), so the i386 layouts are pinned to hard numbers.

use capexec::Errno;
use capexec::abi::cloudabi32::{
    ARG_MAX, AUXV32_SIZE, AuxType, CANARY_LEN, FDSTAT_FILETYPE_OFFSET, FDSTAT_FLAGS,
    FDSTAT_FLAGS_OFFSET, FDSTAT_RIGHTS, FDSTAT_RIGHTS_BASE_OFFSET, FDSTAT_RIGHTS_INHERITING_OFFSET,
    FDSTAT_SIZE, IOVEC32_SIZE, PAGE_SIZE, SYSCALL_COUNT, Syscall,
};
use capexec::errno::ALL;
use capexec::fdtable::FileType;
use capexec::fdtable::Rights;

use cloudabi::{auxtype as ca, errno as ce, fdsflags, filetype as cf, rights as cr};

/// Every CloudABI error, paired with the crate's variant of the same meaning.
///
/// The crate spells the C names without the `E` prefix, and `E2BIG` as `TOOBIG`
/// (an identifier cannot start with a digit).
const ERRNOS: [(Errno, ce); 76] = [
    (Errno::E2BIG, ce::TOOBIG),
    (Errno::EACCES, ce::ACCES),
    (Errno::EADDRINUSE, ce::ADDRINUSE),
    (Errno::EADDRNOTAVAIL, ce::ADDRNOTAVAIL),
    (Errno::EAFNOSUPPORT, ce::AFNOSUPPORT),
    (Errno::EAGAIN, ce::AGAIN),
    (Errno::EALREADY, ce::ALREADY),
    (Errno::EBADF, ce::BADF),
    (Errno::EBADMSG, ce::BADMSG),
    (Errno::EBUSY, ce::BUSY),
    (Errno::ECANCELED, ce::CANCELED),
    (Errno::ECHILD, ce::CHILD),
    (Errno::ECONNABORTED, ce::CONNABORTED),
    (Errno::ECONNREFUSED, ce::CONNREFUSED),
    (Errno::ECONNRESET, ce::CONNRESET),
    (Errno::EDEADLK, ce::DEADLK),
    (Errno::EDESTADDRREQ, ce::DESTADDRREQ),
    (Errno::EDOM, ce::DOM),
    (Errno::EDQUOT, ce::DQUOT),
    (Errno::EEXIST, ce::EXIST),
    (Errno::EFAULT, ce::FAULT),
    (Errno::EFBIG, ce::FBIG),
    (Errno::EHOSTUNREACH, ce::HOSTUNREACH),
    (Errno::EIDRM, ce::IDRM),
    (Errno::EILSEQ, ce::ILSEQ),
    (Errno::EINPROGRESS, ce::INPROGRESS),
    (Errno::EINTR, ce::INTR),
    (Errno::EINVAL, ce::INVAL),
    (Errno::EIO, ce::IO),
    (Errno::EISCONN, ce::ISCONN),
    (Errno::EISDIR, ce::ISDIR),
    (Errno::ELOOP, ce::LOOP),
    (Errno::EMFILE, ce::MFILE),
    (Errno::EMLINK, ce::MLINK),
    (Errno::EMSGSIZE, ce::MSGSIZE),
    (Errno::EMULTIHOP, ce::MULTIHOP),
    (Errno::ENAMETOOLONG, ce::NAMETOOLONG),
    (Errno::ENETDOWN, ce::NETDOWN),
    (Errno::ENETRESET, ce::NETRESET),
    (Errno::ENETUNREACH, ce::NETUNREACH),
    (Errno::ENFILE, ce::NFILE),
    (Errno::ENOBUFS, ce::NOBUFS),
    (Errno::ENODEV, ce::NODEV),
    (Errno::ENOENT, ce::NOENT),
    (Errno::ENOEXEC, ce::NOEXEC),
    (Errno::ENOLCK, ce::NOLCK),
    (Errno::ENOLINK, ce::NOLINK),
    (Errno::ENOMEM, ce::NOMEM),
    (Errno::ENOMSG, ce::NOMSG),
    (Errno::ENOPROTOOPT, ce::NOPROTOOPT),
    (Errno::ENOSPC, ce::NOSPC),
    (Errno::ENOSYS, ce::NOSYS),
    (Errno::ENOTCONN, ce::NOTCONN),
    (Errno::ENOTDIR, ce::NOTDIR),
    (Errno::ENOTEMPTY, ce::NOTEMPTY),
    (Errno::ENOTRECOVERABLE, ce::NOTRECOVERABLE),
    (Errno::ENOTSOCK, ce::NOTSOCK),
    (Errno::ENOTSUP, ce::NOTSUP),
    (Errno::ENOTTY, ce::NOTTY),
    (Errno::ENXIO, ce::NXIO),
    (Errno::EOVERFLOW, ce::OVERFLOW),
    (Errno::EOWNERDEAD, ce::OWNERDEAD),
    (Errno::EPERM, ce::PERM),
    (Errno::EPIPE, ce::PIPE),
    (Errno::EPROTO, ce::PROTO),
    (Errno::EPROTONOSUPPORT, ce::PROTONOSUPPORT),
    (Errno::EPROTOTYPE, ce::PROTOTYPE),
    (Errno::ERANGE, ce::RANGE),
    (Errno::EROFS, ce::ROFS),
    (Errno::ESPIPE, ce::SPIPE),
    (Errno::ESRCH, ce::SRCH),
    (Errno::ESTALE, ce::STALE),
    (Errno::ETIMEDOUT, ce::TIMEDOUT),
    (Errno::ETXTBSY, ce::TXTBSY),
    (Errno::EXDEV, ce::XDEV),
    (Errno::ENOTCAPABLE, ce::NOTCAPABLE),
];

#[test]
fn errno_numbers_equal_the_crate() {
    for &(e, c) in &ERRNOS {
        assert_eq!(e.raw(), c as u16, "{}", e.name());
        assert_eq!(Errno::from_raw(c as u16), Some(e), "{c:?}");
    }
    // The crate's SUCCESS (0) is never an Errno (decision 5).
    assert_eq!(ce::SUCCESS as u16, 0);
    assert_eq!(Errno::from_raw(ce::SUCCESS as u16), None);
    assert_eq!(Errno::from_raw(77), None);
}

#[test]
fn errno_names_equal_the_crate() {
    for &(e, c) in &ERRNOS {
        let crate_name = format!("{c:?}");
        let expected = if crate_name == "TOOBIG" {
            "E2BIG".to_owned()
        } else {
            format!("E{crate_name}")
        };
        assert_eq!(e.name(), expected);
    }
}

#[test]
fn errno_table_is_all_76_in_order() {
    assert_eq!(ALL.len(), 76);
    for (i, (&(e, _), &a)) in ERRNOS.iter().zip(ALL.iter()).enumerate() {
        assert_eq!(e, a);
        assert_eq!(usize::from(e.raw()), i + 1);
        assert_eq!(Errno::from_raw(e.raw()), Some(e));
    }
}

#[test]
fn errno_display_and_error_trait() {
    fn is_error<E: core::error::Error + Send + Sync + 'static>(_: &E) {}
    for &e in &ALL {
        is_error(&e);
        let shown = e.to_string();
        assert!(shown.contains(e.name()), "{shown:?} lacks {}", e.name());
        let dynamic: &dyn core::error::Error = &e;
        assert!(dynamic.source().is_none());
        assert_eq!(dynamic.to_string(), shown);
    }
}

#[test]
fn auxtypes_equal_the_crate() {
    let pairs: [(AuxType, ca); 13] = [
        (AuxType::AT_NULL, ca::NULL),
        (AuxType::AT_PHDR, ca::PHDR),
        (AuxType::AT_PHNUM, ca::PHNUM),
        (AuxType::AT_PAGESZ, ca::PAGESZ),
        (AuxType::AT_BASE, ca::BASE),
        (AuxType::AT_ARGDATA, ca::ARGDATA),
        (AuxType::AT_ARGDATALEN, ca::ARGDATALEN),
        (AuxType::AT_CANARY, ca::CANARY),
        (AuxType::AT_CANARYLEN, ca::CANARYLEN),
        (AuxType::AT_NCPUS, ca::NCPUS),
        (AuxType::AT_TID, ca::TID),
        (AuxType::AT_SYSINFO_EHDR, ca::SYSINFO_EHDR),
        (AuxType::AT_PID, ca::PID),
    ];
    assert_eq!(AuxType::ALL.len(), pairs.len());
    for &(a, c) in &pairs {
        assert_eq!(a.raw(), c as u32, "{}", a.name());
        assert_eq!(AuxType::from_raw(c as u32), Some(a));
        assert_eq!(a.name(), format!("AT_{c:?}"));
        assert!(AuxType::ALL.contains(&a));
    }
    // The numbers of abi-i386.md.
    let spec: [(AuxType, u32); 13] = [
        (AuxType::AT_NULL, 0),
        (AuxType::AT_PHDR, 3),
        (AuxType::AT_PHNUM, 4),
        (AuxType::AT_PAGESZ, 6),
        (AuxType::AT_BASE, 7),
        (AuxType::AT_ARGDATA, 256),
        (AuxType::AT_ARGDATALEN, 257),
        (AuxType::AT_CANARY, 258),
        (AuxType::AT_CANARYLEN, 259),
        (AuxType::AT_NCPUS, 260),
        (AuxType::AT_TID, 261),
        (AuxType::AT_SYSINFO_EHDR, 262),
        (AuxType::AT_PID, 263),
    ];
    for (a, n) in spec {
        assert_eq!(a.raw(), n);
    }
}

#[test]
fn rights_equal_the_crate() {
    let pairs: [(Rights, cr, &str); 31] = [
        (Rights::FD_DATASYNC, cr::FD_DATASYNC, "FD_DATASYNC"),
        (Rights::FD_READ, cr::FD_READ, "FD_READ"),
        (Rights::FD_SEEK, cr::FD_SEEK, "FD_SEEK"),
        (
            Rights::FD_STAT_PUT_FLAGS,
            cr::FD_STAT_PUT_FLAGS,
            "FD_STAT_PUT_FLAGS",
        ),
        (Rights::FD_SYNC, cr::FD_SYNC, "FD_SYNC"),
        (Rights::FD_TELL, cr::FD_TELL, "FD_TELL"),
        (Rights::FD_WRITE, cr::FD_WRITE, "FD_WRITE"),
        (Rights::FILE_ADVISE, cr::FILE_ADVISE, "FILE_ADVISE"),
        (Rights::FILE_ALLOCATE, cr::FILE_ALLOCATE, "FILE_ALLOCATE"),
        (
            Rights::FILE_CREATE_DIRECTORY,
            cr::FILE_CREATE_DIRECTORY,
            "FILE_CREATE_DIRECTORY",
        ),
        (
            Rights::FILE_CREATE_FILE,
            cr::FILE_CREATE_FILE,
            "FILE_CREATE_FILE",
        ),
        (
            Rights::FILE_LINK_SOURCE,
            cr::FILE_LINK_SOURCE,
            "FILE_LINK_SOURCE",
        ),
        (
            Rights::FILE_LINK_TARGET,
            cr::FILE_LINK_TARGET,
            "FILE_LINK_TARGET",
        ),
        (Rights::FILE_OPEN, cr::FILE_OPEN, "FILE_OPEN"),
        (Rights::FILE_READDIR, cr::FILE_READDIR, "FILE_READDIR"),
        (Rights::FILE_READLINK, cr::FILE_READLINK, "FILE_READLINK"),
        (
            Rights::FILE_RENAME_SOURCE,
            cr::FILE_RENAME_SOURCE,
            "FILE_RENAME_SOURCE",
        ),
        (
            Rights::FILE_RENAME_TARGET,
            cr::FILE_RENAME_TARGET,
            "FILE_RENAME_TARGET",
        ),
        (Rights::FILE_STAT_FGET, cr::FILE_STAT_FGET, "FILE_STAT_FGET"),
        (
            Rights::FILE_STAT_FPUT_SIZE,
            cr::FILE_STAT_FPUT_SIZE,
            "FILE_STAT_FPUT_SIZE",
        ),
        (
            Rights::FILE_STAT_FPUT_TIMES,
            cr::FILE_STAT_FPUT_TIMES,
            "FILE_STAT_FPUT_TIMES",
        ),
        (Rights::FILE_STAT_GET, cr::FILE_STAT_GET, "FILE_STAT_GET"),
        (
            Rights::FILE_STAT_PUT_TIMES,
            cr::FILE_STAT_PUT_TIMES,
            "FILE_STAT_PUT_TIMES",
        ),
        (Rights::FILE_SYMLINK, cr::FILE_SYMLINK, "FILE_SYMLINK"),
        (Rights::FILE_UNLINK, cr::FILE_UNLINK, "FILE_UNLINK"),
        (Rights::MEM_MAP, cr::MEM_MAP, "MEM_MAP"),
        (Rights::MEM_MAP_EXEC, cr::MEM_MAP_EXEC, "MEM_MAP_EXEC"),
        (
            Rights::POLL_FD_READWRITE,
            cr::POLL_FD_READWRITE,
            "POLL_FD_READWRITE",
        ),
        (
            Rights::POLL_PROC_TERMINATE,
            cr::POLL_PROC_TERMINATE,
            "POLL_PROC_TERMINATE",
        ),
        (Rights::PROC_EXEC, cr::PROC_EXEC, "PROC_EXEC"),
        (Rights::SOCK_SHUTDOWN, cr::SOCK_SHUTDOWN, "SOCK_SHUTDOWN"),
    ];
    for &(r, c, name) in &pairs {
        assert_eq!(r.bits(), c.bits(), "{name}");
        assert_eq!(r.bits().count_ones(), 1, "{name} is one bit");
        assert_eq!(Rights::from_name(name), Some(r), "{name}");
    }
    // Same set on both sides: no flag missing from either.
    assert_eq!(Rights::all().bits(), cr::all().bits());
    assert_eq!(Rights::all().iter_names().count(), pairs.len());
    let union = pairs.iter().fold(0u64, |acc, p| acc | p.0.bits());
    assert_eq!(union, Rights::all().bits());
    // Spot checks from abi-i386.md.
    assert_eq!(Rights::FD_READ.bits(), 0x2);
    assert_eq!(Rights::PROC_EXEC.bits(), 0x1_0000_0000);
    assert_eq!(Rights::SOCK_SHUTDOWN.bits(), 0x80_0000_0000);
}

#[test]
fn file_types_equal_the_crate() {
    let pairs: [(FileType, cf); 10] = [
        (FileType::Unknown, cf::UNKNOWN),
        (FileType::BlockDevice, cf::BLOCK_DEVICE),
        (FileType::CharacterDevice, cf::CHARACTER_DEVICE),
        (FileType::Directory, cf::DIRECTORY),
        (FileType::Process, cf::PROCESS),
        (FileType::RegularFile, cf::REGULAR_FILE),
        (FileType::SharedMemory, cf::SHARED_MEMORY),
        (FileType::SocketDgram, cf::SOCKET_DGRAM),
        (FileType::SocketStream, cf::SOCKET_STREAM),
        (FileType::SymbolicLink, cf::SYMBOLIC_LINK),
    ];
    for &(t, c) in &pairs {
        assert_eq!(t.raw(), c as u8, "{t:?}");
        assert_eq!(FileType::from_raw(c as u8), Some(t));
    }
    // No other number is a file type.
    let known = (0..=u8::MAX)
        .filter(|&n| FileType::from_raw(n).is_some())
        .count();
    assert_eq!(known, pairs.len());
}

#[test]
fn fdstat_flags_equal_the_crate() {
    assert_eq!(FDSTAT_FLAGS, fdsflags::FLAGS.bits());
    assert_eq!(FDSTAT_RIGHTS, fdsflags::RIGHTS.bits());
    assert_eq!(FDSTAT_FLAGS | FDSTAT_RIGHTS, fdsflags::all().bits());
    assert_eq!((FDSTAT_FLAGS, FDSTAT_RIGHTS), (0x1, 0x2));
}

/// Struct layouts of cloudabi32, pinned to abi-i386.md (not to the crate's structs).
#[test]
fn layouts_are_pinned_to_the_spec() {
    assert_eq!(FDSTAT_SIZE, 24);
    assert_eq!(FDSTAT_FILETYPE_OFFSET, 0);
    assert_eq!(FDSTAT_FLAGS_OFFSET, 2);
    assert_eq!(FDSTAT_RIGHTS_BASE_OFFSET, 8);
    assert_eq!(FDSTAT_RIGHTS_INHERITING_OFFSET, 16);
    assert_eq!(AUXV32_SIZE, 8);
    assert_eq!(IOVEC32_SIZE, 8);
    assert_eq!(ARG_MAX, 262_144);
    assert_eq!(PAGE_SIZE, 4096);
    assert_eq!(CANARY_LEN, 64);
    // The 13-entry auxiliary vector of FreeBSD 12 is 104 bytes.
    assert_eq!(AuxType::ALL.len() * AUXV32_SIZE, 104);
}

#[path = "abi_common/syscall_names.rs"]
mod syscall_names;
use syscall_names::SPEC_SYSCALLS;

#[test]
fn syscall_numbers_follow_the_spec_list() {
    assert_eq!(SYSCALL_COUNT, 49);
    assert_eq!(Syscall::ALL.len(), SPEC_SYSCALLS.len());
    for (i, (&s, &name)) in Syscall::ALL.iter().zip(SPEC_SYSCALLS.iter()).enumerate() {
        let n = u32::try_from(i).unwrap();
        assert_eq!(s.name(), name, "syscall {i}");
        assert_eq!(s.raw(), n, "{name}");
        assert_eq!(Syscall::from_raw(n), Some(s));
    }
    assert_eq!(Syscall::from_raw(SYSCALL_COUNT), None);
    assert_eq!(Syscall::from_raw(u32::MAX), None);
    // The final ABI is the alphabetical order of cloudabi.txt.
    assert!(SPEC_SYSCALLS.windows(2).all(|w| w[0] < w[1]));
    // FreeBSD 12 confirms these four.
    assert_eq!(Syscall::poll.raw(), 37);
    assert_eq!(Syscall::proc_exec.raw(), 38);
    assert_eq!(Syscall::proc_exit.raw(), 39);
    assert_eq!(Syscall::proc_fork.raw(), 40);
}

/// Every name in the spec list is a system call of the `cloudabi` crate: naming the
/// crate's function items (zero-sized; never called or turned into pointers) fails
/// to compile if one is missing or misspelled.
#[test]
fn syscall_names_exist_in_the_crate() {
    macro_rules! crate_has {
        ($($name:ident),* $(,)?) => {{
            $(let _ = cloudabi::$name;)*
            [$(stringify!($name)),*]
        }};
    }
    let names = crate_has!(
        clock_res_get,
        clock_time_get,
        condvar_signal,
        fd_close,
        fd_create1,
        fd_create2,
        fd_datasync,
        fd_dup,
        fd_pread,
        fd_pwrite,
        fd_read,
        fd_replace,
        fd_seek,
        fd_stat_get,
        fd_stat_put,
        fd_sync,
        fd_write,
        file_advise,
        file_allocate,
        file_create,
        file_link,
        file_open,
        file_readdir,
        file_readlink,
        file_rename,
        file_stat_fget,
        file_stat_fput,
        file_stat_get,
        file_stat_put,
        file_symlink,
        file_unlink,
        lock_unlock,
        mem_advise,
        mem_map,
        mem_protect,
        mem_sync,
        mem_unmap,
        poll,
        proc_exec,
        proc_exit,
        proc_fork,
        proc_raise,
        random_get,
        sock_recv,
        sock_send,
        sock_shutdown,
        thread_create,
        thread_exit,
        thread_yield,
    );
    assert_eq!(names, SPEC_SYSCALLS);
}

/// Argument words and results of all 49 calls, written down independently from the
/// i686 vDSO of NuxiNL/cloudabi: the input words the kernel reads, and the stack offsets
/// (from `esp` at the stub's entry) of the output pointers the stub stores `eax` / `edx`
/// through. A 64-bit result is one pointer taking both registers.
#[test]
fn argument_words_and_outputs_of_every_call() {
    use capexec::abi::SyscallResults as R;
    use capexec::abi::cloudabi32::MAX_ARG_WORDS;
    #[derive(Clone, Copy)]
    enum O {
        None,
        Word,
        TwoWords,
        DoubleWord,
    }
    // (call, input words, output shape, offsets of the output pointers)
    let table: [(Syscall, usize, O, &[u32]); 49] = [
        (Syscall::clock_res_get, 1, O::DoubleWord, &[8]),
        (Syscall::clock_time_get, 3, O::DoubleWord, &[16]),
        (Syscall::condvar_signal, 3, O::None, &[]),
        (Syscall::fd_close, 1, O::None, &[]),
        (Syscall::fd_create1, 1, O::Word, &[8]),
        (Syscall::fd_create2, 1, O::TwoWords, &[8, 12]),
        (Syscall::fd_datasync, 1, O::None, &[]),
        (Syscall::fd_dup, 1, O::Word, &[8]),
        (Syscall::fd_pread, 5, O::Word, &[24]),
        (Syscall::fd_pwrite, 5, O::Word, &[24]),
        (Syscall::fd_read, 3, O::Word, &[16]),
        (Syscall::fd_replace, 2, O::None, &[]),
        (Syscall::fd_seek, 4, O::DoubleWord, &[20]),
        (Syscall::fd_stat_get, 2, O::None, &[]),
        (Syscall::fd_stat_put, 3, O::None, &[]),
        (Syscall::fd_sync, 1, O::None, &[]),
        (Syscall::fd_write, 3, O::Word, &[16]),
        (Syscall::file_advise, 6, O::None, &[]),
        (Syscall::file_allocate, 5, O::None, &[]),
        (Syscall::file_create, 4, O::None, &[]),
        (Syscall::file_link, 7, O::None, &[]),
        (Syscall::file_open, 6, O::Word, &[28]),
        (Syscall::file_readdir, 5, O::Word, &[24]),
        (Syscall::file_readlink, 5, O::Word, &[24]),
        (Syscall::file_rename, 6, O::None, &[]),
        (Syscall::file_stat_fget, 2, O::None, &[]),
        (Syscall::file_stat_fput, 3, O::None, &[]),
        (Syscall::file_stat_get, 5, O::None, &[]),
        (Syscall::file_stat_put, 6, O::None, &[]),
        (Syscall::file_symlink, 5, O::None, &[]),
        (Syscall::file_unlink, 4, O::None, &[]),
        (Syscall::lock_unlock, 2, O::None, &[]),
        (Syscall::mem_advise, 3, O::None, &[]),
        (Syscall::mem_map, 7, O::Word, &[32]),
        (Syscall::mem_protect, 3, O::None, &[]),
        (Syscall::mem_sync, 3, O::None, &[]),
        (Syscall::mem_unmap, 2, O::None, &[]),
        (Syscall::poll, 3, O::Word, &[16]),
        (Syscall::proc_exec, 5, O::None, &[]),
        (Syscall::proc_exit, 1, O::None, &[]),
        (Syscall::proc_fork, 0, O::TwoWords, &[4, 8]),
        (Syscall::proc_raise, 1, O::None, &[]),
        (Syscall::random_get, 2, O::None, &[]),
        (Syscall::sock_recv, 3, O::None, &[]),
        (Syscall::sock_send, 3, O::None, &[]),
        (Syscall::sock_shutdown, 2, O::None, &[]),
        (Syscall::thread_create, 1, O::Word, &[8]),
        (Syscall::thread_exit, 2, O::None, &[]),
        (Syscall::thread_yield, 0, O::None, &[]),
    ];
    for (i, (s, words, out, offsets)) in table.iter().enumerate() {
        assert_eq!(s.raw() as usize, i, "table order");
        assert_eq!(usize::from(s.arg_words()), *words, "{}", s.name());
        // Output pointers as argument-word indices from esp + 4.
        let idx: Vec<u32> = offsets.iter().map(|o| (o - 4) / 4).collect();
        let want = match out {
            O::None => R::None,
            O::Word => R::Word(idx[0] as u8),
            O::DoubleWord => R::Wide(idx[0] as u8),
            O::TwoWords => R::TwoWords(idx[0] as u8, idx[1] as u8),
        };
        assert_eq!(s.results(), want, "{}", s.name());
        // The output pointers follow the input words on the caller's stack.
        for (k, off) in offsets.iter().enumerate() {
            assert_eq!(*off, 4 + 4 * (*words as u32) + 4 * k as u32, "{}", s.name());
        }
    }
    assert_eq!(
        Syscall::ALL
            .iter()
            .map(|s| usize::from(s.arg_words()))
            .max(),
        Some(MAX_ARG_WORDS)
    );
}
