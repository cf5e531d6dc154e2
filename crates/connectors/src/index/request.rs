//! `POST <url>/_bulk` with an NDJSON body: per document a
//! `{"create":{"_index":...}}` line and the document's line.

use std::time::SystemTime;

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::{IndexAccount, IndexParams, rfc3339};

pub fn build(
    params: &Map<String, Value>,
    account: &Account,
    now: SystemTime,
) -> Result<HttpRequest, Outcome> {
    let target = IndexAccount::parse(account)?;
    let params = IndexParams::parse(params)?;
    let index = params.index_override.unwrap_or(target.index);
    let action = serde_json::to_vec(&json!({"create": {"_index": index}})).expect("JSON");
    let mut body = Vec::new();
    for mut document in params.documents {
        if let Some(field) = &target.execution_time_field {
            document.insert(field.clone(), rfc3339(now).into());
        }
        body.extend_from_slice(&action);
        body.push(b'\n');
        body.extend(serde_json::to_vec(&document).expect("JSON"));
        body.push(b'\n');
    }
    let refresh = if target.refresh { "?refresh=true" } else { "" };
    let mut request = HttpRequest {
        method: http::Method::POST,
        url: format!("{}/_bulk{refresh}", target.url),
        headers: vec![("content-type".into(), "application/x-ndjson".into())],
        body: Some(body),
    };
    if let Some(authorization) = target.authorization {
        request = request.header("authorization", authorization.expose());
    }
    Ok(request)
}
