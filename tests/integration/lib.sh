# lib.sh — shared by the integration scripts: temp dir, process cleanup,
# a throwaway PostgreSQL cluster, and the real HQ (storeqr-hq) driven
# through its command line.
#
# Needs: BIN_HQ, BIN_STOREQR, BIN_SYNC, BIN_PROXY set by the caller
# (tests/integration/CMakeLists.txt). HQ_BACKEND=sqlite (default) or
# postgresql. Every process started goes into PIDS and is killed on exit;
# the PostgreSQL cluster is stopped and removed with the temp directory.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../public_cert.sh"
PIDS=()
HQ_PID=
PG_CTL= PG_USER= PG_DIR=
HQ_DB_ARGS=() HQ_SERVE_ARGS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$PG_CTL" ]; then as_pg "$PG_CTL" -D "$PG_DIR" -m immediate -t 20 stop >/dev/null 2>&1 || true; fi
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
mk_tmp() {
  TMP=$(mktemp -d "${1:-/tmp}/sync.XXXXXX")
  chmod 755 "$TMP"
  trap cleanup EXIT
  trap 'exit 1' INT TERM HUP
}
fail() { echo "FAIL: $*" >&2; exit 1; }
# Bounded: 20 s (60 s under a sanitizer build, which starts slowly).
wait_file() {
  local n=400; [ -n "${SQR_SLOW:-}" ] && n=1200
  for _ in $(seq $n); do [ -s "$1" ] && return 0; sleep 0.05; done
  fail "timed out waiting for $1"
}
json_get() { # JSON-TEXT PATH... -> the value (0 when absent)
  python3 -c 'import json,sys
d=json.loads(sys.argv[1])
for k in sys.argv[2:]: d=d.get(k, {}) if isinstance(d, dict) else {}
print(0 if d == {} else d)' "$@"
}

as_pg() { if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# pg_start: a throwaway cluster in $TMP/pg (installed from Debian via
# tools/setup-deps' list if missing), 127.0.0.1 on a free port, run as an
# unprivileged user; sets HQ_DB_ARGS. fsync is off (tests of logic) unless
# PG_FSYNC=on. Exit 77 (skip) only when PostgreSQL can neither be found nor
# installed.
pg_start() {
  find_bin() { ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1; }
  local initdb; initdb=$(find_bin initdb)
  if [ -z "$initdb" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing postgresql from Debian"
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q postgresql >/dev/null 2>&1 ||
      { timeout 300 apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q postgresql >/dev/null 2>&1; } || true
    initdb=$(find_bin initdb)
  fi
  [ -n "$initdb" ] || { echo "PostgreSQL not available; skipped"; exit 77; }
  if [ "$(id -u)" = 0 ]; then
    if id postgres >/dev/null 2>&1; then PG_USER=postgres; else PG_USER=nobody; fi
  fi
  PG_DIR=$TMP/pg
  mkdir -p "$PG_DIR" "$TMP/pgsock"
  [ -z "$PG_USER" ] || chown "$PG_USER" "$PG_DIR" "$TMP/pgsock"
  as_pg "$initdb" -D "$PG_DIR" -A trust -U hq --no-sync >"$TMP/initdb.log" 2>&1 ||
    { cat "$TMP/initdb.log"; fail "initdb"; }
  PG_CTL=$(dirname "$initdb")/pg_ctl
  local port; port=$(free_port)
  as_pg "$PG_CTL" -D "$PG_DIR" -l "$TMP/pgsock/pg.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $TMP/pgsock -c fsync=${PG_FSYNC:-off}" start >/dev/null ||
    { cat "$TMP/pgsock/pg.log"; fail "PostgreSQL did not start"; }
  HQ_DB_ARGS=(--db "postgresql://hq@127.0.0.1:$port/postgres?connect_timeout=10")
}

# hq CMD... runs an operator command against HQ's directory and storage.
hq() { "$BIN_HQ" "$@" "${HQ_DB_ARGS[@]}"; }

# hq_init DIR [STORE...]: keys and certificates for 127.0.0.1, the stores
# (SH-JA01 when none given), each with one open group.
hq_init() {
  local dir=$1; shift
  mkdir -p "$dir"
  "$BIN_HQ" init "$dir" --host 127.0.0.1 >/dev/null || fail "storeqr-hq init $dir"
  [ $# -gt 0 ] || set -- SH-JA01
  local s
  for s in "$@"; do
    hq store add --dir "$dir" --id "$s" --name "店 $s" --city 上海 --lat 31.2 --lon 121.4 >/dev/null ||
      fail "store add $s"
    hq group add --dir "$dir" --store "$s" --id "${s,,}-1" --name 1群 \
      --link "https://weixin.qq.com/g/${s,,}-1" --capacity 200 >/dev/null || fail "group add $s"
  done
}
# hq_start DIR [PORT]: serve on 127.0.0.1 (a free port by default; the same
# port again after a kill, retried while the old socket lingers), with
# HQ_SERVE_ARGS added to serve's options when set; sets
# HQ_PID and HQ_PORT once HQ answers TLS.
hq_start() {
  local dir=$1 port=${2:-0} try
  for try in 1 2 3 4 5 6 7 8 9 10; do
    rm -f "$dir/port"
    "$BIN_HQ" serve --dir "$dir" --listen "127.0.0.1:$port" --port-file "$dir/port" \
      "${HQ_DB_ARGS[@]}" "${HQ_SERVE_ARGS[@]}" 2>>"$dir/hq.log" &
    HQ_PID=$!
    PIDS+=("$HQ_PID")
    local n=400; [ -n "${SQR_SLOW:-}" ] && n=1200
    for _ in $(seq $n); do
      [ -s "$dir/port" ] && break
      kill -0 "$HQ_PID" 2>/dev/null || break
      sleep 0.05
    done
    [ -s "$dir/port" ] && break
    kill -9 "$HQ_PID" 2>/dev/null || true; wait "$HQ_PID" 2>/dev/null || true
    [ "$port" != 0 ] || fail "HQ did not start: $(tail -3 "$dir/hq.log")"
    sleep 0.5
  done
  [ -s "$dir/port" ] || fail "HQ did not restart on port $port: $(tail -3 "$dir/hq.log")"
  HQ_PORT=$(cat "$dir/port")
  for _ in $(seq 200); do
    curl -s -o /dev/null --max-time 2 --cacert "$dir/hq-ca.crt" "https://127.0.0.1:$HQ_PORT/" && return 0
    sleep 0.05
  done
  fail "HQ on port $HQ_PORT does not answer"
}
# hq_stop_all PID...: SIGTERM to every one, each must exit within 10 s
# (their last flush done).
hq_stop_all() {
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && fail "HQ $p ignored SIGTERM"
    wait "$p" 2>/dev/null || true
  done
}
hq_kill() { kill -9 "$HQ_PID" 2>/dev/null || true; wait "$HQ_PID" 2>/dev/null || true; }
# hq_stop DIR: SIGTERM (bounded), then the log must hold no sanitizer report.
hq_stop() {
  kill "$HQ_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$HQ_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$HQ_PID" 2>/dev/null && fail "HQ ignored SIGTERM"
  wait "$HQ_PID" 2>/dev/null || true
  if grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "runtime error:" "$1/hq.log"; then
    tail -40 "$1/hq.log" >&2; fail "sanitizer report from HQ"
  fi
}
hq_code() { # DIR STORE KIOSK [TTL] -> prints the code
  hq kiosk enroll-code --dir "$1" --store "$2" --kiosk "$3" ${4:+--ttl "$4"} |
    sed -n 's/^code: //p' | head -1
}
# hq_key_row DIR STORE KIOSK VERSION: the key row an enrolment of kiosk
# KIOSK would leave (docs/PROTOCOL.md "Identity and keys"), for tests and
# benchmarks that mint tokens with hqweb-mint instead of enrolling a box.
hq_key_row() {
  local sql="INSERT INTO kiosk_keys(store, number, version, kiosk_id, legacy, created_ms)
             VALUES('$2', $3, $4, '$2/$3', 0, $(date +%s)000)"
  if [ ${#HQ_DB_ARGS[@]} -gt 0 ]; then psql -X -q "${HQ_DB_ARGS[1]}" -c "$sql" >/dev/null
  else sqlite3 -cmd '.timeout 10000' "$1/hq.db" "$sql"; fi || fail "key row $2/$3 v$4"
}
hq_group_add() { hq group add --dir "$1" --store "$2" --id "$3" --name "$3" --link "https://weixin.qq.com/g/$3" --capacity 200 >/dev/null; }
hq_erase() { hq erase --dir "$1" --store "$2" --member "$3" >/dev/null; }
hq_revoke() { hq kiosk revoke --dir "$1" --store "$2" --kiosk "$3" >/dev/null; }
hq_counts() { hq counts --dir "$1" --store "$2"; }
# hq_events DIR KIOSK_ID -> "rows max_seq acked_seq" HQ holds for the kiosk
hq_events() {
  local c; c=$(hq_counts "$1" "${2%/*}") || fail "storeqr-hq counts"
  python3 -c 'import json,sys
k=json.loads(sys.argv[1]).get("kiosks", {}).get(sys.argv[2], {})
print(k.get("events", 0), k.get("max_seq", 0), k.get("acked_seq", 0))' "$c" "${2#*/}"
}
hq_count() { # DIR STORE FIELD (members, signups, checkins, events, erasures_pending, erasures_confirmed)
  local c n=200; [ -n "${SQR_SLOW:-}" ] && n=600
  c=$(hq_counts "$1" "$2")
  # Members are linked by HQ's background opener after the upload's
  # acknowledgement: wait (bounded, 10 s; 30 s slow) until none is pending.
  while [ "$3" = members ] && [ "$(json_get "$c" members_pending)" != 0 ] && [ $((n--)) -gt 0 ]; do
    sleep 0.05
    c=$(hq_counts "$1" "$2")
  done
  json_get "$c" "$3"
}

# hq_cheap_index DIR: a store template whose blind index is cheap (its
# cost is bench-core's business), for tests that sign many shoppers up.
hq_cheap_index() {
  cat >"$1/store-template.json" <<'EOF'
{"mode":"hq","rotation":{"period_s":30,"skew":1},
 "group_policy":{"reserve":10,"expiry_margin_s":43200},
 "staff":[],"tags":[],"consent":{"version":"2026-11","text":{"zh":"同意"},
  "marketing":{"version":"2026-12-m","text":{"zh":"优惠"}}},
 "keys":{"index":{"m_kib":64,"t":1,"p":1}}}
EOF
}
# hq_scene TMPDIR BACKEND STORE...: how the store-level HQ tests begin:
# a temporary directory (the cwd from then on), PostgreSQL when BACKEND
# is postgresql, HQ in ./hq with these stores and a cheap blind index,
# serving; sets HQ_BACKEND and URL, and quiet logs (SQR_LOG=error).
hq_scene() {
  mk_tmp "${1:-/tmp}"
  cd "$TMP"
  HQ_BACKEND=${2:-sqlite}
  if [ "$HQ_BACKEND" = postgresql ]; then pg_start; fi
  shift 2
  hq_init hq "$@"
  hq_cheap_index hq
  hq_start hq
  URL=https://127.0.0.1:$HQ_PORT
  export SQR_LOG=error
}
# K DIR ARGS...: the kiosk CLI on DIR/kiosk.db
K() { "$BIN_STOREQR" --db "$1/kiosk.db" "${@:2}"; }
# hq_dbq SQL -> the rows of one statement on the database of HQ in ./hq
hq_dbq() {
  if [ "$HQ_BACKEND" = postgresql ]; then psql -X -q -At "${HQ_DB_ARGS[1]}" -c "$1"
  else sqlite3 -cmd '.timeout 10000' hq/hq.db "$1"; fi
}
# kiosk_enrol DIR STORE N: a new kiosk database in DIR, enrolled as STORE/N
# with the HQ in ./hq at $URL.
kiosk_enrol() {
  mkdir -p "$1"
  "$BIN_STOREQR" --db "$1/kiosk.db" init >/dev/null
  "$BIN_SYNC" enroll --db "$1/kiosk.db" --hq "$URL" --code "$(hq_code hq "$2" "$3")" \
    --ca hq/hq-ca.crt >/dev/null || fail "enrol $1"
}
# kiosk_sync DIR: one pass (`storeqr-sync --once`), output in DIR/sync.out
# and DIR/sync.log; a failed pass fails the test.
kiosk_sync() {
  "$BIN_SYNC" --once --db "$1/kiosk.db" >"$1/sync.out" 2>"$1/sync.log" ||
    fail "sync $1: $(cat "$1/sync.log")"
}

# kiosk_json DB FIELD -> a field of `storeqr status --json`
kiosk_json() { json_get "$("$BIN_STOREQR" --db "$1" status --json)" "$2"; }
# The kiosk-side member ids (32 hex digits HQ links), as sent in sign-ups.
kiosk_members() { sqlite3 "$1" "SELECT json_extract(payload, '\$.member') FROM events WHERE type = 'signup' ORDER BY seq"; }
# A random valid mainland mobile number (never printed by the programs).
rand_phone() { printf '139%08d' $(( (RANDOM << 15 | RANDOM) % 100000000 )); }
