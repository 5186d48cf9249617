//! The reference image format: static ELF32 i386 CloudABI executables.
//!
//! Accepted: ELF32, little-endian, `EM_386`, `EI_OSABI` =
//! `ELFOSABI_CLOUDABI` (17), no `PT_INTERP`; `ET_EXEC` at its linked addresses or
//! `ET_DYN` at a base the kernel chooses (reported as `AT_BASE`). Headers are parsed with
//! the `elf` crate; capexec adds the CloudABI checks and bounds every size so a hostile
//! image cannot make it allocate or loop without limit.
//!
//! # References
//! - System V ABI, Intel386 supplement; FreeBSD `sys/kern/imgact_elf.c`.
//! - FreeBSD `sys/compat/cloudabi32/cloudabi32_module.c` (the CloudABI brand).

use alloc::vec::Vec;

use arrayvec::ArrayVec;
use elf::abi::{EM_386, ET_DYN, ET_EXEC, PT_INTERP, PT_LOAD, PT_PHDR};
use elf::endian::LittleEndian;
use elf::file::{Class, FileHeader, parse_ident};
use elf::segment::SegmentTable;

use super::exec_abi::ExecAbi;
use super::image::{AddressSpace, ImageFile, Protection, read_exact_at};
use super::usermem::{UserMemory, copyout};
use crate::Errno;

/// `EI_OSABI` value of CloudABI executables.
pub const ELFOSABI_CLOUDABI: u8 = 17;
/// Most program headers accepted.
pub const MAX_PHNUM: usize = 64;
/// Most `PT_LOAD` segments accepted.
pub const MAX_LOAD_SEGMENTS: usize = 16;
/// Lowest address a `PT_LOAD` segment may cover: the first page is never mapped, so a
/// null pointer always faults, even in a kernel that would map it on request.
///
/// # References
/// - FreeBSD `security.bsd.map_at_zero` (off by default); Linux `vm.mmap_min_addr`.
pub const MIN_LOAD_ADDR: u32 = 0x1000;

const EHDR32_SIZE: usize = 52;
const PHDR32_SIZE: usize = 32;
/// Zeros to start the program-header buffer from.
static ZEROS: [u8; MAX_PHNUM * PHDR32_SIZE] = [0; MAX_PHNUM * PHDR32_SIZE];

/// One `PT_LOAD` segment, relocated by the load base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSegment {
    /// Address of the first byte in memory.
    pub vaddr: u32,
    /// Bytes in memory (the part past `filesz` is zero: `.bss`).
    pub memsz: u32,
    /// Bytes taken from the file.
    pub filesz: u32,
    /// Offset of those bytes in the file.
    pub offset: u32,
    /// Final protection.
    pub prot: Protection,
}

/// A checked CloudABI ELF32 image: what loading needs and what the auxiliary vector
/// reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfImage {
    /// Entry point (relocated).
    pub entry: u32,
    /// Address of the program headers in memory (`AT_PHDR`), 0 if not loaded.
    pub phdr: u32,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u32,
    /// Load base (`AT_BASE`): 0 for `ET_EXEC`, the kernel's base for `ET_DYN`.
    pub base: u32,
    /// The `PT_LOAD` segments in file order.
    pub segments: ArrayVec<LoadSegment, MAX_LOAD_SEGMENTS>,
}

fn noexec<T>(_: T) -> Errno {
    Errno::ENOEXEC
}

impl ElfImage {
    /// Reads and checks the headers of `file`. `ENOEXEC` for anything that is not a
    /// static i386 CloudABI image, and for a segment below [`MIN_LOAD_ADDR`]; `dyn_base`
    /// is where an `ET_DYN` image is placed.
    /// Reads at most 52 + 64 * 32 bytes into stack buffers, plus the last byte of each
    /// `PT_LOAD` segment's file range (a truncated image is `ENOEXEC`); allocates nothing.
    pub fn parse<F: ImageFile + ?Sized>(file: &F, dyn_base: u32) -> Result<ElfImage, Errno> {
        let mut ehdr = [0u8; EHDR32_SIZE];
        read_exact_at(file, 0, &mut ehdr)?;
        let ident = parse_ident::<LittleEndian>(&ehdr).map_err(noexec)?;
        if ident.1 != Class::ELF32 || ident.2 != ELFOSABI_CLOUDABI {
            return Err(Errno::ENOEXEC);
        }
        let tail = ehdr.get(elf::abi::EI_NIDENT..).ok_or(Errno::ENOEXEC)?;
        let hdr = FileHeader::parse_tail(ident, tail).map_err(noexec)?;
        if hdr.e_machine != EM_386 || usize::from(hdr.e_phentsize) != PHDR32_SIZE {
            return Err(Errno::ENOEXEC);
        }
        let base = match hdr.e_type {
            ET_EXEC => 0,
            ET_DYN => dyn_base,
            _ => return Err(Errno::ENOEXEC),
        };
        let phnum = usize::from(hdr.e_phnum);
        if phnum == 0 || phnum > MAX_PHNUM {
            return Err(Errno::ENOEXEC);
        }
        // Only the headers there are, not the largest table, are zeroed and read.
        let mut phbuf = ArrayVec::<u8, { MAX_PHNUM * PHDR32_SIZE }>::new();
        phbuf
            .try_extend_from_slice(ZEROS.get(..phnum * PHDR32_SIZE).ok_or(Errno::ENOEXEC)?)
            .map_err(noexec)?;
        let phbytes = phbuf.as_mut_slice();
        read_exact_at(file, hdr.e_phoff, phbytes)?;
        let table = SegmentTable::new(LittleEndian, Class::ELF32, phbytes);

        let reloc = |a: u64| -> Result<u32, Errno> {
            u32::try_from(a)
                .ok()
                .and_then(|a| a.checked_add(base))
                .ok_or(Errno::ENOEXEC)
        };
        let entry = reloc(hdr.e_entry)?;
        let mut segments = ArrayVec::new();
        let mut phdr_addr = None;
        for ph in table.iter() {
            match ph.p_type {
                PT_INTERP => return Err(Errno::ENOEXEC),
                PT_PHDR => phdr_addr = Some(reloc(ph.p_vaddr)?),
                PT_LOAD => {
                    if ph.p_filesz > ph.p_memsz || ph.p_memsz == 0 {
                        return Err(Errno::ENOEXEC);
                    }
                    let seg = LoadSegment {
                        vaddr: reloc(ph.p_vaddr)?,
                        memsz: u32::try_from(ph.p_memsz).map_err(noexec)?,
                        filesz: u32::try_from(ph.p_filesz).map_err(noexec)?,
                        offset: u32::try_from(ph.p_offset).map_err(noexec)?,
                        prot: Protection::from_bits_truncate(ph.p_flags),
                    };
                    // Nothing in the first page (address 0 and its neighbours).
                    if seg.vaddr < MIN_LOAD_ADDR {
                        return Err(Errno::ENOEXEC);
                    }
                    // The segment must fit below 4 GiB, in memory and in the file.
                    seg.vaddr.checked_add(seg.memsz - 1).ok_or(Errno::ENOEXEC)?;
                    seg.offset.checked_add(seg.filesz).ok_or(Errno::ENOEXEC)?;
                    // The file must hold the segment's bytes: a truncated image is
                    // refused here, before the point of no return, not found short
                    // while loading after it.
                    if seg.filesz > 0 {
                        let last = u64::from(seg.offset) + u64::from(seg.filesz) - 1;
                        read_exact_at(file, last, &mut [0u8; 1])?;
                    }
                    segments.try_push(seg).map_err(noexec)?;
                }
                _ => {}
            }
        }
        if segments.is_empty() {
            return Err(Errno::ENOEXEC);
        }
        // Without PT_PHDR, the headers are visible if a segment maps them from the file.
        let phdr = match phdr_addr {
            Some(a) => a,
            None => segments
                .iter()
                .find(|s| {
                    u64::from(s.offset) <= hdr.e_phoff
                        && hdr.e_phoff.saturating_add((phnum * PHDR32_SIZE) as u64)
                            <= u64::from(s.offset) + u64::from(s.filesz)
                })
                .and_then(|s| {
                    let off = u32::try_from(hdr.e_phoff - u64::from(s.offset)).ok()?;
                    s.vaddr.checked_add(off)
                })
                .unwrap_or(0),
        };
        Ok(ElfImage {
            entry,
            phdr,
            phnum: u32::try_from(phnum).map_err(noexec)?,
            base,
            segments,
        })
    }

    /// Bytes the segments take from the file (the sum of their `filesz`).
    pub fn file_bytes(&self) -> u64 {
        self.segments.iter().map(|s| u64::from(s.filesz)).sum()
    }

    /// Checks where the segments would go, before anything is mapped: each segment,
    /// widened to whole pages of `page_size` bytes, must end at or below `user_top` (the
    /// kernel's half starts there) and stay clear of every `reserved` range
    /// `(start, end)` (the new stack). `ENOEXEC` otherwise. Reads and allocates nothing.
    pub fn check_placement(
        &self,
        page_size: u32,
        user_top: u32,
        reserved: &[(u32, u32)],
    ) -> Result<(), Errno> {
        let page = u64::from(page_size.max(1));
        for s in &self.segments {
            let start = u64::from(s.vaddr) / page * page;
            let end = (u64::from(s.vaddr) + u64::from(s.memsz)).div_ceil(page) * page;
            if end > u64::from(user_top) {
                return Err(Errno::ENOEXEC);
            }
            for &(r_start, r_end) in reserved {
                if start < u64::from(r_end) && u64::from(r_start) < end {
                    return Err(Errno::ENOEXEC);
                }
            }
        }
        Ok(())
    }

    /// Reads the file bytes of every segment into one buffer, before the point of no
    /// return, so that loading only copies. One fallible allocation of
    /// [`file_bytes`](Self::file_bytes) bytes (`ENOMEM`); a file shorter than its
    /// headers say is `ENOEXEC`; the file's own errors (`EIO` ...) pass through.
    pub fn read_segments<F: ImageFile + ?Sized>(&self, file: &F) -> Result<SegmentContents, Errno> {
        let total = usize::try_from(self.file_bytes()).map_err(|_| Errno::ENOMEM)?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(total).map_err(|_| Errno::ENOMEM)?;
        bytes.resize(total, 0);
        let mut at = 0usize;
        for s in &self.segments {
            let n = s.filesz as usize;
            let dst = bytes.get_mut(at..at + n).ok_or(Errno::ENOEXEC)?;
            read_exact_at(file, u64::from(s.offset), dst)?;
            at += n;
        }
        Ok(SegmentContents { bytes })
    }

    /// Maps the segments into `mem`, a 32-bit address space, and copies their bytes in from `contents` (read by
    /// [`read_segments`](Self::read_segments) for this image): after the point of no
    /// return, with the address space reset by the caller. Reads nothing from the file
    /// and allocates nothing; what can fail here is the kernel's mapping (`ENOMEM`) or a
    /// copy-out (`EFAULT`). `contents` of another image is `EINVAL`.
    ///
    /// Segments may share a page (the end of one and the start of the next): each is
    /// mapped with [`AddressSpace::map_region`], which keeps the bytes already in a page
    /// it maps again, and protected with [`AddressSpace::protect_region`], which gives a
    /// shared page the union of the protections asked for it.
    pub fn load<M>(&self, contents: &SegmentContents, mem: &mut M) -> Result<(), Errno>
    where
        M: AddressSpace + ?Sized,
        <M as UserMemory>::Abi: ExecAbi<Addr = u32>,
    {
        if contents.bytes.len() as u64 != self.file_bytes() {
            return Err(Errno::EINVAL);
        }
        let mut at = 0usize;
        for s in &self.segments {
            mem.map_region(s.vaddr, s.memsz, s.prot)?;
            let n = s.filesz as usize;
            let src = contents.bytes.get(at..at + n).ok_or(Errno::EINVAL)?;
            copyout(mem, s.vaddr, src)?;
            at += n;
            mem.protect_region(s.vaddr, s.memsz, s.prot)?;
        }
        Ok(())
    }
}

/// The file bytes of an [`ElfImage`]'s segments, read before the point of no return
/// ([`ElfImage::read_segments`]) and copied into the new address space after it
/// ([`ElfImage::load`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SegmentContents {
    bytes: Vec<u8>,
}

impl SegmentContents {
    /// Bytes held: the sum of the segments' `filesz`.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether no segment takes bytes from the file (all `.bss`).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl core::fmt::Debug for SegmentContents {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SegmentContents")
            .field("len", &self.bytes.len())
            .finish()
    }
}
