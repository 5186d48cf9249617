//! The host's clocks, as the traced program's `clock_res_get` / `clock_time_get` see
//! them: the monotonic and real-time clocks of the host, and the CPU time of the traced
//! process for both CPU-time clocks (the runner traces one thread).

use capexec::Errno;
use capexec::abi::cloudabi32::ClockId;
use nix::time::{ClockId as HostClock, clock_getcpuclockid, clock_getres, clock_gettime};
use nix::unistd::Pid;

/// Reads `clock` (its resolution when `resolution`) in nanoseconds; `pid` is the traced
/// process. A host failure is its errno, converted.
///
/// # References
/// - POSIX `clock_gettime`, `clock_getres`, `clock_getcpuclockid`.
pub(crate) fn read(clock: ClockId, pid: Pid, resolution: bool) -> Result<u64, Errno> {
    let host = match clock {
        ClockId::CLOCK_MONOTONIC => HostClock::CLOCK_MONOTONIC,
        ClockId::CLOCK_REALTIME => HostClock::CLOCK_REALTIME,
        ClockId::CLOCK_PROCESS_CPUTIME_ID | ClockId::CLOCK_THREAD_CPUTIME_ID => {
            clock_getcpuclockid(pid).map_err(host_errno)?
        }
    };
    let ts = if resolution {
        clock_getres(host)
    } else {
        clock_gettime(host)
    }
    .map_err(host_errno)?;
    let secs = u64::try_from(ts.tv_sec()).map_err(|_| Errno::EOVERFLOW)?;
    let nanos = u64::try_from(ts.tv_nsec()).map_err(|_| Errno::EOVERFLOW)?;
    secs.checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(nanos))
        .ok_or(Errno::EOVERFLOW)
}

fn host_errno(e: nix::errno::Errno) -> Errno {
    capexec::abi::errno::from_linux(e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now(c: HostClock) -> u64 {
        let ts = clock_gettime(c).unwrap();
        ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
    }

    #[test]
    fn the_host_clocks_in_nanoseconds() {
        let me = Pid::this();
        for (clock, host) in [
            (ClockId::CLOCK_MONOTONIC, HostClock::CLOCK_MONOTONIC),
            (ClockId::CLOCK_REALTIME, HostClock::CLOCK_REALTIME),
        ] {
            let before = now(host);
            let t = read(clock, me, false).unwrap();
            let after = now(host);
            assert!(before <= t && t <= after, "{clock:?}: {before} {t} {after}");
            let res = read(clock, me, true).unwrap();
            assert!((1..=1_000_000).contains(&res), "{clock:?} resolution {res}");
        }
        // The realtime clock is past 2020 (in nanoseconds since 1970).
        assert!(read(ClockId::CLOCK_REALTIME, me, false).unwrap() > 1_577_836_800 * 1_000_000_000);
        // CPU time of a process: this one has run for some time, and it grows.
        let a = read(ClockId::CLOCK_PROCESS_CPUTIME_ID, me, false).unwrap();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let b = read(ClockId::CLOCK_THREAD_CPUTIME_ID, me, false).unwrap();
        assert!(a > 0 && b > a, "{a} {b}");
    }
}
