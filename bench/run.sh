#!/usr/bin/env bash
# The HTTP benchmark (see docs/benchmarks.md): builds in release mode, installs wrk if it is
# absent (Debian), starts a private PostgreSQL (installed from Debian's packages if absent),
# then measures wrapup against the baseline server, and wrapup's PUT on SQLite and on
# PostgreSQL with one and two nodes, in the same run.
#   bash bench/run.sh                                  # 100k and 10M interactions, 3 runs x 10 s
#   bash bench/run.sh --scales 100000 --seconds 5      # quicker
#   WRAPUP_BENCH_POSTGRES=0 bash bench/run.sh          # SQLite and the baseline only
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk > /dev/null; then
    echo "installing wrk (Debian package)…" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk > /dev/null; else sudo apt-get install -y wrk > /dev/null; fi
fi
cargo build --release --locked -p wrapup -p wrapup-bench
postgres=()
if [ "${WRAPUP_BENCH_POSTGRES:-1}" != 0 ]; then
    pgdata=$(mktemp -d /tmp/wrapup-bench-pg.XXXXXX)
    trap 'bash .ci/postgres stop "$pgdata"; rm -rf "$pgdata"' EXIT
    postgres=(--postgres "$(bash .ci/postgres start "$pgdata" "${WRAPUP_BENCH_PG_PORT:-54330}")")
fi
target/release/http-bench --wrapup target/release/wrapup --baseline target/release/baseline-server \
    "${postgres[@]}" "$@"
