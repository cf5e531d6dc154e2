//! A route action rendered for an alert: which params are used, the `alert`
//! variable, the checks after rendering, and the field each error names.

use herald_catalog::alert::{AlertPhase, AlertView};
use herald_catalog::{ConnectorSpec, Policy};
use herald_connectors::catalog;
use herald_templates::{AlertAction, Budget, render_alert_action_within};
use serde_json::{Map, Value, json};

fn object(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn vars() -> Value {
    json!({"context": {}, "date": "2026-01-01T00:00:00Z",
           "action": {"id": "a", "index": 0},
           "account": {"id": "ops", "name": "Ops", "type": "pagerduty"}})
}

fn render(
    action: &AlertAction<'_>,
    phase: AlertPhase,
) -> Result<Map<String, Value>, herald_catalog::Violations> {
    render_alert_action_within(
        action,
        &AlertView::sample(phase),
        &mut vars(),
        &Policy::default(),
        "actions[1]",
        &mut Budget::default(),
    )
}

#[test]
fn firing_and_resolved_render_their_own_params_over_the_alert() {
    let spec = catalog().get("pagerduty").unwrap();
    let config = Map::new();
    let params = object(
        json!({"eventAction": "trigger", "summary": "{{alert.summary}} ({{alert.labels.instance}})",
                               "dedupKey": "{{alert.key}}", "severity": "{{alert.severity}}"}),
    );
    let resolved = object(json!({"eventAction": "resolve", "dedupKey": "{{alert.key}}"}));
    let action = AlertAction {
        spec,
        account_config: &config,
        params: &params,
        resolved_params: &resolved,
    };
    let firing = render(&action, AlertPhase::Firing).unwrap();
    assert_eq!(
        firing["summary"],
        "Error rate above 5% on web-1 (web-1:9090)"
    );
    assert_eq!(firing["dedupKey"], "sample-alert");
    let done = render(&action, AlertPhase::Resolved).unwrap();
    assert_eq!(
        done,
        object(json!({"eventAction": "resolve", "dedupKey": "sample-alert"}))
    );

    // Without resolved params, the firing ones render with alert.status.
    let action = AlertAction {
        resolved_params: &Map::new(),
        params: &object(json!({"eventAction": "trigger", "summary": "{{alert.status}}"})),
        ..action
    };
    assert_eq!(
        render(&action, AlertPhase::Resolved).unwrap()["summary"],
        "resolved"
    );
}

#[test]
fn errors_name_the_params_that_were_rendered() {
    let spec = catalog().get("pagerduty").unwrap();
    let config = Map::new();
    // Renders, but the schema refuses it: `web` is no PagerDuty severity.
    let params = object(
        json!({"eventAction": "trigger", "summary": "s", "severity": "{{alert.labels.job}}"}),
    );
    let resolved = object(json!({"eventAction": "resolve", "dedupKey": "{{#alert}}"}));
    let action = AlertAction {
        spec,
        account_config: &config,
        params: &params,
        resolved_params: &resolved,
    };
    let firing = render(&action, AlertPhase::Firing).unwrap_err();
    assert!(
        firing
            .iter()
            .any(|v| v.path == "actions[1].params.severity"),
        "{firing}"
    );
    let resolved = render(&action, AlertPhase::Resolved).unwrap_err();
    assert!(
        resolved
            .iter()
            .all(|v| v.path == "actions[1].resolved_params.dedupKey"),
        "{resolved}"
    );
}

#[test]
fn empty_params_take_the_types_default_rendering() {
    let config = Map::new();
    // Tines: its story's webhook is in neither the alert nor the account.
    let tines = catalog().get("tines").unwrap();
    let action = AlertAction {
        spec: tines,
        account_config: &config,
        params: &Map::new(),
        resolved_params: &Map::new(),
    };
    let err = render(&action, AlertPhase::Firing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "actions[1].params: required: connector type tines has no default alert rendering"
    );

    // A type with a default: its output is checked like any params.
    fn message(alert: &AlertView, _: &Map<String, Value>) -> Map<String, Value> {
        let mut m = Map::new();
        if !alert.is_resolved() {
            m.insert(
                "message".into(),
                format!("{{{{not a template}}}} {}", alert.title()).into(),
            );
        }
        m
    }
    let mut spec: ConnectorSpec = catalog().get("slack").unwrap().clone();
    spec.extras.alert_params = Some(message);
    let spec: &'static ConnectorSpec = Box::leak(Box::new(spec));
    let action = AlertAction { spec, ..action };
    let firing = render(&action, AlertPhase::Firing).unwrap();
    assert_eq!(
        firing["message"],
        "{{not a template}} Error rate above 5% on web-1"
    );
    let resolved = render(&action, AlertPhase::Resolved).unwrap_err();
    assert_eq!(resolved.to_string(), "actions[1].params.message: required");
}
