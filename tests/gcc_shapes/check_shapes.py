#!/usr/bin/env python3
"""Runs every shape of the g++ coroutine corpus and compares each result
with the table in expected.txt for this compiler.

usage: check_shapes.py SHAPES_EXE EXPECTED_TXT COMPILER_ID COMPILER_VERSION
COMPILER_ID is Meson's ('gcc' or 'clang'). Exits non-zero if a shape is
missing from the table or the table from the corpus, or if any shape's
result differs from the table's.
"""
import os
import subprocess
import sys


def column_for(compiler_id, version):
    if compiler_id == "gcc":
        return "g++<13" if int(version.split(".")[0]) < 13 else "g++>=13"
    if compiler_id == "clang":
        return "clang"
    raise SystemExit("no column in the table for compiler %s %s" % (compiler_id, version))


def read_table(path):
    header, rows = None, {}
    for line in open(path, encoding="utf-8"):
        words = line.split()
        if not words:
            continue
        if words[0] == "#":
            if len(words) > 2 and words[1] == "shape":
                header = words[2:]
            continue
        if line.startswith("#"):
            continue
        rows[words[0]] = dict(zip(header, words[1:]))
    return rows


def run_shape(exe, name):
    env = dict(os.environ)
    # Keep sanitizer reports short: the verdict is all that is wanted.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:print_legend=0")
    proc = subprocess.run([exe, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    return ("ok" if proc.returncode == 0 else "bad"), proc


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    exe, table_path, compiler_id, version = argv[1:]
    column = column_for(compiler_id, version)
    table = read_table(table_path)
    shapes = subprocess.run([exe], stdout=subprocess.PIPE, check=True, text=True).stdout.split()
    problems = []
    for name in sorted(set(table) - set(shapes)):
        problems.append("%s: in the table but not in the corpus" % name)
    for name in shapes:
        if name not in table:
            problems.append("%s: in the corpus but not in the table" % name)
            continue
        expected = table[name][column]
        got, proc = run_shape(exe, name)
        print("%-40s expected %-4s got %s" % (name, expected, got))
        if got != expected:
            detail = proc.stderr.decode(errors="replace").strip().splitlines()[:6]
            problems.append("%s: expected %s with %s, got %s (exit %d)\n    %s" % (
                name, expected, column, got, proc.returncode, "\n    ".join(detail)))
    for p in problems:
        print("MISMATCH " + p, file=sys.stderr)
    print("%d shapes checked against the %s column, %d problems" % (len(shapes), column, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
