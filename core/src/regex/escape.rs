//! Backslash escapes and bracketed classes `[...]`, RE2 syntax.

use super::ast::{Look, Node};
use super::class::{perl_class, posix_class, CharSet};
use super::parse::Parser;
use super::RegexError;

/// What an escape stands for.
enum Escape {
    Char(char),
    Set(CharSet),
    Look(Look),
    /// `\Q`: the text up to `\E` is literal.
    Quote,
}

impl Parser<'_> {
    /// The escape whose backslash is at `at`, outside a class.
    pub fn escape_outside_class(&mut self, at: usize) -> Result<(), RegexError> {
        match self.escape(at)? {
            Escape::Char(c) => self.push_literal(c, at)?,
            // Perl classes are closed under ASCII case folding already.
            Escape::Set(set) => {
                let node = self.class_node(set);
                self.push_atom(node);
            }
            Escape::Look(look) => self.push_atom(Node::Look(look)),
            Escape::Quote => {
                while !self.rest().is_empty() && !self.eat("\\E") {
                    let char_at = self.pos;
                    if let Some(c) = self.bump() {
                        self.push_literal(c, char_at)?;
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
        let octal_follows = self.peek().is_some_and(|d| ('0'..='7').contains(&d));
        Ok(match c {
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => match perl_class(c) {
                Some(set) => Escape::Set(set),
                None => return Err(unsupported(&format!("\\{c}"))),
            },
            'b' => Escape::Look(Look::WordBoundary),
            'B' => Escape::Look(Look::NotWordBoundary),
            'A' => Escape::Look(Look::StartText),
            'z' => Escape::Look(Look::EndText),
            'Q' => Escape::Quote,
            'a' => Escape::Char('\x07'),
            'f' => Escape::Char('\x0C'),
            't' => Escape::Char('\t'),
            'n' => Escape::Char('\n'),
            'r' => Escape::Char('\r'),
            'v' => Escape::Char('\x0B'),
            'x' => Escape::Char(self.hex(at)?),
            '0' => return Err(unsupported("octal escapes (\\0)").hint("write \\x00")),
            '1'..='7' if octal_follows => {
                return Err(unsupported(&format!("octal escapes (\\{c}..)")).hint("write \\xHH"))
            }
            '1'..='9' => return Err(unsupported(&format!("backreferences (\\{c})"))),
            'p' | 'P' => {
                return Err(
                    unsupported(&format!("Unicode classes (\\{c}{{..}}, \\{c}L)"))
                        .hint("use ASCII classes such as [[:alpha:]] or [a-z]"),
                )
            }
            'C' => return Err(unsupported("\\C (any byte)")),
            'Z' => return Err(unsupported("\\Z").hint("use \\z or $")),
            // RE2: an escaped ASCII char other than a letter or digit is itself.
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Escape::Char(c),
            c => return Err(RegexError::at(format!("unknown escape \\{c}"), at)),
        })
    }

    /// The char of `\xHH` or `\x{H...}`, after the `x`.
    fn hex(&mut self, at: usize) -> Result<char, RegexError> {
        let invalid = || RegexError::at("invalid hex escape", at).hint("write \\xHH or \\x{HHHH}");
        let digits = if self.eat("{") {
            let rest = self.rest();
            let end = rest.find('}').ok_or_else(invalid)?;
            self.pos += end + 1;
            rest.get(..end).unwrap_or("")
        } else {
            let digits = self.rest().get(..2).ok_or_else(invalid)?;
            self.pos += 2;
            digits
        };
        if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        u32::from_str_radix(digits, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| {
                RegexError::at(format!("\\x{{{digits}}} is not a Unicode scalar value"), at)
            })
    }

    /// A class after the `[` at `open_at`. As in RE2, `]` first is literal,
    /// `-` is literal where it cannot make a range, and `[` is literal
    /// unless it starts `[:name:]`.
    pub fn bracket_class(&mut self, open_at: usize) -> Result<Node, RegexError> {
        let unclosed = || RegexError::at("unclosed character class", open_at);
        let negated = self.eat("^");
        let mut ranges: Vec<(char, char)> = Vec::new();
        let mut first = true;
        loop {
            let item_at = self.pos;
            let c = self.bump().ok_or_else(unclosed)?;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = match c {
                '[' if self.rest().starts_with(':') => match self.posix_class(item_at)? {
                    Some(set) => {
                        ranges.extend_from_slice(set.ranges());
                        continue;
                    }
                    None => '[',
                },
                '\\' => match self.escape(item_at)? {
                    Escape::Char(c) => c,
                    Escape::Set(set) => {
                        ranges.extend_from_slice(set.ranges());
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
            let mut hi = lo;
            if self.rest().starts_with('-') && !self.rest().starts_with("-]") {
                self.bump();
                let hi_at = self.pos;
                hi = match self.bump().ok_or_else(unclosed)? {
                    '\\' => match self.escape(hi_at)? {
                        Escape::Char(c) => c,
                        _ => {
                            return Err(RegexError::at("invalid class range end", hi_at)
                                .hint("a range ends in a single character"))
                        }
                    },
                    c => c,
                };
            }
            if hi < lo {
                return Err(RegexError::at(
                    format!("invalid class range {lo}-{hi}"),
                    item_at,
                ));
            }
            if self.flags.fold_case {
                self.check_foldable_range(lo, hi, item_at)?;
            }
            ranges.push((lo, hi));
        }
        let mut set = CharSet::from_ranges(&ranges);
        if self.flags.fold_case {
            set.fold_ascii_case();
        }
        if negated {
            set.negate();
        }
        Ok(self.class_node(set))
    }

    fn check_foldable_range(&self, lo: char, hi: char, at: usize) -> Result<(), RegexError> {
        if lo == hi || hi.is_ascii() {
            return self.check_foldable(lo, at);
        }
        Err(RegexError::at(
            format!("unsupported: case-insensitive class range beyond ASCII ({lo}-{hi})"),
            at,
        )
        .hint("(?i) folds ASCII letters only"))
    }

    /// `[:name:]` or `[:^name:]` at `at` (the `[`); `None` when the text is
    /// not of that shape, so the `[` is a literal.
    fn posix_class(&mut self, at: usize) -> Result<Option<CharSet>, RegexError> {
        let body = self.rest().get(1..).unwrap_or("");
        let Some(end) = body.find(":]") else {
            return Ok(None);
        };
        let name = body.get(..end).unwrap_or("");
        let letters = name.strip_prefix('^').unwrap_or(name);
        if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_lowercase()) {
            return Ok(None);
        }
        let set = posix_class(name)
            .ok_or_else(|| RegexError::at(format!("unknown POSIX class [:{name}:]"), at))?;
        self.pos += 1 + end + 2;
        Ok(Some(set))
    }
}
