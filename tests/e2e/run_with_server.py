"""Starts the real binary on a free port, then runs the browser tests of the tracking page
against it (tests/e2e/run.sh). Exit status: that of the browser tests."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Server  # noqa: E402


def main():
    server = Server().start()
    try:
        # The page's tests seed packages with POST: they send the harness's writer key (created
        # through the CLI in the server's database) as DINEX_API_TOKEN.
        env = dict(os.environ, DINEX_BASE_URL="http://127.0.0.1:%d" % server.port, DINEX_API_TOKEN=server.key)
        return subprocess.call([os.path.join(HERE, "run.sh")], env=env)
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
