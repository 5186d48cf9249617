//! What the exec layer needs to know about the ABI a process runs under: the width of
//! its user addresses and its limits. The ABI layer supplies it (for i386 CloudABI:
//! `capexec::abi::Cloudabi32`); the exec layer itself assumes no address width.

/// A user address (and `size_t`) of an ABI: `u32` for a 32-bit ABI, `u64` for a 64-bit
/// one. Sealed: these two are the only implementations.
pub trait UserAddress:
    Copy + Eq + Ord + core::fmt::Debug + core::hash::Hash + Send + Sync + 'static + sealed::Sealed
{
    /// Bits in an address: every user range ends at or below `2^BITS`.
    const BITS: u32;
    /// Address 0.
    const ZERO: Self;

    /// The address as a `u64` (lossless).
    fn to_u64(self) -> u64;

    /// `v` as an address, if it fits.
    fn from_u64(v: u64) -> Option<Self>;

    /// `self + n`, if it is still an address.
    #[inline]
    fn checked_add_usize(self, n: usize) -> Option<Self> {
        let n = u64::try_from(n).ok()?;
        Self::from_u64(self.to_u64().checked_add(n)?)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
}

impl UserAddress for u32 {
    const BITS: u32 = 32;
    const ZERO: u32 = 0;
    #[inline]
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
    #[inline]
    fn from_u64(v: u64) -> Option<u32> {
        u32::try_from(v).ok()
    }
}

impl UserAddress for u64 {
    const BITS: u32 = 64;
    const ZERO: u64 = 0;
    #[inline]
    fn to_u64(self) -> u64 {
        self
    }
    #[inline]
    fn from_u64(v: u64) -> Option<u64> {
        Some(v)
    }
}

/// The ABI of a process, as seen by the exec layer (FreeBSD keeps the same facts in the
/// process's `struct sysentvec`). Implemented by the ABI layer on a marker type and named
/// by the kernel's [`UserMemory::Abi`](super::UserMemory::Abi).
///
/// # Example
///
/// A kernel with its own 64-bit ABI:
///
/// ```
/// use capexec::exec::ExecAbi;
///
/// /// The kernel's native 64-bit ABI.
/// pub struct Native64;
///
/// impl ExecAbi for Native64 {
///     type Addr = u64;
///     const ARG_MAX: usize = 2 * 1024 * 1024;
/// }
/// # assert_eq!(<Native64 as ExecAbi>::ARG_MAX, 2 << 20);
/// ```
pub trait ExecAbi {
    /// User addresses and sizes (`size_t`): their width bounds every user range.
    type Addr: UserAddress;
    /// `ARG_MAX`: an exec's argument data must be strictly shorter (`E2BIG`).
    const ARG_MAX: usize;
}

/// The address type of the ABI of user memory `M`.
pub type AbiAddr<M> = <<M as super::UserMemory>::Abi as ExecAbi>::Addr;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_stay_in_range() {
        assert_eq!(u32::from_u64(1 << 32), None);
        assert_eq!(u32::from_u64(u64::from(u32::MAX)), Some(u32::MAX));
        assert_eq!(u32::MAX.checked_add_usize(1), None);
        assert_eq!(7u32.checked_add_usize(3), Some(10));
        assert_eq!(u64::MAX.checked_add_usize(1), None);
        assert_eq!(u64::from_u64(u64::MAX), Some(u64::MAX));
        assert_eq!(<u32 as UserAddress>::BITS, 32);
        assert_eq!(<u64 as UserAddress>::BITS, 64);
    }
}
