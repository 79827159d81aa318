"""Errors are visible: the Lambda on the DynamoDB store with the endpoint on a closed port. Every
request that needs the store gets a clean 503 JSON error (never a crash, never a hang), the process
keeps serving, and the CloudWatch Embedded Metric Format line written for each request counts it
in ServerErrors (client errors in ClientErrors). The EMF documents are parsed and checked against
the structure the EMF specification requires."""
import hashlib
import json
import socket
import time
import unittest

from lambda_harness import LambdaProcess
from harness import assert_503_cause_logged_not_answered  # noqa: E402 (lambda_harness puts it on the path)

ORIGINAL = {"tracking_id": "TRK001", "location": "Lima", "status": "IN_TRANSIT"}
# A writer API key configured by hash (docs/SECURITY.md: role:id:sha256hex), so POSTs are allowed
# without asking the store for the key.
WRITER_KEY = "dnx_lambdatests2_" + "a" * 52
KEYS = {"DINEX_API_KEY_HASHES": "writer:lambdatests2:" + hashlib.sha256(WRITER_KEY.encode()).hexdigest()}
WRITER = {"x-api-key": WRITER_KEY}
# The store's client retries transport errors 5 times with backoff (25 ms base, full jitter, 1 s
# cap): at most 25+50+100+200 ms of waiting when every connect is refused at once.
RETRY_BUDGET_S = 5.0


def check_emf(testcase, doc):
    """The structure of one EMF document (CloudWatch EMF specification)."""
    aws = doc["_aws"]
    testcase.assertEqual(set(aws), {"Timestamp", "CloudWatchMetrics"})
    testcase.assertIsInstance(aws["Timestamp"], int)
    testcase.assertLess(abs(aws["Timestamp"] - time.time() * 1000), 60_000)  # epoch milliseconds
    for directive in aws["CloudWatchMetrics"]:
        testcase.assertEqual(set(directive), {"Namespace", "Dimensions", "Metrics"})
        testcase.assertEqual(directive["Namespace"], "DINEX/Tracking")
        for dimension_set in directive["Dimensions"]:
            testcase.assertLessEqual(len(dimension_set), 30)
            for name in dimension_set:
                testcase.assertIsInstance(doc[name], str, name)
        for metric in directive["Metrics"]:
            # Unit is optional (CloudWatch's None): counts go without one, Latency is Milliseconds.
            testcase.assertLessEqual(set(metric), {"Name", "Unit"})
            testcase.assertIn("Name", metric)
            testcase.assertIn(metric.get("Unit", "Milliseconds"), ("Milliseconds",))
            value = doc[metric["Name"]]
            testcase.assertTrue(isinstance(value, (int, float)) and not isinstance(value, bool), metric)


class DependencyDownTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A bound socket that never listens: connects to it are refused, and no one else gets the port.
        cls.blocker = socket.socket()
        cls.blocker.bind(("127.0.0.1", 0))
        port = cls.blocker.getsockname()[1]
        cls.fn = LambdaProcess(env={
            "TABLE_NAME": "dinex-tracking-dev", "ENVIRONMENT": "staging",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:%d" % port, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_LAMBDA_FUNCTION_NAME": "dinex-tracking-staging", **KEYS}, clear_env=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.fn.stop()
        cls.blocker.close()

    def emf_records(self):
        return [r for r in self.fn.log_records() if "_aws" in r]

    def request(self, *args, **kw):
        """One request; returns (status, body, elapsed seconds, the EMF request line written for it)."""
        before = len([r for r in self.emf_records() if "Requests" in r])
        started = time.monotonic()
        st, _, body, _ = self.fn.http(*args, **kw)
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = [r for r in self.emf_records() if "Requests" in r]
            if len(lines) > before:
                self.assertEqual(len(lines), before + 1, lines)
                check_emf(self, lines[-1])
                return st, body, elapsed, lines[-1]
            time.sleep(0.02)
        self.fail("no EMF line for %r" % (args,))

    def assert_server_error(self, st, body, elapsed, emf):
        self.assertIn(st, (500, 503), body)
        self.assertEqual(set(body), {"error", "code", "details", "request_id"}, body)
        self.assertIn(body["code"], ("unavailable", "internal"))
        self.assertTrue(body["error"])
        self.assertLess(elapsed, RETRY_BUDGET_S)
        self.assertEqual((emf["Requests"], emf["ServerErrors"], emf.get("ClientErrors", 0)), (1, 1, 0), emf)
        self.assertEqual(emf["Environment"], "staging")
        self.assertEqual(emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"], [["Environment"], []])
        self.assertGreaterEqual(emf["Latency"], 0)

    def test_post_is_a_clean_503_counted_in_server_errors(self):
        st, body, elapsed, emf = self.request("POST", "/tracking", body=ORIGINAL, headers=WRITER)
        self.assertEqual(st, 503, body)
        self.assert_server_error(st, body, elapsed, emf)
        print("POST with DynamoDB down: %d after %.0f ms (retries included)" % (st, elapsed * 1000))

    def test_get_is_a_clean_503_and_serving_goes_on(self):
        for _ in range(3):
            st, body, elapsed, emf = self.request("GET", "/tracking", query="tracking_id=TRK001")
            self.assertEqual(st, 503, body)
            self.assert_server_error(st, body, elapsed, emf)
        # Requests that need no store are still answered, and counted as successes.
        st, body, _, emf = self.request("GET", "/", headers={"accept": "text/html"})
        self.assertEqual(st, 200)
        self.assertEqual((emf.get("ServerErrors", 0), emf.get("ClientErrors", 0)), (0, 0), emf)
        self.assertIsNone(self.fn.proc.poll())

    def test_every_server_error_is_logged_with_its_cause_never_answered(self):
        st, body, _, _ = self.request("GET", "/tracking", query="tracking_id=TRKCAUSE")
        self.assertEqual(st, 503, body)
        # The connect failure, where it went, and that DynamoDB was asked.
        assert_503_cause_logged_not_answered(self, self.fn.log_records, self.fn.lines, body["request_id"], body)

    def test_client_errors_are_counted_apart(self):
        st, body, _, emf = self.request("POST", "/tracking", body=dict(ORIGINAL, status="LOST_IN_SPACE"),
                                      headers=WRITER)
        self.assertEqual(st, 422, body)  # refused before the store is asked
        self.assertEqual((emf["Requests"], emf.get("ServerErrors", 0), emf["ClientErrors"]), (1, 0, 1), emf)
        st, body, _, emf = self.request("GET", "/tracking")
        self.assertEqual(st, 400, body)
        self.assertEqual((emf.get("ServerErrors", 0), emf["ClientErrors"]), (0, 1), emf)

    def test_no_tracking_event_metric_for_refused_writes(self):
        self.request("POST", "/tracking", body=ORIGINAL, headers=WRITER)
        self.assertEqual([r for r in self.emf_records() if "TrackingEvents" in r], [])

    def test_an_invalid_event_is_an_invocation_error_without_an_emf_request_line(self):
        before = len(self.emf_records())
        res = self.fn.invoke(b"{not an event")
        self.assertEqual(res.kind, "error")
        self.assertEqual(res.json()["errorType"], "InvalidEvent")
        st, body, _, _ = self.request("GET", "/tracking", query="tracking_id=TRK001")
        self.assertEqual(st, 503, body)
        self.assertEqual(len(self.emf_records()), before + 1)  # only the GET's

    def test_every_stdout_line_is_one_json_object(self):
        self.request("GET", "/tracking", query="tracking_id=TRK001")
        for line in list(self.fn.lines):
            doc = json.loads(line)
            self.assertIsInstance(doc, dict)


class TrustStoreConfigurationTest(unittest.TestCase):
    """An https:// AWS endpoint with no usable CA trust store is the function's configuration
    error (init/error Runtime.InvalidConfiguration, exit 1), not a store outage found per request."""

    def test_a_missing_ssl_cert_file_is_an_init_error(self):
        fn = LambdaProcess(env={
            "TABLE_NAME": "dinex-tracking-dev", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL_DYNAMODB": "https://dynamodb.example.test",
            "SSL_CERT_FILE": "/nonexistent/ca-bundle.crt"}, clear_env=True).start()
        try:
            res = fn.standin.init_error(timeout=15)
            self.assertIsNotNone(res, fn.lines)
            err = res.json()
            self.assertEqual(err["errorType"], "Runtime.InvalidConfiguration", err)
            self.assertIn("SSL_CERT_FILE=/nonexistent/ca-bundle.crt", err["errorMessage"])
            self.assertIn("https://dynamodb.example.test", err["errorMessage"])
            self.assertEqual(fn.wait(), 1)
        finally:
            fn.stop()

    def test_plain_http_endpoints_need_no_trust_store(self):
        fn = LambdaProcess(env={"DINEX_STORE": "memory", "SSL_CERT_FILE": "/nonexistent/ca-bundle.crt"}).start()
        try:
            st, _, body, _ = fn.http("GET", "/health")
            self.assertEqual(st, 200, body)
        finally:
            fn.stop()


class HealthyStoreEmfTest(unittest.TestCase):
    """On a working store (memory), accepted POSTs also write a TrackingEvents line with Status."""

    def test_tracking_events_by_status(self):
        fn = LambdaProcess(env={"DINEX_STORE": "memory", **KEYS}).start()
        try:
            st, _, body, _ = fn.http("POST", "/tracking", body=ORIGINAL, headers=WRITER)
            self.assertEqual(st, 201, body)
            st, _, body, _ = fn.http("POST", "/tracking", body=dict(ORIGINAL, status="picked_up", event_id="e-2",
                                                                      timestamp=int(time.time()) - 3600),
                                     headers=WRITER)
            self.assertEqual(st, 201, body)  # a late arrival: stored in the history
            # A batch counts each stored item (not the replay, not the refused one).
            batch = {"events": [dict(ORIGINAL, tracking_id="TRK002", status="EXCEPTION", event_id="b-1"),
                                dict(ORIGINAL, tracking_id="TRK002", status="EXCEPTION", event_id="b-1"),
                                dict(ORIGINAL, tracking_id="TRK003", status="LOST"),
                                dict(ORIGINAL, tracking_id="TRK003", status="DELIVERED")]}
            st, _, body, _ = fn.http("POST", "/tracking/batch", body=batch, headers=WRITER)
            self.assertEqual(st, 200, body)
            self.assertEqual([r["status"] for r in body["results"]], [201, 200, 422, 201])
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and len([r for r in fn.log_records() if "Requests" in r]) < 3:
                time.sleep(0.02)
            events = [r for r in fn.log_records() if "TrackingEvents" in r]
            self.assertEqual([e["Status"] for e in events], ["IN_TRANSIT", "PICKED_UP", "EXCEPTION", "DELIVERED"])
            for e in events:
                check_emf(self, e)
                self.assertEqual(e["Environment"], "dev")  # ENVIRONMENT unset
                self.assertEqual(e["TrackingEvents"], 1)
                self.assertEqual(tracking_directive(e)["Dimensions"], [["Environment", "Status"], ["Environment"]])
        finally:
            fn.stop()


def tracking_directive(doc):
    """The directive that declares TrackingEvents (one per document)."""
    found = [d for d in doc["_aws"]["CloudWatchMetrics"] if any(m["Name"] == "TrackingEvents" for m in d["Metrics"])]
    assert len(found) == 1, doc
    return found[0]


class OneDocumentPerInvocationTest(unittest.TestCase):
    """Each API invocation writes one JSON object: the access fields and the EMF metrics together
    (docs/OBSERVABILITY-LAMBDA.md). Only a batch that stored events of several statuses adds one
    document per further status, since an EMF document carries one value per dimension."""

    @classmethod
    def setUpClass(cls):
        cls.fn = LambdaProcess(env={"DINEX_STORE": "memory", "ENVIRONMENT": "prod", **KEYS}).start()
        # The init's own lines ("lambda runtime ready") are written by the logger's thread; let
        # them out before the first invocation whose lines are counted.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("lambda runtime ready" in line for line in cls.fn.lines):
            time.sleep(0.01)

    @classmethod
    def tearDownClass(cls):
        cls.fn.stop()

    def invocation(self, *args, **kw):
        """One request; returns (status, body, the parsed lines it wrote)."""
        before = len(self.fn.lines)
        st, hdrs, body, _ = self.fn.http(*args, **kw)
        rid = {k.lower(): v for k, v in hdrs.items()}["x-request-id"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(rid in line for line in self.fn.lines[before:]):
            time.sleep(0.01)
        time.sleep(0.3)  # anything else this invocation wrote (the logger flushes before the next one)
        lines = self.fn.lines[before:]
        docs = [json.loads(line) for line in lines]
        for d in docs:
            check_emf(self, d)
            self.assertEqual(d["Environment"], "prod")
        self.assertEqual(docs[0]["request_id"], rid)
        return st, body, docs

    def test_a_lookup_is_one_document_with_the_access_fields_and_the_request_metrics(self):
        st, _, docs = self.invocation("GET", "/health", key=None)
        self.assertEqual(st, 200)
        self.assertEqual(len(docs), 1, docs)
        d = docs[0]
        self.assertEqual((d["method"], d["route"], d["status"], d["Requests"]), ("GET", "/health", 200, 1))
        self.assertGreater(d["bytes_out"], 0)
        self.assertGreaterEqual(d["Latency"], 0)
        # A 2xx counts no error: the error metrics are left out (a missing value sums as none).
        self.assertNotIn("ServerErrors", d)
        self.assertNotIn("ClientErrors", d)
        # Not repeated: what the EMF Timestamp, CloudWatch and API Gateway's access log already hold.
        for gone in ("time", "level", "msg", "aws_request_id", "duration_ms", "client", "bytes_in"):
            self.assertNotIn(gone, d)

    def test_a_stored_event_is_counted_in_the_same_document(self):
        st, body, docs = self.invocation("POST", "/tracking", body=dict(ORIGINAL, tracking_id="ONE001", event_id="one-1"),
                                         headers=WRITER)
        self.assertEqual(st, 201, body)
        self.assertEqual(len(docs), 1, docs)
        d = docs[0]
        self.assertEqual((d["route"], d["status"], d["Status"], d["TrackingEvents"]), ("/tracking", 201, "IN_TRANSIT", 1))
        self.assertGreater(d["bytes_in"], 0)
        self.assertEqual(tracking_directive(d)["Dimensions"], [["Environment", "Status"], ["Environment"]])
        # A replay stores nothing: no TrackingEvents.
        st, _, docs = self.invocation("POST", "/tracking", body=dict(ORIGINAL, tracking_id="ONE001", event_id="one-1"),
                                       headers=WRITER)
        self.assertEqual(st, 200)
        self.assertEqual(len(docs), 1, docs)
        self.assertNotIn("TrackingEvents", docs[0])

    def test_a_refusal_counts_a_client_error(self):
        st, _, docs = self.invocation("POST", "/tracking", body=dict(ORIGINAL, status="LOST_IN_SPACE"),
                                      headers=WRITER)
        self.assertEqual(st, 422)
        self.assertEqual(len(docs), 1, docs)
        self.assertEqual((docs[0]["ClientErrors"], docs[0]["status"]), (1, 422))
        self.assertNotIn("ServerErrors", docs[0])

    def test_a_batch_of_one_status_is_one_document_and_each_further_status_one_more(self):
        same = {"events": [dict(ORIGINAL, tracking_id="BAT%03d" % i, status="EXCEPTION") for i in range(3)]}
        st, body, docs = self.invocation("POST", "/tracking/batch", body=same, headers=WRITER)
        self.assertEqual(st, 200, body)
        self.assertEqual(len(docs), 1, docs)
        self.assertEqual((docs[0]["Status"], docs[0]["TrackingEvents"]), ("EXCEPTION", 3))
        mixed = {"events": [dict(ORIGINAL, tracking_id="MIX001", status="PICKED_UP"),
                            dict(ORIGINAL, tracking_id="MIX002", status="DELIVERED"),
                            dict(ORIGINAL, tracking_id="MIX003", status="PICKED_UP"),
                            dict(ORIGINAL, tracking_id="MIX004", status="LOST_IN_SPACE"),
                            dict(ORIGINAL, tracking_id="MIX005", status="CANCELLED")]}
        st, body, docs = self.invocation("POST", "/tracking/batch", body=mixed, headers=WRITER)
        self.assertEqual(st, 200, body)
        self.assertEqual([r["status"] for r in body["results"]], [201, 201, 201, 422, 201])
        self.assertEqual(len(docs), 3, docs)
        self.assertIn("Requests", docs[0])
        for extra in docs[1:]:
            self.assertNotIn("Requests", extra)
            self.assertNotIn("request_id", extra)
        self.assertEqual([(d["Status"], d["TrackingEvents"]) for d in docs],
                         [("PICKED_UP", 2), ("DELIVERED", 1), ("CANCELLED", 1)])


if __name__ == "__main__":
    unittest.main()
