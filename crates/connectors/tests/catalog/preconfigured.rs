//! Every example of Kibana's preconfigured-connectors page validates, and
//! together they cover the catalog (`tests/fixtures/kibana/README.md`).

use std::collections::BTreeSet;

use herald_catalog::Policy;
use herald_connectors::catalog;
use serde_json::Value;

/// Each fixture file's name and its `xpack.actions.preconfigured` entries.
fn kibana_examples() -> Vec<(String, serde_json::Map<String, Value>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kibana");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let doc: Value = serde_yaml_ng::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let entries = doc["xpack.actions.preconfigured"]
                .as_object()
                .unwrap_or_else(|| panic!("{}: no entries", path.display()))
                .clone();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                entries,
            )
        })
        .collect()
}

#[test]
fn every_kibana_example_is_a_valid_account() {
    let examples = kibana_examples();
    // One file per code block of the page.
    assert_eq!(examples.len(), 32);
    let mut covered = BTreeSet::new();
    // `.index` defaults to a local Elasticsearch, which `*` alone does not
    // cover (the registry test shows the refusal).
    let policy = Policy {
        allowed_hosts: vec!["*".into(), "localhost".into()],
        ..Policy::default()
    };
    for (file, entries) in &examples {
        for (id, example) in entries {
            let type_id = example["actionTypeId"].as_str().expect("actionTypeId");
            let spec = catalog()
                .get(type_id)
                .unwrap_or_else(|| panic!("{file}: {id}: unknown type {type_id}"));
            let config = example.get("config").cloned().unwrap_or(Value::Null);
            let secrets = example.get("secrets").cloned().unwrap_or(Value::Null);
            if let Err(violations) = spec.validate_account(&config, &secrets, &policy) {
                panic!("{file}: {id} ({type_id}): {violations}");
            }
            covered.insert(spec.id);
        }
    }
    // The page has an example of every type but TheHive.
    let all: BTreeSet<&str> = catalog()
        .all()
        .iter()
        .map(|s| s.id)
        .filter(|id| *id != "thehive")
        .collect();
    assert_eq!(covered, all);
}
