//! The gRPC face of the delivery history, `herald.v1.History`: every role
//! that reads accounts reads it. The checks are the registry's, as on REST.

use std::sync::Arc;

use herald_proto::v1::{self, history_server};
use tonic::{Request, Response, Status};

use crate::auth::require;
use crate::registry::Registry;
use crate::service::{READERS, status, timestamp};
use crate::store::{CountBy, DeliveryFilter, DeliveryRow};

pub struct HistoryService {
    registry: Arc<Registry>,
}

impl HistoryService {
    pub fn new(registry: Arc<Registry>) -> Self {
        HistoryService { registry }
    }
}

fn millis(t: Option<&prost_types::Timestamp>) -> i64 {
    t.map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
}

/// The stored lower-case name back to its enum (`vendor_rejected` ->
/// `ERROR_KIND_VENDOR_REJECTED`).
fn enum_value(prefix: &str, name: &str, parse: fn(&str) -> Option<i32>) -> i32 {
    if name.is_empty() {
        return 0;
    }
    parse(&format!("{prefix}{}", name.to_ascii_uppercase())).unwrap_or(0)
}

pub fn delivery_to_proto(r: DeliveryRow) -> v1::Delivery {
    let handles = serde_json::from_str(&r.handles).unwrap_or_default();
    v1::Delivery {
        state: enum_value("ACTION_STATE_", &r.state, |n| {
            v1::ActionState::from_str_name(n).map(|s| s as i32)
        }),
        error_kind: enum_value("ERROR_KIND_", &r.error_kind, |n| {
            v1::ErrorKind::from_str_name(n).map(|k| k as i32)
        }),
        vendor_response: (r.vendor_status != 0 || !r.vendor_excerpt.is_empty()).then(|| {
            v1::VendorResponse {
                status: r.vendor_status as u32,
                body: r.vendor_excerpt,
                request_id: String::new(),
            }
        }),
        handles,
        latency_ms: r.latency_ms.max(0) as u64,
        started_at: timestamp(r.started_at),
        finished_at: timestamp(r.finished_at),
        action_id: r.action_id,
        attempt: r.attempt as u32,
        event_id: r.event_id,
        account_id: r.account_id,
        connector_type: r.connector_type,
        alert_key: r.alert_key,
        error: r.error,
        trace_id: r.trace_id,
    }
}

#[tonic::async_trait]
impl history_server::History for HistoryService {
    async fn list_deliveries(
        &self,
        request: Request<v1::ListDeliveriesRequest>,
    ) -> Result<Response<v1::ListDeliveriesResponse>, Status> {
        require(&request, READERS, "read delivery history")?;
        let r = request.into_inner();
        let f = r.filter.unwrap_or_default();
        let state = match v1::ActionState::try_from(f.state) {
            Ok(v1::ActionState::Unspecified) => String::new(),
            Ok(
                s @ (v1::ActionState::Delivered
                | v1::ActionState::Retrying
                | v1::ActionState::Failed),
            ) => s
                .as_str_name()
                .trim_start_matches("ACTION_STATE_")
                .to_ascii_lowercase(),
            _ => {
                return Err(Status::invalid_argument(
                    "filter.state: DELIVERED, RETRYING, FAILED or unset",
                ));
            }
        };
        if r.page_size < 0 {
            return Err(Status::invalid_argument("page_size: must be 0..1000"));
        }
        let filter = DeliveryFilter {
            account_id: f.account_id,
            connector_type: f.connector_type,
            state,
            alert_key: f.alert_key,
            since: millis(f.since.as_ref()),
            until: millis(f.until.as_ref()),
        };
        let page = self
            .registry
            .deliveries(filter, r.page_size as usize, &r.page_token)
            .await
            .map_err(status)?;
        Ok(Response::new(v1::ListDeliveriesResponse {
            deliveries: page.rows.into_iter().map(delivery_to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_attempts(
        &self,
        request: Request<v1::ListAttemptsRequest>,
    ) -> Result<Response<v1::ListAttemptsResponse>, Status> {
        require(&request, READERS, "read delivery history")?;
        let rows = self
            .registry
            .attempts(&request.get_ref().action_id)
            .await
            .map_err(status)?;
        Ok(Response::new(v1::ListAttemptsResponse {
            attempts: rows.into_iter().map(delivery_to_proto).collect(),
        }))
    }

    async fn count_deliveries(
        &self,
        request: Request<v1::CountDeliveriesRequest>,
    ) -> Result<Response<v1::CountDeliveriesResponse>, Status> {
        require(&request, READERS, "read delivery history")?;
        let r = request.into_inner();
        let by = match v1::CountBy::try_from(r.by) {
            Ok(v1::CountBy::Account) => CountBy::Account,
            Ok(v1::CountBy::ConnectorType) => CountBy::ConnectorType,
            _ => {
                return Err(Status::invalid_argument(
                    "by: COUNT_BY_ACCOUNT or COUNT_BY_CONNECTOR_TYPE",
                ));
            }
        };
        let until = millis(r.until.as_ref());
        let (since, _) =
            crate::registry::counts_window(r.since.as_ref().map(|t| millis(Some(t))), until);
        let counts = self
            .registry
            .delivery_counts(by, since, until)
            .await
            .map_err(status)?;
        Ok(Response::new(v1::CountDeliveriesResponse {
            counts: counts
                .into_iter()
                .map(|c| v1::DeliveryCount {
                    key: c.key,
                    delivered: c.delivered.max(0) as u64,
                    retrying: c.retrying.max(0) as u64,
                    failed: c.failed.max(0) as u64,
                    avg_latency_ms: c.avg_latency_ms,
                    max_latency_ms: c.max_latency_ms.max(0) as u64,
                })
                .collect(),
        }))
    }
}
