//! Phase one: the JSON document read into raw shapes, field by field, with
//! the path of every field at hand for errors. Unknown fields are errors, so
//! a typo'd key never passes silently.
//!
//! Walking the own reader's `Json` by hand rather than deriving keeps the
//! filter's wasm small (serde costs tens of kilobytes) and lets each
//! message say exactly which field is wrong and what it should be.

use crate::json::{self, Json as Value, Number};

use super::error::{ConfigError, Result};
use super::limits::MAX_CONFIG_BYTES;

pub struct RawConfig {
    pub releases: Vec<RawRelease>,
    pub lanes: Option<RawLanes>,
}

/// The `lanes` block.
pub struct RawLanes {
    pub header: Option<String>,
    pub edge: Option<bool>,
    pub trace_headers: Option<Vec<String>>,
    pub ttl_seconds: Option<Number>,
}

pub struct RawRelease {
    pub name: String,
    pub hosts: Option<Vec<String>>,
    pub header: String,
    pub baseline: String,
    /// The two-version form; `canaries` is the other.
    pub canary: Option<String>,
    pub canaries: Option<Vec<RawCanary>>,
    pub rule: RawRule,
    /// Istio sends numbers through a protobuf Struct, so 20 arrives as 20.0.
    pub weight: Option<Number>,
    pub sticky: Option<RawSticky>,
    /// The two-version form's canary's lane.
    pub lane: Option<String>,
}

/// A canary of the `canaries` form.
pub struct RawCanary {
    pub value: String,
    pub rule: RawRule,
    pub weight: Option<Number>,
    pub lane: Option<String>,
}

/// The traffic rule's fields, as a release or a canary has them.
pub struct RawRule {
    pub path: Option<RawPath>,
    pub mode: Option<String>,
    pub conditions: Option<Vec<RawCondition>>,
}

pub struct RawPath {
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub regex: Option<String>,
}

pub struct RawCondition {
    pub header: Option<String>,
    pub cookie: Option<String>,
    pub query: Option<String>,
    pub op: String,
    /// A string, or a number for the numeric and percent operators.
    pub value: Option<Value>,
    pub values: Option<Vec<Value>>,
}

pub struct RawSticky {
    pub header: Option<String>,
    pub cookie: Option<String>,
}

/// Reads the JSON document into the raw shapes.
pub fn read(bytes: &[u8]) -> Result<RawConfig> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ConfigError::new(
            "",
            "the plugin configuration is empty; expected a JSON object with \"releases\"",
        ));
    }
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::new(
            "",
            format!(
                "the plugin configuration is {} bytes; the limit is {MAX_CONFIG_BYTES}",
                bytes.len()
            ),
        ));
    }
    let document =
        json::parse(bytes).map_err(|e| ConfigError::new("", format!("not valid JSON: {e}")))?;
    let root = Fields::of(&document, "", &["releases", "lanes"])?;
    let releases = root.required("releases", |v, at| list(v, at, release))?;
    let lanes = root.optional("lanes", lanes)?;
    Ok(RawConfig { releases, lanes })
}

fn lanes(value: &Value, at: &str) -> Result<RawLanes> {
    let f = Fields::of(
        value,
        at,
        &["header", "edge", "trace_headers", "ttl_seconds"],
    )?;
    Ok(RawLanes {
        header: f.optional("header", string)?,
        edge: f.optional("edge", boolean)?,
        trace_headers: f.optional("trace_headers", strings)?,
        ttl_seconds: f.optional("ttl_seconds", number)?,
    })
}

fn release(value: &Value, at: &str) -> Result<RawRelease> {
    let f = Fields::of(
        value,
        at,
        &[
            "name",
            "hosts",
            "header",
            "baseline",
            "canary",
            "path",
            "mode",
            "conditions",
            "weight",
            "sticky",
            "canaries",
            "lane",
        ],
    )?;
    Ok(RawRelease {
        name: f.required("name", string)?,
        hosts: f.optional("hosts", strings)?,
        header: f.required("header", string)?,
        baseline: f.required("baseline", string)?,
        canary: f.optional("canary", string)?,
        canaries: f.optional("canaries", |v, at| list(v, at, canary))?,
        rule: rule(&f)?,
        weight: f.optional("weight", number)?,
        sticky: f.optional("sticky", sticky)?,
        lane: f.optional("lane", string)?,
    })
}

fn canary(value: &Value, at: &str) -> Result<RawCanary> {
    let f = Fields::of(
        value,
        at,
        &["value", "path", "mode", "conditions", "weight", "lane"],
    )?;
    Ok(RawCanary {
        value: f.required("value", string)?,
        rule: rule(&f)?,
        weight: f.optional("weight", number)?,
        lane: f.optional("lane", string)?,
    })
}

fn rule(f: &Fields<'_>) -> Result<RawRule> {
    Ok(RawRule {
        path: f.optional("path", path)?,
        mode: f.optional("mode", string)?,
        conditions: f.optional("conditions", |v, at| list(v, at, condition))?,
    })
}

fn path(value: &Value, at: &str) -> Result<RawPath> {
    let f = Fields::of(value, at, &["exact", "prefix", "regex"])?;
    Ok(RawPath {
        exact: f.optional("exact", string)?,
        prefix: f.optional("prefix", string)?,
        regex: f.optional("regex", string)?,
    })
}

fn condition(value: &Value, at: &str) -> Result<RawCondition> {
    let f = Fields::of(
        value,
        at,
        &["header", "cookie", "query", "op", "value", "values"],
    )?;
    Ok(RawCondition {
        header: f.optional("header", string)?,
        cookie: f.optional("cookie", string)?,
        query: f.optional("query", string)?,
        op: f.required("op", string)?,
        value: f.optional("value", |v, _| Ok(v.clone()))?,
        values: f.optional("values", |v, at| list(v, at, |item, _| Ok(item.clone())))?,
    })
}

fn sticky(value: &Value, at: &str) -> Result<RawSticky> {
    let f = Fields::of(value, at, &["header", "cookie"])?;
    Ok(RawSticky {
        header: f.optional("header", string)?,
        cookie: f.optional("cookie", string)?,
    })
}

/// An object's fields, checked against the names it may have.
struct Fields<'a> {
    map: &'a [(String, Value)],
    at: &'a str,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, at: &'a str, allowed: &[&str]) -> Result<Self> {
        let Value::Object(map) = value else {
            return Err(ConfigError::new(
                at,
                format!("expected an object, got {}", kind(value)),
            ));
        };
        // The first unknown name in the document, as the tools' tests pin
        // (they built serde_json with preserve_order).
        let unknown = map
            .iter()
            .map(|(k, _)| k)
            .find(|k| !allowed.contains(&k.as_str()));
        if let Some(unknown) = unknown {
            return Err(ConfigError::new(
                join(at, unknown),
                format!(
                    "unknown field \"{unknown}\", expected one of {}",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Self { map, at })
    }

    /// A field that may be left out; `null` counts as left out.
    fn optional<T>(
        &self,
        key: &str,
        read: impl Fn(&Value, &str) -> Result<T>,
    ) -> Result<Option<T>> {
        // The last of a repeated key wins, as it did with serde_json.
        match self
            .map
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
        {
            None | Some(Value::Null) => Ok(None),
            Some(value) => read(value, &join(self.at, key)).map(Some),
        }
    }

    fn required<T>(&self, key: &str, read: impl Fn(&Value, &str) -> Result<T>) -> Result<T> {
        self.optional(key, read)?
            .ok_or_else(|| ConfigError::new(join(self.at, key), "is required"))
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string(value: &Value, at: &str) -> Result<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(ConfigError::new(
            at,
            format!("expected a string, got {}", kind(other)),
        )),
    }
}

/// A list of strings (one function for every such field: one copy in the
/// shipped module).
fn strings(value: &Value, at: &str) -> Result<Vec<String>> {
    list(value, at, string)
}

fn boolean(value: &Value, at: &str) -> Result<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(ConfigError::new(
            at,
            format!("expected true or false, got {}", kind(other)),
        )),
    }
}

fn number(value: &Value, at: &str) -> Result<Number> {
    match value {
        Value::Number(n) => Ok(n.clone()),
        other => Err(ConfigError::new(
            at,
            format!("expected a number, got {}", kind(other)),
        )),
    }
}

fn list<T>(value: &Value, at: &str, item: impl Fn(&Value, &str) -> Result<T>) -> Result<Vec<T>> {
    let Value::Array(items) = value else {
        return Err(ConfigError::new(
            at,
            format!("expected an array, got {}", kind(value)),
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, value) in items.iter().enumerate() {
        out.push(item(value, &format!("{at}[{i}]"))?);
    }
    Ok(out)
}
