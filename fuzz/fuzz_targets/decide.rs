//! A fixed, realistic config and arbitrary requests: any host, path,
//! headers, cookie and query bytes. The decision must never panic, must be
//! a function of the request and the roll, and must use the roll only when
//! neither the rule nor a sticky key decides.
//!
//! The seeds in fuzz/corpus/decide are `Input`s in arbitrary 1.5's encoding:
//! each byte of a `Vec<u8>` preceded by a 1 and the list closed by a 0, each
//! header pair preceded by a 1 and the list closed by a 0, a `Name` as a
//! little-endian u32 (variant i of 10 is ceil(i * 2^32 / 10)), the roll as
//! two little-endian bytes.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use canary_core::{bucket, decide, landing, Config, Reason, Request, Version, BUCKETS};
use libfuzzer_sys::fuzz_target;

const CONFIG: &str = r#"{"releases":[
  {"name":"pay-service","hosts":["pay-service","*.pay.example.com"],"header":"x-canary-cluster",
   "baseline":"pay-v1","canary":"pay-v2","path":{"regex":"/pay(/[a-z0-9-]+)*"},"mode":"all",
   "conditions":[{"header":"env","op":"equals","value":"test"},{"cookie":"beta","op":"present"},
     {"query":"uid","op":"not_in","values":["1","2"]},{"header":"age","op":"ge","value":18}],
   "weight":20,"sticky":{"header":"x-user-id"}},
  {"name":"search","hosts":["search","[::1]"],"header":"x-canary-version","baseline":"v1","canary":"v2",
   "mode":"any","conditions":[{"query":"uid","op":"in","values":["1001","1002"]},
     {"header":"user-agent","op":"regex","value":"(a|aa)*b"},{"header":"x-beta","op":"present"},
     {"header":"env","op":"prefix","value":"te"},{"header":"env","op":"suffix","value":"st"},
     {"header":"env","op":"contains","value":"es"},{"header":"age","op":"lt","value":1e3},
     {"cookie":"uid","op":"percent","value":30},{"header":"x-none","op":"absent"}],
   "weight":33.33,"sticky":{"cookie":"uid"}},
  {"name":"shop","header":"x-canary-version","baseline":"s1","canary":"s2","path":{"prefix":"/shop"},
   "conditions":[{"header":"env","op":"not_equals","value":"prod"}],"weight":100}
]}"#;

/// Header names the config reads, so the fuzzer hits them often.
#[derive(Arbitrary, Debug)]
enum Name {
    Env,
    Age,
    UserId,
    UserAgent,
    Beta,
    Cookie,
    Authority,
    Path,
    Host,
    Other(Vec<u8>),
}

impl Name {
    fn bytes(&self) -> &[u8] {
        match self {
            Name::Env => b"env",
            Name::Age => b"AGE",
            Name::UserId => b"x-user-id",
            Name::UserAgent => b"user-agent",
            Name::Beta => b"x-beta",
            Name::Cookie => b"cookie",
            Name::Authority => b":authority",
            Name::Path => b":path",
            Name::Host => b"host",
            Name::Other(name) => name,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    authority: Vec<u8>,
    path: Vec<u8>,
    query: Vec<u8>,
    cookie: Vec<u8>,
    headers: Vec<(Name, Vec<u8>)>,
    roll: u16,
}

fn config() -> &'static Config {
    static CONFIG_ONCE: OnceLock<Config> = OnceLock::new();
    CONFIG_ONCE
        .get_or_init(|| Config::from_json(CONFIG.as_bytes()).expect("the fixed config is valid"))
}

fuzz_target!(|input: Input| {
    let config = config();
    let mut full_path = input.path.clone();
    full_path.push(b'?');
    full_path.extend_from_slice(&input.query);
    let mut pairs: Vec<(&[u8], &[u8])> = vec![
        (b":authority", &input.authority),
        (b":path", &full_path),
        (b"cookie", &input.cookie),
    ];
    pairs.extend(input.headers.iter().map(|(n, v)| (n.bytes(), v.as_slice())));
    let request = Request::new(&pairs);
    let roll = u32::from(input.roll) % BUCKETS;

    let Some(outcome) = decide(config, &request, roll) else {
        panic!("the last release covers every host");
    };
    let release = outcome.release;
    // The same request and roll, the same answer.
    let again = decide(config, &request, roll).map(|o| (o.index, o.version, o.reason));
    assert_eq!(
        again,
        Some((outcome.index, outcome.version, outcome.reason))
    );
    let weights = release.canaries.iter().map(|c| c.weight_bp);
    match outcome.reason {
        Reason::Rule => assert_eq!(outcome.version, Version::Canary),
        Reason::Sticky => {
            let key = match &release.sticky {
                Some(canary_core::Sticky::Header(name)) => {
                    request.header(name.as_bytes()).map(|k| k.into_owned())
                }
                Some(canary_core::Sticky::Cookie(name)) => {
                    request.cookie(name.as_bytes()).map(<[u8]>::to_vec)
                }
                None => None,
            };
            let key = key.expect("a sticky decision has a key");
            let lands = landing(bucket(&release.name, &key), weights);
            assert_eq!(outcome.version == Version::Canary, lands.is_some());
        }
        Reason::Weight => {
            assert_eq!(
                outcome.version == Version::Canary,
                landing(roll, weights).is_some()
            );
        }
        // Only a request that carries a lane: that lane's canary, else the
        // baseline.
        Reason::Lane => {
            let lanes = config.lanes.as_ref().expect("a lane decision needs lanes");
            let lane = lanes.carried(&request).expect("a lane decision has a lane");
            let in_lane = release.canaries.in_lane(lane);
            assert_eq!(outcome.version == Version::Canary, in_lane.is_some());
        }
    }
    // The roll only matters when the weight decides.
    let other_roll = (roll + BUCKETS / 2) % BUCKETS;
    let other = decide(config, &request, other_roll).map(|o| (o.index, o.reason));
    assert_eq!(other, Some((outcome.index, outcome.reason)));
    if outcome.reason != Reason::Weight {
        let version = decide(config, &request, other_roll).map(|o| o.version);
        assert_eq!(version, Some(outcome.version));
    }
});
