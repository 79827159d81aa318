"""Durability: SIGKILL the server while many clients write; every event it acknowledged must be
there after a restart, and the database must be intact."""
import os
import signal
import sqlite3
import threading
import time
import unittest
import uuid

from harness import Server, wait_for


class CrashTest(unittest.TestCase):
    def test_no_acknowledged_event_is_lost_on_sigkill(self):
        server = Server().start()
        try:
            run = uuid.uuid4().hex[:8].upper()
            acked = []  # (tracking_id, event_id) answered 201
            lock = threading.Lock()
            stop = threading.Event()

            def writer(n):
                conn = server.connection(timeout=5)
                i = 0
                while not stop.is_set():
                    tid = "CRASH%s%02d%d" % (run, n, i % 7)
                    eid = "w%d-%d" % (n, i)
                    try:
                        st, _, _ = server.request("POST", "/tracking", {
                            "tracking_id": tid, "location": "Lima", "status": "IN_TRANSIT", "event_id": eid},
                            conn=conn)
                    except Exception:  # the server died under us: expected
                        break
                    if st == 201:
                        with lock:
                            acked.append((tid, eid))
                    i += 1
                conn.close()

            threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
            for t in threads:
                t.start()
            self.assertTrue(wait_for(lambda: len(acked) > 3000, timeout=60))
            time.sleep(0.2)
            server.signal(signal.SIGKILL)
            server.wait(10)
            stop.set()
            for t in threads:
                t.join()
            with lock:
                acknowledged = list(acked)
            self.assertGreater(len(acknowledged), 3000)

            db = os.path.join(server.data_dir, "tracking.db")
            again = Server(data_dir=server.data_dir).start()
            try:
                by_package = {}
                for tid, eid in acknowledged:
                    by_package.setdefault(tid, set()).add(eid)
                for tid, eids in by_package.items():
                    st, _, got = again.request("GET", "/tracking?tracking_id=" + tid)
                    self.assertEqual(st, 200, tid)
                    stored = {e["event_id"] for e in got["events"]}
                    self.assertTrue(eids <= stored, "lost: %s" % sorted(eids - stored)[:5])
                    self.assertEqual(got["event_count"], len(got["events"]))
            finally:
                again.stop()
            with sqlite3.connect(db) as c:
                self.assertEqual(c.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
