//! How ingest and workers read accounts (and ingest routes) from `herald-registry`: a gRPC
//! client authenticated as the `service` role, with a short-lived cache so
//! a busy worker asks the registry once per account, not once per action.
//! Cached entries are dropped when `herald.account.changed` names them and
//! expire after the TTL anyway (in case NATS was away).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use herald_catalog::SecretMap;
use herald_metrics::{Histogram, Metrics};

use futures::StreamExt;
use herald_proto::json::opt_struct_to_json;
use herald_proto::v1::{
    self, AccountChanged, RouteChanged, account_registry_client::AccountRegistryClient,
    route_registry_client::RouteRegistryClient,
};
use herald_tls::ClientTls;
use prost::Message;
use serde_json::{Map, Value};
use tonic::transport::Channel;

/// An account as resolved from the registry. Debug prints secret names only.
#[derive(Clone)]
pub struct Account {
    pub id: String,
    pub connector_type: String,
    pub name: String,
    pub version: i64,
    pub config: Map<String, Value>,
    /// Empty unless the client resolves secrets.
    pub secrets: SecretMap,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("connector_type", &self.connector_type)
            .field("version", &self.version)
            .field("secret_fields", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Account {
    /// A config string; `None` when absent, null or not a string.
    pub fn config_str(&self, field: &str) -> Option<&str> {
        self.config.get(field).and_then(Value::as_str)
    }

    pub fn secret_str(&self, field: &str) -> Option<&str> {
        self.secrets.get(field).and_then(Value::as_str)
    }
}

/// Why a client cannot be made: its settings are wrong.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Endpoint(#[from] herald_tls::TlsError),
    #[error("HERALD_SERVICE_TOKEN holds characters not allowed in a header")]
    Token(#[source] tonic::metadata::errors::InvalidMetadataValue),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LookupError {
    /// What was looked up: `account ops`, `route team-a`.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The registry did not answer; the caller should wait and retry.
    #[error("the registry is unavailable: {0}")]
    Unavailable(String),
    /// The registry refused us (bad token, wrong role): a configuration error.
    #[error("the registry refused the lookup: {0}")]
    Refused(String),
    /// The registry answered but failed this lookup (`INTERNAL`, `DATA_LOSS`:
    /// a secret that no key opens, a broken row). Unlike an outage, this may
    /// never heal by waiting; the caller decides how often to ask again.
    #[error("the registry failed the lookup: {0}")]
    Internal(String),
}

/// Whether lookups return secrets (`ResolveAccount`, for workers) or not
/// (`GetAccount`, for ingest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    WithSecrets,
    WithoutSecrets,
}

/// Accounts (or routes) by id, with when they were fetched.
type Cache<T = Account> = Arc<RwLock<HashMap<String, (Arc<T>, Instant)>>>;

#[derive(Clone)]
pub struct RegistryClient {
    client: AccountRegistryClient<Channel>,
    routes: RouteRegistryClient<Channel>,
    authorization: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    lookup: Lookup,
    cache: Cache,
    route_cache: Cache<v1::Route>,
    ttl: Duration,
    calls: CallMetrics,
    route_calls: CallMetrics,
}

/// `herald_registry_call_duration_seconds{call,outcome}`, resolved once per
/// outcome so a lookup costs no label search.
#[derive(Clone)]
struct CallMetrics {
    ok: Histogram,
    not_found: Histogram,
    unavailable: Histogram,
    refused: Histogram,
    internal: Histogram,
}

impl CallMetrics {
    fn new(metrics: &Metrics, call: &str) -> CallMetrics {
        let family = metrics.histogram_vec(
            "herald_registry_call_duration_seconds",
            "Account and route lookups from this process to herald-registry, by call and outcome.",
            &["call", "outcome"],
            herald_metrics::CALL_BUCKETS,
        );
        let outcome = |o: &str| family.with_label_values(&[call, o]);
        CallMetrics {
            ok: outcome("ok"),
            not_found: outcome("not_found"),
            unavailable: outcome("unavailable"),
            refused: outcome("refused"),
            internal: outcome("internal"),
        }
    }

    fn observe<T>(&self, result: &Result<T, LookupError>, took: Duration) {
        let histogram = match result {
            Ok(_) => &self.ok,
            Err(LookupError::NotFound(_)) => &self.not_found,
            Err(LookupError::Unavailable(_)) => &self.unavailable,
            Err(LookupError::Refused(_)) => &self.refused,
            Err(LookupError::Internal(_)) => &self.internal,
        };
        histogram.observe(took.as_secs_f64());
    }
}

/// The id the readiness probe looks up; no account has it.
const PROBE_ACCOUNT: &str = "herald.readiness-probe";

/// How long an account is served from the cache without asking again.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
/// Each lookup's own deadline, so a hung registry reads as unavailable.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

impl RegistryClient {
    /// Does not connect yet: the first lookup does, so a registry that is
    /// down at start delays work instead of stopping the caller. An
    /// `https://` URL is reached with `tls` (HERALD_TLS_CA_FILE, ...).
    pub fn new(
        url: &str,
        service_token: &str,
        lookup: Lookup,
        tls: &ClientTls,
    ) -> Result<RegistryClient, ClientError> {
        let endpoint = tls
            .endpoint("HERALD_REGISTRY_URL", url)?
            .connect_timeout(Duration::from_secs(3))
            .timeout(CALL_TIMEOUT)
            .tcp_nodelay(true);
        let authorization = format!("Bearer {service_token}")
            .parse()
            .map_err(ClientError::Token)?;
        let channel = endpoint.connect_lazy();
        Ok(RegistryClient {
            client: AccountRegistryClient::new(channel.clone()),
            routes: RouteRegistryClient::new(channel),
            authorization,
            lookup,
            cache: Arc::default(),
            route_cache: Arc::default(),
            ttl: DEFAULT_TTL,
            // Counted nowhere until `with_metrics` says where.
            calls: CallMetrics::new(&Metrics::default(), account_call(lookup)),
            route_calls: CallMetrics::new(&Metrics::default(), "get_route"),
        })
    }

    /// Times every lookup into `metrics`.
    pub fn with_metrics(mut self, metrics: &Metrics) -> RegistryClient {
        self.calls = CallMetrics::new(metrics, account_call(self.lookup));
        self.route_calls = CallMetrics::new(metrics, "get_route");
        self
    }

    pub fn with_ttl(mut self, ttl: Duration) -> RegistryClient {
        self.ttl = ttl;
        self
    }

    pub async fn account(&self, id: &str) -> Result<Arc<Account>, LookupError> {
        if let Some((account, at)) = self.cache.read().expect("cache lock").get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(account.clone());
        }
        // Boxed: a cache miss is rare, and the gRPC call's future would
        // otherwise be carried, kilobytes large, by every caller's future.
        let account = Arc::new(Box::pin(self.fetch(id)).await?);
        let mut cache = self.cache.write().expect("cache lock");
        if cache.len() > 100_000 {
            cache.clear();
        }
        cache.insert(id.to_owned(), (account.clone(), Instant::now()));
        Ok(account)
    }

    /// A route (`GetRoute`), cached like accounts: for the TTL, and until
    /// `herald.route.changed` names it (see [`RegistryClient::drop_changed_routes`]).
    pub async fn route(&self, id: &str) -> Result<Arc<v1::Route>, LookupError> {
        if let Some((route, at)) = self.route_cache.read().expect("cache lock").get(id)
            && at.elapsed() < self.ttl
        {
            return Ok(route.clone());
        }
        let started = Instant::now();
        let result = Box::pin(self.call_route(id)).await;
        self.route_calls.observe(&result, started.elapsed());
        let route = Arc::new(result?);
        let mut cache = self.route_cache.write().expect("cache lock");
        if cache.len() > 100_000 {
            cache.clear();
        }
        cache.insert(id.to_owned(), (route.clone(), Instant::now()));
        Ok(route)
    }

    async fn call_route(&self, id: &str) -> Result<v1::Route, LookupError> {
        let request = self.request(v1::GetRouteRequest { id: id.to_owned() });
        let result = self.routes.clone().get_route(request).await;
        result
            .map(tonic::Response::into_inner)
            .map_err(|status| lookup_error(&status, || format!("route {id}")))
    }

    pub fn forget(&self, id: &str) {
        self.cache.write().expect("cache lock").remove(id);
    }

    /// Whether the registry answers a lookup (with this client's token, so
    /// a refused token shows too). Bypasses the cache, which could hide a
    /// registry that has gone away, and is not counted in the call metrics.
    pub async fn probe(&self) -> Result<(), String> {
        match self.call(PROBE_ACCOUNT).await {
            Ok(_) | Err(LookupError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn fetch(&self, id: &str) -> Result<Account, LookupError> {
        let started = Instant::now();
        let result = self.call(id).await;
        self.calls.observe(&result, started.elapsed());
        result
    }

    async fn call(&self, id: &str) -> Result<Account, LookupError> {
        let mut client = self.client.clone();
        let result = match self.lookup {
            Lookup::WithSecrets => {
                let request = self.request(v1::ResolveAccountRequest { id: id.to_owned() });
                client.resolve_account(request).await
            }
            Lookup::WithoutSecrets => {
                let request = self.request(v1::GetAccountRequest { id: id.to_owned() });
                client.get_account(request).await
            }
        };
        let account = result.map_err(|status| lookup_error(&status, || format!("account {id}")))?;
        let a = account.into_inner();
        Ok(Account {
            config: opt_struct_to_json(a.config.as_ref()),
            secrets: SecretMap(opt_struct_to_json(a.secrets.as_ref())),
            id: a.id,
            connector_type: a.connector_type,
            name: a.name,
            version: a.version,
        })
    }

    /// With the service token, and the trace of the event or delivery the
    /// lookup is for, so the registry's span joins it.
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert("authorization", self.authorization.clone());
        herald_telemetry::inject_metadata(&tracing::Span::current(), metadata);
        request
    }

    /// Drops cached routes as `herald.route.changed` announces changes
    /// (`Subjects::route_changed`), as [`RegistryClient::drop_changed`] does
    /// for accounts.
    pub async fn drop_changed_routes(
        &self,
        nats: &async_nats::Client,
        subject: String,
    ) -> Result<(), async_nats::SubscribeError> {
        let mut changes = nats.subscribe(subject).await?;
        let cache = self.route_cache.clone();
        tokio::spawn(async move {
            while let Some(message) = changes.next().await {
                if let Ok(changed) = RouteChanged::decode(message.payload) {
                    cache.write().expect("cache lock").remove(&changed.id);
                }
            }
        });
        Ok(())
    }

    /// Drops cached accounts as `herald.account.changed` announces changes.
    /// Subscribes before returning, so no later change is missed; the
    /// watching runs until the NATS client closes.
    pub async fn drop_changed(
        &self,
        nats: &async_nats::Client,
        subject: String,
    ) -> Result<(), async_nats::SubscribeError> {
        let mut changes = nats.subscribe(subject).await?;
        let cache = self.cache.clone();
        tokio::spawn(async move {
            while let Some(message) = changes.next().await {
                if let Ok(changed) = AccountChanged::decode(message.payload) {
                    cache.write().expect("cache lock").remove(&changed.id);
                }
            }
        });
        Ok(())
    }
}

fn account_call(lookup: Lookup) -> &'static str {
    match lookup {
        Lookup::WithSecrets => "resolve_account",
        Lookup::WithoutSecrets => "get_account",
    }
}

/// A failed lookup as the caller acts on it; `what` names it (`account ops`).
fn lookup_error(status: &tonic::Status, what: impl FnOnce() -> String) -> LookupError {
    match status.code() {
        tonic::Code::NotFound => LookupError::NotFound(what()),
        tonic::Code::Unauthenticated
        | tonic::Code::PermissionDenied
        | tonic::Code::InvalidArgument => LookupError::Refused(status.message().to_owned()),
        tonic::Code::Internal | tonic::Code::DataLoss => {
            LookupError::Internal(format!("{}: {}", status.code(), status.message()))
        }
        _ => LookupError::Unavailable(format!("{}: {}", status.code(), status.message())),
    }
}
