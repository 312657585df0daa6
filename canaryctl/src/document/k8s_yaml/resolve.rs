//! What a YAML scalar becomes when Kubernetes reads a manifest: kubectl and
//! the API server turn YAML into JSON with sigs.k8s.io/yaml, which decodes
//! with go-yaml v2 into `interface{}` and then marshals that to JSON.
//! Hand-written because the Rust YAML crates resolve scalars by YAML 1.2's
//! core schema; this follows go-yaml v2's `resolve()` (YAML 1.1 as go-yaml
//! implements it, not the 1.1 spec's full list: no base-60 numbers, and
//! timestamps stay their text) and sigs.k8s.io/yaml's key conversion.

use serde_json::{Number, Value};

/// A scalar after resolution; `Str` keeps the text as it was written.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

/// go-yaml v2's long form of `!!name`.
const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// Resolves one scalar. `plain` is false for quoted and block scalars,
/// which are strings unless a tag says otherwise. `tag` is the resolved
/// tag (`tag:yaml.org,2002:int` for `!!int`), if any.
pub fn resolve(text: &str, plain: bool, tag: Option<&str>) -> Result<Scalar, String> {
    let Some(tag) = tag else {
        return Ok(if plain {
            resolve_plain(text)
        } else {
            Scalar::Str(text.to_string())
        });
    };
    let short = tag
        .strip_prefix(YAML_TAG_PREFIX)
        .map(|name| format!("!!{name}"));
    let resolved = resolve_plain(text);
    let fits = match (short.as_deref(), &resolved) {
        (Some("!!str" | "!!timestamp"), _) => return Ok(Scalar::Str(text.to_string())),
        (Some("!!binary"), _) => {
            return Err(format!(
                "!!binary {text:?}: sigs.k8s.io/yaml does not convert binary"
            ))
        }
        (Some("!!int"), Scalar::Int(_) | Scalar::Uint(_)) => true,
        (Some("!!float"), Scalar::Int(i)) => return Ok(Scalar::Float(*i as f64)),
        (Some("!!float"), Scalar::Float(_)) => true,
        (Some("!!bool"), Scalar::Bool(_)) => true,
        (Some("!!null"), Scalar::Null) => true,
        (Some("!!int" | "!!float" | "!!bool" | "!!null"), _) => false,
        // go-yaml leaves any other tag's scalar as its text.
        _ => return Ok(Scalar::Str(text.to_string())),
    };
    if fits {
        Ok(resolved)
    } else {
        Err(format!(
            "cannot decode `{text}` as a {}",
            short.unwrap_or_default()
        ))
    }
}

/// go-yaml v2's `resolve("", text)`: the first byte picks what to try.
pub fn resolve_plain(text: &str) -> Scalar {
    let as_text = || Scalar::Str(text.to_string());
    let Some(first) = text.bytes().next() else {
        return Scalar::Null;
    };
    if !matches!(first, b'+' | b'-' | b'0'..=b'9' | b'.' | b'~') && !b"yYnNtTfFoO".contains(&first)
    {
        return as_text();
    }
    if let Some(known) = known_word(text) {
        return known;
    }
    match first {
        b'.' => decimal_float(text).map_or_else(as_text, Scalar::Float),
        b'+' | b'-' | b'0'..=b'9' => {
            // Underscores are dropped anywhere before numbers are tried.
            let digits = text.replace('_', "");
            if let Some(int) = go_parse_int(&digits) {
                Scalar::Int(int)
            } else if let Some(uint) = go_parse_uint(&digits) {
                Scalar::Uint(uint)
            } else {
                decimal_float(&digits).map_or_else(as_text, Scalar::Float)
            }
        }
        _ => as_text(),
    }
}

/// go-yaml v2's table of words, exactly these spellings (`yEs` is text).
fn known_word(text: &str) -> Option<Scalar> {
    Some(match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Scalar::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` parsed as Go's
/// ParseFloat does; out of range (Go's ErrRange) is no float.
fn decimal_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => all_digits(fraction),
        Some((whole, fraction)) => {
            all_digits(whole) && (fraction.is_empty() || all_digits(fraction))
        }
        None => all_digits(mantissa),
    };
    if !mantissa_ok || !exponent.map_or(true, all_digits) {
        return None;
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then as ParseUint.
fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = i128::from(go_parse_uint(magnitude)?);
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// Go's `strconv.ParseUint(s, 0, 64)`: no sign; `0x`, `0o`, `0b` prefixes
/// (either case), and a leading `0` alone means octal (`0755` is 493).
fn go_parse_uint(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let (radix, digits) = if text.len() >= 3 && lower.starts_with("0x") {
        (16, text.get(2..)?)
    } else if text.len() >= 3 && lower.starts_with("0o") {
        (8, text.get(2..)?)
    } else if text.len() >= 3 && lower.starts_with("0b") {
        (2, text.get(2..)?)
    } else if let Some(octal) = text.strip_prefix('0') {
        (8, octal)
    } else {
        (10, text)
    };
    if text.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if digits.is_empty() {
        return Some(0); // "0" itself
    }
    u64::from_str_radix(digits, radix).ok()
}

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The scalar as a JSON value, the way the API server then sees it: Go's
/// JSON writes a whole float64 without a fraction (1e3 as 1000), and the
/// API server reads a number without a fraction as an integer.
pub fn json_value(scalar: Scalar) -> Result<Value, String> {
    Ok(match scalar {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::from(i),
        Scalar::Uint(u) => Value::from(u),
        Scalar::Float(f) if !f.is_finite() => {
            return Err(format!("json: unsupported value: {f} (YAML .inf/.nan)"))
        }
        // 2^63: the whole floats below it in size fit an i64 exactly.
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < TWO_POW_63 || f == -TWO_POW_63 => {
            Value::from(f as i64)
        }
        Scalar::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        Scalar::Str(s) => Value::String(s),
    })
}

/// The scalar as a JSON object key, as sigs.k8s.io/yaml converts keys:
/// `on:` becomes "true", `0755:` "493", `1.10:` "1.1".
pub fn json_key(scalar: Scalar) -> Result<String, String> {
    match scalar {
        Scalar::Str(s) => Ok(s),
        Scalar::Bool(b) => Ok(b.to_string()),
        Scalar::Int(i) => Ok(i.to_string()),
        Scalar::Float(f) if f.is_nan() => Ok(".nan".into()),
        Scalar::Float(f) if f == f64::INFINITY => Ok(".inf".into()),
        Scalar::Float(f) if f == f64::NEG_INFINITY => Ok("-.inf".into()),
        Scalar::Float(f) => Ok(go_format_g32(f)),
        Scalar::Null => Err("Unsupported map key of type: <nil>".into()),
        Scalar::Uint(u) => Err(format!("Unsupported map key of type: uint64, key: {u}")),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest digits of the
/// float32, with an exponent (`1e+06`) below 1e-4 or from 1e6 on.
fn go_format_g32(f: f64) -> String {
    let shortest = format!("{:e}", f as f32); // "-1.25e-7"
    let (mantissa, exponent) = shortest.split_once('e').unwrap_or((&shortest, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let (head, tail) = digits.split_at(1.min(digits.len()));
    if !(-4..6).contains(&exponent) {
        let dot = if tail.is_empty() { "" } else { "." };
        let e_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{head}{dot}{tail}e{e_sign}{:02}", exponent.abs());
    }
    let point = usize::try_from(exponent + 1).unwrap_or(0);
    if exponent < 0 {
        let zeros = "0".repeat(usize::try_from(-exponent - 1).unwrap_or(0));
        return format!("{sign}0.{zeros}{digits}");
    }
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        let (whole, fraction) = digits.split_at(point);
        format!("{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Scalar::*;

    fn str(s: &str) -> Scalar {
        Str(s.to_string())
    }

    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2() {
        let cases = [
            (
                "0000000000000000000000000000000000000000000000000000000000000000",
                Int(0),
            ),
            ("0755", Int(493)),
            ("0o17", Int(15)),
            ("0x1F", Int(31)),
            ("0b101", Int(5)),
            ("-0x10", Int(-16)),
            ("1_000", Int(1000)),
            ("+12", Int(12)),
            ("-9223372036854775808", Int(i64::MIN)),
            ("18446744073709551615", Uint(u64::MAX)),
            ("18446744073709551616", Float(18446744073709551616.0)),
            ("08", Float(8.0)), // not octal, so a decimal float
            ("1e3", Float(1000.0)),
            ("1.10", Float(1.1)),
            ("1.", Float(1.0)),
            (".5", Float(0.5)),
            ("-.5e1", Float(-5.0)),
            ("1e400", str("1e400")), // out of range: Go keeps the text
            ("0e12345678", Float(0.0)),
            ("1:20", str("1:20")),             // no base 60
            ("2001-12-14", str("2001-12-14")), // timestamps keep their text
            ("0x", str("0x")),
            ("0x+1", str("0x+1")),
            ("+", str("+")),
            ("-", str("-")),
            ("12abc", str("12abc")),
            ("y", Bool(true)),
            ("Yes", Bool(true)),
            ("YES", Bool(true)),
            ("on", Bool(true)),
            ("ON", Bool(true)),
            ("True", Bool(true)),
            ("n", Bool(false)),
            ("No", Bool(false)),
            ("off", Bool(false)),
            ("OFF", Bool(false)),
            ("yEs", str("yEs")),
            ("oN", str("oN")),
            ("nil", str("nil")),
            ("~", Null),
            ("null", Null),
            ("NULL", Null),
            ("", Null),
            ("v1", str("v1")),
            ("_1", str("_1")),
        ];
        for (text, want) in cases {
            assert_eq!(resolve_plain(text), want, "{text:?}");
        }
        assert!(matches!(resolve_plain(".inf"), Float(f) if f == f64::INFINITY));
        assert!(matches!(resolve_plain("-.Inf"), Float(f) if f == f64::NEG_INFINITY));
        assert!(matches!(resolve_plain(".NaN"), Float(f) if f.is_nan()));
    }

    #[test]
    fn quoted_and_tagged_scalars() {
        assert_eq!(resolve("0755", false, None), Ok(str("0755")));
        assert_eq!(resolve("on", false, None), Ok(str("on")));
        let tag = |name: &str| format!("{YAML_TAG_PREFIX}{name}");
        assert_eq!(resolve("0755", true, Some(&tag("str"))), Ok(str("0755")));
        assert_eq!(resolve("12", false, Some(&tag("int"))), Ok(Int(12)));
        assert_eq!(resolve("12", true, Some(&tag("float"))), Ok(Float(12.0)));
        assert_eq!(resolve("x", true, Some("!local")), Ok(str("x")));
        let refused = resolve("abc", true, Some(&tag("int"))).unwrap_err();
        assert_eq!(refused, "cannot decode `abc` as a !!int");
        assert!(resolve("AAAA", true, Some(&tag("binary"))).is_err());
    }

    #[test]
    fn json_values_and_keys() {
        assert_eq!(json_value(Float(1000.0)), Ok(Value::from(1000)));
        assert_eq!(json_value(Float(1.1)), Ok(Value::from(1.1)));
        assert_eq!(json_value(Float(1e20)), Ok(Value::from(1e20)));
        assert!(json_value(Float(f64::INFINITY)).is_err());
        assert!(json_value(Float(f64::NAN)).is_err());
        let keys = [
            (Bool(true), "true"),
            (Int(493), "493"),
            (Float(1.1), "1.1"),
            (Float(1e6), "1e+06"),
            (Float(123456.0), "123456"),
            (Float(0.0001), "0.0001"),
            (Float(0.00001), "1e-05"),
            (Float(-2.5e-7), "-2.5e-07"),
            (Float(0.0), "0"),
            (Float(f64::INFINITY), ".inf"),
        ];
        for (scalar, want) in keys {
            assert_eq!(json_key(scalar.clone()).as_deref(), Ok(want), "{scalar:?}");
        }
        assert!(json_key(Null).is_err());
        assert!(json_key(Uint(u64::MAX)).is_err());
    }
}
