#!/usr/bin/env bash
# test_scaleout.sh — a chain's HQ as firmware/README.md "HQ behind a
# balancer" deploys it: three `storeqr-hq serve` on one PostgreSQL (fsync on),
# behind Debian's haproxy running firmware/hq/haproxy.cfg (TCP, PROXY v2,
# /readyz checks). Kiosks and phones use only the configured names: the
# kiosk name (https://127.0.0.1:LB, HQ's CA) and the public name
# (https://scan.test:LB, a certificate from another CA, chosen by SNI);
# no process's own port appears anywhere they are given.
#   - 20 kiosks in 5 stores enrol through the balancer (their enrolment
#     text names the kiosk URL) and sync sign-ups in rounds while one HQ
#     process is SIGKILLed and restarted and PostgreSQL is restarted:
#     every event reaches HQ exactly once (per kiosk: rows = last seq =
#     acknowledged seq), also with two syncs of one kiosk at once and a
#     copy of a kiosk's database syncing beside it; HQ's sign-up counts
#     equal the kiosks';
#   - each kiosk's configuration carries the two names, never a listen port;
#   - 500 scans of live codes at once through the balancer, by the public
#     name: no group past capacity - reserve, every shopper sent or shown
#     the staff contact, and every process answered some;
#   - 15 wrong passwords at once from one address through the balancer:
#     at most 5 checked, across the processes, and logged with that
#     address; it is locked, another address is not.
# Label slow: runs when SQR_SLOW_TESTS=1 (CI's slow pass), skips otherwise.
# usage: test_scaleout.sh TMPDIR   (env: BIN_HQ BIN_STOREQR BIN_SYNC, CONF)
. "$(dirname "$0")/lib.sh"
[ -n "${SQR_SLOW_TESTS:-}" ] || { echo "slow test: set SQR_SLOW_TESTS=1 to run it"; exit 77; }
command -v haproxy >/dev/null || { echo "haproxy missing (tools/deps/sync.txt)"; exit 1; }
command -v openssl >/dev/null || { echo "openssl missing"; exit 1; }
mk_tmp "${1:-/tmp}"
cd "$TMP"
PG_FSYNC=on pg_start
PG_PORT=$(sed -n 's|.*@127.0.0.1:\([0-9]*\)/.*|\1|p' <<<"${HQ_DB_ARGS[1]}")
dbq() { psql -X -q -At "${HQ_DB_ARGS[1]}" -c "$1"; }

LB=$(free_port)
KURL=https://127.0.0.1:$LB
PURL=https://scan.test:$LB
# The balancer connects from 127.0.0.3: the only address HQ takes a PROXY
# header from (and must get one from). Tests reach a process directly from
# 127.0.0.1 like any other client.
LB_SRC=127.0.0.3

# ---- HQ: keys, the public certificate, stores ------------------------------------------
mkdir -p hq
"$BIN_HQ" init hq --host 127.0.0.1 >/dev/null || fail "init"
AUTH=(-H "Authorization: Bearer $(cat hq/admin.token)")
public_cert pub || fail "the public certificate (openssl)"
cat >hq/store-template.json <<'EOF'
{"mode":"hq","rotation":{"period_s":30,"skew":1},
 "group_policy":{"reserve":10,"expiry_margin_s":43200,
   "fallback_link":"https://work.weixin.qq.com/ca/staff-contact"},
 "campaigns":[],"staff":[],"tags":[],"consent":{"version":"2026-11","text":{"zh":"同意"}},
 "keys":{"index":{"m_kib":64,"t":1,"p":1}}}
EOF
STORES=(SH-A01 SH-A02 BJ-B01 GZ-C01 SZ-D01)
for s in "${STORES[@]}"; do
  hq store add --dir hq --id "$s" --name "店 $s" --city 上海 >/dev/null || fail "store add $s"
  for g in 1 2 3; do
    hq group add --dir hq --store "$s" --id "${s,,}-$g" --name "$g群" \
      --link "https://weixin.qq.com/g/${s,,}-$g" --capacity 200 >/dev/null || fail "group add"
  done
done
PW=right-password-1
echo "$PW" | hq admin add --dir hq alice >/dev/null || fail "admin add"

HQ_SERVE_ARGS=(--kiosk-url "$KURL" --public-url "$PURL" --public-cert pub/scan.pem
  --public-key pub/scan.key --trusted-proxy "$LB_SRC")
PORTS=() HQ_PIDS=()
for _ in 1 2 3; do
  hq_start hq
  PORTS+=("$HQ_PORT") HQ_PIDS+=("$HQ_PID")
done
echo "HQ processes on ${PORTS[*]}; balancer on $LB; PostgreSQL on $PG_PORT (fsync on)"

# ---- the balancer: the shipped example, its CHANGE lines set for here --------------------
cp hq/hq-ca.crt lb-ca.crt
sed -e "s|^    bind :443 .*|    bind 127.0.0.1:$LB|" \
    -e "s|^    source 0.0.0.0 .*|    source $LB_SRC|" \
    -e "s|ca-file /etc/haproxy/storeqr-hq-ca.crt|ca-file $TMP/lb-ca.crt|" \
    -e "s|^    server hq1 .*|    server hq1 127.0.0.1:${PORTS[0]}|" \
    -e "s|^    server hq2 .*|    server hq2 127.0.0.1:${PORTS[1]}|" \
    -e "s|^    server hq3 .*|    server hq3 127.0.0.1:${PORTS[2]}|" \
    -e "s|inter 2s fall 3 rise 2|inter 500ms fall 3 rise 1|" \
    "$CONF" >lb.cfg
[ "$(grep -c -e "127.0.0.1:$LB" -e "source $LB_SRC" -e "$TMP/lb-ca.crt" -e 'server hq[123] 127.0.0.1:' lb.cfg)" = 6 ] ||
  fail "firmware/hq/haproxy.cfg changed shape: the test's substitutions no longer apply"
haproxy -c -q -f lb.cfg || fail "haproxy refuses the example"
haproxy -db -f lb.cfg >lb.log 2>&1 &
LB_PID=$!
PIDS+=("$LB_PID")
for _ in $(seq 100); do
  curl -s -o /dev/null --max-time 2 --cacert hq/hq-ca.crt "$KURL/healthz" && break
  sleep 0.1
done
# every process up in haproxy's eyes (its /readyz check, through PROXY + TLS)
for _ in $(seq 100); do
  up=0
  for p in "${PORTS[@]}"; do
    curl -s --max-time 2 --cacert hq/hq-ca.crt "${AUTH[@]}" "https://127.0.0.1:$p/metrics" |
      grep -q 'storeqr_hq_http_requests_total{route="/readyz",status="200"}' && up=$((up + 1))
  done
  [ "$up" = 3 ] && break
  sleep 0.2
done
[ "$up" = 3 ] || fail "the balancer's /readyz checks reach $up of 3 processes: $(tail -5 lb.log)"

K=(curl -s --max-time 30 --cacert hq/hq-ca.crt)                                  # a kiosk's view
P=(curl -s --max-time 30 --cacert pub/ca.pem --resolve "scan.test:$LB:127.0.0.1") # a phone's view
[ "$("${P[@]}" -o /dev/null -w '%{http_code}' "$PURL/healthz")" = 200 ] ||
  fail "the public name does not verify against the public CA (SNI)"
"${K[@]}" -o /dev/null --resolve "scan.test:$LB:127.0.0.1" "$PURL/healthz" &&
  fail "the public name answered with HQ's own certificate"

# ---- 20 kiosks in 5 stores enrol through the balancer -------------------------------------
KIOSKS=() KIDS=()
for s in "${STORES[@]}"; do
  for n in 1 2 3 4; do
    d=k-$s-$n
    mkdir "$d"
    "$BIN_STOREQR" --db "$d/kiosk.db" init >/dev/null || fail "kiosk init"
    out=$(STOREQR_HQ_KIOSK_URL=$KURL hq kiosk enroll-code --dir hq --store "$s" --kiosk "$n") ||
      fail "enroll-code: $out"
    grep -q "storeqr-enroll:$KURL#" <<<"$out" || fail "enrolment text without the kiosk URL: $out"
    code=$(sed -n 's/^code: //p' <<<"$out" | head -1)
    "$BIN_SYNC" enroll --db "$d/kiosk.db" --hq "$KURL" --code "$code" --ca hq/hq-ca.crt >/dev/null \
      2>"$d/enrol.log" || fail "enrol $d: $(cat "$d/enrol.log")"
    KIOSKS+=("$d") KIDS+=("$s/$n")
  done
done
echo "20 kiosks enrolled through the balancer"
for d in "${KIOSKS[@]}"; do
  cfg=$(sqlite3 "$d/kiosk.db" "SELECT json FROM config ORDER BY version DESC LIMIT 1")
  grep -q "\"url\": *\"$KURL\"" <<<"$cfg" || fail "$d: hq.url is not the kiosk URL"
  grep -q "\"resolver_host\": *\"scan.test:$LB\"" <<<"$cfg" || fail "$d: resolver_host is not the public name"
  for p in "${PORTS[@]}"; do grep -q ":$p\b" <<<"$cfg" && fail "$d: configuration names process port $p"; done
done

# ---- sign-ups synced in rounds while a process dies and PostgreSQL restarts ----------------
ROUNDS=6 PER_ROUND=3
kiosk_run() { # DIR: ROUNDS rounds of PER_ROUND sign-ups + a sync (retried)
  local d=$1 r i t
  for r in $(seq "$ROUNDS"); do
    for i in $(seq "$PER_ROUND"); do
      "$BIN_STOREQR" --db "$d/kiosk.db" signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null 2>&1 ||
        { echo "sign-up failed" >"$d/failed"; return 1; }
    done
    for t in $(seq 20); do
      "$BIN_SYNC" --once --db "$d/kiosk.db" >/dev/null 2>>"$d/sync.log" && break
      sleep 0.5
    done
  done
}
kp=()
for d in "${KIOSKS[@]}"; do kiosk_run "$d" & kp+=($!); done
sleep 2
kill -9 "${HQ_PIDS[1]}"; wait "${HQ_PIDS[1]}" 2>/dev/null || true
echo "SIGKILLed HQ process 2 (port ${PORTS[1]}) during the syncs"
sleep 1
hq_start hq "${PORTS[1]}"
HQ_PIDS[1]=$HQ_PID
sleep 1
as_pg "$PG_CTL" -D "$PG_DIR" -l "$TMP/pgsock/pg.log" -m fast -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $TMP/pgsock -c fsync=on" restart >/dev/null ||
  fail "pg_ctl restart"
echo "restarted PostgreSQL during the syncs"
wait "${kp[@]}"
ls k-*/failed >/dev/null 2>&1 && fail "a kiosk could not record: $(cat k-*/failed | head -1)"

# Two syncs of one kiosk at once, and the same kiosk from two copies of its
# database (one certificate, identical events): whatever process each
# lands on, HQ stores every event once.
for s in "${STORES[@]}"; do
  d=k-$s-1
  for i in 1 2 3; do "$BIN_STOREQR" --db "$d/kiosk.db" signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null; done
  mkdir "$d-twin"
  sqlite3 "$d/kiosk.db" ".backup $d-twin/kiosk.db" || fail "copy of $d"
  cp "$d"/kiosk.key "$d"/kiosk.crt "$d"/hq-ca.crt "$d-twin/"
  tp=()
  for db in "$d/kiosk.db" "$d/kiosk.db" "$d-twin/kiosk.db"; do
    "$BIN_SYNC" --once --db "$db" >/dev/null 2>>"$d/sync.log" & tp+=($!)
  done
  wait "${tp[@]}" || true # one of the two on the same database may find it busy
done
echo "two syncs at once per kiosk, and a copy of each store's first kiosk syncing beside it"
total=0
for k in "${!KIOSKS[@]}"; do
  d=${KIOSKS[$k]} id=${KIDS[$k]}
  # a last pass for a kiosk whose retries all met the outage
  "$BIN_SYNC" --once --db "$d/kiosk.db" >/dev/null 2>>"$d/sync.log" ||
    fail "$d cannot sync after the faults: $(tail -2 "$d/sync.log")"
  seq=$(sqlite3 "$d/kiosk.db" "SELECT MAX(seq) FROM events")
  read -r rows max acked <<<"$(hq_events hq "$id")"
  [ "$rows" = "$seq" ] && [ "$max" = "$seq" ] && [ "$acked" = "$seq" ] ||
    fail "$id: the kiosk has $seq events, HQ holds $rows rows up to $max, acknowledged $acked"
  total=$((total + seq))
done
dup=$(dbq "SELECT COUNT(*) FROM (SELECT kiosk, seq FROM events GROUP BY kiosk, seq HAVING COUNT(*) > 1) d")
[ "$dup" = 0 ] || fail "$dup events stored twice"
# every counter HQ shows equals the kiosks'
for s in "${STORES[@]}"; do
  want=0
  for n in 1 2 3 4; do
    want=$((want + $(sqlite3 "k-$s-$n/kiosk.db" "SELECT COUNT(*) FROM events WHERE type = 'signup'")))
  done
  [ "$(hq_count hq "$s" signups)" = "$want" ] || fail "$s: HQ counts $(hq_count hq "$s" signups) sign-ups, its kiosks $want"
done
echo "exactly once: $total events from 20 kiosks through a SIGKILL and a PostgreSQL restart"

# ---- 500 scans at once by the public name ------------------------------------------------
TOKURL=$("$BIN_STOREQR" --db "k-SH-A01-1/kiosk.db" token mint | sed -n 2p)
grep -q "^HTTPS://SCAN.TEST:$LB/J/SH-A01/" <<<"$TOKURL" || fail "the live code is $TOKURL, not on the public name"
path=${TOKURL#HTTPS://SCAN.TEST:$LB}
: >scan.cfg
for i in $(seq 0 499); do echo "url = \"$PURL$path\"" >>scan.cfg; echo "output = \"scan.$i\"" >>scan.cfg; done
"${P[@]}" -S --parallel --parallel-max 48 -K scan.cfg 2>curl.err || fail "the burst: $(tail -c 300 curl.err)"
links() { cat "$@" | grep -o 'id="join-link" class="btn" rel="noreferrer" href="[^"]*"' | sed 's/.*href="//; s/"$//'; }
sent=$(links scan.* | wc -l)
staff=$(cat scan.[0-9]* | { grep -o 'id="staff-qr"' || true; } | wc -l)
# The store's own sign-ups took seats too (each joined a group): room is
# 3 x (200 - 10) less those. A process may hold a few leased seats another
# cannot use until its next flush (1 s), so a few shoppers near the end
# may see the staff contact while seats remain; never more than a few.
joins=$(dbq "SELECT COUNT(*) FROM events WHERE store = 'SH-A01' AND type = 'signup'")
room=$((570 - joins)) want=$((570 - joins - 10))
[ "$want" -gt 495 ] && want=495
if [ "$sent" -lt "$want" ] || [ $((sent + staff)) != 500 ]; then
  # what each process saw, and where the seats were: says which rule turned shoppers away
  for p in "${PORTS[@]}"; do
    echo "process $p: $(curl -s --max-time 5 --cacert hq/hq-ca.crt "${AUTH[@]}" "https://127.0.0.1:$p/metrics" |
      grep -E '^storeqr_hq_(scans_total|resolve_)' | tr '\n' ' ')" >&2
  done
  echo "group_scans: $(dbq "SELECT grp || '=' || sent FROM group_scans WHERE store = 'SH-A01' ORDER BY grp" | tr '\n' ' ')" >&2
  echo "group_seats: $(dbq "SELECT grp || '=' || claimed FROM group_seats WHERE store = 'SH-A01' ORDER BY grp" | tr '\n' ' ')" >&2
  echo "seat_leases: $(dbq "SELECT grp || ':' || owner || '=' || seats FROM seat_leases WHERE store = 'SH-A01'" | tr '\n' ' ')" >&2
  grep -e error -e resolve -e seat hq/hq.log | tail -8 >&2 || true
  fail "500 scans: $sent sent to a group (room for $room), $staff to the staff contact"
fi
served=0
for p in "${PORTS[@]}"; do
  n=$(curl -s --max-time 5 --cacert hq/hq-ca.crt "${AUTH[@]}" "https://127.0.0.1:$p/metrics" |
      sed -n 's/^storeqr_hq_scans_total{outcome="sent"} //p')
  [ "${n:-0}" -gt 0 ] && served=$((served + 1))
done
[ "$served" = 3 ] || fail "only $served of 3 processes answered scans through the balancer"

# ---- the login lock sees each client's address ---------------------------------------------
login() { # INTERFACE PASSWORD -> status, through the balancer by the kiosk name
  "${K[@]}" -o /dev/null -w '%{http_code}' --interface "$1" -H "Origin: $KURL" \
    --data-urlencode "user=alice" --data-urlencode "password=$2" "$KURL/dash/login"
}
checked() { grep -c "failed login for an admin name from $1\b" hq/hq.log || true; }
lp=()
for i in $(seq 15); do login 127.0.0.2 "wrong-$i" >"login.$i" & lp+=($!); done
wait "${lp[@]}"
n=$(checked 127.0.0.2)
[ "$n" -ge 1 ] && [ "$n" -le 5 ] || fail "15 wrong passwords at once through the balancer: $n checked (1 to 5)"
[ "$(checked 127.0.0.3)" = 0 ] || fail "HQ logged the balancer's address for a login"
[ "$(login 127.0.0.2 "$PW")" = 429 ] || fail "127.0.0.2 not locked after 15 wrong passwords"
[ "$(login 127.0.0.1 "$PW")" = 303 ] ||
  fail "wrong passwords from 127.0.0.2 locked 127.0.0.1 out: HQ sees the balancer's address"
echo "login: 15 wrong passwords at once from 127.0.0.2 -> $n checked, then locked; 127.0.0.1 logs in"

# ---- stop: the counts reach the database; group fill within limits -----------------------
kill "$LB_PID" 2>/dev/null || true
hq_stop_all "${HQ_PIDS[@]}"
fill=$(dbq "SELECT grp || '=' || sent FROM group_scans WHERE store = 'SH-A01' ORDER BY grp" | tr '\n' ' ')
[ "$(dbq "SELECT COALESCE(SUM(sent), 0) FROM group_scans WHERE store = 'SH-A01'")" = "$sent" ] ||
  fail "the database holds $fill for $sent shoppers sent"
over=$(dbq "SELECT COUNT(*) FROM group_scans g WHERE g.sent + (SELECT COUNT(*) FROM events e
  WHERE e.store = g.store AND e.type = 'signup' AND e.payload LIKE '%\"group\":\"' || g.grp || '\"%') > 190")
[ "$over" = 0 ] || fail "$over group(s) past capacity - reserve (scans + sign-ups): $fill"
grep -q -e "ERROR: AddressSanitizer" -e "runtime error:" hq/hq.log && fail "sanitizer report from HQ"
echo "scans: 500 at once -> $fill; PASS scaleout"
