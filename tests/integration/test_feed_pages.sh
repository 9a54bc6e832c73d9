#!/usr/bin/env bash
# test_feed_pages.sh — 10,000 feed entries reach a kiosk in pages of at
# most 1,000, through cut connections and a sync client
# killed at random moments (while fetching or applying a page), and are
# applied exactly once: the member's points at the end are the sign-up's
# plus one per entry, and the kiosk's cursor is the last entry's.
#
# The entries are written straight into HQ's feed log (one member's
# check-ins on 10,000 different days, as kiosk 1 would have uploaded them
# over 27 years): what is under test is the paging and the kiosk's apply,
# not ingest, and 10,000 real check-ins would take a kiosk 10,000 days.
# usage: test_feed_pages.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC BIN_PROXY)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
HQ_BACKEND=${2:-sqlite}
[ "$HQ_BACKEND" = postgresql ] && pg_start
N=10000

hq_init hq SH-JA01
hq_cheap_index hq
hq_start hq
URL=https://127.0.0.1:$HQ_PORT
export SQR_LOG=error
kiosk_enrol k1 SH-JA01 1
kiosk_enrol k2 SH-JA01 2
"$BIN_STOREQR" --db k1/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null || fail "sign-up"
"$BIN_SYNC" --once --db k1/kiosk.db >/dev/null 2>&1 || fail "sync k1"
MID=$(kiosk_members k1/kiosk.db)
BASE=$(sqlite3 k1/kiosk.db "SELECT points FROM members WHERE mid = '$MID'")
# Kiosk 2 takes its snapshot first: the entries below are in the log only
# (a snapshot reads members' state from HQ's kept check-ins, which this
# test does not write).
"$BIN_SYNC" --once --db k2/kiosk.db >/dev/null 2>&1 || fail "sync k2"
[ "$(sqlite3 k2/kiosk.db "SELECT points FROM members WHERE mid = '$MID'")" = "$BASE" ] ||
  fail "kiosk 2 did not learn the member"
HEAD=$(hq_dbq "SELECT head FROM feed_heads WHERE store = 'SH-JA01'")
[ "$HEAD" -ge 1 ] || fail "the sign-up made no feed entry"
if [ "$HQ_BACKEND" = postgresql ]; then
  hq_dbq "INSERT INTO feed(store, seq, kind, origin, member, day, points, streak, ts_ms, kiosk)
       SELECT 'SH-JA01', $HEAD + i, 2, 'SH-JA01/1', '$MID', i, 1, 1, i * 86400000::bigint, ''
       FROM generate_series(1, $N) AS i"
else
  hq_dbq "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
       INSERT INTO feed(store, seq, kind, origin, member, day, points, streak, ts_ms, kiosk)
       SELECT 'SH-JA01', $HEAD + i, 2, 'SH-JA01/1', '$MID', i, 1, 1, i * 86400000, '' FROM n"
fi
hq_dbq "UPDATE feed_heads SET head = $HEAD + $N WHERE store = 'SH-JA01'"
LAST=$((HEAD + N))

start_proxy() { # MODES
  rm -f pport
  "$BIN_PROXY" --listen 0 --target "$HQ_PORT" --modes "$1" --max-seconds 120 --port-file pport &
  PIDS+=("$!")
  wait_file pport
  PURL=https://127.0.0.1:$(cat pport)
}
cursor() { sqlite3 k2/kiosk.db "SELECT coalesce((SELECT value FROM meta WHERE key = 'feed_cursor'), '0')"; }

# Connections cut inside a page (a page of 1,000 check-ins is about
# 150 KB): each pass fails, the cursor stays where the last whole page
# left it.
for modes in "cut-down:150000" "cut-down:420000"; do
  start_proxy "$modes"
  before=$(cursor)
  "$BIN_SYNC" --once --db k2/kiosk.db --hq "$PURL" --timeout 20 >/dev/null 2>>sync.err &&
    fail "a pass through $modes succeeded"
  echo "through $modes: cursor $before -> $(cursor)"
done
# The client killed after 20 ms, 30 ms, 45 ms, ... of a pass (half as
# long again each time, ten times at most: a page is fetched and applied
# in a few tens of milliseconds here, much longer under a sanitizer), so
# kills land while it fetches a page and while it applies one; the pass
# after the last kill gets to the end.
kills=0 ms=20
for _ in $(seq 10); do
  [ "$(cursor)" = "l$LAST" ] && break
  "$BIN_SYNC" --once --db k2/kiosk.db >/dev/null 2>>sync.err &
  pid=$!
  PIDS+=("$pid")
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
  wait "$pid" 2>/dev/null || true
  echo "killed after $ms ms: cursor $(cursor)"
  ms=$((ms * 3 / 2))
done
[ "$kills" -ge 2 ] || fail "only $kills pass(es) were killed"
"$BIN_SYNC" --once --db k2/kiosk.db >out 2>>sync.err || fail "the last pass: $(tail -3 sync.err)"
GOT=$(sqlite3 k2/kiosk.db "SELECT points, last_checkin_day, feed_seq FROM members WHERE mid = '$MID'")
[ "$GOT" = "$((BASE + N))|$N|$LAST" ] || fail "kiosk 2 holds points|last day|feed seq $GOT, want $((BASE + N))|$N|$LAST"
[ "$(cursor)" = "l$LAST" ] || fail "kiosk 2's cursor is $(cursor), want l$LAST"
# Nothing more to read: another pass applies nothing.
"$BIN_SYNC" --once --db k2/kiosk.db >out 2>>sync.err || fail "a pass after the end"
grep -q ", 0 feed entries" out || fail "a pass after the end applied: $(cat out)"
hq_stop hq
echo "PASS feed_pages ($HQ_BACKEND)"
