#!/bin/bash
# test_deb.sh — the .deb packages on a clean Debian bookworm system, and
# the kiosk image, in chroots made from mmdebstrap's base
# (firmware/image/build-image --base-only).
# usage: test_deb.sh BUILD_DIR deb|image
#   deb    cpack -G DEB; in a fresh chroot `apt-get install ./storeqr-kiosk.deb`
#          (apt resolves the declared dependencies from the mirror): files,
#          slot, user, data directory, conffiles, units enabled and
#          verified, polkit rule, every program runs; reinstall keeps the
#          slot; purge leaves nothing but what the dependencies brought.
#          The same for storeqr-hq (HQ state made by the postinst).
#   image  build-image from the cached base with the kiosk package: what a
#          box needs is in the tree (package, enabled units, user, data
#          directory, fonts, KMSDRM libraries, polkitd, network, clock), the
#          kiosk runs in it, and mke2fs -d makes an ext4 image of it.
# The base tarball and apt's downloads are cached in BUILD_DIR/deb-cache
# (delete it to start over). Exit 77 (skip) only when not root or when the
# mirror is unreachable and nothing is cached.
set -euo pipefail
BUILD=$(cd "$1" && pwd) MODE=$2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
IMG=$SRC/firmware/image/build-image
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $* ($(( $(date +%s) - START )) s)"; }
START=$(date +%s)
[ "$(id -u)" = 0 ] || skip "needs root (chroot, mounts, file ownership)"
for t in mmdebstrap dpkg-shlibdeps cpack; do
  command -v $t >/dev/null || fail "$t missing (tools/deps/firmware.txt: tools/setup-deps test)"
done

CACHE=$BUILD/deb-cache
mkdir -p "$CACHE/apt"
BASE=$CACHE/bookworm-base.tar
T=$(mktemp -d "${SQR_TEST_TMP:-/tmp}/fw-deb.XXXXXX")
MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# The base, made once per base package list (the key) and reused.
key=$(grep -E '^BASE_PKGS=' "$IMG" | md5sum | cut -c1-16)
exec 9>"$CACHE/lock"
flock 9
if [ ! -s "$BASE" ] || [ "$(cat "$BASE.key" 2>/dev/null)" != "$key" ]; then
  mirror=$("$IMG" --print-mirror)
  curl -sf -o /dev/null --max-time 20 "$mirror/dists/bookworm/Release" ||
    skip "offline: cannot reach $mirror, and no cached base in $CACHE"
  step "making the bookworm base with mmdebstrap from $mirror"
  rm -f "$BASE" "$BASE.key"
  "$IMG" --base-only "$BASE" || fail "build-image --base-only"
  echo "$key" >"$BASE.key"
fi
flock -u 9

step "cpack -G DEB"
(cd "$BUILD" && cpack -G DEB -B "$T/pkg" >"$T/cpack.log" 2>&1) || { tail -20 "$T/cpack.log"; fail "cpack"; }
KDEB=$(ls "$T"/pkg/storeqr-kiosk_*.deb) HDEB=$(ls "$T"/pkg/storeqr-hq_*.deb)
VERSION=$(dpkg-deb -f "$KDEB" Version)
echo "packages: $(basename "$KDEB") $(basename "$HDEB")"

mnt() { mkdir -p "$2"; mount "${@:3}" "$1" "$2"; MOUNTS+=("$2"); }
umount_all() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}"; done
  MOUNTS=()
}
# unpack TAR DIR: a chroot with /proc, /dev, /sys and apt's cache.
unpack() {
  mkdir -p "$2"
  tar -x --numeric-owner -p -f "$1" -C "$2"
  mnt proc "$2/proc" -t proc
  mnt /dev "$2/dev" --bind
  mnt /sys "$2/sys" --bind -o ro
  cp -L /etc/resolv.conf "$2/etc/resolv.conf" 2>/dev/null || true
}
R=$T/root
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
            DEBIAN_FRONTEND=noninteractive "$@"; }
# The tree's files (path, owner, mode, link target), leaving out what
# apt, dpkg and logs keep about any package.
snapshot() {
  in_root find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
    -o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log \
    -o -path /etc/resolv.conf -o -path /etc/ld.so.cache \) -prune -o \
    -printf '%p %u:%g %m %l\n' | sort
}
# Owner, group and mode as the chroot's own users and groups name them.
st() { in_root stat -c '%U:%G %a' "$1"; }
check_runs() { # CMD...: runs inside the chroot, exit 0 (--help) or 2 (usage)
  local rc=0 out
  out=$(in_root "$@" 2>&1) || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 2 ] || fail "$* in the chroot: exit $rc: $(tail -3 <<<"$out")"
  grep -qi "usage" <<<"$out" || fail "$*: no usage text: $(head -3 <<<"$out")"
  echo "runs: $*"
}
enabled() { # UNIT WANTS_DIR
  [ -L "$R/etc/systemd/system/$2/$1" ] || fail "$1 not enabled ($2 has no link)"
  [ "$(in_root systemctl is-enabled "$1" 2>/dev/null)" = enabled ] || fail "systemctl is-enabled $1"
}
disabled() { # UNIT WANTS_DIR
  [ ! -e "$R/etc/systemd/system/$2/$1" ] || fail "$1 enabled ($2 has a link)"
  [ "$(in_root systemctl is-enabled "$1" 2>/dev/null)" = disabled ] || fail "systemctl is-enabled $1"
}

case $MODE in
deb)
  step "a clean bookworm chroot"
  unpack "$BASE" "$R"
  mnt "$CACHE/apt" "$R/var/cache/apt/archives" --bind
  cp "$KDEB" "$R/tmp/storeqr-kiosk.deb"; cp "$HDEB" "$R/tmp/storeqr-hq.deb"
  before=$(snapshot)
  base_pkgs=$(in_root dpkg-query -W -f '${Package}\n' | sort)

  step "apt-get install ./storeqr-kiosk.deb (dependencies from the mirror)"
  in_root apt-get install -y -q --no-install-recommends /tmp/storeqr-kiosk.deb >"$T/apt.log" 2>&1 ||
    { tail -30 "$T/apt.log"; fail "apt-get install storeqr-kiosk"; }
  with_deps=$(in_root dpkg-query -W -f '${Package}\n' | sort)
  in_root dpkg-query -W -f '${Status}' storeqr-kiosk | grep -q "install ok installed" || fail "not installed"
  # The user: a system account, no login, its home the data directory.
  IFS=: read -r _ _ uid _ _ home shell <<<"$(in_root getent passwd storeqr)" || fail "no user storeqr"
  [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/storeqr ] && [ "$shell" = /usr/sbin/nologin ] ||
    fail "user storeqr: uid $uid home $home shell $shell"
  in_root getent group storeqr >/dev/null || fail "no group storeqr"
  [ "$(st /var/lib/storeqr)" = "storeqr:storeqr 750" ] ||
    fail "/var/lib/storeqr: $(st /var/lib/storeqr)"
  [ "$(st /var/lib/storeqr/updates)" = "storeqr:storeqr 750" ] || fail "updates dir"
  # The updater's own state is root's, and seed wrote the installed version.
  [ "$(st /var/lib/storeqr-update)" = "root:root 755" ] || fail "/var/lib/storeqr-update"
  [ "$(st /var/lib/storeqr-update/installed)" = "root:root 644" ] &&
    grep -qx "version $VERSION" "$R/var/lib/storeqr-update/installed" &&
    grep -qx "slot a" "$R/var/lib/storeqr-update/installed" || fail "installed"
  # The factory release in slot a; /usr/bin leads there.
  [ "$(readlink "$R/opt/storeqr/current")" = slots/a ] || fail "current -> $(readlink "$R/opt/storeqr/current")"
  grep -qx "version $VERSION" "$R/opt/storeqr/slots/a/.storeqr-release" || fail "slot a release file"
  for b in storeqr-kiosk storeqr-sync storeqr; do
    cmp -s "$R/usr/lib/storeqr/release/bin/$b" "$R/opt/storeqr/slots/a/bin/$b" || fail "slot a: $b"
    [ "$(in_root readlink -f /usr/bin/$b)" = "/opt/storeqr/slots/a/bin/$b" ] || fail "/usr/bin/$b"
  done
  in_root test -f /usr/share/storeqr/assets/config/demo.json || fail "assets through the slot"
  # Config: conffiles in /etc/storeqr.
  for f in kiosk.env sync.env; do
    [ -f "$R/etc/storeqr/$f" ] || fail "/etc/storeqr/$f"
    in_root dpkg-query -W -f '${Conffiles}' storeqr-kiosk | grep -q "/etc/storeqr/$f" || fail "$f not a conffile"
  done
  # Units: installed, enabled, and clean under systemd-analyze verify here.
  enabled storeqr-kiosk.service multi-user.target.wants
  enabled storeqr-update-recover.service multi-user.target.wants
  # sync: the trickle daemon, not the nightly-only timer it conflicts with
  enabled storeqr-sync-daemon.service multi-user.target.wants
  disabled storeqr-sync.timer timers.target.wants
  enabled storeqr-update-queue.path paths.target.wants
  units=$(cd "$R/usr/lib/systemd/system" && ls storeqr-*)
  [ "$(wc -w <<<"$units")" -eq 7 ] || fail "units: $units"
  # shellcheck disable=SC2046,SC2086 # one word per unit
  out=$(cd "$R/usr/lib/systemd/system" && in_root env SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
        --man=no --recursive-errors=no $(sed 's|^|/usr/lib/systemd/system/|' <<<"$units") 2>&1) ||
    { echo "$out"; fail "systemd-analyze verify in the chroot"; }
  if grep -E "storeqr.*(Unknown|Failed|Invalid|not executable|No such file|ignoring)" <<<"$out"; then
    fail "systemd-analyze verify warnings"
  fi
  echo "units verified in the chroot: $(tr '\n' ' ' <<<"$units")"
  [ -f "$R/usr/share/polkit-1/rules.d/50-storeqr-sync-now.rules" ] || fail "polkit rule not installed"
  # Every program starts: the declared dependencies are complete.
  check_runs storeqr-kiosk --help
  check_runs storeqr-sync --help
  check_runs storeqr --help
  check_runs storeqr-update
  # The kiosk user can use its data directory.
  in_root runuser -u storeqr -- storeqr --db /var/lib/storeqr/kiosk.db init --demo \
    --template /usr/share/storeqr/assets/config/demo.json >/dev/null ||
    fail "storeqr init as user storeqr"
  echo "user storeqr writes /var/lib/storeqr"

  step "reinstall (an upgrade to the same version keeps the slot and the data)"
  in_root dpkg -i /tmp/storeqr-kiosk.deb >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i again"; }
  [ "$(readlink "$R/opt/storeqr/current")" = slots/a ] || fail "reinstall moved current"
  [ -f "$R/var/lib/storeqr/kiosk.db" ] || fail "reinstall lost the database"
  grep -qx "version $VERSION" "$R/var/lib/storeqr-update/installed" || fail "reinstall: installed"
  # an operator's nightly-only choice in sync.env survives an upgrade, and
  # taking it back returns to the daemon
  echo 'STOREQR_SYNC_MODE=nightly' >>"$R/etc/storeqr/sync.env"
  in_root dpkg -i /tmp/storeqr-kiosk.deb >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i (nightly)"; }
  enabled storeqr-sync.timer timers.target.wants
  disabled storeqr-sync-daemon.service multi-user.target.wants
  sed -i '/^STOREQR_SYNC_MODE=/d' "$R/etc/storeqr/sync.env"
  in_root dpkg -i /tmp/storeqr-kiosk.deb >"$T/dpkg.log" 2>&1 || { cat "$T/dpkg.log"; fail "dpkg -i (daemon)"; }
  enabled storeqr-sync-daemon.service multi-user.target.wants
  disabled storeqr-sync.timer timers.target.wants
  echo "sync mode: daemon by default, nightly timer on request, back again"

  step "apt-get purge storeqr-kiosk"
  in_root apt-get purge -y -q storeqr-kiosk >"$T/purge.log" 2>&1 || { cat "$T/purge.log"; fail "purge"; }
  for p in /opt/storeqr /var/lib/storeqr /var/lib/storeqr-update /etc/storeqr /usr/lib/storeqr \
           /usr/share/storeqr /usr/bin/storeqr-kiosk /usr/bin/storeqr-update; do
    [ ! -e "$R$p" ] && [ ! -L "$R$p" ] || fail "$p left after purge"
  done
  in_root getent passwd storeqr >/dev/null && fail "user storeqr left after purge"
  in_root getent group storeqr >/dev/null && fail "group storeqr left after purge"
  left=$(in_root find / -xdev -name '*storeqr*' -not -path '/tmp/*' -not -path '/var/cache/*' \
         -not -path '/var/lib/dpkg/*' -not -path '/var/log/*' -not -path '/proc/*' 2>/dev/null || true)
  [ -z "$left" ] || fail "left after purge: $left"
  # Everything else is as before, once the dependencies apt brought in go
  # too (named exactly: autoremove keeps what another package suggests).
  deps=$(comm -13 <(echo "$base_pkgs") <(echo "$with_deps") | grep -vx storeqr-kiosk || true)
  # shellcheck disable=SC2086
  in_root apt-get purge -y -q $deps >"$T/deps.log" 2>&1 || { cat "$T/deps.log"; fail "purging the dependencies"; }
  after=$(snapshot)
  diff=$(comm -3 <(echo "$before") <(echo "$after"))
  [ -z "$diff" ] || fail "install + purge changed the system (first column: gone, second: new): $diff"
  echo "purged cleanly ($(wc -l <<<"$with_deps") packages with dependencies, back to the base)"

  step "apt-get install ./storeqr-hq.deb"
  in_root apt-get install -y -q --no-install-recommends /tmp/storeqr-hq.deb >"$T/apt-hq.log" 2>&1 ||
    { tail -30 "$T/apt-hq.log"; fail "apt-get install storeqr-hq"; }
  in_root getent passwd storeqr-hq >/dev/null || fail "no user storeqr-hq"
  [ "$(st /var/lib/storeqr-hq)" = "storeqr-hq:storeqr-hq 750" ] || fail "/var/lib/storeqr-hq"
  for f in admin.token hq-ca.crt master.key; do
    [ "$(st "/var/lib/storeqr-hq/$f" 2>/dev/null | cut -d: -f1)" = storeqr-hq ] || fail "HQ state: $f"
  done
  [ -f "$R/etc/storeqr/hq.env" ] || fail "/etc/storeqr/hq.env"
  enabled storeqr-hq.service multi-user.target.wants
  for f in lib/systemd/system/storeqr-hq@.service usr/share/doc/storeqr-hq/haproxy.cfg; do
    [ -f "$R/$f" ] || fail "/$f not installed (several HQ processes behind a balancer)"
  done
  check_runs storeqr-hq --help
  # The installed unit's command, with its Environment= and the shipped
  # hq.env, as the storeqr-hq user: the names are unset placeholders, so
  # HQ must refuse (exit 2) saying what to set, not hand out 0.0.0.0.
  unit=$R/lib/systemd/system/storeqr-hq.service
  cmd=$(sed -n 's/^ExecStart=//p' "$unit")
  [ -n "$cmd" ] || fail "storeqr-hq.service: no ExecStart"
  mapfile -t envs < <(sed -n 's/^Environment=//p' "$unit" | tr ' ' '\n'
                      grep -E '^[A-Z_]+=' "$R/etc/storeqr/hq.env")
  rc=0
  out=$(in_root timeout 20 runuser -u storeqr-hq -- env "${envs[@]}" sh -c "exec $cmd" 2>&1) || rc=$?
  [ $rc = 2 ] || fail "the unit's command with the shipped hq.env: exit $rc, want 2: $out"
  want='storeqr-hq: --listen 0.0.0.0:8443 binds every address; set --kiosk-url https://HQ.NAME[:PORT] (kiosks) and --public-url https://SCAN.NAME (shoppers'"'"' phones) or STOREQR_HQ_KIOSK_URL/STOREQR_HQ_PUBLIC_URL in /etc/storeqr/hq.env'
  [ "$out" = "$want" ] || fail "the unit's command with the shipped hq.env said: $out"
  grep -q '^RestartPreventExitStatus=2' "$unit" || fail "storeqr-hq.service restarts a refused configuration"
  # The template (several processes behind a balancer): with the shipped
  # hq.env it refuses too, asking for the balancer's address. systemd
  # passes ${X} as exactly one word, even empty: quoted here to match.
  unit=$R/lib/systemd/system/storeqr-hq@.service
  cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed 's/%i/8441/g; s/\${\([A-Z_]*\)}/"${\1}"/g')
  mapfile -t envs < <(sed -n 's/^Environment=//p' "$unit" | tr ' ' '\n'
                      grep -E '^[A-Z_]+=' "$R/etc/storeqr/hq.env")
  rc=0
  out=$(in_root timeout 20 runuser -u storeqr-hq -- env "${envs[@]}" sh -c "exec $cmd" 2>&1) || rc=$?
  want="storeqr-hq: --trusted-proxy is empty; set STOREQR_HQ_TRUSTED_PROXY in /etc/storeqr/hq.env to the balancer's address (the one HQ sees connecting)"
  [ $rc = 2 ] && [ "$out" = "$want" ] || fail "storeqr-hq@8441 with the shipped hq.env: exit $rc: $out"
  echo "storeqr-hq@8441 refuses with the shipped hq.env: $out"
  echo "refuses with the shipped hq.env: $out"
  in_root storeqr-bundle keygen /tmp/k >/dev/null || fail "storeqr-bundle keygen in the chroot"
  step "apt-get purge storeqr-hq"
  in_root apt-get purge -y -q --autoremove storeqr-hq >"$T/purge-hq.log" 2>&1 || { cat "$T/purge-hq.log"; fail "purge hq"; }
  for p in /var/lib/storeqr-hq /etc/storeqr /usr/bin/storeqr-hq; do [ ! -e "$R$p" ] || fail "$p left"; done
  in_root getent passwd storeqr-hq >/dev/null && fail "user storeqr-hq left after purge"
  left=$(in_root find / -xdev -name '*storeqr*' -not -path '/tmp/*' -not -path '/var/cache/*' \
         -not -path '/var/lib/dpkg/*' -not -path '/var/log/*' -not -path '/proc/*' 2>/dev/null || true)
  [ -z "$left" ] || fail "left after purging storeqr-hq: $left"
  ;;

image)
  step "build-image (tar) from the cached base"
  "$IMG" --base "$BASE" --apt-cache "$CACHE/apt" --format tar "$T/image.tar" "$KDEB" \
    >"$T/image.log" 2>&1 || { tail -20 "$T/image.log"; fail "build-image"; }
  tail -1 "$T/image.log"
  step "what the image holds"
  unpack "$T/image.tar" "$R"
  for p in storeqr-kiosk polkitd fonts-wqy-microhei libsdl2-2.0-0 libgbm1 libegl1 libdrm2 \
           libgl1-mesa-dri systemd-timesyncd; do
    in_root dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      fail "$p not installed in the image"
  done
  enabled storeqr-kiosk.service multi-user.target.wants
  enabled storeqr-update-recover.service multi-user.target.wants
  enabled storeqr-sync-daemon.service multi-user.target.wants
  disabled storeqr-sync.timer timers.target.wants
  enabled storeqr-update-queue.path paths.target.wants
  enabled systemd-networkd.service multi-user.target.wants
  enabled systemd-timesyncd.service sysinit.target.wants
  in_root getent passwd storeqr >/dev/null || fail "no user storeqr"
  [ "$(st /var/lib/storeqr)" = "storeqr:storeqr 750" ] || fail "/var/lib/storeqr"
  [ "$(readlink "$R/opt/storeqr/current")" = slots/a ] || fail "no release in slot a"
  [ -f "$R/etc/storeqr/kiosk.env" ] && [ -f "$R/etc/storeqr/sync.env" ] || fail "/etc/storeqr"
  [ -f "$R/usr/share/fonts/truetype/wqy/wqy-microhei.ttc" ] || fail "the CJK font app/ui/text.c looks for"
  [ -f "$R/usr/share/polkit-1/rules.d/50-storeqr-sync-now.rules" ] || fail "polkit rule"
  grep -q "LABEL=storeqr-root" "$R/etc/fstab" || fail "fstab"
  [ ! -s "$R/etc/machine-id" ] || fail "machine-id baked into the image"
  [ ! -e "$R/usr/sbin/policy-rc.d" ] || fail "policy-rc.d left in the image"
  check_runs storeqr-kiosk --help
  check_runs storeqr-sync --help
  # The kiosk's user can make its database in the image.
  in_root runuser -u storeqr -- storeqr --db /var/lib/storeqr/kiosk.db init --demo \
    --template /usr/share/storeqr/assets/config/demo.json >/dev/null ||
    fail "storeqr init --demo in the image"
  rm -f "$R/var/lib/storeqr/kiosk.db"*
  step "mke2fs -d: the same tree as an ext4 image"
  umount_all
  mke2fs -q -t ext4 -L storeqr-root -d "$R" "$T/image.ext4" 2G || fail "mke2fs -d"
  e2fsck -fn "$T/image.ext4" >/dev/null 2>&1 || fail "e2fsck on the ext4 image"
  echo "image: $(du -h "$T/image.tar" | cut -f1) tar, ext4 file system checked clean"
  ;;
*) fail "unknown mode $MODE" ;;
esac
echo "PASS $MODE ($(( $(date +%s) - START )) s)"
