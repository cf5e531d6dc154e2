//! Opsgenie accepts with `202 {"result","took","requestId"}`; errors carry
//! `message` (and `errors` for 422 validation failures).

use std::collections::BTreeMap;

use crate::delivery::attempt::vendor_error;
use crate::delivery::{HttpResponse, Outcome};
use serde_json::Value;

pub fn classify(response: &HttpResponse) -> Outcome {
    if !(200..300).contains(&response.status) {
        return vendor_error(response, "Opsgenie");
    }
    let mut handles = BTreeMap::new();
    if let Some(id) = response
        .json()
        .as_ref()
        .and_then(|json| json.get("requestId"))
        .and_then(Value::as_str)
    {
        handles.insert("request_id".to_owned(), id.to_owned());
    }
    Outcome::Delivered {
        handles,
        response: Some(response.vendor_response()),
    }
}
