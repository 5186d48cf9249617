//! The kernel's open files: the serial console and the read-only in-memory file system
//! that holds the programs.

use alloc::borrow::Cow;

use capexec::Errno;
use capexec::exec::ImageFile;
use capexec::fdtable::{File, FileIo, FileStat, FileType};

use crate::serial;

mod files {
    include!(concat!(env!("OUT_DIR"), "/files.rs"));
}

/// The device number `fstat` reports for the in-memory file system.
const RAMFS_DEVICE: u64 = 1;

/// An open file of this kernel. The descriptor tables hold `Arc<Vnode>`.
pub enum Vnode {
    /// COM1, a character device.
    Console,
    /// A file of the in-memory file system.
    Ram(RamFile),
}

/// A read-only file in memory: one of the programs embedded at build time (or a copy
/// the kernel altered, for the fault demonstration).
pub struct RamFile {
    /// Its inode number: its place in the file system, from 1 (0 for an altered copy).
    pub ino: u64,
    /// Its contents.
    pub bytes: Cow<'static, [u8]>,
}

impl RamFile {
    /// The embedded file `name`.
    pub fn open(name: &str) -> Option<RamFile> {
        files::FILES
            .iter()
            .zip(1..)
            .find(|((n, _), _)| *n == name)
            .map(|(&(_, bytes), ino)| RamFile {
                ino,
                bytes: Cow::Borrowed(bytes),
            })
    }
}

impl File for Vnode {
    fn file_type(&self) -> FileType {
        match self {
            Vnode::Console => FileType::CharacterDevice,
            Vnode::Ram(_) => FileType::RegularFile,
        }
    }

    /// The in-memory files are regular files with a size, an inode number (their place
    /// in the file system, from 1) and one link; the console keeps the default (a
    /// character device and nothing else).
    fn stat(&self) -> Result<FileStat, Errno> {
        let mut st = FileStat::of_type(self.file_type());
        if let Vnode::Ram(file) = self {
            st.dev = RAMFS_DEVICE;
            st.ino = file.ino;
            st.nlink = 1;
            st.size = file.bytes.len() as u64;
        }
        Ok(st)
    }

    /// The console reads and writes; the in-memory files are only executed.
    fn io(&self) -> Option<&dyn FileIo> {
        match self {
            Vnode::Console => Some(self),
            Vnode::Ram(_) => None,
        }
    }
}

impl FileIo for Vnode {
    /// The bytes the UART has received (none waiting: 0, the kernel has no blocking).
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut n = 0;
        serial::with_port(|port| {
            while let Some(slot) = buf.get_mut(n) {
                match port.try_receive() {
                    Some(b) => *slot = b,
                    None => break,
                }
                n += 1;
            }
        });
        Ok(n)
    }

    /// Sends every byte to the UART.
    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        serial::with_port(|port| data.iter().for_each(|&b| port.send(b)));
        Ok(data.len())
    }
}

impl ImageFile for Vnode {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let Vnode::Ram(file) = self else {
            return Err(Errno::ESPIPE);
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let src = file.bytes.get(start..).unwrap_or(&[]);
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        Ok(n)
    }
}
