//! Conversions between CloudABI error numbers and the native error numbers of
//! FreeBSD and Linux.
//!
//! A kernel that runs CloudABI programs returns CloudABI numbers ([`Errno::raw`],
//! 1..=76) to them; a kernel whose own code or host speaks FreeBSD or Linux
//! numbers converts at the boundary with the functions here:
//!
//! | direction | FreeBSD | Linux |
//! |---|---|---|
//! | CloudABI to native | [`to_freebsd`] | [`to_linux`] |
//! | native to CloudABI | [`from_freebsd`] | [`from_linux`] |
//!
//! Rules, the same as FreeBSD's own CloudABI compatibility layer:
//! - Every CloudABI error has a FreeBSD counterpart, so CloudABI to FreeBSD to
//!   CloudABI is the identity.
//! - Linux has no `ENOTCAPABLE`: [`to_linux`] turns it into `EPERM` (1), which
//!   converts back as [`Errno::EPERM`]. Every other CloudABI error round-trips
//!   through Linux.
//! - A native value with no CloudABI counterpart (0, negative values, numbers past
//!   the last native errno, and native-only errors such as FreeBSD `EDOOFUS` or
//!   Linux `ENOKEY`) becomes [`Errno::ENOSYS`].
//! - Aliases need no special case because they share a number: FreeBSD
//!   `EWOULDBLOCK` = `EAGAIN` (35) and `ENOTSUP` = `EOPNOTSUPP` (45); Linux
//!   `EWOULDBLOCK` = `EAGAIN` (11), `EDEADLOCK` = `EDEADLK` (35) and `ENOTSUP` =
//!   `EOPNOTSUPP` (95). The shared number converts to CloudABI `EAGAIN`,
//!   `EDEADLK` and `ENOTSUP` respectively.
//!
//! The tables are `const` arrays; nothing here allocates or panics.
//!
//! # References
//! - CloudABI `cloudabi_errno_t` (NuxiNL/cloudabi `cloudabi.txt`,
//!   `headers/cloudabi_types_common.h`).
//! - FreeBSD `sys/sys/errno.h` (FreeBSD 12 and later: `ELAST` = 97) and the
//!   conversion table of `sys/compat/cloudabi/cloudabi_errno.c`.
//! - Linux `include/uapi/asm-generic/errno-base.h` (1..=34) and
//!   `include/uapi/asm-generic/errno.h` (35..=133), the numbering used by x86
//!   (i386 and x86-64) and most other Linux architectures.

use crate::Errno;
use crate::errno::ALL;

/// Number of CloudABI error values (1..=76).
const COUNT: usize = ALL.len();

/// The largest FreeBSD native errno (`ELAST`, `EINTEGRITY`), in FreeBSD 12 and later.
pub const FREEBSD_ELAST: i32 = 97;

/// The largest Linux asm-generic errno (`EHWPOISON`).
pub const LINUX_ERRNO_MAX: i32 = 133;

/// CloudABI error to FreeBSD native number, in CloudABI order
/// (`FREEBSD[i].0.raw() == i + 1`).
///
/// Every CloudABI error has a distinct FreeBSD number, so the table is a bijection
/// onto its image.
///
/// # References
/// - FreeBSD `sys/sys/errno.h`.
/// - FreeBSD `sys/compat/cloudabi/cloudabi_errno.c`.
pub const FREEBSD: [(Errno, i32); COUNT] = [
    (Errno::E2BIG, 7),
    (Errno::EACCES, 13),
    (Errno::EADDRINUSE, 48),
    (Errno::EADDRNOTAVAIL, 49),
    (Errno::EAFNOSUPPORT, 47),
    (Errno::EAGAIN, 35), // also EWOULDBLOCK
    (Errno::EALREADY, 37),
    (Errno::EBADF, 9),
    (Errno::EBADMSG, 89),
    (Errno::EBUSY, 16),
    (Errno::ECANCELED, 85),
    (Errno::ECHILD, 10),
    (Errno::ECONNABORTED, 53),
    (Errno::ECONNREFUSED, 61),
    (Errno::ECONNRESET, 54),
    (Errno::EDEADLK, 11),
    (Errno::EDESTADDRREQ, 39),
    (Errno::EDOM, 33),
    (Errno::EDQUOT, 69),
    (Errno::EEXIST, 17),
    (Errno::EFAULT, 14),
    (Errno::EFBIG, 27),
    (Errno::EHOSTUNREACH, 65),
    (Errno::EIDRM, 82),
    (Errno::EILSEQ, 86),
    (Errno::EINPROGRESS, 36),
    (Errno::EINTR, 4),
    (Errno::EINVAL, 22),
    (Errno::EIO, 5),
    (Errno::EISCONN, 56),
    (Errno::EISDIR, 21),
    (Errno::ELOOP, 62),
    (Errno::EMFILE, 24),
    (Errno::EMLINK, 31),
    (Errno::EMSGSIZE, 40),
    (Errno::EMULTIHOP, 90),
    (Errno::ENAMETOOLONG, 63),
    (Errno::ENETDOWN, 50),
    (Errno::ENETRESET, 52),
    (Errno::ENETUNREACH, 51),
    (Errno::ENFILE, 23),
    (Errno::ENOBUFS, 55),
    (Errno::ENODEV, 19),
    (Errno::ENOENT, 2),
    (Errno::ENOEXEC, 8),
    (Errno::ENOLCK, 77),
    (Errno::ENOLINK, 91),
    (Errno::ENOMEM, 12),
    (Errno::ENOMSG, 83),
    (Errno::ENOPROTOOPT, 42),
    (Errno::ENOSPC, 28),
    (Errno::ENOSYS, 78),
    (Errno::ENOTCONN, 57),
    (Errno::ENOTDIR, 20),
    (Errno::ENOTEMPTY, 66),
    (Errno::ENOTRECOVERABLE, 95),
    (Errno::ENOTSOCK, 38),
    (Errno::ENOTSUP, 45), // also EOPNOTSUPP
    (Errno::ENOTTY, 25),
    (Errno::ENXIO, 6),
    (Errno::EOVERFLOW, 84),
    (Errno::EOWNERDEAD, 96),
    (Errno::EPERM, 1),
    (Errno::EPIPE, 32),
    (Errno::EPROTO, 92),
    (Errno::EPROTONOSUPPORT, 43),
    (Errno::EPROTOTYPE, 41),
    (Errno::ERANGE, 34),
    (Errno::EROFS, 30),
    (Errno::ESPIPE, 29),
    (Errno::ESRCH, 3),
    (Errno::ESTALE, 70),
    (Errno::ETIMEDOUT, 60),
    (Errno::ETXTBSY, 26),
    (Errno::EXDEV, 18),
    (Errno::ENOTCAPABLE, 93),
];

/// CloudABI error to Linux native number (asm-generic numbering), in CloudABI order
/// (`LINUX[i].0.raw() == i + 1`).
///
/// Linux has no `ENOTCAPABLE`; it is sent as `EPERM` (1). That is the only number
/// used twice: converting 1 back gives [`Errno::EPERM`].
///
/// # References
/// - Linux `include/uapi/asm-generic/errno-base.h`.
/// - Linux `include/uapi/asm-generic/errno.h`.
pub const LINUX: [(Errno, i32); COUNT] = [
    (Errno::E2BIG, 7),
    (Errno::EACCES, 13),
    (Errno::EADDRINUSE, 98),
    (Errno::EADDRNOTAVAIL, 99),
    (Errno::EAFNOSUPPORT, 97),
    (Errno::EAGAIN, 11), // also EWOULDBLOCK
    (Errno::EALREADY, 114),
    (Errno::EBADF, 9),
    (Errno::EBADMSG, 74),
    (Errno::EBUSY, 16),
    (Errno::ECANCELED, 125),
    (Errno::ECHILD, 10),
    (Errno::ECONNABORTED, 103),
    (Errno::ECONNREFUSED, 111),
    (Errno::ECONNRESET, 104),
    (Errno::EDEADLK, 35), // also EDEADLOCK
    (Errno::EDESTADDRREQ, 89),
    (Errno::EDOM, 33),
    (Errno::EDQUOT, 122),
    (Errno::EEXIST, 17),
    (Errno::EFAULT, 14),
    (Errno::EFBIG, 27),
    (Errno::EHOSTUNREACH, 113),
    (Errno::EIDRM, 43),
    (Errno::EILSEQ, 84),
    (Errno::EINPROGRESS, 115),
    (Errno::EINTR, 4),
    (Errno::EINVAL, 22),
    (Errno::EIO, 5),
    (Errno::EISCONN, 106),
    (Errno::EISDIR, 21),
    (Errno::ELOOP, 40),
    (Errno::EMFILE, 24),
    (Errno::EMLINK, 31),
    (Errno::EMSGSIZE, 90),
    (Errno::EMULTIHOP, 72),
    (Errno::ENAMETOOLONG, 36),
    (Errno::ENETDOWN, 100),
    (Errno::ENETRESET, 102),
    (Errno::ENETUNREACH, 101),
    (Errno::ENFILE, 23),
    (Errno::ENOBUFS, 105),
    (Errno::ENODEV, 19),
    (Errno::ENOENT, 2),
    (Errno::ENOEXEC, 8),
    (Errno::ENOLCK, 37),
    (Errno::ENOLINK, 67),
    (Errno::ENOMEM, 12),
    (Errno::ENOMSG, 42),
    (Errno::ENOPROTOOPT, 92),
    (Errno::ENOSPC, 28),
    (Errno::ENOSYS, 38),
    (Errno::ENOTCONN, 107),
    (Errno::ENOTDIR, 20),
    (Errno::ENOTEMPTY, 39),
    (Errno::ENOTRECOVERABLE, 131),
    (Errno::ENOTSOCK, 88),
    (Errno::ENOTSUP, 95), // also EOPNOTSUPP
    (Errno::ENOTTY, 25),
    (Errno::ENXIO, 6),
    (Errno::EOVERFLOW, 75),
    (Errno::EOWNERDEAD, 130),
    (Errno::EPERM, 1),
    (Errno::EPIPE, 32),
    (Errno::EPROTO, 71),
    (Errno::EPROTONOSUPPORT, 93),
    (Errno::EPROTOTYPE, 91),
    (Errno::ERANGE, 34),
    (Errno::EROFS, 30),
    (Errno::ESPIPE, 29),
    (Errno::ESRCH, 3),
    (Errno::ESTALE, 116),
    (Errno::ETIMEDOUT, 110),
    (Errno::ETXTBSY, 26),
    (Errno::EXDEV, 18),
    (Errno::ENOTCAPABLE, 1), // no ENOTCAPABLE on Linux: EPERM
];

/// Native number to CloudABI number (0 = no counterpart), indexed by the native
/// number; built at compile time from `FREEBSD`.
const FROM_FREEBSD: [u16; 98] = invert(&FREEBSD);

/// Native number to CloudABI number (0 = no counterpart), indexed by the native
/// number; built at compile time from `LINUX`.
const FROM_LINUX: [u16; 134] = invert(&LINUX);

/// Builds the reverse of a forward table. Where two CloudABI errors share a native
/// number (only Linux `EPERM` and `ENOTCAPABLE`), the first in CloudABI order wins,
/// which is `EPERM` (63) over `ENOTCAPABLE` (76).
const fn invert<const N: usize>(table: &[(Errno, i32); COUNT]) -> [u16; N] {
    let mut out = [0u16; N];
    let mut i = 0;
    while i < COUNT {
        let (e, native) = table[i];
        if native > 0 && (native as usize) < N && out[native as usize] == 0 {
            out[native as usize] = e.raw();
        }
        i += 1;
    }
    out
}

/// Compile-time checks of the tables: CloudABI order, native numbers in range, and
/// every entry present in the reverse table (so nothing was dropped by `invert`).
#[allow(
    dead_code,
    reason = "used only by the `const _` assertions below, which Rust 1.85 does not count"
)]
const fn tables_consistent<const N: usize>(
    table: &[(Errno, i32); COUNT],
    reverse: &[u16; N],
) -> bool {
    let mut i = 0;
    while i < COUNT {
        let (e, native) = table[i];
        if e.raw() as usize != i + 1 || native <= 0 || native as usize >= N {
            return false;
        }
        if reverse[native as usize] == 0 {
            return false;
        }
        i += 1;
    }
    true
}

const _: () = assert!(tables_consistent(&FREEBSD, &FROM_FREEBSD));
const _: () = assert!(tables_consistent(&LINUX, &FROM_LINUX));
const _: () = assert!(FROM_FREEBSD.len() == FREEBSD_ELAST as usize + 1);
const _: () = assert!(FROM_LINUX.len() == LINUX_ERRNO_MAX as usize + 1);

/// Looks `e` up in a forward table (indexed by CloudABI number minus one).
const fn forward(table: &[(Errno, i32); COUNT], e: Errno) -> i32 {
    let i = (e.raw() as usize).wrapping_sub(1);
    if i < COUNT {
        table[i].1
    } else {
        // Unreachable: every `Errno` is 1..=76. Report "not implemented" anyway.
        table[Errno::ENOSYS.raw() as usize - 1].1
    }
}

/// Looks `native` up in a reverse table; anything without a counterpart is `ENOSYS`.
fn reverse(table: &[u16], native: i32) -> Errno {
    usize::try_from(native)
        .ok()
        .and_then(|i| table.get(i))
        .and_then(|&raw| Errno::from_raw(raw))
        .unwrap_or(Errno::ENOSYS)
}

/// The FreeBSD native number of a CloudABI error.
///
/// Total and injective: every CloudABI error has its own FreeBSD number
/// (`ENOTCAPABLE` is 93), and [`from_freebsd`] inverts it.
///
/// # References
/// - FreeBSD `sys/sys/errno.h`.
#[inline]
pub const fn to_freebsd(e: Errno) -> i32 {
    forward(&FREEBSD, e)
}

/// The CloudABI error for a FreeBSD native number.
///
/// Numbers without a CloudABI counterpart become [`Errno::ENOSYS`]: 0 (success is
/// not an error), negative values (including the kernel-internal pseudo-errors such
/// as `ERESTART`), numbers above `ELAST` (97), and FreeBSD-only errors (`ENOTBLK`,
/// `ESOCKTNOSUPPORT`, `EPFNOSUPPORT`, `ESHUTDOWN`, `ETOOMANYREFS`, `EHOSTDOWN`,
/// `EPROCLIM`, `EUSERS`, `EREMOTE`, the RPC errors, `EFTYPE`, `EAUTH`, `ENEEDAUTH`,
/// `ENOATTR`, `EDOOFUS`, `ECAPMODE`, `EINTEGRITY`). `EWOULDBLOCK` and `EOPNOTSUPP`
/// are the same numbers as `EAGAIN` and `ENOTSUP`.
///
/// # References
/// - FreeBSD `sys/sys/errno.h`.
/// - FreeBSD `sys/compat/cloudabi/cloudabi_errno.c` (unmapped values give `ENOSYS`).
#[inline]
pub fn from_freebsd(native: i32) -> Errno {
    reverse(&FROM_FREEBSD, native)
}

/// The Linux native number (asm-generic numbering, as on x86) of a CloudABI error.
///
/// Injective except for `ENOTCAPABLE`, which Linux lacks and which becomes `EPERM`
/// (1); [`from_linux`] maps 1 back to [`Errno::EPERM`].
///
/// # References
/// - Linux `include/uapi/asm-generic/errno-base.h`, `include/uapi/asm-generic/errno.h`.
#[inline]
pub const fn to_linux(e: Errno) -> i32 {
    forward(&LINUX, e)
}

/// The CloudABI error for a Linux native number (asm-generic numbering, as on x86).
///
/// Numbers without a CloudABI counterpart become [`Errno::ENOSYS`]: 0, negative
/// values (a raw syscall's `-errno` must be negated first), numbers above
/// `EHWPOISON` (133), and Linux-only errors (`ENOTBLK`, `ECHRNG` .. `EBADSLT`,
/// `EBFONT` .. `ENOPKG`, `EREMOTE`, `EADV`, `ESRMNT`, `ECOMM`, `EDOTDOT`,
/// `ENOTUNIQ`, `EBADFD`, `EREMCHG`, `ELIBACC` .. `ELIBEXEC`, `ERESTART`,
/// `ESTRPIPE`, `EUSERS`, `ESOCKTNOSUPPORT`, `EPFNOSUPPORT`, `ESHUTDOWN`,
/// `ETOOMANYREFS`, `EHOSTDOWN`, `EUCLEAN` .. `EREMOTEIO`, `ENOMEDIUM`,
/// `EMEDIUMTYPE`, `ENOKEY` .. `EKEYREJECTED`, `ERFKILL`, `EHWPOISON`).
/// `EWOULDBLOCK`, `EDEADLOCK` and `EOPNOTSUPP` are the same numbers as `EAGAIN`,
/// `EDEADLK` and `ENOTSUP`.
///
/// # References
/// - Linux `include/uapi/asm-generic/errno-base.h`, `include/uapi/asm-generic/errno.h`.
#[inline]
pub fn from_linux(native: i32) -> Errno {
    reverse(&FROM_LINUX, native)
}

/// The CloudABI number of an error, as it crosses the ABI (`cloudabi_errno_t`).
///
/// The same as [`Errno::raw`], for symmetry with [`to_freebsd`] and [`to_linux`].
#[inline]
pub const fn to_cloudabi(e: Errno) -> u16 {
    e.raw()
}

/// The CloudABI error for a raw CloudABI number, with the same rule as the native
/// conversions: 0 (success) and numbers above 76 become [`Errno::ENOSYS`].
///
/// Use [`Errno::from_raw`] to tell those cases apart.
#[inline]
pub const fn from_cloudabi(raw: u16) -> Errno {
    match Errno::from_raw(raw) {
        Some(e) => e,
        None => Errno::ENOSYS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_tables_have_exactly_the_forward_entries() {
        let mapped_freebsd = FROM_FREEBSD.iter().filter(|&&r| r != 0).count();
        let mapped_linux = FROM_LINUX.iter().filter(|&&r| r != 0).count();
        assert_eq!(mapped_freebsd, COUNT);
        // ENOTCAPABLE shares EPERM's number.
        assert_eq!(mapped_linux, COUNT - 1);
    }
}
