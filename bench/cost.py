"""AWS cost per million requests, from the measured figures (bench/run -> bench/report.py).

Everything the estimate assumes is a named constant below, with its source; the arithmetic is in
`estimate()` and is printed step by step into docs/PERFORMANCE.md by `markdown()`.
Prices: us-east-1, on-demand, first pricing tier, free tiers ignored; looked up 2026-11-29.
"""
import json
import math
import os
import re

PRICES_LOOKED_UP = "2026-11-29"
REGION = "us-east-1"

# --- Published prices (USD) -------------------------------------------------------------------
PRICES = {
    # https://aws.amazon.com/api-gateway/pricing/ — HTTP APIs, first 300 million requests a month,
    # metered in 512 KB increments (also in the AWS whitepaper "Best Practices for Designing Amazon
    # API Gateway Private APIs", Cost optimization, Table 4).
    "apigw_http_per_million": 1.00,
    # https://aws.amazon.com/lambda/pricing/ — requests, and duration per GB-second (first tier:
    # 6 billion GB-s/month on x86_64, 7.5 billion on arm64); duration rounded up to 1 ms.
    "lambda_per_million_requests": 0.20,
    "lambda_gb_s_x86_64": 0.0000166667,
    "lambda_gb_s_arm64": 0.0000133334,
    # https://aws.amazon.com/dynamodb/pricing/on-demand/ — on-demand throughput since the
    # 1 November 2024 price cut: per million write / read request units (Standard table class).
    "ddb_per_million_wru": 0.625,
    "ddb_per_million_rru": 0.125,
    # https://aws.amazon.com/sns/pricing/ — standard topics, per million API requests (publishes),
    # each 64 KB chunk of a payload one request. Deliveries to SQS and Lambda are free.
    "sns_per_million_publishes": 0.50,
    # https://aws.amazon.com/cloudwatch/pricing/ — Logs, Standard class, data ingested per GB
    # (Lambda's tiered "vended logs" price starts at the same $0.50 for the first 10 TB).
    "cwlogs_per_gb_ingested": 0.50,
}

SOURCES = [
    ("API Gateway", "https://aws.amazon.com/api-gateway/pricing/", "HTTP API: $1.00 per million requests (first 300 M/month)"),
    ("Lambda", "https://aws.amazon.com/lambda/pricing/",
     "$0.20 per million requests; $0.0000166667 per GB-s (x86_64), $0.0000133334 per GB-s (arm64); 1 ms granularity"),
    ("DynamoDB", "https://aws.amazon.com/dynamodb/pricing/on-demand/",
     "on-demand: $0.625 per million WRU, $0.125 per million RRU; transactional read/write = 2 units; "
     "strongly consistent read = 1 RRU per 4 KB, write = 1 WRU per 1 KB"),
    ("SNS", "https://aws.amazon.com/sns/pricing/", "standard topic: $0.50 per million publishes (64 KB chunks)"),
    ("CloudWatch Logs", "https://aws.amazon.com/cloudwatch/pricing/", "Standard class: $0.50 per GB ingested"),
]

# --- Assumptions (not measured here; change them and rerun bench/report.py) --------------------
# Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB
# (Lambda developer guide, "Configuring function memory"). The CPU time measured on this machine
# is scaled by 1769 / memory: an upper bound (short bursts may run faster).
FULL_VCPU_MB = 1769
# Round trip of one DynamoDB call from Lambda in the same region (DynamoDB's "single-digit
# millisecond" latency): the function waits for it and the wait is billed. Same for both versions.
DDB_CALL_MS = 5.0
# Round trip of one SNS Publish (the stream consumer's and the original handler's).
SNS_CALL_MS = 10.0
# Lines Lambda itself writes per invocation, by the function's system log level
# (logging_config.system_log_level). At INFO: START/END/REPORT with the X-Ray trace id, ~400 B (as
# text; JSON's platform.start + platform.report are about the same). At WARN Lambda drops
# platform.start (INFO), platform.runtimeDone (DEBUG when successful) and platform.report (INFO when
# successful): a successful invocation writes none; only failed or timed-out ones keep their
# runtimeDone/report (WARN), and those are not in this per-request model.
PLATFORM_LOG_BYTES_BY_LEVEL = {"INFO": 400, "WARN": 0}
TF_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "infrastructure", "terraform")
# The original's deployment (not ours): plain-text START/END/REPORT and a 15-field API Gateway
# access log, as assumed since the first cost model; these stay whatever our Terraform says.
ORIGINAL_PLATFORM_LOG_BYTES = 400
ORIGINAL_APIGW_ACCESS_LOG_BYTES = 450
# Typical values of the API Gateway ($context) variables an access-log format may use, for
# rendering infrastructure/terraform/api.tf's format as API Gateway writes it (a value it has not
# is "-"). A variable missing here makes apigw_access_log_bytes() fail: add its typical value.
APIGW_TYPICAL_CONTEXT = {
    "$context.requestId": "Jxk2XjvSoAMEbXA=",  # HTTP API request ids are 16 characters
    "$context.extendedRequestId": "Jxk2XjvSoAMEbXA=",
    "$context.requestTime": "06/Dec/2026:04:27:22 +0000",
    "$context.requestTimeEpoch": "1796531242000",
    "$context.identity.sourceIp": "198.51.100.23",
    "$context.identity.userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15",
    "$context.httpMethod": "GET",
    "$context.routeKey": "GET /tracking",
    "$context.path": "/prod/tracking",
    "$context.status": "200",
    "$context.protocol": "HTTP/1.1",
    "$context.responseLength": "812",
    "$context.responseLatency": "12",
    "$context.integrationStatus": "200",
    "$context.integrationLatency": "9",
    "$context.integration.requestId": "6f8c2e6a-1b3d-4c5e-9f70-8a9b0c1d2e3f",
    "$context.integrationErrorMessage": "-",
    "$context.error.message": "-",
    "$context.error.responseType": "-",
}
# The notification consumer's own lines per stream batch when the figures have none
# (bench/lambda measures it: "consumer" in lambda.json); the value of the run before #19's logs work.
CONSUMER_LOG_BYTES_DEFAULT = 601
# Events per package in a GET answer (the HTTP benchmark's package has 8).
EVENTS_PER_PACKAGE = 8
# Stream consumer invocations per state change: the event source mapping batches up to 100
# records within 1 s; at a few requests per second each state change is its own batch (1.0, the
# worst case, used here); under heavy load ~0.03.
CONSUMER_INVOCATIONS_PER_CHANGE = 1.0
# The original handler (Python 3.11, 256 MB, boto3) is not in this repository: its CPU per
# request is taken from bench/python_anchor.py (boto3's client-side CPU per DynamoDB/SNS call,
# measured on this machine) when available, else this value (ms of one full vCPU per AWS call).
PYTHON_CPU_MS_PER_AWS_CALL_DEFAULT = 1.5
# Python's own handler work per request (event parsing, json, logging), ms of one full vCPU.
PYTHON_HANDLER_CPU_MS = 0.3
# The original's log output per request (one print/log line), bytes.
PYTHON_LOG_BYTES = 200


# --- DynamoDB item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
def _number_size(value):
    digits = str(abs(value)).replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def item_size(item):
    """Bytes DynamoDB bills for an item: attribute names plus values (strings UTF-8, numbers
    1 byte per two significant digits + 1)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        size += _number_size(value) if isinstance(value, (int, float)) else len(str(value).encode())
    return size


NOW_MS = 1_795_969_066_000
ULID = "01M8M1J94FN45QA50G6TD0YS9F"
# The original's one item per package, for its PutItem's size (its source is not here): the
# state item of a typical package (tracking id of 10 characters, location "Lima").
STATE_ITEM = {"tracking_id": "TRK0012345", "sk": "STATE", "status": "OUT_FOR_DELIVERY", "location": "Lima",
              "timestamp": NOW_MS, "event_id": ULID, "created_at": NOW_MS, "updated_at": NOW_MS, "event_count": 8,
              "version": 8, "gsi_status": "OUT_FOR_DELIVERY", "gsi_updated_at": NOW_MS,
              "expires_at": NOW_MS // 1000, "expires_at_ms": NOW_MS}

# Capacity units of this service's API calls, measured on the real binary by
# tests/integration/test_capacity.py (DynamoDB calls priced by DynamoDB's rules from the items
# really read and written); that test fails when the file no longer matches the code.
UNITS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ddb_units.json")


def measured_units(path=UNITS_FILE):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def ddb_units(path=UNITS_FILE):
    """Request units and DynamoDB round trips per GET and per POST of this service (measured), and
    of the original (assumed)."""
    m = measured_units(path)["calls"]
    lim = m["limiter"]
    # An API key's requests lease tokens of the shared counter: one UpdateItem per lease.
    lease_wru = lim["steady_updates_per_request"] * lim["wru_per_update"]
    get, post = m["get"], m["post_existing"]
    return {
        "measured": m,
        # GET: the cost model's reader is anonymous (the tracking page): limited per instance.
        "get": {"rru": get["rru"], "wru": get["wru"], "calls": get["calls"], "detail": get["detail"]},
        # POST: an event for a package that exists, by a writer key (the limiter's lease amortised).
        "post": {"rru": post["rru"], "wru": post["wru"] + lease_wru,
                 "calls": post["calls"] + lim["steady_updates_per_request"], "detail": post["detail"],
                 "lease_wru": lease_wru},
        # The original: GetItem of one item, eventually consistent (0.5 RRU per 4 KB), PutItem of one.
        "orig_get": {"rru": 0.5, "wru": 0, "calls": 1},
        "orig_post": {"rru": 0, "wru": math.ceil(item_size(STATE_ITEM) / 1024), "calls": 2},  # PutItem + SNS Publish
    }


def _tf_read(name):
    with open(os.path.join(TF_DIR, name), encoding="utf-8") as f:
        return f.read()


def apigw_access_log_format(api_tf=None):
    """{field: "$context.variable"} of the stage's access_log_settings format in api.tf (a
    jsonencode({...}) of one variable per field)."""
    text = api_tf if api_tf is not None else _tf_read("api.tf")
    block = re.search(r"access_log_settings\s*\{.*?format\s*=\s*jsonencode\(\{(.*?)\}\)", text, re.S)
    if not block:
        raise ValueError("api.tf: no access_log_settings { format = jsonencode({...}) }")
    fields = re.findall(r'^\s*(\w+)\s*=\s*"(\$context\.[\w.]+)"\s*$', block.group(1), re.M)
    if not fields:
        raise ValueError("api.tf: the access log format has no $context fields")
    return dict(fields)


def apigw_access_log_bytes(api_tf=None):
    """Bytes of one access-log line in api.tf's format, rendered with typical values the way
    Terraform's jsonencode writes it (keys sorted, no spaces) and API Gateway fills it."""
    fields = apigw_access_log_format(api_tf)
    missing = sorted(v for v in fields.values() if v not in APIGW_TYPICAL_CONTEXT)
    if missing:
        raise ValueError("no typical value for %s: add it to APIGW_TYPICAL_CONTEXT" % ", ".join(missing))
    line = json.dumps({k: APIGW_TYPICAL_CONTEXT[v] for k, v in fields.items()}, sort_keys=True,
                      separators=(",", ":"))
    return len(line.encode())


def production_system_log_level():
    """system_log_level of envs/prod.tfvars, else the variable's default in variables.tf."""
    m = re.search(r'^\s*system_log_level\s*=\s*"(\w+)"', _tf_read(os.path.join("envs", "prod.tfvars")), re.M)
    if m:
        return m.group(1)
    var = re.search(r'variable\s+"system_log_level"\s*\{.*?default\s*=\s*"(\w+)"', _tf_read("variables.tf"), re.S)
    if not var:
        raise ValueError("variables.tf: no system_log_level default")
    return var.group(1)


def platform_log_bytes(level=None):
    level = level or production_system_log_level()
    if level not in PLATFORM_LOG_BYTES_BY_LEVEL:
        raise ValueError("system_log_level %s is not modelled (only %s)" % (level, ", ".join(PLATFORM_LOG_BYTES_BY_LEVEL)))
    return PLATFORM_LOG_BYTES_BY_LEVEL[level]


def memory_for(rss_mib):
    """The smallest Lambda memory size (128 MB minimum) with at least 4x the measured RSS."""
    return max(128, int(math.ceil(rss_mib * 4 / 64.0)) * 64)


def estimate(fig):
    """fig: {"get_cpu_us", "post_cpu_us", "get_log_bytes", "post_log_bytes", "rss_mib",
    "consumer_log_bytes" (optional), "python_cpu_ms_per_call" (optional)} -> cost rows per million
    requests."""
    p = PRICES
    units = ddb_units()
    platform = platform_log_bytes()
    apigw = apigw_access_log_bytes()
    consumer = fig.get("consumer_log_bytes") or CONSUMER_LOG_BYTES_DEFAULT
    mem = memory_for(fig["rss_mib"])
    py_call = fig.get("python_cpu_ms_per_call") or PYTHON_CPU_MS_PER_AWS_CALL_DEFAULT
    rows = {}

    def lambda_cost(billed_ms, memory_mb, arch):
        gb_s = memory_mb / 1024.0 * billed_ms / 1000.0
        return p["lambda_per_million_requests"] + 1e6 * gb_s * p["lambda_gb_s_" + arch]

    def logs_cost(bytes_per_request):
        return 1e6 * bytes_per_request / 1e9 * p["cwlogs_per_gb_ingested"]

    for kind in ("get", "post"):
        u = units[kind]
        cpu_ms = fig[kind + "_cpu_us"] / 1000.0 * FULL_VCPU_MB / mem
        wait_ms = u["calls"] * DDB_CALL_MS
        billed = math.ceil(wait_ms + cpu_ms)
        ddb = 1e6 * (u["rru"] * p["ddb_per_million_rru"] + u["wru"] * p["ddb_per_million_wru"]) / 1e6
        sns = p["sns_per_million_publishes"] if kind == "post" else 0.0
        consumer_billed = math.ceil(SNS_CALL_MS + cpu_ms) if kind == "post" else 0
        log_bytes = fig[kind + "_log_bytes"] + platform + apigw
        if kind == "post":
            log_bytes += CONSUMER_INVOCATIONS_PER_CHANGE * (platform + consumer)
        for arch in ("arm64", "x86_64"):
            lam = lambda_cost(billed, mem, arch)
            if kind == "post":
                lam += CONSUMER_INVOCATIONS_PER_CHANGE * lambda_cost(consumer_billed, mem, arch)
            rows[(kind, "cpp", arch)] = {
                "memory": mem, "cpu_ms": cpu_ms, "wait_ms": wait_ms, "billed_ms": billed,
                "consumer_billed_ms": consumer_billed, "apigw": p["apigw_http_per_million"], "lambda": lam,
                "ddb": ddb, "rru": u["rru"], "wru": u["wru"], "sns": sns, "log_bytes": log_bytes,
                "logs": logs_cost(log_bytes)}
        # The original: Python 3.11, 256 MB, x86_64, boto3; DynamoDB and SNS calls in the handler.
        o = units["orig_" + kind]
        py_cpu_ms = (PYTHON_HANDLER_CPU_MS + o["calls"] * py_call) * FULL_VCPU_MB / 256
        py_wait = DDB_CALL_MS + (SNS_CALL_MS if kind == "post" else 0.0)
        py_billed = math.ceil(py_wait + py_cpu_ms)
        py_log = PYTHON_LOG_BYTES + ORIGINAL_PLATFORM_LOG_BYTES + ORIGINAL_APIGW_ACCESS_LOG_BYTES
        rows[(kind, "python", "x86_64")] = {
            "memory": 256, "cpu_ms": py_cpu_ms, "wait_ms": py_wait, "billed_ms": py_billed, "consumer_billed_ms": 0,
            "apigw": p["apigw_http_per_million"], "lambda": lambda_cost(py_billed, 256, "x86_64"),
            "ddb": 1e6 * (o["rru"] * p["ddb_per_million_rru"] + o["wru"] * p["ddb_per_million_wru"]) / 1e6,
            "rru": o["rru"], "wru": o["wru"], "sns": sns, "log_bytes": py_log, "logs": logs_cost(py_log)}
    for r in rows.values():
        r["total"] = r["apigw"] + r["lambda"] + r["ddb"] + r["sns"] + r["logs"]
    for key in (("cpp", "arm64"), ("cpp", "x86_64"), ("python", "x86_64")):
        g, q = rows[("get",) + key], rows[("post",) + key]
        rows[("mix",) + key] = {k: 0.9 * g[k] + 0.1 * q[k] for k in
                                ("apigw", "lambda", "ddb", "sns", "logs", "total")}
    return {"rows": rows, "units": units, "memory": mem, "python_cpu_ms_per_call": py_call,
            "platform_log_bytes": platform, "system_log_level": production_system_log_level(),
            "apigw_log_bytes": apigw, "consumer_log_bytes": consumer}


def _money(x):
    return "$%.3f" % x


def markdown(fig):
    """The cost section of PERFORMANCE.md."""
    e = estimate(fig)
    rows, u, mem = e["rows"], e["units"], e["memory"]
    out = []
    out.append("Per **million requests**, %s, on-demand prices looked up %s (free tiers ignored). "
               "Inputs measured by this run: warm CPU per invocation (GET %.0f µs, POST %.0f µs, all threads, "
               "user + system), the function's log output (GET %.0f B, POST %.0f B per invocation) and its "
               "resident memory (%.1f MiB → **%d MB** is enough: the 128 MB minimum holds 4× the peak)."
               % (REGION, PRICES_LOOKED_UP, fig["get_cpu_us"], fig["post_cpu_us"], fig["get_log_bytes"],
                  fig["post_log_bytes"], fig["rss_mib"], mem))
    out.append("")
    out.append("| per million | GET, C++ arm64 | GET, C++ x86_64 | GET, original | POST, C++ arm64 | POST, C++ x86_64 | POST, original | 90/10 mix, C++ arm64 | 90/10 mix, original |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    cols = [("get", "cpp", "arm64"), ("get", "cpp", "x86_64"), ("get", "python", "x86_64"),
            ("post", "cpp", "arm64"), ("post", "cpp", "x86_64"), ("post", "python", "x86_64"),
            ("mix", "cpp", "arm64"), ("mix", "python", "x86_64")]
    for label, key in (("API Gateway (HTTP API)", "apigw"), ("Lambda (requests + duration)", "lambda"),
                       ("DynamoDB (on-demand)", "ddb"), ("SNS", "sns"), ("CloudWatch Logs", "logs"),
                       ("**total**", "total")):
        cells = [_money(rows[c][key]) for c in cols]
        if key == "total":
            cells = ["**%s**" % c for c in cells]
        out.append("| %s | %s |" % (label, " | ".join(cells)))
    out.append("")
    g, q = rows[("get", "cpp", "arm64")], rows[("post", "cpp", "arm64")]
    pg, pq = rows[("get", "python", "x86_64")], rows[("post", "python", "x86_64")]
    p = PRICES
    out.append("How each line is computed (arm64 shown; x86_64 only changes the GB-s price):")
    out.append("")
    out.append("- **API Gateway**: 1,000,000 × $%.2f / 1 M = $%.2f, the same for both versions (answers are far below 512 KB)."
               % (p["apigw_http_per_million"], p["apigw_http_per_million"]))
    for name, r, k in (("GET", g, "get"), ("POST", q, "post")):
        out.append(
            "- **Lambda, %s**: CPU %.0f µs measured × %d/%d (CPU share of %d MB) = %.2f ms, plus %d DynamoDB "
            "round trip(s) × %.0f ms (assumed) = %.2f ms → billed **%d ms**; 1 M × (%d/1024 GB × %d ms) = %.1f GB-s × $%.10f "
            "+ $%.2f requests = $%.3f%s."
            % (name, fig[k + "_cpu_us"], FULL_VCPU_MB, r["memory"], r["memory"], r["cpu_ms"], u[k]["calls"],
               DDB_CALL_MS, r["wait_ms"] + r["cpu_ms"], r["billed_ms"], r["memory"], r["billed_ms"],
               1e6 * r["memory"] / 1024.0 * r["billed_ms"] / 1000.0, p["lambda_gb_s_arm64"],
               p["lambda_per_million_requests"], r["lambda"],
               "" if k == "get" else
               ", including the stream consumer: %.0f invocation per state change × (%d ms billed: one SNS "
               "Publish, %.0f ms assumed)" % (CONSUMER_INVOCATIONS_PER_CHANGE, r["consumer_billed_ms"], SNS_CALL_MS)))
    m = u["measured"]
    out.append(
        "- **DynamoDB, GET**: measured (`bench/ddb_units.json`, written by tests/integration/test_capacity.py): "
        "%s → %g RRU + %g WRU; an anonymous caller's rate limit is counted per instance (docs/SECURITY.md), "
        "so no counter write: %g × $%.3f/M + %g × $%.3f/M = $%.3f."
        % ("; ".join(u["get"]["detail"]), u["get"]["rru"], u["get"]["wru"], u["get"]["rru"], p["ddb_per_million_rru"],
           u["get"]["wru"], p["ddb_per_million_wru"], g["ddb"]))
    lim = m["limiter"]
    out.append(
        "- **DynamoDB, POST** (an event for a package that exists): measured %s; plus the writer key's share of "
        "the shared limiter's leases, %.3f UpdateItem (1 WRU) per request as measured for a writer sending %d "
        "requests per window (leases of up to %d tokens). Total %g RRU + %.3f WRU = $%.3f. (The table's stream is "
        "read by Lambda for free.)"
        % ("; ".join(u["post"]["detail"]), lim["steady_updates_per_request"], lim["requests_per_window"],
           lim["lease_cap"], u["post"]["rru"], u["post"]["wru"], q["ddb"]))
    out.append("- **Other calls, measured** (RRU / WRU per call): " + "; ".join(
        "%s %g / %g" % (name.replace("_", " "), m[name]["rru"], m[name]["wru"])
        for name in ("post_new", "post_existing", "replay", "batch_10_events_5_packages", "listing")) + ".")
    out.append("- **SNS**: one Publish per state change (every POST here, the upper bound: a late, older event "
               "publishes nothing): $%.2f per million POSTs; deliveries to SQS or Lambda subscribers are free."
               % p["sns_per_million_publishes"])
    out.append(
        "- **CloudWatch Logs**: per GET %d B = %.0f B of the function's one document per invocation (access "
        "fields + EMF metrics, measured) + %d B of Lambda's own lines (production `system_log_level = %s`%s) + "
        "%d B API Gateway access log (api.tf's format rendered with typical values); per POST %d B (%.0f B "
        "measured, and the stream consumer's batch: %.0f B measured + %d B Lambda's); 1 M × bytes / 10⁹ × "
        "$%.2f/GB = $%.3f (GET), $%.3f (POST). Storage ($0.03/GB-month, 7 days in dev) is not counted."
        % (g["log_bytes"], fig["get_log_bytes"], e["platform_log_bytes"], e["system_log_level"],
           ": START and REPORT of successful invocations are not written" if e["platform_log_bytes"] == 0 else "",
           e["apigw_log_bytes"], q["log_bytes"], fig["post_log_bytes"], e["consumer_log_bytes"],
           e["platform_log_bytes"], p["cwlogs_per_gb_ingested"], g["logs"], q["logs"]))
    out.append(
        "- **The original** (Python 3.11, 256 MB, x86_64, boto3): its source is not in this repository, so its "
        "duration is *not* measured. Assumed: a GET is one GetItem (eventually consistent, 0.5 RRU), a POST one "
        "PutItem (%d WRU) and one SNS Publish; CPU per request = %.1f ms of handler work + %.2f ms of boto3 per AWS "
        "call (%s), × %d/256 for the CPU share of 256 MB = %.1f ms (GET), %.1f ms (POST); plus the same network "
        "waits → billed %d ms (GET), %d ms (POST); %d B of logs per request (its line, Lambda's plain-text "
        "START/END/REPORT and a 15-field API Gateway access log: its deployment, not ours)."
        % (u["orig_post"]["wru"], PYTHON_HANDLER_CPU_MS, e["python_cpu_ms_per_call"],
           "measured on this machine by bench/python_anchor.py: boto3's client-side CPU per call against a local "
           "moto server" if fig.get("python_cpu_ms_per_call") else "assumed",
           FULL_VCPU_MB, pg["cpu_ms"], pq["cpu_ms"], pg["billed_ms"], pq["billed_ms"], pg["log_bytes"]))
    out.append("")
    out.append("Reading it: API Gateway's $1.00 is the largest line of a GET; the C++ function's Lambda line is "
               "mostly the billed wait for DynamoDB (its own CPU is about a millisecond even at 128 MB's share of "
               "a core), while the original pays for 256 MB and boto3's CPU. The C++ POST costs more DynamoDB than "
               "the original's because it does more: it keeps the history (the event's own item, 1 WRU), commits "
               "idempotency and ordering with one conditional put of the state item (1 WRU) and keeps the status "
               "index, whose key (`gsi_updated_at`) changes with every event (delete + put, 2 WRU); the GET reads "
               "eventually consistent, as the original's GetItem; docs/DYNAMODB.md gives the units per operation "
               "before and after #19 and what would cut them further. Not counted: X-Ray traces (tracing is Active: $5.00 per "
               "million traces recorded, ~5 % sampled by default), data transfer out, storage, KMS requests.")
    out.append("")
    out.append("Sources (%s prices, looked up %s):" % (REGION, PRICES_LOOKED_UP))
    out.append("")
    for name, url, what in SOURCES:
        out.append("- %s: <%s> — %s." % (name, url, what))
    out.append("")
    out.append("The official pages render most of their rate tables client-side, so the numbers were read from "
               "stored copies and cross-checked: API Gateway in AWS's whitepaper *Best Practices for Designing "
               "Amazon API Gateway Private APIs and Private Integration* (Cost optimization, Table 4); Lambda, "
               "DynamoDB (the on-demand price cut of 1 November 2024), SNS and CloudWatch Logs (Lambda's tiered "
               "log pricing of 1 May 2025 starts at the same $0.50/GB) in recent third-party summaries of those "
               "pages. Check them before relying on a cent: they are constants at the top of `bench/cost.py`.")
    return "\n".join(out)
