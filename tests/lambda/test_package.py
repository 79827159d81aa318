"""The deployment package as Lambda runs it: unzip build/lambda/deployment.zip into a temporary
directory, run `bootstrap --version`, then run bare `bootstrap` (no argument, as Lambda does)
against the Runtime API stand-in through the original requests under the /dev stage prefix.
Exits 77 (skipped) when no package was built; scripts/package-lambda builds it.
DINEX_LAMBDA_RUN_PREFIX runs bootstrap through an emulator: the arm64 package is tested with
"qemu-aarch64-static" (scripts/test-arm64), its loader and libc being Debian's multiarch
libc6:arm64 at the paths the ELF names (/lib/ld-linux-aarch64.so.1)."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import zipfile

from lambda_harness import LambdaProcess

PREFIX = os.environ.get("DINEX_LAMBDA_RUN_PREFIX", "").split()
ZIP = os.environ.get("DINEX_LAMBDA_ZIP", os.path.join(os.path.dirname(__file__), "..", "..", "build", "lambda",
                                                     "deployment.zip"))


def function(bootstrap, env):
    """The bootstrap against a fresh Runtime API stand-in, through PREFIX when one is set."""
    if PREFIX:
        return LambdaProcess(env=env, args=(*PREFIX[1:], bootstrap), binary=PREFIX[0], clear_env=True)
    return LambdaProcess(env=env, args=(), binary=bootstrap, clear_env=True)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="dinex-pkg-")
        with zipfile.ZipFile(ZIP) as z:
            cls.names = z.namelist()
            z.extractall(cls.dir)
            mode = (z.getinfo("bootstrap").external_attr >> 16) & 0o777
        cls.zip_mode = mode
        cls.bootstrap = os.path.join(cls.dir, "bootstrap")
        os.chmod(cls.bootstrap, os.stat(cls.bootstrap).st_mode | mode)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_layout_and_size(self):
        self.assertEqual(self.names, ["bootstrap"])
        self.assertTrue(self.zip_mode & stat.S_IXUSR, oct(self.zip_mode))
        self.assertLessEqual(os.path.getsize(ZIP), 3 * 1024 * 1024)
        with open(self.bootstrap, "rb") as f:
            self.assertEqual(f.read(4), b"\x7fELF")  # the native executable, not a script

    def test_commands_that_need_no_runtime_api(self):
        # The parts of the binary that run without the Runtime API: CLI, the table definition.
        out = subprocess.run([*PREFIX, self.bootstrap, "create-table", "--print-definition", "--table", "t"],
                             capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('"TableName"', out.stdout)

    def test_version(self):
        out = subprocess.run([*PREFIX, self.bootstrap, "--version"], capture_output=True, text=True, timeout=10,
                             env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("dinex-tracking "), out.stdout)

    def test_original_requests_through_the_runtime_api(self):
        # The package has no SQLite (a Lambda keeps no local disk); DynamoDB is tested on moto in
        # test_package_dynamodb.py, the memory store keeps this test free of any service.
        fn = function(self.bootstrap, {"DINEX_STORE": "memory"}).start()
        try:
            st, _, body, _ = fn.http("GET", "/health")
            self.assertEqual((st, body["status"], body["store"]), (200, "healthy", "memory"))
            st, _, body, _ = fn.http("POST", "/tracking",
                                     body={"tracking_id": "TRK001", "location": "Lima", "status": "IN_TRANSIT"})
            self.assertEqual(st, 201, body)
            self.assertEqual(body["tracking_id"], "TRK001")
            st, _, body, _ = fn.http("GET", "/tracking", query="tracking_id=TRK001")
            self.assertEqual((st, body["status"], body["location"]), (200, "IN_TRANSIT", "Lima"))
            res = fn.invoke(b"{not an event")
            self.assertEqual(res.json()["errorType"], "InvalidEvent")
            st, _, body, _ = fn.http("POST", "/tracking", body={"tracking_id": "TRK001", "location": "",
                                                                "status": "IN_TRANSIT"})
            self.assertEqual(st, 422, body)
        finally:
            fn.stop()

    def test_the_package_says_it_has_no_sqlite(self):
        fn = function(self.bootstrap, {"DINEX_STORE": "sqlite"})
        fn.start()
        try:
            err = fn.standin.init_error(timeout=10)
            self.assertIsNotNone(err)
            self.assertIn("no SQLite", err.json()["errorMessage"])
        finally:
            fn.stop()


if __name__ == "__main__":
    if not os.path.exists(ZIP):
        print("no package at %s: run scripts/package-lambda (skipped)" % ZIP)
        sys.exit(77)
    unittest.main()
