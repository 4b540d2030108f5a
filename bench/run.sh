#!/usr/bin/env bash
# The HTTP benchmark (see docs/benchmarks.md): builds in release mode, installs wrk if it is
# absent (Debian), then measures wrapup against the baseline server in the same run.
#   bash bench/run.sh                                  # 100k and 10M interactions, 3 runs x 10 s
#   bash bench/run.sh --scales 100000 --seconds 5      # quicker
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk > /dev/null; then
    echo "installing wrk (Debian package)…" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk > /dev/null; else sudo apt-get install -y wrk > /dev/null; fi
fi
cargo build --release --locked -p wrapup -p wrapup-bench
exec target/release/http-bench --wrapup target/release/wrapup --baseline target/release/baseline-server "$@"
