//! Every connector type Herald knows, one folder each: `<type>/spec.rs`
//! holds its schemas and rules (what the registry and ingest check), and,
//! with the `delivery` feature, `<type>/connector.rs`, `request.rs` and
//! `response.rs` how a worker delivers it. The list below is the catalog:
//! adding a connector is its folder plus one line here. Registry, ingest
//! and the CLI use the spec half only, without the HTTP and SMTP clients.

pub mod alert_parts;
#[cfg(feature = "delivery")]
pub mod delivery;
pub mod schema_parts;

#[cfg(feature = "delivery")]
pub mod auth;
#[cfg(feature = "delivery")]
pub mod jwt;
#[cfg(feature = "delivery")]
pub mod rest;
#[cfg(feature = "delivery")]
pub mod token_cache;
pub mod webhook_auth;

// Each folder is named by its type id; a module name cannot hold `-`.
pub mod bedrock;
#[path = "cases-webhook/mod.rs"]
pub mod cases_webhook;
pub mod d3security;
pub mod email;
#[path = "gen-ai/mod.rs"]
pub mod gen_ai;
pub mod index;
pub mod jira;
pub mod opsgenie;
pub mod pagerduty;
pub mod resilient;
#[path = "server-log/mod.rs"]
pub mod server_log;
pub mod servicenow;
#[path = "servicenow-itom/mod.rs"]
pub mod servicenow_itom;
#[path = "servicenow-sir/mod.rs"]
pub mod servicenow_sir;
pub mod slack;
pub mod slack_api;
pub mod swimlane;
pub mod teams;
pub mod thehive;
pub mod tines;
pub mod torq;
pub mod webhook;
pub mod xmatters;

use std::sync::LazyLock;

use herald_catalog::ConnectorSpec;
#[cfg(feature = "delivery")]
use herald_catalog::WorkerBinary;

/// One connector type: its spec and, for workers, its connector.
struct Entry {
    spec: fn() -> ConnectorSpec,
    #[cfg(feature = "delivery")]
    connector: fn(&Shared) -> std::sync::Arc<dyn delivery::Connector>,
}

macro_rules! entry {
    ($folder:ident) => {
        Entry {
            spec: $folder::spec,
            #[cfg(feature = "delivery")]
            connector: $folder::connector,
        }
    };
}

/// The catalog, in the contract's order: one line per connector type.
const ALL: &[Entry] = &[
    entry!(email),
    entry!(slack),
    entry!(slack_api),
    entry!(teams),
    entry!(pagerduty),
    entry!(opsgenie),
    entry!(jira),
    entry!(servicenow),
    entry!(servicenow_sir),
    entry!(servicenow_itom),
    entry!(xmatters),
    entry!(swimlane),
    entry!(resilient),
    entry!(d3security),
    entry!(tines),
    entry!(torq),
    entry!(thehive),
    entry!(webhook),
    entry!(cases_webhook),
    entry!(index),
    entry!(server_log),
    entry!(gen_ai),
    entry!(bedrock),
];

/// What the connectors of one worker process share: one cache for every
/// ServiceNow OAuth account, whichever of the three types it serves.
#[cfg(feature = "delivery")]
#[derive(Default)]
pub struct Shared {
    pub servicenow_tokens: std::sync::Arc<token_cache::TokenCache>,
}

/// The connectors `binary` runs, one per type the catalog gives it.
#[cfg(feature = "delivery")]
pub fn connectors(binary: WorkerBinary) -> Vec<std::sync::Arc<dyn delivery::Connector>> {
    connectors_where(|spec| spec.worker == binary)
}

/// Every connector, for one process that runs them all (`heraldctl up`).
#[cfg(feature = "delivery")]
pub fn all_connectors() -> Vec<std::sync::Arc<dyn delivery::Connector>> {
    connectors_where(|_| true)
}

#[cfg(feature = "delivery")]
fn connectors_where(
    serves: impl Fn(&ConnectorSpec) -> bool,
) -> Vec<std::sync::Arc<dyn delivery::Connector>> {
    let shared = Shared::default();
    // The catalog holds the specs built from `ALL`, in its order.
    ALL.iter()
        .zip(catalog().all())
        .filter(|(_, spec)| serves(spec))
        .map(|(entry, _)| (entry.connector)(&shared))
        .collect()
}

/// All connector types, in the contract's order.
#[derive(Debug)]
pub struct Catalog {
    specs: Vec<ConnectorSpec>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    specs: ALL
        .iter()
        .map(|entry| with_dialect((entry.spec)()))
        .collect(),
});

/// Built once; the schemas are plain data, so everyone shares one copy.
pub fn catalog() -> &'static Catalog {
    &CATALOG
}

/// Tags each published schema with its dialect, for tools that read them
/// from `ListConnectorTypes`.
fn with_dialect(mut spec: ConnectorSpec) -> ConnectorSpec {
    for schema in [
        &mut spec.config_schema,
        &mut spec.secrets_schema,
        &mut spec.params_schema,
    ] {
        if let Some(object) = schema.as_object_mut() {
            object.insert(
                "$schema".into(),
                "https://json-schema.org/draft/2020-12/schema".into(),
            );
        }
    }
    spec
}

impl Catalog {
    /// Accepts the canonical id (`email`) and Kibana's dotted form (`.email`).
    pub fn get(&self, connector_type: &str) -> Option<&ConnectorSpec> {
        let id = connector_type.strip_prefix('.').unwrap_or(connector_type);
        self.specs.iter().find(|spec| spec.id == id)
    }

    pub fn all(&self) -> &[ConnectorSpec] {
        &self.specs
    }
}

#[cfg(all(test, feature = "delivery"))]
mod entry_tests {
    use super::*;

    #[test]
    fn every_entry_delivers_the_type_it_describes() {
        let shared = Shared::default();
        for entry in ALL {
            let spec = (entry.spec)();
            assert_eq!((entry.connector)(&shared).connector_type(), spec.id);
        }
    }

    #[test]
    fn each_worker_binary_serves_its_family() {
        let types = |binary| -> Vec<&'static str> {
            connectors(binary)
                .iter()
                .map(|c| c.connector_type())
                .collect()
        };
        assert_eq!(types(WorkerBinary::Chat), ["slack", "slack_api", "teams"]);
        assert_eq!(types(WorkerBinary::Email), ["email"]);
        assert_eq!(types(WorkerBinary::Ai), ["gen-ai", "bedrock"]);
        assert_eq!(types(WorkerBinary::Incident).len(), ALL.len() - 6);
        assert_eq!(all_connectors().len(), ALL.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_catalog::Policy;
    use serde_json::json;

    #[test]
    fn paths_quote_caller_keys_short() {
        let key = format!("k\n{}", "x".repeat(10_000));
        let params = json!({ "message": "hi", key.as_str(): 1 });
        let violations = catalog()
            .get("slack")
            .unwrap()
            .validate_params(&params, "actions[0].params", &Policy::default())
            .unwrap_err();
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            [format!("actions[0].params.k\\n{}…", "x".repeat(62))]
        );
    }

    /// A route action may give only an account: every type renders an
    /// alert but those whose params need what neither the alert nor the
    /// account holds (a Tines story webhook) and the model calls. The
    /// types with a follow-up are those whose params alone cannot reach
    /// the object the firing opened.
    #[test]
    fn which_types_render_alerts_and_follow_up() {
        let with = |pick: fn(&ConnectorSpec) -> bool| -> Vec<&str> {
            catalog()
                .all()
                .iter()
                .filter(|s| pick(s))
                .map(|s| s.id)
                .collect()
        };
        let without: Vec<&str> = with(|s| s.extras.alert_params.is_none());
        assert_eq!(without, ["tines", "gen-ai", "bedrock"]);
        assert_eq!(
            with(|s| s.extras.follow_up.is_some()),
            [
                "email",
                "slack_api",
                "jira",
                "servicenow",
                "servicenow-sir",
                "swimlane",
                "resilient",
                "thehive",
                "cases-webhook"
            ]
        );
    }

    /// `heraldctl accounts test` sends these: each type's schema and rules
    /// must take them, and the message must carry the text.
    #[test]
    fn test_params_are_valid_params_of_their_type() {
        let with: Vec<&str> = catalog()
            .all()
            .iter()
            .filter(|spec| spec.test_params.is_some())
            .map(|spec| spec.id)
            .collect();
        assert_eq!(
            with,
            [
                "email",
                "slack",
                "teams",
                "pagerduty",
                "opsgenie",
                "jira",
                "webhook",
                "index",
                "server-log"
            ]
        );
        for spec in catalog().all() {
            let Some(params) = spec.test_params else {
                continue;
            };
            let params = params("Herald test message");
            assert!(
                params.to_string().contains("Herald test message"),
                "{}",
                spec.id
            );
            spec.validate_params(&params, "params", &Policy::default())
                .unwrap_or_else(|v| panic!("{}: {v}", spec.id));
        }
    }
}
