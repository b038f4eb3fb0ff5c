#!/usr/bin/env bash
# Starts or stops a local S3 server (the npm package s3rver) for the S3 sink's tests.
#
#   scripts/s3rver.sh start DIR   install s3rver if missing, start it on 127.0.0.1 with a port the
#                                 kernel picks, wait until it answers; writes DIR/port and DIR/pid
#   scripts/s3rver.sh stop DIR    stop the server started with DIR (no error if none runs)
#
# Both are idempotent. The bucket "snapshots" exists from the start; credentials are S3RVER/S3RVER.
# A fresh start empties DIR/data. The package is installed into ${PIPELINE_CACHE:-$HOME/.cache/pipeline}/s3rver.
set -euo pipefail

readonly VERSION="3.7.1"
readonly BUCKET="snapshots"
readonly START_TIMEOUT_S=30

die() {
    echo "s3rver.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
action="$1"
dir="$2"
cache="${PIPELINE_CACHE:-$HOME/.cache/pipeline}/s3rver"
bin="$cache/node_modules/s3rver/bin/s3rver.js"

# True when DIR/pid names a live s3rver (not some other process that reused the pid).
running() {
    [[ -f "$dir/pid" ]] || return 1
    local pid
    pid="$(cat "$dir/pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q s3rver
}

answers() {
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$1/$BUCKET?list-type=2&max-keys=1"
}

install_package() {
    command -v node >/dev/null || die "node is not installed (s3rver needs Node.js >= 12)"
    command -v npm >/dev/null || die "npm is not installed"
    mkdir -p "$cache"
    # Two callers at once must not run npm into the same folder.
    exec 9>"$cache/.install.lock"
    flock 9
    local installed=""
    if [[ -f "$cache/node_modules/s3rver/package.json" ]]; then
        installed="$(node -p "require('$cache/node_modules/s3rver/package.json').version")"
    fi
    if [[ "$installed" != "$VERSION" ]]; then
        echo "s3rver.sh: installing s3rver@$VERSION into $cache"
        npm install --prefix "$cache" --no-audit --no-fund --loglevel=error "s3rver@$VERSION" >&2 \
            || die "npm install s3rver@$VERSION failed (is the npm registry reachable?)"
    fi
    exec 9>&-
    [[ -f "$bin" ]] || die "s3rver was installed but $bin is missing"
}

start() {
    mkdir -p "$dir"
    if running; then
        local port
        port="$(cat "$dir/port" 2>/dev/null || true)"
        if [[ -n "$port" ]] && answers "$port"; then
            echo "s3rver.sh: already running (pid $(cat "$dir/pid"), port $port)"
            return 0
        fi
        stop
    fi
    install_package
    rm -rf "$dir/data" "$dir/port" "$dir/pid"
    mkdir -p "$dir/data"
    # --openssl-legacy-provider: s3rver makes its ListObjectsV2 continuation tokens with DES, which
    # OpenSSL 3 (Node >= 17) only offers through the legacy provider; without it pagination answers 500.
    # setsid and the redirections detach it, so that a caller waiting for our output (ctest) returns.
    setsid node --openssl-legacy-provider "$bin" --directory "$dir/data" --address 127.0.0.1 --port 0 \
        --configure-bucket "$BUCKET" </dev/null >"$dir/s3rver.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$dir/pid"
    local deadline=$((SECONDS + START_TIMEOUT_S)) port=""
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || {
            rm -f "$dir/pid"
            die "s3rver exited during start-up; its log ($dir/s3rver.log):"$'\n'"$(tail -20 "$dir/s3rver.log")"
        }
        if [[ -z "$port" ]]; then
            port="$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$dir/s3rver.log" 2>/dev/null | head -1 | cut -d: -f2 || true)"
        fi
        if [[ -n "$port" ]] && answers "$port"; then
            echo "$port" >"$dir/port"
            echo "s3rver.sh: s3rver $VERSION running (pid $pid, port $port, data $dir/data)"
            return 0
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    die "s3rver did not answer within ${START_TIMEOUT_S}s; its log: $dir/s3rver.log"
}

stop() {
    if ! running; then
        rm -f "$dir/pid" "$dir/port"
        echo "s3rver.sh: not running ($dir)"
        return 0
    fi
    local pid
    pid="$(cat "$dir/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/pid" "$dir/port"
    echo "s3rver.sh: stopped (pid $pid)"
}

case "$action" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
