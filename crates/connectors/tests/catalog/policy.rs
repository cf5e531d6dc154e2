//! The delivery policy: allowed hosts (explicit URLs, schema defaults,
//! host names, e-mail services, Exchange endpoints) and e-mail domains.

use herald_catalog::Policy;
use herald_catalog::policy::EmailPolicy;
use serde_json::json;

use super::{
    account_with, assert_valid, assert_violations, params_with, policy_hosts, spec, strings,
};

fn domains(allow: &[&str]) -> Policy {
    Policy {
        email: EmailPolicy {
            domain_allowlist: allow.iter().map(|d| d.to_string()).collect(),
        },
        ..Policy::default()
    }
}

#[test]
fn explicit_urls_must_be_on_allowed_hosts_and_are_never_printed() {
    let policy = policy_hosts(&["hooks.slack.com"]);
    assert_valid(account_with(
        "slack",
        json!({}),
        json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/SECRETKEY"}),
        &policy,
    ));
    let found = account_with(
        "slack",
        json!({}),
        json!({"webhookUrl": "https://Evil.Example.com/services/T0/B0/SECRETKEY"}),
        &policy,
    );
    assert_violations(
        found.clone(),
        &["secrets.webhookUrl: host evil.example.com is not in policy.allowed_hosts"],
    );
    assert!(!found.concat().contains("SECRETKEY"));

    assert_violations(
        account_with(
            "xmatters",
            json!({"usesBasic": false}),
            json!({"secretsUrl": "https://acme.xmatters.com/t?apiKey=SECRETKEY"}),
            &policy_hosts(&["*.xmatters.io"]),
        ),
        &["secrets.secretsUrl: host acme.xmatters.com is not in policy.allowed_hosts"],
    );
    assert_valid(account_with(
        "jira",
        json!({"apiUrl": "https://acme.atlassian.net", "projectKey": "OPS"}),
        json!({"email": "e", "apiToken": "t"}),
        &policy_hosts(&["*.atlassian.net"]),
    ));
}

#[test]
fn absent_urls_are_checked_through_their_default() {
    let policy = policy_hosts(&["pd-proxy.example.com"]);
    let secrets = json!({"routingKey": "k"});
    for config in [json!({}), json!({"apiUrl": null}), json!(null)] {
        assert_violations(
            account_with("pagerduty", config, secrets.clone(), &policy),
            &["config.apiUrl: host events.pagerduty.com is not in policy.allowed_hosts"],
        );
    }
    assert_valid(account_with(
        "pagerduty",
        json!({"apiUrl": "https://pd-proxy.example.com/v2/enqueue"}),
        secrets,
        &policy,
    ));
    assert_violations(
        account_with("slack_api", json!({}), json!({"token": "t"}), &policy),
        &["config.apiUrl: host slack.com is not in policy.allowed_hosts"],
    );
    assert_violations(
        account_with("opsgenie", json!({}), json!({"apiKey": "k"}), &policy),
        &["config.apiUrl: host api.opsgenie.com is not in policy.allowed_hosts"],
    );
    assert_valid(account_with(
        "opsgenie",
        json!({}),
        json!({"apiKey": "k"}),
        &policy_hosts(&["api.opsgenie.com"]),
    ));
}

#[test]
fn email_hosts() {
    let policy = policy_hosts(&["smtp.example.com"]);
    let secrets = json!({"user": "u", "password": "p"});
    // An SMTP account reaches only its SMTP server: the Exchange endpoints'
    // defaults, trusted certificate names and the footer link are not hosts
    // we connect to.
    assert_valid(account_with(
        "email",
        json!({"from": "a@example.com", "host": "smtp.example.com", "port": 587,
               "trustedHosts": ["mail.other.org"], "publicBaseUrl": "https://herald.other.org"}),
        secrets.clone(),
        &policy,
    ));
    assert_violations(
        account_with(
            "email",
            json!({"from": "a@example.com", "host": "smtp.evil.com", "port": 587, "proxyHost": "socks.evil.com"}),
            secrets.clone(),
            &policy,
        ),
        &[
            "config.host: host smtp.evil.com is not in policy.allowed_hosts",
            "config.proxyHost: host socks.evil.com is not in policy.allowed_hosts",
        ],
    );
    assert_violations(
        account_with(
            "email",
            json!({"from": "a@example.com", "service": "Gmail"}),
            secrets.clone(),
            &policy,
        ),
        &["config.service: host smtp.gmail.com is not in policy.allowed_hosts"],
    );
    assert_valid(account_with(
        "email",
        json!({"from": "a@example.com", "service": "ses-eu-west-1"}),
        secrets,
        &policy_hosts(&["*.amazonaws.com"]),
    ));
}

#[test]
fn exchange_endpoints_default_and_overridden() {
    let config = json!({"service": "exchange_server", "from": "a@example.com", "tenantId": "t", "clientId": "c"});
    let secrets = json!({"clientSecret": "s"});
    assert_valid(account_with(
        "email",
        config.clone(),
        secrets.clone(),
        &policy_hosts(&["login.microsoftonline.com", "graph.microsoft.com"]),
    ));
    assert_violations(
        account_with(
            "email",
            config.clone(),
            secrets.clone(),
            &policy_hosts(&["graph.microsoft.com"]),
        ),
        &["config.oauthTokenUrl: host login.microsoftonline.com is not in policy.allowed_hosts"],
    );
    assert_violations(
        account_with(
            "email",
            config,
            secrets.clone(),
            &policy_hosts(&["login.microsoftonline.com"]),
        ),
        &["config.graphApiUrl: host graph.microsoft.com is not in policy.allowed_hosts"],
    );
    // A sovereign cloud: both endpoints overridden.
    let sovereign = json!({
        "service": "exchange_server", "from": "a@example.com", "tenantId": "t", "clientId": "c",
        "oauthTokenUrl": "https://login.microsoftonline.us/t/oauth2/v2.0/token",
        "graphApiUrl": "https://graph.microsoft.us/v1.0",
    });
    assert_valid(account_with(
        "email",
        sovereign.clone(),
        secrets.clone(),
        &policy_hosts(&["login.microsoftonline.us", "graph.microsoft.us"]),
    ));
    assert_violations(
        account_with(
            "email",
            sovereign,
            secrets,
            &policy_hosts(&["login.microsoftonline.com", "graph.microsoft.com"]),
        ),
        &[
            "config.graphApiUrl: host graph.microsoft.us is not in policy.allowed_hosts",
            "config.oauthTokenUrl: host login.microsoftonline.us is not in policy.allowed_hosts",
        ],
    );
}

#[test]
fn email_domains_in_config_and_params() {
    let policy = domains(&["example.com"]);
    assert_valid(account_with(
        "email",
        json!({"from": "Alerts <alerts@Example.COM>", "host": "smtp.example.com", "port": 25, "hasAuth": false,
               "defaultTo": ["a@example.com"]}),
        json!({}),
        &policy,
    ));
    assert_violations(
        account_with(
            "email",
            json!({"from": "alerts@other.org", "host": "smtp.example.com", "port": 25, "hasAuth": false,
                   "defaultTo": ["a@example.com", "Eve <eve@evil.net>"]}),
            json!({}),
            &policy,
        ),
        &[
            "config.defaultTo[1]: domain evil.net is not in policy.email.domain_allowlist",
            "config.from: domain other.org is not in policy.email.domain_allowlist",
        ],
    );
    let message = json!({"to": ["x@example.org"], "cc": ["ok@example.com"], "bcc": ["b@evil.net"],
                         "from": "f@example.com", "subject": "s", "message": "m"});
    assert_violations(
        params_with("email", message.clone(), "", &policy),
        &[
            "bcc[0]: domain evil.net is not in policy.email.domain_allowlist",
            "to[0]: domain example.org is not in policy.email.domain_allowlist",
        ],
    );
    assert_violations(
        params_with("email", message, "actions[0].params", &policy),
        &[
            "actions[0].params.bcc[0]: domain evil.net is not in policy.email.domain_allowlist",
            "actions[0].params.to[0]: domain example.org is not in policy.email.domain_allowlist",
        ],
    );
}

#[test]
fn urls_in_params() {
    let policy = policy_hosts(&["tenant.tines.com", "grafana.example.com"]);
    // Tines' webhookUrl may be a path: the worker keeps it on the account's
    // host (config.url, checked on save), whatever the params say.
    assert_valid(params_with(
        "tines",
        json!({"subAction": "run", "subActionParams": {"webhookUrl": "/webhook/a/SECRET", "body": "{}"}}),
        "",
        &policy,
    ));
    // Links shown in PagerDuty are not fetched by us.
    assert_valid(params_with(
        "pagerduty",
        json!({"images": [{"src": "https://img.other.org/a.png"}], "clientUrl": "https://herald.other.org"}),
        "",
        &policy,
    ));
}

#[test]
fn check_policy_reports_only_the_policy() {
    // No `from`, no credentials: validate_account would say so, the send-time
    // re-check only looks at hosts and domains.
    let found = strings(spec("email").check_policy(
        &json!({"host": "smtp.evil.com", "port": "x", "defaultCc": ["c@evil.net"]}),
        &json!(null),
        &Policy {
            allowed_hosts: vec!["smtp.example.com".into()],
            email: EmailPolicy {
                domain_allowlist: vec!["example.com".into()],
            },
            ..Policy::default()
        },
    ));
    assert_violations(
        found,
        &[
            "config.defaultCc[0]: domain evil.net is not in policy.email.domain_allowlist",
            "config.host: host smtp.evil.com is not in policy.allowed_hosts",
        ],
    );
    assert!(
        strings(spec("email").check_policy(
            &json!({"host": "smtp.evil.com"}),
            &json!({}),
            &Policy::default()
        ))
        .is_empty()
    );
}

#[test]
fn an_empty_allowlist_allows_no_host() {
    assert_violations(
        account_with(
            "teams",
            json!({}),
            json!({"webhookUrl": "https://outlook.office.com/webhook/x"}),
            &policy_hosts(&[]),
        ),
        &["secrets.webhookUrl: host outlook.office.com is not in policy.allowed_hosts"],
    );
}

#[test]
fn internal_addresses_are_refused_on_save_unless_listed() {
    let internal = "is an internal address; policy.allowed_hosts must list it explicitly (* covers public hosts only)";
    let default = Policy::default();
    for (url, host) in [
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254",
        ),
        ("http://127.0.0.1:8080/hook", "127.0.0.1"),
        ("http://[::1]:8080/hook", "::1"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1"),
        ("http://2130706433/hook", "127.0.0.1"),
        ("http://0x7f.1/hook", "127.0.0.1"),
        ("http://0.0.0.0/hook", "0.0.0.0"),
        ("http://LOCALHOST/hook", "localhost"),
        ("http://user@127.0.0.1/hook", "127.0.0.1"),
        ("http://10.0.0.5/hook", "10.0.0.5"),
    ] {
        assert_violations(
            account_with(
                "webhook",
                json!({"url": url, "hasAuth": false}),
                json!({}),
                &default,
            ),
            &[&format!("config.url: host {host} {internal}")],
        );
    }
    let listed = policy_hosts(&[
        "*",
        "169.254.169.254",
        "127.0.0.1",
        "::1",
        "localhost",
        "10.0.0.0/8",
    ]);
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://0x7f.1/hook",
        "http://Localhost./hook",
        "http://10.9.9.9/hook",
    ] {
        assert_valid(account_with(
            "webhook",
            json!({"url": url, "hasAuth": false}),
            json!({}),
            &listed,
        ));
    }
    // Host fields read the same way.
    assert_violations(
        account_with(
            "email",
            json!({"service": "other", "host": "::1", "port": 25, "from": "a@example.com", "hasAuth": false}),
            json!({}),
            &default,
        ),
        &[&format!("config.host: host ::1 {internal}")],
    );
}
