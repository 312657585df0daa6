//! Stable hashing for sticky assignment and `percent` conditions, and the
//! fast PRNG that rolls the dice for everything else.
//!
//! The bucket is meant to be computed by other tools too, so it is spelled
//! out here and in the README:
//!
//! ```text
//! h = FNV-1a 64 over: release name bytes, one 0xFF byte, key value bytes
//! h = murmur3 fmix64(h)
//! bucket = h mod 10000          (sticky: canary when bucket < weight in basis points)
//! percent_bucket = h mod 100    (percent op: satisfied when percent_bucket < value)
//! ```
//!
//! 0xFF never occurs in UTF-8, so ("ab", "c") and ("a", "bc") differ.

/// Number of sticky buckets: one per basis point of weight.
pub const BUCKETS: u32 = 10_000;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

pub(crate) fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// MurmurHash3's finaliser: FNV-1a alone leaves the low bits (which `mod`
/// reads) poorly mixed for keys that differ only in their last byte.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn stable_hash(release: &str, key: &[u8]) -> u64 {
    let h = fnv1a(FNV_OFFSET, release.as_bytes());
    fmix64(fnv1a(fnv1a(h, &[0xff]), key))
}

/// The sticky bucket of `key` within `release`, in `0..10000`.
pub fn bucket(release: &str, key: &[u8]) -> u32 {
    // The remainder is below 10000, so it fits.
    (stable_hash(release, key) % u64::from(BUCKETS)) as u32
}

/// The `percent` condition's bucket of `key` within `release`, in `0..100`.
pub fn percent_bucket(release: &str, key: &[u8]) -> u32 {
    (stable_hash(release, key) % 100) as u32
}

/// SplitMix64: one word of state, passes BigCrush, and cheap enough to call on
/// every request. Seeded once per VM by the filter shell.
#[derive(Debug, Clone, Copy)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform roll in `0..10000`, compared against the weight in basis
    /// points. Multiply-shift instead of `%` keeps it free of modulo bias.
    pub fn roll(&mut self) -> u32 {
        ((u128::from(self.next_u64()) * u128::from(BUCKETS)) >> 64) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// (release, key, bucket, percent bucket), computed with the Python
    /// reference in the README ("pay" rows: its "Expected behaviour" table).
    /// Changing the hash would move users between versions on upgrade, so
    /// these must never change.
    const PINNED: [(&str, &[u8], u32, u32); 7] = [
        ("pay-service", b"user-1", 3418, 18),
        ("pay", b"ivan", 520, 20),
        ("pay", b"alice", 6356, 56),
        ("pay-service", b"alice", 3724, 24),
        ("r", b"", 8196, 96),
        ("a", b"bc", 3216, 16),
        ("ab", b"c", 5411, 11),
    ];

    #[test]
    fn bucket_is_pinned() {
        assert_eq!(fnv1a(FNV_OFFSET, b""), FNV_OFFSET);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        for (release, key, want, want_percent) in PINNED {
            let label = format!("{release:?} {key:?}");
            assert_eq!(bucket(release, key), want, "{label}");
            assert_eq!(percent_bucket(release, key), want_percent, "{label}");
        }
    }

    #[test]
    fn separator_keeps_name_and_key_apart() {
        assert_ne!(stable_hash("ab", b"c"), stable_hash("a", b"bc"));
    }

    #[test]
    fn buckets_spread_evenly_over_sequential_ids() {
        // 20,000 ids "u0".."u19999" into 10 deciles: each expects 2,000 with
        // sd = sqrt(20000 * 0.1 * 0.9) ~ 42.4; allow 5 sd.
        let mut deciles = [0u32; 10];
        for i in 0..20_000 {
            let b = bucket("r", format!("u{i}").as_bytes());
            deciles[(b / 1000) as usize] += 1;
        }
        for (decile, count) in deciles.iter().enumerate() {
            assert!((1788..=2212).contains(count), "decile {decile} got {count}");
        }
    }

    #[test]
    fn roll_is_uniform_and_in_range() {
        let mut rng = Rng::new(7);
        let mut below_2000 = 0;
        for _ in 0..100_000 {
            let roll = rng.roll();
            assert!(roll < BUCKETS);
            if roll < 2000 {
                below_2000 += 1;
            }
        }
        // p = 0.2, n = 100000: sd ~ 126.5; allow 5 sd.
        assert!((19_367..=20_633).contains(&below_2000), "{below_2000}");
    }
}
