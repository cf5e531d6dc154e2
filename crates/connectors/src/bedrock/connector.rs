//! The connector: reads the account and params it is given and makes
//! the attempt, signed at the time it is sent.

use std::time::SystemTime;

use crate::delivery::{Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};

pub use super::request::build;
pub use super::response::classify;

pub struct Bedrock;

impl HttpConnector for Bedrock {
    fn connector_type(&self) -> &'static str {
        "bedrock"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account, SystemTime::now())
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
    }
}
