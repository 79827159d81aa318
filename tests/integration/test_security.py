"""API keys, roles, the public view and per-client rate limits, on the real binary over HTTP
(docs/SECURITY.md)."""
import os
import shutil
import tempfile
import unittest

from harness import OpenApi, Server, cli, create_key

EVENT = {"tracking_id": "SEC001", "location": "Lima", "status": "IN_TRANSIT",
         "notes": "leave with the porter, call Ana 999 111 222", "latitude": -12.046374, "longitude": -77.042793}
REALM = 'Bearer realm="dinex-tracking"'


class KeysTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.db = cls.server.db_path()
        cls.openapi = OpenApi()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def post(self, key, body=EVENT, headers=None):
        return self.server.request("POST", "/tracking", body, headers=headers, key=key)

    def test_keys_round_trip_through_the_cli_and_roles(self):
        code, out, err = cli("keys", "create", "--db", self.db, "--name", "support desk", "--role", "reader")
        self.assertEqual(code, 0, err)
        lines = out.strip().splitlines()
        reader = lines[-1]
        self.assertRegex(reader, r"^dnx_[a-z2-7]{12}_[a-z2-7]{52}$")
        self.assertTrue(all(reader not in line for line in lines[:-1]))
        writer = create_key(self.db, "writer", "scanner 7")
        st, _, body = self.post(writer)
        self.assertIn(st, (200, 201), body)
        self.openapi.check("POST", "/tracking", st, body)
        st, hdrs, body = self.post(reader)
        self.assertEqual(st, 403, body)
        self.assertEqual(body["code"], "permission_denied")
        self.openapi.check("POST", "/tracking", 403, body)

        code, out, _ = cli("keys", "list", "--db", self.db)
        self.assertEqual(code, 0)
        self.assertIn(reader[4:16], out)
        self.assertIn("support desk", out)
        self.assertNotIn(reader, out)
        self.assertNotIn(reader[17:], out)

        code, out, err = cli("keys", "revoke", "--db", self.db, writer[4:16])
        self.assertEqual(code, 0, err)
        code, out, _ = cli("keys", "list", "--db", self.db)
        row = [line for line in out.splitlines() if writer[4:16] in line][0]
        self.assertNotIn(" - ", row.split(writer[4:16])[1][:60])  # a revoked time, not "-"
        self.assertEqual(cli("keys", "revoke", "--db", self.db, "aaaaaaaaaaaa")[0], 3)
        # The database holds no key in plain text, only hashes.
        with open(self.db, "rb") as f:
            raw = f.read()
        for name in ("-wal",):
            if os.path.exists(self.db + name):
                with open(self.db + name, "rb") as f:
                    raw += f.read()
        self.assertNotIn(reader[17:].encode(), raw)
        self.assertNotIn(writer[17:].encode(), raw)
        self.assertIn(reader[4:16].encode(), raw)

    def test_missing_malformed_unknown_revoked_keys_are_401_alike(self):
        revoked = create_key(self.db, "writer", "to revoke")
        self.assertEqual(cli("keys", "revoke", "--db", self.db, revoked[4:16])[0], 0)
        unknown = "dnx_aaaaaaaaaaaa_" + "b" * 52
        answers = [self.post(None), self.post("not-a-key"), self.post(unknown), self.post(revoked),
                   self.post(None, headers={"Authorization": "Basic dXNlcjpwYXNz"}),
                   self.post(None, headers={"X-Api-Key": unknown})]
        messages = set()
        for st, hdrs, body in answers:
            self.assertEqual(st, 401, body)
            self.assertEqual(hdrs["www-authenticate"], REALM)
            self.assertEqual(body["code"], "unauthenticated")
            self.openapi.check("POST", "/tracking", 401, body)
            if body["error"] != "an API key with the writer role is required":
                messages.add(body["error"])
        self.assertEqual(len(messages), 1, messages)  # malformed, unknown, revoked: one message

    def test_anonymous_view_hides_notes(self):
        st, _, _ = self.server.request("POST", "/tracking", dict(EVENT, tracking_id="SEC002"))
        self.assertEqual(st, 201)
        st, _, anon = self.server.request("GET", "/tracking?tracking_id=SEC002", key=None)
        self.assertEqual(st, 200)
        self.openapi.check("GET", "/tracking", 200, anon)
        self.assertIsNone(anon["notes"])
        self.assertEqual((anon["latitude"], anon["longitude"]), (-12.05, -77.04))
        self.assertNotIn("notes", anon["events"][0])
        st, _, full = self.server.request("GET", "/tracking?tracking_id=SEC002")
        self.assertEqual(full["notes"], EVENT["notes"])
        self.assertEqual(full["latitude"], EVENT["latitude"])


class PrivateLookupTest(unittest.TestCase):
    def test_reader_key_needed_when_public_lookup_is_off(self):
        server = Server("--public-lookup", "false").start()
        try:
            self.assertEqual(server.request("POST", "/tracking", EVENT)[0], 201)
            st, hdrs, _ = server.request("GET", "/tracking?tracking_id=SEC001", key=None)
            self.assertEqual(st, 401)
            self.assertEqual(hdrs["www-authenticate"], REALM)
            reader = create_key(server.db_path(), "reader")
            st, _, body = server.request("GET", "/tracking?tracking_id=SEC001", key=reader)
            self.assertEqual(st, 200)
            self.assertEqual(body["notes"], EVENT["notes"])
            self.assertEqual(server.request("GET", "/health", key=None)[0], 200)
            self.assertEqual(server.request("GET", "/", key=None)[0], 200)
        finally:
            server.cleanup()


class RateLimitTest(unittest.TestCase):
    def test_burst_gets_429_with_retry_after_and_ratelimit_headers(self):
        # 0.2 per second, burst 3: the 4th request at once waits 5 s.
        server = Server("--rate-limit", "anonymous=0.2/3,writer=1000/1000").start()
        try:
            seen = []
            for _ in range(4):
                seen.append(server.request("GET", "/tracking?tracking_id=NOPE0001", key=None))
            self.assertEqual([s for s, _, _ in seen], [404, 404, 404, 429])
            self.assertEqual([h["ratelimit-remaining"] for _, h, _ in seen], ["2", "1", "0", "0"])
            self.assertTrue(all(h["ratelimit-limit"] == "3" for _, h, _ in seen))
            st, hdrs, body = seen[3]
            self.assertEqual(body["code"], "resource_exhausted")
            self.assertEqual(int(hdrs["retry-after"]), 5)
            self.assertEqual(int(hdrs["ratelimit-reset"]), 15)
            OpenApi().check("GET", "/tracking", 429, body)
            # Health is not limited; a key has its own bucket.
            self.assertEqual(server.request("GET", "/health", key=None)[0], 200)
            self.assertNotIn("ratelimit-limit", server.request("GET", "/health", key=None)[1])
            st, hdrs, body = server.request("POST", "/tracking", EVENT)
            self.assertEqual(st, 201, (body, hdrs))
            self.assertEqual(hdrs["ratelimit-limit"], "1000")
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
