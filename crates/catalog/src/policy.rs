//! The operator's delivery policy (`policy:` in `HERALD_CONFIG`): which hosts
//! connectors may reach, which connector types are enabled and which e-mail
//! domains may receive mail. The registry checks it when an account is saved;
//! ingest and workers check it again at send time.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Host names a connector may reach: exact names, `*.example.com`
    /// wildcards (any subdomain, not the apex), or `*` for every host.
    /// An empty list allows none, as in Kibana.
    #[serde(default = "everything")]
    pub allowed_hosts: Vec<String>,
    /// Connector type ids that may be used; `*` enables all.
    #[serde(default = "everything")]
    pub enabled_connector_types: Vec<String>,
    #[serde(default)]
    pub email: EmailPolicy,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailPolicy {
    /// Domains e-mail may be sent to or from. Empty means no restriction.
    #[serde(default)]
    pub domain_allowlist: Vec<String>,
}

fn everything() -> Vec<String> {
    vec!["*".to_owned()]
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed_hosts: everything(),
            enabled_connector_types: everything(),
            email: EmailPolicy::default(),
        }
    }
}

impl Policy {
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allowed_hosts.iter().any(|pattern| {
            let pattern = pattern.to_ascii_lowercase();
            match pattern.strip_prefix("*.") {
                _ if pattern == "*" => true,
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1),
                None => host == pattern,
            }
        })
    }

    /// `connector_type` is the canonical id, without the leading dot.
    pub fn type_enabled(&self, connector_type: &str) -> bool {
        self.enabled_connector_types
            .iter()
            .any(|t| t == "*" || t.trim_start_matches('.') == connector_type)
    }

    pub fn allows_email_domain(&self, domain: &str) -> bool {
        let allow = &self.email.domain_allowlist;
        allow.is_empty()
            || allow.iter().any(|d| {
                d.trim_end_matches('.')
                    .eq_ignore_ascii_case(domain.trim_end_matches('.'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> Policy {
        Policy {
            allowed_hosts: list.iter().map(|s| s.to_string()).collect(),
            ..Policy::default()
        }
    }

    #[test]
    fn host_patterns() {
        let p = hosts(&["hooks.slack.com", "*.example.com"]);
        assert!(p.allows_host("hooks.slack.com"));
        assert!(p.allows_host("HOOKS.slack.com."));
        assert!(p.allows_host("a.example.com"));
        assert!(p.allows_host("a.b.example.com"));
        assert!(!p.allows_host("example.com"));
        assert!(!p.allows_host("evilexample.com"));
        assert!(!p.allows_host("slack.com"));
        assert!(hosts(&["*"]).allows_host("anything.test"));
        assert!(!hosts(&[]).allows_host("anything.test"));
    }

    #[test]
    fn types_and_domains() {
        let mut p = Policy::default();
        assert!(p.type_enabled("email"));
        p.enabled_connector_types = vec![".slack".into(), "email".into()];
        assert!(p.type_enabled("slack") && p.type_enabled("email"));
        assert!(!p.type_enabled("webhook"));
        assert!(p.allows_email_domain("anything.test"));
        p.email.domain_allowlist = vec!["Example.com".into()];
        assert!(p.allows_email_domain("example.COM"));
        assert!(!p.allows_email_domain("other.com"));
    }
}
