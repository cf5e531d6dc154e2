//! The connector: reads the account and params it is given and makes
//! the attempt.

use super::spec::{Level, Params};
use crate::delivery::http::Outbound;
use crate::delivery::typed;
use crate::delivery::{Connector, Delivery, Outcome};
use serde_json::{Map, Value};

pub struct ServerLog;

pub fn parse(params: &Map<String, Value>) -> Result<(String, Level), Outcome> {
    let params: Params = typed::params(params)?;
    Ok((escape_controls(&params.message), params.level))
}

/// `message` with every control character (newlines, carriage returns,
/// tabs, escape sequences, NUL) and the Unicode line and paragraph
/// separators written as Rust escapes (`\n`, `\u{1b}`), so it stays on
/// one line of the log and cannot drive a terminal. Other text is kept.
pub fn escape_controls(message: &str) -> String {
    if !message.chars().any(needs_escape) {
        return message.to_owned();
    }
    let mut escaped = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        if needs_escape(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

#[async_trait::async_trait]
impl Connector for ServerLog {
    fn connector_type(&self) -> &'static str {
        "server-log"
    }

    async fn deliver(&self, delivery: &Delivery, _http: &Outbound) -> Outcome {
        let (message, level) = match parse(&delivery.params) {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let action = delivery.action_id.as_str();
        let account = delivery.account.id.as_str();
        // `tracing` levels are compile-time constants: one call per level.
        macro_rules! log {
            ($level:expr $(, $extra:ident = $value:expr)?) => {
                tracing::event!(
                    target: "herald::server_log",
                    $level,
                    action.id = action,
                    account.id = account,
                    $($extra = $value,)?
                    "{message}"
                )
            };
        }
        match level {
            Level::Trace => log!(tracing::Level::TRACE),
            Level::Debug => log!(tracing::Level::DEBUG),
            Level::Info => log!(tracing::Level::INFO),
            Level::Warn => log!(tracing::Level::WARN),
            Level::Error => log!(tracing::Level::ERROR),
            Level::Fatal => log!(tracing::Level::ERROR, fatal = true),
        }
        Outcome::delivered()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use crate::delivery::Connector;
    use crate::delivery::testing::{account, delivered, delivery, outbound, permanent};
    use herald_proto::v1::ErrorKind;
    use serde_json::{Value, json};

    use super::ServerLog;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The JSON log lines `params` produce, every level enabled.
    async fn log_lines(params: Value) -> (crate::delivery::Outcome, Vec<Value>) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let account = account("server-log", json!({}), json!({}));
        let outcome = ServerLog
            .deliver(&delivery(account, params), &outbound())
            .await;
        let bytes = captured.0.lock().unwrap().clone();
        let lines = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        (outcome, lines)
    }

    #[tokio::test]
    async fn writes_one_structured_event_at_the_level() {
        let cases = [
            (json!({"message": "disk full"}), "INFO", false),
            (
                json!({"message": "disk full", "level": "trace"}),
                "TRACE",
                false,
            ),
            (
                json!({"message": "disk full", "level": "debug"}),
                "DEBUG",
                false,
            ),
            (
                json!({"message": "disk full", "level": "warn"}),
                "WARN",
                false,
            ),
            (
                json!({"message": "disk full", "level": "error"}),
                "ERROR",
                false,
            ),
            (
                json!({"message": "disk full", "level": "fatal"}),
                "ERROR",
                true,
            ),
        ];
        for (params, level, fatal) in cases {
            let (outcome, lines) = log_lines(params).await;
            assert_eq!(delivered(outcome), []);
            assert_eq!(lines.len(), 1, "{lines:?}");
            let line = &lines[0];
            assert_eq!(line["level"], level);
            assert_eq!(line["target"], "herald::server_log");
            assert_eq!(line["fields"]["message"], "disk full");
            assert_eq!(line["fields"]["action.id"], "act-1");
            assert_eq!(line["fields"]["account.id"], "test-server-log");
            assert_eq!(line["fields"].get("fatal").is_some(), fatal);
        }
    }

    #[tokio::test]
    async fn control_characters_cannot_forge_a_text_log_line() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let forged = "disk full\n2026-01-01T00:00:00Z ERROR herald: admin password reset\r\u{1b}[2Jx\u{2028}y\tz";
        let account = account("server-log", json!({}), json!({}));
        let outcome = ServerLog
            .deliver(&delivery(account, json!({"message": forged})), &outbound())
            .await;
        assert_eq!(delivered(outcome), []);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(
            text.contains(
                "disk full\\n2026-01-01T00:00:00Z ERROR herald: admin password reset\\r\\u{1b}[2Jx\\u{2028}y\\tz"
            ),
            "{text}"
        );
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text}");
        assert_eq!(super::escape_controls("plain text, üñí"), "plain text, üñí");
    }

    #[tokio::test]
    async fn bad_params_name_the_field_and_log_nothing() {
        let cases = [
            (json!({}), "message: required"),
            (
                json!({"message": "m", "level": "loud"}),
                "level: must be trace, debug, info, warn, error or fatal",
            ),
            (json!({"message": 1}), "message: must be a string"),
        ];
        for (params, expected) in cases {
            let (outcome, lines) = log_lines(params).await;
            assert_eq!(
                permanent(outcome),
                (ErrorKind::InvalidParams, expected.to_owned())
            );
            assert!(lines.is_empty());
        }
    }
}
