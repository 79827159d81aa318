"""The real binary as an AWS Lambda custom runtime, against the Runtime API stand-in: the
original requests under the /dev stage prefix, base64 bodies, cookies, malformed events, replays,
validation errors, init errors, and answers equal to the local HTTP server's."""
import json
import os
import shutil
import unittest
import uuid

from lambda_harness import LambdaProcess, apigw_event, key_hash_entry, new_key, temp_db
from harness import Server

ORIGINAL = {"tracking_id": "TRK001", "location": "Lima", "status": "IN_TRANSIT"}
VOLATILE = {"timestamp", "created_at", "updated_at", "received_at", "request_id", "event_id", "expires_at",
            "version"}


def new_id(prefix="LM"):
    return (prefix + uuid.uuid4().hex[:12]).upper()


def scrub(doc):
    """Drops ids and times so two services' answers compare."""
    if isinstance(doc, dict):
        return {k: scrub(v) for k, v in doc.items()
                if k not in VOLATILE and not k.endswith("_at") and not k.endswith("event_id")}
    if isinstance(doc, list):
        return [scrub(v) for v in doc]
    return doc


class LambdaRuntimeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir, db = temp_db()
        cls.fn = LambdaProcess(env={"DINEX_STORE": "sqlite", "DINEX_DB": db}).start()

    @classmethod
    def tearDownClass(cls):
        cls.fn.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_original_requests_under_the_stage_prefix(self):
        st, hdrs, body, _ = self.fn.http("GET", "/health")
        self.assertEqual((st, body["status"], body["store"]), (200, "healthy", "sqlite"))
        self.assertTrue(hdrs["content-type"].startswith("application/json"))

        st, hdrs, body, _ = self.fn.http("POST", "/tracking", body=ORIGINAL)
        self.assertIn(st, (200, 201), body)  # 201 the first time in this store
        self.assertEqual((body["tracking_id"], body["location"]), ("TRK001", "Lima"))
        self.assertIn("message", body)
        self.assertTrue(hdrs["x-request-id"])

        st, _, body, _ = self.fn.http("GET", "/tracking", query="tracking_id=TRK001")
        self.assertEqual(st, 200, body)
        self.assertEqual((body["tracking_id"], body["status"], body["location"]), ("TRK001", "IN_TRANSIT", "Lima"))
        self.assertGreaterEqual(len(body["events"]), 1)

    def test_response_shape_and_request_id(self):
        event = apigw_event("GET", "/health")
        res = self.fn.invoke(event)
        self.assertEqual(res.kind, "response")
        doc = res.json()
        self.assertEqual(set(doc), {"statusCode", "headers", "body", "isBase64Encoded"})
        self.assertFalse(doc["isBase64Encoded"])
        self.assertEqual(doc["headers"]["x-request-id"], event["requestContext"]["requestId"])
        self.assertTrue(all(isinstance(v, str) for v in doc["headers"].values()))

    def test_base64_body(self):
        tid = new_id()
        st, _, body, _ = self.fn.http("POST", "/tracking", body=dict(ORIGINAL, tracking_id=tid), base64_body=True)
        self.assertEqual(st, 201, body)
        self.assertEqual(body["tracking_id"], tid)

    def test_cookies_are_accepted(self):
        st, _, body, _ = self.fn.http("GET", "/health", cookies=["session=abc", "theme=dark"])
        self.assertEqual(st, 200, body)

    def test_malformed_events_are_invocation_errors_and_serving_goes_on(self):
        bad = [b"not json", b"[1,2,3]", b"\"text\"",
               {"version": "1.0", "httpMethod": "GET", "path": "/health", "requestContext": {}},
               {"version": "2.0", "rawPath": "/dev/health"},
               {"version": "2.0", "rawPath": "/dev/health", "requestContext": {"http": {"method": 7}}},
               dict(apigw_event("POST", "/tracking", body="x"), body="@@@", isBase64Encoded=True),
               dict(apigw_event("GET", "/health"), headers={"a": 1})]
        for event in bad:
            res = self.fn.invoke(event)
            self.assertEqual(res.kind, "error", (event, res))
            doc = res.json()
            self.assertEqual(doc["errorType"], "InvalidEvent")
            self.assertTrue(doc["errorMessage"])
            self.assertEqual(doc["stackTrace"], [])
            self.assertEqual(res.headers.get("lambda-runtime-function-error-type"), "InvalidEvent")
        st, _, body, _ = self.fn.http("GET", "/health")
        self.assertEqual((st, body["status"]), (200, "healthy"))
        self.assertIsNone(self.fn.proc.poll())

    def test_idempotent_replay(self):
        tid = new_id()
        event = dict(ORIGINAL, tracking_id=tid, event_id="scan-1")
        st1, _, first, _ = self.fn.http("POST", "/tracking", body=event)
        st2, _, again, _ = self.fn.http("POST", "/tracking", body=event)
        self.assertEqual((st1, st2), (201, 200))
        self.assertEqual(first["event"], again["event"])
        self.assertTrue(again["replayed"])

    def test_validation_error(self):
        ev = apigw_event("POST", "/tracking", body=dict(ORIGINAL, status="LOST"),
                         headers={"authorization": "Bearer " + self.fn.key})
        res = self.fn.invoke(ev)
        doc = res.json()
        self.assertEqual(doc["statusCode"], 422)
        body = json.loads(doc["body"])
        self.assertEqual(body["request_id"], ev["requestContext"]["requestId"])
        self.assertIn(("status", "one_of"), [(d["field"], d["rule"].split(":")[0]) for d in body["details"]])

    def test_the_invocation_document_carries_api_gateways_request_id(self):
        # One document per invocation (access fields + EMF): joined to API Gateway's access log by
        # its requestId, which is also the answer's X-Request-Id.
        ev = apigw_event("GET", "/health")
        rid = ev["requestContext"]["requestId"]
        self.fn.standin.result(self.fn.standin.enqueue(ev))
        import time
        deadline = time.time() + 5
        while time.time() < deadline:
            if any(r.get("request_id") == rid for r in self.fn.log_records()):
                break
            time.sleep(0.02)
        recs = [r for r in self.fn.log_records() if r.get("request_id") == rid]
        self.assertEqual(len(recs), 1, self.fn.lines[-5:])
        self.assertEqual((recs[0]["status"], recs[0]["route"], recs[0]["Requests"]), (200, "/health", 1))
        self.assertIn("_aws", recs[0])


class InitErrorTest(unittest.TestCase):
    def run_init(self, env):
        fn = LambdaProcess(env=env).start()
        try:
            status = fn.wait(timeout=15)
            err = fn.standin.init_error(timeout=1)
            return status, err, fn
        finally:
            fn.stop()

    def test_missing_configuration_is_an_init_error(self):
        status, err, fn = self.run_init({})
        self.assertNotEqual(status, 0)
        self.assertIsNotNone(err)
        doc = err.json()
        self.assertEqual(doc["errorType"], "Runtime.InvalidConfiguration")
        self.assertIn("TABLE_NAME", doc["errorMessage"])
        self.assertEqual(err.headers.get("lambda-runtime-function-error-type"), "Runtime.InvalidConfiguration")
        self.assertEqual(fn.standin.next_count, 0)

    def test_store_that_cannot_be_built_is_an_init_error(self):
        status, err, _ = self.run_init({"DINEX_STORE": "sqlite", "DINEX_DB": "/proc/forbidden/x.db"})
        self.assertNotEqual(status, 0)
        self.assertEqual(err.json()["errorType"], "Runtime.StoreUnavailable")

    def test_a_log_level_lambda_does_not_know_is_an_init_error_naming_the_variable(self):
        status, err, _ = self.run_init({"DINEX_STORE": "memory", "AWS_LAMBDA_LOG_LEVEL": "LOUD"})
        self.assertNotEqual(status, 0)
        self.assertEqual(err.json()["errorType"], "Runtime.InvalidConfiguration")
        self.assertIn("AWS_LAMBDA_LOG_LEVEL", err.json()["errorMessage"])
        status, err, _ = self.run_init({"DINEX_STORE": "memory", "DINEX_LOG_LEVEL": "loud"})
        self.assertIn("DINEX_LOG_LEVEL", err.json()["errorMessage"])

    def test_lambdas_application_log_level_is_the_log_level_unless_dinex_log_level_is_set(self):
        def lines_of_two_lookups(env):
            fn = LambdaProcess(env=dict({"DINEX_STORE": "memory"}, **env)).start()
            try:
                # The logger flushes after each invocation, before asking for the next: once the
                # second lookup's document is out, the init's and the first lookup's lines are too.
                for _ in range(2):
                    st, _, _, _ = fn.http("GET", "/health", key=None)
                    self.assertEqual(st, 200)
                import time
                deadline = time.time() + 5
                while time.time() < deadline and len([r for r in fn.log_records() if "Requests" in r]) < 2:
                    time.sleep(0.02)
                return fn.log_records()
            finally:
                fn.stop()
        # WARN (Lambda's application_log_level): the metrics stay, the access fields and the
        # init's info lines go.
        quiet = lines_of_two_lookups({"AWS_LAMBDA_LOG_LEVEL": "WARN"})
        docs = [r for r in quiet if "Requests" in r]
        self.assertEqual(len(docs), 2, quiet)
        self.assertNotIn("route", docs[0])
        self.assertEqual([r for r in quiet if r.get("level") == "info"], [])
        # DINEX_LOG_LEVEL, when set, wins.
        loud = lines_of_two_lookups({"AWS_LAMBDA_LOG_LEVEL": "WARN", "DINEX_LOG_LEVEL": "info"})
        self.assertEqual([r["route"] for r in loud if "Requests" in r], ["/health", "/health"])
        # TRACE is this service's debug.
        self.assertTrue(any(r.get("level") == "info" for r in lines_of_two_lookups({"AWS_LAMBDA_LOG_LEVEL": "TRACE"})))

    def test_bare_bootstrap_with_runtime_api_runs_the_lambda_loop(self):
        fn = LambdaProcess(env={"DINEX_STORE": "memory"}, args=()).start()
        try:
            st, _, body, _ = fn.http("GET", "/health")
            self.assertEqual((st, body["store"]), (200, "memory"))
        finally:
            fn.stop()


class SameAnswersAsTheLocalServerTest(unittest.TestCase):
    """The same requests to the HTTP server and to the Lambda loop give the same status, content
    type and JSON body (ids and times aside)."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("--store", "memory").start()
        cls.fn = LambdaProcess(env={"DINEX_STORE": "memory"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.fn.stop()

    def both(self, method, path, query="", body=None, headers=None):
        target = "/dev" + path + ("?" + query if query else "")
        s_status, s_hdrs, s_body = self.server.request(method, target, body, headers)
        l_status, l_hdrs, l_body, _ = self.fn.http(method, path, query, body, headers)
        self.assertEqual(s_status, l_status, (method, path, s_body, l_body))
        self.assertEqual(s_hdrs.get("content-type"), l_hdrs.get("content-type"))
        self.assertEqual(scrub(s_body), scrub(l_body), (method, path))
        return l_status

    def test_same_answers(self):
        tid = new_id("CMP")
        cases = [
            ("GET", "/health", "", None, None),
            ("POST", "/tracking", "", dict(ORIGINAL, tracking_id=tid), None),
            ("GET", "/tracking", "tracking_id=" + tid, None, None),
            ("POST", "/tracking", "", dict(ORIGINAL, tracking_id=tid, event_id="k1", status="OUT_FOR_DELIVERY"), None),
            ("POST", "/tracking", "", dict(ORIGINAL, tracking_id=tid, event_id="k1", status="OUT_FOR_DELIVERY"), None),
            ("POST", "/tracking", "", dict(ORIGINAL, tracking_id=tid, status="LOST"), None),
            ("POST", "/tracking", "", {"location": "Lima"}, None),
            ("POST", "/tracking", "", "{oops", {"Content-Type": "application/json"}),
            ("POST", "/tracking", "", "a=b", {"Content-Type": "text/plain"}),
            ("GET", "/tracking", "", None, None),
            ("GET", "/tracking", "tracking_id=NOPE0000", None, None),
            ("DELETE", "/tracking", "", None, None),
            ("GET", "/nowhere", "", None, None),
        ]
        statuses = [self.both(*c) for c in cases]
        self.assertEqual(statuses[:5], [200, 201, 200, 201, 200])

    def test_the_tracking_page_is_served_by_the_lambda_too(self):
        for path in ("/", "/assets/app.js", "/assets/app.css"):
            self.assertEqual(self.both("GET", path), 200)
        status, hdrs, body, _ = self.fn.http("GET", "/", "", None, None)
        self.assertIn("frame-ancestors 'none'", hdrs["content-security-policy"])
        self.assertEqual(hdrs["x-content-type-options"], "nosniff")
        self.assertIn("DINEX", body)


class LambdaLocalScriptTest(unittest.TestCase):
    """scripts/lambda-local: plain HTTP in, one Lambda invocation per request, as on AWS."""

    def test_requests_through_the_local_gateway(self):
        import http.client
        import socket
        import subprocess
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        script = os.path.join(os.environ.get("DINEX_SOURCE_DIR", "../.."), "scripts", "lambda-local")
        env = dict(os.environ, DINEX_STORE="memory")
        env.pop("DINEX_API_KEY_HASHES", None)
        proc = subprocess.Popen(["/usr/bin/python3", script, "--port", str(port), "--writer-key", "--bootstrap",
                                 os.environ["DINEX_BINARY"]], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            self.assertIn("Lambda shape on", proc.stdout.readline())
            printed = proc.stdout.readline().strip()
            self.assertTrue(printed.startswith("writer key: dnx_"), printed)
            key = printed[len("writer key: "):]

            def call(method, path, body=None):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                c.request(method, path, body=body,
                          headers={"Content-Type": "application/json", "Authorization": "Bearer " + key} if body else {})
                r = c.getresponse()
                data = r.read()
                c.close()
                return r.status, r.getheader("Content-Type"), data

            status, _, body = call("GET", "/dev/health")
            self.assertEqual((status, json.loads(body)["status"]), (200, "healthy"))
            status, _, _ = call("POST", "/dev/tracking", json.dumps(ORIGINAL))
            self.assertEqual(status, 201)
            status, _, body = call("GET", "/dev/tracking?tracking_id=TRK001")
            self.assertEqual((status, json.loads(body)["status"]), (200, "IN_TRANSIT"))
            status, ctype, body = call("GET", "/dev/")
            self.assertEqual(status, 200)
            self.assertTrue(ctype.startswith("text/html"))
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main()
