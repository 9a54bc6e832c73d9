#!/usr/bin/env bash
# test_crm.sh — the CRM export and the audit log on the dashboard (issue
# 16, docs/PRIVACY.md), real kiosks and HQ over mutual TLS:
#   - shoppers sign up at kiosks of three stores (one store of brand BRX),
#     with and without the marketing consent; one withdraws it; one sync
#     pass each;
#   - `storeqr-hq export members` and GET /v1/admin/export/members, CSV and
#     JSON Lines, hold exactly the members whose marketing consent is
#     current, with their right numbers, dates, versions, tags and staff;
#   - --store, --brand, --since/--until narrow it; malformed filters are
#     refused (exit 2 / 400) and neither export nor are recorded; the route
#     refuses a request without the admin token (401);
#   - every export is in audit_log (who, filters, rows);
#   - /dash/audit, behind the dashboard login, lists the exports and an
#     erasure; an export from the dashboard is recorded under the admin's
#     name; no number reaches HQ's log.
# usage: test_crm.sh TMPDIR [sqlite|postgresql]
#        (env: BIN_HQ BIN_STOREQR BIN_SYNC; SQR_SLOW=1 under sanitizers)
. "$(dirname "$0")/lib.sh"
mk_tmp "${1:-/tmp}"
cd "$TMP"
HQ_BACKEND=${2:-sqlite}
[ "$HQ_BACKEND" = postgresql ] && pg_start

hq_init hq SH-JA01 SH-XH01
hq store add --dir hq --id BJ-BR01 --name 品牌店 --city 北京 --lat 39.9 --lon 116.4 --brand BRX >/dev/null ||
  fail "store add BJ-BR01"
hq_group_add hq BJ-BR01 bj-br01-1
hq_cheap_index hq
# the marketing consent offered, a tag and a staff member to sign up with
python3 - hq/store-template.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["consent"]["marketing"] = {"version": "mkt-1", "text": {"zh": "接收优惠信息"}}
t["tags"] = [{"id": "coffee", "zh": "咖啡", "en": "Coffee"}]
t["staff"] = [{"id": "anna", "name": "Anna"}]
json.dump(t, open(sys.argv[1], "w"))
PY
hq_start hq
URL=https://127.0.0.1:$HQ_PORT
export SQR_LOG=error

kiosk_enrol k1 SH-JA01 1
kiosk_enrol x1 SH-XH01 1
kiosk_enrol b1 BJ-BR01 1
P1=$(rand_phone) P2=$(rand_phone) P3=$(rand_phone) P4=$(rand_phone) P5=$(rand_phone)
K k1 signup --phone "$P1" --consent --age-confirmed --marketing --tag coffee --staff anna >/dev/null ||
  fail "sign-up P1"
K k1 signup --phone "$P2" --consent --age-confirmed >/dev/null || fail "sign-up P2"
K k1 signup --phone "$P3" --consent --age-confirmed --marketing >/dev/null || fail "sign-up P3"
K k1 withdraw --phone "$P3" >/dev/null || fail "withdraw P3"
K x1 signup --phone "$P4" --consent --age-confirmed --marketing >/dev/null || fail "sign-up P4"
K b1 signup --phone "$P5" --consent --age-confirmed --marketing >/dev/null || fail "sign-up P5"
for k in k1 x1 b1; do kiosk_sync $k; done
mapfile -t M < <(kiosk_members k1/kiosk.db)
M1=${M[0]} M2=${M[1]} M3=${M[2]}
M4=$(kiosk_members x1/kiosk.db) M5=$(kiosk_members b1/kiosk.db)

# HQ's ingest filled consents from the kiosks' marketing_consent events.
[ "$(hq_dbq "SELECT count(*) FROM consents WHERE given = 1")" = 3 ] ||
  fail "HQ holds $(hq_dbq "SELECT count(*) FROM consents WHERE given = 1") current consents, want 3"

TODAY=$(TZ=Asia/Shanghai date +%F)
TOMORROW=$(TZ=Asia/Shanghai date -d tomorrow +%F)
YESTERDAY=$(TZ=Asia/Shanghai date -d yesterday +%F)
# check FORMAT FILE WANT...: the export in FILE holds exactly the rows WANT
# ("STORE MEMBER PHONE", one per argument), and their fields are right.
check() {
  python3 - "$TODAY" "$@" <<'PY' || fail "export $2 ($1): $(head -c 600 "$2")"
import csv, json, sys
today, fmt, path, want = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
text = open(path, encoding="utf-8").read()
if fmt == "csv":
    rows = list(csv.DictReader(text.splitlines()))
    for r in rows:
        r["tags"] = [t for t in r["tags"].split(";") if t]
else:
    rows = [json.loads(l) for l in text.splitlines()]
got = sorted(f'{r["store"]} {r["member_id"]} {r["phone"]}' for r in rows)
assert got == sorted(want), (got, sorted(want))
for r in rows:
    assert r["joined"] == today and r["marketing_date"] == today, r
    assert r["marketing_version"] == "mkt-1" and r["service_version"] == "2026-11", r
    if r["store"] == "SH-JA01":
        assert r["tags"] == ["coffee"] and r["staff"] == "anna", r
    else:
        assert r["tags"] == [] and r["staff"] == "", r
PY
}
R1="SH-JA01 $M1 $P1" R4="SH-XH01 $M4 $P4" R5="BJ-BR01 $M5 $P5"
exports() { hq_dbq "SELECT count(*) FROM audit_log WHERE what LIKE 'export_members%'"; }

# ---- the command line --------------------------------------------------------------------------
hq export members --dir hq >all.csv 2>err || fail "export: $(cat err)"
check csv all.csv "$R1" "$R4" "$R5"
hq export members --dir hq --format jsonl >all.jsonl 2>err || fail "export jsonl: $(cat err)"
check jsonl all.jsonl "$R1" "$R4" "$R5"
hq export members --dir hq --store SH-JA01 >s.csv 2>/dev/null || fail "export --store"
check csv s.csv "$R1"
hq export members --dir hq --brand BRX --format jsonl >b.jsonl 2>/dev/null || fail "export --brand"
check jsonl b.jsonl "$R5"
hq export members --dir hq --since "$TODAY" --until "$TODAY" >d.csv 2>/dev/null || fail "export today"
check csv d.csv "$R1" "$R4" "$R5"
hq export members --dir hq --since "$TOMORROW" >d.csv 2>/dev/null || fail "export since tomorrow"
check csv d.csv
hq export members --dir hq --until "$YESTERDAY" >d.csv 2>/dev/null || fail "export until yesterday"
check csv d.csv
[ "$(exports)" = 7 ] || fail "$(exports) exports audited, want 7"
for bad in "--since 2026-13-01" "--until yesterday" "--format xml" "--store bad_id" \
           "--brand x y" "--since $TOMORROW --until $TODAY"; do
  # shellcheck disable=SC2086
  rc=0; hq export members --dir hq $bad >out 2>err || rc=$?
  [ $rc = 2 ] || fail "export $bad: exit $rc, want 2"
  [ ! -s out ] || fail "export $bad wrote rows"
  grep -q "storeqr-hq: export members: " err || fail "export $bad: no reason given: $(cat err)"
done
hq export members --dir hq --store NO-SUCH >out 2>/dev/null && fail "an unknown store was exported"
hq export members --dir hq --brand NOPE >out 2>err && fail "an unknown brand was exported"
grep -q "no store has this brand" err || fail "an unknown brand: no clear error: $(cat err)"
[ "$(exports)" = 7 ] || fail "a refused export was audited"
[ "$(hq_dbq "SELECT count(*) FROM audit_log WHERE what = 'export_members format=csv' AND who = 'cli' AND rows = 3")" = 1 ] ||
  fail "the first export is not recorded with its rows: $(hq_dbq "SELECT who, what, rows FROM audit_log")"
[ "$(hq_dbq "SELECT count(*) FROM audit_log WHERE what = 'export_members format=jsonl brand=BRX' AND rows = 1")" = 1 ] ||
  fail "the brand export is not recorded with its filter"

# ---- the admin route ---------------------------------------------------------------------------
ADMIN=(curl -s --max-time 30 --cacert hq/hq-ca.crt -H "Authorization: Bearer $(cat hq/admin.token)")
code() { "${ADMIN[@]}" -o "$1" -w '%{http_code}' "$URL/v1/admin/export/members${2:-}"; }
[ "$(code r.csv)" = 200 ] || fail "route: $(cat r.csv)"
check csv r.csv "$R1" "$R4" "$R5"
[ "$(code r.jsonl '?format=jsonl&store=SH-XH01')" = 200 ] || fail "route jsonl: $(cat r.jsonl)"
check jsonl r.jsonl "$R4"
[ "$(code r.csv "?brand=BRX&since=$TODAY&until=$TODAY")" = 200 ] || fail "route brand"
check csv r.csv "$R5"
for bad in "?since=2026-02-30" "?format=xlsx" "?store=a%20b" "?until=$YESTERDAY&since=$TODAY"; do
  [ "$(code r.err "$bad")" = 400 ] || fail "route $bad: $(cat r.err)"
  [ "$(json_get "$(cat r.err)" error)" = bad_request ] || fail "route $bad: $(cat r.err)"
done
[ "$(curl -s -o r.err -w '%{http_code}' --max-time 20 --cacert hq/hq-ca.crt "$URL/v1/admin/export/members")" = 401 ] ||
  fail "an export without the admin token"
[ "$(curl -s -o r.err -w '%{http_code}' --max-time 20 --cacert hq/hq-ca.crt -H 'Authorization: Bearer wrong' "$URL/v1/admin/export/members")" = 401 ] ||
  fail "an export with a wrong token"
[ "$(exports)" = 10 ] || fail "$(exports) exports audited after the route's, want 10"
[ "$(hq_dbq "SELECT count(*) FROM audit_log WHERE who = 'admin-token' AND what LIKE 'export_members%'")" = 3 ] ||
  fail "the route's exports are not audited under admin-token"

# ---- the dashboard: the audit log, an export under the admin's name -----------------------------
PW=crm-test-password-1
echo "$PW" | hq admin add --dir hq alice >/dev/null || fail "admin add"
hq_erase hq SH-JA01 "$M2"
kiosk_sync k1
C=(curl -s --max-time 30 --cacert hq/hq-ca.crt)
[ "$("${C[@]}" -o /dev/null -w '%{http_code}' "$URL/dash/audit")" = 303 ] || fail "/dash/audit without a session"
"${C[@]}" -D login.h -o /dev/null -H "Origin: $URL" --data-urlencode user=alice \
  --data-urlencode "password=$PW" "$URL/dash/login"
SID=$(sed -n 's/^[Ss]et-[Cc]ookie: __Host-sqr_session=\([0-9a-f]*\);.*/\1/p' login.h | tr -d '\r')
[ ${#SID} = 64 ] || fail "no session: $(cat login.h)"
S=("${C[@]}" -H "Cookie: __Host-sqr_session=$SID")
[ "$("${S[@]}" -o dash.html -w '%{http_code}' "$URL/dash")" = 200 ] || fail "/dash"
grep -q 'href="/dash/audit"' dash.html || fail "the dashboard does not link the audit log"
[ "$("${S[@]}" -o x.csv -w '%{http_code}' "$URL/dash/export/members?store=SH-JA01")" = 200 ] ||
  fail "the dashboard's export: $(cat x.csv)"
check csv x.csv "$R1"
[ "$(hq_dbq "SELECT count(*) FROM audit_log WHERE who = 'alice' AND what = 'export_members format=csv store=SH-JA01' AND rows = 1")" = 1 ] ||
  fail "the dashboard's export is not recorded under the admin's name"
[ "$("${S[@]}" -o audit.html -w '%{http_code}' "$URL/dash/audit")" = 200 ] || fail "/dash/audit"
python3 - audit.html "${M2:0:8}" <<'PY' || fail "/dash/audit: $(head -c 2000 audit.html)"
import re, sys
page, m2 = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
rows = re.findall(r'<tr class="audit-row"><td>[^<]*</td><td class="name who">([^<]*)</td>'
                  r'<td class="name what">([^<]*)</td><td class="rows">([^<]*)</td>', page)
assert len(rows) == 11, rows
assert rows[0] == ("alice", "export_members format=csv store=SH-JA01", "1"), rows[0]
assert ("admin-token", "export_members format=jsonl store=SH-XH01", "1") in rows, rows
assert ("cli", "export_members format=csv", "3") in rows, rows
assert f'<td class="name member">{m2}…</td>' in page, "the erasure is not listed"
PY
for p in "$P1" "$P2" "$P3" "$P4" "$P5"; do
  grep -q "$p" audit.html dash.html hq/hq.log && fail "a number reached a page or HQ's log"
done
# A consent taken at SH-XH01 an hour before the same person withdrew at
# SH-JA01, uploaded after the withdrawal (that kiosk was offline), is not
# exported: the withdrawal is the person's.
P6=$(rand_phone)
K k1 signup --phone "$P6" --consent --age-confirmed --marketing >/dev/null || fail "sign-up P6"
K x1 --now "$(( $(date +%s) - 3600 ))" signup --phone "$P6" --consent --age-confirmed --marketing \
  >/dev/null || fail "sign-up P6 at SH-XH01, an hour ago"
kiosk_sync k1
K k1 withdraw --phone "$P6" >/dev/null || fail "withdraw P6"
kiosk_sync k1
kiosk_sync x1
hq export members --dir hq --store SH-XH01 >late.csv 2>/dev/null || fail "export SH-XH01"
check csv late.csv "$R4"
# An export whose output cannot be written is audited with the rows it
# sent, marked cut short.
hq export members --dir hq >/dev/full 2>err && fail "an export to a full disk succeeded"
[ "$(hq_dbq "SELECT count(*) FROM audit_log WHERE what = 'export_members format=csv (cut short)' AND who = 'cli'")" = 1 ] ||
  fail "the cut export is not marked: $(hq_dbq "SELECT who, what, rows FROM audit_log")"
hq_stop hq
echo "PASS crm ($HQ_BACKEND)"
