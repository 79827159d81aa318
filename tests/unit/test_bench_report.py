"""bench/report.py and bench/cost.py on fixed input: the chart, the marked sections of
docs/PERFORMANCE.md, the target verdicts and the cost arithmetic. No benchmark runs, no timing."""
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import cost  # noqa: E402
import report  # noqa: E402


def row(load, c, rps, p99, p50=100, bad="0"):
    return {"load": load, "connections": str(c), "req_s": str(rps), "p50_us": str(p50), "p99_us": str(p99),
            "non2xx": bad}


HTTP = [row("nginx", 16, 100000, 900), row("get", 16, 90000, 1200), row("post", 16, 20000, 9000),
        row("nginx", 64, 120000, 3000), row("get", 64, 104000, 4000), row("post", 64, 26000, 20000),
        row("mixed", 64, 70000, 6000)]
LAMBDA = {"start_ms": {"median": 2.2, "min": 2.0, "max": 2.6, "runs": 10}, "invocations": 100,
          "get": {"cpu_us": 60, "schedstat_us": 60.0, "user_us": 18.0, "wall_us": 150, "log_bytes": 650, "log_lines": 2},
          "post": {"cpu_us": 70, "schedstat_us": 70.0, "user_us": 55.0, "wall_us": 170, "log_bytes": 900, "log_lines": 3},
          "rss_mib": 8.0, "hwm_mib": 8.1, "zip_bytes": 2765650}


class ChartTest(unittest.TestCase):
    def test_svg_is_well_formed_with_one_line_per_load_and_panel(self):
        svg = report.svg_chart(HTTP, " — test")
        root = ET.fromstring(svg)
        ns = "{http://www.w3.org/2000/svg}"
        lines = root.findall(ns + "polyline")
        self.assertEqual(len(lines), 2 * 4)  # nginx, get, post, mixed; throughput and p99
        self.assertIn("— test", svg)
        texts = [t.text for t in root.iter(ns + "text")]
        self.assertIn("16", texts)
        self.assertIn("64", texts)

    def test_same_input_same_chart(self):
        self.assertEqual(report.svg_chart(HTTP), report.svg_chart(HTTP))

    def test_axis_maximum_is_round_and_above(self):
        self.assertEqual(report.nice_max(120000), 200000)
        self.assertEqual(report.nice_max(20), 20)
        self.assertEqual(report.nice_max(2.3), 2.5)


class SectionTest(unittest.TestCase):
    def test_replaces_only_between_its_markers(self):
        doc = "intro\n<!-- bench:http -->\nold\n<!-- /bench:http -->\n## Import\nkept\n"
        out = report.replace_section(doc, "http", "new table")
        self.assertEqual(out, "intro\n<!-- bench:http -->\nnew table\n<!-- /bench:http -->\n## Import\nkept\n")

    def test_appends_a_missing_section(self):
        out = report.replace_section("text\n", "cost", "x")
        self.assertTrue(out.endswith("<!-- bench:cost -->\nx\n<!-- /bench:cost -->\n"))

    def test_the_summary_says_when_the_run_was_quick_or_the_machine_busy(self):
        m = {"cpu": "x", "nproc": 2, "mem_gib": 1.0, "kernel": "k", "distro": "d", "compiler": "c"}
        quiet = report.section_summary({"mode": "full", "loadavg_start": "0.05 0.1 0.2"}, m)
        self.assertIn("quiet machine (", quiet)
        busy = report.section_summary({"mode": "full", "loadavg_start": "3.1 2 1"}, m)
        self.assertIn("busy machine", busy)
        self.assertIn("`--quick` run", report.section_summary({"mode": "quick", "loadavg_start": "0.1"}, m))

    def test_latency_text(self):
        self.assertEqual(report.us_text("38"), "38 µs")
        self.assertEqual(report.us_text("3780"), "3.78 ms")


class TargetTest(unittest.TestCase):
    def test_verdicts_from_the_figures(self):
        t = {name: verdict for name, _, verdict in report.targets(HTTP, None, LAMBDA)}
        self.assertEqual(t["GET ≥ 85 % of nginx at 64 connections"], "**met**")  # 104k / 120k = 87 %
        self.assertEqual(t["GET p99 < 5 ms at 64 connections"], "**met**")
        self.assertEqual(t["durable POST ≥ 25,000 events/s at 64 connections"], "**met**")
        self.assertEqual(t["Lambda: warm CPU ≤ 50 µs per invocation, excluding the network"], "**missed**")  # POST 55
        self.assertEqual(t["Lambda: RSS ≤ 20 MiB"], "**met**")

    def test_a_gap_above_15_percent_misses(self):
        http = [r if r["load"] != "get" else dict(r, req_s="100000") for r in HTTP]  # 83 %
        t = {name: verdict for name, _, verdict in report.targets(http, None, None)}
        self.assertEqual(t["GET ≥ 85 % of nginx at 64 connections"], "**missed**")

    def test_scale_flatness_needs_the_full_range(self):
        scale = [{"events": "10000", "cache": "off", "p50_us": "1000", "p99_us": "3000", "req_s": "50000"},
                 {"events": "100000", "cache": "off", "p50_us": "1100", "p99_us": "3100", "req_s": "48000"}]
        verdict = report.targets(None, scale, None)[-1][2]
        self.assertIn("10 M not measured", verdict)


class CostTest(unittest.TestCase):
    def test_item_size_rules(self):
        self.assertEqual(cost.item_size({"ab": "xyz"}), 5)
        self.assertEqual(cost.item_size({"n": 1234}), 1 + 3)  # 4 digits -> 2 bytes + 1

    def test_request_units_come_from_the_measured_file(self):
        import json
        import tempfile
        calls = {name: {"calls": 2, "rru": 1, "wru": 8, "detail": ["x"]}
                 for name in ("get", "post_new", "post_existing", "replay", "batch_10_events_5_packages", "listing")}
        calls["get"] = {"calls": 1, "rru": 1, "wru": 0, "detail": ["Query 1 RRU 0 WRU"]}
        calls["limiter"] = {"steady_updates_per_request": 0.05, "wru_per_update": 1, "requests_per_window": 30,
                            "lease_cap": 20}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"calls": calls}, f)
        try:
            u = cost.ddb_units(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual((u["get"]["rru"], u["get"]["wru"], u["get"]["calls"]), (1, 0, 1))
        self.assertAlmostEqual(u["post"]["wru"], 8.05)  # the lease's UpdateItem, amortised
        self.assertAlmostEqual(u["post"]["calls"], 2.05)
        self.assertEqual(cost.ddb_units()["get"]["rru"], cost.measured_units()["calls"]["get"]["rru"])

    def test_billed_duration_rounds_up_to_a_millisecond(self):
        e = cost.estimate({"get_cpu_us": 60, "post_cpu_us": 70, "get_log_bytes": 650, "post_log_bytes": 900,
                           "rss_mib": 8})
        g = e["rows"][("get", "cpp", "arm64")]
        self.assertEqual(e["memory"], 128)
        expected_ms = -(-(cost.ddb_units()["get"]["calls"] * cost.DDB_CALL_MS + 0.060 * cost.FULL_VCPU_MB / 128) // 1)
        self.assertEqual(g["billed_ms"], expected_ms)
        lam = 0.20 + 1e6 * 0.125 * expected_ms / 1000 * cost.PRICES["lambda_gb_s_arm64"]
        self.assertAlmostEqual(g["lambda"], lam, places=9)
        self.assertAlmostEqual(g["total"], g["apigw"] + g["lambda"] + g["ddb"] + g["sns"] + g["logs"], places=9)

    def test_markdown_names_every_source(self):
        md = cost.markdown({"get_cpu_us": 60, "post_cpu_us": 70, "get_log_bytes": 650, "post_log_bytes": 900,
                            "rss_mib": 8, "python_cpu_ms_per_call": 0.8})
        for _, url, _ in cost.SOURCES:
            self.assertIn(url, md)
        self.assertIn("bench/python_anchor.py", md)



# The access-log format of infrastructure/terraform/api.tf before #19's logs work (15 fields).
OLD_ACCESS_LOG = """
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      ip                 = "$context.identity.sourceIp"
      userAgent          = "$context.identity.userAgent"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      path               = "$context.path"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationStatus  = "$context.integrationStatus"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      errorMessage       = "$context.error.message"
    })
  }
"""


class LogBytesTest(unittest.TestCase):
    """The log bytes of the cost model follow the shipped Terraform, not hand-written figures."""

    def api_tf(self):
        with open(os.path.join(cost.TF_DIR, "api.tf"), encoding="utf-8") as f:
            return f.read()

    def test_the_access_log_figure_is_api_tfs_format_rendered(self):
        import json
        import re
        text = self.api_tf()
        block = text[text.index("access_log_settings"):]
        block = block[:block.index("})")]
        fields = dict(re.findall(r'(\w+)\s*=\s*"(\$context\.[^"]+)"', block))
        self.assertEqual(cost.apigw_access_log_format(), fields)
        rendered = json.dumps({k: cost.APIGW_TYPICAL_CONTEXT[v] for k, v in sorted(fields.items())},
                              separators=(",", ":"))
        self.assertEqual(cost.apigw_access_log_bytes(), len(rendered))
        e = cost.estimate({"get_cpu_us": 60, "post_cpu_us": 70, "get_log_bytes": 350, "post_log_bytes": 530,
                           "rss_mib": 8})
        self.assertEqual(e["apigw_log_bytes"], len(rendered))

    def test_a_changed_format_changes_the_figure(self):
        text = self.api_tf()
        more = text.replace('format = jsonencode({', 'format = jsonencode({\n      agent = "$context.identity.userAgent"', 1)
        self.assertEqual(cost.apigw_access_log_bytes(more) - cost.apigw_access_log_bytes(text),
                         len(',"agent":""') + len(cost.APIGW_TYPICAL_CONTEXT["$context.identity.userAgent"]))
        # The 15-field format of before renders close to the 450 B once assumed for it.
        self.assertTrue(400 <= cost.apigw_access_log_bytes(OLD_ACCESS_LOG) <= 460,
                        cost.apigw_access_log_bytes(OLD_ACCESS_LOG))
        with self.assertRaises(ValueError):  # a variable without a typical value is not guessed
            cost.apigw_access_log_bytes(text.replace("$context.status", "$context.unknownThing"))

    def test_platform_lines_follow_the_production_system_log_level(self):
        self.assertEqual(cost.production_system_log_level(), "WARN")  # envs/prod.tfvars
        self.assertEqual(cost.platform_log_bytes("WARN"), 0)
        self.assertEqual(cost.platform_log_bytes("INFO"), 400)
        with self.assertRaises(ValueError):
            cost.platform_log_bytes("DEBUG")
        e = cost.estimate({"get_cpu_us": 60, "post_cpu_us": 70, "get_log_bytes": 350, "post_log_bytes": 530,
                           "consumer_log_bytes": 340, "rss_mib": 8})
        apigw = cost.apigw_access_log_bytes()
        self.assertEqual(e["rows"][("get", "cpp", "arm64")]["log_bytes"], 350 + 0 + apigw)
        self.assertEqual(e["rows"][("post", "cpp", "arm64")]["log_bytes"], 530 + 0 + apigw + 340)

    def test_the_originals_log_bytes_are_its_own_deployments(self):
        e = cost.estimate({"get_cpu_us": 60, "post_cpu_us": 70, "get_log_bytes": 350, "post_log_bytes": 530,
                           "rss_mib": 8})
        for kind in ("get", "post"):
            self.assertEqual(e["rows"][(kind, "python", "x86_64")]["log_bytes"], 200 + 400 + 450)

    def test_the_consumers_bytes_come_from_the_figures(self):
        base = {"get_cpu_us": 60, "post_cpu_us": 70, "get_log_bytes": 350, "post_log_bytes": 530, "rss_mib": 8}
        measured = cost.estimate(dict(base, consumer_log_bytes=300))["rows"][("post", "cpp", "arm64")]["log_bytes"]
        default = cost.estimate(base)["rows"][("post", "cpp", "arm64")]["log_bytes"]
        self.assertEqual(default - measured, cost.CONSUMER_LOG_BYTES_DEFAULT - 300)
        self.assertEqual(report.cost_inputs(dict(LAMBDA, consumer={"log_bytes": 336, "log_lines": 1}), None)
                         ["consumer_log_bytes"], 336)


if __name__ == "__main__":
    unittest.main()
