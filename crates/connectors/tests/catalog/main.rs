//! The catalog's public behaviour: one test binary, a module per area.

mod api;
mod connectors;
mod escape;
mod policy;
mod preconfigured;

use herald_catalog::{ConnectorSpec, Policy};
use herald_connectors::catalog;
use serde_json::Value;

fn spec(connector_type: &str) -> &'static ConnectorSpec {
    catalog()
        .get(connector_type)
        .unwrap_or_else(|| panic!("no connector type {connector_type}"))
}

/// Sorted violation strings, so tests do not depend on map order.
fn strings(result: Result<(), herald_catalog::Violations>) -> Vec<String> {
    let mut found: Vec<String> = match result {
        Ok(()) => vec![],
        Err(violations) => violations.iter().map(ToString::to_string).collect(),
    };
    found.sort();
    found
}

fn sorted(expected: &[&str]) -> Vec<String> {
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    expected
}

fn account_with(
    connector_type: &str,
    config: Value,
    secrets: Value,
    policy: &Policy,
) -> Vec<String> {
    strings(spec(connector_type).validate_account(&config, &secrets, policy))
}

fn account(connector_type: &str, config: Value, secrets: Value) -> Vec<String> {
    account_with(connector_type, config, secrets, &Policy::default())
}

fn params_with(connector_type: &str, params: Value, prefix: &str, policy: &Policy) -> Vec<String> {
    strings(spec(connector_type).validate_params(&params, prefix, policy))
}

fn params(connector_type: &str, params: Value) -> Vec<String> {
    params_with(connector_type, params, "", &Policy::default())
}

#[track_caller]
fn assert_valid(found: Vec<String>) {
    assert!(found.is_empty(), "unexpected violations: {found:#?}");
}

#[track_caller]
fn assert_violations(found: Vec<String>, expected: &[&str]) {
    assert_eq!(found, sorted(expected));
}

fn policy_hosts(hosts: &[&str]) -> Policy {
    Policy {
        allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..Policy::default()
    }
}
