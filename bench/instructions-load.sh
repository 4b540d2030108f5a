#!/usr/bin/env bash
# Instructions per request under load, counted by callgrind (docs/benchmarks.md, issue 29's
# third session): `wrapup serve` runs under `valgrind --tool=callgrind` on a database of
# 100,000 interactions; wrk (one thread, 4 connections) sends GETs (or PUTs) of IDS seeded
# ids for 6 s, the counters are zeroed, wrk sends them for 10 s more, and the instructions of
# that window (user space, every thread) divided by its requests are printed. With IDS=500
# every GET after the warm-up is a read-cache hit: the request path itself.
#   bash bench/instructions-load.sh [BINARY]              # GETs, default target/release/wrapup
#   METHOD=PUT IDS=100000 bash bench/instructions-load.sh # PUTs (batches differ under valgrind,
#                                                        # which runs one thread at a time)
# Needs valgrind, wrk, curl, python3. Leaves the window's profile in target/callgrind-load.out.
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(realpath "${1:-target/release/wrapup}")
METHOD=${METHOD:-GET}; IDS=${IDS:-500}; PORT=18292
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$W" seed --json --interactions 100000 --db "sqlite://$dir/p.db" > "$dir/seed.json"
"$W" clients create --json --name bench --divisions all --db "sqlite://$dir/p.db" \
    --scopes "interaction:view interaction:write" > "$dir/creds.json"
json() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
sed -n '/^const LUA: &str = r#"/,/^"#;/p' bench/src/bin/http-bench.rs | sed '1d;$d' > "$dir/load.lua"
WRAPUP_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
    "$W" serve --listen "127.0.0.1:$PORT" --db "sqlite://$dir/p.db" --inspector-capacity 0 \
    2> "$dir/valgrind.log" &
pid=$!
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.2; done
token=$(curl -sf -u "$(json "$dir/creds.json" clientId):$(json "$dir/creds.json" clientSecret)" \
    -d grant_type=client_credentials "http://127.0.0.1:$PORT/oauth/token" | python3 -c "import json,sys;print(json.load(sys.stdin)['access_token'])")
load() { WRK_N=$IDS WRK_TOKEN=$token WRK_CODE=$(json "$dir/seed.json" codeId) WRK_METHOD=$METHOD \
    wrk -t1 -c4 -d"$1"s -s "$dir/load.lua" "http://127.0.0.1:$PORT"; }
load 6 > /dev/null
callgrind_control -z "$pid" > /dev/null 2>&1
load 10 > "$dir/wrk.txt"
callgrind_control -d "$pid" > /dev/null 2>&1
kill -INT "$pid"; wait "$pid" 2> /dev/null || true
requests=$(awk '/requests in/{print $1}' "$dir/wrk.txt")
instructions=$(awk '/^summary:/{print $2}' "$dir/cg.out.1")
mkdir -p target && cp "$dir/cg.out.1" target/callgrind-load.out
echo "$((instructions / requests)) instructions per $METHOD over $requests requests ($W)"
