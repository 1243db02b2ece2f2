#!/usr/bin/env python3
"""Checks that each compile-failure case fails to compile with exactly one
error, whose text contains the case's expected message.

usage: check_compile_fail.py BUILD_ROOT CASE.cpp...

Each case file starts with a line `// expect: <text>`. The case is compiled
(syntax only) with the exact command Meson generated for it, read from the
build's compile_commands.json, so flags, include paths and toolkit
dependencies are the build's own. One error means the user sees trellis's
message and nothing else: no "no matching function" with candidate lists,
no errors from inside trellis's templates after the message.
"""
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys

ERROR = re.compile(r'\berror\b:')


def command_for(entries, case):
    for entry in entries:
        if os.path.realpath(os.path.join(entry['directory'], entry['file'])) == case:
            args = entry.get('arguments') or shlex.split(entry['command'])
            # Drop the object output and the dependency file: syntax only.
            out = []
            skip = False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a in ('-o', '-MF', '-MQ', '-MT'):
                    skip = True
                    continue
                if a in ('-MD', '-MMD'):
                    continue
                out.append(a)
            return out + ['-fsyntax-only', '-fno-diagnostics-color'], entry['directory']
    raise SystemExit(f'{case}: not in compile_commands.json (is it listed in meson.build?)')


def check(entries, case):
    with open(case) as f:
        first = f.readline().strip()
    if not first.startswith('// expect: '):
        return f'{case}: the first line must be "// expect: <message text>"'
    expected = first[len('// expect: '):]
    args, directory = command_for(entries, case)
    proc = subprocess.run(args, cwd=directory, capture_output=True, text=True)
    errors = [line for line in proc.stderr.splitlines() if ERROR.search(line)]
    name = os.path.basename(case)
    if proc.returncode == 0:
        return f'{name}: compiled, but must not'
    if len(errors) != 1 or expected not in errors[0]:
        shown = '\n'.join(proc.stderr.splitlines()[:60])
        return (f'{name}: expected exactly one error containing "{expected}", got {len(errors)}:\n'
                + '\n'.join('  ' + e for e in errors[:10]) + f'\n--- compiler output (head) ---\n{shown}')
    return None


def main():
    build_root, cases = sys.argv[1], [os.path.realpath(c) for c in sys.argv[2:]]
    with open(os.path.join(build_root, 'compile_commands.json')) as f:
        entries = json.load(f)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        failures = [r for r in pool.map(lambda c: check(entries, c), cases) if r]
    for case in cases:
        print(('FAIL ' if any(os.path.basename(case) + ':' in f for f in failures) else 'ok   ')
              + os.path.basename(case))
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
