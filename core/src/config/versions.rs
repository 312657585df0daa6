//! Phase two, for a release's versions: the two-version form (`canary` with
//! the release-level rule and weight) or the `canaries` list, both compiled
//! into the same list of canaries so one decision serves both.

use crate::json::Number;

use super::compiled::{Canaries, Canary, Mode, PathMatch, Rule};
use super::conditions::compile_condition;
use super::error::{ConfigError, Result};
use super::fields::compile_regex;
use super::limits::{MAX_CANARIES, MAX_CONDITIONS};
use super::raw::{RawCanary, RawPath, RawRule};
use crate::lanes::is_valid_lane_name;
use crate::metric_names::{is_valid_tag, same_prometheus_name, MAX_RELEASE_NAME_LEN};
use crate::validation;

/// A release's fields that say which versions it has.
pub(super) struct RawVersions {
    pub canary: Option<String>,
    pub canaries: Option<Vec<RawCanary>>,
    pub rule: RawRule,
    pub weight: Option<Number>,
    pub lane: Option<String>,
}

/// The release's canaries, and whether they came in the `canaries` form.
pub(super) fn compile_versions(
    raw: RawVersions,
    baseline: &str,
    at: &str,
) -> Result<(Canaries, bool)> {
    let field = |name: &str| format!("{at}.{name}");
    match (raw.canary, raw.canaries) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            at,
            "set either \"canary\" (one canary, with the release's rule and weight) or \"canaries\" (a list), not both",
        )),
        (None, None) => Err(ConfigError::new(
            field("canary"),
            "is required (or \"canaries\", a list of canary versions)",
        )),
        (Some(value), None) => {
            let value = header_value(value, &field("canary"))?;
            if value == baseline {
                return Err(ConfigError::new(
                    field("canary"),
                    format!("must differ from baseline (both are \"{value}\")"),
                ));
            }
            let canary = Canary {
                value,
                rule: compile_rule(raw.rule, at)?,
                weight_bp: weight_basis_points(raw.weight, &field("weight"))?,
                lane: lane_name(raw.lane, at)?,
            };
            Ok((Canaries::new(canary, Vec::new()), false))
        }
        (None, Some(list)) => {
            // The release-level rule and weight belong to the two-version form.
            for (name, set) in [
                ("path", raw.rule.path.is_some()),
                ("mode", raw.rule.mode.is_some()),
                ("conditions", raw.rule.conditions.is_some()),
                ("weight", raw.weight.is_some()),
                ("lane", raw.lane.is_some()),
            ] {
                if set {
                    return Err(ConfigError::new(
                        field(name),
                        format!("with \"canaries\", each canary has its own \"{name}\"; move it into the canary it belongs to"),
                    ));
                }
            }
            Ok((compile_canaries(list, baseline, &field("canaries"))?, true))
        }
    }
}

fn compile_canaries(list: Vec<RawCanary>, baseline: &str, at: &str) -> Result<Canaries> {
    if list.is_empty() {
        return Err(ConfigError::new(at, "at least one canary is required"));
    }
    if list.len() > MAX_CANARIES {
        return Err(ConfigError::new(
            at,
            format!("{} canaries; the limit is {MAX_CANARIES}", list.len()),
        ));
    }
    let mut canaries: Vec<Canary> = Vec::with_capacity(list.len());
    for (i, raw) in list.into_iter().enumerate() {
        let here = format!("{at}[{i}]");
        let value_at = format!("{here}.value");
        let value = header_value(raw.value, &value_at)?;
        if !is_valid_tag(&value) {
            return Err(ConfigError::new(
                value_at,
                format!("\"{value}\" is not a valid canary value here: use 1 to {MAX_RELEASE_NAME_LEN} of a-z, A-Z, 0-9, '-' and '_' (it names metrics)"),
            ));
        }
        if value == baseline {
            return Err(ConfigError::new(
                value_at,
                format!("must differ from baseline (both are \"{value}\")"),
            ));
        }
        if let Some(first) = canaries
            .iter()
            .find(|c| same_prometheus_name(&c.value, &value))
        {
            return Err(ConfigError::new(
                value_at,
                format!(
                    "\"{}\" is used twice (counting '-' and '_' as one, as Prometheus does); canary values must be unique",
                    first.value
                ),
            ));
        }
        let lane = lane_name(raw.lane, &here)?;
        if lane.is_some() && canaries.iter().any(|c| c.lane == lane) {
            return Err(ConfigError::new(
                format!("{here}.lane"),
                "is another canary's lane too; a lane holds one version of a release",
            ));
        }
        canaries.push(Canary {
            value,
            rule: compile_rule(raw.rule, &here)?,
            weight_bp: weight_basis_points(raw.weight, &format!("{here}.weight"))?,
            lane,
        });
    }
    let sum: u32 = canaries.iter().map(|c| c.weight_bp).sum();
    if sum > crate::bucket::BUCKETS {
        return Err(ConfigError::new(
            at,
            format!(
                "the weights sum to {}; they may sum to at most {}%",
                validation::percent_text(sum),
                validation::WEIGHT_MAX_PERCENT
            ),
        ));
    }
    let mut canaries = canaries.into_iter();
    let first = canaries
        .next()
        .ok_or_else(|| ConfigError::new(at, "at least one canary is required"))?;
    Ok(Canaries::new(first, canaries.collect()))
}

/// The rule's fields of a release or a canary at `at`; `None` when there is
/// neither a path nor a condition.
fn compile_rule(raw: RawRule, at: &str) -> Result<Option<Rule>> {
    let field = |name: &str| format!("{at}.{name}");
    let mode = match raw.mode.as_deref() {
        None | Some("all") => Mode::All,
        Some("any") => Mode::Any,
        Some(other) => {
            return Err(ConfigError::new(
                field("mode"),
                format!("unknown mode \"{other}\", expected \"all\" or \"any\""),
            ))
        }
    };
    let path = raw
        .path
        .map(|p| compile_path(p, &field("path")))
        .transpose()?;
    let raw_conditions = raw.conditions.unwrap_or_default();
    if raw_conditions.len() > MAX_CONDITIONS {
        return Err(ConfigError::new(
            field("conditions"),
            format!(
                "{} conditions; the limit is {MAX_CONDITIONS}",
                raw_conditions.len()
            ),
        ));
    }
    let mut conditions = Vec::with_capacity(raw_conditions.len());
    for (c, raw) in raw_conditions.into_iter().enumerate() {
        conditions.push(compile_condition(raw, &format!("{at}.conditions[{c}]"))?);
    }
    Ok((path.is_some() || !conditions.is_empty()).then_some(Rule {
        path,
        mode,
        conditions,
    }))
}

/// A routing value: visible ASCII, so it is a valid header value, cluster
/// name and Istio match value alike.
pub(super) fn header_value(value: String, at: &str) -> Result<String> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::new(
            at,
            format!("\"{value}\" must be non-empty visible ASCII without spaces (it is written as a header value)"),
        ));
    }
    Ok(value)
}

fn compile_path(raw: RawPath, at: &str) -> Result<PathMatch> {
    match (raw.exact, raw.prefix, raw.regex) {
        (Some(exact), None, None) => {
            Ok(PathMatch::Exact(slash_path(exact, &format!("{at}.exact"))?))
        }
        (None, Some(prefix), None) => Ok(PathMatch::Prefix(slash_path(
            prefix,
            &format!("{at}.prefix"),
        )?)),
        (None, None, Some(regex)) => Ok(PathMatch::Regex(compile_regex(
            &regex,
            &format!("{at}.regex"),
        )?)),
        _ => Err(ConfigError::new(
            at,
            "set exactly one of \"exact\", \"prefix\" or \"regex\"",
        )),
    }
}

fn slash_path(path: String, at: &str) -> Result<String> {
    if !path.starts_with('/') {
        return Err(ConfigError::new(
            at,
            format!("\"{path}\" must start with '/'"),
        ));
    }
    Ok(path)
}

/// A canary's lane: 1 to 32 of `a-z 0-9 -` (it is a header value).
fn lane_name(lane: Option<String>, at: &str) -> Result<Option<String>> {
    match lane {
        Some(name) if !is_valid_lane_name(&name) => Err(ConfigError::new(
            format!("{at}.lane"),
            "is not a valid lane name: use 1 to 32 of a-z, 0-9 and '-'",
        )),
        lane => Ok(lane),
    }
}

/// The weight as basis points, by the rule tools check it with too.
fn weight_basis_points(weight: Option<Number>, at: &str) -> Result<u32> {
    let Some(number) = weight else { return Ok(0) };
    validation::weight_basis_points(number.as_f64())
        .map_err(|e| ConfigError::new(at, format!("{number} {e}")))
}
