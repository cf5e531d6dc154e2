//! deploy/kubernetes against the code: the kustomizations' file lists, the
//! Deployments' binaries, variables, ports and probes, the Services, PDBs and
//! autoscalers' targets, and KEDA's streams and consumers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml_ng::Value;

use crate::model::{self, Container};
use crate::{root, variables_the_code_reads, workspace_binaries};

fn kube_dir() -> PathBuf {
    root().join("deploy/kubernetes")
}

pub struct Manifest {
    pub file: PathBuf,
    pub value: Value,
}

impl Manifest {
    pub fn kind(&self) -> &str {
        self.value["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no kind", self.file.display()))
    }

    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap()
    }
}

fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            found.push(path);
        }
    }
}

/// Follows every kustomization's `resources` and `components`, checking that
/// what they name exists; returns the manifest files and the generators'
/// input files reached.
fn kustomize_tree() -> (BTreeSet<PathBuf>, BTreeSet<PathBuf>) {
    let mut manifests = BTreeSet::new();
    let mut inputs = BTreeSet::new();
    let mut pending = vec![kube_dir().join("overlays/example"), kube_dir().join("base")];
    let mut seen = BTreeSet::new();
    while let Some(dir) = pending.pop() {
        let dir = dir
            .canonicalize()
            .unwrap_or_else(|_| panic!("{} does not exist", dir.display()));
        if !seen.insert(dir.clone()) {
            continue;
        }
        let file = dir.join("kustomization.yaml");
        assert!(file.exists(), "{}: no kustomization.yaml", dir.display());
        let k = model::yaml_documents(&file).remove(0);
        for entry in model::str_list(&k["resources"])
            .into_iter()
            .chain(model::str_list(&k["components"]))
        {
            let path = dir.join(&entry);
            if path.is_dir() {
                pending.push(path);
            } else {
                assert!(
                    path.is_file(),
                    "{}: lists {entry}, which does not exist",
                    file.display()
                );
                manifests.insert(path.canonicalize().unwrap());
            }
        }
        let generators = k["configMapGenerator"].as_sequence().into_iter().flatten();
        for generator in generators.chain(k["secretGenerator"].as_sequence().into_iter().flatten())
        {
            for input in model::str_list(&generator["files"])
                .into_iter()
                .chain(model::str_list(&generator["envs"]))
            {
                let path = dir.join(&input);
                // secrets.env is made by the user (generate-secrets.sh); its
                // committed example stands in for it.
                let example = dir.join(format!("{input}.example"));
                assert!(
                    path.is_file() || example.is_file(),
                    "{}: generator input {input} (or {input}.example) does not exist",
                    file.display()
                );
                inputs.insert(
                    if path.is_file() { path } else { example }
                        .canonicalize()
                        .unwrap(),
                );
            }
        }
    }
    (manifests, inputs)
}

pub fn manifests() -> Vec<Manifest> {
    let (files, _) = kustomize_tree();
    files
        .into_iter()
        .flat_map(|file| {
            model::yaml_documents(&file)
                .into_iter()
                .map(move |value| Manifest {
                    file: file.clone(),
                    value,
                })
        })
        .collect()
}

/// base/herald.env: the settings every container reads (ConfigMap herald-env).
pub fn herald_env() -> BTreeMap<String, String> {
    model::env_file(&std::fs::read_to_string(kube_dir().join("base/herald.env")).unwrap())
}

#[test]
fn kustomizations_list_every_manifest_and_only_existing_files() {
    let (manifests, inputs) = kustomize_tree();
    let mut all = Vec::new();
    yaml_files(&kube_dir(), &mut all);
    for file in all {
        let file = file.canonicalize().unwrap();
        let parsed = model::yaml_documents(&file);
        assert!(!parsed.is_empty(), "{}: empty", file.display());
        let listed = file.ends_with("kustomization.yaml")
            || manifests.contains(&file)
            || inputs.contains(&file);
        assert!(listed, "{}: no kustomization lists it", file.display());
    }
}

#[test]
fn herald_yaml_is_a_configuration_the_binaries_accept() {
    let text = std::fs::read_to_string(kube_dir().join("base/herald.yaml")).unwrap();
    herald_config::parse(&text, &|_| None)
        .unwrap_or_else(|(field, message)| panic!("herald.yaml {field}: {message}"));
}

/// One Deployment's pod, as far as these checks need it.
struct Pod {
    labels: Value,
    /// containerPort by number and by name.
    ports: BTreeMap<String, u16>,
}

fn resolve(ports: &BTreeMap<String, u16>, port: &Value) -> Option<u16> {
    match port {
        Value::Number(n) => ports
            .values()
            .copied()
            .find(|p| Some(u64::from(*p)) == n.as_u64()),
        Value::String(name) => ports.get(name).copied(),
        _ => None,
    }
}

/// Checks every Deployment's containers and returns its pod by name.
fn deployments() -> BTreeMap<String, Pod> {
    let binaries = workspace_binaries();
    let known = variables_the_code_reads();
    let shared = herald_env();
    let secret_keys = model::env_file(
        &std::fs::read_to_string(kube_dir().join("overlays/example/secrets.env.example")).unwrap(),
    );
    let mut pods = BTreeMap::new();
    for m in manifests().into_iter().filter(|m| m.kind() == "Deployment") {
        let spec = &m.value["spec"]["template"]["spec"];
        let mut ports = BTreeMap::new();
        for c in spec["containers"].as_sequence().unwrap() {
            let at = format!(
                "{} {}/{}",
                m.file.display(),
                m.name(),
                c["name"].as_str().unwrap()
            );
            let mut env = BTreeMap::new();
            for from in c["envFrom"].as_sequence().into_iter().flatten() {
                assert_eq!(
                    from["configMapRef"]["name"], "herald-env",
                    "{at}: envFrom herald-env only"
                );
                env.extend(shared.iter().map(|(k, v)| (k.clone(), Some(v.clone()))));
            }
            for e in c["env"].as_sequence().into_iter().flatten() {
                let name = e["name"].as_str().unwrap().to_owned();
                let secret = &e["valueFrom"]["secretKeyRef"];
                if secret["name"] == "herald-secrets" {
                    let key = secret["key"].as_str().unwrap();
                    assert!(
                        secret_keys.contains_key(key),
                        "{at}: herald-secrets has no key {key}"
                    );
                }
                env.insert(name, e["value"].as_str().map(str::to_owned));
            }
            let command = model::str_list(&c["command"]);
            let container = Container {
                place: at.clone(),
                binary: command[0].clone(),
                env,
            };
            let listeners = container.check(&binaries, &known);
            let mut declared = BTreeMap::new();
            for p in c["ports"].as_sequence().into_iter().flatten() {
                let number = u16::try_from(p["containerPort"].as_u64().unwrap()).unwrap();
                let name = p["name"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| number.to_string());
                declared.insert(name, number);
            }
            let declared_set: BTreeSet<u16> = declared.values().copied().collect();
            assert_eq!(
                declared_set,
                model::port_set(&listeners),
                "{at}: containerPorts must be the ports its listen addresses ({listeners:?}) open"
            );
            for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
                let p = &c[probe];
                if p.is_null() {
                    continue;
                }
                let port = [
                    &p["httpGet"]["port"],
                    &p["grpc"]["port"],
                    &p["tcpSocket"]["port"],
                ]
                .into_iter()
                .find(|v| !v.is_null())
                .unwrap_or_else(|| panic!("{at}: {probe} has no port"));
                assert!(
                    resolve(&declared, port).is_some(),
                    "{at}: {probe} probes {port:?}, not a containerPort"
                );
            }
            assert!(
                !c["readinessProbe"].is_null() && !c["livenessProbe"].is_null(),
                "{at}: needs probes"
            );
            assert!(
                !c["resources"]["requests"].is_null(),
                "{at}: needs resource requests"
            );
            if model::is_worker(&container.binary) {
                let period = spec["terminationGracePeriodSeconds"].as_u64().unwrap_or(30);
                let grace = model::worker_grace(&container.binary, &container.env);
                assert!(
                    period > grace.as_secs(),
                    "{at}: terminationGracePeriodSeconds {period} must exceed the {grace:?} drain"
                );
            }
            ports.extend(declared);
        }
        let labels = m.value["spec"]["template"]["metadata"]["labels"].clone();
        assert_eq!(
            m.value["spec"]["selector"]["matchLabels"],
            labels,
            "{}: selector",
            m.name()
        );
        pods.insert(m.name().to_owned(), Pod { labels, ports });
    }
    pods
}

fn selects(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_mapping().expect("a selector");
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[test]
fn deployments_services_and_budgets_name_only_binaries_ports_and_variables_that_exist() {
    let pods = deployments();
    for binary in crate::SERVICE_BINARIES {
        assert!(pods.contains_key(*binary), "no Deployment {binary}");
    }
    for m in manifests() {
        let at = format!("{} {} {}", m.file.display(), m.kind(), m.name());
        match m.kind() {
            "Service" => {
                let pod = pods
                    .values()
                    .find(|p| selects(&m.value["spec"]["selector"], &p.labels))
                    .unwrap_or_else(|| panic!("{at}: selects no Deployment's pods"));
                for port in m.value["spec"]["ports"].as_sequence().unwrap() {
                    let target = &port["targetPort"];
                    assert!(
                        resolve(&pod.ports, target).is_some(),
                        "{at}: targetPort {target:?} is not a containerPort"
                    );
                }
            }
            "PodDisruptionBudget" => {
                let selector = &m.value["spec"]["selector"]["matchLabels"];
                assert!(
                    pods.values().any(|p| selects(selector, &p.labels)),
                    "{at}: selects no pods"
                );
            }
            "HorizontalPodAutoscaler" | "ScaledObject" => {
                let target = m.value["spec"]["scaleTargetRef"]["name"].as_str().unwrap();
                assert!(
                    pods.contains_key(target),
                    "{at}: scales {target}, which is no Deployment"
                );
            }
            _ => {}
        }
    }
}

#[test]
fn each_worker_scales_on_the_backlog_of_every_consumer_it_reads() {
    let env = herald_env();
    let subjects = herald_messaging::Subjects::new(
        env.get("HERALD_SUBJECT_PREFIX")
            .map_or("herald", String::as_str),
    );
    let objects: Vec<Manifest> = manifests()
        .into_iter()
        .filter(|m| m.kind() == "ScaledObject")
        .collect();
    let catalog = types_by_worker();
    assert_eq!(objects.len(), catalog.len(), "one ScaledObject per worker");
    for m in objects {
        let worker = m.value["spec"]["scaleTargetRef"]["name"].as_str().unwrap();
        let types = catalog
            .get(worker)
            .unwrap_or_else(|| panic!("{}: scales {worker}, which is no worker", m.name()));
        let expected: BTreeSet<String> = types.iter().map(|t| subjects.consumer(t)).collect();
        let mut consumers = BTreeSet::new();
        for trigger in m.value["spec"]["triggers"].as_sequence().unwrap() {
            if trigger["type"] != "nats-jetstream" {
                continue;
            }
            let meta = &trigger["metadata"];
            assert_eq!(
                meta["stream"].as_str(),
                Some(subjects.stream("ACTIONS").as_str()),
                "{worker}: stream"
            );
            assert_eq!(meta["account"], "$G", "{worker}: NATS' default account");
            assert_eq!(
                meta["natsServerMonitoringEndpoint"], "nats-headless.herald.svc.cluster.local:8222",
                "{worker}: the NATS chart's headless Service (release nats, namespace herald)"
            );
            assert!(
                meta["lagThreshold"]
                    .as_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
                    > 0
            );
            assert!(
                consumers.insert(meta["consumer"].as_str().unwrap().to_owned()),
                "{worker}: a consumer twice"
            );
        }
        assert_eq!(
            consumers, expected,
            "{worker}: one trigger per connector type it serves"
        );
    }
}

/// Connector types by the worker binary (and so Deployment) that serves them.
fn types_by_worker() -> BTreeMap<String, Vec<&'static str>> {
    let mut by_worker: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for spec in herald_connectors::catalog().all() {
        by_worker
            .entry(spec.worker.binary().to_owned())
            .or_default()
            .push(spec.id);
    }
    by_worker
}

#[test]
fn kubectl_kustomize_builds_base_and_example_overlay() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        println!("note: kubectl is not on the PATH; skipped `kubectl kustomize`");
        return;
    }
    // A copy, so the user's own secrets.env (if any) is neither read nor needed.
    let copy = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(kube_dir())
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let overlay = copy.path().join("kubernetes/overlays/example");
    std::fs::copy(
        overlay.join("secrets.env.example"),
        overlay.join("secrets.env"),
    )
    .unwrap();
    for (dir, kinds) in [
        (
            "base",
            &[
                "Deployment",
                "Service",
                "PodDisruptionBudget",
                "HorizontalPodAutoscaler",
                "ConfigMap",
            ][..],
        ),
        (
            "overlays/example",
            &["Deployment", "ScaledObject", "Secret"][..],
        ),
    ] {
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(copy.path().join("kubernetes").join(dir))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl kustomize {dir}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        for kind in kinds {
            assert!(
                text.contains(&format!("kind: {kind}\n")),
                "kubectl kustomize {dir}: no {kind}"
            );
        }
        if dir != "base" {
            assert!(
                !text.contains("kind: HorizontalPodAutoscaler"),
                "KEDA owns the workers' HPAs"
            );
        }
    }
}
