//! Between the wire's `Alert` and the `alert` template variable
//! ([`AlertView`]): ingest builds the view to render params, the worker to
//! follow up on an earlier delivery.

use herald_catalog::alert::{AlertPhase, AlertView};

use crate::v1;

/// The view of `alert` as it travels; `route`, `repeat` and `count` are the
/// lifecycle's, given by the caller.
pub fn view(alert: &v1::Alert, route: &str, repeat: bool, count: u64) -> AlertView {
    let time = |t: &Option<prost_types::Timestamp>| {
        t.as_ref().map(ToString::to_string).unwrap_or_default()
    };
    AlertView {
        key: alert.key.clone(),
        status: if alert.status == v1::AlertStatus::Resolved as i32 {
            AlertPhase::Resolved
        } else {
            AlertPhase::Firing
        },
        severity: alert.severity.clone(),
        labels: alert
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        annotations: alert
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        summary: alert.summary.clone(),
        description: alert.description.clone(),
        source_url: alert.source_url.clone(),
        starts_at: time(&alert.starts_at),
        ends_at: time(&alert.ends_at),
        source: alert.source.clone(),
        route: route.to_owned(),
        repeat,
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_and_status_is_read() {
        let alert = v1::Alert {
            key: "k".into(),
            status: v1::AlertStatus::Resolved as i32,
            starts_at: Some(prost_types::Timestamp {
                seconds: 1_767_225_600,
                nanos: 0,
            }),
            ..Default::default()
        };
        let view = view(&alert, "r", false, 2);
        assert_eq!(view.starts_at, "2026-01-01T00:00:00Z");
        assert_eq!(view.ends_at, "");
        assert!(view.is_resolved());
        assert_eq!((view.route.as_str(), view.count), ("r", 2));
    }
}
