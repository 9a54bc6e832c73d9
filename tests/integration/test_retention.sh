#!/usr/bin/env bash
# test_retention.sh — HQ erases members inactive at a store (issue 16,
# docs/PRIVACY.md "Retention"), real kiosks and HQ over mutual TLS:
#   - two kiosks of SH-JA01, one of SH-XH01; sign-ups made with a kiosk
#     clock 800 days back: P1 (also signed up at SH-XH01 5 days ago), P2
#     (checked in 10 days ago), P4; P5 signed up today;
#   - `retention run --dry-run` counts per store and changes nothing; a
#     template with retention.member_days out of range is refused clearly
#     and changes nothing;
#   - `retention run` erases P1's and P4's SH-JA01 members at HQ: no link,
#     P4's person row gone, P1's kept (linked at SH-XH01), sealed boxes out
#     of their stored sign-ups, erasure_log reason "retention"; after one
#     sync pass both kiosks of SH-JA01 erased them and HQ has their
#     confirmations; P2, P5 and P1 at SH-XH01 intact, points unchanged;
#     each kiosk's log verifies; /metrics shows the run; a second run
#     erases nothing.
# usage: test_retention.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC; SQR_SLOW=1 under sanitizers)
. "$(dirname "$0")/lib.sh"
hq_scene "${1:-/tmp}" "${2:-sqlite}" SH-JA01 SH-XH01
NOW=$(date +%s)
OLD=$((NOW - 800 * 86400)) RECENT=$((NOW - 10 * 86400)) LATELY=$((NOW - 5 * 86400))
signup() { # DIR UNIX_S PHONE
  K "$1" --now "$2" signup --phone "$3" --consent --age-confirmed >/dev/null || fail "sign-up at $1"
}
link_count() { hq_dbq "SELECT count(*) FROM member_links WHERE store = '$1' AND member = '$2'"; }
# the points of a kiosk's members but the two inactive ones (M1, M4 once known)
points() { sqlite3 "$1/kiosk.db" "SELECT mid || ':' || points FROM members WHERE mid NOT IN ('${M1:-}', '${M4:-}') ORDER BY mid" | tr '\n' ' '; }

kiosk_enrol k1 SH-JA01 1
kiosk_enrol k2 SH-JA01 2
kiosk_enrol x1 SH-XH01 1
P1=$(rand_phone) P2=$(rand_phone) P4=$(rand_phone) P5=$(rand_phone)
signup k1 $OLD "$P1"
signup k1 $OLD "$P2"
signup k2 $OLD "$P4"
signup k2 $NOW "$P5"
signup x1 $LATELY "$P1"
K k1 --now $RECENT checkin --phone "$P2" >/dev/null || fail "check-in of P2"
# two passes: each kiosk learns the other's members from the feed
for pass in 1 2; do for k in k1 k2 x1; do kiosk_sync $k; done; done
mapfile -t M < <(kiosk_members k1/kiosk.db)
M1=${M[0]} M2=${M[1]}
mapfile -t M < <(kiosk_members k2/kiosk.db)
M4=${M[0]} M5=${M[1]}
X1=$(kiosk_members x1/kiosk.db)
[ "$(hq_count hq SH-JA01 members)" = 4 ] || fail "HQ does not link 4 members at SH-JA01"
[ "$(hq_dbq "SELECT count(*) FROM members")" = 4 ] || fail "HQ holds $(hq_dbq "SELECT count(*) FROM members") people, want 4"
[ "$(sqlite3 k2/kiosk.db "SELECT count(*) FROM members")" = 4 ] || fail "kiosk 2 did not learn kiosk 1's members"
[ "$(hq_dbq "SELECT count(*) FROM checkin_days WHERE store = 'SH-JA01' AND member = '$M2'")" = 1 ] ||
  fail "HQ did not keep P2's check-in"
# HQ's document carries the template's retention section (defaults here)
python3 -c 'import json,sys; r=json.loads(sys.stdin.read())["retention"]; assert r == {"member_days": 730, "event_days": 90}, r' \
  < <(sqlite3 k1/kiosk.db "SELECT json FROM config ORDER BY version DESC LIMIT 1") || fail "the document has no retention section"
BEFORE1=$(points k1) BEFORE2=$(points k2)
STATE() { hq_dbq "SELECT (SELECT count(*) FROM member_links) || '/' || (SELECT count(*) FROM members) || '/' || (SELECT count(*) FROM erasure_log) || '/' || (SELECT count(*) FROM feed)"; }
S0=$(STATE)

# ---- a dry run counts, per store, and changes nothing ----------------------------------------------
OUT=$(hq retention run --dir hq --dry-run) || fail "dry run: $OUT"
case "$OUT" in *"SH-JA01: 2 members inactive"*) ;; *) fail "dry run: $OUT";; esac
case "$OUT" in *SH-XH01*) fail "dry run counts SH-XH01: $OUT";; esac
for p in "$P1" "$P2" "$P4" "$P5"; do case "$OUT" in *"$p"*) fail "the dry run printed a number";; esac; done
[ "$(STATE)" = "$S0" ] || fail "the dry run changed something: $(STATE), was $S0"
# A clock ahead would erase members active today: only a dry run may.
FUTURE=$(( ($(date +%s) + 800 * 86400) * 1000 ))
if hq retention run --dir hq --now "$FUTURE" >/dev/null 2>bad.err; then fail "a run with a clock ahead was taken"; fi
grep -q "only with --dry-run" bad.err || fail "no clear error for a clock ahead: $(cat bad.err)"
OUT=$(hq retention run --dir hq --now "$FUTURE" --dry-run) || fail "a dry run ahead: $OUT"
case "$OUT" in *"SH-JA01: 4 members inactive"*"SH-XH01: 1 members inactive"*) ;; *) fail "a dry run ahead: $OUT";; esac
[ "$(STATE)" = "$S0" ] || fail "the runs ahead changed something: $(STATE), was $S0"

# ---- a template out of range: refused, clearly, nothing changed --------------------------------------
cp hq/store-template.json tpl.ok
python3 - <<'PY'
import json
t = json.load(open("hq/store-template.json"))
t["retention"] = {"member_days": 10, "event_days": 90}
json.dump(t, open("hq/store-template.json", "w"))
PY
if hq retention run --dir hq >bad.out 2>bad.err; then fail "a template with member_days 10 was taken"; fi
grep -q "retention.member_days must be a whole number of days 30..3650" bad.err ||
  fail "no clear refusal: $(cat bad.err)"
[ "$(STATE)" = "$S0" ] || fail "the refused run changed something"
cp tpl.ok hq/store-template.json

# ---- the run ------------------------------------------------------------------------------------------
OUT=$(hq retention run --dir hq) || fail "retention run: $OUT"
case "$OUT" in *"SH-JA01: 2 members erased"*) ;; *) fail "retention run: $OUT";; esac
for m in "$M1" "$M4"; do [ "$(link_count SH-JA01 "$m")" = 0 ] || fail "an inactive member is still linked"; done
for m in "$M2" "$M5"; do [ "$(link_count SH-JA01 "$m")" = 1 ] || fail "an active member lost its link"; done
[ "$(link_count SH-XH01 "$X1")" = 1 ] || fail "P1's membership at SH-XH01 was erased"
[ "$(hq_dbq "SELECT count(*) FROM members")" = 3 ] ||
  fail "HQ holds $(hq_dbq "SELECT count(*) FROM members") people, want 3 (P4's row gone, P1's kept)"
[ "$(hq_dbq "SELECT count(*) FROM members m JOIN member_links l ON l.phone_index = m.phone_index WHERE l.store = 'SH-XH01' AND l.member = '$X1'")" = 1 ] ||
  fail "P1's person row went with an inactive membership"
[ "$(hq_dbq "SELECT count(*) FROM store_members WHERE store = 'SH-JA01' AND member IN ('$M1', '$M4')")" = 0 ] ||
  fail "the store still shares inactive members"
[ "$(hq_dbq "SELECT count(*) FROM events WHERE store = 'SH-JA01' AND type = 'signup' AND redacted = 1")" = 2 ] ||
  fail "$(hq_dbq "SELECT count(*) FROM events WHERE store = 'SH-JA01' AND type = 'signup' AND redacted = 1") sign-ups redacted, want 2"
[ "$(hq_dbq "SELECT count(*) FROM events WHERE type = 'signup' AND payload LIKE '%sealed%'")" = 3 ] ||
  fail "sealed boxes of the erased members remain (or others went)"
[ "$(hq_dbq "SELECT count(*) FROM erasure_log WHERE reason = 'retention' AND asked_by = 'hq retention' AND store = 'SH-JA01' AND member IN ('$M1', '$M4')")" = 2 ] ||
  fail "no erasure record with reason retention"
[ "$(hq_count hq SH-JA01 erasures_pending)" = 2 ] || fail "no erasure requests for SH-JA01's kiosks"
MET=$(curl -s --max-time 20 --cacert hq/hq-ca.crt -H "Authorization: Bearer $(cat hq/admin.token)" "$URL/metrics")
grep -q '^storeqr_hq_retention_last_run_erased 2$' <<<"$MET" || fail "/metrics: $(grep retention <<<"$MET")"
grep -q '^storeqr_hq_retention_last_run_timestamp_seconds [1-9]' <<<"$MET" || fail "/metrics: no last run time"

# ---- one sync pass: both kiosks of the store erase them, and confirm ------------------------------------
for k in k1 k2 x1; do kiosk_sync $k; done
for k in k1 k2; do
  [ "$(sqlite3 $k/kiosk.db "SELECT count(*) FROM members WHERE mid IN ('$M1', '$M4')")" = 0 ] ||
    fail "$k kept an inactive member"
  [ "$(sqlite3 $k/kiosk.db "SELECT count(*) FROM members")" = 2 ] || fail "$k lost an active member"
done
[ "$(hq_count hq SH-JA01 erasures_pending)" = 0 ] || kiosk_sync k1 # confirmations ride the next upload
[ "$(hq_count hq SH-JA01 erasures_pending)" = 0 ] || fail "SH-JA01's erasures are not confirmed"
[ "$(sqlite3 x1/kiosk.db "SELECT count(*) FROM members WHERE mid = '$X1'")" = 1 ] ||
  fail "the other store's kiosk erased P1"
[ "$(hq_dbq "SELECT count(*) FROM members")" = 3 ] || fail "a kiosk's confirmation erased a person"
[ "$(link_count SH-XH01 "$X1")" = 1 ] || fail "a kiosk's confirmation erased P1 at SH-XH01"
[ "$(points k1)" = "$BEFORE1" ] || fail "k1's points changed: $(points k1), was $BEFORE1"
[ "$(points k2)" = "$BEFORE2" ] || fail "k2's points changed: $(points k2), was $BEFORE2"
case "$BEFORE1" in *"$M2:10 "*) ;; *) fail "P2's check-in is not counted at k1: $BEFORE1";; esac
for k in k1 k2 x1; do K $k verify-log >/dev/null || fail "$k's log does not verify"; done

# ---- a second run erases nothing ------------------------------------------------------------------------
S1=$(hq_dbq "SELECT count(*) FROM member_links")
OUT=$(hq retention run --dir hq) || fail "second run: $OUT"
case "$OUT" in *"0 members erased"*) ;; *) fail "second run: $OUT";; esac
[ "$(hq_dbq "SELECT count(*) FROM member_links")" = "$S1" ] || fail "the second run erased someone"
hq_stop hq
echo "PASS retention ($HQ_BACKEND)"
