#!/usr/bin/env bash
# Client conformance tests: tests/python/test_registry_client.py talks to the
# real herald-registry binary as a gRPC client that knows only proto/. Makes
# (or reuses) .venv, installs tests/python/requirements.txt when it changed,
# builds the registry (honouring CARGO_TARGET_DIR) and runs the suite.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.venv
requirements=tests/python/requirements.txt
stamp="$venv/.herald-requirements.sha256"

# A .venv whose interpreter is gone (moved, or Python upgraded) is remade.
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    python3 -m venv --clear "$venv"
fi

wanted="$( { sha256sum "$requirements"; "$venv/bin/python" --version; } | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
    echo "python-client-test: installing $requirements into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$wanted" >"$stamp"
fi

cargo build -p herald-registry
target_dir="$(cargo metadata --format-version 1 --no-deps \
    | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
registry_bin="$target_dir/debug/herald-registry"
if [[ ! -x "$registry_bin" ]]; then
    echo "python-client-test: no binary at $registry_bin after the build" >&2
    exit 1
fi

HERALD_REGISTRY_BIN="$registry_bin" "$venv/bin/python" tests/python/test_registry_client.py
