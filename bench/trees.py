#!/usr/bin/env python3
"""What install trees cost: `nodules-indexer trees` on the 10k synthetic registry (and on the
demo's database when NODULES_BENCH_TREES_DEMO_DB names it).

`make bench-trees` (release binaries, the development server through scripts/devdb):

1. The synthetic registry of 10,000 packages (bench/run.py's generator, seed 1) is ingested
   into a fresh database; the ingest's wall time is the reference of the same run.
2. `trees --all`: every latest version's tree resolved and costed. Reported: trees/s, the
   run's wall time against the ingest's, its peak RSS, the largest tree (packages) and the
   time and RSS of recomputing that one tree alone.
3. One publish of the most depended-upon package: a new version ingested, then `trees`
   (what a cron run does). Reported: how many trees it made stale, and the time to
   recompute them.

Results: bench/results/trees.json and a Markdown table on stdout.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
WORK = os.environ.get("NODULES_BENCH_DIR", "/tmp/nodules-bench")
SIZE = int(os.environ.get("NODULES_BENCH_TREES_SIZE", "10000"))
DB = f"nodules_bench_trees_{SIZE}"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(args, db):
    """Runs a release binary under /usr/bin/time: (seconds, peak RSS in MB, stdout)."""
    env = dict(os.environ, NODULES_DB=db, NODULES_LOG="warn")
    t = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M"] + args, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    secs = time.monotonic() - t
    if p.returncode != 0:
        raise SystemExit(f"bench-trees: {' '.join(args)} failed:\n{p.stderr[-3000:]}")
    rss = int(re.findall(r"maxrss_kb=(\d+)", p.stderr)[-1]) / 1024
    return secs, rss, p.stdout.strip()


def generated(size):
    d = os.path.join(WORK, f"gen-{size}")
    dump = os.path.join(d, "all_docs.json.gz")
    if not os.path.exists(dump):
        os.makedirs(d, exist_ok=True)
        subprocess.run([os.path.join(BIN, "nodules-gen"), "--packages", str(size), "--seed", "1", "--gzip",
                        "--out", d], check=True, stdout=subprocess.DEVNULL)
    return dump


def trees_measures(client, db_name, label):
    """`trees --all` on `db_name`, then its largest tree alone."""
    db = client[db_name]
    indexer = os.path.join(BIN, "nodules-indexer")
    secs, rss, line = run([indexer, "trees", "--all", "--commit-wait", "0s"], db_name)
    computed = int(re.search(r"(\d+) trees computed", line).group(1))
    largest = db.installs.find_one({}, sort=[("summary.packages", -1)],
                                   projection={"summary.packages": 1, "summary.size": 1, "nodes": {"$slice": 0}})
    row = {"db": label, "trees": computed, "trees_s": round(secs, 2), "trees_per_s": round(computed / secs, 1),
           "peak_rss_mb": round(rss), "summary": line}
    if largest:
        db.installs.update_one({"_id": largest["_id"]}, {"$set": {"stale": True}, "$inc": {"marks": 1}})
        one_s, one_rss, _ = run([indexer, "trees", "--commit-wait", "0s"], db_name)
        row.update({"largest": largest["_id"], "largest_packages": largest["summary"]["packages"],
                    "largest_s": round(one_s, 2), "largest_rss_mb": round(one_rss)})
    return row


def main():
    if not os.environ.get("MONGODB_URI"):
        raise SystemExit("bench-trees: MONGODB_URI is not set; run it through scripts/devdb run")
    import pymongo
    client = pymongo.MongoClient(os.environ["MONGODB_URI"])
    client.drop_database(DB)
    indexer = os.path.join(BIN, "nodules-indexer")
    dump = generated(SIZE)
    log(f"ingesting {dump}")
    ingest_s, _, _ = run([indexer, "ingest", dump], DB)
    results = {"size": SIZE, "ingest_s": round(ingest_s, 1)}
    row = trees_measures(client, DB, f"synthetic {SIZE:,}")
    row["over_ingest"] = round(row["trees_s"] / ingest_s, 2)
    results["synthetic"] = row
    log(json.dumps(row))

    # one publish of the most depended-upon package
    db = client[DB]
    top = db.dependents.find_one({}, sort=[("prod.count", -1)], projection={"prod.count": 1})
    name = top["_id"]
    members = db.installs.count_documents({"members": name})
    log(f"publishing a new version of {name} ({top['prod']['count']} dependents, member of {members} trees)")
    raw = dict(db.packages.find_one({"_id": name}, projection={"latest": 1}))
    # the synthetic dump's document for it, with one more version
    import gzip
    doc = None
    with gzip.open(dump, "rt") as f:
        for line in f:
            if f'"id":"{name}"' in line.replace(" ", ""):
                doc = json.loads(line.rstrip().rstrip(","))["doc"]
                break
    latest = raw["latest"]
    major, minor, patch = (int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)", latest).groups())
    new = f"{major}.{minor}.{patch + 1}"
    doc["versions"][new] = dict(doc["versions"][latest], version=new)
    doc["dist-tags"]["latest"] = new
    doc["_rev"] = "99-bench"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write('{"total_rows":1,"offset":0,"rows":[\n')
        f.write(json.dumps({"id": name, "key": name, "value": {"rev": doc["_rev"]}, "doc": doc}) + "\n]}\n")
        one = f.name
    run([indexer, "ingest", one], DB)
    secs, rss, line = run([indexer, "trees", "--commit-wait", "0s"], DB)
    computed = int(re.search(r"(\d+) trees computed", line).group(1))
    results["publish"] = {"package": name, "dependents": top["prod"]["count"], "member_of": members,
                          "trees_recomputed": computed, "seconds": round(secs, 2), "peak_rss_mb": round(rss),
                          "summary": line}
    log(json.dumps(results["publish"]))

    demo = os.environ.get("NODULES_BENCH_TREES_DEMO_DB")
    if demo:
        results["demo"] = trees_measures(client, demo, f"demo ({demo})")
        log(json.dumps(results["demo"]))

    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "trees.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("| database | trees | time | trees/s | ÷ ingest | peak RSS | largest tree | it alone |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for key in ("synthetic", "demo"):
        r = results.get(key)
        if not r:
            continue
        print(f"| {r['db']} | {r['trees']:,} | {r['trees_s']} s | {r['trees_per_s']} | {r.get('over_ingest', '–')} "
              f"| {r['peak_rss_mb']} MB | {r.get('largest', '–')} ({r.get('largest_packages', '–')} packages) "
              f"| {r.get('largest_s', '–')} s, {r.get('largest_rss_mb', '–')} MB |")
    p = results["publish"]
    print(f"\nOne publish of {p['package']} ({p['dependents']:,} dependents, a member of {p['member_of']:,} trees): "
          f"{p['trees_recomputed']:,} trees recomputed in {p['seconds']} s (peak RSS {p['peak_rss_mb']} MB).")


if __name__ == "__main__":
    main()
