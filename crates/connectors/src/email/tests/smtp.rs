//! SMTP against a real server (aiosmtpd) on loopback: every TLS mode, the
//! ways of trusting a certificate, AUTH, the envelope and MIME parts, and
//! how replies, drops and timeouts end an attempt.

use std::time::Duration;

use crate::delivery::testing;
use herald_proto::v1::ErrorKind;
use herald_test_support::{ReceivedMail, SmtpOptions, SmtpServer, SmtpTls};
use serde_json::{Value, json};

use super::{ca_signed, deliver, self_signed, self_signed_valid, with_logs};
use crate::email::Email;

const PASSWORD: &str = "s3cret-Pa55";

fn account(port: u16, config: Value, secrets: Value) -> crate::delivery::Account {
    let mut base = json!({
        "service": "other", "host": "localhost", "port": port,
        "from": "Herald Alerts <alerts@example.com>", "hasAuth": false, "sessionTimeout": 5,
    });
    for (key, value) in config.as_object().unwrap() {
        base[key] = value.clone();
    }
    testing::account("email", base, secrets)
}

fn params() -> Value {
    json!({
        "to": ["Bob <bob@example.org>"], "cc": ["carol@example.org"], "bcc": ["dave@example.org"],
        "replyTo": ["oncall@example.com"],
        "subject": "Disk full on db-1",
        "message": "**Disk** full on db\\-1: 97% <b>not bold</b>",
    })
}

fn users() -> Option<Vec<(String, String)>> {
    Some(vec![("alice".into(), PASSWORD.into())])
}

/// A server speaking `tls` with a self-signed certificate for `names`.
fn tls_server(tls: SmtpTls, names: &[&str], options: SmtpOptions) -> SmtpServer {
    let (cert_pem, key_pem) = self_signed(names);
    SmtpServer::start(SmtpOptions {
        tls,
        cert_pem,
        key_pem,
        ..options
    })
}

async fn one_mail(server: &SmtpServer) -> ReceivedMail {
    let mut mails = server.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    mails.remove(0)
}

/// Envelope, headers and both MIME parts of the mail `params()` makes.
fn assert_mail(mail: &ReceivedMail) {
    assert_eq!(mail.mail_from, "alerts@example.com");
    assert_eq!(
        mail.rcpt_to,
        ["bob@example.org", "carol@example.org", "dave@example.org"]
    );
    assert_eq!(
        mail.header("From").unwrap(),
        "\"Herald Alerts\" <alerts@example.com>"
    );
    assert_eq!(mail.header("To").unwrap(), "Bob <bob@example.org>");
    assert_eq!(mail.header("Cc").unwrap(), "carol@example.org");
    assert_eq!(mail.header("Reply-To").unwrap(), "oncall@example.com");
    assert_eq!(mail.header("Subject").unwrap(), "Disk full on db-1");
    assert_eq!(mail.header("Message-ID").unwrap(), "<act-1@example.com>");
    assert_eq!(mail.header("Bcc"), None);
    assert!(
        !mail.headers().contains("dave"),
        "Bcc in the headers: {}",
        mail.headers()
    );
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    let data = &mail.data;
    let text = data.find("Content-Type: text/plain").expect("a text part");
    let html = data.find("Content-Type: text/html").expect("an HTML part");
    assert!(text < html, "text first, then HTML");
    assert!(
        data[text..html].contains("**Disk** full on db-1: 97% <b>not bold</b>"),
        "{data}"
    );
    assert!(
        data[html..]
            .contains("<strong>Disk</strong> full on db-1: 97% &lt;b&gt;not bold&lt;/b&gt;"),
        "{data}"
    );
}

#[tokio::test]
async fn starttls_with_a_custom_ca_and_auth_plain() {
    let (ca, cert, key) = ca_signed(&["localhost"]);
    let server = SmtpServer::start(SmtpOptions {
        tls: SmtpTls::StartTls,
        cert_pem: cert,
        key_pem: key,
        require_starttls: true,
        users: users(),
        ..Default::default()
    });
    let account = account(
        server.port(),
        json!({"hasAuth": true, "ca": ca, "requireTls": true}),
        json!({"user": "alice", "password": PASSWORD}),
    );
    let outcome = deliver(&Email::default(), account, params()).await;
    testing::delivered(outcome);
    let mail = one_mail(&server).await;
    assert!(mail.tls);
    assert_eq!(mail.auth_user.as_deref(), Some("alice"));
    assert_mail(&mail);
}

#[tokio::test]
async fn implicit_tls_with_trust_all_and_auth_login() {
    let server = tls_server(
        SmtpTls::Implicit,
        &["localhost"],
        SmtpOptions {
            users: users(),
            auth_exclude: vec!["PLAIN"],
            ..Default::default()
        },
    );
    let account = account(
        server.port(),
        json!({"hasAuth": true, "secure": true, "trustAll": true}),
        json!({"user": "alice", "password": PASSWORD}),
    );
    testing::delivered(deliver(&Email::default(), account, params()).await);
    let mail = one_mail(&server).await;
    assert!(mail.tls);
    assert_eq!(mail.auth_user.as_deref(), Some("alice"));
    assert_mail(&mail);
}

#[tokio::test]
async fn a_self_signed_certificate_fails_for_good_unless_trusted() {
    let server = tls_server(
        SmtpTls::Implicit,
        &["localhost"],
        SmtpOptions {
            ..Default::default()
        },
    );
    let account = account(server.port(), json!({"secure": true}), json!({}));
    let (kind, reason) = testing::permanent(deliver(&Email::default(), account, params()).await);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    let server_name = format!("SMTP localhost:{}, the TLS handshake", server.port());
    assert!(reason.starts_with(&server_name), "{reason}");
    assert!(reason.contains("certificate"), "{reason}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn trusted_hosts_accept_a_certificate_issued_to_them_and_no_other() {
    let server = tls_server(
        SmtpTls::StartTls,
        &["mail.internal.test"],
        SmtpOptions {
            ..Default::default()
        },
    );
    let email = Email::default();
    let trusted = account(
        server.port(),
        json!({"requireTls": true, "trustedHosts": ["mail.internal.test"]}),
        json!({}),
    );
    testing::delivered(deliver(&email, trusted, params()).await);
    assert!(one_mail(&server).await.tls);

    let mut other = account(
        server.port(),
        json!({"requireTls": true, "trustedHosts": ["other.test"]}),
        json!({}),
    );
    other.id = "other-account".into();
    let (kind, reason) = testing::permanent(deliver(&email, other, params()).await);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert!(
        reason.contains("STARTTLS") || reason.contains("TLS"),
        "{reason}"
    );
    assert!(reason.contains("trustedHosts"), "{reason}");
}

#[tokio::test]
async fn trusted_hosts_refuse_a_certificate_outside_its_validity_period() {
    let email = Email::default();
    for (id, (not_before, not_after), expected) in [
        ("expired", ((2020, 1, 1), (2021, 1, 1)), "expired"),
        ("not-yet", ((2090, 1, 1), (2091, 1, 1)), "not valid"),
    ] {
        let (cert_pem, key_pem) = self_signed_valid(&["mail.internal.test"], not_before, not_after);
        let server = SmtpServer::start(SmtpOptions {
            tls: SmtpTls::StartTls,
            cert_pem,
            key_pem,
            ..Default::default()
        });
        let mut account = account(
            server.port(),
            json!({"requireTls": true, "trustedHosts": ["mail.internal.test"]}),
            json!({}),
        );
        account.id = id.into();
        let (kind, reason) = testing::permanent(deliver(&email, account, params()).await);
        assert_eq!(kind, ErrorKind::InvalidConfig, "{reason}");
        assert!(
            reason.contains("TLS") && reason.contains(expected),
            "{id}: {reason}"
        );
        assert!(server.messages().is_empty());
    }
}

#[tokio::test]
async fn required_tls_fails_when_the_server_offers_no_starttls() {
    let server = SmtpServer::start(SmtpOptions::default());
    let account = account(server.port(), json!({"requireTls": true}), json!({}));
    let (kind, reason) = testing::permanent(deliver(&Email::default(), account, params()).await);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert!(
        reason.contains("does not offer STARTTLS and TLS is required (config.requireTls"),
        "{reason}"
    );
}

#[tokio::test]
async fn opportunistic_starttls_upgrades_when_offered_and_stays_plain_when_not() {
    let offered = tls_server(SmtpTls::StartTls, &["localhost"], SmtpOptions::default());
    let email = Email::default();
    // No credentials, no TLS options: Kibana does not check a relay's
    // certificate then.
    testing::delivered(
        deliver(
            &email,
            account(offered.port(), json!({}), json!({})),
            params(),
        )
        .await,
    );
    assert!(one_mail(&offered).await.tls);

    let plain = SmtpServer::start(SmtpOptions::default());
    let mut account = account(plain.port(), json!({}), json!({}));
    account.id = "plain".into();
    testing::delivered(deliver(&email, account, params()).await);
    let mail = one_mail(&plain).await;
    assert!(!mail.tls);
    assert_mail(&mail);
}

#[tokio::test]
async fn ignore_tls_never_upgrades_and_auth_works_in_plain_when_the_server_allows() {
    let server = tls_server(
        SmtpTls::StartTls,
        &["localhost"],
        SmtpOptions {
            users: users(),
            auth_require_tls: false,
            ..Default::default()
        },
    );
    let account = account(
        server.port(),
        json!({"ignoreTls": true, "hasAuth": true}),
        json!({"user": "alice", "password": PASSWORD}),
    );
    testing::delivered(deliver(&Email::default(), account, params()).await);
    let mail = one_mail(&server).await;
    assert!(!mail.tls);
    assert_eq!(mail.auth_user.as_deref(), Some("alice"));
    assert_eq!(server.auth_attempts(), [("PLAIN".to_owned(), false)]);
}

#[tokio::test]
async fn credentials_are_never_sent_in_clear_to_a_server_without_starttls() {
    // The server would take AUTH PLAIN over plain text; without
    // config.ignoreTls the password must not go there.
    let server = SmtpServer::start(SmtpOptions {
        users: users(),
        auth_require_tls: false,
        ..Default::default()
    });
    let account = account(
        server.port(),
        json!({"hasAuth": true}),
        json!({"user": "alice", "password": PASSWORD}),
    );
    let (kind, reason) = testing::permanent(deliver(&Email::default(), account, params()).await);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert!(
        reason.contains("does not offer STARTTLS")
            && reason.contains("never sent without TLS")
            && reason.contains("ignoreTls"),
        "{reason}"
    );
    assert!(!reason.contains(PASSWORD));
    assert!(
        server.auth_attempts().is_empty(),
        "{:?}",
        server.auth_attempts()
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn auth_over_plain_text_that_the_server_refuses_is_explained() {
    let server = tls_server(
        SmtpTls::StartTls,
        &["localhost"],
        SmtpOptions {
            users: users(),
            ..Default::default()
        },
    );
    let account = account(
        server.port(),
        json!({"ignoreTls": true, "hasAuth": true}),
        json!({"user": "alice", "password": PASSWORD}),
    );
    let (kind, reason) = testing::permanent(deliver(&Email::default(), account, params()).await);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert!(
        reason.contains("AUTH") && reason.contains("ignoreTls"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_wrong_password_fails_for_good_and_no_credential_is_shown_or_logged() {
    let email = Email::default();
    for (offered, excluded, logged) in [
        ("PLAIN", "LOGIN", "AUTH PLAIN [redacted]"),
        ("LOGIN", "PLAIN", "C: [redacted]"),
    ] {
        let server = tls_server(
            SmtpTls::StartTls,
            &["localhost"],
            SmtpOptions {
                users: users(),
                auth_exclude: vec![excluded],
                ..Default::default()
            },
        );
        let wrong = "Wr0ng-Secret-77";
        let mut account = account(
            server.port(),
            json!({"hasAuth": true, "trustAll": true, "debug": true}),
            json!({"user": "alice", "password": wrong}),
        );
        account.id = offered.to_lowercase();
        let (outcome, logs) = with_logs(deliver(&email, account, params())).await;
        let secrets = [
            wrong,
            &base64_of(&format!("\0alice\0{wrong}")),
            &base64_of(wrong),
        ];
        testing::assert_no_secret(&outcome, &secrets);
        let (kind, reason) = testing::permanent(outcome);
        assert_eq!(kind, ErrorKind::Auth, "{offered}");
        assert!(reason.contains("AUTH: the server answered 535"), "{reason}");
        for secret in secrets {
            assert!(
                !logs.contains(secret),
                "{offered}: the log shows a secret:\n{logs}"
            );
        }
        // The dialogue is logged, credentials redacted.
        assert!(
            logs.contains("C: EHLO") && logs.contains("S: 220") && logs.contains("C: STARTTLS"),
            "{logs}"
        );
        assert!(
            logs.contains(&format!("C: AUTH {offered}")) && logs.contains(logged),
            "{logs}"
        );
        assert!(server.messages().is_empty());
    }
}

#[tokio::test]
async fn a_pooled_connection_the_server_dropped_is_replaced_at_once() {
    let server = SmtpServer::start(SmtpOptions {
        replies: vec![("MAIL", "250 OK".into()), ("MAIL", "DROP".into())],
        ..Default::default()
    });
    let email = Email::default();
    let account = account(server.port(), json!({}), json!({}));
    testing::delivered(deliver(&email, account.clone(), params()).await);
    testing::delivered(deliver(&email, account, params()).await);
    let mails = server.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 2);
    assert_ne!(mails[0].peer_port, mails[1].peer_port, "a new connection");
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn a_4xx_reply_is_retried_and_a_5xx_reply_is_not() {
    let server = SmtpServer::start(SmtpOptions {
        replies: vec![
            ("RCPT", "451 4.7.1 greylisted, try again later".into()),
            ("DATA", "554 5.7.1 message refused".into()),
        ],
        ..Default::default()
    });
    let email = Email::default();
    let account = account(server.port(), json!({}), json!({}));
    let (kind, after, reason) = testing::retry(deliver(&email, account.clone(), params()).await);
    assert_eq!((kind, after), (ErrorKind::VendorTemporary, None));
    assert!(
        reason.contains("RCPT TO: the server answered 451 4.7.1 greylisted, try again later"),
        "{reason}"
    );
    assert!(reason.contains("localhost:"), "{reason}");

    let (kind, reason) = testing::permanent(deliver(&email, account.clone(), params()).await);
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert!(
        reason.contains("DATA: the server answered 554 5.7.1 message refused"),
        "{reason}"
    );

    testing::delivered(deliver(&email, account, params()).await);
    assert_eq!(server.wait_for(1, Duration::from_secs(5)).await.len(), 1);
}

#[tokio::test]
async fn a_rejected_recipient_fails_for_good_naming_it() {
    let server = SmtpServer::start(SmtpOptions {
        replies: vec![
            ("RCPT", "250 OK".into()),
            ("RCPT", "550 5.1.1 no such user".into()),
        ],
        ..Default::default()
    });
    let account = account(server.port(), json!({}), json!({}));
    let (kind, reason) = testing::permanent(deliver(&Email::default(), account, params()).await);
    assert_eq!(kind, ErrorKind::VendorRejected);
    assert!(
        reason.contains("550 5.1.1 no such user (recipient carol@example.org)"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_dropped_connection_and_a_timeout_are_retried() {
    let server = SmtpServer::start(SmtpOptions {
        replies: vec![("DATA", "DROP".into()), ("DATA", "SLEEP 3".into())],
        ..Default::default()
    });
    let email = Email::default();
    let account = account(server.port(), json!({"sessionTimeout": 1}), json!({}));
    let (kind, _, reason) = testing::retry(deliver(&email, account.clone(), params()).await);
    assert_eq!(kind, ErrorKind::Network, "{reason}");
    assert!(reason.contains("DATA"), "{reason}");
    let (kind, _, reason) = testing::retry(deliver(&email, account, params()).await);
    assert_eq!(kind, ErrorKind::Network);
    assert!(reason.contains("DATA: no answer within 1s"), "{reason}");
}

#[tokio::test]
async fn nothing_listening_is_retried() {
    let port = herald_test_support::free_port();
    let (kind, _, reason) = testing::retry(
        deliver(
            &Email::default(),
            account(port, json!({}), json!({})),
            params(),
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::Network);
    assert!(
        reason.starts_with(&format!("SMTP localhost:{port}, connecting")),
        "{reason}"
    );
}

#[tokio::test]
async fn one_connection_carries_many_mails() {
    let server = SmtpServer::start(SmtpOptions::default());
    let email = Email::default();
    let account = account(server.port(), json!({}), json!({}));
    for _ in 0..5 {
        testing::delivered(deliver(&email, account.clone(), params()).await);
    }
    let mails = server.wait_for(5, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 5);
    assert!(
        mails.iter().all(|m| m.peer_port == mails[0].peer_port),
        "one pooled connection"
    );
}

#[tokio::test]
async fn attachments_travel_as_mime_parts() {
    let server = SmtpServer::start(SmtpOptions::default());
    let account = account(server.port(), json!({}), json!({}));
    let mut params = params();
    params["attachments"] = json!([{"filename": "report.csv", "contentType": "text/csv", "content": base64_of("host,used\ndb-1,97\n")}]);
    testing::delivered(deliver(&Email::default(), account, params).await);
    let mail = one_mail(&server).await;
    assert!(
        mail.header("Content-Type")
            .unwrap()
            .starts_with("multipart/mixed")
    );
    assert!(
        mail.data
            .contains("Content-Disposition: attachment; filename=\"report.csv\""),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("multipart/alternative"));
}

/// A minimal SOCKS5 proxy (RFC 1928, user/password per RFC 1929) on
/// loopback that records each CONNECT target; no maintained one is in
/// Debian's or PyPI's reach of these tests.
async fn socks5_proxy(
    user: &'static str,
    password: &'static str,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let targets = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = targets.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = [0u8; 2];
                client.read_exact(&mut head).await?;
                let mut methods = vec![0u8; head[1] as usize];
                client.read_exact(&mut methods).await?;
                client.write_all(&[5, 2]).await?;
                let mut version = [0u8; 2];
                client.read_exact(&mut version).await?;
                let mut given_user = vec![0u8; version[1] as usize];
                client.read_exact(&mut given_user).await?;
                let mut length = [0u8; 1];
                client.read_exact(&mut length).await?;
                let mut given_password = vec![0u8; length[0] as usize];
                client.read_exact(&mut given_password).await?;
                if given_user != user.as_bytes() || given_password != password.as_bytes() {
                    client.write_all(&[1, 1]).await?;
                    return Ok::<_, std::io::Error>(());
                }
                client.write_all(&[1, 0]).await?;
                let mut request = [0u8; 4];
                client.read_exact(&mut request).await?;
                let host = match request[3] {
                    3 => {
                        client.read_exact(&mut length).await?;
                        let mut name = vec![0u8; length[0] as usize];
                        client.read_exact(&mut name).await?;
                        String::from_utf8_lossy(&name).into_owned()
                    }
                    _ => {
                        let mut ip = [0u8; 4];
                        client.read_exact(&mut ip).await?;
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                };
                let target_port = client.read_u16().await?;
                seen.lock().unwrap().push(format!("{host}:{target_port}"));
                let mut upstream =
                    tokio::net::TcpStream::connect((host.as_str(), target_port)).await?;
                client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
                tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
                Ok(())
            });
        }
    });
    (port, targets)
}

#[tokio::test]
async fn mail_goes_through_a_socks5_proxy_with_its_credentials() {
    let server = tls_server(
        SmtpTls::Implicit,
        &["localhost"],
        SmtpOptions {
            ..Default::default()
        },
    );
    let (proxy_port, targets) = socks5_proxy("relay", "proxy-Pa55").await;
    let email = Email::default();
    let config = json!({"secure": true, "trustAll": true, "proxyHost": "127.0.0.1", "proxyPort": proxy_port, "proxyUser": "relay"});
    let through = account(
        server.port(),
        config.clone(),
        json!({"proxyPassword": "proxy-Pa55"}),
    );
    testing::delivered(deliver(&email, through, params()).await);
    assert!(one_mail(&server).await.tls);
    assert_eq!(
        *targets.lock().unwrap(),
        [format!("localhost:{}", server.port())]
    );

    let mut refused = account(
        server.port(),
        config,
        json!({"proxyPassword": "wrong-Proxy-Pw"}),
    );
    refused.id = "refused".into();
    let outcome = deliver(&email, refused, params()).await;
    testing::assert_no_secret(&outcome, &["wrong-Proxy-Pw"]);
    let (kind, reason) = testing::permanent(outcome);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert!(
        reason.contains("SOCKS5 proxy") && reason.contains("proxyUser"),
        "{reason}"
    );
}

// ---- the egress policy ----

/// An `Outbound` (which carries the policy) allowing `hosts` only.
fn policy_outbound(hosts: &[&str]) -> crate::delivery::http::Outbound {
    let policy = herald_catalog::Policy {
        allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..herald_catalog::Policy::default()
    };
    crate::delivery::http::Outbound::new(Default::default(), policy).unwrap()
}

async fn deliver_under(
    hosts: &[&str],
    account: crate::delivery::Account,
) -> crate::delivery::Outcome {
    use crate::delivery::Connector as _;
    let delivery = testing::delivery(account, params());
    Email::default()
        .deliver(&delivery, &policy_outbound(hosts))
        .await
}

#[tokio::test]
async fn smtp_to_loopback_is_refused_under_star() {
    let server = SmtpServer::start(SmtpOptions::default());
    for host in ["127.0.0.1", "localhost", "::1", "0x7f.1"] {
        let account = account(server.port(), json!({"host": host}), json!({}));
        let (kind, reason) = testing::permanent(deliver_under(&["*"], account).await);
        assert_eq!(kind, ErrorKind::Policy, "{host}: {reason}");
    }
    // Listed explicitly, it is reached.
    let account = account(server.port(), json!({"host": "127.0.0.1"}), json!({}));
    testing::delivered(deliver_under(&["*", "127.0.0.1"], account).await);
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn the_socket_goes_only_to_allowed_addresses() {
    use crate::email::smtp::stream::{ConnectError, connect_allowed};
    let server = SmtpServer::start(SmtpOptions::default());
    let star = herald_catalog::Policy::default();
    // A name that resolves to loopback: the address is what is checked.
    let error = connect_allowed(&star, "localhost", server.port())
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectError::Refused(_)), "{error:?}");
    assert!(error.to_string().contains("127.0.0.1"), "{error}");
    let listed = star.clone().with_loopback();
    assert!(
        connect_allowed(&listed, "localhost", server.port())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_socks_proxy_on_an_unlisted_internal_address_is_refused() {
    // The server's name is public and goes to the proxy unresolved; the
    // proxy itself is where the socket goes, so its address is checked.
    let server = SmtpServer::start(SmtpOptions::default());
    let account = account(
        25,
        json!({"host": "smtp.example.com", "proxyHost": "127.0.0.1", "proxyPort": server.port()}),
        json!({}),
    );
    let (kind, reason) = testing::permanent(deliver_under(&["*"], account).await);
    assert_eq!(kind, ErrorKind::Policy, "{reason}");
    assert!(reason.contains("SOCKS5 proxy"), "{reason}");
    assert!(server.messages().is_empty());
}

// ---- the operator's TLS settings: ssl.verificationMode, customHostSettings ----

use crate::delivery::http::{CustomHost, OutboundSettings, Verification};

async fn deliver_with(
    settings: OutboundSettings,
    account: crate::delivery::Account,
) -> crate::delivery::Outcome {
    use crate::delivery::Connector as _;
    let outbound = crate::delivery::http::Outbound::new(
        settings,
        herald_catalog::Policy::default().with_loopback(),
    )
    .unwrap();
    Email::default()
        .deliver(&testing::delivery(account, params()), &outbound)
        .await
}

fn smtp_host(port: u16) -> CustomHost {
    CustomHost {
        scheme: "smtp".into(),
        host: "localhost".into(),
        port,
        verification: None,
        certificate_authorities: Vec::new(),
        smtp_require_tls: None,
        smtp_ignore_tls: None,
    }
}

#[tokio::test]
async fn the_global_verification_mode_applies_to_smtp() {
    // Issued by a CA the account trusts, to another name.
    let (ca, cert, key) = ca_signed(&["other.test"]);
    let server = SmtpServer::start(SmtpOptions {
        tls: SmtpTls::Implicit,
        cert_pem: cert,
        key_pem: key,
        ..Default::default()
    });
    let account = || account(server.port(), json!({"secure": true, "ca": ca}), json!({}));
    let (kind, reason) =
        testing::permanent(deliver_with(OutboundSettings::default(), account()).await);
    assert_eq!(kind, ErrorKind::InvalidConfig, "{reason}");
    assert!(server.messages().is_empty());

    let certificate = OutboundSettings {
        verification: Verification::Certificate,
        ..OutboundSettings::default()
    };
    testing::delivered(deliver_with(certificate, account()).await);
    assert!(one_mail(&server).await.tls);
}

#[tokio::test]
async fn a_custom_host_entry_sets_the_mode_and_the_ca_of_its_smtp_server() {
    let (ca, cert, key) = ca_signed(&["localhost"]);
    let server = SmtpServer::start(SmtpOptions {
        tls: SmtpTls::Implicit,
        cert_pem: cert,
        key_pem: key,
        ..Default::default()
    });
    let account = || account(server.port(), json!({"secure": true}), json!({}));
    // Not trusted by default; trusted through the host's entry.
    let (kind, _) = testing::permanent(deliver_with(OutboundSettings::default(), account()).await);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    let with_ca = OutboundSettings {
        custom_hosts: vec![CustomHost {
            certificate_authorities: vec![ca],
            ..smtp_host(server.port())
        }],
        ..OutboundSettings::default()
    };
    testing::delivered(deliver_with(with_ca, account()).await);
    assert_eq!(one_mail(&server).await.mail_from, "alerts@example.com");

    // An entry for another port changes nothing; `none` on this one
    // accepts the certificate over the global `full`.
    let other_port = OutboundSettings {
        custom_hosts: vec![CustomHost {
            verification: Some(Verification::None),
            ..smtp_host(server.port() + 1)
        }],
        ..OutboundSettings::default()
    };
    let (kind, _) = testing::permanent(deliver_with(other_port, account()).await);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    let none = OutboundSettings {
        custom_hosts: vec![CustomHost {
            verification: Some(Verification::None),
            ..smtp_host(server.port())
        }],
        ..OutboundSettings::default()
    };
    testing::delivered(deliver_with(none, account()).await);
}

#[tokio::test]
async fn a_custom_host_entry_requires_or_ignores_starttls() {
    // The server offers no STARTTLS: required by the host's entry, the
    // send fails; the account did not ask for it.
    let plain = SmtpServer::start(SmtpOptions::default());
    let require = OutboundSettings {
        custom_hosts: vec![CustomHost {
            smtp_require_tls: Some(true),
            ..smtp_host(plain.port())
        }],
        ..OutboundSettings::default()
    };
    let account_plain = account(plain.port(), json!({}), json!({}));
    let (kind, reason) = testing::permanent(deliver_with(require, account_plain).await);
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert!(reason.contains("does not offer STARTTLS"), "{reason}");
    assert!(plain.messages().is_empty());

    // The server offers STARTTLS: ignored by the host's entry, the mail
    // goes in plain text.
    let offered = tls_server(SmtpTls::StartTls, &["localhost"], SmtpOptions::default());
    let ignore = OutboundSettings {
        custom_hosts: vec![CustomHost {
            smtp_ignore_tls: Some(true),
            ..smtp_host(offered.port())
        }],
        ..OutboundSettings::default()
    };
    let account_offered = account(offered.port(), json!({}), json!({}));
    testing::delivered(deliver_with(ignore, account_offered).await);
    assert!(!one_mail(&offered).await.tls);
}

/// An alert's resolve lands in its firing's thread: the firing's mail is
/// delivered with its Message-ID as a handle, and the resolve, rewritten
/// by the type's follow-up from that handle, carries it in `In-Reply-To`
/// and `References`.
#[tokio::test]
async fn a_resolved_mail_answers_the_firing_mail_by_its_message_id() {
    use herald_catalog::alert::{AlertPhase, AlertView};
    let server = SmtpServer::start(SmtpOptions::default());
    let email = Email::default();
    let spec = crate::catalog().get("email").unwrap();
    let (render, follow_up) = (
        spec.extras.alert_params.unwrap(),
        spec.extras.follow_up.unwrap(),
    );
    let mut config = serde_json::Map::new();
    config.insert("defaultTo".into(), json!(["oncall@example.org"]));
    let firing = AlertView::sample(AlertPhase::Firing);
    let params = Value::Object(render(&firing, &config));
    let mut account = account(
        server.port(),
        json!({"defaultTo": ["oncall@example.org"]}),
        json!({}),
    );
    let handles: std::collections::BTreeMap<String, String> =
        testing::delivered(deliver(&email, account.clone(), params).await)
            .into_iter()
            .collect();
    assert_eq!(handles["message_id"], "<act-1@example.com>");
    let resolved = AlertView::sample(AlertPhase::Resolved);
    let params = follow_up(render(&resolved, &config), &resolved, &handles);
    account.id = "second".into();
    let delivery = crate::delivery::Delivery {
        action_id: "act-2".into(),
        ..testing::delivery(account, Value::Object(params))
    };
    use crate::delivery::Connector as _;
    testing::delivered(email.deliver(&delivery, &testing::outbound()).await);
    let mails = server.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    let (first, second) = (&mails[0], &mails[1]);
    assert_eq!(
        first.header("Subject").unwrap(),
        "[FIRING] Error rate above 5% on web-1"
    );
    assert_eq!(first.header("In-Reply-To"), None);
    assert_eq!(
        second.header("Subject").unwrap(),
        "[RESOLVED] Error rate above 5% on web-1"
    );
    assert_eq!(second.header("Message-ID").unwrap(), "<act-2@example.com>");
    assert_eq!(second.header("In-Reply-To").unwrap(), "<act-1@example.com>");
    assert_eq!(second.header("References").unwrap(), "<act-1@example.com>");
}

#[tokio::test]
async fn a_header_breaking_in_reply_to_is_refused() {
    let server = SmtpServer::start(SmtpOptions::default());
    let mut params = params();
    params["inReplyTo"] = json!("<a@b>\r\nBcc: eve@example.net");
    let (kind, reason) = testing::permanent(
        deliver(
            &Email::default(),
            account(server.port(), json!({}), json!({})),
            params,
        )
        .await,
    );
    assert_eq!(kind, ErrorKind::InvalidParams);
    assert_eq!(reason, "inReplyTo: must be a Message-ID: <id@host>");
    assert!(server.messages().is_empty());
}
