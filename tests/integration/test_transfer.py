"""`dinex-tracking import` and `export` on SQLite: bad rows reported with their line and reasons,
exit codes, stdin, and the round trip export -> import into a fresh store -> export."""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BINARY


def iso(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(*args, stdin=None, env=None):
    p = subprocess.run([BINARY, *args], input=stdin, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout, p.stderr


class TransferTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dinex-transfer-")
        self.t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w", encoding="utf-8") as f:
            f.write(text)
        return self.path(name)

    def export(self, data_dir):
        code, out, err = run("export", "--data-dir", data_dir)
        self.assertEqual(code, 0, err)
        self.assertIn("exported", err)
        return out

    def test_csv_with_bad_rows_reports_each_with_its_line_and_reasons(self):
        t, eta = iso(self.t), iso(self.t + datetime.timedelta(days=2))
        csv = self.write("events.csv", "\n".join([
            "tracking_id,status,location,timestamp,event_id,description,estimated_delivery,latitude,longitude,notes",
            'TRK500,PICKED_UP,Lima,%s,e1,"Recogido, en tienda",%s,-12.04,-77.04,"two\nlines"' % (t, eta),
            "TRK500,IN_TRANSIT,Ica,,e2,,,,,",
            "TRK501,LOST,Lima,,,,,,,",                      # line 5: unknown status
            "TRK502,IN_TRANSIT,Lima,yesterday,,,,,,",       # line 6: timestamp format
            "TRK503,IN_TRANSIT,Lima,,,,,,1,",               # line 7: longitude without latitude
            "TRK500,PICKED_UP,Lima,%s,e1,,,,," % t,         # line 8: e1 reused for other content
            "TRK504,IN_TRANSIT,Lima",                       # line 9: too few cells
            "",
        ]))
        data = self.path("d1")
        code, out, err = run("import", "--data-dir", data, csv)
        self.assertEqual(code, 1, out + err)
        self.assertIn("7 rows: 2 created, 0 late arrivals, 0 replays, 5 rejected", out)
        self.assertIn("line 5: status (one_of:", out)
        self.assertIn("line 6: timestamp (format:rfc3339)", out)
        self.assertIn("line 7: latitude (required_with:longitude)", out)
        self.assertIn("line 8: event_id (idempotency_key_reused)", out)
        self.assertIn("line 9: row (columns:10)", out)
        # Not a terminal here: plain progress lines, no carriage returns.
        self.assertIn("import: 100% 7 rows", err)
        self.assertNotIn("\r", err)
        # The same file again: the good rows are replays, and --allow-rejects makes it exit 0.
        code, out, err = run("import", "--data-dir", data, "--allow-rejects", csv)
        self.assertEqual(code, 0, out + err)
        self.assertIn("0 created, 0 late arrivals, 2 replays, 5 rejected", out)
        lines = [json.loads(x) for x in self.export(data).splitlines()]
        self.assertEqual([x["event_id"] for x in lines], ["e1", "e2"])  # in the order they arrived
        self.assertEqual(lines[0]["notes"], "two\nlines")
        self.assertEqual(lines[0]["description"], "Recogido, en tienda")
        self.assertEqual(lines[0]["estimated_delivery"], eta.replace("Z", ".000Z"))

    def test_round_trip_is_exact(self):
        events = []
        for p in range(30):
            tid = "TRK6%02d" % p
            for i in range(4):
                ev = {"tracking_id": tid, "location": "Hub %d" % i, "status": ["PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY",
                                                                              "DELIVERED"][i],
                      "event_id": "%s-%d" % (tid, i), "timestamp": iso(self.t + datetime.timedelta(minutes=i))}
                if i == 1:
                    ev.update(latitude=-12.0464 + p / 1000, longitude=-77.0428, notes="nota ñ", description="Hub scan")
                if i == 2 and p % 2:
                    ev["estimated_delivery"] = iso(self.t + datetime.timedelta(days=1))
                events.append(ev)
        # A terminal event that arrived late behind a newer one: the export order must still
        # rebuild this package exactly.
        events.append({"tracking_id": "TRK699", "location": "Lima", "status": "IN_TRANSIT", "event_id": "b",
                       "timestamp": iso(self.t + datetime.timedelta(minutes=9))})
        events.append({"tracking_id": "TRK699", "location": "Lima", "status": "DELIVERED", "event_id": "a",
                       "timestamp": iso(self.t + datetime.timedelta(minutes=5))})
        source = self.write("events.jsonl", "\n".join(json.dumps(e) for e in events) + "\n")
        first_dir, second_dir = self.path("first"), self.path("second")
        code, out, err = run("import", "--data-dir", first_dir, "--batch-size", "7", source)
        self.assertEqual(code, 0, out + err)
        self.assertIn("%d rows: " % len(events), out)
        first = self.export(first_dir)
        self.assertEqual(len(first.splitlines()), len(events))
        # Into a fresh store through stdin, then out again: the same bytes.
        code, out, err = run("import", "--data-dir", second_dir, "--format", "jsonl", "-", stdin=first)
        self.assertEqual(code, 0, out + err)
        self.assertIn("0 rejected", out)
        self.assertEqual(self.export(second_dir), first)

    def test_rows_without_timestamps_apply_in_file_order(self):
        # A scanner's file without times: the order of the lines is the order of the scans
        # (issue #16: it used to be the order of the generated ids, and DELIVERED came out late).
        csv = self.write("scans.csv", "tracking_id,status,location\n"
                                      "TRK800,OUT_FOR_DELIVERY,Lima\nTRK800,DELIVERED,Lima\nTRK800,IN_TRANSIT,Lima\n")
        data = self.path("order")
        code, out, err = run("import", "--data-dir", data, csv)
        self.assertEqual(code, 1, out + err)  # the scan after DELIVERED is refused
        self.assertIn("3 rows: 2 created, 0 late arrivals, 0 replays, 1 rejected", out)
        self.assertIn("line 4: status (after_terminal_status)", out)
        self.assertIn("warning: 3 rows (the first on line 2) have neither event_id nor timestamp", out)
        lines = [json.loads(x) for x in self.export(data).splitlines()]
        self.assertEqual([x["status"] for x in lines], ["OUT_FOR_DELIVERY", "DELIVERED"])

    def test_running_an_import_again_adds_nothing(self):
        # No event_id, but a timestamp: the content is the key, so a re-run is all replays.
        t = self.t
        rows = ["tracking_id,status,location,timestamp,notes"]
        for i in range(12):
            rows.append("TRK81%d,IN_TRANSIT,Hub %d,%s,nota %d" % (i % 3, i, iso(t + datetime.timedelta(minutes=i)), i))
        rows.append("TRK810,IN_TRANSIT,Hub 0,%s,nota 0" % iso(t))  # a duplicate row in the file itself
        csv = self.write("timed.csv", "\n".join(rows) + "\n")
        data = self.path("again")
        code, out, err = run("import", "--data-dir", data, csv)
        self.assertEqual(code, 0, out + err)
        self.assertIn("13 rows: 12 created, 0 late arrivals, 1 replays, 0 rejected", out)
        self.assertNotIn("warning", out)
        before = self.export(data)
        code, out, err = run("import", "--data-dir", data, csv)
        self.assertEqual(code, 0, out + err)
        self.assertIn("13 rows: 0 created, 0 late arrivals, 13 replays, 0 rejected", out)
        self.assertEqual(self.export(data), before)
        # An interrupted import run again: only the rows it had not reached are stored.
        partial = self.write("partial.csv", "\n".join(rows[:6]) + "\n")
        fresh = self.path("resume")
        self.assertEqual(run("import", "--data-dir", fresh, partial)[0], 0)
        code, out, _ = run("import", "--data-dir", fresh, csv)
        self.assertIn("13 rows: 7 created, 0 late arrivals, 6 replays, 0 rejected", out)
        self.assertEqual(self.export(fresh), before)

    def test_reading_commands_never_create_a_database(self):
        missing = self.path("typo")
        for args in (["export", "--data-dir", missing], ["keys", "list", "--data-dir", missing],
                     ["keys", "revoke", "--data-dir", missing, "abcdefghijkl"]):
            code, out, err = run(*args)
            self.assertEqual(code, 1, args)
            self.assertIn("no database at " + os.path.join(missing, "tracking.db"), err)
            self.assertEqual(out, "")
            self.assertFalse(os.path.exists(missing), args)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv to act as another user")
    def test_a_read_only_copy_exports(self):
        source = self.write("one.jsonl", json.dumps({"tracking_id": "TRK820", "location": "Lima", "status": "PICKED_UP",
                                                     "event_id": "x1", "timestamp": iso(self.t)}) + "\n")
        data = self.path("live")
        self.assertEqual(run("import", "--data-dir", data, source)[0], 0)
        expected = self.export(data)
        # A copy another user can only read, in a folder it cannot write (no -wal, no -shm):
        # as a backup job sees a snapshot.
        snap = self.path("snapshot")
        os.mkdir(snap)
        shutil.copy(os.path.join(data, "tracking.db"), os.path.join(snap, "tracking.db"))
        os.chmod(os.path.join(snap, "tracking.db"), 0o444)
        os.chmod(snap, 0o555)
        os.chmod(self.dir, 0o755)
        try:
            as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BINARY]
            p = subprocess.run(as_nobody + ["export", "--data-dir", snap], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, expected)
            self.assertEqual(sorted(os.listdir(snap)), ["tracking.db"])  # nothing written beside it
        finally:
            os.chmod(snap, 0o755)

    def test_unusable_input_is_refused_before_anything_is_stored(self):
        data = self.path("d")
        bad_header = self.write("bad.csv", "tracking_id,status,place\nTRK1,IN_TRANSIT,Lima\n")
        code, _, err = run("import", "--data-dir", data, bad_header)
        self.assertEqual(code, 2)
        self.assertIn("unknown CSV column 'place'", err)
        missing = self.write("missing.csv", "tracking_id,status\nTRK1,IN_TRANSIT\n")
        code, _, err = run("import", "--data-dir", data, missing)
        self.assertEqual(code, 2)
        self.assertIn("no 'location' column", err)
        code, _, err = run("import", "--data-dir", data, self.write("events.txt", "{}\n"))
        self.assertEqual(code, 2)
        self.assertIn("--format", err)
        code, _, err = run("import", "--data-dir", data, self.path("nope.csv"))
        self.assertEqual(code, 2)
        # JSON Lines: a line that is not JSON is one rejected row, not the end of the import.
        jsonl = self.write("mixed.jsonl", '{"tracking_id":"TRK7","location":"Lima","status":"IN_TRANSIT"}\nnot json\n')
        code, out, _ = run("import", "--data-dir", data, jsonl)
        self.assertEqual(code, 1)
        self.assertIn("line 2: body (json)", out)
        self.assertIn("1 created", out)


@unittest.skipUnless(os.environ.get("DINEX_MOTO_STATE"), "needs moto (ctest fixture `moto`)")
class DynamoTransferTest(unittest.TestCase):
    """The same commands on the DynamoDB store (moto with signature checks): a migration from
    SQLite to DynamoDB and back loses nothing."""

    def setUp(self):
        with open(os.environ["DINEX_MOTO_STATE"], encoding="utf-8") as f:
            state = json.load(f)
        self.table = "transfer-" + os.path.basename(tempfile.mkdtemp(prefix="t"))[1:].lower()
        self.env = {"AWS_ENDPOINT_URL_DYNAMODB": state["endpoint"], "AWS_REGION": state["region"],
                    "AWS_ACCESS_KEY_ID": state["access_key_id"], "AWS_SECRET_ACCESS_KEY": state["secret_access_key"],
                    "TABLE_NAME": self.table}
        self.dir = tempfile.mkdtemp(prefix="dinex-transfer-ddb-")
        code, out, err = run("create-table", "--wait", env=self.env)
        self.assertEqual(code, 0, out + err)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_sqlite_to_dynamodb_and_back(self):
        t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=3)
        lines = []
        for p in range(12):
            for i in range(3):
                ev = {"tracking_id": "TRK8%02d" % p, "location": "Lima", "status": ["PICKED_UP", "IN_TRANSIT", "EXCEPTION"][i],
                      "event_id": "e%d" % i, "timestamp": iso(t + datetime.timedelta(minutes=10 * i))}
                if i == 1:
                    ev["estimated_delivery"] = iso(t + datetime.timedelta(days=2))
                lines.append(json.dumps(ev))
        lines.insert(5, '{"tracking_id":"TRK899","location":"Lima","status":"LOST"}')
        source = os.path.join(self.dir, "in.jsonl")
        with open(source, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        sqlite_dir = os.path.join(self.dir, "sqlite")
        code, out, err = run("import", "--data-dir", sqlite_dir, source)
        self.assertEqual(code, 1, out + err)
        self.assertIn("line 6: status (one_of:", out)
        code, from_sqlite, err = run("export", "--data-dir", sqlite_dir)
        self.assertEqual(code, 0, err)

        ddb = dict(self.env, DINEX_STORE="dynamodb")
        code, out, err = run("import", "--format", "jsonl", "-", stdin=from_sqlite, env=ddb)
        self.assertEqual(code, 0, out + err)
        # In arrival order, each event meets the state it met in SQLite: all newer, here.
        self.assertIn("36 rows: 36 created, 0 late arrivals, 0 replays, 0 rejected", out)
        code, from_ddb, err = run("export", env=ddb)
        self.assertEqual(code, 0, err)
        self.assertIn("exported 12 packages, 36 events", err)
        # DynamoDB's Scan order is its own; each package's events are still in arrival order.
        self.assertEqual(sorted(from_ddb.splitlines()), sorted(from_sqlite.splitlines()))
        # Again: every row a replay.
        code, out, err = run("import", "--format", "jsonl", "-", stdin=from_ddb, env=ddb)
        self.assertIn("0 created, 0 late arrivals, 36 replays", out)
        # And back into a fresh SQLite store: the same export as at the start.
        back_dir = os.path.join(self.dir, "back")
        code, out, err = run("import", "--data-dir", back_dir, "--format", "jsonl", "-", stdin=from_ddb)
        self.assertEqual(code, 0, out + err)
        code, back, err = run("export", "--data-dir", back_dir)
        self.assertEqual(back, from_sqlite)


if __name__ == "__main__":
    unittest.main()
