#!/usr/bin/env bash
# Where a durable PUT's time goes at one scale (docs/benchmarks.md, "PUT at 10M"): seeds N
# interactions into a SQLite database under $WORK (once), starts `wrapup serve` on it, loads it
# with PUTs (wrk, 32 connections, the same script as bench/run.sh), and prints per PUT: the
# writer thread's CPU, the process's CPU, the bytes written, and the page I/O system calls
# (perf stat); records a profile of the writer thread (perf record) in $WORK/<tag>.perf.data.
# With --split, traces the calls for a few seconds (strace, which slows the server) to say
# how much goes to the WAL and how much to the database file.
#   bash bench/put-io.sh 100000              # then: bash bench/put-io.sh 10000000
#   bash bench/put-io.sh 10000000 --split
# Needs a release build (cargo build --release -p wrapup -p wrapup-bench), wrk, perf, strace.
set -euo pipefail
cd "$(dirname "$0")/.."
N=$1; MODE=${2:-}; SECS=${SECS:-10}
WORK=${WORK:-/tmp/wrapup-put-io}; mkdir -p "$WORK"
W=${WRAPUP_BIN:-$PWD/target/release/wrapup}
TAG=n$N; DB=$WORK/$TAG.db
sed -n '/^const LUA: &str = r#"/,/^"#;/p' bench/src/bin/http-bench.rs | sed '1d;$d' > "$WORK/put.lua"
if [ ! -f "$DB.seeded" ]; then
    rm -f "$DB" "$DB-wal" "$DB-shm"
    "$W" seed --json --interactions "$N" --db "sqlite://$DB" > "$WORK/$TAG.seed.json"
    "$W" clients create --json --name bench --divisions all --db "sqlite://$DB" \
        --scopes "interaction:view interaction:write interaction:manage wrapup-code:view admin" > "$WORK/$TAG.creds.json"
    touch "$DB.seeded"
fi
json() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
PORT=$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
WRAPUP_LOG=warn "$W" serve --listen "127.0.0.1:$PORT" --db "sqlite://$DB" --inspector-capacity 0 > /dev/null 2>&1 &
SP=$!
trap 'kill $SP 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf -u "$(json "$WORK/$TAG.creds.json" clientId):$(json "$WORK/$TAG.creds.json" clientSecret)" \
    -d grant_type=client_credentials "http://127.0.0.1:$PORT/oauth/token" | python3 -c "import json,sys;print(json.load(sys.stdin)['access_token'])")
load() { WRK_N=$N WRK_TOKEN=$TOKEN WRK_CODE=$(json "$WORK/$TAG.seed.json" codeId) WRK_METHOD=PUT \
    wrk -t2 -c32 -d"$1"s --latency -s "$WORK/put.lua" "http://127.0.0.1:$PORT"; }
puts() { curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" |
    awk '/^wrapup_http_requests_total.*method="PUT"/{s+=$2} END{print s+0}'; }

if [ "$MODE" = --split ]; then
    load $((SECS + 4)) > /dev/null &
    WP=$!
    sleep 2
    before=$(puts)
    timeout "$SECS" strace -f -qq -p $SP -e trace=pwrite64,pread64 -o "$WORK/$TAG.strace" || true
    after=$(puts)
    ls -l /proc/$SP/fd | awk '{print $9, $11}' | grep "$WORK" > "$WORK/$TAG.fds"
    wait $WP
    python3 - "$WORK/$TAG" $((after - before)) <<'PY'
import collections, re, sys
base, puts = sys.argv[1], int(sys.argv[2])
kind_of = {}
for line in open(base + ".fds"):
    fd, path = line.split()
    kind_of[fd] = "WAL" if path.endswith("-wal") else "shm" if path.endswith("-shm") else "database"
calls, size = collections.Counter(), collections.Counter()
for line in open(base + ".strace"):
    m = re.search(r"(pwrite64|pread64)\((\d+),.*= (\d+)$", line)
    if m:
        key = (m.group(1), kind_of.get(m.group(2), "fd " + m.group(2)))
        calls[key] += 1
        size[key] += int(m.group(3))
print(f"{puts} PUTs traced (strace slows the server; compare scales, not rates)")
for key in sorted(calls):
    print(f"  {key[0]:9} {key[1]:9} {calls[key] / max(puts, 1):6.2f} calls/PUT {size[key] / max(puts, 1):8.0f} B/PUT")
PY
    exit 0
fi

WT=$(grep -l "wrapup-sqlite-w" /proc/$SP/task/*/comm | head -1 | xargs dirname | xargs basename)
ticks() { awk '{print $14 + $15}' "$1"; }
written() { awk '/^write_bytes/{print $2}' /proc/$SP/io; }
c0=$(ticks /proc/$SP/task/$WT/stat); p0=$(ticks /proc/$SP/stat); w0=$(written)
perf stat -e syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_fsync \
    -p $SP -o "$WORK/$TAG.perfstat" -- sleep "$SECS" &
PS=$!
perf record -q -g -t "$WT" -o "$WORK/$TAG.perf.data" -- sleep "$SECS" 2> /dev/null &
PR=$!
load "$SECS" > "$WORK/$TAG.wrk"
wait $PR || true; wait $PS || true
c1=$(ticks /proc/$SP/task/$WT/stat); p1=$(ticks /proc/$SP/stat); w1=$(written)
python3 - "$WORK/$TAG" "$(getconf CLK_TCK)" $((c1 - c0)) $((p1 - p0)) $((w1 - w0)) <<'PY'
import re, sys
base, hz, writer, process, written = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:])
wrk = open(base + ".wrk").read()
requests = int(re.search(r"(\d+) requests in", wrk).group(1))
rate = re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1)
p99 = re.search(r"99%\s+(\S+)", wrk).group(1)
print(f"{requests} PUTs: {float(rate):,.0f}/s, p99 {p99}")
print(f"  writer thread CPU {writer / hz:.2f} s ({writer / hz / requests * 1e6:.1f} us/PUT); "
      f"process CPU {process / hz / requests * 1e6:.1f} us/PUT; written {written / requests:,.0f} B/PUT")
for line in open(base + ".perfstat"):
    m = re.match(r"\s*([\d,]+)\s+syscalls:sys_enter_(\w+)", line)
    if m:
        n = int(m.group(1).replace(",", ""))
        print(f"  {m.group(2):8} {n / requests:6.2f} per PUT")
PY
echo "writer profile: perf report -i $WORK/$TAG.perf.data --no-children --sort dso"
