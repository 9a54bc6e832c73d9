#!/usr/bin/env bash
# test_feed_hq.sh — HQ's side of the feed (docs/PROTOCOL.md "Feed") with
# real kiosks enrolled over mutual TLS and curl holding each kiosk's
# certificate:
#   - kiosk 1 signs two shoppers up and syncs: kiosk 2 of the same store
#     reads them in a snapshot (member id, blind index, points; never a
#     phone or a sealed box), then the log from the snapshot's cursor;
#   - kiosk 1's check-in reaches kiosk 2 as a check-in entry; kiosk 1's
#     own entries are left out of its own pages;
#   - a kiosk of another store sees none of it;
#   - an erasure HQ is asked for becomes an erase entry, and the member
#     leaves snapshots; a kiosk that reads the feed gets no erasures in its
#     configuration document, one that never did still does; a request
#     from before the feed gets its erase entry when HQ starts;
#   - a kiosk's crafted sign-ups (a tag not a string, a control character,
#     points at the limit) do not stop any page;
#   - cursors HQ could not have written are 400 bad_cursor; no
#     certificate, no page.
# usage: test_feed_hq.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC; SQR_SLOW=1 under sanitizers)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
HQ_BACKEND=${2:-sqlite}
[ "$HQ_BACKEND" = postgresql ] && pg_start

hq_init hq SH-JA01 SH-XH01
hq_cheap_index hq
hq_start hq
URL=https://127.0.0.1:$HQ_PORT

# feed DIR CURSOR -> the page (status must be 200)
feed() {
  local out code
  out=$(curl -s --max-time 20 --cacert hq/hq-ca.crt --cert "$1/kiosk.crt" --key "$1/kiosk.key" \
    -w '\n%{http_code}' "$URL/v1/feed?after=$2")
  code=${out##*$'\n'}
  [ "$code" = 200 ] || fail "feed $1 after=$2: $code ${out%$'\n'*}"
  printf '%s' "${out%$'\n'*}"
}
feed_status() { # DIR CURSOR -> the HTTP status
  curl -s -o /dev/null --max-time 20 --cacert hq/hq-ca.crt --cert "$1/kiosk.crt" \
    --key "$1/kiosk.key" -w '%{http_code}' "$URL/v1/feed?after=$2"
}
# page_get PAGE EXPR: a python expression over the page `p`
page_get() { python3 -c 'import json,sys; p=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

kiosk_enrol k1 SH-JA01 1
kiosk_enrol k2 SH-JA01 2
kiosk_enrol x1 SH-XH01 1
P1=$(rand_phone)
P2=$(rand_phone)
while [ "$P2" = "$P1" ]; do P2=$(rand_phone); done
"$BIN_STOREQR" --db k1/kiosk.db signup --phone "$P1" --consent --age-confirmed >/dev/null || fail "sign-up 1"
"$BIN_STOREQR" --db k1/kiosk.db signup --phone "$P2" --consent --age-confirmed >/dev/null || fail "sign-up 2"
kiosk_sync k1
mapfile -t MIDS < <(kiosk_members k1/kiosk.db)
[ ${#MIDS[@]} = 2 ] || fail "kiosk 1 holds ${#MIDS[@]} sign-ups"

# ---- kiosk 2 reads the store's members ----------------------------------------------------------
SNAP=$(feed k2 0)
[ "$(page_get "$SNAP" 'p["snapshot"]')" = True ] || fail "after=0 is not a snapshot: $SNAP"
[ "$(page_get "$SNAP" 'sorted(e["member"] for e in p["entries"])')" = \
  "$(python3 -c 'import sys; print(sorted(sys.argv[1:]))' "${MIDS[@]}")" ] || fail "snapshot members: $SNAP"
[ "$(page_get "$SNAP" 'set((e["kind"], e["origin"]) for e in p["entries"])')" = \
  "{('member', 'SH-JA01/1')}" ] || fail "snapshot kinds/origin: $SNAP"
[ "$(page_get "$SNAP" 'all(len(e["blind"]) == 44 and e["state_seq"] >= 1 for e in p["entries"])')" = True ] ||
  fail "snapshot entries without blind index or state_seq: $SNAP"
# The blind index is the one the kiosk holds for the member.
B1=$(sqlite3 k1/kiosk.db "SELECT json_extract(payload, '\$.blind') FROM events WHERE type = 'signup' AND json_extract(payload, '\$.member') = '${MIDS[0]}'")
[ "$(page_get "$SNAP" "[e['blind'] for e in p['entries'] if e['member'] == '${MIDS[0]}'][0]")" = "$B1" ] ||
  fail "the snapshot's blind index is not the kiosk's"
for secret in "$P1" "$P2" sealed phone; do
  case "$SNAP" in *"$secret"*) fail "the feed carries '$secret'";; esac
done
NEXT=$(page_get "$SNAP" 'p["next"]')
# After the members, the erase entries up to the snapshot's head (none
# yet), then the log.
case "$NEXT" in e*) ;; *) fail "the snapshot's last page does not lead to its erasures: $NEXT";; esac
ERA=$(feed k2 "$NEXT")
[ "$(page_get "$ERA" 'len(p["entries"])')" = 0 ] || fail "erase entries from nowhere: $ERA"
NEXT=$(page_get "$ERA" 'p["next"]')
case "$NEXT" in l*) ;; *) fail "the snapshot's erasures do not lead to the log: $NEXT";; esac
LOG=$(feed k2 "$NEXT")
[ "$(page_get "$LOG" 'len(p["entries"])')" = 0 ] || fail "the log repeats the snapshot: $LOG"

# ---- a check-in at kiosk 1 reaches kiosk 2, not kiosk 1 -----------------------------------------
"$BIN_STOREQR" --db k1/kiosk.db checkin --phone "$P1" >/dev/null || fail "check-in"
kiosk_sync k1
LOG=$(feed k2 "$NEXT")
[ "$(page_get "$LOG" '[(e["kind"], e["member"], e["origin"], e["points"] > 0, e["streak"]) for e in p["entries"]]')" = \
  "[('checkin', '${MIDS[0]}', 'SH-JA01/1', True, 1)]" ] || fail "kiosk 2's log: $LOG"
OWN=$(feed k1 "$NEXT")
[ "$(page_get "$OWN" 'len(p["entries"])')" = 0 ] || fail "kiosk 1 is sent its own check-in: $OWN"
[ "$(page_get "$OWN" 'p["next"]')" = "$(page_get "$LOG" 'p["next"]')" ] ||
  fail "kiosk 1's cursor does not move past its own entries"
# A snapshot taken now includes the check-in in the member's state.
SNAP2=$(feed k2 0)
[ "$(page_get "$SNAP2" "[(e['last_day'] > 0, e['streak'], e['state_seq'] == $(page_get "$LOG" 'p["entries"][0]["seq"]')) for e in p['entries'] if e['member'] == '${MIDS[0]}'][0]")" = \
  "(True, 1, True)" ] || fail "the snapshot's member state: $SNAP2"

# ---- another store sees nothing -----------------------------------------------------------------
OTHER=$(feed x1 0)
[ "$(page_get "$OTHER" 'len(p["entries"])')" = 0 ] || fail "another store's kiosk sees members: $OTHER"
OTHER=$(feed x1 "$NEXT")
[ "$(page_get "$OTHER" 'len(p["entries"])')" = 0 ] || fail "another store's kiosk sees the log: $OTHER"

# ---- erasure ------------------------------------------------------------------------------------
hq_erase hq SH-JA01 "${MIDS[1]}" || fail "erase"
LOG=$(feed k2 "$NEXT")
[ "$(page_get "$LOG" '[(e["kind"], e["member"], e["origin"]) for e in p["entries"]][-1]')" = \
  "('erase', '${MIDS[1]}', 'hq')" ] || fail "no erase entry: $LOG"
[ "$(page_get "$LOG" "[e['kind'] for e in p['entries'] if e['member'] == '${MIDS[1]}']")" = "['erase']" ] ||
  fail "entries of the erased member remain: $LOG"
SNAP3=$(feed k2 0)
[ "$(page_get "$SNAP3" '[e["member"] for e in p["entries"]]')" = "['${MIDS[0]}']" ] ||
  fail "the erased member is still in snapshots: $SNAP3"

# ---- erasures travel in the feed, not in the document, for kiosks that read it -----------------
config_erasures() { # DIR -> the erasures of the kiosk's configuration document
  curl -s --max-time 20 --cacert hq/hq-ca.crt --cert "$1/kiosk.crt" --key "$1/kiosk.key" \
    "$URL/v1/config?since=0" | python3 -c 'import json,sys; print(json.load(sys.stdin)["erasures"])'
}
[ "$(config_erasures k2)" = "[]" ] || fail "a kiosk that reads the feed gets erasures in its document"
kiosk_enrol k4 SH-JA01 4 # never reads the feed
[ "$(config_erasures k4)" = "['${MIDS[1]}']" ] || fail "a kiosk from before the feed lost its erasures"
# A request from before the feed (no erase entry) gets one when HQ starts.
OLD=0123456789abcdef0123456789abcdef
if [ "$HQ_BACKEND" = postgresql ]; then
  psql -X -q "${HQ_DB_ARGS[1]}" -c "INSERT INTO erasures(store, member, requested_ms) VALUES('SH-JA01', '$OLD', 1)"
else
  sqlite3 -cmd '.timeout 10000' hq/hq.db "INSERT INTO erasures(store, member, requested_ms) VALUES('SH-JA01', '$OLD', 1)"
fi
hq_stop hq
hq_start hq
URL=https://127.0.0.1:$HQ_PORT
LOG=$(feed k2 "$NEXT")
[ "$(page_get "$LOG" '[(e["kind"], e["member"]) for e in p["entries"]][-1]')" = "('erase', '$OLD')" ] ||
  fail "no erase entry for a request from before the feed: $LOG"

# A kiosk starting from 0 after erasures: the snapshot leaves the erased
# members out and is followed by the erase entries up to its head (the
# kiosk may hold such a member from before it read the feed).
SNAP4=$(feed k4 0)
[ "$(page_get "$SNAP4" '[e["member"] for e in p["entries"]]')" = "['${MIDS[0]}']" ] ||
  fail "kiosk 4's snapshot: $SNAP4"
ERA=$(feed k4 "$(page_get "$SNAP4" 'p["next"]')")
[ "$(page_get "$ERA" '[(e["kind"], e["member"]) for e in p["entries"]]')" = \
  "[('erase', '${MIDS[1]}'), ('erase', '$OLD')]" ] || fail "kiosk 4's erase entries: $ERA"

# ---- a hostile kiosk cannot stop the store's feed --------------------------------------------------
# Events written straight into kiosk 1's log with a valid chain (what a
# kiosk's owner could do): a sign-up with a tag that is not a string, one
# whose staff holds a control character, one at the points limit with a
# check-in as large. HQ stores them all; the feed shares only what it can
# send, and clamps a total past the limit; a new kiosk's snapshot works.
X1=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1 X2=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2 X3=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3
python3 - k1/kiosk.db "$X1" "$X2" "$X3" <<'PY'
import base64, hashlib, json, sqlite3, struct, sys, time
db = sqlite3.connect(sys.argv[1])
x1, x2, x3 = sys.argv[2:5]
def signup(mid, n, tags, staff, points):
    return ["signup", {"member": mid, "sealed": "AQ==", "blind": base64.b64encode(bytes([n]) * 32).decode(),
                       "index_kind": 1, "consent_version": "2026-11", "tags": tags, "staff": staff,
                       "group": None, "points": points}]
events = [signup(x1, 1, [1], None, 0), signup(x3, 3, [], "a\x01b", 0),
          signup(x2, 2, [], None, 1000000000),
          ["checkin", {"member": x2, "day": 20795, "points": 1000000000, "streak": 1}]]
seq, prev = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
ts = int(time.time() * 1000)
for typ, payload in events:
    seq += 1; ts += 1
    body = json.dumps(payload, separators=(",", ":"))
    bh = hashlib.sha256(body.encode()).digest()
    prev = hashlib.sha256(prev + struct.pack(">q", seq) + typ.encode() + b"\0" + struct.pack(">q", ts) + bh).digest()
    db.execute("INSERT INTO events(seq, type, ts_ms, payload, body_hash, hash, redacted) VALUES(?,?,?,?,?,?,0)",
               (seq, typ, ts, body, bh, prev))
db.commit()
PY
"$BIN_SYNC" --once --db k1/kiosk.db --hq "$URL" >/dev/null 2>k1/sync.log || fail "hostile upload refused: $(cat k1/sync.log)"
kiosk_enrol k5 SH-JA01 5
SNAP5=$(feed k5 0)
[ "$(page_get "$SNAP5" 'sorted((e["member"], e["points"]) for e in p["entries"] if e["member"].startswith("aaaa"))')" = \
  "[('$X2', 1000000000)]" ] || fail "the feed shared what it cannot send, or did not clamp: $SNAP5"

# ---- refusals -----------------------------------------------------------------------------------
for bad in "" x l lx l-1 "l1.2" m5 "m5.zz" "m5.${MIDS[0]}x" L3 "l%20" 0x1 "l99999999999999999999" \
  e5 e5. e3.5 e5.x "e5.1.2"; do
  [ "$(feed_status k2 "$bad")" = 400 ] || fail "cursor '$bad' was not refused"
done
[ "$(curl -s -o /dev/null --max-time 20 --cacert hq/hq-ca.crt -w '%{http_code}' "$URL/v1/feed?after=0")" = 401 ] ||
  fail "a page without a certificate"
hq_stop hq
echo "PASS feed_hq ($HQ_BACKEND)"
