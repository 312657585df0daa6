//! The exported validation tables agree with what the config accepts, so a
//! tool that checks with them (canaryctl) says what the filter would say.

use canary_core::{operand_of, parse_weight, Config, Operand, OPERATORS};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn config_with_condition(condition: &str) -> Result<Config, String> {
    let json = format!(
        r#"{{"releases":[{{"name":"r","header":"x-v","baseline":"a","canary":"b",
            "conditions":[{condition}]}}]}}"#
    );
    Config::from_json(json.as_bytes()).map_err(|e| e.to_string())
}

/// A well-formed operand of each kind, as the condition's JSON fields.
fn operand_json(operand: Operand) -> &'static str {
    match operand {
        Operand::Nothing => "",
        Operand::Text => r#","value":"x""#,
        Operand::Regex => r#","value":"v[0-9]+""#,
        Operand::TextList => r#","values":["x","y"]"#,
        Operand::Number => r#","value":18"#,
        Operand::Percent => r#","value":30"#,
    }
}

#[test]
fn every_operator_compiles_with_its_operand_and_only_with_it() {
    for (name, operand) in OPERATORS {
        let good = format!(r#"{{"header":"h","op":"{name}"{}}}"#, operand_json(operand));
        assert!(config_with_condition(&good).is_ok(), "{good}");
        for other in [Operand::Nothing, Operand::TextList, Operand::Text] {
            if other.field() == operand.field() {
                continue;
            }
            let bad = format!(r#"{{"header":"h","op":"{name}"{}}}"#, operand_json(other));
            assert!(config_with_condition(&bad).is_err(), "{bad}");
        }
    }
    let unknown = config_with_condition(r#"{"header":"h","op":"eq","value":"x"}"#);
    assert!(unknown.is_err_and(|e| e.contains("expected one of equals, not_equals")));
    assert_eq!(operand_of("eq"), None);
}

#[test]
fn weights_the_config_accepts_are_the_ones_parse_weight_accepts() {
    for text in ["0", "100", "12.5", "12.34", "0.01", "100.5", "-1", "1.234"] {
        let json = format!(
            r#"{{"releases":[{{"name":"r","header":"x-v","baseline":"a","canary":"b","weight":{text}}}]}}"#
        );
        let config = Config::from_json(json.as_bytes());
        let from_config = config
            .as_ref()
            .ok()
            .and_then(|c| c.releases.first())
            .map(|r| r.canaries.first())
            .map(|c| c.weight_bp);
        match parse_weight(text) {
            Ok(bp) => assert_eq!(from_config, Some(bp), "{text}"),
            Err(e) => {
                let message = config.err().map(|c| c.to_string()).unwrap_or_default();
                assert!(
                    message.ends_with(&format!("{text} {e}")),
                    "{text}: {message}"
                );
            }
        }
    }
}
