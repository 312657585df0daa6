//! An offline stand-in for the Kubernetes API server's validation of custom
//! resources, driven by Istio's CRD file: for each document, the CRD version
//! its apiVersion and kind name, then the OpenAPI schema with pruning
//! (`structural.rs`), then the CEL rules and list types (`rules.rs`).
//!
//! Why a Rust test and not a tool in a venv: the two parts Kubernetes adds to
//! JSON Schema, pruning and CEL, are small on top of the `jsonschema` and
//! `cel` crates; the Kubernetes-specific CEL functions the CRDs call are
//! added in `cel_env.rs` with Go's URL parsing ported in `go_url.rs`. It runs
//! inside `cargo test` with nothing else to install, and every rule's outcome
//! is visible: a rule that cannot be evaluated is an error, never a pass.

#![allow(dead_code)] // Each test crate uses a different part of this module.

pub mod cel_env;
mod go_url;
pub mod paths;
pub mod rules;
pub mod structural;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jsonschema::Validator;
use serde_json::Value;

use cel_env::CelEnv;

/// `../shared/istio` from the repository root: Istio's CRDs and examples.
pub fn shared_istio() -> PathBuf {
    crate::support::repo_root().join("../shared/istio")
}

/// `filter-config/istio` from the repository root: the Istio kit.
pub fn kit_dir() -> PathBuf {
    crate::support::repo_root().join("filter-config/istio")
}

/// Every non-empty YAML document in `path`, as JSON values, read as
/// Kubernetes reads it (canaryctl's `document::k8s_yaml`, which canaryctl
/// also reads WasmPlugin files with).
pub fn documents(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    documents_of(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every non-empty YAML document in `text`, as `documents` reads a file.
pub fn documents_of(text: &str) -> Result<Vec<Value>, String> {
    let all = canaryctl::document::k8s_yaml::parse(text)?;
    Ok(all.into_iter().filter(|doc| !doc.is_null()).collect())
}

struct CrdVersion {
    open_api: Value,
    validator: Validator,
}

pub struct Crds {
    /// By (apiVersion, kind), served versions only.
    versions: HashMap<(String, String), CrdVersion>,
    cel: CelEnv,
}

/// The outcome for one document.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Schema errors and failed rules, worded as the API server words them.
    pub errors: Vec<String>,
    /// Rules that could not be compiled or run: never counted as passes.
    pub unevaluated: Vec<String>,
    pub rules_passed: usize,
    pub transition_rules_skipped: usize,
}

impl Verdict {
    pub fn accepted(&self) -> bool {
        self.errors.is_empty() && self.unevaluated.is_empty()
    }
}

impl Crds {
    pub fn load(path: &Path) -> Result<Self, String> {
        let mut versions = HashMap::new();
        for crd in documents(path)? {
            let spec = &crd["spec"];
            let (Some(group), Some(kind)) =
                (spec["group"].as_str(), spec["names"]["kind"].as_str())
            else {
                return Err(format!("{}: a CRD without group or kind", path.display()));
            };
            for version in spec["versions"].as_array().into_iter().flatten() {
                if version["served"] != Value::Bool(true) {
                    continue;
                }
                let name = version["name"].as_str().unwrap_or_default();
                let open_api = version["schema"]["openAPIV3Schema"].clone();
                let validator = structural::validator(&open_api)
                    .map_err(|e| format!("{kind} {group}/{name}: {e}"))?;
                versions.insert(
                    (format!("{group}/{name}"), kind.to_string()),
                    CrdVersion {
                        open_api,
                        validator,
                    },
                );
            }
        }
        Ok(Self {
            versions,
            cel: CelEnv::new()?,
        })
    }

    /// The CRD file at `../shared/istio/crd-all.gen.yaml`.
    pub fn istio() -> Result<Self, String> {
        Self::load(&shared_istio().join("crd-all.gen.yaml"))
    }

    pub fn cel(&self) -> &CelEnv {
        &self.cel
    }

    /// Validates `document` as a create of the resource it describes.
    pub fn validate(&self, document: &Value) -> Verdict {
        let api_version = document["apiVersion"].as_str().unwrap_or_default();
        let kind = document["kind"].as_str().unwrap_or_default();
        let Some(crd) = self
            .versions
            .get(&(api_version.to_string(), kind.to_string()))
        else {
            return Verdict {
                errors: vec![format!(
                    "no served CRD version for apiVersion {api_version:?} kind {kind:?}"
                )],
                ..Verdict::default()
            };
        };
        let mut findings = rules::Findings::default();
        rules::check(&self.cel, &crd.open_api, document, "", &mut findings);
        let mut errors = structural::errors(&crd.validator, document);
        errors.extend(findings.violations);
        Verdict {
            errors,
            unevaluated: findings.unevaluated,
            rules_passed: findings.rules_passed,
            transition_rules_skipped: findings.transition_rules_skipped,
        }
    }

    /// Every CEL rule in the loaded CRD versions, with where it sits.
    pub fn all_rules(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for ((api_version, kind), crd) in &self.versions {
            collect_rules(&crd.open_api, &format!("{kind} {api_version}"), &mut out);
        }
        out.sort();
        out
    }
}

fn collect_rules(node: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            for rule in map
                .get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(source) = rule["rule"].as_str() {
                    out.push((at.to_string(), source.to_string()));
                }
            }
            for (key, child) in map {
                collect_rules(child, &format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_rules(item, at, out)),
        _ => {}
    }
}
