//! capexec's reference kernel: a small i386 kernel that runs real CloudABI programs, with
//! every system call served by capexec.
//!
//! Boot (`boot.rs`) → serial console, heap, frames, GDT/TSS, IDT, timer (`kmain`) → the
//! programs of `init.rs`, each started by a launcher through `proc_exec` and run to its
//! end (`process.rs`) → QEMU exits with the verdict (`qemu.rs`).

#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

mod boot;
mod cpu;
mod frames;
mod gdt;
mod heap;
mod init;
mod multiboot;
mod paging;
mod process;
mod qemu;
mod rt;
mod serial;
mod timer;
mod trap;
mod vnode;

use qemu::Verdict;

/// The kernel's Rust entry, called by `_start` on the kernel stack with paging on.
#[unsafe(no_mangle)]
extern "C" fn kmain(magic: u32, info: u32) -> ! {
    serial::init();
    kprintln!("kernel: capexec reference kernel (i386), booted");
    if magic != multiboot::BOOTLOADER_MAGIC {
        kprintln!("kernel: not started by a multiboot loader (eax {magic:#x})");
        qemu::exit(Verdict::Fail);
    }
    heap::init();
    // The memory map is copied out before any frame is handed out: the loader's data
    // may lie in RAM the frame allocator is given (QEMU puts it after the kernel).
    let mut ranges = [multiboot::RamRange { start: 0, end: 0 }; 16];
    let mut count = 0;
    multiboot::for_each_ram_range(info, |r| {
        if let Some(slot) = ranges.get_mut(count) {
            *slot = r;
            count += 1;
        }
    });
    frames::init(ranges[..count].iter().copied(), boot::kernel_physical_end());
    boot::drop_identity_map();
    gdt::init();
    trap::init_idt();
    timer::init();
    kprintln!(
        "kernel: {} MiB of free frames, {} MiB of heap",
        frames::free_count() * 4 / 1024,
        heap::HEAP_SIZE >> 20
    );
    let verdict = if init::run_all() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    qemu::exit(verdict)
}
