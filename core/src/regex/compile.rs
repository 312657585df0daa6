//! [`Parsed`] to a Thompson NFA program for the Pike VM. The program's size
//! is computed from the tree first, so an oversized pattern such as
//! `(a{1000}){1000}` is refused before anything is built.

use super::ast::{Look, Node, Parsed};
use super::class::ByteSet;
use super::{RegexError, MAX_INSTRUCTIONS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Inst {
    Byte(u8),
    /// An index into [`Program::classes`].
    Class(u32),
    Look(Look),
    /// Continue at both targets.
    Split(u32, u32),
    Jump(u32),
    Match,
}

#[derive(Debug, Clone)]
pub(super) struct Program {
    pub insts: Vec<Inst>,
    pub classes: Vec<ByteSet>,
}

impl Program {
    /// Whether instruction `pc` consumes `byte` (false for the others).
    pub fn accepts(&self, pc: usize, byte: u8) -> bool {
        match self.insts.get(pc) {
            Some(Inst::Byte(want)) => *want == byte,
            Some(Inst::Class(index)) => self
                .classes
                .get(*index as usize)
                .is_some_and(|class| class.contains(byte)),
            _ => false,
        }
    }
}

pub(super) fn compile(parsed: Parsed) -> Result<Program, RegexError> {
    let size = size(&parsed.root).saturating_add(1);
    if size > MAX_INSTRUCTIONS {
        return Err(RegexError::new(format!(
            "compiled program exceeds {MAX_INSTRUCTIONS} instructions"
        )));
    }
    let mut insts = Vec::with_capacity(size);
    emit(&mut insts, &parsed.root);
    insts.push(Inst::Match);
    Ok(Program {
        insts,
        classes: parsed.classes,
    })
}

/// The number of instructions `emit` produces for `node` (saturating).
fn size(node: &Node) -> usize {
    match node {
        Node::Empty => 0,
        Node::Byte(_) | Node::Class(_) | Node::Look(_) => 1,
        Node::Concat(items) => items.iter().map(size).fold(0, usize::saturating_add),
        Node::Alt(branches) => {
            let jumps = 2 * branches.len().saturating_sub(1);
            branches.iter().map(size).fold(jumps, usize::saturating_add)
        }
        Node::Repeat { sub, min, max } => {
            let sub = size(sub);
            let min = *min as usize;
            match max {
                None if min == 0 => sub.saturating_add(2),
                None => sub.saturating_mul(min).saturating_add(1),
                Some(max) => {
                    let optional = (*max as usize).saturating_sub(min);
                    sub.saturating_mul(min)
                        .saturating_add(optional.saturating_mul(sub.saturating_add(1)))
                }
            }
        }
    }
}

/// The index the next instruction will get. Programs are at most
/// `MAX_INSTRUCTIONS` long, so it fits.
fn next(insts: &[Inst]) -> u32 {
    u32::try_from(insts.len()).unwrap_or(u32::MAX)
}

fn patch(insts: &mut [Inst], at: u32, inst: Inst) {
    if let Some(slot) = insts.get_mut(at as usize) {
        *slot = inst;
    }
}

fn emit(insts: &mut Vec<Inst>, node: &Node) {
    match node {
        Node::Empty => {}
        Node::Byte(byte) => insts.push(Inst::Byte(*byte)),
        Node::Class(index) => insts.push(Inst::Class(*index)),
        Node::Look(look) => insts.push(Inst::Look(*look)),
        Node::Concat(items) => items.iter().for_each(|item| emit(insts, item)),
        Node::Alt(branches) => {
            // split L1, next; L1: branch; jump end; next: split ... last branch
            let mut jumps = Vec::with_capacity(branches.len());
            let (last, rest) = match branches.split_last() {
                Some(split) => split,
                None => return,
            };
            for branch in rest {
                let split = next(insts);
                insts.push(Inst::Split(split + 1, 0));
                emit(insts, branch);
                jumps.push(next(insts));
                insts.push(Inst::Jump(0));
                let skip = next(insts);
                patch(insts, split, Inst::Split(split + 1, skip));
            }
            emit(insts, last);
            let end = next(insts);
            for jump in jumps {
                patch(insts, jump, Inst::Jump(end));
            }
        }
        Node::Repeat { sub, min, max } => emit_repeat(insts, sub, *min, *max),
    }
}

fn emit_repeat(insts: &mut Vec<Inst>, sub: &Node, min: u32, max: Option<u32>) {
    match max {
        None if min == 0 => {
            // loop: split body, end; body: sub; jump loop; end:
            let top = next(insts);
            insts.push(Inst::Split(top + 1, 0));
            emit(insts, sub);
            insts.push(Inst::Jump(top));
            let end = next(insts);
            patch(insts, top, Inst::Split(top + 1, end));
        }
        None => {
            for _ in 1..min {
                emit(insts, sub);
            }
            // The last required copy loops back on itself.
            let top = next(insts);
            emit(insts, sub);
            let split = next(insts);
            insts.push(Inst::Split(top, split + 1));
        }
        Some(max) => {
            for _ in 0..min {
                emit(insts, sub);
            }
            // Each optional copy may be skipped, straight to the end.
            let mut splits = Vec::with_capacity(max.saturating_sub(min) as usize);
            for _ in min..max {
                splits.push(next(insts));
                insts.push(Inst::Split(0, 0));
                emit(insts, sub);
            }
            let end = next(insts);
            for split in splits {
                patch(insts, split, Inst::Split(split + 1, end));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn program(pattern: &str) -> Vec<Inst> {
        compile(parse(pattern).unwrap()).unwrap().insts
    }

    #[test]
    fn size_predicts_the_program_exactly() {
        let patterns = [
            "",
            "a",
            "ab|c|",
            "a*",
            "a+",
            "a?",
            "a{3}",
            "a{2,}",
            "a{2,5}",
            "a{0,3}",
            "(a|b)*c{2,4}",
            "((ab)+|c?){3}",
            "(?:)",
            "(?:){5}",
            "a{0}",
            "(a*)*",
        ];
        for pattern in patterns {
            let parsed = parse(pattern).unwrap();
            let predicted = size(&parsed.root) + 1;
            assert_eq!(compile(parsed).unwrap().insts.len(), predicted, "{pattern}");
        }
    }

    #[test]
    fn thompson_shapes() {
        use Inst::*;
        assert_eq!(
            program("a|b"),
            [Split(1, 3), Byte(b'a'), Jump(4), Byte(b'b'), Match]
        );
        assert_eq!(program("a*"), [Split(1, 3), Byte(b'a'), Jump(0), Match]);
        assert_eq!(program("a+"), [Byte(b'a'), Split(0, 2), Match]);
        assert_eq!(
            program("a{1,2}"),
            [Byte(b'a'), Split(2, 3), Byte(b'a'), Match]
        );
    }
}
