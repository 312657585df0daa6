//! The parsed pattern. Groups leave no node of their own (captures are not
//! needed), and the constructors drop what matches only the empty string,
//! so every node other than `Empty` compiles to at least one instruction.

use super::class::ByteSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Node {
    Empty,
    /// One byte: a non-ASCII character in the pattern is several.
    Byte(u8),
    /// An index into [`Parsed::classes`].
    Class(u32),
    Look(Look),
    Repeat {
        sub: Box<Node>,
        min: u32,
        /// `None`: unbounded.
        max: Option<u32>,
    },
    Concat(Vec<Node>),
    Alt(Vec<Node>),
}

/// Zero-width assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Look {
    StartText,
    EndText,
    /// `^` under `(?m)`: at the start or after `\n`.
    StartLine,
    /// `$` under `(?m)`: at the end or before `\n`.
    EndLine,
    WordBoundary,
    NotWordBoundary,
}

/// A parsed pattern: its tree and the classes the tree points to, stored
/// once however often a repetition copies them.
#[derive(Debug, Clone)]
pub(super) struct Parsed {
    pub root: Node,
    pub classes: Vec<ByteSet>,
}

impl Node {
    pub fn concat(mut items: Vec<Node>) -> Node {
        items.retain(|n| *n != Node::Empty);
        match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        }
    }

    pub fn alt(mut branches: Vec<Node>) -> Node {
        match branches.len() {
            0 => Node::Empty,
            1 => branches.pop().unwrap_or(Node::Empty),
            _ => Node::Alt(branches),
        }
    }

    pub fn repeat(sub: Node, min: u32, max: Option<u32>) -> Node {
        if sub == Node::Empty || max == Some(0) {
            return Node::Empty;
        }
        if (min, max) == (1, Some(1)) {
            return sub;
        }
        Node::Repeat {
            sub: Box::new(sub),
            min,
            max,
        }
    }
}
