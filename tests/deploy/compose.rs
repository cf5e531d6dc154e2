//! docker-compose.yml against the code and the Dockerfile.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml_ng::Value;

use crate::model::{self, Container};
use crate::{SERVICE_BINARIES, root, variables_the_code_reads, workspace_binaries};

/// Variables of the third-party images Compose runs (postgres).
const THIRD_PARTY: &[&str] = &["POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"];

/// `${NAME}` / `${NAME:?message}` references in a string.
fn interpolated(text: &str) -> Vec<String> {
    text.match_indices("${")
        .map(|(at, _)| {
            text[at + 2..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// The port of `http://127.0.0.1:PORT/...` in a health check command.
fn probed_port(test: &[String]) -> Option<u16> {
    test.iter().find_map(|arg| {
        let rest = arg.strip_prefix("http://127.0.0.1:")?;
        rest.split('/').next()?.parse().ok()
    })
}

fn as_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

#[test]
fn compose_names_only_binaries_ports_and_variables_that_exist() {
    let path = root().join("docker-compose.yml");
    let compose = model::yaml_documents(&path).remove(0);
    let services = compose["services"].as_mapping().expect("services");
    let binaries = workspace_binaries();
    let known = variables_the_code_reads();
    let (generated, _) = crate::generated_secrets();
    let text = std::fs::read_to_string(&path).unwrap();
    for name in interpolated(&text) {
        assert!(
            generated.contains_key(&name),
            "docker-compose.yml: ${{{name}}} is not in the .env that deploy/generate-secrets.sh writes"
        );
    }

    let mut running = BTreeSet::new();
    for (name, service) in services {
        let name = name.as_str().unwrap();
        let at = format!("docker-compose.yml {name}");
        for (dependency, how) in service["depends_on"].as_mapping().into_iter().flatten() {
            let dependency = &services[dependency];
            assert!(
                !dependency.is_null(),
                "{at}: depends on a service that does not exist"
            );
            if how["condition"] == "service_healthy" {
                assert!(
                    !dependency["healthcheck"].is_null(),
                    "{at}: waits for a service without a health check"
                );
            }
        }
        for volume in model::str_list(&service["volumes"]) {
            if let Some(host) = volume.strip_prefix("./") {
                let host = host.split(':').next().unwrap();
                assert!(
                    root().join(host).exists(),
                    "{at}: mounts {host}, which does not exist"
                );
            }
        }
        let env: BTreeMap<String, Option<String>> = service["environment"]
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str().unwrap().to_owned(), Some(as_string(v))))
            .collect();
        if service["image"] != "herald:local" {
            for var in env.keys() {
                assert!(
                    THIRD_PARTY.contains(&var.as_str()),
                    "{at}: sets {var}, unknown to its image"
                );
            }
            continue;
        }
        assert_eq!(
            service["build"], ".",
            "{at}: built from the top-level Dockerfile"
        );
        let command = match model::str_list(&service["entrypoint"]) {
            entrypoint if !entrypoint.is_empty() => entrypoint,
            _ => model::str_list(&service["command"]),
        };
        let container = Container {
            place: at.clone(),
            binary: command[0].clone(),
            env,
        };
        let listeners = container.check(&binaries, &known);
        let ports = model::port_set(&listeners);
        running.insert(container.binary.clone());
        if container.binary == "heraldctl" {
            continue;
        }
        let probe = probed_port(&model::str_list(&service["healthcheck"]["test"]))
            .unwrap_or_else(|| panic!("{at}: a health check on http://127.0.0.1:PORT/readyz"));
        assert!(
            ports.contains(&probe),
            "{at}: the health check probes {probe}, where nothing listens"
        );
        for published in model::str_list(&service["ports"]) {
            let inner: u16 = published.rsplit(':').next().unwrap().parse().unwrap();
            assert!(
                ports.contains(&inner),
                "{at}: publishes {inner}, where nothing listens"
            );
        }
        if model::is_worker(&container.binary) {
            let stop = service["stop_grace_period"].as_str().unwrap_or("10s");
            let stop = herald_config::parse_duration(stop).unwrap();
            let grace = model::worker_grace(&container.binary, &container.env);
            assert!(
                stop > grace,
                "{at}: stop_grace_period {stop:?} must exceed the {grace:?} drain"
            );
        }
    }
    for binary in SERVICE_BINARIES {
        assert!(
            running.contains(*binary),
            "docker-compose.yml runs no {binary}"
        );
    }
}
