//! The connector: reads the account and params it is given and makes
//! the attempt.

use crate::delivery::{Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};

pub use super::request::build;
pub use super::response::classify;

pub struct GenAi;

impl HttpConnector for GenAi {
    fn connector_type(&self) -> &'static str {
        "gen-ai"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account)
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
    }
}
