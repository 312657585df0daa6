//! The validation rules that tools apply before a config exists: the
//! weight's range and step, and which operand each operator takes. The
//! config's own checks call these, so a tool's verdict matches the filter's.

use std::fmt;

/// The weight is a percent of requests, from 0 to 100 ...
pub const WEIGHT_MAX_PERCENT: u32 = 100;
/// ... with at most two decimals: one step is one basis point.
pub const WEIGHT_DECIMALS: u32 = 2;

/// Why a weight is refused. Displays as the end of a sentence that starts
/// with the weight as written: "{weight} {error}".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightError {
    NotANumber,
    OutOfRange,
    TooManyDecimals,
}

impl fmt::Display for WeightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightError::NotANumber => f.write_str("is not a number"),
            WeightError::OutOfRange => {
                write!(f, "is out of range; expected 0 to {WEIGHT_MAX_PERCENT}")
            }
            WeightError::TooManyDecimals => {
                f.write_str("has more than two decimals; the finest step is 0.01")
            }
        }
    }
}

impl std::error::Error for WeightError {}

/// A weight in percent as basis points (`0..=10000`).
pub fn weight_basis_points(percent: f64) -> Result<u32, WeightError> {
    if !(0.0..=f64::from(WEIGHT_MAX_PERCENT)).contains(&percent) {
        return Err(WeightError::OutOfRange);
    }
    let scaled = percent * f64::from(10u32.pow(WEIGHT_DECIMALS));
    let basis_points = scaled.round();
    if (scaled - basis_points).abs() > 1e-6 {
        return Err(WeightError::TooManyDecimals);
    }
    // In 0..=10000 after the range check.
    Ok(basis_points as u32)
}

/// Basis points as a percent with only the decimals it needs: 20%, 12.5%,
/// 0.01%.
pub fn percent_text(basis_points: u32) -> String {
    let whole = basis_points / 100;
    let cents = basis_points % 100;
    match (cents, cents % 10) {
        (0, _) => format!("{whole}%"),
        (_, 0) => format!("{whole}.{}%", cents / 10),
        _ => format!("{whole}.{cents:02}%"),
    }
}

/// A weight written as a JSON number ("20", " 12.5 ") as basis points.
pub fn parse_weight(text: &str) -> Result<u32, WeightError> {
    let percent = crate::condition::number(text).ok_or(WeightError::NotANumber)?;
    weight_basis_points(percent)
}

/// What a condition's operator takes besides its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// Nothing: `present`, `absent`.
    Nothing,
    /// `value`, a string compared as it is.
    Text,
    /// `value`, a string holding an RE2-style regex matched against the
    /// whole value.
    Regex,
    /// `values`, a non-empty list of strings.
    TextList,
    /// `value`, a number (or a string holding a JSON number).
    Number,
    /// `value`, a whole percent from 0 to 100.
    Percent,
}

impl Operand {
    /// The condition's field that holds the operand, if any.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Operand::Nothing => None,
            Operand::TextList => Some("values"),
            _ => Some("value"),
        }
    }
}

/// Every operator by name and its operand, in the order messages list them.
pub const OPERATORS: [(&str, Operand); 15] = [
    ("equals", Operand::Text),
    ("not_equals", Operand::Text),
    ("prefix", Operand::Text),
    ("suffix", Operand::Text),
    ("contains", Operand::Text),
    ("regex", Operand::Regex),
    ("in", Operand::TextList),
    ("not_in", Operand::TextList),
    ("present", Operand::Nothing),
    ("absent", Operand::Nothing),
    ("gt", Operand::Number),
    ("ge", Operand::Number),
    ("lt", Operand::Number),
    ("le", Operand::Number),
    ("percent", Operand::Percent),
];

/// The operand of the operator called `name`; `None`: no such operator.
pub fn operand_of(name: &str) -> Option<Operand> {
    OPERATORS
        .iter()
        .find(|(op, _)| *op == name)
        .map(|&(_, operand)| operand)
}

/// The operator names, comma-separated, for messages.
pub fn operator_list() -> String {
    OPERATORS.map(|(name, _)| name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn weights() {
        use WeightError::*;
        let cases: [(&str, Result<u32, WeightError>); 14] = [
            ("0", Ok(0)),
            ("100", Ok(10_000)),
            ("20", Ok(2_000)),
            (" 12.5 ", Ok(1_250)),
            ("12.34", Ok(1_234)),
            ("0.01", Ok(1)),
            ("99.99", Ok(9_999)),
            ("1e1", Ok(1_000)),
            ("100.5", Err(OutOfRange)),
            ("-1", Err(OutOfRange)),
            ("1.234", Err(TooManyDecimals)),
            ("0.001", Err(TooManyDecimals)),
            ("ten", Err(NotANumber)),
            ("50%", Err(NotANumber)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_weight(text), want, "{text:?}");
        }
        assert_eq!(weight_basis_points(f64::NAN), Err(OutOfRange));
        assert_eq!(
            format!("-1 {}", OutOfRange),
            "-1 is out of range; expected 0 to 100"
        );
    }

    #[test]
    fn operand_table() {
        let cases = [
            ("equals", Some(Operand::Text), Some("value")),
            ("regex", Some(Operand::Regex), Some("value")),
            ("in", Some(Operand::TextList), Some("values")),
            ("not_in", Some(Operand::TextList), Some("values")),
            ("present", Some(Operand::Nothing), None),
            ("absent", Some(Operand::Nothing), None),
            ("ge", Some(Operand::Number), Some("value")),
            ("percent", Some(Operand::Percent), Some("value")),
            ("eq", None, None),
            ("Equals", None, None),
        ];
        for (name, operand, field) in cases {
            assert_eq!(operand_of(name), operand, "{name}");
            assert_eq!(operand.and_then(Operand::field), field, "{name}");
        }
        assert!(operator_list().starts_with("equals, not_equals, prefix,"));
    }
}
