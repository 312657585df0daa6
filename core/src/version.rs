//! Where a request can go and why: the two words of every decision, which
//! also name the counters (src/metrics.rs) and index their slots.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Baseline,
    Canary,
}

/// Why the request went where it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The request satisfied the traffic rule (always the canary).
    Rule,
    /// The sticky key's bucket was compared against the weight.
    Sticky,
    /// The random roll was compared against the weight.
    Weight,
    /// The request carries a lane: its version in the lane, else the
    /// baseline (before rules and weights).
    Lane,
}

impl Version {
    /// In declaration order, so `index` is a position in this array.
    pub const ALL: [Version; 2] = [Version::Baseline, Version::Canary];
    pub const COUNT: usize = Self::ALL.len();

    pub fn as_str(self) -> &'static str {
        match self {
            Version::Baseline => "baseline",
            Version::Canary => "canary",
        }
    }

    /// The inverse of `as_str`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == name)
    }

    /// Its position in `ALL`, below `COUNT`.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Reason {
    /// The reasons of every release's fixed block of counters, in
    /// declaration order, so `index` is a position in this array. `Lane`
    /// is not among them: its counters exist only with lanes, after every
    /// other counter (`plan::CounterSlot`).
    pub const ALL: [Reason; 3] = [Reason::Rule, Reason::Sticky, Reason::Weight];
    pub const COUNT: usize = Self::ALL.len();

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Rule => "rule",
            Reason::Sticky => "sticky",
            Reason::Weight => "weight",
            Reason::Lane => "lane",
        }
    }

    /// The inverse of `as_str`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Reason::Lane])
            .find(|r| r.as_str() == name)
    }

    /// Its position in `ALL`, below `COUNT`; `Lane`'s is `COUNT`.
    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn index_is_the_position_in_all_and_names_round_trip() {
        for (i, version) in Version::ALL.into_iter().enumerate() {
            assert_eq!(version.index(), i);
            assert_eq!(Version::from_name(version.as_str()), Some(version));
        }
        for (i, reason) in Reason::ALL.into_iter().enumerate() {
            assert_eq!(reason.index(), i);
            assert_eq!(Reason::from_name(reason.as_str()), Some(reason));
        }
        assert_eq!(Version::from_name("Canary"), None);
        assert_eq!(Reason::from_name(""), None);
        assert_eq!(Reason::from_name("lane"), Some(Reason::Lane));
        assert_eq!(Reason::Lane.index(), Reason::COUNT);
    }
}
