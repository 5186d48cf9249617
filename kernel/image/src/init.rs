//! What the kernel runs after boot: each program with the descriptors and argument data
//! a launcher gives it, and the ending it must have.

use alloc::borrow::Cow;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use capexec::Errno;
use capexec::argdata::Value;
use capexec::fdtable::{Fd, FdRights, FdTable, Rights};

use core::sync::atomic::Ordering;

use crate::paging::UNRESERVED_FRAMES;
use crate::process::{Ending, PAGE_FAULT, describe, launch};
use crate::vnode::{RamFile, Vnode};
use crate::{frames, heap, kprintln};

/// The rights of the console as a program's output (a launcher's standard output):
/// `FD_WRITE | FD_STAT_PUT_FLAGS | FILE_STAT_FGET | POLL_FD_READWRITE`.
const CONSOLE_OUT: FdRights = FdRights::new(
    Rights::FD_WRITE
        .union(Rights::FD_STAT_PUT_FLAGS)
        .union(Rights::FILE_STAT_FGET)
        .union(Rights::POLL_FD_READWRITE),
    Rights::empty(),
);

/// The rights of an executable (a regular file opened read-only, as FreeBSD gives it).
const EXECUTABLE: FdRights = FdRights::new(
    Rights::FD_READ
        .union(Rights::FD_SEEK)
        .union(Rights::FD_TELL)
        .union(Rights::FILE_ADVISE)
        .union(Rights::FILE_STAT_FGET)
        .union(Rights::MEM_MAP)
        .union(Rights::MEM_MAP_EXEC)
        .union(Rights::POLL_FD_READWRITE)
        .union(Rights::PROC_EXEC),
    Rights::empty(),
);

/// One program run: the launcher's table, the executable's descriptor in it, the
/// argument data and the descriptor list.
struct Launch {
    table: FdTable<Arc<Vnode>>,
    exe: Fd,
    argdata: Vec<u8>,
    fds: Vec<i32>,
    /// When set, the exec goes through the user-space entry and names this address for
    /// the argument data (a bad pointer); otherwise the kernel-space entry takes
    /// `argdata` and `fds` as they are.
    argdata_at: Option<u32>,
}

/// A launcher table from `(file, rights)` pairs, numbered from 0.
fn table(files: Vec<(Vnode, FdRights)>) -> Result<FdTable<Arc<Vnode>>, Errno> {
    let mut t = FdTable::new();
    for (file, rights) in files {
        t.open(Arc::new(file), rights).map_err(|_| Errno::EMFILE)?;
    }
    Ok(t)
}

/// An embedded program.
fn program(name: &str) -> Result<Vnode, Errno> {
    RamFile::open(name).map(Vnode::Ram).ok_or(Errno::ENOENT)
}

fn fd(n: i32) -> Fd {
    Fd::from_raw(n).expect("a small descriptor number")
}

/// A map with string keys.
fn map<'a>(entries: Vec<(&'a str, Value<'a>)>) -> Value<'a> {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// `argdata` naming the launcher's descriptors, serialised with descriptor extraction:
/// the program gets exactly the descriptors it names, renumbered from 0.
fn with_fds(table: FdTable<Arc<Vnode>>, exe: i32, argdata: Value<'_>) -> Result<Launch, Errno> {
    let (argdata, fds) = argdata.serialize_with_fds()?;
    Ok(Launch {
        table,
        exe: fd(exe),
        argdata,
        fds,
        argdata_at: None,
    })
}

/// The cloudabi-run(1) man page example: `hello` gets `[!fd stdout, !fd stdout, !fd
/// stdout]` and writes `Hello, world` to each.
fn man_page() -> Result<Launch, Errno> {
    let t = table(vec![
        (Vnode::Console, CONSOLE_OUT),
        (program("hello")?, EXECUTABLE),
    ])?;
    with_fds(
        t,
        1,
        Value::Seq(vec![Value::Fd(0), Value::Fd(0), Value::Fd(0)]),
    )
}

/// `procstat` lists the descriptors it was given: the console and two executables.
fn procstat() -> Result<Launch, Errno> {
    let t = table(vec![
        (Vnode::Console, CONSOLE_OUT),
        (program("procstat")?, EXECUTABLE),
        (program("hello")?, EXECUTABLE),
    ])?;
    let argdata = map(vec![
        ("out", Value::Fd(0)),
        ("files", Value::Seq(vec![Value::Fd(1), Value::Fd(2)])),
    ]);
    with_fds(t, 1, argdata)
}

/// `spawn` execs `procstat` with a strict subset of its descriptors: a write-only view
/// of the console and the console itself. `procstat` sees exactly those two.
fn spawn() -> Result<Launch, Errno> {
    let write_only = FdRights::new(Rights::FD_WRITE, Rights::empty());
    let t = table(vec![
        (Vnode::Console, CONSOLE_OUT),
        (program("spawn")?, EXECUTABLE),
        (program("procstat")?, EXECUTABLE),
        (Vnode::Console, write_only),
    ])?;
    let argdata = map(vec![
        ("program", Value::Fd(2)),
        ("pass", Value::Seq(vec![Value::Fd(3), Value::Fd(0)])),
        ("args", map(vec![("out", Value::Fd(0))])),
        ("err", Value::Fd(0)),
    ]);
    with_fds(t, 1, argdata)
}

/// `spawn` asked to pass a descriptor it does not have: its `proc_exec` fails with
/// `EBADF` before the point of no return, and `spawn` runs on to report it.
fn spawn_failing() -> Result<Launch, Errno> {
    let t = table(vec![
        (Vnode::Console, CONSOLE_OUT),
        (program("procstat")?, EXECUTABLE),
        (program("spawn")?, EXECUTABLE),
    ])?;
    // Already in the program's numbering (0 console, 1 procstat): 7 is not open there.
    let argdata = map(vec![
        ("program", Value::Fd(1)),
        ("pass", Value::Seq(vec![Value::Fd(0), Value::Fd(7)])),
        ("err", Value::Fd(0)),
    ]);
    let bytes = argdata.to_bytes()?;
    Ok(Launch {
        table: t,
        exe: fd(2),
        argdata: bytes,
        fds: vec![0, 1],
        argdata_at: None,
    })
}

/// `errors` drives the error paths of the descriptor calls (a failed exec among them)
/// and reports each errno.
fn errors() -> Result<Launch, Errno> {
    let t = table(vec![
        (Vnode::Console, CONSOLE_OUT),
        (program("hello")?, EXECUTABLE),
        (program("errors")?, EXECUTABLE),
    ])?;
    with_fds(
        t,
        2,
        map(vec![("out", Value::Fd(0)), ("program", Value::Fd(1))]),
    )
}

/// `hello` with its entry point moved to address 0: the first instruction fetch is a
/// page fault in ring 3, which kills the program and not the kernel.
fn faulting() -> Result<Launch, Errno> {
    let Vnode::Ram(hello) = program("hello")? else {
        return Err(Errno::ENOENT);
    };
    let mut bytes = hello.bytes.into_owned();
    bytes.get_mut(24..28).ok_or(Errno::ENOEXEC)?.fill(0); // e_entry
    let broken = Vnode::Ram(RamFile {
        ino: 0,
        bytes: Cow::Owned(bytes),
    });
    let t = table(vec![(Vnode::Console, CONSOLE_OUT), (broken, EXECUTABLE)])?;
    with_fds(t, 1, Value::Seq(vec![Value::Fd(0)]))
}

/// `hello` whose first instruction is an endless loop (`jmp .`): it never traps, and the
/// timer takes it back.
fn endless() -> Result<Launch, Errno> {
    let Vnode::Ram(hello) = program("hello")? else {
        return Err(Errno::ENOENT);
    };
    let mut bytes = hello.bytes.into_owned();
    let at = entry_offset(&bytes).ok_or(Errno::ENOEXEC)?;
    bytes
        .get_mut(at..at + 2)
        .ok_or(Errno::ENOEXEC)?
        .copy_from_slice(&[0xEB, 0xFE]);
    let looping = Vnode::Ram(RamFile {
        ino: 0,
        bytes: Cow::Owned(bytes),
    });
    let t = table(vec![(Vnode::Console, CONSOLE_OUT), (looping, EXECUTABLE)])?;
    with_fds(t, 1, Value::Seq(vec![Value::Fd(0)]))
}

/// The file offset of an ELF32 image's entry point: in the `PT_LOAD` that holds it.
fn entry_offset(elf: &[u8]) -> Option<usize> {
    let word = |at: usize| Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?));
    let half = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let (entry, phoff, phnum) = (word(24)?, word(28)? as usize, half(44)? as usize);
    (0..phnum).find_map(|i| {
        let ph = phoff + 32 * i;
        let (kind, offset, vaddr, filesz) =
            (word(ph)?, word(ph + 4)?, word(ph + 8)?, word(ph + 16)?);
        let inside = kind == 1 && entry >= vaddr && entry - vaddr < filesz;
        inside.then(|| (entry - vaddr + offset) as usize)
    })
}

/// The launcher's exec names argument data in the kernel's half (the kernel's own code):
/// capexec's copy-in gets `EFAULT` from the page walk, and nothing runs.
fn kernel_pointer() -> Result<Launch, Errno> {
    let mut l = man_page()?;
    l.argdata_at = Some(0xC010_0000);
    Ok(l)
}

/// The launcher asked to execute the console: `EACCES`, nothing runs.
fn not_executable() -> Result<Launch, Errno> {
    let t = table(vec![(Vnode::Console, EXECUTABLE)])?;
    with_fds(t, 0, Value::Seq(vec![Value::Fd(0)]))
}

/// `hello_real`, linked against the real cloudlibc: it finds `out` in its argdata map
/// and `dprintf`s to it, every system call made through the vDSO the activator maps.
fn hello_real() -> Result<Launch, Errno> {
    let t = table(vec![
        (Vnode::Console, CONSOLE_OUT),
        (program("hello_real")?, EXECUTABLE),
    ])?;
    with_fds(t, 1, map(vec![("out", Value::Fd(0))]))
}

/// `procstat_real`: cloudlibc's `fcntl`, `cap_rights_get_explicit` and `fstat`
/// (`fd_stat_get`, `file_stat_fget`) on each descriptor it was given.
fn procstat_real() -> Result<Launch, Errno> {
    let t = table(vec![
        (Vnode::Console, CONSOLE_OUT),
        (program("procstat_real")?, EXECUTABLE),
    ])?;
    with_fds(
        t,
        1,
        map(vec![("out", Value::Fd(0)), ("self", Value::Fd(1))]),
    )
}

/// `exec_real`: cloudlibc's `program_exec` starts `hello_real` with only `out`
/// (jemalloc's `mem_map` chunks, the serialisation buffer, then `proc_exec`).
fn exec_real() -> Result<Launch, Errno> {
    let t = table(vec![
        (Vnode::Console, CONSOLE_OUT),
        (program("exec_real")?, EXECUTABLE),
        (program("hello_real")?, EXECUTABLE),
    ])?;
    with_fds(
        t,
        1,
        map(vec![("program", Value::Fd(2)), ("out", Value::Fd(0))]),
    )
}

/// A program run and how it must end.
struct Case {
    title: &'static str,
    build: fn() -> Result<Launch, Errno>,
    expected: fn(&Ending) -> bool,
}

/// The programs of `programs/`.
const PROGRAMS: &[Case] = &[
    Case {
        title: "hello: the cloudabi-run man page example",
        build: man_page,
        expected: |e| *e == Ending::Exited(0),
    },
    Case {
        title: "procstat: the descriptors it was given",
        build: procstat,
        expected: |e| *e == Ending::Exited(0),
    },
    Case {
        title: "spawn: exec procstat with a strict subset",
        build: spawn,
        expected: |e| *e == Ending::Exited(0),
    },
    Case {
        title: "spawn: a failed exec leaves the caller running",
        build: spawn_failing,
        expected: |e| *e == Ending::Exited(1),
    },
    Case {
        title: "errors: the error paths from real code",
        build: errors,
        expected: |e| *e == Ending::Exited(0),
    },
];

/// The real cloudlibc programs (embedded when the build found them).
const REAL_PROGRAMS: &[Case] = &[
    Case {
        title: "hello_real: cloudlibc's dprintf, system calls through the vDSO",
        build: hello_real,
        expected: |e| *e == Ending::Exited(0),
    },
    Case {
        title: "procstat_real: cloudlibc's fcntl, cap_rights_get_explicit and fstat",
        build: procstat_real,
        expected: |e| *e == Ending::Exited(0),
    },
    Case {
        title: "exec_real: cloudlibc's program_exec (mem_map, then proc_exec)",
        build: exec_real,
        expected: |e| *e == Ending::Exited(0),
    },
];

/// Programs that must fail, and must not take the kernel with them.
const FAILURES: &[Case] = &[
    Case {
        title: "hello with its entry at address 0: a fault kills the program",
        build: faulting,
        expected: |e| {
            matches!(
                e,
                Ending::Faulted {
                    vector: PAGE_FAULT,
                    eip: 0,
                    ..
                }
            )
        },
    },
    Case {
        title: "hello with an endless loop at its entry: the timer takes it back",
        build: endless,
        expected: |e| *e == Ending::TimedOut,
    },
    Case {
        title: "exec with its argument data at a kernel address: EFAULT, no kernel fault",
        build: kernel_pointer,
        expected: |e| *e == Ending::NotStarted(Errno::EFAULT),
    },
    Case {
        title: "exec of the console: refused before anything changes",
        build: not_executable,
        expected: |e| *e == Ending::NotStarted(Errno::EACCES),
    },
];

/// Runs every case; true if each ended as expected, gave back every frame and every byte
/// of heap it used, and every exec in it built its image from frames reserved before its
/// point of no return.
pub fn run_all() -> bool {
    let real: &[Case] = if cfg!(capexec_realprog) {
        REAL_PROGRAMS
    } else {
        kprintln!("kernel: the real cloudlibc programs are absent from this build: not run");
        &[]
    };
    let cases: Vec<&Case> = PROGRAMS.iter().chain(real).chain(FAILURES).collect();
    let mut passed = 0;
    for (i, case) in cases.iter().enumerate() {
        kprintln!("kernel: [{}/{}] {}", i + 1, cases.len(), case.title);
        let (frames_before, heap_before) = (frames::free_count(), heap::used());
        let ending = match (case.build)() {
            Ok(l) => launch(l.table, l.exe, &l.argdata, &l.fds, l.argdata_at),
            Err(e) => Ending::NotStarted(e),
        };
        let (frames_after, heap_after) = (frames::free_count(), heap::used());
        let as_expected = (case.expected)(&ending);
        let no_leak = frames_after == frames_before && heap_after == heap_before;
        let unreserved = UNRESERVED_FRAMES.swap(0, Ordering::Relaxed);
        if unreserved != 0 {
            kprintln!("kernel: {unreserved} frames allocated after an exec's point of no return");
        }
        kprintln!(
            "kernel: {}: {}",
            describe(&ending),
            if as_expected {
                "as expected"
            } else {
                "NOT AS EXPECTED"
            }
        );
        if !no_leak {
            kprintln!(
                "kernel: leak: {} frames, {} heap bytes not returned",
                frames_before as isize - frames_after as isize,
                heap_after as isize - heap_before as isize
            );
        }
        if as_expected && no_leak && unreserved == 0 {
            passed += 1;
        }
    }
    kprintln!(
        "kernel: {passed} of {} as expected (ending, every frame and heap byte returned, \
         no frame allocated past a point of no return)",
        cases.len()
    );
    passed == cases.len()
}
