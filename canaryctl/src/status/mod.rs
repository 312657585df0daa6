//! `status`: the live split per release, from the filter's counters in
//! Envoy's admin `/stats`; with `--watch`, refreshed in place and with the
//! split over the last interval beside the totals.

pub mod health;
pub mod stats;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::admin::{regex_literal, stats_path, Admin};
use crate::error::{CliError, Result};
use stats::{Counters, ReleaseCounts};

/// What `status` is asked to do.
#[derive(Debug, Clone)]
pub struct StatusOptions {
    pub admin: Admin,
    /// Refresh in place, showing the split over each interval too.
    pub watch: bool,
    pub interval: Duration,
    /// With `watch`: stop after this many refreshes.
    pub count: Option<u64>,
    pub json: bool,
}

/// The filter's counters, read once from Envoy's admin.
pub fn fetch(admin: &Admin) -> Result<Counters> {
    let filter_stats = format!("^{}", regex_literal(canary_core::STATS_PREFIX));
    admin
        .get(&stats_path(&filter_stats))
        .map(|body| Counters::parse(&body))
        .map_err(CliError::new)
}

fn cell(count: u64, total: u64) -> String {
    let share = if total == 0 {
        0.0
    } else {
        count as f64 / total as f64 * 100.0
    };
    format!("{count} ({share:.1}%)")
}

fn release_columns(counts: &ReleaseCounts) -> String {
    let total = counts.total();
    format!(
        "{:>20} {:>20} {:>9}",
        cell(counts.baseline.total(), total),
        cell(counts.canary.total(), total),
        total
    )
}

/// The table for one sample; `interval` adds the last interval's columns.
pub fn render(now: &Counters, interval: Option<(&Counters, f64)>) -> Vec<String> {
    if now.releases.is_empty() {
        return vec![format!(
            "no canary counters yet (the filter defines them when its config loads; no_release {})",
            now.no_release
        )];
    }
    let width = now
        .releases
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(7);
    let mut header = format!(
        "{:<width$} {:>20} {:>20} {:>9}",
        "release", "baseline", "canary", "total"
    );
    if let Some((_, seconds)) = interval {
        let last = format!("last {}s:", (seconds * 100.0).round() / 100.0);
        header.push_str(&format!(
            "   {last:<8}{:>20} {:>20} {:>9}",
            "baseline", "canary", "total"
        ));
    }
    let mut lines = vec![header];
    for (name, counts) in &now.releases {
        let mut line = format!("{name:<width$} {}", release_columns(counts));
        if let Some((delta, _)) = interval {
            let recent = delta.releases.get(name).copied().unwrap_or_default();
            line.push_str(&format!("   {:<8}{}", "", release_columns(&recent)));
        }
        lines.push(line);
        // Several canaries: one line each, under the release's.
        for (tag, counts) in now.tags.get(name).into_iter().flatten() {
            let total = counts.total();
            let mut line = format!(
                "{:<width$} {:>20} {:>20} {:>9}",
                format!("  {tag}"),
                "",
                cell(
                    total,
                    now.releases.get(name).map_or(0, ReleaseCounts::total)
                ),
                ""
            );
            if let Some((delta, _)) = interval {
                let recent = delta
                    .tags
                    .get(name)
                    .and_then(|t| t.get(tag))
                    .map_or(0, |c| c.total());
                let of = delta.releases.get(name).map_or(0, ReleaseCounts::total);
                line.push_str(&format!(
                    "   {:<8}{:>20} {:>20} {:>9}",
                    "",
                    "",
                    cell(recent, of),
                    ""
                ));
            }
            lines.push(line.trim_end().to_string());
        }
    }
    let mut footer = format!("requests no release covers: {}", now.no_release);
    if let Some((delta, _)) = interval {
        footer.push_str(&format!(" ({} in the last interval)", delta.no_release));
    }
    lines.push(footer);
    if now.refused_plugin > 0 {
        lines.push(format!(
            "warning: {} plugin configuration(s) refused: a plugin would share a VM with \
             other settings, and Envoy skips it (see Envoy's log)",
            now.refused_plugin
        ));
    }
    lines
}

/// Redraws a block of `previous` lines in place: cursor up, then each line
/// cleared before it is written, then anything below cleared.
pub fn redraw(previous: usize, lines: &[String]) -> String {
    let mut out = String::new();
    if previous > 0 {
        out.push_str(&format!("\x1b[{previous}A"));
    }
    for line in lines {
        out.push_str("\r\x1b[2K");
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("\x1b[J");
    out
}

fn json_text(report: &stats::CountersReport) -> Result<String> {
    serde_json::to_string(report).map_err(|e| CliError::new(e.to_string()))
}

pub fn run(args: &StatusOptions, out: &mut dyn Write) -> Result<()> {
    let admin = &args.admin;
    let first = fetch(admin)?;
    if !args.watch {
        if args.json {
            writeln!(out, "{}", json_text(&first.report())?)?;
        } else {
            writeln!(out, "{}", render(&first, None).join("\n"))?;
        }
        return Ok(());
    }
    let mut screen = Screen {
        in_place: !args.json && std::io::stdout().is_terminal(),
        drawn: 0,
    };
    let seconds = args.interval.as_secs_f64();
    let show =
        |sample: &Counters, delta: Option<&Counters>, screen: &mut Screen, out: &mut dyn Write| {
            if args.json {
                let mut report = sample.report();
                if let Some(delta) = delta {
                    report.interval = Some(Box::new(delta.report()));
                    report.interval_seconds = Some(seconds);
                }
                screen.print(out, &[json_text(&report)?])
            } else {
                screen.print(out, &render(sample, delta.map(|d| (d, seconds))))
            }
        };
    let mut previous = first;
    show(&previous, None, &mut screen, out)?;
    let mut shown: u64 = 1;
    while args.count.map_or(true, |count| shown < count) {
        std::thread::sleep(args.interval);
        match fetch(admin) {
            Ok(sample) => {
                let delta = sample.since(&previous);
                show(&sample, Some(&delta), &mut screen, out)?;
                previous = sample;
            }
            // Keep watching through an Envoy restart; say so in place.
            Err(error) => screen.print(out, &[format!("{error}; retrying every {seconds}s")])?,
        }
        shown += 1;
    }
    Ok(())
}

/// Where `--watch` output goes: redrawn in place on a terminal, appended
/// (one block per sample) anywhere else.
struct Screen {
    in_place: bool,
    /// Lines of the block on screen now.
    drawn: usize,
}

impl Screen {
    fn print(&mut self, out: &mut dyn Write, lines: &[String]) -> Result<()> {
        if self.in_place {
            write!(out, "{}", redraw(self.drawn, lines))?;
        } else {
            writeln!(out, "{}", lines.join("\n"))?;
            if lines.len() > 1 {
                writeln!(out)?;
            }
        }
        self.drawn = lines.len();
        out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tagged_canary_has_a_line_under_its_release() {
        let now = Counters::parse("wasmcustom.canary.pay.baseline.weight: 70\nwasmcustom.canary.pay.tag.v2.rule: 20\nwasmcustom.canary.pay.tag.v3.weight: 10\n");
        let lines = render(&now, None);
        assert!(
            lines[1].contains("70 (70.0%)") && lines[1].contains("30 (30.0%)"),
            "{lines:?}"
        );
        assert!(
            lines[2].starts_with("  v2") && lines[2].contains("20 (20.0%)"),
            "{lines:?}"
        );
        assert!(
            lines[3].starts_with("  v3") && lines[3].contains("10 (10.0%)"),
            "{lines:?}"
        );
        let later = Counters::parse("wasmcustom.canary.pay.baseline.weight: 70\nwasmcustom.canary.pay.tag.v2.rule: 20\nwasmcustom.canary.pay.tag.v3.weight: 20\n");
        let delta = later.since(&now);
        let lines = render(&later, Some((&delta, 2.0)));
        assert!(lines[3].ends_with("10 (100.0%)"), "{lines:?}");
    }

    #[test]
    fn table_and_interval_columns() {
        let now = Counters::parse("wasmcustom.canary.pay.baseline.weight: 80\nwasmcustom.canary.pay.canary.rule: 20\nwasmcustom.canary.no_release: 2\n");
        let lines = render(&now, None);
        assert!(lines[0].starts_with("release"));
        assert!(
            lines[1].contains("80 (80.0%)") && lines[1].contains("20 (20.0%)"),
            "{lines:?}"
        );
        assert_eq!(lines[2], "requests no release covers: 2");
        let delta = now.since(&Counters::default());
        let lines = render(&now, Some((&delta, 2.0)));
        assert!(lines[0].contains("last 2s:"));
        assert_eq!(lines[1].matches("80 (80.0%)").count(), 2);
        assert!(render(&Counters::default(), None)[0].starts_with("no canary counters yet"));
    }

    #[test]
    fn a_refused_plugin_is_a_warning_line() {
        let text =
            "wasmcustom.canary.pay.baseline.weight: 1\nwasmcustom.canary.refused_plugin: 1\n";
        let lines = render(&Counters::parse(text), None);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[3].starts_with("warning: 1 plugin configuration(s) refused"));
        let quiet = render(
            &Counters::parse("wasmcustom.canary.pay.baseline.weight: 1\n"),
            None,
        );
        assert!(!quiet.iter().any(|l| l.starts_with("warning")), "{quiet:?}");
    }

    #[test]
    fn redraw_moves_up_and_clears_each_line() {
        let lines = vec!["a".to_string(), "b".to_string()];
        assert_eq!(redraw(0, &lines), "\r\x1b[2Ka\n\r\x1b[2Kb\n\x1b[J");
        assert!(redraw(3, &lines).starts_with("\x1b[3A\r\x1b[2Ka\n"));
    }
}
