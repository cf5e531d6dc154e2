//! TheHive answers a created case or alert with its `_id` (and a case with
//! its `number`); an update answers 204. Errors carry `type` and `message`.

use crate::delivery::Outcome;

use super::VENDOR;
use crate::rest::{Reply, text_at, unexpected};

pub fn record_id(reply: &Reply) -> Result<String, Outcome> {
    text_at(&reply.json, "/_id")
        .ok_or_else(|| unexpected(VENDOR, &reply.response, "the record's _id"))
}

pub fn case_number(reply: &Reply) -> Option<String> {
    text_at(&reply.json, "/number")
}
