#!/usr/bin/env bash
# The analytics queries at scale (docs/benchmarks.md#analytics-queries): for each store size,
# seeds a SQLite database (and, with --pg URL, a new PostgreSQL database on that server) with `wrapup seed` (closed, finalized interactions, all created
# at the seeding time, so one day holds all of them; with --spread-days D, spread evenly over
# the D days before, so a day holds 1/D of them), starts a release `wrapup serve` on it,
# and times with curl, N times each (median [min..max], ms, time to the last byte):
#   - a details page: the first 25 conversations of the day, and totalHits (paged in the database);
#   - the last details page (pageNumber so that the OFFSET is the whole day);
#   - a filtered details page (a wrapUpCode segment filter: the day is read and filtered);
#   - the day's aggregate by wrapUpCode (nOffered, tAcw; granularity PT1H).
#
#   bash bench/analytics.sh                          # 100k interactions, SQLite, 20 runs each
#   bash bench/analytics.sh --scales "100000 1000000" --runs 10 --pg postgres://wrapup@127.0.0.1:54328/postgres
#   bash bench/analytics.sh --scales 10000000 --spread-days 365 --runs 10   # a year of 10M
set -euo pipefail
cd "$(dirname "$0")/.."

scales=100000
runs=20
pg=
spread=()
while [ $# -gt 0 ]; do
    case $1 in
        --spread-days) spread=(--spread-days "$2"); shift 2 ;;
        --scales) scales=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --pg) pg=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

cargo build --release --quiet -p wrapup
bin=$PWD/target/release/wrapup
pid=
tmp=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    [ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# Median [min..max] of N timings of one request, in ms.
timed() {
    local url=$1 body=$2 status
    status=$(curl -sS -o "$tmp/answer" -w '%{http_code}' -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d "$body" "$url")
    if [ "$status" != 200 ]; then
        echo "HTTP $status: $(json "['message']" < "$tmp/answer")"
        return
    fi
    for _ in $(seq 1 "$runs"); do
        curl -sS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' -d "$body" "$url"
    done | sort -n | awk '{t[NR]=$1*1000} END {printf "%.1f ms [%.1f..%.1f]\n", t[int((NR+1)/2)], t[1], t[NR]}'
}

echo "analytics queries: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at start; $runs runs each"
for n in $scales; do
    for backend in sqlite ${pg:+postgres}; do
        tmp=$(mktemp -d /tmp/wrapup-analytics.XXXXXX)
        db=sqlite://$tmp/bench.db
        if [ "$backend" = postgres ]; then
            name=wrapup_analytics_$n
            psql -q "$pg" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
            db=${pg%/*}/$name
        fi
        started=$(date +%s.%N)
        "$bin" seed --db "$db" --interactions "$n" "${spread[@]}" >/dev/null
        seeded=$(printf "%.1f" "$(echo "$(date +%s.%N) - $started" | bc)")
        creds=$("$bin" clients create --db "$db" --name analytics-bench --scopes interaction:view --divisions all --json 2>/dev/null)
        "$bin" serve --db "$db" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
        pid=$!
        url=
        for _ in $(seq 1 600); do
            url=$(sed -n 's/^wrapup listening on \(http:\/\/[^ ]*\).*/\1/p' "$tmp/err" | head -n 1)
            [ -n "$url" ] && break
            sleep 0.1
        done
        [ -n "$url" ] || { cat "$tmp/err"; exit 1; }
        token=$(curl -sS "$url/oauth/token" -d grant_type=client_credentials \
            -d "client_id=$(echo "$creds" | json "['clientId']")" \
            -d "client_secret=$(echo "$creds" | json "['clientSecret']")" | json "['access_token']")
        day="$(date -u -d '-23 hours' +%Y-%m-%dT%H:00:00Z)/P1D"
        details=$url/api/v2/analytics/conversations/details/query
        aggregates=$url/api/v2/analytics/conversations/aggregates/query
        hits=$(curl -sS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d "{\"interval\":\"$day\",\"paging\":{\"pageSize\":1}}" "$details" | json "['totalHits']")
        echo
        echo "$backend, $n interactions (seeded in $seeded s; $hits in the day queried)"
        echo "  details, first page of 25:    $(timed "$details" "{\"interval\":\"$day\",\"paging\":{\"pageSize\":25,\"pageNumber\":1}}")"
        last=$(( (hits + 24) / 25 ))
        echo "  details, last page ($last):  $(timed "$details" "{\"interval\":\"$day\",\"paging\":{\"pageSize\":25,\"pageNumber\":$last}}")"
        filter='{"type":"and","predicates":[{"dimension":"wrapUpCode","operator":"exists"}]}'
        echo "  details, wrapUpCode filter:   $(timed "$details" "{\"interval\":\"$day\",\"segmentFilters\":[$filter]}")"
        echo "  aggregate of the day (PT1H):  $(timed "$aggregates" "{\"interval\":\"$day\",\"granularity\":\"PT1H\",\"groupBy\":[\"wrapUpCode\"],\"metrics\":[\"nOffered\",\"tAcw\"]}")"
        kill "$pid"; wait "$pid" 2>/dev/null || true
        pid=
        rm -rf "$tmp"
        tmp=
        [ "$backend" = postgres ] && psql -q "$pg" -c "DROP DATABASE $name"
    done
done
echo
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
