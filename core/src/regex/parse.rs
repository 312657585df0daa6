//! Pattern text to [`Parsed`], RE2 syntax read as Envoy's RE2 reads it:
//! byte by byte (Latin-1), so a non-ASCII character is one literal per
//! UTF-8 byte and a repetition after it repeats its last byte. Iterative (an
//! explicit stack of open groups), so a hostile pattern cannot exhaust the
//! call stack.

use super::ast::{Look, Node, Parsed};
use super::class::ByteSet;
use super::{RegexError, MAX_REPEAT};

/// The flags a group can set: `i`, `m`, `s` (and `U`, which only changes
/// which match is preferred, so it is accepted and ignored).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Flags {
    pub fold_case: bool,
    pub multi_line: bool,
    pub dot_newline: bool,
}

/// A group being parsed: the finished alternatives and the current one.
pub(super) struct Frame {
    pub open_at: usize,
    pub flags_before: Flags,
    branches: Vec<Node>,
    items: Vec<Node>,
}

/// What a repetition operator would apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Last {
    Nothing,
    Atom,
    Repetition,
}

pub(super) struct Parser<'a> {
    pub src: &'a str,
    pub pos: usize,
    pub flags: Flags,
    pub classes: Vec<ByteSet>,
    pub names: Vec<&'a [u8]>,
    pub open: Vec<Frame>,
    pub current: Frame,
    pub last: Last,
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
    pub fn new(open_at: usize, flags_before: Flags) -> Frame {
        Frame {
            open_at,
            flags_before,
            branches: Vec::new(),
            items: Vec::new(),
        }
    }
}

pub(super) fn finish(mut frame: Frame) -> Node {
    frame.branches.push(Node::concat(frame.items));
    Node::alt(frame.branches)
}

impl<'a> Parser<'a> {
    /// The pattern's bytes from the current position.
    pub fn rest(&self) -> &'a [u8] {
        self.src.as_bytes().get(self.pos..).unwrap_or(&[])
    }

    pub fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    pub fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }

    pub fn eat(&mut self, prefix: &str) -> bool {
        let found = self.rest().starts_with(prefix.as_bytes());
        if found {
            self.pos += prefix.len();
        }
        found
    }

    /// The character of the pattern that starts at byte `at`, if one does.
    pub fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..)?.chars().next()
    }

    /// A byte for a message: itself when ASCII, the character it starts
    /// when written in the pattern at `at`, else `\xHH`.
    pub fn shown(&self, byte: u8, at: usize) -> String {
        match self.written_char(byte, at) {
            _ if byte.is_ascii() => char::from(byte).to_string(),
            Some(c) => c.to_string(),
            None => format!("\\x{byte:02X}"),
        }
    }

    fn run(&mut self) -> Result<(), RegexError> {
        while let Some(byte) = self.bump() {
            let at = self.pos - 1;
            match byte {
                b'(' => self.open_group(at)?,
                b')' => self.close_group(at)?,
                b'|' => {
                    let items = std::mem::take(&mut self.current.items);
                    self.current.branches.push(Node::concat(items));
                    self.last = Last::Nothing;
                }
                b'*' => self.repeat(at, 0, None)?,
                b'+' => self.repeat(at, 1, None)?,
                b'?' => self.repeat(at, 0, Some(1))?,
                b'{' => match self.counted_repetition(at)? {
                    Some((min, max)) => self.repeat(at, min, max)?,
                    // Not a valid `{n,m}`: a literal brace, as in RE2.
                    None => self.push_literal(b'{', at)?,
                },
                b'[' => {
                    let node = self.bracket_class(at)?;
                    self.push_atom(node);
                }
                b'.' => {
                    let mut set = ByteSet::from_ranges(&[(0, u8::MAX)]);
                    if !self.flags.dot_newline {
                        set = ByteSet::from_ranges(&[(0, b'\n' - 1), (b'\n' + 1, u8::MAX)]);
                    }
                    let node = self.class_node(set);
                    self.push_atom(node);
                }
                b'^' => self.push_atom(Node::Look(match self.flags.multi_line {
                    true => Look::StartLine,
                    false => Look::StartText,
                })),
                b'$' => self.push_atom(Node::Look(match self.flags.multi_line {
                    true => Look::EndLine,
                    false => Look::EndText,
                })),
                b'\\' => self.escape_outside_class(at)?,
                byte => self.push_literal(byte, at)?,
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

    /// Pushes the pattern's byte at `at` (or an escape's) as a literal.
    pub fn push_literal(&mut self, byte: u8, at: usize) -> Result<(), RegexError> {
        if self.flags.fold_case {
            self.check_foldable(byte, at)?;
        }
        let node = self.literal(byte);
        self.push_atom(node);
        Ok(())
    }

    /// A literal byte, or the class of both its cases under `(?i)`.
    pub fn literal(&mut self, byte: u8) -> Node {
        if !self.flags.fold_case {
            return Node::Byte(byte);
        }
        let mut set = ByteSet::from_ranges(&[(byte, byte)]);
        set.fold_case();
        self.class_node(set)
    }

    /// Under `(?i)` Envoy's RE2 folds ASCII only, so `(?i)é` does not
    /// match `É` there: never what its writer means, so a non-ASCII letter
    /// written in the pattern is refused. Bytes from escapes (`\xC3`) are
    /// taken as they are, as RE2 takes them.
    pub fn check_foldable(&self, byte: u8, at: usize) -> Result<(), RegexError> {
        match self.written_char(byte, at) {
            Some(c) if c.is_lowercase() || c.is_uppercase() => Err(RegexError::at(
                format!("unsupported: case-insensitive non-ASCII letter '{c}'"),
                at,
            )
            .hint("(?i) folds ASCII letters only")),
            _ => Ok(()),
        }
    }

    /// The non-ASCII character written in the pattern that starts at `at`,
    /// when `byte` is its first byte (not a byte from an escape).
    pub fn written_char(&self, byte: u8, at: usize) -> Option<char> {
        let c = self.char_at(at).filter(|c| !c.is_ascii())?;
        let first = self.src.as_bytes().get(at).copied();
        (first == Some(byte)).then_some(c)
    }

    /// A class node; a class of one byte becomes a plain byte.
    pub fn class_node(&mut self, set: ByteSet) -> Node {
        if let Some(byte) = set.single() {
            return Node::Byte(byte);
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
        let Some(close) = rest.iter().position(|&b| b == b'}') else {
            return Ok(None);
        };
        // Not text (a split character): not a count either.
        let Ok(body) = std::str::from_utf8(rest.get(..close).unwrap_or(&[])) else {
            return Ok(None);
        };
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
}
