#!/usr/bin/env bash
# test_consent.sh — the marketing consent apart from the membership
# (issue 16, docs/PRIVACY.md), real kiosks and HQ over mutual TLS:
#   - a sign-up without the age confirmation records nothing; without the
#     marketing box it succeeds and records no marketing consent; with
#     it, a marketing_consent event that reaches HQ (consents table) and,
#     through the feed, the store's other kiosk;
#   - a withdrawal at a kiosk (for a member signed up at the other one)
#     reaches HQ and is applied to the person at every store: the other
#     store's consent of the same phone is withdrawn too, and every
#     kiosk of both stores learns it in one sync pass;
#   - a withdrawal asked of HQ (`storeqr-hq member withdraw --phone -`,
#     the admin route) reaches the store's kiosks; both are audited;
#   - bad input: a withdrawal for a number that is no member (kiosk and
#     HQ), a number in argv, no admin credential: refused, nothing
#     changed; later consents do not undo a withdrawal taken later;
#   - every kiosk's log still verifies.
# usage: test_consent.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC; SQR_SLOW=1 under sanitizers)
. "$(dirname "$0")/lib.sh"
hq_scene "${1:-/tmp}" "${2:-sqlite}" SH-JA01 SH-XH01
# the marketing consent version a kiosk holds for a member ("" none)
mk_of() { sqlite3 "$1/kiosk.db" "SELECT coalesce(marketing, '') FROM members WHERE mid = '$2'"; }
hq_mk() { hq_dbq "SELECT given || ':' || version FROM consents WHERE store = '$1' AND member = '$2'"; }

kiosk_enrol k1 SH-JA01 1
kiosk_enrol k2 SH-JA01 2
kiosk_enrol x1 SH-XH01 1
P1=$(rand_phone) P2=$(rand_phone) P3=$(rand_phone)

# ---- sign-ups -----------------------------------------------------------------------------------
K k1 signup --phone "$P1" --consent >/dev/null 2>&1 && fail "a sign-up without the age confirmation"
[ "$(sqlite3 k1/kiosk.db "SELECT count(*) FROM members")" = 0 ] || fail "the refused sign-up left a member"
OUT=$(K k1 signup --phone "$P1" --consent --age-confirmed --marketing) || fail "sign-up P1"
case "$OUT" in *"marketing: yes"*) ;; *) fail "P1's marketing consent not recorded: $OUT";; esac
OUT=$(K k1 signup --phone "$P2" --consent --age-confirmed) || fail "sign-up P2"
case "$OUT" in *"marketing: no"*) ;; *) fail "P2 has a marketing consent: $OUT";; esac
K k2 signup --phone "$P3" --consent --age-confirmed --marketing >/dev/null || fail "sign-up P3"
K x1 signup --phone "$P1" --consent --age-confirmed --marketing >/dev/null || fail "sign-up P1 at the other store"
[ "$(sqlite3 k1/kiosk.db "SELECT count(*) FROM events WHERE type = 'marketing_consent'")" = 1 ] ||
  fail "kiosk 1 recorded $(sqlite3 k1/kiosk.db "SELECT count(*) FROM events WHERE type = 'marketing_consent'") consents, want 1"
mapfile -t M < <(kiosk_members k1/kiosk.db)
M1=${M[0]} M2=${M[1]}
M3=$(kiosk_members k2/kiosk.db)
X1=$(kiosk_members x1/kiosk.db)
for k in k1 k2 x1 k1 k2; do kiosk_sync $k; done

V=$(mk_of k1 "$M1")
[ -n "$V" ] || fail "kiosk 1 holds no consent for P1"
[ "$(hq_mk SH-JA01 "$M1")" = "1:$V" ] || fail "HQ's consent of P1: $(hq_mk SH-JA01 "$M1")"
[ "$(hq_mk SH-JA01 "$M3")" = "1:$V" ] || fail "HQ's consent of P3: $(hq_mk SH-JA01 "$M3")"
[ "$(hq_mk SH-XH01 "$X1")" = "1:$V" ] || fail "HQ's consent of P1 at the other store"
[ -z "$(hq_mk SH-JA01 "$M2")" ] || fail "HQ records a consent P2 never gave"
# the store's other kiosk knows the members and their consents
[ "$(mk_of k2 "$M1")" = "$V" ] || fail "kiosk 2 does not know P1's consent: '$(mk_of k2 "$M1")'"
[ "$(mk_of k1 "$M3")" = "$V" ] || fail "kiosk 1 does not know P3's consent"
[ "$(mk_of k2 "$M2")" = "" ] || fail "kiosk 2 gives P2 a consent"

# ---- a withdrawal at kiosk 2 of a member signed up at kiosk 1 --------------------------------------
K k2 withdraw --phone 13700000000 >/dev/null 2>&1 && fail "a withdrawal for no member was taken"
OUT=$(K k2 withdraw --phone 13700000000 2>&1) || true; case "$OUT" in *"not a member"*) ;; *) fail "no clear error: $OUT";; esac
K k2 withdraw --phone "$P1" >/dev/null || fail "withdraw P1 at kiosk 2"
[ "$(mk_of k2 "$M1")" = "" ] || fail "kiosk 2 kept P1's consent"
kiosk_sync k2
[ "$(hq_mk SH-JA01 "$M1")" = "0:" ] || fail "HQ kept P1's consent: $(hq_mk SH-JA01 "$M1")"
[ "$(hq_mk SH-XH01 "$X1")" = "0:" ] || fail "the person's consent at the other store was not withdrawn"
for k in k1 x1; do kiosk_sync $k; done
[ "$(mk_of k1 "$M1")" = "" ] || fail "kiosk 1 kept P1's consent after one pass"
[ "$(mk_of x1 "$X1")" = "" ] || fail "the other store's kiosk kept P1's consent"
[ "$(mk_of k1 "$M3")" = "$V" ] || fail "P3's consent went too"
# A consent taken before the withdrawal, uploaded after it, does not undo it.
K k1 --now "$(( $(date +%s) - 3600 ))" signup --phone "$P1" --consent --age-confirmed --marketing >/dev/null ||
  fail "P1 ticks the box again (an hour ago)"
kiosk_sync k1
[ "$(hq_mk SH-JA01 "$M1")" = "0:" ] || fail "an older consent undid the withdrawal: $(hq_mk SH-JA01 "$M1")"

# ---- a withdrawal asked of HQ ---------------------------------------------------------------------
OUT=$(hq member withdraw --dir hq --phone - <<<"$P3") || fail "withdraw P3 at HQ: $OUT"
[ "$(json_get "$OUT" members)" = 1 ] || fail "HQ's withdrawal reached $(json_get "$OUT" members) members"
[ "$(hq_mk SH-JA01 "$M3")" = "0:" ] || fail "HQ did not record P3's withdrawal"
for k in k1 k2; do kiosk_sync $k; done
[ "$(mk_of k1 "$M3")" = "" ] || fail "kiosk 1 kept P3's consent"
[ "$(mk_of k2 "$M3")" = "" ] || fail "kiosk 2 kept P3's consent"
hq member withdraw --dir hq --phone - <<<"13700000000" >/dev/null 2>&1 && fail "HQ withdrew for no member"
hq member withdraw --dir hq --phone "$P2" </dev/null >/dev/null 2>&1 && fail "a number in argv was taken"
ADMIN=(curl -s --max-time 20 --cacert hq/hq-ca.crt -H "Authorization: Bearer $(cat hq/admin.token)")
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 --cacert hq/hq-ca.crt -d "{\"phone\":\"$P2\"}" "$URL/v1/admin/member-withdraw")" = 401 ] ||
  fail "a withdrawal without the admin credential"
[ "$("${ADMIN[@]}" -o /dev/null -w '%{http_code}' -d '{"phone":"13700000000"}' "$URL/v1/admin/member-withdraw")" = 404 ] ||
  fail "the route withdrew for no member"
[ -z "$(hq_mk SH-JA01 "$M2")" ] || fail "a refused request changed P2"
OUT=$("${ADMIN[@]}" -d "{\"phone\":\"$P2\"}" "$URL/v1/admin/member-withdraw")
[ "$(json_get "$OUT" status)" = withdrawn ] || fail "the admin route: $OUT"
[ "$(hq_mk SH-JA01 "$M2")" = "0:" ] || fail "the admin route recorded nothing"
[ "$(hq_dbq "SELECT count(*) FROM audit_log WHERE what = 'member_withdraw'")" = 4 ] ||
  fail "$(hq_dbq "SELECT count(*) FROM audit_log WHERE what = 'member_withdraw'") withdrawals audited, want 4"
OUT=$(hq member show --dir hq --phone - <<<"$P1") || fail "member show"
python3 - "$OUT" <<'PY' || fail "P1's data does not show the withdrawal: $OUT"
import json, sys
d = json.loads(sys.argv[1])
assert len(d["stores"]) == 2 and all(s["marketing"]["current"] is False for s in d["stores"]), d
PY
# A consent at another store taken before a withdrawal and uploaded after
# it (that store's kiosk was offline) is not current either.
P6=$(rand_phone)
K k1 signup --phone "$P6" --consent --age-confirmed --marketing >/dev/null || fail "sign-up P6"
K x1 --now "$(( $(date +%s) - 3600 ))" signup --phone "$P6" --consent --age-confirmed --marketing >/dev/null ||
  fail "sign-up P6 at the other store, an hour ago, offline"
kiosk_sync k1
K k1 withdraw --phone "$P6" >/dev/null || fail "withdraw P6"
kiosk_sync k1
kiosk_sync x1
OUT=$(hq member show --dir hq --phone - <<<"$P6") || fail "member show P6"
python3 - "$OUT" <<'PY' || fail "P6's late consent elsewhere counts as current: $OUT"
import json, sys
d = json.loads(sys.argv[1])
assert len(d["stores"]) == 2 and all(s["marketing"]["current"] is False for s in d["stores"]), d
PY
# The same, the other way round: the withdrawal comes first, before HQ
# knows the person at the other store; that store's member is linked to
# the phone later, and then its kiosk's tick, taken before the
# withdrawal, is uploaded: HQ records it withdrawn and tells that kiosk,
# in the same pass.
P7=$(rand_phone) NOW=$(date +%s)
K k1 signup --phone "$P7" --consent --age-confirmed --marketing >/dev/null || fail "sign-up P7"
kiosk_sync k1
K k1 withdraw --phone "$P7" >/dev/null || fail "withdraw P7"
kiosk_sync k1
K x1 --now $((NOW - 7200)) signup --phone "$P7" --consent --age-confirmed >/dev/null ||
  fail "sign-up P7 at the other store, two hours ago"
X7=$(sqlite3 x1/kiosk.db "SELECT mid FROM members ORDER BY id DESC LIMIT 1")
kiosk_sync x1
hq member show --dir hq --phone - <<<"$P7" >/dev/null || fail "member show P7" # both linked now
K x1 --now $((NOW - 3600)) signup --phone "$P7" --consent --age-confirmed --marketing >/dev/null ||
  fail "P7 ticks the box at the other store, an hour ago"
[ -n "$(mk_of x1 "$X7")" ] || fail "the other store's kiosk did not take the tick"
kiosk_sync x1
[ "$(hq_mk SH-XH01 "$X7")" = "0:" ] || fail "HQ recorded a consent older than the withdrawal: $(hq_mk SH-XH01 "$X7")"
[ "$(mk_of x1 "$X7")" = "" ] || fail "the other store's kiosk still shows P7 subscribed"
for k in k1 k2 x1; do K $k verify-log >/dev/null || fail "$k's log does not verify"; done
hq_stop hq
echo "PASS consent ($HQ_BACKEND)"
