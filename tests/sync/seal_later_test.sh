#!/usr/bin/env bash
# seal_later_test.sh BIN_HQ BIN_HQB BIN_STOREQR BIN_SYNC sqlite|postgresql —
# sealed phones opened off the acknowledgement path (ops/sealjob.c), end to
# end through `storeqr-hq ingest-file`:
#   1. a store mix ingested with --seal-later --no-drain is acknowledged
#      with every sign-up counted and no member yet: the boxes wait in the
#      queue (backlog = sign-ups);
#   2. a second process drains the queue (the job resumes where the first
#      left it): every sign-up becomes a member, backlog 0;
#   3. an HQ opening on the acknowledgement path (the default) ends with the
#      same members for the same events;
#   4. storeqr-hq serve opens a kiosk's sign-ups in the background (the
#      default); /metrics shows the backlog;
#   5. past its bound (SQR_HQ_SEAL_BACKLOG_MAX) the queue takes no more:
#      ingest opens the rest itself; the dashboard shows what waits.
# Bounded: lib.sh waits are bounded, ctest's TIMEOUT covers the rest.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN_HQ=$1 BIN_HQB=$2 BIN_STOREQR=$3 BIN_SYNC=$4 MODE=$5
# shellcheck source=../integration/lib.sh
. "$SRC/tests/integration/lib.sh"
mk_tmp
[ "$MODE" = postgresql ] && pg_start
export SQR_LOG=warn
EVENTS=2000

# enrolled DIR: HQ in DIR with kiosk SH-JA01/1 enrolled (over TLS, once).
enrolled() {
  hq_init "$1"
  hq_start "$1"
  "$BIN_STOREQR" --db "$1/kiosk.db" init >/dev/null || fail "kiosk init"
  "$BIN_SYNC" enroll --db "$1/kiosk.db" --hq "https://127.0.0.1:$HQ_PORT" \
    --code "$(hq_code "$1" SH-JA01 1)" --ca "$1/hq-ca.crt" >/dev/null || fail "enroll"
  hq_stop "$1"
  mkdir -p "$1/b"
  "$BIN_HQB" gen "$1" SH-JA01 1 "$EVENTS" store "$1/b" >/dev/null || fail "gen"
}
field() { json_get "$1" "$2"; }

enrolled "$TMP/later"
# Two halves: the second batch file chains from the first, as a kiosk's would.
files=("$TMP"/later/b/batch-*.json)
j=$(hq ingest-file --dir "$TMP/later" --seal-later --no-drain "${files[@]}") || fail "ingest-file: $j"
signups=$(hq_count "$TMP/later" SH-JA01 signups)
[ "$signups" -gt 100 ] || fail "only $signups sign-ups in the mix"
c=$(hq_counts "$TMP/later" SH-JA01) # not hq_count: it waits for the opener
[ "$(json_get "$c" members)" = 0 ] || fail "members linked before the opener ran"
[ "$(json_get "$c" members_pending)" = "$signups" ] || fail "counts: $(json_get "$c" members_pending) pending"
[ "$(field "$j" backlog)" = "$signups" ] || fail "backlog $(field "$j" backlog), want $signups"
[ "$(field "$j" signups_opened)" = 0 ] || fail "ingest opened boxes with --seal-later"
j=$(hq ingest-file --dir "$TMP/later" --seal-later 2>"$TMP/drain.err") ||
  fail "drain: $j $(cat "$TMP/drain.err")"
[ "$(field "$j" drained)" = "$signups" ] || fail "drained $(field "$j" drained), want $signups"
[ "$(field "$j" backlog)" = 0 ] || fail "backlog left: $j"
later_members=$(hq_count "$TMP/later" SH-JA01 members)
[ "$later_members" = "$signups" ] || fail "$later_members members after the drain, want $signups"

# A database of its own for the second HQ (PostgreSQL: one cluster).
if [ "$MODE" = postgresql ]; then
  psql -X -q "${HQ_DB_ARGS[1]}" -c "CREATE DATABASE hq_now" >/dev/null || fail "create database"
  HQ_DB_ARGS=(--db "${HQ_DB_ARGS[1]/\/postgres?//hq_now?}")
fi
enrolled "$TMP/now"
j=$(hq ingest-file --dir "$TMP/now" "$TMP"/now/b/batch-*.json) || fail "ingest-file: $j"
[ "$(hq_count "$TMP/now" SH-JA01 members)" = "$later_members" ] ||
  fail "opening on the acknowledgement path gave $(hq_count "$TMP/now" SH-JA01 members) members"
# 4. storeqr-hq serve (the default): a kiosk's sign-ups are acknowledged,
#    the background thread opens them (members appear within 10 s) and
#    /metrics shows the backlog drained.
if [ "$MODE" = postgresql ]; then
  psql -X -q "${HQ_DB_ARGS[1]}" -c "CREATE DATABASE hq_served" >/dev/null || fail "create database"
  HQ_DB_ARGS=(--db "${HQ_DB_ARGS[1]/\/hq_now?//hq_served?}")
fi
d=$TMP/served
hq_init "$d"
HQ_SERVE_ARGS=()
SQR_LOG=info hq_start "$d"
"$BIN_STOREQR" --db "$d/kiosk.db" init >/dev/null || fail "kiosk init"
"$BIN_SYNC" enroll --db "$d/kiosk.db" --hq "https://127.0.0.1:$HQ_PORT" \
  --code "$(hq_code "$d" SH-JA01 1)" --ca "$d/hq-ca.crt" >/dev/null || fail "enroll"
for _ in 1 2 3 4 5; do
  "$BIN_STOREQR" --db "$d/kiosk.db" signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null || fail "sign-up"
done
"$BIN_SYNC" --once --db "$d/kiosk.db" >/dev/null 2>"$d/sync.log" || fail "sync: $(cat "$d/sync.log")"
[ "$(hq_count "$d" SH-JA01 signups)" = 5 ] || fail "sign-ups not acknowledged"
for _ in $(seq 100); do [ "$(hq_count "$d" SH-JA01 members)" = 5 ] && break; sleep 0.1; done
[ "$(hq_count "$d" SH-JA01 members)" = 5 ] || fail "the background opener did not link the members"
m=$(curl -s --max-time 5 --cacert "$d/hq-ca.crt" -H "Authorization: Bearer $(cat "$d/admin.token")" \
  "https://127.0.0.1:$HQ_PORT/metrics")
echo "$m" | grep -qx 'storeqr_hq_seal_backlog 0' || fail "no drained backlog in /metrics"
grep -q "opened after the acknowledgement" "$d/hq.log" || fail "serve did not start the opener"
hq_stop "$d"

# 5. The bound. The CLI counts the queue before each batch file, as serve's
#    opener does a few times a second: once 100 wait, sign-ups are opened
#    in the upload again. Then serve --seal-now (no opener) shows the
#    boxes left on the dashboard.
if [ "$MODE" = postgresql ]; then
  psql -X -q "${HQ_DB_ARGS[1]}" -c "CREATE DATABASE hq_bound" >/dev/null || fail "create database"
  HQ_DB_ARGS=(--db "${HQ_DB_ARGS[1]/\/hq_served?//hq_bound?}")
fi
d=$TMP/bound
enrolled "$d"
j=$(SQR_HQ_SEAL_BACKLOG_MAX=100 hq ingest-file --dir "$d" --seal-later --no-drain "$d"/b/batch-*.json) ||
  fail "ingest-file: $j"
all=$(hq_count "$d" SH-JA01 signups) queued=$(field "$j" backlog) opened=$(field "$j" signups_opened)
[ "$queued" -ge 100 ] && [ "$opened" -gt 0 ] && [ $((queued + opened)) = "$all" ] ||
  fail "bound 100: $queued queued, $opened opened in the upload, of $all sign-ups"
[ "$(json_get "$(hq_counts "$d" SH-JA01)" members)" = "$opened" ] ||
  fail "members are not the ones opened in the upload"
PW=seal-backlog-pw-1
echo "$PW" | hq admin add --dir "$d" alice >/dev/null || fail "admin add"
HQ_SERVE_ARGS=(--seal-now)
SQR_LOG=info hq_start "$d"
grep -q "opened after the acknowledgement" "$d/hq.log" && fail "serve --seal-now started the opener"
B=https://127.0.0.1:$HQ_PORT
C=(curl -s --max-time 10 --cacert "$d/hq-ca.crt")
"${C[@]}" -D "$d/login.h" -o /dev/null -H "Origin: $B" --data-urlencode user=alice \
  --data-urlencode "password=$PW" "$B/dash/login" || fail "login"
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: \(__Host-sqr_session=[0-9a-f]*\);.*/\1/p' "$d/login.h" | tr -d '\r')
[ -n "$cookie" ] || fail "no session cookie"
"${C[@]}" -H "Cookie: $cookie" "$B/dash" | grep -q "id=\"total-seal-backlog\">$queued<" ||
  fail "the dashboard does not show the $queued phones waiting"
hq_stop "$d"
echo "ok: $signups sign-ups acknowledged unopened, then opened by a second process; serve opened 5 in the background; bound 100: $queued queued, $opened opened in the upload, shown on the dashboard ($MODE)"
