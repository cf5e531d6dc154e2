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
        let email: Vec<&str> = herald_catalog::catalog()
            .all()
            .iter()
            .filter(|spec| spec.worker == herald_catalog::Worker::Email)
            .map(|spec| spec.id)
            .collect();
        let served: Vec<&str> = super::connectors()
            .iter()
            .map(|c| c.connector_type())
            .collect();
        assert_eq!(served, email);
    }
}
