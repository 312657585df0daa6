//! Parsers of the option values clap cannot check by itself.

use std::time::Duration;

use canary_core::weight_basis_points;

/// A weight as the config writes it: "20", "12.5", "50%".
pub fn parse_percent(text: &str) -> Result<serde_json::Number, String> {
    let trimmed = text.trim().trim_end_matches('%').trim();
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(serde_json::Value::Number(number)) => Ok(number),
        _ => Err(format!(
            "\"{text}\" is not a number; give a percent such as 20 or 12.5"
        )),
    }
}

/// A weight for --weights, in basis points, checked by the config's rule.
pub fn parse_weight_bp(text: &str) -> Result<u32, String> {
    let number = parse_percent(text)?;
    let percent = number.as_f64().unwrap_or(f64::NAN);
    weight_basis_points(percent).map_err(|e| format!("{text} {e}"))
}

pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number of seconds"))?;
    if !(0.05..=86_400.0).contains(&seconds) {
        return Err("the interval must be from 0.05 to 86400 seconds".to_string());
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_and_weights() {
        assert_eq!(parse_percent("50%").unwrap().to_string(), "50");
        assert_eq!(parse_percent(" 12.5 ").unwrap().to_string(), "12.5");
        assert!(parse_percent("ten").is_err());
        assert_eq!(parse_weight_bp("12.34").unwrap(), 1234);
        assert_eq!(parse_weight_bp("100").unwrap(), 10_000);
        assert!(parse_weight_bp("100.5").is_err());
        assert!(parse_weight_bp("1.234").is_err());
        assert!(parse_weight_bp("-1").is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("0.5").unwrap().as_millis(), 500);
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("NaN").is_err());
        assert!(parse_interval("x").is_err());
    }
}
