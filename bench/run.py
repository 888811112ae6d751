#!/usr/bin/env python3
"""`make bench`: the indexer at registry scale, measured against references taken in the
same run. For each size: generate a synthetic registry (cached), time a bare JSON parse of
the dump and `ingest --dry-run` (ratio), ingest into a fresh database and time a plain
`insert_many` of as many documents (fraction of the server's ceiling), follow the update
feed, rerank, rebuild, read dependents pages by key, measure disk. Prints a Markdown table.

Also the search index at each size: build time and peak RSS, query latencies, the time
from a package write to its appearance in results (`nodules-bench-search`).

Usage: bench/run.py [--quick] [--resume] [SIZES...]   (default: 10000 100000; `make bench-1m`
runs 1000000 with --resume on a kept database, over several sittings if need be)
Needs MONGODB_URI (scripts/devdb run sets it) and release binaries in target/release.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time

from dbtime import db_time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
WORK = os.environ.get("NODULES_BENCH_DIR", "/tmp/nodules-bench")


class StepFailed(Exception):
    pass


def server_pid():
    """The development server's pid (None with MONGODB_URI elsewhere)."""
    try:
        with open(os.path.join(os.environ["NODULES_DEV_DB_DIR"], "secantusd.pid")) as f:
            return int(f.read().strip())
    except (KeyError, OSError, ValueError):
        return None


class ServerRss:
    """Samples the development server's RSS twice a second while a step runs: the
    server holds every query's whole result in its own memory, so its peak matters at 1M."""

    def __init__(self):
        self.pid, self.peak_mb, self._stop = server_pid(), None, threading.Event()

    def __enter__(self):
        if self.pid:
            threading.Thread(target=self._sample, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop.set()

    def _sample(self):
        while not self._stop.wait(0.5):
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    kb = int(next(line for line in f if line.startswith("VmRSS:")).split()[1])
            except (OSError, StopIteration, ValueError):
                return
            self.peak_mb = max(self.peak_mb or 0, kb / 1024)


class Heartbeat:
    """Calls `beat` every minute while a step runs: a sitting killed with the machine
    (a session's end) still tells how long it ran."""

    def __init__(self, beat):
        self.beat, self._stop = beat, threading.Event()

    def __enter__(self):
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop.set()

    def _run(self):
        while not self._stop.wait(60):
            self.beat()


def sitting_s(x):
    return x.get("s", x["last_alive"] - x["started"])


def run(args, env=None, quiet=True):
    """Runs a command; returns (seconds, peak RSS in MB, stdout, stderr)."""
    started = time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = p.communicate()
    secs = time.monotonic() - started
    if p.returncode != 0:
        tail = err.decode(errors="replace")[-3000:]
        sys.stderr.write(tail)
        raise StepFailed(f"failed after {secs:.0f} s (exit {p.returncode}): {' '.join(args)}: {tail.strip().splitlines()[-1:] }")
    rss = peak_from_log(err.decode(errors="replace"))
    return secs, rss, out.decode(errors="replace"), err.decode(errors="replace")


def timed(args, env=None):
    """Like run, but measures peak RSS with /usr/bin/time (for programs that do not log it)."""
    secs, _, out, err = run(["/usr/bin/time", "-f", "maxrss_kb=%M"] + args, env=env)
    m = re.findall(r"maxrss_kb=(\d+)", err)
    return secs, (int(m[-1]) / 1024 if m else None), out, err


def peak_from_log(err):
    m = re.findall(r"peak_rss_kb=(\d+)", err)
    return int(m[-1]) / 1024 if m else None


def field(err, name):
    m = re.findall(name + r"=\"?([0-9.]+)", err)
    return float(m[-1]) if m else None


def env_for(db):
    e = dict(os.environ)
    e["NODULES_DB"] = db
    e["RUST_LOG"] = "info"
    e["NODULES_DB_TALLY"] = "1"  # `database time` lines: commands, statements, time per collection
    return e


def writes(rows):
    """Statements of insert/update/delete commands."""
    return sum(r[3] for r in rows if r[0] in ("insert", "update", "delete"))


def bench_size(n, quick=False, resume=False):
    """One size. With `resume`, each finished step's figures are kept in
    $NODULES_BENCH_DIR/scale-N.json and the database is kept between runs, so that a size
    that takes hours (1M) can be measured over several sittings: a rerun skips the steps
    already done; an interrupted ingest goes on where it stopped (its sittings are listed)."""
    gen = os.path.join(WORK, f"gen-{n}")
    dump = os.path.join(gen, "all_docs.json")
    if not os.path.exists(os.path.join(gen, "manifest.json")):
        os.makedirs(gen, exist_ok=True)
        args = [os.path.join(BIN, "nodules-gen"), "--packages", str(n), "--seed", "1", "--out", gen]
        if n >= 1_000_000:
            args.append("--gzip")
            dump += ".gz"
        run(args)
    if not os.path.exists(dump):
        dump += ".gz"
    updates = os.path.join(gen, "updates.ndjson")
    if not os.path.exists(updates):
        updates += ".gz"
    manifest = json.load(open(os.path.join(gen, "manifest.json")))
    # MB/s of the JSON itself: a gzipped dump's uncompressed size (the manifest has it)
    size_mb = manifest.get("files", {}).get("all_docs", {}).get("uncompressed_bytes", os.path.getsize(dump)) / 1e6
    db = f"bench_{n}"
    env = env_for(db)
    state = os.path.join(WORK, f"scale-{n}.json")
    r = json.load(open(state)) if resume and os.path.exists(state) else {}
    r.update({"n": n, "dump_mb": size_mb})

    def done(*keys):
        if resume and all(k in r for k in keys):
            print(f"   kept from {state}: {', '.join(keys)}", file=sys.stderr, flush=True)
            return True
        return False

    def save(quiet=False):
        if not quiet:
            print(json.dumps(r, indent=1), file=sys.stderr, flush=True)  # kept if a later step fails
        if resume:
            with open(state + ".tmp", "w") as f:
                json.dump(r, f, indent=1)
            os.replace(state + ".tmp", state)

    def sitting(step, command):
        """Runs `command` as one more sitting of `step` (ingest, rerank): its time is the sum
        of the sittings, a killed one counting until its last heartbeat (at most a minute
        short). Returns the command's (peak RSS, stdout, stderr)."""
        this = {"started": time.time(), "last_alive": time.time()}
        r[f"{step}_sittings"].append(this)
        save()
        with Heartbeat(lambda: (this.update(last_alive=time.time()), save(quiet=True))):
            secs, rss, out, err = command()
        this.update(s=secs, summary=(out.strip().splitlines() or [""])[-1], last_alive=time.time())
        r[f"{step}_s"] = sum(sitting_s(x) for x in r[f"{step}_sittings"])
        return rss, out, err

    if not done("parse_s", "dry_s"):
        r["parse_s"], r["parse_rss"], _, _ = timed([os.path.join(BIN, "nodules-bench-parse"), dump])
        r["dry_s"], r["dry_rss"], _, _ = run([os.path.join(BIN, "nodules-indexer"), "ingest", "--dry-run", dump], env=env)
        save()

    if not done("ingest_s"):
        if not (resume and r.get("ingest_sittings")):
            drop(env)
            r["ingest_sittings"] = []
        # else an interrupted ingest (a killed sitting): run it again on the kept database.
        # The packages stored before the kill have the same revision and are skipped as
        # unchanged; a batch cut short is written again (the indexer's own recovery).
        for k in [k for k in r if k.startswith(("ingest", "ceiling", "update", "edges", "rerank", "rebuild"))]:
            if k != "ingest_sittings":
                del r[k]  # everything after the ingest depends on it
        with ServerRss() as server:
            r["ingest_rss"], out, err = sitting("ingest", lambda: run([os.path.join(BIN, "nodules-indexer"), "ingest", dump], env=env))
        r["ingest_server_mb"] = server.peak_mb
        r["normalize_s"], r["database_s"] = field(err, "normalize_s"), field(err, "database_s")
        r["ingest_db"] = db_time(err)
        save()
    if not done("ceiling_docs_s"):
        r["ceiling_s"], _, out, _ = run([os.path.join(BIN, "nodules-bench-db"), "ceiling", str(n)], env=env)
        r["ceiling_docs_s"] = float(re.findall(r"([0-9.]+) docs/s", out)[-1])
        save()
    if not done("update_s"):
        r["update_s"], r["update_rss"], out, err = run([os.path.join(BIN, "nodules-indexer"), "ingest", updates], env=env)
        r["update_changes"] = sum(1 for _ in open_lines(updates))
        r["edges_touched"] = (field(err, "edges_added") or 0) + (field(err, "edges_removed") or 0)
        r["update_written"] = int(re.findall(r"ingested (\d+)", out)[-1]) + int(re.findall(r"deleted (\d+)", out)[-1])
        save()
    if quick:
        _, _, out, _ = run([os.path.join(BIN, "nodules-bench-db"), "disk"], env=env)
        r["disk"] = out.strip()
        if not resume:
            drop(env)
        return r
    if not done("rerank_s"):
        # a killed rerank leaves the lists it did not reach dirty: the next sitting goes on
        if not (resume and r.get("rerank_sittings")):
            r["rerank_sittings"] = []
        with ServerRss() as server:
            r["rerank_rss"], out, err = sitting("rerank", lambda: timed([os.path.join(BIN, "nodules-indexer"), "dependents", "--rerank"], env=env))
        r["rerank_db"], r["rerank_server_mb"] = db_time(err), server.peak_mb
        save()
    top = manifest.get("top_dependents", manifest.get("top", [{}]))
    top_name = top[0]["name"] if top and isinstance(top[0], dict) and "name" in top[0] else None
    if top_name and not done("pages"):
        _, _, out, _ = run([os.path.join(BIN, "nodules-bench-db"), "pages", top_name], env=env)
        r["pages"] = out.strip()
        got = int(re.findall(r"\((\d+) dependents\)", out)[0])
        expected = top[0].get("prod_dependents_after_updates", got)
        r["pages"] += f"; expected {expected} dependents after the update feed, found {got}"
        if got != expected:
            print(f"MISMATCH: {top_name} has {got} dependents, the generator says {expected}", file=sys.stderr)
        save()
    if not done("disk"):
        _, _, out, _ = run([os.path.join(BIN, "nodules-bench-db"), "disk"], env=env)
        r["disk"] = out.strip()
        save()
    # search: the webapp's first build from this database, query latencies, updates (at
    # 1M from the dump instead: `make bench-search-1m`)
    if n < 1_000_000 and not done("search"):
        search_dir = os.path.join(WORK, f"search-{n}")
        search = os.path.join(BIN, "nodules-bench-search")
        r["search"] = "\n".join(run([search, mode, search_dir], env=env)[2].strip() for mode in ("build", "queries", "update"))
        save()
    # last: it drops and rewrites every list the reads above measured
    if not done("rebuild_s") and not done("rebuild_failed"):
        with ServerRss() as server:
            try:
                r["rebuild_s"], r["rebuild_rss"], out, err = timed([os.path.join(BIN, "nodules-indexer"), "dependents", "--rebuild"], env=env)
                r["rebuild_db"] = db_time(err)
            except StepFailed as e:
                r["rebuild_failed"] = str(e)
        r["rebuild_server_mb"] = server.peak_mb
        save()
    if not resume:
        drop(env)
    return r


def open_lines(path):
    if path.endswith(".gz"):
        import gzip
        return gzip.open(path, "rt")
    return open(path)


def drop(env):
    code = "import os,pymongo; pymongo.MongoClient(os.environ['MONGODB_URI']).drop_database(os.environ['NODULES_DB'])"
    python = os.path.join(ROOT, ".venv", "bin", "python")
    subprocess.run([python, "-c", code], env=env, check=True)


def table(results):
    rows = [
        ("dump (MB of JSON)", lambda r: f"{r['dump_mb']:,.0f}"),
        ("bare `serde_json::Value` parse (s)", lambda r: f"{r['parse_s']:.1f}"),
        ("`ingest --dry-run` (s)", lambda r: f"{r['dry_s']:.1f}"),
        ("**dry run / bare parse**", lambda r: f"**{r['dry_s'] / r['parse_s']:.2f}**"),
        ("dry-run peak RSS (MB)", lambda r: f"{r['dry_rss']:.0f}"),
        ("ingest into the dev server (s)", lambda r: f"{r['ingest_s']:.1f}"),
        ("ingest: packages/s, MB/s", lambda r: f"{r['n'] / r['ingest_s']:.0f}, {r['dump_mb'] / r['ingest_s']:.1f}"),
        ("ingest: parse+normalize / database (s)", lambda r: f"{r['normalize_s']:.1f} / {r['database_s']:.1f}"),
        ("ingest peak RSS (MB)", lambda r: f"{r['ingest_rss']:.0f}"),
        ("plain `insert_many` of as many docs (docs/s)", lambda r: f"{r['ceiling_docs_s']:.0f}"),
        ("**ingest packages/s ÷ ceiling docs/s**", lambda r: f"**{(r['n'] / r['ingest_s']) / r['ceiling_docs_s']:.4f}**"),
        ("ingest: documents written (insert, update, delete statements)", lambda r: f"{writes(r.get('ingest_db', [])):,}"),
        ("**ingest statements/s (database time) ÷ ceiling docs/s**", lambda r: f"**{writes(r.get('ingest_db', [])) / max(r['database_s'], 1e-9) / r['ceiling_docs_s']:.2f}**"),
        ("update feed: changes, s, changes/s", lambda r: f"{r['update_changes']}, {r['update_s']:.1f}, {r['update_changes'] / r['update_s']:.0f}"),
        ("update feed: edges touched per written package", lambda r: f"{r['edges_touched'] / max(r['update_written'], 1):.1f}"),
        ("`dependents --rerank` (s, peak MB, database commands)", lambda r: "not run" if "rerank_s" not in r else f"{r['rerank_s']:.1f}, {'—' if r.get('rerank_rss') is None else format(r['rerank_rss'], '.0f')}, {sum(x[2] for x in r.get('rerank_db', [])):,}" + (f" ({r['rerank_note']})" if r.get("rerank_note") else "")),
        ("`dependents --rebuild` (s, peak MB, database commands)", lambda r: r.get("rebuild_failed", "not run") if "rebuild_s" not in r else f"{r['rebuild_s']:.1f}, {r['rebuild_rss'] or 0:.0f}, {sum(x[2] for x in r.get('rebuild_db', [])):,}"),
        ("development server's peak RSS during ingest, rerank, rebuild (MB)", lambda r: ", ".join("—" if r.get(k) is None else f"{r[k]:,.0f}" for k in ("ingest_server_mb", "rerank_server_mb", "rebuild_server_mb"))),
    ]
    head = "| | " + " | ".join(f"{r['n']:,}" for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(f(r) for r in results) + " |")
    for r in results:
        lines.append("")
        lines.append(f"{r['n']:,} packages — dependents reads: " + r.get("pages", "n/a").replace("\n", "; "))
        lines.append(f"{r['n']:,} packages — disk: " + r["disk"])
        for step, last in (("ingest", "its database time by command below is the last sitting's"),
                           ("rerank", "its peak RSS and database commands are the last sitting's")):
            sittings = r.get(f"{step}_sittings", [])
            if len(sittings) > 1:
                lines.append(f"{r['n']:,} packages — the {step} ran in {len(sittings)} sittings (each went on on the kept database): "
                             + "; ".join(f"{sitting_s(x):,.0f} s" + (f" ({x['summary']})" if "summary" in x else " (killed)") for x in sittings)
                             + f"; {last}.")
        if r.get("ingest_db"):
            lines.append("")
            lines.append(f"{r['n']:,} packages — ingest's database time by command (from the driver's command events):")
            lines.append("")
            lines.append("| command | collection | commands | statements | s | ms per statement |")
            lines.append("|---|---|---|---|---|---|")
            for c, coll, cmds, sts, secs in r["ingest_db"][:10]:
                lines.append(f"| {c} | {coll} | {cmds:,} | {sts:,} | {secs:.1f} | {secs * 1000 / max(sts, 1):.3f} |")
        lines.append("")
        lines.append(f"{r['n']:,} packages — search:\n\n" + r.get("search", "n/a"))
    return "\n".join(lines)


def main():
    quick = "--quick" in sys.argv  # ingest, ceiling, update feed and disk only
    resume = "--resume" in sys.argv  # keep each step's figures and the database between runs
    sizes = [int(s) for s in sys.argv[1:] if not s.startswith("--")] or [10_000, 100_000]
    os.makedirs(WORK, exist_ok=True)
    results = []
    for n in sizes:
        print(f"== {n:,} packages", file=sys.stderr, flush=True)
        try:
            results.append(bench_size(n, quick, resume))
        except StepFailed as e:
            raise SystemExit(f"{n:,} packages: {e}")
        print(json.dumps(results[-1], indent=1), file=sys.stderr, flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
