-- Routes saved through the API (preconfigured ones live in memory).
-- `definition` is the route document as JSON (name aside): its actions,
-- throttle, repeat_interval and grouping. Routes hold no secrets.
CREATE TABLE routes (
    id         TEXT   PRIMARY KEY NOT NULL,
    name       TEXT   NOT NULL,
    definition TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
