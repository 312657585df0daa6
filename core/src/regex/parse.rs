//! Pattern text to [`Parsed`], RE2 syntax. Iterative (an explicit stack of
//! open groups), so a hostile pattern cannot exhaust the call stack.

use super::ast::{Look, Node, Parsed};
use super::class::CharSet;
use super::{RegexError, MAX_NESTING, MAX_REPEAT};

/// The flags a group can set: `i`, `m`, `s` (and `U`, which only changes
/// which match is preferred, so it is accepted and ignored).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Flags {
    pub fold_case: bool,
    pub multi_line: bool,
    pub dot_newline: bool,
}

/// A group being parsed: the finished alternatives and the current one.
struct Frame {
    open_at: usize,
    flags_before: Flags,
    branches: Vec<Node>,
    items: Vec<Node>,
}

/// What a repetition operator would apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Nothing,
    Atom,
    Repetition,
}

pub(super) struct Parser<'a> {
    pub src: &'a str,
    pub pos: usize,
    pub flags: Flags,
    pub classes: Vec<CharSet>,
    names: Vec<&'a str>,
    open: Vec<Frame>,
    current: Frame,
    last: Last,
}

pub(super) fn parse(src: &str) -> Result<Parsed, RegexError> {
    let mut parser = Parser {
        src,
        pos: 0,
        flags: Flags::default(),
        classes: Vec::new(),
        names: Vec::new(),
        open: Vec::new(),
        current: Frame::new(0, Flags::default()),
        last: Last::Nothing,
    };
    parser.run()?;
    Ok(Parsed {
        root: finish(parser.current),
        classes: parser.classes,
    })
}

impl Frame {
    fn new(open_at: usize, flags_before: Flags) -> Frame {
        Frame {
            open_at,
            flags_before,
            branches: Vec::new(),
            items: Vec::new(),
        }
    }
}

fn finish(mut frame: Frame) -> Node {
    frame.branches.push(Node::concat(frame.items));
    Node::alt(frame.branches)
}

impl<'a> Parser<'a> {
    pub fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub fn eat(&mut self, prefix: &str) -> bool {
        let found = self.rest().starts_with(prefix);
        if found {
            self.pos += prefix.len();
        }
        found
    }

    fn run(&mut self) -> Result<(), RegexError> {
        while let Some(c) = self.bump() {
            let at = self.pos - c.len_utf8();
            match c {
                '(' => self.open_group(at)?,
                ')' => self.close_group(at)?,
                '|' => {
                    let items = std::mem::take(&mut self.current.items);
                    self.current.branches.push(Node::concat(items));
                    self.last = Last::Nothing;
                }
                '*' => self.repeat(at, 0, None)?,
                '+' => self.repeat(at, 1, None)?,
                '?' => self.repeat(at, 0, Some(1))?,
                '{' => match self.counted_repetition(at)? {
                    Some((min, max)) => self.repeat(at, min, max)?,
                    // Not a valid `{n,m}`: a literal brace, as in RE2.
                    None => self.push_literal('{', at)?,
                },
                '[' => {
                    let node = self.bracket_class(at)?;
                    self.push_atom(node);
                }
                '.' => {
                    let mut set = CharSet::from_ranges(&[('\0', char::MAX)]);
                    if !self.flags.dot_newline {
                        set = CharSet::from_ranges(&[('\0', '\x09'), ('\x0B', char::MAX)]);
                    }
                    let node = self.class_node(set);
                    self.push_atom(node);
                }
                '^' => self.push_atom(Node::Look(match self.flags.multi_line {
                    true => Look::StartLine,
                    false => Look::StartText,
                })),
                '$' => self.push_atom(Node::Look(match self.flags.multi_line {
                    true => Look::EndLine,
                    false => Look::EndText,
                })),
                '\\' => self.escape_outside_class(at)?,
                c => self.push_literal(c, at)?,
            }
        }
        match self.open.is_empty() {
            true => Ok(()),
            false => Err(RegexError::at("unclosed group", self.current.open_at)),
        }
    }

    pub fn push_atom(&mut self, node: Node) {
        self.current.items.push(node);
        self.last = Last::Atom;
    }

    pub fn push_literal(&mut self, c: char, at: usize) -> Result<(), RegexError> {
        let node = self.literal(c, at)?;
        self.push_atom(node);
        Ok(())
    }

    /// A literal char, or the class of both its cases under `(?i)`.
    fn literal(&mut self, c: char, at: usize) -> Result<Node, RegexError> {
        if !self.flags.fold_case {
            return Ok(Node::Char(c));
        }
        self.check_foldable(c, at)?;
        let mut set = CharSet::from_ranges(&[(c, c)]);
        set.fold_ascii_case();
        Ok(self.class_node(set))
    }

    /// `(?i)` folds ASCII only; a non-ASCII letter would silently match one
    /// case where RE2 matches both, so it is refused.
    pub fn check_foldable(&self, c: char, at: usize) -> Result<(), RegexError> {
        if c.is_ascii() || !(c.is_lowercase() || c.is_uppercase()) {
            return Ok(());
        }
        Err(RegexError::at(
            format!("unsupported: case-insensitive non-ASCII letter '{c}'"),
            at,
        )
        .hint("(?i) folds ASCII letters only"))
    }

    /// A class node; a class of one char becomes a plain char.
    pub fn class_node(&mut self, set: CharSet) -> Node {
        if let Some(c) = set.single() {
            return Node::Char(c);
        }
        let index = u32::try_from(self.classes.len()).unwrap_or(u32::MAX);
        self.classes.push(set);
        Node::Class(index)
    }

    fn repeat(&mut self, at: usize, min: u32, max: Option<u32>) -> Result<(), RegexError> {
        let operator = self.src.get(at..self.pos).unwrap_or("?");
        // A lazy `?` prefers fewer repetitions; whether it matches is the same.
        self.eat("?");
        let sub = match self.last {
            Last::Atom => self.current.items.pop(),
            Last::Repetition => {
                return Err(RegexError::at(
                    format!("repetition operator {operator} follows another repetition"),
                    at,
                )
                .hint("RE2 refuses this too; group the inner one, as in (?:a*)*"))
            }
            Last::Nothing => None,
        };
        let Some(sub) = sub else {
            return Err(RegexError::at(
                format!("repetition operator {operator} has nothing to repeat"),
                at,
            ));
        };
        self.current.items.push(Node::repeat(sub, min, max));
        self.last = Last::Repetition;
        Ok(())
    }

    /// `{n}`, `{n,}` or `{n,m}` after the `{` at `at`; `None` when the text
    /// is not of that form, which RE2 reads as a literal `{`.
    fn counted_repetition(&mut self, at: usize) -> Result<Option<(u32, Option<u32>)>, RegexError> {
        let rest = self.rest();
        let Some(close) = rest.find('}') else {
            return Ok(None);
        };
        let body = rest.get(..close).unwrap_or("");
        let (min_text, max_text) = match body.split_once(',') {
            Some((min, max)) => (min, Some(max)),
            None => (body, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(min_text) || max_text.is_some_and(|m| !m.is_empty() && !digits(m)) {
            return Ok(None);
        }
        let count = |text: &str| -> Result<u32, RegexError> {
            match text.parse::<u32>() {
                Ok(n) if n <= MAX_REPEAT => Ok(n),
                _ => Err(RegexError::at(
                    format!("repetition count {text} exceeds {MAX_REPEAT}"),
                    at,
                )),
            }
        };
        let min = count(min_text)?;
        let max = match max_text {
            None => Some(min),
            Some("") => None,
            Some(text) => Some(count(text)?),
        };
        if max.is_some_and(|max| max < min) {
            return Err(RegexError::at(
                format!("invalid repetition {{{body}}}: the minimum exceeds the maximum"),
                at,
            ));
        }
        self.pos += close + 1;
        Ok(Some((min, max)))
    }

    fn open_group(&mut self, at: usize) -> Result<(), RegexError> {
        let flags_before = self.flags;
        if self.eat("?") {
            let rest = self.rest();
            let lookbehind = rest.starts_with("<=") || rest.starts_with("<!");
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

    fn close_group(&mut self, at: usize) -> Result<(), RegexError> {
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
        let Some(end) = rest.find('>') else {
            return Err(RegexError::at("unclosed group name", at));
        };
        let name = rest.get(..end).unwrap_or("");
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(RegexError::at(format!("invalid group name \"{name}\""), at)
                .hint("use letters, digits and _"));
        }
        if self.names.contains(&name) {
            return Err(RegexError::at(
                format!("duplicate group name \"{name}\""),
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
            .find(|(prefix, _)| rest.starts_with(prefix))
            .map(|(_, feature)| *feature)
    }

    /// Flags after `(?`, up to `)` (returns true) or `:` (returns false,
    /// the group's body follows).
    fn flag_group(&mut self, at: usize) -> Result<bool, RegexError> {
        let mut flags = self.flags;
        let mut negated = false;
        let mut seen = String::new();
        loop {
            let flag_at = self.pos;
            let Some(c) = self.bump() else {
                return Err(RegexError::at("unclosed group", at));
            };
            if c == ')' || c == ':' {
                if seen.is_empty() || seen.ends_with('-') {
                    return Err(
                        RegexError::at("missing flags after (?", at).hint("expected i, m, s or U")
                    );
                }
                self.flags = flags;
                return Ok(c == ')');
            }
            if seen.contains(c) {
                return Err(RegexError::at(format!("flag '{c}' given twice"), flag_at));
            }
            match c {
                '-' => negated = true,
                'i' => flags.fold_case = !negated,
                'm' => flags.multi_line = !negated,
                's' => flags.dot_newline = !negated,
                // Only swaps greedy and lazy, which cannot change a full match.
                'U' => {}
                _ => {
                    return Err(RegexError::at(format!("unknown flag '{c}'"), flag_at)
                        .hint("RE2 flags are i, m, s and U"))
                }
            }
            seen.push(c);
        }
    }
}
