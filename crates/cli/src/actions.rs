//! `heraldctl send` and `heraldctl status`: submitting events through
//! ingest's gRPC API and following an action until it ends.

use std::time::{Duration, Instant};

use clap::Args;
use herald_proto::json::json_to_struct;
use herald_proto::v1::{self, ActionState};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{self, Exit, Failure, Ingest};
use crate::{Format, Global, output};

#[derive(Args)]
pub struct SendArgs {
    /// An account to notify; each --account takes the --params at the same position.
    #[arg(long = "account", value_name = "ID")]
    accounts: Vec<String>,
    /// The action's params: JSON or YAML inline, or @file.
    #[arg(long = "params", value_name = "JSON|@FILE")]
    params: Vec<String>,
    /// The whole event, YAML or JSON: {idempotency_key, context, actions: [{account_id, params}]}.
    #[arg(long, conflicts_with_all = ["accounts", "params"])]
    file: Option<String>,
    /// The same key gives the same action ids and one delivery.
    #[arg(long)]
    idempotency_key: Option<String>,
    /// Template variables (JSON, YAML or @file): params may use {{context.x}}.
    #[arg(long, value_name = "JSON|@FILE")]
    context: Option<String>,
    /// Wait until every action is delivered or failed.
    #[arg(long)]
    wait: bool,
    #[arg(long, default_value = "30s", value_parser = duration, requires = "wait")]
    timeout: Duration,
}

#[derive(Args)]
pub struct StatusArgs {
    action_id: String,
    /// Wait until the action is delivered or failed.
    #[arg(long)]
    wait: bool,
    #[arg(long, default_value = "30s", value_parser = duration, requires = "wait")]
    timeout: Duration,
    /// Also every attempt the delivery history holds: its state, the
    /// vendor's answer, the error (from the registry's `herald.v1.History`).
    #[arg(long)]
    attempts: bool,
}

/// `30s`, `2m`, `500ms`.
pub fn duration(text: &str) -> Result<Duration, String> {
    herald_config::parse_duration(text)
}

/// The event file's shape: the JSON form of `SubmitRequest`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventDoc {
    #[serde(default)]
    idempotency_key: String,
    #[serde(default)]
    context: Map<String, Value>,
    actions: Vec<ActionDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionDoc {
    account_id: String,
    #[serde(default)]
    params: Map<String, Value>,
}

fn event(args: &SendArgs) -> Result<v1::SubmitRequest, Failure> {
    let mut doc = match &args.file {
        Some(path) => serde_path_to_error::deserialize::<_, EventDoc>(client::read_document(path)?)
            .map_err(|e| Failure::usage(format!("{path}: {}: {}", e.path(), e.inner())))?,
        None => {
            if args.accounts.is_empty() {
                return Err(Failure::usage("give --account ID --params JSON, or --file"));
            }
            if args.accounts.len() != args.params.len() {
                return Err(Failure::usage(format!(
                    "--params: {} given for {} --account; give one per account, in order",
                    args.params.len(),
                    args.accounts.len()
                )));
            }
            let actions = args
                .accounts
                .iter()
                .zip(&args.params)
                .map(|(account_id, params)| {
                    Ok(ActionDoc {
                        account_id: account_id.clone(),
                        params: client::object_argument("--params", params)?,
                    })
                })
                .collect::<Result<_, Failure>>()?;
            EventDoc {
                idempotency_key: String::new(),
                context: Map::new(),
                actions,
            }
        }
    };
    if let Some(key) = &args.idempotency_key {
        doc.idempotency_key = key.clone();
    }
    if let Some(context) = &args.context {
        doc.context = client::object_argument("--context", context)?;
    }
    Ok(v1::SubmitRequest {
        idempotency_key: doc.idempotency_key,
        context: Some(json_to_struct(&doc.context)),
        actions: doc
            .actions
            .into_iter()
            .map(|a| v1::ActionSpec {
                account_id: a.account_id,
                params: Some(json_to_struct(&a.params)),
            })
            .collect(),
        ..Default::default()
    })
}

pub async fn submit(
    ingest: &mut Ingest,
    request: v1::SubmitRequest,
) -> Result<Vec<v1::SubmittedAction>, Failure> {
    Ok(ingest.submit(request).await?.into_inner().actions)
}

pub async fn send(g: &Global, args: SendArgs) -> Result<(), Failure> {
    let request = event(&args)?;
    let mut ingest = client::ingest(g).await?;
    let submitted = submit(&mut ingest, request).await?;
    if !args.wait {
        let rows: Vec<Value> = submitted
            .iter()
            .map(|a| json!({"action_id": a.action_id, "account_id": a.account_id, "connector_type": a.connector_type}))
            .collect();
        output::list(
            g.output,
            &rows,
            &["action_id", "account_id", "connector_type"],
        );
        return Ok(());
    }
    let mut failed = None;
    for action in &submitted {
        let status = wait(&mut ingest, &action.action_id, args.timeout).await?;
        if let Err(f) = report(g.output, &status) {
            eprintln!("heraldctl: {}", f.message);
            failed = Some(f);
        }
    }
    failed.map_or(Ok(()), Err)
}

pub async fn status(g: &Global, args: StatusArgs) -> Result<(), Failure> {
    let mut ingest = client::ingest(g).await?;
    let status = if args.wait {
        wait(&mut ingest, &args.action_id, args.timeout).await?
    } else {
        fetch(&mut ingest, &args.action_id).await?
    };
    let attempts = if args.attempts {
        Some(crate::deliveries::attempts(g, &args.action_id).await?)
    } else {
        None
    };
    report_with(g.output, &status, attempts)
}

async fn fetch(ingest: &mut Ingest, action_id: &str) -> Result<v1::ActionStatus, Failure> {
    Ok(ingest
        .get_action_status(v1::GetActionStatusRequest {
            action_id: action_id.to_owned(),
        })
        .await?
        .into_inner())
}

/// Polls until the action is delivered or failed.
pub async fn wait(
    ingest: &mut Ingest,
    action_id: &str,
    timeout: Duration,
) -> Result<v1::ActionStatus, Failure> {
    let deadline = Instant::now() + timeout;
    loop {
        let status = fetch(ingest, action_id).await?;
        if matches!(
            status.state(),
            ActionState::Delivered | ActionState::Failed | ActionState::Suppressed
        ) {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            return Err(Failure::herald(format!(
                "action {action_id} is still {} after {timeout:?} ({} attempts; last error: {})",
                state_name(status.state()),
                status.attempts,
                if status.last_error.is_empty() {
                    "none"
                } else {
                    &status.last_error
                },
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn state_name(state: ActionState) -> &'static str {
    match state {
        ActionState::Unspecified => "unknown",
        ActionState::Queued => "queued",
        ActionState::Retrying => "retrying",
        ActionState::Delivered => "delivered",
        ActionState::Failed => "failed",
        ActionState::Suppressed => "suppressed",
    }
}

pub fn vendor_response(r: Option<&v1::VendorResponse>) -> Value {
    r.map_or(
        Value::Null,
        |r| json!({"status": r.status, "body": r.body, "request_id": r.request_id}),
    )
}

/// Prints the status; a failed action is an error (exit 4).
pub fn report(format: Format, s: &v1::ActionStatus) -> Result<(), Failure> {
    report_with(format, s, None)
}

/// [`report`], with the history's attempts when given: in JSON under
/// `attempt_history`, in a table after the status.
fn report_with(
    format: Format,
    s: &v1::ActionStatus,
    attempts: Option<Vec<Value>>,
) -> Result<(), Failure> {
    let last = s.history.last();
    let kind = v1::ErrorKind::try_from(s.last_error_kind).unwrap_or_default();
    let value = json!({
        "action_id": s.action_id,
        "state": state_name(s.state()),
        "attempts": s.attempts,
        "last_error": s.last_error,
        "last_error_kind": if s.last_error.is_empty() { Value::Null } else { kind.as_str_name().into() },
        "account_id": s.account_id,
        "connector_type": s.connector_type,
        "accepted_at": output::ts(s.accepted_at.as_ref()),
        "updated_at": output::ts(s.updated_at.as_ref()),
        "handles": s.handles,
        "vendor_response": vendor_response(last.and_then(|a| a.vendor_response.as_ref())),
    });
    match (format, attempts) {
        (_, None) => output::object(format, &value),
        (Format::Json, Some(attempts)) => {
            let mut value = value;
            value["attempt_history"] = Value::Array(attempts);
            output::object(format, &value);
        }
        (Format::Table, Some(attempts)) => {
            output::object(format, &value);
            println!();
            if attempts.is_empty() {
                println!("(the history holds no ended attempt yet)");
            } else {
                output::list(format, &attempts, crate::deliveries::ATTEMPT_COLUMNS);
            }
        }
    }
    if s.state() == ActionState::Failed {
        return Err(Failure {
            exit: Exit::ActionFailed,
            message: format!("action {} failed: {}", s.action_id, s.last_error),
        });
    }
    Ok(())
}
