//! A validated config in words. Conditions are written in the same syntax
//! that `canaryctl rule --when` reads, so what `show` prints can be typed back.

use canary_core::{
    Condition, CounterName, Mode, Op, PathMatch, Reason, Release, Rule, Source, Sticky, Version,
};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// Basis points as a percent with only the decimals it needs: 20%, 12.5%,
/// 0.01% (the core's wording, which the filter's messages use too).
pub fn percent(basis_points: u32) -> String {
    canary_core::percent_text(basis_points)
}

/// A weight in basis points that serializes as a number of percent: 20,
/// 12.5, 0.01.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(pub u32);

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            serializer.serialize_u32(self.0 / 100)
        } else {
            serializer.serialize_f64(f64::from(self.0) / 100.0)
        }
    }
}

/// A value as typed on the command line; quoted only when it would be lost.
fn word(value: &str) -> String {
    if value.is_empty() || value.trim() != value {
        Value::String(value.to_string()).to_string()
    } else {
        value.to_string()
    }
}

fn list(values: &[String]) -> String {
    if values.iter().any(|v| v.contains(',') || v.trim() != v) {
        Value::from(values.to_vec()).to_string()
    } else {
        values.join(",")
    }
}

pub fn condition(condition: &Condition) -> String {
    let source = match &condition.source {
        Source::Header(name) => format!("header {name}"),
        Source::Cookie(name) => format!("cookie {name}"),
        Source::Query(name) => format!("query {}", word(name)),
    };
    let op = match &condition.op {
        Op::Equals(v) => format!("equals {}", word(v)),
        Op::NotEquals(v) => format!("not_equals {}", word(v)),
        Op::Prefix(v) => format!("prefix {}", word(v)),
        Op::Suffix(v) => format!("suffix {}", word(v)),
        Op::Contains(v) => format!("contains {}", word(v)),
        Op::Regex(re) => format!("regex {}", word(re.as_str())),
        Op::In(values) => format!("in {}", list(values)),
        Op::NotIn(values) => format!("not_in {}", list(values)),
        Op::Present => "present".to_string(),
        Op::Absent => "absent".to_string(),
        Op::Gt(n) => format!("gt {n}"),
        Op::Ge(n) => format!("ge {n}"),
        Op::Lt(n) => format!("lt {n}"),
        Op::Le(n) => format!("le {n}"),
        Op::Percent(n) => format!("percent {n}"),
    };
    format!("{source} {op}")
}

pub fn path(path: &PathMatch) -> String {
    match path {
        PathMatch::Exact(p) => format!("path exact {p}"),
        PathMatch::Prefix(p) => format!("path prefix {p}"),
        PathMatch::Regex(re) => format!("path regex {}", re.as_str()),
    }
}

/// The rule in one line, or "none".
pub fn rule(rule: Option<&Rule>) -> String {
    let Some(rule) = rule else {
        return "none".to_string();
    };
    let joiner = match rule.mode {
        Mode::All => " AND ",
        Mode::Any => " OR ",
    };
    let conditions: Vec<String> = rule.conditions.iter().map(condition).collect();
    let conditions = conditions.join(joiner);
    match (&rule.path, rule.conditions.len()) {
        (Some(p), 0) => path(p),
        (Some(p), 1) => format!("{} AND {conditions}", path(p)),
        (Some(p), _) if rule.mode == Mode::All => format!("{} AND {conditions}", path(p)),
        (Some(p), _) => format!("{} AND ({conditions})", path(p)),
        (None, _) => conditions,
    }
}

pub fn hosts(hosts: &[String]) -> String {
    if hosts.is_empty() {
        "every host (this release catches what the others do not)".to_string()
    } else {
        hosts.join(", ")
    }
}

pub fn sticky(release: &Release) -> String {
    let key = match &release.sticky {
        None => return "no: each request is rolled on its own".to_string(),
        Some(Sticky::Header(name)) => format!("header {name}"),
        Some(Sticky::Cookie(name)) => format!("cookie {name}"),
    };
    if release.canaries.len() > 1 {
        return format!(
            "by {key}: a user stays on one version, and raising a weight never moves a user to {} (README \"Sticky assignment\" says who can move between canaries)",
            release.baseline
        );
    }
    format!(
        "by {key}: a user stays on one version, and raising the weight only moves users to {}",
        release.canaries.first().value
    )
}

/// A release with several canaries as text: each canary's rule and weight.
fn tagged_text(release: &Release) -> String {
    let values: Vec<&str> = release.canaries.iter().map(|c| c.value.as_str()).collect();
    let mut text = format!(
        "{name}\n  hosts:   {hosts}\n  header:  {header}: {baseline} (baseline) or {values} (canaries, first rule wins)\n",
        name = release.name,
        hosts = hosts(&release.hosts),
        header = release.header,
        baseline = release.baseline,
        values = values.join(", "),
    );
    let mut total = 0;
    for canary in release.canaries.iter() {
        total += canary.weight_bp;
        text.push_str(&format!(
            "  {}:  rule {}; weight {} of the other requests\n",
            canary.value,
            rule(canary.rule.as_ref()),
            percent(canary.weight_bp)
        ));
    }
    text.push_str(&format!(
        "  weight:  {} of the other requests go to {}\n  sticky:  {}\n",
        percent(10_000u32.saturating_sub(total)),
        release.baseline,
        sticky(release)
    ));
    text
}

/// The release as text, one field a line, for `show`.
pub fn release_text(release: &Release) -> String {
    if release.tagged {
        return tagged_text(release);
    }
    let weight = match release.canaries.first().weight_bp {
        0 => format!("0%: the other requests go to {}", release.baseline),
        10_000 => format!(
            "100%: every request goes to {}",
            release.canaries.first().value
        ),
        bp => format!(
            "{} of the other requests go to {}, {} to {}",
            percent(bp),
            release.canaries.first().value,
            percent(10_000 - bp),
            release.baseline
        ),
    };
    let rule = match &release.canaries.first().rule {
        None => "none".to_string(),
        Some(r) => format!("{} -> {}", rule(Some(r)), release.canaries.first().value),
    };
    format!(
        "{name}\n  hosts:   {hosts}\n  header:  {header}: {baseline} (baseline) or {canary} (canary)\n  rule:    {rule}\n  weight:  {weight}\n  sticky:  {sticky}\n",
        name = release.name,
        hosts = hosts(&release.hosts),
        header = release.header,
        baseline = release.baseline,
        canary = release.canaries.first().value,
        sticky = sticky(release),
    )
}

/// A release's rule, as `show --json` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleView {
    /// The whole rule in one line.
    pub text: String,
    pub path: Option<String>,
    /// `all` or `any`.
    pub mode: &'static str,
    /// Each in `rule --when` syntax.
    pub conditions: Vec<String>,
}

/// Where a sticky release reads its key: `{"header": name}` or `{"cookie": name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StickyView {
    Header(String),
    Cookie(String),
}

/// A release, as `show --json` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseView {
    pub name: String,
    pub hosts: Vec<String>,
    pub every_host: bool,
    pub header: String,
    pub baseline: String,
    /// The first canary's value, rule and weight (the only canary in the
    /// two-version form).
    pub canary: String,
    pub rule: Option<RuleView>,
    pub weight: Percent,
    pub sticky: Option<StickyView>,
    /// Every canary, in priority order (one in the two-version form).
    pub canaries: Vec<CanaryView>,
    /// Whether the release is written in the `canaries` form.
    pub tagged: bool,
}

/// One canary, as `show --json` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanaryView {
    pub value: String,
    pub rule: Option<RuleView>,
    pub weight: Percent,
}

fn rule_view(r: &Rule) -> RuleView {
    RuleView {
        text: rule(Some(r)),
        path: r.path.as_ref().map(path),
        mode: match r.mode {
            Mode::All => "all",
            Mode::Any => "any",
        },
        conditions: r.conditions.iter().map(condition).collect(),
    }
}

pub fn release_view(release: &Release) -> ReleaseView {
    let rule = release.canaries.first().rule.as_ref().map(rule_view);
    let sticky = release.sticky.as_ref().map(|s| match s {
        Sticky::Header(name) => StickyView::Header(name.clone()),
        Sticky::Cookie(name) => StickyView::Cookie(name.clone()),
    });
    ReleaseView {
        name: release.name.clone(),
        hosts: release.hosts.clone(),
        every_host: release.hosts.is_empty(),
        header: release.header.clone(),
        baseline: release.baseline.clone(),
        canary: release.canaries.first().value.clone(),
        rule,
        weight: Percent(release.canaries.first().weight_bp),
        sticky,
        canaries: release
            .canaries
            .iter()
            .map(|c| CanaryView {
                value: c.value.clone(),
                rule: c.rule.as_ref().map(rule_view),
                weight: Percent(c.weight_bp),
            })
            .collect(),
        tagged: release.tagged,
    }
}

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
/// `value`, one per reason; empty when `value` is none of its versions.
/// The two-version form and the baseline count by role, the canaries of
/// the `canaries` form by value (see `canary_core::CounterName`).
pub fn version_counters<'a>(release: &'a Release, value: &'a str) -> Vec<CounterName<'a>> {
    let by_role = |version| {
        Reason::ALL
            .iter()
            .map(|&reason| CounterName::routed(&release.name, version, reason))
            .collect()
    };
    if value == release.baseline {
        by_role(Version::Baseline)
    } else if release.canaries.find(value).is_none() {
        Vec::new()
    } else if release.tagged {
        Reason::ALL
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
                "canary.two.canary.weight"
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

    #[test]
    fn percents_keep_only_needed_decimals() {
        let cases = [
            (0, "0%"),
            (2000, "20%"),
            (1250, "12.5%"),
            (1, "0.01%"),
            (10_000, "100%"),
            (3333, "33.33%"),
        ];
        for (bp, want) in cases {
            assert_eq!(percent(bp), want);
        }
        assert_eq!(serde_json::to_value(Percent(2000)).unwrap(), json!(20));
        assert_eq!(serde_json::to_value(Percent(1250)).unwrap(), json!(12.5));
    }

    fn first_release(json: &str) -> Release {
        Config::from_json(json.as_bytes())
            .unwrap()
            .releases
            .remove(0)
    }

    #[test]
    fn rules_in_words() {
        let release = first_release(
            r#"{"releases":[{"name":"pay","header":"x-v","baseline":"v1","canary":"v2",
            "path":{"regex":"/pay/[0-9]+"},"mode":"any","conditions":[
              {"header":"env","op":"equals","value":"test"},
              {"query":"uid","op":"in","values":["1002","1001"]},
              {"cookie":"beta","op":"present"},
              {"header":"x-age","op":"ge","value":18.5},
              {"header":"x-name","op":"equals","value":""}]}]}"#,
        );
        assert_eq!(
            rule(release.canaries.first().rule.as_ref()),
            "path regex /pay/[0-9]+ AND (header env equals test OR query uid in 1001,1002 OR cookie beta present OR header x-age ge 18.5 OR header x-name equals \"\")"
        );
        let plain = first_release(
            r#"{"releases":[{"name":"p","header":"x","baseline":"a","canary":"b"}]}"#,
        );
        assert_eq!(rule(plain.canaries.first().rule.as_ref()), "none");
        assert!(release_text(&plain).contains("weight:  0%: the other requests go to a"));
        assert!(release_text(&plain).contains("every host"));
    }

    #[test]
    fn release_json_has_every_field() {
        let release = first_release(
            r#"{"releases":[{"name":"pay","hosts":["Pay.example.com"],"header":"X-V","baseline":"v1","canary":"v2",
            "weight":12.5,"sticky":{"cookie":"uid"}}]}"#,
        );
        let value = serde_json::to_value(release_view(&release)).unwrap();
        assert_eq!(value["hosts"], json!(["pay.example.com"]));
        assert_eq!(value["header"], "x-v");
        assert_eq!(value["weight"], json!(12.5));
        assert_eq!(value["sticky"], json!({"cookie": "uid"}));
        assert_eq!(value["rule"], Value::Null);
        assert!(sticky(&release).starts_with("by cookie uid"));
    }
}
