#!/usr/bin/env bash
# test_storeqr.sh — the storeqr CLI end to end: every command, its exit
# code, its refusals, and that no phone number reaches any output or file.
# usage: test_storeqr.sh STOREQR_BINARY WORKDIR
set -u
BIN=$1
WORK=$2
rm -rf "$WORK"; mkdir -p "$WORK"
DB=$WORK/kiosk.db
Q() { "$BIN" --db "$DB" "$@"; }
pass=0; fail=0
check() { # check NAME EXPECTED_RC ACTUAL_RC [grep-pattern file]
  local name=$1 want=$2 got=$3
  if [ "$want" != "$got" ]; then
    echo "FAIL $name: exit $got, wanted $want"; fail=$((fail+1)); return
  fi
  if [ $# -ge 5 ] && ! grep -q -- "$4" "$5"; then
    echo "FAIL $name: output lacks '$4':"; sed 's/^/    /' "$5"; fail=$((fail+1)); return
  fi
  pass=$((pass+1))
}
O=$WORK/out; E=$WORK/err
run() { Q "$@" >"$O" 2>"$E"; }

"$BIN" --help >"$O"; check help 0 $? "exit codes" "$O"
for c in init signup checkin status export erase; do
  "$BIN" $c --help >"$O"; check "help-$c" 0 $? "usage: storeqr $c" "$O"
done
"$BIN" frobnicate 2>"$E"; check unknown-command 2 $? "unknown command" "$E"
run status; check status-before-init 1 $? "no configuration" "$E"

run init --demo; check init 0 $? "store SH-JA01" "$O"
test -s "$WORK/hq-demo.key"; check hq-key-written 0 $?
[ "$(stat -c %a "$WORK/hq-demo.key")" = 600 ]; check hq-key-mode 0 $?

run signup --phone "+86 138 0013 8000" --consent --age-confirmed --tag coffee --staff s01
check signup 0 $? "signed up" "$O"
grep -q "ja-coffee" "$O"; check signup-interest-group 0 $?
run signup --phone 13800138000 --consent --age-confirmed; check signup-returning 0 $? "welcome back" "$O"
run signup --phone 13800138001; check signup-no-consent 1 $? "did not agree" "$E"
run signup --phone 1380013800 --consent --age-confirmed; check signup-short-phone 2 $? "too few digits" "$E"
run signup --phone 23800138000 --consent --age-confirmed; check signup-bad-prefix 2 $? "not a mainland mobile" "$E"
run signup --phone 13800138002 --consent --age-confirmed --tag wine; check signup-bad-tag 2 $? "not a configured tag" "$E"
run signup --phone 13800138003 --consent --age-confirmed --staff s99; check signup-bad-staff 2 $? "not a configured staff" "$E"
run signup --phone 13800138004 --consent --age-confirmed --consent-version 2020-01
check signup-old-consent 2 $? "current one is" "$E"
echo 13900139000 | Q signup --phone - --consent --age-confirmed >"$O" 2>"$E"; check signup-stdin 0 $? "signed up" "$O"
# Too long to hold: refused whole, never cut to something that passes.
run signup --phone "1380013800 $(printf '0%.0s' {1..60})" --consent --age-confirmed
check signup-long-phone 2 $? "more than 63 characters" "$E"
printf '%070d\n' 1 | Q signup --phone - --consent --age-confirmed >"$O" 2>"$E"
check signup-long-phone-stdin 2 $? "more than 63 characters" "$E"

run checkin --phone 13800138000; check checkin 0 $? "+10 points, 60 total, streak 1" "$O"
run checkin --phone 13800138000; check checkin-twice 1 $? "already checked in today" "$O"
run checkin --phone 13700000000; check checkin-not-member 1 $? "not a member" "$E"
# The next day (Shanghai) the streak grows.
tomorrow=$(( $(date +%s) + 86400 ))
Q --now $tomorrow checkin --phone 13800138000 >"$O" 2>"$E"; check checkin-next-day 0 $? "streak 2" "$O"

run status; check status 0 $? "members     2" "$O"
grep -q "小王       1" "$O"; check status-staff 0 $?
run status --json; check status-json 0 $? '"members":2' "$O"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["live_group"]=="ja-store-1"' "$O"
check status-json-parses 0 $?

run token mint; check token-mint 0 $? "^HTTPS://127.0.0.1:8443/J/SH-JA01/" "$O"
TOKEN=$(head -1 "$O"); URL=$(sed -n 2p "$O")
run token verify "$TOKEN"; check token-verify 0 $? "valid: store SH-JA01, kiosk 1" "$O"
run token verify "$URL"; check token-verify-url 0 $? "valid" "$O"
run token verify "$TOKEN" --at $(( $(date +%s) + 600 )); check token-expired 1 $? "expired" "$O"
BAD=$(echo "$TOKEN" | sed 's/.$/A/;t'); [ "$BAD" = "$TOKEN" ] && BAD=$(echo "$TOKEN" | sed 's/.$/B/')
run token verify "$BAD"; rc=$?; [ $rc -ne 0 ]; check token-tampered 0 $?
run token verify "not-a-token"; check token-garbage 2 $? "invalid" "$O"
run live; check live 0 $? "^HTTPS://" "$O"

# A coupon is issued at breakfast time (07:00-10:30 Shanghai).
day0=$(( ($(date +%s) + 8*3600) / 86400 * 86400 - 8*3600 ))
breakfast=$(( day0 + 8*3600 + 86400 ))
Q --now $breakfast signup --phone 13600136000 --consent --age-confirmed >"$O" 2>"$E"
check signup-coupon 0 $? "coupon: " "$O"
CODE=$(sed -n 's/^coupon: \([A-Z2-7-]*\) .*/\1/p' "$O")
run coupon verify "$CODE"; check coupon-verify 0 $? "campaign 1 (breakfast)" "$O"
run coupon verify "$(echo "$CODE" | tr 'A-Z' 'a-z')"; check coupon-lowercase 0 $? "valid coupon" "$O"
run coupon verify "AAAAA-AAAAA-AAAAA-AAAAA"; check coupon-forged 1 $? "invalid coupon" "$O"

run export --csv --out "$WORK/members.csv"; check export 0 $?
[ "$(wc -l < "$WORK/members.csv")" = 4 ]; check export-rows 0 $?
# Dates people read: the header names them, every joined field is one,
# and the member checked in has a last check-in date, not a day number.
head -1 "$WORK/members.csv" | grep -q '^member_id,joined,consent_version,tags,staff,group,points,streak,last_checkin$'
check export-header 0 $?
[ "$(tail -n +2 "$WORK/members.csv" | grep -cE '^[0-9a-f]{12},20[0-9]{2}-[01][0-9]-[0-3][0-9],')" = 3 ]
check export-joined-dates 0 $?
tail -n +2 "$WORK/members.csv" | grep -qE ',20[0-9]{2}-[01][0-9]-[0-3][0-9]$'; check export-checkin-date 0 $?
run verify-log; check verify-log 0 $? "chain intact" "$O"
run erase --phone 13800138000; check erase 0 $? "erased" "$O"
run erase --phone 13800138000; check erase-again 1 $? "not a member" "$E"
run verify-log; check verify-log-after-erase 0 $? "chain intact" "$O"

# Bad files: a corrupt config, a foreign database.
echo '{"version": 99, "store": ' > "$WORK/bad.json"
run config apply "$WORK/bad.json"; check config-corrupt 2 $? "not valid JSON" "$E"
run config show; check config-still-v1 0 $? "^version 1" "$O"
head -c 8192 /dev/urandom > "$WORK/random.db"
"$BIN" --db "$WORK/random.db" status >"$O" 2>"$E"; check foreign-db 3 $? "not a StoreQR database" "$E"

# Tampering with the log is caught.
sqlite3 "$DB" "UPDATE events SET ts_ms = ts_ms + 1 WHERE seq = 2" 2>/dev/null ||
  python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('UPDATE events SET ts_ms=ts_ms+1 WHERE seq=2'); c.commit()" "$DB"
run verify-log; check verify-log-tampered 1 $? "BROKEN at seq 2" "$O"

# Ended by SIGABRT while it waits for a number on stdin, with no limit on
# core files: the CLI is not dumpable, so no core file (seen where
# core_pattern writes into the working directory; elsewhere not looked at).
mkdir -p "$WORK/abrt"; rm -f "$WORK/in"; mkfifo "$WORK/in"
exec 7<>"$WORK/in" # a writer that never writes: the CLI's read blocks
( cd "$WORK/abrt" && ulimit -c unlimited &&
  exec "$BIN" --db "$DB" signup --phone - --consent --age-confirmed <"$WORK/in" >/dev/null 2>&1 ) &
pid=$!
for _ in $(seq 50); do [ "$(cat /proc/$pid/comm 2>/dev/null)" = storeqr ] && break; sleep 0.1; done
sleep 0.3
kill -ABRT $pid; wait $pid; rc=$?
exec 7>&-
check abort-signal 134 $rc
case $(cat /proc/sys/kernel/core_pattern) in
  /* | '|'*) echo "note: core_pattern is not a relative name: abort-no-core not looked at" ;;
  *) [ -z "$(ls -A "$WORK/abrt")" ]; check abort-no-core 0 $? ;;
esac

# Retention: `prune` drops only what HQ acknowledged (set here as a sync
# would) and what is older than retention.event_days (the demo's 90), on
# the clock --now gives; verify-log then starts from the anchor.
PDB=$WORK/prune.db
P() { "$BIN" --db "$PDB" --now "$@"; }
t0=1795500000
P $t0 init --demo >/dev/null 2>&1
for p in 13600136000 13600136001 13600136002; do P $t0 signup --phone $p --consent --age-confirmed >/dev/null; done
last=$(sqlite3 "$PDB" "SELECT max(seq) FROM events")
sqlite3 "$PDB" "INSERT OR REPLACE INTO meta(key, value) VALUES('acked_seq', $((last - 2)))"
P $((t0 + 89 * 86400)) prune >"$O" 2>"$E"; check prune-too-young 0 $? "pruned 0 event(s); kept from seq 1" "$O"
P $((t0 + 91 * 86400)) prune >"$O" 2>"$E"
check prune-acknowledged 0 $? "pruned $((last - 2)) event(s); kept from seq $((last - 1))" "$O"
P $((t0 + 91 * 86400)) prune >"$O" 2>"$E"; check prune-again 0 $? "pruned 0 event(s)" "$O"
[ "$(sqlite3 "$PDB" "SELECT count(*) FROM events")" = 2 ]; check prune-kept-unacknowledged 0 $?
"$BIN" --db "$PDB" verify-log >"$O"; check verify-log-pruned 0 $? "verified 2 event(s) from seq $((last - 1)) (older pruned" "$O"
anchor=$(sqlite3 "$PDB" "SELECT value FROM meta WHERE key='prune_anchor_hash'")
sqlite3 "$PDB" "UPDATE meta SET value='$(printf '%064d' 0)' WHERE key='prune_anchor_hash'"
"$BIN" --db "$PDB" verify-log >"$O"; check verify-log-anchor-changed 1 $? "BROKEN at seq $((last - 1))" "$O"
sqlite3 "$PDB" "UPDATE meta SET value='$anchor' WHERE key='prune_anchor_hash'"
sqlite3 "$PDB" "UPDATE events SET ts_ms = ts_ms + 1 WHERE seq = $((last - 1))"
"$BIN" --db "$PDB" verify-log >"$O"; check verify-log-first-kept-changed 1 $? "BROKEN at seq $((last - 1))" "$O"
"$BIN" prune --help >"$O"; check help-prune 0 $? "usage: storeqr \[--now UNIX_SECONDS\] prune" "$O"

# No phone number, in any form, in any file or output this test produced.
for p in 13800138000 13900139000 13600136000 13600136001 13600136002; do
  if grep -rq "$p" "$WORK"; then echo "FAIL phone $p found in $(grep -rl "$p" "$WORK")"; fail=$((fail+1)); else pass=$((pass+1)); fi
done

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
