//! Running one action now, for Kibana's `_execute`: the registry's only call
//! to ingest. The action goes through ingest's gRPC `Submit` like any
//! other (validation, rendering, policy, the worker), with the caller's own
//! token, and [`Executor::run`] follows `GetActionStatus` until it ends.
//! The channel is made lazily: the registry starts whether ingest is up or
//! not, and a call while it is down answers [`ExecuteError::Unavailable`].

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use herald_proto::json::json_to_struct;
use herald_proto::v1::{self, ActionState, ingest_client::IngestClient};
use herald_tls::{ClientTls, TlsError};
use serde_json::{Map, Value};
use tokio::time::Instant;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::Channel;

/// Where `_execute` finds ingest, and how long it waits for an action.
#[derive(Debug, Clone)]
pub struct ExecuteSettings {
    /// HERALD_INGEST_URL: ingest's gRPC (`https://` uses `tls`).
    pub ingest_url: String,
    /// HERALD_TLS_CA_FILE, HERALD_TLS_CLIENT_CERT_FILE,
    /// HERALD_TLS_CLIENT_KEY_FILE: for an `https://` ingest URL.
    pub tls: ClientTls,
    /// HERALD_EXECUTE_TIMEOUT: how long `_execute` waits for the action to
    /// be delivered or fail, [`DEFAULT_TIMEOUT`] (60 s) by default. A model
    /// call (`gen-ai`, `bedrock`) may need longer.
    pub timeout: Duration,
}

pub const DEFAULT_INGEST_URL: &str = "http://127.0.0.1:50052";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The variable an ingest URL comes from, named in errors.
const URL_VAR: &str = "HERALD_INGEST_URL";

impl Default for ExecuteSettings {
    fn default() -> ExecuteSettings {
        ExecuteSettings {
            ingest_url: DEFAULT_INGEST_URL.to_owned(),
            tls: ClientTls::default(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// How an action run by [`Executor::run`] ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Execution {
    /// The vendor accepted it; `handles` is what the worker recorded (the
    /// completion for `gen-ai`, the issue key for `jira`, ...).
    Delivered { handles: HashMap<String, String> },
    /// It failed for good (`reason` is Herald's), or ingest refused the
    /// params (`vendor_message` is then `None`).
    Failed {
        reason: String,
        vendor_message: Option<String>,
    },
    /// It had not ended when the timeout passed; it goes on in the
    /// background and can be followed by its id.
    Pending {
        action_id: String,
        state: ActionState,
        attempts: u32,
        last_error: String,
        vendor_message: Option<String>,
    },
}

/// Why an action could not be run at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecuteError {
    /// Ingest cannot be reached, or cannot take actions now.
    #[error("ingest at {url} ({URL_VAR}) is unavailable: {message}")]
    Unavailable { url: String, message: String },
    /// Ingest does not accept the caller's token (it holds other tokens).
    #[error(
        "ingest at {url} refused the caller's token ({message}): give ingest the same HERALD_ADMIN_TOKEN as the registry"
    )]
    Refused { url: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("ingest failed the call: {0}")]
    Internal(String),
}

struct Target {
    url: String,
    client: IngestClient<Channel>,
}

/// A lazily connected client of ingest's gRPC.
pub struct Executor {
    target: RwLock<Target>,
    tls: ClientTls,
    timeout: Duration,
}

/// The first wait between status reads; each wait doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(20);
const MAX_POLL: Duration = Duration::from_millis(500);

impl Executor {
    /// Fails only when the URL cannot be used (not when ingest is down).
    pub fn new(settings: &ExecuteSettings) -> Result<Executor, TlsError> {
        Ok(Executor {
            target: RwLock::new(target(&settings.tls, &settings.ingest_url)?),
            tls: settings.tls.clone(),
            timeout: settings.timeout,
        })
    }

    /// Points at ingest once its address is known: `heraldctl up` and tests
    /// start the registry first, and ingest picks its own port.
    pub fn point_at(&self, ingest_url: &str) -> Result<(), TlsError> {
        let target = target(&self.tls, ingest_url)?;
        *self
            .target
            .write()
            .expect("no panic while holding the lock") = target;
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn client(&self) -> (String, IngestClient<Channel>) {
        let target = self.target.read().expect("no panic while holding the lock");
        (target.url.clone(), target.client.clone())
    }

    /// Submits one action for `account_id` with `params`, as the holder of
    /// `authorization`, and waits until it is delivered or failed, or the
    /// timeout passes.
    pub async fn run(
        &self,
        authorization: &MetadataValue<Ascii>,
        account_id: &str,
        params: &Map<String, Value>,
    ) -> Result<Execution, ExecuteError> {
        Ok(self
            .run_action(authorization, account_id, params)
            .await?
            .execution)
    }

    /// As [`Executor::run`], with the action's id when ingest accepted it
    /// (the console's Test page shows its attempts from the history).
    pub async fn run_action(
        &self,
        authorization: &MetadataValue<Ascii>,
        account_id: &str,
        params: &Map<String, Value>,
    ) -> Result<Run, ExecuteError> {
        let deadline = Instant::now() + self.timeout;
        let (url, mut client) = self.client();
        let request = |message| as_caller(authorization, message);
        let submit = client.submit(as_caller(
            authorization,
            v1::SubmitRequest {
                actions: vec![v1::ActionSpec {
                    account_id: account_id.to_owned(),
                    params: Some(json_to_struct(params)),
                }],
                ..Default::default()
            },
        ));
        let submitted = match tokio::time::timeout_at(deadline, submit).await {
            Err(_) => {
                return Err(ExecuteError::Unavailable {
                    url,
                    message: format!("no answer to Submit within {:?}", self.timeout),
                });
            }
            // Bad params, a type the policy does not enable: Kibana answers
            // these as a run that failed, with the reason.
            Ok(Err(status))
                if matches!(
                    status.code(),
                    tonic::Code::InvalidArgument | tonic::Code::FailedPrecondition
                ) =>
            {
                return Ok(Run {
                    action_id: None,
                    execution: Execution::Failed {
                        reason: status.message().to_owned(),
                        vendor_message: None,
                    },
                });
            }
            Ok(Err(status)) => return Err(call_error(&url, status)),
            Ok(Ok(response)) => response.into_inner(),
        };
        let action_id = match submitted.actions.as_slice() {
            [action] => action.action_id.clone(),
            other => {
                return Err(ExecuteError::Internal(format!(
                    "Submit answered {} actions for one",
                    other.len()
                )));
            }
        };
        let mut wait = FIRST_POLL;
        loop {
            let status = client
                .get_action_status(request(v1::GetActionStatusRequest {
                    action_id: action_id.clone(),
                }))
                .await
                .map_err(|status| call_error(&url, status))?
                .into_inner();
            let vendor_message = status
                .history
                .last()
                .and_then(|attempt| attempt.vendor_response.as_ref())
                .map(|response| response.body.trim().to_owned())
                .filter(|body| !body.is_empty());
            let execution = match status.state() {
                ActionState::Delivered => Execution::Delivered {
                    handles: status.handles,
                },
                ActionState::Failed => Execution::Failed {
                    reason: status.last_error,
                    vendor_message,
                },
                state if Instant::now() + wait >= deadline => Execution::Pending {
                    action_id: action_id.clone(),
                    state,
                    attempts: status.attempts,
                    last_error: status.last_error,
                    vendor_message,
                },
                _ => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(MAX_POLL);
                    continue;
                }
            };
            return Ok(Run {
                action_id: Some(action_id),
                execution,
            });
        }
    }

    /// The alerts ingest's `herald_alerts` bucket holds (open ones only
    /// when `open_only`), most recently received first, as the holder of
    /// `authorization` reads them through ingest's `ListAlerts`.
    pub async fn list_alerts(
        &self,
        authorization: &MetadataValue<Ascii>,
        open_only: bool,
    ) -> Result<Vec<v1::AlertState>, ExecuteError> {
        let (url, mut client) = self.client();
        let call = client.list_alerts(as_caller(
            authorization,
            v1::ListAlertsRequest { open_only },
        ));
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(ExecuteError::Unavailable {
                url,
                message: format!("no answer to ListAlerts within {:?}", self.timeout),
            }),
            Ok(answer) => Ok(answer
                .map_err(|status| call_error(&url, status))?
                .into_inner()
                .alerts),
        }
    }

    /// Acknowledges a firing alert through ingest's `AckAlert` (admin or
    /// producer, ingest's rule); `by` is recorded in its history.
    pub async fn ack_alert(
        &self,
        authorization: &MetadataValue<Ascii>,
        key: &str,
        by: &str,
    ) -> Result<v1::AlertState, ExecuteError> {
        let (url, mut client) = self.client();
        let call = client.ack_alert(as_caller(
            authorization,
            v1::AckAlertRequest {
                key: key.to_owned(),
                by: by.to_owned(),
            },
        ));
        match tokio::time::timeout(self.timeout, call).await {
            Err(_) => Err(ExecuteError::Unavailable {
                url,
                message: format!("no answer to AckAlert within {:?}", self.timeout),
            }),
            Ok(answer) => Ok(answer
                .map_err(|status| call_error(&url, status))?
                .into_inner()),
        }
    }
}

/// An action run by [`Executor::run_action`]: its id, once ingest accepted
/// it, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub action_id: Option<String>,
    pub execution: Execution,
}

/// A call carrying the caller's own `authorization`.
fn as_caller<T>(authorization: &MetadataValue<Ascii>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", authorization.clone());
    request
}

fn target(tls: &ClientTls, url: &str) -> Result<Target, TlsError> {
    let channel = tls
        .endpoint(URL_VAR, url)?
        .connect_timeout(Duration::from_secs(5))
        .connect_lazy();
    Ok(Target {
        url: url.to_owned(),
        client: IngestClient::new(channel),
    })
}

fn call_error(url: &str, status: tonic::Status) -> ExecuteError {
    // A connection failure carries its cause (refused, TLS) as the source;
    // tonic's layers repeat their words, said here once.
    let mut message = status.message().to_owned();
    let mut source = std::error::Error::source(&status);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        source = cause.source();
    }
    let url = url.to_owned();
    match status.code() {
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Unknown => {
            ExecuteError::Unavailable { url, message }
        }
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
            ExecuteError::Refused { url, message }
        }
        tonic::Code::NotFound => ExecuteError::NotFound(message),
        _ => ExecuteError::Internal(message),
    }
}
