//! The smallest static ELF32 i386 CloudABI executable, for tests and simulated programs.

use capexec::exec::ELFOSABI_CLOUDABI;

use crate::SIM_PAGE_SIZE;

/// Builds a minimal static ELF32 i386 CloudABI executable (`ET_EXEC`, one `PT_LOAD`
/// read+execute segment holding the headers and `code` at `load_addr`, entry at the
/// first byte of `code`), for tests and simulated programs. `load_addr` should be page
/// aligned. Returns the file bytes.
pub fn minimal_cloudabi_elf(load_addr: u32, code: &[u8]) -> Vec<u8> {
    const EH: u32 = 52;
    const PH: u32 = 32;
    let code_len = u32::try_from(code.len()).unwrap_or(u32::MAX - EH - PH);
    let file_len = EH + PH + code_len;
    let mut v = Vec::with_capacity(file_len as usize);
    let entry = load_addr.wrapping_add(EH + PH);
    // e_ident: magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT, ELFOSABI_CLOUDABI.
    v.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, ELFOSABI_CLOUDABI]);
    v.extend_from_slice(&[0; 8]);
    let h16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let h32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    h16(&mut v, 2); // ET_EXEC
    h16(&mut v, 3); // EM_386
    h32(&mut v, 1); // EV_CURRENT
    h32(&mut v, entry);
    h32(&mut v, EH); // e_phoff
    h32(&mut v, 0); // e_shoff
    h32(&mut v, 0); // e_flags
    h16(&mut v, EH as u16);
    h16(&mut v, PH as u16);
    h16(&mut v, 1); // e_phnum
    h16(&mut v, 40); // e_shentsize
    h16(&mut v, 0); // e_shnum
    h16(&mut v, 0); // e_shstrndx
    // PT_LOAD covering the whole file.
    h32(&mut v, 1);
    h32(&mut v, 0);
    h32(&mut v, load_addr);
    h32(&mut v, load_addr);
    h32(&mut v, file_len);
    h32(&mut v, file_len);
    h32(&mut v, 5); // PF_R | PF_X
    h32(&mut v, SIM_PAGE_SIZE);
    v.extend_from_slice(code);
    v
}
