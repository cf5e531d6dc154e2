//! The connector: reads the account and params it is given and makes
//! the attempt.

use std::time::SystemTime;

use super::spec::{ALERT_HISTORY_PREFIX, Config, DEFAULT_URL, Params, Secrets};
use crate::delivery::fields::{Fields, Secret};
use crate::delivery::typed;
use crate::delivery::{Account, Delivery, HttpConnector, HttpRequest, HttpResponse, Outcome};
use serde_json::{Map, Value};

use crate::auth;

pub use super::request::build;
pub use super::response::classify;

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
        let config: Config = typed::config(&account.config)?;
        let secrets: Secrets = typed::secrets(&account.secrets)?;
        let url = config
            .url
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        Fields::config(&account.config).url("url", &url)?;
        let api_key = secrets.api_key.filter(|key| !key.expose().is_empty());
        let username = secrets.username.filter(|user| !user.is_empty());
        let authorization = match (api_key, username) {
            (Some(_), Some(_)) => {
                return Err(Fields::secrets(&account.secrets)
                    .refuse("apiKey", "cannot be combined with username and password"));
            }
            (Some(key), None) => Some(Secret::new(format!("ApiKey {}", key.expose()))),
            (None, Some(user)) => Some(auth::basic(
                &user,
                secrets.password.as_ref().map_or("", Secret::expose),
            )),
            (None, None) => None,
        };
        Ok(IndexAccount {
            url: url.trim_end_matches('/').to_owned(),
            index: config.index.into_string(),
            refresh: config.refresh,
            execution_time_field: config.execution_time_field.filter(|f| !f.is_empty()),
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
        let params: Params = typed::params(params)?;
        if params.documents.is_empty() {
            return Err(fields.refuse("documents", "must not be empty"));
        }
        let index_override = params.index_override.filter(|index| !index.is_empty());
        if index_override
            .as_ref()
            .is_some_and(|index| !index.starts_with(ALERT_HISTORY_PREFIX))
        {
            return Err(fields.refuse(
                "indexOverride",
                &format!("must start with {ALERT_HISTORY_PREFIX}"),
            ));
        }
        Ok(IndexParams {
            documents: params.documents,
            index_override,
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
