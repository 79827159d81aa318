"""Starts the real dinex-tracking binary on a free port and speaks HTTP to it.

Used by the integration tests; needs the Python standard library and python3-yaml, plus Node.js
with tests/openapi/node_modules (scripts/install-deps test): every answer `Server.request` gets is
checked against docs/openapi.yaml by tests/openapi/contract.mjs (Ajv, JSON Schema 2020-12), and a
test whose answer does not match fails there.
"""
import atexit
import base64
import hashlib
import http.client
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time

BINARY = os.environ.get("DINEX_BINARY", "dinex-tracking")
SOURCE_DIR = os.environ.get("DINEX_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def new_key():
    """A well-formed API key made here (for keys given by hash, DINEX_API_KEY_HASHES)."""
    b32 = lambda n: base64.b32encode(secrets.token_bytes(n)).decode().lower().rstrip("=")
    return "dnx_%s_%s" % (b32(8)[:12], b32(32))


def key_hash_entry(role, key):
    """The DINEX_API_KEY_HASHES item for `key`: role:id:sha256hex (never the key itself)."""
    return "%s:%s:%s" % (role, key[4:16], hashlib.sha256(key.encode()).hexdigest())


def cli(*args, env=None):
    """Runs the binary with `args`; returns (exit code, stdout, stderr)."""
    p = subprocess.run([BINARY, *args], capture_output=True, text=True, env=dict(os.environ, **(env or {})), timeout=30)
    return p.returncode, p.stdout, p.stderr


def create_key(db, role="writer", name="integration harness"):
    """`keys create` through the CLI; the key is the last line of its output."""
    code, out, err = cli("keys", "create", "--db", db, "--name", name, "--role", role)
    if code != 0:
        raise RuntimeError("keys create failed: " + err)
    return out.strip().splitlines()[-1]


class Server:
    """One running server process. Its stdout (JSON log lines) is collected in `lines`.

    Requests carry a writer key by default (`key`): on SQLite it is created through the CLI in the
    server's database, on the memory store it is given by hash (DINEX_API_KEY_HASHES). Per-client
    rate limits are off unless the test sets them (--rate-limit / DINEX_RATE_LIMIT). Pass
    `key=None` to a request to send none."""

    def __init__(self, *args, data_dir=None, env=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="dinex-it-")
        self.args = list(args)
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("DINEX_RATE_LIMIT", "off")
        self.lines = []
        self.proc = None
        self.port = None
        self.key = None

    def db_path(self):
        if "--db" in self.args:
            return self.args[self.args.index("--db") + 1]
        return self.env.get("DINEX_DB") or os.path.join(self.data_dir, "tracking.db")

    def _provision_key(self):
        store = self.args[self.args.index("--store") + 1] if "--store" in self.args else self.env.get("DINEX_STORE", "sqlite")
        if store == "sqlite":
            self.key = create_key(self.db_path())
        else:
            self.key = new_key()
            extra = self.env.get("DINEX_API_KEY_HASHES", "")
            self.env["DINEX_API_KEY_HASHES"] = ",".join(x for x in (extra, key_hash_entry("writer", self.key)) if x)

    def start(self, timeout=15):
        if self.key is None:
            self._provision_key()
        cmd = [BINARY, "serve", "--port", "0", "--data-dir", self.data_dir, *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        ready = queue.Queue()

        def pump():
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.lines.append(line)
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("msg") == "listening":
                    ready.put(rec["port"])
            ready.put(None)

        threading.Thread(target=pump, daemon=True).start()
        port = ready.get(timeout=timeout)
        if port is None:
            raise RuntimeError("server exited before listening: " + self.proc.stderr.read().decode())
        self.port = port
        return self

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def connection(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None, key="default", validate=True):
        """Returns (status, headers dict lower-cased, parsed JSON or raw text).

        The answer is checked against docs/openapi.yaml (OpenApi.check_answer): an answer that does
        not match raises AssertionError. `validate=False` for a request sent broken on purpose."""
        own = conn is None
        conn = conn or self.connection()
        try:
            hdrs = dict(headers or {})
            key = self.key if key == "default" else key
            if key and not any(h.lower() in ("authorization", "x-api-key") for h in hdrs):
                hdrs["Authorization"] = "Bearer " + key
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
                hdrs.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            rh = {k.lower(): v for k, v in resp.getheaders()}
            ctype = rh.get("content-type", "")
            parsed = json.loads(data) if data and ctype.startswith("application/json") else data.decode("utf-8", "replace")
            if validate:
                OpenApi.check_answer(method, path, resp.status, rh, parsed)
            return resp.status, rh, parsed
        finally:
            if own:
                conn.close()

    def log_records(self):
        out = []
        for line in self.lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()

    def cleanup(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def wait_for(predicate, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def assert_503_cause_logged_not_answered(test, log_records, lines, request_id, body):
    """A 503 from an unreachable DynamoDB: exactly one `server error` line for `request_id` carries
    the cause (DynamoDB, the address, the refusal), and the client's `body` carries none of it.
    `log_records` returns the process's log lines parsed so far; `lines` is shown on failure."""
    def logged_lines():
        return [r for r in log_records() if r.get("msg") == "server error" and r.get("request_id") == request_id]

    wait_for(logged_lines)
    logged = logged_lines()
    test.assertEqual(len(logged), 1, lines)
    line = logged[0]
    test.assertEqual((line["level"], line["status"], line["route"]), ("error", 503, "/tracking"), line)
    test.assertIn("dynamodb", line["cause"])
    test.assertIn("connecting to 127.0.0.1:", line["cause"])
    test.assertIn("refused", line["cause"].lower())
    test.assertNotIn("127.0.0.1", json.dumps(body))
    test.assertNotIn("refused", json.dumps(body).lower())


class OpenApi:
    """docs/openapi.yaml, with every check done by tests/openapi/contract.mjs: Ajv (JSON Schema draft
    2020-12, the OpenAPI 3.1 dialect, ajv-formats) in one long-lived node process per test process,
    spoken to in JSON lines. Nothing here reads a schema.

    - `OpenApi.check_answer(method, raw_path, status, headers, body)`: what Server.request calls for
      every answer. The raw path is routed like the server does (query dropped, stage prefix,
      templated paths); the status, the body, the documented headers and `Allow` are checked.
    - `check(method, spec_path, status, body)`: a body against a documented path's response.
    - `check_schema(name, doc)`: a document against components/schemas/<name>.
    - `spec`: the parsed document, for tests that read it."""

    _lock = threading.Lock()
    _proc = None

    def __init__(self):
        import yaml  # python3-yaml

        with open(os.path.join(SOURCE_DIR, "docs", "openapi.yaml"), encoding="utf-8") as f:
            self.spec = yaml.safe_load(f)
        self.jsonschema = _AjvJsonSchema

    @classmethod
    def _call(cls, request):
        line = json.dumps(request) + "\n"
        with cls._lock:
            proc = cls._proc
            if proc is None or proc.poll() is not None:
                proc = cls._proc = cls._start()
            try:
                proc.stdin.write(line)
                proc.stdin.flush()
                answer = proc.stdout.readline()
            except (BrokenPipeError, OSError) as e:
                cls._proc = None
                raise RuntimeError("the OpenAPI checker (tests/openapi/serve.mjs) stopped: %s" % e) from e
            if not answer:
                cls._proc = None
                proc.wait(timeout=10)
                proc.errors.seek(0)
                raise RuntimeError("the OpenAPI checker (tests/openapi/serve.mjs) exited: " + proc.errors.read())
        reply = json.loads(answer)
        if "error" in reply:
            raise RuntimeError("the OpenAPI checker failed: " + reply["error"])
        return reply["problems"]

    @staticmethod
    def _start():
        here = os.path.join(SOURCE_DIR, "tests", "openapi")
        if not os.path.isdir(os.path.join(here, "node_modules", "ajv")):
            raise RuntimeError("tests/openapi/node_modules is missing: run scripts/install-deps test "
                               "(or tests/openapi/npm-install.sh)")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed: run scripts/install-deps test")
        # stderr into a file: a pipe nobody reads could fill up and stall the checker.
        errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        proc = subprocess.Popen([node, os.path.join(here, "serve.mjs"), os.path.join(SOURCE_DIR, "docs", "openapi.yaml")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                text=True, encoding="utf-8")
        proc.errors = errors
        ready = proc.stdout.readline()
        if not ready.startswith('{"ready":true'):
            proc.wait(timeout=10)
            errors.seek(0)
            raise RuntimeError("the OpenAPI checker did not start: " + ready + errors.read())
        atexit.register(OpenApi._stop, proc)
        return proc

    @staticmethod
    def _stop(proc):
        if proc.poll() is None:
            proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @staticmethod
    def _fail(problems, what, body):
        shown = json.dumps(body, ensure_ascii=False) if isinstance(body, (dict, list)) else repr(body)
        if len(shown) > 4000:
            shown = shown[:4000] + "…"
        raise AssertionError("%s does not match docs/openapi.yaml:\n  %s\nbody: %s" % (what, "\n  ".join(problems), shown))

    @classmethod
    def check_answer(cls, method, raw_path, status, headers, body):
        """Every answer: routed from the raw path, headers included."""
        headers = dict(headers or {})
        problems = cls._call({"op": "check", "method": method, "path": raw_path, "status": status,
                              "headers": headers, "body": body if body not in ("", None) else None,
                              "content_type": headers.get("content-type", "")})
        if problems:
            cls._fail(problems, "%s %s → %d" % (method, raw_path, status), body)

    def check(self, method, path, status, body):
        """A JSON body against the response documented for `path` (a path of the document, e.g.
        /subscriptions/{id}); headers are not checked here (Server.request already did)."""
        problems = self._call({"op": "check", "method": method, "template": path, "status": status,
                               "headers": None, "body": body, "content_type": "application/json"})
        if problems:
            self._fail(problems, "%s %s → %d" % (method, path, status), body)

    def check_schema(self, name, doc):
        problems = self._call({"op": "schema", "name": name, "doc": doc})
        if problems:
            self._fail(problems, "components/schemas/" + name, doc)


class _AjvJsonSchema:
    """`OpenApi().jsonschema`: what older tests used as the jsonschema module, now Ajv underneath
    (`Draft202012Validator(schema).validate(doc)` raises AssertionError on a mismatch)."""

    class Draft202012Validator:
        def __init__(self, schema):
            self.schema = schema

        def validate(self, doc):
            problems = OpenApi._call({"op": "validate", "schema": self.schema, "doc": doc})
            if problems:
                OpenApi._fail(problems, "a document", doc)
