#!/usr/bin/env python3
"""`make bench-webapp`: the webapp under load, measured against references taken in the same
run (the machine is shared and noisy: compare ratios, not absolute numbers).

Part A (issue 7), a hot module page: real packages with long READMEs and many versions are
fetched from the registry `npm config get registry` names, their tarballs downloaded, and
- the first (uncached) request of three package pages after fresh starts is timed;
- `wrk` loads /package/express on the webapp and on nginx serving the very same bytes from a
  file, alternately (nginx, ours, nginx, ours), with the same command; best of each.

Part B (issue 9), a reconnect flood: after a restart, 1,000 clients connect within one
second (and, the worst case, all at once), each sending one `GET /package/express`
(Connection: close); with --rate-limit 0 and --max-in-flight 512 or 64, with every default, and
with the page cached first. Counts of answers by
status, time until every client had an answer, latencies, the Retry-After values, the
webapp's peak RSS, and whether /healthz still answers. nginx under the same flood is the
reference (what this client and machine can do at all).

Usage: scripts/devdb run -- .venv/bin/python bench/webapp.py
Needs MONGODB_URI (scripts/devdb run sets it), release binaries in target/release, nginx,
wrk and curl. Writes bench/results/webapp.md and prints it.

Knobs (environment): NODULES_BENCH_DB (bench_webapp), NODULES_BENCH_COLD_STARTS (5),
NODULES_BENCH_ROUNDS (2: wrk runs per server), NODULES_BENCH_WRK_DURATION (10s),
NODULES_BENCH_FLOOD_CLIENTS (1000), NODULES_BENCH_FLOOD_RUNS (2 per configuration).
"""
import asyncio
import hashlib
import http.client
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")
RESULTS = os.path.join(ROOT, "bench", "results", "webapp.md")
DB = os.environ.get("NODULES_BENCH_DB", "bench_webapp")

# Long READMEs (axios, commander, express) and many versions (typescript ~3,500, react ~2,500).
PACKAGES = ["express", "react", "typescript", "lodash", "axios", "commander"]
COLD_PAGES = ["express", "typescript", "axios"]
HOT_PAGE = "/package/express"
COLD_STARTS = int(os.environ.get("NODULES_BENCH_COLD_STARTS", "5"))
ROUNDS = int(os.environ.get("NODULES_BENCH_ROUNDS", "2"))
WRK_DURATION = os.environ.get("NODULES_BENCH_WRK_DURATION", "10s")
WRK_ARGS = ["-c", "64", "-t", "2", "-d", WRK_DURATION, "--latency"]
FLOOD_CLIENTS = int(os.environ.get("NODULES_BENCH_FLOOD_CLIENTS", "1000"))
FLOOD_SPREAD_S = 1.0
FLOOD_RUNS = int(os.environ.get("NODULES_BENCH_FLOOD_RUNS", "2"))
CLIENT_TIMEOUT_S = 30.0
INSTALL = "apt-get install -y nginx-light wrk"


def log(msg):
    sys.stderr.write(f"bench-webapp: {msg}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- tools and processes


def which(name):
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/local/sbin/{name}") if os.access(p, os.X_OK)), None
    )


def check_tools():
    """nginx and wrk are the references; installs them when we may (root with apt-get)."""
    missing = [t for t in ("nginx", "wrk", "curl") if not which(t)]
    if not missing:
        return
    cmd = INSTALL + (" curl" if "curl" in missing else "")
    log(f"{', '.join(missing)} missing; install with: {cmd}")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log(f"running as root: {cmd}")
        if subprocess.call(cmd.split()) != 0:
            subprocess.call(["apt-get", "update"])
            subprocess.call(cmd.split())
        missing = [t for t in ("nginx", "wrk", "curl") if not which(t)]
    if missing:
        raise SystemExit(f"bench-webapp: {', '.join(missing)} needed: {cmd}")


def raise_fd_limit(want=65536):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_step(args, env):
    """Runs a setup command; returns seconds. Its output goes to stderr (progress)."""
    log("$ " + " ".join(os.path.relpath(a, ROOT) if a.startswith(BIN) else a for a in args))
    started = time.monotonic()
    p = subprocess.run(args, env=env, stdout=sys.stderr, stderr=sys.stderr)
    if p.returncode != 0:
        raise SystemExit(f"bench-webapp: failed ({p.returncode}): {' '.join(args)}")
    return time.monotonic() - started


def get(port, path, headers=None, timeout=30):
    """One request on a fresh connection: (status, headers dict, body, seconds to last byte)."""
    started = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body, time.perf_counter() - started
    finally:
        c.close()


def cpu_seconds(pids):
    """User + system CPU of these processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def listen_backlog(port):
    """The accept-queue length a listening socket was given (ss's Send-Q), or None."""
    try:
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
        return int(out.split()[2])
    except (OSError, IndexError, ValueError):
        return None


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def proc_status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Webapp:
    """One `nodules-webapp serve` process on a free port."""

    def __init__(self, work, extra, env, name):
        self.work, self.extra, self.env = work, extra, env
        self.log_path = os.path.join(work, f"webapp-{name}.log")
        self.proc = None
        self.port = None

    def start(self, ready=True):
        self.port = free_port()
        addr = f"127.0.0.1:{self.port}"
        args = [os.path.join(BIN, "nodules-webapp"), "serve", "--listen", addr, "--base-url", f"http://{addr}",
                "--index-dir", os.path.join(self.work, "search-index"), *self.extra]
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, env=self.env, stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench-webapp: the webapp exited ({self.proc.returncode}); log: {self.log_path}")
            try:
                if ready:
                    # the search index built: its first build would otherwise share the CPU
                    status, _, body, _ = get(self.port, "/readyz", timeout=2)
                    if status == 200 and body == b"ready\n":
                        return self
                else:
                    if get(self.port, "/healthz", timeout=2)[0] == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.02 if not ready else 0.1)
        raise SystemExit(f"bench-webapp: the webapp did not get ready within 120 s; log: {self.log_path}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def metrics(self):
        try:
            status, _, body, _ = get(self.port, "/metrics", timeout=5)
        except OSError:
            return {}
        if status != 200:
            return {"status": status}
        out = {}
        for line in body.decode(errors="replace").splitlines():
            m = re.match(r"^(nodules_(?:shed|rate_limited|cache_hits)_total) (\d+)$", line)
            if m:
                out[m.group(1)] = int(m.group(2))
        return out


class Nginx:
    """nginx as the current user, serving one directory, with a minimal configuration."""

    def __init__(self, work):
        self.dir = os.path.join(work, "nginx")
        self.root = os.path.join(self.dir, "www")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        os.makedirs(self.root, exist_ok=True)
        self.port = None
        self.proc = None

    def start(self):
        self.port = free_port()
        d = self.dir
        # as root, workers would switch to `nobody`, who cannot read a 0700 temp dir
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""{user}daemon off;
worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp_body;
    proxy_temp_path {d}/tmp_proxy;
    fastcgi_temp_path {d}/tmp_fastcgi;
    uwsgi_temp_path {d}/tmp_uwsgi;
    scgi_temp_path {d}/tmp_scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.root};
        location / {{ default_type text/html; }}
    }}
}}
""")
        # -e: not the compiled-in error log, which a non-root user cannot open
        self.proc = subprocess.Popen([which("nginx"), "-p", d, "-e", f"{d}/logs/error.log", "-c", conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(d, "logs", "stderr.log"), "ab"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench-webapp: nginx exited; see {d}/logs/")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit("bench-webapp: nginx did not start")

    def pids(self):
        return [self.proc.pid] + children(self.proc.pid) if self.proc else []

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# ---------------------------------------------------------------- Part A


def setup(env):
    """Fresh database, the packages, their tarballs, ranked dependents. Returns step timings."""
    try:
        import pymongo  # in .venv; only to start from an empty database when MONGODB_URI is reused

        pymongo.MongoClient(env["MONGODB_URI"], serverSelectionTimeoutMS=5000).drop_database(DB)
    except ImportError:
        log("pymongo not available: not dropping the database first")
    steps = {}
    steps["fetch"] = run_step([os.path.join(BIN, "nodules-indexer"), "fetch", *PACKAGES], env)
    steps["download"] = run_step([os.path.join(BIN, "nodules-downloader"), "run", "--once"], env)
    steps["rerank"] = run_step([os.path.join(BIN, "nodules-indexer"), "dependents", "--rerank"], env)
    return steps


def check_page(name, status, body):
    if status != 200:
        raise SystemExit(f"bench-webapp: /package/{name} answered {status}")
    if b'<div class="markdown">' not in body:
        raise SystemExit(f"bench-webapp: /package/{name} has no rendered README (was its tarball downloaded?)")


def page_facts(body):
    """(HTML bytes, README HTML bytes, versions the page counts)."""
    m = re.search(rb'id="versions-h">Versions <span class="count">([0-9,]+)<', body)
    start = body.find(b'<div class="markdown">')
    end = body.find(b"</section>", start)
    return len(body), (end - start if start >= 0 and end > start else 0), (m.group(1).decode() if m else "?")


def cold_pages(work, env):
    """First request of each page after a fresh start (caches empty), over several starts."""
    cold = {p: [] for p in COLD_PAGES}
    warm = {p: [] for p in COLD_PAGES}
    ops = {p: [] for p in COLD_PAGES}
    sizes = {}
    for i in range(COLD_STARTS):
        w = Webapp(work, ["--rate-limit", "0", "--max-in-flight", "100000"], env, "cold").start()
        try:
            # alternate the order, so no package is always the very first request
            order = COLD_PAGES[i % len(COLD_PAGES):] + COLD_PAGES[:i % len(COLD_PAGES)]
            for p in order:
                ops0 = db_ops()
                status, _, body, secs = get(w.port, f"/package/{p}")
                ops[p].append(ops_between(ops0, db_ops()))
                check_page(p, status, body)
                cold[p].append(secs * 1000)
                sizes[p] = page_facts(body)
                status, headers, _, secs = get(w.port, f"/package/{p}")
                if headers.get("x-cache") != "hit":
                    log(f"warning: second request of /package/{p} was not a cache hit")
                warm[p].append(secs * 1000)
        finally:
            w.stop()
    return cold, warm, sizes, ops


WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(out):
    def ms(s):
        m = re.match(r"([0-9.]+)(us|ms|s|m)$", s)
        return float(m.group(1)) * WRK_UNITS[m.group(2)] if m else None

    r = {"rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))}
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        r[f"p{pct}"] = ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([0-9.]+\w+), ([0-9.]+\w+) read", out)
    r["requests"] = int(m.group(1)) if m else None
    r["read"] = m.group(3) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Transfer/sec:\s+(\S+)", out)
    r["transfer"] = m.group(1) if m else None
    return r


def run_wrk(url, pids):
    cpu0 = cpu_seconds(pids)
    p = subprocess.run(["wrk", *WRK_ARGS, url], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench-webapp: wrk failed: {p.stderr}")
    r = parse_wrk(p.stdout)
    r["cpu_s"] = cpu_seconds(pids) - cpu0
    return r


def header_bytes(port, path, accept_encoding=None):
    cmd = ["curl", "-s", "-o", "/dev/null", "-D", "-", f"http://127.0.0.1:{port}{path}"]
    if accept_encoding:
        cmd[1:1] = ["-H", f"Accept-Encoding: {accept_encoding}"]
    head = subprocess.run(cmd, capture_output=True).stdout
    return head


def hot_page(work, env):
    ours = Webapp(work, ["--rate-limit", "0", "--max-in-flight", "100000"], env, "hot").start()
    ngx = Nginx(work)
    try:
        url = f"http://127.0.0.1:{ours.port}{HOT_PAGE}"
        status, _, body, _ = get(ours.port, HOT_PAGE)  # fills the cache
        check_page(HOT_PAGE, status, body)
        page_file = os.path.join(ngx.root, HOT_PAGE.lstrip("/"))
        os.makedirs(os.path.dirname(page_file), exist_ok=True)
        subprocess.run(["curl", "-s", "-f", "-o", page_file, url], check=True)
        ngx.start()
        with open(page_file, "rb") as f:
            saved = f.read()
        ref = get(ngx.port, HOT_PAGE)[2]
        again = get(ours.port, HOT_PAGE)[2]
        if not (hashlib.sha256(saved).digest() == hashlib.sha256(ref).digest() == hashlib.sha256(again).digest()):
            raise SystemExit("bench-webapp: nginx and the webapp do not send the same bytes")
        head_ours = header_bytes(ours.port, HOT_PAGE)
        head_ngx = header_bytes(ngx.port, HOT_PAGE)
        gz = header_bytes(ours.port, HOT_PAGE, "gzip, br").decode(errors="replace").lower()
        enc = re.search(r"^content-encoding:\s*(\S+)", gz, re.M)
        plain_enc = re.search(r"^content-encoding:\s*(\S+)", head_ours.decode(errors="replace").lower(), re.M)
        info = {
            "body_bytes": len(saved),
            "head_ours": len(head_ours),
            "head_nginx": len(head_ngx),
            "compresses": enc.group(1) if enc else None,
            "compresses_without_ae": plain_enc.group(1) if plain_enc else None,
        }
        runs = {"nginx": [], "ours": []}
        hits0 = ours.metrics().get("nodules_cache_hits_total", 0)
        for i in range(ROUNDS):
            for name, port, pids in (("nginx", ngx.port, ngx.pids()), ("ours", ours.port, [ours.proc.pid])):
                log(f"wrk round {i + 1}/{ROUNDS}: {name}")
                runs[name].append(run_wrk(f"http://127.0.0.1:{port}{HOT_PAGE}", pids))
        info["cache_hits"] = ours.metrics().get("nodules_cache_hits_total", 0) - hits0
        info["ours_requests"] = sum(r["requests"] or 0 for r in runs["ours"])
        info["rss_kb"] = proc_status_kb(ours.proc.pid, "VmHWM")
        return runs, info
    finally:
        ngx.stop()
        ours.stop()


# ---------------------------------------------------------------- Part B


async def flood(port, path, clients, spread):
    """`clients` connections started evenly over `spread` seconds, one request each."""
    loop = asyncio.get_running_loop()
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: nodules-bench-flood\r\n"
               "Accept: text/html\r\nConnection: close\r\n\r\n").encode()
    t0 = loop.time() + 0.05

    async def client(i):
        at = t0 + spread * i / clients
        await asyncio.sleep(max(0.0, at - loop.time()))
        started = loop.time()
        r = {"late": started - at, "start": started - t0}
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), CLIENT_TIMEOUT_S)
            r["connect"] = loop.time() - started
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CLIENT_TIMEOUT_S)
            r["answered"] = loop.time() - t0
            r["latency"] = loop.time() - started
            lines = head.decode("latin-1").split("\r\n")
            r["status"] = int(lines[0].split(" ", 2)[1])
            for line in lines[1:]:
                k, _, v = line.partition(":")
                k = k.strip().lower()
                if k == "retry-after":
                    r["retry_after"] = int(v.strip())
                elif k == "content-security-policy":
                    r["csp"] = True
            body = bytearray()
            while chunk := await asyncio.wait_for(reader.read(1 << 16), CLIENT_TIMEOUT_S):
                if r["status"] != 200 and len(body) < 1 << 16:
                    body += chunk
            r["done"] = loop.time() - t0
            if r["status"] != 200:
                r["body_bytes"] = len(body)
                # a 503 is either the shedder's or the 3 s request budget's ("database unavailable")
                if r["status"] == 503 and b"database is unavailable" in body:
                    r["status"] = "503db"
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
            r["error"] = type(e).__name__
            r["answered"] = loop.time() - t0
        finally:
            if writer is not None:
                writer.close()
        return r

    return await asyncio.gather(*(client(i) for i in range(clients)))


class RssSampler(threading.Thread):
    """Samples VmRSS of a process every 10 ms; keeps the maximum."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopped = pid, 0, threading.Event()

    def run(self):
        while not self.stopped.is_set():
            self.peak = max(self.peak, proc_status_kb(self.pid, "VmRSS") or 0)
            time.sleep(0.01)


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def summarize_flood(results):
    counts = {"200": 0, "503": 0, "503db": 0, "429": 0, "other": 0, "error": 0}
    errors = {}
    by_status = {}
    retry = {"503": [], "503db": [], "429": []}
    answers = {}
    for r in results:
        if "error" in r:
            counts["error"] += 1
            errors[r["error"]] = errors.get(r["error"], 0) + 1
            continue
        s = str(r["status"])
        counts[s if s in counts else "other"] += 1
        by_status.setdefault(s, []).append(r["latency"] * 1000)
        if "retry_after" in r and s in retry:
            retry[s].append(r["retry_after"])
        if "body_bytes" in r:
            answers.setdefault(s, []).append((r["body_bytes"], r.get("csp", False)))
    return {
        "counts": counts,
        "errors": errors,
        "shed_s": max(r["answered"] for r in results),
        "done_s": max(r.get("done", r["answered"]) for r in results),
        "late_ms": max(r["late"] for r in results) * 1000,
        "spread_s": max(r["start"] for r in results),
        "lat": {s: (pct(v, 50), pct(v, 99)) for s, v in by_status.items()},
        "max_ms": max((r.get("latency", 0) for r in results), default=0) * 1000,
        "retry": retry,
        "slow_connects": sum(1 for r in results if r.get("connect", 0) >= 0.9),
        # per error status: (largest body, how many carried a Content-Security-Policy)
        "answers": {k: (max(b for b, _ in v), sum(1 for _, c in v if c), len(v)) for k, v in answers.items()},
    }


_mongo = None


def db_ops():
    """Reads the database has served so far (serverStatus opcounters: query + getmore + command),
    or None without pymongo. Our own serverStatus is not counted."""
    global _mongo
    try:
        if _mongo is None:
            import pymongo

            _mongo = pymongo.MongoClient(os.environ["MONGODB_URI"], serverSelectionTimeoutMS=5000)
        c = _mongo.admin.command("serverStatus")["opcounters"]
        return c.get("query", 0) + c.get("getmore", 0) + c.get("command", 0)
    except Exception:  # no pymongo, or a server without opcounters: the column stays empty
        return None


def ops_between(before, after):
    return None if before is None or after is None else after - before - 1


def dev_db_pid():
    """The development database's process (scripts/devdb run says where), for its CPU time."""
    d = os.environ.get("NODULES_DEV_DB_DIR")
    try:
        with open(os.path.join(d, "secantusd.pid")) as f:
            return int(f.read().strip())
    except (TypeError, OSError, ValueError):
        return None


def listen_overflows():
    """Connections the kernel refused because a listen queue was full (all sockets of the machine)."""
    try:
        with open("/proc/net/netstat") as f:
            lines = [l.split() for l in f if l.startswith("TcpExt:")]
        return int(dict(zip(lines[0], lines[1]))["ListenOverflows"])
    except (OSError, KeyError, IndexError, ValueError):
        return None


def run_flood_on(port, pids, spread, label, webapp=True):
    """Floods the server at `port`; `pids[0]` is the one whose memory is watched."""
    db = dev_db_pid()
    hwm0 = proc_status_kb(pids[0], "VmHWM")
    sampler = RssSampler(pids[0])
    sampler.start()
    cpu0, db0, ops0, lo0 = cpu_seconds(pids), cpu_seconds([db] if db else []), db_ops(), listen_overflows()
    results = asyncio.run(flood(port, HOT_PAGE, FLOOD_CLIENTS, spread))
    cpu1, db1, ops1, lo1 = cpu_seconds(pids), cpu_seconds([db] if db else []), db_ops(), listen_overflows()
    sampler.stopped.set()
    sampler.join()
    s = summarize_flood(results)
    s.update(label=label, spread=spread, backlog=listen_backlog(port), cpu_s=cpu1 - cpu0, db_cpu_s=(db1 - db0) if db else None,
             db_ops=ops_between(ops0, ops1), overflows=None if lo0 is None or lo1 is None else lo1 - lo0)
    if webapp:
        s.update(hwm_before=hwm0, hwm_after=proc_status_kb(pids[0], "VmHWM"), rss_peak=sampler.peak)
        try:
            s["healthz"] = get(port, "/healthz", timeout=5)[0]
        except OSError as e:
            s["healthz"] = type(e).__name__
    else:
        s.update(hwm_before=None, hwm_after=None, rss_peak=None, healthz=None)
    try:
        s["page_after"] = get(port, HOT_PAGE, timeout=10)[0]
    except OSError as e:
        s["page_after"] = type(e).__name__
    return s


# (label, server, serve options, request the page once before the flood, seconds to spread over)
FLOOD_CONFIGS = [
    ("nginx, static copy (reference)", "nginx", [], False, FLOOD_SPREAD_S),
    ("--rate-limit 0 (max-in-flight 512)", "webapp", ["--rate-limit", "0"], False, FLOOD_SPREAD_S),
    ("--rate-limit 0 --max-in-flight 64", "webapp", ["--rate-limit", "0", "--max-in-flight", "64"], False,
     FLOOD_SPREAD_S),
    ("defaults (rate limit 600/min, max-in-flight 512)", "webapp", [], False, FLOOD_SPREAD_S),
    ("--rate-limit 0 (512), page cached before the flood", "webapp", ["--rate-limit", "0"], True, FLOOD_SPREAD_S),
    # the worst case of "within one second": all in its first millisecond
    ("burst: nginx, static copy (reference)", "nginx", [], False, 0.0),
    ("burst: --rate-limit 0 (max-in-flight 512)", "webapp", ["--rate-limit", "0"], False, 0.0),
    ("burst: --rate-limit 0 --max-in-flight 64", "webapp", ["--rate-limit", "0", "--max-in-flight", "64"], False,
     0.0),
]


def floods(work, env):
    out = []
    for run in range(FLOOD_RUNS):
        for label, server, args, warm, spread in FLOOD_CONFIGS:
            log(f"flood {run + 1}/{FLOOD_RUNS}: {label}")
            if server == "nginx":
                ngx = Nginx(work).start()
                try:
                    s = run_flood_on(ngx.port, ngx.pids(), spread, label, webapp=False)
                finally:
                    ngx.stop()
            else:
                # only listening, caches empty: as right after a restart
                w = Webapp(work, args, env, "flood").start(ready=False)
                try:
                    if warm:
                        get(w.port, HOT_PAGE)
                    s = run_flood_on(w.port, [w.proc.pid], spread, label)
                    m = w.metrics()
                    s.update(shed_metric=m.get("nodules_shed_total"),
                             limited_metric=m.get("nodules_rate_limited_total"), metrics_status=m.get("status"))
                finally:
                    w.stop()
            s["run"] = run + 1
            out.append(s)
    return out


# ---------------------------------------------------------------- report


def median_or_dash(values):
    values = [v for v in values if v is not None]
    return f"{statistics.median(values):g}" if values else "–"


def f1(x, nd=1):
    return "–" if x is None else f"{x:,.{nd}f}"


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    ngx_v = subprocess.run([which("nginx"), "-v"], capture_output=True, text=True).stderr.strip()
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_v = (wrk_v.stdout + wrk_v.stderr).strip().splitlines()[0] if (wrk_v.stdout + wrk_v.stderr).strip() else "?"
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(), "nginx": ngx_v,
            "wrk": wrk_v.split(" [")[0], "python": platform.python_version()}


def report(m, load0, load1, steps, cold_results, runs, info, flood_rows, fds):
    cold, warm, sizes, ops = cold_results
    L = []
    w = L.append
    w("## Webapp: hot module page (issue 7) and reconnect flood (issue 9)")
    w("")
    w(f"Machine: {m['nproc']} cores, {m['cpu']}, Linux {m['kernel']}; {m['nginx']}, {m['wrk']}, "
      f"Python {m['python']}. Load average before/after: {load0} / {load1} (the machine is shared: "
      "compare ratios within this run, not absolute numbers across runs).")
    w("")
    w("Reproduce: `make bench-webapp` (builds, starts a throw-away development database, runs "
      "`scripts/devdb run -- .venv/bin/python bench/webapp.py`). Needs nginx and wrk: "
      f"`{INSTALL}` (the script runs it when it is root).")
    w("")
    w(f"Data: `nodules-indexer fetch {' '.join(PACKAGES)}` from the registry `npm config get registry` "
      f"names ({f1(steps['fetch'])} s), `nodules-downloader run --once` ({f1(steps['download'])} s), "
      f"`nodules-indexer dependents --rerank` ({f1(steps['rerank'])} s), database `{DB}` on the development "
      "server (SecantusDB).")
    w("")
    w("### Part A: a module page")
    w("")
    w(f"Cold: the first request of each page after a fresh start (`serve --rate-limit 0 --max-in-flight 100000`; "
      f"started {COLD_STARTS} times, waited for `/readyz` = `ready`, pages requested in rotating order), "
      "then the same page again (a cache hit), one request at a time on a new connection from Python.")
    w("")
    w("| page | HTML bytes | README HTML bytes | versions | cold ms, median | cold min–max | database reads | "
      "2nd request ms, median |")
    w("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for p in COLD_PAGES:
        c = cold[p]
        w(f"| /package/{p} | {sizes[p][0]:,} | {sizes[p][1]:,} | {sizes[p][2]} | {f1(statistics.median(c))} | "
          f"{f1(min(c))}–{f1(max(c))} | {median_or_dash(ops[p])} | {f1(statistics.median(warm[p]), 2)} |")
    w("")
    w(f"Hot: `wrk {' '.join(WRK_ARGS)} http://127.0.0.1:PORT{HOT_PAGE}` against the webapp "
      "(`--rate-limit 0 --max-in-flight 100000`, page cached) and against nginx (`worker_processes auto`, "
      "`access_log off`, otherwise defaults: `sendfile off`, `keepalive_requests 1000`) serving the same "
      f"{info['body_bytes']:,} bytes saved with curl (checked byte-identical). Alternated nginx, ours "
      f"({ROUNDS} rounds each); wrk sends no Accept-Encoding, so neither compresses. Response head: "
      f"{info['head_ours']} bytes from us (security headers), {info['head_nginx']} from nginx.")
    w("")
    w("| server | round | requests/s | p50 ms | p99 ms | transfer/s | non-2xx | socket errors | server CPU s | "
      "requests per server CPU-s |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for i in range(ROUNDS):
        for name in ("nginx", "ours"):
            r = runs[name][i]
            w(f"| {name} | {i + 1} | {f1(r['rps'], 0)} | {f1(r['p50'], 2)} | {f1(r['p99'], 2)} | {r['transfer']} | "
              f"{r['non2xx']} | {r['socket_errors']} | {f1(r['cpu_s'], 1)} | {f1(per_cpu(r), 0)} |")
    best_n = max(runs["nginx"], key=lambda r: r["rps"])
    best_o = max(runs["ours"], key=lambda r: r["rps"])
    ratio = best_o["rps"] / best_n["rps"]
    ratios = [o["rps"] / n["rps"] for o, n in zip(runs["ours"], runs["nginx"])]
    eff = {k: sum(r["requests"] or 0 for r in v) / max(sum(r["cpu_s"] for r in v), 1e-9) for k, v in runs.items()}
    w("")
    w("| best of each | requests/s | p50 ms | p99 ms |")
    w("| --- | ---: | ---: | ---: |")
    w(f"| nginx | {f1(best_n['rps'], 0)} | {f1(best_n['p50'], 2)} | {f1(best_n['p99'], 2)} |")
    w(f"| ours | {f1(best_o['rps'], 0)} | {f1(best_o['p50'], 2)} | {f1(best_o['p99'], 2)} |")
    w(f"| **ours / nginx** | **{ratio:.2f}** (target ≥ 0.5; per round: "
      f"{', '.join(f'{x:.2f}' for x in ratios)}) | {best_o['p50'] / best_n['p50']:.2f} | "
      f"{best_o['p99'] / best_n['p99']:.2f} |")
    w("")
    comp = info["compresses"]
    plain = info["compresses_without_ae"]
    w((f"Compression: asked with `Accept-Encoding: gzip, br`, the webapp answers `Content-Encoding: {comp}`"
       if comp else "Compression: the webapp did not compress even when asked (`Accept-Encoding: gzip, br`)") +
      f"; without the header it sends {'`' + plain + '`' if plain else 'the page uncompressed'}, as measured "
      f"above. Cache hits during the webapp's wrk runs: {info['cache_hits']:,} (wrk counted "
      f"{info['ours_requests']:,} completed requests): no database read on the hot path. Webapp peak RSS "
      f"(VmHWM) after the runs: {f1((info['rss_kb'] or 0) / 1024)} MB.")
    w("")
    verdict = "meets" if ratio >= 0.5 else "misses"
    cold_med = {p: statistics.median(cold[p]) for p in COLD_PAGES}
    w(f"Interpretation: a cached module page is served at {ratio:.2f}× nginx's rate for the same bytes "
      f"({verdict} the 0.5 target); per CPU-second of the server, {f1(eff['ours'], 0)} requests against nginx's "
      f"{f1(eff['nginx'], 0)} ({eff['ours'] / eff['nginx']:.2f}×). wrk, both servers and the rest of the "
      f"machine's work share {m['nproc']} cores, so requests/s is partly a measure of who gets the CPU, and the "
      "p99s are scheduling noise more than server behaviour; compare the ratios and the p50s. Uncached, the first "
      f"request costs {', '.join(f'{f1(v, 0)} ms ({p})' for p, v in cold_med.items())} (database reads, the "
      "README render, the template), paid once per page after a start or a change of the package; the second "
      "request is a cache hit.")
    w("")
    w("### Part B: reconnect flood")
    w("")
    w(f"{FLOOD_CLIENTS:,} clients (Python asyncio, one process; fd limit raised to {fds}) start their "
      f"connections evenly over {FLOOD_SPREAD_S:g} s as soon as a freshly started webapp answers `/healthz` "
      f"(caches empty), each sending `GET {HOT_PAGE} HTTP/1.1` with `Connection: close` and reading the head, "
      "then the body. Rows: nginx serving the saved page (what this client and machine manage at all); the "
      "webapp with `--rate-limit 0` and the default `--max-in-flight 512`, with 64, with every default (so the "
      "per-client rate limiter, as all clients are 127.0.0.1), and with the page requested once before the "
      "flood (the cost of the cold cache); then `burst:` rows, all clients started at once, the worst case of "
      "\"within one second\". Latency: connect to status line; all answered: flood start to the last status line "
      f"(last byte). 503 shed: the `--max-in-flight` answer; 503 database: the 3 s request budget ran out "
      "(\"the database is unavailable\", Retry-After 30). Connects ≥ 0.9 s: a SYN sent again after the kernel's "
      "1 s timeout; listen-queue overflows: the kernel's ListenOverflows counter (whole machine) during the flood. "
      "Database reads: serverStatus opcounters (query + getmore + command) during the flood, background polls "
      f"included. {FLOOD_RUNS} run(s) of each.")
    w("")
    w("| server | run | 200 | 503 shed | 503 database | 429 | other | conn. errors | all answered s (last byte) | "
      "p50 / p99 ms, 200 | p50 / p99 ms, 503 shed | p50 / p99 ms, 429 | slowest answer ms | connects ≥ 0.9 s | "
      "listen-queue overflows |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for s in flood_rows:
        c = s["counts"]

        def lat(k):
            v = s["lat"].get(k)
            return f"{f1(v[0], 0)} / {f1(v[1], 0)}" if v else "–"

        errs = str(c["error"]) + (f" ({', '.join(f'{k} {v}' for k, v in s['errors'].items())})" if s["errors"] else "")
        w(f"| {s['label']} | {s['run']} | {c['200']} | {c['503']} | {c['503db']} | {c['429']} | {c['other']} | "
          f"{errs} | {f1(s['shed_s'], 2)} ({f1(s['done_s'], 2)}) | {lat('200')} | {lat('503')} | {lat('429')} | "
          f"{f1(s['max_ms'], 0)} | {s['slow_connects']} | {f1(s['overflows'], 0)} |")
    w("")
    w("| server | run | Retry-After, 503 shed: min–max; value:count | Retry-After, 503 database | Retry-After, 429 | "
      "error answers: largest body, with CSP | server CPU s | database CPU s | database reads | "
      "peak RSS MB, sampled (VmHWM before → after) | after: /healthz, page | shed / limited (/metrics) |")
    w("| --- | ---: | --- | --- | --- | --- | ---: | ---: | ---: | --- | --- | --- |")
    for s in flood_rows:
        if s["hwm_before"] is None:
            rss = "–"
        else:
            rss = f"{f1(s['rss_peak'] / 1024)} ({f1(s['hwm_before'] / 1024)} → {f1(s['hwm_after'] / 1024)})"
        if s.get("metrics_status"):
            metrics = f"/metrics answered {s['metrics_status']}"
        elif s.get("shed_metric") is None:
            metrics = "–"
        else:
            metrics = f"{s['shed_metric']} / {s.get('limited_metric')}"
        health = "–" if s["healthz"] is None else s["healthz"]
        answers = "; ".join(f"{STATUS_NAMES.get(k, k)}: {b:,} B, CSP {n_csp}/{n}"
                            for k, (b, n_csp, n) in sorted(s["answers"].items())) or "–"
        w(f"| {s['label']} | {s['run']} | {retry_text(s['retry']['503'])} | {retry_text(s['retry']['503db'])} | "
          f"{retry_text(s['retry']['429'])} | {answers} | {f1(s['cpu_s'], 2)} | {f1(s['db_cpu_s'], 2)} | "
          f"{f1(s['db_ops'], 0)} | {rss} | {health}, {s['page_after']} | {metrics} |")
    late = max(s["late_ms"] for s in flood_rows)
    w("")
    w(f"The client kept its schedule within {f1(late, 0)} ms in every run (latest connection start behind plan).")
    w("")
    express_ops = [v for v in ops.get(HOT_PAGE.rsplit("/", 1)[1], []) if v is not None]
    w("Interpretation: " + interpret_flood(flood_rows, statistics.median(express_ops) if express_ops else None))
    w("")
    return "\n".join(L)


STATUS_NAMES = {"503": "503 shed", "503db": "503 database"}


def retry_text(values):
    if not values:
        return "–"
    dist = " ".join(f"{v}:{values.count(v)}" for v in sorted(set(values)))
    return f"{min(values)}–{max(values)}; {dist}"


def per_cpu(r):
    return (r["requests"] or 0) / r["cpu_s"] if r["cpu_s"] else None


def interpret_flood(rows, cold_ops):
    def mean(label, get):
        vals = [get(r) for r in rows if r["label"] == label]
        vals = [v for v in vals if v is not None]
        return statistics.mean(vals) if vals else None

    def count(label, status):
        return mean(label, lambda r: r["counts"][status])

    def p99(label):
        return mean(label, lambda r: r["lat"].get("200", (None, None))[1])

    ref, on, lo, dflt, warm = (c[0] for c in FLOOD_CONFIGS[:5])
    bref, bon, blo = (c[0] for c in FLOOD_CONFIGS[5:8])
    out = []
    out.append(
        f"Spread over a second the flood is one request a millisecond. With `--rate-limit 0` and the default "
        f"512, the webapp answered {count(on, '200'):.0f} × 200 and {count(on, '503'):.0f} × 503 (mean of runs), "
        f"every client within {mean(on, lambda r: r['shed_s']):.2f} s of the flood's start (nginx: "
        f"{mean(ref, lambda r: r['shed_s']):.2f} s), p99 of the 200s {f1(p99(on), 0)} ms (nginx {f1(p99(ref), 0)} "
        f"ms); with 64, {count(lo, '503'):.0f} × 503 and a p99 of {f1(p99(lo), 0)} ms.")
    cold, hot = mean(on, lambda r: r["db_ops"]), mean(warm, lambda r: r["db_ops"])
    if cold is not None and hot is not None:
        one = cold_ops
        n = (cold - hot) / one if one else None
        renders = f" (about {n:.0f} renders, at {one:g} reads per cold render)" if n is not None else ""
        why = ""
        if n is not None:
            why = (": requests that miss while the first render is running each render the page themselves "
                   "(concurrent misses are not coalesced)" if n > 2 else ": the page was rendered about once")
        out.append(
            f"The cold cache is what a restart costs: {cold:.0f} database reads during the flood against "
            f"{hot:.0f} with the page cached first{renders}, p99 {f1(p99(on), 0)} against {f1(p99(warm), 0)} ms, "
            f"server CPU {mean(on, lambda r: r['cpu_s']):.2f} against {mean(warm, lambda r: r['cpu_s']):.2f} s"
            f"{why}.")
    out.append(
        f"All at once: {count(bon, '200'):.0f} × 200 / {count(bon, '503'):.0f} × 503 shed / "
        f"{count(bon, '503db'):.0f} × 503 database / {count(bon, 'error'):.0f} errors with 512, "
        f"{count(blo, '200'):.0f} / {count(blo, '503'):.0f} / {count(blo, '503db'):.0f} / "
        f"{count(blo, 'error'):.0f} with 64; all answered after {mean(bon, lambda r: r['shed_s']):.2f} and "
        f"{mean(blo, lambda r: r['shed_s']):.2f} s (nginx {mean(bref, lambda r: r['shed_s']):.2f} s: the Python "
        "client's own floor for opening 1,000 connections at once).")
    db503 = sum(r["counts"]["503db"] for r in rows)
    if db503:
        out.append(
            f"{db503} answers in all were 503 \"the database is unavailable\" with Retry-After 30 although the "
            "database was up: admitted requests queued behind the renders of the same page until the 3 s request "
            "budget ran out; those clients are all told the same 30 s.")
    webapp_rows = [r for r in rows if r["hwm_before"] is not None]
    overflows = sum(r["overflows"] or 0 for r in webapp_rows)
    slow = sum(r["slow_connects"] for r in webapp_rows)
    backlog = next((r["backlog"] for r in webapp_rows if r.get("backlog")), None)
    ngx_backlog = next((r["backlog"] for r in rows if r["hwm_before"] is None and r.get("backlog")), None)
    if overflows or slow:
        out.append(
            f"The kernel counted {overflows} listen-queue overflows during the webapp's floods and {slow} "
            f"connections took ≥ 0.9 s to open (a SYN sent again after 1 s); the webapp listens with a backlog of "
            f"{backlog if backlog is not None else '?'} (nginx: {ngx_backlog if ngx_backlog is not None else '?'}).")
    r503 = [v for r in rows for v in r["retry"]["503"]]
    r429 = [v for r in rows for v in r["retry"]["429"]]
    if r503:
        out.append(f"Shed 503s carried Retry-After {min(r503)}–{max(r503)} s ({len(set(r503))} distinct values: "
                   f"{'jittered' if len(set(r503)) > 1 else 'NOT jittered'}).")
    if r429:
        out.append(
            f"With every default, {count(dflt, '200'):.0f} requests passed and {count(dflt, '429'):.0f} got 429: "
            "that is the per-client page budget (burst 400, then 40/s), since every client here is 127.0.0.1; "
            f"their Retry-After was {min(r429)}–{max(r429)} s ({len(set(r429))} distinct value(s)"
            f"{': all limited clients are told the same second' if len(set(r429)) == 1 else ''}).")
    bare = {}
    for r in webapp_rows:
        for k, (size, n_csp, n) in r["answers"].items():
            b = bare.setdefault(k, [0, 0, 0])
            b[0], b[1], b[2] = max(b[0], size), b[1] + n_csp, b[2] + n
    missing = [f"{STATUS_NAMES.get(k, k)} (largest body {v[0]:,} B, CSP on {v[1]} of {v[2]})"
               for k, v in sorted(bare.items()) if v[1] < v[2] or v[0] == 0]
    if missing:
        out.append("Error answers without the security headers or without a page: " + ", ".join(missing) + ".")
    peak = max((r["rss_peak"] or 0) for r in rows) / 1024
    healthy = all(r["healthz"] in (None, 200) for r in rows)
    out.append(f"Peak webapp RSS during any flood: {peak:.1f} MB; /healthz answered "
               f"{'200 after every flood' if healthy else 'NOT 200 after some flood (see table)'}.")
    return " ".join(out)


def main():
    if not os.environ.get("MONGODB_URI"):
        raise SystemExit("bench-webapp: MONGODB_URI is not set; run it as `scripts/devdb run -- .venv/bin/python bench/webapp.py`")
    for b in ("nodules-indexer", "nodules-downloader", "nodules-webapp"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            raise SystemExit(f"bench-webapp: {BIN}/{b} is missing: make build")
    check_tools()
    fds = raise_fd_limit()
    env = dict(os.environ, NODULES_DB=DB)
    work = tempfile.mkdtemp(prefix="nodules-bench-webapp.")
    load0 = f"{os.getloadavg()[0]:.2f}"
    try:
        log(f"work directory {work}")
        steps = setup(env)
        log("part A: cold pages")
        cold, warm, sizes, ops = cold_pages(work, env)
        log("part A: hot page, wrk")
        runs, info = hot_page(work, env)
        log("part B: floods")
        flood_rows = floods(work, env)
        load1 = f"{os.getloadavg()[0]:.2f}"
        md = report(machine(), load0, load1, steps, (cold, warm, sizes, ops), runs, info, flood_rows, fds)
    finally:
        if os.environ.get("NODULES_BENCH_KEEP"):
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
