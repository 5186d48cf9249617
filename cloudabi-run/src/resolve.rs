//! The configuration's descriptor tags, resolved against the launcher's table.
//!
//! A plain tag passes the launcher's descriptor with the rights the launcher holds. A
//! tag asking for rights (`!fd {fd: stderr, rights: [fd_write]}`) gets a descriptor of
//! its own in the launcher (a duplicate, or the file just opened) narrowed with the
//! table's rights narrowing, the operation `fd_stat_put(FDSTAT_RIGHTS)` performs: only
//! ever fewer rights. The same host descriptor asked for with the same rights twice is
//! one launcher descriptor, so the program gets one descriptor per distinct pair.

use std::collections::HashMap;

use capexec::fdtable::{Fd, FdRights};
use capexec_host::{HostFile, StartupFds};
use cloudabi_run::config::{self, RightsRequest, right_names};

use crate::sim::Launcher;

/// What a descriptor tag names, before rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    /// `!fd N`.
    Host(i32),
    /// `!executable`.
    Executable,
}

/// Resolves the YAML's descriptor tags against the launcher.
pub struct Resolver<'a> {
    launcher: &'a mut Launcher,
    startup: &'a StartupFds,
    /// The launcher's descriptor for the program being started.
    exe: i32,
    /// Inherited host descriptors already in the launcher table, and where.
    inherited: HashMap<i32, i32>,
    /// Narrowed duplicates already made: (source, rights) to launcher descriptor.
    narrowed: HashMap<(Source, FdRights), i32>,
}

impl<'a> Resolver<'a> {
    /// A resolver over `launcher`, whose descriptor `exe` is the program.
    pub fn new(launcher: &'a mut Launcher, startup: &'a StartupFds, exe: i32) -> Resolver<'a> {
        Resolver {
            launcher,
            startup,
            exe,
            inherited: HashMap::new(),
            narrowed: HashMap::new(),
        }
    }

    /// Launcher descriptor `fd` (the plain form of `source`) with the rights `req`
    /// asks for: `fd` itself when that changes nothing, else a narrowed duplicate
    /// (one per distinct set of rights).
    fn with_rights(
        &mut self,
        source: Source,
        what: &str,
        fd: i32,
        req: RightsRequest,
    ) -> Result<i32, String> {
        if req.is_keep() {
            return Ok(fd);
        }
        let at = Fd::from_raw(fd).map_err(|e| e.to_string())?;
        let held = self
            .launcher
            .proc
            .table
            .lock()
            .get(at)
            .map_err(|e| format!("{what}: {e}"))?
            .rights();
        let want = req.apply(held);
        if let Some(why) = RightsRequest::widening(held, want) {
            return Err(format!("{what}: {why}"));
        }
        if want == held {
            return Ok(fd);
        }
        if let Some(&dup) = self.narrowed.get(&(source, want)) {
            return Ok(dup);
        }
        let dup = {
            let mut t = self.launcher.proc.table.lock();
            let min = Fd::from_raw(3).map_err(|e| e.to_string())?;
            let dup = t
                .dup_min(at, min)
                .map_err(|e| format!("{what}: launcher table: {e}"))?;
            if let Err(e) = t.narrow_rights(dup, want) {
                drop(t.close(dup));
                return Err(format!("{what}: narrowing its rights: {e}"));
            }
            dup.raw()
        };
        self.trace_narrowing(what, Some(fd), dup, held, want);
        self.narrowed.insert((source, want), dup);
        Ok(dup)
    }

    /// With `--trace`: one line per narrowed descriptor.
    fn trace_narrowing(
        &self,
        what: &str,
        from: Option<i32>,
        fd: i32,
        held: FdRights,
        want: FdRights,
    ) {
        if !self.launcher.trace {
            return;
        }
        let from = from
            .map(|f| format!(" (a duplicate of {f})"))
            .unwrap_or_default();
        eprintln!(
            "narrow {what}: launcher fd {fd}{from}: base {:#x} -> {:#x} [{}], inheriting {:#x} -> {:#x} [{}]",
            held.base.bits(),
            want.base.bits(),
            right_names(want.base),
            held.inheriting.bits(),
            want.inheriting.bits(),
            right_names(want.inheriting),
        );
    }

    /// The launcher's descriptor for host descriptor `n` with the launcher's rights.
    fn plain_host_fd(&mut self, n: i32) -> Result<i32, String> {
        if (0..=2).contains(&n) {
            let fd = Fd::from_raw(n).map_err(|e| e.to_string())?;
            return if self.launcher.proc.table.lock().is_open(fd) {
                Ok(n)
            } else {
                Err(format!("descriptor {n} is not open in the launcher"))
            };
        }
        if let Some(&fd) = self.inherited.get(&n) {
            return Ok(fd);
        }
        let fd = self.launcher.insert(inherited(self.startup, n)?)?;
        self.inherited.insert(n, fd);
        Ok(fd)
    }
}

impl config::Descriptors for Resolver<'_> {
    fn host_fd(&mut self, n: i32, rights: RightsRequest) -> Result<i32, String> {
        let fd = self.plain_host_fd(n)?;
        let what = match n {
            0 => "stdin".to_string(),
            1 => "stdout".to_string(),
            2 => "stderr".to_string(),
            n => format!("descriptor {n}"),
        };
        self.with_rights(Source::Host(n), &what, fd, rights)
    }

    fn open_file(&mut self, path: &str, rights: RightsRequest) -> Result<i32, String> {
        let f = HostFile::open_read_only(std::path::Path::new(path))
            .map_err(|e| format!("cannot open {path}: {e}"))?;
        let held = f.rights();
        let want = rights.apply(held);
        if let Some(why) = RightsRequest::widening(held, want) {
            return Err(format!("{path}: {why}"));
        }
        let fd = self.launcher.insert(f)?;
        if want != held {
            let at = Fd::from_raw(fd).map_err(|e| e.to_string())?;
            self.launcher
                .proc
                .table
                .lock()
                .narrow_rights(at, want)
                .map_err(|e| format!("{path}: narrowing its rights: {e}"))?;
            self.trace_narrowing(path, None, fd, held, want);
        }
        Ok(fd)
    }

    fn executable(&mut self, rights: RightsRequest) -> Result<i32, String> {
        self.with_rights(Source::Executable, "the executable", self.exe, rights)
    }
}

/// The launcher's own host descriptor `n`, inherited from its parent: a duplicate of it
/// (the same open file, offset and flags), refused if `n` was not open at startup.
fn inherited(startup: &StartupFds, n: i32) -> Result<HostFile, String> {
    if !startup.contains(n) {
        return Err(format!("descriptor {n} is not open in the launcher"));
    }
    startup
        .host_file(n)
        .map_err(|e| format!("descriptor {n}: {e}"))
}
