#!/usr/bin/env bash
# A/B of the hot module page between two builds of the webapp, against nginx serving the
# same bytes, in one run (BENCHMARKS.md, issue 22):
#   bench/ab_webapp.sh OLD_BIN_DIR NEW_BIN_DIR [ROUNDS]
# Each BIN_DIR holds nodules-indexer, nodules-downloader and nodules-webapp (release builds).
# The old build fills a development database with a few real packages from the registry npm
# uses; both webapps then serve that database, and wrk loads /package/express on old, new,
# old again (the A/A) and nginx, in turn, ROUNDS times. Needs wrk and nginx.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OLD="$1"; NEW="$2"; ROUNDS="${3:-3}"
WORK="$(mktemp -d /tmp/nodules-ab.XXXXXX)"
PORT="$("$ROOT/scripts/devdb" free-port)"
"$ROOT/scripts/devdb" start "$WORK/db" "$PORT" >/dev/null
trap 'kill $(jobs -p) 2>/dev/null; nginx -c "$WORK/nginx.conf" -s stop 2>/dev/null; "$ROOT/scripts/devdb" stop "$WORK/db" >/dev/null; rm -rf "$WORK"' EXIT
export MONGODB_URI="$("$ROOT/scripts/devdb" uri "$PORT")" NODULES_DB=ab_webapp
"$OLD/nodules-indexer" fetch express react typescript lodash axios commander >/dev/null 2>&1
"$OLD/nodules-downloader" run --once >/dev/null 2>&1
"$OLD/nodules-indexer" dependents --rerank >/dev/null 2>&1
serve() { "$1/nodules-webapp" serve --listen "127.0.0.1:$2" --base-url "http://127.0.0.1:$2" --index-dir "$WORK/index-$2" --rate-limit 0 >/dev/null 2>&1 & }
serve "$OLD" 18101; serve "$NEW" 18102
for p in 18101 18102; do until curl -sf "http://127.0.0.1:$p/healthz" >/dev/null; do sleep 0.2; done; done
mkdir -p "$WORK/www/package"
curl -sf http://127.0.0.1:18102/package/express -o "$WORK/www/package/express"
cat > "$WORK/nginx.conf" <<NGINX
daemon on; pid $WORK/nginx.pid; error_log $WORK/nginx.err; worker_processes 1;
events { worker_connections 1024; }
http { access_log off; default_type text/html; server { listen 127.0.0.1:18103; root $WORK/www; } }
NGINX
nginx -c "$WORK/nginx.conf"
rps() { wrk -c 64 -t 2 -d "${WRK_DURATION:-8s}" "$1" | awk '/Requests\/sec/ {print $2}'; }
for p in 18101 18102 18103; do rps "http://127.0.0.1:$p/package/express" >/dev/null; done   # warm-up
echo "round old new old_again nginx"
for r in $(seq "$ROUNDS"); do
  echo "$r $(rps http://127.0.0.1:18101/package/express) $(rps http://127.0.0.1:18102/package/express) $(rps http://127.0.0.1:18101/package/express) $(rps http://127.0.0.1:18103/package/express)"
done
