"""What each API call really costs in DynamoDB capacity units, measured on the real binary.

`serve --store dynamodb --rate-limiter dynamodb` runs against moto through a recording proxy.
Every DynamoDB call is seen twice: (1) the proxy keeps its request and answer, and this test
prices it by DynamoDB's published rules from the items really read and written (a shadow of the
table gives the size of the item each write replaces and tells when the status index changes);
(2) the binary asks for `ReturnConsumedCapacity: TOTAL` on every call and logs what it was told
(debug line "dynamodb capacity"). moto's own figures are constants (1 per write, 0.5 per Query,
2 per transactional read, nothing for TransactWriteItems, no index), so (1) is what bench/cost.py
reads; (2) proves the capacity is asked for and recorded (on AWS it is the real figure).

The units per call are compared with bench/ddb_units.json: a change of key design must update
that file (DINEX_UPDATE_DDB_UNITS=1 rewrites it), so the cost model never runs on stale numbers."""
import base64
import http.client
import http.server
import json
import math
import os
import threading
import time
import unittest
import uuid

from harness import SOURCE_DIR, Server, cli, wait_for

UNITS_FILE = os.path.join(SOURCE_DIR, "bench", "ddb_units.json")


# --- DynamoDB's rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
def value_size(v):
    (kind, x), = v.items()
    if kind == "S":
        return len(x.encode())
    if kind == "N":
        digits = x.lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "B":
        return len(base64.b64decode(x))
    # A list or map: 3 bytes, plus each element and 1 byte per element (map keys count too).
    if kind == "L":
        return 3 + sum(value_size(e) + 1 for e in x)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(e) + 1 for k, e in x.items())
    raise AssertionError("attribute type %s not priced here" % kind)


def item_size(item):
    return sum(len(k.encode()) + value_size(v) for k, v in item.items()) if item else 0


def rru(size, consistent=True, transactional=False):
    units = max(1, math.ceil(size / 4096))
    return units * (2 if transactional else 1) * (1 if consistent or transactional else 0.5)


def wru(size, transactional=False):
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


def key_of(item):
    return (json.dumps(item["tracking_id"]), json.dumps(item["sk"]))


class Proxy:
    """Forwards DynamoDB calls to moto unchanged (the signature stays valid) and prices each."""

    def __init__(self, upstream):
        self.upstream = upstream.replace("http://", "")
        self.calls = []  # {"op", "rru", "wru", "limiter", "gsi_wru"}
        self.shadow = {}  # the table as this proxy saw it written
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                conn.request("POST", self.path, body=body, headers={k: v for k, v in self.headers.items()})
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                op = self.headers.get("X-Amz-Target", "").split(".")[-1]
                with proxy.lock:
                    proxy.price(op, json.loads(body or b"{}"), resp.status, json.loads(data or b"{}"))
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def put_units(self, item, transactional):
        """Table and index units of writing `item` over what the shadow holds, and the shadow update."""
        old = self.shadow.get(key_of(item))
        units = wru(max(item_size(old), item_size(item)), transactional)
        # The status index (projection ALL): an entry whose key changes is deleted and put again.
        gsi = 0
        def indexed(i):
            return i is not None and "gsi_status" in i and "gsi_updated_at" in i
        if indexed(item):
            gsi += wru(item_size(item))
            if indexed(old) and (old["gsi_status"], old["gsi_updated_at"]) != (item["gsi_status"], item["gsi_updated_at"]):
                gsi += wru(item_size(old))
        elif indexed(old):
            gsi += wru(item_size(old))
        return units, gsi

    def price(self, op, req, status, answer):
        ok = status == 200
        call = {"op": op, "rru": 0.0, "wru": 0.0, "gsi_wru": 0.0, "ok": ok,
                "limiter": json.dumps(req.get("Key", {}).get("tracking_id", {})).startswith('{"S": "RL#'),
                "moto": answer.get("ConsumedCapacity"), "asked": req.get("ReturnConsumedCapacity")}
        if op in ("DescribeTable", "CreateTable", "UpdateTimeToLive"):
            return
        if op == "GetItem":
            # A projection does not make the read cheaper: the whole item is priced.
            found = answer.get("Item")
            whole = self.shadow.get(key_of(req["Key"])) if found else None
            call["rru"] = rru(item_size(whole or found), req.get("ConsistentRead", False))
        elif op in ("Query", "Scan"):
            call["rru"] = rru(sum(item_size(i) for i in answer.get("Items", [])),
                              req.get("ConsistentRead", False) and "IndexName" not in req)
        elif op == "TransactGetItems":
            for r in answer.get("Responses", [{}] * len(req["TransactItems"])):
                call["rru"] += rru(item_size(r.get("Item")), transactional=True)
        elif op == "PutItem":
            units, gsi = self.put_units(req["Item"], False)
            call["wru"], call["gsi_wru"] = units, gsi if ok else 0
            if ok:
                self.shadow[key_of(req["Item"])] = req["Item"]
        elif op == "UpdateItem":
            old = self.shadow.get(key_of(req["Key"]), dict(req["Key"]))
            new = dict(old, **answer.get("Attributes", {}))
            call["wru"] = wru(max(item_size(old), item_size(new)))  # a failed condition costs it too
            if ok:
                self.shadow[key_of(req["Key"])] = new
        elif op == "BatchWriteItem":
            (table, requests), = req["RequestItems"].items()
            left = len(answer.get("UnprocessedItems", {}).get(table, []))
            if left:
                raise AssertionError("moto left %d items unprocessed: not priced here" % left)
            for r in requests:
                (kind, action), = r.items()
                if kind != "PutRequest":
                    raise AssertionError("batch action %s not priced here" % kind)
                units, gsi = self.put_units(action["Item"], False)
                call["wru"] += units
                if ok:
                    call["gsi_wru"] += gsi
                    self.shadow[key_of(action["Item"])] = action["Item"]
        elif op == "TransactWriteItems":
            writes = []
            for t in req["TransactItems"]:
                (kind, action), = t.items()
                if kind != "Put":
                    raise AssertionError("transaction action %s not priced here" % kind)
                units, gsi = self.put_units(action["Item"], True)
                call["wru"] += units  # a cancelled transaction is counted as if it had written
                if ok:
                    call["gsi_wru"] += gsi
                    writes.append(action["Item"])
            for item in writes:
                self.shadow[key_of(item)] = item
        else:
            raise AssertionError("DynamoDB operation %s not priced here" % op)
        self.calls.append(call)


@unittest.skipUnless(os.environ.get("DINEX_MOTO_STATE"), "needs moto (ctest fixture `moto`)")
class CapacityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.environ["DINEX_MOTO_STATE"], encoding="utf-8") as f:
            state = json.load(f)
        cls.proxy = Proxy(state["endpoint"])
        cls.table = "capacity-" + uuid.uuid4().hex[:8]
        cls.env = {"AWS_ENDPOINT_URL_DYNAMODB": cls.proxy.endpoint, "AWS_REGION": state["region"],
                   "AWS_ACCESS_KEY_ID": state["access_key_id"], "AWS_SECRET_ACCESS_KEY": state["secret_access_key"],
                   "TABLE_NAME": cls.table}
        code, out, err = cli("create-table", "--wait", env=cls.env)
        assert code == 0, out + err
        # The production shape: shared limits (writers 100/s, burst 200: windows of 2 s), debug logs.
        cls.server = Server("--store", "dynamodb", "--rate-limiter", "dynamodb", "--log-level", "debug",
                            env=dict(cls.env, DINEX_RATE_LIMIT="anonymous=1000/2000,writer=100/200")).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.proxy.stop()

    def measure(self, send):
        """Runs `send` and returns the priced calls it caused (table calls, limiter calls)."""
        start = len(self.proxy.calls)
        send()
        time.sleep(0.05)
        with self.proxy.lock:
            calls = self.proxy.calls[start:]
        return [c for c in calls if not c["limiter"]], [c for c in calls if c["limiter"]]

    @staticmethod
    def total(calls):
        return {"calls": len(calls), "rru": sum(c["rru"] for c in calls),
                "wru": sum(c["wru"] + c["gsi_wru"] for c in calls),
                "detail": ["%s %g RRU %g WRU%s" % (c["op"], c["rru"], c["wru"],
                                                   " + %g WRU index" % c["gsi_wru"] if c["gsi_wru"] else "")
                           for c in calls]}

    def post(self, body, expect):
        st, _, answer = self.server.request("POST", "/tracking", body)
        self.assertEqual(st, expect, answer)
        return answer

    def test_units_per_api_call(self):
        now = int(time.time()) - 3600
        tid = "TRK0012345"
        # The package of the cost model: 8 events, a location, a description.
        statuses = ["PICKED_UP", "IN_TRANSIT", "IN_TRANSIT", "IN_TRANSIT", "IN_TRANSIT", "IN_TRANSIT",
                    "IN_TRANSIT", "OUT_FOR_DELIVERY"]
        for i, st in enumerate(statuses):
            self.post({"tracking_id": tid, "location": "Lima", "status": st, "description": "Left the Lima hub",
                       "event_id": "setup-%d" % i, "timestamp": now + 60 * i}, 201)
        measured = {}

        table, _ = self.measure(lambda: self.assertEqual(
            self.server.request("GET", "/tracking?tracking_id=" + tid, key=None)[0], 200))
        measured["get"] = self.total(table)

        table, _ = self.measure(lambda: self.post(
            {"tracking_id": "TRK0099999", "location": "Lima", "status": "PICKED_UP",
             "description": "Left the Lima hub", "event_id": "new-1", "timestamp": now}, 201))
        measured["post_new"] = self.total(table)

        event = {"tracking_id": tid, "location": "Lima", "status": "OUT_FOR_DELIVERY",
                 "description": "Left the Lima hub", "event_id": "existing-1", "timestamp": now + 600}
        table, _ = self.measure(lambda: self.post(event, 201))
        measured["post_existing"] = self.total(table)

        table, _ = self.measure(lambda: self.post(event, 200))
        measured["replay"] = self.total(table)

        batch = [{"tracking_id": "TRK00B%04d" % (i // 2), "location": "Lima", "status": "IN_TRANSIT",
                  "description": "Left the Lima hub", "event_id": "b-%d" % i, "timestamp": now + i}
                 for i in range(10)]
        def send_batch():
            st, _, answer = self.server.request("POST", "/tracking/batch", {"events": batch})
            self.assertIn(st, (200, 207), answer)
        table, _ = self.measure(send_batch)
        measured["batch_10_events_5_packages"] = self.total(table)

        table, _ = self.measure(lambda: self.assertEqual(
            self.server.request("GET", "/packages?status=IN_TRANSIT&limit=20")[0], 200))
        measured["listing"] = self.total(table)

        # The limiter: the writer key sends 80 events one after another (as fast as this build and
        # moto answer). Each window, this instance leases what it admitted in the previous one (at
        # most limit / 10 = 20 tokens at a time): a few UpdateItems per window, not one per request.
        before = len([c for c in self.proxy.calls if c["limiter"]])
        began = time.monotonic()
        for i in range(80):
            self.post({"tracking_id": "TRK00L0001", "location": "Lima", "status": "IN_TRANSIT",
                       "event_id": "l-%d" % i, "timestamp": now + 1000 + i}, 201)
        seconds = time.monotonic() - began
        updates = len([c for c in self.proxy.calls if c["limiter"]]) - before
        windows = math.ceil(seconds / 2.0) + 1
        self.assertLessEqual(updates, 2 * windows + 80 // 20, (updates, seconds))
        self.assertLess(updates, 80 / 3, (updates, seconds))
        measured["limiter"] = {"writer_limit_per_window": 200, "lease_cap": 20,
                               "requests_per_window": round(80 / seconds * 2.0),
                               "requests": 80, "updates": updates,
                               "steady_updates_per_request": round(updates / 80.0, 3),
                               "wru_per_update": 1}

        out = {"source": "tests/integration/test_capacity.py (moto, priced by DynamoDB's rules)",
               "calls": measured}
        if os.environ.get("DINEX_UPDATE_DDB_UNITS"):
            with open(UNITS_FILE, "w", encoding="utf-8") as f:
                json.dump(out, f, indent=1, sort_keys=True)
                f.write("\n")
        with open(UNITS_FILE, encoding="utf-8") as f:
            committed = json.load(f)
        for name in ("get", "post_new", "post_existing", "replay", "batch_10_events_5_packages", "listing"):
            self.assertEqual({k: measured[name][k] for k in ("calls", "rru", "wru")},
                             {k: committed["calls"][name][k] for k in ("calls", "rru", "wru")},
                             "%s: measured %s; rerun with DINEX_UPDATE_DDB_UNITS=1 to update %s"
                             % (name, measured[name]["detail"], UNITS_FILE))

        # Every call asked for its capacity and the binary logged what it was told.
        self.assertTrue(all(c["asked"] == "TOTAL" for c in self.proxy.calls), self.proxy.calls)
        answered = sum(1 for c in self.proxy.calls if c["ok"])
        def logged():
            return [r for r in self.server.log_records() if r.get("msg") == "dynamodb capacity"]
        self.assertTrue(wait_for(lambda: len(logged()) >= answered), (len(logged()), answered))
        self.assertEqual(len(logged()), answered)


if __name__ == "__main__":
    unittest.main()
