//! What to map for a program: loadable segments and an entry point, with a
//! minimal reader for static ELF32/i386 executables.

use std::fmt;

/// Page protections of a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prot {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Prot {
    /// The Linux `PROT_*` bits.
    pub(crate) fn linux_bits(self) -> u32 {
        u32::from(self.read) | u32::from(self.write) << 1 | u32::from(self.exec) << 2
    }

    /// The union of two protections (for a page two segments share).
    pub(crate) fn union(self, other: Prot) -> Prot {
        Prot {
            read: self.read || other.read,
            write: self.write || other.write,
            exec: self.exec || other.exec,
        }
    }
}

/// One loadable segment: `data` goes at `vaddr`, the rest up to `mem_size`
/// is zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// First address of the segment.
    pub vaddr: u32,
    /// Size in memory; at least `data.len()`.
    pub mem_size: u32,
    /// The initialised bytes (ELF `p_filesz` bytes from `p_offset`).
    pub data: Vec<u8>,
    /// Protections once loaded.
    pub prot: Prot,
}

/// A program image ready to be mapped at fixed addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageLayout {
    /// Address of the first instruction (`e_entry`).
    pub entry: u32,
    /// The `PT_LOAD` segments in file order.
    pub segments: Vec<Segment>,
}

/// Why bytes are not a loadable ELF32/i386 executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Shorter than a header or a table it announces.
    Truncated,
    /// No `\x7fELF` magic.
    NotElf,
    /// Not 32-bit little-endian `EM_386`.
    NotI386,
    /// Not an `ET_EXEC` executable, or a program header size other than 32.
    NotExecutable,
    /// A segment's sizes or addresses do not add up.
    BadSegment,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageError::Truncated => "truncated ELF file",
            ImageError::NotElf => "not an ELF file",
            ImageError::NotI386 => "not a 32-bit little-endian i386 ELF file",
            ImageError::NotExecutable => "not a static ELF executable",
            ImageError::BadSegment => "malformed loadable segment",
        })
    }
}

impl std::error::Error for ImageError {}

fn u16_at(b: &[u8], off: usize) -> Result<u16, ImageError> {
    let s = b.get(off..off + 2).ok_or(ImageError::Truncated)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Result<u32, ImageError> {
    let s = b.get(off..off + 4).ok_or(ImageError::Truncated)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl ImageLayout {
    /// Reads the entry point and `PT_LOAD` segments of a static ELF32/i386
    /// executable. The OS/ABI byte is not checked here: deciding which
    /// images may run is the activator's job, not the mapper's.
    pub fn from_elf(bytes: &[u8]) -> Result<ImageLayout, ImageError> {
        const PT_LOAD: u32 = 1;
        if bytes.len() < 52 {
            return Err(ImageError::Truncated);
        }
        if bytes[..4] != *b"\x7fELF" {
            return Err(ImageError::NotElf);
        }
        if bytes[4] != 1 || bytes[5] != 1 || u16_at(bytes, 18)? != 3 {
            return Err(ImageError::NotI386);
        }
        if u16_at(bytes, 16)? != 2 || u16_at(bytes, 42)? != 32 {
            return Err(ImageError::NotExecutable);
        }
        let entry = u32_at(bytes, 24)?;
        let phoff = u32_at(bytes, 28)? as usize;
        let phnum = usize::from(u16_at(bytes, 44)?);
        let mut segments = Vec::new();
        for i in 0..phnum {
            let ph = phoff.checked_add(i * 32).ok_or(ImageError::Truncated)?;
            if u32_at(bytes, ph)? != PT_LOAD {
                continue;
            }
            let offset = u32_at(bytes, ph + 4)? as usize;
            let vaddr = u32_at(bytes, ph + 8)?;
            let filesz = u32_at(bytes, ph + 16)?;
            let memsz = u32_at(bytes, ph + 20)?;
            let flags = u32_at(bytes, ph + 24)?;
            if filesz > memsz || vaddr.checked_add(memsz).is_none() {
                return Err(ImageError::BadSegment);
            }
            let data = offset
                .checked_add(filesz as usize)
                .and_then(|end| bytes.get(offset..end))
                .ok_or(ImageError::Truncated)?;
            segments.push(Segment {
                vaddr,
                mem_size: memsz,
                data: data.to_vec(),
                prot: Prot {
                    read: flags & 4 != 0,
                    write: flags & 2 != 0,
                    exec: flags & 1 != 0,
                },
            });
        }
        Ok(ImageLayout { entry, segments })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with one program header slot, for the checks below.
    fn minimal(load: [u32; 8]) -> Vec<u8> {
        let mut b = vec![0u8; 52 + 32 + 8];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 1;
        b[5] = 1;
        b[16..18].copy_from_slice(&2u16.to_le_bytes());
        b[18..20].copy_from_slice(&3u16.to_le_bytes());
        b[24..28].copy_from_slice(&0x0804_8000u32.to_le_bytes());
        b[28..32].copy_from_slice(&52u32.to_le_bytes());
        b[42..44].copy_from_slice(&32u16.to_le_bytes());
        b[44..46].copy_from_slice(&1u16.to_le_bytes());
        for (i, w) in load.iter().enumerate() {
            b[52 + 4 * i..56 + 4 * i].copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    #[test]
    fn reads_one_segment() {
        let b = minimal([1, 84, 0x0804_8000, 0, 8, 0x2000, 5, 0x1000]);
        let img = ImageLayout::from_elf(&b).unwrap();
        assert_eq!(img.entry, 0x0804_8000);
        assert_eq!(img.segments.len(), 1);
        let s = &img.segments[0];
        assert_eq!(
            (s.vaddr, s.mem_size, s.data.len()),
            (0x0804_8000, 0x2000, 8)
        );
        assert_eq!(
            s.prot,
            Prot {
                read: true,
                write: false,
                exec: true
            }
        );
        assert_eq!(s.prot.linux_bits(), 5);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(ImageLayout::from_elf(b"short"), Err(ImageError::Truncated));
        let mut b = minimal([1, 84, 0, 0, 8, 4, 5, 0]);
        assert_eq!(ImageLayout::from_elf(&b), Err(ImageError::BadSegment));
        b = minimal([1, 84, 0, 0, 9, 9, 5, 0]);
        assert_eq!(ImageLayout::from_elf(&b), Err(ImageError::Truncated));
        b = minimal([1, 84, 0xffff_f000, 0, 0, 0x2000, 5, 0]);
        assert_eq!(ImageLayout::from_elf(&b), Err(ImageError::BadSegment));
        b[18] = 62;
        assert_eq!(ImageLayout::from_elf(&b), Err(ImageError::NotI386));
        b[0] = 0;
        assert_eq!(ImageLayout::from_elf(&b), Err(ImageError::NotElf));
    }
}
