#!/usr/bin/env bash
# Smoke test of a deployed stack: GET /health, then a POST /tracking and a GET of the same package.
# Usage: infrastructure/scripts/smoke-test.sh API_URL     (API_URL with the stage, e.g. the
#        `api_url` Terraform output https://abc.execute-api.us-east-1.amazonaws.com/dev)
# SMOKE_API_KEY, when set, is sent as X-Api-Key (a writer key, for stacks that require one).
# The test package id is SMOKE-<time>-<random>; it expires with the retention like any other.
set -euo pipefail

url=${1:?usage: smoke-test.sh API_URL}
url=${url%/}
tries=${SMOKE_TRIES:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

headers=(-H 'Content-Type: application/json')
if [[ -n ${SMOKE_API_KEY:-} ]]; then
  headers+=(-H "X-Api-Key: $SMOKE_API_KEY")
fi

# request METHOD PATH [BODY] -> prints the status code; the body is in $work/body
request() {
  local method=$1 path=$2 body=${3:-}
  local -a data=()
  if [[ -n $body ]]; then
    data=(--data "$body")
  fi
  curl -sS -o "$work/body" -w '%{http_code}' -X "$method" "${headers[@]}" "${data[@]}" \
    --max-time 15 "$url$path"
}

fail() {
  echo "smoke: FAIL: $*" >&2
  if [[ -s $work/body ]]; then
    echo "smoke: body: $(head -c 2000 "$work/body")" >&2
  fi
  exit 1
}

# A fresh deployment may answer 5xx for a few seconds (alias switch, cold start): retry /health.
for ((i = 1; ; i++)); do
  code=$(request GET /health || echo 000)
  if [[ $code == 200 ]]; then
    break
  fi
  if ((i >= tries)); then
    fail "GET /health answered $code after $tries tries"
  fi
  sleep 3
done
grep -q '"status":"healthy"' "$work/body" || fail 'GET /health: status is not "healthy"'
echo "smoke: GET /health 200 $(cat "$work/body")"

id="SMOKE-$(date +%s)-$RANDOM"
code=$(request POST /tracking "{\"tracking_id\":\"$id\",\"location\":\"Smoke test\",\"status\":\"INFO_RECEIVED\"}")
[[ $code == 201 ]] || fail "POST /tracking answered $code"
grep -q "\"tracking_id\":\"$id\"" "$work/body" || fail "POST /tracking: no tracking_id $id in the answer"
echo "smoke: POST /tracking 201 ($id)"

code=$(request GET "/tracking?tracking_id=$id")
[[ $code == 200 ]] || fail "GET /tracking answered $code"
grep -q "\"tracking_id\":\"$id\"" "$work/body" || fail "GET /tracking: not the package $id"
grep -q '"status":"INFO_RECEIVED"' "$work/body" || fail "GET /tracking: status is not INFO_RECEIVED"
echo "smoke: GET /tracking 200 ($id, INFO_RECEIVED)"

code=$(request GET "/tracking?tracking_id=NOPE-$id")
[[ $code == 404 ]] || fail "GET /tracking of an unknown package answered $code, not 404"
echo "smoke: passed against $url"
