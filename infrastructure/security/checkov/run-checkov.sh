#!/usr/bin/env bash
# Runs Checkov over the Terraform (infrastructure/terraform), the Jenkins image (jenkins/) and the
# repository's secrets scan, with .checkov.yaml beside this script. Exits non-zero on any failed
# check: skips exist only inline, each with its reason (#checkov:skip=ID:reason).
# Usage: infrastructure/security/checkov/run-checkov.sh [extra checkov arguments]
#   Writes JUnit XML to $CHECKOV_REPORT_DIR (default build/checkov) for the pipeline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
report_dir=${CHECKOV_REPORT_DIR:-$root/build/checkov}

if ! command -v checkov >/dev/null 2>&1; then
  echo "run-checkov: checkov is not installed (pip install checkov; the Jenkins image has it)" >&2
  exit 2
fi

mkdir -p "$report_dir"
echo "checkov $(checkov --version)" >&2

status=0
for dir in infrastructure/terraform jenkins; do
  name=$(basename "$dir")
  checkov --config-file "$here/.checkov.yaml" \
    --directory "$root/$dir" \
    --output cli --output junitxml \
    --output-file-path "console,$report_dir/checkov-$name.xml" \
    "$@" || status=$?
done

if ((status != 0)); then
  echo "run-checkov: failed checks (exit $status); see above or $report_dir" >&2
fi
exit "$status"
