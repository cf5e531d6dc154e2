//! Bearer tokens per role, shared by every Herald service: from
//! HERALD_ADMIN_TOKEN, HERALD_PRODUCER_TOKEN and HERALD_SERVICE_TOKEN
//! (comma-separated, so a token can be rotated by listing the old and the
//! new one for a while). Every configured token is compared, in constant
//! time, so the time taken says nothing about which one came close. What
//! each role may do is the calling service's decision.

use herald_catalog::Secret;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Manages accounts.
    Admin,
    /// Submits events, reads status and accounts (without secrets).
    Producer,
    /// Ingest and workers: reads accounts with secrets.
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
}

#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<(Secret, Role)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "no bearer token is configured: set HERALD_ADMIN_TOKEN, HERALD_PRODUCER_TOKEN and HERALD_SERVICE_TOKEN"
    )]
    None,
    #[error("one token is configured for both the {0} and the {1} role; give each role its own")]
    Shared(&'static str, &'static str),
    #[error("a {0} token is shorter than 16 characters; use a long random value")]
    TooShort(&'static str),
}

/// Why a caller could not be identified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing `authorization: Bearer <token>`")]
    Missing,
    #[error("authorization must be `Bearer <token>`")]
    Malformed,
    #[error("unknown bearer token")]
    Unknown,
}

impl Tokens {
    /// Each argument is the comma-separated value of a role's variable.
    pub fn new(admin: &str, producer: &str, service: &str) -> Result<Tokens, TokenError> {
        let mut entries: Vec<(Secret, Role)> = Vec::new();
        for (list, role) in [
            (admin, Role::Admin),
            (producer, Role::Producer),
            (service, Role::Service),
        ] {
            for token in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if token.len() < 16 {
                    return Err(TokenError::TooShort(role.name()));
                }
                if let Some((_, other)) = entries.iter().find(|(t, _)| t.expose() == token) {
                    return Err(TokenError::Shared(other.name(), role.name()));
                }
                entries.push((Secret::new(token), role));
            }
        }
        if entries.is_empty() {
            return Err(TokenError::None);
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

    /// Whether any token of `role` is configured.
    pub fn has(&self, role: Role) -> bool {
        self.entries.iter().any(|(_, r)| *r == role)
    }

    /// Every configured token of `role` (several while one is rotated), for
    /// a caller that must check a token it saw before is still configured.
    pub fn of_role(&self, role: Role) -> impl Iterator<Item = &Secret> + '_ {
        self.entries
            .iter()
            .filter(move |(_, r)| *r == role)
            .map(|(token, _)| token)
    }

    pub fn role_of(&self, presented: &[u8]) -> Option<Role> {
        let mut found = None;
        for (token, role) in &self.entries {
            if bool::from(token.expose().as_bytes().ct_eq(presented)) {
                found = Some(*role);
            }
        }
        found
    }

    /// The role of the caller whose `authorization` header (gRPC metadata
    /// or HTTP) is `header`.
    pub fn identify(&self, header: Option<&[u8]>) -> Result<Role, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        let presented = header
            .strip_prefix(b"Bearer ")
            .or_else(|| header.strip_prefix(b"bearer "))
            .ok_or(AuthError::Malformed)?;
        self.role_of(presented.trim_ascii())
            .ok_or(AuthError::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "admin-token-0123456789";
    const P: &str = "producer-token-0123456789";
    const S: &str = "service-token-0123456789";

    #[test]
    fn roles_by_token_with_rotation_lists() {
        let t = Tokens::new(&format!("{A}, admin-token-next-0123"), P, S).unwrap();
        assert_eq!(t.role_of(A.as_bytes()), Some(Role::Admin));
        assert_eq!(t.role_of(b"admin-token-next-0123"), Some(Role::Admin));
        assert_eq!(t.role_of(P.as_bytes()), Some(Role::Producer));
        assert_eq!(t.role_of(S.as_bytes()), Some(Role::Service));
        assert_eq!(t.role_of(b"admin-token-012345678"), None);
        assert_eq!(t.role_of(b""), None);
        assert!(!format!("{t:?}").contains(A));
        assert!(t.has(Role::Service));
    }

    #[test]
    fn headers_identify_callers() {
        let t = Tokens::new(A, P, S).unwrap();
        let bearer = |t: &str| format!("Bearer {t}").into_bytes();
        assert_eq!(t.identify(Some(&bearer(P))), Ok(Role::Producer));
        assert_eq!(
            t.identify(Some(format!("bearer  {S} ").as_bytes())),
            Ok(Role::Service)
        );
        assert_eq!(
            t.identify(Some(&bearer("nope-nope-nope-nope"))),
            Err(AuthError::Unknown)
        );
        assert_eq!(t.identify(Some(P.as_bytes())), Err(AuthError::Malformed));
        assert_eq!(t.identify(None), Err(AuthError::Missing));
    }

    #[test]
    fn bad_token_settings_are_refused() {
        assert!(matches!(Tokens::new("", "", ""), Err(TokenError::None)));
        assert!(matches!(
            Tokens::new(A, A, ""),
            Err(TokenError::Shared("admin", "producer"))
        ));
        assert!(matches!(
            Tokens::new("short", "", ""),
            Err(TokenError::TooShort("admin"))
        ));
    }
}
