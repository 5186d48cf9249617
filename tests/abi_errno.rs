//! CloudABI <-> FreeBSD / Linux errno conversions (`capexec::abi::errno`).
//!
//! Table-driven: the expected native numbers below are written out independently
//! of the crate's tables (from FreeBSD `sys/sys/errno.h` and Linux
//! `include/uapi/asm-generic/errno-base.h` / `errno.h`), so a typo on either side
//! shows up as a mismatch.

use capexec::Errno;
use capexec::abi::errno::{
    FREEBSD, FREEBSD_ELAST, LINUX, LINUX_ERRNO_MAX, from_cloudabi, from_freebsd, from_linux,
    to_cloudabi, to_freebsd, to_linux,
};
use capexec::errno::ALL;

/// (CloudABI error, FreeBSD number, Linux number). Linux `None`: no counterpart.
const EXPECTED: [(Errno, i32, Option<i32>); 76] = [
    (Errno::E2BIG, 7, Some(7)),
    (Errno::EACCES, 13, Some(13)),
    (Errno::EADDRINUSE, 48, Some(98)),
    (Errno::EADDRNOTAVAIL, 49, Some(99)),
    (Errno::EAFNOSUPPORT, 47, Some(97)),
    (Errno::EAGAIN, 35, Some(11)),
    (Errno::EALREADY, 37, Some(114)),
    (Errno::EBADF, 9, Some(9)),
    (Errno::EBADMSG, 89, Some(74)),
    (Errno::EBUSY, 16, Some(16)),
    (Errno::ECANCELED, 85, Some(125)),
    (Errno::ECHILD, 10, Some(10)),
    (Errno::ECONNABORTED, 53, Some(103)),
    (Errno::ECONNREFUSED, 61, Some(111)),
    (Errno::ECONNRESET, 54, Some(104)),
    (Errno::EDEADLK, 11, Some(35)),
    (Errno::EDESTADDRREQ, 39, Some(89)),
    (Errno::EDOM, 33, Some(33)),
    (Errno::EDQUOT, 69, Some(122)),
    (Errno::EEXIST, 17, Some(17)),
    (Errno::EFAULT, 14, Some(14)),
    (Errno::EFBIG, 27, Some(27)),
    (Errno::EHOSTUNREACH, 65, Some(113)),
    (Errno::EIDRM, 82, Some(43)),
    (Errno::EILSEQ, 86, Some(84)),
    (Errno::EINPROGRESS, 36, Some(115)),
    (Errno::EINTR, 4, Some(4)),
    (Errno::EINVAL, 22, Some(22)),
    (Errno::EIO, 5, Some(5)),
    (Errno::EISCONN, 56, Some(106)),
    (Errno::EISDIR, 21, Some(21)),
    (Errno::ELOOP, 62, Some(40)),
    (Errno::EMFILE, 24, Some(24)),
    (Errno::EMLINK, 31, Some(31)),
    (Errno::EMSGSIZE, 40, Some(90)),
    (Errno::EMULTIHOP, 90, Some(72)),
    (Errno::ENAMETOOLONG, 63, Some(36)),
    (Errno::ENETDOWN, 50, Some(100)),
    (Errno::ENETRESET, 52, Some(102)),
    (Errno::ENETUNREACH, 51, Some(101)),
    (Errno::ENFILE, 23, Some(23)),
    (Errno::ENOBUFS, 55, Some(105)),
    (Errno::ENODEV, 19, Some(19)),
    (Errno::ENOENT, 2, Some(2)),
    (Errno::ENOEXEC, 8, Some(8)),
    (Errno::ENOLCK, 77, Some(37)),
    (Errno::ENOLINK, 91, Some(67)),
    (Errno::ENOMEM, 12, Some(12)),
    (Errno::ENOMSG, 83, Some(42)),
    (Errno::ENOPROTOOPT, 42, Some(92)),
    (Errno::ENOSPC, 28, Some(28)),
    (Errno::ENOSYS, 78, Some(38)),
    (Errno::ENOTCONN, 57, Some(107)),
    (Errno::ENOTDIR, 20, Some(20)),
    (Errno::ENOTEMPTY, 66, Some(39)),
    (Errno::ENOTRECOVERABLE, 95, Some(131)),
    (Errno::ENOTSOCK, 38, Some(88)),
    (Errno::ENOTSUP, 45, Some(95)),
    (Errno::ENOTTY, 25, Some(25)),
    (Errno::ENXIO, 6, Some(6)),
    (Errno::EOVERFLOW, 84, Some(75)),
    (Errno::EOWNERDEAD, 96, Some(130)),
    (Errno::EPERM, 1, Some(1)),
    (Errno::EPIPE, 32, Some(32)),
    (Errno::EPROTO, 92, Some(71)),
    (Errno::EPROTONOSUPPORT, 43, Some(93)),
    (Errno::EPROTOTYPE, 41, Some(91)),
    (Errno::ERANGE, 34, Some(34)),
    (Errno::EROFS, 30, Some(30)),
    (Errno::ESPIPE, 29, Some(29)),
    (Errno::ESRCH, 3, Some(3)),
    (Errno::ESTALE, 70, Some(116)),
    (Errno::ETIMEDOUT, 60, Some(110)),
    (Errno::ETXTBSY, 26, Some(26)),
    (Errno::EXDEV, 18, Some(18)),
    (Errno::ENOTCAPABLE, 93, None),
];

#[test]
fn expected_table_covers_every_errno_in_order() {
    assert_eq!(EXPECTED.len(), ALL.len());
    for (i, &(e, _, _)) in EXPECTED.iter().enumerate() {
        assert_eq!(e, ALL[i], "row {i}");
        assert_eq!(usize::from(e.raw()), i + 1);
    }
}

#[test]
fn to_freebsd_matches_header_numbers() {
    for &(e, freebsd, _) in &EXPECTED {
        assert_eq!(to_freebsd(e), freebsd, "{}", e.name());
    }
}

#[test]
fn to_linux_matches_header_numbers() {
    for &(e, _, linux) in &EXPECTED {
        // ENOTCAPABLE has no Linux counterpart and is sent as EPERM (decision 6).
        assert_eq!(to_linux(e), linux.unwrap_or(1), "{}", e.name());
    }
}

#[test]
fn every_errno_round_trips_through_freebsd() {
    for &e in &ALL {
        assert_eq!(from_freebsd(to_freebsd(e)), e, "{}", e.name());
    }
}

#[test]
fn every_errno_round_trips_through_linux_except_enotcapable() {
    for &e in &ALL {
        let back = from_linux(to_linux(e));
        if e == Errno::ENOTCAPABLE {
            // Linux has no ENOTCAPABLE: ENOTCAPABLE -> EPERM (1) -> EPERM.
            assert_eq!(to_linux(e), 1);
            assert_eq!(back, Errno::EPERM);
        } else {
            assert_eq!(back, e, "{}", e.name());
        }
    }
}

#[test]
fn enotcapable_is_93_on_freebsd_and_eperm_on_linux() {
    assert_eq!(to_freebsd(Errno::ENOTCAPABLE), 93);
    assert_eq!(from_freebsd(93), Errno::ENOTCAPABLE);
    assert_eq!(to_linux(Errno::ENOTCAPABLE), to_linux(Errno::EPERM));
    assert_eq!(from_linux(1), Errno::EPERM);
}

#[test]
fn native_numbers_are_distinct() {
    let mut seen = [false; 256];
    for &e in &ALL {
        let n = usize::try_from(to_freebsd(e)).unwrap();
        assert!(!seen[n], "FreeBSD {n} used twice");
        seen[n] = true;
    }
    let mut seen = [false; 256];
    for &e in ALL.iter().filter(|&&e| e != Errno::ENOTCAPABLE) {
        let n = usize::try_from(to_linux(e)).unwrap();
        assert!(!seen[n], "Linux {n} used twice");
        seen[n] = true;
    }
}

#[test]
fn public_tables_agree_with_the_functions() {
    for (i, (&(fe, fnum), &(le, lnum))) in FREEBSD.iter().zip(LINUX.iter()).enumerate() {
        assert_eq!(fe, ALL[i]);
        assert_eq!(le, ALL[i]);
        assert_eq!(to_freebsd(fe), fnum);
        assert_eq!(to_linux(le), lnum);
    }
}

#[test]
fn every_native_value_converts_to_its_errno_or_enosys() {
    // Exhaustive over a range wider than both numberings, with the expected table
    // as the oracle: mapped numbers give their error, all others ENOSYS.
    for n in -300..=300 {
        let fb = EXPECTED.iter().find(|r| r.1 == n).map(|r| r.0);
        assert_eq!(from_freebsd(n), fb.unwrap_or(Errno::ENOSYS), "FreeBSD {n}");
        let lx = EXPECTED.iter().find(|r| r.2 == Some(n)).map(|r| r.0);
        assert_eq!(from_linux(n), lx.unwrap_or(Errno::ENOSYS), "Linux {n}");
    }
}

#[test]
fn unmapped_native_values_become_enosys() {
    let extremes = [
        0,
        -1,
        -2,
        -5,
        i32::MIN,
        i32::MIN + 1,
        i32::MAX,
        256,
        4096,
        65_536,
        1 << 20,
    ];
    for n in extremes {
        assert_eq!(from_freebsd(n), Errno::ENOSYS, "FreeBSD {n}");
        assert_eq!(from_linux(n), Errno::ENOSYS, "Linux {n}");
    }
    // Past the end of each numbering.
    assert_eq!(from_freebsd(FREEBSD_ELAST + 1), Errno::ENOSYS);
    assert_eq!(from_linux(LINUX_ERRNO_MAX + 1), Errno::ENOSYS);
    // The last numbers themselves are native-only errors.
    assert_eq!(FREEBSD_ELAST, 97); // EINTEGRITY
    assert_eq!(LINUX_ERRNO_MAX, 133); // EHWPOISON
}

#[test]
fn freebsd_only_errors_become_enosys() {
    let freebsd_only = [
        (15, "ENOTBLK"),
        (44, "ESOCKTNOSUPPORT"),
        (46, "EPFNOSUPPORT"),
        (58, "ESHUTDOWN"),
        (59, "ETOOMANYREFS"),
        (64, "EHOSTDOWN"),
        (67, "EPROCLIM"),
        (68, "EUSERS"),
        (71, "EREMOTE"),
        (72, "EBADRPC"),
        (73, "ERPCMISMATCH"),
        (74, "EPROGUNAVAIL"),
        (75, "EPROGMISMATCH"),
        (76, "EPROCUNAVAIL"),
        (79, "EFTYPE"),
        (80, "EAUTH"),
        (81, "ENEEDAUTH"),
        (87, "ENOATTR"),
        (88, "EDOOFUS"),
        (94, "ECAPMODE"),
        (97, "EINTEGRITY"),
    ];
    for (n, name) in freebsd_only {
        assert_eq!(from_freebsd(n), Errno::ENOSYS, "FreeBSD {name} ({n})");
    }
    // The FreeBSD kernel's internal pseudo-errors (ERESTART -1 .. ERELOOKUP -5).
    for n in -5..=-1 {
        assert_eq!(from_freebsd(n), Errno::ENOSYS);
    }
}

#[test]
fn linux_only_errors_become_enosys() {
    let linux_only = [
        (15, "ENOTBLK"),
        (44, "ECHRNG"),
        (45, "EL2NSYNC"),
        (51, "EL2HLT"),
        (57, "EBADSLT"),
        (59, "EBFONT"),
        (60, "ENOSTR"),
        (61, "ENODATA"),
        (62, "ETIME"),
        (63, "ENOSR"),
        (64, "ENONET"),
        (65, "ENOPKG"),
        (66, "EREMOTE"),
        (70, "ECOMM"),
        (77, "EBADFD"),
        (85, "ERESTART"),
        (86, "ESTRPIPE"),
        (87, "EUSERS"),
        (94, "ESOCKTNOSUPPORT"),
        (96, "EPFNOSUPPORT"),
        (108, "ESHUTDOWN"),
        (109, "ETOOMANYREFS"),
        (112, "EHOSTDOWN"),
        (117, "EUCLEAN"),
        (121, "EREMOTEIO"),
        (123, "ENOMEDIUM"),
        (124, "EMEDIUMTYPE"),
        (126, "ENOKEY"),
        (127, "EKEYEXPIRED"),
        (128, "EKEYREVOKED"),
        (129, "EKEYREJECTED"),
        (132, "ERFKILL"),
        (133, "EHWPOISON"),
    ];
    for (n, name) in linux_only {
        assert_eq!(from_linux(n), Errno::ENOSYS, "Linux {name} ({n})");
    }
    // Numbers that are unused on Linux (41 and 58 are gaps in asm-generic).
    assert_eq!(from_linux(41), Errno::ENOSYS);
    assert_eq!(from_linux(58), Errno::ENOSYS);
}

#[test]
fn aliases_map_to_the_cloudabi_error() {
    // Linux: EWOULDBLOCK == EAGAIN (11), EDEADLOCK == EDEADLK (35),
    // ENOTSUP == EOPNOTSUPP (95).
    assert_eq!(from_linux(11), Errno::EAGAIN);
    assert_eq!(from_linux(35), Errno::EDEADLK);
    assert_eq!(from_linux(95), Errno::ENOTSUP);
    assert_eq!(to_linux(Errno::EAGAIN), 11);
    assert_eq!(to_linux(Errno::EDEADLK), 35);
    assert_eq!(to_linux(Errno::ENOTSUP), 95);
    // FreeBSD: EWOULDBLOCK == EAGAIN (35), ENOTSUP == EOPNOTSUPP (45).
    assert_eq!(from_freebsd(35), Errno::EAGAIN);
    assert_eq!(from_freebsd(45), Errno::ENOTSUP);
    assert_eq!(to_freebsd(Errno::EAGAIN), 35);
    assert_eq!(to_freebsd(Errno::ENOTSUP), 45);
    // The numbering differs between the two: Linux's EDEADLK is FreeBSD's EAGAIN.
    assert_eq!(from_freebsd(11), Errno::EDEADLK);
}

#[test]
fn cloudabi_raw_helpers() {
    for &e in &ALL {
        assert_eq!(to_cloudabi(e), e.raw());
        assert_eq!(from_cloudabi(e.raw()), e);
    }
    assert_eq!(from_cloudabi(0), Errno::ENOSYS);
    assert_eq!(from_cloudabi(77), Errno::ENOSYS);
    assert_eq!(from_cloudabi(u16::MAX), Errno::ENOSYS);
    assert_eq!(to_cloudabi(Errno::EBADF), 8);
    assert_eq!(to_cloudabi(Errno::ENOTCAPABLE), 76);
}

#[test]
fn conversions_are_usable_in_const_context() {
    const EBADF_FREEBSD: i32 = to_freebsd(Errno::EBADF);
    const EBADF_LINUX: i32 = to_linux(Errno::EBADF);
    const NOSYS: Errno = from_cloudabi(0);
    assert_eq!(EBADF_FREEBSD, 9);
    assert_eq!(EBADF_LINUX, 9);
    assert_eq!(NOSYS, Errno::ENOSYS);
}

#[test]
fn linux_spot_checks_with_hard_numbers() {
    let spots = [
        (Errno::ENOENT, 2),
        (Errno::E2BIG, 7),
        (Errno::EBADF, 9),
        (Errno::ENOMEM, 12),
        (Errno::EFAULT, 14),
        (Errno::EINVAL, 22),
        (Errno::EMFILE, 24),
        (Errno::ENOSYS, 38),
        (Errno::EILSEQ, 84),
    ];
    for (e, n) in spots {
        assert_eq!(to_linux(e), n, "{}", e.name());
        assert_eq!(from_linux(n), e, "{n}");
    }
}

/// Checks against the host's own error numbers: the `nix` crate's `Errno`, which
/// comes from `libc`, and `std::io::ErrorKind` decoding of the raw number.
#[cfg(target_os = "linux")]
mod host_linux {
    use super::*;
    use nix::errno::Errno as Nix;
    use std::io::{Error, ErrorKind};

    #[test]
    fn every_mapped_number_equals_the_host_libc_number() {
        let host: [(Errno, Nix); 75] = [
            (Errno::E2BIG, Nix::E2BIG),
            (Errno::EACCES, Nix::EACCES),
            (Errno::EADDRINUSE, Nix::EADDRINUSE),
            (Errno::EADDRNOTAVAIL, Nix::EADDRNOTAVAIL),
            (Errno::EAFNOSUPPORT, Nix::EAFNOSUPPORT),
            (Errno::EAGAIN, Nix::EAGAIN),
            (Errno::EALREADY, Nix::EALREADY),
            (Errno::EBADF, Nix::EBADF),
            (Errno::EBADMSG, Nix::EBADMSG),
            (Errno::EBUSY, Nix::EBUSY),
            (Errno::ECANCELED, Nix::ECANCELED),
            (Errno::ECHILD, Nix::ECHILD),
            (Errno::ECONNABORTED, Nix::ECONNABORTED),
            (Errno::ECONNREFUSED, Nix::ECONNREFUSED),
            (Errno::ECONNRESET, Nix::ECONNRESET),
            (Errno::EDEADLK, Nix::EDEADLK),
            (Errno::EDESTADDRREQ, Nix::EDESTADDRREQ),
            (Errno::EDOM, Nix::EDOM),
            (Errno::EDQUOT, Nix::EDQUOT),
            (Errno::EEXIST, Nix::EEXIST),
            (Errno::EFAULT, Nix::EFAULT),
            (Errno::EFBIG, Nix::EFBIG),
            (Errno::EHOSTUNREACH, Nix::EHOSTUNREACH),
            (Errno::EIDRM, Nix::EIDRM),
            (Errno::EILSEQ, Nix::EILSEQ),
            (Errno::EINPROGRESS, Nix::EINPROGRESS),
            (Errno::EINTR, Nix::EINTR),
            (Errno::EINVAL, Nix::EINVAL),
            (Errno::EIO, Nix::EIO),
            (Errno::EISCONN, Nix::EISCONN),
            (Errno::EISDIR, Nix::EISDIR),
            (Errno::ELOOP, Nix::ELOOP),
            (Errno::EMFILE, Nix::EMFILE),
            (Errno::EMLINK, Nix::EMLINK),
            (Errno::EMSGSIZE, Nix::EMSGSIZE),
            (Errno::EMULTIHOP, Nix::EMULTIHOP),
            (Errno::ENAMETOOLONG, Nix::ENAMETOOLONG),
            (Errno::ENETDOWN, Nix::ENETDOWN),
            (Errno::ENETRESET, Nix::ENETRESET),
            (Errno::ENETUNREACH, Nix::ENETUNREACH),
            (Errno::ENFILE, Nix::ENFILE),
            (Errno::ENOBUFS, Nix::ENOBUFS),
            (Errno::ENODEV, Nix::ENODEV),
            (Errno::ENOENT, Nix::ENOENT),
            (Errno::ENOEXEC, Nix::ENOEXEC),
            (Errno::ENOLCK, Nix::ENOLCK),
            (Errno::ENOLINK, Nix::ENOLINK),
            (Errno::ENOMEM, Nix::ENOMEM),
            (Errno::ENOMSG, Nix::ENOMSG),
            (Errno::ENOPROTOOPT, Nix::ENOPROTOOPT),
            (Errno::ENOSPC, Nix::ENOSPC),
            (Errno::ENOSYS, Nix::ENOSYS),
            (Errno::ENOTCONN, Nix::ENOTCONN),
            (Errno::ENOTDIR, Nix::ENOTDIR),
            (Errno::ENOTEMPTY, Nix::ENOTEMPTY),
            (Errno::ENOTRECOVERABLE, Nix::ENOTRECOVERABLE),
            (Errno::ENOTSOCK, Nix::ENOTSOCK),
            (Errno::ENOTSUP, Nix::ENOTSUP),
            (Errno::ENOTTY, Nix::ENOTTY),
            (Errno::ENXIO, Nix::ENXIO),
            (Errno::EOVERFLOW, Nix::EOVERFLOW),
            (Errno::EOWNERDEAD, Nix::EOWNERDEAD),
            (Errno::EPERM, Nix::EPERM),
            (Errno::EPIPE, Nix::EPIPE),
            (Errno::EPROTO, Nix::EPROTO),
            (Errno::EPROTONOSUPPORT, Nix::EPROTONOSUPPORT),
            (Errno::EPROTOTYPE, Nix::EPROTOTYPE),
            (Errno::ERANGE, Nix::ERANGE),
            (Errno::EROFS, Nix::EROFS),
            (Errno::ESPIPE, Nix::ESPIPE),
            (Errno::ESRCH, Nix::ESRCH),
            (Errno::ESTALE, Nix::ESTALE),
            (Errno::ETIMEDOUT, Nix::ETIMEDOUT),
            (Errno::ETXTBSY, Nix::ETXTBSY),
            (Errno::EXDEV, Nix::EXDEV),
        ];
        for (e, n) in host {
            assert_eq!(to_linux(e), n as i32, "{}", e.name());
            assert_eq!(from_linux(n as i32), e, "{}", e.name());
        }
        // Host aliases and Linux-only values.
        assert_eq!(from_linux(Nix::EWOULDBLOCK as i32), Errno::EAGAIN);
        assert_eq!(from_linux(Nix::EDEADLOCK as i32), Errno::EDEADLK);
        assert_eq!(from_linux(Nix::EOPNOTSUPP as i32), Errno::ENOTSUP);
        assert_eq!(from_linux(Nix::ENOKEY as i32), Errno::ENOSYS);
        assert_eq!(from_linux(Nix::EHWPOISON as i32), Errno::ENOSYS);
    }

    #[test]
    fn std_io_error_kinds_agree() {
        let kinds = [
            (Errno::ENOENT, ErrorKind::NotFound),
            (Errno::EACCES, ErrorKind::PermissionDenied),
            (Errno::EPERM, ErrorKind::PermissionDenied),
            (Errno::ENOTCAPABLE, ErrorKind::PermissionDenied),
            (Errno::EEXIST, ErrorKind::AlreadyExists),
            (Errno::EINTR, ErrorKind::Interrupted),
            (Errno::EINVAL, ErrorKind::InvalidInput),
            (Errno::EAGAIN, ErrorKind::WouldBlock),
            (Errno::EPIPE, ErrorKind::BrokenPipe),
            (Errno::ECONNREFUSED, ErrorKind::ConnectionRefused),
            (Errno::ECONNRESET, ErrorKind::ConnectionReset),
            (Errno::ECONNABORTED, ErrorKind::ConnectionAborted),
            (Errno::ENOTCONN, ErrorKind::NotConnected),
            (Errno::EADDRINUSE, ErrorKind::AddrInUse),
            (Errno::EADDRNOTAVAIL, ErrorKind::AddrNotAvailable),
            (Errno::ETIMEDOUT, ErrorKind::TimedOut),
            (Errno::ENOMEM, ErrorKind::OutOfMemory),
            (Errno::ENOSYS, ErrorKind::Unsupported),
        ];
        for (e, kind) in kinds {
            let err = Error::from_raw_os_error(to_linux(e));
            assert_eq!(err.kind(), kind, "{}", e.name());
            assert_eq!(err.raw_os_error(), Some(to_linux(e)));
        }
    }
}
