//! Just enough HTTP/1.1 to GET a page from Envoy's admin endpoint over a
//! plain TCP stream: one request, `Connection: close`, a body sent with
//! Content-Length, chunked, or up to the close.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);
/// Refuses answers bigger than any stats page of ours could be.
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;

/// An admin address: `http://host:port`, or just `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// `host:port`, as sent in the Host header.
    pub authority: String,
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
        Ok(Admin {
            authority: authority.to_string(),
        })
    }

    fn addresses(&self) -> Result<Vec<SocketAddr>, String> {
        self.authority
            .to_socket_addrs()
            .map(Iterator::collect)
            .map_err(|e| format!("cannot resolve {}: {e}", self.authority))
    }

    /// GETs `path_and_query`; the body of a 200 answer.
    pub fn get(&self, path_and_query: &str) -> Result<String, String> {
        let unreachable = |e: std::io::Error| {
            format!(
                "cannot reach Envoy's admin at {}: {e} (is Envoy running, and is this its admin address?)",
                self.authority
            )
        };
        let mut last_error = None;
        let mut stream = None;
        for address in self.addresses()? {
            match TcpStream::connect_timeout(&address, TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let mut stream = match (stream, last_error) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(unreachable(e)),
            (None, None) => return Err(format!("{} resolves to no address", self.authority)),
        };
        let io = |e: std::io::Error| format!("talking to Envoy's admin at {}: {e}", self.authority);
        stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
        stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
        let request = format!(
            "GET {path_and_query} HTTP/1.1\r\nHost: {}\r\nUser-Agent: canaryctl\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
            self.authority
        );
        stream.write_all(request.as_bytes()).map_err(io)?;
        let mut raw = Vec::new();
        stream
            .take(MAX_RESPONSE)
            .read_to_end(&mut raw)
            .map_err(io)?;
        let (status, body) = parse_response(&raw)?;
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

/// The status code and body of a whole HTTP/1.1 response.
pub fn parse_response(raw: &[u8]) -> Result<(u16, String), String> {
    let bad = |why: &str| format!("not an HTTP response from the admin endpoint: {why}");
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(raw.get(..head_end).unwrap_or_default())
        .map_err(|_| bad("headers are not text"))?;
    let body = raw.get(head_end + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = match status_line.split(' ').collect::<Vec<_>>().as_slice() {
        [version, code, ..] if version.starts_with("HTTP/1.") => {
            code.parse::<u16>().map_err(|_| bad("no status code"))?
        }
        _ => return Err(bad("no status line")),
    };
    let header = |name: &str| {
        lines.clone().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_ascii_lowercase())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(body).ok_or_else(|| bad("broken chunked body"))?
    } else if let Some(length) = header("content-length") {
        let length: usize = length.parse().map_err(|_| bad("bad Content-Length"))?;
        body.get(..length)
            .ok_or_else(|| bad("body shorter than Content-Length"))?
            .to_vec()
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Decodes a chunked body: `size-in-hex[;ext]\r\n data \r\n ... 0\r\n\r\n`.
fn dechunk(mut input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = input.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(input.get(..line_end)?).ok()?;
        let size_hex = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        input = input.get(line_end + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(input.get(..size)?);
        input = input.get(size..)?.strip_prefix(b"\r\n")?;
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

    #[test]
    fn bodies_by_length_chunks_or_close() {
        let sized = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello and more";
        assert_eq!(parse_response(sized).unwrap(), (200, "hello".to_string()));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(chunked).unwrap(),
            (200, "hello world".to_string())
        );
        let closed = b"HTTP/1.1 404 Not Found\r\n\r\nno such page\n";
        assert_eq!(
            parse_response(closed).unwrap(),
            (404, "no such page\n".to_string())
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for raw in [
            &b""[..],
            b"hello",
            b"HTTP/1.1 abc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort",
        ] {
            assert!(parse_response(raw).is_err(), "{raw:?}");
        }
    }
}
