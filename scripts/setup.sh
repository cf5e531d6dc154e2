#!/usr/bin/env bash
# Installs and starts what Herald's tests need, on Debian (bookworm or later)
# with Rust already installed: nats-server, PostgreSQL, python3-venv,
# python3-aiosmtpd (the e-mail tests' SMTP server), Postfix's smtp-sink (the
# e-mail benchmark's sink; no Postfix MTA is configured or started),
# prometheus-alertmanager (the intake tests run the real Alertmanager; its
# service is not left running), chromium and chromium-driver (the console's
# browser tests drive headless Chromium over WebDriver), cargo-nextest. Idempotent: what is there and answering is left alone, so on
# a ready machine it only checks and prints. Never waits for input (sudo -n,
# noninteractive apt), so it is safe in CI.
#
# Each step prints one line: what it found or what it did.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ $(id -u) -eq 0 ]]; then
  as_root() { "$@"; }
else
  command -v sudo >/dev/null || die "not root and no sudo: install packages as root, then rerun"
  # -n: fail instead of prompting for a password.
  as_root() { sudo -n "$@"; }
fi

# Everything here runs without a terminal.
exec </dev/null

# --- packages --------------------------------------------------------------

command -v cargo >/dev/null || die "cargo not found: install Rust (rustup) first"

nats_bin() { command -v nats-server 2>/dev/null || { [[ -x /usr/sbin/nats-server ]] && echo /usr/sbin/nats-server; } || true; }
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

missing=()
[[ -n $(nats_bin) ]] || missing+=(nats-server)
[[ -n $(pg_bindir) && -x $(pg_bindir)/postgres ]] || missing+=(postgresql)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
# Debian's interpreter, where Debian's python3-aiosmtpd lives (the tests run
# /usr/bin/python3 unless HERALD_TEST_PYTHON says otherwise).
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
[[ -x /usr/sbin/smtp-sink ]] || missing+=(postfix)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)

if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq || die "apt-get update failed"
  # postfix only for smtp-sink: "No configuration" leaves it without a
  # main.cf, so it neither asks questions nor starts an MTA on port 25.
  if [[ " ${missing[*]} " == *" postfix "* ]]; then
    echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
  # The package starts its own Alertmanager on :9093; the tests start theirs
  # on free ports and need nothing listening.
  if [[ " ${missing[*]} " == *" prometheus-alertmanager "* ]] && command -v systemctl >/dev/null; then
    as_root systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
  fi
else
  say "Debian packages: nats-server, postgresql, python3 with venv, python3-aiosmtpd, postfix (smtp-sink), prometheus-alertmanager, chromium, chromium-driver already installed"
fi

if cargo nextest --version >/dev/null 2>&1; then
  say "cargo-nextest: $(cargo nextest --version 2>/dev/null | head -n1)"
else
  say "installing cargo-nextest (cargo install --locked cargo-nextest)"
  cargo install --locked cargo-nextest || die "cargo install cargo-nextest failed"
fi

# --- NATS with JetStream on 127.0.0.1:4222 ----------------------------------

# Prints the server's INFO line if something answers on 127.0.0.1:$1.
nats_info() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -n1 <&3" 2>/dev/null || true
}

nats_answers() { [[ $(nats_info 4222) == INFO* ]]; }

wait_until() { # seconds, command...: polls the command until it succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

info=$(nats_info 4222)
if [[ $info == INFO* ]]; then
  if [[ $info == *'"jetstream":true'* ]]; then
    say "nats-server: answering on 127.0.0.1:4222 with JetStream"
  else
    say "WARNING: a NATS server answers on 127.0.0.1:4222 without JetStream; restart it with -js" \
      "(Herald's own tests start their own servers and are not affected)"
  fi
else
  nats=$(nats_bin)
  if [[ $(id -u) -eq 0 ]]; then
    store=/var/lib/nats-server log=/var/log/nats-server.log
  else
    store=${XDG_DATA_HOME:-$HOME/.local/share}/herald/nats-server log=$store/nats-server.log
  fi
  mkdir -p "$store"
  # setsid + nohup: the server outlives this script and its terminal.
  setsid nohup "$nats" -a 127.0.0.1 -p 4222 -js -sd "$store" -l "$log" >/dev/null 2>&1 &
  if wait_until 10 nats_answers; then
    say "nats-server: started on 127.0.0.1:4222 with JetStream (store $store, log $log)"
  else
    die "nats-server did not answer on 127.0.0.1:4222 within 10 s; see $log"
  fi
fi

# --- PostgreSQL on 127.0.0.1:5432 -------------------------------------------

pg_bin=$(pg_bindir)
pg_ready() { "$pg_bin/pg_isready" -q -h 127.0.0.1 -p 5432 -t 2; }

if pg_ready; then
  say "PostgreSQL: answering on 127.0.0.1:5432"
else
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -z $version ]]; then
    # postgresql's postinst normally creates the cluster; make one if not.
    version=$(basename "$(dirname "$pg_bin")")
    as_root pg_createcluster "$version" main >/dev/null || die "pg_createcluster $version main failed"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
    || die "pg_ctlcluster $version main start failed (see /var/log/postgresql/)"
  wait_until 15 pg_ready || die "PostgreSQL $version did not answer on 127.0.0.1:5432 within 15 s"
  say "PostgreSQL: started cluster $version/main on 127.0.0.1:5432"
fi

# The tests connect as HERALD_TEST_POSTGRES_URL, by default as postgres over
# TCP without a password, which needs trust auth for 127.0.0.1.
test_url=${HERALD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
shown=$(sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$test_url")
if PGCONNECT_TIMEOUT=3 "$pg_bin/psql" -w -X -q -A -t "$test_url" -c 'SELECT 1' >/dev/null 2>&1; then
  say "PostgreSQL: tests can connect as ${HERALD_TEST_POSTGRES_URL:+HERALD_TEST_POSTGRES_URL=}$shown"
else
  cat >&2 <<EOF
setup: WARNING: PostgreSQL answers, but the tests cannot log in as $shown
setup:   (no trust auth for postgres@127.0.0.1?). Give the tests a role that may
setup:   CREATE DATABASE and export its URL, e.g.:
setup:     sudo -u postgres psql -c "CREATE ROLE herald_test LOGIN CREATEDB PASSWORD 'herald_test'"
setup:     export HERALD_TEST_POSTGRES_URL=postgres://herald_test:herald_test@127.0.0.1:5432/postgres
setup:   scripts/test.sh requires PostgreSQL and fails until this works.
EOF
fi
