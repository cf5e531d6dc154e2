//! `email`: Kibana's e-mail connector and Search Guard Signals' e-mail
//! account. `config` reads the account into SMTP or Graph settings,
//! `message` builds the mail (a pure function), `smtp` and `graph` send it
//! and classify what happened.

pub mod alert;
pub mod spec;
pub use spec::*;

#[cfg(feature = "delivery")]
mod connector;
#[cfg(feature = "delivery")]
pub use connector::*;
#[cfg(feature = "delivery")]
pub mod config;
#[cfg(feature = "delivery")]
pub mod graph;
#[cfg(feature = "delivery")]
pub mod markdown;
#[cfg(feature = "delivery")]
pub mod message;
#[cfg(feature = "delivery")]
pub mod smtp;
#[cfg(all(test, feature = "delivery"))]
mod tests;

/// The connector a worker runs for this type.
#[cfg(feature = "delivery")]
pub fn connector(_shared: &crate::Shared) -> std::sync::Arc<dyn crate::delivery::Connector> {
    std::sync::Arc::new(Email::default())
}
