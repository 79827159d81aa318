"""The server's own limits, tried with raw sockets: request line and header sizes, header count,
slow clients (slowloris), the connection cap."""
import socket
import time
import unittest

from harness import Server


def connect(port, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_all(s):
    chunks = []
    while True:
        try:
            c = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not c:
            break
        chunks.append(c)
    return b"".join(chunks)


class LimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--read-timeout", "1", "--keep-alive-timeout", "2", "--max-connections", "8",
                            "--store", "memory").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def exchange(self, payload):
        s = connect(self.server.port)
        try:
            s.sendall(payload)
            return read_all(s)
        finally:
            s.close()

    def test_long_request_target_is_414(self):
        answer = self.exchange(b"GET /tracking?tracking_id=" + b"A" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 414") or answer.startswith(b"HTTP/1.1 431"), answer[:60])

    def test_too_many_headers_is_431(self):
        headers = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
        answer = self.exchange(b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 431"), answer[:60])
        self.assertIn(b"max_count:100", answer)

    def test_oversized_headers_are_431(self):
        answer = self.exchange(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 431"), answer[:60])

    def test_slow_client_is_closed_by_the_read_timeout(self):
        s = connect(self.server.port, timeout=10)
        try:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            closed_after = None
            for _ in range(40):  # one header byte every 0.1 s, for up to 4 s
                try:
                    s.sendall(b"X")
                    s.settimeout(0.1)
                    if s.recv(1) == b"":
                        closed_after = time.monotonic() - started
                        break
                except socket.timeout:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    closed_after = time.monotonic() - started
                    break
            self.assertIsNotNone(closed_after, "a slowloris client kept its connection")
            self.assertLess(closed_after, 3.5)
        finally:
            s.close()
        status, _, _ = self.server.request("GET", "/health")
        self.assertEqual(status, 200)

    def test_idle_keep_alive_connection_is_closed(self):
        conn = self.server.connection()
        status, _, _ = self.server.request("GET", "/health", conn=conn)
        self.assertEqual(status, 200)
        time.sleep(2.6)
        s = conn.sock
        s.settimeout(1)
        self.assertEqual(s.recv(1), b"")
        conn.close()

    def test_connections_over_the_cap_are_refused_and_room_comes_back(self):
        held = [connect(self.server.port) for _ in range(8)]
        try:
            time.sleep(0.2)
            extra = connect(self.server.port)
            extra.settimeout(2)
            try:
                extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(read_all(extra), b"")
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                extra.close()
        finally:
            for s in held:
                s.close()
        time.sleep(0.3)
        status, _, _ = self.server.request("GET", "/health")
        self.assertEqual(status, 200)

    def test_no_server_version_in_answers(self):
        _, headers, _ = self.server.request("GET", "/health")
        self.assertNotIn("server", headers)


if __name__ == "__main__":
    unittest.main()
