//! The 32-bit layouts of the user structures, pinned field by field to the offsets of
//! `cloudabi32_types.h` / `cloudabi_types_common.h`: each field gets a distinct value and
//! the test looks for it at its offset.

use capexec::Errno;
use capexec::abi::cloudabi32::{ClockId, EventType, Scope};
use capexec::abi::wire::{
    Event, FdStat, Iovec32, RecvIn32, RecvOut32, SendIn32, SendOut32, Subscription,
    SubscriptionKind, ThreadAttr32,
};
use capexec::fdtable::{FileStat, FileType};

fn le(v: u64, n: usize) -> Vec<u8> {
    v.to_le_bytes()[..n].to_vec()
}

/// `(offset, bytes)` pairs must appear in `b`, every other byte zero.
fn check(b: &[u8], fields: &[(usize, Vec<u8>)]) {
    let mut want = vec![0u8; b.len()];
    for (o, v) in fields {
        want[*o..*o + v.len()].copy_from_slice(v);
    }
    assert_eq!(b, &want[..]);
}

#[test]
fn sizes() {
    assert_eq!(FdStat::SIZE, 24);
    assert_eq!(FileStat::SIZE, 56);
    assert_eq!(Iovec32::SIZE, 8);
    assert_eq!(RecvIn32::SIZE, 20);
    assert_eq!(RecvOut32::SIZE, 52);
    assert_eq!(SendIn32::SIZE, 20);
    assert_eq!(SendOut32::SIZE, 4);
    assert_eq!(ThreadAttr32::SIZE, 16);
    assert_eq!(Subscription::SIZE, 56);
    assert_eq!(Event::SIZE, 32);
    assert_eq!(capexec::abi::wire::Lookup::SIZE, 8);
}

#[test]
fn fdstat_layout() {
    let st = FdStat {
        filetype: 0x60,
        flags: 0x1234,
        rights_base: 0x0102_0304_0506_0708,
        rights_inheriting: 0x1112_1314_1516_1718,
    };
    let b = st.encode();
    check(
        &b,
        &[
            (0, le(0x60, 1)),
            (2, le(0x1234, 2)),
            (8, le(st.rights_base, 8)),
            (16, le(st.rights_inheriting, 8)),
        ],
    );
    assert_eq!(FdStat::decode(&b), st);
}

#[test]
fn filestat_layout() {
    let st = FileStat {
        dev: 0x0102_0304_0506_0708,
        ino: 0x1112_1314_1516_1718,
        filetype: FileType::RegularFile,
        nlink: 0x2122_2324,
        size: 0x3132_3334_3536_3738,
        atim: 0x4142_4344_4546_4748,
        mtim: 0x5152_5354_5556_5758,
        ctim: 0x6162_6364_6566_6768,
    };
    let b = st.encode();
    check(
        &b,
        &[
            (0, le(st.dev, 8)),
            (8, le(st.ino, 8)),
            (16, vec![96]),
            (20, le(0x2122_2324, 4)),
            (24, le(st.size, 8)),
            (32, le(st.atim, 8)),
            (40, le(st.mtim, 8)),
            (48, le(st.ctim, 8)),
        ],
    );
    assert_eq!(FileStat::decode(&b), st);
}

#[test]
fn recv_send_layouts() {
    let mut b = [0u8; 20];
    for (o, v) in [(0, 0x11u32), (4, 0x22), (8, 0x33), (12, 0x44)] {
        b[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }
    b[16..18].copy_from_slice(&0x5566u16.to_le_bytes());
    b[18..20].copy_from_slice(&[0xee, 0xee]); // padding: ignored
    let ri = RecvIn32::decode(&b);
    assert_eq!(
        (ri.data, ri.data_len, ri.fds, ri.fds_len, ri.flags),
        (0x11, 0x22, 0x33, 0x44, 0x5566)
    );
    let si = SendIn32::decode(&b);
    assert_eq!(
        (si.data, si.data_len, si.fds, si.fds_len, si.flags),
        (0x11, 0x22, 0x33, 0x44, 0x5566)
    );
    let ro = RecvOut32 {
        datalen: 0x0102_0304,
        fdslen: 0x0506_0708,
        flags: 0x090a,
    };
    check(
        &ro.encode(),
        &[
            (0, le(0x0102_0304, 4)),
            (4, le(0x0506_0708, 4)),
            (48, le(0x090a, 2)),
        ],
    );
    check(
        &SendOut32 { datalen: 0xabcd }.encode(),
        &[(0, le(0xabcd, 4))],
    );
}

#[test]
fn threadattr_and_iovec_layouts() {
    let b: Vec<u8> = [1u32, 2, 3, 4]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let t = ThreadAttr32::decode(b[..16].try_into().unwrap());
    assert_eq!(
        (t.entry_point, t.stack, t.stack_len, t.argument),
        (1, 2, 3, 4)
    );
    let i = Iovec32::decode(&b[..8]);
    assert_eq!((i.buf, i.buf_len), (1, 2));
}

fn sub(ty: u8, fill: &[(usize, Vec<u8>)]) -> [u8; 56] {
    let mut b = [0u8; 56];
    b[..8].copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    b[10] = ty;
    for (o, v) in fill {
        b[*o..*o + v.len()].copy_from_slice(v);
    }
    b
}

#[test]
fn subscription_layouts() {
    // (bytes, decoded)
    let rows: Vec<([u8; 56], Result<SubscriptionKind, Errno>)> = vec![
        (
            sub(
                1,
                &[
                    (16, le(0xaa, 8)),
                    (24, le(3, 4)),
                    (32, le(0x1_0000_0001, 8)),
                    (40, le(0x2_0000_0002, 8)),
                    (48, le(1, 2)),
                ],
            ),
            Ok(SubscriptionKind::Clock {
                identifier: 0xaa,
                clock: ClockId::CLOCK_REALTIME,
                timeout: 0x1_0000_0001,
                precision: 0x2_0000_0002,
                flags: 1,
            }),
        ),
        (
            sub(
                2,
                &[
                    (16, le(0x1000, 4)),
                    (20, le(0x2000, 4)),
                    (24, vec![4]),
                    (25, vec![8]),
                ],
            ),
            Ok(SubscriptionKind::Condvar {
                condvar: 0x1000,
                lock: 0x2000,
                condvar_scope: Scope::SCOPE_PRIVATE,
                lock_scope: Scope::SCOPE_SHARED,
            }),
        ),
        (
            sub(3, &[(16, le(7, 4)), (20, le(1, 2))]),
            Ok(SubscriptionKind::FdReadWrite {
                kind: EventType::EVENTTYPE_FD_READ,
                fd: 7,
                flags: 1,
            }),
        ),
        (
            sub(6, &[(16, le(0x3000, 4)), (20, vec![8])]),
            Ok(SubscriptionKind::Lock {
                kind: EventType::EVENTTYPE_LOCK_WRLOCK,
                lock: 0x3000,
                lock_scope: Scope::SCOPE_SHARED,
            }),
        ),
        (
            sub(7, &[(16, le(9, 4))]),
            Ok(SubscriptionKind::ProcTerminate { fd: 9 }),
        ),
        // Unknown type, clock and scope.
        (sub(0, &[]), Err(Errno::EINVAL)),
        (sub(8, &[]), Err(Errno::EINVAL)),
        (sub(1, &[(24, le(5, 4))]), Err(Errno::EINVAL)),
        (sub(2, &[(24, vec![4]), (25, vec![5])]), Err(Errno::EINVAL)),
    ];
    for (i, (b, want)) in rows.into_iter().enumerate() {
        let got = Subscription::decode(&b);
        assert_eq!(got.map(|s| s.kind), want, "row {i}");
        if let Ok(s) = got {
            assert_eq!(s.userdata, 0x0102_0304_0506_0708);
            assert_eq!(s.event_type().raw(), b[10]);
        }
    }
    assert_eq!(Subscription::decode(&[0u8; 55]), Err(Errno::EINVAL));
}

#[test]
fn event_layouts() {
    let mut e = Event::new(0x1122_3344_5566_7788, EventType::EVENTTYPE_FD_WRITE);
    e.error = Some(Errno::EBADF);
    e.nbytes = 0x0102_0304_0506_0708;
    e.rw_flags = 1;
    e.signal = 9; // not part of an fd event
    check(
        &e.encode(),
        &[
            (0, le(e.userdata, 8)),
            (8, le(8, 2)),
            (10, vec![4]),
            (16, le(e.nbytes, 8)),
            (28, le(1, 2)),
        ],
    );
    let mut e = Event::new(5, EventType::EVENTTYPE_PROC_TERMINATE);
    e.signal = 13;
    e.exitcode = 0xdead_beef;
    e.nbytes = 99; // not part of a termination event
    check(
        &e.encode(),
        &[
            (0, le(5, 8)),
            (10, vec![7]),
            (20, vec![13]),
            (24, le(0xdead_beef, 4)),
        ],
    );
    let e = Event::new(6, EventType::EVENTTYPE_CLOCK);
    check(&e.encode(), &[(0, le(6, 8)), (10, vec![1])]);
}
