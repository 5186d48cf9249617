//! Host objects as capexec files, shared by every launcher on a Unix host
//! (`cloudabi-run`'s simulated kernel and the native ptrace runner), so the
//! same host descriptor gets the same CloudABI type and rights in every tool.
//!
//! - [`HostFile`]: a host descriptor (a standard stream, a file opened
//!   read-only, an inherited descriptor) or an executable image held in
//!   memory, as capexec's [`File`](capexec::fdtable::File),
//!   [`FileIo`](capexec::fdtable::FileIo) and
//!   [`ImageFile`](capexec::exec::ImageFile). Reads and writes are single,
//!   unbuffered system calls on the descriptor: a program asking for 6 bytes
//!   takes at most 6 bytes from a shared pipe.
//! - [`host_file_type`]: the CloudABI type of a host descriptor.
//! - [`rights`]: the rights a launcher gives each kind of descriptor.
//! - [`StartupFds`]: the descriptors a launcher inherited, recorded before
//!   it opens anything, and duplicates of them.
//! - [`HostEntropy`]: the host's randomness, with no fallback.
//!
//! The crate is empty on hosts that are not Unix.
#![cfg(unix)]
#![warn(missing_docs)]

mod entropy;
mod errno;
mod file;
mod file_type;
mod inherited;
pub mod rights;

pub use entropy::{HostEntropy, NoRandomness};
pub use errno::errno_from_io;
pub use file::{Access, HostFile, MAX_EXECUTABLE_SIZE, read_bounded};
pub use file_type::host_file_type;
pub use inherited::StartupFds;
