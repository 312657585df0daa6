//! Where a draw in `0..10000` (a sticky bucket or a random roll) lands
//! among a release's versions. Spelled out here and in the README so other
//! tools can compute it:
//!
//! ```text
//! the first canary holds    [0, w1)
//! the second holds          [10000 - w2, 10000)
//! the k-th (k >= 3) holds   [10000 - (w2 + ... + wk), 10000 - (w2 + ... + w(k-1)))
//! the baseline holds the rest, between the first and the others
//! ```
//!
//! The first grows up from the bottom and the rest are stacked down from
//! the top, so raising one weight shrinks only the baseline: no draw ever
//! moves to the baseline, and with one or two canaries a draw moves only
//! from the baseline into the canary that rose. With three or more, raising
//! the k-th (1 < k < n) shifts canaries k+1..n down by the increase: the
//! top of each of those moves into the one before it, and draws from the
//! baseline into the n-th.

use crate::bucket::BUCKETS;

/// The canary (its position in the release's list) that `draw` lands on
/// for canaries of weights `weights` (basis points, summing to at most
/// 10000), or `None` for the baseline.
pub fn landing(draw: u32, weights: impl IntoIterator<Item = u32>) -> Option<usize> {
    let mut weights = weights.into_iter();
    if draw < weights.next()? {
        return Some(0);
    }
    let mut top = BUCKETS;
    for (position, weight) in weights.enumerate() {
        top = top.saturating_sub(weight);
        if draw >= top {
            return Some(position + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// (weights, draw, landing), computed with the Python reference in the
    /// README ("Sticky assignment"). Changing the layout would move users
    /// between versions on upgrade, so these must never change.
    const PINNED: [(&[u32], u32, Option<usize>); 14] = [
        (&[2000], 1999, Some(0)),
        (&[2000], 2000, None),
        (&[0], 0, None),
        (&[10000], 9999, Some(0)),
        (&[2000, 1000], 1999, Some(0)),
        (&[2000, 1000], 2000, None),
        (&[2000, 1000], 8999, None),
        (&[2000, 1000], 9000, Some(1)),
        (&[2000, 1000, 550], 8999, Some(2)),
        (&[2000, 1000, 550], 8450, Some(2)),
        (&[2000, 1000, 550], 8449, None),
        (&[0, 0, 10000], 0, Some(2)),
        (&[5000, 0, 5000], 5000, Some(2)),
        (&[1, 1, 1, 1, 1, 1, 1, 1], 9993, Some(7)),
    ];

    #[test]
    fn landing_is_pinned() {
        for (weights, draw, want) in PINNED {
            assert_eq!(
                landing(draw, weights.iter().copied()),
                want,
                "{weights:?} {draw}"
            );
        }
    }

    #[test]
    fn shares_are_the_weights_exactly() {
        for weights in [
            &[2000u32, 1000][..],
            &[2000, 1000, 550],
            &[0, 10000],
            &[3333, 3333, 3334],
        ] {
            let mut counts = vec![0u32; weights.len() + 1];
            for draw in 0..BUCKETS {
                let slot = landing(draw, weights.iter().copied()).map_or(0, |c| c + 1);
                counts[slot] += 1;
            }
            let canaries: u32 = weights.iter().sum();
            assert_eq!(counts[0], BUCKETS - canaries, "{weights:?}");
            assert_eq!(&counts[1..], weights, "{weights:?}");
        }
    }

    #[test]
    fn raising_one_weight_moves_no_draw_to_the_baseline() {
        let before = [1000u32, 2000, 500, 700];
        for raised in 0..before.len() {
            let mut after = before;
            after[raised] += 1500;
            for draw in 0..BUCKETS {
                let was = landing(draw, before.iter().copied());
                let now = landing(draw, after.iter().copied());
                if was.is_some() {
                    assert!(now.is_some(), "draw {draw} left canary {was:?}");
                }
                // With the first or last raised, only the baseline gives.
                if raised == 0 || raised == before.len() - 1 {
                    assert!(was == now || (was.is_none() && now == Some(raised)));
                }
            }
        }
    }
}
