//! Character sets: sorted, non-overlapping, non-adjacent ranges of chars,
//! and the named ASCII classes (Perl `\d \w \s`, POSIX `[:alpha:]`).

/// A set of chars. Kept canonical by every public operation, so two sets
/// with the same members compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct CharSet {
    ranges: Vec<(char, char)>,
}

impl CharSet {
    pub fn from_ranges(ranges: &[(char, char)]) -> CharSet {
        let mut set = CharSet {
            ranges: ranges.to_vec(),
        };
        set.canonicalize();
        set
    }

    pub fn ranges(&self) -> &[(char, char)] {
        &self.ranges
    }

    /// The only member, when there is exactly one.
    pub fn single(&self) -> Option<char> {
        match self.ranges.as_slice() {
            [(lo, hi)] if lo == hi => Some(*lo),
            _ => None,
        }
    }

    /// Everything not in the set.
    pub fn negate(&mut self) {
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut start = Some('\0');
        for &(lo, hi) in &self.ranges {
            if let (Some(from), Some(to)) = (start, before(lo)) {
                if from <= to {
                    out.push((from, to));
                }
            }
            start = after(hi);
        }
        if let Some(from) = start {
            out.push((from, char::MAX));
        }
        self.ranges = out;
    }

    /// Adds the other case of every ASCII letter in the set.
    pub fn fold_ascii_case(&mut self) {
        let mut extra = Vec::new();
        for &(lo, hi) in &self.ranges {
            for (from, to, shift) in [('a', 'z', -32i32), ('A', 'Z', 32)] {
                let (lo, hi) = (lo.max(from), hi.min(to));
                if lo <= hi {
                    extra.push((shifted(lo, shift), shifted(hi, shift)));
                }
            }
        }
        self.ranges.extend(extra);
        self.canonicalize();
    }

    fn canonicalize(&mut self) {
        self.ranges.sort_unstable();
        let mut out: Vec<(char, char)> = Vec::with_capacity(self.ranges.len());
        for &(lo, hi) in &self.ranges {
            match out.last_mut() {
                Some(last) if after(last.1).map_or(true, |next| lo <= next) => {
                    last.1 = last.1.max(hi);
                }
                _ => out.push((lo, hi)),
            }
        }
        self.ranges = out;
    }
}

/// Whether `c` is in `ranges` (canonical: sorted and disjoint).
pub(super) fn ranges_contain(ranges: &[(char, char)], c: char) -> bool {
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The next char, skipping the surrogate gap.
fn after(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        _ => char::from_u32(u32::from(c) + 1),
    }
}

/// The previous char, skipping the surrogate gap.
fn before(c: char) -> Option<char> {
    match c {
        '\u{E000}' => Some('\u{D7FF}'),
        _ => u32::from(c).checked_sub(1).and_then(char::from_u32),
    }
}

/// An ASCII letter moved to the other case (callers pass letters only).
fn shifted(c: char, shift: i32) -> char {
    u32::try_from(i64::from(u32::from(c)) + i64::from(shift))
        .ok()
        .and_then(char::from_u32)
        .unwrap_or(c)
}

pub(super) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
/// RE2's `\s` leaves out `\v`, unlike `[[:space:]]`.
const PERL_SPACE: &[(char, char)] = &[('\t', '\n'), ('\x0C', '\r'), (' ', ' ')];

/// `\d \D \w \W \s \S` (ASCII, as in RE2).
pub(super) fn perl_class(letter: char) -> Option<CharSet> {
    let ranges = match letter.to_ascii_lowercase() {
        'd' => DIGIT,
        'w' => WORD,
        's' => PERL_SPACE,
        _ => return None,
    };
    let mut set = CharSet::from_ranges(ranges);
    if letter.is_ascii_uppercase() {
        set.negate();
    }
    Some(set)
}

const POSIX_CLASSES: &[(&str, &[(char, char)])] = &[
    ("alnum", &[('0', '9'), ('A', 'Z'), ('a', 'z')]),
    ("alpha", &[('A', 'Z'), ('a', 'z')]),
    ("ascii", &[('\0', '\x7F')]),
    ("blank", &[('\t', '\t'), (' ', ' ')]),
    ("cntrl", &[('\0', '\x1F'), ('\x7F', '\x7F')]),
    ("digit", DIGIT),
    ("graph", &[('!', '~')]),
    ("lower", &[('a', 'z')]),
    ("print", &[(' ', '~')]),
    ("punct", &[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')]),
    ("space", &[('\t', '\r'), (' ', ' ')]),
    ("upper", &[('A', 'Z')]),
    ("word", WORD),
    ("xdigit", &[('0', '9'), ('A', 'F'), ('a', 'f')]),
];

/// `alpha` or `^alpha`, as written between `[:` and `:]`.
pub(super) fn posix_class(name: &str) -> Option<CharSet> {
    let (negated, name) = match name.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let (_, ranges) = POSIX_CLASSES.iter().find(|(n, _)| *n == name)?;
    let mut set = CharSet::from_ranges(ranges);
    if negated {
        set.negate();
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn canonical_form_merges_overlaps_and_neighbours() {
        let set = CharSet::from_ranges(&[('d', 'f'), ('a', 'c'), ('x', 'z'), ('y', 'y')]);
        assert_eq!(set.ranges(), &[('a', 'f'), ('x', 'z')]);
        let gap = CharSet::from_ranges(&[('\u{D7FF}', '\u{D7FF}'), ('\u{E000}', '\u{E000}')]);
        assert_eq!(gap.ranges(), &[('\u{D7FF}', '\u{E000}')]);
    }

    #[test]
    fn negation_covers_every_other_char_and_round_trips() {
        let mut set = CharSet::from_ranges(&[('\0', 'a'), ('c', 'c'), ('\u{E000}', char::MAX)]);
        set.negate();
        assert_eq!(set.ranges(), &[('b', 'b'), ('d', '\u{D7FF}')]);
        set.negate();
        assert_eq!(
            set.ranges(),
            &[('\0', 'a'), ('c', 'c'), ('\u{E000}', char::MAX)]
        );
        let mut empty = CharSet::default();
        empty.negate();
        assert_eq!(empty.ranges(), &[('\0', char::MAX)]);
        empty.negate();
        assert!(empty.ranges().is_empty());
    }

    #[test]
    fn ascii_case_folding_adds_the_other_case_only() {
        let mut set = CharSet::from_ranges(&[('X', 'b'), ('é', 'é')]);
        set.fold_ascii_case();
        assert_eq!(
            set.ranges(),
            &[('A', 'B'), ('X', 'b'), ('x', 'z'), ('é', 'é')]
        );
    }

    #[test]
    fn named_classes() {
        assert!(ranges_contain(perl_class('s').unwrap().ranges(), '\x0C'));
        assert!(!ranges_contain(perl_class('s').unwrap().ranges(), '\x0B'));
        assert!(ranges_contain(
            posix_class("space").unwrap().ranges(),
            '\x0B'
        ));
        assert!(ranges_contain(perl_class('W').unwrap().ranges(), 'é'));
        assert!(!ranges_contain(
            posix_class("^digit").unwrap().ranges(),
            '7'
        ));
        assert!(posix_class("letters").is_none());
        assert!(perl_class('q').is_none());
    }
}
