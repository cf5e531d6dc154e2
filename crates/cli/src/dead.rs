//! `heraldctl dead`: dead letters (`DeadLetter` on `herald.dead.<type>` in
//! the DEAD stream), read straight from NATS through
//! `herald_messaging::dead_letters`, as the registry's `/v1/dead-letters`
//! reads them. A replayed dead letter is removed, so a second replay of it
//! is refused (not found).

use std::time::Duration;

use clap::{ArgGroup, Subcommand};
use herald_messaging::Subjects;
use herald_messaging::dead_letters::{DeadLetters, StoredDeadLetter};
use serde_json::{Value, json};

use crate::client::Failure;
use crate::{Format, Global, output};

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

async fn open(g: &Global) -> Result<DeadLetters, Failure> {
    let subjects =
        Subjects::new(std::env::var("HERALD_SUBJECT_PREFIX").unwrap_or_else(|_| "herald".into()));
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
    Ok(DeadLetters::new(client, subjects))
}

async fn read(
    dead: &DeadLetters,
    connector_type: Option<&str>,
    limit: usize,
) -> Result<Vec<StoredDeadLetter>, Failure> {
    let listing = dead
        .list(connector_type, limit)
        .await
        .map_err(|e| Failure::herald(e.to_string()))?;
    for (sequence, reason) in &listing.undecodable {
        eprintln!("heraldctl: dead letter #{sequence} cannot be decoded: {reason}");
    }
    Ok(listing.letters)
}

pub async fn run(g: &Global, command: Command) -> Result<(), Failure> {
    let dead = open(g).await?;
    match command {
        Command::List {
            connector_type,
            limit,
        } => {
            let rows: Vec<Value> = read(&dead, connector_type.as_deref(), limit)
                .await?
                .iter()
                .map(StoredDeadLetter::to_json)
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
            let mut letters = read(&dead, connector_type.as_deref(), usize::MAX).await?;
            if let Some(id) = &id {
                letters.retain(|d| d.action_id() == Some(id.as_str()));
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
                let action_id = d.action_id().map(str::to_owned);
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
