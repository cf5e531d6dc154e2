-- Delivery history: one row per ended attempt, written from the RESULTS
-- stream (herald.result.>) by the registry's history consumer, pruned after
-- HERALD_HISTORY_TTL. The key makes a redelivered result a no-op.
CREATE TABLE deliveries (
    action_id      TEXT    NOT NULL,
    attempt        INTEGER NOT NULL,
    event_id       TEXT    NOT NULL,
    account_id     TEXT    NOT NULL,
    connector_type TEXT    NOT NULL,
    alert_key      TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    error_kind     TEXT    NOT NULL,
    error          TEXT    NOT NULL,
    vendor_status  INTEGER NOT NULL,
    vendor_excerpt TEXT    NOT NULL,
    handles        TEXT    NOT NULL,
    latency_ms     INTEGER NOT NULL,
    trace_id       TEXT    NOT NULL,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER NOT NULL,
    PRIMARY KEY (action_id, attempt)
);
CREATE INDEX deliveries_finished ON deliveries (finished_at, action_id, attempt);
CREATE INDEX deliveries_account ON deliveries (account_id, finished_at);
CREATE INDEX deliveries_type ON deliveries (connector_type, finished_at);
CREATE INDEX deliveries_alert ON deliveries (alert_key, finished_at);
