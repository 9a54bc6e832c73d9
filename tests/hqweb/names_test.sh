#!/usr/bin/env bash
# names_test.sh HQ_BIN
# HQ's public names (issue 12, "Public addresses"), against the real
# storeqr-hq on 127.0.0.1 (SQLite), each step bounded in time:
#   - a wildcard --listen without both names is refused (exit 2) with the
#     message saying what to set, from the options or from the
#     environment variables the packaged unit's hq.env sets (empty is
#     unset); with both names it starts;
#   - bad --kiosk-url/--public-url values (scheme, path, user, query,
#     port, host, length) are refused with exit 2 and a message naming the
#     option or variable; --public-cert without --public-key, a public
#     host that is an address or is also the kiosk host, a certificate not
#     naming it and a key not its own are refused, naming the file;
#   - `kiosk enroll-code`: QR text with --kiosk-url, --url (the old name),
#     STOREQR_HQ_KIOSK_URL, and the default; a bad value refused;
#   - the admin route's enrolment QR text and the configuration's names
#     follow --kiosk-url/--public-url, and --listen's address without them.
# The configuration document and SNI with kiosks' client certificates are
# checked by sync.hq.sqlite (tests/sync/hq_test.sh).
BIN_HQ=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$SRC/tests/integration/lib.sh"
mk_tmp
D=$TMP/hq
hq_init "$D" SH-JA01
TOKEN=$(cat "$D/admin.token")

# refused ARGS... : serve must exit 2 within 10 s; its stderr in $TMP/err
refused() {
  local rc=0
  env -u STOREQR_HQ_KIOSK_URL -u STOREQR_HQ_PUBLIC_URL ${ENVS[@]+"${ENVS[@]}"} \
    timeout 10 "$BIN_HQ" serve --dir "$D" "$@" >/dev/null 2>"$TMP/err" || rc=$?
  [ $rc = 2 ] || fail "serve $* (env ${ENVS[*]-}): exit $rc, want 2: $(head -2 "$TMP/err")"
}
want_err() { grep -qF -- "$1" "$TMP/err" || fail "no \"$1\" in: $(head -2 "$TMP/err")"; }

# ---- wildcard listen -------------------------------------------------------------
MSG='storeqr-hq: --listen 0.0.0.0:0 binds every address; set --kiosk-url https://HQ.NAME[:PORT] (kiosks) and --public-url https://SCAN.NAME (shoppers'"'"' phones) or STOREQR_HQ_KIOSK_URL/STOREQR_HQ_PUBLIC_URL in /etc/storeqr/hq.env'
ENVS=()
refused --listen 0.0.0.0:0
[ "$(head -1 "$TMP/err")" = "$MSG" ] || fail "wildcard message: $(head -1 "$TMP/err")"
refused --listen 0.0.0.0:0 --kiosk-url https://hq.example.com:8443
want_err "binds every address"
refused --listen 0.0.0.0:0 --public-url https://scan.example.com
want_err "binds every address"
# hq.env as shipped: both variables present and empty
ENVS=(STOREQR_HQ_KIOSK_URL= STOREQR_HQ_PUBLIC_URL=)
refused --listen 0.0.0.0:0
[ "$(head -1 "$TMP/err")" = "$MSG" ] || fail "wildcard message (empty env): $(head -1 "$TMP/err")"
ENVS=(STOREQR_HQ_KIOSK_URL=https://hq.example.com:8443)
refused --listen 0.0.0.0:0
want_err "binds every address"
echo "ok: wildcard --listen without names refused"

# ---- bad URLs --------------------------------------------------------------------
ENVS=()
long=$(head -c 60 /dev/zero | tr '\0' a)
for bad in "http://hq.example.com" "https://" "hq.example.com" "https://hq.example.com/" \
  "https://hq.example.com/x" "https://u@hq.example.com" "https://hq.example.com?x=1" \
  "https://hq.example.com#f" "https://hq.example.com:0" "https://hq.example.com:65536" \
  "https://hq.example.com:8x" "https://hq.example.com:" "https://-bad.example.com" \
  "https://a..b" "https://1.2.3" "https://999.1.1.1" "https://[::1]:8443" "https://hq example.com" \
  "https://$long.$long.$long.$long.com"; do
  refused --listen 127.0.0.1:0 --kiosk-url "$bad"
  want_err "--kiosk-url: "
  refused --listen 127.0.0.1:0 --public-url "$bad"
  want_err "--public-url: "
done
# the public name must fit a kiosk's QR (63 characters of HOST[:PORT])
refused --listen 127.0.0.1:0 --public-url "https://$long.com"
want_err "HOST[:PORT] longer than 63"
ENVS=(STOREQR_HQ_PUBLIC_URL=http://scan.example.com)
refused --listen 127.0.0.1:0
want_err "STOREQR_HQ_PUBLIC_URL: want https://HOST[:PORT]"
echo "ok: bad URLs refused"

# ---- the public certificate ------------------------------------------------------
ENVS=()
P=$TMP/pub
public_cert "$P" || fail "openssl: test certificate"
L=(--listen 127.0.0.1:0)
refused "${L[@]}" --public-url https://scan.test --public-cert "$P/scan.pem"
want_err "--public-cert and --public-key go together"
refused "${L[@]}" --public-url https://scan.test --public-key "$P/scan.key"
want_err "--public-cert and --public-key go together"
r3() { # like refused, for what server_start refuses (exit 3: HQ could not start)
  local rc=0
  timeout 10 "$BIN_HQ" serve --dir "$D" "$@" >/dev/null 2>"$TMP/err" || rc=$?
  [ $rc = 3 ] || fail "serve $*: exit $rc, want 3: $(head -2 "$TMP/err")"
}
C=(--public-cert "$P/scan.pem" --public-key "$P/scan.key")
r3 "${L[@]}" "${C[@]}"
want_err "--public-cert needs --public-url"
r3 "${L[@]}" --public-url https://127.0.0.2 "${C[@]}"
want_err "is an address"
r3 "${L[@]}" --public-url https://scan.test --kiosk-url https://SCAN.test:8443 "${C[@]}"
want_err "one name cannot carry two certificates"
r3 "${L[@]}" --public-url https://other.test "${C[@]}"
want_err "does not name other.test"
r3 "${L[@]}" --public-url https://scan.test --public-cert "$P/scan.pem" --public-key "$P/ca.key"
want_err "$P/ca.key is not the key of $P/scan.pem"
r3 "${L[@]}" --public-url https://scan.test --public-cert "$P/nothing.pem" --public-key "$P/scan.key"
want_err "--public-cert: cannot read"
r3 "${L[@]}" --public-url https://scan.test --public-cert "$P/scan.key" --public-key "$P/scan.key"
want_err "not a PEM certificate"
echo "ok: bad public certificates refused"

# ---- enroll-code's QR text -------------------------------------------------------
qr() { # ARGS... -> the qr_text of a new code
  local out
  out=$(timeout 10 "$BIN_HQ" kiosk enroll-code --dir "$D" --store SH-JA01 --kiosk 1 "$@") ||
    fail "enroll-code $*"
  json_get "$(head -1 <<<"$out")" qr_text
}
case $(qr --kiosk-url https://HQ.Example.com:8443) in
  storeqr-enroll:https://hq.example.com:8443#*) ;; *) fail "enroll-code --kiosk-url: $(qr --kiosk-url https://HQ.Example.com:8443)" ;; esac
case $(qr --url https://hq2.example.com) in
  storeqr-enroll:https://hq2.example.com#*) ;; *) fail "enroll-code --url" ;; esac
case $(STOREQR_HQ_KIOSK_URL=https://hq3.example.com qr) in
  storeqr-enroll:https://hq3.example.com#*) ;; *) fail "enroll-code with STOREQR_HQ_KIOSK_URL" ;; esac
case $(unset STOREQR_HQ_KIOSK_URL; qr) in
  storeqr-enroll:https://127.0.0.1:8443#*) ;; *) fail "enroll-code default" ;; esac
rc=0
timeout 10 "$BIN_HQ" kiosk enroll-code --dir "$D" --store SH-JA01 --kiosk 1 \
  --kiosk-url https://hq.example.com/enrol >/dev/null 2>"$TMP/err" || rc=$?
[ $rc = 2 ] || fail "enroll-code with a bad --kiosk-url: exit $rc"
want_err "--kiosk-url: only https://HOST[:PORT]"
echo "ok: enroll-code names the kiosk URL"

# ---- the served names ------------------------------------------------------------
# admin_qr -> the QR text of a code made through the running HQ's route
admin_qr() {
  local body
  body=$(curl -s --max-time 10 --cacert "$D/hq-ca.crt" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"store":"SH-JA01","kiosk":2}' \
    "https://127.0.0.1:$HQ_PORT/v1/admin/enroll-codes") || fail "POST enroll-codes"
  json_get "$body" qr_text
}
hq_start "$D"
case $(admin_qr) in
  "storeqr-enroll:https://127.0.0.1:$HQ_PORT#"*) ;; *) fail "derived kiosk URL: $(admin_qr)" ;; esac
grep -q "kiosks https://127.0.0.1:$HQ_PORT, phones https://127.0.0.1:$HQ_PORT" "$D/hq.log" ||
  fail "log: names from --listen"
hq_stop "$D"
# A wildcard listen with both names (from the environment, as hq.env
# gives them) starts, and hands out the names, not 0.0.0.0.
rm -f "$D/port"
STOREQR_HQ_KIOSK_URL=https://hq.example.com:8443 STOREQR_HQ_PUBLIC_URL=https://scan.example.com \
  "$BIN_HQ" serve --dir "$D" --listen 0.0.0.0:0 --port-file "$D/port" 2>>"$D/hq.log" &
HQ_PID=$!
PIDS+=("$HQ_PID")
wait_file "$D/port"
HQ_PORT=$(cat "$D/port")
for _ in $(seq 100); do
  curl -s -o /dev/null --max-time 2 --cacert "$D/hq-ca.crt" "https://127.0.0.1:$HQ_PORT/healthz" && break
  sleep 0.05
done
case $(admin_qr) in
  "storeqr-enroll:https://hq.example.com:8443#"*) ;; *) fail "configured kiosk URL: $(admin_qr)" ;; esac
grep -q "kiosks https://hq.example.com:8443, phones https://scan.example.com" "$D/hq.log" ||
  fail "log: configured names"
grep -q "scan.example.com is served with server.crt, which phones do not trust" "$D/hq.log" ||
  fail "no warning about the public name without --public-cert"
hq_stop "$D"
echo "ok: served names"

# ---- certificates near their end: in the log and in /metrics ----------------------
openssl x509 -req -in "$P/scan.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
  -days 5 -extfile "$P/ext" -out "$P/short.pem" 2>/dev/null || fail "openssl: a 5-day certificate"
HQ_SERVE_ARGS=(--kiosk-url https://hq.test --public-url https://scan.test
  --public-cert "$P/short.pem" --public-key "$P/scan.key")
hq_start "$D"
grep -Eq "$P/short.pem expires in [45] day\\(s\\): replace it with one from its CA" "$D/hq.log" ||
  fail "no warning for a public certificate 5 days from its end"
m=$(curl -s --max-time 10 --cacert "$D/hq-ca.crt" -H "Authorization: Bearer $TOKEN" \
  "https://127.0.0.1:$HQ_PORT/metrics")
end() { date -d "$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)" +%s; }
grep -qx "storeqr_hq_tls_cert_expiry_timestamp_seconds{cert=\"public\"} $(end "$P/short.pem")" <<<"$m" ||
  fail "/metrics: the public certificate's end: $(grep cert_expiry <<<"$m")"
grep -qx "storeqr_hq_tls_cert_expiry_timestamp_seconds{cert=\"server\"} $(end "$D/server.crt")" <<<"$m" ||
  fail "/metrics: server.crt's end: $(grep cert_expiry <<<"$m")"
grep -q "server.crt expires in" "$D/hq.log" && fail "a warning for a server.crt a year from its end"
hq_stop "$D"
HQ_SERVE_ARGS=()
echo "ok: a certificate 5 days from its end warned about; both ends in /metrics"
echo "PASS"
