//! `heraldctl import`: Search Guard Signals account documents and Kibana's
//! `xpack.actions.preconfigured` become Herald accounts. Every field is
//! either translated (and said so) or reported as not translated; a document
//! missing something Herald needs is not imported, never completed by a guess.

use clap::Subcommand;
use herald_catalog::account;
use herald_proto::v1;
use serde_json::{Map, Value, json};

use crate::accounts::AccountDoc;
use crate::client::{self, Failure};
use crate::{Format, Global, output};

#[derive(Subcommand)]
pub enum Command {
    /// Signals account documents (every type whose spec maps Signals'), as
    /// the GET API returns them (`_id`, `_source`) or bare (id = file name).
    Signals {
        #[arg(required = true)]
        files: Vec<String>,
        /// Print the accounts instead of writing them.
        #[arg(long)]
        dry_run: bool,
        /// Sets a config field on every imported account of a type, for what
        /// Signals keeps elsewhere (in each watch); a refused document says
        /// which. The value is JSON, or else a string.
        #[arg(long = "config", value_name = "TYPE.KEY=VALUE", value_parser = parse_set)]
        set: Vec<Set>,
    },
    /// Kibana's `xpack.actions.preconfigured` (a kibana.yml or just that
    /// section); its other `xpack.actions` settings are reported with where
    /// HERALD_CONFIG takes them.
    Kibana {
        file: String,
        #[arg(long)]
        dry_run: bool,
    },
}

/// The result of a Kibana setting that goes to HERALD_CONFIG, not the registry.
const SETTING: &str = "HERALD_CONFIG setting";

/// One source document and what became of it.
struct Item {
    source: String,
    account: Result<AccountDoc, String>,
    /// A Kibana setting that is not an account: where HERALD_CONFIG takes it.
    setting: Option<String>,
    translated: Vec<String>,
    not_translated: Vec<String>,
}

impl Item {
    fn new(source: String) -> Item {
        Item {
            source,
            account: Err(String::new()),
            setting: None,
            translated: Vec::new(),
            not_translated: Vec::new(),
        }
    }
}

pub async fn run(g: &Global, command: Command) -> Result<(), Failure> {
    let (items, dry_run) = match command {
        Command::Signals {
            files,
            dry_run,
            set,
        } => {
            let mut items = Vec::new();
            for file in &files {
                items.extend(signals_file(file, &set)?);
            }
            (items, dry_run)
        }
        Command::Kibana { file, dry_run } => (kibana_file(&file)?, dry_run),
    };
    let outcomes = if dry_run {
        items
            .iter()
            .map(|i| match &i.account {
                _ if i.setting.is_some() => Ok(SETTING.to_owned()),
                Ok(doc) => check_account(doc).map(|()| "would import".to_owned()),
                Err(e) => Err(e.clone()),
            })
            .collect()
    } else {
        put_all(g, &items).await?
    };
    report(g.output, &items, &outcomes, dry_run);
    let failed = outcomes.iter().filter(|o| o.is_err()).count();
    if failed > 0 {
        return Err(Failure::usage(format!(
            "{failed} of {} document(s) not imported; see the report",
            items.len()
        )));
    }
    Ok(())
}

async fn put_all(g: &Global, items: &[Item]) -> Result<Vec<Result<String, String>>, Failure> {
    let mut registry = client::registry(g).await?;
    let bar = indicatif::ProgressBar::new(items.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("importing {bar:40} {pos}/{len}")
            .expect("template"),
    );
    let mut outcomes = Vec::new();
    for item in items {
        let outcome = match &item.account {
            _ if item.setting.is_some() => Ok(SETTING.to_owned()),
            Err(e) => Err(e.clone()),
            Ok(doc) => match registry
                .put_account(v1::PutAccountRequest {
                    account: Some(doc.to_proto()),
                })
                .await
            {
                Ok(_) => Ok("imported".to_owned()),
                // Unreachable or refused token: stop, nothing else would work.
                Err(s) if Failure::from(s.clone()).exit == crate::Exit::Herald => {
                    return Err(s.into());
                }
                Err(s) => Err(format!("refused by the registry: {}", s.message())),
            },
        };
        outcomes.push(outcome);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(outcomes)
}

fn report(format: Format, items: &[Item], outcomes: &[Result<String, String>], dry_run: bool) {
    let rows: Vec<Value> = items
        .iter()
        .zip(outcomes)
        .map(|(item, outcome)| {
            let mut row = json!({
                "source": item.source,
                "result": match outcome { Ok(s) => s.clone(), Err(_) => "not imported".into() },
                "error": outcome.as_ref().err(),
                "translated": item.translated,
                "not_translated": item.not_translated,
            });
            if let Some(note) = &item.setting {
                row["herald_config"] = note.clone().into();
            }
            if let Ok(doc) = &item.account {
                row["id"] = doc.id.clone().into();
                row["connector_type"] = doc.connector_type.clone().into();
                if dry_run {
                    row["account"] = doc.redacted();
                }
            }
            row
        })
        .collect();
    match format {
        Format::Json => println!("{}", Value::Array(rows)),
        Format::Table => {
            for row in &rows {
                println!(
                    "{}: {} {} -> {}",
                    output::cell(&row["source"]),
                    output::cell(&row["connector_type"]),
                    output::cell(&row["id"]),
                    output::cell(&row["result"]),
                );
                for (label, key) in [
                    ("HERALD_CONFIG", "herald_config"),
                    ("error", "error"),
                    ("translated", "translated"),
                    ("not translated", "not_translated"),
                ] {
                    if let Some(list) = row[key].as_array() {
                        for entry in list {
                            println!("  {label}: {}", output::cell(entry));
                        }
                    } else if !row[key].is_null() {
                        println!("  {label}: {}", output::cell(&row[key]));
                    }
                }
                if dry_run && !row["account"].is_null() {
                    println!("  account: {}", row["account"]);
                }
            }
        }
    }
}

/// The registry's own checks of an account (its type's schemas and rules),
/// so that a dry run says what the registry would refuse. Hosts are checked
/// against the default policy (any public host); a registry whose
/// `allowed_hosts` is narrower refuses more.
fn check_account(doc: &AccountDoc) -> Result<(), String> {
    let Some(spec) = herald_connectors::catalog().get(&doc.connector_type) else {
        return Err(format!(
            "connector_type: unknown type {}",
            doc.connector_type
        ));
    };
    spec.validate_account(
        &Value::Object(doc.config.clone()),
        &Value::Object(doc.secrets.clone()),
        &herald_catalog::Policy::default(),
    )
    .map_err(|violations| format!("the registry would refuse it: {violations}"))
}

/// Herald's id rule, checked before writing, with a hint for the operator.
fn check_id(id: &str) -> Result<(), String> {
    match account::AccountId::parse(id) {
        Ok(_) => Ok(()),
        Err(_) => Err(format!(
            "id {id:?}: Herald ids match {}; rename it",
            account::ID_RULE
        )),
    }
}

// --- Search Guard Signals --------------------------------------------------

/// `--config TYPE.KEY=VALUE`.
#[derive(Debug, Clone)]
pub struct Set {
    connector_type: String,
    key: String,
    value: Value,
}

fn parse_set(text: &str) -> Result<Set, String> {
    let (path, value) = text.split_once('=').ok_or("expected TYPE.KEY=VALUE")?;
    let (connector_type, key) = path
        .split_once('.')
        .filter(|(t, k)| !t.is_empty() && !k.is_empty())
        .ok_or("expected TYPE.KEY before '='")?;
    if herald_connectors::catalog().get(connector_type).is_none() {
        return Err(format!("{connector_type}: not a connector type"));
    }
    Ok(Set {
        connector_type: connector_type.trim_start_matches('.').to_owned(),
        key: key.to_owned(),
        value: serde_json::from_str(value).unwrap_or_else(|_| value.into()),
    })
}

fn signals_file(path: &str, set: &[Set]) -> Result<Vec<Item>, Failure> {
    let docs = match client::read_document(path)? {
        Value::Array(docs) => docs,
        doc => vec![doc],
    };
    let many = docs.len() > 1;
    Ok(docs
        .into_iter()
        .enumerate()
        .map(|(i, doc)| {
            let source = if many {
                format!("{path}[{i}]")
            } else {
                path.to_owned()
            };
            let mut item = Item::new(source);
            item.account = signals_account(path, doc, set, &mut item);
            item
        })
        .collect())
}

/// The types Signals has, as the catalog's specs declare them.
fn signals_types() -> String {
    let types: Vec<&str> = herald_connectors::catalog()
        .all()
        .iter()
        .filter(|spec| spec.extras.signals.is_some())
        .map(|spec| spec.id)
        .collect();
    types.join(", ")
}

fn signals_account(
    path: &str,
    doc: Value,
    set: &[Set],
    item: &mut Item,
) -> Result<AccountDoc, String> {
    let Value::Object(mut doc) = doc else {
        return Err("not an object".into());
    };
    // The GET API's envelope: {_id, found, _version, ..., _source: {...}}.
    let (id, id_type, mut source) = match doc.remove("_source") {
        Some(Value::Object(source)) => {
            let stored = doc.get("_id").and_then(Value::as_str).unwrap_or_default();
            // Stored ids are `<type>/<id>`.
            match stored.rsplit_once('/') {
                Some((t, id)) => (id.to_owned(), Some(t.to_owned()), source),
                None => (stored.to_owned(), None, source),
            }
        }
        Some(_) => return Err("_source: not an object".into()),
        None => (client::file_stem(path), None, doc),
    };
    if id.is_empty() {
        return Err("_id: missing".into());
    }
    check_id(&id)?;
    let connector_type = match (source.remove("type"), id_type) {
        (Some(Value::String(t)), Some(from_id)) if t != from_id => {
            return Err(format!("type: {t} is not the type {from_id} its _id names"));
        }
        (Some(Value::String(t)), _) => t,
        (None, Some(from_id)) => {
            item.translated.push(format!("_id -> type {from_id}"));
            from_id
        }
        _ => return Err(format!("type: missing ({})", signals_types())),
    };
    let spec = herald_connectors::catalog().get(&connector_type);
    let Some((spec, mapping)) = spec.and_then(|spec| Some((spec, spec.extras.signals?))) else {
        return Err(format!(
            "type {connector_type}: not a Signals account type ({})",
            signals_types()
        ));
    };
    let set: Vec<(String, Value)> = set
        .iter()
        .filter(|s| s.connector_type == spec.id)
        .map(|s| (s.key.clone(), s.value.clone()))
        .collect();
    let translation = mapping.translate(source, &set);
    item.translated.extend(translation.translated);
    item.not_translated.extend(translation.not_translated);
    if !translation.refused.is_empty() {
        return Err(format!(
            "cannot be translated: {}",
            translation.refused.join("; ")
        ));
    }
    Ok(AccountDoc {
        id,
        connector_type: spec.id.to_owned(),
        name: None,
        config: translation.config,
        secrets: translation.secrets,
        config_hidden: false,
    })
}

// --- Kibana ------------------------------------------------------------------

/// `xpack.actions.preconfigured` as a dotted key, nested maps, or alone.
fn preconfigured_section(doc: &Value) -> Option<&Map<String, Value>> {
    [
        doc.get("xpack.actions.preconfigured"),
        doc.get("xpack")
            .and_then(|x| x.get("actions"))
            .and_then(|a| a.get("preconfigured")),
        doc.get("xpack.actions")
            .and_then(|a| a.get("preconfigured")),
        doc.get("xpack")
            .and_then(|x| x.get("actions.preconfigured")),
        doc.get("preconfigured"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_object)
}

fn kibana_file(path: &str) -> Result<Vec<Item>, Failure> {
    let doc = client::read_document(path)?;
    let mut items = Vec::new();
    if let Some(section) = preconfigured_section(&doc) {
        for (id, entry) in section {
            let mut item = Item::new(format!("{path}: {id}"));
            item.account = kibana_account(id, entry, &mut item);
            items.push(item);
        }
    }
    if let Value::Object(top) = &doc {
        for (key, value) in top {
            kibana_settings(path, key, value, &doc, &mut items);
        }
    }
    if items.is_empty() {
        return Err(Failure::usage(format!(
            "{path}: no xpack.actions.preconfigured section and no xpack.actions setting"
        )));
    }
    Ok(items)
}

/// Kibana's other `xpack.actions` settings (and `server.publicBaseUrl`), a
/// row each: where HERALD_CONFIG takes it (it accepts the Kibana key as
/// written), or that Herald has no such setting. The registry's policy is
/// not changed by an import. Other keys of a kibana.yml are not Herald's.
fn kibana_settings(path: &str, key: &str, value: &Value, doc: &Value, items: &mut Vec<Item>) {
    if key == "xpack.actions.preconfigured" || key == "preconfigured" {
        return;
    }
    if let Some(herald) = herald_config::kibana::herald_path(key) {
        let mut item = Item::new(format!("{path}: {key}"));
        item.setting = Some(match (key, value) {
            ("xpack.actions.preconfiguredAlertHistoryEsIndex", Value::Bool(true)) => format!(
                "the read-only account {}: set `xpack.actions.preconfiguredAlertHistoryEsIndex: true` or `preconfigured_alert_history: {{ url: {} }}` in HERALD_CONFIG (its Elasticsearch URL; Kibana writes to its own)",
                herald_config::ALERT_HISTORY_ID,
                elasticsearch_host(doc).unwrap_or("<your Elasticsearch URL>")
            ),
            _ => format!("{key} (or {herald}) in HERALD_CONFIG, as written here"),
        });
        items.push(item);
        return;
    }
    match value {
        Value::Object(children)
            if herald_config::kibana::is_prefix(key) || key == "xpack.actions" =>
        {
            for (child, value) in children {
                kibana_settings(path, &format!("{key}.{child}"), value, doc, items);
            }
        }
        _ if key.starts_with("xpack.actions.") => {
            let mut item = Item::new(format!("{path}: {key}"));
            item.setting = Some(format!("{key}: not a setting Herald has; left out"));
            item.not_translated.push(key.to_owned());
            items.push(item);
        }
        _ => {}
    }
}

/// The first of `elasticsearch.hosts`, which Kibana's alert history writes to.
fn elasticsearch_host(doc: &Value) -> Option<&str> {
    let hosts = doc
        .get("elasticsearch.hosts")
        .or_else(|| doc.get("elasticsearch").and_then(|e| e.get("hosts")))?;
    match hosts {
        Value::String(host) => Some(host),
        Value::Array(hosts) => hosts.first()?.as_str(),
        _ => None,
    }
}

/// One entry, checked by the same parser that reads HERALD_CONFIG's
/// preconfigured accounts (types, unknown keys, `${ENV}` secrets).
fn kibana_account(id: &str, entry: &Value, item: &mut Item) -> Result<AccountDoc, String> {
    check_id(id)?;
    let text = json!({ "preconfigured": { id: entry } }).to_string();
    let config = herald_config::parse(&text, &|name| std::env::var(name).ok()).map_err(
        |(field, message)| format!("{}: {message}", field.trim_start_matches("preconfigured.")),
    )?;
    let account = config
        .preconfigured
        .into_iter()
        .next()
        .ok_or("empty entry")?;
    item.translated.push(format!(
        "actionTypeId -> connector_type {}",
        account.connector_type
    ));
    item.translated.push("name -> name".into());
    for key in account.config.keys() {
        item.translated
            .push(format!("config.{key} -> config.{key}"));
    }
    for key in account.secrets.keys() {
        item.translated
            .push(format!("secrets.{key} -> secrets.{key}"));
    }
    // Kibana's default for a preconfigured connector is to hide its config.
    item.translated.push(format!(
        "exposeConfig {} -> config_hidden {}",
        account.expose_config, !account.expose_config
    ));
    Ok(AccountDoc {
        id: account.id.into_string(),
        connector_type: account.connector_type,
        name: Some(account.name),
        config: account.config,
        secrets: account.secrets.0,
        config_hidden: !account.expose_config,
    })
}

#[cfg(test)]
mod tests {
    mod fuzz;
    mod signals;
}
