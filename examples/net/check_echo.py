#!/usr/bin/env python3
"""Drives the echo examples with clients and servers trellis did not write.

usage: check_echo.py ECHO_SERVER ECHO_CLIENT

1. Starts the echo server on port 0, reads its "listening on HOST:PORT"
   line, and talks to it with Python's socket module: two clients at once,
   a large message, and a half-close (the server must echo everything and
   then close).
2. Starts it again on a UNIX socket (--unix PATH) and checks the echo and
   the half-close there too.
3. Runs the echo client against a socat echo server (if socat is
   installed), feeding it stdin and checking its stdout.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def send_then_read_to_eof(s, payload):
    """Sends payload, half-closes, and returns everything echoed until EOF."""
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return got
        got += chunk


def check_server(server_exe):
    proc = subprocess.Popen([server_exe, "--host", "127.0.0.1", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            fail("unexpected first line: %r" % line)
        host, port = line[len("listening on "):].rsplit(":", 1)
        port = int(port)

        def talk(payload, results, index):
            with socket.create_connection((host, port), timeout=10) as s:
                results[index] = send_then_read_to_eof(s, payload)

        payloads = [b"hello trellis\n", bytes(range(256)) * 4096]
        results = [None, None]
        threads = [threading.Thread(target=talk, args=(p, results, i)) for i, p in enumerate(payloads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for p, r in zip(payloads, results):
            if r != p:
                fail("echo mismatch: sent %d bytes, got %r bytes" % (len(p), None if r is None else len(r)))
        print("echo server: ok (%d bytes echoed)" % sum(len(p) for p in payloads))
    finally:
        proc.kill()
        proc.wait()


def check_unix_server(server_exe):
    directory = tempfile.mkdtemp(prefix="trellis-echo-")
    path = os.path.join(directory, "echo.sock")
    proc = subprocess.Popen([server_exe, "--unix", path], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if line != "listening on " + path:
            fail("unexpected first line: %r" % line)
        payload = bytes(range(256)) * 1024
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(path)
            got = send_then_read_to_eof(s, payload)
        if got != payload:
            fail("UNIX echo mismatch: sent %d bytes, got %d" % (len(payload), len(got)))
        print("echo server over a UNIX socket: ok (%d bytes echoed)" % len(payload))
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        shutil.rmtree(directory, ignore_errors=True)


def check_client(client_exe):
    socat = shutil.which("socat")
    if not socat:
        print("echo client: skipped (no socat)")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # fork: socat serves every connection (the readiness probe included).
    server = subprocess.Popen([socat, "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork" % port, "EXEC:cat"])
    try:
        for _ in range(250):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        else:
            fail("socat did not start listening")
        text = "line one\nline two\n" * 100
        out = subprocess.run([client_exe, "--host", "127.0.0.1", "--port", str(port)],
                             input=text, capture_output=True, text=True, timeout=30)
        if out.returncode != 0 or out.stdout != text:
            fail("echo client: rc=%d stdout=%r stderr=%r" % (out.returncode, out.stdout[:80], out.stderr))
        print("echo client: ok")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    check_server(sys.argv[1])
    check_unix_server(sys.argv[1])
    check_client(sys.argv[2])
