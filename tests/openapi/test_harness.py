"""The Python side of the OpenAPI checks (tests/integration/harness.py, OpenApi): what every
integration and Lambda test relies on to fail when an answer does not match docs/openapi.yaml.
Needs no server: it feeds answers to the same node checker the harnesses use."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import OpenApi  # noqa: E402

JSON = {"x-request-id": "it-1", "content-type": "application/json; charset=utf-8"}
HEALTH = {"status": "healthy", "service": "dinex-tracking", "environment": "dev", "timestamp": 1795969100,
          "version": "0.2.0", "store": "sqlite"}


class HarnessCheckTest(unittest.TestCase):
    def test_a_matching_answer_passes(self):
        OpenApi.check_answer("GET", "/dev/health", 200, JSON, HEALTH)
        OpenApi.check_answer("HEAD", "/health", 200, {"x-request-id": "it-2"}, "")

    def test_an_unknown_property_fails_with_the_body_in_the_message(self):
        with self.assertRaises(AssertionError) as ctx:
            OpenApi.check_answer("GET", "/health", 200, JSON, dict(HEALTH, uptime_seconds=12))
        self.assertIn("uptime_seconds", str(ctx.exception))
        self.assertIn('"store": "sqlite"', str(ctx.exception))

    def test_a_wrong_type_or_an_undocumented_status_fails(self):
        with self.assertRaisesRegex(AssertionError, "timestamp must be integer"):
            OpenApi.check_answer("GET", "/health", 200, JSON, dict(HEALTH, timestamp="now"))
        with self.assertRaisesRegex(AssertionError, "documents no 418"):
            OpenApi.check_answer("GET", "/health", 418, JSON, HEALTH)

    def test_the_old_error_shape_fails(self):
        old = {"error": {"code": "not_found", "message": "no route for /x", "details": []}, "request_id": "it-1"}
        with self.assertRaisesRegex(AssertionError, "/error must be string"):
            OpenApi.check_answer("GET", "/x", 404, JSON, old)

    def test_explicit_checks_by_documented_path_and_schema(self):
        api = OpenApi()
        api.check("GET", "/health", 200, HEALTH)
        with self.assertRaises(AssertionError):
            api.check("GET", "/health", 200, dict(HEALTH, status="ok"))
        api.check_schema("Status", "DELIVERED")
        with self.assertRaises(AssertionError):
            api.check_schema("Status", "LOST")
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": api.spec["components"],
                  "$ref": "#/components/schemas/Idempotency"}
        api.jsonschema.Draft202012Validator(schema).validate("content")
        with self.assertRaises(AssertionError):
            api.jsonschema.Draft202012Validator(schema).validate("maybe")


if __name__ == "__main__":
    unittest.main()
