//! Tines answers 2xx when the webhook took the event (the body is the
//! story's own response) and `{"error": ...}` with its failures.

use crate::delivery::{HttpResponse, Outcome};

use crate::rest::{check, delivered};

pub fn classify(response: &HttpResponse) -> Outcome {
    match check("Tines", response) {
        Ok(_) => delivered([], response),
        Err(outcome) => outcome,
    }
}
