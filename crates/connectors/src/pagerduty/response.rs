//! PagerDuty answers 202 `{"status":"success","dedup_key":...}`; 400 with
//! `message` and `errors` for an invalid event; 429 when throttled.

use std::collections::BTreeMap;

use crate::delivery::attempt::vendor_error;
use crate::delivery::{HttpResponse, Outcome};
use serde_json::Value;

pub fn classify(response: &HttpResponse) -> Outcome {
    if !(200..300).contains(&response.status) {
        return vendor_error(response, "PagerDuty");
    }
    let mut handles = BTreeMap::new();
    if let Some(key) = response
        .json()
        .as_ref()
        .and_then(|json| json.get("dedup_key"))
        .and_then(Value::as_str)
    {
        handles.insert("dedup_key".to_owned(), key.to_owned());
    }
    Outcome::Delivered {
        handles,
        response: Some(response.vendor_response()),
    }
}
