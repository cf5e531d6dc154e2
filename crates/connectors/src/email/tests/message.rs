//! The pure build of a mail from params and account.

use crate::delivery::testing;
use herald_catalog::Policy;
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};

use crate::email::config::EmailAccount;
use crate::email::message::{MAX_BODY_BYTES, Mail, build, mime};

fn account(config: Value) -> EmailAccount {
    let mut base = json!({"service": "other", "host": "smtp.example.com", "port": 587,
                          "from": "alerts@example.com", "hasAuth": false});
    for (key, value) in config.as_object().unwrap() {
        base[key] = value.clone();
    }
    EmailAccount::parse(&testing::account("email", base, json!({}))).expect("a valid account")
}

fn built(config: Value, params: Value) -> Result<Mail, crate::delivery::Outcome> {
    build(
        &testing::object(params),
        &account(config),
        "act-9",
        &Policy::default(),
    )
}

#[test]
fn the_account_defaults_fill_what_params_leave_out() {
    let mail = built(
        json!({"defaultTo": ["ops@example.com"], "defaultBcc": ["Audit <audit@example.com>"]}),
        json!({"subject": "s", "message": "m", "cc": ["x@example.org"]}),
    )
    .unwrap();
    assert_eq!(mail.from.to_string(), "alerts@example.com");
    assert_eq!(mail.to[0].to_string(), "ops@example.com");
    assert_eq!(mail.cc[0].to_string(), "x@example.org");
    assert_eq!(mail.bcc[0].to_string(), "Audit <audit@example.com>");
    assert_eq!(mail.message_id, "<act-9@example.com>");
    let (envelope, bytes) = mime(&mail).unwrap();
    assert_eq!(envelope.to().len(), 3);
    let text = String::from_utf8(bytes).unwrap();
    assert!(!text.contains("audit@"), "Bcc must stay out of the message");
}

#[test]
fn no_recipient_is_a_clear_error() {
    let (kind, reason) =
        testing::permanent(built(json!({}), json!({"subject": "s", "message": "m"})).unwrap_err());
    assert_eq!(kind, ErrorKind::InvalidParams);
    assert!(reason.starts_with("to: no recipient"), "{reason}");
}

/// Kibana's Outlook guidance: the sender is "either the default in your
/// connector configuration or part of the email action".
#[test]
fn the_sender_may_come_from_the_action_instead_of_the_account() {
    let mail = built(
        json!({"from": null}),
        json!({"subject": "s", "message": "m", "to": ["ops@example.com"],
               "from": "Outlook Alerts <alerts@contoso.example>"}),
    )
    .unwrap();
    assert_eq!(
        mail.from.to_string(),
        "Outlook Alerts <alerts@contoso.example>"
    );
    assert_eq!(mail.message_id, "<act-9@contoso.example>");

    let (kind, reason) = testing::permanent(
        built(
            json!({"from": ""}),
            json!({"subject": "s", "message": "m", "to": ["ops@example.com"]}),
        )
        .unwrap_err(),
    );
    assert_eq!(kind, ErrorKind::InvalidParams);
    assert_eq!(
        reason,
        "from: no sender: give from, or set config.from on the account"
    );
}

#[test]
fn bad_addresses_name_their_field() {
    let (kind, reason) = testing::permanent(
        built(
            json!({}),
            json!({"subject": "s", "message": "m", "to": ["ok@example.com", "not an address"]}),
        )
        .unwrap_err(),
    );
    assert_eq!(kind, ErrorKind::InvalidParams);
    assert!(
        reason.starts_with("to[1]: \"not an address\" is not an e-mail address"),
        "{reason}"
    );
}

#[test]
fn the_domain_allowlist_is_checked_at_send_for_every_address() {
    let mut policy = Policy::default();
    policy.email.domain_allowlist = vec!["example.com".into()];
    let account = account(json!({"defaultCc": ["x@evil.net"]}));
    let params = testing::object(json!({"subject": "s", "message": "m", "to": ["a@example.com"]}));
    let (kind, reason) = testing::permanent(build(&params, &account, "a", &policy).unwrap_err());
    assert_eq!(kind, ErrorKind::Policy);
    assert_eq!(
        reason,
        "config.defaultCc[0]: domain evil.net is not in policy.email.domain_allowlist"
    );
    let params = testing::object(
        json!({"subject": "s", "message": "m", "to": ["a@example.com"], "bcc": ["b@Evil.NET"], "cc": ["c@example.com"]}),
    );
    let (_, reason) = testing::permanent(build(&params, &account, "a", &policy).unwrap_err());
    assert_eq!(
        reason,
        "bcc[0]: domain evil.net is not in policy.email.domain_allowlist"
    );
}

#[test]
fn message_html_only_with_allow_html() {
    let params = json!({"subject": "s", "message": "*md*", "messageHTML": "<h1>raw</h1>", "to": ["a@example.com"]});
    assert_eq!(
        built(json!({"allowHtml": true}), params.clone())
            .unwrap()
            .html,
        "<h1>raw</h1>"
    );
    let rendered = built(json!({}), params).unwrap();
    assert_eq!(rendered.html, "<p><em>md</em></p>\n");
    assert_eq!(rendered.text, "*md*");
}

#[test]
fn the_footer_links_to_the_public_base_url() {
    let params = json!({"subject": "s", "message": "m", "to": ["a@example.com"],
                        "kibanaFooterLink": {"path": "/alerts/42", "text": "Open the alert"}});
    let mail = built(
        json!({"publicBaseUrl": "https://herald.example.com/"}),
        params.clone(),
    )
    .unwrap();
    assert!(mail.text.ends_with(
        "This message was sent by Herald. [Open the alert](https://herald.example.com/alerts/42)"
    ));
    assert!(
        mail.html
            .contains("<a href=\"https://herald.example.com/alerts/42\">Open the alert</a>")
    );
    let without = built(json!({}), params).unwrap();
    assert_eq!(without.text, "m");
}

/// The params schema publishes the footer's defaults; a footer without
/// text or path is built with exactly those.
#[test]
fn the_footer_defaults_are_the_ones_the_schema_publishes() {
    let spec = crate::catalog().get("email").unwrap();
    let link = &spec.params_schema["properties"]["kibanaFooterLink"];
    let link = match link.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            &spec.params_schema["$defs"][name]
        }
        None => link,
    };
    let text = link["properties"]["text"]["default"].as_str().unwrap();
    let path = link["properties"]["path"]["default"].as_str().unwrap();
    let mail = built(
        json!({"publicBaseUrl": "https://herald.example.com"}),
        json!({"subject": "s", "message": "m", "to": ["a@example.com"], "kibanaFooterLink": {}}),
    )
    .unwrap();
    assert!(
        mail.text
            .ends_with(&format!("[{text}](https://herald.example.com{path})")),
        "{}",
        mail.text
    );
}

#[test]
fn a_body_over_the_cap_is_truncated_with_a_notice() {
    let long = "é".repeat(MAX_BODY_BYTES);
    let mail = built(
        json!({}),
        json!({"subject": "s", "message": long, "to": ["a@example.com"]}),
    )
    .unwrap();
    assert!(
        mail.text
            .starts_with("[This message was truncated: it had 2097152 bytes"),
        "{}",
        &mail.text[..100]
    );
    assert!(mail.text.len() < MAX_BODY_BYTES + 200);
}

#[test]
fn attachments_are_decoded_and_capped() {
    let params = json!({"subject": "s", "message": "m", "to": ["a@example.com"],
                        "attachments": [{"filename": "a.txt", "content": "aGVsbG8="}, {"filename": "b.txt", "content": "plain", "encoding": "utf8"}]});
    let mail = built(json!({}), params).unwrap();
    assert_eq!(mail.attachments[0].content, b"hello");
    assert_eq!(mail.attachments[0].content_type, "application/octet-stream");
    assert_eq!(mail.attachments[1].content, b"plain");
    let bad = json!({"subject": "s", "message": "m", "to": ["a@example.com"], "attachments": [{"filename": "a", "content": "!!"}]});
    let (_, reason) = testing::permanent(built(json!({}), bad).unwrap_err());
    assert_eq!(reason, "attachments[0].content: must be base64");
    let big = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        vec![0u8; 11 * 1024 * 1024],
    );
    let over = json!({"subject": "s", "message": "m", "to": ["a@example.com"], "attachments": [{"filename": "a", "content": big}]});
    let (_, reason) = testing::permanent(built(json!({}), over).unwrap_err());
    assert!(reason.starts_with("attachments: more than"), "{reason}");
}

#[test]
fn well_known_services_fix_host_port_and_tls() {
    use crate::email::config::{Security, Transport};
    let account = EmailAccount::parse(&testing::account(
        "email",
        json!({"service": "gmail", "host": "ignored.example.com", "port": 25, "from": "a@example.com"}),
        json!({"user": "u", "password": "p"}),
    ))
    .unwrap();
    let Transport::Smtp(smtp) = account.transport else {
        panic!()
    };
    assert_eq!(
        (smtp.host.as_str(), smtp.port, smtp.security),
        ("smtp.gmail.com", 465, Security::Implicit)
    );
    let account = EmailAccount::parse(&testing::account(
        "email",
        json!({"service": "ses-eu-west-1", "from": "a@example.com", "requireTls": true}),
        json!({"user": "u", "password": "p"}),
    ))
    .unwrap();
    let Transport::Smtp(smtp) = account.transport else {
        panic!()
    };
    assert_eq!(smtp.host, "email-smtp.eu-west-1.amazonaws.com");
    let account = EmailAccount::parse(&testing::account(
        "email",
        json!({"service": "outlook365", "from": "a@example.com", "requireTls": true}),
        json!({"user": "u", "password": "p"}),
    ))
    .unwrap();
    let Transport::Smtp(smtp) = account.transport else {
        panic!()
    };
    assert_eq!(
        (smtp.port, smtp.security),
        (587, Security::StartTls { required: true })
    );
    assert_eq!(
        format!("{:?}", smtp.credentials),
        "Some((\"u\", [redacted]))"
    );
}

#[test]
fn the_worker_reads_the_typed_documents_naming_the_path() {
    let refusal = |config: Value, secrets: Value| {
        let account = testing::account("email", config, secrets);
        testing::permanent(EmailAccount::parse(&account).unwrap_err())
    };
    let smtp = json!({"service": "other", "host": "smtp.example.com", "port": 587,
                      "from": "alerts@example.com"});
    let credentials = json!({"user": "u", "password": "hunter2"});
    let mut config = smtp.clone();
    config["port"] = json!(70000);
    assert_eq!(
        refusal(config, credentials.clone()),
        (
            ErrorKind::InvalidConfig,
            "config.port: must be a whole number from 1 to 65535".into()
        )
    );
    let mut config = smtp.clone();
    config["foo"] = json!(1);
    assert_eq!(
        refusal(config, credentials.clone()).1,
        "config.foo: unknown field"
    );
    let (kind, reason) = refusal(smtp.clone(), json!({"user": "u", "password": ["hunter2"]}));
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert_eq!(reason, "secrets.password: must be a string");
    // Kibana's nullable fields: null is as if not given.
    let mut config = smtp.clone();
    config["hasAuth"] = Value::Null;
    assert_eq!(
        refusal(config, json!({"user": "u", "password": ""})).1,
        "secrets.password: must not be empty"
    );
    assert_eq!(
        refusal(
            json!({"service": "exchange_server", "from": "a@example.com", "clientId": "c"}),
            json!({"clientSecret": "s"}),
        )
        .1,
        "config.tenantId: required"
    );

    let refused = |params: Value| testing::permanent(built(json!({}), params).unwrap_err()).1;
    let base = json!({"subject": "s", "message": "m", "to": ["a@example.com"]});
    let with = |key: &str, value: Value| {
        let mut params = base.clone();
        params[key] = value;
        params
    };
    assert_eq!(refused(with("bcc", json!([1]))), "bcc[0]: must be a string");
    assert_eq!(
        refused(with("subject", json!(""))),
        "subject: must not be empty"
    );
    assert_eq!(
        refused(with(
            "attachments",
            json!([{"filename": "", "content": "aGVsbG8="}])
        )),
        "attachments[0].filename: must not be empty"
    );
    assert_eq!(
        refused(with("attachments", json!([{"filename": "a"}]))),
        "attachments[0].content: required"
    );
    assert!(built(json!({}), with("kibanaFooterLink", Value::Null)).is_ok());
}
