//! Who may call ingest: producers and admins may submit events and read
//! action status. A service token is recognised (`herald_proto::auth`) so
//! that its holder hears "wrong role" (403) rather than "unknown token" (401).

pub use herald_proto::auth::{Role, TokenError, Tokens};

/// Why a caller was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Unidentified(#[from] herald_proto::auth::AuthError),
    #[error("the {} role may not submit events or read action status", .0.name())]
    Forbidden(Role),
}

/// Submitting events and reading action status.
pub fn may_submit(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Producer)
}

/// Checks an `authorization` header value (gRPC metadata or HTTP) and
/// returns the caller's role when it may submit and read status.
pub fn authorize(tokens: &Tokens, header: Option<&[u8]>) -> Result<Role, AuthError> {
    let role = tokens.identify(header)?;
    if may_submit(role) {
        Ok(role)
    } else {
        Err(AuthError::Forbidden(role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "admin-token-0123456789";
    const P: &str = "producer-token-0123456789";
    const S: &str = "service-token-0123456789";

    #[test]
    fn producers_and_admins_may_submit() {
        let t = Tokens::new(A, P, S).unwrap();
        let bearer = |t: &str| format!("Bearer {t}").into_bytes();
        assert_eq!(authorize(&t, Some(&bearer(A))), Ok(Role::Admin));
        assert_eq!(authorize(&t, Some(&bearer(P))), Ok(Role::Producer));
        assert_eq!(
            authorize(&t, Some(&bearer(S))),
            Err(AuthError::Forbidden(Role::Service))
        );
        assert!(matches!(
            authorize(&t, None),
            Err(AuthError::Unidentified(_))
        ));
    }
}
