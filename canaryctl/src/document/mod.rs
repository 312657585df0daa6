//! The three files a plugin config lives in, and how to read the config out
//! of each and put an edited one back:
//!
//! - `plugin`: the plugin JSON itself, as the filter receives it;
//! - `ecds`: Envoy's extension config discovery file, a `DiscoveryResponse`
//!   whose Wasm filter carries the plugin JSON as a string;
//! - `wasmplugin`: an Istio `WasmPlugin`, whose `spec.pluginConfig` is a YAML
//!   mapping that Istio hands to the filter as JSON.

mod atomic;
mod ecds;
mod json_text;
pub mod k8s_yaml;
mod yaml;
mod yaml_emit;

use std::path::{Path, PathBuf};

use canary_core::Config;
use serde_json::Value;

use crate::error::{CliError, Result};

pub use atomic::{content_hash, write_atomically, write_if_unchanged, ContentHash, WriteError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The plugin JSON.
    Plugin,
    /// An ECDS DiscoveryResponse (JSON or YAML).
    Ecds,
    /// An Istio WasmPlugin manifest.
    Wasmplugin,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Plugin => "plugin",
            Kind::Ecds => "ecds",
            Kind::Wasmplugin => "wasmplugin",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::Plugin => "plugin config",
            Kind::Ecds => "ECDS DiscoveryResponse",
            Kind::Wasmplugin => "Istio WasmPlugin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Json,
    Yaml,
}

/// Where in the file the plugin config sits.
#[derive(Debug, Clone)]
enum Location {
    /// The file is the plugin JSON.
    Whole,
    /// A JSON string inside an ECDS resource.
    EcdsString(ecds::Place),
    /// `spec.pluginConfig` of a WasmPlugin.
    PluginConfig,
}

/// A loaded file: its text, its parsed documents and where the config is.
#[derive(Debug, Clone)]
pub struct Document {
    pub path: PathBuf,
    pub kind: Kind,
    text: String,
    syntax: Syntax,
    /// Every YAML document of the file (one for JSON).
    docs: Vec<Value>,
    /// The document holding the config.
    doc_index: usize,
    location: Location,
    /// The plugin JSON exactly as the filter would receive it.
    plugin_bytes: Vec<u8>,
    /// The hash of the bytes read, to detect a concurrent writer.
    hash: ContentHash,
}

/// The Wasm filter an ECDS file delivers: the subscription's name (the
/// `extension_config_discovery.http_filter.<name>.*` counters) and its
/// `typed_config`, whose change makes Envoy rebuild the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct EcdsFilter {
    pub name: String,
    pub typed_config: Value,
}

impl Document {
    pub fn load(path: &Path, kind: Option<Kind>) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| CliError::in_file(path, e))?;
        Self::from_bytes(path, bytes, kind)
    }

    /// Reads a file's content; `path` only names it in messages.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>, kind: Option<Kind>) -> Result<Self> {
        let fail = |message: String| CliError::in_file(path, message);
        let may_be_plugin = kind.map_or(true, |k| k == Kind::Plugin);
        let (syntax, docs) = match serde_json::from_slice::<Value>(&bytes) {
            Ok(value) => (Syntax::Json, vec![value]),
            // Broken JSON goes to the filter's parser, whose message says why.
            Err(_) if may_be_plugin && looks_like_json(path, &bytes) => (Syntax::Json, Vec::new()),
            Err(json_error) if looks_like_json(path, &bytes) => {
                return Err(fail(format!("not valid JSON: {json_error}")))
            }
            Err(_) => {
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| fail("not UTF-8 text, so neither JSON nor YAML".to_string()))?;
                let docs = yaml::parse_documents(text)
                    .map_err(|e| fail(format!("neither JSON nor YAML: {e}")))?;
                (Syntax::Yaml, docs)
            }
        };
        let (kind, doc_index) = match kind {
            Some(kind) => (kind, find_document(&docs, kind).unwrap_or(0)),
            None if docs.iter().all(Value::is_null) && syntax == Syntax::Yaml => {
                return Err(fail("is empty".to_string()))
            }
            None => detect(&docs).ok_or_else(|| {
                fail("cannot tell what kind of file this is: expected a plugin config (with \"releases\"), an ECDS DiscoveryResponse (with \"resources\") or an Istio WasmPlugin (kind: WasmPlugin); say which with --kind".to_string())
            })?,
        };
        let same_kind = docs.iter().filter(|d| kind_of(d) == Some(kind)).count();
        if same_kind > 1 {
            return Err(fail(format!(
                "{same_kind} {} documents; canaryctl works on files with one",
                kind.describe()
            )));
        }
        let hash = content_hash(&bytes);
        let doc = docs.get(doc_index).unwrap_or(&Value::Null);
        let (location, plugin_bytes) = match kind {
            Kind::Plugin if syntax == Syntax::Json => (Location::Whole, bytes.clone()),
            Kind::Plugin => {
                return Err(fail(
                    "a plugin config must be JSON (the filter reads JSON); this file is YAML"
                        .to_string(),
                ))
            }
            Kind::Ecds => {
                let (place, plugin) = ecds::locate(doc).map_err(fail)?;
                (Location::EcdsString(place), plugin.into_bytes())
            }
            Kind::Wasmplugin => {
                let plugin = plugin_config(doc).map_err(fail)?;
                let json = serde_json::to_vec(plugin).map_err(|e| fail(e.to_string()))?;
                (Location::PluginConfig, json)
            }
        };
        Ok(Document {
            path: path.to_path_buf(),
            kind,
            text: String::from_utf8(bytes).unwrap_or_default(),
            syntax,
            docs,
            doc_index,
            location,
            plugin_bytes,
            hash,
        })
    }

    /// The hash of the bytes this document was read from.
    pub fn hash(&self) -> &ContentHash {
        &self.hash
    }

    /// For an ECDS file: the Wasm filter it delivers.
    pub fn ecds_filter(&self) -> Option<EcdsFilter> {
        let Location::EcdsString(place) = &self.location else {
            return None;
        };
        let doc = self.docs.get(self.doc_index)?;
        let (name, typed_config) = place.filter(doc)?;
        Some(EcdsFilter {
            name: name.to_string(),
            typed_config: typed_config.clone(),
        })
    }

    /// Validates the plugin config exactly as the filter's `on_configure`
    /// does; the error reads `<file>: releases[0].weight: ...`.
    pub fn config(&self) -> Result<Config> {
        Config::from_json(&self.plugin_bytes).map_err(|e| CliError::in_file(&self.path, e))
    }

    /// The plugin config as an ordered JSON value, for editing.
    pub fn plugin_value(&self) -> Result<Value> {
        serde_json::from_slice(&self.plugin_bytes)
            .map_err(|e| CliError::in_file(&self.path, format!("not valid JSON: {e}")))
    }

    /// The whole file with the plugin config replaced by `plugin`, every
    /// other byte kept where the syntax allows it.
    pub fn render(&self, plugin: &Value) -> Result<String> {
        let fail = |message: &str| CliError::in_file(&self.path, message);
        let mut docs = self.docs.clone();
        let doc = docs.get_mut(self.doc_index);
        let (key, slot) = match &self.location {
            Location::Whole => {
                return json_text::render_like(plugin, &self.text).map_err(|e| fail(&e))
            }
            Location::EcdsString(place) => ("value", doc.and_then(|d| place.slot(d))),
            Location::PluginConfig => (
                "pluginConfig",
                doc.and_then(|d| d.get_mut("spec"))
                    .and_then(|s| s.get_mut("pluginConfig")),
            ),
        };
        let slot = slot.ok_or_else(|| fail("the plugin config is no longer where it was read"))?;
        let new_value = match slot {
            Value::String(old) => {
                Value::String(json_text::render_like(plugin, old).map_err(|e| fail(&e))?)
            }
            _ => plugin.clone(),
        };
        let old_value = std::mem::replace(slot, new_value.clone());
        let text = match self.syntax {
            Syntax::Json => {
                let new_doc = docs.first().unwrap_or(&Value::Null);
                json_text::replace_or_render(&self.text, &old_value, &new_value, new_doc)
            }
            Syntax::Yaml => yaml::replace_block(&self.text, key, &new_value, &docs),
        };
        text.map_err(|e| fail(&e))
    }
}

fn looks_like_json(path: &Path, bytes: &[u8]) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || matches!(bytes.trim_ascii_start().first(), Some(b'{' | b'['))
}

/// The first document of the given kind.
fn find_document(docs: &[Value], kind: Kind) -> Option<usize> {
    docs.iter().position(|doc| kind_of(doc) == Some(kind))
}

fn kind_of(doc: &Value) -> Option<Kind> {
    let object = doc.as_object()?;
    if object.contains_key("releases") {
        Some(Kind::Plugin)
    } else if object.contains_key("resources") {
        Some(Kind::Ecds)
    } else if object.get("kind").and_then(Value::as_str) == Some("WasmPlugin") {
        Some(Kind::Wasmplugin)
    } else {
        None
    }
}

fn detect(docs: &[Value]) -> Option<(Kind, usize)> {
    if docs.is_empty() {
        // Unparsable JSON: the filter's parser will say why.
        return Some((Kind::Plugin, 0));
    }
    docs.iter()
        .enumerate()
        .find_map(|(i, doc)| kind_of(doc).map(|kind| (kind, i)))
}

fn plugin_config(doc: &Value) -> std::result::Result<&Value, String> {
    if doc.get("kind").and_then(Value::as_str) != Some("WasmPlugin") {
        return Err("kind: expected WasmPlugin".to_string());
    }
    match doc.get("spec").and_then(|s| s.get("pluginConfig")) {
        Some(config @ Value::Object(_)) => Ok(config),
        Some(_) => Err("spec.pluginConfig: expected a mapping with \"releases\"".to_string()),
        None => Err("spec.pluginConfig: missing; the filter's releases go there".to_string()),
    }
}

#[cfg(test)]
mod tests;
