use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::delivery::testing::{
    account, assert_no_secret, assert_secrets_hidden, body_json, delivered, delivery, object,
    outbound, permanent, retry,
};
use crate::delivery::{Account, Connector, HttpRequest, Outcome};
use herald_proto::v1::ErrorKind;
use serde_json::{Value, json};
use wiremock::matchers::{body_json as body_is, header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::request::region_of;
use super::{Bedrock, build};

const ACCESS_KEY: &str = "AKIAHERALDTEST0001";
const SECRET: &str = "s3cr3t/SIGNING+KEY-never-shown-0123456789";
const MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const MODEL_PATH: &str = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke";

fn bedrock_account(api_url: &str, default_model: Option<&str>) -> Account {
    let mut config = json!({"apiUrl": api_url});
    if let Some(model) = default_model {
        config["defaultModel"] = json!(model);
    }
    account(
        "bedrock",
        config,
        json!({"accessKey": ACCESS_KEY, "secret": SECRET}),
    )
}

async fn deliver(account: Account, params: Value) -> Outcome {
    Bedrock
        .deliver(&delivery(account, params), &outbound())
        .await
}

fn run(body: &str) -> Value {
    json!({"subAction": "run", "subActionParams": {"body": body}})
}

fn answer() -> Value {
    json!({
        "id": "msg_bdrk_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-sonnet-20240620",
        "content": [
            {"type": "text", "text": "Disk is full "},
            {"type": "text", "text": "on db-1."}
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 25, "output_tokens": 9}
    })
}

fn handles() -> Vec<(String, String)> {
    [
        ("input_tokens", "25"),
        ("message", "Disk is full on db-1."),
        ("model", "claude-3-5-sonnet-20240620"),
        ("output_tokens", "9"),
        ("stop_reason", "end_turn"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

// An independent SigV4 verifier, written from AWS's documented algorithm
// (canonical request, string to sign, derived signing key, HMAC-SHA256),
// sharing no code with the signer.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// AWS's URI encoding of one path segment.
fn aws_encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What the verifier needs of a request as it went out.
struct Sent<'a> {
    method: &'a str,
    /// The path as sent (already percent-encoded once).
    path: &'a str,
    /// Every header as sent, names lower case.
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

/// The signature `authorization` should carry, and the fields it names.
struct Authorization {
    access_key: String,
    date: String,
    region: String,
    service: String,
    signed_headers: String,
    signature: String,
}

fn parse_authorization(value: &str) -> Authorization {
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .unwrap_or_else(|| panic!("not SigV4: {value}"));
    let field = |name: &str| {
        rest.split(", ")
            .find_map(|part| part.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {value}"))
            .to_owned()
    };
    let credential = field("Credential=");
    let scope: Vec<&str> = credential.split('/').collect();
    assert_eq!(scope.len(), 5, "{credential}");
    assert_eq!(scope[4], "aws4_request");
    Authorization {
        access_key: scope[0].into(),
        date: scope[1].into(),
        region: scope[2].into(),
        service: scope[3].into(),
        signed_headers: field("SignedHeaders="),
        signature: field("Signature="),
    }
}

/// The signature of `sent` by AWS's algorithm, for the scope and the
/// signed headers `auth` names. Non-S3 services double-encode the path:
/// each segment as sent is URI-encoded again.
fn expected_signature(sent: &Sent<'_>, auth: &Authorization, secret: &str) -> String {
    let header = |name: &str| {
        let values: Vec<&str> = sent
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .collect();
        assert!(!values.is_empty(), "signed header {name} not sent");
        values.join(",")
    };
    let canonical_uri: Vec<String> = sent.path.split('/').map(aws_encode).collect();
    let canonical_headers: String = auth
        .signed_headers
        .split(';')
        .map(|name| format!("{name}:{}\n", header(name)))
        .collect();
    let canonical_request = format!(
        "{}\n{}\n\n{canonical_headers}\n{}\n{}",
        sent.method,
        canonical_uri.join("/"),
        auth.signed_headers,
        hex(&Sha256::digest(sent.body))
    );
    let amz_date = header("x-amz-date");
    assert!(
        amz_date.starts_with(&auth.date),
        "{amz_date} vs {}",
        auth.date
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), &auth.date);
    let k_region = hmac(&k_date, &auth.region);
    let k_service = hmac(&k_region, &auth.service);
    let k_signing = hmac(&k_service, "aws4_request");
    hex(&hmac(&k_signing, &string_to_sign))
}

#[test]
fn the_verifier_reproduces_aws_get_vanilla() {
    let sent = Sent {
        method: "GET",
        path: "/",
        headers: vec![
            ("host".into(), "example.amazonaws.com".into()),
            ("x-amz-date".into(), "20150830T123600Z".into()),
        ],
        body: b"",
    };
    let auth = parse_authorization(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
    assert_eq!(
        expected_signature(&sent, &auth, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        auth.signature
    );
    let wrong = expected_signature(&sent, &auth, "another-secret");
    assert_ne!(wrong, auth.signature, "a wrong secret does not verify");
}

/// Verifies a request wiremock received.
fn verify_received(request: &Request) -> Authorization {
    let headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let authorization = request.headers["authorization"].to_str().unwrap();
    let auth = parse_authorization(authorization);
    let sent = Sent {
        method: request.method.as_str(),
        path: request.url.path(),
        headers,
        body: &request.body,
    };
    assert_eq!(
        expected_signature(&sent, &auth, SECRET),
        auth.signature,
        "the signature verifies"
    );
    auth
}

/// Verifies a request as built (before sending): `host` from its URL.
fn verify_built(request: &HttpRequest) -> Authorization {
    let url = url::Url::parse(&request.url).unwrap();
    let mut headers = request.headers.clone();
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap()),
        None => url.host_str().unwrap().to_owned(),
    };
    headers.push(("host".into(), host));
    let value = &headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1;
    let auth = parse_authorization(value);
    let sent = Sent {
        method: request.method.as_str(),
        path: url.path(),
        headers: headers.clone(),
        body: request.body.as_deref().unwrap(),
    };
    assert_eq!(expected_signature(&sent, &auth, SECRET), auth.signature);
    auth
}

/// `time` as SigV4's `yyyymmddThhmmssZ`.
fn amz_date(time: SystemTime) -> String {
    let t = time::OffsetDateTime::from(time);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn assert_secret_not_sent(requests: &[Request]) {
    for request in requests {
        for (name, value) in &request.headers {
            assert!(
                !value.to_str().unwrap().contains(SECRET),
                "secret in header {name}"
            );
        }
        assert!(!String::from_utf8_lossy(&request.body).contains(SECRET));
        assert!(!request.url.as_str().contains(SECRET));
    }
}

#[tokio::test]
async fn invoke_ai_posts_a_signed_messages_body_to_the_default_model() {
    let server = MockServer::start().await;
    let expected_body = json!({
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 300,
        "messages": [
            {"role": "user", "content": "why is db-1 down?"},
            {"role": "assistant", "content": "Checking."},
            {"role": "user", "content": "and?"}
        ],
        "temperature": 0.2,
        "stop_sequences": ["\n\nHuman:"],
        "system": "be brief"
    });
    Mock::given(method("POST"))
        .and(path(MODEL_PATH))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(header_exists("x-amz-date"))
        .and(header_exists("authorization"))
        .and(body_is(expected_body))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer()))
        .expect(1)
        .mount(&server)
        .await;
    let account = bedrock_account(&server.uri(), Some(MODEL));
    let params = json!({"subAction": "invokeAI", "subActionParams": {
        "messages": [
            {"role": "user", "content": "why is db-1 down?"},
            {"role": "assistant", "content": "Checking."},
            {"role": "user", "content": "and?"}
        ],
        "temperature": 0.2,
        "stopSequences": ["\n\nHuman:"],
        "system": "be brief",
        "maxTokens": 300
    }});
    let before = amz_date(SystemTime::now() - Duration::from_secs(1));
    assert_eq!(delivered(deliver(account, params).await), handles());
    let after = amz_date(SystemTime::now() + Duration::from_secs(1));

    let received = server.received_requests().await.unwrap();
    let request = &received[0];
    let amz_date = request.headers["x-amz-date"].to_str().unwrap();
    assert!(
        before.as_str() <= amz_date && amz_date <= after.as_str(),
        "signed at the time of sending: {before} <= {amz_date} <= {after}"
    );
    let authorization = request.headers["authorization"].to_str().unwrap();
    let prefix = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}/us-east-1/bedrock/aws4_request, \
         SignedHeaders=accept;content-type;host;x-amz-date, Signature=",
        &amz_date[..8]
    );
    assert!(authorization.starts_with(&prefix), "{authorization}");
    let auth = verify_received(request);
    assert_eq!(auth.signature.len(), 64);
    assert!(auth.signature.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(auth.access_key, ACCESS_KEY);
    assert_secret_not_sent(&received);
}

#[tokio::test]
async fn run_and_test_post_the_body_as_is_to_their_model() {
    let server = MockServer::start().await;
    let body = r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"#;
    Mock::given(method("POST"))
        .and(path(
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke",
        ))
        .and(body_is(serde_json::from_str::<Value>(body).unwrap()))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer()))
        .expect(2)
        .mount(&server)
        .await;
    let account = bedrock_account(&format!("{}/", server.uri()), Some(MODEL));
    for sub_action in ["run", "test"] {
        let params = json!({"subAction": sub_action, "subActionParams": {
            "body": body,
            "model": "anthropic.claude-3-haiku-20240307-v1:0"
        }});
        assert_eq!(delivered(deliver(account.clone(), params).await), handles());
    }
    let received = server.received_requests().await.unwrap();
    for request in &received {
        verify_received(request);
        assert_eq!(request.body, body.as_bytes(), "sent byte for byte");
    }
    assert_secret_not_sent(&received);
}

#[test]
fn the_region_comes_from_the_host_and_the_time_is_the_one_given() {
    let params = object(run("{}"));
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
    for (url, region) in [
        (
            "https://bedrock-runtime.eu-west-3.amazonaws.com",
            "eu-west-3",
        ),
        (
            "https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com/",
            "us-gov-west-1",
        ),
        (
            "https://vpce-0abc.bedrock-runtime.ap-south-1.vpce.amazonaws.com",
            "ap-south-1",
        ),
        (
            "https://bedrock-runtime.cn-north-1.amazonaws.com.cn",
            "cn-north-1",
        ),
        ("https://llm-proxy.example.com:8443/aws", "us-east-1"),
        ("https://bedrock-runtime.amazonaws.com", "us-east-1"),
    ] {
        let request = build(&params, &bedrock_account(url, Some(MODEL)), at).unwrap();
        let auth = verify_built(&request);
        assert_eq!(
            (auth.region.as_str(), auth.service.as_str()),
            (region, "bedrock"),
            "{url}"
        );
        assert_eq!(auth.date, "20150830");
        assert!(
            request
                .headers
                .contains(&("x-amz-date".into(), "20150830T123600Z".into()))
        );
        assert_eq!(region_of(&url::Url::parse(url).unwrap()), region);
    }
    let request = build(
        &params,
        &bedrock_account("https://llm-proxy.example.com:8443/aws/?x=1", Some(MODEL)),
        at,
    )
    .unwrap();
    assert_eq!(
        request.url,
        "https://llm-proxy.example.com:8443/aws/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke"
    );
}

#[test]
fn invoke_ai_defaults_max_tokens_and_leaves_out_what_is_not_given() {
    let account = bedrock_account("https://bedrock-runtime.us-east-1.amazonaws.com", None);
    let params = json!({"subAction": "invokeAI", "subActionParams": {
        "messages": [{"role": "user", "content": "hi"}],
        "model": "anthropic.claude-v2"
    }});
    let request = build(&object(params), &account, SystemTime::now()).unwrap();
    assert_eq!(
        body_json(&request),
        json!({
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": "hi"}]
        })
    );
    assert!(request.url.ends_with("/model/anthropic.claude-v2/invoke"));
}

async fn answered(server: &MockServer, template: ResponseTemplate) -> Outcome {
    server.reset().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(template)
        .mount(server)
        .await;
    let outcome = deliver(bedrock_account(&server.uri(), Some(MODEL)), run("{}")).await;
    assert_no_secret(&outcome, &[SECRET]);
    outcome
}

fn aws_error(status: u16, error_type: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header(
            "x-amzn-ErrorType",
            format!("{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/").as_str(),
        )
        .set_body_json(json!({"message": message}))
}

#[tokio::test]
async fn errors_classify() {
    let server = MockServer::start().await;

    let throttled = aws_error(
        429,
        "ThrottlingException",
        "Too many requests, please wait.",
    )
    .insert_header("retry-after", "2");
    let (kind, after, reason) = retry(answered(&server, throttled).await);
    assert_eq!(
        (kind, after),
        (ErrorKind::Throttled, Some(Duration::from_secs(2)))
    );
    assert_eq!(
        reason,
        "Amazon Bedrock answered 429 (ThrottlingException): Too many requests, please wait."
    );
    // Throttling by type, whatever the status; no Retry-After.
    let (kind, after, _) =
        retry(answered(&server, aws_error(400, "ThrottlingException", "slow down")).await);
    assert_eq!((kind, after), (ErrorKind::Throttled, None));
    let (kind, _, _) = retry(answered(&server, ResponseTemplate::new(429)).await);
    assert_eq!(kind, ErrorKind::Throttled);

    for (status, error_type) in [
        (429, "ModelNotReadyException"),
        (503, "ServiceUnavailableException"),
        (500, "InternalServerException"),
        (408, "ModelTimeoutException"),
    ] {
        let (kind, _, reason) =
            retry(answered(&server, aws_error(status, error_type, "try later")).await);
        assert_eq!(kind, ErrorKind::VendorTemporary, "{error_type}");
        assert_eq!(
            reason,
            format!("Amazon Bedrock answered {status} ({error_type}): try later")
        );
    }
    for status in [500, 502, 503] {
        let (kind, _, _) = retry(answered(&server, ResponseTemplate::new(status)).await);
        assert_eq!(kind, ErrorKind::VendorTemporary, "{status}");
    }

    let (kind, reason) = permanent(
        answered(
            &server,
            aws_error(
                403,
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID.",
            ),
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::Auth);
    assert_eq!(
        reason,
        "Amazon Bedrock answered 403 (AccessDeniedException): \
         You don't have access to the model with the specified model ID."
    );
    // The type from the body's `__type` when the header is absent.
    let (kind, reason) = permanent(
        answered(
            &server,
            ResponseTemplate::new(403).set_body_json(json!({
                "__type": "com.amazon.coral.service#UnrecognizedClientException",
                "message": "The security token included in the request is invalid."
            })),
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::Auth);
    assert!(reason.contains("(UnrecognizedClientException)"), "{reason}");

    let (kind, reason) = permanent(
        answered(
            &server,
            aws_error(400, "ValidationException", "messages: field required"),
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert_eq!(
        reason,
        "Amazon Bedrock answered 400 (ValidationException): messages: field required"
    );
    let (kind, reason) = permanent(
        answered(
            &server,
            aws_error(404, "ResourceNotFoundException", "Model not found"),
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert!(reason.contains("Model not found"), "{reason}");
}

#[tokio::test]
async fn the_secret_never_shows() {
    let server = MockServer::start().await;
    let account = bedrock_account(&server.uri(), Some(MODEL));
    assert_secrets_hidden(&server, &[SECRET], || deliver(account.clone(), run("{}"))).await;
    let received = server.received_requests().await.unwrap();
    assert!(!received.is_empty());
    assert_secret_not_sent(&received);
    let request = build(&object(run("{}")), &account, SystemTime::now()).unwrap();
    assert!(!format!("{request:?}").contains(SECRET));
}

#[test]
fn bad_input_names_the_field() {
    let aws = bedrock_account(
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        Some(MODEL),
    );
    let now = SystemTime::now();
    for (params, reason) in [
        (run("[1]"), "subActionParams.body: must be a JSON object"),
        (run("{x"), "subActionParams.body: must be a JSON document"),
        (
            json!({"subAction": "run", "subActionParams": {"body": "{}", "model": ".."}}),
            "subActionParams.model: must not be . or ..",
        ),
    ] {
        assert_eq!(
            permanent(build(&object(params), &aws, now).unwrap_err()),
            (ErrorKind::InvalidParams, reason.to_owned())
        );
    }
    let no_model = bedrock_account("https://bedrock-runtime.us-east-1.amazonaws.com", None);
    assert_eq!(
        permanent(build(&object(run("{}")), &no_model, now).unwrap_err()),
        (
            ErrorKind::InvalidParams,
            "subActionParams.model: is required when config.defaultModel is not set".to_owned()
        )
    );
    let empty = account(
        "bedrock",
        json!({"apiUrl": "https://bedrock-runtime.us-east-1.amazonaws.com", "defaultModel": MODEL}),
        json!({"accessKey": ACCESS_KEY, "secret": ""}),
    );
    assert_eq!(
        permanent(build(&object(run("{}")), &empty, now).unwrap_err()),
        (
            ErrorKind::InvalidConfig,
            "secrets.secret: must not be empty".to_owned()
        )
    );
    let bad_url = bedrock_account("not a url", Some(MODEL));
    assert_eq!(
        permanent(build(&object(run("{}")), &bad_url, now).unwrap_err()),
        (
            ErrorKind::InvalidConfig,
            "config.apiUrl: must be an absolute http(s) URL".to_owned()
        )
    );
}

#[test]
fn max_tokens_must_be_a_positive_whole_number() {
    let aws = bedrock_account(
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        Some(MODEL),
    );
    for bad in [json!(0), json!(-1), json!(1.5), json!("100")] {
        let params = json!({"subAction": "invokeAI", "subActionParams": {
            "messages": [{"role": "user", "content": "hi"}],
            "maxTokens": bad
        }});
        let (kind, reason) =
            permanent(build(&object(params), &aws, SystemTime::now()).unwrap_err());
        assert_eq!(kind, ErrorKind::InvalidParams);
        assert!(reason.contains("maxTokens"), "{reason}");
    }
}
