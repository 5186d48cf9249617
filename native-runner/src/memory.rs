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

/// The address space of a traced 32-bit process, accessed with
/// `process_vm_readv` / `process_vm_writev`.
///
/// Those calls honour page protections: writing a read-only page faults,
/// as a kernel's copy-out would. Loading an image therefore maps its pages
/// writable first and protects them afterwards.
#[derive(Debug)]
pub struct TraceeMemory {
    pid: Pid,
}

/// Whether `[addr, addr + len)` stays inside the 32-bit address space.
fn in_range(addr: u32, len: usize) -> bool {
    u64::from(addr) + len as u64 <= 1 << 32
}

impl TraceeMemory {
    pub(crate) fn new(pid: Pid) -> Self {
        TraceeMemory { pid }
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
    use super::in_range;

    #[test]
    fn ranges_stop_at_four_gib() {
        assert!(in_range(0, 0));
        assert!(in_range(0xffff_fff0, 16));
        assert!(!in_range(0xffff_fff0, 17));
        assert!(in_range(u32::MAX, 1));
    }
}
