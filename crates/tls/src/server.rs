//! The listeners' side: a rustls configuration made once from the PEM
//! files, and [`TlsListener`], which accepts TCP connections and hands on
//! those whose handshake succeeded, to tonic (as a stream) or to axum (as
//! a `Listener`). Both servers share it, rather than tonic's own TLS, so
//! the gRPC and HTTP listeners behave alike (ALPN h2 and http/1.1, same
//! client-certificate rule, same handshake timeout).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::service::Routes;
use tonic::transport::server::{Router, TcpIncoming};

use crate::pem::{PemFile, TlsError, identity};
use crate::{CERT_FILE, CLIENT_CA_FILE, KEY_FILE};

/// A client that has not finished its handshake by then is dropped, so a
/// silent connection cannot hold a handshake slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; further connections wait in the
/// kernel's backlog. Bounds the CPU a burst of connections can take.
const MAX_HANDSHAKES: usize = 256;

/// How a listener serves TLS. Cheap to clone.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    verifies_clients: bool,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("verifies_clients", &self.verifies_clients)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// `None` when neither HERALD_TLS_CERT_FILE nor HERALD_TLS_KEY_FILE is
    /// set (plain TCP); an error when only one is, or when
    /// HERALD_TLS_CLIENT_CA_FILE is set without them.
    pub fn from_env() -> Result<Option<ServerTls>, TlsError> {
        let cert = PemFile::from_env(CERT_FILE);
        let key = PemFile::from_env(KEY_FILE);
        let client_ca = PemFile::from_env(CLIENT_CA_FILE);
        match (cert, key) {
            (Some(cert), Some(key)) => ServerTls::new(&cert, &key, client_ca.as_ref()).map(Some),
            (None, None) if client_ca.is_some() => Err(TlsError::Settings(format!(
                "{CLIENT_CA_FILE} is set but {CERT_FILE} and {KEY_FILE} are not: \
                 client certificates are checked only on a TLS listener"
            ))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(TlsError::Settings(format!(
                "{CERT_FILE} is set but {KEY_FILE} is not: give both, or neither"
            ))),
            (None, Some(_)) => Err(TlsError::Settings(format!(
                "{KEY_FILE} is set but {CERT_FILE} is not: give both, or neither"
            ))),
        }
    }

    /// The files that HERALD_TLS_CERT_FILE, HERALD_TLS_KEY_FILE and
    /// HERALD_TLS_CLIENT_CA_FILE would name (errors name those variables).
    pub fn from_paths(
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
        client_ca: Option<PathBuf>,
    ) -> Result<ServerTls, TlsError> {
        ServerTls::new(
            &PemFile::new(CERT_FILE, cert),
            &PemFile::new(KEY_FILE, key),
            client_ca
                .map(|ca| PemFile::new(CLIENT_CA_FILE, ca))
                .as_ref(),
        )
    }

    /// With `client_ca`, clients must present a certificate signed by it.
    pub fn new(
        cert: &PemFile,
        key: &PemFile,
        client_ca: Option<&PemFile>,
    ) -> Result<ServerTls, TlsError> {
        let (chain, private_key) = identity(cert, key)?;
        let builder = rustls::ServerConfig::builder_with_provider(crate::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Settings(format!("TLS: {e}")))?;
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for der in ca.certificates()? {
                    roots.add(der).map_err(|e| {
                        ca.invalid(format!(
                            "holds a certificate rustls cannot use as a root: {e}"
                        ))
                    })?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(roots.into(), crate::provider())
                        .build()
                        .map_err(|e| ca.invalid(format!("cannot verify clients: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, private_key)
            .map_err(|e| cert.invalid(format!("cannot be served: {e}")))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            verifies_clients: client_ca.is_some(),
        })
    }

    /// Whether clients must present a certificate.
    pub fn verifies_clients(&self) -> bool {
        self.verifies_clients
    }

    /// Starts accepting on `listener`; connections come out of the
    /// returned listener once their handshake has succeeded. Handshakes
    /// run side by side, so a slow client does not hold up the others.
    pub fn listen(&self, listener: TcpListener) -> TlsListener {
        let local_addr = listener.local_addr().ok();
        let (ready, handshaken) = mpsc::channel(64);
        tokio::spawn(accept_loop(listener, self.acceptor.clone(), ready));
        TlsListener {
            local_addr,
            handshaken,
        }
    }
}

/// How a listener serves, for start-up log lines.
pub fn mode(tls: Option<&ServerTls>) -> &'static str {
    match tls {
        None => "off",
        Some(tls) if tls.verifies_clients => "on, client certificates required",
        Some(_) => "on",
    }
}

/// Serves a tonic router on `listener` until `shutdown` resolves: TLS only
/// when `tls` is given, plain TCP otherwise.
pub async fn serve_grpc<L, ResBody>(
    router: Router<L>,
    listener: TcpListener,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error>
where
    L: tower::Layer<Routes>,
    L::Service: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Future: Send,
    <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Error:
        Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match tls {
        None => {
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
        Some(tls) => {
            let incoming = tls.listen(listener).into_incoming();
            router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await
        }
    }
}

/// Serves an axum router on `listener` until `shutdown` resolves: TLS only
/// when `tls` is given (HTTP/2 or HTTP/1.1 by ALPN), plain TCP otherwise.
pub async fn serve_http(
    router: axum::Router,
    listener: TcpListener,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        None => {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(tls) => {
            axum::serve(tls.listen(listener), router)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// Runs until the [`TlsListener`] is dropped (the server stopped), then
/// drops the TCP listener, which frees the port.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let accepted = tokio::select! {
            () = ready.closed() => return,
            slot = slots.clone().acquire_owned() => {
                let Ok(slot) = slot else { return };
                tokio::select! {
                    () = ready.closed() => return,
                    accepted = listener.accept() => accepted.map(|a| (a, slot)),
                }
            }
        };
        let ((tcp, peer), slot) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait, as axum does.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await;
            drop(slot);
            match handshake {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                // A client that does not trust us, has no certificate, or
                // speaks plain HTTP: its own error says why; this is for
                // whoever debugs it from the server's side.
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// Connections whose TLS handshake succeeded.
pub struct TlsListener {
    local_addr: Option<SocketAddr>,
    handshaken: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    /// For tonic's `serve_with_incoming*`.
    pub fn into_incoming(
        self,
    ) -> impl Stream<Item = Result<TlsStream<TcpStream>, std::io::Error>> + Send + 'static {
        ReceiverStream::new(self.handshaken).map(|(tls, _)| Ok(tls))
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.handshaken.recv().await {
            Some(accepted) => accepted,
            // The accept loop only ends once this receiver is gone, so
            // this is not reached; if it were, no connection would come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.local_addr
            .ok_or_else(|| std::io::Error::other("the TCP listener had no local address"))
    }
}
