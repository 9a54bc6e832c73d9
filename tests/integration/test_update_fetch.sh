#!/usr/bin/env bash
# test_update_fetch.sh — release bundles from HQ to a kiosk over the sync
# client's mutual TLS (docs/PROTOCOL.md "/v1/bundles", sync/client/fetch.h).
# A release added at HQ (`storeqr-hq release add`, signature checked) is
# named in its stores' configuration only; the kiosk downloads it, its
# SHA-256 matches, it is queued for storeqr-update (install-queued, here in
# a temp root as tests/firmware does) and never downloaded twice; with
# --update-cmd the sync client runs storeqr-update itself. Refused: bundles
# HQ must not accept (other key, other product, unknown store), a bundle
# altered on HQ's disk (SHA-256 mismatch: recorded, nothing handed over,
# the pass still good), bad bundle names (400), an unknown bundle (404), a
# request without a client certificate (401). A forced rollback: HQ shows
# what it replaces and until when, refuses old-format and expired ones.
# usage: test_update_fetch.sh TMPDIR
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC BIN_BUNDLE BIN_UPDATE BIN_FORGE)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
hq_init hq SH-JA01 SH-XH02
hq_start hq
URL=https://127.0.0.1:$HQ_PORT
echo "HQ on $URL"

# Keys and releases, as an operator makes them (firmware/README.md).
mkdir keys
"$BIN_BUNDLE" keygen keys/storeqr-update >/dev/null
"$BIN_BUNDLE" keygen keys/other >/dev/null
cp keys/storeqr-update.pub hq/update.pub
release() { # VERSION [PRODUCT [KEY [--forced]]]
  local v=$1 d=rel-$1; mkdir -p "$d/bin"
  printf '#!/bin/sh\nexit 0\n' >"$d/bin/health"; chmod 755 "$d/bin/health"
  head -c 300000 /dev/urandom >"$d/bin/storeqr-kiosk"; chmod 755 "$d/bin/storeqr-kiosk"
  "$BIN_BUNDLE" pack --key "keys/${3:-storeqr-update}.key" --product "${2:-storeqr-kiosk}" \
    --version "$v" ${4:-} "$d" "b-$v${2:+-$2}${3:+-$3}" >/dev/null
}
release 1.0.0; release 1.1.0; release 1.2.0; release 1.3.0
release 1.1.0 storeqr-hq; release 1.1.0 storeqr-kiosk other

# The kiosk box: release 1.0.0 in slot a of a temp root.
ROOT=$TMP/root; mkdir -p "$ROOT/etc/storeqr"; cp keys/storeqr-update.pub "$ROOT/etc/storeqr/update.pub"
UPD=("$BIN_UPDATE" --root "$ROOT" --restart-cmd true
     --health-cmd '"$STOREQR_ROOT"/opt/storeqr/current/bin/health' --timeout 5 --settle 0.2)
"${UPD[@]}" install b-1.0.0 >/dev/null || fail "factory install"
RELFILE=$ROOT/opt/storeqr/current/.storeqr-release
running() { sed -n 's/^version //p' "$RELFILE"; }

enrol() { # DIR STORE
  mkdir -p "$1"; "$BIN_STOREQR" --db "$1/kiosk.db" init >/dev/null
  "$BIN_SYNC" enroll --db "$1/kiosk.db" --hq "$URL" --code "$(hq_code hq "$2" 1)" \
    --ca hq/hq-ca.crt >/dev/null || fail "enrol $1"
}
enrol k SH-JA01
enrol x SH-XH02
sync_k() { "$BIN_SYNC" --once --db k/kiosk.db --release-file "$RELFILE" "$@"; }
last_note() { sqlite3 "$1" "SELECT ok || ' ' || coalesce(error, '') FROM sync_attempts ORDER BY id DESC LIMIT 1"; }
fetches() { grep -c "fetches bundle" hq/hq.log || true; }

out=$(sync_k) || fail "first sync: $out"
[ -z "$(ls k/updates 2>/dev/null)" ] || fail "an update was fetched before any release"

# HQ refuses what boxes would refuse, before any store sees it.
expect_refused() { # PATTERN ARGS...
  local pat=$1 rc=0; shift
  hq release add --dir hq "$@" >/dev/null 2>rel.err || rc=$?
  [ $rc -ne 0 ] && grep -q -- "$pat" rel.err || fail "release add $*: exit $rc: $(cat rel.err)"
  echo "release add refused: $(sed 's/^storeqr-hq: //' rel.err | cut -c1-110)"
}
expect_refused "signed by another key" b-1.1.0-storeqr-kiosk-other
expect_refused 'bundle for "storeqr-hq"' b-1.1.0-storeqr-hq
expect_refused 'no store "SH-NOPE"' --stores SH-JA01,SH-NOPE b-1.1.0
[ ! -e hq/releases.json ] || fail "a refused release was recorded"

# A pilot release for SH-JA01 only.
cv=$(kiosk_json k/kiosk.db config_version)
rel=$(hq release add --dir hq --stores SH-JA01 b-1.1.0) || fail "release add"
sha=$(json_get "$rel" sha256)
[ "$sha" = "$(sha256sum b-1.1.0 | cut -d' ' -f1)" ] || fail "HQ names the bundle by $sha"
cmp -s b-1.1.0 "hq/bundles/$sha.bundle" || fail "HQ's copy differs"

out=$(sync_k) || fail "sync after release: $out"
grep -q "update 1.1.0: downloaded, queued for storeqr-update" <<<"$out" || fail "not queued: $out"
[ "$(kiosk_json k/kiosk.db config_version)" -gt "$cv" ] || fail "config version did not move"
[ "$(sha256sum "k/updates/$sha.bundle" | cut -d' ' -f1)" = "$sha" ] || fail "download's sha256"
[ "$(cat k/updates/queued)" = "$sha" ] || fail "queued: $(cat k/updates/queued)"
[ ! -e "k/updates/$sha.bundle.tmp" ] || fail "partial download left"
last_note k/kiosk.db | grep -q "^1 update 1.1.0: downloaded" || fail "attempt log: $(last_note k/kiosk.db)"
echo "pilot release reached SH-JA01/1: $sha"
# The other store's kiosk is not part of the pilot.
printf 'product storeqr-kiosk\nversion 1.0.0\n' >x/release   # SH-XH02's box runs 1.0.0
"$BIN_SYNC" --once --db x/kiosk.db --release-file x/release >/dev/null || fail "sync x"
[ -z "$(ls x/updates 2>/dev/null)" ] || fail "SH-XH02 fetched SH-JA01's pilot"

# Never downloaded twice: a second pass finds the verified file.
n=$(fetches)
out=$(sync_k) || fail "second sync: $out"
grep -q "queued, waiting for storeqr-update" <<<"$out" || fail "second pass: $out"
[ "$(fetches)" = "$n" ] || fail "the bundle was downloaded again"

# The root side (storeqr-update-queue.path runs this) installs it.
"${UPD[@]}" --queue k/updates install-queued >/dev/null || fail "install-queued"
[ "$(running)" = 1.1.0 ] || fail "1.1.0 not running"
out=$(sync_k) || fail "sync after install: $out"
[ -z "$(ls k/updates/*.bundle 2>/dev/null)" ] || fail "an installed bundle kept its disk space"
echo "installed through the queue: running $(running)"

# A release for every store, installed by the sync client itself
# (--update-cmd, where it runs as root).
rel=$(hq release add --dir hq b-1.2.0) || fail "release add 1.2.0"
sha=$(json_get "$rel" sha256)
UPDCMD="$BIN_UPDATE --root $ROOT --restart-cmd true --health-cmd true --timeout 5 --settle 0.2 install"
out=$(sync_k --update-cmd "$UPDCMD") || fail "sync with --update-cmd: $out"
grep -q "update 1.2.0: storeqr-update exited 0 (installed)" <<<"$out" || fail "update-cmd: $out"
[ "$(running)" = 1.2.0 ] || fail "1.2.0 not running"
grep -q "^$sha ok exit 0" k/updates/result || fail "result: $(cat k/updates/result)"
"$BIN_SYNC" --once --db x/kiosk.db --release-file x/release >/dev/null || fail "sync x"
[ "$(cat x/updates/queued 2>/dev/null)" = "$sha" ] || fail "SH-XH02 did not get the release for every store"
echo "release for every store installed by --update-cmd: running $(running)"

# Altered on HQ's disk: the kiosk refuses it, nothing is handed over, the
# pass is still good and the refusal is in its record.
rel=$(hq release add --dir hq b-1.3.0) || fail "release add 1.3.0"
sha=$(json_get "$rel" sha256)
printf '\x42' | dd of="hq/bundles/$sha.bundle" bs=1 seek=5000 conv=notrunc status=none
out=$(sync_k) || fail "a tampered bundle failed the pass: $out"
grep -q "update 1.3.0: download refused: SHA-256 mismatch" <<<"$out" || fail "tamper: $out"
[ -z "$(ls k/updates/"$sha"* 2>/dev/null)" ] || fail "tampered bytes kept"
[ "$(cat k/updates/queued 2>/dev/null)" != "$sha" ] || fail "tampered bundle queued"
last_note k/kiosk.db | grep -q "^1 update 1.3.0: download refused: SHA-256 mismatch" ||
  fail "attempt log: $(last_note k/kiosk.db)"
[ "$(running)" = 1.2.0 ] || fail "running changed"
echo "tampered bundle refused: $(grep -o 'SHA-256 mismatch.*' <<<"$out" | cut -c1-60)"

# The route: strict names, kiosks only.
get() { # PATH [curl args] -> HTTP status
  local path=$1; shift
  curl -s -o /dev/null -w '%{http_code}' --path-as-is --max-time 10 --cacert hq/hq-ca.crt "$@" "$URL$path"
}
KC=(--cert k/kiosk.crt --key k/kiosk.key)
[ "$(get "/v1/bundles/$sha.bundle" "${KC[@]}")" = 200 ] || fail "a good name is not served"
for bad in "/v1/bundles/x.bundle" "/v1/bundles/${sha^^}.bundle" "/v1/bundles/../hq.db" \
           "/v1/bundles/%2e%2e%2fmaster.key" "/v1/bundles/$sha.bundle.part" "/v1/bundles/$sha" \
           "/v1/bundles/"; do
  s=$(get "$bad" "${KC[@]}")
  [ "$s" = 400 ] || [ "$s" = 404 ] || fail "$bad: $s"
  echo "bad name $bad: $s"
done
[ "$(get "/v1/bundles/$(printf '%064d' 0).bundle" "${KC[@]}")" = 404 ] || fail "unknown bundle not 404"
[ "$(get "/v1/bundles/$sha.bundle")" = 401 ] || fail "no client certificate: not 401"
echo "no client certificate: 401"

# A forced rollback, bound to the version it replaces and an expiry
# (bundle.h): HQ shows both, the kiosk fetches it and storeqr-update
# installs it over exactly that version. Forced bundles boxes would refuse
# (the old, unbound format; expired) HQ refuses when they are added.
"$BIN_BUNDLE" pack --key keys/storeqr-update.key --product storeqr-kiosk --version 1.1.0 --forced \
  --forced-from 1.2.0 --forced-until "$(date -u -d '+7 days' +%F)" rel-1.1.0 b-1.1.0-forced >/dev/null
rel=$(hq release add --dir hq b-1.1.0-forced) || fail "forced release add"
grep -q '"forced":true,"forced_from":"1.2.0","forced_until":[0-9]*,' <<<"$rel" || fail "forced release: $rel"
grep -q '"forced_from":[[:space:]]*"1.2.0"' hq/releases.json || fail "releases.json lacks forced_from"
out=$(sync_k --update-cmd "$UPDCMD") || fail "sync with a forced release: $out"
grep -q "update 1.1.0: storeqr-update exited 0 (installed)" <<<"$out" || fail "forced: $out"
[ "$(running)" = 1.1.0 ] || fail "forced rollback not running"
echo "forced rollback 1.2.0 -> $(running): $(cut -c1-150 <<<"$rel")"
forge() { "$BIN_FORGE" --key keys/storeqr-update.key "$@" bin 40755 - bin/health 100755 rel-1.0.0/bin/health; }
forge --format 1 --flags 1 --version 1.0.5 b-old-forced
expect_refused "forced bundle in the old format" b-old-forced
forge --flags 1 --version 1.0.5 --forced-from 1.1.0 --forced-until $(( $(date +%s) - 60 )) b-expired
expect_refused "forced bundle that expired" b-expired
hq_stop hq
echo "PASS update fetch"
