//! `POST` the trigger URL with the alert's fields; `severity` defaults to
//! `High`, as in Kibana.

use crate::delivery::fields::Fields;
use crate::delivery::{Account, HttpRequest, Outcome};
use serde_json::{Map, Value, json};

use super::{FIELDS, XMattersAccount};
use crate::auth;

pub fn build(params: &Map<String, Value>, account: &Account) -> Result<HttpRequest, Outcome> {
    let account = XMattersAccount::parse(account)?;
    let fields = Fields::params(params);
    fields.only(FIELDS)?;
    let mut body = Map::new();
    for name in FIELDS {
        if let Some(value) = fields.str(name)? {
            body.insert((*name).to_owned(), json!(value));
        }
    }
    if fields.str("severity")?.is_none_or(str::is_empty) {
        body.insert("severity".into(), json!("High"));
    }
    let body = Value::Object(body);
    Ok(match account {
        XMattersAccount::Basic {
            url,
            user,
            password,
        } => HttpRequest::post_json(url, &body).header(
            "authorization",
            auth::basic(&user, password.expose()).expose(),
        ),
        XMattersAccount::UrlKey { url } => HttpRequest::post_json(url.expose(), &body),
    })
}
