#!/usr/bin/env bash
# Runs the browser tests of the tracking page against a running DINEX server.
#   DINEX_BASE_URL=http://127.0.0.1:8080 tests/e2e/run.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ -z "${DINEX_BASE_URL:-}" ]]; then
  echo "run.sh: set DINEX_BASE_URL to the server under test, e.g. http://127.0.0.1:8080" >&2
  exit 2
fi

if [[ ! -d node_modules ]]; then
  npm ci --no-audit --no-fund
fi

exec node --test tracking_page.test.mjs
