#!/usr/bin/env python3
"""`make bench-lighthouse`: Lighthouse's performance category on the site's main pages, the
median of 3 runs per page (NODULES_BENCH_RUNS), in one headless Debian Chromium, against a
release webapp on real packages fetched from the registry `npm config get registry` names
(with their dependencies, downloaded, ranked, their install trees resolved).

Lighthouse 12 on its default mobile preset: a phone viewport, simulated slow 4G and a 4x
slower CPU (its "simulated throttling": the page loads at full speed and the timings are
modelled from the trace), so the figures are those PageSpeed Insights would report, and
depend on the machine less than real throttling does. The same pages and the same
tests/browser/audit.mjs as the accessibility/SEO test (tests/webapp/browser_audit.rs).

Usage: scripts/devdb run -- python3 bench/lighthouse.py
Needs MONGODB_URI (scripts/devdb run sets it), release binaries in target/release, and
`scripts/browser install` done. Writes bench/results/lighthouse.md and prints it.
"""
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
RESULTS = os.path.join(ROOT, "bench", "results", "lighthouse.md")
DB = os.environ.get("NODULES_BENCH_DB", "bench_lighthouse")
RUNS = int(os.environ.get("NODULES_BENCH_RUNS", "3"))
CHROMIUM = "/usr/bin/chromium"
# express: a long README, ~280 versions, a tree of ~60 packages; koa beside it on /compare
PACKAGES = ["express", "koa"]
PAGES = [
    "/",
    "/package/express",
    "/package/express/versions",
    "/package/express/dependents",
    "/package/express/tree",
    "/compare/express,koa",
    "/search?q=express",
]


def log(msg):
    sys.stderr.write(f"bench-lighthouse: {msg}\n")
    sys.stderr.flush()


def run(args, env):
    log("$ " + " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in args))
    started = time.monotonic()
    if subprocess.run(args, env=env, stdout=sys.stderr, stderr=sys.stderr).returncode != 0:
        raise SystemExit(f"bench-lighthouse: failed: {' '.join(args)}")
    return time.monotonic() - started


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def wait_for(what, check, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"bench-lighthouse: {what} not ready within {seconds} s")


def setup(env):
    try:
        import pymongo  # in .venv when run with it; only to start from an empty database

        pymongo.MongoClient(env["MONGODB_URI"], serverSelectionTimeoutMS=5000).drop_database(DB)
    except ImportError:
        log("pymongo not available: not dropping the database first")
    indexer = os.path.join(BIN, "nodules-indexer")
    run([indexer, "fetch", "--deps", "--max", "200", *PACKAGES], env)
    run([os.path.join(BIN, "nodules-downloader"), "run", "--once"], env)
    run([indexer, "dependents", "--rerank"], env)
    run([indexer, "trees", "--all", "--commit-wait", "0s"], env)  # the steps above have ended


def start_chromium(work):
    profile = os.path.join(work, "chromium")
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", "about:blank"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    wait_for("chromium", lambda: os.path.exists(port_file) and open(port_file).readline().strip(), 30)
    return proc, int(open(port_file).readline())


def stop_group(proc):
    """Ends the process group this script started (the browser and its renderers)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def report(results, load0, load1):
    ms = lambda v: f"{v:,.0f}"  # noqa: E731
    lines = [
        f"# Lighthouse performance — {time.strftime('%Y-%m-%d')}",
        "",
        f"`make bench-lighthouse`: Lighthouse 12, performance category, mobile preset (simulated "
        f"throttling), median of {RUNS} runs per page, one headless Chromium "
        f"({subprocess.run([CHROMIUM, '--version'], capture_output=True, text=True).stdout.strip()}), "
        f"a release webapp on {', '.join(PACKAGES)} and their dependencies from the registry. "
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, load average {load0} before, {load1} after.",
        "",
        "| page | score | FCP ms | LCP ms | TBT ms | CLS | Speed Index ms | what cost points (median run) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        cost = "; ".join(f"{f['id']}" + (f" ({f['displayValue']})" if f.get("displayValue") else "")
                         for f in r["failing"]) or "—"
        lines.append(
            f"| `{r['path']}` | {r['score'] * 100:.0f} | {ms(r['first-contentful-paint'])} "
            f"| {ms(r['largest-contentful-paint'])} | {ms(r['total-blocking-time'])} "
            f"| {r['cumulative-layout-shift']:.3f} | {ms(r['speed-index'])} | {cost} |")
    return "\n".join(lines)


def main():
    if not os.environ.get("MONGODB_URI"):
        raise SystemExit("bench-lighthouse: MONGODB_URI is not set; run it as `scripts/devdb run -- python3 bench/lighthouse.py`")
    for b in ("nodules-indexer", "nodules-downloader", "nodules-webapp"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            raise SystemExit(f"bench-lighthouse: {BIN}/{b} is missing: make build")
    if not os.path.exists(os.path.join(ROOT, "tests/browser/node_modules/lighthouse")) or not os.path.exists(CHROMIUM):
        raise SystemExit("bench-lighthouse: run `scripts/browser install` first")
    env = dict(os.environ, NODULES_DB=DB)
    work = tempfile.mkdtemp(prefix="nodules-bench-lighthouse.")
    web = chromium = None
    try:
        setup(env)
        port = free_port()
        addr = f"127.0.0.1:{port}"
        base = f"http://{addr}"
        logf = open(os.path.join(work, "webapp.log"), "ab")
        web = subprocess.Popen([os.path.join(BIN, "nodules-webapp"), "serve", "--listen", addr, "--base-url", base,
                                "--index-dir", os.path.join(work, "search-index")], env=env, stdout=logf, stderr=logf)
        wait_for("the webapp", lambda: get(f"{base}/readyz")[1] == b"ready\n")
        for path in PAGES:  # the server's page cache warm, as on a live site
            status, _ = get(base + path)
            if status != 200:
                raise SystemExit(f"bench-lighthouse: {path} answered {status}")
        chromium, devtools = start_chromium(work)
        load0 = f"{os.getloadavg()[0]:.2f}"
        spec = {"port": devtools, "base": base, "mode": "perf", "runs": RUNS, "pages": [{"path": p} for p in PAGES]}
        out = subprocess.run(["node", "audit.mjs"], cwd=os.path.join(ROOT, "tests", "browser"), input=json.dumps(spec),
                             capture_output=True, text=True)
        sys.stderr.write(out.stderr)
        if out.returncode != 0:
            raise SystemExit(f"bench-lighthouse: audit.mjs failed ({out.returncode})")
        load1 = f"{os.getloadavg()[0]:.2f}"
        md = report(json.loads(out.stdout), load0, load1)
    finally:
        if chromium:
            stop_group(chromium)
        if web:
            web.terminate()
            web.wait()
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
