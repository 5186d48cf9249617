//! From the boot loader to Rust: the multiboot header, SSE, the boot page directory and
//! the jump to the kernel's half of the address space.
//!
//! The boot loader (QEMU's `-kernel`, GRUB) enters `_start` in 32-bit protected mode with
//! paging off, `eax` = the multiboot magic and `ebx` = the physical address of the
//! multiboot information. The code here runs at its physical address (section
//! `.boot.text`, see `link.ld`), so it may touch nothing linked at 3 GiB until paging is on.

use core::arch::global_asm;

/// Where the kernel's half of every address space starts: physical memory is mapped here.
pub const KERNEL_BASE: u32 = 0xC000_0000;

/// Physical memory the boot page directory maps at [`KERNEL_BASE`]: 64 large pages of
/// 4 MiB. Frames above this are not used.
pub const MAPPED_PHYSICAL: u32 = 256 << 20;

/// Bytes of the kernel stack `kmain` runs on.
pub const KERNEL_STACK_SIZE: usize = 64 * 1024;

// The multiboot v1 header: magic, flags (bit 0: modules page-aligned, bit 1: give the
// memory map), checksum (the three words sum to zero).
//
// `_start`:
// 1. enables SSE before any Rust code runs (the prebuilt `core` uses SSE2 registers):
//    CR0.EM = 0, CR0.MP = 1, CR4.OSFXSR = CR4.OSXMMEXCPT = 1; and CR4.PSE for the
//    4 MiB pages below;
// 2. fills the boot page directory: entry 0 maps the first 4 MiB where this code runs
//    (identity, until the jump), entries 768.. map the first 256 MiB of physical memory
//    at 3 GiB (present, writable, 4 MiB, supervisor only);
// 3. turns on paging (CR0.PG) and write protection in ring 0 (CR0.WP);
// 4. jumps to `higher_half`, moves onto the kernel stack and calls
//    `kmain(magic, info)` with a 16-byte aligned stack.
global_asm!(
    r#"
    .set MULTIBOOT_MAGIC, 0x1BADB002
    .set MULTIBOOT_FLAGS, 0x3

    .section .multiboot, "a"
    .p2align 2
    .long MULTIBOOT_MAGIC
    .long MULTIBOOT_FLAGS
    .long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

    .section .boot.text, "ax"
    .global _start
_start:
    cli
    mov %cr0, %ecx
    and $0xFFFFFFFB, %ecx
    or $0x2, %ecx
    mov %ecx, %cr0
    mov %cr4, %ecx
    or $0x610, %ecx
    mov %ecx, %cr4

    mov $(boot_page_directory - 0xC0000000), %edi
    movl $0x83, (%edi)
    xor %ecx, %ecx
1:
    mov %ecx, %edx
    shl $22, %edx
    or $0x83, %edx
    mov %edx, 3072(%edi, %ecx, 4)
    inc %ecx
    cmp $64, %ecx
    jne 1b
    mov %edi, %cr3

    mov %cr0, %ecx
    or $0x80010000, %ecx
    mov %ecx, %cr0
    mov $higher_half, %ecx
    jmp *%ecx

    .section .text.boot_high, "ax"
higher_half:
    mov $kernel_stack_top, %esp
    xor %ebp, %ebp
    sub $8, %esp
    push %ebx
    push %eax
    call kmain
2:
    hlt
    jmp 2b

    .section .bss.boot, "aw", @nobits
    .p2align 12
    .global boot_page_directory
boot_page_directory:
    .skip 4096
    .p2align 4
kernel_stack_bottom:
    .skip {stack_size}
    .global kernel_stack_top
kernel_stack_top:
"#,
    stack_size = const KERNEL_STACK_SIZE,
    options(att_syntax)
);

unsafe extern "C" {
    /// The boot page directory of `_start`: after boot, the template of the kernel's half
    /// of every address space, and the address space the kernel runs in between programs.
    static boot_page_directory: [u32; 1024];
    /// One past the last byte of the kernel image (code, data, bss), virtual.
    static kernel_virtual_end: u8;
}

/// Physical address of the boot page directory.
pub fn kernel_page_directory() -> u32 {
    // Only the address of the extern static is taken, never a reference.
    let virt = core::ptr::addr_of!(boot_page_directory) as u32;
    virt - KERNEL_BASE
}

/// One past the last physical byte of the kernel image.
pub fn kernel_physical_end() -> u32 {
    // Only the address of the linker symbol is taken.
    let virt = core::ptr::addr_of!(kernel_virtual_end) as u32;
    virt - KERNEL_BASE
}

/// The address of physical byte `phys` in the kernel's map of physical memory.
#[inline]
pub fn phys_to_virt(phys: u32) -> *mut u8 {
    debug_assert!(phys < MAPPED_PHYSICAL);
    (phys + KERNEL_BASE) as *mut u8
}

/// Removes the identity mapping of the first 4 MiB that `_start` needed for its jump:
/// from now on, low addresses belong to user space only.
pub fn drop_identity_map() {
    let pd = phys_to_virt(kernel_page_directory()) as *mut u32;
    // SAFETY: `pd` is the boot page directory, mapped in the kernel's half; entry 0 is
    // the identity mapping no kernel code uses since `higher_half`. Reloading CR3
    // flushes the stale translation.
    unsafe {
        pd.write_volatile(0);
        crate::cpu::load_cr3(kernel_page_directory());
    }
}
