//! xMatters answers 202 with the `requestId` of the triggered flow; its
//! errors carry `reason` and `message`.

use crate::delivery::{HttpResponse, Outcome};

use crate::rest::{check, delivered, text_at};

pub fn classify(response: &HttpResponse) -> Outcome {
    match check("xMatters", response) {
        Ok(json) => delivered([("request_id", text_at(&json, "/requestId"))], response),
        Err(outcome) => outcome,
    }
}
