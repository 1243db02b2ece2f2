#!/usr/bin/env python3
"""Drives the HTTP server example with clients trellis did not write: the
real curl binary and Python's socket module.

usage: check_http.py HTTP_SERVER

Each test_* function checks one behaviour against a fresh server serving a
fresh directory; the script prints each test's name and result, and exits
non-zero if any failed. Without curl, the curl tests are skipped (saying
so); the raw-socket tests still run.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SERVER = None
CURL = shutil.which("curl")
BIG_SIZE = 5 * 1024 * 1024 + 12345  # a few MiB, not a multiple of the chunk size


class Skip(Exception):
    pass


class Server:
    """A running http_server over a temporary root, killed and reaped on exit."""

    def __init__(self, idle_timeout=None):
        self.dir = tempfile.mkdtemp(prefix="trellis-http-")
        self.root = os.path.join(self.dir, "root")
        os.mkdir(self.root)
        self.idle_timeout = idle_timeout
        self.proc = None

    def write(self, relative, data):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def __enter__(self):
        args = [SERVER, "--root", self.root, "--host", "127.0.0.1", "--port", "0"]
        if self.idle_timeout is not None:
            args += ["--idle-timeout", str(self.idle_timeout)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise AssertionError("unexpected first line: %r" % line)
        host, port = line[len("listening on "):].rsplit(":", 1)
        self.host, self.port = host, int(port)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            errors = self.proc.stderr.read()
            self.proc.stdout.close()
            self.proc.stderr.close()
            if exc_type is not None and errors:
                print("server stderr:\n" + errors)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def alive(self):
        return self.proc.poll() is None

    def raw(self, request, timeout=5):
        """Sends raw bytes, returns everything the server sends until it closes."""
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            s.sendall(request)
            return read_until_eof(s)


def read_until_eof(s):
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return got
        got += chunk


def curl(*args):
    if not CURL:
        raise Skip("curl is not installed")
    return subprocess.run([CURL, "--silent", "--show-error", "--max-time", "20"] + list(args),
                          capture_output=True, timeout=30)


def status_line(response):
    return response.split(b"\r\n", 1)[0]


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---- The tests. ----

def test_get_serves_several_files_with_length_and_type():
    with Server() as srv:
        srv.write("index.html", b"<h1>hello</h1>\n")
        srv.write("notes.txt", b"plain text\n")
        srv.write("data/blob.bin", bytes(range(256)))
        for path, body, ctype in [("/index.html", b"<h1>hello</h1>\n", "text/html"),
                                  ("/notes.txt", b"plain text\n", "text/plain"),
                                  ("/data/blob.bin", bytes(range(256)), "application/octet-stream")]:
            out = curl("--write-out", "%{http_code}|%{content_type}|%{size_download}", "--output",
                       os.path.join(srv.dir, "out"), srv.url(path))
            check(out.returncode == 0, "curl %s failed: %s" % (path, out.stderr))
            code, content_type, size = out.stdout.decode().split("|")
            check(code == "200", "%s: status %s" % (path, code))
            check(content_type.startswith(ctype), "%s: content type %s" % (path, content_type))
            check(int(size) == len(body), "%s: %s bytes" % (path, size))
            with open(os.path.join(srv.dir, "out"), "rb") as f:
                check(f.read() == body, "%s: wrong body" % path)


def test_directory_serves_its_index_html():
    with Server() as srv:
        srv.write("docs/index.html", b"docs index\n")
        out = curl(srv.url("/docs/"))
        check(out.returncode == 0 and out.stdout == b"docs index\n", "got %r" % out.stdout)


def test_keep_alive_serves_two_urls_on_one_connection():
    with Server() as srv:
        srv.write("a.txt", b"first\n")
        srv.write("b.txt", b"second\n")
        out = curl("--write-out", "[%{num_connects}]", srv.url("/a.txt"), srv.url("/b.txt"))
        check(out.returncode == 0, "curl failed: %s" % out.stderr)
        # One new connection for the first URL, none for the second.
        check(out.stdout == b"first\n[1]second\n[0]", "got %r" % out.stdout)


def test_connection_close_is_honoured():
    with Server() as srv:
        srv.write("a.txt", b"first\n")
        response = srv.raw(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(status_line(response) == b"HTTP/1.1 200 OK", "got %r" % response[:60])
        check(b"\r\nConnection: close\r\n" in response, "no Connection: close in %r" % response)
        check(response.endswith(b"\r\n\r\nfirst\n"), "got %r" % response)


def test_http_1_0_closes_unless_keep_alive_is_asked():
    with Server() as srv:
        srv.write("a.txt", b"first\n")
        response = srv.raw(b"GET /a.txt HTTP/1.0\r\n\r\n")  # the server closes: raw() returns
        check(response.endswith(b"\r\n\r\nfirst\n"), "got %r" % response)
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            s.sendall(b"GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            first = b""
            while not first.endswith(b"first\n"):
                chunk = s.recv(4096)
                check(chunk, "closed before the first response was complete")
                first += chunk
            check(b"\r\nConnection: keep-alive\r\n" in first, "got %r" % first)
            s.sendall(b"GET /a.txt HTTP/1.0\r\n\r\n")  # this one asks for nothing: closes
            second = read_until_eof(s)
            check(second.endswith(b"\r\n\r\nfirst\n"), "second response %r" % second)


def test_pipelined_requests_are_answered_in_order():
    with Server() as srv:
        srv.write("a.txt", b"AAA")
        srv.write("b.txt", b"BBB")
        response = srv.raw(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                           b"GET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(response.count(b"HTTP/1.1 200 OK") == 2, "got %r" % response)
        check(response.index(b"AAA") < response.index(b"BBB"), "out of order: %r" % response)


def test_head_sends_the_headers_without_a_body():
    with Server() as srv:
        srv.write("a.txt", b"0123456789")
        out = curl("--head", srv.url("/a.txt"))
        check(out.returncode == 0, "curl failed: %s" % out.stderr)
        check(out.stdout.startswith(b"HTTP/1.1 200 OK\r\n"), "got %r" % out.stdout)
        check(b"\r\nContent-Length: 10\r\n" in out.stdout, "got %r" % out.stdout)
        response = srv.raw(b"HEAD /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(response.endswith(b"\r\n\r\n"), "HEAD response has a body: %r" % response)


def test_missing_file_is_404_and_the_connection_stays_usable():
    with Server() as srv:
        srv.write("a.txt", b"here\n")
        out = curl("--write-out", "[%{http_code} %{num_connects}]", srv.url("/missing.txt"), srv.url("/a.txt"))
        check(out.returncode == 0, "curl failed: %s" % out.stderr)
        check(out.stdout.endswith(b"[404 1]here\n[200 0]"), "got %r" % out.stdout)


def test_malformed_request_line_is_400():
    with Server() as srv:
        for request in [b"NONSENSE\r\n\r\n",
                        b"GET /a.txt\r\nHost: x\r\n\r\n",
                        b"GET  /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"GET /a.txt HTTP/1.1 extra\r\nHost: x\r\n\r\n",
                        b"GET /a.txt FTP/1.1\r\nHost: x\r\n\r\n"]:
            response = srv.raw(request)
            check(status_line(response) == b"HTTP/1.1 400 Bad Request", "%r got %r" % (request, response[:60]))
        check(srv.alive(), "the server died")


def test_malformed_header_is_400():
    with Server() as srv:
        for request in [b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
                        b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
                        b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
                        b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
                        b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"]:
            response = srv.raw(request)
            check(status_line(response) == b"HTTP/1.1 400 Bad Request", "%r got %r" % (request, response[:60]))


def test_other_methods_are_501():
    with Server() as srv:
        response = srv.raw(b"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        check(status_line(response) == b"HTTP/1.1 501 Not Implemented", "got %r" % response[:60])
        check(b"\r\nAllow: GET, HEAD\r\n" in response, "no Allow header: %r" % response)


def test_unsupported_http_version_is_505():
    with Server() as srv:
        response = srv.raw(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
        check(status_line(response) == b"HTTP/1.1 505 HTTP Version Not Supported", "got %r" % response[:60])


def test_oversized_head_is_431():
    with Server() as srv:
        request = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * 20000 + b"\r\n\r\n"
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            try:
                s.sendall(request)
            except OSError:
                pass  # the server may answer and close before taking it all
            response = read_until_eof(s)
        check(status_line(response) == b"HTTP/1.1 431 Request Header Fields Too Large", "got %r" % response[:80])


def test_traversal_out_of_the_root_is_refused():
    with Server() as srv:
        secret = os.path.join(srv.dir, "secret.txt")
        with open(secret, "wb") as f:
            f.write(b"do not serve\n")
        srv.write("a.txt", b"fine\n")
        for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/sub/..%2f..%2fsecret.txt",
                     "/a.txt/../../secret.txt"]:
            out = curl("--path-as-is", "--write-out", "[%{http_code}]", srv.url(path))
            check(b"do not serve" not in out.stdout, "%s leaked the secret" % path)
            check(out.stdout.endswith(b"[403]"), "%s: got %r" % (path, out.stdout))


def test_symlink_out_of_the_root_is_refused_and_inside_is_served():
    with Server() as srv:
        secret = os.path.join(srv.dir, "secret.txt")
        with open(secret, "wb") as f:
            f.write(b"do not serve\n")
        target = srv.write("real.txt", b"inside\n")
        os.symlink(secret, os.path.join(srv.root, "out.txt"))
        os.symlink(target, os.path.join(srv.root, "in.txt"))
        out = curl("--write-out", "[%{http_code}]", srv.url("/out.txt"))
        check(out.stdout.endswith(b"[403]") and b"do not serve" not in out.stdout, "got %r" % out.stdout)
        out = curl(srv.url("/in.txt"))
        check(out.stdout == b"inside\n", "got %r" % out.stdout)


def test_percent_encoded_names_are_decoded():
    with Server() as srv:
        srv.write("with space.txt", b"spaced\n")
        out = curl(srv.url("/with%20space.txt?query=ignored"))
        check(out.returncode == 0 and out.stdout == b"spaced\n", "got %r" % out.stdout)


def test_idle_timeout_closes_a_silent_connection():
    with Server(idle_timeout=0.3) as srv:
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            start = time.monotonic()
            got = s.recv(1024)  # sends nothing; the server must close
            elapsed = time.monotonic() - start
        check(got == b"", "got %r instead of EOF" % got)
        check(elapsed < 3, "EOF only after %.1f s" % elapsed)


def test_idle_timeout_cuts_a_trickling_request_with_408():
    with Server(idle_timeout=0.3) as srv:
        with socket.create_connection((srv.host, srv.port), timeout=5) as s:
            start = time.monotonic()
            s.sendall(b"GET / HTTP/1.1\r\n")  # and never the rest
            response = read_until_eof(s)
            elapsed = time.monotonic() - start
        check(status_line(response) == b"HTTP/1.1 408 Request Timeout", "got %r" % response[:60])
        check(elapsed < 3, "closed only after %.1f s" % elapsed)


def test_large_file_arrives_intact():
    with Server() as srv:
        data = os.urandom(BIG_SIZE)
        srv.write("big.bin", data)
        dest = os.path.join(srv.dir, "big.out")
        out = curl("--output", dest, srv.url("/big.bin"))
        check(out.returncode == 0, "curl failed: %s" % out.stderr)
        with open(dest, "rb") as f:
            check(f.read() == data, "the downloaded file differs")


def test_client_vanishing_mid_response_does_not_kill_the_server():
    with Server() as srv:
        srv.write("big.bin", b"x" * BIG_SIZE)
        srv.write("a.txt", b"still here\n")
        for _ in range(3):
            s = socket.create_connection((srv.host, srv.port), timeout=5)
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(1000)
            # A reset, not a clean close: SO_LINGER with a zero timeout.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        response = srv.raw(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(response.endswith(b"still here\n"), "got %r" % response[-40:])
        check(srv.alive(), "the server died")


def main(argv):
    global SERVER
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    SERVER = argv[1]
    if not CURL:
        print("curl not found: the tests that use it are skipped")
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    failed = []
    for name, fn in tests:
        try:
            fn()
            print("ok      %s" % name)
        except Skip as e:
            print("skipped %s (%s)" % (name, e))
        except Exception:
            print("FAILED  %s" % name)
            traceback.print_exc(file=sys.stdout)
            failed.append(name)
    print("%d tests, %d failed%s" % (len(tests), len(failed), (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
