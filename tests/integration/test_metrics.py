"""GET /metrics on the real binary: the Prometheus text passes `promtool check metrics`, counters
move with traffic, access is configurable, every metric the rules and the dashboard use exists,
and a real Prometheus (Debian's package) scrapes the service."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

from harness import SOURCE_DIR, Server, create_key, wait_for

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
MONITORING = os.path.join(SOURCE_DIR, "monitoring")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
EVENT = {"tracking_id": "MET001", "location": "Lima", "status": "PICKED_UP", "event_id": "met-e1"}


def metric_names(text):
    """Every series name in a Prometheus text exposition."""
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
    return names


def value_of(text, series):
    """The value of one exact series line (name and labels as written), or None."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def names_used_in(expr):
    """dinex_* and process_* metric names in a PromQL expression, with histogram suffixes."""
    return set(re.findall(r"\b((?:dinex|process)_[a-zA-Z0-9_]+)", expr))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(PROMTOOL, "promtool is not installed (scripts/install-deps test installs prometheus)")
class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def scrape(self, server=None, key=None):
        st, hdrs, body = (server or self.server).request("GET", "/metrics", key=key)
        self.assertEqual(st, 200, body)
        self.assertEqual(hdrs["content-type"], CONTENT_TYPE)
        return body

    def test_live_output_passes_promtool_and_counts_traffic(self):
        s = self.server
        self.assertEqual(s.request("GET", "/health")[0], 200)
        self.assertEqual(s.request("GET", "/tracking?tracking_id=NOPE42")[0], 404)
        self.assertEqual(s.request("POST", "/tracking", EVENT)[0], 201)
        self.assertEqual(s.request("POST", "/tracking", EVENT)[0], 200)
        self.assertEqual(s.request("GET", "/tracking/MET001")[0], 404)
        body = self.scrape()
        check = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout.strip() + check.stderr.strip(), "")
        self.assertNotIn("MET001", body)
        self.assertNotIn("NOPE42", body)
        self.assertGreaterEqual(value_of(body, 'dinex_http_requests_total{route="/health",method="GET",code="200"}'), 1)
        self.assertGreaterEqual(value_of(body, 'dinex_http_requests_total{route="/tracking",method="POST",code="201"}'), 1)
        # A raw path that matched no route is "unmatched", never the path.
        self.assertGreaterEqual(value_of(body, 'dinex_http_requests_total{route="unmatched",method="GET",code="404"}'), 1)
        self.assertEqual(value_of(body, 'dinex_tracking_events_total{status="PICKED_UP",outcome="created"}'), 1)
        self.assertEqual(value_of(body, 'dinex_tracking_events_total{status="PICKED_UP",outcome="replay"}'), 1)
        self.assertGreaterEqual(value_of(body, 'dinex_store_operation_duration_seconds_count{operation="append",backend="sqlite"}'), 1)
        self.assertEqual(value_of(body, 'dinex_store_errors_total{operation="append",backend="sqlite"}'), 0)
        self.assertEqual(value_of(body, 'dinex_build_info{version="%s",store="sqlite"}' % s.request("GET", "/health")[2]["version"]), 1)
        for name in ("process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total", "process_start_time_seconds"):
            self.assertGreater(value_of(body, name), 0, name)
        self.assertAlmostEqual(value_of(body, "process_start_time_seconds"), time.time(), delta=600)

    def test_every_metric_in_the_rules_and_the_dashboard_exists(self):
        self.server.request("GET", "/health")
        live = metric_names(self.scrape())
        used = set()
        with open(os.path.join(MONITORING, "prometheus", "rules.yml")) as f:
            used |= names_used_in(f.read())
        with open(os.path.join(MONITORING, "grafana", "dashboards", "dinex.json")) as f:
            dash = json.load(f)
        for panel in dash["panels"]:
            for target in panel.get("targets", []):
                if target.get("datasource", {}).get("type") == "prometheus":
                    used |= names_used_in(target["expr"])
        self.assertGreater(len(used), 8)
        # A histogram whose series have not been observed yet shows only its # TYPE line: read those too.
        typed = set(re.findall(r"^# TYPE (\S+) histogram$", self.scrape(), re.M))
        for h in typed:
            live |= {h + "_bucket", h + "_sum", h + "_count"}
        self.assertEqual(sorted(used - live), [], "metrics used in rules/dashboard but missing from /metrics")

    def test_rate_limited_requests_are_counted_by_role(self):
        server = Server(env={"DINEX_RATE_LIMIT": "anonymous=1/1"}).start()
        try:
            statuses = [server.request("GET", "/tracking?tracking_id=ABC123", key=None)[0] for _ in range(4)]
            self.assertIn(429, statuses)
            body = self.scrape(server)
            self.assertEqual(value_of(body, 'dinex_rate_limited_requests_total{role="anonymous"}'), statuses.count(429))
            self.assertEqual(value_of(body, 'dinex_rate_limited_requests_total{role="writer"}'), 0)
        finally:
            server.cleanup()

    def test_access_admin_and_off(self):
        server = Server("--metrics", "admin").start()
        try:
            st, hdrs, _ = server.request("GET", "/metrics", key=None)
            self.assertEqual(st, 401)
            self.assertIn("www-authenticate", hdrs)
            self.assertEqual(server.request("GET", "/metrics")[0], 403)  # the harness's writer key
            admin = create_key(server.db_path(), "admin", "metrics scraper")
            self.scrape(server, key=admin)
        finally:
            server.cleanup()
        server = Server(env={"DINEX_METRICS": "off"}).start()
        try:
            self.assertEqual(server.request("GET", "/metrics")[0], 404)
        finally:
            server.cleanup()
        server = Server("--metrics", "sometimes")
        with self.assertRaises(RuntimeError):
            server.start()
        server.cleanup()

    @unittest.skipUnless(PROMETHEUS, "prometheus is not installed")
    def test_a_real_prometheus_scrapes_the_service(self):
        work = tempfile.mkdtemp(prefix="dinex-prom-")
        port = free_port()
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: dinex-tracking\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % self.server.port)
        log = open(os.path.join(work, "prometheus.log"), "w")
        proc = subprocess.Popen([PROMETHEUS, "--config.file=" + os.path.join(work, "prometheus.yml"),
                                 "--storage.tsdb.path=" + os.path.join(work, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % port], stdout=log, stderr=subprocess.STDOUT)

        def query(q):
            url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": q}))
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    data = json.load(r)
            except OSError:
                return None
            result = data["data"]["result"]
            return float(result[0]["value"][1]) if result else None

        def log_tail():
            with open(os.path.join(work, "prometheus.log")) as f:
                return f.read()[-3000:]

        try:
            self.assertTrue(wait_for(lambda: query('up{job="dinex-tracking"}') == 1, timeout=60, interval=0.5), log_tail())
            # The series exists once a request has been answered (series still at 0 are left out).
            self.assertEqual(self.server.request("GET", "/health")[0], 200)
            q = 'sum(dinex_http_requests_total{route="/health"})'
            self.assertTrue(wait_for(lambda: query(q) is not None, timeout=30, interval=0.5))
            before = query(q)
            for _ in range(25):
                self.assertEqual(self.server.request("GET", "/health")[0], 200)
            self.assertTrue(wait_for(lambda: (query(q) or 0) >= before + 25, timeout=30, interval=0.5),
                            "counter did not move: %s -> %s" % (before, query(q)))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
