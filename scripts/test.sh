#!/usr/bin/env bash
# The one command that runs every Herald test, as CI does (.ci/run): makes
# sure the tools and local services are there, then runs the Rust tests
# (nextest, then doc tests, which nextest does not run) and the client
# conformance tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh

# PostgreSQL tests skip themselves when no server answers; here they must
# run, so a suite that silently skipped cannot pass.
export HERALD_TEST_REQUIRE_POSTGRES=1

# The end-to-end tests start the service binaries as processes.
cargo build --workspace --bins
cargo nextest run --workspace --all-targets
cargo test --workspace --doc

# client conformance tests (python) run here
scripts/python-client-test.sh
