#!/usr/bin/env bash
# stall_test.sh HQ_BIN MINT_BIN
# No answer waits on a TCP cork (issue 13). libmicrohttpd corks HQ's
# sockets and pushes by setting TCP_NODELAY; the resolver corks GnuTLS and
# writes its one record later, in the completion callback. Without a push
# after that write, the kernel held every small answer on a kept-alive
# connection for its 200 ms cork timer: the expired or forged token page
# and the staff page (gzipped, under one segment) took 207 ms.
#
# Each page is asked for six times on one kept-alive connection (one curl),
# gzipped and not; the best of the answers on the reused connection must
# come in under 10 ms. The best, so a busy machine cannot fail it; a stall
# is on every reuse, so a stall always does. The time counted is from the
# request to the answer's last byte (time_total - time_pretransfer).
# STALL_DEBUG=1 prints curl's own figures for each answer.
# Every wait is bounded; every process is stopped on exit (lib.sh).
BIN_HQ=$1
MINT=$2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../integration/lib.sh
. "$SRC/tests/integration/lib.sh"
mk_tmp
D=$TMP/hq
mkdir -p "$D"
"$BIN_HQ" init "$D" --host 127.0.0.1 >/dev/null || fail "init"
# No fallback link: the staff page is then at its smallest (689 B gzipped
# when the stall was found).
cat >"$D/store-template.json" <<'EOF'
{"mode":"hq","rotation":{"period_s":30,"skew":1},
 "group_policy":{"reserve":10,"expiry_margin_s":43200},
 "campaigns":[],"staff":[],"tags":[],
 "consent":{"version":"2026-11","text":{"zh":"同意","en":"Agree"}},
 "points":{"signup":50,"checkin":10,"streak_bonus_every":7,"streak_bonus":20},
 "ui":{"idle_timeout_s":30,"sync_stale_hours":36}}
EOF
hq store add --dir "$D" --id SH-OPEN --name 开放店 --city 上海 --lat 31.2 --lon 121.4 >/dev/null ||
  fail "store add SH-OPEN"
hq group add --dir "$D" --store SH-OPEN --id open-1 --name 一群 --link https://weixin.qq.com/g/open-1 \
  --capacity 200 >/dev/null || fail "group add open-1"
# SH-FULL's one group expires within the 12 h margin and is never chosen:
# the store shows the staff page from its first scan on.
hq store add --dir "$D" --id SH-FULL --name 满员店 --city 上海 --lat 31.0 --lon 121.0 >/dev/null ||
  fail "store add SH-FULL"
hq group add --dir "$D" --store SH-FULL --id full-1 --name 小群 --link https://weixin.qq.com/g/full-1 \
  --capacity 200 --expires-at $(($(date +%s) + 3600)) >/dev/null || fail "group add full-1"
hq_key_row "$D" SH-OPEN 1 1
hq_key_row "$D" SH-FULL 1 1
hq_start "$D"
BASE=https://127.0.0.1:$HQ_PORT
C=(curl -s --max-time 20 --cacert "$D/hq-ca.crt")

NOW=$(date +%s)
EXPIRED=$("$MINT" "$D" SH-FULL 1 1 $((NOW - 120))) || fail "mint"
FULL=$("$MINT" "$D" SH-FULL 1 1 "$NOW") || fail "mint"
OPEN=$("$MINT" "$D" SH-OPEN 1 1 "$NOW") || fail "mint"
c=${OPEN:20:1}; [ "$c" = A ] && r=B || r=A
FORGED=${OPEN:0:20}$r${OPEN:21}

# The pages are the ones meant (so a change of wording cannot turn this
# into a test of some other page).
p=$("${C[@]}" "$BASE/J/SH-FULL/$EXPIRED")
echo "$p" | grep -q '请扫描店内的二维码' || fail "not the expired-token page"
p=$("${C[@]}" "$BASE/J/SH-FULL/$FULL")
echo "$p" | grep -q 'id="message"' || fail "not the staff page"
echo "$p" | grep -q 'join-link' && fail "the full store's page has a join link"
p=$("${C[@]}" "$BASE/J/SH-OPEN/$OPEN")
echo "$p" | grep -q 'join-link' || fail "no join link on the open store's page"

# best_ms NAME URL [CURL-OPTION...]: six answers on one connection (the
# first of them FIRST's when FIRST is set); prints the best of the five
# after the first in ms, fails on a wrong status.
best_ms() {
  local name=$1 url=$2; shift 2
  local args=(-o /dev/null "${FIRST:-$url}") i
  for i in 2 3 4 5 6; do args+=(-o /dev/null "$url"); done
  "${C[@]}" "$@" -w '%{http_code} %{num_connects} %{size_download} %{time_pretransfer} %{time_total}\n' \
    "${args[@]}" >"$TMP/times" || fail "$name: curl failed"
  awk -v name="$name" '
    $1 >= 500 || $1 == 0 { print "FAIL: " name ": status " $1 > "/dev/stderr"; bad = 1 }
    NR > 1 && $2 != 0 { print "FAIL: " name ": the connection was not kept alive" > "/dev/stderr"; bad = 1 }
    NR > 1 { ms = ($5 - $4) * 1000; if (best == "" || ms < best) best = ms; all = all sprintf(" %.1f", ms) }
    END { if (bad) exit 1; printf "%s: %d B, best %.2f ms of%s\n", name, $3, best, all
          printf "%.3f\n", best > "/dev/stderr" }' "$TMP/times" 2>"$TMP/best" || {
    cat "$TMP/best" >&2
    fail "$name"
  }
  [ -z "${STALL_DEBUG:-}" ] || cat "$TMP/times" >&2
  [ "$(grep -c . "$TMP/times")" = 6 ] || fail "$name: $(grep -c . "$TMP/times") answers of 6"
  BEST=$(tail -n 1 "$TMP/best")
}

slow=()
check() { # NAME URL [CURL-OPTION...]
  best_ms "$@"
  awk -v b="$BEST" 'BEGIN { exit !(b < 10) }' || slow+=("$1 ($BEST ms)")
}
GZ=(-H 'Accept-Encoding: gzip')
check "expired token, gzip" "$BASE/J/SH-FULL/$EXPIRED" "${GZ[@]}"
check "forged token, gzip" "$BASE/J/SH-OPEN/$FORGED" "${GZ[@]}"
check "staff page, gzip" "$BASE/J/SH-FULL/$FULL" "${GZ[@]}"
check "group page, gzip" "$BASE/J/SH-OPEN/$OPEN" "${GZ[@]}"
check "expired token" "$BASE/J/SH-FULL/$EXPIRED"
check "staff page" "$BASE/J/SH-FULL/$FULL"
check "group page" "$BASE/J/SH-OPEN/$OPEN"
check "unknown store, gzip" "$BASE/J/SH-NOPE/$OPEN" "${GZ[@]}"
# One connection, answers of both kinds: server.c pushes a scan answer
# over 1,400 bytes (the group page's) only when libmicrohttpd may have
# corked the socket since the cork was last cleared, as it does for an
# answer under that size (a notice page, gzipped) or for another route's
# (/healthz). Each first, then five group pages: those must not wait.
FIRST="$BASE/J/SH-FULL/$EXPIRED" check "group pages after a small one, gzip" \
  "$BASE/J/SH-OPEN/$OPEN" "${GZ[@]}"
FIRST="$BASE/healthz" check "group pages after /healthz, gzip" "$BASE/J/SH-OPEN/$OPEN" "${GZ[@]}"
FIRST="$BASE/J/SH-OPEN/$OPEN" check "small pages after a group page, gzip" \
  "$BASE/J/SH-FULL/$EXPIRED" "${GZ[@]}"
[ ${#slow[@]} = 0 ] || fail "answers waited: ${slow[*]}"
echo "PASS: no answer waits on a cork"
