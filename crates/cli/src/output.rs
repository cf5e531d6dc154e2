//! Printing: every command builds JSON values; `--output json` prints them as
//! they are, `--output table` as aligned columns or `key: value` lines.

use herald_proto::json::opt_struct_to_json;
use herald_proto::v1;
use serde_json::{Value, json};

use crate::Format;

pub fn ts(t: Option<&prost_types::Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

pub fn account(a: &v1::Account) -> Value {
    json!({
        "id": a.id,
        "connector_type": a.connector_type,
        "name": a.name,
        "config": opt_struct_to_json(a.config.as_ref()),
        "secret_fields": a.secret_fields,
        "preconfigured": a.preconfigured,
        "config_hidden": a.config_hidden,
        "version": a.version,
        "created_at": ts(a.created_at.as_ref()),
        "updated_at": ts(a.updated_at.as_ref()),
    })
}

/// A value as one table cell: strings bare, the rest as compact JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// A list: JSON array, or a table of `columns` (keys of each row object).
pub fn list(format: Format, rows: &[Value], columns: &[&str]) {
    match format {
        Format::Json => println!("{}", Value::Array(rows.to_vec())),
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| columns.iter().map(|c| cell(&r[*c])).collect())
                .collect();
            let header: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
            table(&header, &cells);
        }
    }
}

pub fn table(header: &[String], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header);
    for row in rows {
        line(row);
    }
}

/// One object: JSON, or `key: value` lines in the object's order.
pub fn object(format: Format, value: &Value) {
    match format {
        Format::Json => println!("{value}"),
        Format::Table => {
            if let Some(map) = value.as_object() {
                let width = map.keys().map(String::len).max().unwrap_or(0) + 1;
                for (k, v) in map {
                    let key = format!("{k}:");
                    println!("{key:<width$} {}", cell(v));
                }
            }
        }
    }
}
