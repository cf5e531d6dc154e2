//! `heraldctl routes`: put (a route document from a file, YAML or JSON, or
//! from flags), get, list (every page), delete. The document is the one
//! `HERALD_CONFIG`'s `routes:` and the registry's REST take
//! (`herald_config::RouteDocument`).

use std::time::Duration;

use clap::{Args, Subcommand};
use herald_config::{Grouping, RouteActionDocument, RouteDocument};
use herald_proto::v1;
use serde_json::{Value, json};

use crate::client::{self, Failure};
use crate::{Global, output};

#[derive(Subcommand)]
pub enum Command {
    /// Create or replace a route, from `-f FILE` (`-` for stdin) or from flags.
    Put(PutArgs),
    /// One route.
    Get { id: String },
    /// Every route.
    List,
    /// Delete a route.
    Delete { id: String },
}

#[derive(Args)]
pub struct PutArgs {
    /// The route's id; may be left to the file's `id`.
    id: Option<String>,
    /// A route document: `{id, name, actions: [{account_id, params,
    /// resolved_params, match}], throttle, repeat_interval, grouping}`.
    #[arg(short = 'f', long = "file", value_name = "FILE", conflicts_with_all = ["name", "accounts"])]
    file: Option<String>,
    #[arg(long)]
    name: Option<String>,
    /// An action to this account, with the connector type's default
    /// rendering of the alert unless `--params` follows it (repeatable).
    #[arg(long = "account", value_name = "ID")]
    accounts: Vec<String>,
    /// Params templates (JSON, YAML or @file) of the `--account` at the same position.
    #[arg(long = "params", value_name = "JSON")]
    params: Vec<String>,
    #[arg(long, value_parser = crate::actions::duration)]
    throttle: Option<Duration>,
    #[arg(long, value_parser = crate::actions::duration)]
    repeat_interval: Option<Duration>,
    #[arg(long, value_parser = ["group", "alert"])]
    grouping: Option<String>,
}

impl PutArgs {
    fn document(self) -> Result<RouteDocument, Failure> {
        let mut route = match &self.file {
            Some(file) => {
                let value = client::read_document(file)?;
                serde_path_to_error::deserialize::<_, RouteDocument>(value)
                    .map_err(|e| Failure::usage(format!("{file}: {}: {}", e.path(), e.inner())))?
            }
            None => {
                if self.params.len() > self.accounts.len() {
                    return Err(Failure::usage(
                        "each --params follows the --account it is for",
                    ));
                }
                let mut actions = Vec::with_capacity(self.accounts.len());
                for (i, account_id) in self.accounts.iter().enumerate() {
                    let params = match self.params.get(i) {
                        Some(text) => client::object_argument("--params", text)?,
                        None => Default::default(),
                    };
                    actions.push(RouteActionDocument {
                        account_id: account_id.clone(),
                        params,
                        ..Default::default()
                    });
                }
                RouteDocument {
                    id: String::new(),
                    name: self.name.clone().unwrap_or_default(),
                    actions,
                    throttle: Duration::ZERO,
                    repeat_interval: herald_config::routes::DEFAULT_REPEAT_INTERVAL,
                    grouping: Grouping::Group,
                }
            }
        };
        match (&self.id, route.id.is_empty()) {
            (Some(id), true) => route.id = id.clone(),
            (Some(id), false) if *id != route.id => {
                return Err(Failure::usage(format!(
                    "the route id {id} differs from the file's id {}",
                    route.id
                )));
            }
            (None, true) => return Err(Failure::usage("give the route's id, or `id` in the file")),
            _ => {}
        }
        if let Some(t) = self.throttle {
            route.throttle = t;
        }
        if let Some(r) = self.repeat_interval {
            route.repeat_interval = r;
        }
        if let Some(g) = &self.grouping {
            route.grouping = if g == "alert" {
                Grouping::Alert
            } else {
                Grouping::Group
            };
        }
        Ok(route)
    }
}

/// A route as printed: the document (durations as `5m`) and what the
/// registry adds.
fn route_json(route: &v1::Route) -> Value {
    let mut value = match RouteDocument::from_proto(route) {
        Ok(doc) => serde_json::to_value(doc).expect("a route serializes"),
        // The registry sent what it would not accept: show it as it came.
        Err(_) => json!({"id": route.id, "name": route.name}),
    };
    let object = value.as_object_mut().expect("an object");
    object.insert("preconfigured".into(), route.preconfigured.into());
    object.insert("version".into(), route.version.into());
    object.insert("actions_count".into(), route.actions.len().into());
    value
}

pub async fn run(g: &Global, command: Command) -> Result<(), Failure> {
    let mut routes = client::routes(g).await?;
    match command {
        Command::Put(args) => {
            let route = args.document()?;
            let saved = routes
                .put_route(v1::PutRouteRequest {
                    route: Some(route.to_proto()),
                })
                .await
                .map_err(|s| {
                    let f = Failure::from(s);
                    Failure {
                        message: format!("route {}: {}", route.id, f.message),
                        ..f
                    }
                })?
                .into_inner();
            output::object(g.output, &route_json(&saved));
        }
        Command::Get { id } => {
            let route = routes
                .get_route(v1::GetRouteRequest { id })
                .await?
                .into_inner();
            output::object(g.output, &route_json(&route));
        }
        Command::List => {
            let mut rows = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = routes
                    .list_routes(v1::ListRoutesRequest {
                        page_size: 1000,
                        page_token,
                    })
                    .await?
                    .into_inner();
                rows.extend(page.routes.iter().map(route_json));
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            output::list(
                g.output,
                &rows,
                &[
                    "id",
                    "name",
                    "actions_count",
                    "throttle",
                    "repeat_interval",
                    "grouping",
                    "preconfigured",
                    "version",
                ],
            );
        }
        Command::Delete { id } => {
            routes
                .delete_route(v1::DeleteRouteRequest {
                    id: id.clone(),
                    version: 0,
                })
                .await?;
            output::object(g.output, &json!({"deleted": id}));
        }
    }
    Ok(())
}
