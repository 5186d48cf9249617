//! Support for the `mem_*` tests: a simulated process whose kernel maps regular files
//! (copies of their bytes, private), and small helpers over the simulated VM.
#![allow(dead_code)]

use std::sync::Arc;

use capexec::Errno;
use capexec::abi::Cloudabi32;
use capexec::abi::mem::{MAP_ANON, MAP_ANON_FD, MAP_FIXED, MAP_PRIVATE, mem_map};
use capexec::exec::{
    AbiAddr, ImageFile, MapRequest, Process, Protection, Sharing, UserMemory, VirtualMemory,
};
use capexec::fdtable::{FdRights, FdTable, File, SharedFdTable, fdinstall_remapped};
use capexec_sim::{SIM_PAGE_SIZE, SimAddressSpace, SimProcess};

#[path = "../common/mod.rs"]
pub mod common;

pub use common::{TFile, table_with};

pub const PAGE: u32 = SIM_PAGE_SIZE;
pub const MIB: u32 = 1 << 20;
pub const RW: u8 = capexec::abi::mem::PROT_READ | capexec::abi::mem::PROT_WRITE;
pub const ANON_PRIVATE: u8 = MAP_ANON | MAP_PRIVATE;

/// A process whose kernel maps regular files: a private copy of the file's bytes from
/// the offset, the rest of the last page zero. Shared mappings of files are `ENOTSUP`
/// (the simulated kernel has no page cache). Every hook call is recorded.
pub struct MapProc {
    pub inner: SimProcess<TFile>,
    pub file_maps: Vec<(MapRequest<u32>, u64)>,
    /// When false, the kernel has no VM for the `mem_*` calls.
    pub vm: bool,
}

impl MapProc {
    pub fn new(files: &[Option<(Arc<TFile>, FdRights)>]) -> MapProc {
        MapProc {
            inner: SimProcess::new(table_with(files)),
            file_maps: Vec::new(),
            vm: true,
        }
    }

    pub fn mem(&self) -> &SimAddressSpace {
        &self.inner.mem
    }

    pub fn mem_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.inner.mem
    }

    /// An anonymous private mapping where the kernel chooses.
    pub fn anon(&mut self, len: u32, prot: u8) -> Result<u32, Errno> {
        mem_map(self, 0, len, prot, ANON_PRIVATE, MAP_ANON_FD, 0)
    }

    /// An anonymous private mapping exactly at `addr`.
    pub fn fixed(&mut self, addr: u32, len: u32, prot: u8) -> Result<u32, Errno> {
        mem_map(
            self,
            addr,
            len,
            prot,
            ANON_PRIVATE | MAP_FIXED,
            MAP_ANON_FD,
            0,
        )
    }

    /// Fills `len` bytes at `addr` with `byte` through the program's own access.
    pub fn fill(&mut self, addr: u32, len: u32, byte: u8) -> Result<(), Errno> {
        capexec::exec::copyout(&mut self.inner.mem, addr, &vec![byte; len as usize])
    }

    /// The bytes at `addr`, read as the program reads them.
    pub fn read(&self, addr: u32, len: u32) -> Result<Vec<u8>, Errno> {
        let mut b = vec![0; len as usize];
        capexec::exec::copyin(&self.inner.mem, addr, &mut b)?;
        Ok(b)
    }
}

/// The kernel's own calls: none (`ENOSYS`).
impl capexec::abi::KernelCalls for MapProc {}

impl Process for MapProc {
    type File = TFile;
    type Handle = Arc<TFile>;
    type Memory = SimAddressSpace;
    type Lock = capexec::fdtable::DefaultRawMutex;

    fn fd_table(&self) -> &SharedFdTable<Arc<TFile>> {
        self.inner.fd_table()
    }
    fn memory(&self) -> &SimAddressSpace {
        &self.inner.mem
    }
    fn memory_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.inner.mem
    }
    fn install_fd_table(&mut self, new: FdTable<Arc<TFile>>) -> FdTable<Arc<TFile>> {
        fdinstall_remapped(self.inner.fd_table(), new)
    }
    fn virtual_memory(&mut self) -> Option<&mut dyn VirtualMemory<Abi = Cloudabi32>> {
        if self.vm {
            Some(&mut self.inner.mem)
        } else {
            None
        }
    }
    fn map_file(
        &mut self,
        file: &Arc<TFile>,
        request: &MapRequest<AbiAddr<SimAddressSpace>>,
        offset: u64,
    ) -> Result<u32, Errno> {
        self.file_maps.push((*request, offset));
        if file.file_type() != capexec::fdtable::FileType::RegularFile {
            return Err(Errno::ENODEV);
        }
        if request.sharing == Sharing::Shared {
            return Err(Errno::ENOTSUP);
        }
        let mut bytes = vec![0u8; request.len as usize];
        let mut done = 0;
        while done < bytes.len() {
            let n = file.read_at(offset + done as u64, &mut bytes[done..])?;
            if n == 0 {
                break;
            }
            done += n;
        }
        let want = MapRequest {
            prot: Protection::READ | Protection::WRITE,
            ..*request
        };
        let at = self.inner.mem.mmap(&want)?;
        capexec::exec::copyout(&mut self.inner.mem, at, &bytes)?;
        self.inner.mem.mprotect(at, request.len, request.prot)?;
        Ok(at)
    }
}

/// The protection of every page in `addr..addr+len` (`None` for an unmapped page).
pub fn prots(mem: &SimAddressSpace, addr: u32, len: u32) -> Vec<Option<Protection>> {
    (0..len / PAGE)
        .map(|i| mem.protection(addr + i * PAGE))
        .collect()
}

/// Readable and writable.
pub fn rw() -> Protection {
    Protection::READ | Protection::WRITE
}

/// Keeps `UserMemory` in scope for the tests that read through the trait.
pub fn read_user(mem: &SimAddressSpace, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
    mem.read_user(addr, buf)
}
