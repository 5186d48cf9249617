//! Test support: building the C programs, encoding argdata, a CloudABI
//! initial stack in the FreeBSD 12 layout, and a miniature descriptor
//! kernel standing in for capexec's shim until the two are joined.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use capexec_native::{
    Action, Exec, Fault, I386Regs, ImageLayout, StackBuilder, StackStart, SyscallHandler,
    TraceeMemory,
};

/// Builds `programs/` once per test binary; `None` (with the reason
/// printed) when the build fails, e.g. without gcc-multilib.
pub fn programs() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../programs/build.sh");
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("programs");
        match Command::new("sh").arg(&script).arg(&out).output() {
            Ok(o) if o.status.success() => Some(out),
            Ok(o) => {
                eprintln!(
                    "programs/build.sh failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                None
            }
            Err(e) => {
                eprintln!("cannot run programs/build.sh: {e}");
                None
            }
        }
    })
    .as_deref()
}

/// The programs directory when this test can run; otherwise prints that
/// the test named `name` was skipped and why.
pub fn setup(name: &str) -> Option<&'static Path> {
    if !capexec_native::ptrace_available() {
        println!("SKIPPED {name}: ptrace is not permitted on this machine");
        return None;
    }
    let dir = programs();
    if dir.is_none() {
        println!("SKIPPED {name}: the C programs could not be built");
    }
    dir
}

// ---- argdata encoding -------------------------------------------------

/// Appends one subfield: base-128 length, most significant digit first,
/// bit 7 marking the last digit; then the value.
fn subfield(out: &mut Vec<u8>, value: &[u8]) {
    let mut digits = vec![(value.len() & 0x7f) as u8 | 0x80];
    let mut n = value.len() >> 7;
    while n > 0 {
        digits.push((n & 0x7f) as u8);
        n >>= 7;
    }
    digits.reverse();
    out.extend_from_slice(&digits);
    out.extend_from_slice(value);
}

/// An fd node.
pub fn fd(n: u32) -> Vec<u8> {
    let mut v = vec![0x03];
    v.extend_from_slice(&n.to_be_bytes());
    v
}

/// A str node.
pub fn string(s: &str) -> Vec<u8> {
    let mut v = vec![0x08];
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    v
}

/// An int node (minimal two's complement, big-endian).
pub fn int(i: i64) -> Vec<u8> {
    let mut bytes = i.to_be_bytes().to_vec();
    // Drop leading bytes that only repeat the sign of the next one.
    while bytes.len() > 1
        && ((bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xff && bytes[1] & 0x80 != 0))
    {
        bytes.remove(0);
    }
    if bytes == [0] {
        bytes.clear();
    }
    let mut v = vec![0x05];
    v.extend_from_slice(&bytes);
    v
}

/// A seq node.
pub fn seq(items: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0x07];
    for i in items {
        subfield(&mut v, i);
    }
    v
}

/// A map node with str keys.
pub fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0x06];
    for (k, val) in entries {
        subfield(&mut v, &string(k));
        subfield(&mut v, val);
    }
    v
}

// ---- the initial stack ----------------------------------------------

/// Writes the cloudabi32 initial stack of shared/spec/abi-i386.md at the
/// top of the region: argdata and its NUL, canary, PID UUID, 13 auxv
/// entries, the TCB slot, then [esp] = TCB pointer, [esp+4] = auxv.
pub fn cloudabi_stack(argdata: Vec<u8>) -> StackBuilder {
    Box::new(move |mem: &mut TraceeMemory, region| {
        let top = region.top();
        let l = if argdata.is_empty() {
            0
        } else {
            argdata.len() as u32 + 1
        };
        let a = (top - l) & !3;
        if !argdata.is_empty() {
            mem.copy_out(a, &argdata)?;
            mem.copy_out(a + argdata.len() as u32, &[0])?;
        }
        let canary: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        mem.copy_out(a - 64, &canary)?;
        let mut uuid: [u8; 16] = core::array::from_fn(|i| (i as u8).wrapping_mul(29) ^ 0xa5);
        uuid[6] = (uuid[6] & 0x0f) | 0x40;
        uuid[8] = (uuid[8] & 0x3f) | 0x80;
        mem.copy_out(a - 80, &uuid)?;
        let auxv: [(u32, u32); 13] = [
            (256, a),
            (257, argdata.len() as u32),
            (7, 0),
            (258, a - 64),
            (259, 64),
            (260, 1),
            (6, 4096),
            (3, 0),
            (4, 0),
            (263, a - 80),
            (262, 0),
            (261, 1),
            (0, 0),
        ];
        let mut bytes = Vec::with_capacity(104);
        for (t, v) in auxv {
            bytes.extend_from_slice(&t.to_le_bytes());
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        mem.copy_out(a - 184, &bytes)?;
        mem.write_u32(a - 188, 0)?;
        let esp = a - 196;
        mem.write_u32(esp, a - 188)?;
        mem.write_u32(esp + 4, a - 184)?;
        Ok(StackStart { esp, gs_base: esp })
    })
}

/// An [`Exec`] for the program file `path` with `argdata`.
pub fn exec_file(path: &Path, argdata: Vec<u8>) -> Exec {
    let bytes = std::fs::read(path).expect("read program");
    Exec {
        image: ImageLayout::from_elf(&bytes).expect("program image"),
        stack_size: 64 * 1024,
        build_stack: cloudabi_stack(argdata),
    }
}

// ---- a miniature descriptor kernel ------------------------------------

/// Rights bits the mini kernel checks.
pub const FD_READ: u64 = 0x2;
/// `FD_WRITE`.
pub const FD_WRITE: u64 = 0x40;
/// `FD_STAT_PUT_FLAGS`.
pub const FD_STAT_PUT_FLAGS: u64 = 0x8;
/// `POLL_FD_READWRITE`.
pub const POLL_FD_READWRITE: u64 = 0x1000_0000;
/// `PROC_EXEC`.
pub const PROC_EXEC: u64 = 0x1_0000_0000;
/// Rights decision 24 gives stdout and stderr.
pub const STDOUT_RIGHTS: u64 = FD_WRITE | FD_STAT_PUT_FLAGS | POLL_FD_READWRITE;

/// What a descriptor refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// Output captured in `MiniKernel::outputs[i]`.
    Sink(usize),
    /// An executable program file.
    Exe(PathBuf),
}

/// One open descriptor.
#[derive(Clone, Debug)]
pub struct Desc {
    /// The object behind the descriptor.
    pub object: Object,
    /// CloudABI file type.
    pub filetype: u8,
    /// Base rights.
    pub base: u64,
    /// Inheriting rights.
    pub inheriting: u64,
}

impl Desc {
    /// A character-device sink with stdout's rights.
    pub fn sink(i: usize) -> Self {
        Desc {
            object: Object::Sink(i),
            filetype: 17,
            base: STDOUT_RIGHTS,
            inheriting: 0,
        }
    }

    /// A regular-file executable with `!executable` rights.
    pub fn exe(path: PathBuf) -> Self {
        Desc {
            object: Object::Exe(path),
            filetype: 96,
            base: FD_READ
                | 0x4
                | 0x20
                | 0x80
                | 0x80000
                | 0x400_0000
                | POLL_FD_READWRITE
                | PROC_EXEC
                | 0x800_0000,
            inheriting: 0,
        }
    }
}

const EBADF: u16 = 8;
const EFAULT: u16 = 21;
const EINVAL: u16 = 28;
const ENOEXEC: u16 = 45;
const ENOSYS: u16 = 52;
const ENOTCAPABLE: u16 = 76;

/// A tiny descriptor table serving the programs' system calls.
pub struct MiniKernel {
    /// Descriptor `i` is `table[i]`.
    pub table: Vec<Option<Desc>>,
    /// What each sink received.
    pub outputs: Vec<Vec<u8>>,
    /// Successful `proc_exec` calls.
    pub execs: usize,
}

/// System call argument `i`, read from `esp + 4 + 4 * i`.
fn arg(mem: &TraceeMemory, regs: &I386Regs, i: u32) -> Result<u32, u16> {
    mem.read_u32(regs.esp.wrapping_add(4 + 4 * i))
        .map_err(|_: Fault| EFAULT)
}

impl MiniKernel {
    /// A kernel with this table and `sinks` empty outputs.
    pub fn new(table: Vec<Option<Desc>>, sinks: usize) -> Self {
        MiniKernel {
            table,
            outputs: vec![Vec::new(); sinks],
            execs: 0,
        }
    }

    /// The captured output of sink `i` as text.
    pub fn output(&self, i: usize) -> String {
        String::from_utf8_lossy(&self.outputs[i]).into_owned()
    }

    fn get(&self, fd: u32) -> Result<&Desc, u16> {
        self.table
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(EBADF)
    }

    fn call(
        &mut self,
        regs: &I386Regs,
        mem: &mut TraceeMemory,
    ) -> Result<(u32, Option<Action>), u16> {
        match regs.eax {
            3 => {
                let fd = arg(mem, regs, 0)? as usize;
                self.get(fd as u32)?;
                self.table[fd] = None;
                Ok((0, None))
            }
            7 => {
                let d = self.get(arg(mem, regs, 0)?)?.clone();
                let slot = match self.table.iter().position(Option::is_none) {
                    Some(i) => i,
                    None => {
                        self.table.push(None);
                        self.table.len() - 1
                    }
                };
                self.table[slot] = Some(d);
                Ok((slot as u32, None))
            }
            11 => {
                let (from, to) = (arg(mem, regs, 0)?, arg(mem, regs, 1)?);
                let d = self.get(from)?.clone();
                self.get(to)?;
                self.table[to as usize] = Some(d);
                Ok((0, None))
            }
            13 => {
                let d = self.get(arg(mem, regs, 0)?)?;
                let mut st = [0u8; 24];
                st[0] = d.filetype;
                st[8..16].copy_from_slice(&d.base.to_le_bytes());
                st[16..24].copy_from_slice(&d.inheriting.to_le_bytes());
                mem.copy_out(arg(mem, regs, 1)?, &st).map_err(|_| EFAULT)?;
                Ok((0, None))
            }
            14 => {
                let (fd, ptr, flags) = (arg(mem, regs, 0)?, arg(mem, regs, 1)?, arg(mem, regs, 2)?);
                let mut st = [0u8; 24];
                mem.copy_in(ptr, &mut st).map_err(|_| EFAULT)?;
                let d = self.get(fd)?;
                if flags & 2 == 0 {
                    return Ok((0, None));
                }
                let base = u64::from_le_bytes(st[8..16].try_into().unwrap());
                let inh = u64::from_le_bytes(st[16..24].try_into().unwrap());
                if base & !d.base != 0 || inh & !d.inheriting != 0 {
                    return Err(ENOTCAPABLE);
                }
                let d = self.table[fd as usize].as_mut().unwrap();
                d.base = base;
                d.inheriting = inh;
                Ok((0, None))
            }
            16 => {
                let (fd, iov, n) = (arg(mem, regs, 0)?, arg(mem, regs, 1)?, arg(mem, regs, 2)?);
                let d = self.get(fd)?.clone();
                if d.base & FD_WRITE == 0 {
                    return Err(ENOTCAPABLE);
                }
                let Object::Sink(s) = d.object else {
                    return Err(EINVAL);
                };
                let mut data = Vec::new();
                for i in 0..n {
                    let at = iov.wrapping_add(8 * i);
                    let buf = mem.read_u32(at).map_err(|_| EFAULT)?;
                    let len = mem.read_u32(at + 4).map_err(|_| EFAULT)?;
                    let mut chunk = vec![0u8; len as usize];
                    mem.copy_in(buf, &mut chunk).map_err(|_| EFAULT)?;
                    data.extend_from_slice(&chunk);
                }
                self.outputs[s].extend_from_slice(&data);
                Ok((data.len() as u32, None))
            }
            38 => {
                let (fd, data, len, fds, n) = (
                    arg(mem, regs, 0)?,
                    arg(mem, regs, 1)?,
                    arg(mem, regs, 2)?,
                    arg(mem, regs, 3)?,
                    arg(mem, regs, 4)?,
                );
                let mut argdata = vec![0u8; len as usize];
                mem.copy_in(data, &mut argdata).map_err(|_| EFAULT)?;
                let mut list = vec![0u8; 4 * n as usize];
                mem.copy_in(fds, &mut list).map_err(|_| EFAULT)?;
                let mut new_table = Vec::new();
                for w in list.chunks(4) {
                    let old = u32::from_le_bytes(w.try_into().unwrap());
                    new_table.push(Some(self.get(old)?.clone()));
                }
                let exe = self.get(fd)?;
                if exe.base & PROC_EXEC == 0 {
                    return Err(ENOTCAPABLE);
                }
                let Object::Exe(path) = &exe.object else {
                    return Err(EINVAL);
                };
                let bytes = std::fs::read(path).map_err(|_| ENOEXEC)?;
                let image = ImageLayout::from_elf(&bytes).map_err(|_| ENOEXEC)?;
                self.table = new_table;
                self.execs += 1;
                let exec = Exec {
                    image,
                    stack_size: 64 * 1024,
                    build_stack: cloudabi_stack(argdata),
                };
                Ok((0, Some(Action::ReplaceImage(exec))))
            }
            39 => Ok((0, Some(Action::Exit(arg(mem, regs, 0)?)))),
            42 => {
                let (buf, len) = (arg(mem, regs, 0)?, arg(mem, regs, 1)?);
                let bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(7)).collect();
                mem.copy_out(buf, &bytes).map_err(|_| EFAULT)?;
                Ok((0, None))
            }
            _ => Err(ENOSYS),
        }
    }
}

impl SyscallHandler for MiniKernel {
    fn syscall(&mut self, regs: &mut I386Regs, mem: &mut TraceeMemory) -> Action {
        match self.call(regs, mem) {
            Ok((v, action)) => {
                regs.return_ok(v, 0);
                action.unwrap_or(Action::Continue)
            }
            Err(e) => {
                regs.return_errno(e);
                Action::Continue
            }
        }
    }
}
