#!/usr/bin/env bash
# test_stolen.sh — a stolen kiosk forges nothing, and its replacement syncs
# (docs/PROTOCOL.md "Identity and keys", docs/ARCHITECTURE.md "Threat
# model: a stolen kiosk"). Two real HQ processes on one database, a real
# kiosk enrolled over mutual TLS:
#   - a copy of the kiosk's database is taken; HQ revokes the kiosk (a
#     third process, the operator's command), and both HQ processes refuse
#     its tokens within 2 s;
#   - the thief mints from the copy, with its own HMAC code written from
#     the documented format (not our C): now, +1 h, +30 days, and naming
#     every other kiosk number; each is refused, and a retired_token alert
#     is recorded once;
#   - a coupon the kiosk issued and reported before the theft is honoured;
#     one minted from the copy afterwards is refused, as is a typo;
#   - the copy's certificate cannot upload;
#   - the replacement box enrolled as the same kiosk number is the next
#     incarnation (SH-JA01/1@2): it uploads from seq 1, HQ keeps the old
#     incarnation's events, its tokens verify, and its first coupon (serial 1
#     again) is a different code that HQ honours;
#   - rotation: a version 90 days old is replaced in the next document;
#     both versions scan until the kiosk reports the new one and the
#     overlap ends, then only the new one.
# usage: test_stolen.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC; SQR_SLOW=1 under sanitizers)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
HQ_BACKEND=${2:-sqlite}
[ "$HQ_BACKEND" = postgresql ] && pg_start

mkdir -p hq
"$BIN_HQ" init hq --host 127.0.0.1 >/dev/null || fail "init"
# An all-day welcome coupon, and a cheap blind index (its cost is
# bench-core's business, not this test's).
cat >hq/store-template.json <<'EOF'
{"mode":"hq","rotation":{"period_s":30,"skew":1},
 "group_policy":{"reserve":10,"expiry_margin_s":43200},
 "campaigns":[{"id":"allday","start":"00:00","end":"24:00","text":{"zh":"会员日"},
   "coupon":{"number":3,"title":{"zh":"入会礼"}}}],
 "staff":[],"tags":[],"consent":{"version":"2026-11","text":{"zh":"同意"}},
 "keys":{"index":{"m_kib":64,"t":1,"p":1}}}
EOF
hq store add --dir hq --id SH-JA01 --name 静安寺店 --city 上海 >/dev/null || fail "store add"
hq group add --dir hq --store SH-JA01 --id ja-1 --name 1群 --link https://weixin.qq.com/g/ja-1 \
  --capacity 200 >/dev/null || fail "group add"
hq_start hq
PORT_A=$HQ_PORT PID_A=$HQ_PID
hq_start hq
PORT_B=$HQ_PORT PID_B=$HQ_PID
URL=https://127.0.0.1:$PORT_A
echo "HQ on ports $PORT_A and $PORT_B ($HQ_BACKEND)"
C=(curl -s --max-time 20 --cacert hq/hq-ca.crt)
status() { "${C[@]}" -o /dev/null -w '%{http_code}' "$@"; }
dbq() {
  if [ "$HQ_BACKEND" = postgresql ]; then psql -X -q -At "${HQ_DB_ARGS[1]}" -c "$1"
  else sqlite3 -cmd '.timeout 10000' hq/hq.db "$1"; fi
}
coupon_of() { sed -n 's/^coupon: \([A-Z2-7-]*\).*/\1/p'; }
verify_coupon() { hq coupon verify --dir hq --store SH-JA01 "$1"; }

# ---- the genuine kiosk ---------------------------------------------------------------------------
mkdir k
"$BIN_STOREQR" --db k/kiosk.db init >/dev/null
"$BIN_SYNC" enroll --db k/kiosk.db --hq "$URL" --code "$(hq_code hq SH-JA01 1)" --ca hq/hq-ca.crt \
  >/dev/null || fail "enrol"
COUPON1=$("$BIN_STOREQR" --db k/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed | coupon_of)
[ -n "$COUPON1" ] || fail "the sign-up gave no coupon"
"$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>sync.log || fail "sync: $(cat sync.log)"
TOKEN=$("$BIN_STOREQR" --db k/kiosk.db token mint | head -1)
for port in $PORT_A $PORT_B; do
  [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$TOKEN")" = 200 ] || fail "genuine token refused on $port"
done
verify_coupon "$COUPON1" >/dev/null || fail "a coupon HQ holds was refused"

# ---- the theft -------------------------------------------------------------------------------
mkdir thief
sqlite3 k/kiosk.db ".backup thief/kiosk.db" || fail "copy"
cp k/kiosk.key k/kiosk.crt k/hq-ca.crt thief/
# What the thief reads out of the copy: never the store key.
sqlite3 thief/kiosk.db "SELECT json FROM config ORDER BY version DESC LIMIT 1" >thief/config.json
grep -q store_key thief/config.json && fail "the kiosk holds the store key"

# thief_mint KIOSK AT: a token in the documented format (PROTOCOL.md), with
# the key found in the copy: HMAC-SHA256(token_key, "SQR-T1" | store | 0 |
# payload)[0..8), Base32.
thief_mint() {
  python3 - "$1" "$2" <<'PY'
import base64, hashlib, hmac, json, struct, sys
cfg = json.load(open("thief/config.json"))
key = base64.b64decode(cfg["keys"]["token_key"])
payload = struct.pack(">BHI", cfg["keys"]["version"], int(sys.argv[1]), int(sys.argv[2]) // 30)
mac = hmac.new(key, b"SQR-T1" + cfg["store"]["id"].encode() + b"\0" + payload, hashlib.sha256)
print(base64.b32encode(payload + mac.digest()[:8]).decode())
PY
}
NOW=$(date +%s)
[ "$(thief_mint 1 "$NOW")" = "$("$BIN_STOREQR" --db k/kiosk.db token mint --at "$NOW" | head -1)" ] ||
  fail "the thief's mint does not follow the documented format"
[ "$(status "$URL/J/SH-JA01/$(thief_mint 1 "$NOW")")" = 200 ] || fail "before revocation the copy's token works"
# Even before revocation, the copy speaks for no other kiosk number.
for n in 2 3 65535; do
  [ "$(status "$URL/J/SH-JA01/$(thief_mint $n "$NOW")")" = 403 ] || fail "kiosk $n minted by kiosk 1's key"
done

# ---- revocation reaches both HQ processes within 2 s -----------------------------------------
hq_revoke hq SH-JA01 1 || fail "revoke"
t0=$(date +%s%N)
limit=2000; [ -n "${SQR_SLOW:-}" ] && limit=8000
worst=0
for port in $PORT_A $PORT_B; do
  while :; do
    t=$(( ($(date +%s%N) - t0) / 1000000 )) # before the request that may be refused
    [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$(thief_mint 1 "$(date +%s)")")" = 403 ] && break
    [ "$t" -lt $limit ] || fail "port $port still takes the revoked kiosk's tokens after $t ms"
    sleep 0.05
  done
  [ "$t" -gt "$worst" ] && worst=$t
done
echo "revocation reached both processes within $worst ms"
NOW=$(date +%s)
for at in "$NOW" $((NOW + 3600)) $((NOW + 30 * 86400)) $((NOW - 30)); do
  for port in $PORT_A $PORT_B; do
    [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$(thief_mint 1 "$at")")" = 403 ] ||
      fail "a copy's token for $at accepted on $port"
  done
done
for n in 2 3 65535; do
  [ "$(status "$URL/J/SH-JA01/$(thief_mint $n "$NOW")")" = 403 ] || fail "kiosk $n accepted after revocation"
done
# One alert per kiosk per hour, however many scans: from both processes.
for _ in $(seq 50); do [ "$(dbq "SELECT COUNT(*) FROM alerts WHERE kind = 'retired_token'")" -ge 1 ] && break; sleep 0.1; done
[ "$(dbq "SELECT COUNT(*) FROM alerts WHERE kind = 'retired_token' AND kiosk = 'SH-JA01/1'")" = 1 ] ||
  fail "retired_token alerts: $(dbq "SELECT kiosk || ' ' || kind FROM alerts")"

# People see it: /metrics counts it by kind and the dashboard lists it.
AUTH=(-H "Authorization: Bearer $(cat hq/admin.token)")
# (retried briefly: a scrape that could not read the database answers
# without its series, storage_up 0; the row is committed by now)
for _ in $(seq 30); do
  m=$("${C[@]}" "${AUTH[@]}" "$URL/metrics")
  grep -q '^storeqr_hq_alerts_total{kind="retired_token"} 1$' <<<"$m" && break
  sleep 0.2
done
grep -q '^storeqr_hq_alerts_total{kind="retired_token"} 1$' <<<"$m" ||
  fail "/metrics does not count the retired_token alert: $(grep -e '^storeqr_hq_alerts_total' -e '^storeqr_hq_storage_up' <<<"$m" | tr '\n' ' ') alerts: $(dbq "SELECT kiosk || ' ' || kind FROM alerts" | tr '\n' ' ') log: $(grep -i -e error -e metrics hq/hq.log | tail -3)"
"${C[@]}" "${AUTH[@]}" "$URL/dash" | grep -q 'retired_token' || fail "/dash does not show the retired_token alert"

# Coupons: the one reported before the theft stands; one minted from the
# copy afterwards, and a typo, do not.
verify_coupon "$COUPON1" >/dev/null || fail "a coupon reported before the revocation was refused"
STOLEN=$("$BIN_STOREQR" --db thief/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed | coupon_of)
[ -n "$STOLEN" ] || fail "the copy issued no coupon"
out=$(verify_coupon "$STOLEN") && fail "a coupon minted from the copy was honoured: $out"
echo "$out" | grep -q '"valid":false' || fail "refusal not said: $out"
TYPO=${COUPON1:0:22}$([ "${COUPON1:22:1}" = A ] && echo B || echo A)
verify_coupon "$TYPO" >/dev/null && fail "a mistyped coupon was honoured"
# The copy cannot upload.
"$BIN_SYNC" --once --db thief/kiosk.db >/dev/null 2>thief.log && fail "the copy uploaded"
grep -q certificate thief.log || fail "the copy's refusal does not name the certificate: $(cat thief.log)"

# ---- the replacement box: incarnation 2 ------------------------------------------------------
mkdir k2
"$BIN_STOREQR" --db k2/kiosk.db init >/dev/null
"$BIN_SYNC" enroll --db k2/kiosk.db --hq "https://127.0.0.1:$PORT_B" --code "$(hq_code hq SH-JA01 1)" \
  --ca hq/hq-ca.crt >/dev/null || fail "enrol the replacement"
[ "$(sqlite3 k2/kiosk.db "SELECT json_extract(json, '\$.kiosk.incarnation') FROM config ORDER BY version DESC LIMIT 1")" = 2 ] ||
  fail "the replacement is not incarnation 2"
COUPON2=$("$BIN_STOREQR" --db k2/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed | coupon_of)
[ -n "$COUPON2" ] && [ "$COUPON2" != "$COUPON1" ] || fail "the replacement repeated coupon $COUPON1"
"$BIN_STOREQR" --db k2/kiosk.db checkin --phone "$(rand_phone)" >/dev/null 2>&1 || true
"$BIN_SYNC" --once --db k2/kiosk.db >/dev/null 2>sync2.log || fail "the replacement cannot sync: $(cat sync2.log)"
read -r rows max acked < <(hq_events hq SH-JA01/1@2)
last=$(sqlite3 k2/kiosk.db "SELECT MAX(seq) FROM events")
[ "$acked" = "$last" ] && [ "$rows" = "$last" ] || fail "incarnation 2: HQ holds $rows rows, acked $acked, kiosk has $last"
read -r rows1 _ _ < <(hq_events hq SH-JA01/1)
[ "$rows1" -ge 2 ] || fail "HQ lost the first incarnation's events ($rows1)"
[ "$(dbq "SELECT COUNT(*) FROM alerts WHERE kind = 'chain_broken'")" = 0 ] || fail "chain_broken for a new incarnation"
TOKEN2=$("$BIN_STOREQR" --db k2/kiosk.db token mint | head -1)
for port in $PORT_A $PORT_B; do
  for _ in $(seq 40); do [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$TOKEN2")" = 200 ] && break; sleep 0.1; done
  [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$TOKEN2")" = 200 ] || fail "the replacement's token refused on $port"
done
verify_coupon "$COUPON2" >/dev/null || fail "the replacement's coupon refused"
verify_coupon "$COUPON1" >/dev/null || fail "the first incarnation's reported coupon refused after replacement"
# The old box, found again, stays out.
"$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>old.log && fail "the revoked box uploaded"

# ---- rotation: the next version, with an overlap -----------------------------------------------
# The replacement's version is 90 days old (as if): its next document
# carries the next version, both work until the kiosk reports it applied
# the new one, then the old one retires after the overlap.
key_version() { sqlite3 k2/kiosk.db "SELECT json_extract(json, '\$.keys.version') FROM config ORDER BY version DESC LIMIT 1"; }
V1=$(key_version)
dbq "UPDATE kiosk_keys SET created_ms = created_ms - $((91 * 86400000)) WHERE kiosk_id = 'SH-JA01/1@2'" >/dev/null
OLD_TOKEN=$("$BIN_STOREQR" --db k2/kiosk.db token mint | head -1)
"$BIN_SYNC" --once --db k2/kiosk.db >/dev/null 2>sync3.log || fail "sync after rotation: $(cat sync3.log)"
V2=$(key_version)
[ "$V2" -gt "$V1" ] || fail "no new key version after 90 days ($V1 -> $V2)"
NEW_TOKEN=$("$BIN_STOREQR" --db k2/kiosk.db token mint | head -1)
"$BIN_SYNC" --once --db k2/kiosk.db >/dev/null 2>sync4.log || fail "sync: $(cat sync4.log)"
[ "$(dbq "SELECT COUNT(*) FROM kiosk_keys WHERE kiosk_id = 'SH-JA01/1@2' AND version = $V1 AND retire_ms > $(date +%s)000")" = 1 ] ||
  fail "the old version does not retire after an overlap once the kiosk applied the new one"
for port in $PORT_A $PORT_B; do
  for t in "$OLD_TOKEN" "$NEW_TOKEN"; do
    ok=0
    for _ in $(seq 40); do [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$t")" = 200 ] && ok=1 && break; sleep 0.1; done
    [ $ok = 1 ] || fail "a token was refused during the overlap on $port"
  done
done
# The overlap ends (moved, as if 10 minutes passed; the version raised so
# both processes reload).
dbq "UPDATE kiosk_keys SET retire_ms = $(date +%s)000 - 1 WHERE kiosk_id = 'SH-JA01/1@2' AND version = $V1" >/dev/null
dbq "UPDATE stores SET config_version = config_version + 1 WHERE id = 'SH-JA01'" >/dev/null
for port in $PORT_A $PORT_B; do
  for _ in $(seq 40); do [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$OLD_TOKEN")" = 403 ] && break; sleep 0.1; done
  [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$OLD_TOKEN")" = 403 ] || fail "a rotated-out version still works on $port"
  [ "$(status "https://127.0.0.1:$port/J/SH-JA01/$NEW_TOKEN")" = 200 ] || fail "the new version refused on $port"
done

HQ_PID=$PID_A hq_stop hq
HQ_PID=$PID_B hq_stop hq
echo "PASS: stolen kiosk ($HQ_BACKEND)"
