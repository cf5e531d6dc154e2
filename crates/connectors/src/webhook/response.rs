//! Any 2xx is delivered; 408, 429 and 5xx are retried (with `Retry-After`);
//! other statuses fail for good, quoting the receiver's error text.

use std::collections::BTreeMap;

use crate::delivery::attempt::vendor_error;
use crate::delivery::{HttpResponse, Outcome};

pub fn classify(response: &HttpResponse) -> Outcome {
    if (200..300).contains(&response.status) {
        return Outcome::Delivered {
            handles: BTreeMap::from([("status".to_owned(), response.status.to_string())]),
            response: Some(response.vendor_response()),
        };
    }
    vendor_error(response, "the webhook")
}
