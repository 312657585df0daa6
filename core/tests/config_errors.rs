//! Every way a plugin config can be wrong, and the message that says so.
//! These are the lines an operator reads in Envoy's log (and canaryctl
//! prints), so the exact wording is part of the contract.

#![allow(clippy::panic)] // A test file: a failed expectation panics.

use canary_core::Config;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A valid release to start from; cases patch one field.
fn release(extra: &str) -> String {
    format!(
        r#"{{"name":"pay","hosts":["pay"],"header":"x-canary","baseline":"v1","canary":"v2"{extra}}}"#
    )
}

fn config(releases: &[String]) -> String {
    format!(r#"{{"releases":[{}]}}"#, releases.join(","))
}

fn error_of(json: &str) -> String {
    match Config::from_json(json.as_bytes()) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
#[rustfmt::skip] // One scenario per line reads as a table.
fn each_bad_config_gets_its_message() {
    let one = |extra: &str| config(&[release(extra)]);
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "the plugin configuration is empty; expected a JSON object with \"releases\""),
        ("blank", "  \n".into(), "the plugin configuration is empty"),
        ("not json", "{releases".into(), "not valid JSON: "),
        ("not an object", "[]".into(), "expected an object, got an array"),
        ("no releases", "{}".into(), "releases: is required"),
        ("zero releases", r#"{"releases":[]}"#.into(), "releases: at least one release is required"),
        ("unknown top field", r#"{"releases":[],"x":1}"#.into(), "x: unknown field \"x\", expected one of releases"),
        ("typo'd field", one(r#","wieght":20"#), "releases[0].wieght: unknown field \"wieght\", expected one of name, hosts, header, baseline, canary, path, mode, conditions, weight, sticky"),
        ("missing name", config(&[r#"{"header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[0].name: is required"),
        ("empty name", config(&[r#"{"name":"","header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[0].name: \"\" is not a valid release name"),
        ("name with dot", config(&[r#"{"name":"a.b","header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[0].name: \"a.b\" is not a valid release name"),
        ("weight as string", one(r#","weight":"20""#), "releases[0].weight: expected a number, got a string"),
        ("weight too big", one(r#","weight":100.5"#), "releases[0].weight: 100.5 is out of range; expected 0 to 100"),
        ("weight negative", one(r#","weight":-1"#), "releases[0].weight: -1 is out of range"),
        ("weight three decimals", one(r#","weight":12.345"#), "releases[0].weight: 12.345 has more than two decimals; the finest step is 0.01"),
        ("same versions", config(&[r#"{"name":"p","header":"x","baseline":"v1","canary":"v1"}"#.into()]), "releases[0].canary: must differ from baseline (both are \"v1\")"),
        ("value with space", config(&[r#"{"name":"p","header":"x","baseline":"v 1","canary":"v2"}"#.into()]), "releases[0].baseline: \"v 1\" must be non-empty visible ASCII"),
        ("bad header name", config(&[r#"{"name":"p","header":"x canary","baseline":"a","canary":"b"}"#.into()]), "releases[0].header: \"x canary\" is not a valid HTTP header name"),
        ("pseudo header", config(&[r#"{"name":"p","header":":path","baseline":"a","canary":"b"}"#.into()]), "releases[0].header: \":path\" is not a valid HTTP header name"),
        ("reserved header", config(&[r#"{"name":"p","header":"Host","baseline":"a","canary":"b"}"#.into()]), "releases[0].header: \"host\" cannot be a routing header"),
        ("host with port", config(&[r#"{"name":"p","hosts":["pay:80"],"header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[0].hosts[0]: \"pay:80\" is not a host name or \"*.\" wildcard (leave out the port)"),
        ("bad host after *", config(&[r#"{"name":"p","hosts":["*","bad host"],"header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[0].hosts[1]: \"bad host\" is not a host name"),
        ("inner wildcard", config(&[r#"{"name":"p","hosts":["a.*.com"],"header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[0].hosts[0]: \"a.*.com\" is not a host name"),
        ("bad mode", one(r#","mode":"ALL""#), "releases[0].mode: unknown mode \"ALL\", expected \"all\" or \"any\""),
        ("two path kinds", one(r#","path":{"exact":"/a","prefix":"/b"}"#), "releases[0].path: set exactly one of \"exact\", \"prefix\" or \"regex\""),
        ("relative path", one(r#","path":{"prefix":"pay"}"#), "releases[0].path.prefix: \"pay\" must start with '/'"),
        ("bad path regex", one(r#","path":{"regex":"(/pay"}"#), "releases[0].path.regex: invalid regex \"(/pay\": "),
        ("unknown op", one(r#","conditions":[{"header":"env","op":"equals","value":"t"},{"header":"env","op":"eq","value":"t"}]"#),
            "releases[0].conditions[1].op: unknown operator \"eq\", expected one of equals, not_equals, prefix, suffix, contains, regex, in, not_in, present, absent, gt, ge, lt, le, percent"),
        ("no source", one(r#","conditions":[{"op":"present"}]"#), "releases[0].conditions[0]: set exactly one of \"header\", \"cookie\" or \"query\""),
        ("two sources", one(r#","conditions":[{"header":"a","cookie":"b","op":"present"}]"#), "releases[0].conditions[0]: set exactly one of"),
        ("missing op", one(r#","conditions":[{"header":"a"}]"#), "releases[0].conditions[0].op: is required"),
        ("number for equals", one(r#","conditions":[{"query":"uid","op":"equals","value":1001}]"#), "releases[0].conditions[0].value: operator \"equals\" needs a string, got a number; quote numbers, as in \"1001\""),
        ("missing value", one(r#","conditions":[{"header":"a","op":"prefix"}]"#), "releases[0].conditions[0].value: operator \"prefix\" needs a \"value\""),
        ("value on present", one(r#","conditions":[{"header":"a","op":"present","value":"x"}]"#), "releases[0].conditions[0].value: operator \"present\" takes no \"value\""),
        ("values on equals", one(r#","conditions":[{"header":"a","op":"equals","value":"x","values":["y"]}]"#), "releases[0].conditions[0].values: operator \"equals\" takes no \"values\""),
        ("empty in", one(r#","conditions":[{"header":"a","op":"in","values":[]}]"#), "releases[0].conditions[0].values: operator \"in\" needs a non-empty \"values\" list"),
        ("number in list", one(r#","conditions":[{"header":"a","op":"in","values":["1",2]}]"#), "releases[0].conditions[0].values[1]: operator \"in\" needs a string, got a number"),
        ("gt on text", one(r#","conditions":[{"header":"age","op":"gt","value":"old"}]"#), "releases[0].conditions[0].value: operator \"gt\" needs a number \"value\""),
        ("percent over 100", one(r#","conditions":[{"header":"u","op":"percent","value":101}]"#), "releases[0].conditions[0].value: must be a whole percent from 0 to 100"),
        ("percent fraction", one(r#","conditions":[{"header":"u","op":"percent","value":2.5}]"#), "releases[0].conditions[0].value: must be a whole percent from 0 to 100"),
        ("bad condition regex", one(r#","conditions":[{"header":"ua","op":"regex","value":"a(b"}]"#), "releases[0].conditions[0].value: invalid regex \"a(b\": "),
        ("sticky both", one(r#","sticky":{"header":"a","cookie":"b"}"#), "releases[0].sticky: set exactly one of \"header\" or \"cookie\""),
        ("sticky bad cookie", one(r#","sticky":{"cookie":"a=b"}"#), "releases[0].sticky.cookie: \"a=b\" is not a valid cookie name"),
        ("duplicate name", config(&[release(""), r#"{"name":"pay","hosts":["other"],"header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[1].name: \"pay\" is used twice"),
        ("names equal for Prometheus", config(&[release(""), r#"{"name":"p-a","hosts":["a"],"header":"x","baseline":"a","canary":"b"}"#.into(), r#"{"name":"p_a","hosts":["b"],"header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[2].name: \"p-a\" is used twice (counting '-' and '_' as one, as Prometheus does)"),
        ("same host twice", config(&[release(""), r#"{"name":"q","hosts":["PAY"],"header":"x","baseline":"a","canary":"b"}"#.into()]), "releases[1].hosts[0]: \"pay\" overlaps \"pay\" of release \"pay\"; a host may belong to one release only"),
        ("wildcard overlap", config(&[r#"{"name":"a","hosts":["*.example.com"],"header":"x","baseline":"a","canary":"b"}"#.into(), r#"{"name":"b","hosts":["pay.example.com"],"header":"x","baseline":"a","canary":"b"}"#.into()]),
            "releases[1].hosts[0]: \"pay.example.com\" overlaps \"*.example.com\" of release \"a\""),
        ("two catch-alls", config(&[r#"{"name":"a","header":"x","baseline":"a","canary":"b"}"#.into(), r#"{"name":"b","hosts":["*"],"header":"x","baseline":"a","canary":"b"}"#.into()]),
            "releases[1].hosts: release \"a\" also has no hosts; only one release may cover every host"),
        ("catch-all not last", config(&[r#"{"name":"a","header":"x","baseline":"a","canary":"b"}"#.into(), release("")]),
            "releases[1]: release \"pay\" comes after \"a\", which covers every host, so it would never be used; put the release without hosts last"),
        ("trailing garbage", format!("{} x", config(&[release("")])), "not valid JSON: trailing characters"),
    ];
    let mut failures = Vec::new();
    for (name, json, want) in &cases {
        let got = error_of(json);
        if !got.starts_with(want) {
            failures.push(format!("{name}:\n  want prefix: {want}\n  got:         {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn istio_floats_and_nulls_are_accepted() {
    // Istio passes pluginConfig through a protobuf Struct: numbers become
    // floats and absent optionals may arrive as null.
    let json = config(&[release(
        r#","weight":20.0,"mode":null,"path":null,"conditions":[{"header":"age","op":"ge","value":18.0},{"header":"u","op":"percent","value":30.0}]"#,
    )]);
    let config = Config::from_json(json.as_bytes()).unwrap();
    assert_eq!(config.releases[0].canaries.first().weight_bp, 2000);
}

#[test]
fn weights_keep_two_decimals_exactly() {
    for (weight, basis_points) in [
        ("0", 0),
        ("0.01", 1),
        ("33.33", 3333),
        ("99.99", 9999),
        ("100", 10_000),
        ("1e1", 1000),
    ] {
        let json = config(&[release(&format!(r#","weight":{weight}"#))]);
        let got = Config::from_json(json.as_bytes()).unwrap().releases[0]
            .canaries
            .first()
            .weight_bp;
        assert_eq!(got, basis_points, "weight {weight}");
    }
}

#[test]
fn oversized_config_is_refused_before_parsing() {
    let huge = format!(
        r#"{{"releases":[],"pad":"{}"}}"#,
        "x".repeat(canary_core::MAX_CONFIG_BYTES)
    );
    assert!(error_of(&huge).starts_with("the plugin configuration is "));
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(
        error_of(&deep).contains("recursion limit exceeded"),
        "{}",
        error_of(&deep)
    );
}
