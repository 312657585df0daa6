//! One compiled condition: where its value comes from and how it is tested.

use std::borrow::Cow;

use crate::bucket::percent_bucket;
use crate::regex::Regex;
use crate::request::Request;

/// Where a condition reads its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A request header, by lower-cased name.
    Header(String),
    Cookie(String),
    Query(String),
}

/// A compiled operator with its operand.
#[derive(Debug, Clone)]
pub enum Op {
    Equals(String),
    NotEquals(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Regex(Regex),
    /// Sorted, for binary search.
    In(Vec<String>),
    NotIn(Vec<String>),
    Present,
    Absent,
    Gt(f64),
    Ge(f64),
    Lt(f64),
    Le(f64),
    /// Satisfied when the value's percent bucket (0..100) is below this.
    Percent(u32),
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub source: Source,
    pub op: Op,
}

impl Condition {
    /// `release` salts the `percent` bucket, as it does the sticky one.
    pub fn matches(&self, request: &Request<'_>, release: &str) -> bool {
        let value: Option<Cow<'_, [u8]>> = match &self.source {
            Source::Header(name) => request.header(name.as_bytes()),
            Source::Cookie(name) => request.cookie(name.as_bytes()).map(Cow::Borrowed),
            Source::Query(name) => request.query(name.as_bytes()),
        };
        match value {
            None => matches!(self.op, Op::Absent),
            Some(bytes) => self.op.test(&bytes, release),
        }
    }
}

impl Op {
    /// Tests a value that is present. A value that is not UTF-8 satisfies
    /// `present` and nothing else.
    fn test(&self, bytes: &[u8], release: &str) -> bool {
        let Ok(value) = std::str::from_utf8(bytes) else {
            return matches!(self, Op::Present);
        };
        match self {
            Op::Equals(want) => value == want,
            Op::NotEquals(want) => value != want,
            Op::Prefix(want) => value.starts_with(want.as_str()),
            Op::Suffix(want) => value.ends_with(want.as_str()),
            Op::Contains(want) => value.contains(want.as_str()),
            Op::Regex(re) => re.is_match(value),
            Op::In(set) => set.binary_search_by(|s| s.as_str().cmp(value)).is_ok(),
            Op::NotIn(set) => set.binary_search_by(|s| s.as_str().cmp(value)).is_err(),
            Op::Present => true,
            Op::Absent => false,
            Op::Gt(n) => number(value).is_some_and(|v| v > *n),
            Op::Ge(n) => number(value).is_some_and(|v| v >= *n),
            Op::Lt(n) => number(value).is_some_and(|v| v < *n),
            Op::Le(n) => number(value).is_some_and(|v| v <= *n),
            Op::Percent(below) => percent_bucket(release, bytes) < *below,
        }
    }
}

/// A number in JSON's syntax, surrounding spaces allowed ("nan", "inf",
/// "+1" and "1." are not numbers here). Shared with the config so both read
/// numbers alike. Read by the config's own JSON reader, so the wasm carries
/// one number parser rather than two.
pub(crate) fn number(value: &str) -> Option<f64> {
    crate::json::number(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn s(v: &str) -> String {
        v.to_string()
    }

    fn check(op: Op, value: Option<&[u8]>) -> bool {
        let condition = Condition {
            source: Source::Header(s("x")),
            op,
        };
        let pairs: Vec<(&[u8], &[u8])> = value.map(|v| (&b"x"[..], v)).into_iter().collect();
        condition.matches(&Request::new(&pairs), "r")
    }

    #[test]
    fn operator_table() {
        let re = |p: &str| Op::Regex(Regex::new(p).unwrap());
        let set = |v: &[&str]| v.iter().map(|x| s(x)).collect::<Vec<_>>();
        // (operator, request value, expected)
        let cases: Vec<(Op, Option<&[u8]>, bool)> = vec![
            (Op::Equals(s("test")), Some(b"test"), true),
            (Op::Equals(s("test")), Some(b"Test"), false),
            (Op::Equals(s("test")), None, false),
            (Op::NotEquals(s("prod")), Some(b"test"), true),
            (Op::NotEquals(s("prod")), Some(b"prod"), false),
            (Op::NotEquals(s("prod")), None, false),
            (Op::Prefix(s("ab")), Some(b"abc"), true),
            (Op::Prefix(s("ab")), Some(b"cab"), false),
            (Op::Suffix(s("bc")), Some(b"abc"), true),
            (Op::Suffix(s("bc")), Some(b"bca"), false),
            (Op::Contains(s("b")), Some(b"abc"), true),
            (Op::Contains(s("z")), Some(b"abc"), false),
            (re("^v[0-9]+$"), Some(b"v12"), true),
            (re("^v[0-9]+$"), Some(b"v12a"), false),
            (Op::In(set(&["1001", "1002"])), Some(b"1002"), true),
            (Op::In(set(&["1001", "1002"])), Some(b"1003"), false),
            (Op::NotIn(set(&["1001"])), Some(b"1003"), true),
            (Op::NotIn(set(&["1001"])), Some(b"1001"), false),
            (Op::NotIn(set(&["1001"])), None, false),
            (Op::Present, Some(b""), true),
            (Op::Present, None, false),
            (Op::Absent, None, true),
            (Op::Absent, Some(b"x"), false),
            (Op::Gt(18.0), Some(b"18.5"), true),
            (Op::Gt(18.0), Some(b"18"), false),
            (Op::Ge(18.0), Some(b"18"), true),
            (Op::Lt(18.0), Some(b" 17 "), true),
            (Op::Le(18.0), Some(b"19"), false),
            (Op::Gt(1.0), Some(b"abc"), false),
            (Op::Lt(1.0), Some(b"-inf"), false),
            (Op::Lt(1.0), Some(b"NaN"), false),
            (Op::Lt(1.0), Some(b"+0"), false),
            (Op::Lt(1.0), Some(b"-2.5e-1"), true),
            (Op::Lt(1.0), Some(b"[0]"), false),
            (Op::Lt(1.0), Some(b"-2.5e-1"), true),
            (Op::Percent(100), Some(b"anyone"), true),
            (Op::Percent(0), Some(b"anyone"), false),
            (Op::Percent(100), None, false),
            // Not UTF-8: only `present` holds.
            (Op::Present, Some(b"\xff\xfe"), true),
            (Op::NotEquals(s("prod")), Some(b"\xff"), false),
            (Op::NotIn(set(&["a"])), Some(b"\xff"), false),
            (re("."), Some(b"\xff"), false),
        ];
        for (i, (op, value, want)) in cases.into_iter().enumerate() {
            let label = format!("case {i}: {op:?} on {value:?}");
            assert_eq!(check(op, value), want, "{label}");
        }
    }

    #[test]
    fn percent_splits_keys_by_bucket() {
        // 10,000 keys at 30%: expect 3,000, sd ~ 45.8; allow 5 sd.
        let op = Op::Percent(30);
        let hits = (0..10_000)
            .filter(|i| op.test(format!("user-{i}").as_bytes(), "r"))
            .count();
        assert!((2771..=3229).contains(&hits), "{hits}");
    }
}
