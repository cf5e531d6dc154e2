//! Resilient answers a created or read incident with its `id`; an update
//! answers 200 with `success: false` and a `message` when it was refused
//! (a conflicting change), which is a refusal inside a 200.

use crate::delivery::Outcome;
use serde_json::Value;

use super::VENDOR;
use crate::rest::{Reply, error_text, refused_in_body, text_at, unexpected};

pub fn incident_id(reply: &Reply) -> Result<String, Outcome> {
    text_at(&reply.json, "/id")
        .ok_or_else(|| unexpected(VENDOR, &reply.response, "the incident's id"))
}

pub fn check_success(reply: &Reply) -> Result<(), Outcome> {
    if reply.json.get("success") == Some(&Value::Bool(false)) {
        let text = error_text(&reply.response.body);
        return Err(refused_in_body(VENDOR, &reply.response, &text));
    }
    Ok(())
}
