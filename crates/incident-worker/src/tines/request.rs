//! The Tines calls: `POST` a story webhook (`run`, `test`), `GET
//! /api/v1/stories` and `GET /api/v1/agents?story_id=` (one page of 500,
//! Tines' largest) with `X-User-Email` and `X-User-Token`.

use herald_worker::fields::Fields;
use herald_worker::{Account, HttpRequest, Outcome};
use http::Method;
use serde_json::{Map, Value};

use super::TinesAccount;
use crate::rest::{endpoint, endpoint_with_query, json_request, json_text};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let account = TinesAccount::parse(account)?;
    let root = Fields::params(params);
    root.only(&["subAction", "subActionParams"])?;
    let sub_action = root.required_str("subAction")?;
    let sub = root.nested("subActionParams")?;
    let api = |url: url::Url| {
        json_request(Method::GET, &url, None)
            .header("x-user-email", &account.email)
            .header("x-user-token", account.token.expose())
    };
    match sub_action {
        "run" | "test" => {
            sub.only(&["webhook", "webhookUrl", "body"])?;
            let body = json_text(&sub, "body")?;
            let url = match sub.str("webhookUrl")?.filter(|u| !u.is_empty()) {
                Some(url) => sub.url("webhookUrl", url)?,
                None => {
                    if sub.value("webhook").is_none() {
                        return Err(sub.refuse("webhookUrl", "required when webhook is absent"));
                    }
                    let webhook = sub.nested("webhook")?;
                    let path = webhook.required_str("path")?;
                    let secret = webhook.required_str("secret")?;
                    endpoint(&account.url, &["webhook", path, secret])
                }
            };
            Ok(HttpRequest::post_json(url.as_str(), &body))
        }
        "stories" => Ok(api(endpoint_with_query(
            &account.url,
            &["api", "v1", "stories"],
            &[("per_page", "500")],
        ))),
        "webhooks" => {
            sub.only(&["storyId"])?;
            let story = sub
                .id("storyId")?
                .ok_or_else(|| sub.refuse("storyId", "required"))?;
            Ok(api(endpoint_with_query(
                &account.url,
                &["api", "v1", "agents"],
                &[("story_id", &story), ("per_page", "500")],
            )))
        }
        _ => Err(root.refuse("subAction", "must be run, test, stories or webhooks")),
    }
}
