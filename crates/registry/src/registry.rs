//! The registry's rules, independent of gRPC: validation against the catalog
//! and the policy, secrets merged on replace and sealed before they reach the
//! store, optimistic concurrency, preconfigured accounts that cannot change,
//! and an announcement after every change.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use herald_catalog::account::{AccountId, MAX_ID_LEN, name_problem};
use herald_catalog::{ConnectorSpec, Policy, SecretMap, Violations, echo};
use herald_config::PreconfiguredAccount;
use herald_connectors::catalog;
use herald_proto::status::{ErrorCode, ServiceError};
use serde_json::{Map, Value};

use crate::announce::Announcer;
use crate::cache::AccountCache;
use crate::secret_box::{SealError, SecretBox};
use crate::store::{AccountStore, StoreError, StoredAccount};

mod history;
mod routes;

pub use history::{HISTORY_STATES, HistoryPage, counts_window};
pub use routes::RouteView;

pub const MAX_PAGE_SIZE: usize = 1000;
const DEFAULT_PAGE_SIZE: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid account: {0}")]
    Invalid(Violations),
    /// Holds the id as the caller sent it; shown cut short (see [`echo`]).
    #[error("account {} does not exist", echo(.0))]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(
        "account {0} is preconfigured in HERALD_CONFIG and cannot be changed or deleted through the API"
    )]
    Preconfigured(String),
    #[error("invalid route: {0}")]
    InvalidRoute(Violations),
    #[error("route {} does not exist", echo(.0))]
    RouteNotFound(String),
    #[error(
        "route {0} is preconfigured in HERALD_CONFIG and cannot be changed or deleted through the API"
    )]
    RoutePreconfigured(String),
    /// A delivery-history query the registry cannot run; `field` names the
    /// part of the request at fault.
    #[error("{field}: {message}")]
    BadQuery { field: String, message: String },
    /// The history holds no attempt of this action.
    #[error(
        "the history holds no attempt of action {} (unknown, not ended yet, or past HERALD_HISTORY_TTL)",
        echo(.0)
    )]
    NoAttempts(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("secrets of account {id} cannot be decrypted")]
    Seal {
        id: String,
        #[source]
        source: SealError,
    },
}

impl ServiceError for RegistryError {
    fn code(&self) -> ErrorCode {
        match self {
            RegistryError::Invalid(_) | RegistryError::InvalidRoute(_) => {
                ErrorCode::InvalidArgument
            }
            RegistryError::NotFound(_)
            | RegistryError::RouteNotFound(_)
            | RegistryError::NoAttempts(_) => ErrorCode::NotFound,
            RegistryError::BadQuery { .. } => ErrorCode::InvalidArgument,
            RegistryError::Conflict(_) => ErrorCode::Aborted,
            RegistryError::Preconfigured(_) | RegistryError::RoutePreconfigured(_) => {
                ErrorCode::FailedPrecondition
            }
            RegistryError::Store(StoreError::Unavailable(_)) => ErrorCode::Unavailable,
            RegistryError::Store(_) | RegistryError::Seal { .. } => ErrorCode::Internal,
        }
    }
}

/// An account as readers without secrets see it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    pub id: String,
    pub connector_type: &'static str,
    pub name: String,
    pub config: Map<String, Value>,
    pub secret_fields: Vec<String>,
    pub preconfigured: bool,
    /// Kibana's `exposeConfig: false`: readers get no `config`.
    pub config_hidden: bool,
    pub version: i64,
    /// Milliseconds since the Unix epoch; 0 for preconfigured accounts.
    pub created_at: i64,
    pub updated_at: i64,
}

/// An account with its secrets, for the `service` role only.
#[derive(Debug, Clone)]
pub struct ResolvedAccount {
    pub view: AccountView,
    pub secrets: SecretMap,
}

/// A create-or-replace request, as the caller sent it.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    pub id: String,
    pub connector_type: String,
    pub name: String,
    pub config: Map<String, Value>,
    /// A value replaces the stored secret, `null` removes it, and a field
    /// left out keeps its stored value.
    pub secrets: SecretMap,
    /// The version the caller read; 0 replaces unconditionally.
    pub version: i64,
    /// Kibana's `exposeConfig: false` (see [`AccountView::config_hidden`]);
    /// `None` keeps what is stored (false for a new account): Kibana's and
    /// Signals' APIs have no such field.
    pub config_hidden: Option<bool>,
}

struct Preconfigured {
    /// With its config; [`public`] hides it unless `exposeConfig`.
    view: AccountView,
    secrets: SecretMap,
}

pub struct Registry {
    store: AccountStore,
    secret_box: SecretBox,
    policy: Policy,
    preconfigured: BTreeMap<String, Preconfigured>,
    announcer: Arc<Announcer>,
    cache: Arc<AccountCache>,
    /// HERALD_CONFIG's read-only routes, by id.
    routes: BTreeMap<String, RouteView>,
    /// The delivery history's writer and pruner, while the registry lives.
    history: Option<crate::history::History>,
}

impl Registry {
    /// Checks every preconfigured account now, so a bad one stops the
    /// registry at start with a message naming it.
    pub fn new(
        store: AccountStore,
        secret_box: SecretBox,
        policy: Policy,
        preconfigured: Vec<PreconfiguredAccount>,
        announcer: Arc<Announcer>,
    ) -> Result<Registry, String> {
        let mut table = BTreeMap::new();
        for account in preconfigured {
            // The id was parsed where HERALD_CONFIG was read.
            let at = format!("preconfigured account {}", account.id);
            if let Some(problem) = name_problem(&account.name) {
                return Err(format!("{at}: name: {problem}"));
            }
            let spec = catalog().get(&account.connector_type).ok_or_else(|| {
                format!("{at}: unknown connector type {}", account.connector_type)
            })?;
            let (config, secrets) = (
                Value::Object(account.config),
                Value::Object(account.secrets.0),
            );
            spec.validate_account(&config, &secrets, &policy)
                .map_err(|v| format!("{at}: {v}"))?;
            let (Value::Object(config), Value::Object(secrets)) = (config, secrets) else {
                unreachable!("built from maps above")
            };
            let view = AccountView {
                id: account.id.to_string(),
                connector_type: spec.id,
                name: account.name,
                config,
                secret_fields: secret_fields(&secrets),
                preconfigured: true,
                config_hidden: !account.expose_config,
                version: 1,
                created_at: 0,
                updated_at: 0,
            };
            let entry = Preconfigured {
                view,
                secrets: SecretMap(secrets),
            };
            table.insert(account.id.into_string(), entry);
        }
        let cache = Arc::new(AccountCache::default());
        announcer.drop_changed_from(cache.clone());
        Ok(Registry {
            store,
            secret_box,
            policy,
            preconfigured: table,
            announcer,
            cache,
            routes: BTreeMap::new(),
            history: None,
        })
    }

    pub fn store(&self) -> &AccountStore {
        &self.store
    }

    /// Starts writing the delivery history from the RESULTS stream, when
    /// the registry has NATS.
    pub fn with_history(mut self, settings: &crate::history::HistorySettings) -> Registry {
        if let Some((client, subjects)) = self.announcer.nats().filter(|_| settings.enabled) {
            self.history = Some(crate::history::History::start(
                self.store.clone(),
                client,
                subjects,
                settings,
            ));
        }
        self
    }

    /// The NATS connection and subject names, when the registry has NATS
    /// (the console reads the workers' backlog through it).
    pub fn nats(&self) -> Option<(async_nats::Client, herald_messaging::Subjects)> {
        self.announcer.nats()
    }

    /// The dead letters, when the registry has NATS.
    pub fn dead_letters(&self) -> Option<herald_messaging::dead_letters::DeadLetters> {
        self.announcer.dead_letters()
    }

    /// The key that signs the console's session cookies: derived from the
    /// current master key, so every replica accepts the cookies of the others.
    pub fn console_key(&self) -> [u8; 32] {
        self.secret_box.derive("herald console sessions v1")
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub async fn put(&self, input: AccountInput) -> Result<AccountView, RegistryError> {
        let mut violations = Violations::default();
        if let Err(problem) = AccountId::parse(input.id.as_str()) {
            violations.push("id", problem.to_string());
        }
        if let Some(problem) = name_problem(&input.name) {
            violations.push("name", problem);
        }
        let spec = self.spec_for_put(&input.connector_type, &mut violations);
        if self.preconfigured.contains_key(&input.id) {
            return Err(RegistryError::Preconfigured(input.id));
        }
        let (Some(spec), true) = (spec, violations.is_empty()) else {
            return Err(RegistryError::Invalid(violations));
        };

        let current = self.store.get(&input.id).await?;
        if input.version != 0 && current.as_ref().map(|c| c.version) != Some(input.version) {
            return Err(RegistryError::Conflict(match &current {
                Some(c) => format!(
                    "account {} is at version {}, not {}: read it again and retry",
                    input.id, c.version, input.version
                ),
                None => format!(
                    "account {} does not exist (the put named version {})",
                    input.id, input.version
                ),
            }));
        }
        if let Some(c) = &current
            && c.connector_type != spec.id
        {
            violations.push(
                "connector_type",
                format!(
                    "cannot change from {} to {}: delete the account and create it again",
                    c.connector_type, spec.id
                ),
            );
            return Err(RegistryError::Invalid(violations));
        }

        let mut secrets = match &current {
            Some(c) => self.open(c)?,
            None => SecretMap::default(),
        };
        for (field, value) in input.secrets.0 {
            if value.is_null() {
                secrets.0.remove(&field);
            } else {
                secrets.0.insert(field, value);
            }
        }
        let (config, secrets_value) = (Value::Object(input.config), Value::Object(secrets.0));
        spec.validate_account(&config, &secrets_value, &self.policy)
            .map_err(RegistryError::Invalid)?;
        let (Value::Object(config), Value::Object(secrets)) = (config, secrets_value) else {
            unreachable!("built from maps above")
        };

        let now = now_ms();
        let plaintext = serde_json::to_vec(&secrets).expect("JSON values serialize");
        let mut stored = StoredAccount {
            secret_fields: secret_fields(&secrets),
            secrets: self.secret_box.seal(&plaintext, &aad(&input.id, spec.id)),
            id: input.id,
            connector_type: spec.id.to_owned(),
            name: input.name,
            config,
            config_hidden: input
                .config_hidden
                .unwrap_or_else(|| current.as_ref().is_some_and(|c| c.config_hidden)),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let written = match &current {
            Some(c) => {
                stored.version = c.version + 1;
                stored.created_at = c.created_at;
                self.store.update(&stored, c.version).await?
            }
            None => self.store.insert(&stored).await?,
        };
        if !written {
            return Err(RegistryError::Conflict(format!(
                "account {} was changed concurrently: read it again and retry",
                stored.id
            )));
        }
        self.cache.invalidate(&stored.id);
        tracing::info!(account.id = %stored.id, account.type = %stored.connector_type, version = stored.version, "account saved");
        self.announcer
            .account_changed(&stored.id, stored.version, spec.id, false)
            .await;
        Ok(public(view_of(&stored, spec)))
    }

    fn spec_for_put(
        &self,
        connector_type: &str,
        violations: &mut Violations,
    ) -> Option<&'static ConnectorSpec> {
        if connector_type.is_empty() {
            violations.push("connector_type", "required");
            return None;
        }
        let Some(spec) = catalog().get(connector_type) else {
            violations.push(
                "connector_type",
                format!(
                    "unknown connector type {} (see ListConnectorTypes)",
                    echo(connector_type)
                ),
            );
            return None;
        };
        if !self.policy.type_enabled(spec.id) {
            violations.push(
                "connector_type",
                format!("{} is not in policy.enabled_connector_types", spec.id),
            );
        }
        Some(spec)
    }

    pub async fn get(&self, id: &str) -> Result<AccountView, RegistryError> {
        check_lookup_id(id)?;
        if let Some(p) = self.preconfigured.get(id) {
            return Ok(public(p.view.clone()));
        }
        let stored = self.load(id).await?;
        Ok(public(view_of(&stored, Self::spec_of_stored(&stored)?)))
    }

    pub async fn resolve(&self, id: &str) -> Result<ResolvedAccount, RegistryError> {
        check_lookup_id(id)?;
        if let Some(p) = self.preconfigured.get(id) {
            return Ok(ResolvedAccount {
                view: p.view.clone(),
                secrets: p.secrets.clone(),
            });
        }
        let stored = self.load(id).await?;
        Ok(ResolvedAccount {
            secrets: self.open(&stored)?,
            view: view_of(&stored, Self::spec_of_stored(&stored)?),
        })
    }

    /// One page of accounts by id, stored and preconfigured together.
    /// `page_token` is the last id of the previous page; a non-empty `query`
    /// keeps the accounts whose id or name holds it (ASCII case-insensitive).
    pub async fn list(
        &self,
        connector_type: Option<&str>,
        query: &str,
        page_size: usize,
        page_token: &str,
    ) -> Result<(Vec<AccountView>, String), RegistryError> {
        let page_size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let wanted = match connector_type.filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(catalog().get(t).map(|s| s.id).ok_or_else(|| {
                let mut v = Violations::default();
                v.push(
                    "connector_type",
                    format!(
                        "unknown connector type {} (see ListConnectorTypes)",
                        echo(t)
                    ),
                );
                RegistryError::Invalid(v)
            })?),
        };
        // One more than a page tells whether another page follows.
        let stored = self
            .store
            .list(wanted, page_token, query, page_size as i64 + 1)
            .await?;
        let mut page: Vec<AccountView> = Vec::with_capacity(page_size + 1);
        let mut fixed = self
            .preconfigured
            .range::<str, _>((
                std::ops::Bound::Excluded(page_token),
                std::ops::Bound::Unbounded,
            ))
            .map(|(_, p)| p)
            .filter(|p| wanted.is_none_or(|t| p.view.connector_type == t))
            .filter(|p| matches_query(&p.view, query))
            .peekable();
        let mut stored = stored.into_iter().peekable();
        while page.len() <= page_size {
            let take_fixed = match (fixed.peek(), stored.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(p), Some(s)) => p.view.id <= s.id,
            };
            if take_fixed {
                let p = fixed.next().expect("peeked");
                // A stored row with a preconfigured id is shadowed.
                if stored.peek().is_some_and(|s| s.id == p.view.id) {
                    stored.next();
                }
                page.push(public(p.view.clone()));
            } else {
                let s = stored.next().expect("peeked");
                page.push(public(view_of(&s, Self::spec_of_stored(&s)?)));
            }
        }
        let next = if page.len() > page_size {
            page.truncate(page_size);
            page.last().map(|a| a.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok((page, next))
    }

    pub async fn delete(&self, id: &str, version: i64) -> Result<(), RegistryError> {
        check_lookup_id(id)?;
        if self.preconfigured.contains_key(id) {
            return Err(RegistryError::Preconfigured(id.to_owned()));
        }
        let current = self
            .store
            .get(id)
            .await?
            .ok_or_else(|| RegistryError::NotFound(id.to_owned()))?;
        if version != 0 && version != current.version {
            return Err(RegistryError::Conflict(format!(
                "account {id} is at version {}, not {version}: read it again and retry",
                current.version
            )));
        }
        if !self.store.delete(id, current.version).await? {
            return Err(RegistryError::Conflict(format!(
                "account {id} was changed concurrently: read it again and retry"
            )));
        }
        self.cache.invalidate(id);
        tracing::info!(account.id = %id, account.type = %current.connector_type, "account deleted");
        self.announcer
            .account_changed(id, current.version, &current.connector_type, true)
            .await;
        Ok(())
    }

    /// Every connector type and whether policy enables it.
    pub fn connector_types(&self) -> impl Iterator<Item = (&'static ConnectorSpec, bool)> + '_ {
        catalog()
            .all()
            .iter()
            .map(|s| (s, self.policy.type_enabled(s.id)))
    }

    /// Re-seals every account sealed by an older key under the current one.
    /// Returns how many were re-sealed. Safe to run while the registry serves.
    pub async fn rotate_keys(&self) -> Result<usize, RegistryError> {
        let current = self.secret_box.current_key_id().to_owned();
        let mut done = 0;
        loop {
            let batch = self.store.sealed_by_other_keys(&current, 100).await?;
            if batch.is_empty() {
                return Ok(done);
            }
            // Stop if a whole batch was changed under us (by a replica that
            // seals with another key) rather than loop on it.
            let mut progressed = false;
            for account in batch {
                let plaintext = self
                    .secret_box
                    .open(&account.secrets, &aad(&account.id, &account.connector_type))
                    .map_err(|source| RegistryError::Seal {
                        id: account.id.clone(),
                        source,
                    })?;
                let fresh = self
                    .secret_box
                    .seal(&plaintext, &aad(&account.id, &account.connector_type));
                // A row changed meanwhile was re-sealed by that change.
                if self
                    .store
                    .reseal(&account.id, account.version, &account.secrets, &fresh)
                    .await?
                {
                    self.cache.invalidate(&account.id);
                    done += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return Ok(done);
            }
        }
    }

    /// A stored account, from the cache when it is fresh there.
    async fn load(&self, id: &str) -> Result<Arc<StoredAccount>, RegistryError> {
        if let Some(hit) = self.cache.get(id) {
            return Ok(hit);
        }
        let epoch = self.cache.epoch();
        let stored = Arc::new(
            self.store
                .get(id)
                .await?
                .ok_or_else(|| RegistryError::NotFound(id.to_owned()))?,
        );
        self.cache.fill(epoch, stored.clone());
        Ok(stored)
    }

    fn open(&self, stored: &StoredAccount) -> Result<SecretMap, RegistryError> {
        let seal_error = |source| RegistryError::Seal {
            id: stored.id.clone(),
            source,
        };
        let plaintext = self
            .secret_box
            .open(&stored.secrets, &aad(&stored.id, &stored.connector_type))
            .map_err(seal_error)?;
        let map = serde_json::from_slice(&plaintext).map_err(|_| {
            RegistryError::Store(StoreError::Corrupt {
                id: stored.id.clone(),
                reason: "secrets are not a JSON object".into(),
            })
        })?;
        Ok(SecretMap(map))
    }

    /// A stored row's type; unknown only if a newer Herald with more types wrote it.
    fn spec_of_stored(stored: &StoredAccount) -> Result<&'static ConnectorSpec, RegistryError> {
        catalog().get(&stored.connector_type).ok_or_else(|| {
            RegistryError::Store(StoreError::Corrupt {
                id: stored.id.clone(),
                reason: format!("unknown connector type {}", stored.connector_type),
            })
        })
    }
}

/// The listing's `query` rule, as the store applies it in SQL.
fn matches_query(view: &AccountView, query: &str) -> bool {
    let q = query.to_ascii_lowercase();
    q.is_empty()
        || view.id.to_ascii_lowercase().contains(&q)
        || view.name.to_ascii_lowercase().contains(&q)
}

/// An id longer than any account's is bad input, refused before it reaches
/// the store. A shorter id that breaks the rule is just unknown: `NOT_FOUND`.
fn check_lookup_id(id: &str) -> Result<(), RegistryError> {
    if id.len() <= MAX_ID_LEN {
        return Ok(());
    }
    let mut v = Violations::default();
    v.push(
        "id",
        format!(
            "must be at most {MAX_ID_LEN} characters ({})",
            herald_catalog::account::ID_RULE
        ),
    );
    Err(RegistryError::Invalid(v))
}

/// Associated data binding a ciphertext to its account and type.
fn aad(id: &str, connector_type: &str) -> Vec<u8> {
    format!("herald.account.secrets\0{id}\0{connector_type}").into_bytes()
}

fn secret_fields(secrets: &Map<String, Value>) -> Vec<String> {
    secrets
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect()
}

fn view_of(stored: &StoredAccount, spec: &'static ConnectorSpec) -> AccountView {
    AccountView {
        id: stored.id.clone(),
        connector_type: spec.id,
        name: stored.name.clone(),
        config: stored.config.clone(),
        secret_fields: stored.secret_fields.clone(),
        preconfigured: false,
        config_hidden: stored.config_hidden,
        version: stored.version,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }
}

/// What readers see: no config when it is hidden (Kibana hides a
/// preconfigured connector's config unless `exposeConfig`, and an imported
/// one keeps that); the service role's resolve gets it all.
fn public(mut view: AccountView) -> AccountView {
    if view.config_hidden {
        view.config = Map::new();
    }
    view
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
