#!/usr/bin/env bash
# test_feed.sh — several kiosks in one store know the same members through
# HQ's feed (docs/PROTOCOL.md "Feed"), end to end: real kiosks, the real
# storeqr-sync, a real HQ over mutual TLS.
#   - a shopper signed up at kiosk 1 checks in at kiosk 2 after both sync;
#     kiosk 1 then shows the points of that check-in;
#   - the same member checked in at kiosks 1 and 2 on one day before they
#     synced (uploads in either order): HQ keeps kiosk 1's, the earlier;
#     kiosk 2 records checkin_voided, and all kiosks end with the same
#     points;
#   - HQ's figures count the kept check-ins only; each kiosk's group fill
#     is the store's sign-ups;
#   - a third kiosk enrolled later catches up from a snapshot;
#   - an erasure HQ is asked for removes a member kiosk 2 knows only
#     through the feed, and kiosk 2's confirmation reaches HQ in the same
#     pass;
#   - a kiosk whose first feed page never arrived still adds the other
#     kiosks' check-ins of its own members; an upload of 70 sign-ups;
#   - a kiosk of another store knows none of these members.
# usage: test_feed.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC; SQR_SLOW=1 under sanitizers)
. "$(dirname "$0")/lib.sh"
hq_scene "${1:-/tmp}" "${2:-sqlite}" SH-JA01 SH-XH01

# points DIR MID -> the member's balance at the kiosk
points() { sqlite3 "$1/kiosk.db" "SELECT points FROM members WHERE mid = '$2'"; }
members() { sqlite3 "$1/kiosk.db" "SELECT count(*) FROM members"; }

kiosk_enrol k1 SH-JA01 1
kiosk_enrol k2 SH-JA01 2
kiosk_enrol x1 SH-XH01 1
P1=$(rand_phone) P2=$(rand_phone) P3=$(rand_phone)
K k1 signup --phone "$P1" --consent --age-confirmed >/dev/null || fail "sign-up P1"
K k1 signup --phone "$P2" --consent --age-confirmed >/dev/null || fail "sign-up P2"
K k2 signup --phone "$P3" --consent --age-confirmed >/dev/null || fail "sign-up P3"
kiosk_sync k1
kiosk_sync k2
kiosk_sync k1
[ "$(members k1)" = 3 ] && [ "$(members k2)" = 3 ] || fail "members after syncs: k1 $(members k1), k2 $(members k2)"
mapfile -t M < <(kiosk_members k1/kiosk.db)
M1=${M[0]} M2=${M[1]}
M3=$(kiosk_members k2/kiosk.db)
# Group fill: the store's sign-ups as HQ knows them, plus the kiosk's own.
for k in k1 k2; do
  [ "$(sqlite3 $k/kiosk.db "SELECT joined FROM groups WHERE id = 'sh-ja01-1'")" = 3 ] ||
    fail "$k counts $(sqlite3 $k/kiosk.db "SELECT joined FROM groups WHERE id = 'sh-ja01-1'") joins, want 3"
done

# ---- signed up at kiosk 1, checked in at kiosk 2 -----------------------------------------------
BASE=$(points k1 "$M1")
K k2 checkin --phone "$P1" >/dev/null || fail "kiosk 2 does not know a member of kiosk 1"
AFTER=$(points k2 "$M1")
[ "$AFTER" -gt "$BASE" ] || fail "the check-in at kiosk 2 added nothing ($BASE -> $AFTER)"
kiosk_sync k2
kiosk_sync k1
[ "$(points k1 "$M1")" = "$AFTER" ] || fail "kiosk 1 shows $(points k1 "$M1") points, kiosk 2 $AFTER"
K k1 checkin --phone "$P1" >/dev/null 2>&1 && fail "a second check-in on one day at kiosk 1"

# ---- one check-in a day across the store -------------------------------------------------------
BASE=$(points k1 "$M2")
K k1 checkin --phone "$P2" >/dev/null || fail "check-in P2 at kiosk 1"
sleep 0.01
K k2 checkin --phone "$P2" >/dev/null || fail "check-in P2 at kiosk 2"
ONE=$(points k1 "$M2")
[ "$(points k2 "$M2")" = "$ONE" ] || fail "the two check-ins differ"
kiosk_sync k2 # the later check-in reaches HQ first: kept until kiosk 1's arrives
kiosk_sync k1
kiosk_sync k2
kiosk_sync k1
for k in k1 k2; do
  [ "$(points $k "$M2")" = "$ONE" ] || fail "$k shows $(points $k "$M2") points for P2, want $ONE"
done
[ "$(sqlite3 k2/kiosk.db "SELECT count(*) FROM events WHERE type = 'checkin_voided'")" = 1 ] ||
  fail "kiosk 2 recorded no checkin_voided"
# The other order: the earlier check-in reaches HQ first.
K k1 checkin --phone "$P3" >/dev/null || fail "check-in P3 at kiosk 1"
sleep 0.01
K k2 checkin --phone "$P3" >/dev/null || fail "check-in P3 at kiosk 2"
ONE3=$(points k1 "$M3")
kiosk_sync k1
kiosk_sync k2
kiosk_sync k1
for k in k1 k2; do
  [ "$(points $k "$M3")" = "$ONE3" ] || fail "$k shows $(points $k "$M3") points for P3, want $ONE3"
done
[ "$(sqlite3 k2/kiosk.db "SELECT count(*) FROM events WHERE type = 'checkin_voided'")" = 2 ] ||
  fail "kiosk 2 did not record its second voided check-in"
# HQ's figures count one check-in a member and day too: 5 accepted, 2 voided.
[ "$(hq_count hq SH-JA01 checkins)" = 3 ] || fail "HQ counts $(hq_count hq SH-JA01 checkins) check-ins, want 3"
[ "$(sqlite3 k1/kiosk.db "SELECT count(*) FROM events WHERE type = 'checkin_voided'")" = 0 ] ||
  fail "kiosk 1's kept check-in was voided"

# ---- a third kiosk catches up from a snapshot -------------------------------------------------
kiosk_enrol k3 SH-JA01 3
kiosk_sync k3
[ "$(members k3)" = 3 ] || fail "kiosk 3 knows $(members k3) members"
for m in "$M1" "$M2" "$M3"; do
  [ "$(points k3 "$m")" = "$(points k1 "$m")" ] || fail "kiosk 3 and kiosk 1 differ on a member"
done
K k3 checkin --phone "$P2" >/dev/null 2>&1 && fail "kiosk 3 let P2 check in twice on one day"

# ---- erasure of a member kiosk 2 knows only through the feed ------------------------------------
MID1=$M1
[ -n "$(sqlite3 k2/kiosk.db "SELECT 1 FROM members WHERE mid = '$MID1' AND sealed IS NULL")" ] ||
  fail "kiosk 2 does not hold kiosk 1's member as learned"
hq_erase hq SH-JA01 "$MID1"
kiosk_sync k2
[ -z "$(sqlite3 k2/kiosk.db "SELECT 1 FROM members WHERE mid = '$MID1'")" ] || fail "kiosk 2 kept the erased member"
[ "$(sqlite3 k2/kiosk.db "SELECT count(*) FROM events WHERE seq > (SELECT value FROM meta WHERE key = 'acked_seq')")" = 0 ] ||
  fail "kiosk 2's erase event did not reach HQ in the pass that applied it"
K k2 checkin --phone "$P1" >/dev/null 2>&1 && fail "an erased member checked in at kiosk 2"
kiosk_sync k3
[ "$(members k3)" = 2 ] || fail "kiosk 3 still holds $(members k3) members"

# ---- a kiosk whose first feed page never arrived ------------------------------------------------
# Its own member is shared already, and checked in at kiosk 2: starting
# again from 0 it must still add that check-in (HQ sends it the log, not a
# snapshot whose state would include it).
P4=$(rand_phone)
K k1 signup --phone "$P4" --consent --age-confirmed >/dev/null || fail "sign-up P4"
kiosk_sync k1
M4=$(kiosk_members k1/kiosk.db | tail -1)
sqlite3 k1/kiosk.db "DELETE FROM meta WHERE key = 'feed_cursor'"
kiosk_sync k2
K k2 checkin --phone "$P4" >/dev/null || fail "check-in P4 at kiosk 2"
kiosk_sync k2
kiosk_sync k1
[ "$(points k1 "$M4")" = "$(points k2 "$M4")" ] ||
  fail "kiosk 1 shows $(points k1 "$M4") points for its own member, kiosk 2 $(points k2 "$M4")"

# ---- an upload of 70 shared sign-ups (more than one multi-row statement) -------------------------
for i in $(seq 70); do K k2 signup --phone "$(printf '137%08d' "$i")" --consent --age-confirmed >/dev/null || fail "sign-up $i"; done
kiosk_sync k2
kiosk_sync k3
[ "$(members k3)" = $((3 + 70)) ] || fail "kiosk 3 holds $(members k3) members after 70 more"

# ---- another store ----------------------------------------------------------------------------
kiosk_sync x1
[ "$(members x1)" = 0 ] || fail "a kiosk of another store learned $(members x1) members"
hq_stop hq
echo "PASS feed ($HQ_BACKEND)"
