#!/usr/bin/env bash
# Installs tests/openapi/node_modules (Redocly CLI, Ajv, ajv-formats, yaml) exactly as
# package-lock.json pins them, when missing or older than the lock file. Used by
# scripts/install-deps test and by the ctest fixture openapi_npm. Offline-safe once installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ ! -e node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
