//! GETs from Envoy's admin endpoint: plain HTTP on a `host:port`, through
//! `ureq` (no TLS, no proxy: the admin is a local, plain-HTTP port).

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

const TIMEOUT: Duration = Duration::from_secs(5);
/// Refuses answers bigger than any stats page of ours could be.
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// What a query value may hold unencoded (RFC 3986's unreserved).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` percent-encoded for a URL's query value.
pub fn encode_query_value(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// The admin path that lists the stats whose names match RE2 `pattern`.
pub fn stats_path(pattern: &str) -> String {
    format!("/stats?filter={}", encode_query_value(pattern))
}

/// `text` as a literal inside an RE2 pattern (for [`stats_path`]).
pub fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An admin address: `http://host:port`, or just `host:port`.
#[derive(Debug, Clone)]
pub struct Admin {
    /// `host:port`, as sent in the Host header.
    pub authority: String,
    agent: ureq::Agent,
}

impl PartialEq for Admin {
    fn eq(&self, other: &Self) -> bool {
        self.authority == other.authority
    }
}

impl Admin {
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some((scheme, _)) => {
                return Err(format!(
                    "{url}: only http:// is supported (Envoy's admin speaks plain HTTP), not {scheme}://"
                ))
            }
            None => url,
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let has_port = match authority.rsplit_once(':') {
            Some((host, port)) => !host.is_empty() && !port.is_empty() && !port.contains(']'),
            None => false,
        };
        if !has_port {
            return Err(format!(
                "{url}: expected http://HOST:PORT, such as http://127.0.0.1:9901"
            ));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            // A status other than 200 is reported with its body, below.
            .http_status_as_error(false)
            // HTTP_PROXY and the like must not divert a local admin port.
            .proxy(None)
            // One request per connection, as a fake admin in a test expects.
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .user_agent("canaryctl")
            .build()
            .into();
        Ok(Admin {
            authority: authority.to_string(),
            agent,
        })
    }

    /// GETs `path_and_query`; the body of a 200 answer.
    pub fn get(&self, path_and_query: &str) -> Result<String, String> {
        let url = format!("http://{}{path_and_query}", self.authority);
        let mut response = self
            .agent
            .get(&url)
            .header("accept", "text/plain")
            .call()
            .map_err(|e| {
                format!(
                    "cannot reach Envoy's admin at {}: {e} (is Envoy running, and is this its admin address?)",
                    self.authority
                )
            })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| format!("talking to Envoy's admin at {}: {e}", self.authority))?;
        let body = String::from_utf8_lossy(&body).into_owned();
        if status != 200 {
            let first_line = body.lines().next().unwrap_or_default();
            return Err(format!(
                "Envoy's admin at {} answered {status} for {path_and_query}: {first_line}",
                self.authority
            ));
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_addresses() {
        assert_eq!(
            Admin::parse("http://127.0.0.1:9901").unwrap().authority,
            "127.0.0.1:9901"
        );
        assert_eq!(
            Admin::parse("127.0.0.1:9901/").unwrap().authority,
            "127.0.0.1:9901"
        );
        assert_eq!(
            Admin::parse("http://[::1]:9901").unwrap().authority,
            "[::1]:9901"
        );
        assert!(Admin::parse("https://127.0.0.1:9901")
            .unwrap_err()
            .contains("only http://"));
        assert!(Admin::parse("http://127.0.0.1")
            .unwrap_err()
            .contains("expected http://HOST:PORT"));
        assert!(Admin::parse("http://[::1]").is_err());
    }
}
