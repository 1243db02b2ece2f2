#!/usr/bin/env python3
"""Runs the Qt fetch example against the HTTP server example.

usage: check_qt_fetch.py QT_FETCH HTTP_SERVER

Uses check_http.py's Server (a fresh http_server over a temporary root).
Prints each check's name and result; exits non-zero if any failed.
"""
import os
import socket
import subprocess
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_http  # noqa: E402

FETCH = None


def fetch(*args):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([FETCH] + list(args), capture_output=True, timeout=60, env=env)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def test_fetches_a_file_from_the_http_server():
    with check_http.Server() as srv:
        body = b"served by trellis, fetched by Qt\n" * 100
        srv.write("page.txt", body)
        out = fetch(srv.url("/page.txt"))
        check(out.returncode == 0, "exit %d, stderr %r" % (out.returncode, out.stderr))
        check(out.stdout == body, "got %d bytes, not the file" % len(out.stdout))


def test_a_missing_file_is_qts_content_not_found_error():
    with check_http.Server() as srv:
        out = fetch(srv.url("/missing.txt"))
        check(out.returncode == 1, "exit %d" % out.returncode)
        # QNetworkReply::ContentNotFoundError is 203.
        check(out.stderr.startswith(b"network error 203:"), "stderr %r" % out.stderr)


def test_a_timeout_aborts_the_request():
    # A listener that accepts and never answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        out = fetch("http://127.0.0.1:%d/slow" % port, "--timeout", "0.2")
        check(out.returncode == 3, "exit %d, stderr %r" % (out.returncode, out.stderr))
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(5)
            data = b""
            while True:  # the aborted request's connection is closed
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            check(data.startswith(b"GET /slow"), "request %r" % data[:40])


def main(argv):
    global FETCH
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    FETCH = argv[1]
    check_http.SERVER = argv[2]
    tests = [(name, fn) for name, fn in globals().items() if name.startswith("test_") and callable(fn)]
    failed = []
    for name, fn in tests:
        try:
            fn()
            print("ok      %s" % name)
        except Exception:
            print("FAILED  %s" % name)
            traceback.print_exc(file=sys.stdout)
            failed.append(name)
    print("%d tests, %d failed" % (len(tests), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
