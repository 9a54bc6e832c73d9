#!/usr/bin/env bash
# test_leases.sh — seats a killed HQ process leased come back (docs/PROTOCOL.md
# "Scan resolver"): two real `storeqr-hq serve` on one throwaway PostgreSQL,
# the seat lease TTL set to a few seconds (SQR_HQ_LEASE_TTL_S):
#   - process A sends one shopper of a group with 16 seats and is killed
#     with SIGKILL before its flush: its block of seats stays claimed in
#     group_seats, held by its seat_leases row;
#   - process B then sends shoppers until the staff contact shows: the
#     group looks as full as A's leak makes it (16 less A's block); the
#     ask that found no seat leaves a 0-seat row, gone 3 s after it;
#   - once A's lease is older than the TTL, B's next scan reclaims it and
#     sends the shopper; B's flush leases it the next block (a group in
#     use is topped up), and once B's group is idle (its flush gives its
#     own seats back) the database holds exactly claimed = sent with no
#     lease left;
#   - with the rest of the group held by a live "ghost" process, B's ask
#     finds no seat: the staff contact, and its 0-seat row goes 3 s
#     later.
# usage: test_leases.sh TMPDIR   (env: BIN_HQ, MINT; SQR_SLOW=1 under sanitizers)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
HQ_BACKEND=postgresql
pg_start
dbq() { psql -X -q -At "${HQ_DB_ARGS[1]}" -c "$1"; }
# Long enough for B's ~17 scans (a TLS handshake each) on a loaded box:
# they must all land within the TTL of A's lease.
TTL=8
[ -z "${SQR_SLOW:-}" ] || TTL=16
export SQR_HQ_LEASE_TTL_S=$TTL

mkdir -p hq
"$BIN_HQ" init hq --host 127.0.0.1 >/dev/null || fail "init"
cat >hq/store-template.json <<'JSON'
{"mode":"hq","rotation":{"period_s":30,"skew":1},
 "group_policy":{"reserve":10,"expiry_margin_s":43200,
   "fallback_link":"https://work.weixin.qq.com/ca/staff-contact"},
 "campaigns":[],"staff":[],"tags":[],"consent":{"version":"2026-11","text":{"zh":"同意"}}}
JSON
hq store add --dir hq --id SH-LSE --name 租约店 --city 上海 >/dev/null || fail "store add"
# capacity 26, reserve 10: 16 seats; a first lease asks for 16 / 8 = 2
hq group add --dir hq --store SH-LSE --id lse-1 --name 群 --link https://weixin.qq.com/g/lse-1 \
  --capacity 26 >/dev/null || fail "group add"
hq_key_row hq SH-LSE 1 1
TOK=$("$MINT" hq SH-LSE 1 1) || fail "mint"
C=(curl -s --max-time 20 --cacert hq/hq-ca.crt)
scan() { "${C[@]}" "https://127.0.0.1:$1/J/SH-LSE/$TOK"; } # PORT -> the page
sent_to_group() { grep -q 'id="join-link"'; }
claimed() { dbq "SELECT COALESCE(MAX(claimed), 0) FROM group_seats WHERE store = 'SH-LSE'"; }
sent_db() { dbq "SELECT COALESCE(MAX(sent), 0) FROM group_scans WHERE store = 'SH-LSE'"; }

hq_start hq
B_PORT=$HQ_PORT B_PID=$HQ_PID

# ---- A leases a block, sends one shopper, dies before its flush ---------------------------
# (A flushes every second; a kill right after the scan lands before it
# nearly always: retried when it did not.)
leaked=0
for try in 1 2 3 4 5; do
  hq_start hq
  # before A's lease: its TTL runs from the lease, not from the kill
  A_LEASED=$(date +%s%N)
  scan "$HQ_PORT" | sent_to_group || fail "A did not send the shopper"
  hq_kill
  leaked=$(($(claimed) - $(sent_db)))
  [ "$leaked" -gt 0 ] && break
  sleep 0.2
done
[ "$leaked" -gt 0 ] || fail "A flushed before each of 5 kills: no leaked seats to test with"
[ "$(dbq "SELECT COUNT(*) FROM seat_leases WHERE store = 'SH-LSE'")" = 1 ] ||
  fail "A's lease has no seat_leases row"
echo "A killed holding $leaked seats (claimed $(claimed), sent $(sent_db))"

# ---- B: the group looks fuller than it is --------------------------------------------------
room=$((16 - $(claimed)))
n=0 staff=0
for _ in $(seq $((room + 3))); do
  page=$(scan "$B_PORT")
  if sent_to_group <<<"$page"; then n=$((n + 1)); else grep -q 'id="staff-qr"' <<<"$page" && staff=1 && break; fi
done
[ "$(( ($(date +%s%N) - A_LEASED) / 1000000 ))" -lt $((TTL * 1000)) ] ||
  fail "B's scans outlasted the TTL: nothing shown (slow machine)"
[ "$n" = "$room" ] && [ "$staff" = 1 ] ||
  fail "with $leaked seats leaked B sent $n (room $room) and staff page $staff"
echo "B: $n shoppers sent, then the staff contact: $leaked seats held by the dead process"
# The ask that found no seat left B a row of 0 seats (how a process
# keeping seats of the group learns that a shopper went without); a
# flush of B's deletes it once B has not asked for 3 s.
for _ in $(seq 80); do
  [ "$(dbq "SELECT COUNT(*) FROM seat_leases WHERE store = 'SH-LSE' AND seats = 0")" = 0 ] && break
  sleep 0.1
done
[ "$(dbq "SELECT COUNT(*) FROM seat_leases WHERE store = 'SH-LSE' AND seats = 0")" = 0 ] ||
  fail "B's 0-seat row outlived its flush 3 s after its last ask: $(dbq "SELECT owner, seats FROM seat_leases")"

# ---- after the TTL the dead process's seats come back ---------------------------------------
sleep $((TTL + 1))
scan "$B_PORT" | sent_to_group || fail "$TTL s after A died its $leaked seats are still held"
# That scan spent B's block; a group in use gets its next one from the
# flush (in the flush's transaction), so its next shopper waits for no
# lease of its own: within two flushes B holds seats again.
topped=0
for _ in $(seq 12); do
  [ "$(dbq "SELECT COALESCE(SUM(seats), 0) FROM seat_leases WHERE store = 'SH-LSE'")" -gt 0 ] &&
    topped=1 && break
  sleep 0.25
done
[ "$topped" = 1 ] || fail "B's flush did not top up the lease of a group in use"
# B keeps its own unspent seats while the group is in use and gives them
# back at the first flush after RESOLVE_LEASE_IDLE_S (10 s) without a
# shopper sent: A's row went at the reclaim, B's goes then.
for _ in $(seq 60); do
  [ "$(dbq "SELECT COUNT(*) FROM seat_leases WHERE store = 'SH-LSE'")" = 0 ] && break
  sleep 0.25
done
[ "$(dbq "SELECT COUNT(*) FROM seat_leases WHERE store = 'SH-LSE'")" = 0 ] ||
  fail "leases left 15 s after B's last shopper: $(dbq "SELECT owner, seats FROM seat_leases")"
[ "$(claimed)" = "$(sent_db)" ] || fail "claimed $(claimed) for $(sent_db) sent"
[ "$(sent_db)" = $((n + 1)) ] || fail "B's $((n + 1)) shoppers flushed as $(sent_db)"

# ---- a shopper that finds every seat held elsewhere ------------------------------------------
# A live process "ghost" holds the rest of the group: B's ask finds no
# seat, leaves its 0-seat row (a process keeping seats near full learns
# from it that a shopper went without), deleted 3 s after its last ask.
free=$((16 - $(claimed)))
dbq "UPDATE group_seats SET claimed = claimed + $free WHERE store = 'SH-LSE';
     INSERT INTO seat_leases(store, grp, owner, seats, renewed_ms)
     VALUES('SH-LSE', 'lse-1', 'ghost', $free, $(date +%s)000 + 3600000)" >/dev/null
scan "$B_PORT" | grep -q 'id="staff-qr"' || fail "B sent a shopper to seats a live process holds"
zero() { dbq "SELECT COUNT(*) FROM seat_leases WHERE store = 'SH-LSE' AND owner <> 'ghost'"; }
for _ in $(seq 80); do [ "$(zero)" = 0 ] && break; sleep 0.1; done
[ "$(zero)" = 0 ] || fail "B's 0-seat row outlived its flush 3 s after its last ask: $(dbq "SELECT owner, seats FROM seat_leases")"
dbq "DELETE FROM seat_leases WHERE owner = 'ghost';
     UPDATE group_seats SET claimed = claimed - $free WHERE store = 'SH-LSE'" >/dev/null
HQ_PID=$B_PID
hq_stop hq
[ "$(claimed)" = "$(sent_db)" ] || fail "claimed $(claimed) for $(sent_db) sent after stop"
echo "leases: a killed process's $leaked seats back after ${TTL} s; claimed = sent = $(sent_db): ok"
