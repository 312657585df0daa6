//! The plugin JSON inside an ECDS file:
//! `resources[i]` (a `TypedExtensionConfig`) `.typed_config` (the Wasm
//! filter) `.config.configuration` (a `StringValue`) `.value`.

use serde_json::Value;

const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const STRING_VALUE_TYPE: &str = "type.googleapis.com/google.protobuf.StringValue";

/// Which resource holds the Wasm filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    resource: usize,
}

impl Place {
    /// The `value` string in `doc` (the parsed DiscoveryResponse).
    pub fn slot<'d>(&self, doc: &'d mut Value) -> Option<&'d mut Value> {
        doc.get_mut("resources")?
            .get_mut(self.resource)?
            .get_mut("typed_config")?
            .get_mut("config")?
            .get_mut("configuration")?
            .get_mut("value")
    }
}

impl Place {
    /// The resource's name and its `typed_config` in `doc`.
    pub fn filter<'d>(&self, doc: &'d Value) -> Option<(&'d str, &'d Value)> {
        let resource = doc.get("resources")?.get(self.resource)?;
        Some((
            resource.get("name")?.as_str()?,
            resource.get("typed_config")?,
        ))
    }
}

fn type_of(value: &Value) -> Option<&str> {
    value.get("@type").and_then(Value::as_str)
}

/// Finds the one Wasm filter and returns its plugin JSON.
pub fn locate(doc: &Value) -> Result<(Place, String), String> {
    let Some(resources) = doc.get("resources").and_then(Value::as_array) else {
        return Err("resources: expected a list of TypedExtensionConfig".to_string());
    };
    let wasm: Vec<usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.get("typed_config").and_then(type_of) == Some(WASM_TYPE))
        .map(|(i, _)| i)
        .collect();
    let resource = match wasm.as_slice() {
        [one] => *one,
        [] => {
            return Err(format!(
                "resources: no TypedExtensionConfig whose typed_config is a {WASM_TYPE}"
            ))
        }
        many => {
            let names: Vec<&str> = many
                .iter()
                .filter_map(|&i| resources.get(i)?.get("name")?.as_str())
                .collect();
            return Err(format!(
                "resources: {} Wasm filters ({}); canaryctl works on files with one",
                many.len(),
                names.join(", ")
            ));
        }
    };
    let at = format!("resources[{resource}].typed_config.config.configuration");
    let configuration = resources
        .get(resource)
        .and_then(|r| r.get("typed_config"))
        .and_then(|t| t.get("config"))
        .and_then(|c| c.get("configuration"));
    let Some(configuration) = configuration else {
        return Err(format!(
            "{at}: missing; expected a {STRING_VALUE_TYPE} holding the plugin JSON"
        ));
    };
    if type_of(configuration) != Some(STRING_VALUE_TYPE) {
        return Err(format!(
            "{at}.@type: expected {STRING_VALUE_TYPE} (the filter reads its config as a string)"
        ));
    }
    match configuration.get("value") {
        Some(Value::String(plugin)) => Ok((Place { resource }, plugin.clone())),
        Some(_) => Err(format!("{at}.value: expected the plugin JSON as a string")),
        None => Err(format!("{at}.value: missing; the plugin JSON goes there")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ecds(configuration: Value) -> Value {
        json!({"resources": [
            {"@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
             "name": "other", "typed_config": {"@type": "type.googleapis.com/x.Other"}},
            {"@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
             "name": "canary-filter",
             "typed_config": {"@type": WASM_TYPE, "config": {"configuration": configuration}}}
        ]})
    }

    #[test]
    fn finds_the_wasm_filter_string() {
        let mut doc = ecds(json!({"@type": STRING_VALUE_TYPE, "value": "{}"}));
        let (place, plugin) = locate(&doc).unwrap();
        assert_eq!(plugin, "{}");
        *place.slot(&mut doc).unwrap() = json!("new");
        assert_eq!(locate(&doc).unwrap().1, "new");
    }

    #[test]
    fn says_what_is_missing() {
        let err = locate(&ecds(json!({"@type": STRING_VALUE_TYPE}))).unwrap_err();
        assert!(err.starts_with("resources[1].typed_config.config.configuration.value: missing"));
        let err = locate(&ecds(json!({"@type": "x", "value": "{}"}))).unwrap_err();
        assert!(err.contains("expected type.googleapis.com/google.protobuf.StringValue"));
        let err = locate(&json!({"resources": []})).unwrap_err();
        assert!(err.contains("no TypedExtensionConfig"));
        let err = locate(&json!({"resources": 1})).unwrap_err();
        assert!(err.starts_with("resources: expected a list"));
    }

    #[test]
    fn refuses_two_wasm_filters() {
        let one = ecds(json!({"@type": STRING_VALUE_TYPE, "value": "{}"}));
        let resource = one["resources"][1].clone();
        let two = json!({"resources": [resource.clone(), resource]});
        assert!(locate(&two).unwrap_err().contains("2 Wasm filters"));
    }
}
