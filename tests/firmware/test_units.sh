#!/bin/bash
# test_units.sh — `systemd-analyze verify` on every shipped unit and on the
# kiosk unit with each fallback drop-in applied.
# usage: test_units.sh UNIT_DIR
# The shipped units point at /usr/bin; here each copy has its /usr/bin/X
# rewritten to a stub executable in a temp dir, so verify checks the units
# themselves and not whether this machine has the packages installed.
set -euo pipefail
SRC=$(cd "$1" && pwd)
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (tools/deps/firmware.txt)"; exit 1; }
T=$(mktemp -d "${SQR_TEST_TMP:-/tmp}/fw-units.XXXXXX" 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin" "$T/units"
fail() { echo "FAIL: $*" >&2; exit 1; }

stub_and_copy() { # SRC_FILE DEST_FILE
  for b in $(grep -o '/usr/bin/[A-Za-z0-9._-]*' "$1" | sort -u); do
    printf '#!/bin/sh\nexit 0\n' >"$T/bin/${b#/usr/bin/}"; chmod 755 "$T/bin/${b#/usr/bin/}"
  done
  sed "s|/usr/bin/|$T/bin/|g" "$1" >"$2"
}

n=0
for u in "$SRC"/*.service "$SRC"/*.timer "$SRC"/*.path; do
  stub_and_copy "$u" "$T/units/$(basename "$u")"; n=$((n + 1))
done
[ $n -ge 6 ] || fail "expected at least 6 units in $SRC, found $n"

verify() { # UNIT...
  local out
  # --recursive-errors=no: targets like network-online.target are the
  # system's business; our own units must be clean.
  if ! out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no --recursive-errors=no "$@" 2>&1); then
    echo "$out" >&2; fail "systemd-analyze verify $*"
  fi
  # verify exits 0 on some warnings (unknown keys, bad values): catch them.
  if grep -E "Unknown (key|section)|Failed to parse|Invalid|not executable|No such file|ignoring" <<<"$out" >&2; then
    fail "warnings from systemd-analyze verify $*"
  fi
}

cd "$T/units"
for u in *.service *.timer *.path; do verify "$T/units/$u"; echo "ok: $u"; done

# Each fallback drop-in on top of the kiosk unit.
for d in "$SRC"/fallback/*.conf; do
  rm -rf "$T/dropin"; mkdir -p "$T/dropin/storeqr-kiosk.service.d"
  cp "$T/units/storeqr-kiosk.service" "$T/dropin/"
  stub_and_copy "$d" "$T/dropin/storeqr-kiosk.service.d/$(basename "$d")"
  out=$(SYSTEMD_UNIT_PATH="$T/dropin:" systemd-analyze verify --man=no --recursive-errors=no \
        "$T/dropin/storeqr-kiosk.service" 2>&1) || { echo "$out" >&2; fail "drop-in $d"; }
  grep -E "Unknown (key|section)|Failed to parse|Invalid|not executable|ignoring" <<<"$out" >&2 && fail "drop-in $d warnings"
  echo "ok: storeqr-kiosk.service + $(basename "$d")"
done

# Promises the rest of the system relies on, checked on the shipped files.
k=$SRC/storeqr-kiosk.service
for want in '^Type=notify' '^WatchdogSec=' '^Restart=always' '^User=storeqr' \
  '^ProtectSystem=strict' '^ReadWritePaths=/var/lib/storeqr' '^NoNewPrivileges=yes' '^LimitCORE=0$' \
  '^PrivateTmp=yes' '^ProtectHome=yes' '^SupplementaryGroups=video input render' \
  'SDL_VIDEODRIVER=kmsdrm' '^StateDirectory=storeqr' '^ExecStart=/usr/bin/storeqr-kiosk'; do
  grep -q -- "$want" "$k" || fail "storeqr-kiosk.service lacks $want"
done
# HQ: systemd restarts a hung process, and only the main process may say
# it is alive (docs: firmware/README.md).
for want in '^Type=notify' '^NotifyAccess=main' '^WatchdogSec=' '^Restart=always'; do
  grep -q -- "$want" "$SRC/storeqr-hq.service" || fail "storeqr-hq.service lacks $want"
done
# HQ's template (several processes behind a balancer) as an instance, and
# its [Service] section the same as storeqr-hq.service's but for where it
# listens.
cp "$T/units/storeqr-hq@.service" "$T/units/storeqr-hq@8441.service"
verify "$T/units/storeqr-hq@8441.service"
service_part() { sed -n '/^\[Service\]/,$p' "$1" | grep -v -e '^Environment=STOREQR_HQ_' -e '^ExecStart=' -e '^#'; }
diff <(service_part "$SRC/storeqr-hq.service") <(service_part "$SRC/storeqr-hq@.service") >&2 ||
  fail "storeqr-hq@.service's [Service] differs from storeqr-hq.service's"
grep -q '^ExecStart=.* --listen \${STOREQR_HQ_BIND}:%i ' "$SRC/storeqr-hq@.service" ||
  fail "storeqr-hq@.service does not listen on its instance's port"
echo "ok: storeqr-hq@8441.service, hardened as storeqr-hq.service"
# The updater runs as root: it writes the slots and its own state
# directory, and of the storeqr user's /var/lib/storeqr only the queue.
for u in storeqr-update-queue.service storeqr-update-recover.service; do
  for want in '^ProtectSystem=strict' '^ReadWritePaths=/opt/storeqr' '^StateDirectory=storeqr-update$' \
    '^StateDirectoryMode=0755$'; do
    grep -q -- "$want" "$SRC/$u" || fail "$u lacks $want"
  done
  grep -E '^ReadWritePaths=.*/var/lib/storeqr( |$)' "$SRC/$u" && fail "$u may write all of /var/lib/storeqr"
done
grep -q '^ConditionPathExists=/var/lib/storeqr-update/update.pending$' \
  "$SRC/storeqr-update-recover.service" || fail "recover looks for update.pending elsewhere"
for want in '^RandomizedDelaySec=' '^Persistent=true' '^OnCalendar='; do
  grep -q -- "$want" "$SRC/storeqr-sync.timer" || fail "storeqr-sync.timer lacks $want"
done
# Sync: the daemon (the default) and the nightly timer are one or the
# other; "sync now" (storeqr-sync.service) must not stop the daemon, so it
# conflicts with neither. Every process that checks the clock knows the
# boot it runs in (their sandbox hides /proc's boot id).
grep -qx 'Conflicts=storeqr-sync.timer' "$SRC/storeqr-sync-daemon.service" ||
  fail "storeqr-sync-daemon.service must conflict with the timer (only)"
grep -q '^Conflicts=' "$SRC/storeqr-sync.service" && fail "storeqr-sync.service conflicts with something"
grep -q '^WantedBy=multi-user.target' "$SRC/storeqr-sync-daemon.service" ||
  fail "storeqr-sync-daemon.service cannot be enabled"
for u in storeqr-kiosk.service storeqr-sync.service storeqr-sync-daemon.service; do
  grep -qx 'Environment=STOREQR_BOOT_ID=%b' "$SRC/$u" || fail "$u lacks STOREQR_BOOT_ID=%b"
done
echo "PASS units"
