//! `POST <url>` with header `d3key`; `run` and `test` send the same event.

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::D3Account;
use crate::rest::json_text;

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let account = D3Account::parse(account)?;
    let root = Fields::params(params);
    root.only(&["subAction", "subActionParams"])?;
    match root.required_str("subAction")? {
        "run" | "test" => {}
        _ => return Err(root.refuse("subAction", "must be run or test")),
    }
    let run = root.nested("subActionParams")?;
    run.only(&["body", "severity", "eventType"])?;
    let mut event = match run.str("body")? {
        None | Some("") => Map::new(),
        Some(_) => match json_text(&run, "body")? {
            Value::Object(map) => map,
            _ => return Err(run.refuse("body", "must be a JSON object")),
        },
    };
    for (param, field) in [("severity", "severity"), ("eventType", "eventType")] {
        if let Some(value) = run.str(param)?.filter(|v| !v.is_empty()) {
            event.insert(field.into(), json!(value));
        }
    }
    Ok(
        HttpRequest::post_json(account.url.as_str(), &Value::Object(event))
            .header("d3key", account.token.expose()),
    )
}
