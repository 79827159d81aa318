"""A writer key's rate limit holds across two Lambda processes (docs/SECURITY.md, "Bounds").

Two `dinex-tracking lambda` processes, each with its own Runtime API stand-in, on one DynamoDB
table (moto, the ctest fixture), with the production limiter (DINEX_RATE_LIMITER=dynamodb) and one
writer key shared by both. The writer's limit is 1/s with a burst of 30: windows of 30 s admitting
30 requests, leases of at most 30 / 10 = 3 tokens. (30 s, not less: 40 POSTs must fit in one window
on a loaded 2-core machine under ASan, with moto answering one call at a time.)

- Window 1: each process's first window for the key leases one token per request, so the two
  together admit exactly the limit.
- Window 2: each process leases what it admitted in window 1 (up to 3 at a time). The documented
  bounds: never more than the limit (no overshoot), and at least the limit less one lease per other
  instance (3) — what the other process leased and did not spend.

Runs with Debian's python3 (no boto3 needed: the table is created by the binary)."""
import os
import subprocess
import time
import unittest
import uuid

from lambda_harness import BINARY, LambdaProcess, key_hash_entry, moto_state, new_key

WINDOW_S = 30
LIMIT = 30
LEASE_CAP = LIMIT // 10


class SharedLimitsAcrossProcessesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        st = moto_state()
        cls.table = "limits-" + uuid.uuid4().hex[:8]
        aws = {"AWS_ENDPOINT_URL_DYNAMODB": st["endpoint"], "AWS_REGION": st["region"],
               "AWS_ACCESS_KEY_ID": st["access_key_id"], "AWS_SECRET_ACCESS_KEY": st["secret_access_key"]}
        out = subprocess.run([BINARY, "create-table", "--table", cls.table, "--wait"],
                             env=dict(os.environ, **aws), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        cls.key = new_key()
        env = dict(aws, TABLE_NAME=cls.table, DINEX_RATE_LIMITER="dynamodb",
                   DINEX_RATE_LIMIT="writer=%d/%d" % (LIMIT // WINDOW_S, LIMIT),
                   DINEX_API_KEY_HASHES=key_hash_entry("writer", cls.key))
        cls.fns = [LambdaProcess(env=env).start(), LambdaProcess(env=env).start()]

    @classmethod
    def tearDownClass(cls):
        for fn in cls.fns:
            fn.stop()

    def post(self, i, n):
        fn = self.fns[n % 2]
        st, hdrs, body, _ = fn.http("POST", "/tracking", key=self.key,
                                    body={"tracking_id": "TRK0LIM%03d" % (n % 50), "location": "Lima",
                                          "status": "IN_TRANSIT", "event_id": "w%d-%d" % (i, n)})
        self.assertIn(st, (201, 429), body)
        return st

    def window(self, i, requests, started):
        """Sends `requests` POSTs alternating between the processes inside window `i`."""
        statuses = [self.post(i, n) for n in range(requests)]
        self.assertLess(time.time(), started + (i + 1) * WINDOW_S - 1, "the window ended before the requests did")
        return statuses.count(201), statuses.count(429)

    def test_the_limit_holds_across_two_processes(self):
        # Start at a window boundary, with the rest of the window ahead.
        started = (int(time.time()) // WINDOW_S + 1) * WINDOW_S
        time.sleep(max(0.0, started - time.time()) + 0.2)

        admitted, refused = self.window(0, 10, started)
        self.assertEqual((admitted, refused), (10, 0))

        time.sleep(max(0.0, started + WINDOW_S - time.time()) + 0.2)
        admitted, refused = self.window(1, 40, started)
        self.assertLessEqual(admitted, LIMIT)  # no overshoot
        self.assertGreaterEqual(admitted, LIMIT - LEASE_CAP)  # short by at most one lease of the other
        self.assertEqual(admitted + refused, 40)


if __name__ == "__main__":
    unittest.main()
