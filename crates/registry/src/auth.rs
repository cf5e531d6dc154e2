//! Who may call the registry: the caller's role comes from its bearer token
//! (`herald_proto::auth`), and each RPC names the roles it allows.

pub use herald_proto::auth::{Role, TokenError, Tokens};
use tonic::{Request, Status};

/// Reads `authorization: Bearer <token>` and records the caller's role in
/// the request's extensions for the handlers.
pub fn authenticate<T>(tokens: &Tokens, mut request: Request<T>) -> Result<Request<T>, Status> {
    let header = request
        .metadata()
        .get("authorization")
        .map(|v| v.as_bytes());
    let role = tokens
        .identify(header)
        .map_err(|e| Status::unauthenticated(e.to_string()))?;
    request.extensions_mut().insert(role);
    Ok(request)
}

/// Refuses the call unless the caller holds one of `allowed`.
pub fn require<T>(request: &Request<T>, allowed: &[Role], action: &str) -> Result<Role, Status> {
    let role = *request
        .extensions()
        .get::<Role>()
        .ok_or_else(|| Status::unauthenticated("no authenticated caller"))?;
    if allowed.contains(&role) {
        Ok(role)
    } else {
        Err(Status::permission_denied(format!(
            "the {} role may not {action}",
            role.name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authenticate_reads_the_bearer_header() {
        let t = Tokens::new(
            "admin-token-0123456789",
            "producer-token-0123456789",
            "service-token-0123456789",
        )
        .unwrap();
        let mut req = Request::new(());
        req.metadata_mut().insert(
            "authorization",
            "Bearer producer-token-0123456789".parse().unwrap(),
        );
        let req = authenticate(&t, req).unwrap();
        assert_eq!(
            require(&req, &[Role::Producer], "read").unwrap(),
            Role::Producer
        );
        assert_eq!(
            require(&req, &[Role::Admin], "write").unwrap_err().code(),
            tonic::Code::PermissionDenied
        );
        assert_eq!(
            authenticate(&t, Request::new(())).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        let mut wrong = Request::new(());
        wrong.metadata_mut().insert(
            "authorization",
            "Bearer nope-nope-nope-nope".parse().unwrap(),
        );
        assert_eq!(
            authenticate(&t, wrong).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
    }
}
