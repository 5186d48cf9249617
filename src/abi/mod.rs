//! The i386 CloudABI (cloudabi32) shim: what a kernel calls from its `int $0x80`
//! handler when a 32-bit CloudABI process makes a system call.

pub mod cloudabi32;
pub mod errno;
