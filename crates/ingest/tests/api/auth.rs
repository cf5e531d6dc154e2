//! Bearer tokens: none or unknown is UNAUTHENTICATED / 401, a known token
//! of a role that may not submit is PERMISSION_DENIED / 403.

use herald_proto::v1;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::*;

fn event() -> Value {
    json!({"actions": [{"account_id": "ops-slack", "params": {"message": "hi"}}]})
}

#[tokio::test]
async fn callers_need_a_producer_or_admin_token() {
    let app = TestApp::start().await;

    let mut grpc = app.grpc.clone();
    let code =
        |r: Result<tonic::Response<v1::SubmitResponse>, tonic::Status>| r.unwrap_err().code();
    assert_eq!(
        code(grpc.submit(tonic::Request::new(request(&event()))).await),
        Code::Unauthenticated
    );
    assert_eq!(
        code(
            grpc.submit(authed("not-a-known-token-at-all", request(&event())))
                .await
        ),
        Code::Unauthenticated
    );
    assert_eq!(
        code(grpc.submit(authed(SERVICE, request(&event()))).await),
        Code::PermissionDenied
    );
    let status = grpc
        .get_action_status(authed(
            SERVICE,
            v1::GetActionStatusRequest {
                action_id: "x".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    for (token, expected, code) in [
        (None, 401, "unauthenticated"),
        (Some("not-a-known-token-at-all"), 401, "unauthenticated"),
        (Some(SERVICE), 403, "permission_denied"),
    ] {
        let response = app.post_event(token, &event()).await;
        assert_eq!(response.status(), expected);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
        assert_eq!(app.get_status(token, "some-id").await.status(), expected);
    }
    assert_eq!(app.action_count().await, 0);

    // Health and metrics stay open.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let response = app.http.get(app.http_url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let metrics = app
        .http
        .get(app.http_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("herald_ingest_events_total"));
    assert!(!metrics.contains(PRODUCER) && !metrics.contains(SERVICE));
}
