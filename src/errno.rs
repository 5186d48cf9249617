//! CloudABI error numbers.
//!
//! [`Errno`] carries the 76 CloudABI error values (1..=76). Success is never an
//! `Errno`: fallible functions return `Result<T, Errno>`. Conversions to and from
//! the native numbering of FreeBSD and Linux live in `capexec::abi::errno` (feature
//! `abi-i386`).
//!
//! # References
//! - CloudABI `cloudabi_errno_t` (cloudabi.txt, `cloudabi_types_common.h`).
//! - POSIX.1-2017 `<errno.h>`.

/// A CloudABI error number (`cloudabi_errno_t`, 1..=76).
///
/// The discriminant is the CloudABI number, so `Errno::EBADF as u16 == 8`; use
/// [`Errno::raw`] and [`Errno::from_raw`] to cross the ABI boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
#[repr(u16)]
#[non_exhaustive]
pub enum Errno {
    /// Argument list too long.
    #[error("E2BIG: argument list too long")]
    E2BIG = 1,
    /// Permission denied.
    #[error("EACCES: permission denied")]
    EACCES = 2,
    /// Address in use.
    #[error("EADDRINUSE: address in use")]
    EADDRINUSE = 3,
    /// Address not available.
    #[error("EADDRNOTAVAIL: address not available")]
    EADDRNOTAVAIL = 4,
    /// Address family not supported.
    #[error("EAFNOSUPPORT: address family not supported")]
    EAFNOSUPPORT = 5,
    /// Resource unavailable, try again.
    #[error("EAGAIN: resource unavailable, try again")]
    EAGAIN = 6,
    /// Connection already in progress.
    #[error("EALREADY: connection already in progress")]
    EALREADY = 7,
    /// Bad file descriptor.
    #[error("EBADF: bad file descriptor")]
    EBADF = 8,
    /// Bad message.
    #[error("EBADMSG: bad message")]
    EBADMSG = 9,
    /// Device or resource busy.
    #[error("EBUSY: device or resource busy")]
    EBUSY = 10,
    /// Operation canceled.
    #[error("ECANCELED: operation canceled")]
    ECANCELED = 11,
    /// No child processes.
    #[error("ECHILD: no child processes")]
    ECHILD = 12,
    /// Connection aborted.
    #[error("ECONNABORTED: connection aborted")]
    ECONNABORTED = 13,
    /// Connection refused.
    #[error("ECONNREFUSED: connection refused")]
    ECONNREFUSED = 14,
    /// Connection reset.
    #[error("ECONNRESET: connection reset")]
    ECONNRESET = 15,
    /// Resource deadlock would occur.
    #[error("EDEADLK: resource deadlock would occur")]
    EDEADLK = 16,
    /// Destination address required.
    #[error("EDESTADDRREQ: destination address required")]
    EDESTADDRREQ = 17,
    /// Mathematics argument out of domain of function.
    #[error("EDOM: mathematics argument out of domain of function")]
    EDOM = 18,
    /// Disk quota exceeded.
    #[error("EDQUOT: disk quota exceeded")]
    EDQUOT = 19,
    /// File exists.
    #[error("EEXIST: file exists")]
    EEXIST = 20,
    /// Bad address.
    #[error("EFAULT: bad address")]
    EFAULT = 21,
    /// File too large.
    #[error("EFBIG: file too large")]
    EFBIG = 22,
    /// Host is unreachable.
    #[error("EHOSTUNREACH: host is unreachable")]
    EHOSTUNREACH = 23,
    /// Identifier removed.
    #[error("EIDRM: identifier removed")]
    EIDRM = 24,
    /// Illegal byte sequence.
    #[error("EILSEQ: illegal byte sequence")]
    EILSEQ = 25,
    /// Operation in progress.
    #[error("EINPROGRESS: operation in progress")]
    EINPROGRESS = 26,
    /// Interrupted function.
    #[error("EINTR: interrupted function")]
    EINTR = 27,
    /// Invalid argument.
    #[error("EINVAL: invalid argument")]
    EINVAL = 28,
    /// I/O error.
    #[error("EIO: I/O error")]
    EIO = 29,
    /// Socket is connected.
    #[error("EISCONN: socket is connected")]
    EISCONN = 30,
    /// Is a directory.
    #[error("EISDIR: is a directory")]
    EISDIR = 31,
    /// Too many levels of symbolic links.
    #[error("ELOOP: too many levels of symbolic links")]
    ELOOP = 32,
    /// Too many open files.
    #[error("EMFILE: too many open files")]
    EMFILE = 33,
    /// Too many links.
    #[error("EMLINK: too many links")]
    EMLINK = 34,
    /// Message too large.
    #[error("EMSGSIZE: message too large")]
    EMSGSIZE = 35,
    /// Multihop attempted.
    #[error("EMULTIHOP: multihop attempted")]
    EMULTIHOP = 36,
    /// Filename too long.
    #[error("ENAMETOOLONG: filename too long")]
    ENAMETOOLONG = 37,
    /// Network is down.
    #[error("ENETDOWN: network is down")]
    ENETDOWN = 38,
    /// Connection aborted by network.
    #[error("ENETRESET: connection aborted by network")]
    ENETRESET = 39,
    /// Network unreachable.
    #[error("ENETUNREACH: network unreachable")]
    ENETUNREACH = 40,
    /// Too many files open in system.
    #[error("ENFILE: too many files open in system")]
    ENFILE = 41,
    /// No buffer space available.
    #[error("ENOBUFS: no buffer space available")]
    ENOBUFS = 42,
    /// No such device.
    #[error("ENODEV: no such device")]
    ENODEV = 43,
    /// No such file or directory.
    #[error("ENOENT: no such file or directory")]
    ENOENT = 44,
    /// Executable file format error.
    #[error("ENOEXEC: executable file format error")]
    ENOEXEC = 45,
    /// No locks available.
    #[error("ENOLCK: no locks available")]
    ENOLCK = 46,
    /// Link has been severed.
    #[error("ENOLINK: link has been severed")]
    ENOLINK = 47,
    /// Not enough space.
    #[error("ENOMEM: not enough space")]
    ENOMEM = 48,
    /// No message of the desired type.
    #[error("ENOMSG: no message of the desired type")]
    ENOMSG = 49,
    /// Protocol not available.
    #[error("ENOPROTOOPT: protocol not available")]
    ENOPROTOOPT = 50,
    /// No space left on device.
    #[error("ENOSPC: no space left on device")]
    ENOSPC = 51,
    /// Function not supported.
    #[error("ENOSYS: function not supported")]
    ENOSYS = 52,
    /// The socket is not connected.
    #[error("ENOTCONN: the socket is not connected")]
    ENOTCONN = 53,
    /// Not a directory or a symbolic link to a directory.
    #[error("ENOTDIR: not a directory or a symbolic link to a directory")]
    ENOTDIR = 54,
    /// Directory not empty.
    #[error("ENOTEMPTY: directory not empty")]
    ENOTEMPTY = 55,
    /// State not recoverable.
    #[error("ENOTRECOVERABLE: state not recoverable")]
    ENOTRECOVERABLE = 56,
    /// Not a socket.
    #[error("ENOTSOCK: not a socket")]
    ENOTSOCK = 57,
    /// Not supported.
    #[error("ENOTSUP: not supported")]
    ENOTSUP = 58,
    /// Inappropriate I/O control operation.
    #[error("ENOTTY: inappropriate I/O control operation")]
    ENOTTY = 59,
    /// No such device or address.
    #[error("ENXIO: no such device or address")]
    ENXIO = 60,
    /// Value too large to be stored in data type.
    #[error("EOVERFLOW: value too large to be stored in data type")]
    EOVERFLOW = 61,
    /// Previous owner died.
    #[error("EOWNERDEAD: previous owner died")]
    EOWNERDEAD = 62,
    /// Operation not permitted.
    #[error("EPERM: operation not permitted")]
    EPERM = 63,
    /// Broken pipe.
    #[error("EPIPE: broken pipe")]
    EPIPE = 64,
    /// Protocol error.
    #[error("EPROTO: protocol error")]
    EPROTO = 65,
    /// Protocol not supported.
    #[error("EPROTONOSUPPORT: protocol not supported")]
    EPROTONOSUPPORT = 66,
    /// Protocol wrong type for socket.
    #[error("EPROTOTYPE: protocol wrong type for socket")]
    EPROTOTYPE = 67,
    /// Result too large.
    #[error("ERANGE: result too large")]
    ERANGE = 68,
    /// Read-only file system.
    #[error("EROFS: read-only file system")]
    EROFS = 69,
    /// Invalid seek.
    #[error("ESPIPE: invalid seek")]
    ESPIPE = 70,
    /// No such process.
    #[error("ESRCH: no such process")]
    ESRCH = 71,
    /// Stale file handle.
    #[error("ESTALE: stale file handle")]
    ESTALE = 72,
    /// Connection timed out.
    #[error("ETIMEDOUT: connection timed out")]
    ETIMEDOUT = 73,
    /// Text file busy.
    #[error("ETXTBSY: text file busy")]
    ETXTBSY = 74,
    /// Cross-device link.
    #[error("EXDEV: cross-device link")]
    EXDEV = 75,
    /// Extension: capabilities insufficient.
    #[error("ENOTCAPABLE: extension: capabilities insufficient")]
    ENOTCAPABLE = 76,
}

/// Every error value, in numeric order (`ALL[i].raw() == i + 1`).
pub const ALL: [Errno; 76] = [
    Errno::E2BIG,
    Errno::EACCES,
    Errno::EADDRINUSE,
    Errno::EADDRNOTAVAIL,
    Errno::EAFNOSUPPORT,
    Errno::EAGAIN,
    Errno::EALREADY,
    Errno::EBADF,
    Errno::EBADMSG,
    Errno::EBUSY,
    Errno::ECANCELED,
    Errno::ECHILD,
    Errno::ECONNABORTED,
    Errno::ECONNREFUSED,
    Errno::ECONNRESET,
    Errno::EDEADLK,
    Errno::EDESTADDRREQ,
    Errno::EDOM,
    Errno::EDQUOT,
    Errno::EEXIST,
    Errno::EFAULT,
    Errno::EFBIG,
    Errno::EHOSTUNREACH,
    Errno::EIDRM,
    Errno::EILSEQ,
    Errno::EINPROGRESS,
    Errno::EINTR,
    Errno::EINVAL,
    Errno::EIO,
    Errno::EISCONN,
    Errno::EISDIR,
    Errno::ELOOP,
    Errno::EMFILE,
    Errno::EMLINK,
    Errno::EMSGSIZE,
    Errno::EMULTIHOP,
    Errno::ENAMETOOLONG,
    Errno::ENETDOWN,
    Errno::ENETRESET,
    Errno::ENETUNREACH,
    Errno::ENFILE,
    Errno::ENOBUFS,
    Errno::ENODEV,
    Errno::ENOENT,
    Errno::ENOEXEC,
    Errno::ENOLCK,
    Errno::ENOLINK,
    Errno::ENOMEM,
    Errno::ENOMSG,
    Errno::ENOPROTOOPT,
    Errno::ENOSPC,
    Errno::ENOSYS,
    Errno::ENOTCONN,
    Errno::ENOTDIR,
    Errno::ENOTEMPTY,
    Errno::ENOTRECOVERABLE,
    Errno::ENOTSOCK,
    Errno::ENOTSUP,
    Errno::ENOTTY,
    Errno::ENXIO,
    Errno::EOVERFLOW,
    Errno::EOWNERDEAD,
    Errno::EPERM,
    Errno::EPIPE,
    Errno::EPROTO,
    Errno::EPROTONOSUPPORT,
    Errno::EPROTOTYPE,
    Errno::ERANGE,
    Errno::EROFS,
    Errno::ESPIPE,
    Errno::ESRCH,
    Errno::ESTALE,
    Errno::ETIMEDOUT,
    Errno::ETXTBSY,
    Errno::EXDEV,
    Errno::ENOTCAPABLE,
];

impl Errno {
    /// The CloudABI number of this error (1..=76).
    #[inline]
    pub const fn raw(self) -> u16 {
        self as u16
    }

    /// The error with CloudABI number `raw`, or `None` for 0 (success) and numbers above 76.
    #[inline]
    pub const fn from_raw(raw: u16) -> Option<Errno> {
        if raw >= 1 && raw <= 76 {
            Some(ALL[(raw - 1) as usize])
        } else {
            None
        }
    }

    /// The symbolic name, such as `"EBADF"`.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::E2BIG => "E2BIG",
            Errno::EACCES => "EACCES",
            Errno::EADDRINUSE => "EADDRINUSE",
            Errno::EADDRNOTAVAIL => "EADDRNOTAVAIL",
            Errno::EAFNOSUPPORT => "EAFNOSUPPORT",
            Errno::EAGAIN => "EAGAIN",
            Errno::EALREADY => "EALREADY",
            Errno::EBADF => "EBADF",
            Errno::EBADMSG => "EBADMSG",
            Errno::EBUSY => "EBUSY",
            Errno::ECANCELED => "ECANCELED",
            Errno::ECHILD => "ECHILD",
            Errno::ECONNABORTED => "ECONNABORTED",
            Errno::ECONNREFUSED => "ECONNREFUSED",
            Errno::ECONNRESET => "ECONNRESET",
            Errno::EDEADLK => "EDEADLK",
            Errno::EDESTADDRREQ => "EDESTADDRREQ",
            Errno::EDOM => "EDOM",
            Errno::EDQUOT => "EDQUOT",
            Errno::EEXIST => "EEXIST",
            Errno::EFAULT => "EFAULT",
            Errno::EFBIG => "EFBIG",
            Errno::EHOSTUNREACH => "EHOSTUNREACH",
            Errno::EIDRM => "EIDRM",
            Errno::EILSEQ => "EILSEQ",
            Errno::EINPROGRESS => "EINPROGRESS",
            Errno::EINTR => "EINTR",
            Errno::EINVAL => "EINVAL",
            Errno::EIO => "EIO",
            Errno::EISCONN => "EISCONN",
            Errno::EISDIR => "EISDIR",
            Errno::ELOOP => "ELOOP",
            Errno::EMFILE => "EMFILE",
            Errno::EMLINK => "EMLINK",
            Errno::EMSGSIZE => "EMSGSIZE",
            Errno::EMULTIHOP => "EMULTIHOP",
            Errno::ENAMETOOLONG => "ENAMETOOLONG",
            Errno::ENETDOWN => "ENETDOWN",
            Errno::ENETRESET => "ENETRESET",
            Errno::ENETUNREACH => "ENETUNREACH",
            Errno::ENFILE => "ENFILE",
            Errno::ENOBUFS => "ENOBUFS",
            Errno::ENODEV => "ENODEV",
            Errno::ENOENT => "ENOENT",
            Errno::ENOEXEC => "ENOEXEC",
            Errno::ENOLCK => "ENOLCK",
            Errno::ENOLINK => "ENOLINK",
            Errno::ENOMEM => "ENOMEM",
            Errno::ENOMSG => "ENOMSG",
            Errno::ENOPROTOOPT => "ENOPROTOOPT",
            Errno::ENOSPC => "ENOSPC",
            Errno::ENOSYS => "ENOSYS",
            Errno::ENOTCONN => "ENOTCONN",
            Errno::ENOTDIR => "ENOTDIR",
            Errno::ENOTEMPTY => "ENOTEMPTY",
            Errno::ENOTRECOVERABLE => "ENOTRECOVERABLE",
            Errno::ENOTSOCK => "ENOTSOCK",
            Errno::ENOTSUP => "ENOTSUP",
            Errno::ENOTTY => "ENOTTY",
            Errno::ENXIO => "ENXIO",
            Errno::EOVERFLOW => "EOVERFLOW",
            Errno::EOWNERDEAD => "EOWNERDEAD",
            Errno::EPERM => "EPERM",
            Errno::EPIPE => "EPIPE",
            Errno::EPROTO => "EPROTO",
            Errno::EPROTONOSUPPORT => "EPROTONOSUPPORT",
            Errno::EPROTOTYPE => "EPROTOTYPE",
            Errno::ERANGE => "ERANGE",
            Errno::EROFS => "EROFS",
            Errno::ESPIPE => "ESPIPE",
            Errno::ESRCH => "ESRCH",
            Errno::ESTALE => "ESTALE",
            Errno::ETIMEDOUT => "ETIMEDOUT",
            Errno::ETXTBSY => "ETXTBSY",
            Errno::EXDEV => "EXDEV",
            Errno::ENOTCAPABLE => "ENOTCAPABLE",
        }
    }
}
