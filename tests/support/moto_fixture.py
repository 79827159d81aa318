#!/usr/bin/env python3
"""Starts and stops a moto_server with real SigV4 checking, for the DynamoDB tests.

    moto_fixture.py start --state FILE   start moto on a free port; write FILE (JSON: endpoint,
                                         region, access_key_id, secret_access_key, pid) and return
    moto_fixture.py stop  --state FILE   stop the server FILE names; remove FILE
    moto_fixture.py run -- CMD ARGS...   start, run CMD with AWS_* set for it, stop (always)

moto starts with INITIAL_NO_AUTH_ACTION_COUNT=3. Those three unauthenticated calls are spent on IAM
(create a user, create its access key, give it a policy allowing dynamodb:* and sns:*); from then
on every request must carry a valid signature made with the new key pair.

The server is started as `sys.executable -m moto.server` (serving one request at a time: see
SERIAL_MOTO), with the real interpreter (not the pyenv
shim), in its own session, so its pid is the process to stop; `stop` also kills whatever still
listens on the port when that process is gone. Run this script with the interpreter that has moto
(DINEX_MOTO_PYTHON, default python3).
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

REGION = "us-east-1"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["dynamodb:*", "sns:*"], "Resource": "*"}],
}

# `python -m moto.server`, but serving one request at a time. moto's DynamoDB backend has no lock
# and its server is threaded, so two concurrent TransactWriteItems can both pass their condition
# checks and both write (lost updates; the store contract test for concurrent appends caught it).
# DynamoDB evaluates a transaction's conditions and writes atomically; a serial server restores
# that. (Unthreaded werkzeug also speaks HTTP/1.0, so no client can hold the server with a
# kept-alive connection.)
SERIAL_MOTO = """
import runpy, sys, werkzeug.serving
_run_simple = werkzeug.serving.run_simple
def run_simple(*args, **kwargs):
    kwargs["threaded"] = False
    return _run_simple(*args, **kwargs)
werkzeug.serving.run_simple = run_simple
# The table has a DynamoDB stream (docs/NOTIFICATIONS.md). moto deep-copies every table a
# TransactWriteItems touches (to roll back), stream records included: quadratic in the number of
# writes (the concurrent contract tests took minutes and gigabytes). Stream records are never
# changed once written, so the copy shares them and copies only the list: rollback stays exact.
import copy
from moto.dynamodb.models.table import StreamShard
def _shard_deepcopy(self, memo):
    new = copy.copy(self)
    memo[id(self)] = new
    new.table = copy.deepcopy(self.table, memo)
    new.items = list(self.items)
    return new
StreamShard.__deepcopy__ = _shard_deepcopy
sys.argv[0] = "moto_server"
runpy.run_module("moto.server", run_name="__main__", alter_sys=True)
"""


def fail(message):
    print(f"moto_fixture: {message}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def alive(pid):
    """True while pid runs; a zombie (exited, not yet reaped by its new parent) is not alive."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def kill_group(pid):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        for _ in range(50):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not alive(pid):
                return
            time.sleep(0.1)


def pids_on_port(port):
    """PIDs listening on 127.0.0.1:port (from ss -ltnp), for the case the recorded pid is gone."""
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return []
    pids = []
    for part in out.split("pid=")[1:]:
        digits = part.split(",")[0]
        if digits.isdigit():
            pids.append(int(digits))
    return pids


def launch(log_path, no_auth_calls=None):
    """A moto_server (serial, as the fixture runs it) of a test's own, on a free port: returns
    (process, port). no_auth_calls sets INITIAL_NO_AUTH_ACTION_COUNT; None turns signature checks
    off. The caller stops it with kill_group(process.pid)."""
    port = free_port()
    env = dict(os.environ)
    env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
    if no_auth_calls is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(no_auth_calls)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-c", SERIAL_MOTO, "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if port_open(port):
            return proc, port
        time.sleep(0.1)
    kill_group(proc.pid)
    raise RuntimeError("moto_server did not start (see %s)" % log_path)


def start_server(log_path):
    try:
        import moto  # noqa: F401
        import boto3  # noqa: F401
    except ImportError as e:
        fail(f"moto is not installed for {sys.executable} ({e}); run `scripts/install-deps test` "
             "or set DINEX_MOTO_PYTHON to an interpreter that has moto[server]")
    last = ""
    for _ in range(3):
        port = free_port()
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
        log = open(log_path, "ab")
        proc = subprocess.Popen([sys.executable, "-c", SERIAL_MOTO, "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if port_open(port):
                return proc, port
            time.sleep(0.1)
        last = f"moto_server exited or did not listen on port {port} (see {log_path})"
        kill_group(proc.pid)
    fail(last)


def provision(port):
    """Spends the three unauthenticated calls on IAM; returns the new key pair."""
    import boto3
    iam = boto3.client("iam", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="dinex-tests")
    key = iam.create_access_key(UserName="dinex-tests")["AccessKey"]
    iam.put_user_policy(UserName="dinex-tests", PolicyName="dinex-dynamodb-sns",
                        PolicyDocument=json.dumps(POLICY))
    return key["AccessKeyId"], key["SecretAccessKey"]


def start(state_path):
    log_path = state_path + ".log"
    proc, port = start_server(log_path)
    try:
        key_id, secret = provision(port)
    except Exception as e:  # noqa: BLE001 - any failure here must stop the server we started
        kill_group(proc.pid)
        fail(f"provisioning IAM on moto failed: {e}")
    state = {"endpoint": f"http://127.0.0.1:{port}", "port": port, "region": REGION,
             "access_key_id": key_id, "secret_access_key": secret, "pid": proc.pid}
    tmp = state_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, state_path)
    print(f"moto_fixture: moto on {state['endpoint']} (pid {proc.pid}), signatures checked")
    return state


def stop(state_path):
    try:
        with open(state_path) as f:
            state = json.load(f)
    except FileNotFoundError:
        return
    kill_group(state["pid"])
    for pid in pids_on_port(state["port"]):
        kill_group(pid)
    if port_open(state["port"]):
        fail(f"something still listens on port {state['port']}")
    os.unlink(state_path)
    print(f"moto_fixture: stopped moto on port {state['port']}")


def environment(state):
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": state["endpoint"],
        "AWS_ENDPOINT_URL": state["endpoint"],
        "AWS_REGION": state["region"],
        "AWS_ACCESS_KEY_ID": state["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": state["secret_access_key"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["start", "stop", "run"])
    parser.add_argument("--state", help="state file (start/stop)")
    argv = sys.argv[1:]
    command = []
    if "--" in argv:
        command = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = parser.parse_args(argv)
    if args.action in ("start", "stop") and not args.state:
        fail("--state is required")
    if args.action == "start":
        stop(args.state)  # a leftover from an interrupted run
        start(args.state)
    elif args.action == "stop":
        stop(args.state)
    else:
        if not command:
            fail("run needs a command")
        state_path = os.path.join(tempfile.mkdtemp(prefix="dinex-moto-"), "moto.json")
        state = start(state_path)
        try:
            env = dict(os.environ, **environment(state), DINEX_MOTO_STATE=state_path)
            sys.exit(subprocess.call(command, env=env))
        finally:
            stop(state_path)


if __name__ == "__main__":
    main()
