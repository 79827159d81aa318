#!/usr/bin/env bash
# Runs browser tests (the tracking page's by default) against a running DINEX server.
#   DINEX_BASE_URL=http://127.0.0.1:8080 tests/e2e/run.sh [staff_app.test.mjs]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ -z "${DINEX_BASE_URL:-}" ]]; then
  echo "run.sh: set DINEX_BASE_URL to the server under test, e.g. http://127.0.0.1:8080" >&2
  exit 2
fi

if [[ ! -d node_modules ]]; then
  npm ci --no-audit --no-fund
fi

exec node --test "${1:-tracking_page.test.mjs}"
