//! Herald's e-mail worker: the `email` connector, over SMTP (lettre, with
//! our own pooled connections) or Microsoft Graph for Exchange Online. The
//! consume loop, retries and outbound HTTP live in `herald-worker`.

use std::sync::Arc;

use herald_worker::Connector;

pub mod email;

pub use email::Email;

/// Every connector this worker serves.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![Arc::new(Email::default())]
}

#[cfg(test)]
mod tests {
    #[test]
    fn serves_every_type_the_catalog_gives_this_worker() {
        herald_worker::testing::assert_serves_catalog_types(
            &super::connectors(),
            herald_catalog::Worker::Email,
        );
    }
}
