//! `--trace`: one line per system call, with its arguments decoded by name and type and
//! its result, the same for the simulated and the native runs.
//!
//! ```text
//! fd_write(fd=1, iovs=0xbfbf0028, iovs_len=1) -> 13
//! mem_map(addr=0, len=2097152, prot=0x3, flags=0x6, fd=4294967295, off=0) -> 0x40000000
//! fd_seek(fd=1, offset=0, whence=1) -> ENOTCAPABLE
//! ```

use capexec::Errno;
use capexec::abi::SyscallResults;
use capexec::abi::cloudabi32::Syscall;

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
        clock_res_get => &[("clock_id", Num)],
        clock_time_get => &[("clock_id", Num), ("precision", U64)],
        condvar_signal => &[("condvar", Ptr), ("scope", Num), ("nwaiters", Len)],
        fd_close | fd_datasync | fd_sync => &[("fd", Fd)],
        fd_create1 | fd_create2 => &[("type", Num)],
        fd_dup => &[("from", Fd)],
        fd_pread | fd_pwrite => &[
            ("fd", Fd),
            ("iovs", Ptr),
            ("iovs_len", Len),
            ("offset", U64),
        ],
        fd_read | fd_write => &[("fd", Fd), ("iovs", Ptr), ("iovs_len", Len)],
        fd_replace => &[("from", Fd), ("to", Fd)],
        fd_seek => &[("fd", Fd), ("offset", I64), ("whence", Num)],
        fd_stat_get | file_stat_fget => &[("fd", Fd), ("buf", Ptr)],
        fd_stat_put | file_stat_fput => &[("fd", Fd), ("buf", Ptr), ("flags", Flags)],
        file_advise => &[("fd", Fd), ("offset", U64), ("len", U64), ("advice", Num)],
        file_allocate => &[("fd", Fd), ("offset", U64), ("len", U64)],
        file_create => &[("fd", Fd), ("path", Ptr), ("path_len", Len), ("type", Num)],
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
        lock_unlock | thread_exit => &[("lock", Ptr), ("scope", Num)],
        mem_advise => &[("mapping", Ptr), ("mapping_len", Len), ("advice", Num)],
        mem_map => &[
            ("addr", Ptr),
            ("len", Len),
            ("prot", Flags),
            ("flags", Flags),
            ("fd", Fd),
            ("off", U64),
        ],
        mem_protect => &[("mapping", Ptr), ("mapping_len", Len), ("prot", Flags)],
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
        proc_raise => &[("sig", Num)],
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
                let value = match kind {
                    Arg::Fd | Arg::Len | Arg::Num => w(0).to_string(),
                    Arg::Ptr | Arg::Flags => format!("{:#x}", w(0)),
                    Arg::U64 => (u64::from(w(1)) << 32 | u64::from(w(0))).to_string(),
                    Arg::I64 => ((u64::from(w(1)) << 32 | u64::from(w(0))) as i64).to_string(),
                    Arg::Lookup => format!("{}/{:#x}", w(0), w(1)),
                };
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
                Some(&[0, 0x20_0000, 3, 6, u32::MAX, 0, 0]),
                &ok(0x4000_0000, 0)
            ),
            "mem_map(addr=0x0, len=2097152, prot=0x3, flags=0x6, fd=4294967295, off=0) -> 0x40000000"
        );
        assert_eq!(
            describe(12, Some(&[1, u32::MAX, u32::MAX, 1]), &Outcome::Err(76)),
            "fd_seek(fd=1, offset=-1, whence=1) -> ENOTCAPABLE"
        );
        assert_eq!(
            describe(1, Some(&[0, 5, 1]), &ok(2, 1)),
            "clock_time_get(clock_id=0, precision=4294967301) -> 4294967298"
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
