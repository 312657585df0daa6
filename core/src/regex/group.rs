//! Groups `(...)`, `(?:...)`, `(?P<name>...)` and flag groups `(?i)`,
//! `(?i:...)`, RE2 syntax, and the group forms RE2 refuses.

use super::parse::{finish, Frame, Last, Parser};
use super::{RegexError, MAX_NESTING};

impl Parser<'_> {
    pub fn open_group(&mut self, at: usize) -> Result<(), RegexError> {
        let flags_before = self.flags;
        if self.eat("?") {
            let rest = self.rest();
            let lookbehind = rest.starts_with(b"<=") || rest.starts_with(b"<!");
            if self.eat("P<") || (!lookbehind && self.eat("<")) {
                self.group_name(at)?;
            } else if !self.eat(":") {
                if let Some(feature) = self.unsupported_group() {
                    return Err(RegexError::at(format!("unsupported: {feature}"), at));
                }
                if self.flag_group(at)? {
                    // `(?i)`: flags for the rest of the current group only.
                    self.last = Last::Nothing;
                    return Ok(());
                }
            }
        }
        if self.open.len() >= MAX_NESTING {
            return Err(RegexError::at(
                format!("groups nest deeper than {MAX_NESTING}"),
                at,
            ));
        }
        // `(?i:...)` has set its flags already; they end with the group.
        let parent = std::mem::replace(&mut self.current, Frame::new(at, flags_before));
        self.open.push(parent);
        self.last = Last::Nothing;
        Ok(())
    }

    pub fn close_group(&mut self, at: usize) -> Result<(), RegexError> {
        let Some(parent) = self.open.pop() else {
            return Err(RegexError::at("unmatched ')'", at));
        };
        let group = std::mem::replace(&mut self.current, parent);
        self.flags = group.flags_before;
        let node = finish(group);
        self.push_atom(node);
        Ok(())
    }

    /// `name>` after `(?P<` or `(?<`: word chars, unique in the pattern.
    fn group_name(&mut self, at: usize) -> Result<(), RegexError> {
        let rest = self.rest();
        let Some(end) = rest.iter().position(|&b| b == b'>') else {
            return Err(RegexError::at("unclosed group name", at));
        };
        let name = rest.get(..end).unwrap_or(&[]);
        let shown = String::from_utf8_lossy(name);
        if name.is_empty() || !name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_') {
            return Err(
                RegexError::at(format!("invalid group name \"{shown}\""), at)
                    .hint("use letters, digits and _"),
            );
        }
        if self.names.contains(&name) {
            return Err(RegexError::at(
                format!("duplicate group name \"{shown}\""),
                at,
            ));
        }
        self.names.push(name);
        self.pos += end + 1;
        Ok(())
    }

    /// Group forms after `(?` that RE2 refuses too.
    fn unsupported_group(&self) -> Option<&'static str> {
        let rest = self.rest();
        let forms = [
            ("=", "lookahead (?=...)"),
            ("!", "negative lookahead (?!...)"),
            ("<=", "lookbehind (?<=...)"),
            ("<!", "negative lookbehind (?<!...)"),
            ("P=", "named backreferences (?P=name)"),
            ("P>", "recursion (?P>name)"),
            (">", "atomic groups (?>...)"),
            ("#", "comments (?#...)"),
        ];
        forms
            .iter()
            .find(|(prefix, _)| rest.starts_with(prefix.as_bytes()))
            .map(|(_, feature)| *feature)
    }

    /// Flags after `(?`, up to `)` (returns true) or `:` (returns false,
    /// the group's body follows).
    fn flag_group(&mut self, at: usize) -> Result<bool, RegexError> {
        let mut flags = self.flags;
        let mut negated = false;
        let mut seen: Vec<u8> = Vec::new();
        loop {
            let flag_at = self.pos;
            let Some(c) = self.bump() else {
                return Err(RegexError::at("unclosed group", at));
            };
            if c == b')' || c == b':' {
                if seen.is_empty() || seen.ends_with(b"-") {
                    return Err(
                        RegexError::at("missing flags after (?", at).hint("expected i, m, s or U")
                    );
                }
                self.flags = flags;
                return Ok(c == b')');
            }
            let shown = self.shown(c, flag_at);
            if seen.contains(&c) {
                return Err(RegexError::at(
                    format!("flag '{shown}' given twice"),
                    flag_at,
                ));
            }
            match c {
                b'-' => negated = true,
                b'i' => flags.fold_case = !negated,
                b'm' => flags.multi_line = !negated,
                b's' => flags.dot_newline = !negated,
                // Only swaps greedy and lazy, which cannot change a full match.
                b'U' => {}
                _ => {
                    return Err(RegexError::at(format!("unknown flag '{shown}'"), flag_at)
                        .hint("RE2 flags are i, m, s and U"))
                }
            }
            seen.push(c);
        }
    }
}
