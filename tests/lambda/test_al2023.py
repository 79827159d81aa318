"""The deployment package in a root laid out like AWS Lambda's provided.al2023, over HTTPS.

Every other test runs the bootstrap on Debian's file system or against http:// endpoints, where a
package that looks for CA certificates only under Debian's /usr/lib/ssl works. AWS runs it on
Amazon Linux 2023: glibc in /lib64, the CA bundle at /etc/pki/tls/certs/ca-bundle.crt and
/etc/pki/tls/cert.pem (both links to /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem), no
/usr/lib/ssl and no /etc/ssl. This test builds such a root (chroot, as root): the unzipped
bootstrap in /var/task, only the libraries `ldd` names, in /usr/lib64 with /lib64 a link to it
and an ld.so.cache, an /etc/hosts that names the endpoints. DynamoDB and SNS are moto behind a TLS
endpoint whose certificate a CA made for this run signs, for host names (not addresses); the
Runtime API stand-in listens on loopback.

  - the trusted CA in the Amazon Linux bundle: health 200, POST 201, GET 200, and a DynamoDB
    stream batch published to SNS (delivered to an SQS queue subscribed to the topic);
  - a bundle of another CA at the same paths: every store call answers 503, the TLS cause is in
    the log and never in the answer, and the stream batch reports its records as failed;
  - no bundle at all: the init fails with Runtime.InvalidConfiguration naming the paths tried.

Runs with the moto interpreter (boto3). Needs root and chroot(8): without them it exits 77
(skipped) and says so on stderr; CI runs as root. Exits 77 too when no package was built."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

ZIP = os.environ.get("DINEX_LAMBDA_ZIP", os.path.join(HERE, "..", "..", "build", "lambda", "deployment.zip"))
REGION = "us-east-1"
DYNAMODB_HOST = "dynamodb.us-east-1.al2023.test"
SNS_HOST = "sns.us-east-1.al2023.test"
AMAZON_BUNDLE = "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
AMAZON_LINKS = ("etc/pki/tls/certs/ca-bundle.crt", "etc/pki/tls/cert.pem")
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # public CAs, so the bundle is the usual size


def skip_loudly(why):
    banner = "=" * 78
    sys.stderr.write("%s\nSKIPPED: the provided.al2023 chroot test did not run: %s\n%s\n" % (banner, why, banner))
    sys.exit(77)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", name + ".key", "-out", name + ".pem", "-days", "1", "-subj", "/CN=dinex %s" % name,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return os.path.join(d, name + ".pem")


def make_server_certificate(d, ca, hosts):
    san = ",".join("DNS:" + h for h in hosts)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=" + hosts[0], cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                "extendedKeyUsage=serverAuth\n" % san)
    openssl("x509", "-req", "-in", "server.csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
            "-days", "1", "-out", "server.pem", "-extfile", "server.ext", cwd=d)
    return os.path.join(d, "server.pem"), os.path.join(d, "server.key")


class TlsProxy:
    """TLS on a loopback port, relayed byte for byte to moto's plain HTTP port."""

    def __init__(self, cert, key, backend_port):
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshake_failures = 0
        self.stopping = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.stopping:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(raw,), daemon=True).start()

    def serve(self, raw):
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshake_failures += 1
            raw.close()
            return
        backend = socket.create_connection(("127.0.0.1", self.backend_port))

        def pump(src, dst):
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pump, args=(backend, conn), daemon=True)
        back.start()
        pump(conn, backend)
        back.join(timeout=5)
        conn.close()
        backend.close()

    def stop(self):
        self.stopping = True
        self.listener.close()


def start_moto(log_path):
    """moto_server without signature checks: SigV4 is proven elsewhere (test_package_dynamodb.py);
    here the subject is TLS."""
    import moto_fixture as mf
    return mf.launch(log_path)


def needed_libraries(binary):
    """Host paths of what the dynamic loader maps for `binary` (ldd), the loader included."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            paths.append(parts[2])
        elif parts and parts[0].startswith("/"):
            paths.append(parts[0])  # the loader
    return paths


def build_root(root, bootstrap, bundle_text):
    """A provided.al2023-shaped root; bundle_text None leaves out every CA certificate."""
    os.makedirs(os.path.join(root, "var", "task"))
    shutil.copy2(bootstrap, os.path.join(root, "var", "task", "bootstrap"))
    lib64 = os.path.join(root, "usr", "lib64")
    os.makedirs(lib64)
    os.symlink("usr/lib64", os.path.join(root, "lib64"))
    for path in needed_libraries(bootstrap):
        shutil.copy2(os.path.realpath(path), os.path.join(lib64, os.path.basename(path)))
    etc = os.path.join(root, "etc")
    os.makedirs(etc)
    with open(os.path.join(etc, "ld.so.conf"), "w") as f:
        f.write("/usr/lib64\n")
    subprocess.run(["ldconfig", "-r", root], check=True, capture_output=True)
    with open(os.path.join(etc, "hosts"), "w") as f:
        f.write("127.0.0.1 localhost %s %s\n" % (DYNAMODB_HOST, SNS_HOST))
    with open(os.path.join(etc, "nsswitch.conf"), "w") as f:
        f.write("hosts: files dns\n")
    os.makedirs(os.path.join(root, "tmp"))
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    if bundle_text is not None:
        bundle = os.path.join(root, AMAZON_BUNDLE)
        os.makedirs(os.path.dirname(bundle))
        with open(bundle, "w") as f:
            f.write(bundle_text)
        for link in AMAZON_LINKS:
            target = os.path.join(root, link)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(os.path.relpath(bundle, os.path.dirname(target)), target)
    for debian_only in ("usr/lib/ssl", "etc/ssl"):
        assert not os.path.exists(os.path.join(root, debian_only)), debian_only
    return root


@unittest.skipUnless(os.path.exists(ZIP), "no package")
class Al2023Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import boto3
        import moto_fixture as mf
        cls.mf = mf
        cls.dir = tempfile.mkdtemp(prefix="dinex-al2023-")
        with zipfile.ZipFile(ZIP) as z:
            z.extractall(os.path.join(cls.dir, "unzipped"))
        cls.bootstrap = os.path.join(cls.dir, "unzipped", "bootstrap")
        os.chmod(cls.bootstrap, 0o755)

        certs = os.path.join(cls.dir, "certs")
        os.makedirs(certs)
        trusted = make_ca(certs, "trusted-ca")
        other = make_ca(certs, "other-ca")
        cert, key = make_server_certificate(certs, os.path.join(certs, "trusted-ca"), [DYNAMODB_HOST, SNS_HOST])
        with open(SYSTEM_BUNDLE) as f:
            public = f.read()
        with open(trusted) as f:
            cls.trusted_bundle = public + f.read()
        with open(other) as f:
            cls.other_bundle = public + f.read()

        cls.moto, moto_port = start_moto(os.path.join(cls.dir, "moto.log"))
        cls.proxy = TlsProxy(cert, key, moto_port)
        plain = "http://127.0.0.1:%d" % moto_port
        kw = dict(endpoint_url=plain, region_name=REGION, aws_access_key_id="AKIDAL2023TEST",
                  aws_secret_access_key="secret")
        cls.ddb = boto3.client("dynamodb", **kw)
        cls.streams = boto3.client("dynamodbstreams", **kw)
        cls.sns = boto3.client("sns", **kw)
        cls.sqs = boto3.client("sqs", **kw)
        cls.table = "dinex-al2023-" + uuid.uuid4().hex[:8]
        cls.topic = cls.sns.create_topic(Name="dinex-al2023-" + uuid.uuid4().hex[:8])["TopicArn"]
        cls.queue = cls.sqs.create_queue(QueueName="dinex-al2023-" + uuid.uuid4().hex[:8])["QueueUrl"]
        queue_arn = cls.sqs.get_queue_attributes(QueueUrl=cls.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        cls.sns.subscribe(TopicArn=cls.topic, Protocol="sqs", Endpoint=queue_arn)
        cls.env = {
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime", "_HANDLER": "bootstrap",
            "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023", "AWS_LAMBDA_FUNCTION_NAME": "dinex-tracking-dev",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "AKIDAL2023TEST", "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_ENDPOINT_URL_DYNAMODB": "https://%s:%d" % (DYNAMODB_HOST, cls.proxy.port),
            "AWS_ENDPOINT_URL_SNS": "https://%s:%d" % (SNS_HOST, cls.proxy.port),
            "TABLE_NAME": cls.table, "SNS_TOPIC": cls.topic, "ENVIRONMENT": "dev",
            # The production configuration: per-client limits on, their counters in DynamoDB.
            "DINEX_RATE_LIMIT": "", "DINEX_RATE_LIMITER": "dynamodb",
        }
        cls.seen_sequence = set()
        cls.delivered_records = []

    @classmethod
    def tearDownClass(cls):
        cls.proxy.stop()
        cls.mf.kill_group(cls.moto.pid)
        shutil.rmtree(cls.dir, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------------
    def root(self, name, bundle_text):
        return build_root(os.path.join(self.dir, name), self.bootstrap, bundle_text)

    def function(self, root):
        from lambda_harness import LambdaProcess
        return LambdaProcess(env=self.env, args=(root, "/var/task/bootstrap"), binary=shutil.which("chroot"),
                             clear_env=True).start()

    def in_root(self, root, *args):
        return subprocess.run([shutil.which("chroot"), root, "/var/task/bootstrap", *args], env=self.env,
                              capture_output=True, text=True, timeout=60)

    def new_stream_records(self):
        from lambda_harness import stream_records
        arn = self.ddb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        return stream_records(self.streams, arn, REGION, self.seen_sequence)

    def queued_messages(self, count, timeout=10):
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            page = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in page.get("Messages", []):
                got.append(json.loads(json.loads(m["Body"])["Message"]))
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])
        return got

    @staticmethod
    def server_errors(fn):
        return [r for r in fn.log_records() if r.get("msg") == "server error"]

    # --- tests -----------------------------------------------------------------------------------
    def test_1_the_amazon_linux_bundle_is_trusted(self):
        root = self.root("trusted", self.trusted_bundle)
        made = self.in_root(root, "create-table", "--table", self.table, "--wait")
        self.assertEqual(made.returncode, 0, made.stdout + made.stderr)

        fn = self.function(root)
        try:
            st, _, body, _ = fn.http("GET", "/health")
            self.assertEqual((st, body.get("status") if isinstance(body, dict) else body), (200, "healthy"),
                             fn.lines + [fn.proc.stderr.read1().decode() if fn.proc.poll() is not None else ""])
            tracking_id = "AL" + uuid.uuid4().hex[:10].upper()
            st, _, body, _ = fn.http("POST", "/tracking", body={"tracking_id": tracking_id, "location": "Lima",
                                                                "status": "IN_TRANSIT"})
            self.assertEqual(st, 201, body)
            st, _, body, _ = fn.http("GET", "/tracking", query="tracking_id=" + tracking_id)
            self.assertEqual((st, body["status"], body["location"]), (200, "IN_TRANSIT", "Lima"), body)

            # The table's stream as Lambda delivers it, published to SNS over TLS too.
            records = self.new_stream_records()
            self.assertTrue(records)
            type(self).delivered_records = records
            res = fn.invoke({"Records": records}, timeout=30)
            self.assertEqual(res.kind, "response", res)
            self.assertEqual(res.json(), {"batchItemFailures": []}, fn.lines)
            messages = self.queued_messages(1)
            self.assertEqual([(m["tracking_id"], m["status"]) for m in messages], [(tracking_id, "IN_TRANSIT")],
                             messages)
            self.assertEqual(self.server_errors(fn), [])
        finally:
            fn.stop()

    def test_2_a_bundle_of_another_ca_fails_every_store_call(self):
        root = self.root("other-ca", self.other_bundle)
        fn = self.function(root)
        try:
            answers = [fn.http("GET", "/health"),
                       fn.http("POST", "/tracking", body={"tracking_id": "ALOTHER1", "location": "Lima",
                                                          "status": "IN_TRANSIT"}),
                       fn.http("GET", "/tracking", query="tracking_id=ALOTHER1")]
            for st, _, body, raw in answers:
                self.assertEqual(st, 503, body)
                for secret in ("certificate", "TLS", "handshake", DYNAMODB_HOST, "al2023"):
                    self.assertNotIn(secret, raw["body"], raw)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and len(self.server_errors(fn)) < 3:
                time.sleep(0.05)
            errors = self.server_errors(fn)
            self.assertEqual(len(errors), 3, fn.lines)
            for e in errors:
                self.assertEqual(e["status"], 503, e)
                self.assertIn("certificate verify failed", e["cause"], e)
                self.assertIn(DYNAMODB_HOST, e["cause"], e)
            self.assertGreater(self.proxy.handshake_failures, 0)

            # The notifier: a stream batch cannot be published, so its records are reported failed
            # (Lambda retries them) and the log says why.
            # (The batch test 1 published, delivered again as Lambda's retries do.)
            self.assertTrue(self.delivered_records, "test 1 must run first")
            res = fn.invoke({"Records": self.delivered_records}, timeout=60)
            self.assertEqual(res.kind, "response", res)
            self.assertTrue(res.json()["batchItemFailures"], res.json())
            failed = [r for r in fn.log_records() if r.get("msg") == "notification publish failed"]
            self.assertTrue(failed, fn.lines)
            self.assertIn("certificate verify failed", failed[0]["error"], failed[0])
        finally:
            fn.stop()

    def test_3_no_trust_store_is_an_init_error(self):
        root = self.root("no-ca", None)
        fn = self.function(root)
        try:
            res = fn.standin.init_error(timeout=15)
            self.assertIsNotNone(res, fn.lines)
            err = res.json()
            self.assertEqual(err["errorType"], "Runtime.InvalidConfiguration", err)
            for path in ("/etc/pki/tls/certs/ca-bundle.crt", "/etc/pki/tls/cert.pem", "/etc/ssl/certs/ca-certificates.crt"):
                self.assertIn(path, err["errorMessage"], err)
            self.assertEqual(fn.wait(timeout=15), 1)
        finally:
            fn.stop()


if __name__ == "__main__":
    if not os.path.exists(ZIP):
        skip_loudly("no package at %s (scripts/package-lambda builds it)" % ZIP)
    if os.geteuid() != 0:
        skip_loudly("it must run as root (chroot(2) needs CAP_SYS_CHROOT); CI runs it as root")
    if not shutil.which("chroot") or not shutil.which("ldconfig"):
        skip_loudly("chroot(8) or ldconfig(8) is not on PATH")
    unittest.main()
