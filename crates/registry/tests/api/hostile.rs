//! Input no well-behaved client sends: bytes that are not protobuf, names
//! with control characters, ids of a megabyte. Each is bad input
//! (`INVALID_ARGUMENT` naming the field) or an unknown id, quoted short.

use herald_config::PreconfiguredAccount;
use herald_proto::v1;
use herald_test_support::grpc::unary_raw;
use prost::Message;
use serde_json::json;
use tonic::Code;

use crate::helpers::*;

async fn channel(registry: &TestRegistry) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(registry.server.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn undecodable_protobuf_is_invalid_argument() {
    let registry = TestRegistry::start().await;
    let channel = channel(&registry).await;
    let valid = v1::PutAccountRequest {
        account: Some(slack("ops-slack", "https://hooks.slack.com/services/T/B/X")),
    }
    .encode_to_vec();
    let mut truncated = valid.clone();
    truncated.truncate(valid.len() / 2);
    // Field 1 as a varint where a message is expected.
    let wrong_wire_type = vec![0x08, 0x01];
    // Struct nested past prost's recursion limit of 100.
    let mut deep = json!("x");
    for _ in 0..120 {
        deep = json!({ "k": deep });
    }
    let too_deep = v1::PutAccountRequest {
        account: Some(account(
            "deep",
            "webhook",
            json!({"url": "https://example.com", "nested": deep}),
            json!({}),
        )),
    }
    .encode_to_vec();

    for (what, path, bytes) in [
        (
            "garbage",
            "/herald.v1.AccountRegistry/PutAccount",
            vec![0xff; 16],
        ),
        (
            "truncated",
            "/herald.v1.AccountRegistry/PutAccount",
            truncated,
        ),
        (
            "wrong wire type",
            "/herald.v1.AccountRegistry/PutAccount",
            wrong_wire_type.clone(),
        ),
        (
            "too deep",
            "/herald.v1.AccountRegistry/PutAccount",
            too_deep,
        ),
        (
            "garbage",
            "/herald.v1.AccountRegistry/GetAccount",
            vec![0xff; 16],
        ),
        (
            "wrong wire type",
            "/herald.v1.AccountRegistry/DeleteAccount",
            wrong_wire_type,
        ),
    ] {
        let status = unary_raw(channel.clone(), path, ADMIN, bytes)
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{what} {path}: {status:?}"
        );
        assert!(
            status
                .message()
                .starts_with("failed to decode Protobuf message"),
            "{what}: {}",
            status.message()
        );
    }
    // The valid encoding goes through the same path and is served.
    let answer = unary_raw(
        channel,
        "/herald.v1.AccountRegistry/PutAccount",
        ADMIN,
        valid,
    )
    .await
    .unwrap();
    assert_eq!(v1::Account::decode(&answer[..]).unwrap().id, "ops-slack");
}

#[tokio::test]
async fn account_names_with_control_characters_are_refused() {
    let mut registry = TestRegistry::start().await;
    for name in [
        "Ops\r\nforged: line",
        "Ops\0",
        "\u{1b}[2Jclear",
        "Ops\u{2028}",
    ] {
        let mut a = slack("ops-slack", "https://hooks.slack.com/services/T/B/X");
        a.name = name.into();
        let status = registry.client.put_account(put(a)).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{name:?}");
        assert!(
            status
                .message()
                .contains("name: must not contain control characters (U+"),
            "{}",
            status.message()
        );
    }
    let gone = registry
        .client
        .get_account(authed(
            ADMIN,
            v1::GetAccountRequest {
                id: "ops-slack".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);

    // A preconfigured account is held to the same rule, at start.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.config.preconfigured = vec![PreconfiguredAccount {
        id: herald_catalog::account::AccountId::parse("ops-log").unwrap(),
        name: "Ops\nlog".into(),
        connector_type: "server-log".into(),
        config: Default::default(),
        secrets: Default::default(),
        expose_config: false,
    }];
    let error = herald_registry::Server::start(settings)
        .await
        .err()
        .expect("refused at start");
    assert!(
        format!("{error:#}").contains(
            "preconfigured account ops-log: name: must not contain control characters (U+000A at character 4)"
        ),
        "{error:#}"
    );
    // Names without control characters still save, unicode included.
    let mut a = slack("ops-slack", "https://hooks.slack.com/services/T/B/X");
    a.name = "Équipe d'astreinte 🚨".into();
    let saved = registry
        .client
        .put_account(put(a))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(saved.name, "Équipe d'astreinte 🚨");
}

#[tokio::test]
async fn huge_ids_are_refused_and_unknown_ids_quoted_short() {
    let mut registry = TestRegistry::start().await;
    let huge = "a".repeat(1 << 20);
    let get = registry
        .client
        .get_account(authed(PRODUCER, v1::GetAccountRequest { id: huge.clone() }))
        .await
        .unwrap_err();
    let delete = registry
        .client
        .delete_account(authed(
            ADMIN,
            v1::DeleteAccountRequest {
                id: huge.clone(),
                version: 0,
            },
        ))
        .await
        .unwrap_err();
    let resolve = registry
        .client
        .resolve_account(authed(SERVICE, v1::ResolveAccountRequest { id: huge }))
        .await
        .unwrap_err();
    for status in [get, delete, resolve] {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(
            status.message(),
            "invalid account: id: must be at most 128 characters ([A-Za-z0-9][A-Za-z0-9._-]{0,127})"
        );
    }

    // Short enough to be looked up, not an id: unknown, quoted escaped.
    let odd = format!("Nope\r\n{}", "x".repeat(57));
    let status = registry
        .client
        .get_account(authed(PRODUCER, v1::GetAccountRequest { id: odd }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(
        status.message(),
        format!("account Nope\\r\\n{} does not exist", "x".repeat(57))
    );

    // An unknown connector type is quoted short too.
    let mut a = slack("ops-slack", "https://hooks.slack.com/services/T/B/X");
    a.connector_type = "t".repeat(1 << 20);
    let status = registry.client.put_account(put(a)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().len() < 200, "{}", status.message());
    assert!(
        status.message().contains(&format!(
            "connector_type: unknown connector type {}…",
            "t".repeat(64)
        )),
        "{}",
        status.message()
    );
}
