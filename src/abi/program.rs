//! The new program's side of the initial stack: what cloudlibc's `crt0` does with the
//! auxiliary vector, for programs that run on a simulated or real i386 address space.

use alloc::vec::Vec;

use super::cloudabi32::{AUXV32_SIZE, AuxType, Cloudabi32};
use crate::Errno;
use crate::exec::{UserMemory, copyin, copyin_u32};

/// Most auxiliary vector entries walked before giving up (`EINVAL`): the vector is
/// untrusted memory and may lack its `AT_NULL`.
pub const MAX_AUXV_ENTRIES: u32 = 256;

/// What `_start` learns from the initial stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StartInfo {
    /// `[esp]`: the TCB pointer.
    pub tcb: u32,
    /// `[esp + 4]`: the auxiliary vector (`_start`'s argument).
    pub auxv: u32,
    /// `AT_ARGDATA`.
    pub argdata: u32,
    /// `AT_ARGDATALEN`.
    pub argdata_len: u32,
    /// `AT_CANARY` and `AT_CANARYLEN`.
    pub canary: (u32, u32),
    /// `AT_PID`: address of the 16-byte UUID.
    pub pid: u32,
    /// `AT_PHDR`, `AT_PHNUM`.
    pub phdr: (u32, u32),
    /// `AT_BASE`.
    pub base: u32,
    /// `AT_PAGESZ`.
    pub page_size: u32,
    /// `AT_NCPUS`.
    pub ncpus: u32,
    /// `AT_TID`.
    pub tid: u32,
    /// `AT_SYSINFO_EHDR`.
    pub sysinfo_ehdr: u32,
}

/// Reads the two `_start` words at `esp` and walks the auxiliary vector to `AT_NULL`.
/// Unknown entry types are skipped, as cloudlibc does; a fault is `EFAULT`, a vector
/// without `AT_NULL` within [`MAX_AUXV_ENTRIES`] is `EINVAL`.
///
/// # References
/// - cloudlibc `src/crt/crt0.c`.
pub fn read_start_info<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
    mem: &M,
    esp: u32,
) -> Result<StartInfo, Errno> {
    let mut info = StartInfo {
        tcb: copyin_u32(mem, esp)?,
        auxv: copyin_u32(mem, esp.checked_add(4).ok_or(Errno::EFAULT)?)?,
        ..StartInfo::default()
    };
    for i in 0..MAX_AUXV_ENTRIES {
        let at = i
            .checked_mul(AUXV32_SIZE as u32)
            .and_then(|o| info.auxv.checked_add(o))
            .ok_or(Errno::EFAULT)?;
        let mut e = [0u8; AUXV32_SIZE];
        copyin(mem, at, &mut e)?;
        let t = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        let v = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
        match AuxType::from_raw(t) {
            Some(AuxType::AT_NULL) => return Ok(info),
            Some(AuxType::AT_ARGDATA) => info.argdata = v,
            Some(AuxType::AT_ARGDATALEN) => info.argdata_len = v,
            Some(AuxType::AT_CANARY) => info.canary.0 = v,
            Some(AuxType::AT_CANARYLEN) => info.canary.1 = v,
            Some(AuxType::AT_PID) => info.pid = v,
            Some(AuxType::AT_PHDR) => info.phdr.0 = v,
            Some(AuxType::AT_PHNUM) => info.phdr.1 = v,
            Some(AuxType::AT_BASE) => info.base = v,
            Some(AuxType::AT_PAGESZ) => info.page_size = v,
            Some(AuxType::AT_NCPUS) => info.ncpus = v,
            Some(AuxType::AT_TID) => info.tid = v,
            Some(AuxType::AT_SYSINFO_EHDR) => info.sysinfo_ehdr = v,
            None => {}
        }
    }
    Err(Errno::EINVAL)
}

/// Copies the argument data (`AT_ARGDATA`, `AT_ARGDATALEN` bytes, without the NUL) out of
/// the program's memory into a fallibly allocated buffer, for the argdata reader.
pub fn read_argdata<M: UserMemory<Abi = Cloudabi32> + ?Sized>(
    mem: &M,
    info: &StartInfo,
) -> Result<Vec<u8>, Errno> {
    let len = usize::try_from(info.argdata_len).map_err(|_| Errno::ENOMEM)?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    buf.resize(len, 0);
    copyin(mem, info.argdata, &mut buf)?;
    Ok(buf)
}
