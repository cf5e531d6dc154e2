//! Why an SMTP attempt failed, and how that ends the attempt: 4xx replies,
//! timeouts and dropped connections are retried; 5xx replies, certificate
//! failures and settings that do not fit the server fail for good. Every
//! reason says which server, which step and what the server said.

use std::time::Duration;

use crate::delivery::Outcome;
use herald_proto::v1::ErrorKind;

/// The step of the dialogue that failed, as an admin reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Connect,
    Proxy,
    Tls,
    Greeting,
    StartTls,
    Auth,
    MailFrom,
    RcptTo,
    Data,
}

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Step::Connect => "connecting",
            Step::Proxy => "connecting through the SOCKS5 proxy",
            Step::Tls => "the TLS handshake",
            Step::Greeting => "greeting (EHLO)",
            Step::StartTls => "STARTTLS",
            Step::Auth => "AUTH",
            Step::MailFrom => "MAIL FROM",
            Step::RcptTo => "RCPT TO",
            Step::Data => "DATA",
        }
    }
}

#[derive(Debug)]
pub enum Problem {
    /// A 4xx or 5xx reply: the code and the server's text.
    Reply {
        code: u16,
        text: String,
    },
    Timeout(Duration),
    /// The connection failed or dropped; the cause in words.
    Network(String),
    /// The server's certificate was refused, or TLS failed.
    Tls(String),
    /// The account's settings do not fit the server (no STARTTLS offered
    /// with `requireTls`, no AUTH mechanism we speak, ...).
    Mismatch(String),
    /// The egress policy refuses the address (an unlisted internal one).
    Policy(String),
}

#[derive(Debug)]
pub struct Failure {
    pub step: Step,
    pub problem: Problem,
}

impl Failure {
    pub fn new(step: Step, problem: Problem) -> Failure {
        Failure { step, problem }
    }

    /// From a lettre error at `step`.
    pub fn lettre(step: Step, error: lettre::transport::smtp::Error) -> Failure {
        let problem = if let Some(code) = error.status() {
            let code: u16 = code.to_string().parse().unwrap_or(0);
            // Display is "permanent error (550): <server text>".
            let text = error.to_string();
            let text = text.split_once("): ").map_or(text.as_str(), |(_, t)| t);
            Problem::Reply {
                code,
                text: one_line(text),
            }
        } else if error.is_timeout() {
            Problem::Timeout(Duration::ZERO)
        } else if error.is_client() {
            Problem::Mismatch(one_line(&source_text(&error)))
        } else {
            // Network, connection and unparsable or missing replies: the
            // connection broke somewhere.
            Problem::Network(one_line(&source_text(&error)))
        };
        Failure::new(step, problem)
    }

    /// Whether a fresh connection may fix it at once: the server closed an
    /// idle pooled connection before the message started.
    pub fn stale_connection(&self) -> bool {
        matches!(self.step, Step::MailFrom)
            && matches!(
                self.problem,
                Problem::Network(_) | Problem::Reply { code: 421, .. }
            )
    }

    /// The attempt's outcome; `server` is `host:port`.
    pub fn outcome(&self, server: &str) -> Outcome {
        let at = format!("SMTP {server}, {}", self.step.describe());
        match &self.problem {
            Problem::Reply { code, text } if (400..500).contains(code) => Outcome::retry(
                ErrorKind::VendorTemporary,
                format!("{at}: the server answered {code} {text} (temporary; will retry)"),
            ),
            Problem::Reply { code, text } => {
                let kind = match (self.step, code) {
                    (Step::Auth, _) | (_, 530 | 534 | 535) => ErrorKind::Auth,
                    _ => ErrorKind::VendorRejected,
                };
                let hint = match kind {
                    ErrorKind::Auth => " (check secrets.user and secrets.password)",
                    _ => "",
                };
                Outcome::permanent(
                    kind,
                    format!("{at}: the server answered {code} {text}{hint}"),
                )
            }
            Problem::Timeout(after) => Outcome::retry(
                ErrorKind::Network,
                format!(
                    "{at}: no answer within {}s (config.sessionTimeout)",
                    after.as_secs()
                ),
            ),
            Problem::Network(cause) => Outcome::retry(
                ErrorKind::Network,
                format!("{at}: the connection failed ({cause})"),
            ),
            Problem::Tls(cause) => Outcome::permanent(
                ErrorKind::InvalidConfig,
                format!(
                    "{at}: {cause} (trust the server with config.ca, config.trustedHosts or config.trustAll)"
                ),
            ),
            Problem::Mismatch(cause) => {
                Outcome::permanent(ErrorKind::InvalidConfig, format!("{at}: {cause}"))
            }
            Problem::Policy(cause) => {
                Outcome::permanent(ErrorKind::Policy, format!("{at}: {cause}"))
            }
        }
    }
}

/// An I/O error from connecting or the TLS handshake: a certificate or TLS
/// protocol problem is `Tls`, anything else `Network`.
pub fn io_problem(error: &std::io::Error) -> Problem {
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => Problem::Tls(format!("TLS failed: {tls}")),
        None => Problem::Network(error.to_string()),
    }
}

fn source_text(error: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    match error.source() {
        Some(source) => source.to_string(),
        None => error.to_string(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(step: Step, code: u16) -> Outcome {
        Failure::new(
            step,
            Problem::Reply {
                code,
                text: "5.7.8 no".into(),
            },
        )
        .outcome("mx:25")
    }

    #[test]
    fn classification() {
        assert!(matches!(
            reply(Step::RcptTo, 451),
            Outcome::Retry {
                kind: ErrorKind::VendorTemporary,
                ..
            }
        ));
        assert!(matches!(
            reply(Step::Auth, 535),
            Outcome::Permanent {
                kind: ErrorKind::Auth,
                ..
            }
        ));
        let Outcome::Permanent { kind, reason, .. } = reply(Step::RcptTo, 550) else {
            panic!()
        };
        assert_eq!(kind, ErrorKind::VendorRejected);
        assert_eq!(
            reason,
            "SMTP mx:25, RCPT TO: the server answered 550 5.7.8 no"
        );
        let tls = Failure::new(Step::Tls, Problem::Tls("bad".into())).outcome("mx:465");
        assert!(matches!(
            tls,
            Outcome::Permanent {
                kind: ErrorKind::InvalidConfig,
                ..
            }
        ));
        let dropped = Failure::new(Step::Data, Problem::Network("reset".into())).outcome("mx:25");
        assert!(matches!(
            dropped,
            Outcome::Retry {
                kind: ErrorKind::Network,
                ..
            }
        ));
        assert!(Failure::new(Step::MailFrom, Problem::Network("eof".into())).stale_connection());
        assert!(!Failure::new(Step::Data, Problem::Network("eof".into())).stale_connection());
    }
}
