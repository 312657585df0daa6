//! Hand-written rather than std's `str::parse::<f64>`, whose exact algorithm and its power-of-five tables cost ~12 KB of the size-budgeted module.
//!
//! Like serde_json's default (non-`float_roundtrip`) reading: exact when the
//! significant digits fit in 2^53 and the power of ten is at most 10^22,
//! which covers every weight, percent and TTL a config holds; otherwise
//! within a few ulps (so a literal within ulps of f64::MAX may read as out
//! of range).

/// Significant digits kept; those after are dropped (their weight is far
/// below what an f64 holds).
const MAX_MANTISSA: u64 = 1_000_000_000_000_000_000;

/// Powers of ten past this give inf or 0 whatever the digits; the clamp keeps
/// the exponent's arithmetic in range.
const MAX_EXPONENT: i64 = 100_000;

/// The value of `text`, a literal already checked against JSON's number
/// grammar. May be infinite (the caller refuses it).
pub(super) fn value_of(text: &[u8]) -> f64 {
    let (negative, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut after_point = false;
    let mut bytes = rest.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'0'..=b'9' if mantissa < MAX_MANTISSA => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                if after_point {
                    exponent -= 1;
                }
            }
            b'0'..=b'9' if !after_point => exponent += 1,
            b'.' => after_point = true,
            b'e' | b'E' => {
                exponent = exponent.saturating_add(written_exponent(bytes.as_slice()));
                break;
            }
            _ => {}
        }
    }
    let magnitude = scale(mantissa as f64, exponent.clamp(-MAX_EXPONENT, MAX_EXPONENT));
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// The exponent after `e`: an optional sign and digits, clamped.
fn written_exponent(text: &[u8]) -> i64 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let mut n: i64 = 0;
    for &b in digits {
        n = (n * 10 + i64::from(b - b'0')).min(MAX_EXPONENT);
    }
    if negative {
        -n
    } else {
        n
    }
}

/// `m` times ten to the `exponent`; each step one correctly rounded
/// operation on an exact power of ten while the power is at most 10^22.
fn scale(m: f64, exponent: i64) -> f64 {
    // Within ±MAX_EXPONENT, so the casts hold.
    let e = exponent as i32;
    if m == 0.0 {
        0.0
    } else if e >= 0 {
        m * 10f64.powi(e)
    } else if e >= -308 {
        m / 10f64.powi(-e)
    } else {
        // 10^-e would be inf; two steps keep subnormal results.
        m / 1e308 / 10f64.powi(-e - 308)
    }
}
