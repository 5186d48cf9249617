//! A simulated process: what `proc_exec` and the i386 shim need from a process.

use std::sync::Arc;

use capexec::abi::Cloudabi32;
use capexec::exec::{Process, VirtualMemory};
use capexec::fdtable::{FdTable, File, SharedFdTable};

use crate::SimAddressSpace;

/// A simulated process: a shared descriptor table and a [`SimAddressSpace`], enough to
/// drive [`proc_exec`](capexec::exec::proc_exec) and the i386 shim in host tests (the
/// address space is also its [`VirtualMemory`] for the `mem_*` calls). Its
/// table holds `Arc<F>` handles.
pub struct SimProcess<F: ?Sized> {
    /// The process's descriptor table.
    pub table: SharedFdTable<Arc<F>>,
    /// The process's memory.
    pub mem: SimAddressSpace,
    /// The argument buffer of the last exec, kept for the next one
    /// ([`Process::take_arg_buffer`](capexec::exec::Process::take_arg_buffer)).
    pub arg_buffer: Vec<u8>,
}

impl<F: ?Sized + File> SimProcess<F> {
    /// A process with `table` and an empty address space.
    pub fn new(table: FdTable<Arc<F>>) -> SimProcess<F> {
        SimProcess {
            table: SharedFdTable::new(table),
            mem: SimAddressSpace::new(),
            arg_buffer: Vec::new(),
        }
    }
}

/// The calls whose meaning is the kernel's: none in the simulator (`ENOSYS`).
impl<F: ?Sized + File> capexec::abi::KernelCalls for SimProcess<F> {}

impl<F: ?Sized + File> Process for SimProcess<F> {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    fn install_fd_table_in_place(&mut self, new: &mut capexec::fdtable::FdTable<Self::Handle>) {
        capexec::fdtable::fdinstall_remapped_in_place(self.fd_table(), new);
    }

    // No other process shares this table: exec moves the descriptors it passes.
    fn fd_table_exclusive(&self) -> bool {
        true
    }

    // Each exec reuses the buffer of the one before.
    fn take_arg_buffer(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.arg_buffer)
    }

    fn put_arg_buffer(&mut self, buf: Vec<u8>) {
        self.arg_buffer = buf;
    }

    type File = F;
    type Handle = Arc<F>;
    type Memory = SimAddressSpace;
    type Lock = capexec::fdtable::DefaultRawMutex;

    fn fd_table(&self) -> &SharedFdTable<Arc<F>> {
        &self.table
    }

    fn memory(&self) -> &SimAddressSpace {
        &self.mem
    }

    fn memory_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.mem
    }

    fn virtual_memory(&mut self) -> Option<&mut dyn VirtualMemory<Abi = Cloudabi32>> {
        Some(&mut self.mem)
    }
}
