//! `exec_copyin_data_fds`: each error path on its own, the order in which they win when
//! several apply, and what a successful copy-in hands over (exec.md, steps 1-6).

mod common;

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::cloudabi32::ARG_MAX;
use capexec::exec::{ImageArgs, SMALL_FD_LIST, UserMemory, copyout, exec_copyin_data_fds};
use capexec::fdtable::{FdRights, FdTable, Rights, SharedFdTable};
use capexec_sim::SimAddressSpace;
use common::*;

const DATA: u32 = 0x6000_0000;
const FDS: u32 = 0x5000_0000;
/// Mapped bytes at DATA (a little more than ARG_MAX) and at FDS.
const DATA_MAPPED: u32 = 0x41000;
const FDS_MAPPED: u32 = 0x2000;

type Row = (i32, *const TFile, FdRights, bool);

fn rows(t: &FdTable<Arc<TFile>>) -> Vec<Row> {
    t.iter()
        .map(|(f, e)| {
            (
                f.raw(),
                Arc::as_ptr(e.file()),
                e.rights(),
                t.cloexec(f).unwrap(),
            )
        })
        .collect()
}

/// A caller: its table (descriptor i = files[i] unless i is a hole), and user memory
/// with the data and fd-list regions mapped, every access counted.
struct Caller {
    files: Vec<Arc<TFile>>,
    table: SharedFdTable<Arc<TFile>>,
    mem: CountingMem<SimAddressSpace>,
}

fn rights_of(i: usize) -> FdRights {
    // Distinct rights per descriptor, so a copy that mixes entries up is visible.
    FdRights::new(
        Rights::FD_READ | Rights::from_bits_truncate(1 << (i % 30)),
        Rights::from_bits_truncate(1 << ((i + 7) % 30)),
    )
}

impl Caller {
    /// `n` descriptors; those in `holes` are closed; those in `unpassable` hold a file
    /// that may not be passed.
    fn new(n: usize, holes: &[usize], unpassable: &[usize]) -> Caller {
        let files: Vec<Arc<TFile>> = (0..n)
            .map(|i| {
                if unpassable.contains(&i) {
                    TFile::unpassable("kq")
                } else {
                    TFile::stream("f")
                }
            })
            .collect();
        let spec: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (!holes.contains(&i)).then(|| (f.clone(), rights_of(i))))
            .collect();
        let table = SharedFdTable::new(table_with(&spec));
        let mut sim = SimAddressSpace::new();
        sim.map(DATA, DATA_MAPPED);
        sim.map(FDS, FDS_MAPPED);
        Caller {
            files,
            table,
            mem: CountingMem::new(sim),
        }
    }

    fn put_fds(&mut self, addr: u32, fds: &[u32]) {
        let b: Vec<u8> = fds.iter().flat_map(|v| v.to_le_bytes()).collect();
        copyout(&mut self.mem.inner, addr, &b).unwrap();
    }

    fn put_data(&mut self, addr: u32, data: &[u8]) {
        copyout(&mut self.mem.inner, addr, data).unwrap();
    }

    fn copyin(
        &self,
        data: u32,
        data_len: u32,
        fds: u32,
        fds_len: u32,
    ) -> Result<ImageArgs<Arc<TFile>>, Errno> {
        exec_copyin_data_fds(&self.table, &self.mem, data, data_len, fds, fds_len)
    }

    fn state(&self) -> (Vec<Row>, Vec<usize>) {
        (rows(&self.table.lock()), strong_counts(&self.files))
    }

    /// Runs a copy-in that must fail with `want`, and checks that it left the table and
    /// every reference count alone. Returns the number of bytes it read.
    fn expect_err(&self, args: (u32, u32, u32, u32), want: Errno) -> usize {
        let before = self.state();
        self.mem.read_calls.set(0);
        self.mem.reads.borrow_mut().clear();
        let got = self.copyin(args.0, args.1, args.2, args.3);
        assert_eq!(got.as_ref().err(), Some(&want), "args {args:x?}");
        drop(got);
        assert_eq!(self.state(), before, "args {args:x?} changed the caller");
        self.mem.bytes_read()
    }
}

// ---- step 1: data_len >= ARG_MAX ----------------------------------------------------

#[test]
fn data_len_at_or_above_arg_max_is_e2big_before_anything_else() {
    let c = Caller::new(3, &[], &[]);
    // Every other argument is as bad as it gets: fd list too long for the table, both
    // pointers unmapped or wrapping.
    for data_len in [ARG_MAX, ARG_MAX + 1, 0x8000_0000, u32::MAX] {
        for (data, fds, fds_len) in [
            (DATA, FDS, 0),
            (0, 0, 1000),
            (0xffff_ffff, 0xffff_ffff, u32::MAX),
            (DATA, 0x1000, 0x4000_0000),
        ] {
            let read = c.expect_err((data, data_len, fds, fds_len), Errno::E2BIG);
            assert_eq!(read, 0, "data_len {data_len:#x}: memory was read");
            assert_eq!(c.mem.read_calls.get(), 0);
        }
    }
}

#[test]
fn data_len_arg_max_minus_one_is_accepted() {
    let mut c = Caller::new(1, &[], &[]);
    let data: Vec<u8> = (0..ARG_MAX - 1).map(|i| (i * 7 + 3) as u8).collect();
    c.put_data(DATA, &data);
    let args = c.copyin(DATA, ARG_MAX - 1, FDS, 0).unwrap();
    assert_eq!(args.data(), &data[..]);
    assert_eq!(args.data_len(), (ARG_MAX - 1) as usize);
    assert_eq!(args.data_with_nul().len(), ARG_MAX as usize);
}

// ---- step 2: fds_len > lastfile + 1 -------------------------------------------------

#[test]
fn fd_list_longer_than_table_is_e2big_without_reading_memory() {
    let mut c = Caller::new(4, &[], &[]);
    c.put_data(DATA, b"hello");
    c.put_fds(FDS, &[0, 1, 2, 3, 0, 1]);
    // lastfile + 1 = 4. Lengths whose `* 4` overflows 32 bits are included.
    for fds_len in [5, 6, 100, 0x4000_0000, 0x4000_0001, 0x8000_0000, u32::MAX] {
        // Valid pointers, and a data pointer that would fault: E2BIG in both cases.
        for data in [DATA, 0x1000] {
            let read = c.expect_err((data, 5, FDS, fds_len), Errno::E2BIG);
            assert_eq!(read, 0, "fds_len {fds_len:#x}: memory was read");
            assert_eq!(c.mem.read_calls.get(), 0);
        }
    }
}

#[test]
fn fd_list_bound_is_lastfile_plus_one_not_open_count() {
    // Descriptors 1, 2 and 4 are closed: 2 open, lastfile = 5.
    let mut c = Caller::new(6, &[1, 2, 4], &[]);
    c.put_fds(FDS, &[0, 3, 5, 0, 3, 5, 0]);
    c.expect_err((DATA, 0, FDS, 7), Errno::E2BIG);
    let args = c.copyin(DATA, 0, FDS, 6).unwrap();
    let t = args.fd_table().unwrap();
    assert_eq!(t.len(), 6);
    // Only the lastfile counts: closing the top descriptor lowers the bound.
    drop(args);
    c.table.close(fd(5)).unwrap();
    c.table.close(fd(3)).unwrap();
    c.expect_err((DATA, 0, FDS, 2), Errno::E2BIG);
    assert!(c.copyin(DATA, 0, FDS, 1).is_ok());
}

#[test]
fn empty_table_accepts_only_an_empty_list() {
    let c = Caller::new(0, &[], &[]);
    assert_eq!(c.expect_err((DATA, 0, FDS, 1), Errno::E2BIG), 0);
    let args = c.copyin(DATA, 0, FDS, 0).unwrap();
    assert!(args.fd_table().unwrap().is_empty());
}

// ---- step 4: the data ----------------------------------------------------------------

#[test]
fn unreadable_data_is_efault() {
    let mut c = Caller::new(2, &[], &[]);
    c.put_fds(FDS, &[0, 1]);
    let end = DATA + DATA_MAPPED;
    for (data, len) in [
        (0x1000, 1),             // unmapped
        (0, 1),                  // null
        (end - 3, 4),            // last byte past the mapping
        (end, 10),               // just past it
        (0xffff_ffff, 1),        // last byte of the address space, unmapped
        (0xffff_ff00, 0x200),    // wraps past 4 GiB
        (0xffff_ffff, 0x3_0000), // wraps, long
    ] {
        c.expect_err((data, len, FDS, 2), Errno::EFAULT);
    }
}

#[test]
fn data_wrapping_past_4gib_is_efault_even_when_both_ends_are_mapped() {
    let mut c = Caller::new(1, &[], &[]);
    c.mem.inner.map(0xffff_f000, 0x1000);
    c.mem.inner.map(0, 0x1000);
    c.put_fds(FDS, &[0]);
    let read = c.expect_err((0xffff_fff0, 0x20, FDS, 1), Errno::EFAULT);
    assert_eq!(
        read, 0,
        "a wrapping range must be refused before it is read"
    );
    // The same length ending exactly at 4 GiB is fine.
    let args = c.copyin(0xffff_ffe0, 0x20, FDS, 1).unwrap();
    assert_eq!(args.data(), &[0u8; 0x20][..]);
}

#[test]
fn data_fault_wins_over_fd_list_fault_and_remap_errors() {
    let mut c = Caller::new(3, &[1], &[2]);
    // List naming a hole and a non-passable file, at a valid address.
    c.put_fds(FDS, &[1, 2, 99]);
    c.expect_err((0x1000, 8, FDS, 3), Errno::EFAULT);
    // And with the list unmapped too.
    c.expect_err((0x1000, 8, 0x2000, 3), Errno::EFAULT);
}

// ---- step 5: the fd list --------------------------------------------------------------

#[test]
fn unreadable_fd_list_is_efault() {
    let mut c = Caller::new(8, &[], &[]);
    c.put_data(DATA, b"abc");
    let end = FDS + FDS_MAPPED;
    for (fds, len) in [
        (0x1000, 1),      // unmapped
        (0, 1),           // null
        (end - 8, 3),     // third word past the mapping
        (end - 1, 1),     // word straddles the end
        (0xffff_fffc, 2), // wraps past 4 GiB
        (0xffff_ffff, 1), // wraps
    ] {
        c.expect_err((DATA, 3, fds, len), Errno::EFAULT);
    }
}

#[test]
fn fd_list_fault_wins_over_remap_errors_in_the_readable_part() {
    let mut c = Caller::new(8, &[3], &[4]);
    let end = FDS + FDS_MAPPED;
    // The readable words name a hole, a non-passable file and a negative number; the
    // last word cannot be read. Nothing is remapped before the whole list is in.
    c.put_fds(end - 12, &[3, 4, 0xffff_ffff]);
    c.expect_err((DATA, 0, end - 12, 4), Errno::EFAULT);
}

#[test]
fn fd_list_straddling_the_end_of_the_address_space_is_refused_unread() {
    let mut c = Caller::new(4, &[], &[]);
    c.mem.inner.map(0xffff_f000, 0x1000);
    c.put_fds(0xffff_fff8, &[0, 1]);
    // Three words from 0xffff_fff8 would end at 4 GiB + 4.
    let read = c.expect_err((DATA, 0, 0xffff_fff8, 3), Errno::EFAULT);
    assert_eq!(read, 0);
    // Two words end exactly at 4 GiB: fine.
    let args = c.copyin(DATA, 0, 0xffff_fff8, 2).unwrap();
    assert_eq!(args.fd_table().unwrap().len(), 2);
}

// ---- step 6: the remap -----------------------------------------------------------------

#[test]
fn remap_errors_each_case() {
    // 0..=5 open except 2 (hole); 4 is not passable; lastfile = 5.
    let table: &[(&[u32], Errno)] = &[
        (&[2], Errno::EBADF),           // closed slot
        (&[6], Errno::EBADF),           // above lastfile
        (&[1000], Errno::EBADF),        // far above
        (&[0x7fff_ffff], Errno::EBADF), // largest positive
        (&[0x8000_0000], Errno::EBADF), // 2^31: negative as cloudabi_fd_t
        (&[0xffff_ffff], Errno::EBADF), // -1
        (&[0xffff_fffe], Errno::EBADF), // -2
        (&[4], Errno::EINVAL),          // not passable
        (&[0, 1, 4], Errno::EINVAL),    // after good ones
        (&[0, 2, 4], Errno::EBADF),     // first failing index wins
        (&[0, 4, 2], Errno::EINVAL),    // ... in both directions
        (&[4, 0x8000_0000], Errno::EINVAL),
        (&[0x8000_0000, 4], Errno::EBADF),
        (&[0, 1, 3, 5, 0, 2], Errno::EBADF), // last one bad
    ];
    let mut c = Caller::new(6, &[2], &[4]);
    c.put_data(DATA, b"data");
    for (list, want) in table {
        c.put_fds(FDS, list);
        c.expect_err((DATA, 4, FDS, list.len() as u32), *want);
    }
}

#[test]
fn each_value_of_2_pow_31_and_above_is_ebadf_on_a_large_table() {
    // Even a table large enough that the unsigned value would be "in range" as an
    // index after truncation.
    let mut c = Caller::new(40, &[], &[]);
    for v in [
        0x8000_0000u32,
        0x8000_0001,
        0x8000_0005,
        0xc000_0000,
        0xffff_ffd8,
    ] {
        c.put_fds(FDS, &[0, v]);
        c.expect_err((DATA, 0, FDS, 2), Errno::EBADF);
    }
}

// ---- success -------------------------------------------------------------------------

#[test]
fn zero_data_len_gives_an_empty_buffer() {
    let c = Caller::new(1, &[], &[]);
    for data in [DATA, 0, 0x1000, 0xffff_ffff] {
        let args = c.copyin(data, 0, FDS, 0).unwrap();
        assert!(args.data().is_empty());
        assert!(args.data_with_nul().is_empty(), "no NUL for empty data");
        assert_eq!(args.data_len(), 0);
    }
}

#[test]
fn nonzero_data_len_gives_data_then_nul() {
    let mut c = Caller::new(1, &[], &[]);
    for data in [&b"x"[..], b"ab", b"abc", b"\0\0\xff", &[0xa5; 4097][..]] {
        c.put_data(DATA + 5, data);
        let args = c.copyin(DATA + 5, data.len() as u32, FDS, 0).unwrap();
        assert_eq!(args.data(), data);
        assert_eq!(args.data_len(), data.len());
        let mut want = data.to_vec();
        want.push(0);
        assert_eq!(args.data_with_nul(), &want[..]);
    }
}

#[test]
fn zero_length_copies_succeed_at_any_address_without_reading() {
    let c = Caller::new(2, &[], &[]);
    for data in [
        0,
        1,
        0x1000,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_fffc,
        0xffff_ffff,
    ] {
        for fds in [
            0,
            1,
            0x1000,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fffc,
            0xffff_ffff,
        ] {
            c.mem.read_calls.set(0);
            let args = c.copyin(data, 0, fds, 0).unwrap();
            assert!(args.data_with_nul().is_empty());
            assert!(args.fd_table().unwrap().is_empty());
            assert_eq!(c.mem.read_calls.get(), 0, "data {data:#x} fds {fds:#x}");
        }
    }
}

#[test]
fn every_byte_is_read_exactly_once() {
    let mut c = Caller::new(300, &[], &[]);
    let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    c.put_data(DATA, &data);
    // Lengths around the stack/heap boundary and around the reader's internal chunking.
    for n in [1usize, 2, 63, 64, 65, 127, 128, 129, 300] {
        let list: Vec<u32> = (0..n as u32).map(|i| (i * 37) % 300).collect();
        c.put_fds(FDS, &list);
        c.mem.reads.borrow_mut().clear();
        let args = c.copyin(DATA, 1000, FDS, n as u32).unwrap();
        assert_eq!(args.fd_table().unwrap().len(), n);
        let reads = c.mem.reads.borrow();
        for a in FDS..FDS + 4 * n as u32 {
            assert_eq!(reads.get(&a), Some(&1), "n {n}: fd-list byte {a:#x}");
        }
        for a in DATA..DATA + 1000 {
            assert_eq!(reads.get(&a), Some(&1), "n {n}: data byte {a:#x}");
        }
        // Nothing else was read.
        assert_eq!(reads.values().sum::<usize>(), 1000 + 4 * n);
    }
}

#[test]
fn stack_and_heap_lists_build_the_same_mapping() {
    let n_files = 200;
    let mut c = Caller::new(n_files, &[], &[]);
    c.table.lock().set_cloexec(fd(7), true).unwrap();
    for n in [
        0usize,
        1,
        SMALL_FD_LIST - 1,
        SMALL_FD_LIST,
        SMALL_FD_LIST + 1,
        130,
        200,
    ] {
        // Reversed, with duplicates of descriptor 7 (which is close-on-exec).
        let list: Vec<u32> = (0..n as u32)
            .map(|i| {
                if i % 5 == 0 {
                    7
                } else {
                    n_files as u32 - 1 - i
                }
            })
            .collect();
        c.put_fds(FDS, &list);
        let before = strong_counts(&c.files);
        let args = c.copyin(DATA, 0, FDS, n as u32).unwrap();
        let t = args.fd_table().unwrap();
        let want: Vec<Row> = list
            .iter()
            .enumerate()
            .map(|(i, &src)| {
                let src = src as usize;
                (i as i32, Arc::as_ptr(&c.files[src]), rights_of(src), false)
            })
            .collect();
        assert_eq!(rows(t), want, "n {n}");
        assert_eq!(t.len(), n);
        assert_eq!(
            t.lastfile().map(|f| f.raw()),
            n.checked_sub(1).map(|x| x as i32)
        );
        // One new reference per entry.
        for (i, f) in c.files.iter().enumerate() {
            let k = list.iter().filter(|&&s| s as usize == i).count();
            assert_eq!(Arc::strong_count(f), before[i] + k, "n {n} file {i}");
        }
        // Dropping the unused args releases them all (fdescfree_remapped).
        drop(args);
        assert_eq!(strong_counts(&c.files), before);
        // The caller's table is untouched, close-on-exec included.
        assert!(c.table.lock().cloexec(fd(7)).unwrap());
        assert_eq!(c.table.lock().len(), n_files);
    }
}

#[test]
fn heap_list_error_leaves_nothing_behind() {
    // A long (heap) list whose last entry is bad.
    let mut c = Caller::new(150, &[], &[149]);
    let list: Vec<u32> = (0..150).collect();
    c.put_fds(FDS, &list);
    c.expect_err((DATA, 0, FDS, 150), Errno::EINVAL);
    let mut list = list;
    list[149] = 0x8000_0000;
    c.put_fds(FDS, &list);
    c.expect_err((DATA, 0, FDS, 150), Errno::EBADF);
}

#[test]
fn user_memory_is_read_only_by_copyin() {
    // The copy-in never writes user memory.
    let mut c = Caller::new(3, &[], &[]);
    c.put_data(DATA, b"xyz");
    c.put_fds(FDS, &[2, 1, 0]);
    c.mem.reset_counts();
    let _ = c.copyin(DATA, 3, FDS, 3).unwrap();
    assert!(c.mem.writes.is_empty());
    let mut probe = [0u8; 3];
    c.mem.read_user(DATA, &mut probe).unwrap();
    assert_eq!(&probe, b"xyz");
}
