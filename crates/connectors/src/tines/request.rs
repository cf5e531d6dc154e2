//! The Tines calls: `POST` a story webhook (`run`, `test`), `GET
//! /api/v1/stories` and `GET /api/v1/agents?story_id=` (one page of 500,
//! Tines' largest) with `X-User-Email` and `X-User-Token`.

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome};
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
                Some(url) => on_tenant(&sub, &account.url, url)?,
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

/// `webhookUrl` comes from the producer's params, and Tines' answer goes
/// back to the producer in the status: it may only name a webhook of the
/// account's tenant, as a path or a URL with the tenant's scheme, host and
/// port, never another host (which would make Herald the producer's proxy
/// into wherever the worker can reach).
fn on_tenant(sub: &Fields<'_>, tenant: &url::Url, text: &str) -> Result<url::Url, Outcome> {
    let url = if text.starts_with('/') {
        tenant.join(text).ok()
    } else {
        Some(sub.url("webhookUrl", text)?)
    };
    // A path such as `//host/x` or `/\host/x` is a URL on another host:
    // the origin is compared after joining, whatever the text looked like.
    url.filter(|url| url.origin() == tenant.origin() && url.username().is_empty())
        .ok_or_else(|| {
            sub.refuse(
                "webhookUrl",
                "must be a path or a URL on the account's host (config.url)",
            )
        })
}
