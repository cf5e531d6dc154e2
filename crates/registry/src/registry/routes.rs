//! Routes: which accounts an alert goes to, with what params, how often.
//! Owned like accounts (versions, optimistic concurrency, read-only ones
//! from HERALD_CONFIG, an announcement after each change) and checked on
//! save against the accounts and the catalog: every action's params must
//! render, for a sample firing and a sample resolved alert, into params its
//! connector type accepts, by the same step ingest runs at submit time.
//! Routes hold no secrets and are read rarely (ingest caches them), so the
//! registry keeps no cache of its own.

use std::collections::BTreeSet;

use herald_catalog::Violations;
use herald_catalog::alert::{AlertPhase, AlertView};
use herald_config::RouteDocument;
use herald_connectors::catalog;
use herald_templates::{AlertAction, Budget, render_alert_action_within};
use serde_json::json;

use super::{
    AccountView, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Registry, RegistryError, check_lookup_id,
    now_ms, view_of,
};
use crate::store::StoredRoute;

/// `date` in the sample variables a route's templates are checked with.
const SAMPLE_DATE: &str = "2026-01-01T00:00:00Z";

/// A route as readers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteView {
    pub route: RouteDocument,
    pub preconfigured: bool,
    pub version: i64,
    /// Milliseconds since the Unix epoch; 0 for preconfigured routes.
    pub created_at: i64,
    pub updated_at: i64,
}

impl Registry {
    /// Adds HERALD_CONFIG's routes, each checked as a put would check it,
    /// so that a route naming a missing account stops the registry at start
    /// with a message naming both.
    pub async fn with_routes(mut self, routes: Vec<RouteDocument>) -> Result<Registry, String> {
        for route in routes {
            let at = format!("routes.{}", route.id);
            let mut v = Violations::new();
            route.check_shape(&mut v);
            if v.is_empty() {
                self.check_actions(&route, &mut v)
                    .await
                    .map_err(|e| format!("{at}: {e}"))?;
            }
            if let Some(first) = v.iter().next() {
                return Err(format!("{at}.{}: {}", first.path, first.message));
            }
            let view = RouteView {
                route,
                preconfigured: true,
                version: 1,
                created_at: 0,
                updated_at: 0,
            };
            self.routes.insert(view.route.id.clone(), view);
        }
        Ok(self)
    }

    /// Create or replace; `version` 0 replaces unconditionally, otherwise
    /// it must be the stored one.
    pub async fn put_route(
        &self,
        route: RouteDocument,
        version: i64,
    ) -> Result<RouteView, RegistryError> {
        let mut violations = Violations::new();
        route.check_shape(&mut violations);
        if self.routes.contains_key(&route.id) {
            return Err(RegistryError::RoutePreconfigured(route.id));
        }
        if violations.is_empty() {
            self.check_actions(&route, &mut violations).await?;
        }
        if !violations.is_empty() {
            return Err(RegistryError::InvalidRoute(violations));
        }
        let current = self.store.get_route(&route.id).await?;
        if version != 0 && current.as_ref().map(|c| c.version) != Some(version) {
            return Err(RegistryError::Conflict(match &current {
                Some(c) => format!(
                    "route {} is at version {}, not {version}: read it again and retry",
                    route.id, c.version
                ),
                None => format!(
                    "route {} does not exist (the put named version {version})",
                    route.id
                ),
            }));
        }
        let now = now_ms();
        let mut stored = StoredRoute {
            id: route.id.clone(),
            name: route.name.clone(),
            definition: definition(&route),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let written = match &current {
            Some(c) => {
                stored.version = c.version + 1;
                stored.created_at = c.created_at;
                self.store.update_route(&stored, c.version).await?
            }
            None => self.store.insert_route(&stored).await?,
        };
        if !written {
            return Err(RegistryError::Conflict(format!(
                "route {} was changed concurrently: read it again and retry",
                stored.id
            )));
        }
        tracing::info!(route.id = %stored.id, version = stored.version, "route saved");
        self.announcer
            .route_changed(&stored.id, stored.version, false)
            .await;
        Ok(RouteView {
            route,
            preconfigured: false,
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }

    pub async fn get_route(&self, id: &str) -> Result<RouteView, RegistryError> {
        check_lookup_id(id)?;
        if let Some(view) = self.routes.get(id) {
            return Ok(view.clone());
        }
        let stored = self
            .store
            .get_route(id)
            .await?
            .ok_or_else(|| RegistryError::RouteNotFound(id.to_owned()))?;
        route_view(stored)
    }

    /// One page of routes by id, stored and preconfigured together;
    /// `page_token` is the last id of the previous page.
    pub async fn list_routes(
        &self,
        page_size: usize,
        page_token: &str,
    ) -> Result<(Vec<RouteView>, String), RegistryError> {
        let page_size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        // One more than a page tells whether another page follows.
        let stored = self
            .store
            .list_routes(page_token, page_size as i64 + 1)
            .await?;
        let mut fixed = self
            .routes
            .range::<str, _>((
                std::ops::Bound::Excluded(page_token),
                std::ops::Bound::Unbounded,
            ))
            .map(|(_, v)| v)
            .peekable();
        let mut stored = stored.into_iter().peekable();
        let mut page = Vec::with_capacity(page_size + 1);
        while page.len() <= page_size {
            let take_fixed = match (fixed.peek(), stored.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(f), Some(s)) => f.route.id <= s.id,
            };
            if take_fixed {
                let f = fixed.next().expect("peeked");
                // A stored row with a preconfigured id is shadowed.
                if stored.peek().is_some_and(|s| s.id == f.route.id) {
                    stored.next();
                }
                page.push(f.clone());
            } else {
                page.push(route_view(stored.next().expect("peeked"))?);
            }
        }
        let next = if page.len() > page_size {
            page.truncate(page_size);
            page.last().map(|r| r.route.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok((page, next))
    }

    pub async fn delete_route(&self, id: &str, version: i64) -> Result<(), RegistryError> {
        check_lookup_id(id)?;
        if self.routes.contains_key(id) {
            return Err(RegistryError::RoutePreconfigured(id.to_owned()));
        }
        let current = self
            .store
            .get_route(id)
            .await?
            .ok_or_else(|| RegistryError::RouteNotFound(id.to_owned()))?;
        if version != 0 && version != current.version {
            return Err(RegistryError::Conflict(format!(
                "route {id} is at version {}, not {version}: read it again and retry",
                current.version
            )));
        }
        if !self.store.delete_route(id, current.version).await? {
            return Err(RegistryError::Conflict(format!(
                "route {id} was changed concurrently: read it again and retry"
            )));
        }
        tracing::info!(route.id = %id, "route deleted");
        self.announcer
            .route_changed(id, current.version, true)
            .await;
        Ok(())
    }

    /// Each action's account exists and its type is enabled, and its params
    /// render for a sample firing and a sample resolved alert into params
    /// the type accepts. Violations name the field; only a store that does
    /// not answer is an error.
    async fn check_actions(
        &self,
        route: &RouteDocument,
        out: &mut Violations,
    ) -> Result<(), RegistryError> {
        let mut budget = Budget::default();
        for (index, action) in route.actions.iter().enumerate() {
            let at = format!("actions[{index}]");
            let Some(account) = self.account_for_route(&action.account_id).await? else {
                out.push(
                    format!("{at}.account_id"),
                    format!("account {} does not exist", action.account_id),
                );
                continue;
            };
            let spec = catalog()
                .get(account.connector_type)
                .expect("a viewed account's type is in the catalog");
            if !self.policy.type_enabled(spec.id) {
                out.push(
                    format!("{at}.account_id"),
                    format!("connector type {} is disabled by policy", spec.id),
                );
                continue;
            }
            let rendering = AlertAction {
                spec,
                account_config: &account.config,
                params: &action.params,
                resolved_params: &action.resolved_params,
            };
            // Both phases usually fail alike when they share params: say it once.
            let mut seen = BTreeSet::new();
            for phase in [AlertPhase::Firing, AlertPhase::Resolved] {
                let mut alert = AlertView::sample(phase);
                alert.route = route.id.clone();
                let mut vars = json!({
                    "context": {},
                    "date": SAMPLE_DATE,
                    "action": {"id": format!("sample-{index}"), "index": index},
                    "account": {"id": account.id, "name": account.name, "type": spec.id},
                });
                if let Err(errors) = render_alert_action_within(
                    &rendering,
                    &alert,
                    &mut vars,
                    &self.policy,
                    &at,
                    &mut budget,
                ) {
                    for v in errors.0 {
                        if seen.insert((v.path.clone(), v.message.clone())) {
                            out.0.push(v);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The account a route action names, with its config even when readers
    /// would not see it (the default rendering and action rules read it).
    async fn account_for_route(&self, id: &str) -> Result<Option<AccountView>, RegistryError> {
        if let Some(p) = self.preconfigured.get(id) {
            return Ok(Some(p.view.clone()));
        }
        match self.load(id).await {
            Ok(stored) => Ok(Some(view_of(&stored, Self::spec_of_stored(&stored)?))),
            Err(RegistryError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What the `definition` column holds: the document without id and name,
/// which have columns of their own.
fn definition(route: &RouteDocument) -> String {
    let mut body = route.clone();
    body.id.clear();
    body.name.clear();
    serde_json::to_string(&body).expect("a route serializes")
}

fn route_view(stored: StoredRoute) -> Result<RouteView, RegistryError> {
    let mut route: RouteDocument = serde_json::from_str(&stored.definition).map_err(|e| {
        RegistryError::Store(crate::store::StoreError::Corrupt {
            id: stored.id.clone(),
            reason: format!("route definition: {e}"),
        })
    })?;
    route.id = stored.id;
    route.name = stored.name;
    Ok(RouteView {
        route,
        preconfigured: false,
        version: stored.version,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    })
}
