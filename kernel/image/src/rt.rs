//! What the prebuilt `core` and `alloc` expect from a freestanding i386 binary: the C
//! memory functions, `rust_eh_personality`, and a panic handler.

use core::arch::asm;
use core::panic::PanicInfo;

use crate::qemu::{Verdict, exit};

/// `memcpy`: `rep movsb` (no Rust loop here: the compiler may turn one into a `memcpy`
/// call, that is, into itself).
///
/// # Safety
/// The C contract: `n` readable bytes at `src`, `n` writable bytes at `dst`, no overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's C contract; `rep movsb` copies exactly `n` bytes forward
    // (the direction flag is clear in Rust code).
    unsafe {
        // LLVM reserves `esi` on i686: borrow it with `xchg` and give it back.
        asm!("xchg esi, {src}", "rep movsb", "xchg esi, {src}",
             src = inout(reg) src => _, inout("ecx") n => _, inout("edi") dst => _,
             options(nostack, preserves_flags));
    }
    dst
}

/// `memmove`: forward when `dst` is below `src`, backward (`std; rep movsb`) otherwise.
///
/// # Safety
/// The C contract: `n` readable bytes at `src`, `n` writable bytes at `dst`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) || n == 0 {
        // SAFETY: a forward copy never overwrites a byte before it is read when
        // `dst <= src`.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: copying backward from the last byte never overwrites a byte before it is
    // read when `dst > src`; the direction flag is cleared again before returning.
    unsafe {
        asm!("xchg esi, {src}", "std", "rep movsb", "cld", "xchg esi, {src}",
             src = inout(reg) src.add(n - 1) => _, inout("ecx") n => _,
             inout("edi") dst.add(n - 1) => _, options(nostack));
    }
    dst
}

/// `memset`: `rep stosb`.
///
/// # Safety
/// The C contract: `n` writable bytes at `dst`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dst: *mut u8, value: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's C contract; `rep stosb` writes exactly `n` bytes forward.
    unsafe {
        asm!("rep stosb", inout("ecx") n => _, inout("edi") dst => _, in("al") value as u8,
             options(nostack, preserves_flags));
    }
    dst
}

/// `memcmp`: the difference of the first differing bytes, 0 if none.
///
/// # Safety
/// The C contract: `n` readable bytes at `a` and at `b`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n`, inside both buffers by the caller's contract.
        let (x, y) = unsafe { (a.add(i).read(), b.add(i).read()) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// `bcmp`: zero when equal (LLVM emits it for equality-only comparisons).
///
/// # Safety
/// As for [`memcmp`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the same contract as `memcmp`.
    unsafe { memcmp(a, b, n) }
}

/// `alloc` refers to the unwinder's personality routine even with `panic = "abort"`;
/// nothing unwinds here, so it is never called.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// The prebuilt `alloc` was compiled with unwinding, so its landing pads (in
/// `format!`) refer to `_Unwind_Resume`. With `panic = "abort"` nothing unwinds and
/// no landing pad runs: this is never called.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    exit(Verdict::Fail)
}

/// A kernel panic: a bug in the kernel (user input never panics it). Reports it on the
/// serial console and ends QEMU with a failure.
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    crate::serial::emergency_print(format_args!("kernel panic: {info}\n"));
    exit(Verdict::Fail)
}
