//! The rules for an account's id and name, the same wherever an account
//! comes from: the registry's `PutAccount`, `HERALD_CONFIG`'s preconfigured
//! accounts and `heraldctl import`.

/// The id rule as callers read it in error messages: Kibana's connector
/// ids, so `Elastic-Cloud-SMTP` moves over as it is. Ids are
/// case-sensitive; the lowercase ids of the first rule remain valid.
pub const ID_RULE: &str = "[A-Za-z0-9][A-Za-z0-9._-]{0,127}";
pub const MAX_ID_LEN: usize = 128;
/// In characters.
pub const MAX_NAME_LEN: usize = 256;

/// An account id that follows [`ID_RULE`], checked once where the id comes
/// in (`PutAccount`, `HERALD_CONFIG`, `heraldctl import`, an event's
/// action) so that nothing past that point checks it again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);

/// The id does not follow [`ID_RULE`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must match {ID_RULE}")]
pub struct NotAnAccountId;

impl AccountId {
    pub fn parse(id: impl Into<String>) -> Result<AccountId, NotAnAccountId> {
        let id = id.into();
        let b = id.as_bytes();
        let valid = (1..=MAX_ID_LEN).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b[1..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c));
        if valid {
            Ok(AccountId(id))
        } else {
            Err(NotAnAccountId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for AccountId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for AccountId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// What is wrong with `name` as an account's name, if anything.
///
/// Names end up in log lines, message headers and vendor payloads
/// (`{{account.name}}`), where a CR/LF forges a line or a header and a NUL
/// cuts the text short, so control characters are refused, and so are the
/// Unicode line and paragraph separators, which some viewers break lines at.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("required".into());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Some(format!("must be at most {MAX_NAME_LEN} characters"));
    }
    let (at, c) = name
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))?;
    Some(format!(
        "must not contain control characters (U+{:04X} at character {})",
        c as u32,
        at + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_rule() {
        for id in [
            "a",
            "ops-slack",
            "0.x_y-z",
            "Elastic-Cloud-SMTP",
            "My-Slack",
            &"a".repeat(128),
        ] {
            assert_eq!(AccountId::parse(id).unwrap().as_str(), id);
        }
        for id in [
            "",
            "-a",
            ".a",
            "_A",
            "ops slack",
            "ops\n",
            "é",
            &"a".repeat(129),
        ] {
            assert_eq!(AccountId::parse(id), Err(NotAnAccountId), "{id:?}");
        }
    }

    #[test]
    fn names_refuse_control_characters_and_say_where() {
        assert_eq!(name_problem("Ops Slack"), None);
        assert_eq!(name_problem("Équipe d'astreinte 🚨"), None);
        assert_eq!(name_problem(&"é".repeat(256)), None);
        assert_eq!(name_problem("  ").as_deref(), Some("required"));
        assert_eq!(
            name_problem(&"é".repeat(257)).as_deref(),
            Some("must be at most 256 characters")
        );
        for (name, code, at) in [
            ("Ops\r\nforged: line", "000D", 4),
            ("Ops\nSlack", "000A", 4),
            ("Ops\0", "0000", 4),
            ("\u{1b}[31mred", "001B", 1),
            ("tab\there", "0009", 4),
            ("del\u{7f}", "007F", 4),
            ("nel\u{85}", "0085", 4),
            ("ls\u{2028}", "2028", 3),
        ] {
            assert_eq!(
                name_problem(name),
                Some(format!(
                    "must not contain control characters (U+{code} at character {at})"
                )),
                "{name:?}"
            );
        }
    }
}
