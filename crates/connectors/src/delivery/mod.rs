//! What a connector delivers with (feature `delivery`): the `Connector`
//! trait and the `Delivery` it is given, the `Outcome` it returns, the
//! outbound HTTP client that enforces the egress policy, one attempt of one
//! request (`attempt`), and the field readers for account documents. The
//! consume loop that calls connectors is `herald-worker`'s.

pub mod attempt;
pub mod connector;
pub mod fields;
pub mod http;
pub mod outcome;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub(crate) mod tls;
pub mod typed;

pub use connector::{Account, Connector, Delivery, HttpConnector};
pub use outcome::{HttpRequest, HttpResponse, Outcome, classify_status};
