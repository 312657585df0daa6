use super::*;

const LIMITS: Limits = Limits {
    min_requests: 100,
    max_error_rate: 1.0,
    max_p99_ms: 500.0,
};

fn health(requests: u64, errors: u64, p99_ms: Option<f64>) -> Health {
    Health {
        requests,
        errors,
        rate: 0.0,
        error_rate: (requests > 0).then(|| errors as f64 / requests as f64 * 100.0),
        p50_ms: p99_ms.map(|p| p / 2.0),
        p99_ms,
    }
}

fn metrics(verdict: &Verdict) -> Vec<Metric> {
    match verdict {
        Verdict::Fail { findings } => findings.iter().map(|f| f.metric).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn z_against_values_computed_by_hand() {
    // 20/100 against 5/100: pooled p = 0.125,
    // se = sqrt(0.125 * 0.875 * (1/100 + 1/100)) = 0.0467707,
    // z = 0.15 / 0.0467707 = 3.2071349 (one-sided p = 0.00067).
    let z = two_proportion_z((20, 100), (5, 100)).unwrap();
    assert!((z - 3.207_134_9).abs() < 1e-6, "{z}");
    // 30/1000 against 10/1000: p = 0.02, se = sqrt(0.02 * 0.98 * 0.002)
    // = 0.0062610, z = 0.02 / 0.0062610 = 3.1943828.
    let z = two_proportion_z((30, 1000), (10, 1000)).unwrap();
    assert!((z - 3.194_382_8).abs() < 1e-6, "{z}");
    // 3/100 against 1/100: z = 1.0101525, p = 0.156: not significant.
    let z = two_proportion_z((3, 100), (1, 100)).unwrap();
    assert!((z - 1.010_152_5).abs() < 1e-6, "{z}");
    // Equal rates: z = 0; a better canary: negative.
    assert_eq!(two_proportion_z((2, 200), (10, 1000)), Some(0.0));
    assert!(two_proportion_z((0, 100), (10, 100)).unwrap() < 0.0);
}

#[test]
fn z_has_no_value_where_nothing_compares() {
    assert_eq!(two_proportion_z((0, 0), (5, 100)), None);
    assert_eq!(two_proportion_z((5, 100), (0, 0)), None);
    // No errors anywhere, or every request failed: zero variance.
    assert_eq!(two_proportion_z((0, 100), (0, 100)), None);
    assert_eq!(two_proportion_z((100, 100), (50, 50)), None);
    // More errors than requests (counters read a moment apart): clamped.
    assert_eq!(
        two_proportion_z((150, 100), (0, 100)),
        two_proportion_z((100, 100), (0, 100))
    );
}

#[test]
fn min_requests_boundary() {
    let ok = health(100, 0, Some(10.0));
    assert_eq!(judge(&ok, &ok, &LIMITS), Verdict::Pass);
    let few = health(99, 0, Some(10.0));
    assert!(matches!(
        judge(&few, &ok, &LIMITS),
        Verdict::Inconclusive { .. }
    ));
    // No traffic at all is never a pass, even with min-requests 0.
    let none = health(0, 0, None);
    let zero = Limits {
        min_requests: 0,
        ..LIMITS
    };
    assert!(matches!(
        judge(&none, &ok, &zero),
        Verdict::Inconclusive { .. }
    ));
}

#[test]
fn error_rate_boundary() {
    // Exactly 1% passes, above fails; no baseline traffic: limits only.
    let idle = health(0, 0, None);
    assert_eq!(
        judge(&health(1000, 10, Some(10.0)), &idle, &LIMITS),
        Verdict::Pass
    );
    let over = judge(&health(1000, 11, Some(10.0)), &idle, &LIMITS);
    assert_eq!(metrics(&over), [Metric::ErrorRate]);
    let Verdict::Fail { findings } = over else {
        unreachable!()
    };
    assert!((findings[0].value - 1.1).abs() < 1e-9);
    assert_eq!(findings[0].limit, 1.0);
    assert_eq!(findings[0].baseline, None);
    assert_eq!(
        describe(&findings[0]),
        "error rate 1.10% > max-error-rate 1% (no baseline requests)"
    );
}

#[test]
fn p99_boundary() {
    let base = health(1000, 0, Some(20.0));
    assert_eq!(
        judge(&health(1000, 0, Some(500.0)), &base, &LIMITS),
        Verdict::Pass
    );
    let slow = judge(&health(1000, 0, Some(500.1)), &base, &LIMITS);
    assert_eq!(metrics(&slow), [Metric::P99Ms]);
    let Verdict::Fail { findings } = slow else {
        unreachable!()
    };
    assert_eq!(findings[0].baseline, Some(20.0));
    // NaN latency: unknown, so not a pass.
    let nan = health(1000, 0, Some(f64::NAN));
    assert!(matches!(
        judge(&nan, &base, &LIMITS),
        Verdict::Inconclusive { .. }
    ));
    // ... but a failure on errors stands without it.
    let failing = health(1000, 500, None);
    assert_eq!(
        metrics(&judge(&failing, &base, &LIMITS)),
        [Metric::ErrorRate, Metric::ErrorRateVsBaseline]
    );
}

#[test]
fn worse_than_the_baseline_within_the_limit() {
    // 0.9% is within max-error-rate 1%, but against a baseline of 0.1%
    // over 10000 requests each z = 8.02: a failure.
    let limits = Limits {
        max_error_rate: 1.0,
        ..LIMITS
    };
    let verdict = judge(
        &health(10_000, 90, Some(10.0)),
        &health(10_000, 10, Some(10.0)),
        &limits,
    );
    assert_eq!(metrics(&verdict), [Metric::ErrorRateVsBaseline]);
    // 9/1000 against 1/1000: z = 2.536 > 2.326, a failure; 9/1000
    // against 2/1000: z = 2.116, not significant, a pass.
    let base_1 = health(1000, 1, Some(10.0));
    let verdict = judge(&health(1000, 9, Some(10.0)), &base_1, &LIMITS);
    assert_eq!(metrics(&verdict), [Metric::ErrorRateVsBaseline]);
    let base_2 = health(1000, 2, Some(10.0));
    assert_eq!(
        judge(&health(1000, 9, Some(10.0)), &base_2, &LIMITS),
        Verdict::Pass
    );
}
