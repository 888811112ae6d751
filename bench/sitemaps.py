#!/usr/bin/env python3
"""Sitemaps at scale: `nodules-webapp sitemaps` on synthetic stores of N packages.

`make bench-sitemaps` (release binaries, the development server through scripts/devdb;
sizes from NODULES_BENCH_SITEMAP_SIZES, default "100000 1000000").

The store. Building a 1M store through the indexer takes hours on the development server
(`make bench-1m`), so each store here is made of package records inserted directly, shaped
as the indexer writes them for what sitemaps read (`_id`, `state`, `seq`, `written_at`,
`kw`, `people`) plus a latest version of a typical record's size (~1.5 kB: description,
keywords, maintainers, dist), so the server decodes what it would decode. 1% are
unpublished (left out of the sitemaps), names are 10% scoped, 3 keywords and 2 people each
from vocabularies of 20,000 and 50,000.

Measured per size, in the same run:
- `sitemaps` wall time and our peak RSS (/usr/bin/time), the development server's peak RSS
  while it runs (sampled), URLs and shards written;
- the reference: a bare scan of the same records with the same projection by pymongo (a
  cursor, nothing else done), whose time is the least any generator must spend reading.
Target: our peak RSS and the server's independent of N (windowed reads, spilled partitions).

Results: bench/results/sitemaps.json, and a table on stdout for BENCHMARKS.md.
"""

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from run import server_pid  # bench/run.py: the development server's pid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
SIZES = [int(x) for x in os.environ.get("NODULES_BENCH_SITEMAP_SIZES", "100000 1000000").split()]
BATCH = 5000


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(next(line for line in f if line.startswith("VmRSS:")).split()[1]) / 1024
    except (OSError, StopIteration, ValueError):
        return None


class PeakRss:
    """The development server's peak RSS while a step runs (sampled 5 times a second)."""

    def __init__(self):
        self.pid, self.peak, self.start, self._stop = server_pid(), None, None, threading.Event()

    def __enter__(self):
        if self.pid:
            self.start = rss_mb(self.pid)
            threading.Thread(target=self._run, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop.set()

    def _run(self):
        while not self._stop.wait(0.2):
            r = rss_mb(self.pid)
            if r is not None:
                self.peak = max(self.peak or 0, r)


def records(n, rng):
    from datetime import datetime, timezone
    kw_vocab = [f"kw{i}" for i in range(20000)]
    people = [f"person {i}" for i in range(50000)]
    written = datetime(2026, 12, 1, tzinfo=timezone.utc)
    for i in range(n):
        name = f"@scope{i % 997}/pkg-{i:07}" if i % 10 == 0 else f"pkg-{i:07}"
        kw = sorted({rng.choice(kw_vocab) for _ in range(3)})
        ppl = sorted({rng.choice(people) for _ in range(2)})
        yield {
            "_id": name,
            "state": "unpublished" if i % 100 == 99 else "active",
            "seq": i + 1,
            "written_at": written,
            "modified": written,
            "kw": kw,
            "people": ppl,
            "latest": "1.0.0",
            "latest_version": {
                "version": "1.0.0",
                "description": "A synthetic package for the sitemap benchmark. " * 8,
                "keywords": kw,
                "author": {"name": ppl[0]},
                "maintainers": [{"name": p, "email": f"{p.replace(' ', '.')}@example.test"} for p in ppl],
                "dist": {"tarball": f"http://registry.test/{name}/-/pkg-1.0.0.tgz",
                         "integrity": "sha512-" + "A" * 86 + "==", "shasum": "0" * 40},
                "dependencies": [[f"dep-{j}", "^1.0.0"] for j in range(8)],
            },
        }


def build_store(db, n):
    """Inserts n records (once: a store already holding them is reused)."""
    packages = db["packages"]
    if packages.estimated_document_count() == n:
        log(f"{n}: store already built")
        return
    db.drop_collection("packages")
    db.drop_collection("counters")
    rng = random.Random(1)
    t = time.monotonic()
    batch = []
    for r in records(n, rng):
        batch.append(r)
        if len(batch) == BATCH:
            packages.insert_many(batch, ordered=False)
            batch = []
            done = r["seq"]
            if done % 100000 == 0:
                log(f"{n}: {done} inserted ({time.monotonic() - t:.0f} s)")
    if batch:
        packages.insert_many(batch, ordered=False)
    db["counters"].update_one({"_id": "package_seq"}, {"$set": {"value": n}}, upsert=True)
    log(f"{n}: inserted in {time.monotonic() - t:.0f} s")


def bare_scan(db, n):
    """The reference: every record read once with the generator's projection, in seq windows
    as the generator reads (a single cursor makes the development server hold the whole
    result), nothing done with them."""
    projection = {"_id": 1, "state": 1, "written_at": 1, "modified": 1, "kw": 1, "people": 1}
    t = time.monotonic()
    seen = 0
    window = 5000
    for lo in range(0, n, window):
        for _ in db["packages"].find({"seq": {"$gt": lo, "$lte": lo + window}}, projection):
            seen += 1
    return time.monotonic() - t, seen


def main():
    if not os.environ.get("MONGODB_URI"):
        raise SystemExit("bench-sitemaps: MONGODB_URI is not set; run it through scripts/devdb run")
    import pymongo
    client = pymongo.MongoClient(os.environ["MONGODB_URI"])
    results = []
    for n in SIZES:
        name = f"nodules_bench_sitemaps_{n}"
        db = client[name]
        build_store(db, n)
        env = dict(os.environ, NODULES_DB=name, NODULES_LOG="info")
        # the indexes, as every command makes them
        subprocess.run([os.path.join(BIN, "nodules-indexer"), "status"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = tempfile.mkdtemp(prefix=f"nodules-sitemaps-{n}-")
        with PeakRss() as server:
            t = time.monotonic()
            p = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M", os.path.join(BIN, "nodules-webapp"),
                                "sitemaps", "--out", out, "--base-url", "https://nodules.example"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            secs = time.monotonic() - t
        if p.returncode != 0:
            raise SystemExit(f"bench-sitemaps: sitemaps failed at {n}: {p.stderr[-2000:]}")
        ours = int(re.findall(r"maxrss_kb=(\d+)", p.stderr)[-1]) / 1024
        line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        shards = len(os.listdir(os.path.join(out, "sitemaps")))
        size = sum(os.path.getsize(os.path.join(out, "sitemaps", f)) for f in os.listdir(os.path.join(out, "sitemaps")))
        with PeakRss() as ref_server:
            ref_s, ref_n = bare_scan(db, n)
        row = {
            "packages": n, "sitemaps_s": round(secs, 1), "our_peak_rss_mb": round(ours),
            "server_rss_before_mb": round(server.start or 0), "server_peak_rss_mb": round(server.peak or 0),
            "shards": shards, "gzip_bytes": size, "summary": line,
            "bare_scan_s": round(ref_s, 1), "bare_scan_records": ref_n,
            "bare_scan_server_peak_rss_mb": round(ref_server.peak or 0),
            "over_bare_scan": round(secs / ref_s, 2),
        }
        log(json.dumps(row))
        results.append(row)
        # run again: nothing changed, so no shard is rewritten
        t = time.monotonic()
        p = subprocess.run([os.path.join(BIN, "nodules-webapp"), "sitemaps", "--out", out, "--base-url",
                            "https://nodules.example"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        row["second_run_s"] = round(time.monotonic() - t, 1)
        row["second_run_summary"] = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "sitemaps.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("| packages | sitemaps | bare scan (reference) | ratio | our peak RSS | server peak RSS (before) | shards | second run |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['packages']:,} | {r['sitemaps_s']} s | {r['bare_scan_s']} s | {r['over_bare_scan']} | "
              f"{r['our_peak_rss_mb']} MB | {r['server_peak_rss_mb']} MB ({r['server_rss_before_mb']} MB) | "
              f"{r['shards']} | {r['second_run_s']} s |")


if __name__ == "__main__":
    main()
