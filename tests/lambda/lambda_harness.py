"""Runs the real binary in Lambda mode against the Runtime API stand-in, and builds API Gateway
HTTP API (payload format 2.0) events."""
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import OpenApi  # noqa: E402
from runtime_api_standin import RuntimeApiStandin  # noqa: E402

BINARY = os.environ.get("DINEX_BINARY", "dinex-tracking")


def new_key():
    """A well-formed API key (dnx_<12 base32>_<52 base32>)."""
    b32 = lambda n: base64.b32encode(secrets.token_bytes(n)).decode().lower().rstrip("=")
    return "dnx_%s_%s" % (b32(8)[:12], b32(32))


def key_hash_entry(role, key):
    """The DINEX_API_KEY_HASHES item for `key`: role:id:sha256hex."""
    return "%s:%s:%s" % (role, key[4:16], hashlib.sha256(key.encode()).hexdigest())


def apigw_event(method, path, query="", body=None, headers=None, cookies=None, base64_body=False, stage="dev"):
    """An HTTP API payload 2.0 event as API Gateway sends it (path including the stage prefix)."""
    hdrs = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "it/1.0", "accept": "*/*"}
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
        hdrs["content-type"] = "application/json"
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    raw_path = ("/" + stage if stage else "") + path
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": hdrs,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "it/1.0"},
            "requestId": "apigw-" + uuid.uuid4().hex[:16],
            "routeKey": "$default",
            "stage": stage or "$default",
            "time": "29/Nov/2026:16:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    if cookies:
        event["cookies"] = cookies
    if body is not None:
        if base64_body:
            body = base64.b64encode(body.encode() if isinstance(body, str) else body).decode()
        event["body"] = body
    return event


class LambdaProcess:
    """The binary serving invocations from a fresh stand-in. stdout lines are kept in `lines`."""

    def __init__(self, env=None, args=("lambda",), binary=None, clear_env=False):
        self.standin = RuntimeApiStandin().start()
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")} if clear_env else dict(os.environ)
        for k in ("DINEX_STORE", "DINEX_DB", "TABLE_NAME"):
            if not clear_env:
                base.pop(k, None)
        self.env = dict(base, AWS_LAMBDA_RUNTIME_API=self.standin.endpoint, **(env or {}))
        # A writer key given by hash (any store, no table write), sent by http() unless the test
        # sends its own or key=None; per-client rate limits off unless the test sets them.
        self.key = new_key()
        extra = self.env.get("DINEX_API_KEY_HASHES", "")
        self.env["DINEX_API_KEY_HASHES"] = ",".join(x for x in (extra, key_hash_entry("writer", self.key)) if x)
        self.env.setdefault("DINEX_RATE_LIMIT", "off")
        self.args = list(args)
        self.binary = binary or BINARY
        self.lines = []
        self.proc = None
        self.started_at = None

    def start(self):
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen([self.binary, *self.args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env)

        def pump():
            for raw in self.proc.stdout:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

        threading.Thread(target=pump, daemon=True).start()
        return self

    def invoke(self, event, timeout=10, **kw):
        return self.standin.invoke(event, timeout=timeout, **kw)

    def http(self, method, path, query="", body=None, headers=None, key="default", validate=True, **kw):
        """Invokes with an API GW event; returns (status, headers, parsed body, raw result).

        The answer is checked against docs/openapi.yaml as API Gateway's client would see it (the
        event's rawPath, stage prefix included): one that does not match raises AssertionError.
        `validate=False` for an answer that is not an API answer (a binary body, a broken event)."""
        headers = dict(headers or {})
        key = self.key if key == "default" else key
        if key and not any(h.lower() in ("authorization", "x-api-key") for h in headers):
            headers["authorization"] = "Bearer " + key
        event = apigw_event(method, path, query, body, headers or None, **kw)
        res = self.invoke(event)
        assert res.kind == "response", res
        doc = res.json()
        hdrs = doc["headers"]
        text = base64.b64decode(doc["body"]).decode() if doc["isBase64Encoded"] else doc["body"]
        parsed = json.loads(text) if text and hdrs.get("content-type", "").startswith("application/json") else text
        if validate:
            raw_path = event["rawPath"] + ("?" + query if query else "")
            OpenApi.check_answer(method, raw_path, doc["statusCode"], {k.lower(): v for k, v in hdrs.items()}, parsed)
        return doc["statusCode"], hdrs, parsed, doc

    def log_records(self):
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def wait(self, timeout=15):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()
        self.standin.stop()


def moto_state():
    """The endpoint and key pair of ctest's moto (fixture `moto`: tests/support/moto_fixture.py)."""
    path = os.environ.get("DINEX_MOTO_STATE")
    if not path or not os.path.exists(path):
        raise unittest.SkipTest("DINEX_MOTO_STATE is not set: run through ctest (fixture moto)")
    with open(path) as f:
        return json.load(f)


def _lambda_json(value):
    """Values as Lambda's JSON event has them: binary attributes (bytes, as boto3 decodes them) as
    base64 text, as the stream's own JSON carries them."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _lambda_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lambda_json(v) for v in value]
    return value


def stream_records(streams, stream_arn, region, seen_sequence):
    """Every record of a DynamoDB stream (a boto3 dynamodbstreams client) whose sequence number is
    not in `seen_sequence` (which it extends), in the form Lambda's event source mapping delivers."""
    out = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it, Limit=1000)
            for r in page["Records"]:
                seq = r["dynamodb"]["SequenceNumber"]
                if seq in seen_sequence:
                    continue
                seen_sequence.add(seq)
                ddb = _lambda_json(dict(r["dynamodb"]))
                created = ddb.get("ApproximateCreationDateTime")
                if hasattr(created, "timestamp"):
                    ddb["ApproximateCreationDateTime"] = int(created.timestamp())
                out.append({"eventID": r["eventID"], "eventName": r["eventName"],
                            "eventVersion": r.get("eventVersion", "1.1"), "eventSource": r["eventSource"],
                            "awsRegion": region, "dynamodb": ddb, "eventSourceARN": stream_arn})
            if not page["Records"]:
                break
            it = page.get("NextShardIterator")
    return out


def temp_db():
    d = tempfile.mkdtemp(prefix="dinex-lambda-")
    return d, os.path.join(d, "tracking.db")
