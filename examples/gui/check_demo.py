#!/usr/bin/env python3
"""Runs a trellis GUI example in demo mode under its own Xvfb and checks it.

Usage: check_demo.py PROGRAM [--mode full|close] [--timeout SECONDS]

The contract checked here is the one both GUI examples (Qt and GTK) share:

  --mode full (default): runs `PROGRAM --demo --screenshot TMP/shot.png` and
    requires, on stdout, exactly these four job lines in this order
        job steps: cancelled
        job crunch: done
        job stream: timed out
        job flaky: failed: sensor unplugged
    a line `heartbeat ticks during crunch: N` with N > 0, and a line
    `screenshot: <absolute path>` naming the requested file, which must be a
    valid PNG whose pixels are not all one colour.
  --mode close: runs `PROGRAM --demo=close` and requires a line
    `closed while running: cancelled N jobs` with N > 0 and a line
    `done callback ran`.
  --mode skeleton: runs the GTK skeleton (examples/gui/gtk/skeleton.cpp) with
    TRELLIS_SKELETON_SELF_TEST=1, which clicks its button and closes its
    window mid-job, and requires exactly these lines in this order (the
    job's cleanup touched the button before the window was destroyed):
        job started
        cleanup: button re-enabled
        run over: window destroyed

In both modes the program must exit by itself, with status 0, within the time
bound, and write nothing at all to stderr (IGNORED_STDERR below lists the
only exceptions, each with its reason).

Exit status: 0 pass, 1 fail (with a message on stderr), 77 skip (no Xvfb).
"""

import argparse
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SKIP = 77

EXPECTED_JOBS = [
    "job steps: cancelled",
    "job crunch: done",
    "job stream: timed out",
    "job flaky: failed: sensor unplugged",
]

# Regular expressions for stderr lines that are tolerated. Each entry needs a
# comment saying why it is not a defect of the program under test. Empty:
# the environment below is set up so that a correct program prints nothing.
IGNORED_STDERR = []


class Failure(Exception):
    pass


# --- PNG decoding (pure Python + zlib) -------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Samples per pixel for each PNG colour type.
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: (x start, y start, x step, y step).
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
         (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(data, pos, width, height, bpp_bits, bpp_bytes):
    """Undoes the per-row filters of one (sub-)image that starts at data[pos].

    Returns (rows, next position); each row is a bytes object of raw samples.
    """
    stride = (width * bpp_bits + 7) // 8
    rows = []
    prev = bytearray(stride)
    for _ in range(height):
        if pos + 1 + stride > len(data):
            raise Failure("PNG image data is truncated")
        ftype = data[pos]
        row = bytearray(data[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if ftype == 1:
            for i in range(bpp_bytes, stride):
                row[i] = (row[i] + row[i - bpp_bytes]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                row[i] = (row[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = row[i - bpp_bytes] if i >= bpp_bytes else 0
                row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                left = row[i - bpp_bytes] if i >= bpp_bytes else 0
                upleft = prev[i - bpp_bytes] if i >= bpp_bytes else 0
                row[i] = (row[i] + _paeth(left, prev[i], upleft)) & 0xFF
        elif ftype != 0:
            raise Failure(f"PNG row has an invalid filter type {ftype}")
        rows.append(bytes(row))
        prev = row
    return rows, pos


def png_colour_count(path, enough=16):
    """Decodes the PNG at path and returns (width, height, distinct colours).

    Counting stops at `enough` distinct colours. Raises Failure if the file
    is not a well-formed PNG (signature, chunk CRCs, IHDR, zlib stream, row
    filters, data length).
    """
    with open(path, "rb") as f:
        blob = f.read()
    if not blob.startswith(PNG_SIGNATURE):
        raise Failure(f"{path} is not a PNG (bad signature)")
    pos = len(PNG_SIGNATURE)
    ihdr = None
    idat = []
    seen_iend = False
    while pos + 12 <= len(blob):
        (length,) = struct.unpack(">I", blob[pos:pos + 4])
        ctype = blob[pos + 4:pos + 8]
        body = blob[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(blob):
            raise Failure(f"{path}: truncated {ctype!r} chunk")
        (crc,) = struct.unpack(">I", blob[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise Failure(f"{path}: CRC mismatch in {ctype!r} chunk")
        pos += 12 + length
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            seen_iend = True
            break
    if ihdr is None or not idat or not seen_iend:
        raise Failure(f"{path}: missing IHDR, IDAT or IEND chunk")
    width, height, depth, colour, _, _, interlace = ihdr
    if colour not in CHANNELS or width == 0 or height == 0:
        raise Failure(f"{path}: bad IHDR {ihdr}")
    try:
        data = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise Failure(f"{path}: corrupt image data ({e})") from None

    bpp_bits = CHANNELS[colour] * depth
    bpp_bytes = max(1, bpp_bits // 8)
    if interlace:
        passes = []
        for x0, y0, dx, dy in ADAM7:
            pw = (width - x0 + dx - 1) // dx if width > x0 else 0
            ph = (height - y0 + dy - 1) // dy if height > y0 else 0
            if pw and ph:
                passes.append((pw, ph))
    else:
        passes = [(width, height)]

    colours = set()
    pos = 0
    for pw, ph in passes:
        rows, pos = _unfilter(data, pos, pw, ph, bpp_bits, bpp_bytes)
        if len(colours) >= enough:
            continue
        for row in rows:
            if bpp_bits >= 8:
                for i in range(0, pw * bpp_bytes, bpp_bytes):
                    colours.add(row[i:i + bpp_bytes])
            else:  # sub-byte samples: compare bytes, good enough for "blank?"
                colours.update(row[i:i + 1] for i in range(len(row)))
            if len(colours) >= enough:
                break
    if pos != len(data):
        raise Failure(f"{path}: image data has {len(data) - pos} extra bytes")
    return width, height, len(colours)


# --- Xvfb -------------------------------------------------------------------

def _die_with_parent():
    """Child pre-exec hook: if this script is killed (even with SIGKILL, e.g.
    by a test-runner timeout), the kernel sends SIGTERM to the child too."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except Exception:  # not Linux, or no ctypes: the finally clause remains
        pass


def start_xvfb(xvfb, tmpdir):
    """Starts Xvfb on a free display chosen by the server itself (-displayfd)
    and returns (process, ":N")."""
    rfd, wfd = os.pipe()
    log = open(os.path.join(tmpdir, "xvfb.log"), "wb")
    try:
        proc = subprocess.Popen(
            [xvfb, "-displayfd", str(wfd), "-screen", "0", "1280x800x24",
             "-nolisten", "tcp"],
            pass_fds=(wfd,), stdin=subprocess.DEVNULL, stdout=log,
            stderr=log, preexec_fn=_die_with_parent)
    finally:
        os.close(wfd)
        log.close()
    try:
        buf = b""
        deadline = time.monotonic() + 20
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([rfd], [], [], left)[0]:
                stop(proc)
                raise Failure("Xvfb did not report a display within 20 s")
            chunk = os.read(rfd, 64)
            if not chunk:
                stop(proc)
                with open(os.path.join(tmpdir, "xvfb.log"), "rb") as f:
                    tail = f.read()[-2000:].decode(errors="replace")
                raise Failure(f"Xvfb exited before it was ready:\n{tail}")
            buf += chunk
    finally:
        os.close(rfd)
    return proc, ":" + buf.decode().strip()


def _own_group_dying_with_parent():
    """Pre-exec hook for the program under test: its own process group (so
    that killing it reaches any helper process it started), and SIGTERM if
    this script dies."""
    os.setsid()
    _die_with_parent()


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the check --------------------------------------------------------------

def child_env(display, tmpdir):
    env = dict(os.environ)
    env["DISPLAY"] = display
    # Make both toolkits use the X server started here, whatever the caller's
    # session is (a Wayland desktop, or QT_QPA_PLATFORM=offscreen).
    env.pop("WAYLAND_DISPLAY", None)
    env["QT_QPA_PLATFORM"] = "xcb"
    env["GDK_BACKEND"] = "x11"
    # A private, empty runtime directory with the mode both toolkits expect,
    # so that neither warns about a missing or shared XDG_RUNTIME_DIR.
    runtime = os.path.join(tmpdir, "runtime")
    os.mkdir(runtime, 0o700)
    env["XDG_RUNTIME_DIR"] = runtime
    return env


def check_output(mode, out, shot):
    lines = [line.rstrip("\r") for line in out.splitlines()]
    if mode == "close":
        m = [re.fullmatch(r"closed while running: cancelled (\d+) jobs?", l)
             for l in lines]
        counts = [int(x.group(1)) for x in m if x]
        if len(counts) != 1 or counts[0] <= 0:
            raise Failure("expected one line 'closed while running: "
                          "cancelled N jobs' with N > 0")
        if lines.count("done callback ran") != 1:
            raise Failure("expected one line 'done callback ran'")
        return f"cancelled {counts[0]} jobs on close"
    if mode == "skeleton":
        expected = ["job started", "cleanup: button re-enabled", "run over: window destroyed"]
        if lines != expected:
            raise Failure("skeleton lines differ.\n  expected: %r\n  got:      %r" % (expected, lines))
        return "cleanup ran before the window was destroyed"

    jobs = [l for l in lines if l.startswith("job ")]
    if jobs != EXPECTED_JOBS:
        raise Failure("job lines differ.\n  expected: %r\n  got:      %r"
                      % (EXPECTED_JOBS, jobs))
    ticks = [re.fullmatch(r"heartbeat ticks during crunch: (\d+)", l)
             for l in lines]
    ticks = [int(x.group(1)) for x in ticks if x]
    if len(ticks) != 1:
        raise Failure("expected one line 'heartbeat ticks during crunch: N'")
    if ticks[0] <= 0:
        raise Failure("the UI heartbeat did not tick while crunch ran "
                      "(the window was not responsive)")
    shots = [l[len("screenshot: "):] for l in lines
             if l.startswith("screenshot: ")]
    if len(shots) != 1:
        raise Failure("expected one line 'screenshot: PATH'")
    if not os.path.isabs(shots[0]):
        raise Failure(f"screenshot path {shots[0]!r} is not absolute")
    if os.path.realpath(shots[0]) != os.path.realpath(shot):
        raise Failure(f"screenshot written to {shots[0]}, asked for {shot}")
    if not os.path.isfile(shot):
        raise Failure(f"no screenshot at {shot}")
    w, h, colours = png_colour_count(shot)
    if colours < 2:
        raise Failure(f"screenshot {shot} ({w}x{h}) is blank: one colour")
    return f"heartbeat {ticks[0]}, screenshot {w}x{h} with >= {colours} colours"


def run(program, mode, timeout, tmpdir):
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        print("SKIP: Xvfb is not installed (Debian: apt install xvfb)")
        return SKIP
    server, display = start_xvfb(xvfb, tmpdir)
    child = None
    try:
        shot = os.path.join(tmpdir, "shot.png")
        env = child_env(display, tmpdir)
        if mode == "full":
            args = [program, "--demo", "--screenshot", shot]
        elif mode == "close":
            args = [program, "--demo=close"]
        else:
            args = [program]
            env["TRELLIS_SKELETON_SELF_TEST"] = "1"
        print("running:", " ".join(args), f"(DISPLAY={display})")
        start = time.monotonic()
        child = subprocess.Popen(args, env=env,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 preexec_fn=_own_group_dying_with_parent)
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(child)
            out, err = child.communicate(timeout=10)
            print(out, end="")
            sys.stderr.write(err)
            raise Failure(f"the program did not exit by itself "
                          f"within {timeout} s")
        elapsed = time.monotonic() - start
        print(out, end="")
        if err:
            sys.stderr.write(err)
        bad = [l for l in err.splitlines()
               if not any(re.search(p, l) for p in IGNORED_STDERR)]
        if child.returncode != 0:
            raise Failure(f"the program exited with status {child.returncode}")
        if bad:
            raise Failure(f"the program wrote {len(bad)} line(s) to stderr "
                          f"(first: {bad[0]!r})")
        summary = check_output(mode, out, shot)
        print(f"PASS ({mode}): exited 0 after {elapsed:.1f} s; {summary}")
        return 0
    finally:
        if child is not None and child.poll() is None:
            kill_group(child)
            child.wait()
        stop(server)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("program")
    ap.add_argument("--mode", choices=["full", "close", "skeleton"], default="full")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds the program may run (default 60)")
    opts = ap.parse_args()

    # A test runner stops a test that overruns with SIGTERM: turn it into an
    # exception so that the finally clauses stop the X server.
    def on_term(signum, _frame):
        raise SystemExit(f"FAIL: killed by signal {signum}")
    signal.signal(signal.SIGTERM, on_term)

    with tempfile.TemporaryDirectory(prefix="trellis-gui-") as tmpdir:
        try:
            return run(os.path.abspath(opts.program), opts.mode,
                       opts.timeout, tmpdir)
        except Failure as e:
            sys.stderr.write(f"FAIL: {e}\n")
            return 1


if __name__ == "__main__":
    sys.exit(main())
