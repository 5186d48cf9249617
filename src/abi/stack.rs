//! The new image's initial i386 stack (FreeBSD 12 `cloudabi32_copyout_strings` and
//! `cloudabi32_fixup`), built in kernel memory before the point of no return and copied
//! out in one piece after it.
//!
//! With `U` the top of the user stack and `L` = data length + 1 (or 0 when the data is
//! empty):
//!
//! | address | bytes | content |
//! |---|---|---|
//! | `A = round_down_4(U - L)` | `L` | argument data, then NUL (`AT_ARGDATA = A`) |
//! | `A - 64` | 64 | random canary (`AT_CANARY`) |
//! | `A - 80` | 16 | random UUID v4 (`AT_PID`) |
//! | `A - 184` | 104 | auxiliary vector, 13 entries |
//! | `A - 188` | 4 | TCB slot |
//! | `A - 196` = `esp` | 8 | TCB pointer `A - 188`, auxv pointer `A - 184` |
//!
//! The `%gs` base is the initial `esp`, so `%gs:0` reads the TCB pointer.

use alloc::vec::Vec;

use super::cloudabi32::{AUXV32_SIZE, AuxType, CANARY_LEN, Cloudabi32, PAGE_SIZE};
use crate::Errno;
use crate::exec::{UserMemory, copyout};

/// Bytes below the argument data: canary, pid, auxv, TCB slot, the two `_start` words.
pub const STACK_HEADER: u32 = 196;
/// Number of auxiliary vector entries, `AT_NULL` included.
pub const AUXV_ENTRIES: usize = 13;

/// Where randomness comes from: the kernel's generator (tests use a deterministic one).
///
/// One source serves a process's system calls: [`Cloudabi32Activator`](super::Cloudabi32Activator)
/// holds the kernel's generator and is itself the `Entropy` [`syscall32`](super::syscall32)
/// uses for `random_get`, so the kernel lends its generator once.
///
/// # Example
///
/// A kernel generator that is not ready until it has been seeded:
///
/// ```
/// use capexec::Errno;
/// use capexec::abi::Entropy;
///
/// struct KernelRng {
///     state: Option<u64>,
/// }
///
/// impl Entropy for KernelRng {
///     fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
///         // Not seeded yet: the caller gets the error (`random_get` returns it, an
///         // exec fails before its point of no return).
///         let s = self.state.as_mut().ok_or(Errno::EAGAIN)?;
///         for b in buf {
///             *s ^= *s << 13;
///             *s ^= *s >> 7;
///             *s ^= *s << 17;
///             *b = *s as u8;
///         }
///         Ok(())
///     }
/// }
///
/// let mut buf = [0u8; 4];
/// assert_eq!(KernelRng { state: None }.fill(&mut buf), Err(Errno::EAGAIN));
/// assert_eq!(KernelRng { state: Some(7) }.fill(&mut buf), Ok(()));
/// ```
pub trait Entropy {
    /// Fills `buf` with random bytes, or fails with the kernel's errno (for instance a
    /// generator that is not seeded yet); `buf` is then unspecified.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno>;
}

impl<E: Entropy + ?Sized> Entropy for &mut E {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        (**self).fill(buf)
    }
}

/// The auxiliary values the kernel knows and capexec does not (the image's base and
/// program headers, the number of CPUs, the thread id, the vDSO), with defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuxInfo {
    /// `AT_BASE`: the image's load base (0 for `ET_EXEC`).
    pub base: u32,
    /// `AT_PHDR`: address of the program headers.
    pub phdr: u32,
    /// `AT_PHNUM`: number of program headers.
    pub phnum: u32,
    /// `AT_NCPUS` (default 1).
    pub ncpus: u32,
    /// `AT_TID`: thread id of the initial thread (default 1).
    pub tid: u32,
    /// `AT_SYSINFO_EHDR`: the vDSO's address (default 0: none).
    pub sysinfo_ehdr: u32,
    /// `AT_PAGESZ` (default 4096).
    pub page_size: u32,
}

impl Default for AuxInfo {
    fn default() -> AuxInfo {
        AuxInfo {
            base: 0,
            phdr: 0,
            phnum: 0,
            ncpus: 1,
            tid: 1,
            sysinfo_ehdr: 0,
            page_size: PAGE_SIZE,
        }
    }
}

/// The initial stack, laid out in kernel memory: the 196 header bytes below the argument
/// data. The data itself is not copied again: it is copied out straight from the
/// kernel's argument buffer ([`StackImage::copy_out`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackImage {
    /// The lowest address of the image: the initial `esp` and `%gs` base.
    pub esp: u32,
    /// `AT_ARGDATA`.
    pub argdata: u32,
    /// `AT_ARGDATALEN`.
    pub argdata_len: u32,
    /// The bytes from `esp` up to `AT_ARGDATA`: `_start` words, TCB slot, auxv, process
    /// id, canary.
    pub header: [u8; STACK_HEADER as usize],
}

impl StackImage {
    /// Copies the stack out (after the point of no return): the header at `esp`, then
    /// `data_with_nul` (the same bytes given to [`build_initial_stack`]) at `AT_ARGDATA`.
    pub fn copy_out<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
        &self,
        mem: &mut M,
        data_with_nul: &[u8],
    ) -> Result<(), Errno> {
        copyout(mem, self.esp, &self.header)?;
        copyout(mem, self.argdata, data_with_nul)
    }

    /// The whole image as it lands in memory, header then data (for tests and debugging;
    /// allocates fallibly: `ENOMEM`).
    pub fn to_vec(&self, data_with_nul: &[u8]) -> Result<Vec<u8>, Errno> {
        let len = self
            .header
            .len()
            .checked_add(data_with_nul.len())
            .ok_or(Errno::ENOMEM)?;
        let mut v = Vec::new();
        v.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
        v.extend_from_slice(&self.header);
        v.extend_from_slice(data_with_nul);
        Ok(v)
    }
}

/// Lays out the initial stack below `top` for argument data `data_with_nul` (the data
/// and its NUL, or empty), with randomness from `rng` (one call for the canary and the
/// process id, 80 bytes: the canary is the first 64, the process id the last 16; its
/// error is returned). Allocates nothing. A stack top too low for the image is `ENOMEM`.
///
/// # References
/// - FreeBSD 12 `sys/compat/cloudabi32/cloudabi32_module.c`, `sys/i386/cloudabi32`.
/// - cloudlibc `src/crt/crt0.c` (the reader of this layout).
pub fn build_initial_stack(
    top: u32,
    data_with_nul: &[u8],
    aux: &AuxInfo,
    rng: &mut dyn Entropy,
) -> Result<StackImage, Errno> {
    let mut image = StackImage::EMPTY;
    image.build(top, data_with_nul, aux, rng)?;
    Ok(image)
}

impl StackImage {
    /// An empty stack (what [`build`](Self::build) starts from).
    pub(crate) const EMPTY: StackImage = StackImage {
        esp: 0,
        argdata: 0,
        argdata_len: 0,
        header: [0; STACK_HEADER as usize],
    };

    /// [`build_initial_stack`] into `self`: the stack is laid out where it will stay (an
    /// activator's prepared image), not moved there. On error `self` is unspecified.
    // Inlined into the activator, so that nothing of the stack is moved.
    #[inline(always)]
    pub(crate) fn build(
        &mut self,
        top: u32,
        data_with_nul: &[u8],
        aux: &AuxInfo,
        rng: &mut dyn Entropy,
    ) -> Result<(), Errno> {
        const H: usize = STACK_HEADER as usize;
        const CANARY: usize = H - CANARY_LEN as usize;
        const PID: usize = CANARY - 16;
        const AUXV: usize = PID - AUXV_ENTRIES * AUXV32_SIZE;
        let l = u32::try_from(data_with_nul.len()).map_err(|_| Errno::E2BIG)?;
        let a = top.checked_sub(l).ok_or(Errno::ENOMEM)? & !3;
        let esp = a.checked_sub(STACK_HEADER).ok_or(Errno::ENOMEM)?;
        let mut random = [0u8; CANARY_LEN as usize + 16];
        rng.fill(&mut random)?;
        let argdata_len = l.saturating_sub(1);
        // TCB slot at A - 188 stays zero; the two `_start` words at esp.
        let tcb = esp + 8;
        // Words 0..3: the `_start` words and the TCB slot; then the auxiliary vector at
        // A - 184.
        let mut words = [0u32; AUXV / 4 + 2 * AUXV_ENTRIES];
        words[0] = tcb;
        words[1] = tcb + 4;
        let entries: [(AuxType, u32); AUXV_ENTRIES] = [
            (AuxType::AT_ARGDATA, a),
            (AuxType::AT_ARGDATALEN, argdata_len),
            (AuxType::AT_BASE, aux.base),
            (AuxType::AT_CANARY, a - CANARY_LEN),
            (AuxType::AT_CANARYLEN, CANARY_LEN),
            (AuxType::AT_NCPUS, aux.ncpus),
            (AuxType::AT_PAGESZ, aux.page_size),
            (AuxType::AT_PHDR, aux.phdr),
            (AuxType::AT_PHNUM, aux.phnum),
            (AuxType::AT_PID, a - CANARY_LEN - 16),
            (AuxType::AT_SYSINFO_EHDR, aux.sysinfo_ehdr),
            (AuxType::AT_TID, aux.tid),
            (AuxType::AT_NULL, 0),
        ];
        for (pair, (t, v)) in words[AUXV / 4..].chunks_exact_mut(2).zip(entries) {
            pair[0] = t.raw();
            pair[1] = v;
        }
        let bytes = &mut self.header;
        for (dst, w) in bytes[..PID].chunks_exact_mut(4).zip(words) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        // UUID v4 process id at A - 80 (the last 16 random bytes), canary at A - 64 (the
        // first 64).
        bytes[PID..CANARY].copy_from_slice(&random[CANARY_LEN as usize..]);
        bytes[PID + 6] = (bytes[PID + 6] & 0x0f) | 0x40;
        bytes[PID + 8] = (bytes[PID + 8] & 0x3f) | 0x80;
        bytes[CANARY..].copy_from_slice(&random[..CANARY_LEN as usize]);
        self.esp = esp;
        self.argdata = a;
        self.argdata_len = argdata_len;
        Ok(())
    }
}
