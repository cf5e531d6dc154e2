//! Every connector example of Kibana's preconfigured-connectors page, as
//! written (`crates/connectors/tests/fixtures/kibana/README.md` lists the
//! few edits), loads as HERALD_CONFIG: the registry starts with it and
//! serves each account, config and secrets as the example gives them.

use std::path::PathBuf;

use crate::helpers::*;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../connectors/tests/fixtures/kibana");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn name(path: &std::path::Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[tokio::test]
async fn every_kibana_example_loads_as_herald_config() {
    let files = examples();
    // One file per code block of the page.
    assert_eq!(files.len(), 32);
    let mut loaded = 0;
    for path in &files {
        let mut config =
            herald_config::load(path, &|_| None).unwrap_or_else(|e| panic!("{}: {e}", name(path)));
        assert!(!config.preconfigured.is_empty(), "{}", name(path));
        if name(path) == "index.yaml" {
            // The index connector's default URL is a local Elasticsearch:
            // loopback is reached only where the policy names it.
            let dir = tempfile::tempdir().unwrap();
            let mut settings = settings_in(dir.path());
            settings.config = config.clone();
            let refused = herald_registry::open_registry(&settings).await.err();
            let message = format!("{:#}", refused.expect("localhost is not allowed by \"*\""));
            assert!(
                message.contains("my-index") && message.contains("localhost"),
                "{message}"
            );
            config.policy.allowed_hosts = vec!["*".into(), "localhost".into()];
        }
        let ids: Vec<_> = config
            .preconfigured
            .iter()
            .map(|a| {
                let mut fields: Vec<String> = a.secrets.0.keys().cloned().collect();
                fields.sort();
                (
                    a.id.to_string(),
                    a.config.clone(),
                    a.secrets.0.clone(),
                    fields,
                )
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings_in(dir.path());
        settings.config = config;
        let registry = herald_registry::open_registry(&settings)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:#}", name(path)));
        for (id, config, secrets, secret_fields) in ids {
            let view = registry.get(&id).await.unwrap();
            assert!(view.preconfigured, "{id}");
            assert_eq!(view.secret_fields, secret_fields, "{id}");
            // Kibana hides a preconfigured connector's config from readers
            // unless exposeConfig; the worker resolves all of it.
            let expose = view.config == config;
            assert!(expose || view.config.is_empty(), "{id}");
            let resolved = registry.resolve(&id).await.unwrap();
            assert_eq!(resolved.view.config, config, "{id}");
            assert_eq!(resolved.secrets.0, secrets, "{id}");
            loaded += 1;
        }
    }
    // slack-and-webhook.yaml holds two.
    assert_eq!(loaded, 33);
}
