//! Which plugin configuration a VM serves.
//!
//! Envoy tells the module which plugin (root context) a request belongs to
//! only through `proxy_on_context_create`, a guest call on every request that
//! this filter does not export (see src/lib.rs). So one VM serves one
//! configuration, and this decides what a newly configured plugin may do:
//! share it (the same bytes: Istio's one WasmPlugin on many listeners, or
//! stacked copies), replace it (the same plugin reconfigured: an ECDS or
//! WasmPlugin update), or be refused (another plugin with other settings,
//! which would otherwise silently route by the wrong releases).

/// The configuration a VM serves, and the plugins (by `plugin_name`) that
/// configured it.
#[derive(Debug, Default)]
pub struct Tenancy {
    config: Vec<u8>,
    plugins: Vec<Vec<u8>>,
}

/// What a plugin's configuration does to the VM's.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// No configuration yet, or the same plugin with new settings: replace.
    Replace,
    /// Byte for byte the configuration already served: nothing to compile.
    Share,
    /// Another plugin with another configuration; `holders` are the plugins
    /// whose configuration the VM keeps serving.
    Refuse { holders: Vec<String> },
}

impl Tenancy {
    /// What configuring `plugin` with `config` would do; changes nothing.
    pub fn admit(&self, plugin: &[u8], config: &[u8]) -> Admission {
        if self.plugins.is_empty() || self.plugins.iter().all(|p| p == plugin) {
            if self.config == config && !self.plugins.is_empty() {
                return Admission::Share;
            }
            return Admission::Replace;
        }
        if self.config == config {
            return Admission::Share;
        }
        Admission::Refuse {
            holders: self
                .plugins
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect(),
        }
    }

    /// Records an admitted plugin: after `Replace`, it alone holds `config`.
    pub fn record(&mut self, admission: &Admission, plugin: &[u8], config: &[u8]) {
        match admission {
            Admission::Replace => {
                self.config = config.to_vec();
                self.plugins = vec![plugin.to_vec()];
            }
            Admission::Share => {
                if !self.plugins.iter().any(|p| p == plugin) {
                    self.plugins.push(plugin.to_vec());
                }
            }
            Admission::Refuse { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Configures each (plugin, config) in turn, as Envoy would.
    fn run(steps: &[(&str, &str)]) -> (Tenancy, Vec<Admission>) {
        let mut tenancy = Tenancy::default();
        let mut seen = Vec::new();
        for (plugin, config) in steps {
            let admission = tenancy.admit(plugin.as_bytes(), config.as_bytes());
            tenancy.record(&admission, plugin.as_bytes(), config.as_bytes());
            seen.push(admission);
        }
        (tenancy, seen)
    }

    fn refuse(holders: &[&str]) -> Admission {
        Admission::Refuse {
            holders: holders.iter().map(|h| h.to_string()).collect(),
        }
    }

    /// A named scenario: (plugin, config) steps and what each is admitted as.
    type Scenario = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        Vec<Admission>,
    );

    #[test]
    fn scenarios() {
        use Admission::{Replace, Share};
        let cases: Vec<Scenario> = vec![
            ("first plugin", vec![("a", "1")], vec![Replace]),
            (
                "one plugin on many listeners",
                vec![("a", "1"), ("a", "1"), ("a", "1")],
                vec![Replace, Share, Share],
            ),
            (
                "stacked copies with the same settings",
                vec![("a", "1"), ("b", "1")],
                vec![Replace, Share],
            ),
            (
                "the plugin updated (ECDS), on every listener",
                vec![("a", "1"), ("a", "1"), ("a", "2"), ("a", "2")],
                vec![Replace, Share, Replace, Share],
            ),
            (
                "another plugin, other settings",
                vec![("a", "1"), ("b", "2")],
                vec![Replace, refuse(&["a"])],
            ),
            (
                "one of two sharing plugins updated alone",
                vec![("a", "1"), ("b", "1"), ("a", "2")],
                vec![Replace, Share, refuse(&["a", "b"])],
            ),
            (
                "plugins without a name are one plugin",
                vec![("", "1"), ("", "2")],
                vec![Replace, Replace],
            ),
        ];
        for (name, steps, want) in cases {
            let (_, seen) = run(&steps);
            assert_eq!(seen, want, "{name}");
        }
    }

    #[test]
    fn a_refused_plugin_leaves_the_served_configuration() {
        let (tenancy, _) = run(&[("a", "1"), ("b", "2")]);
        assert_eq!(tenancy.admit(b"a", b"1"), Admission::Share);
        assert_eq!(tenancy.plugins, vec![b"a".to_vec()]);
    }
}
