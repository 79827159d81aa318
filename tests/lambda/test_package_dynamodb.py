"""The deployment package on DynamoDB, with the credentials a real Lambda has.

Unzips build/lambda/deployment.zip, starts a private moto_server with SigV4 checking, gives the
function an IAM role and runs it with that role's *temporary* credentials (AccessKeyId ASIA…,
secret, AWS_SESSION_TOKEN from STS AssumeRole), as Lambda does, plus the other variables Lambda
sets (AWS_LAMBDA_FUNCTION_NAME, AWS_EXECUTION_ENV, …). Runs `bootstrap create-table --wait`, then bare
`bootstrap` against the Runtime API stand-in through the original requests under /dev, and reads
the items back from moto.

moto here is private (not the shared `moto` fixture): with INITIAL_NO_AUTH_ACTION_COUNT=5 the five
unauthenticated calls create a user with a key allowed sts:AssumeRole, and a role allowed
dynamodb:*; every later call must be signed, and moto checks the session token of assumed-role
keys (a wrong token is refused: checked below). Run with the interpreter that has moto and boto3
(DINEX_MOTO_PYTHON). Exits 77 (skipped) only when no package was built."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

ZIP = os.environ.get("DINEX_LAMBDA_ZIP", os.path.join(HERE, "..", "..", "build", "lambda", "deployment.zip"))
REGION = "us-east-1"
FUNCTION = "dinex-tracking-dev"
ORIGINAL = {"tracking_id": "TRK001", "location": "Lima", "status": "IN_TRANSIT"}
# A writer API key configured by hash (role:id:sha256hex): POST needs a writer key.
WRITER_KEY = "dnx_packagetests_" + "b" * 52
WRITER = {"x-api-key": WRITER_KEY}


def start_private_moto(log_path):
    """moto_server with 5 unauthenticated calls (for provision), then signatures checked."""
    import moto_fixture as mf
    return mf.launch(log_path, no_auth_calls=5)


def provision(endpoint):
    """Spends the five unauthenticated calls; returns the role's temporary credentials."""
    import boto3
    boot = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bootstrap",
                aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **boot)
    user = iam.create_user(UserName="deployer")["User"]
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    iam.put_user_policy(UserName="deployer", PolicyName="assume", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    # In AWS the trusted principal is the service lambda.amazonaws.com; moto only evaluates AWS
    # principals, so the deployer user stands in for the Lambda service here.
    role = iam.create_role(RoleName="dinex-tracking-lambda", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]},
                                                  "Action": "sts:AssumeRole"}]}))["Role"]
    iam.put_role_policy(RoleName="dinex-tracking-lambda", PolicyName="dynamodb", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}))
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                       aws_secret_access_key=key["SecretAccessKey"])
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=FUNCTION)["Credentials"]
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]


@unittest.skipUnless(os.path.exists(ZIP), "no package")
class PackageOnDynamoDbTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import moto_fixture as mf
        cls.mf = mf
        cls.dir = tempfile.mkdtemp(prefix="dinex-pkg-ddb-")
        with zipfile.ZipFile(ZIP) as z:
            z.extractall(cls.dir)
            mode = (z.getinfo("bootstrap").external_attr >> 16) & 0o777
        cls.bootstrap = os.path.join(cls.dir, "bootstrap")
        os.chmod(cls.bootstrap, os.stat(cls.bootstrap).st_mode | mode)
        cls.proc, port = start_private_moto(os.path.join(cls.dir, "moto.log"))
        cls.endpoint = "http://127.0.0.1:%d" % port
        try:
            cls.key_id, cls.secret, cls.token = provision(cls.endpoint)
        except Exception:
            mf.kill_group(cls.proc.pid)
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise
        cls.table = "dinex-tracking-it-" + uuid.uuid4().hex[:8]
        # What Lambda puts in a provided.al2023 function's environment (TABLE_NAME and ENVIRONMENT
        # are the function's own variables, set by Terraform).
        cls.env = {
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LANG": "en_US.UTF-8", "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": cls.dir, "LAMBDA_RUNTIME_DIR": "/var/runtime", "_HANDLER": "bootstrap",
            "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + FUNCTION,
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/29/[$LATEST]0123456789abcdef",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": cls.key_id, "AWS_SECRET_ACCESS_KEY": cls.secret,
            "AWS_SESSION_TOKEN": cls.token,
            "AWS_ENDPOINT_URL_DYNAMODB": cls.endpoint,
            "TABLE_NAME": cls.table, "ENVIRONMENT": "dev",
            "DINEX_API_KEY_HASHES": "writer:packagetests:" + hashlib.sha256(WRITER_KEY.encode()).hexdigest(),
        }

    @classmethod
    def tearDownClass(cls):
        cls.mf.kill_group(cls.proc.pid)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def dynamodb(self, token=None):
        import boto3
        return boto3.client("dynamodb", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=self.key_id, aws_secret_access_key=self.secret,
                            aws_session_token=token or self.token)

    def test_a_session_token_is_really_checked(self):
        self.assertTrue(self.key_id.startswith("ASIA"), self.key_id)  # temporary credentials
        from botocore.exceptions import ClientError
        with self.assertRaises(ClientError) as ctx:
            self.dynamodb(token="not-the-token").list_tables()
        # moto answers 403 (its DynamoDB error body carries no code), as AWS does for a bad token.
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403, ctx.exception.response)
        self.dynamodb().list_tables()  # and the right token is accepted

    def test_b_create_table_then_the_original_requests(self):
        from lambda_harness import LambdaProcess
        out = subprocess.run([self.bootstrap, "create-table", "--table", self.table, "--wait"],
                             capture_output=True, text=True, timeout=60, env=self.env)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

        fn = LambdaProcess(env=self.env, args=(), binary=self.bootstrap, clear_env=True).start()
        try:
            st, _, body, _ = fn.http("GET", "/health")
            self.assertEqual((st, body["status"], body["store"]), (200, "healthy", "dynamodb"), body)

            st, _, body, _ = fn.http("POST", "/tracking", body=ORIGINAL, headers=WRITER)
            self.assertEqual(st, 201, body)
            self.assertEqual((body["tracking_id"], body["location"], body["status"]), ("TRK001", "Lima", "IN_TRANSIT"))

            st, _, body, _ = fn.http("GET", "/tracking", query="tracking_id=TRK001")
            self.assertEqual(st, 200, body)
            self.assertEqual((body["tracking_id"], body["status"], body["location"]), ("TRK001", "IN_TRANSIT", "Lima"))
            self.assertEqual(len(body["events"]), 1, body)
            self.assertEqual((body["events"][0]["status"], body["events"][0]["location"]), ("IN_TRANSIT", "Lima"))

            # Idempotent replay: the same event_id (and content) twice. Later events carry explicit
            # times after the first one's receive time (at most 5 minutes ahead is accepted).
            now = int(time.time())
            event = {"tracking_id": "TRK001", "location": "Cusco", "status": "OUT_FOR_DELIVERY",
                     "event_id": "pkg-evt-1", "timestamp": now + 60}
            st, _, first, _ = fn.http("POST", "/tracking", body=event, headers=WRITER)
            self.assertEqual(st, 201, first)
            st, _, replay, _ = fn.http("POST", "/tracking", body=event, headers=WRITER)
            self.assertEqual(st, 200, replay)
            self.assertTrue(replay["replayed"])
            self.assertEqual(replay["event"]["event_id"], first["event"]["event_id"])

            # Terminal status, then a newer event: 409.
            st, _, body, _ = fn.http("POST", "/tracking", body={"tracking_id": "TRK001", "location": "Cusco",
                                                                "status": "DELIVERED", "timestamp": now + 120},
                                     headers=WRITER)
            self.assertEqual(st, 201, body)
            st, _, body, _ = fn.http("POST", "/tracking", body={"tracking_id": "TRK001", "location": "Lima",
                                                                "status": "IN_TRANSIT", "timestamp": now + 180},
                                     headers=WRITER)
            self.assertEqual(st, 409, body)
            self.assertEqual(body["code"], "conflict")

            st, _, body, _ = fn.http("GET", "/tracking", query="tracking_id=TRK001")
            self.assertEqual((st, body["status"], len(body["events"])), (200, "DELIVERED", 3), body)

            # The EMF lines: one per request, no server error; accepted events by status.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and len(self.emf(fn, "Requests")) < 8:
                time.sleep(0.05)
            requests = self.emf(fn, "Requests")
            self.assertEqual(len(requests), 8, fn.lines)
            self.assertEqual(sum(r.get("ServerErrors", 0) for r in requests), 0)
            self.assertEqual(sum(r.get("ClientErrors", 0) for r in requests), 1)
            events = self.emf(fn, "TrackingEvents")
            self.assertEqual(sorted(e["Status"] for e in events), ["DELIVERED", "IN_TRANSIT", "OUT_FOR_DELIVERY"])
            self.assertTrue(all(e["Environment"] == "dev" for e in requests + events))
        finally:
            fn.stop()

        # What the function wrote is in the table moto holds, under the role's credentials.
        items = self.dynamodb().query(TableName=self.table, KeyConditionExpression="tracking_id = :t",
                                      ExpressionAttributeValues={":t": {"S": "TRK001"}})["Items"]
        sks = sorted(i["sk"]["S"].split("#")[0] for i in items)
        self.assertEqual(sks.count("STATE"), 1, sks)
        self.assertEqual(sks.count("EVENT"), 3, sks)
        state = next(i for i in items if i["sk"]["S"] == "STATE")
        self.assertEqual(state["status"]["S"], "DELIVERED")

    @staticmethod
    def emf(fn, metric):
        return [r for r in fn.log_records() if "_aws" in r and metric in r]


if __name__ == "__main__":
    if not os.path.exists(ZIP):
        print("no package at %s: run scripts/package-lambda (skipped)" % ZIP)
        sys.exit(77)
    unittest.main()
