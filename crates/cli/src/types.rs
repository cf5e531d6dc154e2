//! `heraldctl types`: every connector type from `ListConnectorTypes`, with
//! its config, secrets and params fields (required ones end in `*`).

use herald_proto::json::opt_struct_to_json;
use herald_proto::v1;
use serde_json::{Map, Value, json};

use crate::client::{self, Failure};
use crate::{Format, Global};

/// The property names of a JSON Schema object, `*` after required ones.
fn fields(schema: &Map<String, Value>) -> Vec<String> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| {
            p.keys()
                .map(|k| {
                    if required.contains(&k.as_str()) {
                        format!("{k}*")
                    } else {
                        k.clone()
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn run(g: &Global) -> Result<(), Failure> {
    let types = client::registry(g)
        .await?
        .list_connector_types(v1::ListConnectorTypesRequest {})
        .await?
        .into_inner()
        .connector_types;
    match g.output {
        Format::Json => {
            let rows: Vec<Value> = types
                .iter()
                .map(|t| {
                    json!({
                        "id": t.id, "name": t.name, "worker": t.worker, "enabled": t.enabled,
                        "secret_fields": t.secret_fields,
                        "config_schema": opt_struct_to_json(t.config_schema.as_ref()),
                        "secrets_schema": opt_struct_to_json(t.secrets_schema.as_ref()),
                        "params_schema": opt_struct_to_json(t.params_schema.as_ref()),
                    })
                })
                .collect();
            println!("{}", Value::Array(rows));
        }
        Format::Table => {
            for t in &types {
                let config = fields(&opt_struct_to_json(t.config_schema.as_ref()));
                let secrets = fields(&opt_struct_to_json(t.secrets_schema.as_ref()));
                let params = fields(&opt_struct_to_json(t.params_schema.as_ref()));
                println!(
                    "{} ({}, {}{})",
                    t.id,
                    t.name,
                    t.worker,
                    if t.enabled {
                        ""
                    } else {
                        ", disabled by policy"
                    }
                );
                for (label, list) in [
                    ("config", config),
                    ("secrets (secret)", secrets),
                    ("params", params),
                ] {
                    if !list.is_empty() {
                        println!("  {label:<17} {}", list.join(", "));
                    }
                }
            }
            println!("\n* required");
        }
    }
    Ok(())
}
