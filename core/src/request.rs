//! A read-only view of a request's headers, as byte pairs, with the lookups
//! the rules need: host, path, header, cookie and query values.
//!
//! Values are bytes: a proxy may hand us anything, and nothing here may panic
//! on it. Repeated headers are joined with "," (as Envoy's own route header
//! matcher sees them); for cookies and query keys the first occurrence wins.

use std::borrow::Cow;

/// The request headers, pseudo-headers (`:authority`, `:path`) included.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pairs: &'a [(&'a [u8], &'a [u8])],
}

impl<'a> Request<'a> {
    pub fn new(pairs: &'a [(&'a [u8], &'a [u8])]) -> Self {
        Self { pairs }
    }

    fn values(&self, lower_name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.pairs
            .iter()
            .filter(move |(name, _)| name.eq_ignore_ascii_case(lower_name))
            .map(|(_, value)| *value)
    }

    /// Whether the request has the header, in any case.
    pub fn has_header(&self, lower_name: &[u8]) -> bool {
        self.pairs
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(lower_name))
    }

    /// The header's value; repeated headers joined with ",".
    pub fn header(&self, lower_name: &'a [u8]) -> Option<Cow<'a, [u8]>> {
        let mut values = self.values(lower_name);
        let first = values.next()?;
        match values.next() {
            None => Some(Cow::Borrowed(first)),
            Some(second) => {
                let mut joined = [first, second].join(&b","[..]);
                for more in values {
                    joined.push(b',');
                    joined.extend_from_slice(more);
                }
                Some(Cow::Owned(joined))
            }
        }
    }

    /// `:authority` (or `host`) lower-cased, without port or trailing dot.
    /// Empty when the request names no host.
    pub fn host(&self) -> Cow<'a, [u8]> {
        let raw = self
            .values(b":authority")
            .next()
            .or_else(|| self.values(b"host").next())
            .unwrap_or_default();
        let host = strip_port(raw);
        let host = host.strip_suffix(b".").unwrap_or(host);
        if host.iter().any(u8::is_ascii_uppercase) {
            Cow::Owned(host.to_ascii_lowercase())
        } else {
            Cow::Borrowed(host)
        }
    }

    /// `:path` without its query string and fragment.
    pub fn path(&self) -> &'a [u8] {
        let full = self.values(b":path").next().unwrap_or_default();
        let end = full
            .iter()
            .position(|&b| b == b'?' || b == b'#')
            .unwrap_or(full.len());
        full.get(..end).unwrap_or_default()
    }

    /// The value of the first cookie called `name` in any `cookie` header.
    pub fn cookie(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.values(b"cookie")
            .flat_map(|header| header.split(|&b| b == b';'))
            .find_map(|pair| {
                let pair = pair.trim_ascii();
                let eq = pair.iter().position(|&b| b == b'=')?;
                let (key, value) = (pair.get(..eq)?, pair.get(eq + 1..)?);
                (key.trim_ascii() == name).then(|| unquote(value.trim_ascii()))
            })
    }

    /// The percent-decoded value of the first query parameter whose
    /// percent-decoded key is `name`. A key without `=` has an empty value.
    pub fn query(&self, name: &[u8]) -> Option<Cow<'a, [u8]>> {
        let full = self.values(b":path").next()?;
        let start = full.iter().position(|&b| b == b'?')? + 1;
        let rest = full.get(start..)?;
        let end = rest.iter().position(|&b| b == b'#').unwrap_or(rest.len());
        rest.get(..end)?.split(|&b| b == b'&').find_map(|pair| {
            let (key, value) = match pair.iter().position(|&b| b == b'=') {
                Some(eq) => (pair.get(..eq)?, pair.get(eq + 1..)?),
                None => (pair, &b""[..]),
            };
            (percent_decode(key).as_ref() == name).then(|| percent_decode(value))
        })
    }
}

fn strip_port(authority: &[u8]) -> &[u8] {
    if authority.first() == Some(&b'[') {
        // "[v6]" or "[v6]:port": keep the brackets, drop the port.
        return match authority.iter().position(|&b| b == b']') {
            Some(close) => authority.get(..=close).unwrap_or(authority),
            None => authority,
        };
    }
    match authority.iter().rposition(|&b| b == b':') {
        Some(colon) => authority.get(..colon).unwrap_or(authority),
        None => authority,
    }
}

fn unquote(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    }
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX`; a malformed escape stays as it is. `+` is left alone, as
/// Envoy's query matcher does.
fn percent_decode(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.contains(&b'%') {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&byte) = input.get(i) {
        let decoded = match (byte, input.get(i + 1), input.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => hex(hi).zip(hex(lo)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match decoded {
            Some(value) => {
                out.push(value);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn with<T>(pairs: &[(&str, &str)], f: impl FnOnce(Request<'_>) -> T) -> T {
        let bytes: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        f(Request::new(&bytes))
    }

    #[test]
    fn host_forms() {
        let cases = [
            ("pay-service", "pay-service"),
            ("Pay-Service:8080", "pay-service"),
            ("pay.example.com.", "pay.example.com"),
            ("[::1]:8080", "[::1]"),
            ("[::1]", "[::1]"),
            ("", ""),
        ];
        for (authority, want) in cases {
            let got = with(&[(":authority", authority)], |r| r.host().into_owned());
            assert_eq!(got, want.as_bytes(), "authority {authority:?}");
        }
        assert_eq!(with(&[("host", "h:1")], |r| r.host().into_owned()), b"h");
        assert_eq!(with(&[], |r| r.host().into_owned()), b"");
    }

    #[test]
    fn path_drops_query_and_fragment() {
        assert_eq!(
            with(&[(":path", "/pay/x?a=1")], |r| r.path().to_vec()),
            b"/pay/x"
        );
        assert_eq!(with(&[(":path", "/a#f")], |r| r.path().to_vec()), b"/a");
        assert_eq!(with(&[], |r| r.path().to_vec()), b"");
    }

    #[test]
    fn repeated_headers_join_with_comma() {
        let pairs = [("env", "a"), ("ENV", "b"), ("x", "y"), ("env", "c")];
        let got = with(&pairs, |r| r.header(b"env").map(Cow::into_owned));
        assert_eq!(got.as_deref(), Some(&b"a,b,c"[..]));
        assert!(with(&pairs, |r| r.header(b"nope").is_none()));
    }

    #[test]
    fn cookies() {
        let pairs = [
            ("cookie", "a=1; beta=\"yes\" ;junk; c="),
            ("cookie", "beta=second; d=4"),
        ];
        let get = |name: &str| with(&pairs, |r| r.cookie(name.as_bytes()).map(<[u8]>::to_vec));
        assert_eq!(get("beta").as_deref(), Some(&b"yes"[..]));
        assert_eq!(get("c").as_deref(), Some(&b""[..]));
        assert_eq!(get("d").as_deref(), Some(&b"4"[..]));
        assert_eq!(get("junk"), None);
        assert_eq!(get("A"), None);
    }

    #[test]
    fn query_params() {
        let pairs = [(
            ":path",
            "/p?uid=1001&uid=9&flag&name=a%20b&%75ser=x&bad=%zz#frag",
        )];
        let get = |name: &str| with(&pairs, |r| r.query(name.as_bytes()).map(Cow::into_owned));
        assert_eq!(get("uid").as_deref(), Some(&b"1001"[..]));
        assert_eq!(get("flag").as_deref(), Some(&b""[..]));
        assert_eq!(get("name").as_deref(), Some(&b"a b"[..]));
        assert_eq!(get("user").as_deref(), Some(&b"x"[..]));
        assert_eq!(get("bad").as_deref(), Some(&b"%zz"[..]));
        assert_eq!(get("frag"), None);
        assert!(with(&[(":path", "/p")], |r| r.query(b"uid").is_none()));
    }
}
