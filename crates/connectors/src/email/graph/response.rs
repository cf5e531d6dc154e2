//! Reading the token endpoint's answer and classifying sendMail's.

use std::time::{Duration, Instant};

use crate::delivery::attempt::vendor_error;
use crate::delivery::{HttpResponse, Outcome, classify_status};
use herald_proto::v1::ErrorKind;

/// An access token; Debug never shows it.
#[derive(Clone)]
pub struct Token {
    token_type: String,
    access_token: String,
    pub expires_at: Instant,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Token {
    /// `Authorization` as Kibana sends it: `<token_type> <access_token>`.
    pub fn header_value(&self) -> String {
        format!("{} {}", self.token_type, self.access_token)
    }
}

/// The token from a 200 answer; expiry counts from `started`, when the
/// request left, so the cache never outlives the token.
pub fn read_token(response: &HttpResponse, started: Instant) -> Result<Token, Outcome> {
    if !(200..300).contains(&response.status) {
        let outcome = vendor_error(response, "Microsoft token endpoint");
        // 400 and 401 here are refused client credentials, not a request
        // the vendor rejected.
        return Err(match (response.status, outcome) {
            (
                400 | 401,
                Outcome::Permanent {
                    reason, response, ..
                },
            ) => Outcome::Permanent {
                kind: ErrorKind::Auth,
                reason: format!(
                    "{reason} (check config.tenantId, config.clientId and secrets.clientSecret)"
                ),
                response,
            },
            (_, outcome) => outcome,
        });
    }
    let json = response.json().unwrap_or_default();
    let access_token = json["access_token"].as_str().filter(|t| !t.is_empty());
    let Some(access_token) = access_token else {
        return Err(Outcome::retry(
            ErrorKind::VendorTemporary,
            "Microsoft token endpoint answered without an access_token",
        ));
    };
    let expires_in = json["expires_in"]
        .as_u64()
        .or_else(|| json["expires_in"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(3600);
    Ok(Token {
        token_type: json["token_type"].as_str().unwrap_or("Bearer").to_owned(),
        access_token: access_token.to_owned(),
        expires_at: started + Duration::from_secs(expires_in),
    })
}

/// 202 is sent; anything else is classified by status, with Graph's error
/// code and message in the reason (`crate::delivery::attempt::vendor_error`).
pub fn classify_send(response: &HttpResponse) -> Outcome {
    match classify_status(response) {
        None => Outcome::delivered(),
        Some(_) => vendor_error(response, "Microsoft Graph sendMail"),
    }
}
