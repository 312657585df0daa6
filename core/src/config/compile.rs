//! Phase two: validate the raw config and precompile it. Every error names
//! its place (`releases[0].conditions[1].op`) and says what would be right.

use super::compiled::{Config, Release, Sticky};
use super::error::{ConfigError, Result};
use super::fields::{cookie_name, header_name, RESERVED_HEADERS};
use super::lanes::compile_lanes;
use super::limits::{MAX_HOSTS_PER_RELEASE, MAX_RELEASES};
use super::raw::{RawConfig, RawRelease, RawSticky};
use super::versions::{compile_versions, header_value, RawVersions};
use crate::hosts::{Claim, HostIndex};
use crate::metric_names::{is_valid_release_name, same_prometheus_name, MAX_RELEASE_NAME_LEN};
use crate::version::{Reason, Version};

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
    number_extra_slots(&mut releases);
    let lanes = compile_lanes(raw.lanes, &releases, &routing_headers)?;
    Ok(Config {
        hosts: index_hosts(&releases)?,
        releases,
        routing_headers,
        lanes,
    })
}

/// The counters of canaries after the first come after every release's
/// fixed block and the no-release counter, release by release, so the
/// two-version form's slots stay where they were.
fn number_extra_slots(releases: &mut [Release]) {
    // As `plan::CounterSlot` counts: a fixed block per release, then one.
    let mut next = releases.len() * Version::COUNT * Reason::COUNT + 1;
    for release in releases.iter_mut() {
        release.first_extra_slot = next;
        next += release.canaries.len().saturating_sub(1) * Reason::COUNT;
    }
    // Then the lane counters (defined only with lanes): each release's
    // baseline's and each of its canaries'.
    for release in releases {
        release.first_lane_slot = next;
        next += 1 + release.canaries.len();
    }
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
    let versions = RawVersions {
        canary: raw.canary,
        canaries: raw.canaries,
        rule: raw.rule,
        weight: raw.weight,
        lane: raw.lane,
    };
    let (canaries, tagged) = compile_versions(versions, &baseline, at)?;
    Ok(Release {
        name,
        hosts,
        header,
        baseline,
        canaries,
        tagged,
        sticky: raw
            .sticky
            .map(|s| compile_sticky(s, &field("sticky")))
            .transpose()?,
        // Set once every release is known (`number_extra_slots`).
        first_extra_slot: 0,
        first_lane_slot: 0,
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
