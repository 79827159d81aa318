#!/usr/bin/python3
"""Writes the measured sections of docs/PERFORMANCE.md and the chart docs/performance.svg from the
results bench/run leaves in its results directory (http.tsv, http-rss.tsv, scale.tsv,
lambda.json, micro.json, python_anchor.json, run.json).

Only the regions between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` are replaced; everything
else in the document (method, history, other people's sections) is kept as written. A region whose
part did not run keeps its previous content. Plain python3 standard library.
Usage: bench/report.py --results build/bench/results [--doc docs/PERFORMANCE.md] [--svg docs/performance.svg]
"""
import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cost  # noqa: E402

LOADS = [  # key in http.tsv, label, colour
    ("nginx", "nginx return 200 (ceiling)", "#7f7f7f"),
    ("get", "GET /tracking (8 events)", "#1f77b4"),
    ("get_uncached", "GET, lookup cache off", "#17becf"),
    ("post", "POST /tracking (durable)", "#d62728"),
    ("mixed", "mixed 90% GET / 10% POST", "#2ca02c"),
]
LABELS = {k: label for k, label, _ in LOADS}


# --- reading results --------------------------------------------------------------------------
def read_tsv(path):
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


# --- formatting -------------------------------------------------------------------------------
def us_text(us):
    us = num(us)
    if us != us:
        return "?"
    return "%.0f µs" % us if us < 1000 else "%.2f ms" % (us / 1000.0)


def rps_text(v):
    return "{:,.0f}".format(num(v))


def table(header, rows, align=None):
    align = align or ["---"] + ["---:"] * (len(header) - 1)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# --- the chart --------------------------------------------------------------------------------
def nice_max(v):
    """A round axis maximum >= v (1, 2, 2.5, 5 x 10^n)."""
    if v <= 0:
        return 1.0
    exp = 10 ** len(str(int(v))) / 10.0
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def svg_chart(rows, title_note=""):
    """rows: dicts with load, connections, req_s, p99_us (http.tsv). Returns an SVG document:
    throughput (left) and p99 latency (right) against connections, one line per load."""
    conns = sorted({int(r["connections"]) for r in rows})
    series = {}
    for r in rows:
        series.setdefault(r["load"], {})[int(r["connections"])] = r
    w, h = 960, 420
    panel_w, panel_h = 380, 260
    top, left1, left2 = 60, 80, 560
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif" font-size="12">' % (w, h, w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="24" font-size="16" font-weight="bold">DINEX Tracking: local server vs nginx '
           '(wrk, 2 threads, same 2-core machine)%s</text>' % (left1, escape(title_note))]

    def x_of(left, c):
        if len(conns) == 1:
            return left + panel_w / 2.0
        return left + panel_w * conns.index(c) / (len(conns) - 1.0)

    def panel(left, title, value, unit, fmt):
        vmax = nice_max(max([value(r) for s in series.values() for r in s.values()] + [0]))
        out.append('<text x="%d" y="%d" font-weight="bold">%s</text>' % (left, top - 12, escape(title)))
        for i in range(6):  # grid and y labels
            v = vmax * i / 5.0
            y = top + panel_h - panel_h * i / 5.0
            out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (left, y, left + panel_w, y))
            out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 6, y + 4, fmt(v)))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (left, top, left, top + panel_h))
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>'
                   % (left, top + panel_h, left + panel_w, top + panel_h))
        for c in conns:
            out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (x_of(left, c), top + panel_h + 16, c))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">connections</text>' % (left + panel_w / 2.0, top + panel_h + 34))
        out.append('<text x="%d" y="%.1f" text-anchor="middle" transform="rotate(-90 %d %.1f)">%s</text>'
                   % (left - 58, top + panel_h / 2.0, left - 58, top + panel_h / 2.0, escape(unit)))
        for key, _, colour in LOADS:
            pts = series.get(key)
            if not pts:
                continue
            xy = [(x_of(left, c), top + panel_h - panel_h * value(pts[c]) / vmax) for c in conns if c in pts]
            out.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                       % (colour, " ".join("%.1f,%.1f" % p for p in xy)))
            for x, y in xy:
                out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (x, y, colour))

    panel(left1, "Throughput", lambda r: num(r["req_s"]), "requests per second", lambda v: "{:,.0f}".format(v))
    panel(left2, "p99 latency", lambda r: num(r["p99_us"]) / 1000.0, "milliseconds", lambda v: "%g" % v)
    x, y = left1, top + panel_h + 52
    for key, label, colour in LOADS:  # legend, wrapped
        if key not in series:
            continue
        width = 28 + 7 * len(label)
        if x + width > w - 20:
            x, y = left1, y + 20
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (x, y, colour))
        out.append('<text x="%d" y="%d">%s</text>' % (x + 16, y + 10, escape(label)))
        x += width
    out.append("</svg>")
    return "\n".join(out) + "\n"


def escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- sections ---------------------------------------------------------------------------------
def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    try:
        gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        gcc = "?"
    distro = "?"
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            distro = m.group(1) if m else "?"
    return {"cpu": model, "nproc": os.cpu_count(), "mem_gib": mem_kb / 1048576.0, "kernel": platform.release(),
            "distro": distro, "compiler": gcc}


def section_summary(run, m):
    quick = run.get("mode") == "quick"
    busy = num((run.get("loadavg_start") or "0").split()[0]) > 0.5
    load = ("load average %s (1, 5, 15 min) at the start, %s at the end; a quiet machine starts below 0.5"
            % (run.get("loadavg_start", "?"), run.get("loadavg_end", "?")))
    lines = []
    if quick or busy:
        lines.append("> **Figures from a %s%s** (%s). Use them to see the shape, not as reference figures: "
                     "those come from `bench/run` on a quiet machine."
                     % ("`--quick` run (short runs, smaller scale)" if quick else "full run",
                        " on a busy machine — other processes were using the same two cores" if busy else "", load))
    else:
        lines.append("> Full run on a quiet machine (%s)." % load)
    lines.append("")
    lines.append(table(["", ""], [
        ["date", "%s → %s (UTC)" % (run.get("started", "?"), run.get("finished", "?"))],
        ["command", "`%s`" % run.get("command", "bench/run")],
        ["parts", ", ".join(run.get("parts", []))],
        ["CPU", "%s, %d cores (`nproc`)" % (m["cpu"], m["nproc"])],
        ["memory", "%.1f GiB" % m["mem_gib"]],
        ["system", "%s, kernel %s" % (m["distro"], m["kernel"])],
        ["compiler", m["compiler"]],
        ["commit", "`%s`" % run.get("commit", "?")],
    ], ["---", "---"]))
    return "\n".join(lines)


def at(rows, load, c):
    for r in rows:
        if r["load"] == load and int(r["connections"]) == c:
            return r
    return None


def pick_conns(rows, want=64):
    cs = sorted({int(r["connections"]) for r in rows})
    return min(cs, key=lambda c: abs(c - want)) if cs else None


def section_http(rows, rss, run):
    out = ["`%s`: %s s per run, connections %s. Raw wrk output: `build/bench/results/`."
           % ("bench/http %s %s" % (run.get("http_duration", "?"), " ".join(str(c) for c in run.get("connections", []))),
              run.get("http_duration", "?"), ", ".join(str(c) for c in run.get("connections", [])))]
    out.append("")
    body = []
    for c in sorted({int(r["connections"]) for r in rows}):
        ceiling = at(rows, "nginx", c)
        for key, _, _ in LOADS:
            r = at(rows, key, c)
            if not r:
                continue
            share = "%.0f %%" % (100 * num(r["req_s"]) / num(ceiling["req_s"])) if ceiling and key != "nginx" else ""
            body.append([LABELS[key], c, rps_text(r["req_s"]), share, us_text(r["p50_us"]), us_text(r["p99_us"]),
                         r["non2xx"]])
    out.append(table(["load", "connections", "req/s", "of nginx", "p50", "p99", "non-2xx"], body))
    out.append("")
    out.append("![Throughput and p99 latency against connections](performance.svg)")
    if rss:
        r = rss[0]
        out.append("")
        out.append("Resident memory of the server (default settings) after all of the above: **%s MiB** (VmRSS; "
                   "%s MiB anonymous, the rest file pages of the mapped database), peak %s MiB (VmHWM), with %s "
                   "events stored by the POST runs."
                   % (r["vmrss_mib"], r.get("rssanon_mib", "?"), r["vmhwm_mib"], r.get("events_stored", "?")))
    return "\n".join(out)


def section_scale(rows, run):
    out = ["`bench/scale %s %s`: %d connections, packages chosen at random over the whole range, 10 events each."
           % (run.get("scale_duration", "?"), " ".join(str(s) for s in run.get("scale_sizes", [])), 64)]
    out.append("")
    body = []
    for r in rows:
        body.append(["{:,}".format(int(r["events"])), "{:,}".format(int(r["packages"])),
                     "%.1f MiB" % (num(r["db_bytes"]) / 1048576.0), "%s s" % r["fill_s"],
                     "off (store)" if r["cache"] == "off" else "on (10,000 entries)",
                     rps_text(r["req_s"]), us_text(r["p50_us"]), us_text(r["p99_us"]), r["non2xx"],
                     "%s MiB (%s MiB)" % (r["vmhwm_mib"], r.get("rssanon_mib", "?"))])
    out.append(table(["events", "packages", "database", "fill", "lookup cache", "req/s", "p50", "p99", "non-2xx",
                      "server peak RSS (anonymous)"], body))
    out.append("")
    out.append("The database file is in the page cache (it was just written, and the machine has far more memory "
               "than 10 M events take): this measures the store's B-tree lookups, not the disk. Each read "
               "connection maps up to 256 MiB of the file (`mmap_size`), and those file pages count in the "
               "server's RSS once per connection; the anonymous part (heap, stacks, SQLite's page caches) is in "
               "parentheses.")
    return "\n".join(out)


def section_lambda(lam, anchor):
    out = ["`bench/lambda --starts %d --invocations %d` on the packaged `bootstrap` (memory store, writer key on every "
           "request) against the Runtime API stand-in (`tests/lambda/runtime_api_standin.py`)."
           % (lam.get("start_ms", {}).get("runs", 0), lam.get("invocations", 0))]
    out.append("")
    s = lam.get("start_ms", {})
    rows = [["exec → first `next` (median, min–max)", "%.2f ms (%.2f–%.2f)" % (s.get("median", 0), s.get("min", 0), s.get("max", 0))]]
    for k, name in (("get", "GET /dev/tracking"), ("post", "POST /dev/tracking")):
        f = lam.get(k, {})
        rows.append(["warm CPU per %s: user time / user + system (schedstat)" % name,
                     "%.1f µs / %.1f µs" % (f.get("user_us", 0), f.get("schedstat_us", 0))])
        rows.append(["log output per %s (stdout → CloudWatch Logs)" % name,
                     "%.0f B in %.1f lines" % (f.get("log_bytes", 0), f.get("log_lines", 0))])
    if "consumer" in lam:
        rows.append(["log output per DynamoDB Streams batch of one state change (the notification consumer)",
                     "%.0f B in %.1f lines" % (lam["consumer"]["log_bytes"], lam["consumer"]["log_lines"])])
    rows.append(["RSS of the warm process after the GETs (VmRSS / VmHWM)",
                 "%.1f MiB / %.1f MiB" % (lam.get("rss_mib", 0), lam.get("hwm_mib", 0))])
    if "hwm_after_posts_mib" in lam:
        rows.append(["peak RSS after the POSTs, their %d events held by the memory store (a test double: on AWS "
                     "they are in DynamoDB)" % lam.get("invocations", 0), "%.1f MiB" % lam["hwm_after_posts_mib"]])
    if "zip_bytes" in lam:
        rows.append(["`deployment.zip`", "%.2f MiB (%d bytes)" % (lam["zip_bytes"] / 1048576.0, lam["zip_bytes"])])
    out.append(table(["figure", "measured"], rows, ["---", "---:"]))
    out.append("")
    out.append("User time is the function's own work (decode, route, store, encode, logs, parsing the Runtime "
               "API's HTTP); system time is mostly the kernel's loopback TCP to the stand-in, i.e. the network the "
               "target excludes. Start-up is measured from just before `Popen` to the stand-in's receipt of the "
               "first `next`, so it includes Python's fork and exec.")
    if anchor:
        out.append("")
        out.append("The anchor — Python %s with boto3 %s on the same machine (`bench/python_anchor.py`): importing "
                   "boto3 and creating the DynamoDB and SNS clients takes **%.0f ms** of CPU; each call then costs the "
                   "client **%.2f ms** of CPU (GetItem %.2f, PutItem %.2f, SNS Publish %.2f; serialisation, SigV4, "
                   "HTTP, parsing), measured in the client process against a local moto server whose own time is "
                   "not counted."
                   % (anchor["python"], anchor["boto3"], anchor["init_cpu_ms"], anchor["per_call_cpu_ms"],
                      anchor["get_item_ms"], anchor["put_item_ms"], anchor["publish_ms"]))
    return "\n".join(out)


def section_micro(micro):
    rows = []
    for b in micro.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        unit = b.get("time_unit", "ns")
        rows.append(["`%s`" % b["name"], "%.1f %s" % (b["real_time"], unit), "%.1f %s" % (b["cpu_time"], unit)])
    head = ("`build/release/bench/micro/micro_benchmarks --benchmark_min_time=…` (Google Benchmark; our code "
            "is the release build — the \"library built as debug\" warning is about Debian's libbenchmark "
            "itself). Time is wall-clock per iteration: on a busy machine it exceeds CPU time by what "
            "other processes took.")
    return head + "\n\n" + table(["benchmark", "time", "CPU"], rows)


def targets(http, scale, lam):
    """[(target, measured, verdict)] for the budget in docs/PERFORMANCE.md ("Targets")."""
    out = []

    def verdict(ok):
        return "**met**" if ok else "**missed**"

    if http:
        c = pick_conns(http)
        g, n, p = at(http, "get", c), at(http, "nginx", c), at(http, "post", c)
        if g and n:
            share = num(g["req_s"]) / num(n["req_s"])
            out.append(("GET ≥ 85 % of nginx at 64 connections", "%s vs %s req/s = %.0f %% (%d conns)"
                        % (rps_text(g["req_s"]), rps_text(n["req_s"]), 100 * share, c), verdict(share >= 0.85)))
            out.append(("GET p99 < 5 ms at 64 connections", us_text(g["p99_us"]), verdict(num(g["p99_us"]) < 5000)))
        if p:
            out.append(("durable POST ≥ 25,000 events/s at 64 connections", "%s events/s, %s non-2xx"
                        % (rps_text(p["req_s"]), p["non2xx"]), verdict(num(p["req_s"]) >= 25000 and p["non2xx"] == "0")))
    else:
        out.append(("HTTP targets", "not measured in this run", "—"))
    if lam:
        s = lam["start_ms"]["median"]
        out.append(("Lambda: exec → first `next` ≤ 5 ms", "%.2f ms (median)" % s, verdict(s <= 5.0)))
        cpu = max(lam["get"]["user_us"], lam["post"]["user_us"])
        tot = max(lam["get"]["schedstat_us"], lam["post"]["schedstat_us"])
        out.append(("Lambda: warm CPU ≤ 50 µs per invocation, excluding the network",
                    "%.0f µs user (%.0f µs with the kernel's loopback TCP)" % (cpu, tot), verdict(cpu <= 50)))
        out.append(("Lambda: RSS ≤ 20 MiB", "%.1f MiB (VmHWM)" % lam["hwm_mib"], verdict(lam["hwm_mib"] <= 20)))
        if "zip_bytes" in lam:
            z = lam["zip_bytes"] / 1048576.0
            out.append(("`deployment.zip` ≤ 3 MiB", "%.2f MiB" % z, verdict(z <= 3)))
    else:
        out.append(("Lambda targets", "not measured in this run", "—"))
    if scale:
        store = [r for r in scale if r["cache"] == "off"]
        if len(store) >= 2:
            lo, hi = store[0], store[-1]
            p50r, p99r = num(hi["p50_us"]) / num(lo["p50_us"]), num(hi["p99_us"]) / num(lo["p99_us"])
            rr = num(hi["req_s"]) / num(lo["req_s"])
            flat = p50r <= 1.5 and p99r <= 1.5 and rr >= 2 / 3.0
            full = int(hi["events"]) >= 10_000_000 and int(lo["events"]) <= 10_000
            out.append(("GET latency flat from 10 thousand to 10 million events (store, cache off; flat = p50 and "
                        "p99 within 1.5×, req/s within ⅔)",
                        "%s → %s events: p50 %s → %s, p99 %s → %s, req/s %s → %s"
                        % ("{:,}".format(int(lo["events"])), "{:,}".format(int(hi["events"])), us_text(lo["p50_us"]),
                           us_text(hi["p50_us"]), us_text(lo["p99_us"]), us_text(hi["p99_us"]), rps_text(lo["req_s"]),
                           rps_text(hi["req_s"])),
                        (verdict(flat) if full else
                         ("flat so far (%s); 10 M not measured in this run" % ("met" if flat else "missed")))))
    else:
        out.append(("Scale target", "not measured in this run", "—"))
    return out


def section_targets(http, scale, lam):
    rows = [[t, m, v] for t, m, v in targets(http, scale, lam)]
    return (table(["target", "measured in this run", "verdict"], rows, ["---", "---", "---"]) +
            "\n\nComputed by `bench/report.py` from the figures below. On this shared virtual machine runs vary by "
            "about ±8 %; a verdict near its threshold needs a quiet full run to stand.")


def cost_inputs(lam, anchor):
    return {"get_cpu_us": lam["get"]["schedstat_us"], "post_cpu_us": lam["post"]["schedstat_us"],
            "get_log_bytes": lam["get"]["log_bytes"], "post_log_bytes": lam["post"]["log_bytes"],
            "consumer_log_bytes": lam.get("consumer", {}).get("log_bytes"),
            "rss_mib": lam["hwm_mib"],
            "python_cpu_ms_per_call": anchor["per_call_cpu_ms"] if anchor else None}


# --- the document -----------------------------------------------------------------------------
def replace_section(doc, name, body):
    """Replaces the region between the markers of `name`; appends it at the end when absent."""
    start, end = "<!-- bench:%s -->" % name, "<!-- /bench:%s -->" % name
    block = "%s\n%s\n%s" % (start, body.rstrip("\n"), end)
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(doc):
        return pattern.sub(lambda _: block, doc, count=1)
    return doc.rstrip("\n") + "\n\n" + block + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    root = os.path.dirname(HERE)
    ap.add_argument("--doc", default=os.path.join(root, "docs", "PERFORMANCE.md"))
    ap.add_argument("--svg", default=os.path.join(root, "docs", "performance.svg"))
    a = ap.parse_args()
    r = a.results
    run = read_json(os.path.join(r, "run.json")) or {}
    http = read_tsv(os.path.join(r, "http.tsv"))
    rss = read_tsv(os.path.join(r, "http-rss.tsv"))
    scale = read_tsv(os.path.join(r, "scale.tsv"))
    lam = read_json(os.path.join(r, "lambda.json"))
    micro = read_json(os.path.join(r, "micro.json"))
    anchor = read_json(os.path.join(r, "python_anchor.json"))

    with open(a.doc) as f:
        doc = f.read()
    doc = replace_section(doc, "summary", section_summary(run, machine()))
    doc = replace_section(doc, "targets", section_targets(http, scale, lam))
    if http:
        doc = replace_section(doc, "http", section_http(http, rss, run))
        note = " — quick run, busy machine" if run.get("mode") == "quick" else ""
        with open(a.svg, "w") as f:
            f.write(svg_chart(http, note))
    if scale:
        doc = replace_section(doc, "scale", section_scale(scale, run))
    if lam:
        doc = replace_section(doc, "lambda", section_lambda(lam, anchor))
        doc = replace_section(doc, "cost", cost.markdown(cost_inputs(lam, anchor)))
    if micro:
        doc = replace_section(doc, "micro", section_micro(micro))
    with open(a.doc, "w") as f:
        f.write(doc)
    print("report: wrote %s%s" % (a.doc, " and " + a.svg if http else ""))
    for t, m, v in targets(http, scale, lam):
        print("  %-60s %-50s %s" % (t[:60], m[:50], v.replace("*", "")))


if __name__ == "__main__":
    main()
