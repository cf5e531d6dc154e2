//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::schema_parts::{no_params_rules, no_policy_rules, sub_actions};
use crate::servicenow::spec::{CORRELATION_ID, GetChoices, ItomConfig, Secrets, account_rules};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, WorkerBinary};

/// `params`: Kibana's `subAction` envelope.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    tag = "subAction",
    content = "subActionParams",
    rename_all = "camelCase"
)]
pub enum Params {
    AddEvent(Option<Box<Event>>),
    GetChoices(GetChoices),
}

/// `addEvent`: one Event Management event, under ServiceNow's names; it
/// is sent as it is, without the fields left out or null.
#[derive(Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub source: Option<String>,
    pub event_class: Option<String>,
    pub resource: Option<String>,
    pub node: Option<String>,
    pub metric_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub severity: Option<String>,
    pub description: Option<String>,
    pub additional_info: Option<String>,
    pub time_of_event: Option<String>,
    #[schemars(extend("default" = CORRELATION_ID))]
    pub message_key: Option<String>,
}

/// The type id.
pub const ID: &str = "servicenow-itom";

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: ID,
        name: "ServiceNow ITOM",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<ItomConfig>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("addEvent", schema_of::<Event>()),
            ("getChoices", schema_of::<GetChoices>()),
        ]),
        account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<ItomConfig, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        extras: Extras {
            alert_params: Some(super::alert::params),
            // The message key is the alert key: no handle is needed.
            follow_up: None,
            ..Extras::default()
        },
    }
}
