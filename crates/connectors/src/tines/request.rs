//! The Tines calls: `POST` a story webhook (`run`, `test`), `GET
//! /api/v1/stories` and `GET /api/v1/agents?story_id=` (one page of 500,
//! Tines' largest) with `X-User-Email` and `X-User-Token`.

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome, typed};
use http::Method;
use serde_json::{Map, Value};

use super::{Params, TinesAccount};
use crate::rest::{endpoint, endpoint_with_query, json_request};

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let account = TinesAccount::parse(account)?;
    let typed: Params = typed::params(params)?;
    let sub = Fields::params(params).nested("subActionParams")?;
    let api = |url: url::Url| {
        json_request(Method::GET, &url, None)
            .header("x-user-email", &account.email)
            .header("x-user-token", account.token.expose())
    };
    match typed {
        Params::Run(run) | Params::Test(run) => {
            if run.body.is_empty() {
                return Err(sub.refuse("body", "must not be empty"));
            }
            let body: Value = serde_json::from_str(&run.body)
                .map_err(|_| sub.refuse("body", "must be a JSON document"))?;
            let url = match run.webhook_url.filter(|u| !u.is_empty()) {
                Some(url) => on_tenant(&sub, &account.url, &url)?,
                None => {
                    let Some(webhook) = run.webhook else {
                        return Err(sub.refuse("webhookUrl", "required when webhook is absent"));
                    };
                    let fields = sub.nested("webhook")?;
                    let required = |value: Option<String>, name: &str| match value {
                        None => Err(fields.refuse(name, "required")),
                        Some(text) if text.is_empty() => {
                            Err(fields.refuse(name, "must not be empty"))
                        }
                        Some(text) => Ok(text),
                    };
                    let path = required(webhook.path, "path")?;
                    let secret = required(webhook.secret, "secret")?;
                    endpoint(&account.url, &["webhook", &path, &secret])
                }
            };
            Ok(HttpRequest::post_json(url.as_str(), &body))
        }
        Params::Stories(_) => Ok(api(endpoint_with_query(
            &account.url,
            &["api", "v1", "stories"],
            &[("per_page", "500")],
        ))),
        Params::Webhooks(webhooks) => {
            let story = webhooks
                .story_id
                .text()
                .ok_or_else(|| sub.refuse("storyId", "required"))?;
            Ok(api(endpoint_with_query(
                &account.url,
                &["api", "v1", "agents"],
                &[("story_id", &story), ("per_page", "500")],
            )))
        }
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
