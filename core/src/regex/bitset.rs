//! A faster path for small programs: the Pike VM's thread set as the bits of
//! one `u64`, with every instruction's epsilon closure computed once at
//! compile time. A step is then a loop over the live consuming instructions
//! and an OR of precomputed masks: no stack, no sparse set, no allocation.
//! Still O(input bytes × program size), so still linear.
//!
//! It applies to programs of at most 64 instructions whose only assertions
//! are `^` and `$` (start and end of the value); anything else, and the
//! empty value, goes to the Pike VM.

use super::ast::Look;
use super::compile::{Inst, Program};

/// Closures at each kind of position in a non-empty value.
#[derive(Debug, Clone)]
pub(super) struct BitProgram {
    /// The closure of instruction 0 at the start of the value.
    start: u64,
    /// `middle[pc]`: the closure of `pc` with bytes on both sides.
    middle: Vec<u64>,
    /// `end[pc]`: the closure of `pc` after the last byte.
    end: Vec<u64>,
    matched: u64,
}

#[derive(Clone, Copy)]
enum Place {
    Start,
    Middle,
    End,
}

impl BitProgram {
    pub(super) fn new(program: &Program) -> Option<BitProgram> {
        let insts = &program.insts;
        let supported = insts.len() <= 64
            && insts.iter().all(|inst| match inst {
                Inst::Look(look) => matches!(look, Look::StartText | Look::EndText),
                _ => true,
            });
        if !supported {
            return None;
        }
        let table = |place: Place| -> Vec<u64> {
            (0..insts.len())
                .map(|pc| closure(insts, pc, place))
                .collect()
        };
        Some(BitProgram {
            start: closure(insts, 0, Place::Start),
            middle: table(Place::Middle),
            end: table(Place::End),
            matched: 1u64 << (insts.len() - 1),
        })
    }

    /// Whether `program` matches all of `haystack`; `None` for the empty
    /// value, which the caller hands to the Pike VM.
    pub(super) fn full_match(&self, program: &Program, haystack: &[u8]) -> Option<bool> {
        let mut bytes = haystack.iter().copied();
        let mut next_byte = bytes.next()?;
        let mut threads = self.start;
        loop {
            let c = next_byte;
            let following = bytes.next();
            let closures = if following.is_some() {
                &self.middle
            } else {
                &self.end
            };
            let mut next = 0u64;
            let mut live = threads;
            while live != 0 {
                let pc = live.trailing_zeros() as usize;
                live &= live - 1;
                if program.accepts(pc, c) {
                    next |= closures.get(pc + 1).copied().unwrap_or(0);
                }
            }
            if next == 0 {
                return Some(false);
            }
            threads = next;
            match following {
                Some(c) => next_byte = c,
                None => return Some(threads & self.matched != 0),
            }
        }
    }
}

/// Every instruction reachable from `pc` without consuming a byte, `pc`
/// included, at a position of kind `place`.
fn closure(insts: &[Inst], pc: usize, place: Place) -> u64 {
    let mut reached = 0u64;
    let mut stack = vec![pc];
    while let Some(pc) = stack.pop() {
        let bit = 1u64 << pc;
        if pc >= insts.len() || reached & bit != 0 {
            continue;
        }
        reached |= bit;
        match insts.get(pc) {
            Some(Inst::Split(first, second)) => stack.extend([*first as usize, *second as usize]),
            Some(Inst::Jump(target)) => stack.push(*target as usize),
            Some(Inst::Look(Look::StartText)) if matches!(place, Place::Start) => {
                stack.push(pc + 1)
            }
            Some(Inst::Look(Look::EndText)) if matches!(place, Place::End) => stack.push(pc + 1),
            _ => {}
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::super::{compile, parse, vm};
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The bit-set path and the Pike VM agree on every pattern it takes.
    #[test]
    fn agrees_with_the_pike_vm() {
        let patterns = [
            r"2\.[0-9]+\.[0-9]+-beta",
            r"^/api/v[0-9]+/.*$",
            r"(a|ab)(c|bcd)(d*)",
            r"a*",
            r"(a*)*b",
            r"[^/]+\.example\.com",
            r"(?i)chrome|firefox",
            r"x?y?z?",
            r"^$",
            r"a$|b",
            r"(^a|b)c",
            r".*(foo|bar).*",
            r"[[:digit:]]{2,4}",
            r"(?s)a.b",
            r"é+ü?",
            r"a{3}",
        ];
        let values = [
            "",
            "a",
            "b",
            "ab",
            "abcd",
            "aaab",
            "abc",
            "2.10.3-beta",
            "2.1.-beta",
            "/api/v2/x",
            "/api/vx/",
            "x.example.com",
            "a/b.example.com",
            "Chrome",
            "FIREFOX",
            "xyz",
            "xz",
            "ac",
            "bc",
            "c",
            "one foo two",
            "12",
            "12345",
            "a\nb",
            "éé",
            "éü",
            "aaa",
            "aaaa",
        ];
        let mut taken = 0;
        for pattern in patterns {
            let program = compile::compile(parse::parse(pattern).unwrap()).unwrap();
            let Some(bits) = BitProgram::new(&program) else {
                continue;
            };
            taken += 1;
            for value in values {
                let want = vm::full_match(&program, value.as_bytes());
                let got = bits.full_match(&program, value.as_bytes()).unwrap_or(want);
                assert_eq!(got, want, "{pattern:?} on {value:?}");
            }
        }
        assert!(taken >= 14, "only {taken} patterns took the bit-set path");
    }

    #[test]
    fn large_or_word_boundary_programs_use_the_pike_vm() {
        for pattern in [r"\bword\b", r"(?m)^a$", "[a-z]{70}"] {
            let program = compile::compile(parse::parse(pattern).unwrap()).unwrap();
            assert!(BitProgram::new(&program).is_none(), "{pattern}");
        }
    }
}
