#!/usr/bin/env python3
"""Page weights of the demo: uncompressed HTML bytes of every sample package's module,
versions, dependents and tree pages, and of compare pages, from a running webapp.

Usage: bench/page_weights.py BASE_URL [NAMES_FILE]   (the demo serves http://127.0.0.1:8080;
NAMES_FILE defaults to sample/packages.txt). Prints a Markdown summary: the largest pages,
how many are over 200 kB, and react's, typescript's and @types/node's module pages (the
issue's targets: under 100 kB; before issue 26: 645 kB, 690 kB).
"""
import os
import sys
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def size(base, path):
    try:
        with urllib.request.urlopen(base.rstrip("/") + path, timeout=60) as r:
            return r.status, len(r.read())
    except urllib.error.HTTPError as e:
        return e.code, len(e.read())


def main():
    base = sys.argv[1]
    names_file = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "sample", "packages.txt")
    names = [l.strip() for l in open(names_file) if l.strip() and not l.startswith("#")]
    rows = []
    for n in names:
        q = urllib.parse.quote(n, safe="@/")
        for kind, path in (("module", f"/package/{q}"), ("versions", f"/package/{q}/versions"),
                           ("dependents", f"/package/{q}/dependents"), ("tree", f"/package/{q}/tree")):
            status, n_bytes = size(base, path)
            if status == 200:
                rows.append((n_bytes, kind, n))
    for a, b in zip(names[::2], names[1::2]):
        status, n_bytes = size(base, f"/compare/{urllib.parse.quote(a, safe='@/')},{urllib.parse.quote(b, safe='@/')}")
        if status == 200:
            rows.append((n_bytes, "compare", f"{a},{b}"))
    rows.sort(reverse=True)
    over = [r for r in rows if r[0] > 200_000]
    print(f"{len(rows)} pages of {len(names)} packages; over 200 kB: {len(over)}; largest:")
    print("\n| bytes | page | package |\n| ---: | --- | --- |")
    for b, kind, n in rows[:10]:
        print(f"| {b:,} | {kind} | {n} |")
    print("\nTargets (module pages under 100 kB):")
    for n in ("react", "typescript", "@types/node"):
        found = [b for b, kind, m in rows if m == n and kind == "module"]
        print(f"- {n}: {found[0]:,} bytes" if found else f"- {n}: not in the sample")


if __name__ == "__main__":
    main()
