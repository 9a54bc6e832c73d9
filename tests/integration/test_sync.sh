#!/usr/bin/env bash
# test_sync.sh — a kiosk and the real storeqr-hq over mutual TLS on
# 127.0.0.1. The kiosk enrols; sign-ups and check-ins recorded with
# `storeqr` reach HQ exactly once (HQ's counts = the kiosk's status); a
# group added at HQ reaches the kiosk; an erasure requested at HQ removes
# the member on the kiosk and its confirmation reaches HQ (and leaves the
# next config). Pruning acknowledged events past retention leaves a log
# that verifies and a kiosk HQ still accepts. Refused, with a clear error
# recorded on the kiosk: a used and an expired enrolment code, a
# certificate from another CA, a revoked kiosk, another store's
# certificate, an HQ certificate that is not the pinned CA's. The daemon stops at its bound and on SIGTERM.
# usage: test_sync.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC BIN_PROXY)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
HQ_BACKEND=${2:-sqlite}
[ "$HQ_BACKEND" = postgresql ] && pg_start
K=SH-JA01/1
hq_init hq SH-JA01 SH-XH02
hq_start hq
URL=https://127.0.0.1:$HQ_PORT
echo "HQ on $URL ($HQ_BACKEND)"

# last_error DB: the kiosk's recorded last error (storeqr status).
last_error() { { "$BIN_STOREQR" --db "$1" status 2>/dev/null || true; } | sed -n "s/^ *last error: //p"; }
# refused NAME EXPECTED_EXIT PATTERN DB CMD...: CMD exits EXPECTED_EXIT,
# says PATTERN on stderr, and the kiosk at DB records PATTERN.
refused() {
  local name=$1 want=$2 pat=$3 db=$4 rc=0; shift 4
  "$@" >/dev/null 2>"$name.err" || rc=$?
  [ "$rc" = "$want" ] || fail "$name: exit $rc, wanted $want: $(cat "$name.err")"
  grep -q -- "$pat" "$name.err" || fail "$name: no '$pat' in: $(cat "$name.err")"
  last_error "$db" | grep -q -- "$pat" || fail "$name: not recorded on the kiosk ($(last_error "$db"))"
  echo "$name: refused (exit $rc): $(grep -o "$pat.*" "$name.err" | head -1 | cut -c1-100)"
}

mkdir k
"$BIN_STOREQR" --db k/kiosk.db init >/dev/null
code=$(hq_code hq SH-JA01 1)
[ -n "$code" ] || fail "no enrolment code"
"$BIN_SYNC" enroll --db k/kiosk.db --hq "$URL" --code "$code" --ca hq/hq-ca.crt >/dev/null || fail "enrol"
[ "$(stat -c %a k/kiosk.key)" = 600 ] || fail "kiosk.key is not 0600"
[ "$(kiosk_json k/kiosk.db config_version)" -ge 1 ] || fail "no config after enrolment"
[ "$(kiosk_json k/kiosk.db store)" = SH-JA01 ] || fail "enrolled into the wrong store"

# Enrolment codes: one use, and not after they expire.
mkdir k2 && "$BIN_STOREQR" --db k2/kiosk.db init >/dev/null
refused used-code 1 code_used k2/kiosk.db \
  "$BIN_SYNC" enroll --db k2/kiosk.db --hq "$URL" --code "$code" --ca hq/hq-ca.crt
refused expired-code 1 code_expired k2/kiosk.db \
  "$BIN_SYNC" enroll --db k2/kiosk.db --hq "$URL" --code "$(hq_code hq SH-JA01 2 -1)" --ca hq/hq-ca.crt
[ ! -e k2/kiosk.crt ] || fail "a refused enrolment left a certificate"

phones=()
for i in $(seq 12); do
  p=$(rand_phone); phones+=("$p")
  "$BIN_STOREQR" --db k/kiosk.db signup --phone "$p" --consent --age-confirmed >/dev/null
done
for p in "${phones[@]:0:5}"; do "$BIN_STOREQR" --db k/kiosk.db checkin --phone "$p" >/dev/null; done
"$BIN_SYNC" --once --db k/kiosk.db --batch 5 >/dev/null 2>sync.log || fail "sync --once: $(cat sync.log)"
for p in "${phones[@]}"; do ! grep -q "$p" sync.log hq/hq.log || fail "a phone number reached a log"; done
last=$(kiosk_json k/kiosk.db last_seq)
read -r n mx acked < <(hq_events hq "$K")
[ "$(kiosk_json k/kiosk.db acked_seq)" = "$last" ] || fail "kiosk acked $(kiosk_json k/kiosk.db acked_seq) of $last"
[ "$n" = "$last" ] && [ "$mx" = "$last" ] && [ "$acked" = "$last" ] ||
  fail "HQ holds $n events up to $mx (acked $acked), kiosk has $last"
[ "$(hq_count hq SH-JA01 members)" = "$(kiosk_json k/kiosk.db members)" ] || fail "members differ"
[ "$(hq_count hq SH-JA01 signups)" = "$(kiosk_json k/kiosk.db members)" ] || fail "sign-ups differ"
[ "$(hq_count hq SH-JA01 signups)" = "$(kiosk_json k/kiosk.db signups_today)" ] || fail "sign-ups today differ"
[ "$(hq_count hq SH-JA01 checkins)" = "$(kiosk_json k/kiosk.db checkins_today)" ] || fail "check-ins differ"
[ "$(hq_count hq SH-JA01 checkins)" = 5 ] || fail "HQ counts $(hq_count hq SH-JA01 checkins) check-ins, not 5"
echo "upload: $last events, HQ holds $n (max seq $mx), 12 members, 5 check-ins"

# A second pass sends nothing new and HQ adds nothing.
"$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>&1 || fail "second sync"
read -r n2 _ < <(hq_events hq "$K")
[ "$n2" = "$(kiosk_json k/kiosk.db last_seq)" ] || fail "a second pass: HQ holds $n2 for $(kiosk_json k/kiosk.db last_seq)"

# A config change at HQ reaches the kiosk.
v=$(kiosk_json k/kiosk.db config_version)
hq_group_add hq SH-JA01 ja-new-1
"$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>&1 || fail "sync after group add"
"$BIN_STOREQR" --db k/kiosk.db status --json | grep -q '"ja-new-1"' || fail "new group did not arrive"
[ "$(kiosk_json k/kiosk.db config_version)" -gt "$v" ] || fail "config version did not move"

# Erasure: HQ asks, the kiosk removes the member and confirms with an
# event; once HQ holds it, the request leaves the configuration.
member=$(kiosk_members k/kiosk.db | sed -n 3p)
[ ${#member} = 32 ] || fail "no member id on the kiosk"
before=$(kiosk_json k/kiosk.db members)
hq_erase hq SH-JA01 "$member"
[ "$(hq_count hq SH-JA01 erasures_pending)" = 1 ] || fail "HQ did not record the erasure request"
"$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>&1 || fail "sync after erase request"
[ "$(kiosk_json k/kiosk.db members)" = $((before - 1)) ] || fail "member not erased on the kiosk"
"$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>&1 || fail "sync to confirm the erasure"
[ "$(hq_count hq SH-JA01 erasures_confirmed)" = 1 ] || fail "erasure not confirmed at HQ"
[ "$(hq_count hq SH-JA01 erasures_pending)" = 0 ] || fail "erasure still pending at HQ"
"$BIN_STOREQR" --db k/kiosk.db config show | grep -q "$member" && fail "the erasure is still in the kiosk's config"
# The pass that confirmed it applied the next config (a config_applied
# event after the upload): one more pass and HQ holds everything.
"$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>&1 || fail "sync after the erasure"
read -r n mx _ < <(hq_events hq "$K")
[ "$n" = "$(kiosk_json k/kiosk.db last_seq)" ] && [ "$mx" = "$n" ] ||
  fail "HQ holds $n events up to $mx after the erasure, kiosk $(kiosk_json k/kiosk.db last_seq)"
[ "$(hq_count hq SH-JA01 members)" = "$(kiosk_json k/kiosk.db members)" ] ||
  fail "after the erasure HQ links $(hq_count hq SH-JA01 members) members, the kiosk has $(kiosk_json k/kiosk.db members)"
echo "config and erasure: ok"

# Retention: a year on, the events HQ acknowledged go (all but the newest),
# the log still verifies from the anchor, and the next sign-up reaches HQ
# chained to what HQ holds.
last=$(kiosk_json k/kiosk.db last_seq)
"$BIN_STOREQR" --db k/kiosk.db --now $(( $(date +%s) + 366 * 86400 )) prune >prune.out ||
  fail "prune: $(cat prune.out)"
grep -q "pruned $((last - 1)) event(s); kept from seq $last" prune.out || fail "prune: $(cat prune.out)"
"$BIN_STOREQR" --db k/kiosk.db verify-log | grep -q "from seq $last (older pruned" ||
  fail "verify-log after pruning: $("$BIN_STOREQR" --db k/kiosk.db verify-log)"
"$BIN_STOREQR" --db k/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null
"$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>sync.log || fail "sync after pruning: $(cat sync.log)"
read -r n mx _ < <(hq_events hq "$K")
[ "$(kiosk_json k/kiosk.db acked_seq)" = "$(kiosk_json k/kiosk.db last_seq)" ] && [ "$mx" = "$n" ] &&
  [ "$n" = "$(kiosk_json k/kiosk.db last_seq)" ] ||
  fail "after pruning HQ holds $n events up to $mx, kiosk $(kiosk_json k/kiosk.db last_seq)"
echo "retention: pruned $((last - 1)) events, HQ still takes the next ones"

# A certificate from another CA (a second HQ's device CA) is refused.
mkdir other && "$BIN_HQ" init other --host 127.0.0.1 >/dev/null || fail "a second storeqr-hq init"
# init makes a missing directory (0700) and names a missing parent
"$BIN_HQ" init fresh --host 127.0.0.1 >/dev/null || fail "storeqr-hq init of a new directory"
[ "$(stat -c %a fresh)" = 700 ] || fail "init: the new directory is not 0700"
[ -f fresh/master.key ] || fail "init: no master.key in the new directory"
if "$BIN_HQ" init nowhere/deeper 2>init.err; then fail "init under a missing parent succeeded"; fi
grep -q "nowhere/deeper: cannot create the directory" init.err || fail "init: $(cat init.err)"
cp -r k kx
openssl ecparam -name prime256v1 -genkey -noout -out kx/kiosk.key 2>/dev/null
openssl req -new -key kx/kiosk.key -subj "/CN=SH-JA01\/1" -out kx.csr 2>/dev/null
openssl x509 -req -in kx.csr -CA other/device-ca.crt -CAkey other/device-ca.key -CAcreateserial \
  -days 2 -out kx/kiosk.crt 2>/dev/null || fail "signing with the other CA"
"$BIN_STOREQR" --db kx/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null
read -r nb _ < <(hq_events hq "$K")
refused other-ca 1 "certificate" kx/kiosk.db "$BIN_SYNC" --once --db kx/kiosk.db
read -r na _ < <(hq_events hq "$K")
[ "$na" = "$nb" ] || fail "HQ stored events from a foreign certificate"

# Another store's kiosk certificate, presented for this kiosk's events.
mkdir ky
"$BIN_STOREQR" --db ky/kiosk.db init >/dev/null
"$BIN_SYNC" enroll --db ky/kiosk.db --hq "$URL" --code "$(hq_code hq SH-XH02 1)" --ca hq/hq-ca.crt \
  >/dev/null || fail "enrol SH-XH02/1"
cp ky/kiosk.crt kx/kiosk.crt; cp ky/kiosk.key kx/kiosk.key
refused other-store 1 "wrong_kiosk" kx/kiosk.db "$BIN_SYNC" --once --db kx/kiosk.db
read -r na _ < <(hq_events hq "$K")
[ "$na" = "$nb" ] || fail "HQ stored events sent with another store's certificate"

# A revoked kiosk is refused.
hq_revoke hq SH-JA01 1
"$BIN_STOREQR" --db k/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null
refused revoked 1 "certificate: revoked" k/kiosk.db "$BIN_SYNC" --once --db k/kiosk.db

# HQ's CA is pinned: a server certificate from another CA is refused.
cp other/hq-ca.crt k/hq-ca.crt
refused unpinned-hq 1 "certificate" k/kiosk.db "$BIN_SYNC" --once --db k/kiosk.db

# The daemon is bounded: --max-runtime, and SIGTERM.
start=$(date +%s)
"$BIN_SYNC" --daemon --db ky/kiosk.db --hq "$URL" --interval 1 --max-runtime 2 2>/dev/null
[ $(( $(date +%s) - start )) -le 8 ] || fail "--max-runtime not honoured"
"$BIN_SYNC" --daemon --db ky/kiosk.db --hq "$URL" --interval 1 2>/dev/null & dp=$!
PIDS+=("$dp"); sleep 1; kill -TERM "$dp"
for _ in $(seq 50); do kill -0 "$dp" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$dp" 2>/dev/null || fail "daemon ignored SIGTERM"
hq_stop hq
echo "sync ($HQ_BACKEND): all checks passed"
