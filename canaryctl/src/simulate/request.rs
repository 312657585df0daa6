//! The synthetic request of `simulate`, built from its flags, as the
//! header pairs the filter would hand to the core.

use canary_core::{Config, Release, Request, Sticky};

/// `-H 'name: value'`.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("\"{text}\" is not 'name: value'"))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!(
            "\"{text}\" has no header name; write 'name: value'"
        ));
    }
    Ok((name.to_ascii_lowercase(), value.trim().to_string()))
}

/// `--cookie 'name=value'` and `--query 'name=value'`.
pub fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("\"{text}\" is not 'name=value'")),
    }
}

/// The synthetic request as the command line gives it.
#[derive(Debug, Clone, Default)]
pub struct RequestFlags {
    /// Lower-case names, as [`parse_header`] gives them.
    pub headers: Vec<(String, String)>,
    /// The path (default "/").
    pub path: String,
    /// Default: the first host of the first release.
    pub host: Option<String>,
    pub cookies: Vec<(String, String)>,
    /// Appended to the path.
    pub queries: Vec<(String, String)>,
}

/// One request's headers, pseudo-headers included.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub host: String,
    /// The path with the query string.
    pub path: String,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
}

/// A host the first release covers, for when `--host` is not given.
fn default_host(config: &Config) -> String {
    let first = config.releases.first().and_then(|r| r.hosts.first());
    match first {
        Some(host) => match host.strip_prefix("*.") {
            Some(domain) => format!("www.{domain}"),
            None => host.clone(),
        },
        None => "localhost".to_string(),
    }
}

impl RequestSpec {
    pub fn from_flags(args: &RequestFlags, config: &Config) -> Self {
        let host_header = args.headers.iter().find(|(n, _)| n == "host");
        let host = args
            .host
            .clone()
            .or_else(|| host_header.map(|(_, v)| v.clone()))
            .unwrap_or_else(|| default_host(config));
        let mut path = if args.path.starts_with('/') {
            args.path.clone()
        } else {
            format!("/{}", args.path)
        };
        for (name, value) in &args.queries {
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str(&format!("{name}={value}"));
        }
        RequestSpec {
            host,
            path,
            headers: args.headers.clone(),
            cookies: args.cookies.clone(),
        }
    }

    /// The release that covers this request's host, as the core finds it.
    pub fn release<'c>(&self, config: &'c Config) -> Option<&'c Release> {
        let pairs = [(&b":authority"[..], self.host.as_bytes())];
        let host = Request::new(&pairs).host();
        config.release_for_host(&host).map(|(_, release)| release)
    }

    /// The header pairs; `sticky_key` is a synthetic user's key, put where the
    /// release's sticky config reads it (ahead of any given value).
    pub fn pairs(&self, sticky_key: Option<(&Sticky, &str)>) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b":authority".to_vec(), self.host.as_bytes().to_vec()),
            (b":path".to_vec(), self.path.as_bytes().to_vec()),
            (b":method".to_vec(), b"GET".to_vec()),
        ];
        let mut cookies: Vec<String> = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        let mut skip_header = None;
        match sticky_key {
            Some((Sticky::Header(name), key)) => {
                pairs.push((name.as_bytes().to_vec(), key.as_bytes().to_vec()));
                skip_header = Some(name.as_str());
            }
            Some((Sticky::Cookie(name), key)) => cookies.insert(0, format!("{name}={key}")),
            None => {}
        }
        for (name, value) in &self.headers {
            if Some(name.as_str()) != skip_header && name != "host" {
                pairs.push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
            }
        }
        if !cookies.is_empty() {
            pairs.push((b"cookie".to_vec(), cookies.join("; ").into_bytes()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_parsing() {
        assert_eq!(
            parse_header("X-Env:  test ").unwrap(),
            ("x-env".into(), "test".into())
        );
        assert_eq!(
            parse_header("a: b: c").unwrap(),
            ("a".into(), "b: c".into())
        );
        assert!(parse_header("novalue").is_err());
        assert!(parse_header(": x").is_err());
        assert_eq!(parse_pair("uid=1=2").unwrap(), ("uid".into(), "1=2".into()));
        assert_eq!(parse_pair("flag=").unwrap(), ("flag".into(), String::new()));
        assert!(parse_pair("=x").is_err());
        assert!(parse_pair("x").is_err());
    }

    #[test]
    fn pairs_carry_every_flag_and_the_sticky_key() {
        let spec = RequestSpec {
            host: "Pay.Example.com:8080".into(),
            path: "/pay?uid=1001".into(),
            headers: vec![
                ("env".into(), "test".into()),
                ("x-user".into(), "given".into()),
            ],
            cookies: vec![("beta".into(), "1".into())],
        };
        let sticky = Sticky::Header("x-user".into());
        let pairs = spec.pairs(Some((&sticky, "user-7")));
        let borrowed: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (&n[..], &v[..])).collect();
        let request = Request::new(&borrowed);
        assert_eq!(&*request.host(), b"pay.example.com");
        assert_eq!(request.path(), b"/pay");
        assert_eq!(request.query(b"uid").as_deref(), Some(&b"1001"[..]));
        assert_eq!(request.header(b"env").as_deref(), Some(&b"test"[..]));
        assert_eq!(request.header(b"x-user").as_deref(), Some(&b"user-7"[..]));
        assert_eq!(request.cookie(b"beta"), Some(&b"1"[..]));
        let cookie = Sticky::Cookie("beta".into());
        let pairs = spec.pairs(Some((&cookie, "user-9")));
        let borrowed: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (&n[..], &v[..])).collect();
        assert_eq!(
            Request::new(&borrowed).cookie(b"beta"),
            Some(&b"user-9"[..])
        );
    }
}
