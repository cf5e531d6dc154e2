-- Kibana's `exposeConfig: false`, kept by `heraldctl import kibana`: the
-- account's config is shown to no reader (ResolveAccount still returns it).
ALTER TABLE accounts ADD COLUMN config_hidden BOOLEAN NOT NULL DEFAULT FALSE;
