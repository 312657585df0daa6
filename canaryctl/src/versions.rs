//! A release's versions: the baseline, then each canary in priority order,
//! with the filter's counters of each, and which canary a step names. What
//! `status`, the console and `auto` list and check, written once.

use canary_core::{CounterName, Reason, Release, Version};

/// Every reason a request is counted under, lane included.
const REASONS: [Reason; 4] = [Reason::Rule, Reason::Sticky, Reason::Weight, Reason::Lane];

/// Every version of `release` with its role: the baseline, then each
/// canary in priority order. What the console, `status` and `auto` list.
pub fn versions(release: &Release) -> Vec<(&'static str, &str)> {
    std::iter::once(("baseline", release.baseline.as_str()))
        .chain(
            release
                .canaries
                .iter()
                .map(|c| ("canary", c.value.as_str())),
        )
        .collect()
}

/// The filter's counters of the requests `release` routed to its version
/// `value`, one per reason (`lane` too: those counters exist only with
/// lanes, and a name no one defines just counts nothing); empty when `value`
/// is none of its versions.
/// The two-version form and the baseline count by role, the canaries of
/// the `canaries` form by value (see `canary_core::CounterName`).
pub fn version_counters<'a>(release: &'a Release, value: &'a str) -> Vec<CounterName<'a>> {
    let by_role = |version| {
        REASONS
            .iter()
            .map(|&reason| CounterName::routed(&release.name, version, reason))
            .collect()
    };
    if value == release.baseline {
        by_role(Version::Baseline)
    } else if release.canaries.find(value).is_none() {
        Vec::new()
    } else if release.tagged {
        REASONS
            .iter()
            .map(|&reason| CounterName::tagged(&release.name, value, reason))
            .collect()
    } else {
        by_role(Version::Canary)
    }
}

/// `canary` checked against `release`'s canaries: the value to name in an
/// `edit::Change::OnCanary` (`None` when the release has its one canary in
/// the two-version form), or why not; a release of several needs a name.
pub fn on_canary_of(release: &Release, canary: Option<&str>) -> Result<Option<String>, String> {
    let values: Vec<&str> = release.canaries.iter().map(|c| c.value.as_str()).collect();
    match canary {
        Some(value) if !values.contains(&value) => Err(format!(
            "{} has no canary \"{value}\"; its canaries are: {}",
            release.name,
            values.join(", ")
        )),
        Some(value) if release.tagged => Ok(Some(value.to_string())),
        Some(_) => Ok(None),
        None if values.len() > 1 => Err(format!(
            "{} has {} canaries ({}): name one",
            release.name,
            values.len(),
            values.join(", ")
        )),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_core::Config;
    use serde_json::json;

    fn releases() -> Config {
        let config = json!({"releases": [
            {"name": "two", "hosts": ["a"], "header": "x-v", "baseline": "v1", "canary": "v2"},
            {"name": "tags", "hosts": ["b"], "header": "x-v", "baseline": "v1",
             "canaries": [{"value": "v2"}, {"value": "v3"}]}
        ]});
        Config::from_json(config.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn versions_and_their_counters_follow_the_form() {
        let config = releases();
        let (two, tags) = (&config.releases[0], &config.releases[1]);
        assert_eq!(versions(two), [("baseline", "v1"), ("canary", "v2")]);
        assert_eq!(
            versions(tags),
            [("baseline", "v1"), ("canary", "v2"), ("canary", "v3")]
        );
        let names = |release, value| -> Vec<String> {
            version_counters(release, value)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(
            names(two, "v2"),
            [
                "canary.two.canary.rule",
                "canary.two.canary.sticky",
                "canary.two.canary.weight",
                "canary.two.canary.lane"
            ]
        );
        assert_eq!(names(tags, "v1")[0], "canary.tags.baseline.rule");
        assert_eq!(names(tags, "v3")[2], "canary.tags.tag.v3.weight");
        assert!(names(tags, "v9").is_empty());
    }

    #[test]
    fn a_canary_is_named_where_a_release_has_several() {
        let config = releases();
        let (two, tags) = (&config.releases[0], &config.releases[1]);
        assert_eq!(on_canary_of(two, None), Ok(None));
        assert_eq!(on_canary_of(two, Some("v2")), Ok(None));
        assert_eq!(on_canary_of(tags, Some("v3")), Ok(Some("v3".to_string())));
        assert_eq!(
            on_canary_of(tags, None),
            Err("tags has 2 canaries (v2, v3): name one".to_string())
        );
        assert_eq!(
            on_canary_of(two, Some("v3")),
            Err("two has no canary \"v3\"; its canaries are: v2".to_string())
        );
    }
}
