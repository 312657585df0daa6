//! Pike VM: simulates the NFA on all threads at once, one byte at a time.
//! Each step visits every instruction at most once (a sparse set dedups
//! threads), so matching takes O(input bytes × program size) whatever the
//! pattern. Memory is allocated once per call, sized by the program.

use super::ast::Look;
use super::class::is_word_byte;
use super::compile::{Inst, Program};

/// A set of instruction indexes with O(1) insert, membership and clear.
struct SparseSet {
    dense: Vec<u32>,
    sparse: Vec<u32>,
}

impl SparseSet {
    fn new(capacity: usize) -> SparseSet {
        SparseSet {
            dense: Vec::with_capacity(capacity),
            sparse: vec![0; capacity],
        }
    }

    fn contains(&self, value: u32) -> bool {
        self.sparse
            .get(value as usize)
            .and_then(|&slot| self.dense.get(slot as usize))
            .is_some_and(|&found| found == value)
    }

    /// False when already present (or out of range).
    fn insert(&mut self, value: u32) -> bool {
        if self.contains(value) {
            return false;
        }
        let slot = u32::try_from(self.dense.len()).unwrap_or(u32::MAX);
        match self.sparse.get_mut(value as usize) {
            Some(entry) => *entry = slot,
            None => return false,
        }
        self.dense.push(value);
        true
    }

    fn clear(&mut self) {
        self.dense.clear();
    }
}

/// The text around a position: the bytes just before and after it.
#[derive(Clone, Copy)]
struct Position {
    before: Option<u8>,
    after: Option<u8>,
}

impl Position {
    fn satisfies(self, look: Look) -> bool {
        let word = |byte: Option<u8>| byte.is_some_and(is_word_byte);
        match look {
            Look::StartText => self.before.is_none(),
            Look::EndText => self.after.is_none(),
            Look::StartLine => matches!(self.before, None | Some(b'\n')),
            Look::EndLine => matches!(self.after, None | Some(b'\n')),
            Look::WordBoundary => word(self.before) != word(self.after),
            Look::NotWordBoundary => word(self.before) == word(self.after),
        }
    }
}

/// Whether the program matches all of `haystack`.
pub(super) fn full_match(program: &Program, haystack: &[u8]) -> bool {
    let size = program.insts.len();
    let mut current = SparseSet::new(size);
    let mut next = SparseSet::new(size);
    // Each instruction enters the set once and pushes at most two.
    let mut stack: Vec<u32> = Vec::with_capacity(2 * size + 1);
    let mut bytes = haystack.iter().copied();
    let mut at = Position {
        before: None,
        after: bytes.next(),
    };
    add_thread(program, &mut current, &mut stack, 0, at);
    while let Some(c) = at.after {
        if current.dense.is_empty() {
            return false;
        }
        at = Position {
            before: Some(c),
            after: bytes.next(),
        };
        next.clear();
        for &pc in &current.dense {
            if program.accepts(pc as usize, c) {
                add_thread(program, &mut next, &mut stack, pc + 1, at);
            }
        }
        std::mem::swap(&mut current, &mut next);
    }
    let end = u32::try_from(size.saturating_sub(1)).unwrap_or(u32::MAX);
    current.contains(end)
}

/// Adds `pc` and everything reachable from it without consuming a byte.
fn add_thread(program: &Program, set: &mut SparseSet, stack: &mut Vec<u32>, pc: u32, at: Position) {
    stack.push(pc);
    while let Some(pc) = stack.pop() {
        if !set.insert(pc) {
            continue;
        }
        match program.insts.get(pc as usize) {
            Some(Inst::Split(first, second)) => {
                stack.push(*second);
                stack.push(*first);
            }
            Some(Inst::Jump(target)) => stack.push(*target),
            Some(Inst::Look(look)) if at.satisfies(*look) => stack.push(pc + 1),
            _ => {}
        }
    }
}
