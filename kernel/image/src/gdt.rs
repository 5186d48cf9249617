//! The global descriptor table: flat kernel and user segments, the TSS (the kernel stack
//! a trap from ring 3 lands on) and the user's `%gs` segment (CloudABI's TLS base).

use core::arch::asm;
use core::mem::size_of;

use spin::Mutex;

/// Segment selectors (index * 8, plus the requested privilege level for ring 3).
pub const KERNEL_CODE: u16 = 0x08;
/// Kernel data and stack.
pub const KERNEL_DATA: u16 = 0x10;
/// User code, ring 3.
pub const USER_CODE: u16 = 0x18 | 3;
/// User data and stack, ring 3.
pub const USER_DATA: u16 = 0x20 | 3;
/// The task state segment.
const TSS_SELECTOR: u16 = 0x28;
/// The user's `%gs`: a ring-3 data segment whose base is the program's TLS pointer.
pub const USER_TLS: u16 = 0x30 | 3;

const ENTRIES: usize = 7;
const TLS_INDEX: usize = 6;

/// A segment descriptor with a 4 GiB limit in 4 KiB units (or a byte limit when
/// `flags` has no granularity bit), `access` as the CPU manual names it.
const fn descriptor(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    (limit as u64 & 0xFFFF)
        | ((base as u64 & 0xFF_FFFF) << 16)
        | ((access as u64) << 40)
        | (((limit as u64 >> 16) & 0xF) << 48)
        | (((flags as u64) & 0xF) << 52)
        | (((base as u64 >> 24) & 0xFF) << 56)
}

/// Present, ring 0 or 3, code (execute/read) or data (read/write).
const KERNEL_CODE_ACCESS: u8 = 0x9A;
const KERNEL_DATA_ACCESS: u8 = 0x92;
const USER_CODE_ACCESS: u8 = 0xFA;
const USER_DATA_ACCESS: u8 = 0xF2;
/// Present, ring 0, available 32-bit TSS.
const TSS_ACCESS: u8 = 0x89;
/// 4 KiB granularity, 32-bit.
const FLAT: u8 = 0xC;

/// The 32-bit task state segment: only `esp0`/`ss0` (the stack a ring-3 trap switches
/// to) and the I/O bitmap offset (past the end: every port is closed to ring 3) are used.
#[repr(C)]
struct Tss {
    words: [u32; 26],
}

const TSS_ESP0: usize = 1;
const TSS_SS0: usize = 2;
const TSS_IOMAP: usize = 25;

static GDT: Mutex<[u64; ENTRIES]> = Mutex::new([0; ENTRIES]);
static TSS: Mutex<Tss> = Mutex::new(Tss { words: [0; 26] });

/// The operand of `lgdt`/`lidt`: limit, then linear base.
#[repr(C, packed)]
pub struct TablePointer {
    /// Size of the table minus one.
    pub limit: u16,
    /// Its address.
    pub base: u32,
}

/// Builds the GDT and the TSS, loads them and reloads every segment register.
pub fn init() {
    let tss_base = {
        let mut tss = TSS.lock();
        tss.words[TSS_SS0] = u32::from(KERNEL_DATA);
        tss.words[TSS_IOMAP] = (size_of::<Tss>() as u32) << 16;
        &*tss as *const Tss as u32
    };
    let mut gdt = GDT.lock();
    *gdt = [
        0,
        descriptor(0, 0xFFFFF, KERNEL_CODE_ACCESS, FLAT),
        descriptor(0, 0xFFFFF, KERNEL_DATA_ACCESS, FLAT),
        descriptor(0, 0xFFFFF, USER_CODE_ACCESS, FLAT),
        descriptor(0, 0xFFFFF, USER_DATA_ACCESS, FLAT),
        descriptor(tss_base, size_of::<Tss>() as u32 - 1, TSS_ACCESS, 0),
        descriptor(0, 0xFFFFF, USER_DATA_ACCESS, FLAT),
    ];
    let pointer = TablePointer {
        limit: (size_of::<[u64; ENTRIES]>() - 1) as u16,
        base: gdt.as_ptr() as u32,
    };
    // SAFETY: the table lives in a static (its address never changes) and holds flat
    // segments equal to the boot loader's, so reloading CS (far jump) and the data
    // segments keeps every address meaning what it meant; the TSS descriptor points at a
    // static TSS.
    unsafe {
        asm!(
            "lgdt [{ptr}]",
            "push {code}",
            "lea {tmp}, [2f]",
            "push {tmp}",
            "retf",
            "2:",
            "mov ds, {data:x}",
            "mov es, {data:x}",
            "mov fs, {data:x}",
            "mov gs, {data:x}",
            "mov ss, {data:x}",
            "ltr {tss:x}",
            ptr = in(reg) &pointer,
            code = const KERNEL_CODE as u32,
            tmp = out(reg) _,
            data = in(reg) u32::from(KERNEL_DATA),
            tss = in(reg) u32::from(TSS_SELECTOR),
        );
    }
}

/// Sets the stack a trap from ring 3 switches to (the end of the running program's trap
/// frame, see `trap.rs`).
pub fn set_kernel_stack(esp0: u32) {
    TSS.lock().words[TSS_ESP0] = esp0;
}

/// Points the user's `%gs` segment at `base`: a program reads `%gs:0` (its TCB pointer)
/// and, through the 4 GiB limit's wrap-around, negative offsets below it.
pub fn set_user_tls(base: u32) {
    GDT.lock()[TLS_INDEX] = descriptor(base, 0xFFFFF, USER_DATA_ACCESS, FLAT);
}
