//! The host's randomness.

use capexec::abi::Entropy;

/// The host has no working source of randomness.
#[derive(Debug)]
pub struct NoRandomness(pub getrandom::Error);

impl std::fmt::Display for NoRandomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the host has no randomness (getrandom: {})", self.0)
    }
}

impl std::error::Error for NoRandomness {}

/// The host's randomness (`getrandom(2)`, or what the platform offers in
/// its place), for `random_get` and for the canary and process id of each
/// new image.
///
/// There is no fallback to fixed bytes: [`HostEntropy::new`] fails on a host
/// without randomness, so a launcher that makes its entropy with it refuses
/// to start a program instead of giving it predictable canaries, and
/// [`Entropy::fill`] fails with `EIO` if the host's randomness stops working.
///
/// # References
/// - Linux `getrandom(2)`; FreeBSD `getrandom(2)`.
#[derive(Debug, Clone, Copy)]
pub struct HostEntropy;

impl HostEntropy {
    /// Checks that the host can give random bytes now.
    pub fn new() -> Result<HostEntropy, NoRandomness> {
        let mut probe = [0u8; 16];
        getrandom::fill(&mut probe).map_err(NoRandomness)?;
        Ok(HostEntropy)
    }

    /// Fills `buf` with random bytes, or says why the host cannot.
    pub fn try_fill(&mut self, buf: &mut [u8]) -> Result<(), NoRandomness> {
        getrandom::fill(buf).map_err(NoRandomness)
    }
}

impl Entropy for HostEntropy {
    /// Fills `buf` from the host; `EIO` if the host's randomness, which worked when
    /// this value was made, stops working (never fixed bytes).
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), capexec::Errno> {
        self.try_fill(buf).map_err(|_| capexec::Errno::EIO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_fills_differ() {
        let mut e = HostEntropy::new().unwrap();
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        e.fill(&mut a).unwrap();
        e.fill(&mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
    }
}
