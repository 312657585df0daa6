//! Configs built to hurt: deep nesting, huge arrays, oversized documents,
//! regexes that explode when compiled, thousands of releases, long names.
//! Each must be refused with a message that names the limit, and parsing
//! must stay bounded in memory. The limits (core/src/config/limits.rs, and
//! the regex engine's in core/src/regex/mod.rs):
//!
//! | what                           | limit     |
//! |--------------------------------|-----------|
//! | config document                | 512 KiB   |
//! | JSON nesting                   | 128 deep (serde_json) |
//! | releases                       | 1000      |
//! | hosts per release              | 100       |
//! | conditions per release         | 32        |
//! | values of an in/not_in list    | 10000     |
//! | regex source                   | 1024 bytes, groups 32 deep, `{n}` up to 1000, 10,000 instructions compiled |
//! | release name                   | 64 characters |

#![allow(clippy::panic)] // A test file: a failed expectation panics.

use canary_core::{Config, MAX_CONFIG_BYTES};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn error_of(json: &str) -> String {
    match Config::from_json(json.as_bytes()) {
        Ok(_) => panic!("accepted a {} byte config", json.len()),
        Err(e) => e.to_string(),
    }
}

/// One release with `extra` fields appended.
fn one_release(extra: &str) -> String {
    format!(
        r#"{{"releases":[{{"name":"pay","hosts":["pay"],"header":"x-canary","baseline":"v1","canary":"v2"{extra}}}]}}"#
    )
}

fn regex_condition(pattern: &str) -> String {
    let pattern = serde_json::Value::from(pattern).to_string();
    one_release(&format!(
        r#","conditions":[{{"header":"user-agent","op":"regex","value":{pattern}}}]"#
    ))
}

/// `n` releases, each with a host of its own.
fn releases(n: usize) -> String {
    let list: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"name":"r{i}","hosts":["h{i}"],"header":"x","baseline":"a","canary":"b"}}"#
            )
        })
        .collect();
    format!(r#"{{"releases":[{}]}}"#, list.join(","))
}

/// `json` padded with trailing spaces to exactly `size` bytes.
fn padded(json: &str, size: usize) -> String {
    format!("{json}{}", " ".repeat(size - json.len()))
}

#[test]
fn deep_nesting_is_refused_wherever_it_is() {
    let arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        error_of(&arrays),
        "not valid JSON: recursion limit exceeded at line 1 column 128"
    );
    let objects = format!("{}1{}", r#"{"a":"#.repeat(50_000), "}".repeat(50_000));
    assert_eq!(
        error_of(&objects),
        "not valid JSON: recursion limit exceeded at line 1 column 636"
    );
    let in_a_value = one_release(&format!(
        r#","conditions":[{{"header":"a","op":"equals","value":{}"x"{}}}]"#,
        "[".repeat(1_000),
        "]".repeat(1_000)
    ));
    assert!(
        error_of(&in_a_value).starts_with("not valid JSON: recursion limit exceeded at line 1"),
        "{}",
        error_of(&in_a_value)
    );
    // Deep but within the parser's limit: the field's own check answers.
    let shallow = one_release(&format!(
        r#","conditions":[{{"header":"a","op":"equals","value":{}"x"{}}}]"#,
        "[".repeat(100),
        "]".repeat(100)
    ));
    assert_eq!(
        error_of(&shallow),
        "releases[0].conditions[0].value: operator \"equals\" needs a string, got an array; quote numbers, as in \"1001\""
    );
}

#[test]
fn huge_arrays_are_refused_by_count() {
    let values = vec!["\"1\""; 100_000].join(",");
    let in_list = one_release(&format!(
        r#","conditions":[{{"query":"uid","op":"in","values":[{values}]}}]"#
    ));
    assert_eq!(
        error_of(&in_list),
        "releases[0].conditions[0].values: 100000 values; the limit is 10000"
    );

    let hosts = vec!["\"a\""; 100_000].join(",");
    let many_hosts = format!(
        r#"{{"releases":[{{"name":"pay","hosts":[{hosts}],"header":"x","baseline":"a","canary":"b"}}]}}"#
    );
    assert_eq!(
        error_of(&many_hosts),
        "releases[0].hosts: 100000 hosts; the limit is 100"
    );

    let conditions = vec![r#"{"header":"a","op":"present"}"#; 10_000].join(",");
    let many_conditions = one_release(&format!(r#","conditions":[{conditions}]"#));
    assert_eq!(
        error_of(&many_conditions),
        "releases[0].conditions: 10000 conditions; the limit is 32"
    );
}

#[test]
fn the_size_limit_is_exact_and_checked_before_parsing() {
    let valid = releases(1);
    assert!(Config::from_json(padded(&valid, MAX_CONFIG_BYTES).as_bytes()).is_ok());
    assert_eq!(
        error_of(&padded(&valid, MAX_CONFIG_BYTES + 1)),
        "the plugin configuration is 524289 bytes; the limit is 524288"
    );
    // A megabyte that is not even JSON: refused by size, not by the parser.
    let megabyte = format!("{{{}", "\"".repeat(1024 * 1024 - 1));
    assert_eq!(
        error_of(&megabyte),
        "the plugin configuration is 1048576 bytes; the limit is 524288"
    );
}

#[test]
fn regexes_that_blow_up_are_refused() {
    // Counted repetition multiplies the compiled program: 10^6 states.
    let repeated = error_of(&regex_condition("(a{1000}){1000}"));
    let at = "releases[0].conditions[0].value: ";
    assert!(
        repeated.starts_with(&format!("{at}invalid regex \"(a{{1000}}){{1000}}\": ")),
        "{repeated}"
    );

    // Nested stars 100 deep: refused by the nesting limit.
    let nested = format!("{}a*{}", "(".repeat(100), ")*".repeat(100));
    let got = error_of(&regex_condition(&nested));
    assert!(
        got.starts_with(&format!("{at}invalid regex \"{nested}\": ")),
        "{got}"
    );

    // Long sources are refused before compiling, in conditions and paths.
    let long = "a".repeat(1025);
    assert_eq!(
        error_of(&regex_condition(&long)),
        format!("{at}regex is 1025 bytes; the limit is 1024")
    );
    let long_path = one_release(&format!(r#","path":{{"regex":"/{}"}}"#, "a".repeat(1024)));
    assert_eq!(
        error_of(&long_path),
        "releases[0].path.regex: regex is 1025 bytes; the limit is 1024"
    );

    // At the limits, a plain regex compiles.
    let at_limit = format!("{}a{}", "(".repeat(20), ")".repeat(20));
    assert!(Config::from_json(regex_condition(&at_limit).as_bytes()).is_ok());
}

#[test]
fn release_count_is_limited() {
    assert!(Config::from_json(releases(1000).as_bytes()).is_ok());
    assert_eq!(
        error_of(&releases(1001)),
        "releases: 1001 releases; the limit is 1000"
    );
    // Ten thousand releases do not fit in the size limit at all.
    let ten_thousand = releases(10_000);
    assert_eq!(
        error_of(&ten_thousand),
        format!(
            "the plugin configuration is {} bytes; the limit is 524288",
            ten_thousand.len()
        )
    );
}

#[test]
fn long_release_names_are_refused() {
    let name = |n: usize| {
        format!(
            r#"{{"releases":[{{"name":"{}","header":"x","baseline":"a","canary":"b"}}]}}"#,
            "n".repeat(n)
        )
    };
    assert!(Config::from_json(name(64).as_bytes()).is_ok());
    assert_eq!(
        error_of(&name(65)),
        format!(
            "releases[0].name: \"{}\" is not a valid release name: use 1 to 64 of a-z, A-Z, 0-9, '-' and '_' (it names metrics)",
            "n".repeat(65)
        )
    );
}

/// Peak heap of parsing configs at the size limit, built to inflate the
/// most per byte. Native only: it counts through the global allocator.
#[cfg(not(target_arch = "wasm32"))]
mod memory {
    use super::*;
    use canary_core::Config;

    #[global_allocator]
    static ALLOCATOR: heap::Counting = heap::Counting;

    /// Generous against the ~20x seen (serde_json values, then the
    /// compiled sets); what matters is that it is bounded at all.
    const BOUND: usize = 64 * MAX_CONFIG_BYTES;

    fn peak_heap_of(json: &str) -> usize {
        assert!(json.len() <= MAX_CONFIG_BYTES, "{} bytes", json.len());
        heap::measure(|| drop(Config::from_json(json.as_bytes())))
    }

    #[test]
    fn parsing_at_the_size_limit_stays_bounded() {
        // The most one-character strings that fit, in 17 in-lists of 10,000.
        let list = format!(
            r#"{{"header":"a","op":"in","values":[{}]}}"#,
            vec!["\"\""; 10_000].join(",")
        );
        let lists = vec![list; 17].join(",");
        let values = format!(
            r#"{{"releases":[{{"name":"pay","header":"x","baseline":"a","canary":"b","conditions":[{lists}]}}]}}"#
        );
        // Empty arrays and objects: the smallest JSON values there are.
        let arrays = one_release(&format!(
            r#","conditions":[{{"header":"a","op":"in","values":[{}]}}]"#,
            vec!["[]"; 170_000].join(",")
        ));
        let objects = one_release(&format!(
            r#","conditions":[{{"header":"a","op":"in","values":[{}]}}]"#,
            vec!["{}"; 170_000].join(",")
        ));
        for (name, json) in [("values", values), ("arrays", arrays), ("objects", objects)] {
            let peak = peak_heap_of(&json);
            assert!(
                peak <= BOUND,
                "{name}: {} bytes peaked at {peak}",
                json.len()
            );
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        // Per thread, so tests running in parallel do not blur the figure.
        static LIVE: Cell<usize> = const { Cell::new(0) };
        static PEAK: Cell<usize> = const { Cell::new(0) };
    }

    fn grow(by: usize) {
        let _ = LIVE.try_with(|live| {
            live.set(live.get() + by);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
        });
    }

    fn shrink(by: usize) {
        let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(by)));
    }

    pub struct Counting;

    // SAFETY: defers every allocation to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            grow(layout.size());
            System.alloc(layout)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            shrink(layout.size());
            System.dealloc(ptr, layout)
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            grow(new_size);
            shrink(layout.size());
            System.realloc(ptr, layout, new_size)
        }
    }

    /// The most heap `work` held at once on this thread, in bytes.
    pub fn measure(work: impl FnOnce()) -> usize {
        let base = LIVE.with(Cell::get);
        PEAK.with(|peak| peak.set(base));
        work();
        PEAK.with(Cell::get) - base
    }
}
