#!/usr/bin/env bash
# hostile_test.sh HQ_BIN MINT_BIN
# Hostile input on the resolver's routes, against a real HQ over TLS on
# 127.0.0.1 (SQLite). Each case is bounded in time and followed by a
# check that HQ still answers a valid scan:
#   - overlong paths (ours: 414 past 256 bytes; past the 64 KiB
#     per-connection memory: libmicrohttpd's 414/431);
#   - bad UTF-8, NULs and percent escapes in the store and the token;
#   - huge headers (one of 100 KiB; many adding up past 64 KiB): 431;
#   - slow clients: 40 connections that stop mid-headers and 10 that
#     never finish the TLS handshake neither stop a scan from being
#     answered nor stay open past the 5 s header deadline;
#   - a client that pipelines 300 scans (GET and HEAD, gzip or not) with
#     a 4 KiB receive buffer and reads nothing for a second, then sends 30
#     more one at a time, then 100 in one TLS record each but one run of
#     TCP segments (read ahead by HQ): answers go out the usual way, partly
#     sent and resumed, while HQ's send queue is full, and as one corked
#     record (server.c) once it is empty; every one must arrive whole and
#     in order;
#   - one host (limits.py): 300 idle TCP connections and 300 unfinished
#     TLS handshakes from 127.0.0.2 (HQ keeps at most 64 per address, and
#     those only until the 5 s header deadline) while scans from 127.0.0.3
#     are answered within 1 s each; 20 clients trickling a byte every 4 s
#     into a handshake or a request head, closed at the deadline; a 1 MiB
#     body announced without a certificate on /v1/events, answered 401
#     before any of it is sent;
#   - TLS: 1.0/1.1 and CBC, CCM, static-RSA suites refused (the client
#     allows them all), TLS 1.2 ECDHE-ECDSA-AES128-GCM and TLS 1.3 taken,
#     a TLS 1.2 session resumed by ticket, HSTS on a /J page and /dash;
#   - HQ's certificate: at most 398 days; `cert renew` re-issues it from
#     hq-ca for the same key, and HQ serves it after a restart;
#   - afterwards, every connection closed is off HQ's books
#     (storeqr_hq_connections_open 1: the one asking).
BIN_HQ=$1
MINT=$2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$SRC/tests/integration/lib.sh"
mk_tmp
D=$TMP/hq
hq_init "$D" SH-JA01
hq_key_row "$D" SH-JA01 1 1
hq_start "$D"
BASE=https://127.0.0.1:$HQ_PORT
C=(curl -s --max-time 20 --cacert "$D/hq-ca.crt")
status() { "${C[@]}" -o /dev/null -w '%{http_code}' "$@"; }
TOKEN=$("$MINT" "$D" SH-JA01 1 1) || fail "mint"
alive() {
  TOKEN=$("$MINT" "$D" SH-JA01 1 1) || fail "mint after: $1"
  [ "$(status "$BASE/J/SH-JA01/$TOKEN")" = 200 ] || fail "HQ stopped answering after: $1"
  kill -0 "$HQ_PID" 2>/dev/null || fail "HQ died after: $1"
}
alive "start"

# ---- overlong paths --------------------------------------------------------------
long=$(head -c 1000 /dev/zero | tr '\0' A)
[ "$(status "$BASE/J/SH-JA01/$long")" = 414 ] || fail "1000-byte /J path not 414"
[ "$(status "$BASE/N/$long")" = 414 ] || fail "1000-byte /N path not 414"
huge=$(head -c 100000 /dev/zero | tr '\0' A)
# HQ answers 414 and closes while curl may still be sending: the close can
# reset the connection before curl reads the answer (000), also a refusal
s=$(status "$BASE/J/SH-JA01/$huge" || true)
case $s in 414|431|413|000) ;; *) fail "100 KB path answered $s" ;; esac
alive "overlong paths"

# ---- bad UTF-8, NULs, percent escapes ----------------------------------------------
for t in "%FF%FE%FD%FC%FB%FA%F9%F8%F7%F6%F5%F4%F3%F2%F1%F0%EF%EE%ED%EC%EB%EA%E9%E8" \
         "%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF%C0%AF" \
         "${TOKEN:0:10}%00${TOKEN:11}" "${TOKEN:0:23}%00" "%00" "${TOKEN}%00" "${TOKEN}%2F" \
         "${TOKEN}/x" "%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25" \
         "%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD%E4%BD%A0%E5%A5%BD" "%"; do
  s=$(status --path-as-is "$BASE/J/SH-JA01/$t") || fail "token '$t': curl failed ($s)"
  [ "$s" = 403 ] || fail "token '$t' answered $s (want 403)"
done
for st in "SH-JA01%00" "SH%00JA01" "%FF%FE" "SH-JA01%2F.." "..%2F..%2Fetc" "%E9%97%A8%E5%BA%97"; do
  s=$(status --path-as-is "$BASE/J/$st/$TOKEN") || fail "store '$st': curl failed ($s)"
  case $s in 403|404) ;; *) fail "store '$st' answered $s" ;; esac
done
# a percent-escaped letter is the same URL
[ "$(status "$BASE/J/SH-%4AA01/$TOKEN")" = 200 ] || fail "an escaped A not understood"
[ "$(status --path-as-is "$BASE/N/%FF%00")" = 404 ] || fail "bad brand bytes"
alive "bad bytes"

# ---- raw requests: huge headers, slow clients ------------------------------------------
cat >"$TMP/raw.py" <<'EOF'
import socket, ssl, sys, time
port, ca, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
def tls():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")
def status_of(req):
    s = tls()
    data = b""
    try:
        s.sendall(req)
    except (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError):
        # HQ answered 431 and closed while the rest of an oversized head
        # was still on its way: read the answer if it arrived, else say
        # that HQ cut the request off (a refusal all the same).
        try:
            data = s.recv(4096)
        except (ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
            pass
        s.close()
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        return line or "cut off while sending"
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
    except (ConnectionResetError, ssl.SSLError, socket.timeout):
        pass
    s.close()
    return data.split(b"\r\n", 1)[0].decode("latin-1")
if mode == "one-huge-header":
    print(status_of(b"GET /J/SH-JA01/X HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n"))
elif mode == "many-headers":
    hs = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 200) for i in range(400))
    print(status_of(b"GET /J/SH-JA01/X HTTP/1.1\r\nHost: x\r\n" + hs + b"\r\n"))
elif mode == "raw-bytes":
    # bytes no URL encoder would send: high bytes, a bare NUL, a tab
    print(status_of(b"GET /J/SH-JA01/\xff\xfe\x00\x80AAAA\tBB HTTP/1.1\r\nHost: x\r\n\r\n"))
elif mode == "pipeline":
    import gzip
    token = sys.argv[4].encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(20)
    s.connect(("127.0.0.1", port))
    s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    buf, seen = b"", 0
    def need(k):
        global buf
        while len(buf) < k:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("connection closed after %d answers" % seen)
            buf += chunk
    def request(i):
        head, gz = i % 7 == 3, i % 2 == 0
        return (head, gz), (b"%s /J/SH-JA01/%s HTTP/1.1\r\nHost: x\r\n%s\r\n" %
                            (b"HEAD" if head else b"GET", token,
                             b"Accept-Encoding: gzip\r\n" if gz else b""))
    def answer(head, gz):
        global buf, seen
        while b"\r\n\r\n" not in buf:
            need(len(buf) + 1)
        hdr, buf = buf.split(b"\r\n\r\n", 1)
        lines = hdr.decode("latin-1").split("\r\n")
        if lines[0] != "HTTP/1.1 200 OK":
            raise SystemExit("answer %d: %r" % (seen, lines[0]))
        h = {k.lower(): v for k, v in (l.split(": ", 1) for l in lines[1:])}
        if (h.get("content-encoding") == "gzip") != gz:
            raise SystemExit("answer %d: Content-Encoding %r" % (seen, h.get("content-encoding")))
        if not head:
            length = int(h["content-length"])
            need(length)
            body, buf = buf[:length], buf[length:]
            text = (gzip.decompress(body) if gz else body).decode("utf-8")
            if not (text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")):
                raise SystemExit("answer %d: not a whole page" % seen)
        seen += 1
    # 300 at once, nothing read for a second: HQ's send queue fills
    batch = [request(i) for i in range(300)]
    s.sendall(b"".join(r for _, r in batch))
    time.sleep(1)
    for kind, _ in batch:
        answer(*kind)
    # then one at a time on the same connection: the queue is empty each time
    for i in range(30):
        kind, r = request(i)
        s.sendall(r)
        answer(*kind)
    # then 100 more, one TLS record each, coalesced by a cork of the
    # client's: HQ reads a connection 2 KiB at a time (server.c,
    # conn_pull), so most of them wait in its read-ahead, not the socket
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    batch = [request(i) for i in range(100)]
    for _, r in batch:
        s.sendall(r)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
    time.sleep(1)
    for kind, _ in batch:
        answer(*kind)
    s.settimeout(0.5)
    try:
        extra = s.recv(1)
    except socket.timeout:
        extra = b""
    if buf or extra:
        raise SystemExit("bytes after the last answer")
    print("%d answers whole and in order" % seen)
elif mode == "slow":
    # 40 clients stop mid-headers, 10 never finish the handshake; while
    # they hang, the caller checks that scans are answered; then each
    # must be closed by HQ within the idle timeout (30 s) plus slack.
    slow, raw = [], []
    for i in range(40):
        s = tls()
        s.sendall(b"GET /J/SH-JA01/AAAA HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(s)
    for i in range(10):
        r = socket.create_connection(("127.0.0.1", port), timeout=10)
        r.sendall(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
        raw.append(r)
    open(sys.argv[4], "w").write("ready\n")
    t0 = time.time()
    for s in slow + raw:
        s.settimeout(max(1, 45 - (time.time() - t0)))
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            print("still open after %.0f s" % (time.time() - t0)); sys.exit(1)
        except (ConnectionResetError, ssl.SSLError, OSError):
            pass
    print("closed after %.0f s" % (time.time() - t0))
EOF
s=$(timeout 30 python3 "$TMP/raw.py" "$HQ_PORT" "$D/hq-ca.crt" one-huge-header) || fail "huge header client"
case $s in *431*|*413*|"cut off while sending") ;; *) fail "one 100 KB header answered '$s' (want 431)" ;; esac
alive "one huge header"
s=$(timeout 30 python3 "$TMP/raw.py" "$HQ_PORT" "$D/hq-ca.crt" many-headers) || fail "many headers client"
case $s in *431*|*413*|"cut off while sending") ;; *) fail "80 KB of headers answered '$s' (want 431)" ;; esac
alive "many headers"
s=$(timeout 30 python3 "$TMP/raw.py" "$HQ_PORT" "$D/hq-ca.crt" raw-bytes) || fail "raw bytes client"
case $s in *400*|*403*|*404*) ;; *) fail "raw bytes in the path answered '$s'" ;; esac
alive "raw bytes"

TOKEN=$("$MINT" "$D" SH-JA01 1 1) || fail "mint"
s=$(timeout 60 python3 "$TMP/raw.py" "$HQ_PORT" "$D/hq-ca.crt" pipeline "$TOKEN") ||
  fail "pipelining client: $s"
echo "pipelining client: $s"
alive "a pipelining client"

timeout 90 python3 "$TMP/raw.py" "$HQ_PORT" "$D/hq-ca.crt" slow "$TMP/slow.ready" >"$TMP/slow.out" 2>&1 &
SLOW=$!
PIDS+=("$SLOW")
wait_file "$TMP/slow.ready"
t0=$(date +%s%N)
alive "50 slow clients connected"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 5000 ] || fail "a scan took $ms ms while slow clients hung"
wait "$SLOW" || fail "slow clients: $(cat "$TMP/slow.out")"
echo "slow clients: $(cat "$TMP/slow.out")"
alive "slow clients timed out"

# ---- one host against the limits (server.c; docs/PROTOCOL.md, "Limits") ------------------
LIMITS=(timeout 60 python3 "$SRC/tests/hqweb/limits.py" "$HQ_PORT" "$D/hq-ca.crt")
PER_ADDRESS=64 DEADLINE=5
# scan3: a scan from 127.0.0.3 answered 200 within a second
scan3() {
  TOKEN=$("$MINT" "$D" SH-JA01 1 1) || fail "mint: $1"
  r=$("${C[@]}" --interface 127.0.0.3 -o /dev/null -w '%{http_code} %{time_total}' \
      "$BASE/J/SH-JA01/$TOKEN") || true
  [ "${r% *}" = 200 ] || fail "a scan from another address answered '$r' while $1"
  awk -v t="${r#* }" 'BEGIN { exit !(t < 1.0) }' || fail "a scan took ${r#* } s while $1"
}
"${LIMITS[@]}" one-host "$PER_ADDRESS" "$DEADLINE" "$TMP/host.ready" >"$TMP/host.out" 2>&1 &
HOST=$!
PIDS+=("$HOST")
wait_file "$TMP/host.ready"
for i in 1 2 3 4 5; do scan3 "600 connections came from 127.0.0.2"; done
wait "$HOST" || fail "one host: $(cat "$TMP/host.out")"
echo "one host: $(cat "$TMP/host.out")"
"${LIMITS[@]}" trickle "$DEADLINE" >"$TMP/trickle.out" 2>&1 &
TRICKLE=$!
PIDS+=("$TRICKLE")
sleep 1
scan3 "20 connections trickled from 127.0.0.4"
wait "$TRICKLE" || fail "trickle: $(cat "$TMP/trickle.out")"
echo "trickle: $(cat "$TMP/trickle.out")"
s=$("${LIMITS[@]}" no-cert-body) || fail "a body without a certificate: $s"
case $s in "HTTP/1.1 401"*) ;; *) fail "a body without a certificate answered '$s' (want 401)" ;; esac
alive "limits"

# ---- TLS: Mozilla's intermediate profile, HSTS ----------------------------------------------
tls() { timeout 10 openssl s_client -connect "127.0.0.1:$HQ_PORT" -CAfile "$D/hq-ca.crt" "$@" \
  </dev/null 2>&1; }
# the client side allows everything (SECLEVEL=0): a refusal is HQ's
for v in -tls1 -tls1_1; do
  tls "$v" -cipher 'ALL:@SECLEVEL=0' | grep -q 'Cipher is [A-Z]' && fail "HQ accepts $v"
done
for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA AES256-SHA AES128-GCM-SHA256 \
         ECDHE-ECDSA-AES128-CCM ECDHE-ECDSA-AES128-SHA256; do
  tls -tls1_2 -cipher "$c:@SECLEVEL=0" | grep -q "Cipher is $c" && fail "HQ accepts $c"
done
tls -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 |
  grep -q 'Cipher is ECDHE-ECDSA-AES128-GCM-SHA256' || fail "TLS 1.2 ECDHE-ECDSA-AES128-GCM refused"
tls -tls1_3 | grep -q 'New, TLSv1.3, Cipher is TLS_' || fail "TLS 1.3 refused"
# session tickets: a second connection resumes the first one's session
tls -tls1_2 -sess_out "$TMP/tls.sess" | grep -q 'New, TLSv1.2' || fail "no TLS 1.2 session"
tls -tls1_2 -sess_in "$TMP/tls.sess" | grep -q 'Reused, TLSv1.2' || fail "a TLS session not resumed"
TOKEN=$("$MINT" "$D" SH-JA01 1 1) || fail "mint"
"${C[@]}" -D - -o /dev/null "$BASE/J/SH-JA01/$TOKEN" | grep -qi '^Strict-Transport-Security: max-age=[1-9]' ||
  fail "no HSTS header on a /J page"
"${C[@]}" -D - -o /dev/null "$BASE/dash/login" | grep -qi '^Strict-Transport-Security: max-age=[1-9]' ||
  fail "no HSTS header on the dashboard's login page"

# ---- HQ's certificate: at most 398 days, renewed from hq-ca with the same key ----------------
days_left() { # CERT -> whole days from now to notAfter
  echo $(( ($(date -d "$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
}
n=$(days_left "$D/server.crt")
[ "$n" -ge 390 ] && [ "$n" -le 398 ] || fail "init's server certificate is valid $n days (want <= 398)"
old_serial=$(openssl x509 -noout -serial -in "$D/server.crt")
hq cert renew --dir "$D" >/dev/null || fail "cert renew"
openssl verify -CAfile "$D/hq-ca.crt" "$D/server.crt" >/dev/null || fail "renewed certificate: not from hq-ca"
new_serial=$(openssl x509 -noout -serial -in "$D/server.crt")
[ "$new_serial" != "$old_serial" ] || fail "cert renew: the same certificate"
openssl x509 -noout -subject -in "$D/server.crt" | grep -q 'CN *= *127.0.0.1' || fail "cert renew: another host"
[ "$(openssl x509 -noout -pubkey -in "$D/server.crt")" = "$(openssl pkey -pubout -in "$D/server.key")" ] ||
  fail "cert renew: not server.key's certificate"
hq cert renew --dir "$D" --host 'a,b=c' 2>/dev/null && fail "cert renew took a bad host"
# Every connection above was given back when it closed (server.c's
# CLOSED notification, sockopt_release): its number, reused by a socket
# of PostgreSQL's or another library's, must get its TCP options. Only
# the connection asking is open once the others have closed.
open=
for _ in $(seq 100); do
  open=$("${C[@]}" -H "Authorization: Bearer $(cat "$D/admin.token")" "$BASE/metrics" |
    awk '$1 == "storeqr_hq_connections_open" {print $2}')
  [ "$open" = 1 ] && break
  sleep 0.1
done
[ "$open" = 1 ] || fail "storeqr_hq_connections_open is $open with one connection open"
hq_stop "$D"
hq_start "$D"
tls -tls1_3 -showcerts | openssl x509 -noout -serial | grep -qx "$new_serial" ||
  fail "HQ does not serve the renewed certificate after a restart"
hq_stop "$D"
echo "hqweb hostile: ok"
