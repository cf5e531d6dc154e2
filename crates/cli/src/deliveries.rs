//! `heraldctl deliveries` and `heraldctl status ID --attempts`: the
//! delivery history the registry keeps, through `herald.v1.History`.

use std::time::SystemTime;

use clap::{Args, Subcommand, ValueEnum};
use herald_proto::v1;
use serde_json::{Value, json};

use crate::actions::{state_name, vendor_response};
use crate::client::{self, Failure, History};
use crate::{Global, output};

#[derive(Subcommand)]
pub enum Command {
    /// Attempts, newest first: what was sent and what failed.
    List(ListArgs),
    /// Attempts per account or connector type over a window.
    Counts(CountArgs),
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long, value_name = "ID")]
    account: Option<String>,
    /// A connector type (`slack`, `.pagerduty`).
    #[arg(long = "type", value_name = "TYPE")]
    connector_type: Option<String>,
    #[arg(long, value_enum)]
    state: Option<StateArg>,
    /// Only the attempts about this alert.
    #[arg(long, value_name = "KEY")]
    alert: Option<String>,
    /// Finished since: a time (RFC 3339) or an age (`1h`, `30m`).
    #[arg(long, value_name = "TIME|AGE")]
    since: Option<String>,
    /// Finished before: a time (RFC 3339) or an age.
    #[arg(long, value_name = "TIME|AGE")]
    until: Option<String>,
    /// At most this many attempts (every page up to it).
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

#[derive(Args)]
pub struct CountArgs {
    #[arg(long, value_enum, default_value = "account")]
    by: ByArg,
    /// The window's start: a time (RFC 3339) or an age; the last hour by default.
    #[arg(long, value_name = "TIME|AGE")]
    since: Option<String>,
    /// The window's end: a time or an age; now by default.
    #[arg(long, value_name = "TIME|AGE")]
    until: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum StateArg {
    Delivered,
    Retrying,
    Failed,
}

#[derive(Clone, Copy, ValueEnum)]
enum ByArg {
    Account,
    Type,
}

/// An RFC 3339 time, or an age before now (`90s`, `1h`); errors name `flag`.
fn when(flag: &str, text: &str) -> Result<prost_types::Timestamp, Failure> {
    if let Ok(t) = text.parse::<prost_types::Timestamp>() {
        return Ok(t);
    }
    let age = herald_config::parse_duration(text).map_err(|_| {
        Failure::usage(format!(
            "{flag}: neither an RFC 3339 time (2026-01-31T08:00:00Z) nor an age (1h, 30m)"
        ))
    })?;
    let at = SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    Ok(prost_types::Timestamp::from(at))
}

fn optional_when(
    flag: &str,
    text: &Option<String>,
) -> Result<Option<prost_types::Timestamp>, Failure> {
    text.as_deref().map(|t| when(flag, t)).transpose()
}

pub fn delivery_json(d: &v1::Delivery) -> Value {
    let kind = v1::ErrorKind::try_from(d.error_kind).unwrap_or_default();
    json!({
        "action_id": d.action_id,
        "attempt": d.attempt,
        "account_id": d.account_id,
        "connector_type": d.connector_type,
        "alert_key": d.alert_key,
        "state": state_name(d.state()),
        "error_kind": if kind == v1::ErrorKind::Unspecified { Value::Null } else { kind.as_str_name().into() },
        "error": d.error,
        "vendor_response": vendor_response(d.vendor_response.as_ref()),
        "vendor_status": d.vendor_response.as_ref().map(|v| v.status),
        "handles": d.handles,
        "latency_ms": d.latency_ms,
        "trace_id": d.trace_id,
        "started_at": output::ts(d.started_at.as_ref()),
        "finished_at": output::ts(d.finished_at.as_ref()),
    })
}

const COLUMNS: &[&str] = &[
    "finished_at",
    "action_id",
    "attempt",
    "account_id",
    "state",
    "vendor_status",
    "latency_ms",
    "error",
];

pub async fn run(g: &Global, command: Command) -> Result<(), Failure> {
    let mut history = client::history(g).await?;
    match command {
        Command::List(args) => list(g, &mut history, args).await,
        Command::Counts(args) => counts(g, &mut history, args).await,
    }
}

async fn list(g: &Global, history: &mut History, args: ListArgs) -> Result<(), Failure> {
    let filter = v1::DeliveryFilter {
        account_id: args.account.unwrap_or_default(),
        connector_type: args.connector_type.unwrap_or_default(),
        state: match args.state {
            None => v1::ActionState::Unspecified,
            Some(StateArg::Delivered) => v1::ActionState::Delivered,
            Some(StateArg::Retrying) => v1::ActionState::Retrying,
            Some(StateArg::Failed) => v1::ActionState::Failed,
        } as i32,
        alert_key: args.alert.unwrap_or_default(),
        since: optional_when("--since", &args.since)?,
        until: optional_when("--until", &args.until)?,
    };
    let mut rows = Vec::new();
    let mut page_token = String::new();
    while rows.len() < args.limit {
        let page = history
            .list_deliveries(v1::ListDeliveriesRequest {
                filter: Some(filter.clone()),
                page_size: (args.limit - rows.len()).min(1000) as i32,
                page_token,
            })
            .await?
            .into_inner();
        rows.extend(page.deliveries.iter().map(delivery_json));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    output::list(g.output, &rows, COLUMNS);
    Ok(())
}

async fn counts(g: &Global, history: &mut History, args: CountArgs) -> Result<(), Failure> {
    let counts = history
        .count_deliveries(v1::CountDeliveriesRequest {
            by: match args.by {
                ByArg::Account => v1::CountBy::Account,
                ByArg::Type => v1::CountBy::ConnectorType,
            } as i32,
            since: optional_when("--since", &args.since)?,
            until: optional_when("--until", &args.until)?,
        })
        .await?
        .into_inner()
        .counts;
    let rows: Vec<Value> = counts
        .iter()
        .map(|c| {
            json!({
                "key": c.key,
                "delivered": c.delivered,
                "retrying": c.retrying,
                "failed": c.failed,
                "avg_latency_ms": (c.avg_latency_ms * 10.0).round() / 10.0,
                "max_latency_ms": c.max_latency_ms,
            })
        })
        .collect();
    output::list(
        g.output,
        &rows,
        &[
            "key",
            "delivered",
            "retrying",
            "failed",
            "avg_latency_ms",
            "max_latency_ms",
        ],
    );
    Ok(())
}

/// Every attempt of one action the history holds, first first; none yet
/// for an action that has not ended an attempt.
pub async fn attempts(g: &Global, action_id: &str) -> Result<Vec<Value>, Failure> {
    let mut history = client::history(g).await?;
    let answer = history
        .list_attempts(v1::ListAttemptsRequest {
            action_id: action_id.to_owned(),
        })
        .await;
    match answer {
        Ok(a) => Ok(a.into_inner().attempts.iter().map(delivery_json).collect()),
        Err(status) if status.code() == tonic::Code::NotFound => Ok(Vec::new()),
        Err(status) => Err(status.into()),
    }
}

/// The columns `status --attempts` prints in a table.
pub const ATTEMPT_COLUMNS: &[&str] = &[
    "attempt",
    "state",
    "finished_at",
    "latency_ms",
    "vendor_status",
    "error_kind",
    "error",
];
