//! The reference image format: static ELF32 i386 CloudABI executables.
//!
//! Accepted: ELF32, little-endian, `EM_386`, `EI_OSABI` =
//! `ELFOSABI_CLOUDABI` (17), no `PT_INTERP`; `ET_EXEC` at its linked addresses or
//! `ET_DYN` at a base the kernel chooses (reported as `AT_BASE`). The headers are read
//! field by field at their fixed ELF32 offsets, every size bounded, so a hostile image
//! cannot make the parser allocate, loop without limit or read past what it checked.
//!
//! # References
//! - System V ABI (ELF header, program header), Intel386 supplement; FreeBSD
//!   `sys/kern/imgact_elf.c`.
//! - FreeBSD `sys/compat/cloudabi32/cloudabi32_module.c` (the CloudABI brand).

use alloc::vec::Vec;

use arrayvec::ArrayVec;

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
/// Program headers read per call to the file.
const PHDR_CHUNK: usize = 8;
/// Bytes of the first read: the ELF header and, in the usual layout (program headers
/// right after it), the first [`PHDR_CHUNK`] program headers.
const HEAD_SIZE: usize = EHDR32_SIZE + PHDR_CHUNK * PHDR32_SIZE;

// ELF constants (System V ABI).
const ELFMAG: [u8; 4] = *b"\x7fELF";
const ELFCLASS32: u8 = 1;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_386: u16 = 3;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;

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

#[inline]
fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_le_bytes([x, y]),
        _ => 0,
    }
}

#[inline]
fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[w, x, y, z]) => u32::from_le_bytes([w, x, y, z]),
        _ => 0,
    }
}

/// Reads the ELF header and as many bytes after it as one read of `buf` returns;
/// returns how many bytes of `buf` hold the file's (at least the header's 52).
/// `ENOEXEC` if the file is shorter than a header.
fn read_head<F: ImageFile + ?Sized>(file: &F, buf: &mut [u8; HEAD_SIZE]) -> Result<usize, Errno> {
    let got = file.read_at(0, buf)?.min(HEAD_SIZE);
    if got < EHDR32_SIZE {
        // The end of the file (or a short read: the rest of the header, exactly).
        read_exact_at(file, got as u64, &mut buf[got..EHDR32_SIZE])?;
        return Ok(EHDR32_SIZE);
    }
    Ok(got)
}

impl ElfImage {
    /// Reads and checks the headers of `file`. `ENOEXEC` for anything that is not a
    /// static i386 CloudABI image, and for a segment below [`MIN_LOAD_ADDR`]; `dyn_base`
    /// is where an `ET_DYN` image is placed.
    ///
    /// Reads the ELF header and, in the same read, the first program headers when they
    /// follow it (the usual layout); the others in reads of a few headers each; then the
    /// last byte of each `PT_LOAD` segment's file range that the first read did not
    /// cover (a truncated image is `ENOEXEC`). At most 52 + 64 * 32 bytes of headers, in
    /// stack buffers; allocates nothing. A file held in memory ([`ImageFile::bytes`]) is
    /// parsed in place, without a read.
    ///
    /// # References
    /// - System V ABI, "ELF Header" and "Program Header"; FreeBSD
    ///   `sys/kern/imgact_elf.c` `__elfN(check_header)`, `__elfN(load_file)`.
    pub fn parse<F: ImageFile + ?Sized>(file: &F, dyn_base: u32) -> Result<ElfImage, Errno> {
        let mut image = ElfImage::EMPTY;
        image.parse_into(file, dyn_base)?;
        Ok(image)
    }

    /// No image: no segment, every field 0 (what [`parse_into`](Self::parse_into)
    /// starts from).
    pub(crate) const EMPTY: ElfImage = ElfImage {
        entry: 0,
        phdr: 0,
        phnum: 0,
        base: 0,
        segments: ArrayVec::new_const(),
    };

    /// [`parse`](Self::parse) into `self`, which must be [`EMPTY`](Self::EMPTY): the
    /// image is built where it will stay (an activator's prepared image), not moved
    /// there. On error `self` holds a partial image, to be dropped.
    // Inlined into the activator, so that nothing of the image is moved.
    #[inline(always)]
    pub(crate) fn parse_into<F: ImageFile + ?Sized>(
        &mut self,
        file: &F,
        dyn_base: u32,
    ) -> Result<(), Errno> {
        self.segments.clear();
        // The headers: in the file's memory, or from one read into a stack buffer.
        let mut buf;
        let head: &[u8] = match file.bytes() {
            Some(bytes) => bytes,
            None => {
                buf = [0u8; HEAD_SIZE];
                let got = read_head(file, &mut buf)?;
                &buf[..got]
            }
        };
        let got = head.len();
        if got < EHDR32_SIZE
            || head[..4] != ELFMAG
            || head[4] != ELFCLASS32
            || head[5] != ELFDATA2LSB
            || head[6] != EV_CURRENT
            || head[7] != ELFOSABI_CLOUDABI
        {
            return Err(Errno::ENOEXEC);
        }
        let e_type = u16_at(head, 16);
        let e_machine = u16_at(head, 18);
        let e_entry = u32_at(head, 24);
        let e_phoff = u64::from(u32_at(head, 28));
        let e_phentsize = u16_at(head, 42);
        let phnum = usize::from(u16_at(head, 44));
        if e_machine != EM_386 || usize::from(e_phentsize) != PHDR32_SIZE {
            return Err(Errno::ENOEXEC);
        }
        let base = match e_type {
            ET_EXEC => 0,
            ET_DYN => dyn_base,
            _ => return Err(Errno::ENOEXEC),
        };
        if phnum == 0 || phnum > MAX_PHNUM {
            return Err(Errno::ENOEXEC);
        }
        let reloc = |a: u32| a.checked_add(base).ok_or(Errno::ENOEXEC);
        let entry = reloc(e_entry)?;
        let segments = &mut self.segments;
        let mut phdr_addr = None;
        let mut i = 0;
        while i < phnum {
            let n = (phnum - i).min(PHDR_CHUNK) * PHDR32_SIZE;
            let off = e_phoff + (i * PHDR32_SIZE) as u64;
            // From the first read when it holds them, else read now.
            let mut chunk;
            let bytes: &[u8] = match usize::try_from(off) {
                Ok(o) if o.checked_add(n).is_some_and(|end| end <= got) => &head[o..o + n],
                _ => {
                    chunk = [0u8; PHDR_CHUNK * PHDR32_SIZE];
                    read_exact_at(file, off, &mut chunk[..n])?;
                    &chunk[..n]
                }
            };
            for ph in bytes.chunks_exact(PHDR32_SIZE) {
                match u32_at(ph, 0) {
                    PT_INTERP => return Err(Errno::ENOEXEC),
                    PT_PHDR => phdr_addr = Some(reloc(u32_at(ph, 8))?),
                    PT_LOAD => {
                        let seg = LoadSegment {
                            vaddr: reloc(u32_at(ph, 8))?,
                            memsz: u32_at(ph, 20),
                            filesz: u32_at(ph, 16),
                            offset: u32_at(ph, 4),
                            prot: Protection::from_bits_truncate(u32_at(ph, 24)),
                        };
                        if seg.filesz > seg.memsz || seg.memsz == 0 {
                            return Err(Errno::ENOEXEC);
                        }
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
                            if last >= got as u64 {
                                read_exact_at(file, last, &mut [0u8; 1])?;
                            }
                        }
                        segments.try_push(seg).map_err(|_| Errno::ENOEXEC)?;
                    }
                    _ => {}
                }
            }
            i += PHDR_CHUNK;
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
                    u64::from(s.offset) <= e_phoff
                        && e_phoff + (phnum * PHDR32_SIZE) as u64
                            <= u64::from(s.offset) + u64::from(s.filesz)
                })
                .and_then(|s| {
                    let off = u32::try_from(e_phoff - u64::from(s.offset)).ok()?;
                    s.vaddr.checked_add(off)
                })
                .unwrap_or(0),
        };
        self.entry = entry;
        self.phdr = phdr;
        self.phnum = phnum as u32;
        self.base = base;
        Ok(())
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
    ///
    /// A file held in memory ([`ImageFile::bytes`]) is neither read nor copied: the
    /// contents then only say that [`load`](Self::load) copies from the file's bytes.
    pub fn read_segments<F: ImageFile + ?Sized>(&self, file: &F) -> Result<SegmentContents, Errno> {
        if let Some(bytes) = file.bytes() {
            // `parse` checked that the file holds every segment's bytes.
            let end = self
                .segments
                .iter()
                .map(|s| u64::from(s.offset) + u64::from(s.filesz))
                .max()
                .unwrap_or(0);
            if end > bytes.len() as u64 {
                return Err(Errno::ENOEXEC);
            }
            return Ok(SegmentContents::IN_FILE);
        }
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
        Ok(SegmentContents {
            bytes,
            in_file: false,
        })
    }

    /// Maps the segments into `mem`, a 32-bit address space, and copies their bytes in
    /// from `contents` (made by [`read_segments`](Self::read_segments) for this image
    /// and `file`), or from `file`'s own bytes when `contents` say they stay there: after
    /// the point of no return, with the address space reset by the caller. Reads nothing
    /// through [`ImageFile::read_at`] and allocates nothing; what can fail here is the
    /// kernel's mapping (`ENOMEM`) or a copy-out (`EFAULT`). `contents` of another image
    /// is `EINVAL`; a file whose [`ImageFile::bytes`] no longer holds the segments (a
    /// kernel breaking that method's contract) is `EIO`.
    ///
    /// Segments may share a page (the end of one and the start of the next): each is
    /// mapped with [`AddressSpace::map_region`], which keeps the bytes already in a page
    /// it maps again, and protected with [`AddressSpace::protect_region`], which gives a
    /// shared page the union of the protections asked for it.
    pub fn load<F, M>(&self, contents: &SegmentContents, file: &F, mem: &mut M) -> Result<(), Errno>
    where
        F: ImageFile + ?Sized,
        M: AddressSpace + ?Sized,
        <M as UserMemory>::Abi: ExecAbi<Addr = u32>,
    {
        let in_file = if contents.in_file {
            Some(file.bytes().ok_or(Errno::EIO)?)
        } else {
            if contents.bytes.len() as u64 != self.file_bytes() {
                return Err(Errno::EINVAL);
            }
            None
        };
        let mut at = 0usize;
        for s in &self.segments {
            mem.map_region(s.vaddr, s.memsz, s.prot)?;
            let n = s.filesz as usize;
            let src = match in_file {
                Some(bytes) => {
                    let off = s.offset as usize;
                    bytes.get(off..off + n).ok_or(Errno::EIO)?
                }
                None => contents.bytes.get(at..at + n).ok_or(Errno::EINVAL)?,
            };
            copyout(mem, s.vaddr, src)?;
            at += n;
            mem.protect_region(s.vaddr, s.memsz, s.prot)?;
        }
        Ok(())
    }
}

/// The file bytes of an [`ElfImage`]'s segments, read before the point of no return
/// ([`ElfImage::read_segments`]) and copied into the new address space after it
/// ([`ElfImage::load`]); or, for a file held in memory ([`ImageFile::bytes`]), the
/// note that they are copied from the file itself.
#[derive(Clone, PartialEq, Eq)]
pub struct SegmentContents {
    bytes: Vec<u8>,
    /// The bytes stay in the file's memory.
    in_file: bool,
}

impl SegmentContents {
    /// No bytes (what an activator's prepared image starts from).
    // The i386 activator is its user.
    #[cfg_attr(not(feature = "abi-i386"), allow(dead_code))]
    pub(crate) const EMPTY: SegmentContents = SegmentContents {
        bytes: Vec::new(),
        in_file: false,
    };

    /// The bytes stay in the file's memory.
    const IN_FILE: SegmentContents = SegmentContents {
        bytes: Vec::new(),
        in_file: true,
    };

    /// Bytes held in kernel memory: the sum of the segments' `filesz`, or 0 when they
    /// stay in the file's memory.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether no byte is held in kernel memory (all `.bss`, or the bytes stay in the
    /// file's memory).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether the bytes stay in the file's memory ([`ImageFile::bytes`]): loading
    /// copies them from there.
    pub fn in_file(&self) -> bool {
        self.in_file
    }
}

impl core::fmt::Debug for SegmentContents {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SegmentContents")
            .field("len", &self.bytes.len())
            .field("in_file", &self.in_file)
            .finish()
    }
}
