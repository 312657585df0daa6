//! Backslash escapes and bracketed classes `[...]`, RE2 syntax, read as
//! Envoy's RE2 reads them: an escape stands for one byte, and a class is a
//! set of bytes.

use super::ast::{Look, Node};
use super::class::{perl_class, posix_class, ByteSet};
use super::parse::Parser;
use super::RegexError;

/// What an escape stands for.
enum Escape {
    Byte(u8),
    /// `\x{H..}` beyond `\xFF`, which Envoy's RE2 refuses: here it is the
    /// character's UTF-8 bytes, as the character written in the pattern is.
    Char(char),
    Set(ByteSet),
    Look(Look),
    /// `\Q`: the text up to `\E` is literal.
    Quote,
}

/// Why `\x{..}` beyond `\xFF` is refused in a class.
const CLASS_BYTES_HINT: &str = "a class is a set of bytes, as Envoy's RE2 reads it";

impl Parser<'_> {
    /// The escape whose backslash is at `at`, outside a class.
    pub fn escape_outside_class(&mut self, at: usize) -> Result<(), RegexError> {
        match self.escape(at)? {
            Escape::Byte(byte) => self.push_literal(byte, at)?,
            Escape::Char(c) => {
                for byte in c.encode_utf8(&mut [0; 4]).bytes() {
                    self.push_literal(byte, at)?;
                }
            }
            // Perl classes are closed under case folding already.
            Escape::Set(set) => {
                let node = self.class_node(set);
                self.push_atom(node);
            }
            Escape::Look(look) => self.push_atom(Node::Look(look)),
            Escape::Quote => {
                while !self.rest().is_empty() && !self.eat("\\E") {
                    let byte_at = self.pos;
                    if let Some(byte) = self.bump() {
                        self.push_literal(byte, byte_at)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn escape(&mut self, at: usize) -> Result<Escape, RegexError> {
        let Some(c) = self.bump() else {
            return Err(RegexError::at("pattern ends with a lone backslash", at));
        };
        let unsupported = |what: &str| RegexError::at(format!("unsupported: {what}"), at);
        let octal_follows = self.peek().is_some_and(|d| (b'0'..=b'7').contains(&d));
        Ok(match c {
            b'd' | b'D' | b'w' | b'W' | b's' | b'S' => match perl_class(c) {
                Some(set) => Escape::Set(set),
                None => return Err(unsupported(&format!("\\{}", char::from(c)))),
            },
            b'b' => Escape::Look(Look::WordBoundary),
            b'B' => Escape::Look(Look::NotWordBoundary),
            b'A' => Escape::Look(Look::StartText),
            b'z' => Escape::Look(Look::EndText),
            b'Q' => Escape::Quote,
            b'a' => Escape::Byte(0x07),
            b'f' => Escape::Byte(0x0C),
            b't' => Escape::Byte(b'\t'),
            b'n' => Escape::Byte(b'\n'),
            b'r' => Escape::Byte(b'\r'),
            b'v' => Escape::Byte(0x0B),
            b'x' => {
                let c = self.hex(at)?;
                match u8::try_from(c) {
                    Ok(byte) => Escape::Byte(byte),
                    Err(_) => Escape::Char(c),
                }
            }
            // RE2: `\0` and up to two more octal digits, or `\1`-`\7` when
            // another octal digit follows (a lone one is a backreference).
            b'0' => Escape::Byte(self.octal(at, 0)?),
            b'1'..=b'7' if octal_follows => Escape::Byte(self.octal(at, c - b'0')?),
            b'1'..=b'9' => {
                return Err(unsupported(&format!(
                    "backreferences (\\{})",
                    char::from(c)
                )))
            }
            b'p' | b'P' => {
                let c = char::from(c);
                return Err(
                    unsupported(&format!("Unicode classes (\\{c}{{..}}, \\{c}L)"))
                        .hint("use ASCII classes such as [[:alpha:]] or [a-z]"),
                );
            }
            b'C' => return Err(unsupported("\\C (any byte)")),
            b'Z' => return Err(unsupported("\\Z").hint("use \\z or $")),
            // RE2: an escaped ASCII char other than a letter or digit is itself.
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Escape::Byte(c),
            c => {
                let shown = self.shown(c, at + 1);
                return Err(RegexError::at(format!("unknown escape \\{shown}"), at));
            }
        })
    }

    /// The byte of an octal escape whose first digit (`first`) is read.
    fn octal(&mut self, at: usize, first: u8) -> Result<u8, RegexError> {
        let mut code = u32::from(first);
        for _ in 0..2 {
            match self.peek() {
                Some(digit @ b'0'..=b'7') => {
                    code = code * 8 + u32::from(digit - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        u8::try_from(code).map_err(|_| {
            let text = self.src.get(at..self.pos).unwrap_or("\\");
            RegexError::at(format!("octal escape {text} is beyond \\377"), at)
                .hint("an octal escape names one byte, as in RE2")
        })
    }

    /// The char of `\xHH` or `\x{H...}`, after the `x`.
    fn hex(&mut self, at: usize) -> Result<char, RegexError> {
        let invalid = || RegexError::at("invalid hex escape", at).hint("write \\xHH or \\x{HHHH}");
        let digits = if self.eat("{") {
            let rest = self.rest();
            let end = rest.iter().position(|&b| b == b'}').ok_or_else(invalid)?;
            self.pos += end + 1;
            rest.get(..end).unwrap_or(&[])
        } else {
            let digits = self.rest().get(..2).ok_or_else(invalid)?;
            self.pos += 2;
            digits
        };
        if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(invalid());
        }
        let text = String::from_utf8_lossy(digits);
        u32::from_str_radix(&text, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                RegexError::at(format!("\\x{{{text}}} is not a Unicode scalar value"), at)
            })
    }

    /// A class after the `[` at `open_at`. As in RE2, `]` first is literal,
    /// `-` is literal where it cannot make a range, and `[` is literal
    /// unless it starts `[:name:]`. A non-ASCII character is its bytes.
    pub fn bracket_class(&mut self, open_at: usize) -> Result<Node, RegexError> {
        let unclosed = || RegexError::at("unclosed character class", open_at);
        let negated = self.eat("^");
        let mut set = ByteSet::default();
        let mut first = true;
        loop {
            let item_at = self.pos;
            let c = self.bump().ok_or_else(unclosed)?;
            if c == b']' && !first {
                break;
            }
            first = false;
            let lo = match c {
                b'[' if self.rest().starts_with(b":") => match self.posix_class(item_at)? {
                    Some(named) => {
                        set.union(&named);
                        continue;
                    }
                    None => b'[',
                },
                b'\\' => match self.escape(item_at)? {
                    Escape::Byte(byte) => byte,
                    Escape::Char(c) => {
                        let text = self.src.get(item_at..self.pos).unwrap_or("\\");
                        return Err(RegexError::at(
                            format!(
                                "{text} (U+{:04X}) in a character class is beyond \\xFF",
                                u32::from(c)
                            ),
                            item_at,
                        )
                        .hint(CLASS_BYTES_HINT));
                    }
                    Escape::Set(named) => {
                        set.union(&named);
                        continue;
                    }
                    Escape::Look(_) | Escape::Quote => {
                        let text = self.src.get(item_at..self.pos).unwrap_or("\\");
                        return Err(RegexError::at(
                            format!("{text} is not allowed in a character class"),
                            item_at,
                        ));
                    }
                },
                c => c,
            };
            let (mut hi, mut hi_at) = (lo, item_at);
            if self.rest().starts_with(b"-") && !self.rest().starts_with(b"-]") {
                self.bump();
                hi_at = self.pos;
                hi = match self.bump().ok_or_else(unclosed)? {
                    b'\\' => match self.escape(hi_at)? {
                        Escape::Byte(byte) => byte,
                        // A range up to beyond the last byte: to the last byte.
                        Escape::Char(_) => u8::MAX,
                        _ => {
                            return Err(RegexError::at("invalid class range end", hi_at)
                                .hint("a range ends in a single character"))
                        }
                    },
                    c => c,
                };
            }
            if hi < lo {
                let error = RegexError::at(
                    format!(
                        "invalid class range {}-{}",
                        self.shown(lo, item_at),
                        self.shown(hi, hi_at)
                    ),
                    item_at,
                );
                return Err(match lo.is_ascii() && hi.is_ascii() {
                    true => error,
                    false => error
                        .hint("a non-ASCII character is its UTF-8 bytes here, as in Envoy's RE2"),
                });
            }
            if self.flags.fold_case {
                self.check_foldable(lo, item_at)?;
                if hi_at != item_at && self.written_char(hi, hi_at).is_some() {
                    return Err(RegexError::at(
                        format!(
                            "unsupported: case-insensitive class range beyond ASCII ({}-{})",
                            self.shown(lo, item_at),
                            self.shown(hi, hi_at)
                        ),
                        item_at,
                    )
                    .hint("(?i) folds ASCII letters only"));
                }
            }
            set.add_range(lo, hi);
        }
        if self.flags.fold_case {
            set.fold_case();
        }
        if negated {
            set.negate();
        }
        Ok(self.class_node(set))
    }

    /// `[:name:]` or `[:^name:]` at `at` (the `[`); `None` when the text is
    /// not of that shape, so the `[` is a literal.
    fn posix_class(&mut self, at: usize) -> Result<Option<ByteSet>, RegexError> {
        let body = self.rest().get(1..).unwrap_or(&[]);
        let Some(end) = body.windows(2).position(|pair| pair == b":]") else {
            return Ok(None);
        };
        let name = body.get(..end).unwrap_or(&[]);
        let letters = name.strip_prefix(b"^").unwrap_or(name);
        if letters.is_empty() || !letters.iter().all(u8::is_ascii_lowercase) {
            return Ok(None);
        }
        let name = String::from_utf8_lossy(name);
        let set = posix_class(&name)
            .ok_or_else(|| RegexError::at(format!("unknown POSIX class [:{name}:]"), at))?;
        self.pos += 1 + end + 2;
        Ok(Some(set))
    }
}
