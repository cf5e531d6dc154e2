//! The overview: deliveries and failures per minute over the last hours as
//! an SVG bar chart drawn here (no script, no inline style), the backlog of
//! each worker's consumer on the ACTIONS stream, the dead letters, and the
//! slowest and most failing accounts, from the delivery history.

use axum::extract::State;
use axum::response::Response;

use super::super::AppState;
use super::html::{self, Nav, esc, url_part};
use super::session::Session;
use crate::store::{CountBy, DeliveryCount, SeriesPoint};

/// The chart's span and bar width.
const CHART_HOURS: i64 = 3;
const BUCKET_MS: i64 = 60_000;
/// The account tables look at the last day.
const ACCOUNTS_SPAN_MS: i64 = 24 * 3_600_000;
const TOP: usize = 5;

/// The backlog of one connector type's consumer.
struct Backlog {
    connector_type: &'static str,
    /// Not yet handed to a worker.
    waiting: u64,
    /// Handed out, not yet acknowledged.
    in_flight: usize,
}

/// Each worker consumer's backlog, or `None` when NATS is unknown here.
/// Types without a consumer (no worker has started for them) are left out.
async fn backlog(state: &AppState) -> Option<Vec<Backlog>> {
    let (client, subjects) = state.registry.nats()?;
    let js = async_nats::jetstream::new(client);
    let stream = match js.get_stream(subjects.stream("ACTIONS")).await {
        Ok(stream) => stream,
        Err(error) => {
            tracing::warn!(%error, "console: the ACTIONS stream is not readable");
            return None;
        }
    };
    let mut out = Vec::new();
    for spec in herald_connectors::catalog().all() {
        if let Ok(info) = stream.consumer_info(subjects.consumer(spec.id)).await {
            out.push(Backlog {
                connector_type: spec.id,
                waiting: info.num_pending,
                in_flight: info.num_ack_pending,
            });
        }
    }
    Some(out)
}

/// Delivered (green), retrying (amber) and failed (red) per minute, as
/// stacked bars; a bucket without rows is an empty minute.
pub(crate) fn chart(points: &[SeriesPoint], since: i64, until: i64) -> String {
    let buckets = ((until - since) / BUCKET_MS).max(1) as usize;
    let mut counts = vec![(0i64, 0i64, 0i64); buckets];
    for p in points {
        let index = ((p.start - since) / BUCKET_MS) as usize;
        if let Some(slot) = counts.get_mut(index) {
            slot.0 += p.delivered;
            slot.1 += p.retrying;
            slot.2 += p.failed;
        }
    }
    let peak = counts
        .iter()
        .map(|(d, r, f)| d + r + f)
        .max()
        .unwrap_or(0)
        .max(1);
    let (width, height, bar) = (buckets as i64 * 5, 160i64, 4i64);
    let mut bars = String::new();
    for (i, (delivered, retrying, failed)) in counts.iter().enumerate() {
        let total = delivered + retrying + failed;
        if total == 0 {
            continue;
        }
        let x = i as i64 * 5;
        let mut y = height;
        let minute = since + i as i64 * BUCKET_MS;
        let label = format!(
            "{} UTC: {delivered} delivered, {retrying} retrying, {failed} failed",
            prost_types::Timestamp {
                seconds: minute / 1000,
                nanos: 0
            }
        );
        bars.push_str(&format!("<g><title>{}</title>", esc(&label)));
        for (count, colour) in [
            (*failed, "#b3261e"),
            (*retrying, "#e0a030"),
            (*delivered, "#1e7a3c"),
        ] {
            if count == 0 {
                continue;
            }
            let h = ((count * height) / peak).max(1);
            y -= h;
            bars.push_str(&format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{h}\" fill=\"{colour}\"/>"
            ));
        }
        bars.push_str("</g>");
    }
    let total: (i64, i64, i64) = counts
        .iter()
        .fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {full}\" width=\"{width}\" height=\"{full}\" role=\"img\" \
         aria-label=\"Attempts per minute over the last {CHART_HOURS} hours: {d} delivered, {r} retrying, {f} failed; at most {peak} in a minute\" \
         xmlns=\"http://www.w3.org/2000/svg\">\
         <line x1=\"0\" y1=\"{height}\" x2=\"{width}\" y2=\"{height}\" stroke=\"#9aa4b1\"/>\
         <text x=\"2\" y=\"12\" font-size=\"11\" fill=\"#5a6472\">{peak}/min</text>{bars}\
         <text x=\"0\" y=\"{label_y}\" font-size=\"11\" fill=\"#5a6472\">−{CHART_HOURS} h</text>\
         <text x=\"{width}\" y=\"{label_y}\" font-size=\"11\" fill=\"#5a6472\" text-anchor=\"end\">now</text></svg>",
        full = height + 16,
        label_y = height + 13,
        d = total.0,
        r = total.1,
        f = total.2,
    )
}

fn accounts_table(rows: &[&DeliveryCount], what: &str, empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{empty}</p>");
    }
    let body: String = rows
        .iter()
        .map(|c| {
            format!(
                "<tr><td><a href=\"/accounts/{}\">{}</a></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{:.0} ms</td><td class=\"num\">{} ms</td></tr>",
                esc(&url_part(&c.key)),
                esc(&c.key),
                c.delivered,
                c.failed,
                c.avg_latency_ms,
                c.max_latency_ms
            )
        })
        .collect();
    format!(
        "<div class=\"table-wrap\"><table><caption class=\"sr\">{what}</caption><thead><tr><th scope=\"col\">Account</th>\
         <th scope=\"col\" class=\"num\">Delivered</th><th scope=\"col\" class=\"num\">Failed</th>\
         <th scope=\"col\" class=\"num\">Average</th><th scope=\"col\" class=\"num\">Slowest</th></tr></thead>\
         <tbody>{body}</tbody></table></div>"
    )
}

pub(super) async fn page(session: Session, State(state): State<AppState>) -> Response {
    let now = html::now_ms();
    // Whole minutes, so each bar is one minute of the clock.
    let until = (now / BUCKET_MS + 1) * BUCKET_MS;
    let since = until - CHART_HOURS * 3_600_000;
    let series = state
        .registry
        .delivery_series(since, until, BUCKET_MS)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "console: delivery series not read");
            Vec::new()
        });
    let counts = state
        .registry
        .delivery_counts(CountBy::Account, now - ACCOUNTS_SPAN_MS, 0)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "console: delivery counts not read");
            Vec::new()
        });
    let sum = |f: fn(&SeriesPoint) -> i64| series.iter().map(f).sum::<i64>();
    let (delivered, retrying, failed) =
        (sum(|p| p.delivered), sum(|p| p.retrying), sum(|p| p.failed));
    let dead = match state.registry.dead_letters() {
        None => "unknown".to_owned(),
        Some(dead) => match dead.list(None, 1000).await {
            Ok(listing) if listing.letters.len() >= 1000 => "1000+".to_owned(),
            Ok(listing) => listing.letters.len().to_string(),
            Err(error) => {
                tracing::warn!(%error, "console: dead letters not counted");
                "unknown".to_owned()
            }
        },
    };
    let mut body = format!(
        "<div class=\"grid\">\
         <div class=\"card\"><h2>Delivered</h2><p class=\"figure\">{delivered}</p><p class=\"hint\">last {CHART_HOURS} hours</p></div>\
         <div class=\"card\"><h2>Retrying</h2><p class=\"figure\">{retrying}</p><p class=\"hint\">attempts to be tried again</p></div>\
         <div class=\"card\"><h2>Failed</h2><p class=\"figure\">{failed}</p><p class=\"hint\">failed for good, last {CHART_HOURS} hours</p></div>\
         <div class=\"card\"><h2>Dead letters</h2><p class=\"figure\">{dead}</p><p class=\"hint\"><a href=\"/dead-letters\">waiting for a replay</a></p></div>\
         </div>"
    );
    body.push_str("<section class=\"card\" aria-labelledby=\"per-minute\"><h2 id=\"per-minute\">Attempts per minute</h2>");
    if series.is_empty() {
        body.push_str(&format!(
            "<p class=\"empty\">Nothing was attempted in the last {CHART_HOURS} hours. \
             <a href=\"/accounts\">Pick an account and send a test</a>, or send an event (<code>heraldctl send</code>).</p>"
        ));
    } else {
        body.push_str(&chart(&series, since, until));
        body.push_str(&format!(
            "<p class=\"legend\"><span><span class=\"swatch ok\"></span>delivered</span>\
             <span><span class=\"swatch warn\"></span>retrying</span><span><span class=\"swatch bad\"></span>failed</span>\
             <span>from {} to {}</span></p>",
            html::time(since),
            html::time(until)
        ));
    }
    body.push_str("</section>");
    body.push_str("<div class=\"grid\"><section class=\"card\" aria-labelledby=\"backlog\"><h2 id=\"backlog\">Backlog per connector type</h2>");
    match backlog(&state).await {
        None => body.push_str(
            "<p class=\"empty\">Unknown: this registry has no NATS connection (HERALD_NATS_URL) to read the workers' queues.</p>",
        ),
        Some(rows) if rows.is_empty() => body.push_str(
            "<p class=\"empty\">No worker has started yet: start <code>herald-chat-worker</code> (or <code>heraldctl up</code>).</p>",
        ),
        Some(rows) => {
            let rows: String = rows
                .iter()
                .map(|b| {
                    format!(
                        "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                        esc(b.connector_type),
                        b.waiting,
                        b.in_flight
                    )
                })
                .collect();
            body.push_str(&format!(
                "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Type</th>\
                 <th scope=\"col\" class=\"num\">Waiting</th><th scope=\"col\" class=\"num\">In flight</th></tr></thead>\
                 <tbody>{rows}</tbody></table></div>"
            ));
        }
    }
    body.push_str("</section>");
    let mut slowest: Vec<&DeliveryCount> = counts
        .iter()
        .filter(|c| c.delivered + c.failed > 0)
        .collect();
    slowest.sort_by(|a, b| b.avg_latency_ms.total_cmp(&a.avg_latency_ms));
    slowest.truncate(TOP);
    let mut failing: Vec<&DeliveryCount> = counts.iter().filter(|c| c.failed > 0).collect();
    failing.sort_by_key(|c| std::cmp::Reverse(c.failed));
    failing.truncate(TOP);
    body.push_str(&format!(
        "<section class=\"card\" aria-labelledby=\"slowest\"><h2 id=\"slowest\">Slowest accounts, last 24 hours</h2>{}</section>\
         <section class=\"card\" aria-labelledby=\"failing\"><h2 id=\"failing\">Most failing accounts, last 24 hours</h2>{}</section></div>",
        accounts_table(&slowest, "Slowest accounts", "No delivery in the last 24 hours."),
        accounts_table(&failing, "Most failing accounts", "No account failed in the last 24 hours."),
    ));
    html::page(Some(&session), Nav::Overview, "Overview", &body)
}
