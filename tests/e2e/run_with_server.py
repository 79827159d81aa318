"""Starts the real binary on a free port, then runs one browser test file against it
(tests/e2e/run.sh FILE; the tracking page's by default). Exit status: that of the browser tests."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Server, create_key  # noqa: E402


def main():
    tests = sys.argv[1] if len(sys.argv) > 1 else "tracking_page.test.mjs"
    server = Server().start()
    try:
        # The tests seed packages with POST: they send the harness's writer key (created through
        # the CLI in the server's database) as DINEX_API_TOKEN; the staff app's dispatcher signs
        # in with a reader key made the same way.
        env = dict(os.environ, DINEX_BASE_URL="http://127.0.0.1:%d" % server.port, DINEX_API_TOKEN=server.key,
                   DINEX_READER_TOKEN=create_key(server.db_path(), role="reader", name="e2e dispatcher"))
        return subprocess.call([os.path.join(HERE, "run.sh"), tests], env=env)
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
