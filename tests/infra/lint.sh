#!/usr/bin/env bash
# The repository's linters, one per ctest test (label infra):
#   lint.sh shellcheck   every shell script (by extension or shebang), with Debian's shellcheck
#   lint.sh yamllint     every YAML file, with .yamllint at the repository root (errors fail; long lines warn)
#   lint.sh groovy       the Jenkinsfile, with npm-groovy-lint (CodeNarc; needs Java)
#   lint.sh dockerfile   every Dockerfile, with dockerfile-utils (npm)
#   lint.sh compose      every compose file, with docker-compose config -q (Debian, v1)
#   lint.sh promtool     the Prometheus alert rules (check rules) and their unit tests (test rules)
#   lint.sh npm-install  installs tests/infra/node_modules from package-lock.json when missing
# Build output, node_modules and .git are never linted.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${DINEX_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
cd "$root"

# Files under the tree, without build output and dependencies, NUL-separated.
files() {
  find . \( -path ./build -o -path './build-*' -o -name node_modules -o -name .git -o -name venv -o -name .venv \) -prune \
    -o -type f \( "$@" \) -print0 | sort -z
}

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "lint: $1 is not installed (scripts/install-deps test installs it)" >&2
    exit 1
  fi
}

shell_scripts() {
  local f first
  while IFS= read -r -d '' f; do
    case ${f##*/} in
      *.sh | *.bash) printf '%s\0' "$f" ;;
      *.*) ;;
      *)
        IFS= read -r first <"$f" || true
        if [[ $first =~ ^\#!.*(/|[[:space:]])(ba|da|k)?sh([[:space:]]|$) ]]; then
          printf '%s\0' "$f"
        fi
        ;;
    esac
  done < <(files -perm -u+x -o -name '*.sh' -o -name '*.bash')
}

run_checked() {
  # run_checked TOOL ARGS... -- FILES (NUL list on stdin): one run over all, count printed.
  local -a list=()
  local f
  while IFS= read -r -d '' f; do list+=("$f"); done
  if ((${#list[@]} == 0)); then
    echo "lint: no files for $1" >&2
    return 0
  fi
  "$@" "${list[@]}"
  echo "lint: $1 passed on ${#list[@]} files: ${list[*]}"
}

case ${1:-} in
  npm-install)
    cd "$here"
    if [[ ! -e node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
      npm ci --no-audit --no-fund --omit=optional --loglevel=error
    fi
    ;;
  shellcheck)
    need shellcheck
    shellcheck --version | sed -n 2p
    shell_scripts | run_checked shellcheck --external-sources
    ;;
  yamllint)
    need yamllint
    yamllint --version
    files -name '*.yml' -o -name '*.yaml' -o -name .yamllint | run_checked yamllint -c .yamllint
    ;;
  groovy)
    need java
    lint="$here/node_modules/.bin/npm-groovy-lint"
    # (--version would start a CodeNarc server: read the version from the package instead)
    node -p '"npm-groovy-lint " + require(process.argv[1]).version' "$here/node_modules/npm-groovy-lint/package.json"
    # --noserver: no CodeNarc server is left running after the check. Warnings fail too.
    files -name Jenkinsfile -o -name '*.groovy' -o -name '*.jenkinsfile' |
      run_checked "$lint" --noserver --failon warning --output txt --config "$here/groovylintrc.json"
    ;;
  dockerfile)
    lint="$here/node_modules/.bin/dockerfile-utils"
    "$lint" --version
    files -name Dockerfile -o -name '*.Dockerfile' -o -name 'Dockerfile.*' | while IFS= read -r -d '' f; do
      # dockerfile-utils prints its findings and exits 0 either way: any output fails.
      out=$("$lint" lint "$f")
      if [[ -n $out ]]; then
        printf '%s:\n%s\n' "$f" "$out" >&2
        exit 1
      fi
      echo "lint: dockerfile-utils passed on $f"
    done
    ;;
  compose)
    mapfile -d '' compose < <(files -name 'docker-compose*.yml' -o -name 'docker-compose*.yaml' -o -name 'compose.yml' -o -name 'compose.yaml')
    if ((${#compose[@]} == 0)); then
      echo "lint: no compose file in the repository"
      exit 0
    fi
    need docker-compose
    docker-compose version --short
    for f in "${compose[@]}"; do
      # A compose file that needs secrets from .env is checked with its committed .env.example
      # when no .env exists (as on CI).
      env_args=()
      if [[ ! -e "$(dirname "$f")/.env" && -e "$(dirname "$f")/.env.example" ]]; then env_args=(--env-file .env.example); fi
      (cd "$(dirname "$f")" && docker-compose "${env_args[@]}" -f "$(basename "$f")" config -q)
      echo "lint: docker-compose config -q passed on $f"
    done
    ;;
  promtool)
    need promtool
    promtool --version | head -1
    rules=monitoring/prometheus/rules.yml
    promtool check rules "$rules"
    # Every alert has a unit test (with the alert firing: exp_alerts not empty, checked by review).
    missing=0
    while read -r name; do
      if ! grep -Eq "alertname: ${name}\$" monitoring/prometheus/rules.test.yml; then
        echo "lint: alert $name has no test in monitoring/prometheus/rules.test.yml" >&2
        missing=1
      fi
    done < <(sed -n 's/^ *- alert: *//p' "$rules")
    ((missing == 0)) || exit 1
    (cd monitoring/prometheus && promtool test rules rules.test.yml)
    # The stack's Prometheus configuration, with the rules where the container mounts them.
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp "$rules" "$tmp/rules.yml"
    sed "s|/etc/prometheus/rules.yml|$tmp/rules.yml|" monitoring/prometheus/prometheus.yml >"$tmp/prometheus.yml"
    promtool check config "$tmp/prometheus.yml"
    amtool=$(command -v amtool || true)
    if [[ -n $amtool ]]; then "$amtool" check-config monitoring/alertmanager/alertmanager.yml; fi
    echo "lint: promtool passed on $rules and its tests"
    ;;
  *)
    echo "usage: $0 npm-install|shellcheck|yamllint|groovy|dockerfile|compose|promtool" >&2
    exit 2
    ;;
esac
