//! `heraldctl dead`: dead letters (`DeadLetter` on `herald.dead.<type>` in
//! the DEAD stream), read straight from NATS. A replay republishes the
//! stored `ActionRequest` on `herald.action.<type>` under a new
//! `Nats-Msg-Id`, sets the action's status back to queued, and then deletes
//! the dead letter, so a second replay of it is refused (not found).

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream::Stream};
use clap::{ArgGroup, Subcommand};
use futures::StreamExt;
use herald_messaging::{Outgoing, Publisher, Subjects};
use herald_proto::v1::{ActionState, ActionStatusRecord, DeadLetter};
use prost::Message as _;
use serde_json::{Value, json};

use crate::client::Failure;
use crate::{Format, Global, actions, output};

#[derive(Subcommand)]
pub enum Command {
    /// Dead letters, oldest first.
    List {
        #[arg(long = "type", value_name = "T")]
        connector_type: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Resubmit dead letters (after fixing their account) and remove them.
    #[command(group(ArgGroup::new("which").required(true).args(["connector_type", "id", "all"])))]
    Replay {
        /// Every dead letter of this connector type.
        #[arg(long = "type", value_name = "T")]
        connector_type: Option<String>,
        /// The dead letter of this action.
        #[arg(long, value_name = "ACTION_ID")]
        id: Option<String>,
        /// Every dead letter.
        #[arg(long)]
        all: bool,
    },
}

struct Dead {
    sequence: u64,
    letter: DeadLetter,
}

struct DeadStream {
    js: jetstream::Context,
    stream: Stream,
    subjects: Subjects,
}

impl DeadStream {
    async fn open(g: &Global) -> Result<DeadStream, Failure> {
        let subjects = Subjects::new(
            std::env::var("HERALD_SUBJECT_PREFIX").unwrap_or_else(|_| "herald".into()),
        );
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(&g.nats_url)
            .await
            .map_err(|e| {
                Failure::herald(format!(
                    "cannot reach NATS at {} (--nats-url): {e}",
                    g.nats_url
                ))
            })?;
        let js = jetstream::new(client);
        let name = subjects.stream("DEAD");
        let stream = js
            .get_stream(&name)
            .await
            .map_err(|e| Failure::herald(format!("stream {name}: {e}")))?;
        Ok(DeadStream {
            js,
            stream,
            subjects,
        })
    }

    /// Dead letters of `connector_type` (all types when `None`), oldest first.
    async fn read(&self, connector_type: Option<&str>, limit: usize) -> Result<Vec<Dead>, Failure> {
        let fail =
            |e: &dyn std::fmt::Display| Failure::herald(format!("reading dead letters: {e}"));
        let filter_subject = match connector_type {
            Some(t) => self.subjects.dead(t),
            None => format!("{}.dead.>", self.subjects.prefix()),
        };
        let mut consumer = self
            .stream
            .create_consumer(pull::OrderedConfig {
                filter_subject,
                ..Default::default()
            })
            .await
            .map_err(|e| fail(&e))?;
        let pending = consumer.info().await.map_err(|e| fail(&e))?.num_pending;
        let mut messages = consumer.messages().await.map_err(|e| fail(&e))?;
        let dead_event = self.subjects.dead_event();
        let mut out = Vec::new();
        for _ in 0..pending {
            if out.len() >= limit {
                break;
            }
            let message = match messages.next().await {
                Some(m) => m.map_err(|e| fail(&e))?,
                None => break,
            };
            if message.subject.as_str() == dead_event {
                continue; // events, not actions: DeadEvent, nothing to replay here
            }
            let sequence = message.info().map_err(|e| fail(&e))?.stream_sequence;
            match DeadLetter::decode(message.payload.clone()) {
                Ok(letter) => out.push(Dead { sequence, letter }),
                Err(e) => eprintln!("heraldctl: dead letter #{sequence} cannot be decoded: {e}"),
            }
        }
        Ok(out)
    }

    /// Republishes the action, queues its status, deletes the dead letter.
    async fn replay(&self, dead: &Dead) -> Result<(), String> {
        let request = dead
            .letter
            .request
            .as_ref()
            .ok_or("the message could not be decoded when it died; nothing to replay")?;
        // Read before publishing, written after only if nobody wrote in
        // between: the worker may finish the replay before this update, and
        // its record must win.
        let status = self.queued_status(&request.action_id).await;
        Publisher::new(self.js.clone())
            .publish(
                Outgoing {
                    subject: self.subjects.action(&request.connector_type),
                    // New, so JetStream does not drop it as a duplicate of the
                    // original; per dead letter, so retrying a replay is not.
                    msg_id: format!("{}:replay:{}", request.action_id, dead.sequence),
                    payload: request.encode_to_vec().into(),
                },
                None,
            )
            .await
            .map_err(|e| format!("cannot publish: {e}"))?;
        if let Some((kv, queued, revision)) = status {
            let _ = kv.update(&request.action_id, queued.into(), revision).await;
        }
        self.stream
            .delete_message(dead.sequence)
            .await
            .map_err(|e| format!("replayed, but the dead letter was not removed: {e}"))?;
        Ok(())
    }

    /// The action's status record set back to queued, and the revision it
    /// replaces, so `status --wait` waits for the replay instead of
    /// reporting the old failure.
    async fn queued_status(&self, action_id: &str) -> Option<(jetstream::kv::Store, Vec<u8>, u64)> {
        let kv = self
            .js
            .get_key_value(self.subjects.bucket("status"))
            .await
            .ok()?;
        let entry = kv.entry(action_id).await.ok()??;
        let mut record = ActionStatusRecord::decode(entry.value).ok()?;
        record.state = ActionState::Queued as i32;
        Some((kv, record.encode_to_vec(), entry.revision))
    }
}

fn row(d: &Dead) -> Value {
    let request = d.letter.request.clone().unwrap_or_default();
    json!({
        "action_id": request.action_id,
        "connector_type": request.connector_type,
        "account_id": request.account_id,
        "attempts": d.letter.attempts,
        "error_kind": herald_proto::v1::ErrorKind::try_from(d.letter.error_kind).unwrap_or_default().as_str_name(),
        "reason": d.letter.reason,
        "dead_at": output::ts(d.letter.dead_at.as_ref()),
        "vendor_response": actions::vendor_response(d.letter.vendor_response.as_ref()),
        "subject": d.letter.subject,
        "sequence": d.sequence,
    })
}

pub async fn run(g: &Global, command: Command) -> Result<(), Failure> {
    let dead = DeadStream::open(g).await?;
    match command {
        Command::List {
            connector_type,
            limit,
        } => {
            let rows: Vec<Value> = dead
                .read(connector_type.as_deref(), limit)
                .await?
                .iter()
                .map(row)
                .collect();
            output::list(
                g.output,
                &rows,
                &[
                    "action_id",
                    "connector_type",
                    "account_id",
                    "attempts",
                    "dead_at",
                    "reason",
                ],
            );
            Ok(())
        }
        Command::Replay {
            connector_type,
            id,
            all: _,
        } => {
            let mut letters = dead.read(connector_type.as_deref(), usize::MAX).await?;
            if let Some(id) = &id {
                letters.retain(|d| {
                    d.letter
                        .request
                        .as_ref()
                        .is_some_and(|r| &r.action_id == id)
                });
                if letters.is_empty() {
                    return Err(Failure::not_found(format!(
                        "no dead letter for action {id} (already replayed?)"
                    )));
                }
            }
            let bar = indicatif::ProgressBar::new(letters.len() as u64).with_style(
                indicatif::ProgressStyle::with_template("replaying {bar:40} {pos}/{len} {msg}")
                    .expect("template"),
            );
            let mut replayed = Vec::new();
            let mut errors = Vec::new();
            for d in &letters {
                let action_id = d.letter.request.as_ref().map(|r| r.action_id.clone());
                match dead.replay(d).await {
                    Ok(()) => replayed.push(action_id.unwrap_or_default()),
                    Err(e) => errors
                        .push(json!({"sequence": d.sequence, "action_id": action_id, "error": e})),
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            match g.output {
                Format::Json => println!("{}", json!({"replayed": replayed, "errors": errors})),
                Format::Table => {
                    println!("replayed {} dead letter(s)", replayed.len());
                    for id in &replayed {
                        println!("  {id}");
                    }
                    for e in &errors {
                        println!(
                            "not replayed: {} ({})",
                            output::cell(&e["action_id"]),
                            output::cell(&e["error"])
                        );
                    }
                }
            }
            if errors.is_empty() {
                Ok(())
            } else {
                Err(Failure::herald(format!(
                    "{} dead letter(s) not replayed",
                    errors.len()
                )))
            }
        }
    }
}
