#!/bin/bash
# test_update.sh — storeqr-bundle + storeqr-update end to end, in a temp root.
# usage: test_update.sh BUNDLE_BIN UPDATE_BIN CASE
# CASE: good | refused | rollback | kill | seed | queued | hostile
# Each "release" holds bin/health, which the health command runs from the
# slot `current` names: a release whose health exits 1 is a kiosk that
# never becomes healthy.
set -euo pipefail
BUNDLE=$1 UPDATE=$2 CASE=$3
T=$(mktemp -d "${SQR_TEST_TMP:-/tmp}/fw-update.XXXXXX" 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
ROOT=$T/root; mkdir -p "$ROOT/etc/storeqr"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BUNDLE" keygen "$T/hq" >/dev/null
"$BUNDLE" keygen "$T/other" >/dev/null
cp "$T/hq.pub" "$ROOT/etc/storeqr/update.pub"

# release VERSION HEALTH_EXIT -> $T/rel-VERSION
release() {
  local d=$T/rel-$1; mkdir -p "$d/bin" "$d/share/storeqr"
  printf '#!/bin/sh\nexit %s\n' "$2" >"$d/bin/health"; chmod 755 "$d/bin/health"
  echo "kiosk $1" >"$d/bin/storeqr-kiosk"; chmod 755 "$d/bin/storeqr-kiosk"
  head -c 200000 /dev/urandom >"$d/share/storeqr/blob"
  ln -sf ../../bin/storeqr-kiosk "$d/share/storeqr/link"
}
pack() { # VERSION OUT [extra pack args]
  local v=$1 out=$2; shift 2
  "$BUNDLE" pack --key "$T/hq.key" --product storeqr-kiosk --version "$v" "$@" "$T/rel-$v" "$out" >/dev/null
}
upd() {
  "$UPDATE" --root "$ROOT" --restart-cmd "true" \
    --health-cmd '"$STOREQR_ROOT"/opt/storeqr/current/bin/health' \
    --timeout "${TIMEOUT:-5}" --settle 0.2 "$@"
}
cur() { readlink "$ROOT/opt/storeqr/current"; }
version_of_current() { sed -n 's/^version //p' "$ROOT/opt/storeqr/current/.storeqr-release"; }
# The slot `current` names is complete: its release file exists and its
# files are byte-identical to the release it claims to be.
check_complete() {
  local v; v=$(version_of_current) || fail "current has no release file"
  diff -r --no-dereference "$T/rel-$v" "$ROOT/opt/storeqr/current/" -x .storeqr-release >/dev/null \
    || fail "slot $(cur) does not match release $v"
}
snapshot() { (cd "$ROOT/opt" && find . -printf '%p %l %s %m\n' | sort; readlink storeqr/current) | md5sum; }

release 1.0.0 0; release 1.1.0 0; release 1.2.0 1; release 0.9.0 0
pack 1.0.0 "$T/b100"; pack 1.1.0 "$T/b110"; pack 1.2.0 "$T/b120-sick"
pack 0.9.0 "$T/b090"; pack 0.9.0 "$T/b090-forced" --forced

case $CASE in
good)
  upd install "$T/b100" || fail "first install"
  [ "$(cur)" = slots/a ] || fail "first install not in slot a"; check_complete
  upd install "$T/b110" || fail "upgrade"
  [ "$(cur)" = slots/b ] && [ "$(version_of_current)" = 1.1.0 ] || fail "upgrade did not switch"
  check_complete
  [ -L "$ROOT/opt/storeqr/current/share/storeqr/link" ] || fail "symlink lost"
  [ -x "$ROOT/opt/storeqr/current/bin/health" ] || fail "mode lost"
  [ ! -e "$ROOT/var/lib/storeqr/update.pending" ] || fail "pending left behind"
  grep -q "installed storeqr-kiosk 1.1.0 in slot b: healthy" "$ROOT/var/lib/storeqr/update.log" || fail "log"
  # HQ-ordered downgrade: allowed only because it is signed as forced.
  upd install "$T/b090-forced" || fail "forced downgrade"
  [ "$(version_of_current)" = 0.9.0 ] && [ "$(cur)" = slots/a ] || fail "forced downgrade did not switch"
  check_complete
  "$UPDATE" --root "$ROOT" status | grep -q "slot a storeqr-kiosk 0.9.0" || fail status
  ;;
refused)
  upd install "$T/b100" >/dev/null || fail "install"
  before=$(snapshot)
  # expect BUNDLE MESSAGE: refused (exit 1), message on stderr, nothing changed
  expect() {
    local out rc=0; out=$(upd install "$1" 2>&1) || rc=$?
    [ $rc -eq 1 ] || fail "$1: exit $rc, want 1 ($out)"
    grep -q -- "$2" <<<"$out" || fail "$1: message '$out' lacks '$2'"
    [ "$(snapshot)" = "$before" ] || fail "$1: something changed"
    echo "ok: $(basename "$1"): $(grep refused <<<"$out" | head -1)"
  }
  size=$(stat -c %s "$T/b110")
  cp "$T/b110" "$T/payload-flip"   # a byte of a file in the payload
  printf '\x55' | dd of="$T/payload-flip" bs=1 seek=$((size - 1000)) conv=notrunc status=none
  cp "$T/b110" "$T/header-flip"    # the version field: 1.1.0 -> 1.1.1
  printf '1' | dd of="$T/header-flip" bs=1 seek=44 conv=notrunc status=none
  cp "$T/b110" "$T/unsigned"
  dd if=/dev/zero of="$T/unsigned" bs=1 seek=96 count=64 conv=notrunc status=none
  "$BUNDLE" pack --key "$T/other.key" --product storeqr-kiosk --version 1.1.0 "$T/rel-1.1.0" "$T/wrongkey" >/dev/null
  "$BUNDLE" pack --key "$T/hq.key" --product storeqr-hq --version 1.1.0 "$T/rel-1.1.0" "$T/wrongproduct" >/dev/null
  head -c 5000 "$T/b110" >"$T/truncated"
  expect "$T/payload-flip" "tampered with"
  expect "$T/header-flip" "tampered with"
  expect "$T/unsigned" "not signed"
  expect "$T/wrongkey" "signed by another key"
  expect "$T/wrongproduct" 'for product "storeqr-hq"'
  expect "$T/b090" "not newer than the installed 1.0.0"
  expect "$T/b100" "not newer than the installed 1.0.0"
  expect "$T/truncated" "truncated"
  [ "$(grep -c refused "$ROOT/var/lib/storeqr/update.log")" -eq 8 ] || fail "refusals not logged"
  ;;
rollback)
  upd install "$T/b100" >/dev/null || fail "install"
  rc=0; TIMEOUT=2 upd install "$T/b120-sick" 2>"$T/err" || rc=$?
  [ $rc -eq 1 ] || fail "sick release: exit $rc, want 1"
  [ "$(cur)" = slots/a ] && [ "$(version_of_current)" = 1.0.0 ] || fail "not rolled back"
  check_complete
  grep -q "rolled back to slot a: release 1.2.0 in slot b was unhealthy (the health check did not pass" \
    "$ROOT/var/lib/storeqr/update.log" || fail "rollback reason not recorded"
  [ ! -e "$ROOT/var/lib/storeqr/update.pending" ] || fail "pending left behind"
  # A failing restart command is a failed update too.
  rc=0; "$UPDATE" --root "$ROOT" --restart-cmd false --health-cmd true --timeout 2 --settle 0 \
    install "$T/b110" 2>/dev/null || rc=$?
  [ $rc -eq 1 ] && [ "$(cur)" = slots/a ] || fail "failed restart not rolled back"
  grep -q "the restart command failed" "$ROOT/var/lib/storeqr/update.log" || fail "restart reason"
  # Then a good one still goes in.
  upd install "$T/b110" >/dev/null || fail "install after rollback"
  [ "$(version_of_current)" = 1.1.0 ] || fail "good after rollback"; check_complete
  ;;
kill)
  for step in verified unpack unpacked synced pending linked switched restarted; do
    rm -rf "$ROOT/opt" "$ROOT/var"
    upd install "$T/b100" >/dev/null || fail "install"
    rc=0; SQR_UPDATE_KILL_AT=$step upd install "$T/b110" 2>/dev/null || rc=$?
    [ $rc -eq 137 ] || fail "$step: exit $rc, want 137 (SIGKILL)"
    check_complete
    v=$(version_of_current)
    case $step in switched|restarted) [ "$v" = 1.1.0 ] || fail "$step: want 1.1.0";;
                  *) [ "$v" = 1.0.0 ] || fail "$step: want 1.0.0";; esac
    # Boot-time recovery confirms (healthy) or undoes the unconfirmed switch.
    upd recover >/dev/null || fail "$step: recover"
    [ ! -e "$ROOT/var/lib/storeqr/update.pending" ] || fail "$step: pending after recover"
    check_complete
    # And the next update works from whatever state the kill left.
    TIMEOUT=1 upd install "$T/b120-sick" >/dev/null 2>&1 && fail "$step: sick release accepted"
    check_complete
    echo "ok: killed at $step -> current $(cur) = $v"
  done
  # Killed after switching to a sick release: recover rolls back.
  rm -rf "$ROOT/opt" "$ROOT/var"
  upd install "$T/b100" >/dev/null
  SQR_UPDATE_KILL_AT=switched upd install "$T/b120-sick" 2>/dev/null && fail "not killed"
  [ "$(version_of_current)" = 1.2.0 ] || fail "expected the sick slot current after the kill"
  TIMEOUT=1 upd recover 2>/dev/null && fail "recover should report the rollback"
  [ "$(version_of_current)" = 1.0.0 ] || fail "recover did not roll back"; check_complete
  ;;
seed)
  # The package's factory release (postinst: storeqr-update seed DIR VER):
  # into slot a on a fresh box, kept when a bundle brought something newer,
  # into the inactive slot when the package is newer.
  upd seed "$T/rel-1.0.0" 1.0.0 || fail "seed on a fresh box"
  [ "$(cur)" = slots/a ] && [ "$(version_of_current)" = 1.0.0 ] || fail "seed not in slot a"
  check_complete
  grep -q '^bundle-sha256 (package)' "$ROOT/opt/storeqr/current/.storeqr-release" || fail "release file"
  upd install "$T/b110" >/dev/null || fail "bundle over a seeded slot"
  out=$(upd seed "$T/rel-1.0.0" 1.0.0) || fail "seed older"
  grep -q "kept" <<<"$out" && [ "$(version_of_current)" = 1.1.0 ] || fail "older package replaced a newer bundle"
  upd seed "$T/rel-1.2.0" 1.2.0 >/dev/null || fail "seed newer"
  [ "$(version_of_current)" = 1.2.0 ] && [ "$(cur)" = slots/a ] || fail "newer package not switched"
  check_complete
  rc=0; upd seed "$T/nope" 1.3.0 2>/dev/null || rc=$?
  [ $rc -eq 2 ] || fail "seed from a missing directory: exit $rc"
  ;;
queued)
  # The sync client queued a download (sync/client/fetch.h); the path
  # unit's storeqr-update install-queued installs it and answers.
  Q=$ROOT/var/lib/storeqr/updates; mkdir -p "$Q"
  upd install "$T/b100" >/dev/null || fail "install"
  sha=$(sha256sum "$T/b110" | cut -d' ' -f1)
  cp "$T/b110" "$Q/$sha.bundle"; echo "$sha" >"$Q/queued"
  upd install-queued || fail "install-queued"
  [ "$(version_of_current)" = 1.1.0 ] || fail "queued bundle not installed"
  [ ! -e "$Q/queued" ] && [ ! -e "$Q/$sha.bundle" ] || fail "queue not cleared"
  [ "$(cat "$Q/result")" = "$sha ok exit 0" ] || fail "result: $(cat "$Q/result")"
  # A refused one is answered too, and stays for the sync client to see.
  sha=$(sha256sum "$T/b090" | cut -d' ' -f1)
  cp "$T/b090" "$Q/$sha.bundle"; echo "$sha" >"$Q/queued"
  rc=0; upd install-queued 2>/dev/null || rc=$?
  [ $rc -eq 1 ] && [ "$(cat "$Q/result")" = "$sha refused exit 1" ] || fail "refusal not answered"
  # Never through a link planted in the (unprivileged) queue directory.
  rm -f "$Q/$sha.bundle"; ln -s "$T/b120-sick" "$Q/$sha.bundle"; echo "$sha" >"$Q/queued"
  rc=0; upd install-queued 2>/dev/null || rc=$?
  [ $rc -ne 0 ] && [ "$(version_of_current)" = 1.1.0 ] || fail "followed a symlink"
  echo "not a sha" >"$Q/queued"
  rc=0; upd install-queued 2>/dev/null || rc=$?
  [ $rc -eq 2 ] && [ ! -e "$Q/queued" ] || fail "bad queue file: exit $rc"
  ;;
hostile)
  # A signed release whose payload plants a symbolic link at the name the
  # updater's release file is written through (.storeqr-release.tmp),
  # aimed at a file outside the slot: the write must not follow it (the
  # temporary name is cleared and opened O_EXCL|O_NOFOLLOW, atomicfile.h).
  echo "precious" >"$T/victim"
  release 1.3.0 0
  ln -s "$T/victim" "$T/rel-1.3.0/.storeqr-release.tmp"
  pack 1.3.0 "$T/b130-planted"
  upd install "$T/b100" >/dev/null || fail "install"
  upd install "$T/b130-planted" >/dev/null 2>&1 || true
  [ "$(cat "$T/victim")" = precious ] || fail "the updater wrote through a planted link: $(cat "$T/victim")"
  [ -L "$T/victim" ] && fail "the victim was replaced by a link"
  v=$(version_of_current)
  case $v in 1.0.0|1.3.0) ;; *) fail "current is $v after the planted bundle" ;; esac
  grep -q "^version $v" "$ROOT/opt/storeqr/current/.storeqr-release" || fail "release file"
  echo "ok: a planted .storeqr-release.tmp link is not followed (current $v)"
  ;;
*) fail "unknown case $CASE" ;;
esac
echo "PASS $CASE"
