//! `poll(in, out, nsubscriptions) -> nevents`: subscriptions copied in and decoded,
//! descriptor subscriptions checked, the kernel waits, events copied out.
//!
//! # References
//! - FreeBSD 12 `sys/compat/cloudabi32/cloudabi32_poll.c`.

use alloc::vec::Vec;

use super::super::cloudabi32::{Cloudabi32, EventType};
use super::super::hooks::KernelCalls;
use super::super::wire::{Event, Subscription, SubscriptionKind};
use super::{Args, Served, fd_arg};
use crate::Errno;
use crate::exec::{UserAccess, UserMemory, copyin, copyout, useracc};
use crate::fdtable::Rights;

/// Serves `poll`. Both arrays are checked first (`EFAULT`), then the subscriptions are
/// copied in and decoded (an unknown type, clock or scope is `EINVAL`). A descriptor
/// subscription whose descriptor is not open (`EBADF`) or lacks its rights
/// (`FD_READ` or `FD_WRITE` with `POLL_FD_READWRITE`; `POLL_PROC_TERMINATE`:
/// `ENOTCAPABLE`) is an event carrying that error, reported at once without waiting, as
/// FreeBSD's kqueue reports a failed registration. Otherwise the kernel's
/// [`KernelCalls::poll`] waits and fills the events, which are copied out.
pub(super) fn serve<P>(process: &mut P, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    let (inp, outp, n) = (a.word(0), a.word(1), a.word(2));
    // An array larger than the address space cannot be in user memory: EFAULT on
    // every host width, as FreeBSD's copy-in of the subscriptions would fault.
    let in_len = (n as usize)
        .checked_mul(Subscription::SIZE)
        .ok_or(Errno::EFAULT)?;
    let out_len = (n as usize).checked_mul(Event::SIZE).ok_or(Errno::EFAULT)?;
    useracc(process.memory(), inp, in_len, UserAccess::Read)?;
    useracc(process.memory(), outp, out_len, UserAccess::Write)?;
    let mut raw = Vec::new();
    raw.try_reserve_exact(in_len).map_err(|_| Errno::ENOMEM)?;
    raw.resize(in_len, 0);
    copyin(process.memory(), inp, &mut raw)?;
    let mut subs = Vec::new();
    subs.try_reserve_exact(n as usize)
        .map_err(|_| Errno::ENOMEM)?;
    for chunk in raw.chunks_exact(Subscription::SIZE) {
        subs.push(Subscription::decode(chunk)?);
    }
    drop(raw);
    let mut events = Vec::new();
    events
        .try_reserve_exact(n as usize)
        .map_err(|_| Errno::ENOMEM)?;
    // Descriptor subscriptions that fail their checks are reported at once.
    for s in &subs {
        if let Some(e) = check_subscription(process, s) {
            let mut ev = Event::new(s.userdata, s.event_type());
            ev.error = Some(e);
            events.push(ev);
        }
    }
    let filled = if events.is_empty() {
        events.extend(subs.iter().map(|s| Event::new(s.userdata, s.event_type())));
        let filled = process.poll(&subs, &mut events)?;
        filled.min(events.len())
    } else {
        events.len()
    };
    let mem = process.memory_mut();
    for (i, ev) in events.iter().take(filled).enumerate() {
        copyout(mem, outp + (i * Event::SIZE) as u32, &ev.encode())?;
    }
    Ok(Served::word(filled as u32))
}

/// The error of a descriptor subscription that cannot be registered, if any.
fn check_subscription<P: KernelCalls + ?Sized>(process: &P, s: &Subscription) -> Option<Errno> {
    let (fd, need) = match s.kind {
        SubscriptionKind::FdReadWrite { kind, fd, .. } => {
            let rw = if kind == EventType::EVENTTYPE_FD_READ {
                Rights::FD_READ
            } else {
                Rights::FD_WRITE
            };
            (fd, rw | Rights::POLL_FD_READWRITE)
        }
        SubscriptionKind::ProcTerminate { fd } => (fd, Rights::POLL_PROC_TERMINATE),
        _ => return None,
    };
    let fd = match fd_arg(fd) {
        Ok(fd) => fd,
        Err(e) => return Some(e),
    };
    match process.fd_table().get_file(fd) {
        Err(e) => Some(e),
        Ok((_, rights)) if !rights.base.contains(need) => Some(Errno::ENOTCAPABLE),
        Ok(_) => None,
    }
}
