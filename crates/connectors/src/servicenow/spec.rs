//! The type's schemas and rules: what the registry and ingest check. The
//! documents `servicenow-sir` and `servicenow-itom` share with it are here
//! too: the account, the incident's common columns (`incident!`) and the
//! read-only operations.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::schema_parts::{
    PushToService, check_field_map, is_set, is_true, no_policy_rules, sub_action, sub_actions,
};
use herald_catalog::schema::join;
use herald_catalog::typed::schema_of;
use herald_catalog::{ConnectorSpec, Extras, NO_ESCAPE, Readers, Secret, Violations, WorkerBinary};

/// Kibana's cap on `additional_fields`.
const MAX_ADDITIONAL_FIELDS: usize = 20;

/// Kibana's default correlation id (and ITOM message key): one record per
/// rule and alert.
pub const CORRELATION_ID: &str = "{{rule.id}}:{{alert.id}}";

/// A ServiceNow `config`: the fields every flavour has, then `$own`.
macro_rules! account_config {
    ($(#[$meta:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            /// Instance URL, https://<instance>.service-now.com/
            #[schemars(extend("format" = "uri"))]
            pub api_url: String,
            #[serde(default, rename = "isOAuth")]
            pub is_oauth: bool,
            /// OAuth: the user the JWT names
            pub user_identifier_value: Option<String>,
            /// OAuth: client id
            pub client_id: Option<String>,
            /// OAuth: JWT verifier key id
            pub jwt_key_id: Option<String>,
            $($own)*
        }
    };
}

account_config! {
    /// `config` of `servicenow` and `servicenow-sir`.
    pub struct Config {
        /// false: write through the Elastic ServiceNow app's import set
        #[serde(default = "table_api")]
        pub uses_table_api: bool,
    }
}

account_config! {
    /// `config` of `servicenow-itom`: events have no import set, so there
    /// is no `usesTableApi`.
    pub struct ItomConfig {}
}

fn table_api() -> bool {
    true
}

/// `secrets` of every flavour: basic auth, or OAuth's client secret and
/// JWT key (`account_rules` says which are required).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub client_secret: Option<Secret>,
    /// PEM RSA key that signs the JWT
    pub private_key: Option<Secret>,
    pub private_key_password: Option<Secret>,
}

/// `params` of `servicenow`: Kibana's `subAction` envelope.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    tag = "subAction",
    content = "subActionParams",
    rename_all = "camelCase"
)]
pub enum Params {
    PushToService(Box<PushToService<ItsmIncident>>),
    GetIncident(GetIncident),
    GetFields(Option<AnyObject>),
    Handshake(Option<NoParams>),
    GetChoices(GetChoices),
    CloseIncident(CloseIncident),
}

/// An incident of one flavour: the columns every flavour has, then the
/// flavour's own (`pub name: Type,` each, the type a [`Column`]), then
/// `externalId` and `additional_fields`. A column's field is named as
/// ServiceNow names the column, and is written under that name.
macro_rules! incident {
    ($(#[$meta:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $crate::servicenow::spec::incident!(@columns $(#[$meta])* $name {
            pub short_description: String,
            pub description: Option<String>,
            pub category: Option<String>,
            pub subcategory: Option<String>,
            #[schemars(extend("default" = $crate::servicenow::spec::CORRELATION_ID))]
            pub correlation_id: Option<String>,
            pub correlation_display: Option<String>,
        } { $($own)* });
    };
    (@columns $(#[$meta:meta])* $name:ident
        { $( $(#[$shared_attr:meta])* pub $shared:ident: $shared_type:ty, )* }
        { $( $(#[$own_attr:meta])* pub $own:ident: $own_type:ty, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, ::serde::Deserialize, ::schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$shared_attr])* pub $shared: $shared_type, )*
            $( $(#[$own_attr])* pub $own: $own_type, )*
            /// sys_id to update instead of creating
            #[serde(rename = "externalId")]
            pub external_id: Option<String>,
            /// Further incident fields, by column name
            #[schemars(extend("type" = ["object", "string", "null"]))]
            pub additional_fields: Option<::serde_json::Value>,
        }

        impl $name {
            /// The fields every flavour's incident has: `additional_fields`
            /// cannot set them.
            pub const SHARED_FIELDS: &'static [&'static str] =
                &[$(stringify!($shared),)* "externalId", "additional_fields"];

            pub fn into_parts(self) -> $crate::servicenow::spec::IncidentParts {
                use $crate::servicenow::spec::Column;
                let mut columns = ::serde_json::Map::new();
                $(
                    if let Some(value) = self.$shared.into_column() {
                        columns.insert(stringify!($shared).to_owned(), value);
                    }
                )*
                $(
                    if let Some(value) = self.$own.into_column() {
                        columns.insert(stringify!($own).to_owned(), value);
                    }
                )*
                $crate::servicenow::spec::IncidentParts {
                    columns,
                    external_id: self.external_id,
                    additional_fields: self.additional_fields,
                }
            }
        }
    };
}
pub(crate) use incident;

// An ITSM incident. (Comments, not doc comments, on types the schemas
// inline: a doc comment would be published as their `description`.)
incident! {
    pub struct ItsmIncident {
        pub severity: Option<String>,
        pub urgency: Option<String>,
        pub impact: Option<String>,
    }
}

/// An incident of any flavour, as the worker writes it.
#[derive(Debug)]
pub struct IncidentParts {
    /// The columns given, by name.
    pub columns: Map<String, Value>,
    pub external_id: Option<String>,
    pub additional_fields: Option<Value>,
}

/// An incident column's value as ServiceNow is sent it; `None` leaves the
/// column out.
pub trait Column {
    fn into_column(self) -> Option<Value>;
}

impl Column for String {
    fn into_column(self) -> Option<Value> {
        Some(Value::String(self))
    }
}

impl Column for Option<String> {
    fn into_column(self) -> Option<Value> {
        self.map(Value::String)
    }
}

/// `getIncident`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GetIncident {
    pub external_id: String,
}

/// `getChoices`: the choices of these fields.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetChoices {
    pub fields: Vec<String>,
}

/// `closeIncident`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIncident {
    pub incident: CloseTarget,
}

// The incident to close: by sys_id, else the newest with the correlation
// id.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseTarget {
    #[serde(rename = "externalId")]
    pub external_id: Option<String>,
    #[schemars(extend("default" = CORRELATION_ID))]
    pub correlation_id: Option<String>,
}

/// The params of an operation that takes none (`handshake`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("properties" = {}))]
pub struct NoParams {}

/// The params of `getFields`: any object, which Kibana ignores too.
#[derive(Debug, Deserialize)]
pub struct AnyObject(#[allow(dead_code)] Map<String, Value>);

impl JsonSchema for AnyObject {
    fn schema_name() -> Cow<'static, str> {
        "AnyObject".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "object"})
    }
}

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "servicenow",
        name: "ServiceNow ITSM",
        worker: WorkerBinary::Incident,
        config_schema: schema_of::<Config>(),
        secrets_schema: schema_of::<Secrets>(),
        params_schema: sub_actions(&[
            ("pushToService", schema_of::<PushToService<ItsmIncident>>()),
            ("getIncident", schema_of::<GetIncident>()),
            ("getFields", schema_of::<AnyObject>()),
            ("handshake", schema_of::<NoParams>()),
            ("getChoices", schema_of::<GetChoices>()),
            ("closeIncident", schema_of::<CloseIncident>()),
        ]),
        account_rules,
        params_rules,
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

/// Basic auth needs username and password; OAuth needs the client and JWT
/// key ids in config and the client secret and private key in secrets.
pub(crate) fn account_rules(
    config: &Map<String, Value>,
    secrets: &Map<String, Value>,
    out: &mut Violations,
) {
    if is_true(config, "isOAuth") {
        for field in ["clientId", "jwtKeyId", "userIdentifierValue"] {
            if !is_set(config, field) {
                out.push(join("config", field), "required when isOAuth is true");
            }
        }
        for field in ["clientSecret", "privateKey"] {
            if !is_set(secrets, field) {
                out.push(join("secrets", field), "required when isOAuth is true");
            }
        }
    } else {
        for field in ["username", "password"] {
            if !is_set(secrets, field) {
                out.push(join("secrets", field), "required when isOAuth is false");
            }
        }
    }
}

/// `additional_fields` rules for ITSM and SIR pushes.
pub(crate) fn params_rules(params: &Map<String, Value>, prefix: &str, out: &mut Violations) {
    let Some(("pushToService", push)) = sub_action(params) else {
        return;
    };
    let Some(incident) = push.get("incident").and_then(Value::as_object) else {
        return;
    };
    check_field_map(
        incident.get("additional_fields"),
        &join(prefix, "subActionParams.incident.additional_fields"),
        MAX_ADDITIONAL_FIELDS,
        ItsmIncident::SHARED_FIELDS,
        out,
    );
}
