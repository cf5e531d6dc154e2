//! Fixtures shared by every Herald crate's tests: real parts on loopback
//! instead of mocks of our own traits.
//!
//! - [`NatsServer`]: a private `nats-server -js` on a port of its own, with a
//!   temporary store, killed on drop; it can be stopped and restarted on the
//!   same port and store to test NATS outages.
//! - [`postgres_database`]: a fresh, randomly named PostgreSQL database on the
//!   local (or `HERALD_TEST_POSTGRES_URL`) server, dropped on drop; `None`
//!   when no server answers, unless `HERALD_TEST_REQUIRE_POSTGRES=1`.
//! - [`SmtpServer`]: a real SMTP server (aiosmtpd) with STARTTLS, implicit
//!   TLS, AUTH and scripted replies, recording what it accepts.
//! - [`TestPki`]: a throwaway CA issuing server and client certificates.
//! - [`grpc::unary_raw`]: a gRPC call carrying any bytes as its message.
//! - [`free_port`] and [`init_tracing`].
//!
//! Fixtures panic with a message saying what to do instead of returning
//! errors: they run only in tests, where a panic is the clearest report.
//! Missing tools are installed by `scripts/setup.sh`.
//!
//! ```
//! let nats = herald_test_support::NatsServer::start();
//! assert_eq!(nats.url(), format!("nats://127.0.0.1:{}", nats.port()));
//! ```

pub mod grpc;
mod nats;
mod pki;
mod postgres;
mod smtp;

use std::net::{Ipv4Addr, TcpListener};
use std::sync::Once;

pub use nats::NatsServer;
pub use pki::TestPki;
pub use postgres::{
    DEFAULT_POSTGRES_URL, POSTGRES_URL_ENV, PgDatabase, PostgresUnavailable, REQUIRE_POSTGRES_ENV,
    postgres_database,
};
pub use smtp::{ReceivedMail, SmtpOptions, SmtpServer, SmtpTls};

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// The OS picks it (bind to port 0) and the listener is closed before
/// returning, so another process may take it before you bind it: prefer
/// letting the server under test bind `127.0.0.1:0` itself and asking it
/// for its address. Use this only for programs that need a port up front,
/// and retry on `AddrInUse`.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("binding 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("local address of a bound listener")
        .port()
}

/// Installs a `tracing` subscriber for tests, once per process; later calls
/// do nothing.
///
/// The filter comes from `TEST_LOG` (`EnvFilter` syntax, e.g.
/// `TEST_LOG=herald_registry=debug,info`) and defaults to `warn`. Output goes
/// through the test harness's capture, so it shows only for failing tests
/// (or with `--no-capture`).
pub fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let filter = match std::env::var("TEST_LOG") {
            Ok(directives) => {
                tracing_subscriber::EnvFilter::try_new(&directives).unwrap_or_else(|err| {
                    panic!("TEST_LOG={directives:?} is not a valid filter: {err}")
                })
            }
            Err(_) => tracing_subscriber::EnvFilter::new("warn"),
        };
        // Another subscriber may already be installed (a test that set its
        // own); that one wins and this is not an error.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}
