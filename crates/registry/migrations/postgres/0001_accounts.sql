-- Accounts registered through the API (preconfigured ones live in memory).
-- `secrets` is AES-256-GCM ciphertext (nonce || ciphertext || tag) under the
-- master key named by `key_id`; `secret_fields` lists names only.
CREATE TABLE accounts (
    id             TEXT   PRIMARY KEY,
    connector_type TEXT   NOT NULL,
    name           TEXT   NOT NULL,
    config         TEXT   NOT NULL,
    secret_fields  TEXT   NOT NULL,
    secrets        BYTEA  NOT NULL,
    key_id         TEXT   NOT NULL,
    version        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX accounts_type_id ON accounts (connector_type, id);
