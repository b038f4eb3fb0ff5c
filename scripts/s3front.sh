#!/usr/bin/env bash
# Starts or stops the signature-checking front (tests/s3front/front.py) before the s3rver that
# scripts/s3rver.sh started, for the S3 tests (docs/hardening.md).
#
#   scripts/s3front.sh start DIR S3RVER_DIR [FRONT OPTIONS...]   listen on 127.0.0.1 with a port the kernel
#                                   picks, forward to the s3rver of S3RVER_DIR; writes DIR/port and DIR/pid
#   scripts/s3front.sh stop DIR     stop the front started with DIR (no error if none runs)
#
# The front runs under Debian's python3, where scripts/install-deps.sh installs python3-botocore.
set -euo pipefail

readonly START_TIMEOUT_S=20
here="$(cd "$(dirname "$0")/.." && pwd)"
front="$here/tests/s3front/front.py"

die() {
    echo "s3front.sh: $*" >&2
    exit 1
}

[[ $# -ge 2 ]] || { echo "usage: $0 start DIR S3RVER_DIR [OPTIONS...] | stop DIR" >&2; exit 2; }
action="$1"
dir="$2"
shift 2

running() {
    [[ -f "$dir/pid" ]] || return 1
    local pid
    pid="$(cat "$dir/pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] && [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q front.py
}

stop() {
    if running; then
        local pid
        pid="$(cat "$dir/pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        echo "s3front.sh: stopped (pid $pid)"
    fi
    rm -f "$dir/pid" "$dir/port"
}

start() {
    local s3rver_dir="$1"
    shift
    [[ -f "$s3rver_dir/port" ]] || die "no s3rver port in $s3rver_dir/port: start scripts/s3rver.sh first"
    /usr/bin/python3 -c 'import botocore' 2>/dev/null ||
        die "Debian's python3-botocore is missing: run scripts/install-deps.sh"
    stop >/dev/null
    mkdir -p "$dir"
    setsid /usr/bin/python3 "$front" --upstream "http://127.0.0.1:$(cat "$s3rver_dir/port")" \
        --port-file "$dir/port" --log "$dir/requests.jsonl" "$@" </dev/null >"$dir/front.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$dir/pid"
    local deadline=$((SECONDS + START_TIMEOUT_S))
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; die "the front exited: $(tail -5 "$dir/front.log")"; }
        if [[ -s "$dir/port" ]]; then
            echo "s3front.sh: front running (pid $pid, port $(cat "$dir/port")) before s3rver port $(cat "$s3rver_dir/port")"
            return 0
        fi
        sleep 0.1
    done
    die "the front did not start within ${START_TIMEOUT_S}s; its log: $dir/front.log"
}

case "$action" in
start) start "$@" ;;
stop) stop ;;
*) die "unknown action '$action'" ;;
esac
