//! The byte streams under lettre's SMTP connection. lettre cannot go
//! through a SOCKS5 proxy, leaves Nagle's algorithm on, and only takes TLS
//! settings it builds itself; so we open the socket, the proxy tunnel and
//! the TLS session ourselves and hand lettre the result
//! (`AsyncSmtpConnection::connect_with_transport`).
//!
//! For STARTTLS the plain stream sits in a shared slot: after the server's
//! `220` to STARTTLS we take it out from under the plain connection, wrap it
//! in TLS, and start a new lettre connection on it whose first read is a
//! stand-in greeting, so that lettre says EHLO again and learns the
//! extensions offered over TLS.
//!
//! Sockets are opened by `connect_allowed`: it resolves the server (or the
//! SOCKS5 proxy) and connects only to addresses the egress policy allows,
//! as the HTTP client's resolver does.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::delivery::http::{LookupError, lookup_allowed};
use herald_catalog::Policy;
use lettre::transport::smtp::client::AsyncTokioStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_socks::tcp::Socks5Stream;

/// Why no TCP connection was opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Every address of the host is internal and not in the policy.
    #[error("{0}")]
    Refused(LookupError),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// TCP to `host:port` (a name or an IP) at the first address the policy
/// allows that answers. The name is resolved here, so the address checked
/// is the address connected to.
pub async fn connect_allowed(
    policy: &Policy,
    host: &str,
    port: u16,
) -> Result<TcpStream, ConnectError> {
    let addrs = match lookup_allowed(policy, host, port).await {
        Ok(addrs) => addrs,
        Err(LookupError::Dns { source, .. }) => return Err(ConnectError::Io(source)),
        Err(refused) => return Err(ConnectError::Refused(refused)),
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(error) => last = error,
        }
    }
    Err(ConnectError::Io(last))
}

/// What is under the SMTP dialogue.
pub enum Layer {
    Tcp(TcpStream),
    Socks(Socks5Stream<TcpStream>),
    Tls(Box<TlsStream<Layer>>),
}

impl Layer {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Layer::Tcp(tcp) => tcp.peer_addr(),
            Layer::Socks(socks) => std::ops::Deref::deref(socks).peer_addr(),
            Layer::Tls(tls) => tls.get_ref().0.peer_addr(),
        }
    }
}

macro_rules! each_layer {
    ($self:expr, $s:ident => $body:expr) => {
        match $self.get_mut() {
            Layer::Tcp($s) => $body,
            Layer::Socks($s) => $body,
            Layer::Tls($s) => $body,
        }
    };
}

impl AsyncRead for Layer {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each_layer!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Layer {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_layer!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_layer!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_layer!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

/// The slot a stream lives in; see the module comment.
pub type Slot = Arc<Mutex<Option<Layer>>>;

/// The stream lettre is given. The mutex is never contended: one
/// connection is used by one delivery at a time.
pub struct SmtpSocket {
    slot: Slot,
    /// Served before any byte from the server (the stand-in greeting).
    greeting: &'static [u8],
    /// `config.debug`: the dialogue goes to the log, credentials redacted.
    dialogue: Option<Dialogue>,
}

impl SmtpSocket {
    pub fn new(layer: Layer, debug: Option<String>) -> SmtpSocket {
        SmtpSocket {
            slot: Arc::new(Mutex::new(Some(layer))),
            greeting: b"",
            dialogue: debug.map(Dialogue::new),
        }
    }

    /// After STARTTLS: lettre reads a greeting first, which the server does
    /// not send again.
    pub fn after_starttls(layer: Layer, debug: Option<String>) -> SmtpSocket {
        SmtpSocket {
            greeting: b"220 TLS session started\r\n",
            ..SmtpSocket::new(layer, debug)
        }
    }

    pub fn slot(&self) -> Slot {
        Arc::clone(&self.slot)
    }

    fn with<T>(
        &mut self,
        f: impl FnOnce(Pin<&mut Layer>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let mut slot = self.slot.lock().expect("SMTP stream lock");
        match slot.as_mut() {
            Some(layer) => f(Pin::new(layer)),
            None => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the stream moved to the TLS session",
            ))),
        }
    }
}

impl std::fmt::Debug for SmtpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpSocket")
    }
}

impl AsyncTokioStream for SmtpSocket {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self.slot.lock().expect("SMTP stream lock").as_ref() {
            Some(layer) => layer.peer_addr(),
            None => Err(io::Error::from(io::ErrorKind::NotConnected)),
        }
    }
}

impl AsyncRead for SmtpSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.greeting.is_empty() {
            let n = this.greeting.len().min(buf.remaining());
            buf.put_slice(&this.greeting[..n]);
            this.greeting = &this.greeting[n..];
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let result = this.with(|layer| layer.poll_read(cx, buf));
        if let (Some(dialogue), Poll::Ready(Ok(()))) = (&mut this.dialogue, &result) {
            dialogue.read(&buf.filled()[before..]);
        }
        result
    }
}

impl AsyncWrite for SmtpSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = this.with(|layer| layer.poll_write(cx, buf));
        if let (Some(dialogue), Poll::Ready(Ok(n))) = (&mut this.dialogue, &result) {
            dialogue.wrote(&buf[..*n]);
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().with(|layer| layer.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().with(|layer| layer.poll_shutdown(cx))
    }
}

/// Logs the SMTP dialogue line by line (`config.debug`, Signals' `debug`).
/// What follows `AUTH` and every line sent while the server asks for more
/// (`334`) is redacted; the message itself is logged as its size only.
struct Dialogue {
    host: String,
    /// A partial line from the server.
    partial: Vec<u8>,
    in_auth: bool,
    in_data: bool,
    data_bytes: usize,
}

impl Dialogue {
    fn new(host: String) -> Dialogue {
        Dialogue {
            host,
            partial: Vec::new(),
            in_auth: false,
            in_data: false,
            data_bytes: 0,
        }
    }

    fn wrote(&mut self, bytes: &[u8]) {
        if self.in_data {
            self.data_bytes += bytes.len();
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        for line in text.split_terminator("\r\n") {
            let shown = redact_command(line, self.in_auth);
            if line.to_ascii_uppercase().starts_with("AUTH ") {
                self.in_auth = true;
            }
            tracing::info!(smtp.host = %self.host, "C: {shown}");
        }
    }

    fn read(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = self.partial.drain(..end + 2).collect();
            let line = String::from_utf8_lossy(&line[..end]).into_owned();
            if self.in_data {
                tracing::info!(smtp.host = %self.host, "C: <message, {} bytes>", self.data_bytes);
                self.in_data = false;
                self.data_bytes = 0;
            }
            let code = line.get(..3).unwrap_or_default();
            // 334: the server asks for the next credential; anything
            // else ends the exchange.
            self.in_auth = code == "334";
            if code == "354" {
                self.in_data = true;
            }
            tracing::info!(smtp.host = %self.host, "S: {line}");
        }
    }
}

/// A command line as the log shows it: `AUTH PLAIN [redacted]`, and lines
/// that answer an AUTH challenge as `[redacted]`.
pub fn redact_command(line: &str, in_auth: bool) -> String {
    if in_auth {
        return "[redacted]".into();
    }
    let mut words = line.splitn(3, ' ');
    match (words.next(), words.next(), words.next()) {
        (Some(auth), Some(mechanism), rest) if auth.eq_ignore_ascii_case("AUTH") => match rest {
            Some(_) => format!("{auth} {mechanism} [redacted]"),
            None => format!("{auth} {mechanism}"),
        },
        _ => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_command;

    #[test]
    fn credentials_never_shown() {
        assert_eq!(
            redact_command("AUTH PLAIN AGFsaWNlAHNlY3JldA==", false),
            "AUTH PLAIN [redacted]"
        );
        assert_eq!(redact_command("AUTH LOGIN", false), "AUTH LOGIN");
        assert_eq!(redact_command("YWxpY2U=", true), "[redacted]");
        assert_eq!(
            redact_command("MAIL FROM:<a@example.com>", false),
            "MAIL FROM:<a@example.com>"
        );
    }
}
