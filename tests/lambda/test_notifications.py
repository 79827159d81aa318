"""Notifications end to end (docs/NOTIFICATIONS.md): the real binary in Lambda mode on the
DynamoDB store against moto (signatures checked), the table's own DynamoDB stream read back from
moto and delivered as Lambda delivers it, SNS Publish to a moto topic whose HTTP subscriber is
served by this test.

Runs with the moto interpreter (boto3) and the ctest fixture `moto` (DINEX_MOTO_STATE). The stream
records are the ones moto's DynamoDB produced for our TransactWriteItems (not built by hand): moto
returns them from GetRecords; this test only adds what Lambda's event source mapping adds
(eventSourceARN, ApproximateCreationDateTime in epoch seconds)."""
import http.server
import json
import os
import socket
import subprocess
import threading
import time
import unittest
import uuid

from lambda_harness import BINARY, LambdaProcess, apigw_event, moto_state, stream_records  # noqa: F401

import boto3


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return port



class Subscriber:
    """An HTTP endpoint for SNS: confirms a subscription if asked, keeps every Notification."""

    def __init__(self):
        self.notifications = []  # what the unfiltered subscription (/sns) received
        self.by_path = {}  # every path's notifications (filtered subscriptions)
        self.confirmations = 0
        self.cv = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                doc = json.loads(self.rfile.read(length) or b"{}")
                if doc.get("Type") == "SubscriptionConfirmation" and doc.get("SubscribeURL"):
                    outer.confirmations += 1
                    try:
                        import urllib.request
                        urllib.request.urlopen(doc["SubscribeURL"], timeout=5).read()
                    except Exception:  # noqa: BLE001 - moto confirms HTTP subscriptions itself
                        pass
                elif doc.get("Type") == "Notification":
                    with outer.cv:
                        outer.by_path.setdefault(self.path, []).append(doc)
                        if self.path == "/sns":
                            outer.notifications.append(doc)
                        outer.cv.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/sns"):
        return "http://127.0.0.1:%d%s" % (self.server.server_address[1], path)

    def wait_for(self, count, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cv:
            while len(self.notifications) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cv.wait(left)
            return list(self.notifications)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class NotificationsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.state = moto_state()
        st = cls.state
        kw = dict(endpoint_url=st["endpoint"], region_name=st["region"],
                  aws_access_key_id=st["access_key_id"], aws_secret_access_key=st["secret_access_key"])
        cls.ddb = boto3.client("dynamodb", **kw)
        cls.streams = boto3.client("dynamodbstreams", **kw)
        cls.sns = boto3.client("sns", **kw)
        cls.table = "dinex-notify-" + uuid.uuid4().hex[:8]
        cls.aws_env = {
            "AWS_ENDPOINT_URL_DYNAMODB": st["endpoint"], "AWS_ENDPOINT_URL": st["endpoint"],
            "AWS_REGION": st["region"], "AWS_ACCESS_KEY_ID": st["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": st["secret_access_key"],
        }
        # The table from the one definition (create-table), which must carry the stream.
        env = dict(os.environ, **cls.aws_env)
        out = subprocess.run([BINARY, "create-table", "--table", cls.table, "--wait"], env=env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        desc = cls.ddb.describe_table(TableName=cls.table)["Table"]
        cls.stream_spec = desc.get("StreamSpecification")
        cls.stream_arn = desc.get("LatestStreamArn")
        cls.topic = cls.sns.create_topic(Name="dinex-tracking-" + uuid.uuid4().hex[:8])["TopicArn"]
        cls.subscriber = Subscriber()
        cls.sns.subscribe(TopicArn=cls.topic, Protocol="http", Endpoint=cls.subscriber.url())
        # moto 5.2.1 leaves MessageAttributes out of what it POSTs to HTTP subscribers (it does not
        # pass them to get_post_data), but it applies subscription filter policies to them: two
        # filtered subscriptions prove the attributes reached SNS with the right values.
        cls.sns.subscribe(TopicArn=cls.topic, Protocol="http", Endpoint=cls.subscriber.url("/in-transit"),
                          Attributes={"FilterPolicy": json.dumps({"status": ["IN_TRANSIT"]})})
        cls.by_id_path = "/by-id"
        cls.filtered_id = "NB" + uuid.uuid4().hex[:10].upper()
        cls.sns.subscribe(TopicArn=cls.topic, Protocol="http", Endpoint=cls.subscriber.url(cls.by_id_path),
                          Attributes={"FilterPolicy": json.dumps({"tracking_id": [cls.filtered_id]})})
        # The sample filter policy of docs/NOTIFICATIONS.md.
        cls.sns.subscribe(TopicArn=cls.topic, Protocol="http", Endpoint=cls.subscriber.url("/delivered-or-exception"),
                          Attributes={"FilterPolicy": json.dumps({"status": ["DELIVERED", "EXCEPTION"]})})
        cls.fn = cls.lambda_fn({})
        cls.seen_sequence = set()

    @classmethod
    def lambda_fn(cls, extra):
        env = dict(cls.aws_env, TABLE_NAME=cls.table, SNS_TOPIC=cls.topic, **extra)
        return LambdaProcess(env=env).start()

    @classmethod
    def tearDownClass(cls):
        cls.fn.stop()
        cls.subscriber.stop()
        try:
            cls.ddb.delete_table(TableName=cls.table)
            cls.sns.delete_topic(TopicArn=cls.topic)
        except Exception:  # noqa: BLE001 - moto goes away with the fixture anyway
            pass

    # --- helpers ---------------------------------------------------------------------------------
    def post(self, fn, **event):
        st, _, body, _ = fn.http("POST", "/tracking", body=event)
        self.assertIn(st, (200, 201), body)
        return body

    def new_stream_records(self):
        """Every record of the table's stream not handed out yet, in the form Lambda delivers."""
        return stream_records(self.streams, self.stream_arn, self.state["region"], self.seen_sequence)

    def deliver(self, fn, records):
        res = fn.invoke({"Records": records}, timeout=30)
        self.assertEqual(res.kind, "response", res)
        return res.json()

    @staticmethod
    def sk(record):
        return record["dynamodb"]["Keys"]["sk"]["S"]

    # --- tests -----------------------------------------------------------------------------------
    def test_1_the_table_has_a_stream_with_both_images(self):
        self.assertEqual(self.stream_spec, {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.assertTrue(self.stream_arn)

    def test_2_one_message_per_state_change_none_for_a_late_arrival(self):
        a, b = "NA" + uuid.uuid4().hex[:10].upper(), self.filtered_id
        before = len(self.subscriber.notifications)
        self.post(self.fn, tracking_id=a, status="PICKED_UP", location="Lima", event_id="a-1",
                  timestamp="2026-11-20T10:00:00Z")
        self.post(self.fn, tracking_id=a, status="IN_TRANSIT", location="Callao", event_id="a-2",
                  timestamp="2026-11-21T10:00:00Z")
        self.post(self.fn, tracking_id=a, status="INFO_RECEIVED", location="Lima", event_id="a-0",
                  timestamp="2026-11-19T10:00:00Z")  # older: a late arrival
        self.post(self.fn, tracking_id=a, status="IN_TRANSIT", location="Callao", event_id="a-2",
                  timestamp="2026-11-21T10:00:00Z")  # an idempotent replay: writes nothing
        self.post(self.fn, tracking_id=b, status="INFO_RECEIVED", location="Quito", event_id="b-1",
                  timestamp="2026-11-22T10:00:00Z")

        records = self.new_stream_records()
        state_records = [r for r in records if self.sk(r) == "STATE"]
        # moto produced the stream: event and state items (no DEDUP# markers: the state's event_ids
        # carry idempotency); the late arrival modified the state item (event_count) with the same
        # event_id.
        self.assertEqual(len(state_records), 4, [(r["eventName"], self.sk(r)) for r in records])
        self.assertTrue(any(self.sk(r).startswith("EVENT#") for r in records))
        self.assertFalse(any(self.sk(r).startswith("DEDUP#") for r in records))

        answer = self.deliver(self.fn, records)
        self.assertEqual(answer, {"batchItemFailures": []},
                         [r for r in self.fn.log_records() if r.get("msg") == "notification publish failed"])
        got = self.subscriber.wait_for(before + 3)[before:]
        time.sleep(0.3)  # nothing more may arrive (the late arrival, the other items)
        got = self.subscriber.notifications[before:]
        self.assertEqual(len(got), 3, [g["Message"] for g in got])
        messages = [json.loads(g["Message"]) for g in got]
        self.assertEqual(messages[0], {"type": "tracking.updated", "tracking_id": a, "status": "PICKED_UP",
                                       "previous_status": None, "location": "Lima",
                                       "timestamp": "2026-11-20T10:00:00.000Z", "event_id": "a-1"})
        self.assertEqual(messages[1], {"type": "tracking.updated", "tracking_id": a, "status": "IN_TRANSIT",
                                       "previous_status": "PICKED_UP", "location": "Callao",
                                       "timestamp": "2026-11-21T10:00:00.000Z", "event_id": "a-2"})
        self.assertEqual((messages[2]["tracking_id"], messages[2]["status"], messages[2]["previous_status"]),
                         (b, "INFO_RECEIVED", None))
        for g, m in zip(got, messages):
            self.assertEqual(g["TopicArn"], self.topic)
            self.assertEqual(g["Subject"], "Tracking update: %s is %s" % (m["tracking_id"], m["status"]))
            if "MessageAttributes" in g:  # real SNS (and a moto that forwards them)
                self.assertEqual(g["MessageAttributes"]["status"], {"Type": "String", "Value": m["status"]})
                self.assertEqual(g["MessageAttributes"]["tracking_id"],
                                 {"Type": "String", "Value": m["tracking_id"]})
        # The attributes, through the filter policies: status = IN_TRANSIT, tracking_id = b.
        in_transit = [json.loads(g["Message"]) for g in self.subscriber.by_path.get("/in-transit", [])]
        self.assertEqual([(m["tracking_id"], m["event_id"]) for m in in_transit], [(a, "a-2")])
        by_id = [json.loads(g["Message"]) for g in self.subscriber.by_path.get(self.by_id_path, [])]
        self.assertEqual([(m["tracking_id"], m["status"]) for m in by_id], [(b, "INFO_RECEIVED")])
        # One document per batch: its log fields and its metrics (a malformed count of 0 is left out).
        logs = [r for r in self.fn.log_records() if "NotificationsSent" in r]
        self.assertTrue(logs)
        self.assertEqual((logs[-1]["NotificationsSent"], logs[-1].get("MalformedStreamRecords", 0)), (3, 0))
        self.assertEqual((logs[-1]["notifier"], logs[-1]["retried"]), ("sns", 0))
        self.assertGreaterEqual(logs[-1]["records"], 3)

    def test_2b_the_documented_filter_policy_passes_only_delivered_and_exception(self):
        c = "NF" + uuid.uuid4().hex[:10].upper()
        path = "/delivered-or-exception"
        before = len(self.subscriber.by_path.get(path, []))
        for i, st in enumerate(["PICKED_UP", "IN_TRANSIT", "EXCEPTION", "OUT_FOR_DELIVERY", "DELIVERED"]):
            self.post(self.fn, tracking_id=c, status=st, location="Lima", event_id="c-%d" % i,
                      timestamp="2026-11-2%dT10:00:00Z" % (i + 1))
        self.assertEqual(self.deliver(self.fn, self.new_stream_records()), {"batchItemFailures": []})
        self.assertTrue(wait_until(lambda: len(self.subscriber.by_path.get(path, [])) >= before + 2))
        time.sleep(0.3)  # nothing else may arrive on the filtered subscription
        got = [json.loads(g["Message"]) for g in self.subscriber.by_path.get(path, [])[before:]]
        self.assertEqual([(m["tracking_id"], m["status"]) for m in got], [(c, "EXCEPTION"), (c, "DELIVERED")])

    def test_3_sns_down_then_redelivered_nothing_lost(self):
        c = "NC" + uuid.uuid4().hex[:10].upper()
        down = self.lambda_fn({"AWS_ENDPOINT_URL_SNS": "http://127.0.0.1:%d" % closed_port()})
        try:
            self.post(down, tracking_id=c, status="PICKED_UP", location="Cusco", event_id="c-1",
                      timestamp="2026-11-20T10:00:00Z")
            self.post(down, tracking_id=c, status="OUT_FOR_DELIVERY", location="Cusco", event_id="c-2",
                      timestamp="2026-11-21T10:00:00Z")
            records = self.new_stream_records()
            before = len(self.subscriber.notifications)
            answer = self.deliver(down, records)
            first_state = next(i for i, r in enumerate(records) if self.sk(r) == "STATE")
            expected = [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records[first_state:]]
            # The first state change failed: it and every later record are handed back; nothing
            # before it was a state change, so nothing is acknowledged that was not published.
            self.assertEqual(answer, {"batchItemFailures": expected})
            self.assertEqual(len(self.subscriber.notifications), before)
            # Log lines reach stdout within the logger's flush interval.
            failed = []
            wait_until(lambda: failed.extend(r for r in down.log_records()
                                             if r.get("msg") == "notification publish failed") or failed)
            self.assertEqual(len(failed), 1)
            self.assertIn("transport", failed[0]["error"])
            # The failure is counted where the NotificationFailures alarm sees it (EMF).
            deadline = time.monotonic() + 5
            emf = []
            while not emf and time.monotonic() < deadline:
                emf = [r for r in down.log_records() if "NotificationFailures" in r]
                time.sleep(0.05)
            self.assertEqual((emf[-1]["NotificationFailures"], emf[-1]["NotificationsSent"]), (1, 0))
            self.assertIn("NotificationFailures", [m["Name"] for m in
                                                   emf[-1]["_aws"]["CloudWatchMetrics"][0]["Metrics"]])
        finally:
            down.stop()

        # Lambda redelivers from the lowest failed sequence number on; SNS is reachable again.
        lowest = min(int(f["itemIdentifier"]) for f in answer["batchItemFailures"])
        redelivered = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) >= lowest]
        self.assertEqual(self.deliver(self.fn, redelivered), {"batchItemFailures": []})
        got = self.subscriber.wait_for(before + 2)[before:]
        self.assertEqual([(json.loads(g["Message"])["event_id"], json.loads(g["Message"])["previous_status"])
                          for g in got], [("c-1", None), ("c-2", "PICKED_UP")])

    def test_4_a_malformed_record_is_skipped_and_the_batch_goes_on(self):
        d = "ND" + uuid.uuid4().hex[:10].upper()
        self.post(self.fn, tracking_id=d, status="PICKED_UP", location="Arequipa", event_id="d-1",
                  timestamp="2026-11-20T10:00:00Z")
        records = self.new_stream_records()
        broken = json.loads(json.dumps(records[0]))
        broken["dynamodb"]["Keys"]["sk"] = {"S": "STATE"}
        broken["dynamodb"]["NewImage"] = {"tracking_id": {"S": d}, "sk": {"S": "STATE"}}
        broken["dynamodb"]["SequenceNumber"] = "1"
        before = len(self.subscriber.notifications)
        self.assertEqual(self.deliver(self.fn, [broken] + records), {"batchItemFailures": []})
        got = self.subscriber.wait_for(before + 1)[before:]
        self.assertEqual([json.loads(g["Message"])["event_id"] for g in got], ["d-1"])
        skipped = [r for r in self.fn.log_records() if r.get("msg") == "malformed stream record skipped"]
        self.assertTrue(any(r.get("sequence_number") == "1" for r in skipped))

    def test_5_without_sns_topic_a_stream_event_is_an_invocation_error(self):
        fn = LambdaProcess(env=dict(self.aws_env, TABLE_NAME=self.table)).start()
        try:
            res = fn.invoke({"Records": [{"eventSource": "aws:dynamodb", "eventName": "INSERT",
                                          "dynamodb": {"SequenceNumber": "5"}}]})
            self.assertEqual(res.kind, "error", res)
            self.assertEqual(res.json()["errorType"], "Runtime.NotificationsNotConfigured")
        finally:
            fn.stop()


if __name__ == "__main__":
    unittest.main()
