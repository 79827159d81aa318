"""Starts the real dinex-tracking binary on a free port and speaks HTTP to it.

Used by the integration tests; needs only the Python standard library, plus python3-yaml and
python3-jsonschema for checking responses against docs/openapi.yaml.
"""
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

    def request(self, method, path, body=None, headers=None, conn=None, key="default"):
        """Returns (status, headers dict lower-cased, parsed JSON or raw text)."""
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


class OpenApi:
    """Validates real responses against the schemas in docs/openapi.yaml."""

    def __init__(self):
        import yaml  # python3-yaml
        import jsonschema  # python3-jsonschema

        with open(os.path.join(SOURCE_DIR, "docs", "openapi.yaml"), encoding="utf-8") as f:
            self.spec = yaml.safe_load(f)
        self.jsonschema = jsonschema

    def _resolve(self, node):
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/components/"):
            parts = node["$ref"][2:].split("/")
            node = self.spec
            for p in parts:
                node = node[p]
        return node

    def schema_for(self, method, path, status):
        op = self.spec["paths"][path][method.lower()]
        responses = op["responses"]
        resp = responses.get(str(status)) or responses.get("%dXX" % (status // 100)) or responses.get("default")
        if resp is None:
            raise AssertionError("openapi.yaml documents no %d for %s %s" % (status, method, path))
        resp = self._resolve(resp)
        content = resp.get("content", {})
        media = content.get("application/json")
        return None if media is None else media.get("schema")

    def check(self, method, path, status, body):
        schema = self.schema_for(method, path, status)
        if schema is None:
            return
        wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "components": self.spec["components"], **schema}
        validator_cls = getattr(self.jsonschema, "Draft202012Validator")
        validator_cls(wrapped).validate(body)
