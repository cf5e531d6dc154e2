//! `POST <url>` with header `d3key`; `run` and `test` send the same event.

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome, typed};
use serde_json::{Map, Value, json};

use super::{D3Account, Params};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let account = D3Account::parse(account)?;
    // `run` and `test` send the same event.
    let typed: Params = typed::params(params)?;
    let run = Fields::params(params).nested("subActionParams")?;
    let typed = typed.sub_action_params.unwrap_or_default();
    let given = |value: Option<String>| value.filter(|text| !text.is_empty());
    let mut event = match given(typed.body) {
        None => Map::new(),
        Some(body) => match serde_json::from_str(&body) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(run.refuse("body", "must be a JSON object")),
            Err(_) => return Err(run.refuse("body", "must be a JSON document")),
        },
    };
    for (field, value) in [
        ("severity", typed.severity),
        ("eventType", typed.event_type),
    ] {
        if let Some(value) = given(value) {
            event.insert(field.into(), json!(value));
        }
    }
    Ok(
        HttpRequest::post_json(account.url.as_str(), &Value::Object(event))
            .header("d3key", account.token.expose()),
    )
}
