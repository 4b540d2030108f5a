# Sourced by the CI steps that need a real server: `start_demo_server [EXTRA SERVE ARGS]`
# takes the wrapup binary (.ci/wrapup-bin: the one the tests built, under .ci/run), starts `wrapup serve --demo` on
# 127.0.0.1, on a port the system picks, over a new SQLite database in a temporary
# directory, waits for "wrapup listening on http://ADDR", and sets WRAPUP_URL. The server
# is stopped (SIGTERM, then SIGKILL) and the directory removed when the script exits.

start_demo_server() {
    local bin
    bin=$(bash .ci/wrapup-bin)
    DEMO_DIR=$(mktemp -d /tmp/wrapup-ci-demo.XXXXXX)
    local log="$DEMO_DIR/serve.log"
    WRAPUP_LOG=${WRAPUP_LOG:-warn} "$bin" serve --demo --listen 127.0.0.1:0 \
        --db "sqlite://$DEMO_DIR/wrapup.db" "$@" >"$DEMO_DIR/serve.out" 2>"$log" &
    DEMO_PID=$!
    trap stop_demo_server EXIT
    local waited=0
    until grep -qs '^wrapup listening on http://' "$log"; do
        if ! kill -0 "$DEMO_PID" 2>/dev/null; then
            echo "wrapup serve exited before listening:" >&2
            cat "$log" >&2
            return 1
        fi
        if [ "$waited" -ge 600 ]; then
            echo "wrapup serve did not listen within 60 s" >&2
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    WRAPUP_URL=$(sed -nE 's/^wrapup listening on (http:\/\/[^ ]+).*/\1/p' "$log" | head -n 1)
    export WRAPUP_URL
    echo "wrapup serve --demo $* at $WRAPUP_URL" >&2
}

stop_demo_server() {
    if [ -n "${DEMO_PID:-}" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
        kill -TERM "$DEMO_PID" 2>/dev/null || true
        for _ in $(seq 100); do
            kill -0 "$DEMO_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$DEMO_PID" 2>/dev/null || true
    fi
    [ -n "${DEMO_DIR:-}" ] && rm -rf "$DEMO_DIR"
}

# A token of the demo's admin client.
demo_token() {
    curl -sf -u 00000000-0000-4000-8000-00000000d001:demo-secret-not-for-production \
        -d grant_type=client_credentials "$WRAPUP_URL/oauth/token" |
        sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}
