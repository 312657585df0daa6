//! The CEL dialect of Kubernetes `x-kubernetes-validations`, on the `cel`
//! crate: its standard library and strings extension (`substring`, ...)
//! already cover `has()`, `all()`, `exists()`, `exists_one()`, `in`,
//! `size()`, `int()`, `duration()`, `matches()`, `contains()`,
//! `startsWith()`, `endsWith()`. Added here from Kubernetes' own libraries:
//! `isURL()`, `url()` and the URL getters (Go `net/url` semantics).
//!
//! Only what Istio's CRDs use is provided; `KNOWN_FUNCTIONS` lists it, and a
//! test holds every rule in the CRD file to that list, so a rule this
//! environment cannot evaluate fails the suite instead of passing unseen.

use std::sync::Arc;

use cel::extractors::This;
use cel::objects::Opaque;
use cel::{extensions, Context, Env, ExecutionError, Program, Value};

use super::go_url::{parse_request_uri, GoUrl};

/// Every function and operator a rule may call here. Anything else is a rule
/// this validator cannot judge.
pub const KNOWN_FUNCTIONS: &[&str] = &[
    // Operators, as the parser names them.
    "_&&_",
    "_||_",
    "!_",
    "-_",
    "_?_:_",
    "_==_",
    "_!=_",
    "_<_",
    "_<=_",
    "_>_",
    "_>=_",
    "_+_",
    "_-_",
    "_*_",
    "_/_",
    "_%_",
    "@in",
    "_[_]",
    // Internal to the expansion of all() and exists().
    "@not_strictly_false",
    // Macros and standard functions.
    "has",
    "all",
    "exists",
    "exists_one",
    "size",
    "int",
    "uint",
    "double",
    "string",
    "duration",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    // Strings extension.
    "substring",
    "lowerAscii",
    "upperAscii",
    "indexOf",
    "lastIndexOf",
    "trim",
    "replace",
    "split",
    "join",
    // Kubernetes URL library.
    "isURL",
    "url",
    "getScheme",
    "getHost",
    "getHostname",
    "getPort",
];

/// A URL value, as Kubernetes' `url()` returns.
#[derive(Debug, PartialEq, Eq)]
struct Url(GoUrl);

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.URL"
    }
}

pub struct CelEnv {
    env: Arc<Env>,
}

impl CelEnv {
    pub fn new() -> Result<Self, String> {
        let mut env = Env::stdlib();
        env.add_extension(extensions::strings)
            .map_err(|e| format!("cel strings extension: {e}"))?;
        Ok(Self { env: Arc::new(env) })
    }

    pub fn compile(&self, rule: &str) -> Result<Program, String> {
        self.env.compile(rule).map_err(|e| e.to_string())
    }

    /// Runs `program` with `self` bound to `value`; only `true` passes.
    pub fn check(&self, program: &Program, value: Value) -> Result<bool, String> {
        let mut context = Context::with_env(self.env.clone());
        context.add_variable_from_value("self", value);
        add_url_library(&mut context).map_err(|e| format!("cel URL library: {e}"))?;
        match program.execute(&context) {
            Ok(Value::Bool(passed)) => Ok(passed),
            Ok(other) => Err(format!("rule returned {other:?}, not a bool")),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn add_url_library(context: &mut Context) -> Result<(), cel::DeclarationError> {
    context.add_function("isURL", |s: Arc<String>| parse_request_uri(&s).is_ok())?;
    context.add_function("url", |s: Arc<String>| -> Result<Value, ExecutionError> {
        parse_request_uri(&s)
            .map(|u| Value::Opaque(Arc::new(Url(u))))
            .map_err(|e| {
                ExecutionError::function_error(
                    "url",
                    format!("URL parse error during conversion from string: {e}"),
                )
            })
    })?;
    context.add_function("getScheme", |This(v): This<Value>| {
        url_part(&v, "getScheme", |u| u.scheme.clone())
    })?;
    context.add_function("getHost", |This(v): This<Value>| {
        url_part(&v, "getHost", |u| u.host.clone())
    })?;
    context.add_function("getHostname", |This(v): This<Value>| {
        url_part(&v, "getHostname", |u| u.hostname().to_string())
    })?;
    context.add_function("getPort", |This(v): This<Value>| {
        url_part(&v, "getPort", |u| u.port().to_string())
    })?;
    Ok(())
}

fn url_part(
    value: &Value,
    function: &str,
    part: impl Fn(&GoUrl) -> String,
) -> Result<Value, ExecutionError> {
    match value {
        Value::Opaque(o) => match o.downcast_ref::<Url>() {
            Some(Url(url)) => Ok(Value::String(Arc::new(part(url)))),
            None => Err(ExecutionError::function_error(function, "not a URL")),
        },
        other => Err(ExecutionError::function_error(
            function,
            format!("expects a URL, got {other:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(rule: &str, value: Value) -> Result<bool, String> {
        let env = CelEnv::new().unwrap();
        let program = env.compile(rule)?;
        env.check(&program, value)
    }

    fn s(v: &str) -> Value {
        Value::String(Arc::new(v.to_string()))
    }

    #[test]
    fn kubernetes_url_library() {
        let rule =
            |schemes: &str| format!("isURL(self) ? (url(self).getScheme() in [{schemes}]) : false");
        let schemes = r#""", "http", "https", "oci", "file""#;
        assert_eq!(eval(&rule(schemes), s("oci://r/x:1")), Ok(true));
        assert_eq!(eval(&rule(schemes), s("fake://r/x")), Ok(false));
        assert_eq!(eval(&rule(schemes), s("test")), Ok(false));
        assert_eq!(
            eval("url('https://[::1]:80/').getHost() == '[::1]:80'", s("")),
            Ok(true)
        );
        assert_eq!(
            eval("url('https://[::1]:80/').getHostname() == '::1'", s("")),
            Ok(true)
        );
        assert_eq!(
            eval("url('https://e.com:80/').getPort() == '80'", s("")),
            Ok(true)
        );
        assert_eq!(eval("url('/path').getScheme() == ''", s("")), Ok(true));
        // An invalid URL is an evaluation error, as in Kubernetes.
        assert!(eval("url('test').getScheme() == ''", s("")).is_err());
    }

    #[test]
    fn standard_functions_the_crds_use() {
        let passes = [
            ("duration(self) >= duration('1ms')", s("300s")),
            ("duration(self) >= duration('1ms')", s("1h30m")),
            ("!(duration(self) >= duration('1ms'))", s("0.5ms")),
            ("self.substring(7, 8) == '/'", s("unix:///a")),
            (
                "self.startsWith('unix://') && !self.endsWith('/')",
                s("unix://a"),
            ),
            (
                "self.all(c, c.matches('^[a-z]$'))",
                Value::List(Arc::new(vec![s("a"), s("b")])),
            ),
            (
                "[1, 2].exists_one(x, x == 1) && ![1, 1].exists_one(x, x == 1)",
                s(""),
            ),
            (
                "int('80') == 80 && size('abc') == 3 && self.size() == 0",
                s(""),
            ),
            ("self in ['', 'HTTP']", s("HTTP")),
        ];
        for (rule, value) in passes {
            assert_eq!(eval(rule, value.clone()), Ok(true), "{rule} with {value:?}");
        }
    }

    #[test]
    fn an_unknown_function_or_missing_field_is_an_error_not_a_pass() {
        assert!(eval("self.isSorted()", s("x")).is_err());
        assert!(eval(
            "self.nosuch == 1",
            Value::from(std::collections::HashMap::<String, Value>::new())
        )
        .is_err());
        assert!(eval("self", s("x")).is_err(), "a non-bool result");
    }
}
