#!/usr/bin/env bash
# test_faultproxy.sh — storeqr-faultproxy against a plain HTTP server:
# pass and delay deliver every byte, cuts and a lost answer break the
# transfer, dup still answers, and the proxy stops at its bounds.
# usage: test_faultproxy.sh FAULTPROXY TMPDIR
set -euo pipefail
proxy=$1
tmp=$(mktemp -d "${2:-/tmp}/faultproxy.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
cd "$tmp"
head -c 200000 /dev/urandom > f.bin
python3 -c '
import http.server, socketserver, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
open("srv.port.tmp", "w").write(str(s.server_address[1])); __import__("os").rename("srv.port.tmp", "srv.port")
s.timeout = 1
import time; end = time.time() + 60
while time.time() < end: s.handle_request()
' & pids+=($!)
for _ in $(seq 100); do [ -s srv.port ] && break; sleep 0.05; done
srv=$(cat srv.port)

fails=0
run() { # MODE EXPECT(ok|broken)
  rm -f pf out.bin
  "$proxy" --listen 0 --target "$srv" --mode "$1" --max-conns 1 --max-seconds 20 --port-file pf &
  local pp=$!
  for _ in $(seq 100); do [ -s pf ] && break; sleep 0.02; done
  local rc=0
  curl -s --max-time 10 -o out.bin "http://127.0.0.1:$(cat pf)/f.bin" || rc=$?
  wait "$pp" || { echo "FAIL: proxy exited non-zero in mode $1"; fails=$((fails + 1)); }
  if [ "$2" = ok ]; then
    if [ "$rc" != 0 ] || ! cmp -s f.bin out.bin; then echo "FAIL: $1 did not pass the file (curl $rc)"; fails=$((fails + 1)); fi
  elif [ "$rc" = 0 ] && cmp -s f.bin out.bin; then
    echo "FAIL: $1 did not break the transfer"; fails=$((fails + 1))
  fi
  echo "mode $1: curl rc $rc"
}
run pass ok
run delay:20 ok
run dup ok
run cut-up:10 broken
run cut-down:5000 broken
run lose:1 broken

# Bounded by time with no client at all.
start=$(date +%s)
"$proxy" --listen 0 --target "$srv" --max-seconds 1
[ $(( $(date +%s) - start )) -le 3 ] || { echo "FAIL: --max-seconds not honoured"; fails=$((fails + 1)); }
# A bad mode is a usage error.
if "$proxy" --listen 0 --target "$srv" --mode cut-up 2>/dev/null; then echo "FAIL: bad mode accepted"; fails=$((fails + 1)); fi

[ "$fails" = 0 ] && echo "faultproxy: all modes behave"
exit "$fails"
