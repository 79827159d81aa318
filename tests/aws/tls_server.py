#!/usr/bin/env python3
"""A throw-away TLS HTTP/1.1 server for tests/aws/tls_test.cpp (Debian's /usr/bin/python3, standard
library only, plus the `openssl` command line tool).

At start it makes, in a fresh temporary directory, a CA and two server certificates signed by it:
"good" for DNS:localhost and IP:127.0.0.1, "wrong" for DNS:wrong.invalid only. It serves the good
one on one port and the wrong one on another, prints one JSON line on stdout
({"ca", "good_port", "wrong_port", "dir"}) and serves until stdin is closed (so it never outlives
the test), then removes the directory.

Every answer is JSON {"conn": <connection number>, "sni": <server name the client sent, or null>,
"path": ...}, kept alive (HTTP/1.1, Content-Length). Paths:
  /stats             {"accepted", "handshakes", "closed"} counted over all connections so far
  /close-after       answers normally (keep-alive), then closes the connection without TLS
                     close_notify, as a server or load balancer dropping an idle connection does
  /connection-close  answers with "Connection: close", then closes
  /drop              closes the connection without any answer
  /hang              never answers (the client's deadline must end it)
  anything else      answers
"""
import http.server
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading

LOCK = threading.Lock()
STATS = {"accepted": 0, "handshakes": 0, "closed": 0}
HANG = threading.Event()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certificates(d):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=dinex test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=d)
    for name, san in (("good", "DNS:localhost,IP:127.0.0.1"), ("wrong", "DNS:wrong.invalid")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + san.split(",")[0][4:], cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n" % san)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "1", "-out", name + ".pem", "-extfile", name + ".ext", cwd=d)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def answer(self, doc, close=False):
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        conn = getattr(self.connection, "dinex_conn", None)
        sni = getattr(self.connection, "dinex_sni", None)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        doc = {"conn": conn, "sni": sni, "path": self.path, "bytes": len(body)}
        if self.path == "/stats":
            with LOCK:
                doc.update(STATS)
            self.answer(doc)
        elif self.path == "/close-after":
            self.answer(doc)
            self.close_connection = True  # no "Connection: close" header: the client thinks it is alive
        elif self.path == "/connection-close":
            self.answer(doc, close=True)
            self.close_connection = True
        elif self.path == "/drop":
            self.close_connection = True
        elif self.path == "/hang":
            HANG.wait(30)
            self.close_connection = True
        else:
            self.answer(doc)

    do_POST = do_GET


class TlsServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context):
        self.context = context
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address):
        with LOCK:
            STATS["accepted"] += 1
            number = STATS["accepted"]
        try:
            tls = self.context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            tls.settimeout(30)
            tls.do_handshake()
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate: expected in the negative tests
        with LOCK:
            STATS["handshakes"] += 1
        tls.dinex_conn = number
        tls.dinex_sni = SNI.pop(id(tls), None)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.shutdown(socket.SHUT_RDWR)  # TCP only: SSLSocket.shutdown sends no close_notify
            except OSError:
                pass
            tls.close()

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with LOCK:
            STATS["closed"] += 1


SNI = {}


def context_for(d, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, name + ".pem"), os.path.join(d, name + ".key"))

    def on_sni(sock, server_name, _ctx):
        SNI[id(sock)] = server_name
    ctx.sni_callback = on_sni
    return ctx


def main():
    d = tempfile.mkdtemp(prefix="dinex-tls-")
    try:
        make_certificates(d)
        servers = [TlsServer(context_for(d, "good")), TlsServer(context_for(d, "wrong"))]
        for s in servers:
            threading.Thread(target=s.serve_forever, daemon=True).start()
        print(json.dumps({"ca": os.path.join(d, "ca.pem"), "good_port": servers[0].server_address[1],
                          "wrong_port": servers[1].server_address[1], "dir": d}), flush=True)
        sys.stdin.read()  # until the test closes our stdin (or exits)
        HANG.set()
        for s in servers:
            s.shutdown()
            s.server_close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
