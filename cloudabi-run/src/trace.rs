//! `--trace`: one line per system call, with its arguments decoded by name and type and
//! its result, the same for the simulated and the native runs.
//!
//! ```text
//! fd_write(fd=1, iovs=0xbfbf0028, iovs_len=1) -> 13
//! mem_map(addr=0x0, len=2097152, prot=READ|WRITE, flags=ANON|PRIVATE, fd=ANON, off=0) -> 0x40000000
//! fd_seek(fd=1, offset=0, whence=CUR) -> ENOTCAPABLE
//! ```

use capexec::Errno;
use capexec::abi::SyscallResults;
use capexec::abi::cloudabi32::{Advice, ClockId, Scope, Signal, Syscall, Whence};
use capexec::abi::mem::{
    MAP_ANON, MAP_ANON_FD, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE,
};
use capexec::fdtable::FileType;

/// How an argument is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A descriptor (`cloudabi_fd_t`), decimal.
    Fd,
    /// A user address, hexadecimal.
    Ptr,
    /// A size or count, decimal.
    Len,
    /// A small number (clock id, exit value, signal, file type, whence), decimal.
    Num,
    /// A set of flags or a protection, hexadecimal.
    Flags,
    /// A 64-bit value in two words, low first, decimal.
    U64,
    /// A signed 64-bit value in two words, low first, decimal.
    I64,
    /// A `cloudabi_lookup_t` passed by value: descriptor then lookup flags (two words).
    Lookup,
    /// A clock id, by name.
    Clock,
    /// A lock or condition variable scope, by name.
    Scope,
    /// A signal, by name.
    Signal,
    /// `fd_seek`'s whence, by name.
    Whence,
    /// File or memory advice, by name.
    Advice,
    /// A file type, by name.
    FileType,
    /// Memory protection bits, by name.
    Prot,
    /// `mem_map` flags, by name.
    MapFlags,
    /// `mem_map`'s descriptor: `ANON` for anonymous mappings.
    MapFd,
}

impl Arg {
    /// The argument words this kind takes.
    pub const fn words(self) -> usize {
        match self {
            Arg::U64 | Arg::I64 | Arg::Lookup => 2,
            _ => 1,
        }
    }
}

/// The parameters of `call` as the kernel receives them (the output pointers the vDSO
/// uses are not passed on), in order.
///
/// # References
/// - NuxiNL/cloudabi `cloudabi.txt`.
pub fn params(call: Syscall) -> &'static [(&'static str, Arg)] {
    use Arg::*;
    use Syscall::*;
    match call {
        clock_res_get => &[("clock_id", Clock)],
        clock_time_get => &[("clock_id", Clock), ("precision", U64)],
        condvar_signal => &[("condvar", Ptr), ("scope", Scope), ("nwaiters", Len)],
        fd_close | fd_datasync | fd_sync => &[("fd", Fd)],
        fd_create1 | fd_create2 => &[("type", FileType)],
        fd_dup => &[("from", Fd)],
        fd_pread | fd_pwrite => &[
            ("fd", Fd),
            ("iovs", Ptr),
            ("iovs_len", Len),
            ("offset", U64),
        ],
        fd_read | fd_write => &[("fd", Fd), ("iovs", Ptr), ("iovs_len", Len)],
        fd_replace => &[("from", Fd), ("to", Fd)],
        fd_seek => &[("fd", Fd), ("offset", I64), ("whence", Whence)],
        fd_stat_get | file_stat_fget => &[("fd", Fd), ("buf", Ptr)],
        fd_stat_put | file_stat_fput => &[("fd", Fd), ("buf", Ptr), ("flags", Flags)],
        file_advise => &[
            ("fd", Fd),
            ("offset", U64),
            ("len", U64),
            ("advice", Advice),
        ],
        file_allocate => &[("fd", Fd), ("offset", U64), ("len", U64)],
        file_create => &[
            ("fd", Fd),
            ("path", Ptr),
            ("path_len", Len),
            ("type", FileType),
        ],
        file_link => &[
            ("fd1", Lookup),
            ("path1", Ptr),
            ("path1_len", Len),
            ("fd2", Fd),
            ("path2", Ptr),
            ("path2_len", Len),
        ],
        file_open => &[
            ("dirfd", Lookup),
            ("path", Ptr),
            ("path_len", Len),
            ("oflags", Flags),
            ("fds", Ptr),
        ],
        file_readdir => &[("fd", Fd), ("buf", Ptr), ("buf_len", Len), ("cookie", U64)],
        file_readlink => &[
            ("fd", Fd),
            ("path", Ptr),
            ("path_len", Len),
            ("buf", Ptr),
            ("buf_len", Len),
        ],
        file_rename => &[
            ("fd1", Fd),
            ("path1", Ptr),
            ("path1_len", Len),
            ("fd2", Fd),
            ("path2", Ptr),
            ("path2_len", Len),
        ],
        file_stat_get => &[
            ("fd", Lookup),
            ("path", Ptr),
            ("path_len", Len),
            ("buf", Ptr),
        ],
        file_stat_put => &[
            ("fd", Lookup),
            ("path", Ptr),
            ("path_len", Len),
            ("buf", Ptr),
            ("flags", Flags),
        ],
        file_symlink => &[
            ("path1", Ptr),
            ("path1_len", Len),
            ("fd", Fd),
            ("path2", Ptr),
            ("path2_len", Len),
        ],
        file_unlink => &[
            ("fd", Fd),
            ("path", Ptr),
            ("path_len", Len),
            ("flags", Flags),
        ],
        lock_unlock | thread_exit => &[("lock", Ptr), ("scope", Scope)],
        mem_advise => &[("mapping", Ptr), ("mapping_len", Len), ("advice", Advice)],
        mem_map => &[
            ("addr", Ptr),
            ("len", Len),
            ("prot", Prot),
            ("flags", MapFlags),
            ("fd", MapFd),
            ("off", U64),
        ],
        mem_protect => &[("mapping", Ptr), ("mapping_len", Len), ("prot", Prot)],
        mem_sync => &[("mapping", Ptr), ("mapping_len", Len), ("flags", Flags)],
        mem_unmap => &[("mapping", Ptr), ("mapping_len", Len)],
        poll => &[("in", Ptr), ("out", Ptr), ("nsubscriptions", Len)],
        proc_exec => &[
            ("fd", Fd),
            ("data", Ptr),
            ("data_len", Len),
            ("fds", Ptr),
            ("fds_len", Len),
        ],
        proc_exit => &[("rval", Num)],
        proc_fork | thread_yield => &[],
        proc_raise => &[("sig", Signal)],
        random_get => &[("buf", Ptr), ("buf_len", Len)],
        sock_recv | sock_send => &[("sock", Fd), ("in", Ptr), ("out", Ptr)],
        sock_shutdown => &[("sock", Fd), ("how", Flags)],
        thread_create => &[("attr", Ptr)],
    }
}

/// How a traced call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Success: the result registers.
    Ok {
        /// `eax`.
        eax: u32,
        /// `edx`.
        edx: u32,
    },
    /// Failure: the CloudABI errno in `eax`.
    Err(u32),
    /// `proc_exec` replaced the image: the new entry point and stack.
    Exec {
        /// Entry point.
        eip: u32,
        /// Initial stack pointer.
        esp: u32,
    },
    /// `proc_exit`.
    Exit,
    /// The process was killed (an exec past its point of no return failed).
    Killed(Errno),
    /// The call is restarted.
    Restart,
    /// `proc_raise` ended the process with this signal.
    Terminated(&'static str),
}

fn errno_name(raw: u32) -> String {
    match u16::try_from(raw).ok().and_then(Errno::from_raw) {
        Some(e) => e.name().to_string(),
        None => format!("errno {raw}"),
    }
}

/// The result as the call's type says: a descriptor or size in decimal, an address in
/// hex, a 64-bit value from `eax` (low) and `edx` (high), two words as a pair.
fn result_text(call: Syscall, eax: u32, edx: u32) -> String {
    match call.results() {
        SyscallResults::None => "0".to_string(),
        SyscallResults::Word(_) if matches!(call, Syscall::mem_map) => format!("{eax:#x}"),
        SyscallResults::Word(_) => eax.to_string(),
        SyscallResults::Wide(_) => (u64::from(edx) << 32 | u64::from(eax)).to_string(),
        SyscallResults::TwoWords(_, _) => format!("({eax}, {edx})"),
    }
}

/// `bits` as `A|B` from `names`, with any unknown bits in hex; `0x0` when empty.
fn bit_names(bits: u32, names: &[(u8, &str)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = bits;
    for &(bit, name) in names {
        if bits & u32::from(bit) != 0 {
            parts.push(name.to_string());
            rest &= !u32::from(bit);
        }
    }
    if rest != 0 || parts.is_empty() {
        parts.push(format!("{rest:#x}"));
    }
    parts.join("|")
}

/// The name `name` gives the value `from_raw` finds for `raw`, or the number.
fn named<T: TryFrom<u32>, N>(
    raw: u32,
    from_raw: impl Fn(T) -> Option<N>,
    name: impl Fn(N) -> String,
) -> String {
    T::try_from(raw)
        .ok()
        .and_then(from_raw)
        .map_or_else(|| raw.to_string(), name)
}

/// One argument of kind `kind` from its word `lo` (and `hi`, for two-word kinds).
fn value_text(kind: Arg, lo: u32, hi: u32) -> String {
    let wide = u64::from(hi) << 32 | u64::from(lo);
    let strip = |name: &str, prefix: &str| name.trim_start_matches(prefix).to_string();
    match kind {
        Arg::Fd | Arg::Len | Arg::Num => lo.to_string(),
        Arg::Ptr | Arg::Flags => format!("{lo:#x}"),
        Arg::U64 => wide.to_string(),
        Arg::I64 => (wide as i64).to_string(),
        Arg::Lookup => format!("{lo}/{hi:#x}"),
        Arg::Clock => named(lo, ClockId::from_raw, |c| strip(c.name(), "CLOCK_")),
        Arg::Scope => named(lo, Scope::from_raw, |c| strip(c.name(), "SCOPE_")),
        Arg::Signal => named(lo, Signal::from_raw, |c| c.name().to_string()),
        Arg::Whence => named(lo, Whence::from_raw, |c| strip(c.name(), "WHENCE_")),
        Arg::Advice => named(lo, Advice::from_raw, |c| strip(c.name(), "ADVICE_")),
        Arg::FileType => named(lo, FileType::from_raw, |t| format!("{t:?}")),
        Arg::Prot => bit_names(
            lo,
            &[
                (PROT_READ, "READ"),
                (PROT_WRITE, "WRITE"),
                (PROT_EXEC, "EXEC"),
            ],
        ),
        Arg::MapFlags => bit_names(
            lo,
            &[
                (MAP_ANON, "ANON"),
                (MAP_FIXED, "FIXED"),
                (MAP_PRIVATE, "PRIVATE"),
                (MAP_SHARED, "SHARED"),
            ],
        ),
        Arg::MapFd if lo == MAP_ANON_FD => "ANON".to_string(),
        Arg::MapFd => lo.to_string(),
    }
}

/// One trace line for call number `nr` with argument words `args` (`None`: not read)
/// and `outcome`.
pub fn describe(nr: u32, args: Option<&[u32]>, outcome: &Outcome) -> String {
    let Some(call) = Syscall::from_raw(nr) else {
        let end = match outcome {
            Outcome::Err(e) => errno_name(*e),
            other => format!("{other:?}"),
        };
        return format!("syscall {nr} -> {end}");
    };
    let mut line = format!("{}(", call.name());
    match args {
        None => line.push('?'),
        Some(words) => {
            let mut at = 0;
            for (i, (name, kind)) in params(call).iter().enumerate() {
                let w = |k: usize| words.get(at + k).copied().unwrap_or(0);
                let value = value_text(*kind, w(0), w(1));
                if i > 0 {
                    line.push_str(", ");
                }
                line.push_str(name);
                line.push('=');
                line.push_str(&value);
                at += kind.words();
            }
        }
    }
    line.push(')');
    let end = match outcome {
        Outcome::Ok { eax, edx } => format!(" -> {}", result_text(call, *eax, *edx)),
        Outcome::Err(e) => format!(" -> {}", errno_name(*e)),
        Outcome::Exec { eip, esp } => format!(" -> new image: eip={eip:#x} esp={esp:#x}"),
        Outcome::Exit => String::new(),
        Outcome::Killed(e) => format!(" -> killed: {}", e.name()),
        Outcome::Restart => " -> restart".to_string(),
        Outcome::Terminated(sig) => format!(" -> terminated by {}", sig.to_uppercase()),
    };
    line.push_str(&end);
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_has_as_many_parameter_words_as_the_shim_reads() {
        for &call in Syscall::ALL {
            let words: usize = params(call).iter().map(|(_, k)| k.words()).sum();
            assert_eq!(words, usize::from(call.arg_words()), "{}", call.name());
        }
    }

    #[test]
    fn lines_decode_arguments_and_results_by_type() {
        let ok = |eax, edx| Outcome::Ok { eax, edx };
        assert_eq!(
            describe(16, Some(&[1, 0xbfbf_0028, 1]), &ok(13, 0)),
            "fd_write(fd=1, iovs=0xbfbf0028, iovs_len=1) -> 13"
        );
        assert_eq!(
            describe(
                33,
                Some(&[0, 0x20_0000, 6, 5, u32::MAX, 0, 0]),
                &ok(0x4000_0000, 0)
            ),
            "mem_map(addr=0x0, len=2097152, prot=READ|WRITE, flags=ANON|PRIVATE, fd=ANON, off=0) -> 0x40000000"
        );
        assert_eq!(
            describe(12, Some(&[1, u32::MAX, u32::MAX, 1]), &Outcome::Err(76)),
            "fd_seek(fd=1, offset=-1, whence=CUR) -> ENOTCAPABLE"
        );
        assert_eq!(
            describe(1, Some(&[0, 5, 1]), &ok(2, 1)),
            "clock_time_get(clock_id=0, precision=4294967301) -> 4294967298"
        );
        assert_eq!(
            describe(1, Some(&[1, 0, 0]), &ok(0, 0)),
            "clock_time_get(clock_id=MONOTONIC, precision=0) -> 0"
        );
        assert_eq!(
            describe(34, Some(&[0x1000, 0x2000, 0x15]), &ok(0, 0)),
            "mem_protect(mapping=0x1000, mapping_len=8192, prot=READ|EXEC|0x10) -> 0"
        );
        assert_eq!(
            describe(41, Some(&[1]), &Outcome::Exit),
            "proc_raise(sig=SIGABRT)"
        );
        assert_eq!(
            describe(4, Some(&[130]), &ok(3, 0)),
            "fd_create1(type=SocketStream) -> 3"
        );
        assert_eq!(
            describe(
                33,
                Some(&[0x1000, 0x1000, 0, 2, 3, 0x1000, 0]),
                &ok(0x1000, 0)
            ),
            "mem_map(addr=0x1000, len=4096, prot=0x0, flags=FIXED, fd=3, off=4096) -> 0x1000"
        );
        assert_eq!(
            describe(21, Some(&[3, 1, 0x100, 4, 0, 0x200]), &ok(5, 0)),
            "file_open(dirfd=3/0x1, path=0x100, path_len=4, oflags=0x0, fds=0x200) -> 5"
        );
        assert_eq!(
            describe(39, Some(&[7]), &Outcome::Exit),
            "proc_exit(rval=7)"
        );
        assert_eq!(describe(40, Some(&[]), &ok(3, 9)), "proc_fork() -> (3, 9)");
        assert_eq!(
            describe(13, None, &Outcome::Err(21)),
            "fd_stat_get(?) -> EFAULT"
        );
        assert_eq!(
            describe(49, None, &Outcome::Err(52)),
            "syscall 49 -> ENOSYS"
        );
        assert_eq!(
            describe(
                38,
                Some(&[0, 0x10, 3, 0x20, 1]),
                &Outcome::Exec {
                    eip: 0x8048054,
                    esp: 0xbfbfff28
                }
            ),
            "proc_exec(fd=0, data=0x10, data_len=3, fds=0x20, fds_len=1) -> new image: eip=0x8048054 esp=0xbfbfff28"
        );
    }
}
