//! The worker runtime every Herald worker runs on: a worker crate holds only
//! its connectors (`Connector`), and this crate consumes their actions from
//! JetStream, delivers them through the shared outbound HTTP client, and
//! acks, retries or dead-letters each by its `Outcome`.

pub mod connector;
pub mod http;
pub mod outcome;
pub mod rate_limit;

pub use connector::{Account, Connector, Delivery};
pub use outcome::{HttpRequest, HttpResponse, Outcome, classify_status};
