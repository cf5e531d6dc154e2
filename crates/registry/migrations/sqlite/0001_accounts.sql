-- Accounts registered through the API (preconfigured ones live in memory).
-- `secrets` is AES-256-GCM ciphertext (nonce || ciphertext || tag) under the
-- master key named by `key_id`; `secret_fields` lists names only.
CREATE TABLE accounts (
    id             TEXT    PRIMARY KEY NOT NULL,
    connector_type TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    config         TEXT    NOT NULL,
    secret_fields  TEXT    NOT NULL,
    secrets        BLOB    NOT NULL,
    key_id         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX accounts_type_id ON accounts (connector_type, id);
