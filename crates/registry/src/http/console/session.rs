//! Who is signed in to the console, with no session state on the server:
//! the session cookie is signed (HMAC-SHA256) under a key derived from the
//! master key ([`crate::Registry::console_key`]), so any registry replica
//! with the same `HERALD_MASTER_KEY` accepts it, and it expires after
//! [`SESSION_SECONDS`].
//!
//! The cookie never holds the token. It holds the role, the expiry, a
//! random nonce and a fingerprint of the token signed in with (the first 16
//! bytes of an HMAC of it); each request looks for a configured token of
//! that role with that fingerprint, so removing or rotating a token out of
//! `HERALD_*_TOKEN` ends the sessions it opened. The same token is what the
//! console presents to ingest (Test, alerts) on the user's behalf.
//!
//! CSRF: every form of a signed-in page carries `csrf`, an HMAC of the
//! session's nonce; a POST without it or with another is refused (403)
//! before anything changes. The sign-in form, before any session exists,
//! is a double submit: its GET sets a short-lived random `herald_signin`
//! cookie (SameSite=Strict, HttpOnly) and puts an HMAC of it in the form; a
//! cross-site page can neither read that cookie nor make the browser send
//! it (SameSite=Strict), so it cannot forge a sign-in (login CSRF). A POST
//! whose `Origin` names another site is refused as well.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use herald_catalog::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tonic::metadata::{Ascii, MetadataValue};

use super::super::AppState;
use super::html;
use crate::auth::{Role, Tokens};

type HmacSha256 = Hmac<Sha256>;

/// How long a session lasts: a working day.
pub(crate) const SESSION_SECONDS: u64 = 12 * 3600;
/// How long a sign-in form may wait to be posted.
const SIGNIN_SECONDS: u64 = 600;
pub(crate) const SESSION_COOKIE: &str = "herald_session";
pub(crate) const SIGNIN_COOKIE: &str = "herald_signin";

/// The console's signing key and whether its cookies need `Secure`.
#[derive(Clone)]
pub(crate) struct SessionKeys {
    key: [u8; 32],
    /// The listener serves TLS: cookies are sent over HTTPS only.
    secure: bool,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("key", &"[redacted]")
            .field("secure", &self.secure)
            .finish()
    }
}

/// Why a session cookie is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SessionError {
    #[error("not a session cookie this console made")]
    Malformed,
    #[error("the session's signature does not match")]
    Forged,
    #[error("the session has expired")]
    Expired,
    #[error("the token this session was signed in with is no longer configured")]
    TokenGone,
}

/// What a valid cookie says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claims {
    pub role: Role,
    /// Seconds since the Unix epoch.
    pub expires: u64,
    pub nonce: String,
    pub fingerprint: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal, in time that depends on the lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn random_hex() -> String {
    hex(&rand::random::<[u8; 16]>())
}

impl SessionKeys {
    pub(crate) fn new(key: [u8; 32], secure: bool) -> SessionKeys {
        SessionKeys { key, secure }
    }

    /// HMAC-SHA256 of `label`, a NUL, and `data`: one key, several uses
    /// that cannot stand in for each other.
    fn mac(&self, label: &str, data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac
    }

    fn mac_hex(&self, label: &str, data: &[u8], bytes: usize) -> String {
        hex(&self.mac(label, data).finalize().into_bytes()[..bytes])
    }

    /// The first 16 bytes of an HMAC of `token`: names it without revealing it.
    pub(crate) fn fingerprint(&self, token: &str) -> String {
        self.mac_hex("token", token.as_bytes(), 16)
    }

    /// A cookie value for `role`, signed in with `token`, valid until
    /// `now + SESSION_SECONDS`:
    /// `v1.<role>.<expires>.<nonce>.<fingerprint>.<signature>`.
    pub(crate) fn issue(&self, role: Role, token: &str, now: u64) -> String {
        let body = format!(
            "v1.{}.{}.{}.{}",
            role.name(),
            now + SESSION_SECONDS,
            random_hex(),
            self.fingerprint(token)
        );
        let signature = self.mac_hex("session", body.as_bytes(), 32);
        format!("{body}.{signature}")
    }

    /// The claims of a cookie value this key signed, unexpired at `now`.
    pub(crate) fn verify(&self, value: &str, now: u64) -> Result<Claims, SessionError> {
        let (body, signature) = value.rsplit_once('.').ok_or(SessionError::Malformed)?;
        let signature = decode_hex(signature).ok_or(SessionError::Malformed)?;
        self.mac("session", body.as_bytes())
            .verify_slice(&signature)
            .map_err(|_| SessionError::Forged)?;
        let parts: Vec<&str> = body.split('.').collect();
        let [version, role, expires, nonce, fingerprint] = parts.as_slice() else {
            return Err(SessionError::Malformed);
        };
        if *version != "v1" {
            return Err(SessionError::Malformed);
        }
        let role = match *role {
            "admin" => Role::Admin,
            "producer" => Role::Producer,
            _ => return Err(SessionError::Malformed),
        };
        let expires: u64 = expires.parse().map_err(|_| SessionError::Malformed)?;
        if expires <= now {
            return Err(SessionError::Expired);
        }
        Ok(Claims {
            role,
            expires,
            nonce: (*nonce).to_owned(),
            fingerprint: (*fingerprint).to_owned(),
        })
    }

    /// The configured token of the claims' role that has their fingerprint.
    pub(crate) fn token_of(
        &self,
        tokens: &Tokens,
        claims: &Claims,
    ) -> Result<Secret, SessionError> {
        tokens
            .of_role(claims.role)
            .find(|token| {
                same(
                    self.fingerprint(token.expose()).as_bytes(),
                    claims.fingerprint.as_bytes(),
                )
            })
            .cloned()
            .ok_or(SessionError::TokenGone)
    }

    /// The CSRF token of the session whose nonce is `nonce`.
    pub(crate) fn csrf(&self, nonce: &str) -> String {
        self.mac_hex("csrf", nonce.as_bytes(), 16)
    }

    /// Whether `presented` is the CSRF token of the session with `nonce`.
    pub(crate) fn csrf_matches(&self, nonce: &str, presented: &str) -> bool {
        same(self.csrf(nonce).as_bytes(), presented.as_bytes())
    }

    /// The hidden field of the sign-in form for a `herald_signin` cookie.
    pub(crate) fn signin_token(&self, signin_nonce: &str) -> String {
        self.mac_hex("signin", signin_nonce.as_bytes(), 16)
    }

    /// A new `herald_signin` cookie value and the form field that goes with it.
    pub(crate) fn new_signin(&self) -> (String, String) {
        let nonce = random_hex();
        let token = self.signin_token(&nonce);
        (nonce, token)
    }

    pub(crate) fn signin_matches(&self, signin_nonce: &str, presented: &str) -> bool {
        !signin_nonce.is_empty()
            && same(
                self.signin_token(signin_nonce).as_bytes(),
                presented.as_bytes(),
            )
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure over
    /// TLS; `max_age` 0 clears it.
    pub(crate) fn cookie(&self, name: &str, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict{secure}"
        ))
        .expect("cookie values are hex, digits, dots and names")
    }

    pub(crate) fn session_cookie(&self, value: &str) -> HeaderValue {
        self.cookie(SESSION_COOKIE, value, SESSION_SECONDS)
    }

    pub(crate) fn signin_cookie(&self, value: &str) -> HeaderValue {
        self.cookie(SIGNIN_COOKIE, value, SIGNIN_SECONDS)
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The signed-in user of a console request.
#[derive(Clone)]
pub(crate) struct Session {
    role: Role,
    /// The configured token the session was opened with, for calls to
    /// ingest as that role. Never rendered, never logged.
    token: Secret,
    csrf: String,
    nonce: String,
    keys: SessionKeys,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("role", &self.role).finish()
    }
}

impl Session {
    pub(crate) fn role(&self) -> Role {
        self.role
    }

    pub(crate) fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// `authorization: Bearer <the session's token>` for ingest's gRPC.
    pub(crate) fn bearer(&self) -> Option<MetadataValue<Ascii>> {
        format!("Bearer {}", self.token.expose()).parse().ok()
    }

    /// Refuses a form (403) whose `csrf` field is missing or not this
    /// session's.
    /// A posted form's fields, once its CSRF token is this session's: the
    /// one way a handler reads a form, so none can skip the check.
    pub(crate) fn posted_form(&self, body: &[u8]) -> Result<super::FormData, Box<Response>> {
        let form = super::FormData::parse(body);
        self.check_csrf(form.get("csrf"))?;
        Ok(form)
    }

    fn check_csrf(&self, presented: Option<&str>) -> Result<(), Box<Response>> {
        match presented {
            Some(token) if self.keys.csrf_matches(&self.nonce, token) => Ok(()),
            _ => Err(Box::new(html::error_page(
                Some(self),
                StatusCode::FORBIDDEN,
                "This form is missing its CSRF token or carries another session's: nothing was changed. Reload the page and try again.",
            ))),
        }
    }

    /// Refuses (403) a page or form that only the admin role may use.
    pub(crate) fn require_admin(&self, what: &str) -> Result<(), Box<Response>> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Box::new(html::error_page(
                Some(self),
                StatusCode::FORBIDDEN,
                &format!(
                    "The {} role reads and tests; only admin may {what}.",
                    self.role.name()
                ),
            )))
        }
    }
}

/// A request without a valid session goes to the sign-in page.
impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Session, Response> {
        let keys = &state.console;
        let claims = cookie_value(&parts.headers, SESSION_COOKIE)
            .ok_or(SessionError::Malformed)
            .and_then(|value| keys.verify(value, now_seconds()));
        let session = claims.and_then(|claims| {
            let token = keys.token_of(&state.tokens, &claims)?;
            Ok(Session {
                role: claims.role,
                token,
                csrf: keys.csrf(&claims.nonce),
                nonce: claims.nonce,
                keys: keys.clone(),
            })
        });
        session.map_err(|error| {
            tracing::debug!(%error, "console request without a session");
            let mut response = html::see_other("/sign-in");
            if cookie_value(&parts.headers, SESSION_COOKIE).is_some() {
                response
                    .headers_mut()
                    .insert(header::SET_COOKIE, keys.cookie(SESSION_COOKIE, "", 0));
            }
            response.into_response()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "admin-token-0123456789";
    const P: &str = "producer-token-0123456789";
    const S: &str = "service-token-0123456789";

    fn keys() -> SessionKeys {
        SessionKeys::new([7; 32], false)
    }

    #[test]
    fn a_cookie_verifies_until_it_expires_and_holds_no_token() {
        let keys = keys();
        let cookie = keys.issue(Role::Admin, A, 1_000);
        assert!(!cookie.contains(A));
        let claims = keys.verify(&cookie, 1_000).unwrap();
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.expires, 1_000 + SESSION_SECONDS);
        assert_eq!(
            keys.verify(&cookie, 1_000 + SESSION_SECONDS - 1),
            Ok(claims)
        );
        assert_eq!(
            keys.verify(&cookie, 1_000 + SESSION_SECONDS),
            Err(SessionError::Expired)
        );
        // Another replica with the same key accepts it; another key does not.
        assert!(
            SessionKeys::new([7; 32], true)
                .verify(&cookie, 1_000)
                .is_ok()
        );
        assert_eq!(
            SessionKeys::new([8; 32], false).verify(&cookie, 1_000),
            Err(SessionError::Forged)
        );
    }

    #[test]
    fn a_tampered_cookie_is_refused() {
        let keys = keys();
        let cookie = keys.issue(Role::Producer, P, 1_000);
        let promoted = cookie.replacen("producer", "admin", 1);
        assert_eq!(keys.verify(&promoted, 1_000), Err(SessionError::Forged));
        let (body, _) = cookie.rsplit_once('.').unwrap();
        let later = body.replacen(&(1_000 + SESSION_SECONDS).to_string(), "99999999999", 1);
        assert_eq!(
            keys.verify(&format!("{later}.{}", "0".repeat(64)), 1_000),
            Err(SessionError::Forged)
        );
        for bad in [
            "",
            "v1",
            "v1.admin.1.2.3.zz",
            "no dots at all",
            &cookie[1..],
        ] {
            assert!(keys.verify(bad, 1_000).is_err(), "{bad}");
        }
        // A service cookie cannot be made: not even a correctly signed one.
        let body = format!(
            "v1.service.{}.{}.{}",
            9_999_999,
            "ab".repeat(16),
            keys.fingerprint(S)
        );
        let signed = format!("{body}.{}", keys.mac_hex("session", body.as_bytes(), 32));
        assert_eq!(keys.verify(&signed, 1_000), Err(SessionError::Malformed));
    }

    #[test]
    fn rotating_a_token_out_ends_its_sessions() {
        let keys = keys();
        let next = "admin-token-next-0123456789";
        let both = Tokens::new(&format!("{A},{next}"), P, S).unwrap();
        let claims = keys
            .verify(&keys.issue(Role::Admin, A, 1_000), 1_000)
            .unwrap();
        assert_eq!(keys.token_of(&both, &claims).unwrap().expose(), A);
        let rotated = Tokens::new(next, P, S).unwrap();
        assert_eq!(
            keys.token_of(&rotated, &claims).unwrap_err(),
            SessionError::TokenGone
        );
        // The same token under another role is not the session's.
        let moved = Tokens::new(next, A, S).unwrap();
        assert_eq!(
            keys.token_of(&moved, &claims).unwrap_err(),
            SessionError::TokenGone
        );
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let keys = keys();
        let a = keys
            .verify(&keys.issue(Role::Admin, A, 1_000), 1_000)
            .unwrap();
        let b = keys
            .verify(&keys.issue(Role::Admin, A, 1_000), 1_000)
            .unwrap();
        let token = keys.csrf(&a.nonce);
        assert!(keys.csrf_matches(&a.nonce, &token));
        assert!(!keys.csrf_matches(&b.nonce, &token));
        assert!(!keys.csrf_matches(&a.nonce, ""));
        assert!(!keys.csrf_matches(&a.nonce, &token[1..]));
        let (nonce, field) = keys.new_signin();
        assert!(keys.signin_matches(&nonce, &field));
        assert!(!keys.signin_matches("", &keys.signin_token("")));
        assert!(!keys.signin_matches(&nonce, &token));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_tls() {
        let plain = keys().session_cookie("v");
        assert_eq!(
            plain.to_str().unwrap(),
            format!(
                "herald_session=v; Max-Age={SESSION_SECONDS}; Path=/; HttpOnly; SameSite=Strict"
            )
        );
        let tls = SessionKeys::new([7; 32], true).cookie(SESSION_COOKIE, "", 0);
        assert!(tls.to_str().unwrap().ends_with("; Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; herald_session=x.y; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("x.y"));
        assert_eq!(cookie_value(&headers, "c"), None);
    }
}
