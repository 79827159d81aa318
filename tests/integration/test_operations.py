"""Issue #9 over HTTP on the real binary: POST /tracking/batch, GET /packages (the needs-attention
listing) and estimated_delivery. Every JSON answer is checked against docs/openapi.yaml."""
import base64
import datetime
import json
import unittest
import uuid

from harness import OpenApi, Server, create_key


def iso(dt):
    return dt.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def ms_iso(dt):
    """As the service writes times: UTC, milliseconds (truncated)."""
    dt = dt.astimezone(datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def new_id(prefix="OP"):
    return (prefix + uuid.uuid4().hex[:12]).upper()


class OperationsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.openapi = OpenApi()
        cls.reader = create_key(cls.server.db_path(), "reader", "operations desk")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def call(self, method, path, body=None, headers=None, spec_path=None, key="default"):
        status, hdrs, data = self.server.request(method, path, body, headers, key=key)
        if isinstance(data, dict) and spec_path:
            self.openapi.check(method, spec_path, status, data)
        return status, hdrs, data

    def batch(self, events, key="default", path="/tracking/batch", raw=None):
        body = raw if raw is not None else {"events": events}
        return self.call("POST", path, body, spec_path="/tracking/batch", key=key)

    def listing(self, query, key=None):
        return self.call("GET", "/packages" + query, spec_path="/packages", key=key or self.reader)

    def assert_error(self, result, status, field=None, rule=None):
        st, _, body = result
        self.assertEqual(st, status, body)
        if field is not None:
            pairs = [(d["field"], d["rule"]) for d in body["details"]]
            self.assertTrue(any(f == field and (rule is None or r.startswith(rule)) for f, r in pairs), pairs)

    # --- batch ---------------------------------------------------------------------------------

    def test_mixed_batch_answers_every_item_in_order(self):
        a, b, done = new_id(), new_id(), new_id()
        t0 = now() - datetime.timedelta(hours=3)
        st, _, _ = self.call("POST", "/tracking", {"tracking_id": done, "location": "Lima", "status": "DELIVERED",
                                                   "timestamp": iso(t0)}, spec_path="/tracking")
        self.assertEqual(st, 201)
        events = [
            {"tracking_id": a, "location": "Lima", "status": "PICKED_UP", "event_id": "s1", "timestamp": iso(t0)},
            {"tracking_id": a, "status": "IN_TRANSIT"},                                       # location missing: 400
            {"tracking_id": a, "location": "Lima", "status": "LOST", "event_id": "s2"},        # unknown status: 422
            "not an object",                                                                  # 400
            {"tracking_id": a, "location": "Lima", "status": "PICKED_UP", "event_id": "s1", "timestamp": iso(t0)},
            {"tracking_id": done, "location": "Lima", "status": "IN_TRANSIT"},                # after DELIVERED: 409
            {"tracking_id": a, "location": "Ica", "status": "IN_TRANSIT", "event_id": "s3",
             "timestamp": iso(t0 + datetime.timedelta(hours=1)), "estimated_delivery": iso(t0 + datetime.timedelta(days=2))},
            {"tracking_id": a, "location": "Lima", "status": "INFO_RECEIVED", "event_id": "s0",
             "timestamp": iso(t0 - datetime.timedelta(hours=1))},                             # late arrival
            {"tracking_id": b, "location": "Lima", "status": "IN_TRANSIT", "unknown": 1},      # ignored field
        ]
        st, _, body = self.batch(events)
        self.assertEqual(st, 200, body)
        results = body["results"]
        self.assertEqual([r["index"] for r in results], list(range(len(events))))
        self.assertEqual([r["status"] for r in results], [201, 400, 422, 400, 200, 409, 201, 201, 201])
        self.assertEqual([r["result"] for r in results],
                         ["created", "error", "error", "error", "replay", "error", "created", "late_arrival", "created"])
        self.assertEqual(results[1]["details"], [{"field": "location", "rule": "required"}])
        self.assertEqual(results[2]["details"][0]["field"], "status")
        self.assertEqual(results[5]["details"], [{"field": "status", "rule": "after_terminal_status"}])
        self.assertEqual(results[8]["ignored_fields"], ["unknown"])
        self.assertNotIn("ignored_fields", results[0])
        self.assertEqual([r.get("idempotency") for r in results],
                         ["event_id", None, None, None, "event_id", None, "event_id", "event_id", "none"])
        self.assertEqual(results[4]["event"], results[0]["event"])
        st, _, got = self.call("GET", "/tracking?tracking_id=" + a, spec_path="/tracking")
        self.assertEqual(st, 200)
        self.assertEqual(got["status"], "IN_TRANSIT")
        self.assertEqual(got["event_count"], 3)
        self.assertEqual(got["estimated_delivery"], ms_iso(t0 + datetime.timedelta(days=2)))
        self.assertEqual(self.call("GET", "/tracking?tracking_id=" + b)[0], 200)

    def test_replayed_batch_is_all_replays_and_works_under_a_stage(self):
        tid = new_id()
        events = [{"tracking_id": tid, "location": "Lima", "status": "IN_TRANSIT", "event_id": "e%d" % i,
                   "timestamp": iso(now() - datetime.timedelta(minutes=50 - i))} for i in range(40)]
        st, _, first = self.batch(events, path="/dev/tracking/batch")
        self.assertEqual(st, 200)
        self.assertTrue(all(r["result"] == "created" for r in first["results"]))
        st, _, again = self.batch(events)
        self.assertEqual(st, 200)
        self.assertTrue(all(r["result"] == "replay" and r["status"] == 200 for r in again["results"]))
        self.assertEqual([r["event"] for r in again["results"]], [r["event"] for r in first["results"]])
        _, _, got = self.call("GET", "/tracking?tracking_id=" + tid)
        self.assertEqual(got["event_count"], 40)

    def test_whole_body_errors(self):
        ok = {"tracking_id": new_id(), "location": "Lima", "status": "IN_TRANSIT"}
        self.assert_error(self.batch(None, raw="{not json"), 400, "body", "json")
        self.assert_error(self.batch(None, raw=[ok]), 400, "body", "type:object")
        self.assert_error(self.batch(None, raw={}), 400, "events", "required")
        self.assert_error(self.batch(None, raw={"events": ok}), 400, "events", "type:array")
        st, _, body = self.batch(None, raw={"events": [ok], "extra": 1})  # ignored, named in the answer
        self.assertEqual((st, body["ignored_fields"], body["results"][0]["result"]), (200, ["extra"], "created"), body)
        self.assert_error(self.batch([]), 422, "events", "min_items:1")
        self.assert_error(self.batch([ok] * 501), 413, "events", "max_items:500")
        st, _, body = self.call("POST", "/tracking/batch", json.dumps({"events": [ok]}),
                                headers={"Content-Type": "text/plain"}, spec_path="/tracking/batch")
        self.assertEqual(st, 415, body)
        st, _, body = self.call("POST", "/tracking/batch", {"events": [ok]}, headers={"Idempotency-Key": "k1"},
                                spec_path="/tracking/batch")
        self.assert_error((st, None, body), 400, "idempotency-key", "not_allowed")
        # 500 items is the limit, not beyond it.
        many = [{"tracking_id": new_id(), "location": "Lima", "status": "IN_TRANSIT"} for _ in range(500)]
        st, _, body = self.batch(many)
        self.assertEqual(st, 200)
        self.assertEqual(len(body["results"]), 500)

    def test_batch_needs_a_writer_key(self):
        ok = [{"tracking_id": new_id(), "location": "Lima", "status": "IN_TRANSIT"}]
        st, hdrs, body = self.batch(ok, key=None)
        self.assertEqual(st, 401, body)
        self.assertIn("www-authenticate", hdrs)
        st, _, body = self.batch(ok, key=self.reader)
        self.assertEqual(st, 403, body)
        self.assertEqual(self.call("GET", "/tracking/batch")[0], 405)

    # --- estimated delivery ---------------------------------------------------------------------

    def test_estimated_delivery_is_validated_stored_and_returned(self):
        tid = new_id()
        t = now().replace(microsecond=0) - datetime.timedelta(minutes=10)
        eta = t + datetime.timedelta(days=2)
        st, _, body = self.call("POST", "/tracking", {"tracking_id": tid, "location": "Lima", "status": "IN_TRANSIT",
                                                      "timestamp": iso(t), "estimated_delivery": iso(eta)},
                                spec_path="/tracking")
        self.assertEqual(st, 201, body)
        want = eta.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.assertEqual(body["event"]["estimated_delivery"], want)
        self.assertEqual(body["state"]["estimated_delivery"], want)
        # A newer scan without an estimate keeps it.
        st, _, body = self.call("POST", "/tracking", {"tracking_id": tid, "location": "Ica", "status": "IN_TRANSIT"},
                                spec_path="/tracking")
        self.assertEqual(body["state"]["estimated_delivery"], want)
        _, _, got = self.call("GET", "/tracking?tracking_id=" + tid, spec_path="/tracking")
        self.assertEqual(got["estimated_delivery"], want)
        self.assertNotIn("estimated_delivery", got["events"][0])
        self.assertEqual(got["events"][1]["estimated_delivery"], want)
        # Anonymous lookups see it too (it is no secret).
        _, _, public = self.call("GET", "/tracking?tracking_id=" + tid, spec_path="/tracking", key=None)
        self.assertEqual(public["estimated_delivery"], want)

        base = {"tracking_id": new_id(), "location": "Lima", "status": "IN_TRANSIT", "timestamp": iso(t)}
        self.assert_error(self.call("POST", "/tracking", dict(base, estimated_delivery="tomorrow"), spec_path="/tracking"),
                          400, "estimated_delivery", "format:rfc3339")
        self.assert_error(self.call("POST", "/tracking", dict(base, estimated_delivery=1795969100), spec_path="/tracking"),
                          400, "estimated_delivery", "type:string")
        self.assert_error(self.call("POST", "/tracking", dict(base, estimated_delivery=iso(t - datetime.timedelta(days=2))),
                                    spec_path="/tracking"), 422, "estimated_delivery", "not_before:timestamp-1d")
        self.assert_error(self.call("POST", "/tracking", dict(base, estimated_delivery=iso(t + datetime.timedelta(days=400))),
                                    spec_path="/tracking"), 422, "estimated_delivery", "not_after:timestamp+365d")
        # Delivery ends the promise.
        st, _, body = self.call("POST", "/tracking", {"tracking_id": tid, "location": "Lima", "status": "DELIVERED"},
                                spec_path="/tracking")
        self.assertIsNone(body["state"]["estimated_delivery"])


class ListingTest(unittest.TestCase):
    """A server of its own, so the listing holds exactly what these tests put in it."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.openapi = OpenApi()
        cls.reader = create_key(cls.server.db_path(), "reader", "operations desk")
        # Seven EXCEPTION, three DELIVERY_FAILED, two IN_TRANSIT, each posted after the one before.
        cls.order = []
        plan = ["EXCEPTION"] * 7 + ["DELIVERY_FAILED"] * 3 + ["IN_TRANSIT"] * 2
        for i, status in enumerate(plan):
            tid = "LST%02d%s" % (i, uuid.uuid4().hex[:6].upper())
            st, _, body = cls.server.request("POST", "/tracking", {"tracking_id": tid, "location": "Lima", "status": status})
            assert st == 201, body
            cls.order.append((tid, status))

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def listing(self, query, key="reader"):
        key = self.reader if key == "reader" else key
        st, hdrs, body = self.server.request("GET", "/packages" + query, key=key)
        if isinstance(body, dict):
            self.openapi.check("GET", "/packages", st, body)
        return st, hdrs, body

    def walk(self, query):
        ids, cursor, pages = [], None, 0
        while True:
            st, _, body = self.listing(query + ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(st, 200, body)
            pages += 1
            ids += [p["tracking_id"] for p in body["packages"]]
            cursor = body["next_cursor"]
            if cursor is None:
                return ids, pages

    def test_pages_through_every_package_newest_change_first(self):
        ids, pages = self.walk("?status=EXCEPTION,delivery_failed&limit=3")
        want = [t for t, s in reversed(self.order) if s in ("EXCEPTION", "DELIVERY_FAILED")]
        self.assertEqual(ids, want)
        self.assertEqual(pages, 4)
        ids, _ = self.walk("?limit=200")
        self.assertEqual(ids, [t for t, _ in reversed(self.order)])
        ids, _ = self.walk("?status=IN_TRANSIT")
        self.assertEqual(ids, [t for t, s in reversed(self.order) if s == "IN_TRANSIT"])

    def test_stale_hours(self):
        # Everything here changed seconds ago: nothing is stale for an hour.
        st, _, body = self.listing("?stale_hours=1")
        self.assertEqual((st, body["packages"], body["next_cursor"]), (200, [], None))
        st, _, body = self.listing("?status=EXCEPTION&stale_hours=48&limit=50")
        self.assertEqual(body["packages"], [])

    def test_invalid_queries_name_the_field_and_rule(self):
        def check(query, field, rule):
            st, _, body = self.listing(query)
            self.assertEqual(st, 400, body)
            self.assertIn({"field": field, "rule": rule}, body["details"])

        check("?limit=0", "limit", "range:1..200")
        check("?limit=201", "limit", "range:1..200")
        check("?limit=ten", "limit", "range:1..200")
        check("?stale_hours=-4", "stale_hours", "range:1..8760")
        check("?status=LOST", "status", "one_of:INFO_RECEIVED, PICKED_UP, IN_TRANSIT, OUT_FOR_DELIVERY, "
              "AVAILABLE_FOR_PICKUP, DELIVERY_FAILED, DELIVERED, EXCEPTION, RETURN_TO_SENDER, CANCELLED")
        check("?status=", "status", "not_empty")
        check("?sort=asc", "sort", "unknown_parameter")
        check("?cursor=abc*def", "cursor", "opaque:from_next_cursor")
        check("?cursor=%zz", "query", "format")
        # A real cursor, tampered with.
        _, _, body = self.listing("?limit=1")
        raw = body["next_cursor"]
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        forged = base64.urlsafe_b64encode(decoded.replace(".", ".x!", 1).encode()).decode().rstrip("=")
        check("?cursor=" + forged, "cursor", "opaque:from_next_cursor")
        for plain in ("v2." + decoded[3:], "v1.-5.TRK001", "v1.12.trk 001", "v1.12"):
            check("?cursor=" + base64.urlsafe_b64encode(plain.encode()).decode().rstrip("="), "cursor",
                  "opaque:from_next_cursor")

    def test_needs_any_key_even_with_public_lookup(self):
        st, hdrs, body = self.listing("", key=None)
        self.assertEqual(st, 401, body)
        self.assertIn("www-authenticate", hdrs)
        st, _, _ = self.listing("", key=self.server.key)  # writer
        self.assertEqual(st, 200)
        st, _, _ = self.server.request("GET", "/dev/packages?limit=1", key=self.reader)
        self.assertEqual(st, 200)
        self.assertEqual(self.server.request("POST", "/packages", {}, key=self.reader)[0], 405)


if __name__ == "__main__":
    unittest.main()
