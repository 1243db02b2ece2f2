#!/usr/bin/env python3
"""Prints the public headers under the include directory given (relative to
it, one per line, sorted): every .hpp a user may include, that is, all but
trellis/detail/, which only other headers include."""
import pathlib
import sys

root = pathlib.Path(sys.argv[1])
for path in sorted(root.rglob('*.hpp')):
    rel = path.relative_to(root).as_posix()
    if not rel.startswith('trellis/detail/'):
        print(rel)
