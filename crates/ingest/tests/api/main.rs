//! herald-ingest against a real nats-server, a real registry in-process and
//! real gRPC and HTTP clients.

mod auth;
mod bad_input;
mod fuzz;
mod helpers;
mod hostile;
mod idempotency;
mod intake;
mod lifecycle;
mod limits;
mod submit;
mod tls;
mod unavailable;
