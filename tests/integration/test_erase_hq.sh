#!/usr/bin/env bash
# test_erase_hq.sh — an erasure erases the person at HQ (issue 16,
# docs/ARCHITECTURE.md "Erasure at HQ"), real kiosks and HQ over mutual
# TLS:
#   - three shoppers signed up at two kiosks of one store, the first also
#     at a kiosk of another store (one person at HQ: one phone);
#   - one erased at HQ's request, one at a kiosk; one sync pass each;
#   - then HQ holds no member row, link or queued box of either, their
#     sign-up events are redacted (chain kept: each kiosk's log still
#     verifies, and HQ took the later uploads), the other store's kiosk
#     erased the person too, the third member is intact, and an erasure
#     record remains;
#   - before that, `storeqr-hq member show --phone -` and the admin route
#     give a person's data at both stores (no box, no number), nothing for
#     an unknown number, refuse a number in argv or a malformed one, and
#     every access is in the audit log;
#   - no byte of their sealed boxes or encrypted phones is left in HQ's
#     database files: SQLite's file and WAL; PostgreSQL's table files
#     after a CHECKPOINT (HQ vacuums after erasures).
# usage: test_erase_hq.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC; SQR_SLOW=1 under sanitizers)
. "$(dirname "$0")/lib.sh"
hq_scene "${1:-/tmp}" "${2:-sqlite}" SH-JA01 SH-XH01
hexof() { # SQL returning one bytea/blob -> lower-case hex
  if [ "$HQ_BACKEND" = postgresql ]; then hq_dbq "SELECT encode(($1), 'hex')"
  else hq_dbq "SELECT lower(hex(($1)))"; fi
}
sealed_of() { # DIR MID -> the sealed box (base64) of the member's sign-up, as the kiosk sent it
  sqlite3 "$1/kiosk.db" "SELECT json_extract(payload, '\$.sealed') FROM events WHERE type = 'signup' AND json_extract(payload, '\$.member') = '$2'"
}

kiosk_enrol k1 SH-JA01 1
kiosk_enrol k2 SH-JA01 2
kiosk_enrol x1 SH-XH01 1
P1=$(rand_phone) P2=$(rand_phone) P3=$(rand_phone)
K k1 signup --phone "$P1" --consent --age-confirmed >/dev/null || fail "sign-up P1"
K k1 signup --phone "$P2" --consent --age-confirmed >/dev/null || fail "sign-up P2"
K k2 signup --phone "$P3" --consent --age-confirmed >/dev/null || fail "sign-up P3"
K x1 signup --phone "$P1" --consent --age-confirmed >/dev/null || fail "sign-up P1 at the other store"
for k in k1 k2 x1; do kiosk_sync $k; done
[ "$(hq_count hq SH-JA01 members)" = 3 ] || fail "HQ does not link 3 members"
mapfile -t M < <(kiosk_members k1/kiosk.db)
M1=${M[0]} M2=${M[1]}
M3=$(kiosk_members k2/kiosk.db)
X1=$(kiosk_members x1/kiosk.db)
[ "$(hq_dbq "SELECT count(*) FROM members")" = 3 ] || fail "HQ holds $(hq_dbq "SELECT count(*) FROM members") people, want 3"
# What must not survive: the boxes as the kiosks sent them, and HQ's
# encrypted phones.
S1=$(sealed_of k1 "$M1") S3=$(sealed_of k2 "$M3") SX=$(sealed_of x1 "$X1")
E1=$(hexof "SELECT m.phone_enc FROM members m JOIN member_links l ON l.phone_index = m.phone_index WHERE l.store = 'SH-JA01' AND l.member = '$M1'")
E3=$(hexof "SELECT m.phone_enc FROM members m JOIN member_links l ON l.phone_index = m.phone_index WHERE l.store = 'SH-JA01' AND l.member = '$M3'")
for v in "$S1" "$S3" "$SX" "$E1" "$E3"; do [ ${#v} -ge 40 ] || fail "a secret to look for is missing"; done
[ "$(hq_dbq "SELECT count(*) FROM events WHERE payload LIKE '%$S1%'")" = 1 ] || fail "HQ does not hold P1's box"

# ---- a person's own data, on request, audited ----------------------------------------------------
show() { hq member show --dir hq --phone - <<<"$1"; }
OUT=$(show "$P1") || fail "member show"
[ "$(json_get "$OUT" found)" = True ] || fail "P1 not found: $OUT"
python3 - "$OUT" <<'PY' || fail "P1's data: $OUT"
import json, sys
d = json.loads(sys.argv[1])
stores = sorted(s["store"] for s in d["stores"])
assert stores == ["SH-JA01", "SH-XH01"], stores
for s in d["stores"]:
    sign = [e for e in s["events"] if e["type"] == "signup"]
    assert len(sign) == 1 and sign[0]["payload"]["consent_version"] == "2026-11", s
    assert "sealed" not in sign[0]["payload"] and "blind" not in sign[0]["payload"], s
PY
case "$OUT" in *"$P1"*) fail "the answer holds the number";; esac
[ "$(json_get "$(show 13900000000)" found)" = False ] || fail "an unknown number was found"
ADMIN=(curl -s --max-time 20 --cacert hq/hq-ca.crt -H "Authorization: Bearer $(cat hq/admin.token)")
OUT=$("${ADMIN[@]}" -d "{\"phone\":\"$P2\"}" "$URL/v1/admin/member-data")
[ "$(json_get "$OUT" found)" = True ] || fail "the admin route did not find P2: $OUT"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 --cacert hq/hq-ca.crt -d "{\"phone\":\"$P2\"}" "$URL/v1/admin/member-data")" = 401 ] ||
  fail "member data without the admin credential"
# Bad input: a number on the command line, a malformed one.
hq member show --dir hq --phone "$P1" </dev/null >/dev/null 2>&1 && fail "a number in argv was taken"
show 12345 >/dev/null 2>&1 && fail "a malformed number was taken"
[ "$(hq_dbq "SELECT count(*) FROM audit_log WHERE what = 'member_show'")" = 3 ] ||
  fail "$(hq_dbq "SELECT count(*) FROM audit_log WHERE what = 'member_show'") accesses audited, want 3"
[ "$(hq_dbq "SELECT count(*) FROM audit_log WHERE who = 'admin-token'")" = 1 ] || fail "the admin access is not audited"

# ---- erase P1 at HQ's request, P3 at kiosk 2; one pass each ------------------------------------
hq_erase hq SH-JA01 "$M1"
K k2 erase --phone "$P3" >/dev/null || fail "erase at kiosk 2"
for k in k1 k2 x1; do kiosk_sync $k; done

[ "$(hq_dbq "SELECT count(*) FROM members")" = 1 ] || fail "HQ still holds $(hq_dbq "SELECT count(*) FROM members") people, want 1"
[ "$(hq_dbq "SELECT count(*) FROM member_links WHERE member IN ('$M1', '$M3', '$X1')")" = 0 ] ||
  fail "links of erased members remain"
[ "$(hq_dbq "SELECT count(*) FROM member_links WHERE store = 'SH-JA01' AND member = '$M2'")" = 1 ] ||
  fail "the member not erased lost its link"
[ "$(hq_dbq "SELECT count(*) FROM events WHERE type = 'signup' AND redacted = 1")" = 3 ] ||
  fail "$(hq_dbq "SELECT count(*) FROM events WHERE type = 'signup' AND redacted = 1") sign-ups redacted, want 3"
[ "$(hq_dbq "SELECT count(*) FROM events WHERE type = 'signup' AND payload LIKE '%sealed%'")" = 1 ] ||
  fail "sealed boxes left in HQ's events"
[ "$(hq_dbq "SELECT count(*) FROM erasure_log WHERE member IN ('$M1', '$M3', '$X1')")" -ge 3 ] ||
  fail "no erasure record"
# The person is gone at the other store too, and its kiosk confirmed.
[ "$(sqlite3 x1/kiosk.db "SELECT count(*) FROM members")" = 0 ] || fail "the other store's kiosk kept P1"
[ "$(hq_count hq SH-XH01 erasures_pending)" = 0 ] || fail "the other store's erasure is not confirmed"
[ "$(sqlite3 k1/kiosk.db "SELECT count(*) FROM members")" = 2 ] || fail "kiosk 1 holds $(sqlite3 k1/kiosk.db "SELECT count(*) FROM members") members, want 2"
for k in k1 k2 x1; do K $k verify-log >/dev/null || fail "$k's log does not verify"; done
# HQ verified every kiosk's chain on the uploads after the erasure: one
# more sign-up each, accepted.
for k in k1 k2; do
  K $k signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null || fail "sign-up at $k"
  kiosk_sync $k
done

[ "$(json_get "$(show "$P1")" found)" = False ] || fail "an erased person's data is still found"

# ---- no bytes left in the files ----------------------------------------------------------------
if [ "$HQ_BACKEND" = postgresql ]; then
  hq_dbq "CHECKPOINT" >/dev/null
  FILES=$(find "$PG_DIR/base" -type f)
else
  FILES="hq/hq.db $(ls hq/hq.db-wal 2>/dev/null || true)"
fi
# shellcheck disable=SC2086
python3 - "$S1" "$S3" "$SX" "$E1" "$E3" $FILES <<'PY' || fail "erased bytes remain in HQ's files"
import sys
secrets = [s.encode() for s in sys.argv[1:4]] + [bytes.fromhex(h) for h in sys.argv[4:6]]
bad = 0
for path in sys.argv[6:]:
    data = open(path, "rb").read()
    for i, s in enumerate(secrets):
        if s in data:
            print(f"secret {i} found in {path}", file=sys.stderr)
            bad = 1
sys.exit(bad)
PY
hq_stop hq
echo "PASS erase_hq ($HQ_BACKEND)"
