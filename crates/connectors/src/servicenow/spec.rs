//! The type's schemas and rules: what the registry and ingest check.

use serde_json::{Map, Value, json};

use crate::schema_parts::{
    check_field_map, comments, empty_object, field_map, is_set, is_true, no_policy_rules,
    sub_action, sub_actions,
};
use herald_catalog::schema::join;
use herald_catalog::{ConnectorSpec, NO_ESCAPE, Violations, WorkerBinary};

/// Kibana's cap on `additional_fields`.
const MAX_ADDITIONAL_FIELDS: usize = 20;
/// Incident fields every ServiceNow flavour sets itself.
const COMMON_FIELDS: &[&str] = &[
    "short_description",
    "description",
    "externalId",
    "category",
    "subcategory",
    "correlation_id",
    "correlation_display",
    "additional_fields",
];

pub fn spec() -> ConnectorSpec {
    ConnectorSpec {
        id: "servicenow",
        name: "ServiceNow ITSM",
        worker: WorkerBinary::Incident,
        config_schema: config_schema(true),
        secrets_schema: secrets_schema(),
        params_schema: sub_actions(&[
            ("pushToService", push_to_service(itsm_fields())),
            ("getIncident", get_incident()),
            ("getFields", json!({"type": "object"})),
            ("handshake", empty_object()),
            ("getChoices", get_choices()),
            ("closeIncident", close_incident()),
        ]),
        account_rules,
        params_rules,
        policy_rules: no_policy_rules,
        param_escape: NO_ESCAPE,
        readers: None,
    }
}

/// The config of every ServiceNow flavour; ITOM has no `usesTableApi`.
pub(crate) fn config_schema(with_table_api: bool) -> Value {
    let mut schema = json!({
        "type": "object",
        "required": ["apiUrl"],
        "additionalProperties": false,
        "properties": {
            "apiUrl": {"type": "string", "format": "uri", "description": "Instance URL, https://<instance>.service-now.com/"},
            "isOAuth": {"type": "boolean", "default": false},
            "userIdentifierValue": {"type": ["string", "null"], "description": "OAuth: the user the JWT names"},
            "clientId": {"type": ["string", "null"], "description": "OAuth: client id"},
            "jwtKeyId": {"type": ["string", "null"], "description": "OAuth: JWT verifier key id"},
        },
    });
    if with_table_api {
        schema["properties"]["usesTableApi"] = json!({
            "type": "boolean",
            "default": true,
            "description": "false: write through the Elastic ServiceNow app's import set",
        });
    }
    schema
}

pub(crate) fn secrets_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "username": {"type": ["string", "null"]},
            "password": {"type": ["string", "null"]},
            "clientSecret": {"type": ["string", "null"]},
            "privateKey": {"type": ["string", "null"], "description": "PEM RSA key that signs the JWT"},
            "privateKeyPassword": {"type": ["string", "null"]},
        },
    })
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

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

/// The incident fields of ITSM and SIR; `extra` adds the flavour's own.
pub(crate) fn push_to_service(extra: Map<String, Value>) -> Value {
    let mut properties = json!({
        "short_description": {"type": "string"},
        "description": nullable_string(),
        "externalId": {"type": ["string", "null"], "description": "sys_id to update instead of creating"},
        "category": nullable_string(),
        "subcategory": nullable_string(),
        "correlation_id": {"type": ["string", "null"], "default": "{{rule.id}}:{{alert.id}}"},
        "correlation_display": nullable_string(),
        "additional_fields": field_map("Further incident fields, by column name"),
    });
    properties
        .as_object_mut()
        .expect("object literal")
        .extend(extra);
    json!({
        "type": "object",
        "required": ["incident"],
        "additionalProperties": false,
        "properties": {
            "incident": {
                "type": "object",
                "required": ["short_description"],
                "additionalProperties": false,
                "properties": properties,
            },
            "comments": comments(),
        },
    })
}

fn itsm_fields() -> Map<String, Value> {
    ["severity", "urgency", "impact"]
        .into_iter()
        .map(|field| (field.to_owned(), nullable_string()))
        .collect()
}

pub(crate) fn get_incident() -> Value {
    json!({
        "type": "object",
        "required": ["externalId"],
        "additionalProperties": false,
        "properties": {"externalId": {"type": "string"}},
    })
}

pub(crate) fn get_choices() -> Value {
    json!({
        "type": "object",
        "required": ["fields"],
        "additionalProperties": false,
        "properties": {"fields": {"type": "array", "items": {"type": "string"}}},
    })
}

fn close_incident() -> Value {
    json!({
        "type": "object",
        "required": ["incident"],
        "additionalProperties": false,
        "properties": {
            "incident": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "externalId": nullable_string(),
                    "correlation_id": {"type": ["string", "null"], "default": "{{rule.id}}:{{alert.id}}"},
                },
            },
        },
    })
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
        COMMON_FIELDS,
        out,
    );
}
