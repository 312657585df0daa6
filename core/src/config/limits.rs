//! Limits that bound the time and memory a config can take, in one place.

use crate::regex::MAX_PATTERN_BYTES;

/// Configs larger than this are refused before parsing (bounds memory and time).
pub const MAX_CONFIG_BYTES: usize = 512 * 1024;
pub const MAX_RELEASES: usize = 1000;
pub const MAX_HOSTS_PER_RELEASE: usize = 100;
pub const MAX_CONDITIONS: usize = 32;
/// Canary versions of one release besides its baseline.
pub const MAX_CANARIES: usize = 8;
pub const MAX_VALUES: usize = 10_000;
/// Checked here so the error does not repeat a huge pattern; the regex
/// engine bounds repetition, nesting and program size itself.
pub const MAX_REGEX_LEN: usize = MAX_PATTERN_BYTES;
