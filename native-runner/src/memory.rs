//! Reading and writing the tracee's memory at 32-bit addresses.

use std::fmt;
use std::io::{IoSlice, IoSliceMut};

use nix::sys::uio::{RemoteIoVec, process_vm_readv, process_vm_writev};
use nix::unistd::Pid;

/// A tracee address that could not be read or written (unmapped, lacking
/// the permission, or a range running past 4 GiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The first address that failed.
    pub addr: u32,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "memory fault at {:#010x}", self.addr)
    }
}

impl std::error::Error for Fault {}

/// Bytes a [`TraceeMemory::prefetch`] copies at most: from the argument
/// words on, this also holds the small structures a caller usually keeps in
/// its stack frame right above them (an iovec array, a subscription, the
/// result words), so a call reads them without another host call. Copying
/// 256 bytes instead of 28 costs nanoseconds; a host call costs microseconds.
pub(crate) const WINDOW: usize = 256;

/// Tracee bytes copied at the current stop, so that reading them again
/// (the argument words, for the shim and for an observer, and what lies
/// just above them) costs no host system call.
struct Window {
    addr: u32,
    /// How many bytes of `bytes` are valid; 0 for none.
    len: usize,
    bytes: [u8; WINDOW],
}

impl Window {
    /// The cached copy of `[addr, addr + len)`, if all of it is cached.
    fn get(&self, addr: u32, len: usize) -> Option<&[u8]> {
        let from = addr.checked_sub(self.addr)? as usize;
        self.bytes[..self.len].get(from..from.checked_add(len)?)
    }

    /// Whether `[addr, addr + len)` shares a byte with the cached bytes.
    fn overlaps(&self, addr: u32, len: usize) -> bool {
        let (a, b) = (u64::from(addr), u64::from(self.addr));
        self.len != 0 && len != 0 && a < b + self.len as u64 && b < a + len as u64
    }
}

/// The address space of a traced 32-bit process, accessed with
/// `process_vm_readv` / `process_vm_writev`.
///
/// Those calls honour page protections: writing a read-only page faults,
/// as a kernel's copy-out would. Loading an image therefore maps its pages
/// writable first and protects them afterwards.
///
/// While the tracee is stopped its memory changes only through this type
/// or through system calls the runner injects, so the bytes the runner
/// copies at a stop (from the argument words on) are served again without a
/// host call; a write over them, an injected call or resuming the tracee drops
/// them.
pub struct TraceeMemory {
    pid: Pid,
    window: Window,
}

impl fmt::Debug for TraceeMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceeMemory")
            .field("pid", &self.pid)
            .field("cached", &(self.window.addr, self.window.len))
            .finish()
    }
}

/// Whether `[addr, addr + len)` stays inside the 32-bit address space.
fn in_range(addr: u32, len: usize) -> bool {
    u64::from(addr) + len as u64 <= 1 << 32
}

impl TraceeMemory {
    pub(crate) fn new(pid: Pid) -> Self {
        TraceeMemory {
            pid,
            window: Window {
                addr: 0,
                len: 0,
                bytes: [0; WINDOW],
            },
        }
    }

    /// Copies up to [`WINDOW`] bytes from `addr` with one host call and
    /// keeps them for [`copy_in`](Self::copy_in) until the tracee runs again
    /// or they are written. Bytes that cannot be read are simply not kept:
    /// reading them later faults as it would have.
    pub(crate) fn prefetch(&mut self, addr: u32, len: usize) {
        let len = len
            .min(WINDOW)
            .min((u64::from(u32::MAX) - u64::from(addr) + 1) as usize);
        let w = &mut self.window;
        w.addr = addr;
        let remote = [RemoteIoVec {
            base: addr as usize,
            len,
        }];
        let mut local = [IoSliceMut::new(&mut w.bytes[..len])];
        w.len = process_vm_readv(self.pid, &mut local, &remote).unwrap_or(0);
    }

    /// Drops the bytes [`prefetch`](Self::prefetch) kept: the tracee's
    /// memory may change (it runs, or a system call is injected).
    pub(crate) fn forget(&mut self) {
        self.window.len = 0;
    }

    /// The tracee's process id.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Copies `buf.len()` bytes from the tracee at `addr` into `buf`.
    pub fn copy_in(&self, addr: u32, buf: &mut [u8]) -> Result<(), Fault> {
        if !in_range(addr, buf.len()) {
            return Err(Fault { addr });
        }
        if let Some(cached) = self.window.get(addr, buf.len()) {
            buf.copy_from_slice(cached);
            return Ok(());
        }
        let mut done = 0;
        while done < buf.len() {
            let at = addr + done as u32;
            let remote = [RemoteIoVec {
                base: at as usize,
                len: buf.len() - done,
            }];
            let mut local = [IoSliceMut::new(&mut buf[done..])];
            match process_vm_readv(self.pid, &mut local, &remote) {
                Ok(n) if n > 0 => done += n,
                _ => return Err(Fault { addr: at }),
            }
        }
        Ok(())
    }

    /// Copies `data` into the tracee at `addr`.
    pub fn copy_out(&mut self, addr: u32, data: &[u8]) -> Result<(), Fault> {
        if !in_range(addr, data.len()) {
            return Err(Fault { addr });
        }
        if self.window.overlaps(addr, data.len()) {
            self.forget();
        }
        let mut done = 0;
        while done < data.len() {
            let at = addr + done as u32;
            let remote = [RemoteIoVec {
                base: at as usize,
                len: data.len() - done,
            }];
            let local = [IoSlice::new(&data[done..])];
            match process_vm_writev(self.pid, &local, &remote) {
                Ok(n) if n > 0 => done += n,
                _ => return Err(Fault { addr: at }),
            }
        }
        Ok(())
    }

    /// Reads a little-endian 32-bit word at `addr`.
    pub fn read_u32(&self, addr: u32) -> Result<u32, Fault> {
        let mut b = [0u8; 4];
        self.copy_in(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Writes a little-endian 32-bit word at `addr`.
    pub fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), Fault> {
        self.copy_out(addr, &value.to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::{Fault, TraceeMemory, WINDOW, Window, in_range};
    use nix::libc;
    use nix::unistd::Pid;

    /// Two fresh pages below 2 GiB in this very process (which
    /// `process_vm_readv` may always read), the second unmapped again: a
    /// stand-in for a stopped tracee's memory ending at a hole.
    fn page_before_a_hole() -> u32 {
        // SAFETY: an anonymous private mapping the kernel places; nothing
        // else refers to it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        // SAFETY: the second page of the mapping just made, not referred to.
        assert_eq!(
            unsafe { libc::munmap(p.cast::<u8>().add(4096).cast(), 4096) },
            0
        );
        u32::try_from(p as usize).unwrap()
    }

    #[test]
    fn copies_see_writes_and_holes_through_the_window() {
        let page = page_before_a_hole();
        let mut mem = TraceeMemory::new(Pid::this());
        mem.copy_out(page, &[7; 4096]).unwrap();
        // The last 16 bytes before the hole: the window keeps only them.
        let at = page + 4096 - 16;
        mem.prefetch(at, WINDOW);
        assert_eq!(mem.window.len, 16);
        let mut b = [0; 16];
        mem.copy_in(at, &mut b).unwrap();
        assert_eq!(b, [7; 16]);
        // Past the hole still faults, cached or not.
        assert_eq!(
            mem.copy_in(at + 8, &mut b),
            Err(Fault { addr: page + 4096 })
        );
        // A write over the cached bytes is read back.
        mem.copy_out(at + 4, &[1, 2]).unwrap();
        mem.copy_in(at, &mut b[..8]).unwrap();
        assert_eq!(b[..8], [7, 7, 7, 7, 1, 2, 7, 7]);
        // After the runner forgets (an injected munmap), the page is read
        // again: here it is gone.
        mem.prefetch(at, WINDOW);
        mem.forget();
        // SAFETY: the first page of the mapping made above; only `mem`
        // reads it, through process_vm_readv, which faults cleanly.
        assert_eq!(unsafe { libc::munmap(page as usize as *mut _, 4096) }, 0);
        assert_eq!(mem.copy_in(at, &mut b), Err(Fault { addr: at }));
    }

    fn window(addr: u32, len: usize) -> Window {
        let mut bytes = [0; WINDOW];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        Window { addr, len, bytes }
    }

    #[test]
    fn the_window_serves_only_what_it_holds() {
        let w = window(0x1000, 8);
        assert_eq!(w.get(0x1000, 8), Some(&[0, 1, 2, 3, 4, 5, 6, 7][..]));
        assert_eq!(w.get(0x1004, 4), Some(&[4, 5, 6, 7][..]));
        assert_eq!(w.get(0x1008, 0), Some(&[][..]));
        assert_eq!(w.get(0x1004, 5), None);
        assert_eq!(w.get(0x0fff, 2), None);
        assert_eq!(w.get(0x1009, 0), None);
        assert_eq!(window(0x1000, 0).get(0x1000, 1), None);
        assert_eq!(window(u32::MAX, 1).get(u32::MAX, 1), Some(&[0][..]));
    }

    #[test]
    fn writes_that_touch_the_window_are_seen() {
        let w = window(0x1000, 8);
        assert!(w.overlaps(0x0fff, 2));
        assert!(w.overlaps(0x1007, 1));
        assert!(w.overlaps(0x0000, 0x2000));
        assert!(!w.overlaps(0x0ff8, 8));
        assert!(!w.overlaps(0x1008, 4));
        assert!(!w.overlaps(0x1004, 0));
        assert!(!window(0x1000, 0).overlaps(0x1000, 4));
        assert!(window(u32::MAX, 1).overlaps(u32::MAX, 1));
    }

    #[test]
    fn ranges_stop_at_four_gib() {
        assert!(in_range(0, 0));
        assert!(in_range(0xffff_fff0, 16));
        assert!(!in_range(0xffff_fff0, 17));
        assert!(in_range(u32::MAX, 1));
    }
}
