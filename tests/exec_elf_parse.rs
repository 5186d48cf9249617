//! `ElfImage::parse`, through `ImageFile::read_at` and in place over a file's bytes
//! (`ImageFile::bytes`) alike, reads the program headers wherever the ELF header says they are:
//! right after it (read with the header), far from it, and more of them than one read
//! takes; the result does not depend on where they are. Checks of `e_ident` the
//! activator relies on, beyond those of `exec_proc_exec`'s refused images.

use capexec::Errno;
use capexec::exec::{ElfImage, ImageFile, LoadSegment, MAX_PHNUM, Protection};
use capexec::fdtable::{File, FileType};
use capexec_sim::{MemImage, read_slice_at};

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const PT_PHDR: u32 = 6;

fn ph(kind: u32, offset: u32, vaddr: u32, filesz: u32, memsz: u32, flags: u32) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, w) in [kind, offset, vaddr, vaddr, filesz, memsz, flags, 0x1000]
        .iter()
        .enumerate()
    {
        b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    b
}

/// An image with `notes` `PT_NOTE` headers, then two `PT_LOAD` segments (text, data);
/// the program headers at `phoff` (0: right after the ELF header), the segments' bytes
/// at 0x3000 and 0x3100.
fn image(notes: usize, phoff: u32) -> Vec<u8> {
    let phoff = if phoff == 0 { 52 } else { phoff };
    let mut headers: Vec<[u8; 32]> = (0..notes).map(|_| ph(PT_NOTE, 0, 0, 0, 0, 0)).collect();
    headers.push(ph(PT_LOAD, 0x3000, 0x0804_8000, 0x100, 0x100, 5));
    headers.push(ph(PT_LOAD, 0x3100, 0x0804_9000, 0x80, 0x2000, 6));
    let mut v = vec![0u8; 0x3180];
    v[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 17]);
    v[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    v[18..20].copy_from_slice(&3u16.to_le_bytes()); // EM_386
    v[20..24].copy_from_slice(&1u32.to_le_bytes());
    v[24..28].copy_from_slice(&0x0804_8000u32.to_le_bytes());
    v[28..32].copy_from_slice(&phoff.to_le_bytes());
    v[40..42].copy_from_slice(&52u16.to_le_bytes());
    v[42..44].copy_from_slice(&32u16.to_le_bytes());
    v[44..46].copy_from_slice(&(headers.len() as u16).to_le_bytes());
    for (i, h) in headers.iter().enumerate() {
        let at = phoff as usize + 32 * i;
        v[at..at + 32].copy_from_slice(h);
    }
    for (i, b) in v[0x3000..].iter_mut().enumerate() {
        *b = i as u8;
    }
    v
}

/// The same bytes as a file that can only be read (`ImageFile::read_at`).
struct ReadOnly<'a>(&'a [u8]);

impl File for ReadOnly<'_> {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }
}

impl ImageFile for ReadOnly<'_> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(read_slice_at(self.0, offset, buf))
    }
}

/// Parses `bytes` read through `read_at` and in place (`ImageFile::bytes`): both must
/// give the same answer.
fn parse(bytes: &[u8]) -> Result<ElfImage, Errno> {
    let read = ElfImage::parse(&ReadOnly(bytes), 0);
    let in_place = ElfImage::parse(&MemImage(bytes), 0);
    assert_eq!(read, in_place);
    read
}

fn expected_segments() -> Vec<LoadSegment> {
    vec![
        LoadSegment {
            vaddr: 0x0804_8000,
            memsz: 0x100,
            filesz: 0x100,
            offset: 0x3000,
            prot: Protection::READ | Protection::EXEC,
        },
        LoadSegment {
            vaddr: 0x0804_9000,
            memsz: 0x2000,
            filesz: 0x80,
            offset: 0x3100,
            prot: Protection::READ | Protection::WRITE,
        },
    ]
}

#[test]
fn program_headers_are_found_wherever_they_are_and_however_many() {
    // 0 notes: both headers in the first read; 6 and 7: the first read ends inside or
    // right after them; 20 and 62: several reads; far away: none in the first read.
    for notes in [0, 1, 6, 7, 8, 9, 20, MAX_PHNUM - 2] {
        for phoff in [0, 0x40, 0x1000, 0x1004] {
            let img =
                parse(&image(notes, phoff)).unwrap_or_else(|e| panic!("{notes} {phoff:#x}: {e:?}"));
            assert_eq!(
                img.segments.as_slice(),
                expected_segments(),
                "{notes} {phoff:#x}"
            );
            assert_eq!(img.phnum as usize, notes + 2);
            assert_eq!(img.entry, 0x0804_8000);
            // No segment maps the headers from the file: no AT_PHDR.
            assert_eq!(img.phdr, 0);
        }
    }
}

#[test]
fn pt_phdr_is_reported_from_any_read() {
    for notes in [0, 12] {
        let mut v = image(notes, 0x1000);
        // Turn the first header (a note, or the text) into PT_PHDR when there are notes.
        if notes > 0 {
            let h = ph(PT_PHDR, 0x1000, 0x0804_7000, 0, 0, 4);
            v[0x1000..0x1020].copy_from_slice(&h);
            // And the last note too, which the second or a later read returns.
            let at = 0x1000 + 32 * (notes - 1);
            let h = ph(PT_PHDR, 0x1000, 0x0804_7100, 0, 0, 4);
            v[at..at + 32].copy_from_slice(&h);
            assert_eq!(parse(&v).unwrap().phdr, 0x0804_7100);
        } else {
            assert_eq!(parse(&v).unwrap().phdr, 0);
        }
    }
}

#[test]
fn program_headers_cut_short_or_past_the_end_are_enoexec() {
    for notes in [0, 9, 20] {
        for phoff in [0, 0x1000] {
            let v = image(notes, phoff);
            let start = if phoff == 0 { 52 } else { phoff as usize };
            // Cut inside the last program header.
            assert_eq!(
                parse(&v[..start + 32 * (notes + 2) - 1]),
                Err(Errno::ENOEXEC),
                "{notes} {phoff:#x}"
            );
        }
    }
    // Headers said to lie past 4 GiB of file.
    let mut v = image(0, 0);
    v[28..32].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    assert_eq!(parse(&v), Err(Errno::ENOEXEC));
    // More than MAX_PHNUM.
    let v = image(MAX_PHNUM - 1, 0);
    assert_eq!(parse(&v), Err(Errno::ENOEXEC));
}

#[test]
fn e_ident_version_other_than_current_is_enoexec() {
    for version in [0u8, 2, 0xff] {
        let mut v = image(0, 0);
        v[6] = version;
        assert_eq!(parse(&v), Err(Errno::ENOEXEC), "{version}");
    }
}

#[test]
fn a_segment_whose_bytes_end_past_the_file_is_enoexec_even_far_from_the_headers() {
    let v = image(3, 0);
    // The data segment's last byte is the file's last: cut it.
    assert_eq!(parse(&v[..v.len() - 1]), Err(Errno::ENOEXEC));
    assert!(parse(&v).is_ok());
}
