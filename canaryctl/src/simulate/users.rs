//! `simulate --users`: where N synthetic users of a sticky release sit, at
//! one or more weights, and whether raising the weight moves anyone from
//! the canary back to the baseline (it must not: a user is on the canary
//! exactly when their fixed bucket is below the weight). With several
//! canaries the weights are one canary's (`--canary`), the others keep
//! theirs, and each canary's users are shown.

use std::collections::BTreeMap;

use canary_core::{decide, Config, Request, Rng, Version};
use serde::Serialize;

use crate::describe::{self, Percent};
use crate::simulate::request::RequestSpec;
use crate::simulate::split::share;

/// Bounds memory (one flag per user) and run time.
const MAX_USERS: u64 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub weight_bp: u32,
    pub baseline: u64,
    /// On any canary.
    pub canary: u64,
    /// On each canary, in the release's order.
    pub by_canary: Vec<u64>,
    /// Users on the canary at the previous row and on the baseline now;
    /// `None` for the first row.
    pub moved_back: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Table {
    release: String,
    key: String,
    users: u64,
    /// Several canaries: their values, and the one the weights set.
    canaries: Vec<String>,
    varied: Option<String>,
    pub rows: Vec<Row>,
}

/// `simulate --users --json`, under `users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsersReport {
    pub release: String,
    /// Where the key is read: `header x-user-id`.
    pub key: String,
    pub count: u64,
    pub rows: Vec<RowReport>,
    pub moved_back_while_rising: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowReport {
    pub weight: Percent,
    pub baseline: u64,
    pub canary: u64,
    pub moved_back: Option<u64>,
    /// Several canaries: the users on each, by value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub canaries: BTreeMap<String, u64>,
}

/// One synthetic user's key.
fn user_key(i: u64) -> String {
    format!("user-{i}")
}

pub fn table(
    config: &Config,
    spec: &RequestSpec,
    users: u64,
    weights: &[u32],
    canary: Option<&str>,
) -> Result<Table, String> {
    if users == 0 || users > MAX_USERS {
        return Err(format!("--users: give 1 to {MAX_USERS} users"));
    }
    let release = spec
        .release(config)
        .ok_or_else(|| format!("no release covers host \"{}\"", spec.host))?;
    let Some(sticky) = release.sticky.clone() else {
        return Err(format!(
            "release \"{}\" is not sticky: each request is rolled on its own, so users do not stay on a version (--users needs \"sticky\")",
            release.name
        ));
    };
    let key = match &sticky {
        canary_core::Sticky::Header(name) => format!("header {name}"),
        canary_core::Sticky::Cookie(name) => format!("cookie {name}"),
    };
    let index = config
        .releases
        .iter()
        .position(|r| r.name == release.name)
        .ok_or("the release vanished")?;
    let varied = match canary {
        None => 0,
        Some(value) => release
            .canaries
            .find(value)
            .map(|(position, _)| position)
            .ok_or_else(|| {
                format!(
                    "--canary {value}: release \"{}\" has no such canary",
                    release.name
                )
            })?,
    };
    let configured = release.canaries.get(varied).map_or(0, |c| c.weight_bp);
    let weights = if weights.is_empty() {
        vec![configured]
    } else {
        weights.to_vec()
    };
    let count = release.canaries.len();
    let mut rows = Vec::with_capacity(weights.len());
    let mut previous: Option<Vec<bool>> = None;
    // The sticky key decides, so the roll never matters; seeded anyway.
    let mut rng = Rng::new(0);
    for weight_bp in weights {
        let mut at_weight = config.clone();
        if let Some(r) = at_weight.releases.get_mut(index) {
            if let Some(varied) = r.canaries.iter_mut().nth(varied) {
                varied.weight_bp = weight_bp;
            }
        }
        let mut by_canary = vec![0u64; count];
        let mut on_canary = Vec::with_capacity(users as usize);
        let mut moved_back = 0;
        for i in 1..=users {
            let pairs = spec.pairs(Some((&sticky, &user_key(i))));
            let borrowed: Vec<(&[u8], &[u8])> = pairs
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect();
            let outcome = decide(&at_weight, &Request::new(&borrowed), rng.roll());
            let canary = outcome.is_some_and(|o| o.version == Version::Canary);
            if let Some(slot) = outcome
                .filter(|o| o.version == Version::Canary)
                .and_then(|o| by_canary.get_mut(o.canary))
            {
                *slot += 1;
            }
            let was_canary = previous
                .as_ref()
                .and_then(|p| p.get(on_canary.len()))
                .copied();
            if was_canary == Some(true) && !canary {
                moved_back += 1;
            }
            on_canary.push(canary);
        }
        let canary = on_canary.iter().filter(|&&c| c).count() as u64;
        rows.push(Row {
            weight_bp,
            baseline: users - canary,
            canary,
            by_canary,
            moved_back: previous.is_some().then_some(moved_back),
        });
        previous = Some(on_canary);
    }
    let several = release.tagged && count > 1;
    Ok(Table {
        release: release.name.clone(),
        key,
        users,
        canaries: if several {
            release.canaries.iter().map(|c| c.value.clone()).collect()
        } else {
            Vec::new()
        },
        varied: several
            .then(|| release.canaries.get(varied).map(|c| c.value.clone()))
            .flatten(),
        rows,
    })
}

impl Table {
    /// Users moved back to the baseline where the weight went up.
    fn moved_back_while_rising(&self) -> u64 {
        self.rows
            .windows(2)
            .filter_map(|pair| match pair {
                [before, after] if after.weight_bp > before.weight_bp => after.moved_back,
                _ => None,
            })
            .sum()
    }

    fn rose(&self) -> bool {
        self.rows
            .windows(2)
            .any(|pair| matches!(pair, [a, b] if b.weight_bp > a.weight_bp))
    }

    pub fn to_text(&self) -> String {
        if !self.canaries.is_empty() {
            return self.several_to_text();
        }
        let mut text = format!(
            "{}: {} users (keys user-1..user-{}) by {}\n  {:<8}{:>18}{:>18}  {}\n",
            self.release,
            self.users,
            self.users,
            self.key,
            "weight",
            "baseline",
            "canary",
            "moved canary->baseline"
        );
        for row in &self.rows {
            let cell = |n: u64| format!("{n} ({:.1}%)", share(n, self.users));
            text.push_str(&format!(
                "  {:<8}{:>18}{:>18}  {}\n",
                describe::percent(row.weight_bp),
                cell(row.baseline),
                cell(row.canary),
                row.moved_back.map_or("-".to_string(), |n| n.to_string())
            ));
        }
        if self.rose() {
            match self.moved_back_while_rising() {
                0 => {
                    text.push_str("no user moved from canary back to baseline as the weight rose\n")
                }
                n => text.push_str(&format!(
                    "WARNING: {n} users moved from canary back to baseline as the weight rose\n"
                )),
            }
        }
        text
    }

    /// One column per version; the weights are those of `varied`.
    fn several_to_text(&self) -> String {
        let varied = self.varied.as_deref().unwrap_or("?");
        let mut text = format!(
            "{}: {} users (keys user-1..user-{}) by {}; weights of {varied}, the others as configured\n  {:<8}{:>18}",
            self.release, self.users, self.users, self.key, "weight", "baseline"
        );
        for value in &self.canaries {
            text.push_str(&format!("{value:>18}"));
        }
        text.push_str("  moved canary->baseline\n");
        for row in &self.rows {
            let cell = |n: u64| format!("{n} ({:.1}%)", share(n, self.users));
            text.push_str(&format!(
                "  {:<8}{:>18}",
                describe::percent(row.weight_bp),
                cell(row.baseline)
            ));
            for n in &row.by_canary {
                text.push_str(&format!("{:>18}", cell(*n)));
            }
            let moved = row.moved_back.map_or("-".to_string(), |n| n.to_string());
            text.push_str(&format!("  {moved}\n"));
        }
        if self.rose() {
            text.push_str(&match self.moved_back_while_rising() {
                0 => format!("no user moved from a canary back to baseline as {varied}'s weight rose\n"),
                n => format!("WARNING: {n} users moved from a canary back to baseline as {varied}'s weight rose\n"),
            });
        }
        text
    }

    pub fn report(&self) -> UsersReport {
        UsersReport {
            release: self.release.clone(),
            key: self.key.clone(),
            count: self.users,
            rows: self
                .rows
                .iter()
                .map(|row| RowReport {
                    weight: Percent(row.weight_bp),
                    baseline: row.baseline,
                    canary: row.canary,
                    moved_back: row.moved_back,
                    canaries: self
                        .canaries
                        .iter()
                        .cloned()
                        .zip(row.by_canary.iter().copied())
                        .collect(),
                })
                .collect(),
            moved_back_while_rising: self.moved_back_while_rising(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(config: &Config) -> RequestSpec {
        let flags = crate::simulate::request::RequestFlags {
            path: "/".into(),
            ..Default::default()
        };
        RequestSpec::from_flags(&flags, config)
    }

    const STICKY: &[u8] = br#"{"releases":[{"name":"pay","header":"x-v","baseline":"v1","canary":"v2","weight":20,"sticky":{"header":"x-user"}}]}"#;

    #[test]
    fn raising_the_weight_moves_no_user_back() {
        let config = Config::from_json(STICKY).unwrap();
        let table = table(
            &config,
            &spec(&config),
            2000,
            &[1000, 2000, 5000, 10_000],
            None,
        )
        .unwrap();
        assert_eq!(table.rows[0].moved_back, None);
        for row in &table.rows[1..] {
            assert_eq!(row.moved_back, Some(0));
        }
        assert_eq!(table.rows[3].canary, 2000);
        // n = 2000, p = 0.5: sd ~ 22.4; allow 4 sd.
        assert!(
            (911..=1089).contains(&table.rows[2].canary),
            "{:?}",
            table.rows[2]
        );
        assert!(table.to_text().contains("no user moved"));
    }

    #[test]
    fn lowering_the_weight_is_reported_not_flagged() {
        let config = Config::from_json(STICKY).unwrap();
        let table = table(&config, &spec(&config), 500, &[5000, 1000], None).unwrap();
        assert!(table.rows[1].moved_back.unwrap() > 0);
        assert!(!table.to_text().contains("WARNING"));
        assert_eq!(table.report().moved_back_while_rising, 0);
    }

    #[test]
    fn needs_a_sticky_release() {
        let config = Config::from_json(
            br#"{"releases":[{"name":"pay","header":"x-v","baseline":"v1","canary":"v2"}]}"#,
        )
        .unwrap();
        let err = table(&config, &spec(&config), 10, &[], None).unwrap_err();
        assert!(err.contains("not sticky"), "{err}");
        assert!(table(&config, &spec(&config), 0, &[], None).is_err());
    }
}
