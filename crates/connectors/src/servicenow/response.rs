//! What ServiceNow's answers mean, as pure reads of a 2xx reply (statuses
//! are `rest::check`'s): the record a write made or found, an import-set
//! row that failed inside a 200, a 200 without `result` (a hibernating
//! instance answers with a login page), and the OAuth token.

use std::time::Duration;

use crate::delivery::Outcome;
use crate::delivery::fields::Secret;
use herald_proto::v1::ErrorKind;
use serde_json::Value;

use super::auth::VENDOR;
use super::request::Target;
use crate::rest::{Reply, refused_in_body, text_at, unexpected};
use crate::token_cache::AccessToken;

/// A record as the result names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub sys_id: String,
    pub number: Option<String>,
    pub state: Option<String>,
}

/// `result`, or, when a 2xx has none, a retry: that is what a hibernating
/// or waking instance answers, and nothing was written.
fn result(reply: &Reply) -> Result<&Value, Outcome> {
    reply.json.get("result").ok_or_else(|| Outcome::Retry {
        kind: ErrorKind::VendorTemporary,
        reason: format!(
            "{VENDOR} answered {} without a result: the instance may be hibernating or \
             not a ServiceNow instance",
            reply.response.status
        ),
        after: None,
        response: Some(reply.response.vendor_response()),
    })
}

fn record(value: &Value) -> Option<Record> {
    Some(Record {
        sys_id: text_at(value, "/sys_id")?,
        number: text_at(value, "/number"),
        state: text_at(value, "/state"),
    })
}

/// The record a write created or updated. Table API: the record itself;
/// import set: the first row's outcome, whose `status: error` is a refusal
/// inside a 200, and whose `display_value` is the number.
pub fn written(target: &Target, reply: &Reply) -> Result<Record, Outcome> {
    let result = result(reply)?;
    if target.uses_table_api {
        return read_value(result, reply);
    }
    let Some(row) = result.get(0) else {
        return Err(unexpected(VENDOR, &reply.response, "an import set row"));
    };
    if text_at(row, "/status").as_deref() == Some("error") {
        let message = text_at(row, "/error_message")
            .unwrap_or_else(|| "the import set row failed".to_owned());
        return Err(refused_in_body(VENDOR, &reply.response, &message));
    }
    let sys_id = text_at(row, "/sys_id")
        .ok_or_else(|| unexpected(VENDOR, &reply.response, "the record's sys_id"))?;
    let number = (text_at(row, "/display_name").as_deref() == Some("number"))
        .then(|| text_at(row, "/display_value"))
        .flatten();
    Ok(Record {
        sys_id,
        number,
        state: None,
    })
}

fn read_value(value: &Value, reply: &Reply) -> Result<Record, Outcome> {
    record(value).ok_or_else(|| unexpected(VENDOR, &reply.response, "the record's sys_id"))
}

/// A record read by sys_id.
pub fn read(reply: &Reply) -> Result<Record, Outcome> {
    read_value(result(reply)?, reply)
}

/// The first record of a query, if any.
pub fn found(reply: &Reply) -> Result<Option<Record>, Outcome> {
    Ok(result(reply)?.get(0).and_then(record))
}

/// The handles of a record: its number, sys_id and where to open it.
pub fn handles(target: &Target, record: &Record) -> [(&'static str, Option<String>); 3] {
    [
        ("number", record.number.clone()),
        ("sys_id", Some(record.sys_id.clone())),
        ("url", Some(target.view_url(&record.sys_id))),
    ]
}

/// `{access_token, token_type, expires_in}`. Its failures carry no vendor
/// response: the body holds the token.
pub fn access_token(reply: &Reply) -> Result<AccessToken, Outcome> {
    let refused = |missing: &str| {
        Outcome::permanent(
            ErrorKind::Auth,
            format!(
                "ServiceNow's OAuth token endpoint answered {} without {missing}",
                reply.response.status
            ),
        )
    };
    let token = reply
        .json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| refused("an access_token"))?;
    let kind = reply
        .json
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("Bearer");
    // ServiceNow's default lifetime is 30 minutes.
    let lifetime = reply
        .json
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(1800);
    Ok(AccessToken {
        authorization: Secret::new(format!("{kind} {token}")),
        lifetime: Duration::from_secs(lifetime),
    })
}
