//! One SMTP connection, opened the way the account says: TCP with
//! TCP_NODELAY (directly or through SOCKS5), then implicit TLS, STARTTLS
//! (opportunistic or required) or neither, then EHLO and AUTH. Every step
//! is bounded by the account's session timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_catalog::Policy;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::Starttls;
use lettre::transport::smtp::extension::{ClientId, Extension};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::failure::{Failure, Problem, Step, io_problem};
use super::stream::{ConnectError, Layer, SmtpSocket, connect_allowed};
use crate::email::config::{Security, SmtpSettings};

/// An open, authenticated connection and when it was last used.
pub struct Session {
    connection: AsyncSmtpConnection,
    pub last_used: Instant,
}

/// `work` within the session timeout, its error placed at `step`.
async fn bounded<T, E>(
    step: Step,
    timeout: Duration,
    work: impl Future<Output = Result<T, E>>,
    problem: impl FnOnce(E) -> Failure,
) -> Result<T, Failure> {
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(problem(error)),
        Err(_) => Err(Failure::new(step, Problem::Timeout(timeout))),
    }
}

impl Session {
    pub async fn open(
        settings: &SmtpSettings,
        tls: &Arc<rustls::ClientConfig>,
        policy: &Policy,
    ) -> Result<Session, Failure> {
        let timeout = settings.timeout;
        let hello = ClientId::default();
        let debug = settings.debug.then(|| settings.server());
        let layer = connect(settings, policy).await?;
        let connection = match settings.security {
            Security::Implicit => {
                let layer = handshake(settings, tls, layer).await?;
                greet(SmtpSocket::new(layer, debug), &hello, timeout).await?
            }
            Security::Plain => greet(SmtpSocket::new(layer, debug), &hello, timeout).await?,
            Security::StartTls { required } => {
                let socket = SmtpSocket::new(layer, debug.clone());
                let slot = socket.slot();
                let mut plain = greet(socket, &hello, timeout).await?;
                if plain.server_info().supports_feature(Extension::StartTls) {
                    bounded(Step::StartTls, timeout, plain.command(Starttls), |e| {
                        Failure::lettre(Step::StartTls, e)
                    })
                    .await?;
                    let layer = slot
                        .lock()
                        .expect("SMTP stream lock")
                        .take()
                        .ok_or_else(|| {
                            Failure::new(
                                Step::StartTls,
                                Problem::Network("the stream is gone".into()),
                            )
                        })?;
                    drop(plain);
                    let layer = handshake(settings, tls, layer).await?;
                    greet(SmtpSocket::after_starttls(layer, debug), &hello, timeout).await?
                } else if required {
                    return Err(Failure::new(
                        Step::StartTls,
                        Problem::Mismatch(
                            "the server does not offer STARTTLS and TLS is required (config.requireTls, or smtp.requireTLS in the host's customHostSettings)"
                                .into(),
                        ),
                    ));
                } else if settings.credentials.is_some() {
                    // Opportunistic TLS protects the password only if the
                    // server offers it; one that does not (or a man in the
                    // middle that strips the offer) must not get it in clear.
                    return Err(Failure::new(
                        Step::StartTls,
                        Problem::Mismatch(
                            "the server does not offer STARTTLS, and credentials are never sent without TLS (set config.ignoreTls: true to send them in clear, or config.hasAuth: false)"
                                .into(),
                        ),
                    ));
                } else {
                    plain
                }
            }
        };
        let mut session = Session {
            connection,
            last_used: Instant::now(),
        };
        if let Some((user, password)) = &settings.credentials {
            let credentials = Credentials::new(user.clone(), password.expose().to_owned());
            let mechanisms = [Mechanism::Plain, Mechanism::Login];
            let offered = mechanisms
                .iter()
                .any(|m| session.connection.server_info().supports_auth_mechanism(*m));
            if !offered {
                let why = if session.connection.is_encrypted() {
                    "the server offers no AUTH PLAIN or LOGIN"
                } else {
                    "the server offers no AUTH PLAIN or LOGIN without TLS (turn off config.ignoreTls, or set config.hasAuth to false)"
                };
                return Err(Failure::new(Step::Auth, Problem::Mismatch(why.into())));
            }
            bounded(
                Step::Auth,
                timeout,
                session.connection.auth(&mechanisms, &credentials),
                |e| Failure::lettre(Step::Auth, e),
            )
            .await?;
        }
        Ok(session)
    }

    /// Sends one message. A failure leaves the session unusable.
    pub async fn send(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
        timeout: Duration,
    ) -> Result<(), Failure> {
        // lettre's `send` is MAIL, RCPT..., DATA, message; its error does
        // not say which, so the steps are made one by one here.
        use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
        use lettre::transport::smtp::extension::{MailBodyParameter, MailParameter};
        let connection = &mut self.connection;
        let mut options = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            if !connection
                .server_info()
                .supports_feature(Extension::SmtpUtfEight)
            {
                return Err(Failure::new(
                    Step::MailFrom,
                    Problem::Mismatch(
                        "an address is not ASCII and the server does not offer SMTPUTF8".into(),
                    ),
                ));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !message.is_ascii()
            && connection
                .server_info()
                .supports_feature(Extension::EightBitMime)
        {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let mail = Mail::new(envelope.from().cloned(), options);
        bounded(Step::MailFrom, timeout, connection.command(mail), |e| {
            Failure::lettre(Step::MailFrom, e)
        })
        .await?;
        for to in envelope.to() {
            bounded(
                Step::RcptTo,
                timeout,
                connection.command(Rcpt::new(to.clone(), vec![])),
                |e| {
                    let mut failure = Failure::lettre(Step::RcptTo, e);
                    if let Problem::Reply { text, .. } = &mut failure.problem {
                        *text = format!("{text} (recipient {to})");
                    }
                    failure
                },
            )
            .await?;
        }
        bounded(Step::Data, timeout, connection.command(Data), |e| {
            Failure::lettre(Step::Data, e)
        })
        .await?;
        bounded(Step::Data, timeout, connection.message(message), |e| {
            Failure::lettre(Step::Data, e)
        })
        .await?;
        self.last_used = Instant::now();
        Ok(())
    }

    /// Says QUIT and closes, without waiting long for a slow server.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.connection.quit()).await;
    }
}

/// TCP to the server or to the SOCKS5 proxy, Nagle off: lettre writes a
/// command and waits for its answer, and with Nagle's algorithm each write
/// after the first waits out the peer's delayed ACK (about 40 ms).
/// The server or the proxy is reached only at an address the policy
/// allows; through the proxy, which resolves the server's name itself, the
/// server is checked by name (`Email::deliver`).
async fn connect(settings: &SmtpSettings, policy: &Policy) -> Result<Layer, Failure> {
    let timeout = settings.timeout;
    let (step, host, port) = match &settings.proxy {
        Some(proxy) => (Step::Proxy, proxy.host.as_str(), proxy.port),
        None => (Step::Connect, settings.host.as_str(), settings.port),
    };
    let open = connect_allowed(policy, host, port);
    let tcp = bounded(step, timeout, open, |e| match e {
        ConnectError::Refused(refused) => Failure::new(step, Problem::Policy(refused.to_string())),
        ConnectError::Io(e) => Failure::new(step, Problem::Network(e.to_string())),
    })
    .await?;
    tcp.set_nodelay(true)
        .map_err(|e| Failure::new(step, Problem::Network(e.to_string())))?;
    let Some(proxy) = &settings.proxy else {
        return Ok(Layer::Tcp(tcp));
    };
    let target = (settings.host.as_str(), settings.port);
    let socks = match &proxy.credentials {
        None => {
            bounded(
                Step::Proxy,
                timeout,
                tokio_socks::tcp::Socks5Stream::connect_with_socket(tcp, target),
                socks_failure,
            )
            .await?
        }
        Some((user, password)) => {
            bounded(
                Step::Proxy,
                timeout,
                tokio_socks::tcp::Socks5Stream::connect_with_password_and_socket(
                    tcp,
                    target,
                    user,
                    password.expose(),
                ),
                socks_failure,
            )
            .await?
        }
    };
    Ok(Layer::Socks(socks))
}

/// A refused proxy login will not fix itself; anything else may.
fn socks_failure(error: tokio_socks::Error) -> Failure {
    use tokio_socks::Error as E;
    let problem = match error {
        E::PasswordAuthFailure(_) | E::NoAcceptableAuthMethods => Problem::Mismatch(format!(
            "the proxy refused config.proxyUser and secrets.proxyPassword ({error})"
        )),
        E::ConnectionNotAllowedByRuleset => {
            Problem::Mismatch(format!("the proxy refused the connection ({error})"))
        }
        other => Problem::Network(other.to_string()),
    };
    Failure::new(Step::Proxy, problem)
}

async fn handshake(
    settings: &SmtpSettings,
    tls: &Arc<rustls::ClientConfig>,
    layer: Layer,
) -> Result<Layer, Failure> {
    let name = ServerName::try_from(settings.host.clone()).map_err(|_| {
        Failure::new(
            Step::Tls,
            Problem::Mismatch(format!("{} is not a host name", settings.host)),
        )
    })?;
    let stream = bounded(
        Step::Tls,
        settings.timeout,
        TlsConnector::from(Arc::clone(tls)).connect(name, layer),
        |e| Failure::new(Step::Tls, io_problem(&e)),
    )
    .await?;
    Ok(Layer::Tls(Box::new(stream)))
}

async fn greet(
    socket: SmtpSocket,
    hello: &ClientId,
    timeout: Duration,
) -> Result<AsyncSmtpConnection, Failure> {
    bounded(
        Step::Greeting,
        timeout,
        AsyncSmtpConnection::connect_with_transport(Box::new(socket), hello),
        |e| {
            // A TLS failure surfaces on the first read after the handshake.
            Failure::lettre(Step::Greeting, e)
        },
    )
    .await
}
