//! Values unique to the process and across its restarts, made without a draw from the
//! system's random source each time: request ids and the simulator's SIDs are made on every
//! request, and each draw is a system call.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// 128 bits as 32 lower-case hex digits: a random 64-bit prefix drawn once per process,
/// then a counter. Two processes share a prefix with a chance of one in 2^64.
pub fn hex32() -> [u8; 32] {
    static PREFIX: LazyLock<u64> = LazyLock::new(|| uuid::Uuid::new_v4().as_u64_pair().0);
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let value = (u128::from(*PREFIX) << 64) | u128::from(NEXT.fetch_add(1, Ordering::Relaxed));
    let mut hex = [0u8; 32];
    for (i, digit) in hex.iter_mut().enumerate() {
        let nibble = (value >> (4 * (31 - i))) & 0xf;
        *digit = b"0123456789abcdef"[nibble as usize];
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_is_hex_and_new() {
        let (first, second) = (hex32(), hex32());
        assert_ne!(first, second);
        for value in [first, second] {
            assert!(
                value
                    .iter()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
        // The same prefix, then the counter.
        assert_eq!(first[..16], second[..16]);
    }
}
