//! The type's schemas and rules: what the registry and ingest check.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{
    PushOnly, PushToService, is_set, no_params_rules, no_policy_rules, sub_actions,
};
use crate::webhook_auth::{Secrets, auth_rules, with_auth_config};
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Violations, WorkerBinary};

// URL templates (`format: uri`): Mustache variables such as
// `{{{external.system.id}}}` are allowed in the path and query.
with_auth_config! {
    /// `config`: the templated calls, then the auth block.
    pub struct Config {
        /// Create a case
        #[schemars(extend("format" = "uri"))]
        pub create_incident_url: String,
        #[schemars(extend("default" = "post"))]
        pub create_incident_method: Option<CreateMethod>,
        /// JSON template; {{{case.title}}}, {{{case.description}}}, {{{case.tags}}}
        pub create_incident_json: String,
        // Kibana requires it; its own preconfigured example leaves it out,
        // and `id` is what most systems answer with.
        /// JSON path of the new case's id in the response
        #[schemars(extend("default" = "id"))]
        pub create_incident_response_key: Option<String>,
        /// Read a case; {{{external.system.id}}}
        #[schemars(extend("format" = "uri"))]
        pub get_incident_url: String,
        #[schemars(extend("default" = "get"))]
        pub get_incident_method: Option<GetMethod>,
        pub get_incident_json: Option<String>,
        /// JSON path of the case's title in the response
        pub get_incident_response_external_title_key: String,
        /// Link to a case; {{{external.system.id}}} or {{{external.system.title}}}
        #[schemars(extend("format" = "uri"))]
        pub view_incident_url: String,
        /// Update a case; {{{external.system.id}}}
        #[schemars(extend("format" = "uri"))]
        pub update_incident_url: String,
        #[schemars(extend("default" = "put"))]
        pub update_incident_method: Option<UpdateMethod>,
        pub update_incident_json: String,
        #[schemars(extend("format" = "uri"))]
        pub create_comment_url: Option<String>,
        #[schemars(extend("default" = "put"))]
        pub create_comment_method: Option<CommentMethod>,
        /// JSON template; {{{case.comment}}}
        pub create_comment_json: Option<String>,
    }
}

// `createIncidentMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CreateMethod {
    Post,
    Put,
}

// `getIncidentMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GetMethod {
    Get,
    Post,
}

// `updateIncidentMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UpdateMethod {
    Post,
    Patch,
    Put,
}

// `createCommentMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommentMethod {
    Post,
    Put,
    Patch,
}

/// `params`: Kibana's `subAction` envelope, with one operation.
pub type Params = PushOnly<Incident>;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Incident {
    pub title: String,
    pub description: Option<String>,
    pub id: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub external_id: Option<String>,
    pub tags: Option<Vec<String>>,
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "cases-webhook",
        name: "Webhook - Case Management",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[("pushToService", schema_of::<PushToService<Incident>>())]),
        account_rules,
        params_rules: no_params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: Readers::of::<Config, Secrets, Params>(),
        action_rules: crate::schema_parts::no_action_rules,
        test_params: None,
        extras: Extras {
            alert_params: Some(super::alert::params),
            follow_up: Some(super::alert::follow_up),
            ..Extras::default()
        },
    }
}

fn account_rules(config: &Map<String, Value>, secrets: &Map<String, Value>, out: &mut Violations) {
    auth_rules(config, secrets, out);
    // Comments need both the URL and the body template.
    match (
        is_set(config, "createCommentUrl"),
        is_set(config, "createCommentJson"),
    ) {
        (true, false) => out.push(
            "config.createCommentJson",
            "required when createCommentUrl is set",
        ),
        (false, true) => out.push(
            "config.createCommentUrl",
            "required when createCommentJson is set",
        ),
        _ => {}
    }
}
