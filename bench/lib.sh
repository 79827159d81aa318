# shellcheck shell=bash
# Shared by bench/http, bench/scale and bench/run (sourced, not run): the build, the processes
# (server, nginx) and their cleanup, wrk and the parsing of its output, resident memory.
# The caller has `set -euo pipefail` and is in the repository root.

BENCH_BIN=build/release/src/cli/dinex-tracking
# Where raw wrk output and the machine-readable results (TSV) go; bench/run sets its own.
BENCH_OUT=${BENCH_OUT:-build/bench}
# Ports: nginx BASE, the servers BASE+1 .. BASE+3. Another checkout's benchmark on the same machine
# uses the same ones unless one of them sets BENCH_PORT_BASE (and two loads at once on two cores
# measure neither: bench_port_free says so instead of measuring).
BENCH_PORT_BASE=${BENCH_PORT_BASE:-18181}
bench_pids=()

# bench_port_free PORT: fails, naming the owner, when something already listens on PORT.
bench_port_free() {
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; then
    echo "bench: port $1 is in use — another benchmark running? ($(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:.*' | head -1))" >&2
    echo "bench: wait for it (two loads at once on two cores measure neither), or set BENCH_PORT_BASE" >&2
    return 1
  fi
}

# bench_build TARGET...: installs wrk, nginx and sqlite3 when missing and builds the release targets.
bench_build() {
  if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    scripts/install-deps build
    local tool
    for tool in wrk nginx sqlite3; do
      command -v "$tool" >/dev/null || { apt-get install -y -qq wrk nginx-light sqlite3 >/dev/null; break; }
    done
    cmake --preset release >/dev/null
    cmake --build --preset release -j "${JOBS:-2}" --target "$@" >/dev/null
  fi
  mkdir -p "$BENCH_OUT"
}

bench_cleanup() {
  local p
  for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# bench_wait URL WHAT: until URL answers 2xx (10 s at most).
bench_wait() {
  local _
  for _ in $(seq 200); do
    curl -sf "$1" >/dev/null && return 0
    sleep 0.05
  done
  echo "bench: $2 did not answer $1" >&2
  return 1
}

# bench_serve LOG PORT DATA_DIR [serve options...]: starts the release server in the background,
# waits until it is healthy; its pid is in $bench_server_pid (and in bench_pids for the cleanup).
bench_serve() {
  local log=$1 port=$2 data=$3
  shift 3
  bench_port_free "$port"
  "$BENCH_BIN" serve --port "$port" --data-dir "$data" --rate-limit off "$@" >"$log" 2>&1 &
  bench_server_pid=$!
  bench_pids+=("$bench_server_pid")
  bench_wait "http://127.0.0.1:$port/health" "the server"
}

# bench_stop PID: SIGTERM and wait (the server drains and closes its database).
bench_stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# bench_nginx WORK_DIR PORT: nginx answering `return 200 "ok"`, one worker per core like the
# server's threads, access log off: the ceiling.
bench_nginx() {
  local work=$1 port=$2
  bench_port_free "$port"
  cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 127.0.0.1:$port; location / { return 200 "ok"; } }
}
CONF
  nginx -c "$work/nginx.conf" -g 'daemon off;' &
  bench_pids+=($!)
  bench_wait "http://127.0.0.1:$port/" nginx
}

# bench_wrk OUT_FILE CONNECTIONS DURATION_S URL [LUA_SCRIPT [script arguments...]]: one wrk run,
# two threads (the second core), latency distribution on; raw output in OUT_FILE.
bench_wrk() {
  local out=$1 conns=$2 duration=$3 url=$4
  shift 4
  local -a script=()
  if (($#)); then
    script=(-s "$1")
    shift
  fi
  wrk -t2 -c"$conns" -d"${duration}s" --latency "${script[@]}" "$url" -- "$@" >"$out"
}

# bench_parse FILE -> "req/s p50_us p99_us non2xx" (latencies in microseconds).
bench_parse() {
  awk '
    function us(v) {
      if (v ~ /us$/) return v + 0
      if (v ~ /ms$/) return (v + 0) * 1000
      if (v ~ /m$/) return (v + 0) * 60000000
      if (v ~ /s$/) return (v + 0) * 1000000
      return v + 0
    }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /Non-2xx/ { bad = $NF }
    /Socket errors/ { errs = $0 }
    END { printf "%s %.0f %.0f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }' "$1"
}

# bench_us_text MICROSECONDS -> "38 µs" / "3.78 ms" for the printed tables.
bench_us_text() {
  awk -v u="$1" 'BEGIN { if (u < 1000) printf "%d µs", u; else printf "%.2f ms", u / 1000 }'
}

# bench_rss PID -> "VmRSS_MiB VmHWM_MiB RssAnon_MiB" (RssAnon: the process's own heap and stacks,
# without the file pages it maps, e.g. SQLite's mmap of the database)
bench_rss() {
  awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 }
    END { printf "%.1f %.1f %.1f\n", r / 1024, h / 1024, a / 1024 }' "/proc/$1/status"
}
