#!/usr/bin/env bash
# The whole of Herald in one process on a fresh Debian machine with Rust:
# installs what is missing (scripts/setup.sh: nats-server from Debian's
# packages, started with JetStream on 127.0.0.1:4222), then runs
# `heraldctl up` with the arguments given (e.g. --demo). SQLite, the master
# key and the tokens live under ./herald-data; Ctrl-C stops it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
exec cargo run --release -q -p herald-cli -- up "$@"
