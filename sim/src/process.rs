//! A simulated process: what `proc_exec` and the i386 shim need from a process.

use capexec::exec::Process;
use capexec::fdtable::{FdTable, File, SharedFdTable};

use crate::SimAddressSpace;

/// A simulated process: a shared descriptor table and a [`SimAddressSpace`], enough to
/// drive [`proc_exec`](capexec::exec::proc_exec) and the i386 shim in host tests.
pub struct SimProcess<F: ?Sized> {
    /// The process's descriptor table.
    pub table: SharedFdTable<F>,
    /// The process's memory.
    pub mem: SimAddressSpace,
}

impl<F: ?Sized> SimProcess<F> {
    /// A process with `table` and an empty address space.
    pub fn new(table: FdTable<F>) -> SimProcess<F> {
        SimProcess {
            table: SharedFdTable::new(table),
            mem: SimAddressSpace::new(),
        }
    }
}

impl<F: ?Sized + File> Process for SimProcess<F> {
    type File = F;
    type Memory = SimAddressSpace;
    type Lock = capexec::fdtable::DefaultRawMutex;

    fn fd_table(&self) -> &SharedFdTable<F> {
        &self.table
    }

    fn memory(&self) -> &SimAddressSpace {
        &self.mem
    }

    fn memory_mut(&mut self) -> &mut SimAddressSpace {
        &mut self.mem
    }
}
