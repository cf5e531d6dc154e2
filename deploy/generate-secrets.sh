#!/bin/sh
# Makes the secrets a deployment needs, with fresh random values:
#   - ENV_FILE (default: .env at the top of the repository), read by
#     docker-compose.yml: master key, one token per role, PostgreSQL password;
#   - K8S_FILE (default: deploy/kubernetes/overlays/example/secrets.env),
#     read by the overlay's secretGenerator: master key and tokens.
# Both files are git-ignored. An existing file is never overwritten: a new
# master key would leave the stored account secrets unreadable.
#
# usage: deploy/generate-secrets.sh [ENV_FILE [K8S_FILE]]
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
env_file=${1:-$root/.env}
k8s_file=${2:-$root/deploy/kubernetes/overlays/example/secrets.env}

# base64 of 32 random bytes: the form HERALD_MASTER_KEY takes.
master_key() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
# 32 URL-safe characters (tokens must be at least 16 and distinct).
token() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }
# Hex, so it can sit in a postgres:// URL without escaping.
password() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

refuse_existing() {
    if [ -e "$1" ]; then
        echo "generate-secrets: $1 exists; not overwriting it (move it away to start over)" >&2
        exit 1
    fi
}
refuse_existing "$env_file"
refuse_existing "$k8s_file"

umask 077
key=$(master_key)
admin=$(token)
producer=$(token)
service=$(token)

cat > "$env_file" <<END
HERALD_MASTER_KEY=$key
HERALD_ADMIN_TOKEN=$admin
HERALD_PRODUCER_TOKEN=$producer
HERALD_SERVICE_TOKEN=$service
POSTGRES_PASSWORD=$(password)
END

mkdir -p "$(dirname "$k8s_file")"
cat > "$k8s_file" <<END
HERALD_MASTER_KEY=$key
HERALD_ADMIN_TOKEN=$admin
HERALD_PRODUCER_TOKEN=$producer
HERALD_SERVICE_TOKEN=$service
END

echo "wrote $env_file and $k8s_file (mode 0600); keep them out of version control"
