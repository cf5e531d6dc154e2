use std::time::Duration;

use crate::delivery::{Account, Connector, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{SlackApi, build, classify};
use crate::delivery::testing::{
    account, assert_no_secret, body_json as request_json, closed_port_url, delivered, delivery,
    headers, object, outbound, permanent, response, retry,
};

const TOKEN: &str = "xoxb-1234-SECRETTOKEN";

fn api_account(config: Value) -> Account {
    account("slack_api", config, json!({"token": TOKEN}))
}

fn post(channels: Value, text: &str) -> serde_json::Map<String, Value> {
    let mut sub = object(channels);
    sub.insert("text".into(), json!(text));
    object(json!({"subAction": "postMessage", "subActionParams": sub}))
}

// ------------------------------------------------------------- request

#[test]
fn post_message_to_the_default_api() {
    let request = build(
        &post(json!({"channelIds": ["C123"]}), "db-1 is down"),
        &api_account(json!({})),
    )
    .unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.url, "https://slack.com/api/chat.postMessage");
    assert_eq!(
        headers(&request),
        [
            ("authorization", "Bearer xoxb-1234-SECRETTOKEN"),
            ("content-type", "application/json; charset=UTF-8"),
        ]
    );
    assert_eq!(
        request_json(&request),
        json!({"channel": "C123", "text": "db-1 is down"})
    );
}

#[test]
fn api_url_is_overridable() {
    let account = api_account(json!({"apiUrl": "https://slack.example.com/api/"}));
    let request = build(&post(json!({"channelIds": ["C1"]}), "hi"), &account).unwrap();
    assert_eq!(
        request.url,
        "https://slack.example.com/api/chat.postMessage"
    );
    let account = api_account(json!({"apiUrl": null}));
    let request = build(&post(json!({"channelIds": ["C1"]}), "hi"), &account).unwrap();
    assert_eq!(request.url, "https://slack.com/api/chat.postMessage");
}

#[test]
fn post_blockkit_sends_the_blocks_of_the_text() {
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*db-1* is down"}}]);
    let text = json!({"blocks": blocks}).to_string();
    let params = object(json!({
        "subAction": "postBlockkit",
        "subActionParams": {"channelNames": ["#ops"], "text": text},
    }));
    let request = build(&params, &api_account(json!({}))).unwrap();
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.url, "https://slack.com/api/chat.postMessage");
    assert_eq!(
        headers(&request)[0],
        ("authorization", "Bearer xoxb-1234-SECRETTOKEN")
    );
    assert_eq!(
        request_json(&request),
        json!({"channel": "#ops", "blocks": blocks})
    );
}

#[test]
fn post_blockkit_text_must_hold_blocks() {
    for text in ["not json", "[1, 2]", "{\"text\": \"hi\"}"] {
        let params = object(json!({
            "subAction": "postBlockkit",
            "subActionParams": {"channelIds": ["C1"], "text": text},
        }));
        let outcome = build(&params, &api_account(json!({}))).unwrap_err();
        assert_eq!(
            permanent(outcome),
            (
                ErrorKind::InvalidParams,
                "subActionParams.text: must be a JSON object with a \"blocks\" field".to_owned()
            ),
            "{text}"
        );
    }
}

#[test]
fn valid_channel_id_looks_the_channel_up() {
    let params =
        object(json!({"subAction": "validChannelId", "subActionParams": {"channelId": "C1 2&x"}}));
    let request = build(
        &params,
        &api_account(json!({"apiUrl": "https://slack.example.com/api"})),
    )
    .unwrap();
    assert_eq!(request.method, http::Method::GET);
    assert_eq!(
        request.url,
        "https://slack.example.com/api/conversations.info?channel=C1+2%26x"
    );
    assert_eq!(
        headers(&request),
        [("authorization", "Bearer xoxb-1234-SECRETTOKEN")]
    );
    assert_eq!(request.body, None);
}

#[test]
fn channel_priority_takes_the_first_of_the_first_field_given() {
    let cases = [
        (
            json!({"channelNames": ["#ops", "#dev"], "channelIds": ["C1"], "channels": ["legacy"]}),
            "#ops",
        ),
        (
            json!({"channelNames": [], "channelIds": ["C1", "C2"], "channels": ["legacy"]}),
            "C1",
        ),
        (
            json!({"channelIds": [], "channels": ["legacy", "other"]}),
            "legacy",
        ),
    ];
    for (channels, expected) in cases {
        let request = build(&post(channels, "hi"), &api_account(json!({}))).unwrap();
        assert_eq!(request_json(&request)["channel"], expected);
    }
}

#[test]
fn allowed_channels_are_enforced() {
    let account = api_account(json!({
        "allowedChannels": [{"id": "C1", "name": "ops"}, {"name": "#dev"}],
    }));
    let allowed = [
        json!({"channelIds": ["C1"]}),
        json!({"channelNames": ["#ops"]}),
        json!({"channelNames": ["#dev"]}),
        json!({"channels": ["ops"]}),
        json!({"channels": ["C1"]}),
        // Only the first channel is used, so only it is checked.
        json!({"channelNames": ["#ops"], "channelIds": ["C9"]}),
    ];
    for channels in allowed {
        assert!(
            build(&post(channels.clone(), "hi"), &account).is_ok(),
            "{channels}"
        );
    }
    let refused = [
        (
            json!({"channelIds": ["C9"]}),
            "subActionParams.channelIds[0]: channel \"C9\"",
        ),
        (
            json!({"channelIds": ["ops"]}),
            "subActionParams.channelIds[0]: channel \"ops\"",
        ),
        (
            json!({"channelNames": ["#random"]}),
            "subActionParams.channelNames[0]: channel \"#random\"",
        ),
        (
            json!({"channels": ["random"]}),
            "subActionParams.channels[0]: channel \"random\"",
        ),
    ];
    for (channels, start) in refused {
        let (kind, reason) = permanent(build(&post(channels, "hi"), &account).unwrap_err());
        assert_eq!(kind, ErrorKind::Policy);
        assert_eq!(
            reason,
            format!("{start} is not in the account's config.allowedChannels")
        );
    }
}

#[test]
fn bad_params_name_the_field() {
    let cases = [
        (json!({}), "subAction: required"),
        (
            json!({"subAction": "deleteMessage"}),
            "subAction: must be validChannelId, postMessage, postBlockkit, updateMessage or updateBlockkit",
        ),
        (
            json!({"subAction": "postMessage", "subActionParams": {"text": "hi"}}),
            "subActionParams.channelIds: required: give channelIds or channelNames",
        ),
        (
            json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C1"]}}),
            "subActionParams.text: required",
        ),
        (
            json!({"subAction": "postMessage", "subActionParams": {"channelIds": "C1", "text": "hi"}}),
            "subActionParams.channelIds: must be an array",
        ),
        (
            json!({"subAction": "postMessage", "subActionParams": {"channelIds": [""], "text": "hi"}}),
            "subActionParams.channelIds[0]: must be a non-empty string",
        ),
        (
            json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C1"], "text": "hi", "ts": "1"}}),
            "subActionParams.ts: unknown field",
        ),
        (
            json!({"subAction": "postMessage", "subActionParams": "x"}),
            "subActionParams: must be an object",
        ),
        (
            json!({"subAction": "validChannelId"}),
            "subActionParams: required",
        ),
        (
            json!({"subAction": "validChannelId", "subActionParams": {}}),
            "subActionParams.channelId: required",
        ),
        (
            json!({"subAction": "validChannelId", "subActionParams": {"channelId": "C1"}, "x": 1}),
            "x: unknown field",
        ),
    ];
    for (params, expected) in cases {
        let outcome = build(&object(params), &api_account(json!({}))).unwrap_err();
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidParams, expected.to_owned())
        );
    }
}

#[test]
fn bad_accounts_name_the_field_never_the_token() {
    let params = post(json!({"channelIds": ["C1"]}), "hi");
    let cases = [
        (
            account("slack_api", json!({}), json!({})),
            "secrets.token: required",
        ),
        (
            account("slack_api", json!({}), json!({"token": ""})),
            "secrets.token: must not be empty",
        ),
        (
            account(
                "slack_api",
                json!({}),
                json!({"token": TOKEN, "webhookUrl": "x"}),
            ),
            "secrets.webhookUrl: unknown field",
        ),
        (
            api_account(json!({"apiUrl": "slack.com/api"})),
            "config.apiUrl: must be an absolute http(s) URL",
        ),
        (
            api_account(json!({"allowedChannels": [{"id": "C1"}]})),
            "config.allowedChannels[0].name: required",
        ),
        (
            api_account(json!({"allowedChannels": ["ops"]})),
            "config.allowedChannels[0]: must be an object",
        ),
        (
            api_account(json!({"channel": "#ops"})),
            "config.channel: unknown field",
        ),
    ];
    for (account, expected) in cases {
        let outcome = build(&params, &account).unwrap_err();
        assert_no_secret(&outcome, &[TOKEN]);
        assert_eq!(
            permanent(outcome),
            (ErrorKind::InvalidConfig, expected.to_owned())
        );
    }
}

// ------------------------------------------------------------- response

#[test]
fn ok_true_is_delivered_with_ts_and_channel() {
    let body = json!({"ok": true, "channel": "C123", "ts": "1503435956.000247", "message": {"text": "hi"}});
    assert_eq!(
        delivered(classify(&response(200, &[], &body.to_string()))),
        [
            ("channel".into(), "C123".into()),
            ("ts".into(), "1503435956.000247".into())
        ]
    );
    let info = json!({"ok": true, "channel": {"id": "C123", "name": "ops"}});
    assert_eq!(
        delivered(classify(&response(200, &[], &info.to_string()))),
        [("channel".into(), "C123".into())]
    );
}

#[test]
fn ok_false_error_codes() {
    let cases = [
        ("invalid_auth", ErrorKind::Auth),
        ("not_authed", ErrorKind::Auth),
        ("account_inactive", ErrorKind::Auth),
        ("token_revoked", ErrorKind::Auth),
        ("missing_scope", ErrorKind::Auth),
        ("channel_not_found", ErrorKind::VendorRejected),
        ("not_in_channel", ErrorKind::VendorRejected),
        ("is_archived", ErrorKind::VendorRejected),
        ("invalid_blocks", ErrorKind::InvalidParams),
        ("msg_too_long", ErrorKind::InvalidParams),
        ("restricted_action", ErrorKind::VendorRejected),
    ];
    for (code, expected) in cases {
        let body = json!({"ok": false, "error": code}).to_string();
        let outcome = classify(&response(200, &[], &body));
        let Outcome::Permanent {
            kind,
            reason,
            response,
        } = outcome
        else {
            panic!("{code}: {outcome:?}")
        };
        assert_eq!(kind, expected, "{code}");
        assert!(reason.contains(code), "{reason}");
        assert_eq!(response.unwrap().body, body);
    }
    let (_, reason) = permanent(classify(&response(
        200,
        &[],
        r#"{"ok":false,"error":"restricted_action"}"#,
    )));
    assert_eq!(reason, "the Slack API refused the call (restricted_action)");
    let (_, reason) = permanent(classify(&response(200, &[], r#"{"ok":false}"#)));
    assert_eq!(reason, "the Slack API refused the call (unknown_error)");
}

#[test]
fn ok_false_temporary_codes_are_retried() {
    let (kind, after, reason) = retry(classify(&response(
        200,
        &[("retry-after", "2")],
        r#"{"ok":false,"error":"ratelimited"}"#,
    )));
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );
    assert_eq!(
        reason,
        "the Slack API is rate limiting this token (ratelimited)"
    );
    for code in [
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    ] {
        let body = json!({"ok": false, "error": code}).to_string();
        let (kind, after, reason) = retry(classify(&response(200, &[], &body)));
        assert_eq!((kind, after), (ErrorKind::VendorTemporary, None));
        assert_eq!(reason, format!("the Slack API failed on its side ({code})"));
    }
}

#[test]
fn a_2xx_without_json_is_rejected() {
    let (kind, reason) = permanent(classify(&response(200, &[], "<html>login</html>")));
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert_eq!(
        reason,
        "the Slack API answered 200 without a JSON object (<html>login</html>): check config.apiUrl"
    );
}

#[test]
fn error_statuses() {
    let (kind, after, reason) = retry(classify(&response(
        429,
        &[("retry-after", "2")],
        r#"{"ok":false,"error":"ratelimited"}"#,
    )));
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );
    assert_eq!(reason, "the Slack API is rate limiting this token (429)");
    for status in [500, 502, 503] {
        let (kind, _, reason) = retry(classify(&response(status, &[], "")));
        assert_eq!(
            (kind, reason),
            (
                ErrorKind::VendorTemporary,
                format!("the Slack API answered {status}")
            )
        );
    }
    let (kind, reason) = permanent(classify(&response(
        401,
        &[],
        r#"{"ok":false,"error":"invalid_auth"}"#,
    )));
    assert_eq!(
        (kind, reason.as_str()),
        (
            ErrorKind::Auth,
            "the Slack API refused the token (401: invalid_auth): check secrets.token"
        )
    );
    let (kind, reason) = permanent(classify(&response(404, &[], "")));
    assert_eq!(
        (kind, reason.as_str()),
        (
            ErrorKind::InvalidConfig,
            "the Slack API answered 404: check config.apiUrl"
        )
    );
    let (kind, reason) = permanent(classify(&response(
        400,
        &[],
        r#"{"ok":false,"error":"invalid_json"}"#,
    )));
    assert_eq!(
        (kind, reason.as_str()),
        (
            ErrorKind::VendorRejected,
            "the Slack API answered 400: invalid_json"
        )
    );
}

// ------------------------------------------------------------- through the network

async fn post_message(answer: ResponseTemplate) -> Outcome {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-1234-SECRETTOKEN"))
        .and(header("content-type", "application/json; charset=UTF-8"))
        .and(body_json(
            json!({"channel": "C123", "text": "db-1 is down"}),
        ))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let account = api_account(json!({"apiUrl": format!("{}/api", server.uri())}));
    let params = json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C123"], "text": "db-1 is down"}});
    let outcome = SlackApi
        .deliver(&delivery(account, params), &outbound())
        .await;
    server.verify().await;
    assert_no_secret(&outcome, &[TOKEN]);
    outcome
}

fn json_answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

#[tokio::test]
async fn posts_over_http() {
    let outcome = post_message(json_answer(
        200,
        json!({"ok": true, "channel": "C123", "ts": "1.2"}),
    ))
    .await;
    assert_eq!(
        delivered(outcome),
        [
            ("channel".into(), "C123".into()),
            ("ts".into(), "1.2".into())
        ]
    );
}

#[tokio::test]
async fn posts_blockkit_over_http() {
    let server = MockServer::start().await;
    let blocks = json!([{"type": "divider"}]);
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-1234-SECRETTOKEN"))
        .and(body_json(json!({"channel": "#ops", "blocks": blocks})))
        .respond_with(json_answer(
            200,
            json!({"ok": true, "channel": "C9", "ts": "3.4"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let account = api_account(json!({
        "apiUrl": format!("{}/api", server.uri()),
        "allowedChannels": [{"name": "ops"}],
    }));
    let params = json!({
        "subAction": "postBlockkit",
        "subActionParams": {"channelNames": ["#ops"], "text": json!({"blocks": blocks}).to_string()},
    });
    let outcome = SlackApi
        .deliver(&delivery(account, params), &outbound())
        .await;
    server.verify().await;
    assert_eq!(
        delivered(outcome),
        [("channel".into(), "C9".into()), ("ts".into(), "3.4".into())]
    );
}

#[tokio::test]
async fn looks_a_channel_up_over_http() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/conversations.info"))
        .and(query_param("channel", "C123"))
        .and(header("authorization", "Bearer xoxb-1234-SECRETTOKEN"))
        .respond_with(json_answer(
            200,
            json!({"ok": true, "channel": {"id": "C123", "name": "ops"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let account = api_account(json!({"apiUrl": format!("{}/api", server.uri())}));
    let params = json!({"subAction": "validChannelId", "subActionParams": {"channelId": "C123"}});
    let outcome = SlackApi
        .deliver(&delivery(account, params), &outbound())
        .await;
    server.verify().await;
    assert_eq!(delivered(outcome), [("channel".into(), "C123".into())]);
}

#[tokio::test]
async fn a_channel_outside_the_allowlist_is_never_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let account = api_account(json!({
        "apiUrl": format!("{}/api", server.uri()),
        "allowedChannels": [{"id": "C1", "name": "ops"}],
    }));
    let params = json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C123"], "text": "hi"}});
    let outcome = SlackApi
        .deliver(&delivery(account, params), &outbound())
        .await;
    server.verify().await;
    assert_eq!(permanent(outcome).0, ErrorKind::Policy);
}

#[tokio::test]
async fn classifies_answers_over_http() {
    let outcome = post_message(json_answer(
        200,
        json!({"ok": false, "error": "channel_not_found"}),
    ))
    .await;
    assert_eq!(permanent(outcome).0, ErrorKind::VendorRejected);
    let outcome = post_message(json_answer(
        200,
        json!({"ok": false, "error": "invalid_auth"}),
    ))
    .await;
    assert_eq!(permanent(outcome).0, ErrorKind::Auth);
    let outcome = post_message(json_answer(
        400,
        json!({"ok": false, "error": "invalid_json"}),
    ))
    .await;
    assert_eq!(permanent(outcome).0, ErrorKind::VendorRejected);
    for status in [401, 403] {
        let outcome = post_message(json_answer(
            status,
            json!({"ok": false, "error": "not_authed"}),
        ))
        .await;
        assert_eq!(permanent(outcome).0, ErrorKind::Auth);
    }
    assert_eq!(
        permanent(post_message(ResponseTemplate::new(404)).await).0,
        ErrorKind::InvalidConfig
    );
    let limited = json_answer(429, json!({"ok": false, "error": "ratelimited"}))
        .insert_header("retry-after", "2");
    let (kind, after, _) = retry(post_message(limited).await);
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );
    for status in [500, 503] {
        assert_eq!(
            retry(post_message(ResponseTemplate::new(status)).await).0,
            ErrorKind::VendorTemporary
        );
    }
}

#[tokio::test]
async fn an_unreachable_api_is_retried_without_showing_the_token() {
    let account = api_account(json!({"apiUrl": format!("{}/api", closed_port_url())}));
    let params = json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C1"], "text": "hi"}});
    let outcome = SlackApi
        .deliver(&delivery(account, params), &outbound())
        .await;
    assert_no_secret(&outcome, &[TOKEN]);
    assert_eq!(retry(outcome).0, ErrorKind::Network);
}

#[tokio::test]
async fn no_outcome_shows_the_token() {
    let params = json!({"subAction": "postMessage", "subActionParams": {"channelIds": ["C1"], "text": "hi"}});
    let server = MockServer::start().await;
    // One client for the whole test: building one loads the root certificates.
    let outbound = outbound();
    for answer in crate::delivery::testing::answers() {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let account = api_account(json!({"apiUrl": format!("{}/api", server.uri())}));
        let outcome = SlackApi
            .deliver(&delivery(account, params.clone()), &outbound)
            .await;
        assert_no_secret(&outcome, &[TOKEN, "SECRETTOKEN"]);
    }
    let refused = api_account(json!({"allowedChannels": [{"name": "ops"}]}));
    let outcome = SlackApi
        .deliver(&delivery(refused, params), &outbound)
        .await;
    assert_no_secret(&outcome, &[TOKEN, "SECRETTOKEN"]);
}

// ------------------------------------------------------------- updates and threads (Herald extensions)

/// A resolve's follow-up: `chat.update` of the first message by its `ts`
/// in its channel, then a reply in its thread; the handles stay the first
/// message's, with the reply's `ts` beside them.
#[tokio::test]
async fn update_blockkit_edits_the_message_then_replies_in_its_thread() {
    let server = MockServer::start().await;
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "resolved"}}]);
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .and(header("authorization", "Bearer xoxb-1234-SECRETTOKEN"))
        .and(header("content-type", "application/json; charset=UTF-8"))
        .and(body_json(
            json!({"channel": "C123", "ts": "1700000000.000100", "blocks": blocks}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "channel": "C123", "ts": "1700000000.000100", "text": ""}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-1234-SECRETTOKEN"))
        .and(body_json(json!({
            "channel": "C123", "thread_ts": "1700000000.000100", "text": "Resolved",
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": "C123", "ts": "1700000600.000200"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // An allowlist that names the channel only by name: updates are not
    // checked against it (see the spec).
    let account = api_account(json!({
        "apiUrl": format!("{}/api", server.uri()),
        "allowedChannels": [{"name": "ops"}],
    }));
    let params = json!({"subAction": "updateBlockkit", "subActionParams": {
        "channelId": "C123", "ts": "1700000000.000100",
        "text": json!({"blocks": blocks}).to_string(), "threadReply": "Resolved",
    }});
    let outcome = SlackApi
        .deliver(&delivery(account, params), &outbound())
        .await;
    server.verify().await;
    assert_eq!(
        delivered(outcome),
        [
            ("channel".into(), "C123".into()),
            ("reply_ts".into(), "1700000600.000200".into()),
            ("ts".into(), "1700000000.000100".into()),
        ]
    );
}

#[tokio::test]
async fn a_failed_thread_reply_is_reported_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .and(body_json(
            json!({"channel": "C123", "ts": "1.2", "text": "done"}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": "C123", "ts": "1.2"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "is_archived"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let account = api_account(json!({"apiUrl": format!("{}/api", server.uri())}));
    let params = json!({"subAction": "updateMessage", "subActionParams": {
        "channelId": "C123", "ts": "1.2", "text": "done", "threadReply": "Resolved",
    }});
    let handles = delivered(
        SlackApi
            .deliver(&delivery(account, params), &outbound())
            .await,
    );
    server.verify().await;
    let failed = handles
        .iter()
        .find(|(name, _)| name == "thread_reply_failed");
    assert!(
        failed.is_some_and(|(_, reason)| reason.contains("is_archived")),
        "{handles:?}"
    );
}

#[test]
fn thread_ts_posts_a_reply_in_the_thread() {
    let params = json!({"subAction": "postMessage", "subActionParams": {
        "channelIds": ["C123"], "text": "still firing", "threadTs": "1700000000.000100",
    }});
    let request = build(&object(params), &api_account(json!({}))).unwrap();
    assert_eq!(request.url, "https://slack.com/api/chat.postMessage");
    assert_eq!(
        request_json(&request),
        json!({"channel": "C123", "text": "still firing", "thread_ts": "1700000000.000100"})
    );
}
