//! The allocation baselines of the table benchmarks (groups 2 and 5), shared with the
//! instruction-count harness (`examples/instr.rs`).
#![allow(dead_code)]

use std::sync::Arc;

use capexec::fdtable::{Entry, FdRights};

use super::MyFile;

/// The allocation baselines hold the same information per slot as capexec (the file and
/// the descriptor's rights), inline as most tables do (`Option<Entry<Arc<F>>>`, 24 bytes;
/// capexec keeps the 8-byte handle in the slot and the rights interned), so that the
/// comparison is about finding the lowest free slot.
pub type Slot = Option<Entry<Arc<MyFile>>>;

pub fn slots_of(files: &[Arc<MyFile>]) -> Vec<Slot> {
    files
        .iter()
        .map(|f| Some(Entry::new(f.clone(), FdRights::ALL)))
        .collect()
}

/// What most Rust kernels do: a vector of optional entries and a linear scan for the
/// lowest free slot.
pub struct LinearTable {
    pub slots: Vec<Slot>,
}

impl LinearTable {
    pub fn dense(files: &[Arc<MyFile>]) -> LinearTable {
        LinearTable {
            slots: slots_of(files),
        }
    }

    #[inline]
    pub fn close(&mut self, fd: usize) -> Option<Entry<Arc<MyFile>>> {
        self.slots.get_mut(fd)?.take()
    }

    #[inline]
    pub fn alloc(&mut self, f: Entry<Arc<MyFile>>) -> usize {
        match self.slots.iter().position(Option::is_none) {
            Some(i) => {
                self.slots[i] = Some(f);
                i
            }
            None => {
                self.slots.push(Some(f));
                self.slots.len() - 1
            }
        }
    }
}

/// A one-level bitmap (one bit per descriptor), the lowest free slot found by scanning
/// the words for the first that is not full. With `hint`, the scan starts at a lower
/// bound of the lowest free slot (FreeBSD `fd_freefile`).
pub struct OneLevelTable {
    slots: Vec<Slot>,
    words: Vec<u64>,
    hint: Option<usize>,
}

impl OneLevelTable {
    pub fn dense(files: &[Arc<MyFile>], hint: bool) -> OneLevelTable {
        let n = files.len();
        let mut words = vec![0u64; n.div_ceil(64)];
        for i in 0..n {
            words[i / 64] |= 1 << (i % 64);
        }
        OneLevelTable {
            slots: slots_of(files),
            words,
            hint: hint.then_some(n),
        }
    }

    #[inline]
    pub fn close(&mut self, fd: usize) -> Option<Entry<Arc<MyFile>>> {
        let f = self.slots.get_mut(fd)?.take()?;
        self.words[fd / 64] &= !(1 << (fd % 64));
        if let Some(h) = &mut self.hint {
            *h = (*h).min(fd);
        }
        Some(f)
    }

    #[inline]
    pub fn alloc(&mut self, f: Entry<Arc<MyFile>>) -> usize {
        let start = self.hint.unwrap_or(0) / 64;
        let fd = match self.words[start.min(self.words.len())..]
            .iter()
            .position(|&w| w != !0)
        {
            Some(w) => (start + w) * 64 + self.words[start + w].trailing_ones() as usize,
            None => self.words.len() * 64,
        };
        if fd >= self.slots.len() {
            self.slots.resize_with(fd + 1, || None);
            self.words.resize(fd / 64 + 1, 0);
        }
        self.slots[fd] = Some(f);
        self.words[fd / 64] |= 1 << (fd % 64);
        if let Some(h) = &mut self.hint {
            if *h == fd {
                *h = fd + 1;
            }
        }
        fd
    }
}
