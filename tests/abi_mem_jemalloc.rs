//! jemalloc 4.5's chunk allocation, as the real `exec_real` program makes it, run
//! against the simulated VM: map 2 MiB with a NULL hint; if the result is not 2 MiB
//! aligned, unmap it, map 4 MiB - 4 KiB and trim both ends with partial unmaps; then
//! decommit and recommit pages inside the chunk with fixed `PROT_NONE` and read-write
//! mappings. Checked: addresses, which pages are mapped, protections, contents.

mod mem_common;

use capexec::Errno;
use capexec::abi::mem::{MAP_ANON, MAP_ANON_FD, MAP_FIXED, MAP_PRIVATE, mem_map, mem_unmap};
use capexec::exec::Protection;
use capexec_sim::SIM_MAP_BASE;
use mem_common::*;

const CHUNK: u32 = 2 * MIB;

/// jemalloc's `pages_map(NULL, size)`.
fn pages_map(p: &mut MapProc, size: u32) -> u32 {
    mem_map(p, 0, size, RW, MAP_ANON | MAP_PRIVATE, MAP_ANON_FD, 0).unwrap()
}

/// jemalloc's `chunk_alloc_mmap`: the fast path, else the over-allocate-and-trim path.
/// Returns the chunk and the calls made (`"map"`, `"unmap"`).
fn chunk_alloc(p: &mut MapProc, size: u32, alignment: u32) -> (u32, Vec<&'static str>) {
    let mut calls = vec!["map"];
    let a = pages_map(p, size);
    if a % alignment == 0 {
        return (a, calls);
    }
    mem_unmap(p, a, size).unwrap();
    calls.push("unmap");
    let alloc_size = size + alignment - PAGE;
    let b = pages_map(p, alloc_size);
    calls.push("map");
    let lead = b.next_multiple_of(alignment) - b;
    let trail = alloc_size - lead - size;
    if lead != 0 {
        mem_unmap(p, b, lead).unwrap();
        calls.push("unmap");
    }
    if trail != 0 {
        mem_unmap(p, b + lead + size, trail).unwrap();
        calls.push("unmap");
    }
    (b + lead, calls)
}

/// jemalloc's `pages_commit` / `pages_decommit`: a fixed mapping over the range.
fn set_committed(p: &mut MapProc, addr: u32, size: u32, commit: bool) {
    let prot = if commit { RW } else { 0 };
    let flags = MAP_ANON | MAP_PRIVATE | MAP_FIXED;
    assert_eq!(
        mem_map(p, addr, size, prot, flags, MAP_ANON_FD, 0),
        Ok(addr)
    );
}

/// Rows: pages mapped before the first chunk (shifting the kernel's first choice), and
/// the calls jemalloc then makes.
#[test]
fn chunks_are_aligned_whatever_the_kernel_chooses_first() {
    let rows: &[(u32, &[&str])] = &[
        (0, &["map"]),
        // One page: the over-allocation ends exactly on the next boundary, so only
        // the front is trimmed.
        (1, &["map", "unmap", "map", "unmap"]),
        (255, &["map", "unmap", "map", "unmap", "unmap"]),
        (511, &["map", "unmap", "map", "unmap", "unmap"]),
        (512, &["map"]),
    ];
    for &(before, want_calls) in rows {
        let mut p = MapProc::new(&[]);
        if before > 0 {
            assert_eq!(p.anon(before * PAGE, RW), Ok(SIM_MAP_BASE));
        }
        let pages_before = p.mem().mapped_pages();
        let (chunk, calls) = chunk_alloc(&mut p, CHUNK, CHUNK);
        assert_eq!(calls, want_calls, "{before} pages before");
        assert_eq!(chunk % CHUNK, 0, "{before} pages before");
        // Exactly the chunk was added: nothing of the over-allocation is left.
        assert_eq!(
            p.mem().mapped_pages(),
            pages_before + (CHUNK / PAGE) as usize,
            "{before} pages before"
        );
        // Only the pages mapped before may touch the chunk from below.
        assert_eq!(p.mem().is_mapped(chunk - PAGE), before == 512);
        assert!(!p.mem().is_mapped(chunk + CHUNK));
        assert_eq!(prots(p.mem(), chunk, CHUNK), vec![Some(rw()); 512]);
        assert_eq!(p.read(chunk, CHUNK).unwrap(), vec![0; CHUNK as usize]);
    }
}

#[test]
fn many_chunks_stay_disjoint_and_keep_their_contents() {
    let mut p = MapProc::new(&[]);
    p.anon(3 * PAGE, RW).unwrap();
    let mut chunks = Vec::new();
    for i in 0..6u8 {
        let (c, _) = chunk_alloc(&mut p, CHUNK, CHUNK);
        assert_eq!(c % CHUNK, 0);
        p.fill(c, CHUNK, i + 1).unwrap();
        chunks.push(c);
    }
    let mut sorted = chunks.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 6);
    for (i, &c) in chunks.iter().enumerate() {
        assert_eq!(p.read(c, CHUNK).unwrap(), vec![i as u8 + 1; CHUNK as usize]);
    }
}

#[test]
fn decommit_and_recommit_inside_a_chunk() {
    let mut p = MapProc::new(&[]);
    p.anon(PAGE, RW).unwrap();
    let (c, _) = chunk_alloc(&mut p, CHUNK, CHUNK);
    p.fill(c, CHUNK, 0x5a).unwrap();
    // Purge 16 pages in the middle: they become a PROT_NONE reservation.
    let mid = c + 64 * PAGE;
    set_committed(&mut p, mid, 16 * PAGE, false);
    assert_eq!(p.read(mid, 1), Err(Errno::EFAULT));
    assert_eq!(p.fill(mid + 15 * PAGE, 1, 0), Err(Errno::EFAULT));
    assert_eq!(p.mem().protection(mid), Some(Protection::empty()));
    // The space stays taken: the kernel's next choice is elsewhere.
    let other = p.anon(16 * PAGE, RW).unwrap();
    assert!(other + 16 * PAGE <= c || other >= c + CHUNK);
    // Recommit half of it: fresh zero pages, the other half still reserved.
    set_committed(&mut p, mid, 8 * PAGE, true);
    assert_eq!(p.read(mid, 8 * PAGE).unwrap(), vec![0; 8 * PAGE as usize]);
    assert_eq!(p.read(mid + 8 * PAGE, 1), Err(Errno::EFAULT));
    // Everything around kept its bytes.
    assert_eq!(
        p.read(c, 64 * PAGE).unwrap(),
        vec![0x5a; 64 * PAGE as usize]
    );
    let after = mid + 16 * PAGE;
    assert_eq!(
        p.read(after, c + CHUNK - after).unwrap(),
        vec![0x5a; (c + CHUNK - after) as usize]
    );
    // And the whole chunk goes in one unmap.
    mem_unmap(&mut p, c, CHUNK).unwrap();
    assert!((0..512).all(|i| !p.mem().is_mapped(c + i * PAGE)));
}
