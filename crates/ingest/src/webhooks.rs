//! Alerts from the webhooks real producers send, as they send them:
//! Prometheus Alertmanager's webhook receiver (payload version 4) and
//! Grafana's webhook contact point. Each notification becomes one alert per
//! group (keyed by its `groupKey`, as Alertmanager's own PagerDuty
//! integration keys incidents) or, when the route says so, one per alert
//! (keyed by its `fingerprint`).
//!
//! Unknown fields are ignored: both producers add fields between versions.

use std::collections::{BTreeMap, HashMap};

use herald_catalog::Violations;
use herald_proto::v1;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Who sent the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Producer {
    Alertmanager,
    Grafana,
}

impl Producer {
    pub fn name(self) -> &'static str {
        match self {
            Producer::Alertmanager => "alertmanager",
            Producer::Grafana => "grafana",
        }
    }

    fn key_prefix(self) -> &'static str {
        match self {
            Producer::Alertmanager => "am",
            Producer::Grafana => "grafana",
        }
    }
}

/// The notification, with the fields both producers share (Grafana's
/// payload is Alertmanager's with extras).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    group_key: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    receiver: String,
    #[serde(default)]
    group_labels: BTreeMap<String, String>,
    #[serde(default)]
    common_labels: BTreeMap<String, String>,
    #[serde(default)]
    common_annotations: BTreeMap<String, String>,
    #[serde(default, rename = "externalURL")]
    external_url: String,
    #[serde(default)]
    alerts: Vec<WebhookAlert>,
    /// Grafana: its rendered title, `[FIRING:1] HighErrorRate (web)`.
    #[serde(default)]
    title: String,
    /// Grafana: its rendered message.
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert {
    #[serde(default)]
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default, rename = "generatorURL")]
    generator_url: String,
    #[serde(default)]
    fingerprint: String,
    /// Grafana: links to the panel and dashboard the rule belongs to.
    #[serde(default, rename = "panelURL")]
    panel_url: String,
    #[serde(default, rename = "dashboardURL")]
    dashboard_url: String,
}

/// The alerts a webhook body carries, for route `route` keyed by `grouping`.
pub fn alerts(
    producer: Producer,
    route: &str,
    grouping: v1::RouteGrouping,
    body: &[u8],
) -> Result<Vec<v1::Alert>, Violations> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let notification: Notification =
        serde_path_to_error::deserialize(&mut de).map_err(|error| {
            let mut out = Violations::new();
            let path = error.path().to_string();
            let inner = error.inner();
            match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    out.push("", format!("the body is not valid JSON: {inner}"));
                }
                _ => out.push(
                    if path == "." { String::new() } else { path },
                    inner.to_string(),
                ),
            }
            out
        })?;
    let mut problems = Violations::new();
    if producer == Producer::Alertmanager
        && let Some(version) = &notification.version
        && version != "4"
    {
        problems.push(
            "version",
            format!("Alertmanager's webhook payload version 4 is read; this is version {version}"),
        );
    }
    for (index, alert) in notification.alerts.iter().enumerate() {
        if status(&alert.status).is_none() {
            problems.push(
                format!("alerts[{index}].status"),
                "must be firing or resolved",
            );
        }
        for (field, text) in [("startsAt", &alert.starts_at), ("endsAt", &alert.ends_at)] {
            if time(text).is_err() {
                problems.push(format!("alerts[{index}].{field}"), "not an RFC 3339 time");
            }
        }
    }
    if notification.alerts.is_empty() {
        problems.push("alerts", "at least one alert is required");
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(match grouping {
        v1::RouteGrouping::Alert => notification
            .alerts
            .iter()
            .map(|alert| one_alert(producer, route, &notification, alert))
            .collect(),
        _ => vec![group_alert(producer, route, &notification)],
    })
}

fn status(text: &str) -> Option<v1::AlertStatus> {
    match text {
        "firing" => Some(v1::AlertStatus::Firing),
        "resolved" => Some(v1::AlertStatus::Resolved),
        _ => None,
    }
}

/// Alertmanager writes `0001-01-01T00:00:00Z` for "not ended".
fn time(text: &str) -> Result<Option<prost_types::Timestamp>, ()> {
    if text.is_empty() || text.starts_with("0001-01-01") {
        return Ok(None);
    }
    text.parse::<prost_types::Timestamp>()
        .map(Some)
        .map_err(|_| ())
}

fn key(producer: Producer, route: &str, thread: &str) -> String {
    let digest = Sha256::digest(format!("{route}\u{0}{thread}").as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", producer.key_prefix())
}

fn to_map(map: &BTreeMap<String, String>) -> HashMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn severity(labels: &BTreeMap<String, String>) -> String {
    labels
        .get("severity")
        .or_else(|| labels.get("priority"))
        .cloned()
        .unwrap_or_default()
}

fn link(alert: &WebhookAlert) -> &str {
    [&alert.panel_url, &alert.dashboard_url, &alert.generator_url]
        .into_iter()
        .find(|u| !u.is_empty())
        .map_or("", String::as_str)
}

/// The whole group as one alert: firing while any of its alerts fires.
fn group_alert(producer: Producer, route: &str, n: &Notification) -> v1::Alert {
    let firing = n.alerts.iter().filter(|a| a.status == "firing").count();
    let status = match status(&n.status) {
        Some(status) => status,
        None if firing > 0 => v1::AlertStatus::Firing,
        None => v1::AlertStatus::Resolved,
    };
    let name = n
        .group_labels
        .get("alertname")
        .or_else(|| n.common_labels.get("alertname"))
        .cloned()
        .unwrap_or_else(|| n.receiver.clone());
    let summary = n
        .common_annotations
        .get("summary")
        .cloned()
        .filter(|s| !s.is_empty())
        .or_else(|| (!n.title.is_empty()).then(|| n.title.clone()))
        .unwrap_or_else(|| match status {
            v1::AlertStatus::Resolved => format!("[RESOLVED] {name}"),
            _ => format!("[FIRING:{firing}] {name}"),
        });
    let description = n
        .common_annotations
        .get("description")
        .cloned()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| n.message.clone());
    // The group's own labels first, then what all its alerts share.
    let mut labels = n.common_labels.clone();
    labels.extend(n.group_labels.clone());
    let thread = if n.group_key.is_empty() {
        format!("{:?}", n.group_labels)
    } else {
        n.group_key.clone()
    };
    let starts_at = n
        .alerts
        .iter()
        .filter_map(|a| time(&a.starts_at).ok().flatten())
        .min_by_key(|t| (t.seconds, t.nanos));
    let ends_at = match status {
        v1::AlertStatus::Resolved => n
            .alerts
            .iter()
            .filter_map(|a| time(&a.ends_at).ok().flatten())
            .max_by_key(|t| (t.seconds, t.nanos)),
        _ => None,
    };
    let source_url = n
        .alerts
        .first()
        .map(link)
        .filter(|l| !l.is_empty())
        .map_or_else(|| n.external_url.clone(), str::to_owned);
    v1::Alert {
        key: key(producer, route, &thread),
        status: status as i32,
        severity: severity(&labels),
        labels: to_map(&labels),
        annotations: to_map(&n.common_annotations),
        summary,
        description,
        source_url,
        starts_at,
        ends_at,
        source: producer.name().to_owned(),
    }
}

/// One alert of the group on its own thread.
fn one_alert(producer: Producer, route: &str, n: &Notification, a: &WebhookAlert) -> v1::Alert {
    let thread = if a.fingerprint.is_empty() {
        format!("{:?}", a.labels)
    } else {
        a.fingerprint.clone()
    };
    let name = a.labels.get("alertname").cloned().unwrap_or_default();
    let summary = a
        .annotations
        .get("summary")
        .cloned()
        .filter(|s| !s.is_empty())
        .unwrap_or(name);
    let source_url = Some(link(a))
        .filter(|l| !l.is_empty())
        .map_or_else(|| n.external_url.clone(), str::to_owned);
    v1::Alert {
        key: key(producer, route, &thread),
        status: status(&a.status).unwrap_or(v1::AlertStatus::Firing) as i32,
        severity: severity(&a.labels),
        labels: to_map(&a.labels),
        annotations: to_map(&a.annotations),
        summary,
        description: a
            .annotations
            .get("description")
            .cloned()
            .unwrap_or_default(),
        source_url,
        starts_at: time(&a.starts_at).ok().flatten(),
        ends_at: time(&a.ends_at).ok().flatten(),
        source: producer.name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Alertmanager's documented webhook body (docs/configuration.md,
    /// `<webhook_config>`), two alerts of one group.
    fn alertmanager(status: &str, second: &str) -> Vec<u8> {
        json!({
            "version": "4",
            "groupKey": "{}/{severity=\"critical\"}:{alertname=\"HighErrorRate\"}",
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "herald",
            "groupLabels": {"alertname": "HighErrorRate"},
            "commonLabels": {"alertname": "HighErrorRate", "severity": "critical", "job": "web"},
            "commonAnnotations": {"summary": "Error rate above 5%"},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "HighErrorRate", "severity": "critical", "job": "web", "instance": "web-1"},
                    "annotations": {"summary": "Error rate above 5%", "description": "web-1 at 7%"},
                    "startsAt": "2026-12-04T10:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example:9090/graph?g0.expr=errors",
                    "fingerprint": "a1b2c3d4e5f60718"
                },
                {
                    "status": second,
                    "labels": {"alertname": "HighErrorRate", "severity": "critical", "job": "web", "instance": "web-2"},
                    "annotations": {"summary": "Error rate above 5%"},
                    "startsAt": "2026-12-04T09:58:00.123Z",
                    "endsAt": "2026-12-04T10:05:00Z",
                    "generatorURL": "http://prometheus.example:9090/graph?g0.expr=errors",
                    "fingerprint": "0f1e2d3c4b5a6978"
                }
            ]
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn an_alertmanager_group_is_one_alert_keyed_by_its_group_key() {
        let alerts = alerts(
            Producer::Alertmanager,
            "ops",
            v1::RouteGrouping::Group,
            &alertmanager("firing", "resolved"),
        )
        .unwrap();
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert!(a.key.starts_with("am-") && a.key.len() == 27, "{}", a.key);
        assert_eq!(a.status, v1::AlertStatus::Firing as i32);
        assert_eq!(a.severity, "critical");
        assert_eq!(a.summary, "Error rate above 5%");
        assert_eq!(a.labels["job"], "web");
        assert_eq!(a.source, "alertmanager");
        assert_eq!(
            a.source_url,
            "http://prometheus.example:9090/graph?g0.expr=errors"
        );
        assert_eq!(a.starts_at.unwrap().to_string(), "2026-12-04T09:58:00.123Z");
        assert_eq!(a.ends_at, None);

        // The same group resolved later is the same alert; another route's
        // is another.
        let resolved = alerts_of("resolved", "ops");
        assert_eq!(resolved.key, a.key);
        assert_eq!(resolved.status, v1::AlertStatus::Resolved as i32);
        assert_eq!(
            resolved.ends_at.unwrap().to_string(),
            "2026-12-04T10:05:00Z"
        );
        assert_ne!(alerts_of("firing", "other-route").key, a.key);
    }

    fn alerts_of(status: &str, route: &str) -> v1::Alert {
        alerts(
            Producer::Alertmanager,
            route,
            v1::RouteGrouping::Group,
            &alertmanager(status, "resolved"),
        )
        .unwrap()
        .remove(0)
    }

    #[test]
    fn by_alert_each_fingerprint_is_its_own_thread() {
        let alerts = alerts(
            Producer::Alertmanager,
            "ops",
            v1::RouteGrouping::Alert,
            &alertmanager("firing", "resolved"),
        )
        .unwrap();
        assert_eq!(alerts.len(), 2);
        assert_ne!(alerts[0].key, alerts[1].key);
        assert_eq!(alerts[0].labels["instance"], "web-1");
        assert_eq!(alerts[0].description, "web-1 at 7%");
        assert_eq!(alerts[1].status, v1::AlertStatus::Resolved as i32);
    }

    #[test]
    fn a_grafana_notification_takes_its_title_and_panel_link() {
        let body = json!({
            "receiver": "herald",
            "status": "firing",
            "orgId": 1,
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "CPU", "grafana_folder": "web", "severity": "warning"},
                "annotations": {},
                "startsAt": "2026-12-04T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://grafana.example/alerting/grafana/abc/view",
                "fingerprint": "57c6d9296de2ad39",
                "silenceURL": "http://grafana.example/alerting/silence/new",
                "dashboardURL": "http://grafana.example/d/xyz",
                "panelURL": "http://grafana.example/d/xyz?viewPanel=2",
                "values": {"B": 91.5},
                "valueString": "[ var='B' value=91.5 ]"
            }],
            "groupLabels": {"alertname": "CPU"},
            "commonLabels": {"alertname": "CPU", "severity": "warning"},
            "commonAnnotations": {},
            "externalURL": "http://grafana.example/",
            "version": "1",
            "groupKey": "{}:{alertname=\"CPU\"}",
            "truncatedAlerts": 0,
            "title": "[FIRING:1] CPU (web)",
            "state": "alerting",
            "message": "**Firing**\n\nValue: B=91.5"
        })
        .to_string();
        let alert = alerts(
            Producer::Grafana,
            "ops",
            v1::RouteGrouping::Group,
            body.as_bytes(),
        )
        .unwrap()
        .remove(0);
        assert!(alert.key.starts_with("grafana-"));
        assert_eq!(alert.summary, "[FIRING:1] CPU (web)");
        assert_eq!(alert.description, "**Firing**\n\nValue: B=91.5");
        assert_eq!(alert.source_url, "http://grafana.example/d/xyz?viewPanel=2");
        assert_eq!(alert.severity, "warning");
    }

    #[test]
    fn bad_bodies_name_the_field() {
        let fields = |body: serde_json::Value| {
            alerts(
                Producer::Alertmanager,
                "ops",
                v1::RouteGrouping::Group,
                body.to_string().as_bytes(),
            )
            .unwrap_err()
            .iter()
            .map(|v| v.path.clone())
            .collect::<Vec<_>>()
        };
        assert_eq!(fields(json!({"version": "4"})), ["alerts"]);
        assert_eq!(
            fields(json!({"version": "3", "alerts": []})),
            ["version", "alerts"]
        );
        assert_eq!(
            fields(json!({"alerts": [{"status": "burning", "startsAt": "soon"}]})),
            ["alerts[0].status", "alerts[0].startsAt"]
        );
        assert_eq!(
            fields(json!({"alerts": [{"labels": {"a": 1}}]})),
            ["alerts[0].labels.a"]
        );
        assert_eq!(
            alerts(
                Producer::Grafana,
                "r",
                v1::RouteGrouping::Group,
                b"{not json"
            )
            .unwrap_err()
            .iter()
            .next()
            .unwrap()
            .path,
            ""
        );
    }
}
