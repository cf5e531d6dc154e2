//! The public API: lookup, order, schemas' shape, documents that are not
//! objects, and the `Violations` type.

use std::error::Error;

use herald_catalog::schema::{SUPPORTED_FORMATS, SUPPORTED_KEYWORDS, discriminator, validate};
use herald_catalog::{Policy, Violation, Violations, WorkerBinary};
use herald_connectors::catalog;
use serde_json::{Value, json};

use super::{account, assert_violations, params_with, spec, strings};

const CONTRACT_ORDER: [&str; 23] = [
    "email",
    "slack",
    "slack_api",
    "teams",
    "pagerduty",
    "opsgenie",
    "jira",
    "servicenow",
    "servicenow-sir",
    "servicenow-itom",
    "xmatters",
    "swimlane",
    "resilient",
    "d3security",
    "tines",
    "torq",
    "thehive",
    "webhook",
    "cases-webhook",
    "index",
    "server-log",
    "gen-ai",
    "bedrock",
];

#[test]
fn lookup_accepts_the_dotted_alias() {
    assert_eq!(catalog().get(".email").map(|s| s.id), Some("email"));
    assert_eq!(catalog().get("email").map(|s| s.id), Some("email"));
    assert_eq!(
        catalog().get(".servicenow-sir").map(|s| s.name),
        Some("ServiceNow SecOps")
    );
    assert_eq!(catalog().get(".gen-ai").map(|s| s.id), Some("gen-ai"));
    assert_eq!(catalog().get(".bedrock").map(|s| s.id), Some("bedrock"));
    assert!(catalog().get("gemini").is_none());
    assert!(catalog().get("..email").is_none());
    assert!(catalog().get("").is_none());
}

#[test]
fn all_types_in_the_contract_order_with_their_workers() {
    let ids: Vec<&str> = catalog().all().iter().map(|s| s.id).collect();
    assert_eq!(ids, CONTRACT_ORDER);
    for spec in catalog().all() {
        let expected = match spec.id {
            "email" => WorkerBinary::Email,
            "slack" | "slack_api" | "teams" => WorkerBinary::Chat,
            "gen-ai" | "bedrock" => WorkerBinary::Ai,
            _ => WorkerBinary::Incident,
        };
        assert_eq!(spec.worker, expected, "{}", spec.id);
        assert!(!spec.name.is_empty());
    }
    assert_eq!(WorkerBinary::Email.binary(), "herald-email-worker");
    assert_eq!(WorkerBinary::Chat.binary(), "herald-chat-worker");
    assert_eq!(WorkerBinary::Incident.binary(), "herald-incident-worker");
    assert_eq!(WorkerBinary::Ai.binary(), "herald-ai-worker");
}

#[test]
fn every_schema_is_an_object_schema() {
    for spec in catalog().all() {
        for (which, schema) in [
            ("config", &spec.config_schema),
            ("secrets", &spec.secrets_schema),
            ("params", &spec.params_schema),
        ] {
            assert_eq!(schema["type"], "object", "{} {which}", spec.id);
            assert_eq!(
                schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{} {which}",
                spec.id
            );
        }
    }
}

/// Walks a schema and reports anything the validator would silently ignore
/// or get wrong: unknown keywords or formats, broken patterns, `oneOf`
/// without a discriminator, `required` fields that cannot be given, and
/// defaults that their own schema rejects.
fn audit(schema: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        if !schema.is_boolean() {
            problems.push(format!("{path}: not a schema"));
        }
        return;
    };
    for (keyword, value) in object {
        let here = format!("{path}/{keyword}");
        if !SUPPORTED_KEYWORDS.contains(&keyword.as_str()) {
            problems.push(format!("{here}: unsupported keyword"));
        }
        match keyword.as_str() {
            "properties" => {
                for (name, property) in value.as_object().into_iter().flatten() {
                    audit(property, &format!("{here}/{name}"), problems);
                }
            }
            "items" | "additionalProperties" => audit(value, &here, problems),
            "oneOf" => {
                let branches = value.as_array().cloned().unwrap_or_default();
                if discriminator(&branches).is_none() {
                    problems.push(format!("{here}: no discriminator"));
                }
                for (index, branch) in branches.iter().enumerate() {
                    audit(branch, &format!("{here}/{index}"), problems);
                }
            }
            "format" if !SUPPORTED_FORMATS.contains(&value.as_str().unwrap_or_default()) => {
                problems.push(format!("{here}: unsupported format"));
            }
            "pattern" if regex::Regex::new(value.as_str().unwrap_or("(")).is_err() => {
                problems.push(format!("{here}: pattern does not compile"));
            }
            "default" => {
                let mut out = Violations::new();
                validate(schema, value, "", &mut out);
                if !out.is_empty() {
                    problems.push(format!("{here}: default is invalid: {out}"));
                }
            }
            _ => {}
        }
    }
    if object.get("additionalProperties") == Some(&Value::Bool(false)) {
        let properties = object.get("properties").and_then(Value::as_object);
        for required in object
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = required.as_str().unwrap_or_default();
            if !properties.is_some_and(|p| p.contains_key(name)) {
                problems.push(format!("{path}: required {name} is not a property"));
            }
        }
    }
}

#[test]
fn schemas_stay_within_the_supported_subset() {
    let mut problems = vec![];
    for spec in catalog().all() {
        audit(
            &spec.config_schema,
            &format!("{} config", spec.id),
            &mut problems,
        );
        audit(
            &spec.secrets_schema,
            &format!("{} secrets", spec.id),
            &mut problems,
        );
        audit(
            &spec.params_schema,
            &format!("{} params", spec.id),
            &mut problems,
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn secret_fields_are_the_secrets_properties() {
    let fields = |id: &str| {
        let mut fields = spec(id).secret_fields();
        fields.sort();
        fields
    };
    assert_eq!(fields("slack"), ["webhookUrl"]);
    assert_eq!(fields("pagerduty"), ["routingKey"]);
    assert_eq!(
        fields("email"),
        ["clientSecret", "password", "proxyPassword", "user"]
    );
    assert_eq!(
        fields("servicenow"),
        [
            "clientSecret",
            "password",
            "privateKey",
            "privateKeyPassword",
            "username"
        ]
    );
    assert_eq!(
        fields("webhook"),
        [
            "clientSecret",
            "crt",
            "key",
            "password",
            "pfx",
            "secretHeaders",
            "token",
            "user"
        ]
    );
    assert!(fields("server-log").is_empty());
}

#[test]
fn null_documents_read_as_empty_objects() {
    assert!(
        strings(spec("server-log").validate_account(
            &Value::Null,
            &Value::Null,
            &Policy::default()
        ))
        .is_empty()
    );
    assert_violations(
        account("pagerduty", Value::Null, Value::Null),
        &["secrets.routingKey: required"],
    );
    assert_violations(
        params_with("server-log", Value::Null, "", &Policy::default()),
        &["message: required"],
    );
}

#[test]
fn documents_that_are_not_objects() {
    assert_violations(
        account(
            "pagerduty",
            json!("https://events.pagerduty.com"),
            json!({}),
        ),
        &["config: must be an object", "secrets.routingKey: required"],
    );
    assert_violations(
        account("slack", json!({}), json!(["x"])),
        &["secrets: must be an object"],
    );
    assert_violations(
        params_with("slack", json!("hi"), "", &Policy::default()),
        &["params: must be an object"],
    );
    assert_violations(
        params_with("slack", json!(7), "actions[2].params", &Policy::default()),
        &["actions[2].params: must be an object"],
    );
    assert_violations(
        strings(spec("slack").check_policy(&json!(1), &json!({}), &Policy::default())),
        &["config: must be an object"],
    );
}

#[test]
fn params_paths_take_the_prefix() {
    assert_violations(
        params_with(
            "pagerduty",
            json!({"eventAction": "acknowledge"}),
            "actions[1].params",
            &Policy::default(),
        ),
        &["actions[1].params.dedupKey: required when eventAction is acknowledge"],
    );
    assert_violations(
        params_with(
            "opsgenie",
            json!({"subAction": "closeAlert", "subActionParams": {}}),
            "actions[0].params",
            &Policy::default(),
        ),
        &["actions[0].params.subActionParams.alias: required"],
    );
}

#[test]
fn violations_display_and_error() {
    let mut violations = Violations::new();
    assert!(violations.is_empty());
    assert_eq!(violations.clone().into_result(), Ok(()));
    violations.push("config.port", "must be 1..65535");
    violations.push("secrets.user", "required");
    assert_eq!(violations.len(), 2);
    assert_eq!(
        violations.to_string(),
        "config.port: must be 1..65535; secrets.user: required"
    );
    assert_eq!(
        violations.0[0],
        Violation {
            path: "config.port".into(),
            message: "must be 1..65535".into()
        }
    );
    let error: Box<dyn Error> = Box::new(violations.clone());
    assert_eq!(error.to_string(), violations.to_string());
    assert_eq!(violations.clone().into_result(), Err(violations));
}

#[test]
fn every_violation_at_once_across_config_secrets_and_policy() {
    let found = super::account_with(
        "webhook",
        json!({"url": "https://evil.example.com/hook", "method": "head", "extra": true}),
        json!({"user": "u"}),
        &super::policy_hosts(&["hooks.example.com"]),
    );
    assert_violations(
        found,
        &[
            "config.extra: unknown field",
            "config.method: must be one of: post, put, patch, get, delete, null",
            "config.url: host evil.example.com is not in policy.allowed_hosts",
            "secrets.password: required for basic authentication",
        ],
    );
}

#[test]
fn no_violation_ever_carries_a_secret_value() {
    // Every secret set to a recognisable string of the wrong shape for most
    // fields, a restrictive policy, and config left empty: whatever is
    // reported, the secret must not be in it.
    let policy = super::policy_hosts(&["allowed.example.com"]);
    for spec in catalog().all() {
        let secrets: serde_json::Map<String, Value> = spec
            .secret_fields()
            .into_iter()
            .map(|field| {
                (
                    field.to_owned(),
                    json!(format!(
                        "https://evil.example.com/S3CRET-{field}?key=S3CRET"
                    )),
                )
            })
            .chain([("unknownField".to_owned(), json!("S3CRET-value"))])
            .collect();
        let secrets = Value::Object(secrets);
        let account = spec
            .validate_account(&json!({}), &secrets, &policy)
            .unwrap_err()
            .to_string();
        assert!(
            account.contains("secrets.unknownField: unknown field"),
            "{}: {account}",
            spec.id
        );
        assert!(!account.contains("S3CRET"), "{}: {account}", spec.id);
        if let Err(violations) = spec.check_policy(&json!({}), &secrets, &policy) {
            let text = violations.to_string();
            assert!(!text.contains("S3CRET"), "{}: {text}", spec.id);
        }
    }
}
