"""The local server when a dependency fails: every 5xx is logged with its cause (the store's
internal message: the connect, TLS or AWS error), which the client never sees; and an https:// AWS
endpoint without a CA trust store stops the server at start-up with a clear message (exit 1)."""
import os
import socket
import subprocess
import time
import unittest

from harness import BINARY, Server, assert_503_cause_logged_not_answered

AWS = {"TABLE_NAME": "dinex-tracking-dev", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
       "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


class StoreDownTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Bound, never listening: every connect is refused and no one else gets the port.
        cls.blocker = socket.socket()
        cls.blocker.bind(("127.0.0.1", 0))
        endpoint = "http://127.0.0.1:%d" % cls.blocker.getsockname()[1]
        cls.server = Server("--store", "dynamodb", env=dict(AWS, AWS_ENDPOINT_URL_DYNAMODB=endpoint)).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.blocker.close()

    def test_a_503_is_logged_with_its_cause_and_answered_without_it(self):
        st, headers, body = self.server.request("GET", "/tracking?tracking_id=TRKDOWN")
        self.assertEqual(st, 503, body)
        assert_503_cause_logged_not_answered(self, self.server.log_records, self.server.lines,
                                             headers["x-request-id"], body)

    def test_health_503_says_why_in_the_log(self):
        st, headers, body = self.server.request("GET", "/health")
        self.assertEqual(st, 503, body)
        deadline = time.monotonic() + 5
        logged = []
        while time.monotonic() < deadline and not logged:
            logged = [r for r in self.server.log_records()
                      if r.get("msg") == "server error" and r.get("request_id") == headers["x-request-id"]]
            time.sleep(0.02)
        self.assertEqual(len(logged), 1, self.server.lines)
        self.assertIn("connecting to 127.0.0.1:", logged[0]["cause"])


class NoTrustStoreTest(unittest.TestCase):
    def test_https_endpoint_without_a_trust_store_exits_1_and_says_why(self):
        env = dict(os.environ, **AWS, AWS_ENDPOINT_URL_DYNAMODB="https://dynamodb.example.test",
                   SSL_CERT_FILE="/nonexistent/ca-bundle.crt")
        run = subprocess.run([BINARY, "serve", "--port", "0", "--store", "dynamodb"], capture_output=True,
                             text=True, env=env, timeout=30)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("https://dynamodb.example.test needs TLS", run.stderr)
        self.assertIn("SSL_CERT_FILE=/nonexistent/ca-bundle.crt", run.stderr)


if __name__ == "__main__":
    unittest.main()
