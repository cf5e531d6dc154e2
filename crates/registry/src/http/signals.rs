//! Search Guard Signals' account API (`/_signals/account/...`): Signals'
//! account documents in and out, translated by each connector's Signals
//! table (`Extras::signals`, the one `heraldctl import signals` uses), so a
//! script written for Signals keeps working. Secrets are write-only.
//!
//! From the seeds (Signals' accounts page): the paths, the documents (a
//! `type` and the type's fields, e.g. `{"type":"slack","url":...}`), and
//! that only administrators define accounts. The pages the seeds link for
//! the REST answers are not among them, so the answers follow Elasticsearch's
//! conventions, with `_id` as Signals stores it, `<type>/<id>` (the form
//! `heraldctl import signals` reads back):
//! - `GET` 200 `{"_id","found":true,"_version","_source":{"type",...}}`,
//!   404 `{"_id","found":false}`;
//! - `PUT` 201 (new) or 200 `{"_id","result":"created"|"updated","_version"}`;
//! - `DELETE` 200 `{"_id","result":"deleted"}`;
//! - `_search`: `{"took":0,"timed_out":false,"hits":{"total":{"value","relation":"eq"},
//!   "hits":[{"_id","_version","_source"}]}}`;
//! - errors: `{"status","error","detail":{"<field>":[{"error"}]}}`, the
//!   `detail` only when a field is at fault (Search Guard's validation form).
//!
//! A Signals document has no name; a new account is named by its id and an
//! update keeps the name it had.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use herald_catalog::signals::SignalsAccount;
use herald_catalog::{ConnectorSpec, SecretMap, echo, echo_at_most};
use herald_proto::status::ErrorCode;
use serde_json::{Map, Value, json};

use super::native::json_object;
use super::{ApiError, AppState, READERS, authorize};
use crate::auth::Role;
use crate::registry::{AccountInput, AccountView, MAX_PAGE_SIZE, RegistryError};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_signals/account/_search", get(search).post(search))
        .route(
            "/_signals/account/{type}/{id}",
            get(get_account).put(put_account).delete(delete_account),
        )
}

/// The most hits one search answers, as `size`.
const MAX_SIZE: usize = MAX_PAGE_SIZE;
const DEFAULT_SIZE: usize = 10;

/// An error in Signals' body; the message is the native one (it names the
/// field and never holds a secret).
struct SignalsError(ApiError);

impl From<ApiError> for SignalsError {
    fn from(error: ApiError) -> SignalsError {
        SignalsError(error)
    }
}

impl From<RegistryError> for SignalsError {
    fn from(error: RegistryError) -> SignalsError {
        SignalsError(error.into())
    }
}

impl IntoResponse for SignalsError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.http()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({"status": status.as_u16(), "error": self.0.message});
        if !self.0.field.is_empty() {
            body["detail"] = json!({ self.0.field.clone(): [{"error": self.0.message}] });
        }
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        response
    }
}

/// The connector type a Signals type name is, with its Signals table.
fn mapping(
    signals_type: &str,
) -> Result<(&'static ConnectorSpec, &'static SignalsAccount), ApiError> {
    let found = herald_connectors::catalog()
        .all()
        .iter()
        .find(|spec| spec.id == signals_type)
        .and_then(|spec| Some((spec, spec.extras.signals?)));
    found.ok_or_else(|| {
        let types: Vec<&str> = herald_connectors::catalog()
            .all()
            .iter()
            .filter(|spec| spec.extras.signals.is_some())
            .map(|spec| spec.id)
            .collect();
        ApiError::invalid(
            "type",
            format!(
                "{} is not a Signals account type ({})",
                echo(signals_type),
                types.join(", ")
            ),
        )
    })
}

fn signals_id(view: &AccountView) -> String {
    format!("{}/{}", view.connector_type, view.id)
}

/// The Signals document of an account: its `type` and the config the
/// table maps back; never a secret.
fn source(view: &AccountView, table: &SignalsAccount) -> Value {
    let mut doc = Map::new();
    doc.insert("type".into(), view.connector_type.into());
    doc.extend(table.document(&view.config));
    Value::Object(doc)
}

/// The account `id` when it is of `connector_type`; `None` when there is
/// no such account of that type.
async fn find(
    state: &AppState,
    connector_type: &str,
    id: &str,
) -> Result<Option<AccountView>, SignalsError> {
    match state.registry.get(id).await {
        Ok(view) if view.connector_type == connector_type => Ok(Some(view)),
        Ok(_) | Err(RegistryError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn get_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((signals_type, id)): Path<(String, String)>,
) -> Result<Response, SignalsError> {
    authorize(&state, &headers, READERS, "read accounts")?;
    let (spec, table) = mapping(&signals_type)?;
    let Some(view) = find(&state, spec.id, &id).await? else {
        let body = json!({"_id": format!("{}/{}", spec.id, echo(&id)), "found": false});
        return Ok((StatusCode::NOT_FOUND, axum::Json(body)).into_response());
    };
    Ok(axum::Json(json!({
        "_id": signals_id(&view),
        "found": true,
        "_version": view.version,
        "_source": source(&view, table),
    }))
    .into_response())
}

/// Creates or replaces from the bare Signals document. Its config is the
/// document's; a secret it leaves out keeps its stored value.
async fn put_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((signals_type, id)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, SignalsError> {
    authorize(&state, &headers, &[Role::Admin], "change accounts")?;
    let (spec, table) = mapping(&signals_type)?;
    let mut doc = json_object(body)?;
    match doc.remove("type") {
        None => {}
        Some(Value::String(t)) if t == signals_type => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "type",
                format!("differs from the type in the path, {}", spec.id),
            )
            .into());
        }
    }
    let current = match state.registry.get(&id).await {
        Ok(view) => Some(view),
        Err(RegistryError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(c) = current.as_ref().filter(|c| c.connector_type != spec.id) {
        return Err(ApiError {
            code: ErrorCode::AlreadyExists,
            message: format!(
                "type: account {} is of type {}, not {}: delete it first",
                c.id, c.connector_type, spec.id
            ),
            field: "type".into(),
        }
        .into());
    }
    let kept = current
        .as_ref()
        .map(|c| c.secret_fields.clone())
        .unwrap_or_default();
    let translation = table.translate_keeping(doc, &[], &kept);
    // Refusals first: a line starts with the field at fault.
    let problems: Vec<&String> = translation
        .refused
        .iter()
        .chain(
            translation
                .not_translated
                .iter()
                .filter(|p| !translation.refused.contains(p)),
        )
        .collect();
    if let Some(first) = problems.first() {
        // The lines hold the caller's field names: echoed, cut short.
        let field = first.split([':', ' ']).next().unwrap_or_default();
        let lines: Vec<_> = problems.iter().map(|p| echo_at_most(p, 300)).collect();
        return Err(ApiError {
            code: ErrorCode::InvalidArgument,
            message: format!("cannot be translated: {}", lines.join("; ")),
            field: echo(field).into_owned(),
        }
        .into());
    }
    let input = AccountInput {
        name: current
            .as_ref()
            .map_or_else(|| id.clone(), |c| c.name.clone()),
        connector_type: spec.id.to_owned(),
        config: translation.config,
        secrets: SecretMap(translation.secrets),
        id,
        version: current.as_ref().map_or(0, |c| c.version),
    };
    let view = state.registry.put(input).await?;
    let (status, result) = if current.is_some() {
        (StatusCode::OK, "updated")
    } else {
        (StatusCode::CREATED, "created")
    };
    let body = json!({"_id": signals_id(&view), "result": result, "_version": view.version});
    Ok((status, axum::Json(body)).into_response())
}

async fn delete_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((signals_type, id)): Path<(String, String)>,
) -> Result<Response, SignalsError> {
    authorize(&state, &headers, &[Role::Admin], "delete accounts")?;
    let (spec, _) = mapping(&signals_type)?;
    let Some(view) = find(&state, spec.id, &id).await? else {
        return Err(RegistryError::NotFound(format!("{}/{id}", spec.id)).into());
    };
    state.registry.delete(&view.id, view.version).await?;
    Ok(axum::Json(json!({"_id": signals_id(&view), "result": "deleted"})).into_response())
}

/// Which accounts a search keeps.
#[derive(Debug, PartialEq)]
enum Filter {
    All,
    Type(String),
    /// `match`: equal to `_id`, or sharing a word with `name` (both ASCII
    /// case-insensitive).
    MatchId(String),
    MatchName(String),
    /// `prefix`: `_id` or `name` starts with it (case-sensitive, as on a
    /// keyword field).
    PrefixId(String),
    PrefixName(String),
}

impl Filter {
    /// The query subset: `{"match_all":{}}`, `{"term":{"type":T}}`,
    /// `{"match":{"_id"|"name":Q}}`, `{"prefix":{"_id"|"name":P}}`; each
    /// value may also be written `{"value":V}` (or `{"query":V}` for match).
    /// `_id` is `<type>/<id>` as the hits show it.
    fn parse(query: &Value) -> Result<Filter, ApiError> {
        const FORMS: &str = "one of match_all, term (on type), match or prefix (on _id or name)";
        let Some((kind, body)) = query
            .as_object()
            .filter(|q| q.len() == 1)
            .and_then(|q| q.iter().next())
        else {
            return Err(ApiError::invalid("query", format!("must be {FORMS}")));
        };
        if kind == "match_all" {
            return match body.as_object() {
                Some(b) if b.is_empty() => Ok(Filter::All),
                _ => Err(ApiError::invalid("query.match_all", "must be {}")),
            };
        }
        let at = format!("query.{}", echo(kind));
        if !matches!(kind.as_str(), "term" | "match" | "prefix") {
            return Err(ApiError::invalid(
                &at,
                format!("not a query this search takes ({FORMS})"),
            ));
        }
        let Some((field, value)) = body
            .as_object()
            .filter(|b| b.len() == 1)
            .and_then(|b| b.iter().next())
        else {
            return Err(ApiError::invalid(&at, "must name one field"));
        };
        let value = match value {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) if o.len() == 1 => o
                .get("value")
                .or(o.get("query").filter(|_| kind == "match"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        };
        let at = format!("{at}.{}", echo(field));
        let value = value.ok_or_else(|| ApiError::invalid(&at, "must be a string"))?;
        match (kind.as_str(), field.as_str()) {
            ("term", "type") => Ok(Filter::Type(value)),
            ("match", "_id") => Ok(Filter::MatchId(value)),
            ("match", "name") => Ok(Filter::MatchName(value)),
            ("prefix", "_id") => Ok(Filter::PrefixId(value)),
            ("prefix", "name") => Ok(Filter::PrefixName(value)),
            _ => Err(ApiError::invalid(
                &at,
                "not a field this search takes (term: type; match, prefix: _id, name)",
            )),
        }
    }

    fn keeps(&self, view: &AccountView) -> bool {
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| w.to_ascii_lowercase())
                .collect()
        };
        match self {
            Filter::All => true,
            Filter::Type(t) => view.connector_type == t,
            Filter::MatchId(q) => signals_id(view).eq_ignore_ascii_case(q),
            Filter::MatchName(q) => {
                let name = words(&view.name);
                words(q).iter().any(|w| name.contains(w))
            }
            Filter::PrefixId(p) => signals_id(view).starts_with(p.as_str()),
            Filter::PrefixName(p) => view.name.starts_with(p.as_str()),
        }
    }
}

/// A whole number, from JSON or the query string.
fn count(field: &str, value: &Value) -> Result<usize, ApiError> {
    let n = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    };
    n.and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ApiError::invalid(field, "must be a whole number, 0 or more"))
}

/// `from`/`size` on the query string, and (GET or POST) an optional JSON
/// body `{"from","size","query"}`, whose values win. Only accounts of a
/// type Signals has are searched; hits are in id order.
async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, SignalsError> {
    authorize(&state, &headers, READERS, "list accounts")?;
    let mut request = Map::new();
    for (key, value) in params {
        if !matches!(key.as_str(), "from" | "size") {
            return Err(ApiError::invalid(
                echo(&key).as_ref(),
                "unknown query parameter (from, size)",
            )
            .into());
        }
        request.insert(key, Value::String(value));
    }
    if body.as_ref().is_ok_and(|b| !b.is_empty()) {
        let body = json_object(body)?;
        if let Some(key) = body
            .keys()
            .find(|k| !matches!(k.as_str(), "from" | "size" | "query"))
        {
            return Err(
                ApiError::invalid(echo(key).as_ref(), "unknown field (from, size, query)").into(),
            );
        }
        request.extend(body);
    }
    let from = match request.get("from") {
        None => 0,
        Some(v) => count("from", v)?,
    };
    let size = match request.get("size") {
        None => DEFAULT_SIZE,
        Some(v) => Some(count("size", v)?)
            .filter(|n| *n <= MAX_SIZE)
            .ok_or_else(|| ApiError::invalid("size", format!("must be at most {MAX_SIZE}")))?,
    };
    let filter = match request.get("query") {
        None => Filter::All,
        Some(q) => Filter::parse(q)?,
    };

    let mut kept = Vec::new();
    let mut token = String::new();
    loop {
        let (page, next) = state.registry.list(None, "", MAX_PAGE_SIZE, &token).await?;
        for view in page {
            let table = herald_connectors::catalog()
                .get(view.connector_type)
                .and_then(|spec| spec.extras.signals);
            if let Some(table) = table
                && filter.keeps(&view)
            {
                kept.push((view, table));
            }
        }
        if next.is_empty() {
            break;
        }
        token = next;
    }
    let total = kept.len();
    let hits: Vec<Value> = kept
        .iter()
        .skip(from)
        .take(size)
        .map(|(view, table)| {
            json!({
                "_id": signals_id(view),
                "_version": view.version,
                "_source": source(view, table),
            })
        })
        .collect();
    Ok(axum::Json(json!({
        "took": 0,
        "timed_out": false,
        "hits": {"total": {"value": total, "relation": "eq"}, "hits": hits},
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_query_form_parses_and_others_name_their_field() {
        let parse = |q: Value| Filter::parse(&q).map_err(|e| e.field);
        assert_eq!(parse(json!({"match_all": {}})), Ok(Filter::All));
        assert_eq!(
            parse(json!({"term": {"type": {"value": "email"}}})),
            Ok(Filter::Type("email".into()))
        );
        assert_eq!(
            parse(json!({"match": {"name": {"query": "ops"}}})),
            Ok(Filter::MatchName("ops".into()))
        );
        assert_eq!(
            parse(json!({"prefix": {"_id": "slack/"}})),
            Ok(Filter::PrefixId("slack/".into()))
        );
        assert_eq!(
            parse(json!({"term": {"host": "x"}})),
            Err("query.term.host".into())
        );
        assert_eq!(
            parse(json!({"bool": {"must": []}})),
            Err("query.bool".into())
        );
        assert_eq!(
            parse(json!({"match": {"_id": 7}})),
            Err("query.match._id".into())
        );
        assert_eq!(parse(json!([])), Err("query".into()));
    }
}
