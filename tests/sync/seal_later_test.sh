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
#      same members for the same events.
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
[ "$(hq_count "$TMP/later" SH-JA01 members)" = 0 ] || fail "members linked before the opener ran"
[ "$(field "$j" backlog)" = "$signups" ] || fail "backlog $(field "$j" backlog), want $signups"
[ "$(field "$j" signups_opened)" = 0 ] || fail "ingest opened boxes with --seal-later"
j=$(hq ingest-file --dir "$TMP/later" --seal-later) || fail "drain: $j"
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
echo "ok: $signups sign-ups acknowledged unopened, then opened by a second process ($MODE)"
