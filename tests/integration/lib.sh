# lib.sh — shared by the integration scripts: temp dir, process cleanup,
# and one small HQ interface so the same tests run against the real
# storeqr-hq or tests/integration/mockhq.py.
#
# Needs: BIN_STOREQR, BIN_SYNC, BIN_PROXY and HQ_IMPL (mock | real, with
# BIN_HQ for real) set by the caller. Every process started goes into
# PIDS and is killed on exit.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MOCK="python3 $HERE/mockhq.py"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
mk_tmp() { TMP=$(mktemp -d "${1:-/tmp}/sync.XXXXXX"); trap cleanup EXIT; }
fail() { echo "FAIL: $*" >&2; exit 1; }
wait_file() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; fail "timed out waiting for $1"; }

# hq_init DIR; hq_start DIR [PORT] sets HQ_PID and HQ_PORT; hq_stop.
hq_init() {
  if [ "$HQ_IMPL" = mock ]; then $MOCK init "$1"
  else "$BIN_HQ" init "$1" --host 127.0.0.1 >/dev/null; fi
}
hq_start() {
  local dir=$1 port=${2:-0}
  rm -f "$dir/port"
  if [ "$HQ_IMPL" = mock ]; then
    $MOCK serve "$dir" --port-file "$dir/port" --port "$port" --max-seconds 900 &
  else
    "$BIN_HQ" serve --dir "$dir" --listen "127.0.0.1:$port" --port-file "$dir/port" &
  fi
  HQ_PID=$!
  PIDS+=("$HQ_PID")
  wait_file "$dir/port"
  HQ_PORT=$(cat "$dir/port")
  # Wait until it accepts TLS connections.
  for _ in $(seq 100); do
    curl -s -o /dev/null --cacert "$dir/hq-ca.crt" "https://127.0.0.1:$HQ_PORT/" && return 0
    sleep 0.05
  done
}
hq_kill() { kill -9 "$HQ_PID" 2>/dev/null || true; wait "$HQ_PID" 2>/dev/null || true; }
hq_code() { # DIR STORE KIOSK -> prints the code
  if [ "$HQ_IMPL" = mock ]; then $MOCK code "$1" "$2" "$3"
  else "$BIN_HQ" kiosk enroll-code --dir "$1" --store "$2" --kiosk "$3" | grep -o '[A-Z2-7]\{4\}-[A-Z2-7]\{4\}-[A-Z2-7]\{4\}-[A-Z2-7]\{4\}' | head -1; fi
}
hq_group_add() { $MOCK group "$1" "$2" "$3"; }
hq_erase() { $MOCK erase "$1" "$2" "$3"; }
hq_members() { $MOCK members "$1"; }
hq_revoke() { $MOCK revoke "$1" "$2" "$3"; }
# hq_events DIR KIOSK_ID -> "count max_seq"
hq_events() {
  $MOCK counts "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin).get(sys.argv[1], {}); print(d.get("events",0), d.get("max_seq",0) or 0)' "$2"
}
hq_type_count() { # DIR KIOSK_ID TYPE
  $MOCK counts "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin).get(sys.argv[1], {}); print(d.get("types",{}).get(sys.argv[2],0))' "$2" "$3"
}

# kiosk_json DB FIELD -> a field of `storeqr status --json`
kiosk_json() {
  "$BIN_STOREQR" --db "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
# A random valid mainland mobile number (never printed by the programs).
rand_phone() { printf '139%08d' $(( (RANDOM << 15 | RANDOM) % 100000000 )); }
