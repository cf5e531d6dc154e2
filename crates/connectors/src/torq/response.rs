//! Torq answers 2xx when the workflow was triggered; its errors carry a
//! `message`.

use crate::delivery::{HttpResponse, Outcome};

use crate::rest::{check, delivered};

pub fn classify(response: &HttpResponse) -> Outcome {
    match check("Torq", response) {
        Ok(_) => delivered([], response),
        Err(outcome) => outcome,
    }
}
