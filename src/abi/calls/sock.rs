//! The socket calls: `sock_recv`, `sock_send`, `sock_shutdown`, decoded and checked
//! here and served by the kernel.
//!
//! # References
//! - FreeBSD 12 `sys/compat/cloudabi/cloudabi_sock.c`,
//!   `sys/compat/cloudabi32/cloudabi32_sock.c`.

use alloc::vec::Vec;

use super::super::cloudabi32::{
    Cloudabi32, SHUT_RD, SHUT_WR, SOCK_RECV_PEEK, SOCK_RECV_WAITALL, Syscall,
};
use super::super::hooks::KernelCalls;
use super::super::wire::{RecvIn32, RecvOut32, SendIn32, SendOut32};
use super::fd::file_with;
use super::iovec::Iovecs;
use super::{Args, Served, fd_arg};
use crate::Errno;
use crate::exec::{UserAccess, UserMemory, copyin, copyout, useracc};
use crate::fdtable::Rights;

/// Most descriptors one `sock_send` passes (FreeBSD's `SCM_RIGHTS` bound is the
/// message size; this keeps the copy-in small).
const MAX_SEND_FDS: u32 = 1024;

/// Serves the `sock_*` call `call`.
pub(super) fn serve<P>(process: &mut P, call: Syscall, a: &Args) -> Result<Served, Errno>
where
    P: KernelCalls + ?Sized,
    P::Memory: UserMemory<Abi = Cloudabi32>,
{
    match call {
        Syscall::sock_shutdown => {
            let how = a.byte(1);
            if how == 0 || how & !(SHUT_RD | SHUT_WR) != 0 {
                return Err(Errno::EINVAL);
            }
            let sock = file_with(process, a, 0, Rights::SOCK_SHUTDOWN)?;
            process.sock_shutdown(&sock, how)?;
            Ok(Served::NONE)
        }
        Syscall::sock_recv => {
            let mut raw = [0u8; RecvIn32::SIZE];
            copyin(process.memory(), a.word(1), &mut raw)?;
            let ri = RecvIn32::decode(&raw);
            if ri.flags & !(SOCK_RECV_PEEK | SOCK_RECV_WAITALL) != 0 {
                return Err(Errno::EINVAL);
            }
            let out = a.word(2);
            useracc(process.memory(), out, RecvOut32::SIZE, UserAccess::Write)?;
            let list = Iovecs::copyin(process.memory(), ri.data, ri.data_len)?;
            list.check(process.memory(), UserAccess::Write)?;
            let fds_bytes = (ri.fds_len as usize).checked_mul(4).ok_or(Errno::EFAULT)?;
            useracc(process.memory(), ri.fds, fds_bytes, UserAccess::Write)?;
            let sock = file_with(process, a, 0, Rights::FD_READ)?;
            let data = list.to_vec()?;
            let mut ro = process.sock_recv(&sock, &data, ri.fds, ri.fds_len, ri.flags)?;
            drop(sock);
            ro.fdslen = ro.fdslen.min(ri.fds_len);
            copyout(process.memory_mut(), out, &ro.encode())?;
            Ok(Served::NONE)
        }
        Syscall::sock_send => {
            let mut raw = [0u8; SendIn32::SIZE];
            copyin(process.memory(), a.word(1), &mut raw)?;
            let si = SendIn32::decode(&raw);
            if si.flags != 0 {
                return Err(Errno::EINVAL);
            }
            if si.fds_len > MAX_SEND_FDS {
                return Err(Errno::EINVAL);
            }
            let out = a.word(2);
            useracc(process.memory(), out, SendOut32::SIZE, UserAccess::Write)?;
            let list = Iovecs::copyin(process.memory(), si.data, si.data_len)?;
            list.check(process.memory(), UserAccess::Read)?;
            let mut fds_raw = Vec::new();
            let n = si.fds_len as usize * 4;
            fds_raw.try_reserve_exact(n).map_err(|_| Errno::ENOMEM)?;
            fds_raw.resize(n, 0);
            copyin(process.memory(), si.fds, &mut fds_raw)?;
            let mut fds = Vec::new();
            fds.try_reserve_exact(si.fds_len as usize)
                .map_err(|_| Errno::ENOMEM)?;
            for w in fds_raw.chunks_exact(4) {
                let fd = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                // Every descriptor passed must be open.
                process.fd_table().get_file(fd_arg(fd)?)?;
                fds.push(fd);
            }
            let sock = file_with(process, a, 0, Rights::FD_WRITE)?;
            let data = list.to_vec()?;
            let sent = process.sock_send(&sock, &data, &fds, si.flags)?;
            drop(sock);
            let total = list.iter().map(|(_, l)| l).sum::<u32>();
            let so = SendOut32 {
                datalen: sent.min(total),
            };
            copyout(process.memory_mut(), out, &so.encode())?;
            Ok(Served::NONE)
        }
        _ => Err(Errno::ENOSYS),
    }
}
