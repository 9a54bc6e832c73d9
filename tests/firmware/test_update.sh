#!/bin/bash
# test_update.sh — storeqr-bundle + storeqr-update end to end, in a temp root.
# usage: test_update.sh BUNDLE_BIN UPDATE_BIN CASE FORGE_BIN
# CASE: good | refused | rollback | kill | seed | queued | hostile | forced
#       | installed
# Each "release" holds bin/health, which the health command runs from the
# slot `current` names: a release whose health exits 1 is a kiosk that
# never becomes healthy. FORGE_BIN (tests/firmware/forge_bundle.c) signs
# bundles storeqr-bundle refuses to make, with the same key.
set -euo pipefail
BUNDLE=$1 UPDATE=$2 CASE=$3 FORGE=${4:-}
T=$(mktemp -d "${SQR_TEST_TMP:-/tmp}/fw-update.XXXXXX" 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
ROOT=$T/root; mkdir -p "$ROOT/etc/storeqr"
STATE=$ROOT/var/lib/storeqr-update   # root's: installed, update.log, .pending
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
}
# forge VERSION OUT [forge options]: release VERSION's files, signed by the
# forge helper (a control that it makes bundles the box accepts).
forge() {
  local v=$1 out=$2 d=$T/rel-$1; shift 2
  "$FORGE" --key "$T/hq.key" --version "$v" "$@" "$out" bin 40755 - \
    bin/health 100755 "$d/bin/health" bin/storeqr-kiosk 100755 "$d/bin/storeqr-kiosk" \
    share 40755 - share/storeqr 40755 - share/storeqr/blob 100644 "$d/share/storeqr/blob"
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
installed() { sed -n 's/^version //p' "$STATE/installed"; }
# `installed` (root's record, what versions are checked against) names the
# release `current` runs, in the slot it runs from.
check_installed() {
  [ "$(installed)" = "$(version_of_current)" ] && grep -qx "slot ${1:-$(cur | cut -c7)}" "$STATE/installed" \
    || fail "installed says '$(tr '\n' ' ' <"$STATE/installed")', current is $(cur) $(version_of_current)"
}
# The slot `current` names is complete: its release file exists and its
# files are byte-identical to the release it claims to be.
check_complete() {
  local v; v=$(version_of_current) || fail "current has no release file"
  diff -r --no-dereference "$T/rel-$v" "$ROOT/opt/storeqr/current/" -x .storeqr-release >/dev/null \
    || fail "slot $(cur) does not match release $v"
}
snapshot() { (cd "$ROOT/opt" && find . -printf '%p %l %s %m\n' | sort; readlink storeqr/current) | md5sum; }
# Every name, type, mode, size, link target and file's bytes under the
# test's directory (ROOT, both slots, root's state, the victims planted
# outside ROOT, the bundles) except update.log, which a refusal appends to.
tree_sum() {
  (cd "$T" && find . -path ./root/var/lib/storeqr-update/update.log -prune -o \
      -printf '%p %y %m %s %l\n' | sort
   find . -path ./root/var/lib/storeqr-update/update.log -prune -o -type f -print0 | sort -z |
     xargs -0 sha256sum) | sha256sum
}
# refused_as EXIT MESSAGE BUNDLE: storeqr-update install exits EXIT, says
# MESSAGE, and not one file under $T changed.
refused_as() {
  local want=$1 msg=$2 b=$3 before out rc=0
  before=$(tree_sum)
  out=$(upd install "$b" 2>&1) || rc=$?
  [ $rc -eq "$want" ] || fail "$(basename "$b"): exit $rc, want $want ($out)"
  grep -q -- "$msg" <<<"$out" || fail "$(basename "$b"): message '$out' lacks '$msg'"
  [ "$(tree_sum)" = "$before" ] || fail "$(basename "$b"): a file changed"
  echo "ok: $(basename "$b"): $(grep -o 'refused.*' <<<"$out" | head -1 | cut -c1-150)"
}
# pack_refused MESSAGE PACK_ARGS...: storeqr-bundle pack fails with MESSAGE
# and writes nothing.
pack_refused() {
  local msg=$1 out rc=0; shift
  out=$("$BUNDLE" pack --key "$T/hq.key" --product storeqr-kiosk "$@" 2>&1) || rc=$?
  [ $rc -eq 2 ] || fail "pack $*: exit $rc ($out)"
  grep -q -- "$msg" <<<"$out" || fail "pack $*: '$out' lacks '$msg'"
  [ ! -e "$T/nope" ] || fail "pack $*: wrote a bundle"
  echo "ok: pack refused: $(grep -v '^storeqr-bundle: pack failed' <<<"$out" | head -1 | cut -c1-140)"
}
UNTIL=$(date -u -d '+7 days' +%F)

release 1.0.0 0; release 1.1.0 0; release 1.2.0 1; release 0.9.0 0
pack 1.0.0 "$T/b100"; pack 1.1.0 "$T/b110"; pack 1.2.0 "$T/b120-sick"
pack 0.9.0 "$T/b090"
pack 0.9.0 "$T/b090-forced" --forced --forced-from 1.1.0 --forced-until "$UNTIL"

case $CASE in
good)
  # A box with no release yet and no `installed`: a first install needs no
  # version check; `installed` is written once it is healthy.
  upd install "$T/b100" || fail "first install"
  [ "$(cur)" = slots/a ] || fail "first install not in slot a"; check_complete; check_installed a
  [ "$(stat -c '%a %U' "$STATE")" = "755 $(id -un)" ] && [ "$(stat -c %a "$STATE/installed")" = 644 ] \
    || fail "state modes: $(stat -c '%a %U' "$STATE" "$STATE/installed")"
  upd install "$T/b110" || fail "upgrade"
  [ "$(cur)" = slots/b ] && [ "$(version_of_current)" = 1.1.0 ] || fail "upgrade did not switch"
  check_complete; check_installed b
  [ -x "$ROOT/opt/storeqr/current/bin/health" ] || fail "mode lost"
  [ ! -e "$STATE/update.pending" ] || fail "pending left behind"
  grep -q "installed storeqr-kiosk 1.1.0 in slot b: healthy" "$STATE/update.log" || fail "log"
  [ ! -e "$ROOT/var/lib/storeqr/update.log" ] || fail "root wrote into the storeqr user's directory"
  # HQ-ordered downgrade: allowed only because it is signed as forced, from
  # exactly 1.1.0, before its expiry.
  upd install "$T/b090-forced" || fail "forced downgrade"
  [ "$(version_of_current)" = 0.9.0 ] && [ "$(cur)" = slots/a ] || fail "forced downgrade did not switch"
  check_complete; check_installed a
  grep -q "HQ signed this as forced (from 1.1.0, until ${UNTIL}T23:59:59Z)" "$STATE/update.log" || fail "forced log"
  st=$("$UPDATE" --root "$ROOT" status)
  grep -q "slot a storeqr-kiosk 0.9.0" <<<"$st" && grep -q "installed: slot a storeqr-kiosk 0.9.0" <<<"$st" \
    || fail "status: $st"
  "$BUNDLE" info "$T/b090-forced" | grep -qx "forced-from 1.1.0" || fail "info: forced-from"
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
  cp "$T/b110" "$T/payload-flip"   # a byte of a file in the payload, inverted: writing a
  # fixed value left the bundle as it was whenever the byte already held it (1 run in 256)
  byte=$(od -An -tu1 -j $((size - 1000)) -N1 "$T/b110" | tr -d ' ')
  printf "\\x$(printf %02x $((byte ^ 0xff)))" |
    dd of="$T/payload-flip" bs=1 seek=$((size - 1000)) conv=notrunc status=none
  cmp -s "$T/b110" "$T/payload-flip" && fail "payload-flip: the flip changed nothing"
  cp "$T/b110" "$T/header-flip"    # the version field: 1.1.0 -> 1.1.1
  printf '1' | dd of="$T/header-flip" bs=1 seek=44 conv=notrunc status=none
  cp "$T/b110" "$T/unsigned"
  dd if=/dev/zero of="$T/unsigned" bs=1 seek=136 count=64 conv=notrunc status=none  # format 2
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
  [ "$(grep -c refused "$STATE/update.log")" -eq 8 ] || fail "refusals not logged"
  ;;
rollback)
  upd install "$T/b100" >/dev/null || fail "install"
  rc=0; TIMEOUT=2 upd install "$T/b120-sick" 2>"$T/err" || rc=$?
  [ $rc -eq 1 ] || fail "sick release: exit $rc, want 1"
  [ "$(cur)" = slots/a ] && [ "$(version_of_current)" = 1.0.0 ] || fail "not rolled back"
  check_complete
  grep -q "rolled back to slot a: release 1.2.0 in slot b was unhealthy (the health check did not pass" \
    "$STATE/update.log" || fail "rollback reason not recorded"
  [ ! -e "$STATE/update.pending" ] || fail "pending left behind"
  check_installed a
  # A failing restart command is a failed update too.
  rc=0; "$UPDATE" --root "$ROOT" --restart-cmd false --health-cmd true --timeout 2 --settle 0 \
    install "$T/b110" 2>/dev/null || rc=$?
  [ $rc -eq 1 ] && [ "$(cur)" = slots/a ] || fail "failed restart not rolled back"
  grep -q "the restart command failed" "$STATE/update.log" || fail "restart reason"
  # Then a good one still goes in.
  upd install "$T/b110" >/dev/null || fail "install after rollback"
  [ "$(version_of_current)" = 1.1.0 ] || fail "good after rollback"; check_complete; check_installed
  ;;
kill)
  for step in verified unpack unpacked synced pending linked switched restarted healthy; do
    rm -rf "$ROOT/opt" "$ROOT/var"
    upd install "$T/b100" >/dev/null || fail "install"
    rc=0; SQR_UPDATE_KILL_AT=$step upd install "$T/b110" 2>/dev/null || rc=$?
    [ $rc -eq 137 ] || fail "$step: exit $rc, want 137 (SIGKILL)"
    check_complete
    v=$(version_of_current)
    case $step in switched|restarted|healthy) [ "$v" = 1.1.0 ] || fail "$step: want 1.1.0";;
                  *) [ "$v" = 1.0.0 ] || fail "$step: want 1.0.0";; esac
    # Boot-time recovery confirms (healthy) or undoes the unconfirmed switch.
    upd recover >/dev/null || fail "$step: recover"
    [ ! -e "$STATE/update.pending" ] || fail "$step: pending after recover"
    check_complete; check_installed
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
  [ "$(version_of_current)" = 1.0.0 ] || fail "recover did not roll back"; check_complete; check_installed
  # Killed after `installed` named the new, sick release (health passed,
  # then the box lost power and came back sick): recover rolls back and
  # `installed` names the old release again.
  rm -rf "$ROOT/opt" "$ROOT/var"
  upd install "$T/b100" >/dev/null
  SQR_UPDATE_KILL_AT=healthy upd install "$T/b110" 2>/dev/null && fail "not killed"
  printf 'product storeqr-kiosk\nversion 1.1.0\nslot b\n' >"$STATE/installed"
  TIMEOUT=1 upd --health-cmd false recover 2>/dev/null && fail "recover should roll back"
  [ "$(version_of_current)" = 1.0.0 ] && [ "$(installed)" = 1.0.0 ] || fail "installed not rolled back"
  check_installed a
  ;;
seed)
  # The package's factory release (postinst: storeqr-update seed DIR VER):
  # into slot a on a fresh box, kept when a bundle brought something newer,
  # into the inactive slot when the package is newer.
  upd seed "$T/rel-1.0.0" 1.0.0 || fail "seed on a fresh box"
  [ "$(cur)" = slots/a ] && [ "$(version_of_current)" = 1.0.0 ] || fail "seed not in slot a"
  check_complete
  grep -q '^bundle-sha256 (package)' "$ROOT/opt/storeqr/current/.storeqr-release" || fail "release file"
  check_installed a
  upd install "$T/b110" >/dev/null || fail "bundle over a seeded slot"
  out=$(upd seed "$T/rel-1.0.0" 1.0.0) || fail "seed older"
  grep -q "kept" <<<"$out" && [ "$(version_of_current)" = 1.1.0 ] || fail "older package replaced a newer bundle"
  upd seed "$T/rel-1.2.0" 1.2.0 >/dev/null || fail "seed newer"
  [ "$(version_of_current)" = 1.2.0 ] && [ "$(cur)" = slots/a ] || fail "newer package not switched"
  check_complete; check_installed a
  # The package's release obeys the bundle rules too.
  release 1.3.0 0; ln -s /etc/passwd "$T/rel-1.3.0/bin/passwd"
  rc=0; upd seed "$T/rel-1.3.0" 1.3.0 2>/dev/null || rc=$?
  [ $rc -eq 4 ] && [ "$(version_of_current)" = 1.2.0 ] || fail "seed copied a symbolic link: exit $rc"
  grep -q 'seeding slot b .* entry "bin/passwd" is a symbolic link' "$STATE/update.log" || fail "seed's reason"
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
  # The queue directory swapped for a link (the storeqr user owns its
  # parent): refused; nothing is read, removed or written through it.
  mkdir "$T/elsewhere"; sha=$(sha256sum "$T/b120-sick" | cut -d' ' -f1)
  cp "$T/b120-sick" "$T/elsewhere/$sha.bundle"; echo "$sha" >"$T/elsewhere/queued"
  mv "$Q" "$Q.real"; ln -s "$T/elsewhere" "$Q"
  before=$(cd "$T/elsewhere" && ls -la --time-style=+ && sha256sum ./*)
  rc=0; out=$(upd install-queued 2>&1) || rc=$?
  [ $rc -eq 4 ] && grep -q "it must be a directory, not a link" <<<"$out" || fail "queue link: exit $rc: $out"
  [ "$(cd "$T/elsewhere" && ls -la --time-style=+ && sha256sum ./*)" = "$before" ] || fail "wrote through the queue link"
  [ "$(version_of_current)" = 1.1.0 ] || fail "installed through the queue link"
  ;;
hostile)
  # Signed bundles whose entries would reach outside the slot, or onto the
  # updater's own files, or make things no release holds. Each is refused
  # at verification, before anything is written: not one file under $T —
  # ROOT, both slots, root's state, the victim outside ROOT — changes.
  # Both slots hold a release, so a refusal that came after the inactive
  # slot was emptied would show.
  echo "precious" >"$T/victim"
  upd install "$T/b100" >/dev/null && upd install "$T/b110" >/dev/null || fail "install"
  h=$T/rel-1.0.0/bin/health
  hostile() { # NAME MESSAGE [PATH MODE SOURCE]...
    local name=$1 msg=$2; shift 2
    "$FORGE" --key "$T/hq.key" --version 2.0.0 "$T/h-$name" "$@" || fail "forge $name"
    refused_as 1 "$msg" "$T/h-$name"
  }
  reserved="uses a name reserved for the updater's own files"
  plain="is not a plain relative path"
  # The updater writes .storeqr-release through .storeqr-release.tmp: a
  # link planted there, a file or directory in their place, any .storeqr-*.
  hostile tmp-link "entry \".storeqr-release.tmp\" $reserved" .storeqr-release.tmp 120777 "@$T/victim"
  hostile release-file "entry \".storeqr-release\" $reserved" .storeqr-release 100644 "@version 99.0.0"
  hostile release-dir "entry \".storeqr-release\" $reserved" .storeqr-release 40755 -
  hostile tmp-file "entry \".storeqr-release.tmp\" $reserved" .storeqr-release.tmp 100644 "@x"
  hostile other-reserved "entry \".storeqr-anything\" $reserved" .storeqr-anything 100644 "@x"
  hostile nested-reserved "entry \"bin/.storeqr-release\" $reserved" \
    bin 40755 - bin/.storeqr-release 100644 "@x"
  hostile symlink "entry \"bin/passwd\" is a symbolic link" bin 40755 - bin/passwd 120777 @/etc/passwd
  hostile symlink-in "entry \"bin/x\" is a symbolic link" bin 40755 - bin/x 120777 @health
  hostile dotdot "entry \"../escape\" $plain" ../escape 100644 "@x"
  hostile dotdot-deep "entry \"bin/../../escape\" $plain" bin 40755 - bin/../../escape 100644 "@x"
  hostile absolute "entry \"$T/victim\" $plain" "$T/victim" 100644 "@owned"
  hostile newline "entry \"bad?name\" $plain" "bad
name" 100644 "@x"
  hostile chardev "entry \"dev\" is a device node" dev 20644 -
  hostile blockdev "entry \"dev\" is a device node" dev 60644 -
  hostile fifo "entry \"pipe\" is a FIFO" pipe 10644 -
  hostile socket "entry \"sock\" is a socket" sock 140644 -
  hostile setuid "entry \"bin/health\" is setuid or setgid" bin 40755 - bin/health 104755 "$h"
  hostile twice "entry \"bin\" appears twice" bin 40755 - bin 40755 -
  hostile file-twice "entry \"a\" appears twice" a 100644 "@1" a 100644 "@2"
  hostile no-parent "entry \"bin/health\" is not inside a directory entry" bin/health 100755 "$h"
  hostile under-file "entry \"a/b\" is not inside a directory entry" a 100644 "@x" a/b 100644 "@y"
  hostile dir-size "entry \"bin\" is a directory with a size" bin 40755 "@xyz"
  # A forged bundle with a release's entries goes in: the refusals above
  # are the entries', not the forge's.
  [ "$(cur)" = slots/b ] && [ "$(installed)" = 1.1.0 ] || fail "current moved"
  forge 1.1.0 "$T/forged-good" --version 2.0.0
  upd install "$T/forged-good" >/dev/null || fail "a good forged bundle was refused"
  [ "$(version_of_current)" = 2.0.0 ] && [ "$(cat "$T/victim")" = precious ] || fail "forged good"
  # storeqr-bundle refuses to pack what a box would refuse, naming the file.
  release 1.3.0 0
  ln -s "$T/victim" "$T/rel-1.3.0/.storeqr-release.tmp"
  pack_refused "entry \".storeqr-release.tmp\" $reserved" --version 1.3.0 "$T/rel-1.3.0" "$T/nope"
  rm "$T/rel-1.3.0/.storeqr-release.tmp"; ln -s ../bin/health "$T/rel-1.3.0/share/link"
  pack_refused "entry \"share/link\" is a symbolic link" --version 1.3.0 "$T/rel-1.3.0" "$T/nope"
  rm "$T/rel-1.3.0/share/link"; mkfifo "$T/rel-1.3.0/bin/pipe"
  pack_refused "entry \"bin/pipe\" is a FIFO" --version 1.3.0 "$T/rel-1.3.0" "$T/nope"
  rm "$T/rel-1.3.0/bin/pipe"; echo x >"$T/rel-1.3.0/.storeqr-release"
  pack_refused "entry \".storeqr-release\" $reserved" --version 1.3.0 "$T/rel-1.3.0" "$T/nope"
  ;;
forced)
  # A forced bundle replaces exactly forced_from, until forced_until.
  upd install "$T/b100" >/dev/null && upd install "$T/b110" >/dev/null || fail "install"
  past=$(( $(date +%s) - 60 ))
  pack_refused "--forced needs --forced-from VERSION" --version 0.9.0 --forced "$T/rel-0.9.0" "$T/nope"
  pack_refused "--forced needs" --version 0.9.0 --forced --forced-from 1.1.0 "$T/rel-0.9.0" "$T/nope"
  pack_refused "--forced needs" --version 0.9.0 --forced --forced-until "$UNTIL" "$T/rel-0.9.0" "$T/nope"
  pack_refused "only go with --forced" --version 0.9.0 --forced-from 1.1.0 "$T/rel-0.9.0" "$T/nope"
  pack_refused "is in the past" --version 0.9.0 --forced --forced-from 1.1.0 --forced-until 2000-01-01 \
    "$T/rel-0.9.0" "$T/nope"
  pack_refused "more than 90 days ahead" --version 0.9.0 --forced --forced-from 1.1.0 \
    --forced-until "$(date -u -d '+200 days' +%F)" "$T/rel-0.9.0" "$T/nope"
  pack_refused "must be YYYY-MM-DD" --version 0.9.0 --forced --forced-from 1.1.0 --forced-until 2030-02-30 \
    "$T/rel-0.9.0" "$T/nope"
  pack_refused "must be a numeric version" --version 0.9.0 --forced --forced-from 1.x --forced-until "$UNTIL" \
    "$T/rel-0.9.0" "$T/nope"
  pack 0.9.0 "$T/from-wrong" --forced --forced-from 1.0.0 --forced-until "$UNTIL"
  refused_as 1 "forced to replace only version 1.0.0, and this box runs 1.1.0" "$T/from-wrong"
  forge 0.9.0 "$T/expired" --flags 1 --forced-from 1.1.0 --forced-until "$past"
  refused_as 1 "it is forced, but only until .*, and it expired" "$T/expired"
  forge 0.9.0 "$T/old-forced" --format 1 --flags 1
  refused_as 1 "forced bundle in the old format (SQRBNDL1)" "$T/old-forced"
  forge 0.9.0 "$T/unbound" --flags 1
  refused_as 1 "header is damaged" "$T/unbound"
  forge 1.2.0 "$T/unknown-flag" --flags 2
  refused_as 1 "header is damaged" "$T/unknown-flag"
  # The forced downgrade HQ signed goes in once ...
  upd install "$T/b090-forced" >/dev/null || fail "forced downgrade"
  [ "$(installed)" = 0.9.0 ] || fail "forced downgrade not installed"
  # ... and, once a fixed 1.1.1 runs, a replay of it is refused: it was
  # bound to 1.1.0.
  release 1.1.1 0; pack 1.1.1 "$T/b111"
  upd install "$T/b111" >/dev/null || fail "upgrade after the rollback"
  refused_as 1 "forced to replace only version 1.1.0, and this box runs 1.1.1" "$T/b090-forced"
  # An old-format (SQRBNDL1) normal bundle still installs.
  forge 1.1.0 "$T/old-normal" --format 1 --version 1.2.5
  "$BUNDLE" info "$T/old-normal" | grep -qx "format 1" || fail "not format 1"
  upd install "$T/old-normal" >/dev/null || fail "an old-format normal bundle was refused"
  [ "$(installed)" = 1.2.5 ] || fail "old-format bundle not installed"
  ;;
installed)
  # Root's record of the running version, outside the slot and outside
  # the storeqr user's /var/lib/storeqr. Without it, nothing installs.
  upd install "$T/b100" >/dev/null || fail "install"; check_installed a
  cp "$STATE/installed" "$T/installed.good"
  fix="run \`storeqr-update seed /usr/lib/storeqr/release VERSION\`"
  rm "$STATE/installed"
  refused_as 3 "installed is missing: this box was set up by an older storeqr-update.*$fix" "$T/b110"
  printf 'garbage\n' >"$STATE/installed"
  refused_as 3 "installed is damaged" "$T/b110"
  printf 'product storeqr-kiosk\nversion 1.0.0\nslot a' >"$STATE/installed"   # cut off
  refused_as 3 "installed is damaged" "$T/b110"
  printf 'product storeqr-kiosk\nversion 1.0.0\nversion 0.1.0\nslot a\n' >"$STATE/installed"
  refused_as 3 "installed is damaged" "$T/b110"
  printf 'product storeqr-kiosk\nversion 1.0.0\nslot b\n' >"$STATE/installed"
  refused_as 3 "says slot b runs 1.0.0, but current is slots/a" "$T/b110"
  rm "$STATE/installed"; mkdir "$STATE/installed"
  refused_as 3 "cannot read .*installed" "$T/b110"
  rmdir "$STATE/installed"; ln -s "$T/installed.good" "$STATE/installed"
  refused_as 3 "cannot read .*installed: Too many levels of symbolic links" "$T/b110"
  rm "$STATE/installed"
  # A box from the old layout: the sync user's directory holds the old
  # state files (and could hold anything). Root ignores them: a planted
  # update.pending does not roll anything back ...
  mkdir -p "$ROOT/var/lib/storeqr"
  printf 'old b\nnew a\n' >"$ROOT/var/lib/storeqr/update.pending"
  ln -s "$T/victim" "$ROOT/var/lib/storeqr/update.log"; echo precious >"$T/victim"
  TIMEOUT=1 upd --health-cmd false recover >/dev/null 2>&1 || fail "recover acted on a planted file"
  [ "$(cur)" = slots/a ] && [ "$(cat "$T/victim")" = precious ] || fail "root used /var/lib/storeqr"
  # ... and seed (the package's postinst) migrates: the version comes from
  # the running slot's release file, which only root wrote.
  out=$(upd seed "$T/rel-1.0.0" 1.0.0) || fail "seed on the old layout"
  grep -q kept <<<"$out" && cmp -s "$T/installed.good" "$STATE/installed" || fail "migration: $out"
  upd install "$T/b110" >/dev/null || fail "install after the migration"
  check_installed b
  # seed repairs a damaged record the same way.
  echo garbage >"$STATE/installed"
  upd seed "$T/rel-1.0.0" 1.0.0 >/dev/null || fail "seed over a damaged installed"
  [ "$(installed)" = 1.1.0 ] && [ "$(cur)" = slots/b ] || fail "seed repair"
  # status says what it knows.
  rm "$STATE/installed"
  "$UPDATE" --root "$ROOT" status | grep -q "installed: unknown (cannot read" || fail "status"
  ;;
*) fail "unknown case $CASE" ;;
esac
echo "PASS $CASE"
