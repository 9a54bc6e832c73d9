#!/usr/bin/env bash
# proxy_test.sh HQ_BIN — HQ behind a load balancer that sends PROXY
# protocol v2 (--trusted-proxy, $STOREQR_HQ_TRUSTED_PROXY), against a real
# HQ over TLS on 127.0.0.1 (SQLite). HQ trusts 127.0.0.2; the balancers
# (proxy_peer.py, then real haproxy with send-proxy-v2 when installed)
# connect from there:
#   - a bad --trusted-proxy is refused with its reason (exit 2); the flag
#     wins over the environment; the trusted list is logged at start;
#   - six bad admin logins from client 192.0.2.7 lock 192.0.2.7 (429) and
#     not 192.0.2.8 nor 2001:db8::8 (IPv6), which log in; the lock is
#     recorded under the client's address, never the balancer's;
#   - the per-address connection limit counts clients, not the balancer;
#   - a LOCAL header (a health check) is served as the balancer itself;
#   - from the trusted address: no header (TLS at once), version 1 text,
#     garbage, an unspecified family or a length past 536 bytes are closed
#     at once; eight silent and a cut-short header at the 1 s deadline, all
#     together, while others are served without waiting; refusals are
#     counted in the log;
#   - clients not at a trusted address are served as before.
BIN_HQ=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$SRC/tests/integration/lib.sh"
PEER=$SRC/tests/hqweb/proxy_peer.py
mk_tmp
D=$TMP/hq
hq_init "$D" SH-JA01
PW=correct-horse-battery
echo "$PW" | hq admin add --dir "$D" alice >/dev/null || fail "admin add"

# ---- the list: refused when bad, the flag before the environment --------------------
for bad in 127.0.0.1, 10.0.0.1/8 localhost 10.0.0.0/33 ::1; do
  rc=0
  out=$(timeout 20 "$BIN_HQ" serve --dir "$D" --listen 127.0.0.1:0 --trusted-proxy "$bad" 2>&1) ||
    rc=$?
  [ "$rc" = 2 ] || fail "--trusted-proxy $bad: exit $rc (want 2)"
  grep -q -- "--trusted-proxy: " <<<"$out" || fail "--trusted-proxy $bad: no reason: $out"
done
out=$(STOREQR_HQ_TRUSTED_PROXY=nonsense timeout 20 "$BIN_HQ" serve --dir "$D" --listen 127.0.0.1:0 2>&1) &&
  fail "a bad STOREQR_HQ_TRUSTED_PROXY accepted"
grep -q "nonsense is not an IPv4 address" <<<"$out" || fail "STOREQR_HQ_TRUSTED_PROXY: $out"
echo "bad lists refused with their reason (exit 2)"
# storeqr-hq@.service passes hq.env's STOREQR_HQ_TRUSTED_PROXY, shipped empty
rc=0
out=$(timeout 20 "$BIN_HQ" serve --dir "$D" --listen 127.0.0.1:0 --trusted-proxy "" 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "set STOREQR_HQ_TRUSTED_PROXY in /etc/storeqr/hq.env" <<<"$out" ||
  fail "an empty --trusted-proxy: exit $rc: $out"
# behind a balancer the listen address must never be handed out
rc=0
out=$(timeout 20 "$BIN_HQ" serve --dir "$D" --listen 127.0.0.1:0 --trusted-proxy 127.0.0.2 \
  --kiosk-url https://hq.test 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "behind a balancer (--trusted-proxy) kiosks and phones must be given" <<<"$out" ||
  fail "--trusted-proxy without the public names: exit $rc: $out"
echo "an empty list, and a balancer without the names, refused (exit 2)"


# The flag wins over the environment (here a bad list: it would stop HQ).
# SQR_HQ_PER_ADDRESS=3 for the per-client connection limit below.
rm -f "$D/port"
STOREQR_HQ_TRUSTED_PROXY=nonsense SQR_HQ_PER_ADDRESS=3 "$BIN_HQ" serve --dir "$D" \
  --listen 127.0.0.1:0 --port-file "$D/port" --trusted-proxy 127.0.0.2 \
  --kiosk-url https://hq.test --public-url https://scan.test 2>>"$D/hq.log" &
HQ_PID=$!
PIDS+=("$HQ_PID")
wait_file "$D/port"
HQ_PORT=$(cat "$D/port")
BASE=https://127.0.0.1:$HQ_PORT
C=(curl -s --max-time 10 --cacert "$D/hq-ca.crt")
for _ in $(seq 100); do "${C[@]}" -o /dev/null "$BASE/healthz" && break; sleep 0.1; done
grep -q "trusted proxies (a PROXY v2 header required from them): 127.0.0.2" "$D/hq.log" ||
  fail "the trusted list is not logged: $(tail -3 "$D/hq.log")"
echo "--trusted-proxy 127.0.0.2 taken over a bad \$STOREQR_HQ_TRUSTED_PROXY, and logged"

# ---- balancers: one port per client address --------------------------------------
python3 "$PEER" relay "$HQ_PORT" "$TMP/ports" 192.0.2.7 192.0.2.8 2001:db8::8 local &
PIDS+=($!)
wait_file "$TMP/ports"
mapfile -t P <"$TMP/ports"
via() { echo "https://127.0.0.1:${P[$1]}"; } # INDEX -> the URL through that port
status() { "${C[@]}" -o /dev/null -w '%{http_code}' "$@" || true; }
[ "$(status "$(via 0)/healthz")" = 200 ] || fail "no answer through the balancer"
[ "$(status "$(via 3)/healthz")" = 200 ] || fail "a LOCAL header (health check) not served"
[ "$(status "$BASE/healthz")" = 200 ] || fail "a client not behind the balancer not served"

# ---- the login lock sees the client, not the balancer -----------------------------
login() { # BASE USER PASSWORD [curl args...] -> status (Origin: BASE, as its Host)
  local b=$1 u=$2 p=$3
  shift 3
  "${C[@]}" -o /dev/null -w '%{http_code}' -H "Origin: $b" --data-urlencode "user=$u" \
    --data-urlencode "password=$p" "$@" "$b/dash/login" || true
}
for i in 1 2 3 4 5; do
  [ "$(login "$(via 0)" alice "wrong-$i")" = 401 ] || fail "bad login $i from 192.0.2.7 not 401"
done
[ "$(login "$(via 0)" alice "wrong-6")" = 429 ] || fail "192.0.2.7 not locked after 5 failures"
[ "$(login "$(via 0)" alice "$PW")" = 429 ] || fail "192.0.2.7 let in while locked"
[ "$(login "$(via 1)" alice "$PW")" = 303 ] || fail "192.0.2.8 locked by 192.0.2.7's failures"
[ "$(login "$(via 2)" alice "$PW")" = 303 ] || fail "2001:db8::8 locked by 192.0.2.7's failures"
keys=$(sqlite3 -cmd '.timeout 10000' "$D/hq.db" "SELECT k FROM login_failures ORDER BY k" | tr '\n' ' ')
grep -q "ip:192.0.2.7 " <<<"$keys" || fail "no lock under ip:192.0.2.7: $keys"
grep -q "ip:127\." <<<"$keys" && fail "a failure counted under the balancer's address: $keys"
# a LOCAL header (the balancer's health check) counts as the balancer
[ "$(login "$(via 3)" alice "wrong-local")" = 401 ] || fail "a bad login after a LOCAL header"
[ "$(sqlite3 -cmd '.timeout 10000' "$D/hq.db" "SELECT failures FROM login_failures WHERE k = 'ip:127.0.0.2'")" = 1 ] ||
  fail "a LOCAL header's connection not seen as the balancer's"
echo "six bad logins from 192.0.2.7 lock it (429); 192.0.2.8 and 2001:db8::8 log in; LOCAL is 127.0.0.2"

# ---- the per-address connection limit counts clients ------------------------------
# three connections held open by 192.0.2.7 (SQR_HQ_PER_ADDRESS=3); a fourth
# from it is closed, one from 192.0.2.8 is served
timeout 30 python3 - "${P[0]}" "${P[1]}" "$D/hq-ca.crt" <<'PYEOF' || fail "per-address limit"
import socket, ssl, sys
p7, p8, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
def conn(port):
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5))
def get(t):
    t.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    return t.recv(4096)
held = [conn(p7) for _ in range(3)]
for t in held:
    assert get(t).startswith(b"HTTP/1.1 200"), "a held connection not served"
try:
    got = get(conn(p7))
except (OSError, ssl.SSLError):
    got = b""
assert not got, "a fourth connection from 192.0.2.7 served: %r" % got[:40]
assert get(conn(p8)).startswith(b"HTTP/1.1 200"), "192.0.2.8 refused beside 192.0.2.7's three"
PYEOF
echo "per-address limit: 192.0.2.7's fourth connection closed, 192.0.2.8 served"

# ---- from the trusted address, anything but a header is closed --------------------
timeout 60 python3 "$PEER" bad "$HQ_PORT" tls v1 garbage oversized unspec >"$TMP/bad" || fail "bad"
sed -i '/^connected$/d' "$TMP/bad"
while read -r kind t; do
  [ "$t" != open ] && awk -v t="$t" 'BEGIN { exit !(t < 0.5) }' ||
    fail "$kind from the trusted address: closed after $t s (want at once)"
done <"$TMP/bad"
[ "$(wc -l <"$TMP/bad")" = 5 ] || fail "bad: $(cat "$TMP/bad")"
# a real client there, without a balancer: its TLS never starts
"${C[@]}" --interface 127.0.0.2 -o /dev/null "$BASE/healthz" &&
  fail "the trusted address served without a header"
# eight silent connections and one cut short: each closed at the 1 s
# deadline, all at once; meanwhile others are served as usual (the accept
# thread waits for no one header)
timeout 20 python3 "$PEER" bad "$HQ_PORT" silent >"$TMP/silent" &
SP=$!
timeout 20 python3 "$PEER" bad "$HQ_PORT" truncated >"$TMP/truncated" &
TP=$!
for f in silent truncated; do
  for _ in $(seq 200); do grep -q connected "$TMP/$f" && break; sleep 0.05; done
  grep -q connected "$TMP/$f" || fail "$f: not connected"
done
t0=$(date +%s%N)
[ "$(status "$BASE/healthz")" = 200 ] || fail "a direct client not served during a silent balancer"
[ "$(status "$(via 1)/healthz")" = 200 ] || fail "the balancer not served during a silent one"
ms=$((($(date +%s%N) - t0) / 1000000))
# an accept thread that waited for each header in turn would take 8 s
[ "$ms" -lt 2500 ] || fail "others waited $ms ms behind silent balancer connections"
wait "$SP" "$TP"
for f in silent truncated; do
  read -r _ t < <(tail -n 1 "$TMP/$f")
  [ "$t" != open ] && awk -v t="$t" 'BEGIN { exit !(t >= 0.8 && t < 2.5) }' ||
    fail "$f header: closed after $t s (want ~1 s)"
done
grep -q "from trusted proxies without a valid PROXY v2 header" "$D/hq.log" ||
  fail "refusals not logged"
# and counted: 5 bad kinds, the bare client, 8 silent and 1 cut short
refused=$("${C[@]}" -H "Authorization: Bearer $(cat "$D/admin.token")" "$BASE/metrics" |
          sed -n 's/^storeqr_hq_proxy_refused_total //p')
[ "${refused:-0}" -ge 15 ] || fail "/metrics counts ${refused:-none} refused PROXY connections (want >= 15)"
kill -0 "$HQ_PID" || fail "HQ died"
echo "from 127.0.0.2: TLS, v1, garbage, oversized, unspec closed at once; 8 silent, cut short at 1 s; others served meanwhile in $ms ms"

# ---- real haproxy, send-proxy-v2 -------------------------------------------------
if command -v haproxy >/dev/null; then
  HP=$(free_port)
  cat >"$TMP/haproxy.cfg" <<HAEOF
global
  maxconn 100
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend hq
  bind 127.0.0.1:$HP
  default_backend hqs
backend hqs
  server hq1 127.0.0.1:$HQ_PORT send-proxy-v2 source 127.0.0.2 check check-send-proxy inter 300ms
HAEOF
  haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    [ "$(status "https://127.0.0.1:$HP/healthz")" = 200 ] && break
    sleep 0.1
  done
  # the client at 127.0.0.5, as HQ must see it
  [ "$(status --interface 127.0.0.5 "https://127.0.0.1:$HP/healthz")" = 200 ] ||
    fail "no answer through haproxy: $(tail -5 "$TMP/haproxy.log")"
  [ "$(login "https://127.0.0.1:$HP" alice wrong-hp --interface 127.0.0.5)" = 401 ] ||
    fail "a bad login through haproxy"
  [ "$(sqlite3 -cmd '.timeout 10000' "$D/hq.db" "SELECT failures FROM login_failures WHERE k = 'ip:127.0.0.5'")" = 1 ] ||
    fail "haproxy's client not seen: $(sqlite3 -cmd '.timeout 10000' "$D/hq.db" "SELECT k FROM login_failures")"
  sleep 1 # health checks (LOCAL headers) meanwhile: none refused
  grep -qi "is DOWN" "$TMP/haproxy.log" && fail "haproxy's health check failed: $(cat "$TMP/haproxy.log")"
  echo "haproxy send-proxy-v2: client 127.0.0.5 seen by HQ; its health checks (LOCAL) pass"
else
  echo "haproxy not installed: the run through it skipped (tools/deps/hqweb.txt lists it)"
fi

hq_stop "$D"
echo "OK"
