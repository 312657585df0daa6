//! Go's `net/url.ParseRequestURI`, which Kubernetes' CEL `isURL()` and
//! `url()` are defined by. Istio's WasmPlugin `url` rule depends on its exact
//! verdicts ("test" is not a request URI, "http://test" is, "#%blah$#@" is
//! neither even behind "http://"), so this follows Go's parser step by step:
//! scheme, query, authority (userinfo, host, port), path escapes. Not ported:
//! the IPv6 literal syntax check newer Go versions add inside "[...]".

/// The parts of a parsed URL that the Kubernetes URL library returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoUrl {
    pub scheme: String,
    /// As written, with the port, IPv6 brackets kept (Go's `URL.Host`).
    pub host: String,
}

impl GoUrl {
    /// Go's `URL.Hostname()`: the host without port and brackets.
    pub fn hostname(&self) -> &str {
        let (host, _) = split_host_port(&self.host);
        host.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
    }

    /// Go's `URL.Port()`: the digits after the last ':' past any "]".
    pub fn port(&self) -> &str {
        split_host_port(&self.host).1
    }
}

fn split_host_port(host: &str) -> (&str, &str) {
    let after_bracket = host.rfind(']').map_or(0, |i| i + 1);
    match host[after_bracket..].rfind(':') {
        Some(i) => (&host[..after_bracket + i], &host[after_bracket + i + 1..]),
        None => (host, ""),
    }
}

/// `url.ParseRequestURI(raw)`: an absolute URI or an absolute path.
pub fn parse_request_uri(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    if raw.is_empty() {
        return Err("empty url".into());
    }
    if raw == "*" {
        return Ok(GoUrl {
            scheme: String::new(),
            host: String::new(),
        });
    }
    let (scheme, rest) = split_scheme(raw)?;
    let scheme = scheme.to_ascii_lowercase();
    // The query is not checked by ParseRequestURI beyond being split off.
    let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        &rest[..rest.len() - 1]
    } else {
        rest.split_once('?').map_or(rest, |(before, _)| before)
    };
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            // "mailto:x": a rootless path, kept opaque.
            return Ok(GoUrl {
                scheme,
                host: String::new(),
            });
        }
        return Err("invalid URI for request".into());
    }
    let mut host = String::new();
    let mut path = rest;
    if !scheme.is_empty() && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, after) = match authority_and_path.find('/') {
            Some(i) => authority_and_path.split_at(i),
            None => (authority_and_path, ""),
        };
        host = parse_authority(authority)?;
        path = after;
    }
    unescape(path, Mode::Path)?;
    Ok(GoUrl { scheme, host })
}

/// Go's `getScheme`: letters, then digits, '+', '-', '.' too, up to ':'.
/// Anything else first means "no scheme", not an error.
fn split_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<String, String> {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let host = parse_host(host)?;
    if let Some(userinfo) = userinfo {
        let valid = userinfo
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c));
        if !valid {
            return Err("net/url: invalid userinfo".into());
        }
        for part in userinfo.splitn(2, ':') {
            unescape(part, Mode::UserInfo)?;
        }
    }
    Ok(host)
}

fn parse_host(host: &str) -> Result<String, String> {
    let colon_port = if host.starts_with('[') {
        let end = host.rfind(']').ok_or("missing ']' in host")?;
        &host[end + 1..]
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    let port_ok = colon_port.is_empty()
        || colon_port
            .strip_prefix(':')
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
    if !port_ok {
        return Err(format!("invalid port {colon_port:?} after host"));
    }
    unescape(host, Mode::Host)?;
    Ok(host.to_string())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Host,
    Path,
    UserInfo,
}

/// Go's `unescape` validity checks: every '%' starts two hex digits; in a
/// host, %-escapes only for non-ASCII bytes (or "%25"), and only the
/// characters Go's `shouldEscape(c, encodeHost)` lets through.
fn unescape(s: &str, mode: Mode) -> Result<(), String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        if c == b'%' {
            let hex = |at: usize| bytes.get(at).copied().filter(u8::is_ascii_hexdigit);
            let (Some(high), Some(_)) = (hex(i + 1), hex(i + 2)) else {
                let end = (i + 3).min(s.len());
                return Err(format!("invalid URL escape {:?}", &s[i..end]));
            };
            let escape = &s[i..i + 3];
            if mode == Mode::Host && (high as char).to_digit(16).unwrap_or(0) < 8 && escape != "%25"
            {
                return Err(format!("invalid URL escape {escape:?}"));
            }
            i += 3;
            continue;
        }
        if mode == Mode::Host && c < 0x80 && !host_char_ok(c) {
            return Err(format!("invalid character {:?} in host name", c as char));
        }
        i += 1;
    }
    Ok(())
}

fn host_char_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!$&'()*+,;=:[]<>\"-_.~".contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(raw: &str) -> Option<String> {
        parse_request_uri(raw).ok().map(|u| u.scheme)
    }

    #[test]
    fn request_uris_as_go_parses_them() {
        // (input, scheme if Go's ParseRequestURI accepts it)
        let cases: &[(&str, Option<&str>)] = &[
            (
                "https://user:pass@example.com:80/path?query=val#fragment",
                Some("https"),
            ),
            ("/absolute-path", Some("")),
            (
                "oci://registry.example.com/pay/canary-filter:0.1.0",
                Some("oci"),
            ),
            (
                "oci://registry:5000/pay/canary-filter@sha256:00ff",
                Some("oci"),
            ),
            ("file:///opt/filters/openid.wasm", Some("file")),
            ("HTTP://test", Some("http")),
            ("fake://example.com", Some("fake")),
            ("mailto:someone", Some("mailto")),
            ("*", Some("")),
            ("http://[::1]:80/", Some("http")),
            ("test", None),
            ("../relative-path", None),
            ("https://a:b:c/", None),
            ("#%blah$#@", None),
            ("http://#%blah$#@", None),
            ("", None),
            (":x", None),
            ("http://exa mple.com/", None),
            ("http://example.com/%zz", None),
            ("http://%41.com/", None),
            ("http://example.com:8o/", None),
            ("http://[::1/", None),
            ("http://a\u{7f}b/", None),
        ];
        for (input, want) in cases {
            assert_eq!(scheme(input).as_deref(), *want, "{input:?}");
        }
    }

    #[test]
    fn host_parts() {
        let url = parse_request_uri("https://[::1]:8080/x").unwrap();
        assert_eq!(
            (url.host.as_str(), url.hostname(), url.port()),
            ("[::1]:8080", "::1", "8080")
        );
        let url = parse_request_uri("https://example.com/").unwrap();
        assert_eq!((url.hostname(), url.port()), ("example.com", ""));
        let url = parse_request_uri("/path").unwrap();
        assert_eq!((url.host.as_str(), url.hostname()), ("", ""));
    }
}
