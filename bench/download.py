#!/usr/bin/env python3
"""`make bench-download`: the downloader on ~300 real tarballs, against a reference taken in
the same run.

The packages of sample/packages.txt are fetched once from the registry npm uses (`npm config
get registry`) into a cache: each package document and its latest tarball. A local registry
(a threaded http.server on 127.0.0.1) then serves them, with every `dist.tarball` pointing at
itself, so the network is out of the measurement. Against a fresh database:

  1. `nodules-indexer fetch` queues one download per package (not timed);
  2. reference (a `curl | tee >(sha512sum) | tar xz` per tarball, one after another) and
     `nodules-downloader run --once --dry-run`, alternated twice: ratio of the best times;
  3. `run --once` with writes: wall time, peak RSS, files/s, MB/s, and the stored blobs per
     second against a plain `insert_many` of as many documents of their average size;
  4. disk per 1,000 packages; peak RSS of the same run on the first 100 packages.

Prints a Markdown section and writes it to bench/results/download.md.

Usage: bench/download.py [--limit N] [--small N]
Needs MONGODB_URI (scripts/devdb run sets it; without it the script runs itself under
`scripts/devdb run`) and release binaries in target/release (`make build`).
"""
import argparse
import concurrent.futures
import gzip
import hashlib
import base64
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from dbtime import db_time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
WORK = os.environ.get("NODULES_BENCH_DIR", "/tmp/nodules-bench")
CACHE = os.path.join(WORK, "download-cache")
RESULTS = os.path.join(ROOT, "bench", "results", "download.md")
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")
DB = "bench_download"
# Where the local registry's origin goes in cached documents (the port changes every run).
ORIGIN = b"@@NODULES_BENCH_ORIGIN@@"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the cache


def npm_registry():
    url = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True, check=True).stdout.strip()
    if not url.startswith(("http://", "https://")):
        raise SystemExit(f"`npm config get registry` printed {url!r}, not an http(s) URL")
    return url if url.endswith("/") else url + "/"


def sample_names(path):
    names = []
    for line in open(path, encoding="utf-8"):
        name = line.split("#", 1)[0].strip()
        if name and name not in names:
            names.append(name)
    return names


def http_get(url, attempts=4):
    last = None
    for i in range(attempts):
        try:
            req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip", "User-Agent": "nodules-bench"})
            with urllib.request.urlopen(req, timeout=120) as r:
                body = r.read()
                if r.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                return body
        except urllib.error.HTTPError as e:
            if e.code == 404 or e.code < 500 and e.code != 429:
                raise RuntimeError(f"HTTP {e.code}") from None
            last = f"HTTP {e.code}"
        except (OSError, EOFError) as e:
            last = str(e)
        time.sleep(1 + 2 * i)
    raise RuntimeError(f"gave up after {attempts} tries: {last}")


def verify(data, dist):
    """dist.integrity (sha512 preferred), else dist.shasum; an error message or None."""
    integrity = dist.get("integrity") if isinstance(dist.get("integrity"), str) else ""
    for sri in integrity.split():
        algo, _, digest = sri.partition("-")
        if algo == "sha512":
            ok = base64.b64encode(hashlib.sha512(data).digest()).decode() == digest
            return None if ok else "sha512 integrity mismatch"
    if isinstance(dist.get("shasum"), str):
        return None if hashlib.sha1(data).hexdigest() == dist["shasum"].lower() else "shasum mismatch"
    return None


def tarball_stats(data):
    """Regular files and their unpacked bytes, as python's tarfile reads the tarball."""
    files = size = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        for m in t:
            if m.isfile():
                files += 1
                size += m.size
    return files, size


def quoted(name):
    return urllib.parse.quote(name, safe="@")


def cache_one(registry, name):
    """Fetches `name`'s document and latest tarball into the cache; returns its index entry."""
    body = http_get(registry + name.replace("/", "%2f"))
    doc = json.loads(body)
    latest = (doc.get("dist-tags") or {}).get("latest")
    version = (doc.get("versions") or {}).get(latest) if latest else None
    if not isinstance(version, dict) or not isinstance(version.get("dist"), dict):
        raise RuntimeError("no latest version with a dist")
    dist = version["dist"]
    tarball_url = dist.get("tarball")
    if not isinstance(tarball_url, str):
        raise RuntimeError("the latest version has no dist.tarball")
    data = http_get(tarball_url)
    bad = verify(data, dist)
    if bad:
        raise RuntimeError(bad)
    files, unpacked = tarball_stats(data)
    path = urllib.parse.urlsplit(tarball_url).path
    # every version's tarball points at the local registry (the origin is filled in when served)
    for v in doc.get("versions", {}).values():
        d = v.get("dist") if isinstance(v, dict) else None
        if isinstance(d, dict) and isinstance(d.get("tarball"), str):
            d["tarball"] = ORIGIN.decode() + urllib.parse.urlsplit(d["tarball"]).path
    doc_file = os.path.join("docs", quoted(name) + ".json.gz")
    tgz_file = os.path.join("tarballs", f"{quoted(name)}@{quoted(latest)}.tgz")
    write_atomic(os.path.join(CACHE, doc_file), gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), 1))
    write_atomic(os.path.join(CACHE, tgz_file), data)
    return {
        "version": latest,
        "path": path,
        "doc": doc_file,
        "tarball": tgz_file,
        "doc_bytes": len(body),
        "compressed": len(data),
        "files": files,
        "unpacked": unpacked,
    }


def write_atomic(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def fill_cache(registry, names):
    """The cache index {name: entry or {"error": why}}, fetching what is missing (and retrying
    what failed last time)."""
    index_path = os.path.join(CACHE, "index.json")
    index = {}
    if os.path.exists(index_path):
        stored = json.load(open(index_path))
        if stored.get("registry") == registry:
            index = stored.get("packages", {})
    todo = [
        n
        for n in names
        if "error" in index.get(n, {"error": "missing"})
        or not os.path.exists(os.path.join(CACHE, index[n]["tarball"]))
        or not os.path.exists(os.path.join(CACHE, index[n]["doc"]))
    ]
    if todo:
        log(f"fetching {len(todo)} package(s) into {CACHE} (once)")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = {pool.submit(cache_one, registry, n): n for n in todo}
            for i, f in enumerate(concurrent.futures.as_completed(futures), 1):
                name = futures[f]
                try:
                    index[name] = f.result()
                except Exception as e:  # one bad package never ends the run
                    index[name] = {"error": str(e) or type(e).__name__}
                    log(f"  {name}: {index[name]['error']}")
                if i % 50 == 0:
                    log(f"  {i}/{len(todo)}")
        write_atomic(index_path, json.dumps({"registry": registry, "packages": index}, indent=1).encode())
    return {n: index[n] for n in names}


# ---------------------------------------------------------------- the local registry


class LocalRegistry(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, entries):
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"
        self.origin = self.url.rstrip("/").encode()
        self.docs = {name: os.path.join(CACHE, e["doc"]) for name, e in entries.items()}
        self.tarballs = {e["path"]: os.path.join(CACHE, e["tarball"]) for e in entries.values()}
        self.tarball_requests = 0
        self.lock = threading.Lock()

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        server = self.server
        if path in server.tarballs:
            with server.lock:
                server.tarball_requests += 1
            with open(server.tarballs[path], "rb") as f:
                return self.reply(200, f.read(), "application/octet-stream")
        name = urllib.parse.unquote(path.lstrip("/"))
        if name in server.docs:
            with open(server.docs[name], "rb") as f:
                body = gzip.decompress(f.read()).replace(ORIGIN, server.origin)
            return self.reply(200, body, "application/json")
        self.reply(404, b'{"error":"not found"}', "application/json")

    def reply(self, status, body, kind):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


# ---------------------------------------------------------------- commands and the database


def env_for(db=DB):
    e = dict(os.environ)
    e["NODULES_DB"] = db
    e["RUST_LOG"] = "info"
    e["NODULES_DB_TALLY"] = "1"  # `database time` lines: commands, statements, time per collection
    e.pop("NODULES_REGISTRY", None)
    return e


def run(args, env=None, rss=False):
    """Runs a command; returns (seconds, stdout, stderr, peak RSS in KiB from /usr/bin/time)."""
    if rss:
        args = ["/usr/bin/time", "-f", "maxrss_kb=%M cpu_s=%U+%S"] + args
    os.sync()  # the previous step's dirty pages are written back now, not during this one
    started = time.monotonic()
    p = subprocess.run(args, capture_output=True, env=env)
    secs = time.monotonic() - started
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    if p.returncode != 0:
        sys.stderr.write(err[-3000:])
        raise SystemExit(f"failed ({p.returncode}): {' '.join(args)[:300]}")
    m = re.findall(r"maxrss_kb=(\d+)", err)
    return secs, out, err, (int(m[-1]) if m else None)


def server_cpu():
    """CPU seconds the development server has used so far (None with MONGODB_URI elsewhere)."""
    d = os.environ.get("NODULES_DEV_DB_DIR")
    try:
        with open(os.path.join(d, "secantusd.pid")) as f:
            pid = f.read().strip()
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (TypeError, OSError, ValueError, IndexError):
        return None


def server_cpu_since(before):
    """Server CPU seconds used since `before` (a `server_cpu()` reading), or None."""
    after = server_cpu()
    return after - before if before is not None and after is not None else None


def log_field(err, name):
    m = re.findall(name + r"=\"?([0-9.]+)", err)
    return float(m[-1]) if m else None


def summary(out, kinds):
    """Numbers of a summary line (`downloaded N, failed F, skipped S in T s`)."""
    r = {}
    for k in kinds:
        m = re.findall(rf"{k} (\d+)", out)
        r[k] = int(m[-1]) if m else None
    return r


MONGO_PRELUDE = """
import json, os, sys, pymongo
db = pymongo.MongoClient(os.environ["MONGODB_URI"])[os.environ["NODULES_DB"]]
"""


def mongo(code, db=DB):
    """Runs pymongo code (with `db` bound) in the project's venv; returns what it prints as JSON."""
    p = subprocess.run([VENV_PYTHON, "-c", MONGO_PRELUDE + code], capture_output=True, text=True, env=env_for(db))
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        raise SystemExit("a database query failed")
    return json.loads(p.stdout) if p.stdout.strip() else None


def drop(db=DB):
    mongo("db.client.drop_database(db.name)", db)


def pending_jobs():
    return mongo('print(db.sources.count_documents({"state": "pending"}))')


def stored_figures():
    """Results by state, blobs (count, stored and unpacked bytes), tree pages, and per-collection
    storage."""
    return mongo(
        """
states = {}
for d in db.sources.find({}, {"state": 1}):
    states[d.get("state")] = states.get(d.get("state"), 0) + 1
blobs = stored = unpacked = 0
for d in db.blobs.find({}, {"data": 1, "size": 1}):
    blobs += 1
    stored += len(d.get("data") or b"")
    unpacked += int(d.get("size") or 0)
colls = {}
for name in db.list_collection_names():
    try:
        s = db.command("collStats", name)
        colls[name] = {"count": s.get("count", 0), "data": s.get("size", 0),
                       "storage": s.get("storageSize", 0), "indexes": s.get("totalIndexSize", 0)}
    except Exception as e:
        colls[name] = {"count": db[name].estimated_document_count(), "error": str(e)}
print(json.dumps({"states": states, "blobs": blobs, "blob_bytes": stored, "blob_unpacked": unpacked,
                  "trees": db.trees.count_documents({}), "packages": db.packages.count_documents({}),
                  "collections": colls}))
"""
    )


def indexer_fetch(registry, names):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(names) + "\n")
    try:
        secs, out, err, _ = run(
            [os.path.join(BIN, "nodules-indexer"), "--registry", registry, "fetch", "--names-file", f.name], env_for()
        )
    finally:
        os.unlink(f.name)
    s = summary(out, ["ingested", "unchanged", "rejected", "failed"])
    log(f"indexer fetch: {out.strip()}")
    return secs, s


def fresh_queue(registry, names):
    drop()
    secs, s = indexer_fetch(registry, names)
    jobs = pending_jobs()
    if jobs != len(names):
        log(f"warning: {len(names)} packages fetched but {jobs} downloads queued")
    return jobs, secs


def downloader(registry, *extra):
    cpu_before = server_cpu()
    secs, out, err, rss = run(
        [os.path.join(BIN, "nodules-downloader"), "--registry", registry, "run", "--once", *extra], env_for(), rss=True
    )
    r = summary(out, ["downloaded", "failed", "skipped"])
    r.update(
        secs=secs,
        rss_kb=rss,
        log_rss_kb=log_field(err, "peak_rss_kb"),
        files=log_field(err, "files"),
        unpacked=log_field(err, "unpacked_bytes"),
        line=out.strip(),
        db=db_time(err),
        cpu_s=sum(float(x) for x in (re.findall(r"cpu_s=([0-9.]+)\+([0-9.]+)", err) or [("0", "0")])[-1]),
    )
    r["server_cpu_s"] = server_cpu_since(cpu_before)
    failures = re.findall(r"tarball failed.*", err)
    r["failures"] = failures[:20]
    log(f"downloader {' '.join(extra)}: {r['line']} (peak RSS {rss} KiB)")
    return r


REFERENCE = r"""
root=$1; shift
failed=0; i=0
for url in "$@"; do
  i=$((i + 1)); dir="$root/$i"; mkdir "$dir"
  curl -s "$url" | tee >(sha512sum >/dev/null) | tar xz -C "$dir" 2>/dev/null || failed=$((failed + 1))
done
echo "failed=$failed"
"""


def reference(urls):
    """One `curl | tee >(sha512sum) | tar xz` per tarball, one after another, each into a new
    empty directory (all removed afterwards, outside the timing)."""
    root = tempfile.mkdtemp(prefix="nodules-bench-ref.", dir="/tmp")
    try:
        secs, out, _, _ = run(["bash", "-c", REFERENCE, "reference", root] + urls)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    failed = int(re.findall(r"failed=(\d+)", out)[-1])
    log(f"reference: {secs:.2f} s ({failed} tar failure(s))")
    return secs, failed


def ceiling(n, size):
    """docs/s of a plain `insert_many` of n docs of size bytes, its line, and the server CPU it took."""
    before = server_cpu()
    _, out, _, _ = run([os.path.join(BIN, "nodules-bench-db"), "ceiling", str(n), str(size)], env_for())
    return float(re.findall(r"([0-9.]+) docs/s", out)[-1]), out.strip(), server_cpu_since(before)


def upsert_probe(n, size):
    """docs/s of pymongo `insert_many` and of bulk upserts shaped like the downloader's blob
    writes (`$setOnInsert` of the bytes, `$inc` of `refs`), batches of 500, alternated."""
    return mongo(
        f"""
import time
from pymongo import UpdateOne
n, payload, c = {n}, bytes({size}), db.bench_upsert
best = {{}}
for kind in ["insert", "upsert", "insert", "upsert"]:
    c.drop()
    t = time.monotonic()
    for k in range(0, n, 500):
        ids = [f"{{i:064x}}" for i in range(k, min(k + 500, n))]
        if kind == "insert":
            c.insert_many([{{"_id": i, "size": {size}, "z": True, "data": payload, "refs": 1}} for i in ids], ordered=False)
        else:
            c.bulk_write([UpdateOne({{"_id": i}}, {{"$setOnInsert": {{"size": {size}, "z": True, "data": payload}},
                                                 "$inc": {{"refs": 1}}}}, upsert=True) for i in ids], ordered=False)
    best[kind] = max(best.get(kind, 0), n / (time.monotonic() - t))
c.drop()
print(json.dumps(best))
"""
    )


def disk():
    _, out, _, _ = run([os.path.join(BIN, "nodules-bench-db"), "disk"], env_for())
    return out.strip()


# ---------------------------------------------------------------- the report


def machine():
    model = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    return f"{os.cpu_count()} × {model}, {int(mem) / 1e6:.0f} GB RAM"


def largest(entries):
    """(compressed MB, unpacked MB) of the largest tarball."""
    e = max(entries, key=lambda e: e["compressed"])
    return mb(e["compressed"]), mb(e["unpacked"])


def mb(n):
    return n / 1e6


def report(r):
    ok, n = r["ok"], r["names"]
    ratio = r["dry_best"] / r["ref_best"]
    full = r["full"]
    files_s = r["files"] / full["secs"]
    mb_s = mb(r["unpacked"]) / full["secs"]
    st = r["stored"]
    avg_blob = st["blob_bytes"] / max(st["blobs"], 1)
    blobs_s = st["blobs"] / full["secs"]
    fraction = blobs_s / r["ceiling_docs_s"]
    ceil_cpu, full_cpu = r.get("ceiling_server_cpu_s"), full.get("server_cpu_s")
    server_share = ceil_cpu / full_cpu if ceil_cpu and full_cpu else None
    # however well the writes overlap the unpacking, the run needs the downloader's own CPU
    # plus at least the server CPU of a bare insert of its blobs, on this many cores
    bound = None
    if ceil_cpu:
        best_wall = max((full["cpu_s"] + ceil_cpu) / (os.cpu_count() or 1), st["blobs"] / r["ceiling_docs_s"])
        bound = st["blobs"] / best_wall / r["ceiling_docs_s"]
    r["server_share"], r["bound"] = server_share, bound
    colls = st["collections"]
    probe = r["upsert_probe"]
    upsert_share = probe["upsert"] / probe["insert"]

    def storage(names):
        return sum(colls.get(c, {}).get("storage", 0) + colls.get(c, {}).get("indexes", 0) for c in names)

    own = storage(["blobs", "trees", "sources"])
    everything = storage(list(colls))
    per_k = 1000 / max(st["packages"], 1)
    states = ", ".join(f"{k} {v}" for k, v in sorted(st["states"].items(), key=lambda kv: str(kv[0])))
    rss_all = full["rss_kb"] / 1024
    rss_small = r["small"]["rss_kb"] / 1024
    rss_big = r["big"]["rss_kb"] / 1024
    rows = [
        ("packages in the sample / cached / not cached", f"{n} / {ok} / {n - ok}"),
        ("`nodules-indexer fetch` of their documents (s, not part of any ratio)", f"{r['index_s']:.1f}"),
        ("tarballs: compressed MB, files, unpacked MB", f"{mb(r['compressed']):.1f}, {r['files']:,}, {mb(r['unpacked']):.1f}"),
        ("reference: `curl \\| tee >(sha512sum) \\| tar xz`, one after another (s), runs 1, 2",
         ", ".join(f"{s:.2f}" for s in r["ref"])),
        ("`run --once --dry-run` (s), runs 1, 2", ", ".join(f"{d['secs']:.2f}" for d in r["dry"])),
        ("**dry run ÷ reference (best of 2 each; target ≤ 1.0)**", f"**{ratio:.2f}**"),
        ("dry run ÷ reference, each pair", ", ".join(f"{d['secs'] / s:.2f}" for s, d in zip(r["ref"], r["dry"]))),
        ("dry run: downloaded, failed, skipped", f"{r['dry'][-1]['downloaded']}, {r['dry'][-1]['failed']}, {r['dry'][-1]['skipped']}"),
        ("dry-run peak RSS (MB)", f"{max(d['rss_kb'] for d in r['dry']) / 1024:.0f}"),
        ("`run --once` with writes (s)", f"{full['secs']:.2f}"),
        ("`run --once`: files/s, unpacked MB/s", f"{files_s:,.0f}, {mb_s:.1f}"),
        ("`run --once`: results by state", states),
        ("blobs stored (unique), average stored size (B)", f"{st['blobs']:,}, {avg_blob:,.0f}"),
        ("blobs stored per second", f"{blobs_s:,.0f}"),
        (f"plain `insert_many` of {st['blobs']:,} docs of {avg_blob:,.0f} B (docs/s)", f"{r['ceiling_docs_s']:,.0f}"),
        ("**blobs/s ÷ ceiling docs/s**", f"**{fraction:.2f}**"),
        ("database server CPU (s): the full run / the plain `insert_many`",
         f"{full['server_cpu_s'] or 0:.1f} / {r['ceiling_server_cpu_s'] or 0:.1f}"),
        ("server CPU of the `insert_many` ÷ server CPU of the full run (the write path's overhead as the server sees it)",
         f"{server_share:.2f}" if server_share else "not measured"),
        ("downloader CPU (s): dry run / full run", f"{min(d['cpu_s'] for d in r['dry']):.1f} / {full['cpu_s']:.1f}"),
        ("bound on blobs/s ÷ ceiling: the full run's CPU (ours + the `insert_many`'s server CPU) on "
         f"{os.cpu_count()} cores, perfectly overlapped", f"{bound:.2f}" if bound else "not measured"),
        ("the same docs from pymongo: `insert_many` / upserts shaped like ours (docs/s, best of 2)",
         f"{probe['insert']:,.0f} / {probe['upsert']:,.0f} (upserts ÷ inserts {upsert_share:.2f})"),
        (f"`run --once` peak RSS (MB): all {ok} / first {r['small_n']} / the {r['big_n']} largest tarballs alone",
         f"{rss_all:.0f} / {rss_small:.0f} / {rss_big:.0f}"),
        (f"largest tarball in each of these sets, compressed / unpacked MB",
         f"{r['largest'][0]:.1f} / {r['largest'][1]:.1f}; {r['largest_small'][0]:.1f} / {r['largest_small'][1]:.1f}; "
         f"{r['largest'][0]:.1f} / {r['largest'][1]:.1f}"),
        ("disk per 1,000 packages (MB): blobs + trees + sources / whole database",
         f"{own / 1e6 * per_k:.0f} / {everything / 1e6 * per_k:.0f}"),
    ]
    lines = [
        "## Downloader benchmark",
        "",
        f"Reproduce: `make bench-download` (driver: `bench/download.py`). Machine: {machine()}; "
        f"database: {r['db_kind']}; run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"The packages of `sample/packages.txt`: each one's document and latest tarball fetched once "
        f"from the registry npm uses, then served by a local registry on 127.0.0.1 (every "
        f"`dist.tarball` rewritten to it), so the network is out of the measurement. The reference "
        f"and the dry run were alternated (reference, ours, reference, ours) in the same run.",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {a} | {b} |" for a, b in rows]
    lines += ["", "Per collection (storage + indexes, MB, for "
              f"{st['packages']} packages): "
              + ", ".join(f"{c} {(v.get('storage', 0) + v.get('indexes', 0)) / 1e6:.1f}"
                          for c, v in sorted(colls.items()) if "error" not in v) + ".",
              f"`nodules-bench-db disk`: {r['disk']}",
              f"`nodules-bench-db ceiling`: {r['ceiling_line']}"]
    if r["cache_failures"]:
        lines.append("Not cached (skipped): " + "; ".join(f"`{k}`: {v}" for k, v in r["cache_failures"].items()) + ".")
    if full["failures"]:
        lines.append("Tarballs that failed in the run: " + "; ".join(f"`{f[:160]}`" for f in full["failures"]))
    if full.get("db"):
        total = sum(x[4] for x in full["db"])
        lines += ["", f"Where the full run's time went: wall {full['secs']:.1f} s; the downloader's own CPU "
                  f"{full['cpu_s']:.1f} s (user + system, all threads); the database server's CPU "
                  f"{full['server_cpu_s'] or 0:.1f} s; time waiting for the database, summed "
                  f"over the concurrent workers (from the driver's command events), {total:.1f} s:", "",
                  "| command | collection | commands | statements | s | ms per statement |", "|---|---|---|---|---|---|"]
        for c, coll, cmds, sts, secs in full["db"][:12]:
            lines.append(f"| {c} | {coll} | {cmds:,} | {sts:,} | {secs:.1f} | {secs * 1000 / max(sts, 1):.3f} |")
    lines += ["", interpretation(r, ratio, fraction, upsert_share, (rss_all, rss_small, rss_big), files_s, mb_s)]
    return "\n".join(lines) + "\n"


def interpretation(r, ratio, fraction, upsert_share, rss, files_s, mb_s):
    s = []
    verdict = "within" if ratio <= 1.0 else "over"
    s.append(
        f"The dry run (fetch, verify, unpack in memory, hash every file, read the facts) takes "
        f"{ratio:.2f}× the time of fetching, hashing and unpacking the same tarballs with curl, "
        f"sha512sum and tar one after another: {verdict} the target of 1.0 (the reference also "
        f"writes {r['files']:,} files, {mb(r['unpacked']):,.0f} MB, into the page cache; ours keeps "
        f"them in memory and spreads tarballs over the cores)."
    )
    full = r["full"]
    dry = min(d["secs"] for d in r["dry"])
    writing = max(full["secs"] - dry, 0.0)
    s.append(
        f"With writes the run takes {full['secs']:.1f} s ({full['secs'] / dry:.1f}× the dry run; "
        f"{files_s:,.0f} files/s, {mb_s:.1f} MB/s unpacked), so about {writing / full['secs']:.0%} of it "
        f"is spent storing: compressing blobs and waiting on the database."
    )
    s.append(
        f"Stored blobs arrive at {fraction:.2f} of the rate at which the same server takes a plain "
        f"`insert_many` of as many documents of their average size"
        + (": the writes run close to the server's ceiling." if fraction >= 0.7 else ".")
    )
    if r.get("server_share") and r.get("bound"):
        s.append(
            f"The server spends {1 / r['server_share']:.1f}× the CPU of that bare insert on the run's writes "
            f"(the bare insert's share: {r['server_share']:.2f}): besides the blobs, each tarball's claim, "
            f"tree pages, commit, change number and the upserts that count blobs already stored "
            f"(upserts run at {upsert_share:.2f} of inserts here). And the run cannot reach the ceiling "
            f"whatever the writes cost: the downloader's own CPU ({full['cpu_s']:.1f} s: fetch, verify, "
            f"unpack, hash and compress {mb(r['unpacked']):,.0f} MB) plus the bare insert's server CPU, "
            f"perfectly overlapped on {os.cpu_count()} cores, bound the fraction at {r['bound']:.2f}."
        )
    rss_all, rss_small, rss_big = rss
    s.append(
        f"Peak RSS is {rss_all:.0f} MB for all {r['ok']} packages, {rss_small:.0f} MB for the first "
        f"{r['small_n']} (none over {r['largest_small'][0]:.1f} MB compressed) and {rss_big:.0f} MB for the "
        f"{r['big_n']} largest tarballs alone (up to {r['largest'][0]:.0f} MB compressed, "
        f"{r['largest'][1]:.0f} MB unpacked): "
        + ("memory follows the size of the tarballs in flight, not how many a run handles."
           if rss_all <= 1.5 * rss_big else
           "memory grows with the number of tarballs beyond what the largest ones explain, which "
           "deserves a look.")
    )
    return " ".join(s)


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="only the first N packages of the sample (a quick try)")
    ap.add_argument("--full-only", action="store_true",
                    help="only the full run and its database time (for profiling; writes no report)")
    ap.add_argument("--small", type=int, default=100, help="packages of the second full run (peak RSS)")
    args = ap.parse_args()
    if not os.environ.get("MONGODB_URI"):
        os.execvp(os.path.join(ROOT, "scripts", "devdb"),
                  [os.path.join(ROOT, "scripts", "devdb"), "run", "--", sys.executable] + sys.argv)
    for b in ["nodules-indexer", "nodules-downloader", "nodules-bench-db"]:
        if not os.access(os.path.join(BIN, b), os.X_OK):
            raise SystemExit(f"{BIN}/{b} is missing: run `make build`")

    names = sample_names(os.path.join(ROOT, "sample", "packages.txt"))[: args.limit]
    entries = fill_cache(npm_registry(), names)
    good = {n: e for n, e in entries.items() if "error" not in e}
    ok_names = list(good)
    r = {
        "names": len(names),
        "ok": len(good),
        "cache_failures": {n: e["error"] for n, e in entries.items() if "error" in e},
        "compressed": sum(e["compressed"] for e in good.values()),
        "files": sum(e["files"] for e in good.values()),
        "unpacked": sum(e["unpacked"] for e in good.values()),
        "db_kind": "the development server (SecantusDB)" if os.environ.get("NODULES_DEV_DB_PORT") else "MONGODB_URI",
    }
    log(f"{len(good)} of {len(names)} packages cached; {mb(r['compressed']):.0f} MB of tarballs")

    with LocalRegistry(good) as reg:
        local = reg.url
        urls = [local.rstrip("/") + e["path"] for e in good.values()]
        try:
            jobs, r["index_s"] = fresh_queue(local, ok_names)
            if args.full_only:
                full = downloader(local)
                st = stored_figures()
                log(f"full run {full['secs']:.2f} s, {st['blobs']:,} blobs: {st['blobs'] / full['secs']:,.0f} blobs/s; "
                    f"downloader CPU {full['cpu_s']:.1f} s, server CPU {full['server_cpu_s']} s")
                for row in full["db"][:14]:
                    log("  " + " ".join(str(x) for x in row))
                return
            r["ref"], r["dry"] = [], []
            for _ in range(2):
                secs, r["ref_tar_failures"] = reference(urls)
                r["ref"].append(secs)
                before = reg.tarball_requests
                r["dry"].append(downloader(local, "--dry-run"))
                if reg.tarball_requests - before != jobs:
                    log(f"warning: {jobs} jobs but {reg.tarball_requests - before} tarball requests in the dry run")
            r["ref_best"] = min(r["ref"])
            r["dry_best"] = min(d["secs"] for d in r["dry"])
            if pending_jobs() != jobs:
                raise SystemExit("the dry run changed the queue: it must write nothing")

            before = reg.tarball_requests
            r["full"] = downloader(local)
            r["full_requests"] = reg.tarball_requests - before
            if r["full_requests"] != jobs:
                log(f"warning: {jobs} jobs but {r['full_requests']} tarball requests in the full run")
            r["stored"] = stored_figures()
            r["disk"] = disk()
            st = r["stored"]
            avg = st["blob_bytes"] // max(st["blobs"], 1)
            r["ceiling_docs_s"], r["ceiling_line"], r["ceiling_server_cpu_s"] = ceiling(st["blobs"], avg)
            r["upsert_probe"] = upsert_probe(st["blobs"], avg)

            r["small_n"] = min(args.small, len(ok_names))
            r["largest"] = largest(good[n] for n in ok_names)
            r["largest_small"] = largest(good[n] for n in ok_names[: r["small_n"]])
            fresh_queue(local, ok_names[: r["small_n"]])
            r["small"] = downloader(local)
            # the control: as large tarballs in flight, a handful of them
            r["big_n"] = min(5, len(ok_names))
            fresh_queue(local, sorted(ok_names, key=lambda n: -good[n]["compressed"])[: r["big_n"]])
            r["big"] = downloader(local)
        finally:
            drop()
    log(json.dumps({k: v for k, v in r.items() if k != "stored"}, indent=1, default=str))
    text = report(r)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
