//! Every example of Kibana's preconfigured-connectors page validates.

use std::collections::BTreeSet;

use herald_catalog::Policy;
use herald_connectors::catalog;
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/kibana_preconfigured.yaml");

#[test]
fn every_kibana_example_is_a_valid_account() {
    let examples: Value = serde_yaml_ng::from_str(FIXTURE).expect("fixture is YAML");
    let examples = examples.as_object().expect("a map of connector ids");
    let mut covered = BTreeSet::new();
    // `.index` defaults to a local Elasticsearch, which `*` alone does not
    // cover.
    let policy = Policy {
        allowed_hosts: vec!["*".into(), "localhost".into()],
        ..Policy::default()
    };
    for (id, example) in examples {
        let type_id = example["actionTypeId"].as_str().expect("actionTypeId");
        let spec = catalog()
            .get(type_id)
            .unwrap_or_else(|| panic!("{id}: unknown type {type_id}"));
        let config = example.get("config").cloned().unwrap_or(Value::Null);
        let secrets = example.get("secrets").cloned().unwrap_or(Value::Null);
        if let Err(violations) = spec.validate_account(&config, &secrets, &policy) {
            panic!("{id} ({type_id}): {violations}");
        }
        covered.insert(spec.id);
    }
    // The page has an example of every type but TheHive.
    let all: BTreeSet<&str> = catalog()
        .all()
        .iter()
        .map(|s| s.id)
        // The fixture predates gen-ai; its `.gen-ai` example is not in it yet.
        .filter(|id| !matches!(*id, "thehive" | "gen-ai"))
        .collect();
    assert_eq!(covered, all);
}
