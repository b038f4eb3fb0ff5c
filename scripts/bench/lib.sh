# Shared helpers of the benchmark scripts (sourced, not run). Every server binds 127.0.0.1 only, every wait is
# bounded, and everything started or created here is removed by the EXIT trap that bench_init installs.
# shellcheck shell=bash disable=SC2034  # FAKE_URL, NGINX_URL, ... are read by the sourcing scripts

BENCH_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_KEY_VALUE=bench-key
export BENCH_API_KEY=$BENCH_KEY_VALUE
_bench_pids=()
_bench_dirs=()

bench_log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# Kills what this script started (by pid, children of this shell only) and removes its temp dirs.
bench_cleanup() {
  local pid
  for pid in "${_bench_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${_bench_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  _bench_pids=()
  local dir
  for dir in "${_bench_dirs[@]}"; do
    [ -n "$dir" ] && rm -rf -- "$dir"
  done
  _bench_dirs=()
}

# Installs the tools the benchmarks need (Debian 12, as root or with sudo), takes the binaries from
# $PIPELINE_BIN / $PIPELINE_FAKE_API or build/, and installs the cleanup trap.
bench_init() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local -A need=([nginx]=nginx-light [curl]=curl [jq]=jq [python3]=python3 [/usr/bin/time]=time)
  local missing=() cmd
  for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
  done
  if ((${#missing[@]})); then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    bench_log "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  PIPELINE=${PIPELINE_BIN:-$BENCH_REPO/build/pipeline}
  FAKE_API=${PIPELINE_FAKE_API:-$BENCH_REPO/build/pipeline-fake-api}
  [ -x "$PIPELINE" ] || bench_die "no pipeline binary at $PIPELINE (run scripts/build.sh or set PIPELINE_BIN)"
  [ -x "$FAKE_API" ] || bench_die "no fake API at $FAKE_API (run scripts/build.sh or set PIPELINE_FAKE_API)"
  # BENCH_ITEMS=real: the fake serves (and dumps) item-equipment answers like the live API's (~230 KB);
  # the default "small" keeps its ~13 KB answers.
  BENCH_ITEM_FLAGS=()
  case ${BENCH_ITEMS:-small} in
    small) ;;
    real) BENCH_ITEM_FLAGS=(--real-items) ;;
    *) bench_die "BENCH_ITEMS must be small or real, got '${BENCH_ITEMS}'" ;;
  esac
  # A date the API serves: yesterday in Asia/Seoul (the pipeline's own default).
  BENCH_DATE=${BENCH_DATE:-$(TZ=Asia/Seoul date -d yesterday +%F)}
}

# bench_tmpdir VAR: a fresh temp dir, removed on exit.
bench_tmpdir() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/pipeline-bench.XXXXXX")
  _bench_dirs+=("$dir")
  printf -v "$1" '%s' "$dir"
}

# bench_fast_tmpdir VAR: a fresh temp dir on tmpfs (/dev/shm) when there is one with 1 GiB free, so that results measure HTTP and
# CPU rather than the disk (creating 5000 fresh files on the ext4 of a small VM alone can take seconds).
# BENCH_OUT_DIR overrides where it is made.
bench_fast_tmpdir() {
  local base=${BENCH_OUT_DIR:-}
  if [ -z "$base" ]; then
    base=${TMPDIR:-/tmp}
    # Needs room for the static dump and two copies of the answers (~300 MB at 5000 characters).
    if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ] &&
      (($(df -Pk /dev/shm | awk 'NR == 2 { print $4 }') > 1048576)); then
      base=/dev/shm
    fi
  fi
  local dir
  dir=$(mktemp -d "$base/pipeline-bench.XXXXXX")
  _bench_dirs+=("$dir")
  printf -v "$1" '%s' "$dir"
}

bench_track_pid() { _bench_pids+=("$1"); }

# bench_stop_pid PID: stops one process this script started and forgets it.
bench_stop_pid() {
  local pid=$1 keep=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${_bench_pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  _bench_pids=("${keep[@]}")
}

# bench_wait_file FILE PID: waits (at most 10 s) for FILE to be non-empty while PID lives.
bench_wait_file() {
  local i
  for ((i = 0; i < 200; i++)); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# bench_start_fake_api DIR [fake API options...]: starts the fake API on 127.0.0.1 (OS-chosen port).
# Sets FAKE_PID and FAKE_URL.
bench_start_fake_api() {
  local dir=$1
  shift
  rm -f "$dir/fake.port"
  "$FAKE_API" --host 127.0.0.1 --port 0 --port-file "$dir/fake.port" --key "$BENCH_KEY_VALUE" "$@" \
    >"$dir/fake.log" 2>&1 &
  FAKE_PID=$!
  bench_track_pid "$FAKE_PID"
  bench_wait_file "$dir/fake.port" "$FAKE_PID" || { cat "$dir/fake.log" >&2; bench_die "fake API did not start"; }
  FAKE_URL="http://127.0.0.1:$(cat "$dir/fake.port")"
}

# A free TCP port on 127.0.0.1 (for nginx, which cannot report an OS-chosen one).
bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# bench_start_nginx DIR STATIC_ROOT WORKERS: nginx serving the --dump-static tree like the API.
# Sets NGINX_PID and NGINX_URL.
bench_start_nginx() {
  local dir=$1 root=$2 workers=$3 port user_line=""
  port=$(bench_free_port)
  mkdir -p "$dir/nginx/tmp"
  # Workers of a root master run as nobody, who cannot enter a 0700 temp dir: keep them root (local bench).
  [ "$(id -u)" = 0 ] && user_line="user root;"
  cat >"$dir/nginx/nginx.conf" <<EOF
$user_line
worker_processes $workers;
daemon off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  types { }
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path $dir/nginx/tmp/body;
  proxy_temp_path $dir/nginx/tmp/proxy;
  fastcgi_temp_path $dir/nginx/tmp/fastcgi;
  uwsgi_temp_path $dir/nginx/tmp/uwsgi;
  scgi_temp_path $dir/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $root;
    location /maplestory/v1/character/item-equipment { try_files /item-equipment/\$arg_ocid.json =404; }
    location /maplestory/v1/character/basic { try_files /basic/\$arg_ocid.json =404; }
    location /maplestory/v1/id { try_files /id/\$arg_character_name.json =404; }
    location /maplestory/v1/ranking/overall { try_files /ranking/\$arg_page.json =404; }
  }
}
EOF
  nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" >"$dir/nginx/stdout.log" 2>&1 &
  NGINX_PID=$!
  bench_track_pid "$NGINX_PID"
  NGINX_URL="http://127.0.0.1:$port"
  local i
  for ((i = 0; i < 200; i++)); do
    curl -s -o /dev/null "$NGINX_URL/" && return 0
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.05
  done
  cat "$dir/nginx/stdout.log" "$dir/nginx/error.log" >&2 2>/dev/null
  bench_die "nginx did not start"
}

# bench_config FILE BASE_URL RATE CONCURRENCY PAGES: a pipeline.yaml for one benchmark (zstd chunks).
bench_config() {
  cat >"$1" <<EOF
run_dir: ./run
api:
  base_url: $2
  key_env: BENCH_API_KEY
  rate_limit_per_sec: $3
  concurrency: $4
  timeout_ms: 10000
  max_attempts: 5
ranking:
  pages: $5
chunk:
  records: 1000
sink:
  type: local
  path: ./data
  compression: zstd
EOF
}

# bench_pipeline CONFIG ARGS...: runs pipeline quietly with that config.
bench_pipeline() {
  local config=$1
  shift
  "$PIPELINE" --config "$config" -q "$@"
}

# bench_phase_json CONFIG PHASE: that phase's entry of `pipeline status --json`.
bench_phase_json() {
  "$PIPELINE" --config "$1" status --json | jq -c --arg p "$2" '.phases[] | select(.phase == $p)'
}

# bench_prepare_ocids CONFIG: RANKING_FETCH + OCID_LOOKUP of $BENCH_DATE (the upstream of ITEM_EQUIPMENT).
bench_prepare_ocids() {
  bench_pipeline "$1" run RANKING_FETCH --date "$BENCH_DATE" || bench_die "RANKING_FETCH failed"
  bench_pipeline "$1" run OCID_LOOKUP --date "$BENCH_DATE" || bench_die "OCID_LOOKUP failed"
}

# bench_now: monotonic-enough wall clock in nanoseconds.
bench_now() { date +%s%N; }

# bench_median NUMBERS...: the median (mean of the two middle values for an even count).
bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR == 0) exit 1; if (NR % 2) print v[(NR+1)/2]; else printf "%.6g\n", (v[NR/2]+v[NR/2+1])/2}'
}

bench_max() { printf '%s\n' "$@" | sort -g | tail -n1; }

# bench_calc EXPR: floating-point arithmetic.
bench_calc() { awk "BEGIN { printf \"%.4g\n\", $1 }"; }

# bench_result LINE: one line of the final summary (collected by scripts/bench.sh, also printed).
bench_result() {
  printf '%s\n' "$*"
  [ -n "${BENCH_SUMMARY:-}" ] && printf '%s\n' "$*" >>"$BENCH_SUMMARY"
  return 0
}

bench_machine() {
  local model
  model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  printf 'machine: nproc=%s cpu="%s" kernel=%s\n' "$(nproc)" "${model:-unknown}" "$(uname -r)"
}
