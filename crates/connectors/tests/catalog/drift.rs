//! What a connector's schemas accept and what its worker reads must be the
//! same documents. For every connector, samples built
//! from each schema (every property given, each `oneOf` branch in turn,
//! each optional property left out and set to null) must be accepted by
//! both the schema and the worker's reader, and an unknown property,
//! anywhere a schema closes its object, refused by both.

use herald_catalog::schema::validate;
use herald_catalog::{Reader, Violations};
use serde_json::{Map, Value, json};

use super::catalog;

#[test]
fn schemas_and_workers_accept_the_same_documents() {
    for spec in catalog().all() {
        let readers = spec.readers;
        for (document, schema, reader) in [
            ("config", &spec.config_schema, readers.config),
            ("secrets", &spec.secrets_schema, readers.secrets),
            ("params", &spec.params_schema, readers.params),
        ] {
            let at = format!("{} {document}", spec.id);
            for sample in samples(schema) {
                agree(&at, schema, reader, &sample, true);
                for closed in closed_objects(schema, &sample, "") {
                    let mut with_unknown = sample.clone();
                    insert_at(&mut with_unknown, &closed, "unknownField", json!("x"));
                    agree(
                        &format!("{at} (unknown field at {closed:?})"),
                        schema,
                        reader,
                        &with_unknown,
                        false,
                    );
                }
            }
        }
    }
}

/// Both accept `sample`, or both refuse it.
fn agree(at: &str, schema: &Value, reader: Reader, sample: &Value, accepted: bool) {
    let mut violations = Violations::new();
    validate(schema, sample, "", &mut violations);
    assert_eq!(
        violations.is_empty(),
        accepted,
        "{at}: the schema {} {sample}: {violations}",
        if accepted { "refuses" } else { "accepts" }
    );
    let read = reader(sample.as_object().expect("samples are objects"));
    assert_eq!(
        read.is_ok(),
        accepted,
        "{at}: the worker {} {sample}: {read:?}",
        if accepted { "refuses" } else { "accepts" }
    );
}

/// Documents the schema accepts: every property given, then each optional
/// property left out and set to null, for each `oneOf` branch.
fn samples(schema: &Value) -> Vec<Value> {
    let branches: Vec<&Value> = match schema.get("oneOf").and_then(Value::as_array) {
        Some(branches) => branches.iter().collect(),
        None => vec![schema],
    };
    let mut out = Vec::new();
    for branch in branches {
        let full = sample(branch);
        out.push(full.clone());
        let required = required(branch);
        if let Some(properties) = branch.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                if required.contains(&name.as_str()) {
                    continue;
                }
                let mut without = full.clone();
                without.as_object_mut().unwrap().remove(name);
                out.push(without);
                if types(property).contains(&"null") {
                    let mut null = full.clone();
                    null[name] = Value::Null;
                    out.push(null);
                }
            }
        }
    }
    out
}

fn required(schema: &Value) -> Vec<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// One value the schema accepts, every property given.
fn sample(schema: &Value) -> Value {
    if let Some(example) = schema
        .get("examples")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return example.clone();
    }
    assert!(
        schema.get("pattern").is_none(),
        "a field with a pattern needs `examples` for this test: {schema}"
    );
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|options| options.iter().find(|option| !option.is_null()))
    {
        return first.clone();
    }
    if let Some(branch) = schema
        .get("oneOf")
        .and_then(Value::as_array)
        .and_then(|b| b.first())
    {
        return sample(branch);
    }
    let kind = types(schema)
        .into_iter()
        .find(|kind| *kind != "null")
        .unwrap_or(if schema.get("properties").is_some() {
            "object"
        } else {
            "string"
        });
    match kind {
        "object" => {
            let mut object = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    object.insert(name.clone(), sample(property));
                }
            }
            Value::Object(object)
        }
        "array" => match schema.get("items") {
            Some(items) => json!([sample(items)]),
            None => json!([]),
        },
        "integer" => schema.get("minimum").cloned().unwrap_or(json!(1)),
        "number" => schema.get("minimum").cloned().unwrap_or(json!(1.5)),
        "boolean" => json!(true),
        _ => match schema.get("format").and_then(Value::as_str) {
            Some("uri") => json!("https://vendor.example.com/api"),
            Some("date-time") => json!("2026-05-01T12:00:00Z"),
            Some("mailbox" | "email") => json!("ops@example.com"),
            Some("hostname") => json!("mail.example.com"),
            _ => {
                let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(1);
                json!("x".repeat(min.max(1) as usize))
            }
        },
    }
}

/// JSON pointers of the objects inside `value` whose schema refuses
/// unknown properties.
fn closed_objects(schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    let schema = match schema.get("oneOf").and_then(Value::as_array) {
        // The branch `value` was made from: the one whose consts it holds.
        Some(branches) => match branches.iter().find(|b| {
            b.get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| {
                    p.iter()
                        .all(|(name, property)| match property.get("const") {
                            Some(expected) => value.get(name) == Some(expected),
                            None => true,
                        })
                })
        }) {
            Some(branch) => branch,
            None => return out,
        },
        None => schema,
    };
    match value {
        Value::Object(object) => {
            if schema.get("additionalProperties") == Some(&json!(false)) {
                out.push(at.to_owned());
            }
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, child) in object {
                    if let Some(property) = properties.get(name) {
                        out.extend(closed_objects(property, child, &format!("{at}/{name}")));
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    out.extend(closed_objects(item_schema, item, &format!("{at}/{i}")));
                }
            }
        }
        _ => {}
    }
    out
}

fn insert_at(value: &mut Value, pointer: &str, name: &str, field: Value) {
    let target = value
        .pointer_mut(pointer)
        .expect("the pointer was found in this value");
    target
        .as_object_mut()
        .expect("closed objects are objects")
        .insert(name.to_owned(), field);
}
