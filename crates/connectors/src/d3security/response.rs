//! D3 answers `{"refid": ...}` for a recorded event, and `{"error": ...}`
//! with its failures.

use crate::delivery::{HttpResponse, Outcome};

use crate::rest::{check, delivered, text_at};

pub fn classify(response: &HttpResponse) -> Outcome {
    match check("D3 Security", response) {
        Ok(json) => delivered([("refid", text_at(&json, "/refid"))], response),
        Err(outcome) => outcome,
    }
}
