//! One route action rendered for one alert: the step the registry runs on
//! save (for a sample firing and a sample resolved alert) and ingest runs on
//! submit, so that a route that saves is a route that renders. It picks the
//! params (the resolved ones for a resolved alert, else the firing ones,
//! else the connector type's default rendering), renders them, and checks
//! the result as every action's params are checked.

use herald_catalog::alert::AlertView;
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, Policy, Violations};
use serde_json::{Map, Value};

use crate::{Budget, render_connector_params_within};

/// A route action's templates and where it goes.
#[derive(Debug, Clone, Copy)]
pub struct AlertAction<'a> {
    pub spec: &'static ConnectorSpec,
    /// The account's config (the default rendering and the action rules read it).
    pub account_config: &'a Map<String, Value>,
    /// Empty: the type's default rendering of the alert.
    pub params: &'a Map<String, Value>,
    /// Empty: `params` for a resolved alert too.
    pub resolved_params: &'a Map<String, Value>,
}

/// Renders `action` for `alert` with the template variables `vars` (an
/// object with `context`, `date`, `action` and `account`; `alert` is set
/// here from `alert`), within `budget`, then checks the params against the
/// type's schema, rules and `policy` as ingest checks every action.
/// `prefix` is the action's path (`actions[1]`): a violation names
/// `actions[1].params.summary`, or `actions[1].resolved_params...` when
/// those were rendered.
pub fn render_alert_action_within(
    action: &AlertAction<'_>,
    alert: &AlertView,
    vars: &mut Value,
    policy: &Policy,
    prefix: &str,
    budget: &mut Budget,
) -> Result<Map<String, Value>, Violations> {
    let spec = action.spec;
    let (field, templates) = if alert.is_resolved() && !action.resolved_params.is_empty() {
        ("resolved_params", action.resolved_params)
    } else {
        ("params", action.params)
    };
    let at = join(prefix, field);
    let params = if templates.is_empty() {
        // Built from the alert's values, so they are not templates: a `{{`
        // in a label stays text.
        let Some(default) = spec.extras.alert_params else {
            let mut v = Violations::new();
            v.push(
                at,
                format!(
                    "required: connector type {} has no default alert rendering",
                    spec.id
                ),
            );
            return Err(v);
        };
        default(alert, action.account_config)
    } else {
        if let Value::Object(vars) = vars {
            vars.insert("alert".into(), alert.to_value());
        }
        render_connector_params_within(spec, templates, vars, &at, budget)?
    };
    let params = Value::Object(params);
    spec.validate_params(&params, &at, policy)?;
    let Value::Object(params) = params else {
        unreachable!("built as an object above")
    };
    let mut v = Violations::new();
    (spec.action_rules)(&params, action.account_config, &at, &mut v);
    v.into_result().map(|()| params)
}
