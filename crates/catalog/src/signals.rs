//! How a Search Guard Signals account document becomes a Herald account of
//! the same type. Each connector that Signals also has declares its mapping
//! in its spec (`Extras::signals`); `heraldctl import signals` applies it.
//! The registry's Signals account API (`/_signals/account/...`) applies it
//! too, and [`SignalsAccount::document`] maps an account back. Every field is
//! translated (and said so) or reported as not translated; a document missing
//! something Herald needs is refused, never completed by a guess.

use serde_json::{Map, Value, json};

/// One connector type's Signals mapping.
#[derive(Debug)]
pub struct SignalsAccount {
    /// Each Signals field, by its name, and where it goes.
    pub fields: &'static [(&'static str, SignalsField)],
    /// Herald fields (of config or secrets) that a Signals document may
    /// leave out, each with the reason given when it does.
    pub required: &'static [(&'static str, &'static str)],
    /// What follows from the document as a whole, applied after its fields
    /// (an e-mail account without credentials sends without AUTH). Each
    /// change is said in `translated`.
    pub finish: Option<fn(&mut Translation)>,
}

/// Where one Signals field goes.
#[derive(Debug, Clone, Copy)]
pub enum SignalsField {
    Config(&'static str),
    Secret(&'static str),
    /// A list of addresses; Signals also takes one string.
    ConfigList(&'static str),
    /// The reason it has no Herald equivalent and why that stops the import.
    Refuse(&'static str),
}

/// A Signals document, translated.
#[derive(Debug, Default)]
pub struct Translation {
    pub config: Map<String, Value>,
    pub secrets: Map<String, Value>,
    /// `field -> config.key`, one line per field taken.
    pub translated: Vec<String>,
    /// Fields left out, and the reasons the document cannot be imported.
    pub not_translated: Vec<String>,
    /// Why the account cannot be made; empty when it can.
    pub refused: Vec<String>,
    /// Each field that stops a write through the Signals API, by its Signals
    /// name (`config.<key>` for what Signals keeps elsewhere), with the
    /// reason: fields without a Herald equivalent, refused fields, missing
    /// requirements. The importer leaves the first kind out instead.
    pub problems: Vec<(String, String)>,
    /// Secrets the stored account has that the document leaves out: the
    /// registry keeps them (see [`SignalsAccount::translate_onto`]).
    pub kept_secrets: Vec<String>,
}

impl Translation {
    /// Whether the account will have the secret `key`: given a value here,
    /// or kept from the stored account.
    pub fn has_secret(&self, key: &str) -> bool {
        self.secrets.get(key).is_some_and(|v| !v.is_null())
            || self.kept_secrets.iter().any(|k| k == key)
    }
}

impl SignalsAccount {
    /// `source` is the document without its `type`; `set` are config
    /// values the operator gives for what Signals keeps elsewhere.
    pub fn translate(&self, source: Map<String, Value>, set: &[(String, Value)]) -> Translation {
        self.translate_inner(source, set, None)
    }

    /// As [`translate`](Self::translate), for a document that replaces an
    /// account whose set secrets are `stored` (empty for a new one): secrets
    /// are write-only, so one the document leaves out is kept (listed in
    /// `kept_secrets`, and it counts for `required` and `finish`), and one it
    /// gives as `null` is removed (`secrets.<key>: null`, as the registry's
    /// own PUT reads it).
    pub fn translate_onto(
        &self,
        source: Map<String, Value>,
        set: &[(String, Value)],
        stored: &[String],
    ) -> Translation {
        self.translate_inner(source, set, Some(stored))
    }

    fn translate_inner(
        &self,
        source: Map<String, Value>,
        set: &[(String, Value)],
        stored: Option<&[String]>,
    ) -> Translation {
        let mut out = Translation::default();
        for (field, value) in source {
            let Some((_, to)) = self.fields.iter().find(|(f, _)| *f == field) else {
                out.not_translated
                    .push(format!("{field}: no Herald equivalent; left out"));
                out.problems.push((
                    field,
                    "no Herald equivalent (see the account types Herald maps)".into(),
                ));
                continue;
            };
            if value.is_null() {
                if let (SignalsField::Secret(k), Some(_)) = (*to, stored) {
                    out.translated
                        .push(format!("{field}: null -> secrets.{k} removed"));
                    out.secrets.insert(k.to_owned(), Value::Null);
                }
                continue;
            }
            let (side, key, value) = match *to {
                SignalsField::Config(k) => ("config", k, value),
                SignalsField::Secret(k) => ("secrets", k, value),
                SignalsField::ConfigList(k) => match value {
                    Value::String(s) => ("config", k, json!([s])),
                    other => ("config", k, other),
                },
                SignalsField::Refuse(reason) => {
                    out.refused.push(format!("{field}: {reason}"));
                    out.problems.push((field, reason.to_owned()));
                    continue;
                }
            };
            out.translated.push(format!("{field} -> {side}.{key}"));
            let target = if side == "secrets" {
                &mut out.secrets
            } else {
                &mut out.config
            };
            target.insert(key.to_owned(), value);
        }
        for (key, value) in set {
            out.translated
                .push(format!("--config -> config.{key} = {value}"));
            out.config.insert(key.clone(), value.clone());
        }
        out.kept_secrets = stored
            .unwrap_or_default()
            .iter()
            .filter(|k| !out.secrets.contains_key(k.as_str()))
            .cloned()
            .collect();
        if let Some(finish) = self.finish {
            finish(&mut out);
        }
        for (key, reason) in self.required {
            if !out.config.contains_key(*key) && !out.has_secret(key) {
                out.refused.push((*reason).to_owned());
                out.problems
                    .push((self.signals_name(key), (*reason).to_owned()));
            }
        }
        out.not_translated.extend(out.refused.iter().cloned());
        out
    }

    /// The Signals field that a Herald config or secrets key comes from, or
    /// `config.<key>` when none does (Signals keeps it elsewhere).
    pub fn signals_name(&self, key: &str) -> String {
        self.fields
            .iter()
            .find(|(_, to)| match *to {
                SignalsField::Config(k) | SignalsField::Secret(k) | SignalsField::ConfigList(k) => {
                    k == key
                }
                SignalsField::Refuse(_) => false,
            })
            .map(|(field, _)| (*field).to_owned())
            .unwrap_or_else(|| format!("config.{key}"))
    }

    /// Herald config keys that a document needs and no Signals field gives
    /// (Signals keeps them elsewhere, as Jira's project in each watch).
    pub fn herald_only_required(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.required
            .iter()
            .map(|(key, _)| *key)
            .filter(|key| self.signals_name(key).starts_with("config."))
    }

    /// The reverse of [`translate`](Self::translate): an account's config as
    /// a Signals document (without its `type`), each field by the same
    /// table. Secrets are never part of it (they are write-only), nor are
    /// config keys that no Signals field maps to.
    pub fn document(&self, config: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        let mut taken: Vec<&str> = Vec::new();
        for (field, to) in self.fields {
            let key = match *to {
                SignalsField::Config(k) | SignalsField::ConfigList(k) => k,
                SignalsField::Secret(_) | SignalsField::Refuse(_) => continue,
            };
            if taken.contains(&key) {
                continue;
            }
            if let Some(value) = config.get(key) {
                taken.push(key);
                out.insert((*field).to_owned(), value.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: SignalsAccount = SignalsAccount {
        fields: &[
            ("url", SignalsField::Config("apiUrl")),
            ("token", SignalsField::Secret("apiToken")),
            ("to", SignalsField::ConfigList("to")),
            ("uri", SignalsField::Refuse("a base URL; set it by hand")),
        ],
        required: &[("project", "config.project: give --config t.project=KEY")],
        finish: None,
    };

    fn doc(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn each_field_goes_where_the_mapping_says_and_says_so() {
        let t = MAPPING.translate(
            doc(json!({"url": "https://x", "token": "s3cret", "to": "a@b.c", "junk": 1})),
            &[("project".into(), json!("OPS"))],
        );
        assert_eq!(
            Value::Object(t.config),
            json!({"apiUrl": "https://x", "to": ["a@b.c"], "project": "OPS"})
        );
        assert_eq!(Value::Object(t.secrets), json!({"apiToken": "s3cret"}));
        let mut translated = t.translated.clone();
        translated.sort();
        assert_eq!(
            translated,
            [
                "--config -> config.project = \"OPS\"",
                "to -> config.to",
                "token -> secrets.apiToken",
                "url -> config.apiUrl",
            ]
        );
        assert_eq!(t.not_translated, ["junk: no Herald equivalent; left out"]);
        assert!(t.refused.is_empty());
    }

    #[test]
    fn a_refused_field_or_a_missing_requirement_refuses_the_document() {
        let t = MAPPING.translate(doc(json!({"uri": "https://x", "url": null})), &[]);
        assert_eq!(
            t.refused,
            [
                "uri: a base URL; set it by hand",
                "config.project: give --config t.project=KEY"
            ]
        );
        assert_eq!(t.not_translated, t.refused);
        assert!(t.config.is_empty() && t.translated.is_empty());
    }

    #[test]
    fn onto_a_stored_account_a_left_out_secret_is_kept_and_null_removes_it() {
        let t = MAPPING.translate_onto(
            doc(json!({"url": "https://x", "token": null, "project": 1})),
            &[("project".into(), json!("OPS"))],
            &["apiToken".into(), "other".into()],
        );
        assert_eq!(Value::Object(t.secrets.clone()), json!({"apiToken": null}));
        assert_eq!(t.kept_secrets, ["other"]);
        assert!(!t.has_secret("apiToken") && t.has_secret("other"));
        assert_eq!(
            t.problems,
            [(
                "project".to_owned(),
                "no Herald equivalent (see the account types Herald maps)".to_owned()
            )]
        );

        let kept = MAPPING.translate_onto(doc(json!({})), &[], &["project".into()]);
        assert!(kept.refused.is_empty(), "{:?}", kept.refused);
        let missing = MAPPING.translate_onto(doc(json!({})), &[], &[]);
        assert_eq!(
            missing.problems,
            [(
                "config.project".to_owned(),
                "config.project: give --config t.project=KEY".to_owned()
            )]
        );
    }

    #[test]
    fn a_document_maps_config_back_by_the_same_table_without_secrets() {
        let config = doc(json!({"apiUrl": "https://x", "to": ["a@b.c"], "project": "OPS"}));
        assert_eq!(
            Value::Object(MAPPING.document(&config)),
            json!({"url": "https://x", "to": ["a@b.c"]})
        );
        assert_eq!(MAPPING.signals_name("apiToken"), "token");
        assert_eq!(MAPPING.signals_name("project"), "config.project");
        assert_eq!(
            MAPPING.herald_only_required().collect::<Vec<_>>(),
            ["project"]
        );
    }
}
