#!/usr/bin/env bash
# test_pgrestart.sh — HQ rides out PostgreSQL restarting and going away
# without being restarted itself (docs/ARCHITECTURE.md "Storage"):
#   - after `pg_ctl restart -m fast`, once /readyz is 200 again, the very
#     next sync succeeds (hqdb_pg.c reconnects and retries the statement
#     that found the connection dead, after its backoff if a background
#     thread already found it dead during the restart);
#   - while PostgreSQL is down: a database route answers 503 "unavailable"
#     with Retry-After, /readyz 503, /healthz 200, a sync fails (the kiosk
#     keeps its events), scans of a cached store still answer 200 and
#     are counted in memory, and a scan of a store (or brand) not cached
#     answers 503 with Retry-After and the "try again in a moment" page;
#     /metrics answers 200 with the process's own series and
#     storeqr_hq_storage_up 0, without the database's series; an alert
#     raised then (SH-EXP's only group expires: groups_exhausted) waits
#     in memory (storeqr_hq_alerts_waiting 1) and is in the database
#     once it is back;
#   - once it is back: /readyz 200, the kiosk's sync stores everything, and
#     every scan made before, between and during the outages is in the
#     database (exact numbers) while HQ still runs, and again after a stop;
#     none dropped (/metrics).
# usage: test_pgrestart.sh TMPDIR   (env: BIN_HQ BIN_STOREQR BIN_SYNC MINT)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
pg_start
PG_PORT=$(sed -n 's|.*@127.0.0.1:\([0-9]*\)/.*|\1|p' <<<"${HQ_DB_ARGS[1]}")
pg() { # stop | start | restart
  as_pg "$PG_CTL" -D "$PG_DIR" -l "$TMP/pgsock/pg.log" -m fast -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $TMP/pgsock -c fsync=off" "$1" >/dev/null ||
    { tail -5 "$TMP/pgsock/pg.log" >&2; fail "pg_ctl $1"; }
}
hq_init hq SH-JA01 SH-XH02 # SH-XH02: never scanned before the outage
hq_start hq
PID=$HQ_PID
URL=https://127.0.0.1:$HQ_PORT
C=(curl -s --max-time 20 --cacert hq/hq-ca.crt)
AUTH=(-H "Authorization: Bearer $(cat hq/admin.token)")
dbq() { psql -X -q -At "${HQ_DB_ARGS[1]}" -c "$1"; }
alive() { kill -0 "$PID" 2>/dev/null || fail "HQ exited: $(tail -5 hq/hq.log)"; }
signup() { "$BIN_STOREQR" --db k/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null || fail "sign-up"; }
sync_once() { "$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>sync.log; }
SCANS=0
scan() { # N: the kiosk's code scanned N times, each answered 200
  local s
  for _ in $(seq "$1"); do
    s=$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/J/SH-JA01/$TOKEN")
    [ "$s" = 200 ] || fail "a scan answered $s (after $SCANS)"
    SCANS=$((SCANS + 1))
  done
}
db_scans() { dbq "SELECT COALESCE(SUM(scans), 0) FROM scans WHERE store = 'SH-JA01'"; }
# head FILE NAME -> the header's value (HTTP/1.1 header lines, CR stripped)
header() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -1; }

mkdir k
"$BIN_STOREQR" --db k/kiosk.db init >/dev/null
"$BIN_SYNC" enroll --db k/kiosk.db --hq "$URL" --code "$(hq_code hq SH-JA01 1)" --ca hq/hq-ca.crt \
  >/dev/null || fail "enrol"
signup
sync_once || fail "first sync: $(cat sync.log)"
TOKEN=$("$BIN_STOREQR" --db k/kiosk.db token mint | head -1)
scan 5

# SH-EXP's one group stops taking shoppers (expiry margin 12 h) a few
# seconds from now; cached by a scan before that; scanned again during
# the outage. (Set up here, not just before the outage: a flush returns
# SH-JA01's unspent seats, and the scans during the outage need some.)
hq store add --dir hq --id SH-EXP --name 到期店 --city 上海 >/dev/null || fail "store add SH-EXP"
EXP_AT=$(($(date +%s) + 43200 + 5))
hq group add --dir hq --store SH-EXP --id exp-1 --name 到期群 --link https://weixin.qq.com/g/exp-1 \
  --capacity 200 --expires-at "$EXP_AT" >/dev/null || fail "group add SH-EXP"
hq_key_row hq SH-EXP 1 1
TOKX=$("$MINT" hq SH-EXP 1 1) || fail "mint"
"${C[@]}" "$URL/J/SH-EXP/$TOKX" | grep -q 'id="join-link"' || fail "SH-EXP's group before it expires"
exhausted_alerts() { dbq "SELECT COUNT(*) FROM alerts WHERE kiosk = 'SH-EXP' AND kind = 'groups_exhausted'"; }

# ---- a restart: the next use finds the old connection dead -------------------------------------
pg restart
# HQ's background threads (the flusher, the seal opener's count every
# 250 ms) may have tried the database while it was down and started the
# reconnect backoff (hqdb_pg.c, 100 ms doubling): the first sync is due
# once HQ sees the database again, which /readyz says (at most 10 s).
for _ in $(seq 100); do
  [ "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ] && break
  sleep 0.1
done
signup
sync_once || fail "the first sync after pg_ctl restart failed: $(cat sync.log)"
scan 3
alive

# ---- an outage ----------------------------------------------------------------------------------
pg stop
s=$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/healthz")
[ "$s" = 200 ] || fail "/healthz answered $s while PostgreSQL is down"
s=$("${C[@]}" -D ready.h -o ready.b -w '%{http_code}' "$URL/readyz")
[ "$s" = 503 ] && [ -n "$(header ready.h Retry-After)" ] ||
  fail "/readyz answered $s (Retry-After '$(header ready.h Retry-After)') while PostgreSQL is down"
s=$("${C[@]}" "${AUTH[@]}" -D counts.h -o counts.b -w '%{http_code}' "$URL/v1/admin/counts?store=SH-JA01")
[ "$s" = 503 ] && [ "$(json_get "$(cat counts.b)" error)" = unavailable ] ||
  fail "a database route answered $s $(cat counts.b) while PostgreSQL is down"
ra=$(header counts.h Retry-After)
[ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 60 ] || fail "503 without a sensible Retry-After ('$ra')"
signup
sync_once && fail "a sync succeeded while PostgreSQL is down"
grep -q 503 sync.log || fail "the sync's failure does not say 503: $(cat sync.log)"
for u in J/SH-XH02/"$TOKEN" N/SH-XH02; do # not cached: the resolver needs the database
  s=$("${C[@]}" -H 'Accept-Language: en' -D scan.h -o scan.b -w '%{http_code}' "$URL/$u")
  [ "$s" = 503 ] && [ "$(header scan.h Retry-After)" = 2 ] &&
    grep -q '<h1 id="message">Please try again in a moment' scan.b ||
    fail "/$u answered $s (Retry-After '$(header scan.h Retry-After)') while PostgreSQL is down: $(head -c 300 scan.b)"
done
scan 4                # the store is cached: scans go on, counted in memory
while [ "$(date +%s)" -le $((EXP_AT - 43200)) ]; do sleep 0.2; done
"${C[@]}" -o exp.b -w "%{http_code}" "$URL/J/SH-EXP/$TOKX" >exp.s || true
grep -q 'id="message"' exp.b && ! grep -q 'id="join-link"' exp.b || fail "SH-EXP's group expired: no staff page ($(cat exp.s)): $(grep -o "<title>[^<]*" exp.b)"
sleep 2.5             # the flusher tries, fails and keeps the counts (and the alert)
alive
s=$("${C[@]}" "${AUTH[@]}" -o metrics.b -w '%{http_code}' "$URL/metrics")
[ "$s" = 200 ] || fail "/metrics answered $s while PostgreSQL is down: $(head -c 300 metrics.b)"
grep -qx 'storeqr_hq_storage_up 0' metrics.b || fail "/metrics during the outage: $(grep storage_up metrics.b)"
grep -qx 'storeqr_hq_scan_counts_unflushed [1-9][0-9]*' metrics.b ||
  fail "/metrics during the outage does not show the unflushed scans: $(grep scan_counts metrics.b)"
grep -q '^storeqr_hq_http_requests_total{route=' metrics.b || fail "/metrics lost the request counters"
grep -q '^storeqr_hq_stores ' metrics.b && fail "/metrics shows the database's series during the outage"
if command -v promtool >/dev/null; then promtool check metrics <metrics.b || fail "promtool check metrics (outage)"; fi
# the flusher raises it on its next try (its backoff grows to 10 s)
for _ in $(seq 75); do
  "${C[@]}" "${AUTH[@]}" -o metrics.b "$URL/metrics"
  grep -qx 'storeqr_hq_alerts_waiting 1' metrics.b && break
  sleep 0.2
done
grep -qx 'storeqr_hq_alerts_waiting 1' metrics.b && grep -qx 'storeqr_hq_alerts_dropped_total 0' metrics.b ||
  fail "the alert raised during the outage: $(grep '^storeqr_hq_alerts_' metrics.b)"
[ "$(exhausted_alerts 2>/dev/null)" != 1 ] || fail "an alert was written while PostgreSQL was down?"

pg start
ready=
for _ in $(seq 100); do # the reconnection backoff is at most 5 s
  [ "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ] && { ready=1; break; }
  sleep 0.2
done
[ -n "$ready" ] || fail "/readyz never came back after PostgreSQL did: $(tail -3 hq/hq.log)"
sync_once || fail "the sync after the outage failed: $(cat sync.log)"
last=$(kiosk_json k/kiosk.db last_seq)
read -r rows max acked <<<"$(hq_events hq SH-JA01/1)"
[ "$acked" = "$last" ] && [ "$max" = "$last" ] ||
  fail "HQ holds events up to $max (acked $acked), the kiosk wrote $last"
[ "$(hq_count hq SH-JA01 signups)" = 3 ] || fail "signups: $(hq_count hq SH-JA01 signups), want 3"

# Every scan is written by the flusher (its retry backoff is at most 10 s).
n=
for _ in $(seq 150); do n=$(db_scans); [ "$n" = "$SCANS" ] && break; sleep 0.2; done
[ "$n" = "$SCANS" ] || fail "the database holds $n scans, HQ answered $SCANS"
[ "$(exhausted_alerts)" = 1 ] || fail "the alert raised during the outage is not in the database ($(exhausted_alerts))"
m=$("${C[@]}" "${AUTH[@]}" "$URL/metrics")
grep -qx 'storeqr_hq_scan_counts_dropped_total 0' <<<"$m" ||
  fail "scans dropped: $(grep scan_counts <<<"$m")"
grep -qx 'storeqr_hq_scan_counts_unflushed 0' <<<"$m" || fail "scans still unflushed: $(grep scan_counts <<<"$m")"
grep -qx 'storeqr_hq_storage_up 1' <<<"$m" || fail "storage_up after the outage: $(grep storage_up <<<"$m")"
grep -q '^storeqr_hq_stores 3$' <<<"$m" || fail "the database's series are not back: $(grep stores <<<"$m")"
grep -qx 'storeqr_hq_alerts_waiting 0' <<<"$m" || fail "alerts still waiting: $(grep alerts_ <<<"$m")"
if command -v promtool >/dev/null; then promtool check metrics <<<"$m" || fail "promtool check metrics"; fi
alive
[ "$HQ_PID" = "$PID" ] || fail "HQ was restarted"
scan 2
hq_stop hq # writes what is left
[ "$(db_scans)" = "$SCANS" ] || fail "after the stop the database holds $(db_scans) scans, want $SCANS"
echo "PASS: PostgreSQL restart and outage ($SCANS scans, $last events)"
