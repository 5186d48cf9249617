//! The i386 CloudABI (cloudabi32) shim (filled by the ABI issue).
