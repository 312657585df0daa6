//! The reader proper: recursive descent over bytes, depth-limited.

use super::decimal::value_of;
use super::{Json, JsonError, Number, MAX_DEPTH};

/// Reads one JSON document; whitespace around it is allowed, anything else
/// after it is an error.
pub(crate) fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
    let mut reader = Reader {
        bytes,
        at: 0,
        depth: 0,
    };
    let value = reader.value()?;
    reader.skip_whitespace();
    if reader.at < bytes.len() {
        return Err(reader.error_here("trailing characters"));
    }
    Ok(value)
}

/// A JSON number and nothing else, JSON whitespace around it allowed;
/// `None` for anything else, out-of-range numbers included.
pub(crate) fn number(text: &str) -> Option<f64> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    reader.skip_whitespace();
    let n = reader.number().ok()?;
    reader.skip_whitespace();
    (reader.at == reader.bytes.len()).then_some(n.value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    /// The next byte to read.
    at: usize,
    depth: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// An error about the byte at `self.at` (or the end), positioned on it
    /// as serde_json positions its errors.
    fn error_here(&self, message: &'static str) -> JsonError {
        self.error_at(self.at.min(self.bytes.len()), message)
    }

    /// An error about byte `index`: serde_json's position just past it
    /// (line from 1, column in bytes; past a newline is column 0 of the next
    /// line; at the end, the last byte's column).
    fn error_at(&self, index: usize, message: &'static str) -> JsonError {
        let end = index.saturating_add(1).min(self.bytes.len());
        let before = self.bytes.get(..end).unwrap_or(self.bytes);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = end - line_start;
        JsonError {
            message,
            line,
            column,
        }
    }

    fn value(&mut self) -> Result<Json, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error_here("EOF while parsing a value")),
            Some(b'n') => self.word(b"null", Json::Null),
            Some(b't') => self.word(b"true", Json::Bool(true)),
            Some(b'f') => self.word(b"false", Json::Bool(false)),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => Ok(Json::Number(self.number()?)),
            Some(b'[') => self.nested(Self::array),
            Some(b'{') => self.nested(Self::object),
            Some(_) => Err(self.error_here("expected value")),
        }
    }

    fn word(&mut self, word: &[u8], value: Json) -> Result<Json, JsonError> {
        for &expected in word {
            match self.peek() {
                Some(b) if b == expected => self.at += 1,
                None => return Err(self.error_here("EOF while parsing a value")),
                Some(_) => return Err(self.error_here("expected ident")),
            }
        }
        Ok(value)
    }

    /// An array or object, one level deeper; the opening byte is at `at`.
    fn nested(
        &mut self,
        read: fn(&mut Self) -> Result<Json, JsonError>,
    ) -> Result<Json, JsonError> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(self.error_here("recursion limit exceeded"));
        }
        self.at += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn array(&mut self) -> Result<Json, JsonError> {
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        if self.peek().is_none() {
            return Err(self.error_here("EOF while parsing a list"));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        return Err(self.error_here("trailing comma"));
                    }
                }
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                None => return Err(self.error_here("EOF while parsing a list")),
                Some(_) => return Err(self.error_here("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self) -> Result<Json, JsonError> {
        let mut fields = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Json::Object(fields));
        }
        let mut first = true;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'"') => {}
                None if first => return Err(self.error_here("EOF while parsing an object")),
                None => return Err(self.error_here("EOF while parsing a value")),
                Some(b'}') => return Err(self.error_here("trailing comma")),
                Some(_) => return Err(self.error_here("key must be a string")),
            }
            let key = self.string()?;
            self.skip_whitespace();
            match self.peek() {
                Some(b':') => self.at += 1,
                None => return Err(self.error_here("EOF while parsing an object")),
                Some(_) => return Err(self.error_here("expected `:`")),
            }
            let value = self.value()?;
            fields.push((key, value));
            first = false;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(fields));
                }
                None => return Err(self.error_here("EOF while parsing an object")),
                Some(_) => return Err(self.error_here("expected `,` or `}`")),
            }
        }
    }

    /// A string; `at` is on its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.extend_from_slice(self.bytes.get(start..self.at).unwrap_or_default());
            match self.peek() {
                None => return Err(self.error_here("EOF while parsing a string")),
                Some(b'"') => {
                    self.at += 1;
                    return String::from_utf8(out)
                        .map_err(|_| self.error_at(start, "invalid unicode code point"));
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(self.error_here(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ))
                }
            }
        }
    }

    /// The escape after a backslash, appended to `out` as UTF-8.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let Some(b) = self.peek() else {
            return Err(self.error_here("EOF while parsing a string"));
        };
        let simple = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                self.at += 1;
                let c = self.unicode_escape()?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                return Ok(());
            }
            _ => return Err(self.error_here("invalid escape")),
        };
        self.at += 1;
        out.push(simple);
        Ok(())
    }

    /// `XXXX` after `\u`, with its low surrogate when it is a high one.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.at..self.at.saturating_add(2)) != Some(b"\\u".as_slice()) {
                    return Err(self.error_here("unexpected end of hex escape"));
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.last_byte_error("lone leading surrogate in hex escape"));
                }
                0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00)
            }
            // serde_json's words for a low surrogate with no high one before it.
            0xDC00..=0xDFFF => {
                return Err(self.last_byte_error("lone leading surrogate in hex escape"))
            }
            other => u32::from(other),
        };
        char::from_u32(code).ok_or_else(|| self.last_byte_error("invalid unicode code point"))
    }

    /// Four hex digits, read whole before judged, as serde_json does.
    fn hex4(&mut self) -> Result<u16, JsonError> {
        let Some(digits) = self.bytes.get(self.at..self.at.saturating_add(4)) else {
            self.at = self.bytes.len();
            return Err(self.error_here("EOF while parsing a string"));
        };
        self.at += 4;
        let mut n: u16 = 0;
        for &b in digits {
            let Some(digit) = char::from(b).to_digit(16) else {
                return Err(self.last_byte_error("invalid escape"));
            };
            // Four hex digits fit in a u16.
            n = (n << 4) | digit as u16;
        }
        Ok(n)
    }

    /// An error about the byte just read.
    fn last_byte_error(&self, message: &'static str) -> JsonError {
        self.error_at(self.at.saturating_sub(1), message)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, finite.
    fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error_here("invalid number"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            None => return Err(self.error_here("EOF while parsing a value")),
            Some(_) => return Err(self.error_here("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.one_or_more_digits()?;
        }
        let literal = self.bytes.get(start..self.at).unwrap_or_default();
        let value = value_of(literal);
        if !value.is_finite() {
            return Err(self.last_byte_error("number out of range"));
        }
        // The grammar above admits ASCII only.
        let text = String::from_utf8_lossy(literal).into_owned();
        Ok(Number { text, value })
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            None => Err(self.error_here("EOF while parsing a value")),
            Some(_) => Err(self.error_here("invalid number")),
        }
    }
}
