//! Search Guard Signals' account API (`/_signals/account/...`): Signals'
//! account documents in and out, translated by each connector's
//! `Extras::signals` table (the one `heraldctl import signals` applies), so
//! a script written for Signals manages Herald accounts unchanged.
//!
//! Shapes follow Signals' REST handlers: PUT answers `{_id, _version,
//! result}` (201 created, 200 updated), GET an Elasticsearch GetDocument
//! (`{_id, found, _version, _seq_no, _primary_term, _source}`), DELETE
//! `{_id, _version, result: "deleted"}`, `_search` an Elasticsearch search
//! response. `_id` is Signals' scoped id, `<type>/<id>`; the Herald account
//! is `<id>`, as the importer names it. Errors, including 401/403, answer
//! Signals' body `{status, error, detail?}`, `detail` naming each field at
//! fault by its Signals name (`config.<key>` for what Signals keeps
//! elsewhere). Where Signals differs from Herald's rules, Herald's win:
//! secrets are write-only (Signals returns a stored `password` in `_source`;
//! Herald never does), and a PUT that leaves a secret out keeps the stored
//! one (`null` removes it), as the registry's own PUT does.

use std::collections::HashMap;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use herald_catalog::signals::SignalsAccount;
use herald_catalog::{ConnectorSpec, SecretMap, echo};
use herald_connectors::catalog;
use serde_json::{Map, Value, json};

use super::native::json_object;
use super::{ApiError, AppState, READERS, authorize};
use crate::auth::Role;
use crate::registry::{AccountInput, AccountView, MAX_PAGE_SIZE, RegistryError};

/// The index Signals keeps accounts in, named in each search hit.
const INDEX: &str = ".signals_accounts";
/// Signals' default `size`.
const DEFAULT_SIZE: usize = 10;
/// Elasticsearch's `index.max_result_window`: `from + size` at most.
const MAX_RESULT_WINDOW: usize = 10_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/_signals/account/_search", get(search).post(search))
        .route(
            "/_signals/account/{type}/{id}",
            get(get_account).put(put_account).delete(delete_account),
        )
}

/// An error in Signals' body, `{status, error, detail}`; `detail` maps each
/// field at fault to `[{"error": reason}]`, as Signals' validation does
/// (without the rejected value, which may be a secret).
#[derive(Debug)]
struct SignalsError {
    status: StatusCode,
    error: String,
    detail: Map<String, Value>,
}

impl SignalsError {
    fn not_found() -> SignalsError {
        SignalsError {
            status: StatusCode::NOT_FOUND,
            error: "Not found".into(),
            detail: Map::new(),
        }
    }

    /// 400 naming each field with its reason.
    fn invalid(problems: Vec<(String, String)>) -> SignalsError {
        let error = match problems.as_slice() {
            [(field, reason)] => format!("{field}: {reason}"),
            _ => format!("{} errors; see detail.", problems.len()),
        };
        SignalsError {
            status: StatusCode::BAD_REQUEST,
            error,
            detail: detail(problems),
        }
    }

    fn field(field: &str, reason: impl Into<String>) -> SignalsError {
        SignalsError::invalid(vec![(field.to_owned(), reason.into())])
    }

    /// A registry refusal, its violations named by their Signals fields.
    fn registry(error: RegistryError, mapping: &SignalsAccount) -> SignalsError {
        match error {
            RegistryError::Invalid(violations) => SignalsError::invalid(
                violations
                    .iter()
                    .map(|v| (signals_path(mapping, &v.path), v.message.clone()))
                    .collect(),
            ),
            other => ApiError::from(other).into(),
        }
    }
}

fn detail(problems: Vec<(String, String)>) -> Map<String, Value> {
    let mut detail = Map::new();
    for (field, reason) in problems {
        let entry = detail.entry(field).or_insert_with(|| json!([]));
        if let Value::Array(list) = entry {
            list.push(json!({ "error": reason }));
        }
    }
    detail
}

impl From<ApiError> for SignalsError {
    fn from(error: ApiError) -> SignalsError {
        let status =
            StatusCode::from_u16(error.code.http()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = if error.field.is_empty() {
            Map::new()
        } else {
            detail(vec![(error.field, error.message.clone())])
        };
        SignalsError {
            status,
            error: error.message,
            detail,
        }
    }
}

impl From<RegistryError> for SignalsError {
    fn from(error: RegistryError) -> SignalsError {
        ApiError::from(error).into()
    }
}

impl IntoResponse for SignalsError {
    fn into_response(self) -> Response {
        let mut body = json!({"status": self.status.as_u16(), "error": self.error});
        if !self.detail.is_empty() {
            body["detail"] = Value::Object(self.detail);
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        }
        response
    }
}

/// A registry path (`config.defaultTo[0]`, `secrets.password`) by its
/// Signals field (`default_to[0]`, `password`) when one maps to it.
fn signals_path(mapping: &SignalsAccount, path: &str) -> String {
    for side in ["config.", "secrets."] {
        if let Some(rest) = path.strip_prefix(side) {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let (key, tail) = rest.split_at(end);
            let name = mapping.signals_name(key);
            if !name.starts_with("config.") {
                return format!("{name}{tail}");
            }
        }
    }
    path.to_owned()
}

/// The types Signals has, as the catalog's specs declare them.
fn signals_types() -> String {
    let types: Vec<&str> = catalog()
        .all()
        .iter()
        .filter(|spec| spec.extras.signals.is_some())
        .map(|spec| spec.id)
        .collect();
    types.join(", ")
}

/// The connector type a Signals type name in the path means, with its table.
fn account_type(
    name: &str,
) -> Result<(&'static ConnectorSpec, &'static SignalsAccount), SignalsError> {
    catalog()
        .get(name)
        .and_then(|spec| Some((spec, spec.extras.signals?)))
        .ok_or_else(|| {
            SignalsError::field(
                "type",
                format!(
                    "{} is not a Signals account type ({})",
                    echo(name),
                    signals_types()
                ),
            )
        })
}

/// The account `id` if it is of `spec`'s type; another type's account is
/// not found, as Signals' `<type>/<id>` document would not be.
async fn find(
    state: &AppState,
    spec: &ConnectorSpec,
    id: &str,
) -> Result<Option<AccountView>, SignalsError> {
    match state.registry.get(id).await {
        Ok(view) if view.connector_type == spec.id => Ok(Some(view)),
        Ok(_) | Err(RegistryError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `_source`: the Signals document with its `type`, never a secret.
fn source(view: &AccountView, mapping: &SignalsAccount) -> Value {
    let mut doc = Map::new();
    doc.insert("type".into(), view.connector_type.into());
    doc.extend(mapping.document(&view.config));
    Value::Object(doc)
}

/// Herald keeps one version counter; `_seq_no` and `_primary_term` are what
/// Elasticsearch gives a document written `_version` times to an index of
/// its own (one shard, one primary term).
async fn get_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<Response, SignalsError> {
    authorize(&state, &headers, READERS, "read accounts")?;
    let (spec, mapping) = account_type(&type_name)?;
    let view = find(&state, spec, &id)
        .await?
        .ok_or_else(SignalsError::not_found)?;
    Ok(axum::Json(json!({
        "_id": format!("{}/{}", spec.id, view.id),
        "found": true,
        "_version": view.version,
        "_seq_no": (view.version - 1).max(0),
        "_primary_term": 1,
        "_source": source(&view, mapping),
    }))
    .into_response())
}

/// The bare Signals document (`type`, if given, must be the path's). Query
/// parameters `config.<key>=<value>` set what Signals keeps elsewhere (a
/// Jira account's `projectKey`), as the importer's `--config`; the value is
/// JSON, or else a string. On an existing account: config is replaced by
/// the document's, except such Herald-only required keys, which stay until
/// set again; a secret left out keeps its stored value, `null` removes it.
/// A field without a Herald equivalent is refused (400), never dropped.
async fn put_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((type_name, id)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, SignalsError> {
    authorize(&state, &headers, &[Role::Admin], "change accounts")?;
    let (spec, mapping) = account_type(&type_name)?;
    let mut doc = json_object(body)?;
    match doc.remove("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case(spec.id) => {}
        Some(_) => {
            return Err(SignalsError::field(
                "type",
                format!("differs from the type {} in the path", spec.id),
            ));
        }
    }
    let mut set = Vec::new();
    let mut given = Vec::new();
    for (name, value) in query {
        let Some(key) = name.strip_prefix("config.").filter(|k| !k.is_empty()) else {
            return Err(SignalsError::field(
                echo(&name).as_ref(),
                "unknown query parameter (config.<key>=<value>)",
            ));
        };
        let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
        given.push((key.to_owned(), value));
    }

    let current = match state.registry.get(&id).await {
        Ok(view) => Some(view),
        Err(RegistryError::NotFound(_)) => None,
        Err(e) => return Err(SignalsError::registry(e, mapping)),
    };
    if let Some(c) = &current
        && c.connector_type != spec.id
    {
        return Err(SignalsError {
            status: StatusCode::CONFLICT,
            error: format!(
                "type: account {} is a {} account, not {}: use /_signals/account/{}/{}, or delete it first",
                echo(&id),
                c.connector_type,
                spec.id,
                c.connector_type,
                echo(&id)
            ),
            detail: detail(vec![(
                "type".into(),
                format!("the account is of type {}", c.connector_type),
            )]),
        });
    }
    if let Some(c) = &current {
        for key in mapping.herald_only_required() {
            if let Some(value) = c.config.get(key) {
                set.push((key.to_owned(), value.clone()));
            }
        }
    }
    set.extend(given);
    let stored_secrets = current
        .as_ref()
        .map(|c| c.secret_fields.clone())
        .unwrap_or_default();
    let translation = mapping.translate_onto(doc, &set, &stored_secrets);
    if !translation.problems.is_empty() {
        return Err(SignalsError::invalid(translation.problems));
    }
    let input = AccountInput {
        name: current
            .as_ref()
            .map_or_else(|| id.clone(), |c| c.name.clone()),
        version: current.as_ref().map_or(0, |c| c.version),
        // Not in Kibana's or Signals' documents: the stored flag stays.
        config_hidden: None,
        connector_type: spec.id.to_owned(),
        config: translation.config,
        secrets: SecretMap(translation.secrets),
        id,
    };
    let view = state
        .registry
        .put(input)
        .await
        .map_err(|e| SignalsError::registry(e, mapping))?;
    let (status, result) = match current {
        None => (StatusCode::CREATED, "created"),
        Some(_) => (StatusCode::OK, "updated"),
    };
    let body = json!({
        "_id": format!("{}/{}", spec.id, view.id),
        "_version": view.version,
        "result": result,
    });
    Ok((status, axum::Json(body)).into_response())
}

/// `_version` is the one the delete makes, as in Elasticsearch: one more
/// than the account's last.
async fn delete_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((type_name, id)): Path<(String, String)>,
) -> Result<Response, SignalsError> {
    authorize(&state, &headers, &[Role::Admin], "delete accounts")?;
    let (spec, _) = account_type(&type_name)?;
    let view = find(&state, spec, &id)
        .await?
        .ok_or_else(SignalsError::not_found)?;
    state.registry.delete(&view.id, view.version).await?;
    Ok(axum::Json(json!({
        "_id": format!("{}/{}", spec.id, view.id),
        "_version": view.version + 1,
        "result": "deleted",
    }))
    .into_response())
}

/// One condition of a search; a query is all of them.
#[derive(Debug)]
enum Clause {
    /// The Signals type is one of these (ASCII case-insensitive, as
    /// Signals' stored `EMAIL` matches `email`).
    Type(Vec<String>),
    /// `_id` (`<type>/<id>`) is one of these.
    Id(Vec<String>),
}

impl Clause {
    fn matches(&self, connector_type: &str, scoped_id: &str) -> bool {
        match self {
            Clause::Type(types) => types.iter().any(|t| t.eq_ignore_ascii_case(connector_type)),
            Clause::Id(ids) => ids.iter().any(|i| i == scoped_id),
        }
    }
}

/// The query subset Herald answers, each as Elasticsearch reads it:
/// `match_all`; `term` and `match` on `type` or `_id` (a value, or
/// `{"value": ..}` / `{"query": ..}`); `terms` on `type` or `_id`; `ids`
/// (`{"values": [..]}`); `bool` whose `must` and `filter` hold any of these
/// (all must hold). Anything else is a 400 naming where it is.
fn parse_query(query: &Value, path: &str, out: &mut Vec<Clause>) -> Result<(), SignalsError> {
    let Some((kind, body)) = query
        .as_object()
        .filter(|q| q.len() == 1)
        .and_then(|q| q.iter().next())
    else {
        return Err(SignalsError::field(
            path,
            "must be an object with one query (match_all, term, match, terms, ids, bool)",
        ));
    };
    let at = format!("{path}.{kind}");
    match kind.as_str() {
        "match_all" if body.is_object() => Ok(()),
        "term" | "match" | "terms" => {
            let Some((field, value)) = body
                .as_object()
                .filter(|b| b.len() == 1)
                .and_then(|b| b.iter().next())
            else {
                return Err(SignalsError::field(
                    &at,
                    "must name one field (type or _id)",
                ));
            };
            let at = format!("{at}.{field}");
            let values = if kind == "terms" {
                strings(value, &at)?
            } else {
                let inner = match value {
                    Value::Object(o) => o.get(if kind == "term" { "value" } else { "query" }),
                    other => Some(other),
                };
                vec![
                    inner
                        .and_then(Value::as_str)
                        .ok_or_else(|| SignalsError::field(&at, "must be a string"))?
                        .to_owned(),
                ]
            };
            match field.as_str() {
                "type" => out.push(Clause::Type(values)),
                "_id" => out.push(Clause::Id(values)),
                _ => {
                    return Err(SignalsError::field(&at, "not searchable here (type, _id)"));
                }
            }
            Ok(())
        }
        "ids" => {
            let values = body
                .get("values")
                .filter(|_| body.as_object().is_some_and(|b| b.len() == 1))
                .ok_or_else(|| SignalsError::field(&at, "must be {\"values\": [..]}"))?;
            out.push(Clause::Id(strings(values, &format!("{at}.values"))?));
            Ok(())
        }
        "bool" => {
            let Some(body) = body.as_object() else {
                return Err(SignalsError::field(&at, "must be an object"));
            };
            for (occur, clauses) in body {
                let at = format!("{at}.{occur}");
                if occur != "must" && occur != "filter" {
                    return Err(SignalsError::field(
                        &at,
                        "not supported (bool takes must and filter)",
                    ));
                }
                match clauses {
                    Value::Array(list) => {
                        for (i, clause) in list.iter().enumerate() {
                            parse_query(clause, &format!("{at}[{i}]"), out)?;
                        }
                    }
                    clause => parse_query(clause, &at, out)?,
                }
            }
            Ok(())
        }
        _ => Err(SignalsError::field(
            &at,
            "not supported (match_all, term, match, terms, ids, bool)",
        )),
    }
}

fn strings(value: &Value, at: &str) -> Result<Vec<String>, SignalsError> {
    value
        .as_array()
        .and_then(|list| {
            list.iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| SignalsError::field(at, "must be an array of strings"))
}

fn count(value: &Value, field: &str) -> Result<usize, SignalsError> {
    value
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| SignalsError::field(field, "must be a whole number, 0 or more"))
}

/// `GET|POST /_signals/account/_search`: `from` and `size` as query
/// parameters (both methods) or in the body (query parameters win, as in
/// Signals); `size` defaults to 10 and `from + size` is at most 10000; the
/// body's `query` is the subset [`parse_query`] reads, absent = every
/// account. Hits come in account id order, each with a constant `_score`
/// of 1.0; `sort` and `scroll` are refused (400) rather than ignored. Only
/// accounts of a type Signals has are found.
async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, SignalsError> {
    let started = Instant::now();
    authorize(&state, &headers, READERS, "search accounts")?;
    let mut from = None;
    let mut size = None;
    let mut clauses = Vec::new();
    let raw = body.map_err(|r| ApiError::invalid("body", r.body_text()))?;
    if !raw.iter().all(u8::is_ascii_whitespace) {
        let body = json_object(Ok(raw))?;
        for (key, value) in &body {
            match key.as_str() {
                "from" => from = Some(count(value, "from")?),
                "size" => size = Some(count(value, "size")?),
                "query" => parse_query(value, "query", &mut clauses)?,
                _ => {
                    return Err(SignalsError::field(
                        echo(key).as_ref(),
                        "not supported (query, from, size)",
                    ));
                }
            }
        }
    }
    for (key, value) in &params {
        let parsed = || {
            value
                .parse::<usize>()
                .map_err(|_| SignalsError::field(key, "must be a whole number, 0 or more"))
        };
        match key.as_str() {
            "from" => from = Some(parsed()?),
            "size" => size = Some(parsed()?),
            _ => {
                return Err(SignalsError::field(
                    echo(key).as_ref(),
                    "unknown query parameter (from, size)",
                ));
            }
        }
    }
    let (from, size) = (from.unwrap_or(0), size.unwrap_or(DEFAULT_SIZE));
    if from.saturating_add(size) > MAX_RESULT_WINDOW {
        return Err(SignalsError::field(
            "size",
            format!("from + size must be at most {MAX_RESULT_WINDOW}"),
        ));
    }

    // Every match is read to count the total, as Elasticsearch reports it;
    // a registry holds accounts by the hundred, not the million.
    let mut total = 0;
    let mut hits = Vec::new();
    let mut token = String::new();
    loop {
        let (page, next) = state.registry.list(None, "", MAX_PAGE_SIZE, &token).await?;
        for view in &page {
            let Some(mapping) = catalog()
                .get(view.connector_type)
                .and_then(|spec| spec.extras.signals)
            else {
                continue;
            };
            let scoped = format!("{}/{}", view.connector_type, view.id);
            if !clauses
                .iter()
                .all(|c| c.matches(view.connector_type, &scoped))
            {
                continue;
            }
            if total >= from && hits.len() < size {
                hits.push(json!({
                    "_index": INDEX,
                    "_id": scoped,
                    "_score": 1.0,
                    "_source": source(view, mapping),
                }));
            }
            total += 1;
        }
        if next.is_empty() {
            break;
        }
        token = next;
    }
    let max_score = if total > 0 { json!(1.0) } else { Value::Null };
    Ok(axum::Json(json!({
        "took": started.elapsed().as_millis() as u64,
        "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": total, "relation": "eq"},
            "max_score": max_score,
            "hits": hits,
        },
    }))
    .into_response())
}
