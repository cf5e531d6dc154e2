//! The web console in a real browser: headless Chromium driven over
//! WebDriver (chromedriver, a child process per browser) against a real
//! stack (nats-server, registry, ingest, the chat worker) and a mock Slack
//! on loopback. An admin creates a Slack account with the generated form,
//! tests it, follows the delivery, breaks the account, finds the dead
//! letter, fixes the account and replays it; a producer can read but not
//! change; a POST without its CSRF token changes nothing; no page holds a
//! secret. Each page's screenshot lands in `$HERALD_TEST_ARTIFACTS/console/`
//! (or `target/test-artifacts/console/`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

/// A program the browser tests need, from `HERALD_<NAME>` or the path
/// Debian installs it at; missing is a failure that says how to install it.
fn program(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} is missing: the console's browser tests need Chromium and chromedriver \
         (Debian: `apt-get install chromium chromium-driver`, which scripts/setup.sh does), \
         or set {variable}",
        path.display()
    );
    path
}

/// Where screenshots go: `$HERALD_TEST_ARTIFACTS/console/`, else
/// `target/test-artifacts/console/` under the workspace.
fn artifacts() -> PathBuf {
    let base = std::env::var_os("HERALD_TEST_ARTIFACTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts"),
        PathBuf::from,
    );
    let dir = base.join("console");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A headless Chromium with its own chromedriver and profile, killed on drop.
struct Browser {
    client: Client,
    driver: Child,
    base: String,
    /// Every page's HTML as the browser got it: checked for secrets.
    pages: Vec<(String, String)>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start(base: &str) -> Browser {
        let chromium = program("HERALD_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = program("HERALD_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_addr().rsplit(':').next().unwrap().to_owned();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--no-first-run", "--disable-extensions",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        // The workspace builds rustls with two providers; fantoccini's
        // connector needs one chosen (it talks plain HTTP to chromedriver).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connected = ClientBuilder::rustls()
                .unwrap()
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await;
            match connected {
                Ok(client) => break client,
                Err(error) => {
                    assert!(
                        Instant::now() < deadline,
                        "chromedriver never answered: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Browser {
            client,
            driver,
            base: base.to_owned(),
            pages: Vec::new(),
            _profile: profile,
        }
    }

    async fn open(&mut self, path: &str) -> String {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.html().await
    }

    /// The current page's HTML, kept for the secrets check.
    async fn html(&mut self) -> String {
        let url = self.client.current_url().await.unwrap().to_string();
        let html = self.client.source().await.unwrap();
        self.pages.push((url, html.clone()));
        html
    }

    /// A PNG of the page from its top, with nothing focused.
    async fn screenshot(&self, name: &str) {
        let _ = self
            .client
            .execute(
                "window.scrollTo(0, 0); if (document.activeElement) document.activeElement.blur();",
                Vec::new(),
            )
            .await;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
    }

    async fn fill(&self, css: &str, text: &str) {
        let input = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Clicks and waits for the page `ready` (a CSS selector) marks.
    async fn click(&mut self, css: &str, ready: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(ready))
            .await
            .unwrap_or_else(|e| panic!("after clicking {css}, no {ready}: {e}"));
        self.html().await
    }

    async fn sign_in(&mut self, token: &str) -> String {
        self.open("/").await;
        self.fill("#token", token).await;
        self.click("form[action='/sign-in'] button[type=submit]", "main h1")
            .await
    }

    async fn session_cookie(&self) -> String {
        let cookie = self
            .client
            .get_named_cookie("herald_session")
            .await
            .expect("a session cookie after signing in");
        assert!(cookie.http_only().unwrap_or(false), "{cookie:?}");
        format!("herald_session={}", cookie.value())
    }

    async fn close(mut self) -> Vec<(String, String)> {
        let pages = std::mem::take(&mut self.pages);
        let client = self.client.clone();
        let _ = client.close().await;
        pages
    }
}

/// The action id a page links to first after `marker`.
fn action_id_after(html: &str, marker: &str) -> String {
    let from = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let rest = &html[from..];
    let start = rest.find("/actions/").expect("an action link") + "/actions/".len();
    rest[start..].split('"').next().unwrap().to_owned()
}

/// The CSRF token in a signed-in page (every page's sign-out form has one).
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn console_admin_and_producer_in_a_real_browser() {
    let started = Instant::now();
    let master_key = herald_registry::secret_box::SecretBox::generate_key();
    let key = master_key.clone();
    let env = Env::start(move |options| options.master_key = Some(key)).await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/GOOD"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/GONE"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&slack)
        .await;
    let good = format!("{}/services/T0/B0/GOOD", slack.uri());
    let gone = format!("{}/services/T0/B0/GONE", slack.uri());
    let base = env.stack.registry_http_url().to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Admin: sign in, create a Slack account with the generated form.
    let mut admin = Browser::start(&base).await;
    let page = admin.open("/accounts").await;
    assert!(
        page.contains("name=\"token\""),
        "not signed in: the sign-in page"
    );
    let page = admin.sign_in(&env.stack.admin_token).await;
    assert!(page.contains("Sign out"), "{page}");
    let page = admin.open("/accounts").await;
    assert!(page.contains("No accounts yet"), "{page}");
    admin.screenshot("accounts").await;
    admin
        .click(
            "a[href='/accounts/_new']",
            "a[href='/accounts/_new?type=slack']",
        )
        .await;
    let page = admin
        .click("a[href='/accounts/_new?type=slack']", "#f-id")
        .await;
    assert!(
        page.contains("type=\"password\""),
        "the webhook URL is a secret input: {page}"
    );
    admin.fill("#f-id", "console-slack").await;
    admin.fill("#f-name", "Console Slack").await;
    // The registry's violation is shown beside the field it names, and
    // the secret typed is not sent back.
    admin
        .fill("#f-secrets_webhookUrl", "not a webhook url")
        .await;
    let page = admin
        .click("form button.primary", "#f-secrets_webhookUrl-error")
        .await;
    assert!(page.contains("Not saved."), "{page}");
    assert!(!page.contains("not a webhook url"), "{page}");
    assert!(
        page.contains("value=\"console-slack\""),
        "the id is kept: {page}"
    );
    admin.fill("#f-secrets_webhookUrl", &good).await;
    admin.screenshot("account-form").await;
    let page = admin
        .click(
            "form button.primary",
            "a[href='/accounts/console-slack/test']",
        )
        .await;
    assert!(page.contains("Saved."), "{page}");
    assert!(page.contains("webhookUrl set"), "{page}");
    // Richer types' generated forms: numbers, booleans, choices.
    let page = admin.open("/accounts/_new?type=webhook").await;
    assert!(page.contains("<select id=\"f-config_method\""), "{page}");
    let page = admin.open("/accounts/_new?type=email").await;
    for control in [
        "type=\"number\"",
        "type=\"checkbox\"",
        "type=\"password\"",
        "<span class=\"req\">",
    ] {
        assert!(
            page.contains(control),
            "no {control} in the e-mail form: {page}"
        );
    }
    admin.screenshot("account-form-email").await;
    admin.open("/accounts/console-slack").await;

    // Test: through ingest and the worker to the mock, and the vendor's answer.
    let page = admin
        .click(
            "a[href='/accounts/console-slack/test']",
            "#f-params_message",
        )
        .await;
    assert!(
        page.contains("Test message from the Herald console"),
        "{page}"
    );
    let page = admin.click("form[data-busy] button", "#result").await;
    admin.screenshot("test").await;
    assert!(page.contains("state-delivered"), "{page}");
    assert!(
        page.contains("200 <pre>ok</pre>"),
        "the vendor's status and answer: {page}"
    );
    let delivered = action_id_after(&page, "id=\"result\"");

    // Deliveries, then the action's attempts.
    let page = admin.open("/deliveries").await;
    assert!(page.contains(&delivered), "{page}");
    admin.screenshot("deliveries").await;
    let page = admin
        .click(&format!("a[href='/actions/{delivered}']"), "table")
        .await;
    assert!(page.contains("200 <pre>ok</pre>"), "{page}");
    admin.screenshot("attempts").await;

    // Break the account: the vendor refuses for good, a dead letter.
    admin.open("/accounts/console-slack/edit").await;
    admin.fill("#f-secrets_webhookUrl", &gone).await;
    admin
        .click(
            "form button.primary",
            "a[href='/accounts/console-slack/test']",
        )
        .await;
    admin.open("/accounts/console-slack/test").await;
    let page = admin.click("form[data-busy] button", "#result").await;
    assert!(page.contains("state-failed"), "{page}");
    assert!(page.contains("no_service"), "{page}");
    let dead = action_id_after(&page, "id=\"result\"");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = admin.open("/dead-letters").await;
        if page.contains(&dead) {
            assert!(page.contains("no_service"), "{page}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no dead letter for {dead}: {page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    admin.screenshot("dead-letters").await;

    // Fix it, replay the letter, see it delivered.
    admin.open("/accounts/console-slack/edit").await;
    admin.fill("#f-secrets_webhookUrl", &good).await;
    admin
        .click(
            "form button.primary",
            "a[href='/accounts/console-slack/test']",
        )
        .await;
    admin.open("/dead-letters").await;
    let page = admin
        .click(
            &format!("form:has(input[value='{dead}']) button"),
            "p.notice",
        )
        .await;
    assert!(page.contains("Replayed 1"), "{page}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = admin
            .open("/deliveries?account_id=console-slack&state=delivered")
            .await;
        if page.contains(&dead) {
            break;
        }
        assert!(Instant::now() < deadline, "{dead} never delivered: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let page = admin.open(&format!("/actions/{dead}")).await;
    assert!(page.contains("state-delivered"), "{page}");

    let page = admin.open("/routes").await;
    assert!(page.contains("No routes yet"), "{page}");
    admin.screenshot("routes").await;
    let page = admin.open("/").await;
    assert!(page.contains("Dead letters"), "{page}");
    admin.screenshot("overview").await;

    // A POST without its CSRF token, or with another, changes nothing.
    let cookie = admin.session_cookie().await;
    let delete = format!("{base}/accounts/console-slack/delete");
    for body in [
        "version=0",
        "version=0&csrf=00112233445566778899aabbccddeeff",
    ] {
        let refused = http
            .post(&delete)
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{body}");
    }
    let still = http
        .get(format!("{base}/accounts/console-slack"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
    // Every console answer carries the strict policy.
    let csp = still.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(still.headers()["cache-control"], "no-store");
    let mut pages = admin.close().await;

    // Producer, in a fresh browser: the service token may not sign in; the
    // producer reads and tests, but cannot reach the changing forms.
    let mut producer = Browser::start(&base).await;
    let page = producer.sign_in(&env.stack.service_token).await;
    assert!(page.contains("The service token is for ingest"), "{page}");
    producer.sign_in(&env.stack.producer_token).await;
    let page = producer.open("/accounts").await;
    assert!(page.contains("console-slack"), "{page}");
    assert!(
        !page.contains("/edit") && !page.contains("/accounts/_new"),
        "{page}"
    );
    let page = producer.open("/accounts/console-slack").await;
    assert!(
        !page.contains("/edit") && !page.contains("/delete"),
        "{page}"
    );
    // A producer tests.
    let page = producer.open("/accounts/console-slack/test").await;
    assert!(page.contains("Send test"), "{page}");
    for form in [
        "/accounts/_new?type=slack",
        "/accounts/console-slack/edit",
        "/accounts/console-slack/delete",
    ] {
        let page = producer.open(form).await;
        assert!(page.contains("only admin may"), "{form}: {page}");
    }
    let cookie = producer.session_cookie().await;
    let csrf = csrf_of(&page);
    for (method, path) in [
        ("GET", "/accounts/_new?type=slack"),
        ("GET", "/accounts/console-slack/edit"),
        ("POST", "/accounts/_new?type=slack"),
        ("POST", "/accounts/console-slack/edit"),
        ("POST", "/accounts/console-slack/delete"),
        ("POST", "/dead-letters/replay"),
    ] {
        let request = match method {
            "GET" => http.get(format!("{base}{path}")),
            _ => http
                .post(format!("{base}{path}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("csrf={csrf}&id=x&name=x&action_id={dead}")),
        };
        let answer = request.header("cookie", &cookie).send().await.unwrap();
        assert_eq!(answer.status(), 403, "{method} {path}");
        pages.push((path.to_owned(), answer.text().await.unwrap()));
    }
    pages.extend(producer.close().await);

    // No page ever held a secret.
    let secrets = [
        good.as_str(),
        gone.as_str(),
        "/services/T0/B0/",
        env.stack.admin_token.as_str(),
        env.stack.producer_token.as_str(),
        env.stack.service_token.as_str(),
        master_key.as_str(),
    ];
    for (url, html) in &pages {
        for secret in secrets {
            assert!(!html.contains(secret), "{url} shows a secret ({secret})");
        }
    }
    println!(
        "console browser test: {} pages in {:?}; screenshots in {}",
        pages.len(),
        started.elapsed(),
        artifacts().display()
    );
}
