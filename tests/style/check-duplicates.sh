#!/usr/bin/env bash
# The copy-paste detector over src/ (issue 17): jscpd, which tokenizes C++, must find no clone of
# 50 tokens or more in the .cpp files. Headers are left out: every implementation of a port
# declares the port's overrides again, which is a clone by construction, not repeated logic.
# Installs jscpd (pinned by package-lock.json) when missing. Exit status 1 when a clone is found.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ ! -e node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node_modules/.bin/jscpd --format cpp --formats-exts "cpp:cpp" --min-tokens 50 --threshold 0 \
  --reporters console --silent --exitCode 1 ../../src
