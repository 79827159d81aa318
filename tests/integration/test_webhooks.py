"""Webhooks end to end (issue #8, docs/NOTIFICATIONS.md): the real binary on SQLite delivers
`tracking.updated` documents to a local HTTP receiver that verifies every signature as a real
receiver should. Covered: the admin API (/subscriptions, checked against docs/openapi.yaml), the
outbox (one delivery per state change per matching subscription, none for late arrivals and
replays), retries with backoff, disabling after failures and on 410 Gone, a receiver that is down
and comes back, kill -9 with deliveries pending, and the SSRF guard (at creation and at connect
time). Retry delays are tiny (--webhook-first-retry-ms 50 --webhook-max-retry-delay 1)."""
import datetime
import hashlib
import hmac
import json
import re
import signal
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import OpenApi, Server, create_key, wait_for

FAST_RETRIES = ("--webhook-first-retry-ms", "50", "--webhook-max-retry-delay", "1")
PRIVATE = ("--allow-private-webhooks",)
SIGNATURE_TOLERANCE_SECONDS = 300  # what docs/openapi.yaml tells receivers to accept
ULID = re.compile(r"^[0-9A-Z]{26}$")
RFC3339_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def iso(dt):
    return dt.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def base_time():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=1)


def new_id(prefix="WH"):
    return (prefix + uuid.uuid4().hex[:12]).upper()


def verify_signature(secret, headers, body, now=None):
    """What a receiver does (docs/openapi.yaml, webhooks/tracking.updated): recompute
    v1=hex(HMAC-SHA256(secret, timestamp + "." + raw body)), compare in constant time, and refuse a
    timestamp more than five minutes away from its own clock."""
    ts = headers.get("x-dinex-timestamp", "")
    sig = headers.get("x-dinex-signature", "")
    if not ts.isdigit() or not sig:
        return False
    if abs((now or time.time()) - int(ts)) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = "v1=" + hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig)


def sanitizer_report(server):
    """Stops `server` (SIGTERM, unless it is already gone) and returns what AddressSanitizer,
    LeakSanitizer or UBSan wrote to its stderr (the ASan build), or ""."""
    if server.proc is None:
        return ""
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=30)
    err = server.proc.stderr.read().decode("utf-8", "replace")
    bad = [line for line in err.splitlines()
           if "Sanitizer" in line or "runtime error:" in line]
    return "\n".join(bad[:20])


class Receiver:
    """A webhook receiver on 127.0.0.1. Records every request; answers `status` (or the answers
    queued in `plan` first: a status, or {"status", "delay" seconds, "body_bytes"}); verifies the
    signature with the secret registered for the path.
    HTTP/1.0, so no connection outlives an answer and stop() really makes the port refuse."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.secrets = {}  # path -> signing secret
        self.status = 200
        self.plan = []
        self.port = 0
        self.httpd = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                path, _, query = self.path.partition("?")
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    secret = receiver.secrets.get(path)
                    answer = receiver.plan.pop(0) if receiver.plan else receiver.status
                    if isinstance(answer, int):
                        answer = {"status": answer}
                    status = answer["status"]
                    receiver.requests.append({
                        "path": path, "query": query, "headers": headers, "body": body,
                        "verified": verify_signature(secret, headers, body) if secret else None,
                        "at": time.monotonic(), "answered": status})
                time.sleep(answer.get("delay", 0))
                payload = b"x" * answer.get("body_bytes", 0)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the dispatcher gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def url(self, path, host="127.0.0.1"):
        return "http://%s:%d%s" % (host, self.port, path)

    def received(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def messages(self, path=None, delivered_only=True):
        return [json.loads(r["body"]) for r in self.received(path)
                if not delivered_only or 200 <= r["answered"] < 300]


class WebhookCase(unittest.TestCase):
    """A server (per class) with an admin key, plus helpers that check every JSON answer of the
    admin API against docs/openapi.yaml."""
    server_args = PRIVATE + FAST_RETRIES
    server_env = None

    @classmethod
    def setUpClass(cls):
        cls.openapi = OpenApi()
        cls.server = cls.make_server(*cls.server_args, env=cls.server_env)

    @classmethod
    def tearDownClass(cls):
        problems = sanitizer_report(cls.server)
        cls.server.cleanup()
        if problems:
            raise AssertionError("the server's stderr reports:\n" + problems)

    @staticmethod
    def make_server(*args, data_dir=None, env=None):
        s = Server(*args, data_dir=data_dir, env=env)
        try:
            s.admin_key = create_key(s.db_path(), role="admin", name="webhook admin")
            return s.start()
        except Exception:
            s.cleanup()  # a server that did not start leaves no data directory behind
            raise

    def setUp(self):
        self.receivers = []

    def tearDown(self):
        for r in self.receivers:
            r.stop()

    def receiver(self):
        r = Receiver().start()
        self.receivers.append(r)
        return r

    def admin(self, method, path, body=None, headers=None, key="admin", spec_path=None, server=None):
        server = server or self.server
        key = server.admin_key if key == "admin" else key
        status, hdrs, data = server.request(method, path, body, headers, key=key)
        self.assertIn("x-request-id", hdrs)
        if spec_path is None:
            spec_path = re.sub(r"^/subscriptions/[^/?]+", "/subscriptions/{id}", path.split("?")[0])
        documented = self.openapi.spec["paths"].get(spec_path, {})
        if isinstance(data, dict) and method.lower() in documented:
            self.openapi.check(method, spec_path, status, data)
        elif isinstance(data, dict) and status >= 400:  # a method the route does not serve (405)
            self.openapi.check(method, spec_path, status, data)  # as another operation of the path documents it
            if status >= 400:
                self.assertEqual(data["request_id"], hdrs["x-request-id"])
        return status, hdrs, data

    def check_document(self, doc):
        """A delivered body against docs/openapi.yaml (components/schemas/TrackingUpdated, the
        request body of webhooks/tracking.updated)."""
        body = self.openapi.spec["webhooks"]["tracking.updated"]["post"]["requestBody"]
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "components": self.openapi.spec["components"],
                  **body["content"]["application/json"]["schema"]}
        self.openapi.jsonschema.Draft202012Validator(schema).validate(doc)

    def assert_error(self, result, status, field=None, rule=None):
        st, _, body = result
        self.assertEqual(st, status, body)
        self.assertTrue(body["error"])
        if field is not None:
            pairs = [(d["field"], d["rule"]) for d in body["details"]]
            self.assertTrue(any(f == field and (rule is None or r.startswith(rule)) for f, r in pairs), pairs)

    def subscribe(self, receiver, path, server=None, **fields):
        st, hdrs, sub = self.admin("POST", "/subscriptions", dict(url=receiver.url(path), **fields), server=server)
        self.assertEqual(st, 201, sub)
        receiver.secrets[path.partition("?")[0]] = sub["secret"]
        self.addCleanup(self.forget, sub["id"], server or self.server)
        return sub

    def forget(self, sub_id, server):
        """Deletes a subscription a test made, if it and its server are still there (a failed
        test must not leave pending deliveries behind for the next one)."""
        if server.proc is None or server.proc.poll() is not None:
            return
        try:
            server.request("DELETE", "/subscriptions/" + sub_id, key=server.admin_key)
        except OSError:
            pass

    def post_event(self, tracking_id, status, at, event_id=None, location="Lima", server=None, expect=201):
        server = server or self.server
        body = {"tracking_id": tracking_id, "location": location, "status": status, "timestamp": iso(at)}
        body["event_id"] = event_id or "e-" + uuid.uuid4().hex[:16]
        st, _, got = server.request("POST", "/tracking", body)
        self.assertEqual(st, expect, got)
        return body["event_id"]

    def deliveries(self, sub_id, server=None):
        out, cursor = [], None
        while True:
            q = "?limit=200" + ("&cursor=" + cursor if cursor else "")
            st, _, page = self.admin("GET", "/subscriptions/%s/deliveries%s" % (sub_id, q), server=server)
            self.assertEqual(st, 200, page)
            out += page["deliveries"]
            cursor = page["next_cursor"]
            if not cursor:
                return out

    def subscription(self, sub_id, server=None):
        st, _, sub = self.admin("GET", "/subscriptions/" + sub_id, server=server)
        self.assertEqual(st, 200, sub)
        return sub

    def metrics(self, server=None):
        st, _, text = (server or self.server).request("GET", "/metrics")
        self.assertEqual(st, 200)
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values


# --- 1. the admin API ----------------------------------------------------------------------------

class AdminApiTest(WebhookCase):
    def test_create_show_list_never_show_the_secret(self):
        rx = self.receiver()
        tid = new_id()
        st, hdrs, sub = self.admin("POST", "/subscriptions", {
            "url": rx.url("/hooks/a?token=t1"), "statuses": ["DELIVERED", "EXCEPTION", "DELIVERED"],
            "tracking_id": " " + tid.lower() + " "})
        self.assertEqual(st, 201, sub)
        self.assertRegex(sub["id"], ULID)
        self.assertRegex(sub["secret"], r"^whsec_[0-9a-f]{64}$")
        self.assertEqual(hdrs["location"], "/subscriptions/" + sub["id"])
        self.assertEqual(sub["url"], rx.url("/hooks/a?token=t1"))
        self.assertEqual(sub["statuses"], ["DELIVERED", "EXCEPTION"])  # canonical, deduplicated
        self.assertEqual(sub["tracking_id"], tid)  # normalized
        self.assertTrue(sub["enabled"])
        for field in ("disabled_at", "disabled_reason", "paused_until", "last_success_at"):
            self.assertIsNone(sub[field], field)
        self.assertEqual(sub["consecutive_failures"], 0)
        self.assertRegex(sub["created_at"], RFC3339_MS)

        st, _, other = self.admin("POST", "/subscriptions", {"url": rx.url("/hooks/b")})
        self.assertEqual(st, 201)
        self.assertEqual(other["statuses"], [])
        self.assertIsNone(other["tracking_id"])
        self.assertNotEqual(other["secret"], sub["secret"])

        st, _, shown = self.admin("GET", hdrs["location"])
        self.assertEqual(st, 200)
        self.assertNotIn("secret", shown)
        self.assertEqual(shown, {k: v for k, v in sub.items() if k != "secret"})

        st, _, listing = self.admin("GET", "/subscriptions")
        self.assertEqual(st, 200)
        by_id = {s["id"]: s for s in listing["subscriptions"]}
        self.assertIn(sub["id"], by_id)
        self.assertIn(other["id"], by_id)
        for s in listing["subscriptions"]:
            self.assertNotIn("secret", s)
        self.assertNotIn(sub["secret"], json.dumps(listing))

        # Under a stage prefix too, like every route.
        st, _, staged = self.admin("GET", "/dev/subscriptions/" + sub["id"], spec_path="/subscriptions/{id}")
        self.assertEqual(st, 200)
        self.assertEqual(staged["id"], sub["id"])

        for s in (sub, other):
            self.assertEqual(self.admin("DELETE", "/subscriptions/" + s["id"])[0], 204)

    def test_statuses_are_matched_like_event_statuses(self):
        """docs/openapi.yaml (Status): input is trimmed and matched case-insensitively, and
        POST /tracking accepts " in_transit "; a subscription's `statuses` should too."""
        rx = self.receiver()
        st, _, sub = self.admin("POST", "/subscriptions", {"url": rx.url("/case"), "statuses": [" delivered "]})
        self.assertEqual(st, 201, sub)
        self.assertEqual(sub["statuses"], ["DELIVERED"])
        self.admin("DELETE", "/subscriptions/" + sub["id"])

    def test_patch_disables_and_enables(self):
        rx = self.receiver()
        sub = self.subscribe(rx, "/patch", tracking_id=new_id())
        st, _, off = self.admin("PATCH", "/subscriptions/" + sub["id"], {"enabled": False})
        self.assertEqual(st, 200, off)
        self.assertFalse(off["enabled"])
        self.assertEqual(off["disabled_reason"], "disabled by an administrator")
        self.assertRegex(off["disabled_at"], RFC3339_MS)
        self.assertNotIn("secret", off)
        self.assertFalse(self.subscription(sub["id"])["enabled"])

        st, _, on = self.admin("PATCH", "/subscriptions/" + sub["id"], {"enabled": True})
        self.assertEqual(st, 200, on)
        self.assertTrue(on["enabled"])
        self.assertIsNone(on["disabled_reason"])
        self.assertIsNone(on["disabled_at"])
        self.assertEqual(on["consecutive_failures"], 0)

        path = "/subscriptions/" + sub["id"]
        self.assert_error(self.admin("PATCH", path, {"enabled": "yes"}), 400, "enabled", "type:boolean")
        self.assert_error(self.admin("PATCH", path, {}), 400, "enabled", "required")
        self.assert_error(self.admin("PATCH", path, {"enabled": True, "url": "http://x.example/"}), 400,
                          "url", "unknown_field")
        self.assert_error(self.admin("PATCH", path, "{nope"), 400, "body", "json")
        self.assert_error(self.admin("PATCH", "/subscriptions/01NOSUCHSUBSCRIPTION0000000", {"enabled": True}),
                          404, "id", "exists")
        self.admin("DELETE", path)

    def test_delete_then_404(self):
        rx = self.receiver()
        sub = self.subscribe(rx, "/delete", tracking_id=new_id())
        path = "/subscriptions/" + sub["id"]
        st, hdrs, body = self.admin("DELETE", path)
        self.assertEqual(st, 204)
        self.assertEqual(body, "")
        self.assert_error(self.admin("GET", path), 404, "id", "exists")
        self.assert_error(self.admin("DELETE", path), 404, "id", "exists")
        self.assert_error(self.admin("GET", path + "/deliveries"), 404, "id", "exists")
        _, _, listing = self.admin("GET", "/subscriptions")
        self.assertNotIn(sub["id"], [s["id"] for s in listing["subscriptions"]])

    def test_deliveries_pagination(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/pages", tracking_id=tid)
        t0 = base_time()
        statuses = ["INFO_RECEIVED", "PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
        events = [self.post_event(tid, s, t0 + datetime.timedelta(seconds=i)) for i, s in enumerate(statuses)]
        path = "/subscriptions/%s/deliveries" % sub["id"]

        seen, cursor, pages = [], None, 0
        while True:
            st, _, page = self.admin("GET", path + "?limit=2" + ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(st, 200, page)
            self.assertLessEqual(len(page["deliveries"]), 2)
            seen += page["deliveries"]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(len(seen), 5)
        self.assertEqual(len({d["id"] for d in seen}), 5)
        # Newest first: the last event posted is the first delivery listed.
        self.assertEqual([d["message"]["event_id"] for d in seen], list(reversed(events)))
        self.assertEqual([d["id"] for d in seen], sorted((d["id"] for d in seen), reverse=True))

        st, _, whole = self.admin("GET", path)  # default page (50) holds them all
        self.assertEqual(len(whole["deliveries"]), 5)
        self.assertIsNone(whole["next_cursor"])
        st, _, one = self.admin("GET", path + "?limit=1")
        self.assertEqual(len(one["deliveries"]), 1)
        self.assertEqual(one["next_cursor"], one["deliveries"][0]["id"])

        for bad in ("nope", "01NOT-A-CURSOR", "%00", "a" * 26):
            self.assert_error(self.admin("GET", path + "?cursor=" + bad), 400, "cursor", "opaque_cursor")
        for bad in ("0", "201", "-1", "abc", "1.5", ""):
            self.assert_error(self.admin("GET", path + "?limit=" + bad), 400, "limit", "range:1-200")
        st, _, big = self.admin("GET", path + "?limit=200")
        self.assertEqual(st, 200)
        self.assert_error(self.admin("GET", "/subscriptions/01NOSUCHSUBSCRIPTION0000000/deliveries"),
                          404, "id", "exists")
        self.admin("DELETE", "/subscriptions/" + sub["id"])

    def test_only_admin_keys(self):
        rx = self.receiver()
        sub = self.subscribe(rx, "/auth", tracking_id=new_id())
        reader = create_key(self.server.db_path(), role="reader", name="webhook reader")
        writer = self.server.key
        routes = [("GET", "/subscriptions", None), ("POST", "/subscriptions", {"url": rx.url("/x")}),
                  ("GET", "/subscriptions/" + sub["id"], None),
                  ("PATCH", "/subscriptions/" + sub["id"], {"enabled": False}),
                  ("DELETE", "/subscriptions/" + sub["id"], None),
                  ("GET", "/subscriptions/%s/deliveries" % sub["id"], None)]
        for method, path, body in routes:
            with self.subTest(method=method, path=path):
                st, hdrs, err = self.admin(method, path, body, key=None)
                self.assert_error((st, hdrs, err), 401)
                self.assertEqual(err["code"], "unauthenticated")
                self.assertEqual(hdrs["www-authenticate"], 'Bearer realm="dinex-tracking"')
                st, hdrs, err = self.admin(method, path, body, key="dnx_bogus")
                self.assertEqual(st, 401)
                for key in (reader, writer):
                    st, _, err = self.admin(method, path, body, key=key)
                    self.assert_error((st, None, err), 403)
                    self.assertEqual(err["code"], "permission_denied")
        # Nothing was changed by the refused requests.
        self.assertTrue(self.subscription(sub["id"])["enabled"])
        # The X-Api-Key header works as well as Bearer.
        st, _, _ = self.admin("GET", "/subscriptions", headers={"X-Api-Key": self.server.admin_key}, key=None)
        self.assertEqual(st, 200)
        self.admin("DELETE", "/subscriptions/" + sub["id"])

    def test_validation_errors_name_field_and_rule(self):
        ok = "http://127.0.0.1:9/hook"
        cases = [
            ({}, 400, "url", "required"),
            ({"statuses": ["DELIVERED"]}, 400, "url", "required"),
            ({"url": 42}, 400, "url", "type:string"),
            ({"url": ""}, 422, "url", "required"),
            ({"url": "ftp://example.com/hook"}, 422, "url", "scheme:http,https"),
            ({"url": "example.com/hook"}, 422, "url", "absolute_url"),
            ({"url": "http://user:pw@example.com/hook"}, 422, "url", "no_userinfo"),
            ({"url": "http://example.com/hook#frag"}, 422, "url", "no_fragment"),
            ({"url": "http://example.com/" + "a" * 2048}, 422, "url", "max_length:2048"),
            ({"url": ok, "extra": 1}, 400, "extra", "unknown_field"),
            ({"url": ok, "statuses": ["LOST"]}, 400, "statuses[0]", "one_of:"),
            ({"url": ok, "statuses": ["DELIVERED", 7]}, 400, "statuses[1]", "type:string"),
            ({"url": ok, "statuses": "DELIVERED"}, 400, "statuses", "type:array"),
            ({"url": ok, "tracking_id": "!"}, 400, "tracking_id", "pattern:"),
            ({"url": ok, "tracking_id": 5}, 400, "tracking_id", "type:string"),
        ]
        for body, status, field, rule in cases:
            with self.subTest(body=body):
                self.assert_error(self.admin("POST", "/subscriptions", body), status, field, rule)
        self.assert_error(self.admin("POST", "/subscriptions", "{oops"), 400, "body", "json")
        self.assert_error(self.admin("POST", "/subscriptions", "[1]"), 400, "body", "type:object")
        self.assert_error(self.admin("POST", "/subscriptions", json.dumps({"url": ok}),
                                     headers={"Content-Type": "text/plain"}), 415, "content-type")
        # Every error is reported at once.
        st, _, err = self.admin("POST", "/subscriptions", {"statuses": ["LOST"], "x": 1})
        self.assertEqual(st, 400)
        self.assertEqual({d["field"] for d in err["details"]}, {"statuses[0]", "x", "url"})
        # Nothing was created by any of them.
        _, _, listing = self.admin("GET", "/subscriptions")
        self.assertNotIn(ok, [s["url"] for s in listing["subscriptions"]])

    def test_methods_and_preflight(self):
        st, hdrs, err = self.admin("PUT", "/subscriptions", {"url": "http://example.com/"})
        self.assert_error((st, hdrs, err), 405, "method")
        self.assertEqual(hdrs["allow"], "GET, HEAD, POST, OPTIONS")
        st, hdrs, _ = self.admin("POST", "/subscriptions/01NOSUCHSUBSCRIPTION0000000", {"enabled": True})
        self.assertEqual(st, 405)
        self.assertEqual(hdrs["allow"], "GET, HEAD, PATCH, DELETE, OPTIONS")
        st, hdrs, _ = self.admin("OPTIONS", "/subscriptions", key=None)
        self.assertEqual(st, 204)
        self.assertEqual(hdrs["allow"], "GET, HEAD, POST, OPTIONS")
        st, hdrs, _ = self.admin("OPTIONS", "/subscriptions/01ABC/deliveries", key=None)
        self.assertEqual(st, 204)
        self.assertEqual(hdrs["allow"], "GET, HEAD, OPTIONS")
        self.assert_error(self.admin("GET", "/subscriptions/a.b"), 404, "path", "route")


# --- 2. delivery ---------------------------------------------------------------------------------

class DeliveryTest(WebhookCase):
    server_args = PRIVATE + FAST_RETRIES + ("--webhook-timeout", "1")

    def test_one_signed_document_per_state_change_per_matching_subscription(self):
        rx = self.receiver()
        t1, t2 = new_id("WHA"), new_id("WHB")
        before = self.metrics()
        every = self.subscribe(rx, "/every/path?token=abc%20def&x=1", tracking_id=None)
        delivered_only = self.subscribe(rx, "/delivered", statuses=["DELIVERED"])
        only_t2 = self.subscribe(rx, "/only-t2", tracking_id=t2)
        # Subscriptions of the other tests of this class filter on their own packages, and theirs
        # are deleted; still, only this test's packages are counted below.
        t0 = base_time()
        e1 = self.post_event(t1, "PICKED_UP", t0)
        e2 = self.post_event(t1, "IN_TRANSIT", t0 + datetime.timedelta(minutes=1), location="Arequipa")
        # A late arrival (older than the state) and a replay change nothing a subscriber sees.
        self.post_event(t1, "INFO_RECEIVED", t0 - datetime.timedelta(minutes=5))
        self.post_event(t1, "PICKED_UP", t0, event_id=e1, expect=200)
        e3 = self.post_event(t1, "DELIVERED", t0 + datetime.timedelta(minutes=2), location="Cusco")
        e4 = self.post_event(t2, "OUT_FOR_DELIVERY", t0)

        want = {"/every/path": {e1, e2, e3, e4}, "/delivered": {e3}, "/only-t2": {e4}}
        for path, ids in want.items():
            self.assertTrue(wait_for(lambda: {m["event_id"] for m in rx.messages(path)} >= ids, timeout=20),
                            (path, rx.messages(path)))
        subs = {"/every/path": every, "/delivered": delivered_only, "/only-t2": only_t2}
        for path, sub in subs.items():
            self.assertTrue(wait_for(lambda: all(d["state"] == "delivered" for d in self.deliveries(sub["id"])),
                                     timeout=20), self.deliveries(sub["id"]))
        # Exactly one outbox row, hence one delivery, per state change per subscription.
        for path, sub in subs.items():
            listed = [d for d in self.deliveries(sub["id"]) if d["message"]["tracking_id"] in (t1, t2)]
            self.assertEqual(sorted(d["message"]["event_id"] for d in listed), sorted(want[path]), path)
            for d in listed:
                self.assertEqual((d["state"], d["attempts"], d["last_http_status"], d["last_error"]),
                                 ("delivered", 1, 200, None), d)
                self.assertIsNone(d["next_attempt_at"])
                self.assertRegex(d["last_attempt_at"], RFC3339_MS)
            got = [m for m in rx.messages(path) if m["tracking_id"] in (t1, t2)]
            self.assertEqual(len(got), len(want[path]), got)  # all answered 200 the first time

        by_event = {m["event_id"]: m for m in rx.messages("/every/path")}
        self.assertEqual(by_event[e1], {"type": "tracking.updated", "tracking_id": t1, "status": "PICKED_UP",
                                        "previous_status": None, "location": "Lima",
                                        "timestamp": iso(t0), "event_id": e1})
        self.assertEqual(by_event[e3], {"type": "tracking.updated", "tracking_id": t1, "status": "DELIVERED",
                                        "previous_status": "IN_TRANSIT", "location": "Cusco",
                                        "timestamp": iso(t0 + datetime.timedelta(minutes=2)), "event_id": e3})
        self.assertEqual(by_event[e2]["previous_status"], "PICKED_UP")

        # Headers, signature, URL kept intact; the listing shows the document exactly as sent.
        listed = {d["id"]: d for d in self.deliveries(every["id"])}
        for r in rx.received():
            if r["path"] not in want:
                continue
            msg = json.loads(r["body"])
            if msg["tracking_id"] not in (t1, t2):
                continue
            h = r["headers"]
            self.check_document(msg)
            self.assertTrue(r["verified"], r)
            self.assertFalse(verify_signature(subs[r["path"]]["secret"], h, r["body"] + b" "))
            other = only_t2 if r["path"] != "/only-t2" else every  # another subscription's secret
            self.assertFalse(verify_signature(other["secret"], h, r["body"]))
            self.assertFalse(verify_signature(subs[r["path"]]["secret"], h, r["body"],
                                              now=int(h["x-dinex-timestamp"]) + 301))  # too old
            self.assertRegex(h["x-dinex-signature"], r"^v1=[0-9a-f]{64}$")
            self.assertEqual(h["x-dinex-event"], "tracking.updated")
            self.assertEqual(h["x-dinex-attempt"], "1")
            self.assertRegex(h["x-dinex-delivery"], ULID)
            self.assertTrue(h["content-type"].startswith("application/json"))
            self.assertTrue(h["user-agent"].startswith("dinex-tracking-webhooks/"), h["user-agent"])
            if r["path"] == "/every/path":
                self.assertEqual(r["query"], "token=abc%20def&x=1")
                self.assertEqual(listed[h["x-dinex-delivery"]]["message"], msg)
            else:
                self.assertEqual(r["query"], "")

        after = self.metrics()
        key = 'dinex_notifications_total{outcome="delivered"}'
        self.assertGreaterEqual(after[key] - before.get(key, 0), 6)
        self.assertTrue(wait_for(lambda: self.metrics()["dinex_notifications_pending"] == 0, timeout=10))
        self.assertIn('dinex_webhook_subscriptions{state="enabled"}', after)
        self.assertIn("dinex_notification_attempt_duration_seconds_count", after)
        for sub in subs.values():
            self.assertRegex(self.subscription(sub["id"])["last_success_at"], RFC3339_MS)
            self.admin("DELETE", "/subscriptions/" + sub["id"])

    def test_500_then_200_is_retried_with_the_same_delivery_id(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/flaky", tracking_id=tid)
        rx.plan = [500, 503]
        eid = self.post_event(tid, "IN_TRANSIT", base_time())
        self.assertTrue(wait_for(lambda: len(rx.messages("/flaky")) == 1, timeout=20), rx.received())
        self.assertTrue(wait_for(lambda: self.deliveries(sub["id"])[0]["state"] == "delivered", timeout=10))
        got = rx.received("/flaky")
        self.assertEqual([r["answered"] for r in got], [500, 503, 200])
        self.assertEqual([r["headers"]["x-dinex-attempt"] for r in got], ["1", "2", "3"])
        self.assertEqual(len({r["headers"]["x-dinex-delivery"] for r in got}), 1)
        self.assertTrue(all(r["verified"] for r in got))
        self.assertEqual({json.loads(r["body"])["event_id"] for r in got}, {eid})
        # Backoff: the retries are not immediate (only lower bounds; the first retry waits at least
        # half of --webhook-first-retry-ms, the second at least half of twice that).
        # (Lower bounds only, with a few ms of slack for the millisecond clock.)
        self.assertGreaterEqual(got[1]["at"] - got[0]["at"], 0.02)
        self.assertGreaterEqual(got[2]["at"] - got[1]["at"], 0.045)
        [d] = self.deliveries(sub["id"])
        self.assertEqual((d["state"], d["attempts"], d["last_http_status"], d["last_error"]),
                         ("delivered", 3, 200, None))
        s = self.subscription(sub["id"])
        self.assertEqual(s["consecutive_failures"], 0)
        self.assertIsNone(s["paused_until"])
        self.admin("DELETE", "/subscriptions/" + sub["id"])

    def test_an_answer_after_the_timeout_is_retried(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/slow", tracking_id=tid)
        rx.plan = [{"status": 200, "delay": 2.5}]  # longer than --webhook-timeout 1
        eid = self.post_event(tid, "IN_TRANSIT", base_time())
        self.assertTrue(wait_for(lambda: self.deliveries(sub["id"])[0]["state"] == "delivered", timeout=20))
        [d] = self.deliveries(sub["id"])
        self.assertEqual((d["attempts"], d["last_http_status"]), (2, 200))
        got = rx.received("/slow")
        # At least once: the receiver saw the same delivery twice and deduplicates on its id.
        self.assertEqual([r["headers"]["x-dinex-attempt"] for r in got], ["1", "2"])
        self.assertEqual({r["headers"]["x-dinex-delivery"] for r in got}, {d["id"]})
        self.assertEqual({json.loads(r["body"])["event_id"] for r in got}, {eid})

    def test_a_2xx_with_a_large_body_is_delivered(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/chatty", tracking_id=tid)
        rx.status = {"status": 200, "body_bytes": 100 * 1024}  # e.g. a framework's HTML page
        self.post_event(tid, "IN_TRANSIT", base_time())
        self.assertTrue(wait_for(lambda: self.deliveries(sub["id"])[0]["attempts"] >= 1, timeout=20))
        [d] = self.deliveries(sub["id"])
        self.assertEqual((d["state"], d["last_http_status"]), ("delivered", 200), d)

    def test_a_4xx_answer_is_not_retried(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/no", tracking_id=tid)
        rx.status = 400
        self.post_event(tid, "IN_TRANSIT", base_time())
        self.assertTrue(wait_for(lambda: self.deliveries(sub["id"])[0]["state"] == "failed", timeout=20))
        [d] = self.deliveries(sub["id"])
        self.assertEqual((d["attempts"], d["last_http_status"], d["last_error"]), (1, 400, "HTTP 400"))
        self.assertIsNone(d["next_attempt_at"])
        self.assertEqual(len(rx.received("/no")), 1)
        self.assertTrue(self.subscription(sub["id"])["enabled"])
        self.admin("DELETE", "/subscriptions/" + sub["id"])

    def test_deleting_a_subscription_drops_its_pending_deliveries(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/deleted", tracking_id=tid)
        rx.status = 500
        self.post_event(tid, "IN_TRANSIT", base_time())
        self.assertTrue(wait_for(lambda: len(rx.received("/deleted")) >= 1, timeout=20))
        self.assertEqual(self.admin("DELETE", "/subscriptions/" + sub["id"])[0], 204)
        rx.status = 200
        self.post_event(tid, "OUT_FOR_DELIVERY", base_time() + datetime.timedelta(minutes=1))
        # The next subscription's delivery arriving shows the dispatcher has moved on.
        other = self.subscribe(rx, "/after-delete", tracking_id=tid)
        self.post_event(tid, "DELIVERED", base_time() + datetime.timedelta(minutes=2))
        self.assertTrue(wait_for(lambda: len(rx.messages("/after-delete")) == 1, timeout=20))
        self.assertEqual(rx.messages("/deleted"), [])
        self.admin("DELETE", "/subscriptions/" + other["id"])


# --- 3. receiver down, then up -------------------------------------------------------------------

class ReceiverDownTest(WebhookCase):
    server_args = PRIVATE + FAST_RETRIES + ("--webhook-disable-after", "1000")

    def test_everything_arrives_when_the_receiver_comes_back(self):
        rx = self.receiver()
        sub = self.subscribe(rx, "/down")
        rx.stop()  # the port now refuses connections
        t0 = base_time()
        events = {self.post_event(new_id(), "IN_TRANSIT", t0 + datetime.timedelta(seconds=i)) for i in range(6)}

        def failing():
            ds = self.deliveries(sub["id"])
            return len(ds) == 6 and any(d["attempts"] >= 2 and d["last_error"] for d in ds)
        self.assertTrue(wait_for(failing, timeout=20), self.deliveries(sub["id"]))
        ds = self.deliveries(sub["id"])
        self.assertTrue(all(d["state"] == "pending" for d in ds), ds)
        tried = [d for d in ds if d["attempts"] >= 1]
        for d in tried:
            self.assertIsNone(d["last_http_status"])
            self.assertTrue(d["last_error"])
            self.assertRegex(d["next_attempt_at"], RFC3339_MS)
        s = self.subscription(sub["id"])
        self.assertTrue(s["enabled"])
        self.assertGreaterEqual(s["consecutive_failures"], 2)
        self.assertGreaterEqual(self.metrics()["dinex_notifications_pending"], 6)
        self.assertGreaterEqual(self.metrics().get('dinex_notifications_total{outcome="retrying"}', 0), 2)

        rx.start()  # same port
        self.assertTrue(wait_for(lambda: {m["event_id"] for m in rx.messages("/down")} >= events, timeout=30),
                        rx.received())
        self.assertTrue(wait_for(lambda: self.metrics()["dinex_notifications_pending"] == 0, timeout=10))
        self.assertTrue(all(d["state"] == "delivered" for d in self.deliveries(sub["id"])))
        self.assertTrue(all(r["verified"] for r in rx.received("/down")))
        self.assertEqual(self.subscription(sub["id"])["consecutive_failures"], 0)


# --- 5. disabling ---------------------------------------------------------------------------------

class DisableTest(WebhookCase):
    server_args = PRIVATE + FAST_RETRIES + ("--webhook-disable-after", "3")

    def test_disabled_after_the_limit_and_re_enabled(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/failing", tracking_id=tid)
        rx.status = 500
        t0 = base_time()
        first = self.post_event(tid, "PICKED_UP", t0)
        self.assertTrue(wait_for(lambda: not self.subscription(sub["id"])["enabled"], timeout=20))
        s = self.subscription(sub["id"])
        self.assertEqual(s["disabled_reason"], "3 consecutive failed attempts")
        self.assertRegex(s["disabled_at"], RFC3339_MS)
        self.assertEqual(s["consecutive_failures"], 3)
        [d] = self.deliveries(sub["id"])
        self.assertEqual((d["state"], d["attempts"], d["last_http_status"], d["last_error"]),
                         ("pending", 3, 500, "HTTP 500"))
        self.assertEqual(len(rx.received("/failing")), 3)
        self.assertEqual(self.metrics()['dinex_webhook_subscriptions{state="disabled"}'], 1)

        # A disabled subscription gets no new deliveries.
        self.post_event(tid, "IN_TRANSIT", t0 + datetime.timedelta(minutes=1))
        self.assertEqual(len(self.deliveries(sub["id"])), 1)

        rx.status = 200
        st, _, on = self.admin("PATCH", "/subscriptions/" + sub["id"], {"enabled": True})
        self.assertEqual(st, 200, on)
        self.assertTrue(on["enabled"])
        self.assertEqual(on["consecutive_failures"], 0)
        self.assertIsNone(on["disabled_reason"])
        self.assertTrue(wait_for(lambda: self.deliveries(sub["id"])[0]["state"] == "delivered", timeout=20))
        [d] = self.deliveries(sub["id"])
        self.assertEqual((d["attempts"], d["last_http_status"]), (4, 200))
        self.assertEqual([m["event_id"] for m in rx.messages("/failing")], [first])
        # And new state changes are delivered again.
        third = self.post_event(tid, "OUT_FOR_DELIVERY", t0 + datetime.timedelta(minutes=2))
        self.assertTrue(wait_for(lambda: [m["event_id"] for m in rx.messages("/failing")] == [first, third],
                                 timeout=20))
        self.admin("DELETE", "/subscriptions/" + sub["id"])

    def test_410_gone_disables_at_once(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/gone", tracking_id=tid)
        rx.status = 410
        t0 = base_time()
        self.post_event(tid, "PICKED_UP", t0)
        self.assertTrue(wait_for(lambda: not self.subscription(sub["id"])["enabled"], timeout=20))
        s = self.subscription(sub["id"])
        self.assertIn("410", s["disabled_reason"])
        [d] = self.deliveries(sub["id"])
        self.assertEqual((d["state"], d["attempts"], d["last_http_status"]), ("failed", 1, 410))
        self.assertEqual(len(rx.received("/gone")), 1)
        self.post_event(tid, "IN_TRANSIT", t0 + datetime.timedelta(minutes=1))
        self.assertEqual(len(self.deliveries(sub["id"])), 1)
        self.admin("DELETE", "/subscriptions/" + sub["id"])


# --- 6. kill -9 with deliveries pending ------------------------------------------------------------

class KillTest(WebhookCase):
    server_args = PRIVATE + FAST_RETRIES + ("--webhook-disable-after", "1000")

    def test_pending_deliveries_survive_sigkill(self):
        rx = self.receiver()
        sub = self.subscribe(rx, "/after-crash")
        rx.stop()
        t0 = base_time()
        events = set()
        for i in range(20):
            tid = new_id("K%02d" % (i % 5))
            events.add(self.post_event(tid, "IN_TRANSIT", t0 + datetime.timedelta(seconds=i)))
        self.assertTrue(wait_for(lambda: any(d["attempts"] >= 1 for d in self.deliveries(sub["id"])), timeout=20))
        self.server.signal(signal.SIGKILL)
        self.server.wait(10)

        rx.start()
        again = self.make_server(*self.server_args, data_dir=self.server.data_dir)
        try:
            self.assertTrue(wait_for(lambda: {m["event_id"] for m in rx.messages("/after-crash")} >= events,
                                     timeout=30),
                            sorted(events - {m["event_id"] for m in rx.messages("/after-crash")}))
            self.assertTrue(all(r["verified"] for r in rx.received("/after-crash")))
            ds = self.deliveries(sub["id"], server=again)
            self.assertEqual(len(ds), 20)
            self.assertTrue(wait_for(lambda: self.metrics(again)["dinex_notifications_pending"] == 0, timeout=10))
        finally:
            self.assertEqual(sanitizer_report(again), "")
            again.stop()


# --- 7. SSRF guard -------------------------------------------------------------------------------

class SsrfTest(WebhookCase):
    server_args = FAST_RETRIES  # no --allow-private-webhooks

    def test_private_addresses_are_refused_at_creation(self):
        refused = ["http://127.0.0.1:8080/hook", "http://127.1.2.3/", "http://localhost/hook", "http://LocalHost./",
                   "http://api.localhost/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/",
                   "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://0.0.0.0/",
                   "http://[::1]/", "http://[::]/", "http://[fe80::1]/", "http://[fd00::1]/",
                   "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "https://[::1]:8443/x"]
        for url in refused:
            with self.subTest(url=url):
                st, _, err = self.admin("POST", "/subscriptions", {"url": url})
                self.assert_error((st, None, err), 422, "url", "public_address")
                self.assertIn("--allow-private-webhooks", err["error"])
        _, _, listing = self.admin("GET", "/subscriptions")
        self.assertFalse(set(refused) & {sub["url"] for sub in listing["subscriptions"]})

        # A public address literal and a host name are accepted (names are checked at connect time).
        for url in ("http://93.184.216.34/hook", "https://hooks.example.com/dinex?x=1"):
            st, _, sub = self.admin("POST", "/subscriptions", {"url": url, "tracking_id": "NEVERPOSTED1"})
            self.assertEqual(st, 201, sub)
            self.assertEqual(self.admin("DELETE", "/subscriptions/" + sub["id"])[0], 204)

    def test_names_for_loopback_are_refused_at_connect_time(self):
        """Host names are not resolved at creation; these all mean 127.0.0.1 to the resolver and are
        refused when connecting, so the receiver sees nothing."""
        rx = self.receiver()
        tid = new_id()
        subs = {}
        for host in ("0x7f000001", "127.1", "2130706433", "017700000001"):
            st, _, sub = self.admin("POST", "/subscriptions",
                                    {"url": rx.url("/" + host, host=host), "tracking_id": tid})
            self.assertEqual(st, 201, sub)
            subs[host] = sub
        self.post_event(tid, "IN_TRANSIT", base_time())
        for host, sub in subs.items():
            with self.subTest(host=host):
                self.assertTrue(wait_for(lambda: self.deliveries(sub["id"])[0]["attempts"] >= 1, timeout=20))
                [d] = self.deliveries(sub["id"])
                self.assertEqual(d["state"], "pending")
                self.assertIn("refused to connect to %s (127.0.0.1): loopback" % host, d["last_error"])
        self.assertEqual(rx.received(), [])
        for sub in subs.values():
            self.admin("DELETE", "/subscriptions/" + sub["id"])

    def test_private_receivers_are_refused_at_connect_time(self):
        """Subscriptions made while private receivers were allowed, then the server restarts without
        the flag: a host name resolving to loopback (`localhost`, in every /etc/hosts) and an IP
        literal are both refused when connecting, and the receiver sees nothing."""
        rx = self.receiver()
        tid = new_id()
        permissive = self.make_server(*PRIVATE, *FAST_RETRIES)
        subs = {}
        try:
            for name, host in (("by-name", "localhost"), ("by-ip", "127.0.0.1")):
                st, _, sub = self.admin("POST", "/subscriptions",
                                        {"url": rx.url("/" + name, host=host), "tracking_id": tid}, server=permissive)
                self.assertEqual(st, 201, sub)
                subs[name] = sub
        finally:
            self.assertEqual(sanitizer_report(permissive), "")
            permissive.stop()
        strict = self.make_server(*FAST_RETRIES, data_dir=permissive.data_dir)
        try:
            self.post_event(tid, "IN_TRANSIT", base_time(), server=strict)

            def tried(sub_id):
                ds = self.deliveries(sub_id, server=strict)
                return len(ds) == 1 and ds[0]["attempts"] >= 1
            for name, sub in subs.items():
                self.assertTrue(wait_for(lambda: tried(sub["id"]), timeout=20), self.deliveries(sub["id"], server=strict))
                [d] = self.deliveries(sub["id"], server=strict)
                self.assertEqual(d["state"], "pending")
                self.assertIsNone(d["last_http_status"])
                host = "localhost" if name == "by-name" else "127.0.0.1"
                self.assertIn("refused to connect to " + host, d["last_error"] or "")
                self.assertIn("loopback", d["last_error"])
            self.assertEqual(rx.received(), [])
        finally:
            self.assertEqual(sanitizer_report(strict), "")
            strict.stop()
            permissive.cleanup()


# --- 8. the environment variable ------------------------------------------------------------------

class EnvironmentTest(WebhookCase):
    server_args = FAST_RETRIES
    server_env = {"DINEX_ALLOW_PRIVATE_WEBHOOKS": "1"}

    def test_env_var_allows_private_receivers(self):
        rx = self.receiver()
        tid = new_id()
        sub = self.subscribe(rx, "/env", tracking_id=tid)
        eid = self.post_event(tid, "IN_TRANSIT", base_time())
        self.assertTrue(wait_for(lambda: [m["event_id"] for m in rx.messages("/env")] == [eid], timeout=20))
        self.assertTrue(rx.received("/env")[0]["verified"])
        self.admin("DELETE", "/subscriptions/" + sub["id"])


if __name__ == "__main__":
    unittest.main()
