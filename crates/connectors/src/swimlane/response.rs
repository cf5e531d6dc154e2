//! Swimlane answers a written record with its `id` and `name` (the
//! tracking id, `SW-12`); its errors carry `ErrorCode` and `Argument`.

use crate::delivery::Outcome;

use super::VENDOR;
use crate::rest::{Reply, text_at, unexpected};

pub struct Record {
    pub id: String,
    pub name: Option<String>,
}

pub fn record(reply: &Reply) -> Result<Record, Outcome> {
    let id = text_at(&reply.json, "/id")
        .ok_or_else(|| unexpected(VENDOR, &reply.response, "the record's id"))?;
    Ok(Record {
        id,
        name: text_at(&reply.json, "/name"),
    })
}
