"""The original service's contract, request by request, against the local server and the Lambda.

A client written for the original Python service (API Gateway -> Lambda -> DynamoDB) reads these
fields with these types; this suite replays what such a client sends and checks what it reads, so
a change that would break one fails here. The same cases run against `serve` (SQLite) and against
the binary in Lambda mode behind the Runtime API stand-in. The one step a migrating client takes
is configured as docs/MIGRATING.md says: a writer key on POST, and `--public-view full` where the
original's anonymous view (notes, exact coordinates) is wanted.
"""
import json
import os
import shutil
import sys
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lambda"))

from harness import Server  # noqa: E402
from lambda_harness import LambdaProcess, temp_db  # noqa: E402

NUMBER = (int, float)


def new_id():
    return "TRK" + uuid.uuid4().hex[:10].upper()


class OriginalContract:
    """The cases. A subclass provides send(method, path, query, body, headers, key, raw) ->
    (status, headers, parsed body) for one target."""

    STAGES = ("", "/dev")

    def assert_error_body(self, st, body, status, message=None):
        self.assertEqual(st, status, body)
        self.assertIsInstance(body, dict)
        self.assertIsInstance(body["error"], str, body)  # the original's type
        self.assertTrue(body["error"])
        if message is not None:
            self.assertEqual(body["error"], message)
        # Ours, beside it.
        self.assertIsInstance(body["code"], str)
        self.assertIsInstance(body["details"], list)
        self.assertIsInstance(body["request_id"], str)

    def test_health(self):
        for stage in self.STAGES:
            st, _, body = self.send("GET", stage + "/health")
            self.assertEqual(st, 200, body)
            self.assertEqual(body["status"], "healthy")
            self.assertEqual(body["service"], "dinex-tracking")
            self.assertIsInstance(body["environment"], str)
            self.assertIsInstance(body["timestamp"], int)
            self.assertLess(abs(body["timestamp"] - time.time()), 120)
            self.assertIsInstance(body["version"], str)
            self.assertIsInstance(body["store"], str)

    def test_record_then_look_up_the_original_way(self):
        for stage in self.STAGES:
            tid = new_id()
            sent = {"tracking_id": tid, "location": "Lima", "status": "IN_TRANSIT"}
            st, _, body = self.send("POST", stage + "/tracking", body=sent)
            self.assertEqual(st, 201, body)
            self.assertIsInstance(body["message"], str)
            self.assertEqual(body["tracking_id"], tid)
            self.assertEqual(body["location"], "Lima")
            self.assertIsInstance(body["timestamp"], int)  # epoch seconds
            self.assertLess(abs(body["timestamp"] - time.time()), 120)

            st, _, got = self.send("GET", stage + "/tracking", query="tracking_id=" + tid, key=None)
            self.assertEqual(st, 200, got)
            self.assertEqual((got["tracking_id"], got["status"], got["location"]), (tid, "IN_TRANSIT", "Lima"))
            self.assertIsNone(got["latitude"])
            self.assertIsNone(got["longitude"])
            self.assertIsNone(got["notes"])
            self.assertEqual(got["timestamp"], body["timestamp"])

    def test_optional_original_fields_round_trip_exactly(self):
        tid = new_id()
        sent = {"tracking_id": tid, "location": "Cusco", "status": "OUT_FOR_DELIVERY",
                "latitude": -13.531950, "longitude": -71.967463, "notes": "Dejar en recepción"}
        st, _, body = self.send("POST", "/tracking", body=sent)
        self.assertEqual(st, 201, body)
        st, _, got = self.send("GET", "/tracking", query="tracking_id=" + tid, key=None)
        self.assertEqual(st, 200, got)
        # --public-view full: the original's anonymous view.
        self.assertEqual(got["latitude"], sent["latitude"])
        self.assertEqual(got["longitude"], sent["longitude"])
        self.assertEqual(got["notes"], sent["notes"])
        self.assertIsInstance(got["latitude"], NUMBER)

    def test_status_defaults_to_in_transit(self):
        tid = new_id()
        st, _, body = self.send("POST", "/tracking", body={"tracking_id": tid, "location": "Ica"})
        self.assertEqual(st, 201, body)
        st, _, got = self.send("GET", "/tracking", query="tracking_id=" + tid, key=None)
        self.assertEqual((st, got["status"]), (200, "IN_TRANSIT"))

    def test_fields_the_original_did_not_know_are_ignored(self):
        # The original's own tests send package_id; any other unknown field behaves the same.
        tid = new_id()
        sent = {"tracking_id": tid, "location": "Lima", "status": "PICKED_UP", "package_id": "PKG-77",
                "courier": {"name": "Ana"}}
        st, _, body = self.send("POST", "/tracking", body=sent)
        self.assertEqual(st, 201, body)
        self.assertEqual(sorted(body["ignored_fields"]), ["courier", "package_id"])
        st, _, got = self.send("GET", "/tracking", query="tracking_id=" + tid, key=None)
        self.assertEqual(st, 200)
        self.assertNotIn("package_id", json.dumps(got))

    def test_a_body_without_content_type_is_read(self):
        tid = new_id()
        st, _, body = self.send("POST", "/tracking", raw=json.dumps({"tracking_id": tid, "location": "Puno"}))
        self.assertEqual(st, 201, body)

    def test_missing_tracking_id(self):
        st, _, body = self.send("GET", "/tracking", key=None)
        self.assert_error_body(st, body, 400, "tracking_id requerido")
        st, _, body = self.send("POST", "/tracking", body={"location": "Lima", "status": "IN_TRANSIT"})
        self.assert_error_body(st, body, 400, "tracking_id requerido")

    def test_unknown_package(self):
        st, _, body = self.send("GET", "/tracking", query="tracking_id=UNKNOWN", key=None)
        self.assert_error_body(st, body, 404, "Tracking no encontrado")
        self.assertEqual(body["tracking_id"], "UNKNOWN")

    def test_invalid_json(self):
        st, _, body = self.send("POST", "/tracking", raw="{not json", headers={"Content-Type": "application/json"})
        self.assert_error_body(st, body, 400, "JSON inválido")

    def test_method_not_allowed(self):
        st, hdrs, body = self.send("PUT", "/tracking", raw="{}", headers={"Content-Type": "application/json"})
        self.assert_error_body(st, body, 405, "Método no permitido")
        self.assertIn("POST", hdrs["allow"])

    # What we knowingly do otherwise (docs/MIGRATING.md): still an `error` string every time.

    def test_known_differences_still_answer_an_error_string(self):
        tid = new_id()
        st, hdrs, body = self.send("POST", "/tracking", body={"tracking_id": tid, "location": "Lima"}, key=None)
        self.assert_error_body(st, body, 401)
        self.assertIn("www-authenticate", hdrs)
        st, _, body = self.send("POST", "/tracking", body={"tracking_id": tid, "location": "Lima", "status": "LOST"})
        self.assert_error_body(st, body, 422)
        self.assertTrue(any(d["field"] == "status" for d in body["details"]))
        st, _, body = self.send("POST", "/tracking", raw="tracking_id=" + tid, headers={"Content-Type": "text/plain"})
        self.assert_error_body(st, body, 415)


class LocalServerCompat(OriginalContract, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--public-view", "full").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def send(self, method, path, query="", body=None, headers=None, key="default", raw=None):
        target = path + ("?" + query if query else "")
        return self.server.request(method, target, body=raw if raw is not None else body, headers=headers, key=key)

    def test_the_default_public_view_keeps_the_original_types(self):
        # Without the switch, an anonymous lookup hides notes and rounds coordinates: the same
        # fields with the same types, so an original client still reads it.
        server = Server().start()
        try:
            tid = new_id()
            sent = {"tracking_id": tid, "location": "Cusco", "latitude": -13.531950, "longitude": -71.967463,
                    "notes": "Dejar en recepción"}
            self.assertEqual(server.request("POST", "/tracking", body=sent)[0], 201)
            st, _, got = server.request("GET", "/tracking?tracking_id=" + tid, key=None)
            self.assertEqual(st, 200, got)
            self.assertIsNone(got["notes"])
            self.assertEqual((got["latitude"], got["longitude"]), (-13.53, -71.97))
            st, _, full = server.request("GET", "/tracking?tracking_id=" + tid)  # a key sees everything
            self.assertEqual((full["notes"], full["latitude"]), (sent["notes"], sent["latitude"]))
        finally:
            server.cleanup()

    def test_ignored_fields_are_named_in_the_log(self):
        tid = new_id()
        st, hdrs, _ = self.send("POST", "/tracking", body={"tracking_id": tid, "location": "Lima", "package_id": "X"})
        self.assertEqual(st, 201)
        rid = hdrs["x-request-id"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = [r for r in self.server.log_records() if r.get("request_id") == rid]
            if lines:
                break
            time.sleep(0.05)
        self.assertEqual(lines[0].get("note"), "ignored_fields:package_id", lines)


class LambdaCompat(OriginalContract, unittest.TestCase):
    """Behind API Gateway every path carries the stage; the stand-in event adds /dev."""

    STAGES = ("",)

    @classmethod
    def setUpClass(cls):
        cls.dir, db = temp_db()
        cls.fn = LambdaProcess(env={"DINEX_STORE": "sqlite", "DINEX_DB": db, "DINEX_PUBLIC_VIEW": "full",
                                    "ENVIRONMENT": "dev"}).start()

    @classmethod
    def tearDownClass(cls):
        cls.fn.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def send(self, method, path, query="", body=None, headers=None, key="default", raw=None):
        st, hdrs, parsed, _ = self.fn.http(method, path, query=query, body=raw if raw is not None else body,
                                           headers=headers, key=key)
        return st, {k.lower(): v for k, v in hdrs.items()}, parsed

    def test_environment_is_the_functions(self):
        st, _, body = self.send("GET", "/health")
        self.assertEqual((st, body["environment"]), (200, "dev"))


if __name__ == "__main__":
    unittest.main()
