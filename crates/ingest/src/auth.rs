//! Who may call ingest: bearer tokens per role, from HERALD_PRODUCER_TOKEN,
//! HERALD_ADMIN_TOKEN and HERALD_SERVICE_TOKEN (comma-separated, so a token
//! can be rotated by listing the old and the new one for a while). Producers
//! and admins may submit and read status; a service token is recognised so
//! that its holder hears "wrong role" (403) rather than "unknown token" (401).
//!
//! Every configured token is compared, in constant time, so the time taken
//! says nothing about which one came close.

use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Producer,
    Service,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Producer => "producer",
            Role::Service => "service",
        }
    }

    /// Submitting events and reading action status.
    pub fn may_submit(self) -> bool {
        matches!(self, Role::Admin | Role::Producer)
    }
}

/// A token; its Debug output never shows it.
#[derive(Clone)]
struct Token(Vec<u8>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<(Token, Role)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "no producer or admin token is configured, so nobody could submit: set HERALD_PRODUCER_TOKEN"
    )]
    NoSubmitter,
    #[error("one token is configured for both the {0} and the {1} role; give each role its own")]
    Shared(&'static str, &'static str),
}

/// Why a caller was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing `authorization: Bearer <token>`")]
    Missing,
    #[error("authorization must be `Bearer <token>`")]
    Malformed,
    #[error("unknown bearer token")]
    Unknown,
    #[error("the {} role may not submit events or read action status", .0.name())]
    Forbidden(Role),
}

impl Tokens {
    /// Each argument is the comma-separated value of a role's variable.
    pub fn new(admin: &str, producer: &str, service: &str) -> Result<Tokens, TokenError> {
        let mut entries: Vec<(Token, Role)> = Vec::new();
        for (list, role) in [
            (admin, Role::Admin),
            (producer, Role::Producer),
            (service, Role::Service),
        ] {
            for token in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if let Some((_, other)) = entries.iter().find(|(t, _)| t.0 == token.as_bytes()) {
                    return Err(TokenError::Shared(other.name(), role.name()));
                }
                entries.push((Token(token.as_bytes().to_vec()), role));
            }
        }
        if !entries.iter().any(|(_, role)| role.may_submit()) {
            return Err(TokenError::NoSubmitter);
        }
        Ok(Tokens { entries })
    }

    pub fn from_env() -> Result<Tokens, TokenError> {
        let var = |name| std::env::var(name).unwrap_or_default();
        Tokens::new(
            &var("HERALD_ADMIN_TOKEN"),
            &var("HERALD_PRODUCER_TOKEN"),
            &var("HERALD_SERVICE_TOKEN"),
        )
    }

    pub fn role_of(&self, presented: &[u8]) -> Option<Role> {
        let mut found = None;
        for (token, role) in &self.entries {
            if bool::from(token.0.as_slice().ct_eq(presented)) {
                found = Some(*role);
            }
        }
        found
    }

    /// Checks an `authorization` header value (gRPC metadata or HTTP) and
    /// returns the caller's role when it may submit and read status.
    pub fn authorize(&self, header: Option<&[u8]>) -> Result<Role, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let presented = header
            .strip_prefix(b"Bearer ")
            .or_else(|| header.strip_prefix(b"bearer "))
            .ok_or(AuthError::Malformed)?;
        let role = self
            .role_of(presented.trim_ascii())
            .ok_or(AuthError::Unknown)?;
        if role.may_submit() {
            Ok(role)
        } else {
            Err(AuthError::Forbidden(role))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "admin-token-0123456789";
    const P: &str = "producer-token-0123456789";
    const S: &str = "service-token-0123456789";

    #[test]
    fn roles_and_refusals() {
        let t = Tokens::new(A, &format!("{P}, producer-token-next"), S).unwrap();
        let bearer = |t: &str| format!("Bearer {t}").into_bytes();
        assert_eq!(t.authorize(Some(&bearer(A))), Ok(Role::Admin));
        assert_eq!(t.authorize(Some(&bearer(P))), Ok(Role::Producer));
        assert_eq!(
            t.authorize(Some(&bearer("producer-token-next"))),
            Ok(Role::Producer)
        );
        assert_eq!(
            t.authorize(Some(&bearer(S))),
            Err(AuthError::Forbidden(Role::Service))
        );
        assert_eq!(t.authorize(Some(&bearer("nope"))), Err(AuthError::Unknown));
        assert_eq!(t.authorize(Some(P.as_bytes())), Err(AuthError::Malformed));
        assert_eq!(t.authorize(None), Err(AuthError::Missing));
        assert!(!format!("{t:?}").contains(P));
    }

    #[test]
    fn bad_token_settings_are_refused() {
        assert!(matches!(
            Tokens::new("", "", S),
            Err(TokenError::NoSubmitter)
        ));
        assert!(matches!(
            Tokens::new(A, A, ""),
            Err(TokenError::Shared("admin", "producer"))
        ));
    }
}
