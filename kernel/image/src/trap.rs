//! Running a program until its next trap, and the interrupt descriptor table.
//!
//! The kernel runs one program at a time, as a loop in ordinary Rust
//! (`process::run`): [`enter_user`] restores the program's registers from its
//! [`TrapFrame`] and `iret`s to ring 3; the next trap (an `int $0x80` or a CPU exception)
//! saves them back into the same frame and returns from [`enter_user`] with the vector
//! in the frame. The trick: the TSS's ring-0 stack (`esp0`) is set to the *end* of the
//! frame, so the CPU and the trap stub push the registers straight into it.
//!
//! The ways into the kernel: the 32 CPU exceptions, the timer's interrupt (taken only
//! while a program runs: the kernel runs with interrupts off) and the `int $0x80` gate,
//! the only gate with DPL 3. Any other `int n` from ring 3 is a general protection fault.

use core::arch::global_asm;
use core::mem::size_of;

use spin::Mutex;

use crate::gdt::{self, KERNEL_CODE, TablePointer};
use crate::timer::{SPURIOUS_VECTOR, TIMER_VECTOR};

/// The system call vector.
pub const SYSCALL_VECTOR: u32 = 0x80;

/// A ring-3 program's registers at a trap, in the order the stub and the CPU push them
/// (lowest address first).
#[repr(C)]
#[derive(Debug, Clone, Default)]
pub struct TrapFrame {
    pub gs: u32,
    pub fs: u32,
    pub es: u32,
    pub ds: u32,
    // pushal
    pub edi: u32,
    pub esi: u32,
    pub ebp: u32,
    /// The kernel-side `esp` of `pushal`, ignored by `popal`.
    pub unused_esp: u32,
    pub ebx: u32,
    pub edx: u32,
    pub ecx: u32,
    pub eax: u32,
    // the stub
    pub vector: u32,
    /// The CPU's error code (0 for vectors that have none).
    pub error: u32,
    // the CPU
    pub eip: u32,
    pub cs: u32,
    pub eflags: u32,
    pub esp: u32,
    pub ss: u32,
}

/// The x87/SSE register state of a program (`fxsave` format), saved at each trap and
/// restored at each return, so the kernel's own SSE code never clobbers the program's.
#[repr(C, align(16))]
pub struct FxArea([u8; 512]);

impl FxArea {
    /// The state after `fninit` with every SSE exception masked (MXCSR 0x1F80).
    pub fn initial() -> FxArea {
        let mut a = FxArea([0; 512]);
        a.0[0..2].copy_from_slice(&0x037Fu16.to_le_bytes());
        a.0[24..28].copy_from_slice(&0x1F80u32.to_le_bytes());
        a
    }
}

unsafe extern "C" {
    /// Restores `frame` and `fx` and returns to ring 3; returns when the program traps,
    /// with its registers in `frame`. Defined in assembly below.
    fn enter_user_asm(frame: *mut TrapFrame, fx: *mut FxArea);
    /// The entry stubs of vectors 0..32, then of `int $0x80`, the timer and the
    /// spurious IRQ 7.
    static trap_vectors: [u32; 35];
}

/// Runs the program whose registers are `frame` until its next trap.
///
/// The caller has loaded the program's page directory and its `%gs` descriptor; `frame`
/// holds user selectors (`cs` 0x1b, data 0x23, `gs` 0x33) and an `eflags` with `IF` set
/// and `IOPL` 0, so the program runs in ring 3 with no port, and the timer interrupts it.
pub fn enter_user(frame: &mut TrapFrame, fx: &mut FxArea) {
    let end = frame as *mut TrapFrame as u32 + size_of::<TrapFrame>() as u32;
    gdt::set_kernel_stack(end);
    // SAFETY: `frame` and `fx` are exclusively borrowed for the whole call; the stub
    // writes the trapped registers into exactly `frame` (the TSS's esp0 is its end), saves
    // the x87/SSE state into `fx`, and returns here on the kernel stack it saved, with
    // every callee-saved register restored.
    unsafe { enter_user_asm(frame, fx) }
}

// enter_user_asm(frame, fx):
//   saves the callee-saved registers and the kernel esp, restores the program's x87/SSE
//   state, points esp at the frame, pops the segment and general registers, skips the
//   vector and error code and irets to ring 3.
// trap_N: pushes a zero error code when the CPU pushes none, then the vector.
// trap_common: clears the direction flag a program may have set (Rust code assumes it
//   clear), then from ring 3 pushes the general and segment registers into the frame,
//   saves the x87/SSE state and resets it for the kernel, reloads the kernel's data
//   segments and returns from enter_user_asm. A trap from ring 0 is a kernel bug:
//   kernel_trap (Rust) reports it.
global_asm!(
    r#"
    .section .bss.trap, "aw", @nobits
    .p2align 2
kernel_saved_esp:
    .skip 4
user_fx_area:
    .skip 4

    .section .rodata.trap, "a"
    .p2align 2
kernel_mxcsr:
    .long 0x1F80

    .section .text.trap, "ax"
    .global enter_user_asm
enter_user_asm:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov %esp, kernel_saved_esp
    mov 24(%esp), %eax
    mov %eax, user_fx_area
    fxrstor (%eax)
    mov 20(%esp), %esp
    pop %gs
    pop %fs
    pop %es
    pop %ds
    popal
    add $8, %esp
    iret

    .macro TRAP_NOERR n
trap_\n:
    pushl $0
    pushl $\n
    jmp trap_common
    .endm

    .macro TRAP_ERR n
trap_\n:
    pushl $\n
    jmp trap_common
    .endm

    TRAP_NOERR 0
    TRAP_NOERR 1
    TRAP_NOERR 2
    TRAP_NOERR 3
    TRAP_NOERR 4
    TRAP_NOERR 5
    TRAP_NOERR 6
    TRAP_NOERR 7
    TRAP_ERR 8
    TRAP_NOERR 9
    TRAP_ERR 10
    TRAP_ERR 11
    TRAP_ERR 12
    TRAP_ERR 13
    TRAP_ERR 14
    TRAP_NOERR 15
    TRAP_NOERR 16
    TRAP_ERR 17
    TRAP_NOERR 18
    TRAP_NOERR 19
    TRAP_NOERR 20
    TRAP_ERR 21
    TRAP_NOERR 22
    TRAP_NOERR 23
    TRAP_NOERR 24
    TRAP_NOERR 25
    TRAP_NOERR 26
    TRAP_NOERR 27
    TRAP_NOERR 28
    TRAP_ERR 29
    TRAP_ERR 30
    TRAP_NOERR 31
    TRAP_NOERR 128
    TRAP_NOERR 32
    TRAP_NOERR 39

trap_common:
    cld
    pushal
    push %ds
    push %es
    push %fs
    push %gs
    testl $3, 60(%esp)
    jz 1f
    mov user_fx_area, %eax
    fxsave (%eax)
    fninit
    ldmxcsr kernel_mxcsr
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov kernel_saved_esp, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret
1:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    push %esp
    call kernel_trap
    ud2

    .section .rodata.trap, "a"
    .p2align 2
    .global trap_vectors
trap_vectors:
    .long trap_0, trap_1, trap_2, trap_3, trap_4, trap_5, trap_6, trap_7
    .long trap_8, trap_9, trap_10, trap_11, trap_12, trap_13, trap_14, trap_15
    .long trap_16, trap_17, trap_18, trap_19, trap_20, trap_21, trap_22, trap_23
    .long trap_24, trap_25, trap_26, trap_27, trap_28, trap_29, trap_30, trap_31
    .long trap_128, trap_32, trap_39
"#,
    options(att_syntax)
);

/// A trap in ring 0: a kernel bug. The frame ends at `eflags` (no stack switch).
#[unsafe(no_mangle)]
extern "C" fn kernel_trap(frame: &TrapFrame) -> ! {
    panic!(
        "{} in the kernel at eip {:#010x} (error {:#x}, cr2 {:#010x})",
        exception_name(frame.vector),
        frame.eip,
        frame.error,
        crate::cpu::cr2()
    );
}

/// The CPU's name for exception `vector`.
pub fn exception_name(vector: u32) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug exception",
        2 => "NMI",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point error",
        _ => "reserved exception",
    }
}

/// An interrupt gate to `handler` in the kernel's code segment, callable by `int n` from
/// privilege level `dpl`.
fn gate(handler: u32, dpl: u8) -> u64 {
    let access: u64 = 0x8E | (u64::from(dpl) << 5); // present, 32-bit interrupt gate
    (u64::from(handler) & 0xFFFF)
        | (u64::from(KERNEL_CODE) << 16)
        | (access << 40)
        | ((u64::from(handler) >> 16) << 48)
}

static IDT: Mutex<[u64; 256]> = Mutex::new([0; 256]);

/// Builds and loads the IDT: the 32 exceptions, the timer and the spurious IRQ 7 (ring 0
/// only) and `int $0x80` (ring 3).
pub fn init_idt() {
    let mut idt = IDT.lock();
    // SAFETY: `trap_vectors` is a constant table of 33 addresses defined above.
    let stubs = unsafe { &*core::ptr::addr_of!(trap_vectors) };
    for (v, &stub) in stubs[..32].iter().enumerate() {
        idt[v] = gate(stub, 0);
    }
    idt[SYSCALL_VECTOR as usize] = gate(stubs[32], 3);
    idt[TIMER_VECTOR as usize] = gate(stubs[33], 0);
    idt[SPURIOUS_VECTOR as usize] = gate(stubs[34], 0);
    let pointer = TablePointer {
        limit: (size_of::<[u64; 256]>() - 1) as u16,
        base: idt.as_ptr() as u32,
    };
    // SAFETY: the table lives in a static; every present gate points at a stub above.
    unsafe { core::arch::asm!("lidt [{}]", in(reg) &pointer, options(nostack)) };
}
