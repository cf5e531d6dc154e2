//! The one mapping from domain errors to gRPC status codes (and, later, to
//! HTTP). Deliberately a small set: each code means one thing to a caller.

/// What went wrong, as a caller needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Bad input; the message names every field at fault.
    InvalidArgument,
    /// Bad input that is too large (a size limit); HTTP says `413`, gRPC
    /// `INVALID_ARGUMENT` like every other bad input.
    TooLarge,
    NotFound,
    /// The name is taken by something else (an idempotency key already
    /// used for another event).
    AlreadyExists,
    /// A conditional write lost a race (stale version).
    Aborted,
    /// The request is valid but the target cannot take it (preconfigured account).
    FailedPrecondition,
    Unauthenticated,
    PermissionDenied,
    /// A dependency (database, registry) is down; the caller may retry.
    Unavailable,
    /// A bug or an unexpected failure; details go to the log, not the caller.
    Internal,
}

impl ErrorCode {
    pub fn grpc(self) -> tonic::Code {
        match self {
            ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::TooLarge => tonic::Code::InvalidArgument,
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::AlreadyExists => tonic::Code::AlreadyExists,
            ErrorCode::Aborted => tonic::Code::Aborted,
            ErrorCode::FailedPrecondition => tonic::Code::FailedPrecondition,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::Internal => tonic::Code::Internal,
        }
    }

    pub fn http(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument => 400,
            ErrorCode::TooLarge => 413,
            ErrorCode::NotFound => 404,
            ErrorCode::AlreadyExists => 409,
            ErrorCode::Aborted => 409,
            ErrorCode::FailedPrecondition => 409,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// Implemented by every service's error enum; `status()` is the one way such
/// an error becomes a `tonic::Status`.
pub trait ServiceError: std::error::Error {
    fn code(&self) -> ErrorCode;

    /// The message a caller sees. Internal errors hide their details.
    fn public_message(&self) -> String {
        match self.code() {
            ErrorCode::Internal => "internal error; see the service log".to_owned(),
            _ => self.to_string(),
        }
    }

    fn status(&self) -> tonic::Status {
        tonic::Status::new(self.code().grpc(), self.public_message())
    }
}
