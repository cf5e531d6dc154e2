//! For every connector type: a valid and an invalid account, and valid and
//! invalid params, with the exact violations.

use serde_json::{Value, json};

use super::{account, account_with, assert_valid, assert_violations, params, policy_hosts};

// ---------------------------------------------------------------- email

fn smtp_config() -> Value {
    json!({
        "service": "other",
        "from": "Alerts <alerts@example.com>",
        "host": "smtp.example.com",
        "port": 587,
        "requireTls": true,
        "defaultTo": ["oncall@example.com"],
        "defaultBcc": ["Audit <audit@example.com>"],
        "trustedHosts": ["smtp.example.com"],
        "sessionTimeout": 30,
        "maxConnections": 16,
        "proxyHost": "socks.example.com",
        "proxyPort": 1080,
        "proxyUser": "proxy",
        "publicBaseUrl": "https://herald.example.com",
        "debug": false,
    })
}

#[test]
fn email_accounts() {
    assert_valid(account(
        "email",
        smtp_config(),
        json!({"user": "alerts", "password": "pw", "proxyPassword": "ppw"}),
    ));
    // Kibana's nullable fields take null; a well-known service needs no host.
    assert_valid(account(
        "email",
        json!({"service": "gmail", "from": "a@example.com", "host": null, "port": null, "secure": null,
               "tenantId": null, "clientId": null, "oauthTokenUrl": null}),
        json!({"user": "a@gmail.com", "password": "app-password", "clientSecret": null}),
    ));
    assert_valid(account(
        "email",
        json!({"service": "exchange_server", "from": "a@example.com", "tenantId": "t", "clientId": "c"}),
        json!({"clientSecret": "s"}),
    ));
    assert_valid(account(
        "email",
        json!({"service": "other", "from": "a@example.com", "host": "relay.internal", "port": 25, "hasAuth": false}),
        json!({}),
    ));
    assert_valid(account(
        "email",
        json!({"service": "ses-eu-west-1", "from": "a@example.com"}),
        json!({"user": "u", "password": "p"}),
    ));
    assert_violations(
        account(
            "email",
            json!({"service": "other", "from": "a@example.com", "host": "relay.internal", "port": 25,
                   "hasAuth": false, "maxConnections": 0}),
            json!({}),
        ),
        &["config.maxConnections: must be 1..100"],
    );

    assert_violations(
        account(
            "email",
            json!({"service": "other", "from": "nobody", "port": 70000, "requireTls": true, "ignoreTls": true,
                   "proxyUser": "p", "foo": 1}),
            json!({}),
        ),
        &[
            "config.foo: unknown field",
            "config.from: must be an e-mail address (user@host or Name <user@host>)",
            "config.host: required when service is other",
            "config.ignoreTls: cannot be true when requireTls is true",
            "config.port: must be 1..65535",
            "config.proxyHost: required when proxyUser is set",
            "secrets.password: required when hasAuth is true",
            "secrets.proxyPassword: required when proxyUser is set",
            "secrets.user: required when hasAuth is true",
        ],
    );
    assert_violations(
        account(
            "email",
            json!({"service": "exchange_server", "from": "a@example.com", "tenantId": null}),
            json!({"user": "ignored"}),
        ),
        &[
            "config.clientId: required when service is exchange_server",
            "config.tenantId: required when service is exchange_server",
            "secrets.clientSecret: required when service is exchange_server",
        ],
    );
    assert_violations(
        account(
            "email",
            json!({"service": "gmial", "port": 465, "secure": true, "ignoreTls": true, "proxyPort": 1080,
                   "sessionTimeout": 0, "ca": "not pem", "defaultCc": ["x"]}),
            json!({"user": "u", "password": "p"}),
        ),
        &[
            "config.ca: must be PEM (-----BEGIN CERTIFICATE----- ...)",
            "config.defaultCc[0]: must be an e-mail address (user@host or Name <user@host>)",
            "config.ignoreTls: cannot be true when secure is true (implicit TLS)",
            "config.proxyHost: required when proxyPort is set",
            "config.service: must be other, exchange_server, elastic_cloud or a well-known service \
             (gmail, outlook365, ses, ses-<region>, sendgrid, ...)",
            "config.sessionTimeout: must be 1..3600",
        ],
    );
    assert_violations(
        account(
            "email",
            json!({"service": "elastic_cloud", "from": "a@example.com", "allowHtml": true, "host": 25}),
            json!({"user": "u", "password": "p"}),
        ),
        &[
            "config.allowHtml: cannot be true when service is elastic_cloud",
            "config.host: must be a string or null",
        ],
    );
}

#[test]
fn email_params() {
    assert_valid(params(
        "email",
        json!({
            "to": ["a@example.com", "Bob <bob@example.com>"],
            "cc": [],
            "replyTo": ["noreply@example.com"],
            "from": "Other <other@example.com>",
            "subject": "Disk full",
            "message": "**db-1** is at 99%",
            "messageHTML": null,
            "kibanaFooterLink": {"path": "/app/alerts", "text": "Open"},
            "attachments": [
                {"filename": "a.txt", "content": "aGVsbG8=", "contentType": "text/plain"},
                {"filename": "b.txt", "content": "plain text", "encoding": "utf8"},
            ],
        }),
    ));
    assert_violations(
        params(
            "email",
            json!({
                "to": ["nope"],
                "replyTo": vec!["a@example.com"; 11],
                "bcc": [1],
                "attachments": [{"filename": "", "content": "%%%"}],
                "body": "x",
            }),
        ),
        &[
            "attachments[0].content: must be base64",
            "attachments[0].filename: must not be empty",
            "bcc[0]: must be a string",
            "body: unknown field",
            "message: required",
            "replyTo: must have at most 10 items",
            "subject: required",
            "to[0]: must be an e-mail address (user@host or Name <user@host>)",
        ],
    );
    assert_violations(
        params(
            "email",
            json!({"to": vec!["a@example.com"; 101], "subject": "s", "message": "m"}),
        ),
        &["to: must have at most 100 items"],
    );
}

// ---------------------------------------------------------------- chat

#[test]
fn slack() {
    assert_valid(account(
        "slack",
        json!({}),
        json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/XXXX"}),
    ));
    assert_violations(
        account("slack", json!({"channel": "#ops"}), json!({})),
        &[
            "config.channel: unknown field",
            "secrets.webhookUrl: required",
        ],
    );
    assert_violations(
        account(
            "slack",
            json!({}),
            json!({"webhookUrl": "hooks.slack.com/services/T0"}),
        ),
        &["secrets.webhookUrl: must be an absolute http(s) URL"],
    );
    assert_valid(params("slack", json!({"message": "*db-1* is down"})));
    assert_violations(
        params("slack", json!({"message": ""})),
        &["message: must not be empty"],
    );
    assert_violations(
        params("slack", json!({"text": "hi"})),
        &["message: required", "text: unknown field"],
    );
}

/// The fields of a Search Guard Signals slack action, in camelCase.
#[test]
fn slack_signals_fields() {
    assert_valid(params(
        "slack",
        json!({
            "message": "db-1 is down",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*db-1* is down"}}],
            "attachments": [{"color": "#ff0000", "text": "cpu 99%"}],
            "channel": "#ops",
            "username": "Herald",
            "iconEmoji": ":rotating_light:",
        }),
    ));
    assert_violations(
        params(
            "slack",
            json!({
                "message": "hi",
                "blocks": {"type": "section"},
                "attachments": ["x"],
                "channel": "",
                "username": 7,
                "iconEmoji": "rotating_light",
            }),
        ),
        &[
            "attachments[0]: must be an object",
            "blocks: must be an array or null",
            "channel: must not be empty",
            "iconEmoji: must match the pattern ^:[^:\\s]+:$",
            "username: must be a string or null",
        ],
    );
    // Signals' names are not aliases: `from` is `username`, `icon_emoji`
    // is `iconEmoji`, `text` is `message`.
    assert_violations(
        params(
            "slack",
            json!({"message": "hi", "from": "Herald", "icon_emoji": ":x:"}),
        ),
        &["from: unknown field", "icon_emoji: unknown field"],
    );
    let too_many: Vec<_> = (0..51).map(|_| json!({"type": "divider"})).collect();
    assert_violations(
        params("slack", json!({"message": "hi", "blocks": too_many})),
        &["blocks: must have at most 50 items"],
    );
}

#[test]
fn slack_api() {
    assert_valid(account(
        "slack_api",
        json!(null),
        json!({"token": "xoxb-1"}),
    ));
    assert_valid(account(
        "slack_api",
        json!({"apiUrl": "https://slack.example.com/api", "allowedChannels": [{"id": "C1", "name": "ops"}, {"name": "dev"}]}),
        json!({"token": "xoxb-1"}),
    ));
    assert_violations(
        account(
            "slack_api",
            json!({"allowedChannels": [{"id": "C1"}]}),
            json!({"token": ""}),
        ),
        &[
            "config.allowedChannels[0].name: required",
            "secrets.token: must not be empty",
        ],
    );

    assert_valid(params(
        "slack_api",
        json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C1"], "text": "hi"}}),
    ));
    assert_valid(params(
        "slack_api",
        json!({"subAction": "postBlockkit", "subActionParams": {"channelNames": ["#ops"], "text": "{\"blocks\": []}"}}),
    ));
    assert_valid(params(
        "slack_api",
        json!({"subAction": "validChannelId", "subActionParams": {"channelId": "C1"}}),
    ));
    assert_violations(
        params(
            "slack_api",
            json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C1", "C2"], "text": ""}}),
        ),
        &[
            "subActionParams.channelIds: must have at most 1 items",
            "subActionParams.text: must not be empty",
        ],
    );
    assert_violations(
        params(
            "slack_api",
            json!({"subAction": "postBlockkit", "subActionParams": {"channelNames": ["ops"], "text": "hi"}}),
        ),
        &[
            "subActionParams.channelNames[0]: must match the pattern ^#",
            "subActionParams.text: must be a JSON object with a \"blocks\" field",
        ],
    );
    assert_violations(
        params(
            "slack_api",
            json!({"subAction": "postMessage", "subActionParams": {"text": "hi"}}),
        ),
        &["subActionParams.channelIds: required: give channelIds or channelNames"],
    );
    assert_violations(
        params("slack_api", json!({"subAction": "deleteMessage"})),
        &[
            "subAction: must be one of: validChannelId, postMessage, postBlockkit, updateMessage, updateBlockkit",
        ],
    );
}

#[test]
fn teams() {
    assert_valid(account(
        "teams",
        json!({}),
        json!({"webhookUrl": "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x"}),
    ));
    assert_violations(
        account("teams", json!({}), json!({"webhookUrl": 1, "url": "x"})),
        &[
            "secrets.url: unknown field",
            "secrets.webhookUrl: must be a string",
        ],
    );
    assert_valid(params("teams", json!({"message": "db-1 is down"})));
    assert_violations(params("teams", json!({})), &["message: required"]);
}

// ---------------------------------------------------------------- incident

#[test]
fn pagerduty() {
    assert_valid(account(
        "pagerduty",
        json!({}),
        json!({"routingKey": "0123456789abcdef0123456789abcdef"}),
    ));
    assert_valid(account(
        "pagerduty",
        json!({"apiUrl": null}),
        json!({"routingKey": "k"}),
    ));
    assert_violations(
        account(
            "pagerduty",
            json!({"apiUrl": "events.pagerduty.com"}),
            json!({"routing_key": "k"}),
        ),
        &[
            "config.apiUrl: must be an absolute http(s) URL",
            "secrets.routingKey: required",
            "secrets.routing_key: unknown field",
        ],
    );

    assert_valid(params(
        "pagerduty",
        json!({
            "eventAction": "trigger",
            "dedupKey": "rule-1:alert-2",
            "summary": "db-1 is down",
            "source": "db-1",
            "severity": "critical",
            "timestamp": "2024-05-01T12:00:00.000Z",
            "component": "postgres",
            "group": "prod",
            "class": "availability",
            "links": [{"href": "https://grafana.example.com/d/1", "text": "Dashboard"}],
            "customDetails": {"disk": "99%"},
            "images": [{"src": "https://img.example.com/graph.png", "href": "https://grafana.example.com", "alt": "graph"}],
            "client": "Herald",
            "clientUrl": "https://herald.example.com",
        }),
    ));
    assert_valid(params(
        "pagerduty",
        json!({"eventAction": "resolve", "dedupKey": "k"}),
    ));
    assert_valid(params("pagerduty", json!({"customDetails": "{\"a\": 1}"})));
    assert_violations(
        params(
            "pagerduty",
            json!({
                "eventAction": "resolve",
                "severity": "major",
                "summary": "x".repeat(1025),
                "timestamp": "yesterday",
                "customDetails": "not json",
                "images": [{"alt": "no src"}],
            }),
        ),
        &[
            "customDetails: must be an object or a string holding a JSON object",
            "dedupKey: required when eventAction is resolve",
            "images[0].src: required",
            "severity: must be one of: critical, error, warning, info, null",
            "summary: must be at most 1024 characters",
            "timestamp: must be an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z",
        ],
    );
    assert_violations(
        params(
            "pagerduty",
            json!({"eventAction": "acknowledge", "dedupKey": "k".repeat(256)}),
        ),
        &["dedupKey: must be at most 255 characters"],
    );
    assert_violations(
        params(
            "pagerduty",
            json!({"eventAction": "acknowledge", "dedupKey": ""}),
        ),
        &["dedupKey: required when eventAction is acknowledge"],
    );
}

#[test]
fn opsgenie() {
    assert_valid(account("opsgenie", json!({}), json!({"apiKey": "k"})));
    assert_valid(account(
        "opsgenie",
        json!({"apiUrl": "https://api.eu.opsgenie.com"}),
        json!({"apiKey": "k"}),
    ));
    assert_violations(
        account("opsgenie", json!({"apiUrl": "api.opsgenie.com"}), json!({})),
        &[
            "config.apiUrl: must be an absolute http(s) URL",
            "secrets.apiKey: required",
        ],
    );

    assert_valid(params(
        "opsgenie",
        json!({"subAction": "createAlert", "subActionParams": {
            "message": "db-1 is down",
            "alias": "rule-1",
            "priority": "P1",
            "responders": [{"name": "ops", "type": "team"}, {"username": "a@example.com", "type": "user"}],
            "visibleTo": [{"id": "u1", "type": "user"}, {"name": "ops", "type": "team"}],
            "actions": ["restart"],
            "tags": ["db"],
            "details": {"disk": "99%"},
            "entity": "db-1",
            "source": "Herald",
            "user": "herald",
            "note": "auto",
        }}),
    ));
    assert_valid(params(
        "opsgenie",
        json!({"subAction": "closeAlert", "subActionParams": {"alias": "rule-1"}}),
    ));
    assert_violations(
        params(
            "opsgenie",
            json!({"subAction": "createAlert", "subActionParams": {
                "message": "   ",
                "priority": "P6",
                "tags": vec!["t"; 21],
                "responders": [{"type": "team"}, {"username": "u", "type": "team"}],
                "visibleTo": [{"name": "u", "type": "user"}],
                "details": {"n": 1},
            }}),
        ),
        &[
            "subActionParams.details.n: must be a string",
            "subActionParams.message: must not be blank",
            "subActionParams.priority: must be one of: P1, P2, P3, P4, P5, null",
            "subActionParams.responders[0]: needs exactly one of name, id or username",
            "subActionParams.responders[1].username: cannot be used with type team",
            "subActionParams.tags: must have at most 20 items",
            "subActionParams.visibleTo[0].name: cannot be used with type user",
        ],
    );
    assert_violations(
        params(
            "opsgenie",
            json!({"subAction": "closeAlert", "subActionParams": {}}),
        ),
        &["subActionParams.alias: required"],
    );
    // The alias is a path segment of the close call.
    assert_violations(
        params(
            "opsgenie",
            json!({"subAction": "closeAlert", "subActionParams": {"alias": ".."}}),
        ),
        &["subActionParams.alias: must not be . or .."],
    );
    assert_violations(
        params("opsgenie", json!({"subAction": "createAlert"})),
        &["subActionParams: required"],
    );
    assert_violations(
        params("opsgenie", json!({"subActionParams": {"alias": "a"}})),
        &["subAction: must be one of: createAlert, closeAlert"],
    );
}

#[test]
fn jira() {
    let secrets = json!({"email": "bot@example.com", "apiToken": "t"});
    assert_valid(account(
        "jira",
        json!({"apiUrl": "https://example.atlassian.net", "projectKey": "OPS"}),
        secrets,
    ));
    assert_violations(
        account(
            "jira",
            json!({"apiUrl": "example.atlassian.net"}),
            json!({"email": "bot"}),
        ),
        &[
            "config.apiUrl: must be an absolute http(s) URL",
            "config.projectKey: required",
            "secrets.apiToken: required",
        ],
    );

    assert_valid(params(
        "jira",
        json!({"subAction": "pushToService", "subActionParams": {
            "incident": {"summary": "db-1 is down", "description": null, "issueType": "10001", "priority": "High",
                         "labels": ["db", "prod"], "parent": null, "externalId": null,
                         "otherFields": {"customfield_10010": "x"}},
            "comments": [{"comment": "first", "commentId": "1"}],
        }}),
    ));
    assert_violations(
        params("jira", json!({"subAction": "handshake"})),
        &["subAction: must be one of: pushToService"],
    );
    assert_violations(
        params(
            "jira",
            json!({"subAction": "pushToService", "subActionParams": {
                "incident": {"labels": ["a b"], "otherFields": {"summary": "x"}},
                "comments": [{"comment": "c"}],
            }}),
        ),
        &[
            "subActionParams.comments[0].commentId: required",
            "subActionParams.incident.labels[0]: must not contain spaces",
            "subActionParams.incident.otherFields.summary: cannot be set here; use the field of the same name",
            "subActionParams.incident.summary: required",
        ],
    );
    let many: serde_json::Map<String, Value> = (0..21)
        .map(|i| (format!("customfield_{i}"), json!(i)))
        .collect();
    assert_violations(
        params(
            "jira",
            json!({"subAction": "pushToService", "subActionParams": {"incident": {"summary": "s", "otherFields": many}}}),
        ),
        &["subActionParams.incident.otherFields: must have at most 20 entries"],
    );
}

#[test]
fn servicenow() {
    let config = json!({"apiUrl": "https://example.service-now.com/", "usesTableApi": false});
    assert_valid(account(
        "servicenow",
        config.clone(),
        json!({"username": "u", "password": "p"}),
    ));
    assert_valid(account(
        "servicenow",
        json!({"apiUrl": "https://example.service-now.com/", "isOAuth": true, "clientId": "c", "jwtKeyId": "k",
               "userIdentifierValue": "u@example.com"}),
        json!({"clientSecret": "s", "privateKey": "-----BEGIN RSA PRIVATE KEY-----", "username": null}),
    ));
    assert_violations(
        account(
            "servicenow",
            json!({"apiUrl": "https://example.service-now.com/", "isOAuth": true}),
            json!({}),
        ),
        &[
            "config.clientId: required when isOAuth is true",
            "config.jwtKeyId: required when isOAuth is true",
            "config.userIdentifierValue: required when isOAuth is true",
            "secrets.clientSecret: required when isOAuth is true",
            "secrets.privateKey: required when isOAuth is true",
        ],
    );
    assert_violations(
        account("servicenow", json!({}), json!({"username": "u"})),
        &[
            "config.apiUrl: required",
            "secrets.password: required when isOAuth is false",
        ],
    );

    assert_valid(params(
        "servicenow",
        json!({"subAction": "pushToService", "subActionParams": {
            "incident": {"short_description": "db-1 is down", "severity": "1", "urgency": "1", "impact": "1",
                         "correlation_id": null, "additional_fields": "{\"u_team\": \"ops\"}"},
            "comments": null,
        }}),
    ));
    assert_valid(params(
        "servicenow",
        json!({"subAction": "closeIncident", "subActionParams": {"incident": {"correlation_id": "r:a"}}}),
    ));
    assert_valid(params(
        "servicenow",
        json!({"subAction": "getChoices", "subActionParams": {"fields": ["priority"]}}),
    ));
    assert_violations(
        params(
            "servicenow",
            json!({"subAction": "pushToService", "subActionParams": {
                "incident": {"description": "d", "dest_ip": "10.0.0.1", "additional_fields": "not json"},
            }}),
        ),
        &[
            "subActionParams.incident.additional_fields: must be an object or a string holding a JSON object",
            "subActionParams.incident.dest_ip: unknown field",
            "subActionParams.incident.short_description: required",
        ],
    );
}

#[test]
fn servicenow_sir() {
    assert_valid(account(
        "servicenow-sir",
        json!({"apiUrl": "https://example.service-now.com/"}),
        json!({"username": "u", "password": "p"}),
    ));
    assert_violations(
        account(
            "servicenow-sir",
            json!({"apiUrl": "https://example.service-now.com/", "usesTableApi": "no"}),
            json!({}),
        ),
        &[
            "config.usesTableApi: must be a boolean",
            "secrets.password: required when isOAuth is false",
            "secrets.username: required when isOAuth is false",
        ],
    );

    assert_valid(params(
        "servicenow-sir",
        json!({"subAction": "pushToService", "subActionParams": {
            "incident": {"short_description": "malware", "dest_ip": ["10.0.0.1", "10.0.0.2"], "source_ip": "10.0.0.3",
                         "malware_hash": null, "malware_url": "https://bad.example.com/x", "priority": "1",
                         "additional_fields": {"u_x": 1}},
        }}),
    ));
    assert_violations(
        params(
            "servicenow-sir",
            json!({"subAction": "pushToService", "subActionParams": {
                "incident": {"short_description": "x", "dest_ip": 5, "severity": "1",
                             "additional_fields": {"correlation_id": "x"}},
            }}),
        ),
        &[
            "subActionParams.incident.additional_fields.correlation_id: cannot be set here; use the field of the same name",
            "subActionParams.incident.dest_ip: must be a string or an array or null",
            "subActionParams.incident.severity: unknown field",
        ],
    );
    assert_violations(
        params(
            "servicenow-sir",
            json!({"subAction": "closeIncident", "subActionParams": {"incident": {}}}),
        ),
        &[
            "subAction: must be one of: pushToService, getIncident, getFields, handshake, getChoices",
        ],
    );
}

#[test]
fn servicenow_itom() {
    assert_valid(account(
        "servicenow-itom",
        json!({"apiUrl": "https://example.service-now.com/"}),
        json!({"username": "u", "password": "p"}),
    ));
    assert_violations(
        account(
            "servicenow-itom",
            json!({"apiUrl": "https://example.service-now.com/", "usesTableApi": false}),
            json!({}),
        ),
        &[
            "config.usesTableApi: unknown field",
            "secrets.password: required when isOAuth is false",
            "secrets.username: required when isOAuth is false",
        ],
    );
    assert_valid(params(
        "servicenow-itom",
        json!({"subAction": "addEvent", "subActionParams": {
            "source": "Herald", "event_class": "disk", "resource": "/", "node": "db-1", "metric_name": "used",
            "type": "disk", "severity": "3", "description": "99%", "additional_info": "{}",
            "message_key": null, "time_of_event": "2024-05-01 12:00:00",
        }}),
    ));
    assert_violations(
        params(
            "servicenow-itom",
            json!({"subAction": "addEvent", "subActionParams": {"node": 1, "foo": "x"}}),
        ),
        &[
            "subActionParams.foo: unknown field",
            "subActionParams.node: must be a string or null",
        ],
    );
}

#[test]
fn xmatters() {
    assert_valid(account(
        "xmatters",
        json!({"configUrl": "https://acme.xmatters.com/api/integration/1/functions/x/triggers"}),
        json!({"user": "u", "password": "p"}),
    ));
    assert_valid(account(
        "xmatters",
        json!({"usesBasic": false, "configUrl": null}),
        json!({"secretsUrl": "https://acme.xmatters.com/triggers?apiKey=k"}),
    ));
    assert_violations(
        account(
            "xmatters",
            json!({"usesBasic": true}),
            json!({"secretsUrl": "https://acme.xmatters.com/t?apiKey=k"}),
        ),
        &[
            "config.configUrl: required when usesBasic is true",
            "secrets.password: required when usesBasic is true",
            "secrets.secretsUrl: must not be set when usesBasic is true",
            "secrets.user: required when usesBasic is true",
        ],
    );
    assert_violations(
        account(
            "xmatters",
            json!({"usesBasic": false, "configUrl": "https://acme.xmatters.com/t"}),
            json!({"user": "u"}),
        ),
        &[
            "config.configUrl: must not be set when usesBasic is false",
            "secrets.secretsUrl: required when usesBasic is false",
            "secrets.user: must not be set when usesBasic is false",
        ],
    );
    assert_valid(params(
        "xmatters",
        json!({"severity": "High", "alertActionGroupName": "default", "signalId": "a", "ruleName": "r",
               "date": "2024-05-01T12:00:00Z", "spaceId": "default", "tags": "db,prod"}),
    ));
    assert_violations(params("xmatters", json!({})), &["severity: required"]);
    assert_violations(
        params("xmatters", json!({"severity": 1, "tags": ["a"]})),
        &[
            "severity: must be a string",
            "tags: must be a string or null",
        ],
    );
}

#[test]
fn swimlane() {
    let field = |id: &str| json!({"id": id, "key": id, "name": id, "fieldType": "text"});
    assert_valid(account(
        "swimlane",
        json!({"apiUrl": "https://swimlane.example.com", "appId": "app", "connectorType": "alerts",
               "mappings": {"ruleNameConfig": field("r"), "alertIdConfig": field("a"), "caseIdConfig": null}}),
        json!({"apiToken": "t"}),
    ));
    assert_violations(
        account(
            "swimlane",
            json!({"apiUrl": "https://swimlane.example.com", "appId": "", "connectorType": "incidents",
                   "mappings": {"ruleNameConfig": {"id": "a"}, "priorityConfig": field("p")}}),
            json!({}),
        ),
        &[
            "config.appId: must not be empty",
            "config.connectorType: must be one of: all, alerts, cases, null",
            "config.mappings.priorityConfig: unknown field",
            "config.mappings.ruleNameConfig.fieldType: required",
            "config.mappings.ruleNameConfig.key: required",
            "config.mappings.ruleNameConfig.name: required",
            "secrets.apiToken: required",
        ],
    );
    assert_valid(params(
        "swimlane",
        json!({"subAction": "pushToService", "subActionParams": {
            "incident": {"ruleName": "r", "alertId": "a", "severity": "high", "caseName": null},
            "comments": [],
        }}),
    ));
    assert_violations(
        params(
            "swimlane",
            json!({"subAction": "pushToService", "subActionParams": {"incident": {"caseTitle": "x"}}}),
        ),
        &["subActionParams.incident.caseTitle: unknown field"],
    );
}

#[test]
fn resilient() {
    assert_valid(account(
        "resilient",
        json!({"apiUrl": "https://resilient.example.com", "orgId": "201"}),
        json!({"apiKeyId": "id", "apiKeySecret": "s"}),
    ));
    assert_violations(
        account(
            "resilient",
            json!({"apiUrl": "https://resilient.example.com"}),
            json!({"apiKeyId": "id"}),
        ),
        &["config.orgId: required", "secrets.apiKeySecret: required"],
    );
    assert_valid(params(
        "resilient",
        json!({"subAction": "pushToService", "subActionParams": {
            "incident": {"name": "db-1 is down", "incidentTypes": [1001, "1002"], "severityCode": 4,
                         "additionalFields": {"u_team": "ops"}},
        }}),
    ));
    assert_valid(params("resilient", json!({"subAction": "incidentTypes"})));
    assert_violations(
        params(
            "resilient",
            json!({"subAction": "pushToService", "subActionParams": {
                "incident": {"severityCode": true, "additionalFields": {"name": "x"}},
            }}),
        ),
        &[
            "subActionParams.incident.additionalFields.name: cannot be set here; use the field of the same name",
            "subActionParams.incident.name: required",
            "subActionParams.incident.severityCode: must be an integer or a string or null",
        ],
    );
}

#[test]
fn d3security() {
    assert_valid(account(
        "d3security",
        json!({"url": "https://d3.example.com/api/Data/Events"}),
        json!({"token": "t"}),
    ));
    assert_violations(
        account("d3security", json!({}), json!({})),
        &["config.url: required", "secrets.token: required"],
    );
    assert_valid(params(
        "d3security",
        json!({"subAction": "run", "subActionParams": {"body": "{\"a\": 1}", "severity": "high", "eventType": "alert"}}),
    ));
    assert_valid(params(
        "d3security",
        json!({"subAction": "test", "subActionParams": {}}),
    ));
    assert_violations(
        params(
            "d3security",
            json!({"subAction": "run", "subActionParams": {"body": 1}}),
        ),
        &["subActionParams.body: must be a string or null"],
    );
    assert_violations(
        params("d3security", json!({"subAction": "go"})),
        &["subAction: must be one of: run, test"],
    );
}

#[test]
fn tines() {
    assert_valid(account(
        "tines",
        json!({"url": "https://tenant.tines.com"}),
        json!({"email": "bot@example.com", "token": "t"}),
    ));
    assert_violations(
        account(
            "tines",
            json!({"url": "ftp://tenant.tines.com"}),
            json!({"email": "bot"}),
        ),
        &[
            "config.url: must be an absolute http(s) URL",
            "secrets.token: required",
        ],
    );
    assert_valid(params(
        "tines",
        json!({"subAction": "run", "subActionParams": {"webhookUrl": "https://tenant.tines.com/webhook/a/b", "body": "{}"}}),
    ));
    assert_valid(params(
        "tines",
        json!({"subAction": "run", "subActionParams": {
            "webhook": {"id": 1, "name": "alerts", "storyId": 2, "path": "p", "secret": "s"}, "body": "{}"}}),
    ));
    assert_valid(params("tines", json!({"subAction": "stories"})));
    assert_valid(params(
        "tines",
        json!({"subAction": "webhooks", "subActionParams": {"storyId": 2}}),
    ));
    assert_violations(
        params(
            "tines",
            json!({"subAction": "run", "subActionParams": {"body": "{}"}}),
        ),
        &["subActionParams.webhookUrl: required when webhook is absent"],
    );
    assert_violations(
        params(
            "tines",
            json!({"subAction": "webhooks", "subActionParams": {}}),
        ),
        &["subActionParams.storyId: required"],
    );
}

#[test]
fn torq() {
    assert_valid(account(
        "torq",
        json!({"webhookIntegrationUrl": "https://hooks.torq.io/v1/webhooks/abc"}),
        json!({"token": "t"}),
    ));
    assert_violations(
        account("torq", json!({}), json!({"token": ""})),
        &[
            "config.webhookIntegrationUrl: required",
            "secrets.token: must not be empty",
        ],
    );
    assert_valid(params("torq", json!({"body": "{\"alert\": \"db-1\"}"})));
    assert_violations(
        params("torq", json!({"body": "{oops"})),
        &["body: must be valid JSON"],
    );
    assert_violations(params("torq", json!({})), &["body: required"]);
}

#[test]
fn thehive() {
    assert_valid(account(
        "thehive",
        json!({"url": "https://thehive.example.com", "organisation": null}),
        json!({"apiKey": "k"}),
    ));
    assert_violations(
        account("thehive", json!({"organisation": "acme"}), json!({})),
        &["config.url: required", "secrets.apiKey: required"],
    );
    assert_valid(params(
        "thehive",
        json!({"subAction": "pushToService", "subActionParams": {
            "incident": {"title": "t", "description": "d", "severity": 3, "tlp": 0, "tags": ["a"], "externalId": null},
            "comments": [{"comment": "c", "commentId": "1"}],
        }}),
    ));
    assert_valid(params(
        "thehive",
        json!({"subAction": "createAlert", "subActionParams": {
            "title": "t", "description": "d", "type": "external", "source": "herald", "sourceRef": "r-1",
            "severity": 4, "isRuleSeverity": null, "tlp": 2, "tags": null, "body": null,
        }}),
    ));
    assert_violations(
        params(
            "thehive",
            json!({"subAction": "createAlert", "subActionParams": {"title": "t", "severity": 5, "tlp": -1}}),
        ),
        &[
            "subActionParams.description: required",
            "subActionParams.severity: must be 1..4",
            "subActionParams.source: required",
            "subActionParams.sourceRef: required",
            "subActionParams.tlp: must be 0..4",
            "subActionParams.type: required",
        ],
    );
}

#[test]
fn webhook() {
    assert_valid(account(
        "webhook",
        json!({"url": "https://hooks.example.com/alert", "method": "put", "headers": {"X-Team": "ops"}}),
        json!({"user": "u", "password": "p", "secretHeaders": {"X-Api-Key": "k"}}),
    ));
    assert_valid(account(
        "webhook",
        json!({"url": "https://hooks.example.com", "authType": "webhook-authentication-ssl", "certType": "ssl-crt-key",
               "verificationMode": "full", "ca": "LS0t"}),
        json!({"crt": "LS0t", "key": "LS0t", "password": "passphrase"}),
    ));
    assert_valid(account(
        "webhook",
        json!({"url": "https://hooks.example.com", "authType": "webhook-oauth2-client-credentials",
               "accessTokenUrl": "https://login.example.com/token", "clientId": "c", "scope": "alerts",
               "additionalFields": "{\"audience\": \"x\"}"}),
        json!({"clientSecret": "s"}),
    ));
    assert_valid(account(
        "webhook",
        json!({"url": "https://hooks.example.com", "authType": "webhook-authentication-bearer"}),
        json!({"token": "t"}),
    ));
    assert_violations(
        account(
            "webhook",
            json!({"url": "https://hooks.example.com", "authType": "webhook-authentication-bearer"}),
            json!({"token": "", "user": "u"}),
        ),
        &["secrets.token: required for bearer authentication"],
    );
    assert_valid(account(
        "webhook",
        json!({"url": "https://hooks.example.com", "hasAuth": false, "authType": null, "headers": null}),
        json!(null),
    ));

    assert_violations(
        account(
            "webhook",
            json!({"url": "https://hooks.example.com", "method": "head", "authType": "webhook-oauth2-client-credentials",
                   "additionalFields": "x"}),
            json!({"user": "u", "clientSecret": ""}),
        ),
        &[
            "config.accessTokenUrl: required for OAuth2 client credentials",
            "config.additionalFields: must be a string holding a JSON object",
            "config.clientId: required for OAuth2 client credentials",
            "config.method: must be one of: post, put, patch, get, delete, null",
            "secrets.clientSecret: required for OAuth2 client credentials",
        ],
    );
    assert_violations(
        account(
            "webhook",
            json!({"url": "https://hooks.example.com", "authType": "webhook-authentication-ssl"}),
            json!({}),
        ),
        &["config.certType: required when authType is webhook-authentication-ssl"],
    );
    assert_violations(
        account(
            "webhook",
            json!({"url": "https://hooks.example.com", "authType": "webhook-authentication-ssl", "certType": "ssl-pfx"}),
            json!({"user": "u", "password": "p", "crt": "c"}),
        ),
        &[
            "secrets.pfx: required for certType ssl-pfx",
            "secrets: use one kind of credential: user and password; crt and key; pfx; clientSecret; or token",
        ],
    );
    let headers: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("X-{i}"), json!("v"))).collect();
    assert_violations(
        account(
            "webhook",
            json!({"url": "https://hooks.example.com", "headers": headers, "authType": "basic"}),
            json!({"user": "u", "secretHeaders": {"X-1": "k"}}),
        ),
        &[
            "config.authType: must be one of: webhook-authentication-basic, webhook-authentication-ssl, \
             webhook-oauth2-client-credentials, http-authentication-query-param, \
             webhook-authentication-bearer, null",
            "config.headers: must have at most 20 entries",
            "secrets.password: required for basic authentication",
            "secrets.secretHeaders.X-1: also set in config.headers",
        ],
    );

    assert_valid(params("webhook", json!({"body": "{\"text\": \"hi\"}"})));
    assert_valid(params("webhook", json!({})));
    assert_violations(
        params("webhook", json!({"body": {"text": "hi"}, "method": "post"})),
        &["body: must be a string or null", "method: unknown field"],
    );
}

#[test]
fn cases_webhook() {
    let config = json!({
        "createIncidentUrl": "https://cases.example.com/api/issue",
        "createIncidentJson": "{\"title\": {{{case.title}}}}",
        "createIncidentResponseKey": "id",
        "getIncidentUrl": "https://cases.example.com/api/issue/{{{external.system.id}}}",
        "getIncidentResponseExternalTitleKey": "key",
        "viewIncidentUrl": "https://cases.example.com/browse/{{{external.system.title}}}",
        "updateIncidentUrl": "https://cases.example.com/api/issue/{{{external.system.id}}}",
        "updateIncidentMethod": "patch",
        "updateIncidentJson": "{\"title\": {{{case.title}}}}",
        "createCommentUrl": null,
        "createCommentMethod": null,
        "hasAuth": false,
    });
    assert_valid(account("cases-webhook", config, json!({})));
    assert_violations(
        account(
            "cases-webhook",
            json!({"createIncidentUrl": "https://cases.example.com/api/issue", "createIncidentMethod": "get",
                   "createCommentUrl": "https://cases.example.com/api/comment"}),
            json!({}),
        ),
        &[
            "config.createCommentJson: required when createCommentUrl is set",
            "config.createIncidentJson: required",
            "config.createIncidentMethod: must be one of: post, put, null",
            "config.getIncidentResponseExternalTitleKey: required",
            "config.getIncidentUrl: required",
            "config.updateIncidentJson: required",
            "config.updateIncidentUrl: required",
            "config.viewIncidentUrl: required",
            "secrets.password: required for basic authentication",
            "secrets.user: required for basic authentication",
        ],
    );
    assert_valid(params(
        "cases-webhook",
        json!({"subAction": "pushToService", "subActionParams": {
            "incident": {"title": "t", "description": "d", "tags": ["a"], "severity": null, "status": "open",
                         "id": "case-1", "externalId": null},
            "comments": [{"comment": "c", "commentId": "1"}],
        }}),
    ));
    assert_violations(
        params(
            "cases-webhook",
            json!({"subAction": "pushToService", "subActionParams": {"incident": {}}}),
        ),
        &["subActionParams.incident.title: required"],
    );
    assert_violations(
        params("cases-webhook", json!({"subAction": "getIncident"})),
        &["subAction: must be one of: pushToService"],
    );
}

#[test]
fn index() {
    // The default URL is a local Elasticsearch: loopback, so the policy
    // must list it.
    let local = json!({"index": "alerts", "refresh": true, "executionTimeField": null});
    assert_valid(account_with(
        "index",
        local.clone(),
        json!(null),
        &policy_hosts(&["*", "localhost"]),
    ));
    assert_violations(
        account("index", local, json!(null)),
        &[
            "config.url: host localhost is an internal address; policy.allowed_hosts must list it explicitly (* covers public hosts only)",
        ],
    );
    assert_valid(account(
        "index",
        json!({"index": "alerts", "url": "https://es.example.com:9200"}),
        json!({"apiKey": "aWQ6a2V5"}),
    ));
    assert_violations(
        account(
            "index",
            json!({"refresh": "yes", "url": "https://es.example.com"}),
            json!({"username": "elastic"}),
        ),
        &[
            "config.index: required",
            "config.refresh: must be a boolean",
            "secrets.password: required when username is set",
        ],
    );
    assert_valid(params(
        "index",
        json!({"documents": [{"rule": "r", "value": 1}], "indexOverride": "kibana-alert-history-ops"}),
    ));
    assert_violations(
        params("index", json!({"documents": [1], "indexOverride": "other"})),
        &[
            "documents[0]: must be an object",
            "indexOverride: must start with kibana-alert-history-",
        ],
    );
    assert_violations(params("index", json!({})), &["documents: required"]);
}

#[test]
fn server_log() {
    assert_valid(account("server-log", json!(null), json!({})));
    assert_violations(
        account("server-log", json!({"level": "info"}), json!("x")),
        &["config.level: unknown field", "secrets: must be an object"],
    );
    assert_valid(params(
        "server-log",
        json!({"message": "hello", "level": "warn"}),
    ));
    assert_violations(
        params("server-log", json!({"level": "verbose"})),
        &[
            "level: must be one of: trace, debug, info, warn, error, fatal",
            "message: required",
        ],
    );
}
