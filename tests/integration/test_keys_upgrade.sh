#!/usr/bin/env bash
# test_keys_upgrade.sh — a kiosk enrolled before key versions moves onto
# its own keys without losing a scan (docs/PROTOCOL.md "Kiosks from before
# key versions"). The first wave is simulated on a real enrolment: HQ's key
# rows are removed while it is down, as a database from before them has
# none. Then, with the real HQ and kiosk over mutual TLS:
#   - HQ's open gives the kiosk a legacy row (the store key, version 1) and
#     its own first version (2), and its next document is the old form
#     (keys.store_key, version 1): a release from before key versions reads
#     nothing else;
#   - the kiosk's config_applied names a key version, so its next document
#     carries its own keys and never the store key again;
#   - codes of both versions scan until the kiosk reports applying its own
#     and the overlap ends; then the store key's codes are refused.
# usage: test_keys_upgrade.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC MINT)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
HQ_BACKEND=${2:-sqlite}
[ "$HQ_BACKEND" = postgresql ] && pg_start
hq_init hq SH-JA01
hq_start hq
URL=https://127.0.0.1:$HQ_PORT
C=(curl -s --max-time 20 --cacert hq/hq-ca.crt)
status() { "${C[@]}" -o /dev/null -w '%{http_code}' "$@"; }
dbq() {
  if [ "$HQ_BACKEND" = postgresql ]; then psql -X -q -At "${HQ_DB_ARGS[1]}" -c "$1"
  else sqlite3 -cmd '.timeout 10000' hq/hq.db "$1"; fi
}
keys_of() { sqlite3 k/kiosk.db "SELECT json_extract(json, '\$.keys.$1') FROM config ORDER BY version DESC LIMIT 1"; }
sync_once() { "$BIN_SYNC" --once --db k/kiosk.db >/dev/null 2>sync.log || fail "sync: $(cat sync.log)"; }
scans() { # TOKEN -> status on HQ, retried while HQ reloads the store
  local s
  for _ in $(seq 40); do s=$(status "$URL/J/SH-JA01/$1"); [ "$s" = "$2" ] && break; sleep 0.1; done
  echo "$s"
}

mkdir k
"$BIN_STOREQR" --db k/kiosk.db init >/dev/null
"$BIN_SYNC" enroll --db k/kiosk.db --hq "$URL" --code "$(hq_code hq SH-JA01 1)" --ca hq/hq-ca.crt \
  >/dev/null || fail "enrol"
"$BIN_STOREQR" --db k/kiosk.db signup --phone "$(rand_phone)" --consent --age-confirmed >/dev/null || fail "sign-up"
sync_once

# ---- a database from before key versions --------------------------------------------------------
PORT=$HQ_PORT # the kiosk's configuration names it
hq_stop hq
dbq "DELETE FROM kiosk_keys" >/dev/null
dbq "DELETE FROM kiosk_caps" >/dev/null
hq_start hq "$PORT"
[ "$(dbq "SELECT version || ':' || legacy || ':' || COALESCE(retire_ms, 0) FROM kiosk_keys ORDER BY version" | tr '\n' ' ')" = "1:1:0 2:0:0 " ] ||
  fail "the open did not give the kiosk a legacy row and its own version: $(dbq "SELECT * FROM kiosk_keys")"
LEGACY=$("$MINT" --legacy hq SH-JA01 1 1) || fail "mint"
[ "$(scans "$LEGACY" 200)" = 200 ] || fail "the store key's code is refused right after the upgrade"

sync_once # the old form, as a release from before key versions needs
[ -n "$(keys_of store_key)" ] && [ "$(keys_of version)" = 1 ] && [ -z "$(keys_of token_key)" ] ||
  fail "a kiosk that never reported a key version did not get the store key alone"
sync_once # its config_applied names version 1: it reads its own keys
[ "$(keys_of version)" = 2 ] && [ -n "$(keys_of token_key)" ] && [ -z "$(keys_of store_key)" ] ||
  fail "the kiosk did not move onto its own keys (version $(keys_of version))"
OWN=$("$BIN_STOREQR" --db k/kiosk.db token mint | head -1)
[ "$(scans "$OWN" 200)" = 200 ] || fail "the kiosk's own code is refused"
[ "$(scans "$LEGACY" 200)" = 200 ] || fail "the store key's code is refused before the kiosk reported its own"
sync_once # config_applied with version 2: the legacy row retires after the overlap
retire=$(dbq "SELECT COALESCE(retire_ms, 0) FROM kiosk_keys WHERE version = 1")
now_ms=$(($(date +%s) * 1000))
[ "$retire" -gt "$now_ms" ] && [ "$retire" -le $((now_ms + 11 * 60 * 1000)) ] ||
  fail "the legacy row does not retire 10 minutes after the kiosk applied its own keys ($retire)"
[ "$(scans "$LEGACY" 200)" = 200 ] || fail "the store key's code is refused during the overlap"
# The overlap ends (as if 10 minutes passed; the version raised so HQ reloads).
dbq "UPDATE kiosk_keys SET retire_ms = $now_ms - 1 WHERE version = 1" >/dev/null
dbq "UPDATE stores SET config_version = config_version + 1 WHERE id = 'SH-JA01'" >/dev/null
[ "$(scans "$LEGACY" 403)" = 403 ] || fail "the store key's code still works after the overlap"
[ "$(scans "$OWN" 200)" = 200 ] || fail "the kiosk's own code is refused after the overlap"
sync_once
[ -z "$(keys_of store_key)" ] || fail "the store key came back"
hq_stop hq
echo "PASS: keys upgrade ($HQ_BACKEND)"
