//! Byte sets and the named ASCII classes (Perl `\d \w \s`, POSIX
//! `[:alpha:]`). Envoy's RE2 reads patterns and values as bytes (Latin-1:
//! each byte one character), so a class is a set of bytes.

/// A set of bytes, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct ByteSet {
    bits: [u64; 4],
}

impl ByteSet {
    pub fn from_ranges(ranges: &[(u8, u8)]) -> ByteSet {
        let mut set = ByteSet::default();
        for &(lo, hi) in ranges {
            set.add_range(lo, hi);
        }
        set
    }

    /// Adds `lo..=hi` (nothing when `hi < lo`).
    pub fn add_range(&mut self, lo: u8, hi: u8) {
        for byte in lo..=hi {
            self.add(byte);
        }
    }

    pub fn add(&mut self, byte: u8) {
        if let Some(word) = self.bits.get_mut(usize::from(byte >> 6)) {
            *word |= 1 << (byte & 63);
        }
    }

    pub fn union(&mut self, other: &ByteSet) {
        for (mine, theirs) in self.bits.iter_mut().zip(other.bits) {
            *mine |= theirs;
        }
    }

    pub fn contains(&self, byte: u8) -> bool {
        self.bits
            .get(usize::from(byte >> 6))
            .is_some_and(|word| word & (1 << (byte & 63)) != 0)
    }

    /// The only member, when there is exactly one.
    pub fn single(&self) -> Option<u8> {
        let count: u32 = self.bits.iter().map(|word| word.count_ones()).sum();
        (count == 1).then(|| self.members().next()).flatten()
    }

    /// Every byte not in the set.
    pub fn negate(&mut self) {
        for word in &mut self.bits {
            *word = !*word;
        }
    }

    /// Adds the other case of every ASCII letter in the set: RE2 in
    /// Latin-1 mode folds ASCII only (Envoy does not match `(?i)\xC3`,
    /// `Ã`, against `\xE3`, `ã`).
    pub fn fold_case(&mut self) {
        for byte in self.members().collect::<Vec<u8>>() {
            if byte.is_ascii_alphabetic() {
                self.add(byte ^ 0x20);
            }
        }
    }

    fn members(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=u8::MAX).filter(|&byte| self.contains(byte))
    }
}

pub(super) fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

const DIGIT: &[(u8, u8)] = &[(b'0', b'9')];
const WORD: &[(u8, u8)] = &[(b'0', b'9'), (b'A', b'Z'), (b'_', b'_'), (b'a', b'z')];
/// RE2's `\s` leaves out `\v`, unlike `[[:space:]]`.
const PERL_SPACE: &[(u8, u8)] = &[(b'\t', b'\n'), (0x0C, b'\r'), (b' ', b' ')];

/// `\d \D \w \W \s \S` (ASCII, as in RE2).
pub(super) fn perl_class(letter: u8) -> Option<ByteSet> {
    let ranges = match letter.to_ascii_lowercase() {
        b'd' => DIGIT,
        b'w' => WORD,
        b's' => PERL_SPACE,
        _ => return None,
    };
    let mut set = ByteSet::from_ranges(ranges);
    if letter.is_ascii_uppercase() {
        set.negate();
    }
    Some(set)
}

const POSIX_CLASSES: &[(&str, &[(u8, u8)])] = &[
    ("alnum", &[(b'0', b'9'), (b'A', b'Z'), (b'a', b'z')]),
    ("alpha", &[(b'A', b'Z'), (b'a', b'z')]),
    ("ascii", &[(0, 0x7F)]),
    ("blank", &[(b'\t', b'\t'), (b' ', b' ')]),
    ("cntrl", &[(0, 0x1F), (0x7F, 0x7F)]),
    ("digit", DIGIT),
    ("graph", &[(b'!', b'~')]),
    ("lower", &[(b'a', b'z')]),
    ("print", &[(b' ', b'~')]),
    (
        "punct",
        &[(b'!', b'/'), (b':', b'@'), (b'[', b'`'), (b'{', b'~')],
    ),
    ("space", &[(b'\t', b'\r'), (b' ', b' ')]),
    ("upper", &[(b'A', b'Z')]),
    ("word", WORD),
    ("xdigit", &[(b'0', b'9'), (b'A', b'F'), (b'a', b'f')]),
];

/// `alpha` or `^alpha`, as written between `[:` and `:]`.
pub(super) fn posix_class(name: &str) -> Option<ByteSet> {
    let (negated, name) = match name.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let (_, ranges) = POSIX_CLASSES.iter().find(|(n, _)| *n == name)?;
    let mut set = ByteSet::from_ranges(ranges);
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

    fn members(set: &ByteSet) -> Vec<u8> {
        set.members().collect()
    }

    #[test]
    fn ranges_union_and_single() {
        let set = ByteSet::from_ranges(&[(b'd', b'f'), (b'a', b'c'), (b'y', b'y'), (b'z', b'x')]);
        assert_eq!(members(&set), b"abcdefy");
        assert_eq!(set.single(), None);
        assert_eq!(ByteSet::from_ranges(&[(0xFF, 0xFF)]).single(), Some(0xFF));
        let mut both = ByteSet::from_ranges(&[(0, 0)]);
        both.union(&ByteSet::from_ranges(&[(0xC3, 0xC3)]));
        assert_eq!(members(&both), [0, 0xC3]);
    }

    #[test]
    fn negation_covers_every_other_byte_and_round_trips() {
        let mut set = ByteSet::from_ranges(&[(0, b'a'), (b'c', b'c'), (0x80, 0xFF)]);
        set.negate();
        assert_eq!(
            members(&set),
            [b"b".as_slice(), &(b'd'..=0x7F).collect::<Vec<u8>>()].concat()
        );
        set.negate();
        assert!(set.contains(0) && set.contains(b'c') && set.contains(0xFF));
        let mut empty = ByteSet::default();
        empty.negate();
        assert_eq!(members(&empty).len(), 256);
    }

    #[test]
    fn case_folding_adds_the_other_ascii_case_only() {
        let mut set = ByteSet::from_ranges(&[(b'X', b'b'), (0xC3, 0xC3), (0xE3, 0xE3)]);
        set.fold_case();
        let mut want = b"ABXYZ[\\]^_`abxyz".to_vec();
        want.extend([0xC3, 0xE3]);
        assert_eq!(members(&set), want);
    }

    #[test]
    fn named_classes() {
        assert!(perl_class(b's').unwrap().contains(0x0C));
        assert!(!perl_class(b's').unwrap().contains(0x0B));
        assert!(posix_class("space").unwrap().contains(0x0B));
        assert!(perl_class(b'W').unwrap().contains(0xC3));
        assert!(!posix_class("^digit").unwrap().contains(b'7'));
        assert!(posix_class("^ascii").unwrap().contains(0x80));
        assert!(posix_class("letters").is_none());
        assert!(perl_class(b'q').is_none());
    }
}
