//! `heraldctl alerts`: the alerts ingest keeps a lifecycle for (KV
//! `herald_alerts`), read and acknowledged through ingest's gRPC API.

use clap::Subcommand;
use herald_proto::v1;
use serde_json::Value;

use crate::client::{self, Failure};
use crate::{Format, Global, output};

#[derive(Subcommand)]
pub enum Command {
    /// Alerts, most recently received first.
    List {
        /// Only alerts still firing.
        #[arg(long)]
        open: bool,
    },
    /// One alert: its state, counts, what each target opened, its history.
    Get { key: String },
    /// Acknowledge a firing alert: its repeats stop until it resolves.
    Ack {
        key: String,
        /// Who acknowledges, for the history.
        #[arg(long)]
        by: Option<String>,
    },
}

pub async fn run(g: &Global, command: Command) -> Result<(), Failure> {
    let mut ingest = client::ingest(g).await?;
    match command {
        Command::List { open } => {
            let alerts = ingest
                .list_alerts(v1::ListAlertsRequest { open_only: open })
                .await?
                .into_inner()
                .alerts;
            let rows: Vec<Value> = alerts
                .iter()
                .map(herald_ingest::http::alert_state_json)
                .collect();
            output::list(
                g.output,
                &rows,
                &[
                    "key",
                    "status",
                    "acknowledged",
                    "severity",
                    "summary",
                    "route",
                    "received",
                    "delivered",
                    "suppressed",
                    "last_received_at",
                ],
            );
        }
        Command::Get { key } => {
            let state = ingest
                .get_alert(v1::GetAlertRequest { key })
                .await?
                .into_inner();
            show(g.output, &state);
        }
        Command::Ack { key, by } => {
            let by = by.unwrap_or_else(|| std::env::var("USER").unwrap_or_default());
            let state = ingest
                .ack_alert(v1::AckAlertRequest { key, by })
                .await?
                .into_inner();
            show(g.output, &state);
        }
    }
    Ok(())
}

fn show(format: Format, state: &v1::AlertState) {
    output::object(format, &herald_ingest::http::alert_state_json(state));
}
