#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running carewatch with demo
# data: installs what is missing, builds, creates demo.db, serves on
# 127.0.0.1:8080 (override with CAREWATCH_LISTEN / CAREWATCH_DB).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --runtime
make -s -j"$(nproc)"
DB="${CAREWATCH_DB:-demo.db}"
LISTEN="${CAREWATCH_LISTEN:-127.0.0.1:8080}"
build/carewatch init --db "$DB" --demo
echo
echo "carewatch: open http://${LISTEN} and log in with one of the demo logins above."
echo "           (Ctrl-C stops the server)"
exec build/carewatch serve --db "$DB" --listen "$LISTEN"
