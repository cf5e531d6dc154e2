//! How a Search Guard Signals account document becomes a Herald account of
//! the same type. Each connector that Signals also has declares its mapping
//! in its spec (`Extras::signals`); `heraldctl import signals` applies it.
//! Every field is translated (and said so) or reported as not translated; a
//! document missing something Herald needs is refused, never completed by a
//! guess.

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
    /// Secrets the account already holds and keeps (an update through
    /// Signals' PUT may leave them out); they count as given.
    pub kept: Vec<String>,
}

impl SignalsAccount {
    /// `source` is the document without its `type`; `set` are config
    /// values the operator gives for what Signals keeps elsewhere.
    pub fn translate(&self, source: Map<String, Value>, set: &[(String, Value)]) -> Translation {
        self.translate_keeping(source, set, &[])
    }

    /// As [`translate`](Self::translate), for an account that already holds
    /// the secrets `kept`: a document leaving them out keeps them.
    pub fn translate_keeping(
        &self,
        source: Map<String, Value>,
        set: &[(String, Value)],
        kept: &[String],
    ) -> Translation {
        let mut out = Translation {
            kept: kept.to_vec(),
            ..Translation::default()
        };
        for (field, value) in source {
            let Some((_, to)) = self.fields.iter().find(|(f, _)| *f == field) else {
                out.not_translated
                    .push(format!("{field}: no Herald equivalent; left out"));
                continue;
            };
            if value.is_null() {
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
        if let Some(finish) = self.finish {
            finish(&mut out);
        }
        for (key, reason) in self.required {
            if !out.config.contains_key(*key)
                && !out.secrets.contains_key(*key)
                && !out.kept.iter().any(|k| k == key)
            {
                out.refused.push((*reason).to_owned());
            }
        }
        out.not_translated.extend(out.refused.iter().cloned());
        out
    }

    /// The way back: a Herald account's config as Signals fields, by the
    /// same table. Secrets are never given back, and config keys Signals
    /// has no field for are left out.
    pub fn document(&self, config: &Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (field, to) in self.fields {
            let key = match to {
                SignalsField::Config(k) | SignalsField::ConfigList(k) => k,
                SignalsField::Secret(_) | SignalsField::Refuse(_) => continue,
            };
            if let Some(value) = config.get(*key) {
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
    fn a_kept_secret_meets_a_requirement() {
        const NEEDS_TOKEN: SignalsAccount = SignalsAccount {
            fields: MAPPING.fields,
            required: &[("apiToken", "token is not set")],
            finish: None,
        };
        let t = NEEDS_TOKEN.translate(doc(json!({"url": "https://x"})), &[]);
        assert_eq!(t.refused, ["token is not set"]);
        let t = NEEDS_TOKEN.translate_keeping(
            doc(json!({"url": "https://x"})),
            &[],
            &["apiToken".to_owned()],
        );
        assert!(t.refused.is_empty(), "{:?}", t.refused);
        assert!(t.secrets.is_empty());
    }

    #[test]
    fn the_document_gives_config_back_by_the_same_table_and_no_secret() {
        let t = MAPPING.translate(
            doc(json!({"url": "https://x", "token": "s3cret", "to": "a@b.c"})),
            &[("project".into(), json!("OPS"))],
        );
        assert_eq!(
            Value::Object(MAPPING.document(&t.config)),
            json!({"url": "https://x", "to": ["a@b.c"]})
        );
    }
}
