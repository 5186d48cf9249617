//! The 32-bit user structures of the cloudabi32 system calls: their sizes and field
//! offsets, and conversions between their bytes and typed values. Logic lives in the
//! calls; this module only knows the wire format (little-endian, i386 alignment).
//!
//! # References
//! - NuxiNL/cloudabi `headers/cloudabi32_types.h`, `headers/cloudabi_types_common.h`
//!   (the `_Static_assert` layout checks).

use super::cloudabi32::{ClockId, EventType, Scope};
use crate::Errno;
use crate::fdtable::{FdRights, FileStat, FileType, Rights};

#[inline]
fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

#[inline]
fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

#[inline]
fn u64_at(b: &[u8], o: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(w)
}

#[inline]
fn put(b: &mut [u8], o: usize, v: &[u8]) {
    b[o..o + v.len()].copy_from_slice(v);
}

/// `cloudabi_fdstat_t` (24 bytes, align 8): descriptor type, flags and rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FdStat {
    /// `fs_filetype` (raw: the caller's byte, checked by whoever uses it).
    pub filetype: u8,
    /// `fs_flags` (`cloudabi_fdflags_t`).
    pub flags: u16,
    /// `fs_rights_base`.
    pub rights_base: u64,
    /// `fs_rights_inheriting`.
    pub rights_inheriting: u64,
}

impl FdStat {
    /// Size in bytes.
    pub const SIZE: usize = 24;

    /// Decodes the 24 bytes.
    pub fn decode(b: &[u8; Self::SIZE]) -> FdStat {
        FdStat {
            filetype: b[0],
            flags: u16_at(b, 2),
            rights_base: u64_at(b, 8),
            rights_inheriting: u64_at(b, 16),
        }
    }

    /// Encodes into 24 bytes (padding zero).
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        b[0] = self.filetype;
        put(&mut b, 2, &self.flags.to_le_bytes());
        put(&mut b, 8, &self.rights_base.to_le_bytes());
        put(&mut b, 16, &self.rights_inheriting.to_le_bytes());
        b
    }

    /// The rights as a typed pair; a bit no right has is `ENOTCAPABLE` (asking for it
    /// is asking for more than any descriptor holds).
    pub fn rights(&self) -> Result<FdRights, Errno> {
        let base = Rights::from_bits(self.rights_base).ok_or(Errno::ENOTCAPABLE)?;
        let inheriting = Rights::from_bits(self.rights_inheriting).ok_or(Errno::ENOTCAPABLE)?;
        Ok(FdRights::new(base, inheriting))
    }
}

/// The 56-byte `cloudabi_filestat_t` (align 8) of a [`FileStat`].
impl FileStat {
    /// Size in bytes.
    pub const SIZE: usize = 56;

    /// Encodes into 56 bytes (padding zero).
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put(&mut b, 0, &self.dev.to_le_bytes());
        put(&mut b, 8, &self.ino.to_le_bytes());
        b[16] = self.filetype.raw();
        put(&mut b, 20, &self.nlink.to_le_bytes());
        put(&mut b, 24, &self.size.to_le_bytes());
        put(&mut b, 32, &self.atim.to_le_bytes());
        put(&mut b, 40, &self.mtim.to_le_bytes());
        put(&mut b, 48, &self.ctim.to_le_bytes());
        b
    }

    /// Decodes 56 bytes; an unknown file type reads as [`FileType::Unknown`] (the
    /// `put` calls use only the size and times).
    pub fn decode(b: &[u8; Self::SIZE]) -> FileStat {
        FileStat {
            dev: u64_at(b, 0),
            ino: u64_at(b, 8),
            filetype: FileType::from_raw(b[16]).unwrap_or(FileType::Unknown),
            nlink: u32_at(b, 20),
            size: u64_at(b, 24),
            atim: u64_at(b, 32),
            mtim: u64_at(b, 40),
            ctim: u64_at(b, 48),
        }
    }
}

/// `cloudabi32_iovec_t` / `cloudabi32_ciovec_t` (8 bytes): one user buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Iovec32 {
    /// `buf`: user address.
    pub buf: u32,
    /// `buf_len`.
    pub buf_len: u32,
}

impl Iovec32 {
    /// Size in bytes.
    pub const SIZE: usize = 8;

    /// Decodes 8 bytes.
    pub fn decode(b: &[u8]) -> Iovec32 {
        Iovec32 {
            buf: u32_at(b, 0),
            buf_len: u32_at(b, 4),
        }
    }
}

/// `cloudabi_lookup_t` (8 bytes, passed by value as two words): the directory a path is
/// resolved from, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// The directory descriptor (raw word).
    pub fd: u32,
    /// `cloudabi_lookupflags_t`.
    pub flags: u32,
}

impl Lookup {
    /// Size in bytes.
    pub const SIZE: usize = 8;

    /// Whether symbolic links in the last component are followed.
    pub const fn follow_symlinks(&self) -> bool {
        self.flags & super::cloudabi32::LOOKUP_SYMLINK_FOLLOW != 0
    }
}

/// `cloudabi32_recv_in_t` (20 bytes): what `sock_recv` receives into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecvIn32 {
    /// `ri_data`: the iovec array.
    pub data: u32,
    /// `ri_data_len`: number of iovecs.
    pub data_len: u32,
    /// `ri_fds`: the array for received descriptors.
    pub fds: u32,
    /// `ri_fds_len`: its number of entries.
    pub fds_len: u32,
    /// `ri_flags` (`cloudabi_riflags_t`).
    pub flags: u16,
}

impl RecvIn32 {
    /// Size in bytes.
    pub const SIZE: usize = 20;

    /// Decodes 20 bytes.
    pub fn decode(b: &[u8; Self::SIZE]) -> RecvIn32 {
        RecvIn32 {
            data: u32_at(b, 0),
            data_len: u32_at(b, 4),
            fds: u32_at(b, 8),
            fds_len: u32_at(b, 12),
            flags: u16_at(b, 16),
        }
    }
}

/// `cloudabi32_recv_out_t` (52 bytes): what `sock_recv` received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecvOut32 {
    /// `ro_datalen`: bytes received.
    pub datalen: u32,
    /// `ro_fdslen`: descriptors received.
    pub fdslen: u32,
    /// `ro_flags` (`cloudabi_roflags_t`).
    pub flags: u16,
}

impl RecvOut32 {
    /// Size in bytes (`ro_unused` is 40 bytes at offset 8, `ro_flags` at 48).
    pub const SIZE: usize = 52;

    /// Encodes into 52 bytes (unused bytes zero).
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put(&mut b, 0, &self.datalen.to_le_bytes());
        put(&mut b, 4, &self.fdslen.to_le_bytes());
        put(&mut b, 48, &self.flags.to_le_bytes());
        b
    }
}

/// `cloudabi32_send_in_t` (20 bytes): what `sock_send` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendIn32 {
    /// `si_data`: the ciovec array.
    pub data: u32,
    /// `si_data_len`: number of ciovecs.
    pub data_len: u32,
    /// `si_fds`: descriptors to pass.
    pub fds: u32,
    /// `si_fds_len`: their number.
    pub fds_len: u32,
    /// `si_flags` (`cloudabi_siflags_t`, no flags defined).
    pub flags: u16,
}

impl SendIn32 {
    /// Size in bytes.
    pub const SIZE: usize = 20;

    /// Decodes 20 bytes.
    pub fn decode(b: &[u8; Self::SIZE]) -> SendIn32 {
        SendIn32 {
            data: u32_at(b, 0),
            data_len: u32_at(b, 4),
            fds: u32_at(b, 8),
            fds_len: u32_at(b, 12),
            flags: u16_at(b, 16),
        }
    }
}

/// `cloudabi32_send_out_t` (4 bytes): bytes sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendOut32 {
    /// `so_datalen`.
    pub datalen: u32,
}

impl SendOut32 {
    /// Size in bytes.
    pub const SIZE: usize = 4;

    /// Encodes into 4 bytes.
    pub fn encode(&self) -> [u8; Self::SIZE] {
        self.datalen.to_le_bytes()
    }
}

/// `cloudabi32_threadattr_t` (16 bytes): a new thread's entry, stack and argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThreadAttr32 {
    /// `entry_point`: `void entry(cloudabi_tid_t tid, void *aux)`.
    pub entry_point: u32,
    /// `stack`: lowest address of the stack.
    pub stack: u32,
    /// `stack_len`.
    pub stack_len: u32,
    /// `argument`: passed as `aux`.
    pub argument: u32,
}

impl ThreadAttr32 {
    /// Size in bytes.
    pub const SIZE: usize = 16;

    /// Decodes 16 bytes.
    pub fn decode(b: &[u8; Self::SIZE]) -> ThreadAttr32 {
        ThreadAttr32 {
            entry_point: u32_at(b, 0),
            stack: u32_at(b, 4),
            stack_len: u32_at(b, 8),
            argument: u32_at(b, 12),
        }
    }
}

/// What one `poll` subscription waits for (the variant part of
/// `cloudabi32_subscription_t`), checked: known type, known scopes and clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionKind {
    /// A clock reaching `timeout` (absolute with `SUBSCRIPTION_CLOCK_ABSTIME`).
    Clock {
        /// `clock.identifier`, copied to nothing by the kernel (user bookkeeping).
        identifier: u64,
        /// `clock.clock_id`.
        clock: ClockId,
        /// `clock.timeout`.
        timeout: u64,
        /// `clock.precision`.
        precision: u64,
        /// `clock.flags` (`cloudabi_subclockflags_t`).
        flags: u16,
    },
    /// A condition variable being signalled and its lock acquired.
    Condvar {
        /// User address of the condition variable.
        condvar: u32,
        /// User address of the lock.
        lock: u32,
        /// `condvar_scope`.
        condvar_scope: Scope,
        /// `lock_scope`.
        lock_scope: Scope,
    },
    /// A descriptor ready to read ([`EventType::EVENTTYPE_FD_READ`]) or write.
    FdReadWrite {
        /// Which of the two.
        kind: EventType,
        /// The descriptor (raw word).
        fd: u32,
        /// `cloudabi_subrwflags_t`.
        flags: u16,
    },
    /// A lock acquired for reading or writing.
    Lock {
        /// Which of the two.
        kind: EventType,
        /// User address of the lock.
        lock: u32,
        /// `lock_scope`.
        lock_scope: Scope,
    },
    /// A process descriptor's process terminating.
    ProcTerminate {
        /// The process descriptor (raw word).
        fd: u32,
    },
}

/// One decoded `cloudabi32_subscription_t` (56 bytes, align 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    /// `userdata`, copied to the matching event.
    pub userdata: u64,
    /// The type and its fields.
    pub kind: SubscriptionKind,
}

impl Subscription {
    /// Size in bytes.
    pub const SIZE: usize = 56;

    /// Decodes 56 bytes: an unknown type, clock or scope is `EINVAL`.
    pub fn decode(b: &[u8]) -> Result<Subscription, Errno> {
        if b.len() < Self::SIZE {
            return Err(Errno::EINVAL);
        }
        let ty = EventType::from_raw(b[10]).ok_or(Errno::EINVAL)?;
        let scope = |o: usize| Scope::from_raw(b[o]).ok_or(Errno::EINVAL);
        let kind = match ty {
            EventType::EVENTTYPE_CLOCK => SubscriptionKind::Clock {
                identifier: u64_at(b, 16),
                clock: ClockId::from_raw(u32_at(b, 24)).ok_or(Errno::EINVAL)?,
                timeout: u64_at(b, 32),
                precision: u64_at(b, 40),
                flags: u16_at(b, 48),
            },
            EventType::EVENTTYPE_CONDVAR => SubscriptionKind::Condvar {
                condvar: u32_at(b, 16),
                lock: u32_at(b, 20),
                condvar_scope: scope(24)?,
                lock_scope: scope(25)?,
            },
            EventType::EVENTTYPE_FD_READ | EventType::EVENTTYPE_FD_WRITE => {
                SubscriptionKind::FdReadWrite {
                    kind: ty,
                    fd: u32_at(b, 16),
                    flags: u16_at(b, 20),
                }
            }
            EventType::EVENTTYPE_LOCK_RDLOCK | EventType::EVENTTYPE_LOCK_WRLOCK => {
                SubscriptionKind::Lock {
                    kind: ty,
                    lock: u32_at(b, 16),
                    lock_scope: scope(20)?,
                }
            }
            EventType::EVENTTYPE_PROC_TERMINATE => {
                SubscriptionKind::ProcTerminate { fd: u32_at(b, 16) }
            }
        };
        Ok(Subscription {
            userdata: u64_at(b, 0),
            kind,
        })
    }

    /// The event type of this subscription.
    pub const fn event_type(&self) -> EventType {
        match self.kind {
            SubscriptionKind::Clock { .. } => EventType::EVENTTYPE_CLOCK,
            SubscriptionKind::Condvar { .. } => EventType::EVENTTYPE_CONDVAR,
            SubscriptionKind::FdReadWrite { kind, .. } | SubscriptionKind::Lock { kind, .. } => {
                kind
            }
            SubscriptionKind::ProcTerminate { .. } => EventType::EVENTTYPE_PROC_TERMINATE,
        }
    }
}

/// One `cloudabi_event_t` (32 bytes, align 8) that `poll` writes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The subscription's `userdata`.
    pub userdata: u64,
    /// The error of this event (`None`: success).
    pub error: Option<Errno>,
    /// The event type.
    pub kind: EventType,
    /// For `fd_read` / `fd_write`: bytes available (`nbytes`) and flags
    /// (`cloudabi_eventrwflags_t`); for `proc_terminate`: the signal (0 for none) in
    /// `signal` and the exit code in `exitcode`. Unused fields are zero.
    pub nbytes: u64,
    /// `fd_readwrite.flags`.
    pub rw_flags: u16,
    /// `proc_terminate.signal` (raw `cloudabi_signal_t`, 0 if it exited).
    pub signal: u8,
    /// `proc_terminate.exitcode`.
    pub exitcode: u32,
}

impl Event {
    /// Size in bytes.
    pub const SIZE: usize = 32;

    /// An event of `kind` for `userdata`, with no error and no payload.
    pub const fn new(userdata: u64, kind: EventType) -> Event {
        Event {
            userdata,
            error: None,
            kind,
            nbytes: 0,
            rw_flags: 0,
            signal: 0,
            exitcode: 0,
        }
    }

    /// Encodes into 32 bytes (unused bytes zero).
    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put(&mut b, 0, &self.userdata.to_le_bytes());
        let e = self.error.map_or(0, |e| e.raw());
        put(&mut b, 8, &e.to_le_bytes());
        b[10] = self.kind.raw();
        match self.kind {
            EventType::EVENTTYPE_FD_READ | EventType::EVENTTYPE_FD_WRITE => {
                put(&mut b, 16, &self.nbytes.to_le_bytes());
                put(&mut b, 28, &self.rw_flags.to_le_bytes());
            }
            EventType::EVENTTYPE_PROC_TERMINATE => {
                b[20] = self.signal;
                put(&mut b, 24, &self.exitcode.to_le_bytes());
            }
            _ => {}
        }
        b
    }
}
