//! A small HTTP/1.1 client over `std::net::TcpStream`, enough to drive Envoy
//! byte for byte: header names and values are raw bytes (non-UTF-8, repeated,
//! huge, or no Host at all), and connections are kept alive between requests.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// No single read may block longer than this: a stuck Envoy fails the test
/// instead of hanging it.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Bounds on what we read back, so a broken response cannot exhaust memory.
const MAX_HEAD_BYTES: usize = 1 << 20;
const MAX_BODY_BYTES: usize = 16 << 20;

/// The response header through which the demo upstreams echo the
/// `x-canary-cluster` header they received (absent when they received none).
pub const ECHO_HEADER: &str = "x-echo-canary-cluster";

/// The routing headers the demo upstreams echo back (see `envoy-test/`).
pub const ECHOED_HEADERS: [&str; 2] = ["x-canary-cluster", "x-canary-version"];

/// One request, built up field by field. Nothing is added behind your back
/// except `content-length` for a non-empty body (unless you set one).
#[derive(Debug, Clone)]
pub struct Request {
    method: Vec<u8>,
    target: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
}

impl Request {
    /// A GET of `target` (path and query, sent as is) with no headers at all:
    /// add `.host(...)` unless you mean to send none.
    pub fn get(target: impl AsRef<[u8]>) -> Self {
        Self::new("GET", target)
    }

    pub fn new(method: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Self {
        Self {
            method: method.as_ref().to_vec(),
            target: target.as_ref().to_vec(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a `host` header (HTTP/1.1's `:authority`).
    pub fn host(self, host: impl AsRef<[u8]>) -> Self {
        self.header("host", host)
    }

    /// Adds a header; call again with the same name to repeat it. Bytes are
    /// sent verbatim (a CR or LF in them is the caller's business).
    pub fn header(mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.as_ref().to_vec(), value.as_ref().to_vec()));
        self
    }

    /// Adds a `cookie` header with the given `name=value` pairs.
    pub fn cookies(self, pairs: &[(&str, &str)]) -> Self {
        let joined: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
        self.header("cookie", joined.join("; "))
    }

    pub fn body(mut self, body: impl AsRef<[u8]>) -> Self {
        self.body = body.as_ref().to_vec();
        self
    }

    /// The bytes put on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(&self.method);
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        let has_length = self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(b"content-length"));
        if !self.body.is_empty() && !has_length {
            out.extend_from_slice(format!("content-length: {}\r\n", self.body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// A parsed response. Header names are lower-cased; values are raw bytes.
#[derive(Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Response {
    /// Readable in assertion messages: bytes shown as (lossy) text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(v)))
            .collect();
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body", &self.body_text())
            .finish()
    }
}

impl Response {
    /// The first value of header `name` (any case), lossily as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_values(name)
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// Every value of header `name` (any case), in order.
    pub fn header_values(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Which demo upstream answered: `"pay-v1"` or `"pay-v2"` (the body,
    /// trimmed); anything else for an Envoy error reply.
    pub fn version(&self) -> String {
        self.body_text().trim().to_owned()
    }

    /// The `x-canary-cluster` value the upstream received, if any.
    pub fn upstream_routing_header(&self) -> Option<String> {
        self.header(ECHO_HEADER)
    }

    /// The value of request header `name` (one of [`ECHOED_HEADERS`]) that
    /// the upstream received, if any.
    pub fn upstream_saw(&self, name: &str) -> Option<String> {
        assert!(
            ECHOED_HEADERS.contains(&name),
            "the demo upstreams echo only {ECHOED_HEADERS:?}, not {name}"
        );
        self.header(&format!("x-echo-{}", name.trim_start_matches("x-")))
    }

    fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// A keep-alive connection to one address; reconnects when the server has
/// closed it (after `connection: close` or a read to end-of-stream).
pub struct Client {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Client {
    /// Does not connect until the first request.
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, stream: None }
    }

    /// Sends `request` and reads the response; panics (naming the request)
    /// on an I/O or protocol error. Use [`Client::try_send`] to see those.
    pub fn send(&mut self, request: &Request) -> Response {
        self.try_send(request).unwrap_or_else(|e| {
            panic!(
                "request to {} failed: {e}\nrequest: {:?}",
                self.addr,
                String::from_utf8_lossy(&request.to_bytes())
            )
        })
    }

    /// Sends `request` and reads the response. A reused connection that the
    /// server closed while idle is replaced once, transparently.
    pub fn try_send(&mut self, request: &Request) -> io::Result<Response> {
        let reused = self.stream.is_some();
        match self.exchange(request) {
            Err(e) if reused && is_stale_connection(&e) => {
                self.stream = None;
                self.exchange(request)
            }
            other => other,
        }
    }

    /// Sends raw bytes (need not be valid HTTP) on a fresh connection and
    /// reads one response. The connection is not kept.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<Response> {
        self.stream = None;
        let result = self.connect().and_then(|stream| {
            stream.get_mut().write_all(bytes)?;
            read_response(stream, false)
        });
        self.stream = None;
        result.map(|(response, _)| response)
    }

    fn connect(&mut self) -> io::Result<&mut BufReader<TcpStream>> {
        if self.stream.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, IO_TIMEOUT)?;
            stream.set_read_timeout(Some(IO_TIMEOUT))?;
            stream.set_write_timeout(Some(IO_TIMEOUT))?;
            stream.set_nodelay(true)?;
            self.stream = Some(BufReader::new(stream));
        }
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::other("no connection"))
    }

    fn exchange(&mut self, request: &Request) -> io::Result<Response> {
        let head_only = request.method.eq_ignore_ascii_case(b"HEAD");
        let stream = self.connect()?;
        let outcome = stream
            .get_mut()
            .write_all(&request.to_bytes())
            .and_then(|()| read_response(stream, head_only));
        match outcome {
            Ok((response, reusable)) => {
                if !reusable || response.wants_close() {
                    self.stream = None;
                }
                Ok(response)
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }
}

/// The errors a keep-alive connection shows when the server had closed it.
fn is_stale_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

fn protocol_error(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads one line ending in LF (CRLF stripped), bounded by `budget`.
fn read_line(stream: &mut BufReader<TcpStream>, budget: &mut usize) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let limit = u64::try_from(*budget).unwrap_or(u64::MAX);
    let read = stream.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if read == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    if line.last() != Some(&b'\n') {
        return Err(protocol_error(format!(
            "response line too long or truncated: {:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    *budget = budget.saturating_sub(read);
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

/// Reads a response; the flag says whether the connection can be reused.
fn read_response(
    stream: &mut BufReader<TcpStream>,
    head_only: bool,
) -> io::Result<(Response, bool)> {
    let mut budget = MAX_HEAD_BYTES;
    let status_line = read_line(stream, &mut budget)?;
    let status_text = String::from_utf8_lossy(&status_line).into_owned();
    let status = status_text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|_| status_text.starts_with("HTTP/1."))
        .ok_or_else(|| protocol_error(format!("bad status line {status_text:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(stream, &mut budget)?;
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':').ok_or_else(|| {
            protocol_error(format!(
                "bad header line {:?}",
                String::from_utf8_lossy(&line)
            ))
        })?;
        let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
        let value = line[colon + 1..].trim_ascii().to_vec();
        headers.push((name, value));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if head_only || status < 200 || status == 204 || status == 304 {
        return Ok((response, true));
    }
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = response.header("content-length");
    if chunked {
        response.body = read_chunked(stream)?;
        Ok((response, true))
    } else if let Some(length) = length {
        let length: usize = length
            .trim()
            .parse()
            .ok()
            .filter(|&n| n <= MAX_BODY_BYTES)
            .ok_or_else(|| protocol_error(format!("bad content-length {length:?}")))?;
        response.body = vec![0; length];
        stream.read_exact(&mut response.body)?;
        Ok((response, true))
    } else {
        // No framing: the body runs to the end of the connection.
        stream
            .by_ref()
            .take(MAX_BODY_BYTES as u64)
            .read_to_end(&mut response.body)?;
        Ok((response, false))
    }
}

fn read_chunked(stream: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut budget = MAX_HEAD_BYTES;
    loop {
        let line = read_line(stream, &mut budget)?;
        let size_text = String::from_utf8_lossy(&line);
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| protocol_error(format!("bad chunk size {size_text:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(stream, &mut budget)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY_BYTES {
            return Err(protocol_error("chunked body too large".to_owned()));
        }
        let start = body.len();
        body.resize(start + size, 0);
        stream.read_exact(&mut body[start..])?;
        read_line(stream, &mut budget)?;
    }
}
