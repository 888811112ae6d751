#!/usr/bin/env python3
"""The live stream's latency: from the indexer's write of a change to its event on the wire.

`make bench-stream` (release binaries, the development server through scripts/devdb):

1. A database of NODULES_BENCH_STREAM_BASE packages (default 2,000) is ingested from a
   generated dump, and one webapp is started with CLIENTS stream clients connected (default
   100, each a plain socket read in its own thread).
2. ROUNDS times (default 40), a dump with one more version of `live-bench` and 50 other
   changed packages (a busy minute of the registry) is ingested with `nodules-indexer ingest`.
   Each event's `at` is the indexer's clock at its batch's write; each client notes when the
   event reached it. Latency = arrival - at (one machine, one clock).
3. Reported: p50, p90 and max over every (round, client), against the target (p50 <= 1.5 s),
   and against a reference measured in the same run: the indexer command's own wall time
   for the same ingest (what a follower of the registry pays before any reader can know).

Results: bench/results/stream.json (and a line on stdout for BENCHMARKS.md).
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
DB = "nodules_bench_stream"
ROUNDS = int(os.environ.get("NODULES_BENCH_STREAM_ROUNDS", "40"))
CLIENTS = int(os.environ.get("NODULES_BENCH_STREAM_CLIENTS", "100"))
BASE = int(os.environ.get("NODULES_BENCH_STREAM_BASE", "2000"))
OTHERS = 50


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def packument(name, versions):
    vs = {v: {"name": name, "version": v, "description": f"{name} for the stream bench",
              "keywords": ["bench"], "dist": {"tarball": f"http://registry.test/{name}/-/{name}-{v}.tgz"}}
          for v in versions}
    return {"_id": name, "name": name, "dist-tags": {"latest": versions[-1]}, "versions": vs,
            "time": {v: "2026-12-07T00:00:00.000Z" for v in versions}}


def dump(path, docs, rev):
    """An `_all_docs` dump of `docs`, each at revision `rev` (a new one is written, not skipped)."""
    with open(path, "w") as f:
        f.write('{"total_rows":%d,"offset":0,"rows":[\n' % len(docs))
        f.write(",\n".join(json.dumps({"id": d["_id"], "key": d["_id"], "value": {"rev": rev}, "doc": d})
                           for d in docs))
        f.write("\n]}\n")


def ingest(env, path):
    t = time.monotonic()
    out = subprocess.run([os.path.join(BIN, "nodules-indexer"), "ingest", path], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench-stream: ingest failed: {out.stderr[-2000:]}")
    return time.monotonic() - t


class Client(threading.Thread):
    """One stream client: notes (key, arrival) of every `live-bench` publish."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.seen, self.ready = port, {}, threading.Event()

    def run(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(b"GET /api/v1/stream?package=live-bench HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return
            now = time.time()
            buf += chunk
            if not self.ready.is_set() and b"\r\n\r\n" in buf:
                self.ready.set()
            for line in buf.split(b"\n")[:-1]:
                if line.startswith(b"data: {"):
                    try:
                        e = json.loads(line[6:])
                    except ValueError:
                        continue  # chunked framing split the line: the next read has it whole
                    if e.get("kind") == "publish":
                        self.seen.setdefault(e["version"], (now, e["at"]))
            buf = buf.split(b"\n")[-1]


def main():
    if not os.environ.get("MONGODB_URI"):
        raise SystemExit("bench-stream: MONGODB_URI is not set; run it through scripts/devdb run")
    import pymongo
    pymongo.MongoClient(os.environ["MONGODB_URI"]).drop_database(DB)
    env = dict(os.environ, NODULES_DB=DB, NODULES_LOG="warn")
    work = tempfile.mkdtemp(prefix="nodules-bench-stream-")
    base = os.path.join(work, "base.json")
    dump(base, [packument(f"bench-{i:05}", ["1.0.0"]) for i in range(BASE)] + [packument("live-bench", ["0.0.0"])], "1-x")
    log(f"ingesting {BASE} packages")
    ingest(env, base)
    port = free_port()
    web = subprocess.Popen([os.path.join(BIN, "nodules-webapp"), "serve", "--listen", f"127.0.0.1:{port}",
                            "--index-dir", os.path.join(work, "index"), "--rate-limit", "0"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.1)
        clients = [Client(port) for _ in range(CLIENTS)]
        for c in clients:
            c.start()
        for c in clients:
            c.ready.wait(30)
        latencies, ingest_s = [], []
        versions = ["0.0.0"]
        for r in range(ROUNDS):
            versions.append(f"1.0.{r}")
            path = os.path.join(work, f"round-{r}.json")
            others = [packument(f"bench-{(r * OTHERS + i) % BASE:05}", ["1.0.0", f"1.1.{r}"]) for i in range(OTHERS)]
            dump(path, others + [packument("live-bench", list(versions))], f"{r + 2}-x")
            ingest_s.append(ingest(env, path))
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not all(versions[-1] in c.seen for c in clients):
                time.sleep(0.02)
            for c in clients:
                if versions[-1] in c.seen:
                    arrived, at = c.seen[versions[-1]]
                    latencies.append(arrived - datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())
            missing = sum(1 for c in clients if versions[-1] not in c.seen)
            if missing:
                log(f"round {r}: {missing} clients did not get the event within 15 s")
        latencies.sort()
        q = statistics.quantiles(latencies, n=10)
        result = {
            "rounds": ROUNDS, "clients": CLIENTS, "base_packages": BASE, "changed_per_round": OTHERS + 1,
            "events_measured": len(latencies), "expected": ROUNDS * CLIENTS,
            "p50_s": round(statistics.median(latencies), 3), "p90_s": round(q[8], 3),
            "max_s": round(latencies[-1], 3),
            "reference_ingest_wall_s_median": round(statistics.median(ingest_s), 3),
        }
        result["p50_over_ingest"] = round(result["p50_s"] / result["reference_ingest_wall_s_median"], 2)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", "stream.json"), "w") as f:
            json.dump(result, f, indent=1)
        print(json.dumps(result))
        if result["p50_s"] > 1.5:
            raise SystemExit(f"bench-stream: p50 {result['p50_s']} s is over the 1.5 s target")
    finally:
        web.terminate()
        web.wait(20)


if __name__ == "__main__":
    main()
