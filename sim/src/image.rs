//! Executables held in memory.

use capexec::Errno;
use capexec::exec::ImageFile;
use capexec::fdtable::{File, FileType};

/// Copies the bytes of `bytes` at `offset` into `buf`; returns how many were copied
/// (fewer than `buf.len()` only at the end, 0 at or past it). The [`ImageFile::read_at`]
/// of an image held in memory.
pub fn read_slice_at(bytes: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let Ok(off) = usize::try_from(offset) else {
        return 0;
    };
    let src = bytes.get(off..).unwrap_or(&[]);
    let n = src.len().min(buf.len());
    buf[..n].copy_from_slice(&src[..n]);
    n
}

/// A regular file whose contents are held in memory (`Vec<u8>`, `&[u8]`, ...): an
/// executable for [`capexec::exec::ElfImage::parse`] and for a simulated table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemImage<B: AsRef<[u8]>>(pub B);

impl<B: AsRef<[u8]>> File for MemImage<B> {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }
}

impl<B: AsRef<[u8]>> ImageFile for MemImage<B> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(read_slice_at(self.0.as_ref(), offset, buf))
    }

    /// The bytes are in memory: the activator parses and loads them in place.
    fn bytes(&self) -> Option<&[u8]> {
        Some(self.0.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end() {
        let img = MemImage(vec![1u8, 2, 3, 4, 5]);
        let mut b = [0u8; 4];
        assert_eq!(img.read_at(3, &mut b), Ok(2));
        assert_eq!(&b[..2], &[4, 5]);
        assert_eq!(img.read_at(5, &mut b), Ok(0));
        assert_eq!(img.read_at(u64::MAX, &mut b), Ok(0));
        assert_eq!(img.read_at(0, &mut b), Ok(4));
        assert_eq!(b, [1, 2, 3, 4]);
        assert_eq!(img.file_type(), FileType::RegularFile);
    }
}
