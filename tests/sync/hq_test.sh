#!/bin/sh
# hq_test.sh HQ_BIN TEST_BIN sqlite|postgresql
# Initialises HQ in a temp directory, starts `storeqr-hq serve` on
# 127.0.0.1 (free port), runs TEST_BIN against it and stops everything.
# postgresql: installs PostgreSQL from Debian if missing, makes a
# throwaway cluster in the temp directory (initdb as an unprivileged user,
# socket in the temp directory, 127.0.0.1 on a free port) and removes it.
# Exit 77 (skipped) only when PostgreSQL can neither be found nor installed.
set -u
HQ_BIN=$1
TEST_BIN=$2
MODE=$3
T=$(mktemp -d /tmp/storeqr-hq-test.XXXXXX) || exit 1
chmod 755 "$T"
SERVER_PID=
PG_CTL=
PG_USER=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    i=0
    while kill -0 "$SERVER_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$SERVER_PID" 2>/dev/null
  fi
  if [ -n "$PG_CTL" ]; then
    as_pg "$PG_CTL" -D "$T/pg" -m immediate -t 20 stop >/dev/null 2>&1
  fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

as_pg() {
  if [ -n "$PG_USER" ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

DB_ARGS=
if [ "$MODE" = postgresql ]; then
  find_bin() { ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1; }
  INITDB=$(find_bin initdb)
  if [ -z "$INITDB" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "hq_test: installing postgresql from Debian"
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q postgresql >/dev/null 2>&1 ||
      { timeout 300 apt-get update -q >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q postgresql >/dev/null 2>&1; }
    INITDB=$(find_bin initdb)
  fi
  if [ -z "$INITDB" ]; then
    echo "hq_test: PostgreSQL not available; skipped"
    exit 77
  fi
  PG_CTL=$(dirname "$INITDB")/pg_ctl
  if [ "$(id -u)" = 0 ]; then
    if id postgres >/dev/null 2>&1; then PG_USER=postgres; else PG_USER=nobody; fi
  fi
  mkdir -p "$T/pg" "$T/sock"
  [ -n "$PG_USER" ] && chown "$PG_USER" "$T/pg" "$T/sock"
  as_pg "$INITDB" -D "$T/pg" -A trust -U hq --no-sync >"$T/initdb.log" 2>&1 ||
    { cat "$T/initdb.log"; exit 1; }
  PG_PORT=$(free_port)
  as_pg "$PG_CTL" -D "$T/pg" -l "$T/sock/pg.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $T/sock -c fsync=off" start >/dev/null ||
    { cat "$T/sock/pg.log"; exit 1; }
  DB_ARGS="--db postgresql://hq@127.0.0.1:$PG_PORT/postgres?connect_timeout=10"
fi

# SQLite: HQ behind names (as behind a load balancer) with a public
# certificate from a CA of the test's own for scan.test, picked by SNI:
# kiosks (test_hq, with their client certificates) still get server.crt,
# the configuration and enrolment QR text name the kiosk URL and the
# public name. PostgreSQL: names from --listen, as before.
NAME_ARGS=
if [ "$MODE" = sqlite ]; then
  . "$(dirname "$0")/../public_cert.sh"
  public_cert "$T/pub" || { echo "hq_test: cannot make the public test certificate (openssl)"; exit 1; }
  NAME_ARGS="--kiosk-url https://hq.test:9443 --public-url https://scan.test
    --public-cert $T/pub/scan.pem --public-key $T/pub/scan.key"
  export HQ_KIOSK_URL=https://hq.test:9443 HQ_RESOLVER_HOST=scan.test
fi

"$HQ_BIN" init "$T/hq" >/dev/null 2>&1 || mkdir -p "$T/hq"
[ -f "$T/hq/master.key" ] || "$HQ_BIN" init "$T/hq" || exit 1
# A store template whose Argon2 cost no kiosk can hold (4 GiB, 11 passes)
# is refused by every command, naming the field; nothing is added.
for bad in '"m_kib":4194304' '"t":11' '"m_kib":1.5'; do
  printf '{"keys":{"index":{%s}}}\n' "$bad" >"$T/hq/store-template.json"
  # shellcheck disable=SC2086
  if out=$("$HQ_BIN" store add --dir "$T/hq" $DB_ARGS --id SH-BAD --name x --city y 2>&1); then
    echo "hq_test: a template with $bad was accepted"; exit 1
  fi
  case "$out" in
    *"store-template.json: keys.index."*) ;;
    *) echo "hq_test: the refusal of $bad does not name the field: $out"; exit 1 ;;
  esac
done
rm "$T/hq/store-template.json"
# shellcheck disable=SC2086
"$HQ_BIN" store add --dir "$T/hq" $DB_ARGS --id SH-JA01 --name 静安寺店 --city 上海 \
  --lat 31.2235 --lon 121.4456 >/dev/null || exit 1
# shellcheck disable=SC2086
"$HQ_BIN" serve --dir "$T/hq" $DB_ARGS $NAME_ARGS --listen 127.0.0.1:0 --port-file "$T/port" \
  2>"$T/hq.log" &
SERVER_PID=$!
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$T/hq.log"; exit 1; }
  sleep 0.1
  i=$((i + 1))
done
[ -s "$T/port" ] || { echo "hq_test: HQ did not start"; cat "$T/hq.log"; exit 1; }
PORT=$(cat "$T/port")

HQ_DIR="$T/hq" HQ_URL="https://127.0.0.1:$PORT" SQR_TEST_TMP="$T/tmp" "$TEST_BIN"
rc=$?
if [ -n "$NAME_ARGS" ]; then
  # SNI: the public name verifies against the public CA only; an address
  # (no SNI) and any other name get server.crt, which hq-ca verifies.
  sni() { # NAME CA -> HTTP status of /healthz (000: TLS refused)
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 --resolve "$1:$PORT:127.0.0.1" \
      --cacert "$2" "https://$1:$PORT/healthz"
  }
  check() { [ "$2" = "$3" ] || { echo "hq_test: SNI: $1: got $2, want $3"; rc=1; }; }
  check "scan.test with the public CA" "$(sni scan.test "$T/pub/ca.pem")" 200
  check "scan.test with hq-ca" "$(sni scan.test "$T/hq/hq-ca.crt")" 000
  check "127.0.0.1 with hq-ca" "$(sni 127.0.0.1 "$T/hq/hq-ca.crt")" 200
  check "127.0.0.1 with the public CA" "$(sni 127.0.0.1 "$T/pub/ca.pem")" 000
  issuer=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername hq.test \
    2>/dev/null | openssl x509 -noout -issuer 2>/dev/null)
  case $issuer in *"StoreQR HQ CA"*) ;; *) echo "hq_test: SNI hq.test got: $issuer"; rc=1 ;; esac
fi
kill -0 "$SERVER_PID" 2>/dev/null || { echo "hq_test: HQ died"; rc=1; }
# Stop HQ now (SIGTERM, bounded) so a sanitizer build reports at exit.
kill "$SERVER_PID" 2>/dev/null
i=0
while kill -0 "$SERVER_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$SERVER_PID" 2>/dev/null && { echo "hq_test: HQ ignored SIGTERM"; rc=1; }
SERVER_PID=
if grep -q -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "runtime error:" "$T/hq.log"; then
  echo "hq_test: sanitizer report from HQ"
  rc=1
fi
if [ $rc -ne 0 ]; then
  echo "--- HQ log ---"
  tail -n 80 "$T/hq.log"
fi
exit $rc
