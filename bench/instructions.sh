#!/usr/bin/env bash
# Instructions per GET, counted by callgrind (repeatable, unlike requests/s on a shared VM):
# the server runs under `valgrind --tool=callgrind` while one client sends N keep-alive GETs
# of random seeded interactions, for two values of N; the difference of the totals divided by
# the difference of N is the cost of one GET, start-up and the token request cancelling out.
#   bash bench/instructions.sh [BINARY]       # default target/release/wrapup (build it first)
# Needs valgrind, curl and python3. Prints the figure; leaves the last profile in
# target/callgrind.out for `callgrind_annotate`.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-target/release/wrapup}
port=18291

total() { # N -> instructions of start-up + token + N GETs
    local n=$1 dir
    dir=$(mktemp -d)
    "$binary" seed --db "sqlite://$dir/p.db" --interactions 100000 --json > /dev/null
    "$binary" clients create --db "sqlite://$dir/p.db" --name p --scopes interaction:view \
        --divisions all --json > "$dir/creds.json"
    WRAPUP_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
        "$binary" serve --db "sqlite://$dir/p.db" --listen "127.0.0.1:$port" --inspector-capacity 0 \
        2> "$dir/valgrind.log" &
    local pid=$!
    for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.5; done
    python3 - "$dir/creds.json" "$n" "$port" <<'PY'
import base64, http.client, json, random, sys
creds, n, port = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)
basic = base64.b64encode(f"{creds['clientId']}:{creds['clientSecret']}".encode()).decode()
conn.request("POST", "/oauth/token", body="grant_type=client_credentials",
             headers={"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})
token = json.loads(conn.getresponse().read())["access_token"]
random.seed(7)
for _ in range(n):
    conn.request("GET", "/api/v2/interactions/00000000-0000-5eed-0000-%012x" % random.randrange(100000),
                 headers={"Authorization": "Bearer " + token})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
PY
    kill -INT "$pid"
    wait "$pid" 2> /dev/null || true
    mkdir -p target && cp "$dir/cg.out" target/callgrind.out
    grep -o "Collected : [0-9]*" "$dir/valgrind.log" | awk '{print $3}'
    rm -rf "$dir"
}

low=$(total 500)
high=$(total 2500)
echo "$(( (high - low) / 2000 )) instructions per GET ($binary)"
