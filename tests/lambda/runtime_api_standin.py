"""A stand-in for the AWS Lambda Runtime API (version 2018-06-01), standard library only.

It follows the Runtime API reference (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
  GET  /2018-06-01/runtime/invocation/next               long poll; 200 with the event and the
       Lambda-Runtime-Aws-Request-Id, -Deadline-Ms (Unix ms), -Invoked-Function-Arn, -Trace-Id headers
  POST /2018-06-01/runtime/invocation/{AwsRequestId}/response   202 {"status":"OK"}; 400 for an unknown
       request id, 403 when that invocation was already answered, 413 above 6 MB
  POST /2018-06-01/runtime/invocation/{AwsRequestId}/error      202; 400 / 403 as above
  POST /2018-06-01/runtime/init/error                          202 before the first `next`, 403 after
Errors are JSON {"errorMessage", "errorType"} as the real service answers them.

Test API: enqueue(event) -> request id; result(request_id) -> Result; init_error(); first_next_at
(time.perf_counter() of the first `next`); next_count.
"""
import http.server
import json
import queue
import socket
import threading
import time
import uuid

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:dinex-tracking-dev"


class Result:
    def __init__(self, kind, body, headers):
        self.kind = kind  # "response" or "error"
        self.body = body  # bytes
        self.headers = headers  # dict, lower-case names

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Result(%s, %r)" % (self.kind, self.body[:300])


class RuntimeApiStandin:
    def __init__(self, timeout_ms=3000):
        self.timeout_ms = timeout_ms
        self._events = queue.Queue()
        self._lock = threading.Condition()
        self._pending = {}  # request id -> True while waiting for an answer
        self._results = {}
        self._init_error = None
        self._initialised = False
        self.first_next_at = None
        self.next_count = 0
        self.requests = []  # (method, path) in arrival order
        self._server = None
        self._thread = None

    # --- control -------------------------------------------------------------------------------
    def start(self):
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # Headers and body leave in two writes: without this, Nagle + delayed ACK add 40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self):
                standin._handle(self, "GET")

            def do_POST(self):
                standin._handle(self, "POST")

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a runtime killed mid-poll resets its connection: not an error of the test

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self._server.server_address[1]

    def stop(self):
        if self._server:
            self._events.put(None)  # wake a waiting long poll
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def enqueue(self, event, request_id=None, trace_id=None):
        """Queues one invocation; `event` is a dict (sent as JSON) or raw bytes/str."""
        request_id = request_id or str(uuid.uuid4())
        payload = event if isinstance(event, (bytes, str)) else json.dumps(event)
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        trace_id = trace_id or "Root=1-%08x-%s;Parent=%s;Sampled=1" % (int(time.time()), uuid.uuid4().hex[:24], uuid.uuid4().hex[:16])
        with self._lock:
            self._pending[request_id] = True
        self._events.put((request_id, payload, trace_id))
        return request_id

    def result(self, request_id, timeout=10):
        deadline = time.monotonic() + timeout
        with self._lock:
            while request_id not in self._results:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no answer for invocation %s" % request_id)
                self._lock.wait(left)
            return self._results[request_id]

    def invoke(self, event, timeout=10, **kw):
        return self.result(self.enqueue(event, **kw), timeout)

    def init_error(self, timeout=10):
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._init_error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(left)
            return self._init_error

    # --- the protocol --------------------------------------------------------------------------
    def _send(self, h, status, body=b"", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _error(self, h, status, error_type, message):
        self._send(h, status, {"errorMessage": message, "errorType": error_type})

    def _handle(self, h, method):
        path = h.path
        with self._lock:
            self.requests.append((method, path))
        length = int(h.headers.get("Content-Length") or 0)
        if method == "POST" and length > MAX_RESPONSE_BYTES:
            # Drain what was sent, then refuse it.
            remaining = length
            while remaining > 0:
                chunk = h.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
            return self._error(h, 413, "RequestEntityTooLarge", "response payload is larger than 6 MB")
        body = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}

        if method == "GET" and path == PREFIX + "/invocation/next":
            with self._lock:
                if self.first_next_at is None:
                    self.first_next_at = time.perf_counter()
                self.next_count += 1
                self._initialised = True
            item = self._events.get()  # long poll: no time limit
            if item is None:
                return self._error(h, 500, "ServiceShutdown", "the stand-in is stopping")
            request_id, payload, trace_id = item
            deadline_ms = int(time.time() * 1000) + self.timeout_ms
            self._send(h, 200, payload, {
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                "Lambda-Runtime-Trace-Id": trace_id,
            })
            return

        if method == "POST" and path == PREFIX + "/init/error":
            with self._lock:
                if self._initialised or self._init_error is not None:
                    return self._error(h, 403, "InvalidStateTransition", "init error after initialisation")
                self._init_error = Result("init_error", body, headers)
                self._lock.notify_all()
            return self._send(h, 202, {"status": "OK"})

        if method == "POST" and path.startswith(PREFIX + "/invocation/"):
            rest = path[len(PREFIX + "/invocation/"):]
            request_id, _, kind = rest.rpartition("/")
            if kind not in ("response", "error") or not request_id:
                return self._error(h, 404, "NotFound", "no such resource " + path)
            with self._lock:
                if request_id not in self._pending:
                    return self._error(h, 400, "InvalidRequestID", "unknown request id " + request_id)
                if request_id in self._results:
                    return self._error(h, 403, "InvalidStateTransition", "invocation already answered")
                if kind == "error":
                    try:
                        doc = json.loads(body)
                        ok = isinstance(doc, dict) and isinstance(doc.get("errorMessage"), str) and isinstance(doc.get("errorType"), str)
                    except ValueError:
                        ok = False
                    if not ok:
                        return self._error(h, 400, "InvalidErrorShape", "error body must be {errorMessage, errorType}")
                self._results[request_id] = Result(kind, body, headers)
                self._lock.notify_all()
            return self._send(h, 202, {"status": "OK"})

        return self._error(h, 404, "NotFound", "no such resource %s %s" % (method, path))
