#!/usr/bin/env python3
"""Checks that every ```cpp block of the README appears verbatim in one of
the given source files, so the README's code is always code that compiles.

usage: check_readme_snippets.py README.md source.cpp...
Trailing whitespace is ignored; everything else must match exactly.
"""
import re
import sys


def normalise(text):
    return "\n".join(line.rstrip() for line in text.splitlines())


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    readme = open(argv[1], encoding="utf-8").read()
    sources = [normalise(open(p, encoding="utf-8").read()) for p in argv[2:]]
    blocks = re.findall(r"^```cpp\n(.*?)^```", readme, flags=re.S | re.M)
    if not blocks:
        print("no ```cpp blocks found in " + argv[1], file=sys.stderr)
        return 1
    missing = [b for b in blocks if not any(normalise(b).strip("\n") in s for s in sources)]
    for b in missing:
        print("README block not found verbatim in the sources:\n" + b, file=sys.stderr)
    print("%d README C++ blocks checked, %d missing" % (len(blocks), len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
