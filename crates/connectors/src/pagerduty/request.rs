//! `POST <apiUrl>` (`/v2/enqueue`) with the Events API v2 body; the routing
//! key goes in the body, where PagerDuty documents it.

use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::{EventAction, PagerDutyAccount, PagerDutyParams};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let target = PagerDutyAccount::parse(account)?;
    let params = PagerDutyParams::parse(params)?;
    let mut body = Map::new();
    body.insert("routing_key".into(), target.routing_key.expose().into());
    body.insert("event_action".into(), params.event_action.as_str().into());
    if let Some(key) = params.dedup_key {
        body.insert("dedup_key".into(), key.into());
    }
    // Acknowledge and resolve name the incident and nothing else.
    if params.event_action == EventAction::Trigger {
        let mut payload = params.payload;
        payload
            .entry("source")
            .or_insert_with(|| json!(format!("Herald account {}", account.id)));
        body.insert("payload".into(), Value::Object(payload));
        let optional = [
            ("links", params.links.map(Value::Array)),
            ("images", params.images.map(Value::Array)),
            ("client", params.client.map(Value::String)),
            ("client_url", params.client_url.map(Value::String)),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                body.insert(name.into(), value);
            }
        }
    }
    Ok(HttpRequest::post_json(target.api_url, &Value::Object(body)))
}
