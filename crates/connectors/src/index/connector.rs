//! The connector: reads the account and params it is given and makes
//! the attempt.

use std::time::SystemTime;

use crate::delivery::fields::{Fields, Secret};
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};

use crate::auth;

pub use super::request::build;
pub use super::response::classify;

pub const DEFAULT_URL: &str = "http://localhost:9200";
/// Kibana lets an action redirect documents only into the alert history.
const ALERT_HISTORY_PREFIX: &str = "kibana-alert-history-";

pub struct Index;

impl HttpConnector for Index {
    fn connector_type(&self) -> &'static str {
        "index"
    }

    fn build(&self, delivery: &Delivery) -> Result<HttpRequest, Outcome> {
        build(&delivery.params, &delivery.account, SystemTime::now())
    }

    fn classify(&self, response: &HttpResponse) -> Outcome {
        classify(response)
    }
}

pub struct IndexAccount {
    /// Without a trailing slash.
    pub url: String,
    pub index: String,
    pub refresh: bool,
    pub execution_time_field: Option<String>,
    pub authorization: Option<Secret>,
}

impl IndexAccount {
    pub fn parse(account: &Account) -> Result<IndexAccount, Outcome> {
        let config = Fields::config(&account.config);
        config.only(&["index", "refresh", "executionTimeField", "url"])?;
        let url = config.non_empty_str("url")?.unwrap_or(DEFAULT_URL);
        config.url("url", url)?;
        let secrets = Fields::secrets(&account.secrets);
        secrets.only(&["apiKey", "username", "password"])?;
        let authorization = match (
            secrets.non_empty_str("apiKey")?,
            secrets.non_empty_str("username")?,
        ) {
            (Some(_), Some(_)) => {
                return Err(
                    secrets.refuse("apiKey", "cannot be combined with username and password")
                );
            }
            (Some(key), None) => Some(Secret::new(format!("ApiKey {key}"))),
            (None, Some(user)) => Some(auth::basic(
                user,
                secrets.str("password")?.unwrap_or_default(),
            )),
            (None, None) => None,
        };
        Ok(IndexAccount {
            url: url.trim_end_matches('/').to_owned(),
            index: config.required_str("index")?.to_owned(),
            refresh: config.bool("refresh")?.unwrap_or(false),
            execution_time_field: config
                .non_empty_str("executionTimeField")?
                .map(str::to_owned),
            authorization,
        })
    }
}

pub struct IndexParams {
    pub documents: Vec<Map<String, Value>>,
    pub index_override: Option<String>,
}

impl IndexParams {
    pub fn parse(params: &Map<String, Value>) -> Result<IndexParams, Outcome> {
        let fields = Fields::params(params);
        fields.only(&["documents", "indexOverride"])?;
        let items = fields
            .array("documents")?
            .ok_or_else(|| fields.refuse("documents", "required"))?;
        if items.is_empty() {
            return Err(fields.refuse("documents", "must not be empty"));
        }
        let mut documents = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            match item {
                Value::Object(document) => documents.push(document.clone()),
                _ => return Err(fields.refuse(&format!("documents[{index}]"), "must be an object")),
            }
        }
        let index_override = fields.non_empty_str("indexOverride")?;
        if index_override.is_some_and(|index| !index.starts_with(ALERT_HISTORY_PREFIX)) {
            return Err(fields.refuse(
                "indexOverride",
                &format!("must start with {ALERT_HISTORY_PREFIX}"),
            ));
        }
        Ok(IndexParams {
            documents,
            index_override: index_override.map(str::to_owned),
        })
    }
}

/// `time` as RFC 3339 in UTC with milliseconds (`2026-11-24T10:00:00.000Z`),
/// the form Elasticsearch's `date` fields read by default.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}
