//! `heraldctl accounts`: put (YAML or JSON, one or a list), get, list (every
//! page), delete, and test (a real action through the pipeline).

use clap::Subcommand;
use herald_proto::json::json_to_struct;
use herald_proto::v1;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::{self, Failure};
use crate::{Global, actions, output};

#[derive(Subcommand)]
pub enum Command {
    /// Create or replace accounts from FILE (`-` for stdin): one account or
    /// a list, each `{id, connector_type, name, config, secrets}`.
    Put { file: String },
    /// One account, without secrets (`secret_fields` names those set).
    Get { id: String },
    /// Every account, optionally of one type.
    List {
        #[arg(long = "type", value_name = "T")]
        connector_type: Option<String>,
    },
    /// Delete an account.
    Delete { id: String },
    /// Send a test action through ingest and the worker, wait for the
    /// outcome and print the vendor's answer.
    Test {
        id: String,
        /// The action's params (JSON, YAML or @file); a harmless default per type otherwise.
        #[arg(long)]
        params: Option<String>,
        /// How long to wait for the outcome.
        #[arg(long, default_value = "30s", value_parser = actions::duration)]
        timeout: std::time::Duration,
    },
}

/// An account as written in a file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountDoc {
    pub id: String,
    #[serde(alias = "type", alias = "actionTypeId")]
    pub connector_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub config: Map<String, Value>,
    #[serde(default)]
    pub secrets: Map<String, Value>,
    /// Kibana's `exposeConfig: false`: readers see no config.
    #[serde(default)]
    pub config_hidden: bool,
}

impl AccountDoc {
    pub fn to_proto(&self) -> v1::Account {
        v1::Account {
            id: self.id.clone(),
            connector_type: self.connector_type.clone(),
            name: self.name.clone().unwrap_or_else(|| self.id.clone()),
            config: Some(json_to_struct(&self.config)),
            secrets: Some(json_to_struct(&self.secrets)),
            config_hidden: self.config_hidden,
            ..Default::default()
        }
    }

    /// The account as `--dry-run` shows it: secrets named, never shown.
    pub fn redacted(&self) -> Value {
        json!({
            "id": self.id,
            "connector_type": self.connector_type,
            "name": self.name.clone().unwrap_or_else(|| self.id.clone()),
            "config": self.config,
            "config_hidden": self.config_hidden,
            "secret_fields": self.secrets.keys().collect::<Vec<_>>(),
        })
    }
}

/// Every account in `doc` (an object or a list); errors name the item and field.
pub fn parse_accounts(doc: Value) -> Result<Vec<AccountDoc>, String> {
    let (items, listed) = match doc {
        Value::Array(items) => (items, true),
        other => (vec![other], false),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_path_to_error::deserialize(item).map_err(|e| {
                let at = match (listed, e.path().to_string().as_str()) {
                    (true, ".") => format!("[{i}]"),
                    (true, path) => format!("[{i}].{path}"),
                    (false, path) => path.to_owned(),
                };
                format!("{at}: {}", e.inner())
            })
        })
        .collect()
}

pub async fn run(g: &Global, command: Command) -> Result<(), Failure> {
    match command {
        Command::Put { file } => {
            let accounts = parse_accounts(client::read_document(&file)?)
                .map_err(|e| Failure::usage(format!("{file}: {e}")))?;
            let mut registry = client::registry(g).await?;
            let mut rows = Vec::new();
            let mut result = Ok(());
            // In file order; the first refusal stops, and what was saved
            // before it is still listed.
            for doc in &accounts {
                match registry
                    .put_account(v1::PutAccountRequest {
                        account: Some(doc.to_proto()),
                    })
                    .await
                {
                    Ok(saved) => rows.push(output::account(saved.get_ref())),
                    Err(s) => {
                        let f = Failure::from(s);
                        result = Err(Failure {
                            message: format!("account {}: {}", doc.id, f.message),
                            ..f
                        });
                        break;
                    }
                }
            }
            output::list(
                g.output,
                &rows,
                &["id", "connector_type", "version", "secret_fields"],
            );
            result
        }
        Command::Get { id } => {
            let account = client::registry(g)
                .await?
                .get_account(v1::GetAccountRequest { id })
                .await?
                .into_inner();
            output::object(g.output, &output::account(&account));
            Ok(())
        }
        Command::List { connector_type } => {
            let mut registry = client::registry(g).await?;
            let mut rows = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = registry
                    .list_accounts(v1::ListAccountsRequest {
                        connector_type: connector_type.clone().unwrap_or_default(),
                        page_size: 1000,
                        page_token,
                        query: String::new(),
                    })
                    .await?
                    .into_inner();
                rows.extend(page.accounts.iter().map(output::account));
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            output::list(
                g.output,
                &rows,
                &["id", "connector_type", "name", "preconfigured", "version"],
            );
            Ok(())
        }
        Command::Delete { id } => {
            client::registry(g)
                .await?
                .delete_account(v1::DeleteAccountRequest {
                    id: id.clone(),
                    version: 0,
                })
                .await?;
            output::object(g.output, &json!({"deleted": id}));
            Ok(())
        }
        Command::Test {
            id,
            params,
            timeout,
        } => {
            let account = client::registry(g)
                .await?
                .get_account(v1::GetAccountRequest { id: id.clone() })
                .await?
                .into_inner();
            let params = match params {
                Some(text) => client::object_argument("--params", &text)?,
                None => test_params(&account.connector_type).ok_or_else(|| {
                    Failure::usage(format!(
                        "no default test params for type {}; give --params",
                        account.connector_type
                    ))
                })?,
            };
            let mut ingest = client::ingest(g).await?;
            let submitted = actions::submit(
                &mut ingest,
                v1::SubmitRequest {
                    actions: vec![v1::ActionSpec {
                        account_id: id,
                        params: Some(json_to_struct(&params)),
                    }],
                    ..Default::default()
                },
            )
            .await?;
            let status = actions::wait(&mut ingest, &submitted[0].action_id, timeout).await?;
            actions::report(g.output, &status)
        }
    }
}

const TEST_TEXT: &str = "Test message from Herald (heraldctl accounts test)";

/// Params for a test action that any working account of the type accepts.
pub fn test_params(connector_type: &str) -> Option<Map<String, Value>> {
    let params = herald_connectors::catalog()
        .get(connector_type)?
        .test_params?;
    params(TEST_TEXT).as_object().cloned()
}
