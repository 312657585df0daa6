//! Renders the templates in `envoy-test/` exactly as `envoy-test/lib.sh`
//! does for `make run`: `@NAME@` tokens replaced, JSON values as JSON string
//! literals, JSON snippets folded onto one line (a YAML flow mapping).

use std::path::Path;

use super::repo_root;

/// How the bootstrap gets the plugin config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Inline in the bootstrap. A config the filter refuses stops Envoy.
    Static,
    /// From a watched file through ECDS, replaceable while Envoy runs.
    Ecds,
    /// No canary filter: a pass-through filter stands in its place, as
    /// when a fail-open filter could not load.
    Absent,
}

/// The loopback ports the bootstrap binds (0: Envoy picks one).
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub admin: u16,
    pub front: u16,
    pub pay_v1: u16,
    pub pay_v2: u16,
    pub pay_v3: u16,
}

fn template(name: &str) -> String {
    let path = repo_root().join("envoy-test").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the template {}: {e}", path.display()))
}

fn render(name: &str, tokens: &[(&str, &str)]) -> String {
    let mut text = template(name);
    for wanted in template_tokens(&text) {
        assert!(
            tokens.iter().any(|(token, _)| *token == wanted),
            "template {name} needs @{wanted}@, which the harness does not provide"
        );
    }
    for (token, value) in tokens {
        text = text.replace(&format!("@{token}@"), value);
    }
    text
}

/// The `@NAME@` tokens (NAME in A-Z and _) that a template uses.
fn template_tokens(text: &str) -> Vec<&str> {
    let is_name =
        |name: &str| !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('@') {
        let after = &rest[start + 1..];
        match after.find('@') {
            Some(end) if is_name(&after[..end]) => {
                tokens.push(&after[..end]);
                rest = &after[end + 1..];
            }
            Some(_) => rest = after,
            None => break,
        }
    }
    tokens
}

fn json_string(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

fn path_string(path: &Path) -> String {
    json_string(&path.to_string_lossy())
}

fn one_line(text: &str) -> String {
    text.replace('\n', " ")
}

/// The Wasm filter's `typed_config`, on one line. `None`: no
/// `configuration` field at all (the filter then reads an empty config).
pub fn wasm_filter(wasm: &Path, plugin_config: Option<&str>) -> String {
    let rendered = render(
        "wasm-filter.json.tmpl",
        &[
            ("CANARY_WASM", &path_string(wasm)),
            ("PLUGIN_CONFIG", &json_string(plugin_config.unwrap_or(""))),
        ],
    );
    if plugin_config.is_some() {
        return one_line(&rendered);
    }
    let mut value: serde_json::Value =
        serde_json::from_str(&rendered).expect("wasm-filter.json.tmpl renders to JSON");
    if let Some(config) = value.get_mut("config").and_then(|c| c.as_object_mut()) {
        config.remove("configuration");
    }
    value.to_string()
}

/// The ECDS file: a `DiscoveryResponse` with the filter's
/// `TypedExtensionConfig`, named `canary-filter` like the HTTP filter.
pub fn ecds_resource(wasm: &Path, plugin_config: Option<&str>, version: &str) -> String {
    render(
        "ecds-resource.json.tmpl",
        &[
            ("VERSION", &json_string(version)),
            ("WASM_FILTER", &wasm_filter(wasm, plugin_config)),
        ],
    )
}

/// The filter's `config_discovery` (ECDS from the watched `ecds_file`), on
/// one line of JSON.
pub fn config_discovery(ecds_file: &Path) -> String {
    let dir = ecds_file.parent().unwrap_or(Path::new("/"));
    one_line(&render(
        "config-discovery.json.tmpl",
        &[
            ("ECDS_FILE", &path_string(ecds_file)),
            ("ECDS_DIR", &path_string(dir)),
        ],
    ))
}

/// Where a test's own bootstrap (JSON) wants the ECDS config source of the
/// harness's ECDS file: `"config_discovery": "@ECDS_CONFIG_DISCOVERY@"`.
pub const OWN_ECDS_SOURCE: &str = "\"@ECDS_CONFIG_DISCOVERY@\"";

/// The bootstrap. Static mode inlines the plugin config; ECDS mode points
/// the filter at `ecds_file`, watched through its folder.
/// The connection manager's early header mutation that strips a client's
/// routing headers; the same line as `early_strip` in envoy-test/lib.sh.
pub const EARLY_STRIP: &str = r#"early_header_mutation_extensions: [{name: envoy.http.early_header_mutation.header_mutation, typed_config: {"@type": type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation, mutations: [{remove: x-canary-cluster}, {remove: x-canary-version}]}}]"#;

pub fn bootstrap(
    ports: Ports,
    mode: Mode,
    wasm: &Path,
    plugin_config: Option<&str>,
    ecds_file: &Path,
    early_strip: bool,
) -> String {
    let source = match mode {
        Mode::Static => format!("typed_config: {}", wasm_filter(wasm, plugin_config)),
        Mode::Absent => r#"typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation, mutations: {}}"#.to_string(),
        Mode::Ecds => format!("config_discovery: {}", config_discovery(ecds_file)),
    };
    render(
        "envoy.yaml.tmpl",
        &[
            ("ADMIN_PORT", &ports.admin.to_string()),
            ("FRONT_PORT", &ports.front.to_string()),
            ("PAY_V1_PORT", &ports.pay_v1.to_string()),
            ("PAY_V2_PORT", &ports.pay_v2.to_string()),
            ("PAY_V3_PORT", &ports.pay_v3.to_string()),
            ("CANARY_FILTER_SOURCE", &source),
            ("EARLY_STRIP", if early_strip { EARLY_STRIP } else { "" }),
        ],
    )
}
