#!/usr/bin/env bash
# Runs herald-registry on the embedded default: SQLite under ./herald-data,
# a master key and one token per role generated there on first start (files
# of mode 0600), NATS at HERALD_NATS_URL when one answers (the registry runs
# without it too). Prints the tokens; Ctrl-C stops it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
umask 077
mkdir -p herald-data

random() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
if [[ ! -s herald-data/master.key ]]; then
    random >herald-data/master.key
    echo "run-registry: generated herald-data/master.key (keep it: without it, stored secrets are lost)"
fi
if [[ ! -s herald-data/tokens.env ]]; then
    {
        echo "HERALD_ADMIN_TOKEN=admin-$(random | tr '+/' '-_')"
        echo "HERALD_PRODUCER_TOKEN=producer-$(random | tr '+/' '-_')"
        echo "HERALD_SERVICE_TOKEN=service-$(random | tr '+/' '-_')"
    } >herald-data/tokens.env
fi

set -a
# shellcheck source=/dev/null
. herald-data/tokens.env
set +a
export HERALD_MASTER_KEY="${HERALD_MASTER_KEY:-$(cat herald-data/master.key)}"
export HERALD_DATABASE_URL="${HERALD_DATABASE_URL:-sqlite://herald-data/registry.db}"
export HERALD_REGISTRY_ADDR="${HERALD_REGISTRY_ADDR:-127.0.0.1:50051}"

cargo build --release -q -p herald-registry
echo "run-registry: gRPC on $HERALD_REGISTRY_ADDR; tokens in herald-data/tokens.env:"
sed 's/^/  /' herald-data/tokens.env
exec "$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/herald-registry"
