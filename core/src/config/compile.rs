//! Phase two: validate the raw config and precompile it. Every error names
//! its place (`releases[0].conditions[1].op`) and says what would be right.

use serde_json::Number;

use super::compiled::{Config, Mode, PathMatch, Release, Rule, Sticky};
use super::conditions::compile_condition;
use super::error::{ConfigError, Result};
use super::fields::{compile_regex, cookie_name, header_name};
use super::limits::{MAX_CONDITIONS, MAX_HOSTS_PER_RELEASE, MAX_RELEASES};
use super::raw::{RawConfig, RawPath, RawRelease, RawSticky};
use crate::hosts::{Claim, HostIndex};
use crate::metric_names::{is_valid_release_name, same_prometheus_name, MAX_RELEASE_NAME_LEN};
use crate::validation;

/// Headers whose overwriting would break the request rather than route it.
const RESERVED_HEADERS: [&str; 8] = [
    "host",
    "cookie",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
];

pub fn compile(raw: RawConfig) -> Result<Config> {
    if raw.releases.is_empty() {
        return Err(ConfigError::new(
            "releases",
            "at least one release is required",
        ));
    }
    if raw.releases.len() > MAX_RELEASES {
        return Err(ConfigError::new(
            "releases",
            format!(
                "{} releases; the limit is {MAX_RELEASES}",
                raw.releases.len()
            ),
        ));
    }
    let mut releases: Vec<Release> = Vec::with_capacity(raw.releases.len());
    let mut routing_headers: Vec<String> = Vec::new();
    for (i, raw_release) in raw.releases.into_iter().enumerate() {
        let at = format!("releases[{i}]");
        let release = compile_release(raw_release, &at)?;
        if let Some(first) = releases
            .iter()
            .find(|r| same_prometheus_name(&r.name, &release.name))
        {
            return Err(ConfigError::new(
                format!("{at}.name"),
                format!(
                    "\"{}\" is used twice (counting '-' and '_' as one, as Prometheus does); release names must be unique",
                    first.name
                ),
            ));
        }
        if let Some(catch_all) = releases.iter().find(|r| r.hosts.is_empty()) {
            let message = if release.hosts.is_empty() {
                format!(
                    "release \"{}\" also has no hosts; only one release may cover every host",
                    catch_all.name
                )
            } else {
                format!(
                    "release \"{}\" comes after \"{}\", which covers every host, so it would never be used; put the release without hosts last",
                    release.name, catch_all.name
                )
            };
            return Err(ConfigError::new(
                if release.hosts.is_empty() {
                    format!("{at}.hosts")
                } else {
                    at
                },
                message,
            ));
        }
        if !routing_headers.contains(&release.header) {
            routing_headers.push(release.header.clone());
        }
        releases.push(release);
    }
    Ok(Config {
        hosts: index_hosts(&releases)?,
        releases,
        routing_headers,
    })
}

/// The host index over every release; overlapping claims are errors at
/// the later release's host.
fn index_hosts(releases: &[Release]) -> Result<HostIndex> {
    let name_of = |i: usize| releases.get(i).map(|r| r.name.as_str()).unwrap_or("?");
    let claims = releases.iter().enumerate().flat_map(|(release, r)| {
        r.hosts
            .iter()
            .enumerate()
            .map(move |(position, pattern)| Claim {
                pattern,
                release,
                position,
            })
    });
    let catch_all = releases.iter().position(|r| r.hosts.is_empty());
    HostIndex::build(claims, catch_all).map_err(|clash| {
        ConfigError::new(
            format!("releases[{}].hosts[{}]", clash.release, clash.position),
            format!(
                "\"{}\" overlaps \"{}\" of release \"{}\"; a host may belong to one release only",
                clash.pattern,
                clash.other_pattern,
                name_of(clash.other)
            ),
        )
    })
}

fn compile_release(raw: RawRelease, at: &str) -> Result<Release> {
    let field = |name: &str| format!("{at}.{name}");
    let name = check_release_name(raw.name, &field("name"))?;
    let hosts = compile_hosts(raw.hosts.unwrap_or_default(), &field("hosts"))?;
    let header = header_name(&raw.header, &field("header"))?;
    if RESERVED_HEADERS.contains(&header.as_str()) {
        return Err(ConfigError::new(
            field("header"),
            format!("\"{header}\" cannot be a routing header; choose a name of your own, such as x-canary"),
        ));
    }
    let baseline = header_value(raw.baseline, &field("baseline"))?;
    let canary = header_value(raw.canary, &field("canary"))?;
    if baseline == canary {
        return Err(ConfigError::new(
            field("canary"),
            format!("must differ from baseline (both are \"{canary}\")"),
        ));
    }
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
    let rule = (path.is_some() || !conditions.is_empty()).then_some(Rule {
        path,
        mode,
        conditions,
    });
    Ok(Release {
        name,
        hosts,
        header,
        baseline,
        canary,
        rule,
        weight_bp: weight_basis_points(raw.weight, &field("weight"))?,
        sticky: raw
            .sticky
            .map(|s| compile_sticky(s, &field("sticky")))
            .transpose()?,
    })
}

fn check_release_name(name: String, at: &str) -> Result<String> {
    if !is_valid_release_name(&name) {
        return Err(ConfigError::new(
            at,
            format!("\"{name}\" is not a valid release name: use 1 to {MAX_RELEASE_NAME_LEN} of a-z, A-Z, 0-9, '-' and '_' (it names metrics)"),
        ));
    }
    Ok(name)
}

fn compile_hosts(raw: Vec<String>, at: &str) -> Result<Vec<String>> {
    if raw.len() > MAX_HOSTS_PER_RELEASE {
        return Err(ConfigError::new(
            at,
            format!("{} hosts; the limit is {MAX_HOSTS_PER_RELEASE}", raw.len()),
        ));
    }
    let mut hosts = Vec::with_capacity(raw.len());
    let mut every_host = false;
    for (h, host) in raw.into_iter().enumerate() {
        let host = host.to_ascii_lowercase();
        if host == "*" {
            every_host = true;
            continue;
        }
        let name = host.strip_prefix("*.").unwrap_or(&host);
        let ipv6 = name.starts_with('[') && name.ends_with(']') && name.len() > 2;
        let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_';
        let ok = !name.is_empty()
            && !name.starts_with('.')
            && !name.ends_with('.')
            && (ipv6 || name.chars().all(valid));
        if !ok {
            let hint = if name.contains(':') && !ipv6 {
                " (leave out the port)"
            } else {
                ""
            };
            return Err(ConfigError::new(
                format!("{at}[{h}]"),
                format!("\"{host}\" is not a host name or \"*.\" wildcard{hint}"),
            ));
        }
        hosts.push(host);
    }
    // "*" means every host, like no `hosts` at all; the rest are still checked.
    if every_host {
        hosts.clear();
    }
    Ok(hosts)
}

/// A routing value: visible ASCII, so it is a valid header value, cluster
/// name and Istio match value alike.
fn header_value(value: String, at: &str) -> Result<String> {
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

fn compile_sticky(raw: RawSticky, at: &str) -> Result<Sticky> {
    match (raw.header, raw.cookie) {
        (Some(header), None) => Ok(Sticky::Header(header_name(
            &header,
            &format!("{at}.header"),
        )?)),
        (None, Some(cookie)) => Ok(Sticky::Cookie(cookie_name(
            cookie,
            &format!("{at}.cookie"),
        )?)),
        _ => Err(ConfigError::new(
            at,
            "set exactly one of \"header\" or \"cookie\"",
        )),
    }
}

/// The weight as basis points, by the rule tools check it with too.
fn weight_basis_points(weight: Option<Number>, at: &str) -> Result<u32> {
    let Some(number) = weight else { return Ok(0) };
    validation::weight_basis_points(number.as_f64().unwrap_or(f64::NAN))
        .map_err(|e| ConfigError::new(at, format!("{number} {e}")))
}
