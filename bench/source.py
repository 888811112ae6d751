#!/usr/bin/env python3
"""`make bench-source`: the source browser on pinned real inputs, each figure against a
reference measured in the same run (the machine is shared and noisy: compare ratios).

Inputs: typescript@5.9.3 and typescript@5.9.2, indexed with `nodules-indexer fetch` from the
registry `npm config get registry` names, queued on demand by asking the webapp for their
pages (202), and stored by `nodules-downloader run --once`; the same tarballs from `npm pack`,
unpacked, are the references' files.

- Rendering `lib/lib.dom.d.ts` (1.9 MB): the file page cold (fresh webapp) and cached, and
  the renderer in-process, against syntect's own bare class-based highlighting of the same
  bytes (`nodules-bench-source highlight`). What the page shows for `lib/typescript.js`
  (9.1 MB, over the downloader's stored-file cap).
- Requests/s of cached file pages (wrk) against nginx serving the very same bytes.
- In-package search over typescript@5.9.3: warm against `grep -rn` over the same files
  unpacked, cold (fresh webapp) against reading the same blobs from the database
  (`nodules-bench-source blobs`).
- The diff 5.9.2...5.9.3 cold: time and the webapp's peak RSS.

Usage: scripts/devdb run -- .venv/bin/python bench/source.py
Needs MONGODB_URI (scripts/devdb run sets it), release binaries in target/release, nginx,
wrk, curl, grep and npm. Writes bench/results/source.md and prints it.

Knobs (environment): NODULES_BENCH_DB (bench_source), NODULES_BENCH_ROUNDS (3),
NODULES_BENCH_WRK_DURATION (10s).
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webapp as wb  # noqa: E402  (the webapp bench's processes, wrk and nginx helpers)

ROOT = wb.ROOT
BIN = wb.BIN
RESULTS = os.path.join(ROOT, "bench", "results", "source.md")
DB = os.environ.get("NODULES_BENCH_DB", "bench_source")
ROUNDS = int(os.environ.get("NODULES_BENCH_ROUNDS", "3"))
NAME = "typescript"
NEW, OLD = "5.9.3", "5.9.2"
BIG = "lib/lib.dom.d.ts"
OVER_CAP = "lib/typescript.js"
TYPICAL = "lib/lib.es2015.promise.d.ts"
# few matches: every searchable file is read (a query with many stops at 200 matches)
QUERIES = ["structuredClone", "re:readonly\\s+\\w+Sync\\b"]


def log(msg):
    sys.stderr.write(f"bench-source: {msg}\n")
    sys.stderr.flush()


def page(ver, path):
    return f"/package/{NAME}/v/{ver}/source/" + "/".join(urllib.parse.quote(s) for s in path.split("/"))


def timed_get(port, path, expect=200):
    status, headers, body, secs = wb.get(port, path, timeout=120)
    if status != expect:
        m = re.search(rb"<main.*?</main>", body, re.S)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (m.group(0) if m else body[:600]).decode(errors="replace")))
        raise SystemExit(f"bench-source: {path} answered {status}, wanted {expect}: {text.strip()}")
    return body, secs


def tool_json(args, env):
    p = subprocess.run(args, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench-source: {' '.join(args)} failed: {p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def unpack(work):
    """`npm pack` both versions (the references' bytes); returns {version: package dir}."""
    out = {}
    for ver in (NEW, OLD):
        d = os.path.join(work, f"unpacked-{ver}")
        os.makedirs(d, exist_ok=True)
        p = subprocess.run(["npm", "pack", f"{NAME}@{ver}", "--pack-destination", work, "--silent"],
                           capture_output=True, text=True, cwd=work)
        if p.returncode != 0:
            raise SystemExit(f"bench-source: npm pack {NAME}@{ver} failed: {p.stderr}")
        with tarfile.open(os.path.join(work, p.stdout.strip().splitlines()[-1])) as t:
            t.extractall(d, filter="data")
        out[ver] = os.path.join(d, "package")
    return out


def setup(work, env):
    try:
        import pymongo

        pymongo.MongoClient(env["MONGODB_URI"], serverSelectionTimeoutMS=5000).drop_database(DB)
    except ImportError:
        log("pymongo not available: not dropping the database first")
    wb.run_step([os.path.join(BIN, "nodules-indexer"), "fetch", NAME], env)
    site = wb.Webapp(work, ["--rate-limit", "0"], env, "setup").start()
    try:
        for ver in (NEW, OLD):
            timed_get(site.port, f"/package/{NAME}/v/{ver}/source/", expect=202)  # queued on demand
    finally:
        site.stop()
    return wb.run_step([os.path.join(BIN, "nodules-downloader"), "run", "--once"], env)


def note_of(body):
    m = re.search(rb'<p class="banner" role="note">(.*?)</p>', body, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m.group(1).decode())).strip() if m else None


def rendering(work, env, files):
    """The renderer in-process against syntect bare; then, on fresh webapps, the first answer
    (a page waits at most 1 s: a slower file comes plain "for now"), the time until the page
    is highlighted (polled every 250 ms from the first request: each poll of the plain page
    costs CPU the rendering shares), and the cached page."""
    big = os.path.join(files[NEW], BIG)
    bare = tool_json([os.path.join(BIN, "nodules-bench-source"), "highlight", big, str(ROUNDS)], env)
    first, highlighted_after, cached = [], [], []
    notes = set()
    highlighted = False
    for i in range(ROUNDS):
        site = wb.Webapp(work, ["--rate-limit", "0"], env, f"render-{i}").start()
        try:
            started = time.perf_counter()
            body, secs = timed_get(site.port, page(NEW, BIG))
            first.append(secs)
            notes.add(note_of(body))
            deadline = started + 120
            while b'class="hl-' not in body and time.perf_counter() < deadline:
                if (note_of(body) or "").startswith("Shown without highlighting:"):
                    break  # given up: plain for good
                time.sleep(0.25)
                body, _ = timed_get(site.port, page(NEW, BIG))
            highlighted = b'class="hl-' in body
            highlighted_after.append(time.perf_counter() - started)
            notes.add(note_of(body))
            for _ in range(ROUNDS):
                cached.append(timed_get(site.port, page(NEW, BIG))[1])
        finally:
            site.stop()
    site = wb.Webapp(work, ["--rate-limit", "0"], env, "over-cap").start()
    try:
        body, _ = timed_get(site.port, page(NEW, OVER_CAP))
        m = re.search(rb"<main.*?</main>", body, re.S)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (m.group(0) if m else body).decode())).strip()
        over_cap = text[:400]
    finally:
        site.stop()
    return {"bare": bare, "first": first, "highlighted_after": highlighted_after, "cached": cached,
            "notes": sorted(n for n in notes if n), "highlighted": highlighted, "over_cap": over_cap}


def settled(port, url):
    """The page once its rendering is done (not "plain for now")."""
    deadline = time.monotonic() + 120
    while True:
        body, _ = timed_get(port, url)
        if b"Shown without highlighting for now" not in body or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def file_pages(work, env):
    ours = wb.Webapp(work, ["--rate-limit", "0", "--max-in-flight", "100000"], env, "wrk").start()
    ngx = wb.Nginx(work)
    rows = []
    try:
        served = {}
        for path in (TYPICAL, BIG):
            url = page(NEW, path)
            body = settled(ours.port, url)  # rendered and cached
            again, _ = timed_get(ours.port, url)
            if again != body:
                raise SystemExit(f"bench-source: {url} is not the same bytes twice")
            target = os.path.join(ngx.root, urllib.parse.unquote(url).lstrip("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(body)
            served[path] = (url, len(body))
        ngx.start()
        for path, (url, size) in served.items():
            theirs, mine = wb.get(ngx.port, url)[2], wb.get(ours.port, url)[2]
            if theirs != mine:
                for who, b in (("nginx", theirs), ("ours", mine)):
                    with open(os.path.join(ROOT, "target", f"bench-source-{who}.html"), "wb") as f:
                        f.write(b)
                raise SystemExit(f"bench-source: nginx and the webapp differ on {url} (see target/bench-source-*.html)")
            runs = {"nginx": [], "ours": []}
            for i in range(ROUNDS):
                for who, port, pids in (("nginx", ngx.port, ngx.pids()), ("ours", ours.port, [ours.proc.pid])):
                    log(f"wrk {path} round {i + 1}/{ROUNDS}: {who}")
                    runs[who].append(wb.run_wrk(f"http://127.0.0.1:{port}{url}", pids))
            rows.append({"path": path, "bytes": size, "runs": runs})
        return rows, wb.proc_status_kb(ours.proc.pid, "VmHWM")
    finally:
        ngx.stop()
        ours.stop()


def searchable_files(port):
    """The files in-package search reads: stored text files up to 4 MiB (from the files API)."""
    out, page_no = [], 1
    while page_no:
        body, _ = timed_get(port, f"/api/v1/packages/{NAME}/versions/{NEW}/files?page={page_no}")
        j = json.loads(body)
        out += [f["path"] for f in j["files"]
                if f["raw_url"] and not f["binary"] and f["kind"] == "file" and f["size"] <= 4 << 20]
        page_no = j["next_page"]
    return out


def grep_time(root, paths, query):
    """`grep -rn` over a tree holding just those files (hard links), best of ROUNDS (warm)."""
    tree = os.path.join(os.path.dirname(root), "searched")
    if not os.path.isdir(tree):
        for p in paths:
            os.makedirs(os.path.join(tree, os.path.dirname(p)), exist_ok=True)
            os.link(os.path.join(root, p), os.path.join(tree, p))
    if query.startswith("re:"):
        args = ["grep", "-rnP", query[3:], "."]
    else:
        args = ["grep", "-rnF", query, "."]
    times, lines = [], 0
    for _ in range(ROUNDS + 1):
        started = time.perf_counter()
        p = subprocess.run(args, cwd=tree, capture_output=True)
        times.append(time.perf_counter() - started)
        lines = p.stdout.count(b"\n")
    return statistics.median(times[1:]), lines


def searching(work, env, files):
    rows = []
    for q in QUERIES:
        url = f"/package/{NAME}/v/{NEW}/search?q={urllib.parse.quote(q)}"
        site = wb.Webapp(work, ["--rate-limit", "0"], env, "search").start()
        try:
            paths = searchable_files(site.port)
            body, cold = timed_get(site.port, url)
            warm = statistics.median(timed_get(site.port, url)[1] for _ in range(ROUNDS))
            api = json.loads(timed_get(site.port, f"/api/v1/packages/{NAME}/versions/{NEW}/search?q={urllib.parse.quote(q)}")[0])
        finally:
            site.stop()
        grep_s, grep_lines = grep_time(files[NEW], paths, q)
        blobs = tool_json([os.path.join(BIN, "nodules-bench-source"), "blobs", NAME, NEW, str(ROUNDS)], env)
        rows.append({"q": q, "cold": cold, "warm": warm, "grep": grep_s, "grep_lines": grep_lines,
                     "matches": api.get("total"), "more": api.get("more"), "timed_out": api.get("timed_out"),
                     "skipped": api.get("skipped"),
                     "files": len(paths), "blobs": blobs})
    return rows


def diffing(work, env):
    out = []
    for i in range(ROUNDS):
        site = wb.Webapp(work, ["--rate-limit", "0"], env, f"diff-{i}").start()
        try:
            before = wb.proc_status_kb(site.proc.pid, "VmHWM")
            body, secs = timed_get(site.port, f"/package/{NAME}/diff/{OLD}...{NEW}")
            after = wb.proc_status_kb(site.proc.pid, "VmHWM")
            files = len(re.findall(rb'<section class="file-diff', body))
            out.append({"s": secs, "rss_before_kb": before, "rss_after_kb": after, "bytes": len(body),
                        "file_sections": files})
        finally:
            site.stop()
    return out


def ms(s):
    return f"{s * 1000:,.0f} ms" if s >= 0.1 else f"{s * 1000:,.1f} ms"


def machine_text(m):
    return f"{m['nproc']} × {m['cpu']}, Linux {m['kernel']}, {m['nginx']}, {m['wrk']}"


def report(m, steps, r, pages, page_rss, searches, diffs):
    bare = r["bare"]
    med = statistics.median
    lines = [
        f"# Source browser — `make bench-source` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"Machine: {machine_text(m)}. Inputs: {NAME}@{NEW} and @{OLD} (`npm pack`), stored by the downloader "
        f"({steps:.0f} s for fetch + download). Rounds: {ROUNDS}.",
        "",
        f"## Rendering `{BIG}` ({bare['bytes']:,} bytes, {bare['lines']:,} lines)",
        "",
        "| | time | ÷ syntect bare |",
        "|---|---:|---:|",
        f"| syntect bare (`ClassedHTMLGenerator`, in-process) | {ms(bare['bare_s'])} | 1.00 |",
        f"| our renderer in-process (`highlight::render`: {bare['rendering']}) | {ms(bare['ours_s'])} | "
        f"{bare['ours_s'] / bare['bare_s']:.2f} |",
        f"| file page, first answer (fresh webapp; median of {len(r['first'])}) | "
        f"{ms(med(r['first']))} | {med(r['first']) / bare['bare_s']:.2f} |",
        f"| file page, until it shows highlighted (from the first request) | "
        f"{ms(med(r['highlighted_after']))} | {med(r['highlighted_after']) / bare['bare_s']:.2f} |",
        f"| file page, cached rendering (median of {len(r['cached'])}) | {ms(med(r['cached']))} | "
        f"{med(r['cached']) / bare['bare_s']:.3f} |",
        "",
        f"HTML: ours {bare['ours_html_bytes']:,} bytes of numbered lines, syntect's {bare['bare_html_bytes']:,}. "
        f"Highlighted on the page in the end: {'yes' if r['highlighted'] else 'no'}; notes seen: "
        + ("; ".join(f"“{n}”" for n in r["notes"]) or "none") + ".",
        "",
        f"`{OVER_CAP}` (9.1 MB, over the stored-file cap) shows: “{r['over_cap']}”",
        "",
        "## Cached file pages: wrk (64 connections, 2 threads) against nginx serving the same bytes",
        "",
        "| file | page bytes | nginx req/s (best) | ours req/s (best) | ours ÷ nginx | ours p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in pages:
        n = max(x["rps"] for x in row["runs"]["nginx"])
        o = max(x["rps"] for x in row["runs"]["ours"])
        p99 = min(x["p99"] or 0 for x in row["runs"]["ours"])
        bad = sum(x["non2xx"] + x["socket_errors"] for x in row["runs"]["ours"])
        lines.append(f"| `{row['path']}` | {row['bytes']:,} | {n:,.0f} | {o:,.0f} | {o / n:.2f} | {p99:,.1f} ms"
                     + (f" ({bad} errors)" if bad else "") + " |")
    lines += [f"", f"Webapp peak RSS during the wrk runs: {page_rss / 1024:,.0f} MiB." if page_rss else "", ""]
    lines += [
        f"## In-package search over {NAME}@{NEW}",
        "",
        "| query | files | matches | warm (ours) | `grep -rn` | warm ÷ grep | cold (fresh webapp) | "
        "reading the blobs | cold ÷ reading |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in searches:
        b = s["blobs"]
        lines.append(
            f"| `{s['q']}` | {s['files']} | {s['matches']} (grep: {s['grep_lines']} lines) | {ms(s['warm'])} | "
            f"{ms(s['grep'])} | {s['warm'] / s['grep']:.2f} | {ms(s['cold'])} | {ms(b['first_s'])} first, "
            f"{ms(b['median_s'])} median ({b['bytes'] / 1e6:.1f} MB) | {s['cold'] / b['first_s']:.2f} |")
    for s in searches:
        lines.append(f"`{s['q']}`: skipped {s['skipped']} files (over 4 MiB), timed out: {s['timed_out']}, "
                     f"more than shown: {s['more']}.  ")
    lines += [
        "",
        f"## Diff {OLD}...{NEW}, cold (fresh webapp each time)",
        "",
        "| run | time | page bytes | file sections | webapp peak RSS before → after |",
        "|---|---:|---:|---:|---:|",
    ]
    for i, d in enumerate(diffs, 1):
        lines.append(f"| {i} | {ms(d['s'])} | {d['bytes']:,} | {d['file_sections']} | "
                     f"{(d['rss_before_kb'] or 0) / 1024:,.0f} → {(d['rss_after_kb'] or 0) / 1024:,.0f} MiB |")
    lines += ["", "Reproduce: `make bench-source` (or `scripts/devdb run -- .venv/bin/python bench/source.py`).", ""]
    return "\n".join(lines)


def main():
    if "MONGODB_URI" not in os.environ:
        raise SystemExit("bench-source: MONGODB_URI is not set (run it through scripts/devdb run)")
    wb.check_tools()
    for b in ("nodules-webapp", "nodules-indexer", "nodules-downloader", "nodules-bench-source"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            raise SystemExit(f"bench-source: {BIN}/{b} missing: run `make build` first")
    env = dict(os.environ, NODULES_DB=DB, RUST_LOG="warn")
    wb.raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="nodules-bench-source-") as work:
        files = unpack(work)
        steps = setup(work, env)
        log("rendering")
        r = rendering(work, env, files)
        log("file pages under wrk")
        pages, page_rss = file_pages(work, env)
        log("in-package search")
        searches = searching(work, env, files)
        log("diff")
        diffs = diffing(work, env)
    out = report(wb.machine(), steps, r, pages, page_rss, searches, diffs)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(out)
    print(out)


if __name__ == "__main__":
    main()
