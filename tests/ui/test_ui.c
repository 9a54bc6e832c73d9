/* test_ui.c — storeqr-kiosk driven headless by scripts, checked through
 * its screenshots (QR codes decoded with zbar) and the kiosk database.
 *   test_ui KIOSK CASE    CASE: matrix, join, checkin, pin, idle, rotate, offset,
 *                               fill, reset, hotplug, campaign, disk, lowdisk,
 *                               first, clock, index, consent, withdraw
 * Every case asserts on what the kiosk wrote or drew; none on timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "member.h"
#include "store.h"
#include "uitest.h"

#define PHONE "13800138000"
#define TYPE_PHONE                                                                                 \
  "tap keypad.1\ntap keypad.3\ntap keypad.8\ntap keypad.0\ntap keypad.0\n"                         \
  "tap keypad.1\ntap keypad.3\ntap keypad.8\ntap keypad.0\ntap keypad.0\ntap keypad.0\n"
#define TYPE_PHONE_B                                                                               \
  "tap keypad.1\ntap keypad.3\ntap keypad.8\ntap keypad.0\ntap keypad.0\n"                         \
  "tap keypad.1\ntap keypad.3\ntap keypad.8\ntap keypad.0\ntap keypad.0\ntap keypad.1\n"
#define HOLD_CORNER "hold 20 20 3.5\nexpect screen pin\n"
#define TYPE_PIN    "key 2\nkey 4\nkey 6\nkey 8\nkey return\n"

static char db[1200];

static void path(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", ut_dir, name);
}

static void expect_qr(const char *png, const char *want) {
  char p[1200], got[1024];
  path(p, sizeof p, png);
  int n = ut_decode_png(p, got, sizeof got, NULL, NULL);
  UT_CHECK(n == 1, "%s: %d QR codes found", png, n);
  UT_CHECK(strcmp(got, want) == 0, "%s: QR says '%s', want '%s'", png, got, want);
}

/* The member with phone at time t (derived here, without the kiosk). */
static member_result lookup_phone(int64_t t, const char *phone) {
  sqr_clock *c;
  store *st;
  char err[256];
  member_result r;
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  sqr_rc rc = member_lookup(st, phone, NULL, &r);
  UT_CHECK(rc == SQR_OK, "member_lookup: %s", sqr_strerror(rc));
  store_close(st);
  clock_free(c);
  return r;
}

static member_result lookup(int64_t t) {
  return lookup_phone(t, PHONE);
}

static int64_t members(int64_t t) {
  sqr_clock *c;
  store *st;
  char err[256];
  store_status ss;
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  UT_CHECK(store_status_get(st, &ss) == SQR_OK, "status");
  store_close(st);
  clock_free(c);
  return ss.members;
}

/* The kiosk's marketing_consent events: how many gave consent (to
 * UT_MARKETING_VERSION) and how many withdrew it; *last the log's last seq. */
typedef struct mkt_events {
  int given, withdrawn;
  int64_t last;
} mkt_events;

static int count_marketing(const store_event *ev, void *ud) {
  mkt_events *m = ud;
  m->last = ev->seq;
  if(strcmp(ev->type, "marketing_consent") != 0) return 0;
  if(strstr(ev->payload, "\"given\":true") &&
     strstr(ev->payload, "\"version\":\"" UT_MARKETING_VERSION "\""))
    m->given++;
  else if(strstr(ev->payload, "\"given\":false") && strstr(ev->payload, "\"version\":null"))
    m->withdrawn++;
  else
    UT_CHECK(0, "a marketing_consent event unlike either: %s", ev->payload);
  return 0;
}

static mkt_events marketing_events(int64_t t) {
  sqr_clock *c;
  store *st;
  char err[256];
  mkt_events m = {0, 0, 0};
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  UT_CHECK(store_events_after(st, 0, 100000, count_marketing, &m) == SQR_OK, "events");
  store_close(st);
  clock_free(c);
  return m;
}

/* Every screen, one orientation and language: PNGs, QR codes, token. */
static void one_matrix(const char *size, const char *lang) {
  char name[64], sub[64];
  snprintf(sub, sizeof sub, "matrix-%s-%s", size, lang);
  ut_setup(sub);
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  /* In the breakfast slot, so the campaign (text and image) is on screen. */
  int64_t t = UT_BREAKFAST(ut_now_aligned());
  ut_store_opts mo = {.campaign_image = "images/breakfast.png"};
  ut_make_store(db, t, &mo);
  const char *script =
      "screenshot live\n"
      "tap join\nexpect screen join\n" TYPE_PHONE "screenshot join\n"
      "tap ok\nexpect screen consent\nscreenshot consent\n"
      "drag policy -200\ntap down\ntap agree\ntap age\ntap continue\n"
      "expect screen details\ntap tag.coffee\ntap staff.s02\nscreenshot details\n"
      "tap finish\nexpect screen result\nexpect result joined\nscreenshot result_join\n"
      "tap done\nexpect screen live\n"
      "tap join\n" TYPE_PHONE "tap ok\nexpect result welcome_back\nscreenshot result_back\n"
      "tap done\nexpect screen live\n"
      "tap checkin\nexpect screen checkin\n" TYPE_PHONE "screenshot checkin\n"
      "tap ok\nexpect result checked_in\nscreenshot result_checkin\ntap done\n" HOLD_CORNER
      "screenshot pin\n" TYPE_PIN "expect screen manager\nscreenshot manager\n"
      "tap close\nexpect screen live\nscreenshot live_end\n";
  int rc = ut_run(db, script, t, size, lang);
  UT_CHECK(rc == 0, "kiosk exit %d for %s %s", rc, size, lang);
  int w, h, ww, hh;
  UT_CHECK(sscanf(size, "%dx%d", &w, &h) == 2, "size");
  const char *shots[] = {"live",        "join",        "consent", "details",
                         "result_join", "result_back", "checkin", "result_checkin",
                         "pin",         "manager",     "live_end"};
  for(size_t i = 0; i < sizeof shots / sizeof shots[0]; i++) {
    char p[1200], got[1024];
    snprintf(name, sizeof name, "%s.png", shots[i]);
    path(p, sizeof p, name);
    int n = ut_decode_png(p, got, sizeof got, &ww, &hh);
    UT_CHECK(ww == w && hh == h, "%s is %dx%d", name, ww, hh);
    int want_qr = !strcmp(shots[i], "live") || !strcmp(shots[i], "result_join") ||
                  !strcmp(shots[i], "result_back") || !strcmp(shots[i], "live_end");
    UT_CHECK(n == want_qr, "%s: %d QR codes", name, n);
  }
  char want[1024];
  ut_live_text(db, t, want, sizeof want);
  UT_CHECK(strncmp(want, "HTTPS://", 8) == 0, "hq mode URL %s", want);
  expect_qr("live.png", want);
  expect_qr("live_end.png", want);
  char lp[1200];
  path(lp, sizeof lp, "live.png");
  UT_CHECK(ut_png_count_rgb(lp, UT_ORANGE, 12) > 2000, "no campaign image on the live screen");
  ut_verify_url(db, want, t);
  member_result r = lookup(t);
  UT_CHECK(strcmp(r.group_id, "ja-coffee") == 0, "interest group %s", r.group_id);
  expect_qr("result_join.png", r.group_link);
  expect_qr("result_back.png", r.group_link);
  UT_CHECK(members(t) == 1, "the returning member was signed up twice");
  printf("matrix %s %s: ok (%s)\n", size, lang, want);
}

static void t_matrix(void) {
  one_matrix("1080x1920", "zh");
  one_matrix("1080x1920", "en");
  one_matrix("1920x1080", "zh");
  one_matrix("1920x1080", "en");
}

static void t_join(void) {
  ut_setup("join");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  /* No consent, no record: the continue button does nothing unticked, nor
   * with the service consent alone (the age unconfirmed), nor with the age
   * alone; ticks made before "back" are gone when the policy is shown
   * again. No marketing consent is offered (the demo has none). */
  const char *s1 = "expect hidden withdraw\ntap join\n" TYPE_PHONE
                   "tap ok\nexpect screen consent\nexpect visible age\nexpect hidden marketing\n"
                   "tap continue\nexpect screen consent\nexpect disabled continue\n"
                   "tap agree\nexpect disabled continue\ntap continue\nexpect screen consent\n"
                   "key return\nexpect screen consent\n"
                   "tap agree\ntap age\nexpect disabled continue\ntap continue\n"
                   "expect screen consent\ntap agree\ntap back\nexpect screen join\ntap ok\n"
                   "expect screen consent\nexpect disabled continue\ntap continue\n"
                   "expect screen consent\ntap age\nexpect disabled continue\ntap back\n"
                   "tap back\nexpect screen live\nexpect nodigits\n";
  UT_CHECK(ut_run(db, s1, t, NULL, NULL) == 0, "refused consent run");
  UT_CHECK(members(t) == 0, "a member without consent");
  /* Touch (finger events) all the way through. */
  const char *s2 =
      "touch join\n"
      "touch keypad.1\ntouch keypad.3\ntouch keypad.8\ntouch keypad.0\ntouch keypad.0\n"
      "touch keypad.1\ntouch keypad.3\ntouch keypad.8\ntouch keypad.0\ntouch keypad.0\n"
      "touch keypad.0\ntouch ok\ntouch agree\ntouch age\ntouch continue\ntouch finish\n"
      "expect result joined\nscreenshot joined\ntouch done\nexpect nodigits\n";
  UT_CHECK(ut_run(db, s2, t, NULL, NULL) == 0, "join run");
  member_result r = lookup(t);
  UT_CHECK(r.points == 50, "points %d after sign-up", r.points);
  UT_CHECK(members(t) == 1, "members");
  expect_qr("joined.png", r.group_link);
  /* The same phone again: welcomed back, no second member. */
  const char *s3 = "tap join\n" TYPE_PHONE "tap ok\nexpect result welcome_back\nscreenshot back\n";
  UT_CHECK(ut_run(db, s3, t + 60, NULL, NULL) == 0, "returning run");
  UT_CHECK(members(t) == 1, "returning member counted twice");
  expect_qr("back.png", r.group_link);
  puts("join: ok");
}

/* The marketing consent apart (PIPL): offered unticked, never a condition
 * of joining, recorded as its own event only when ticked; every box fresh
 * each time the policy is shown. Without the age requirement there is no
 * age box and the service consent alone continues. */
static void t_consent(void) {
  ut_setup("consent");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_store_opts mo = {.marketing = 1};
  ut_make_store(db, t, &mo);
  /* Marketing ticked, then "back": gone when the policy is shown again,
   * so this sign-up (agree + age only) records no marketing consent. The
   * marketing box alone does not open "continue". */
  const char *s1 =
      "tap join\n" TYPE_PHONE "tap ok\nexpect screen consent\nexpect visible marketing\n"
      "tap marketing\nexpect disabled continue\ntap back\ntap ok\n"
      "expect screen consent\ntap agree\ntap age\ntap continue\ntap finish\n"
      "expect result joined\nexpect text Marketing messages: no\ntap done\n";
  ut_kiosk_opts en = {.lang = "en"};
  UT_CHECK(ut_run_opts(db, s1, t, &en) == 0, "sign-up without marketing");
  mkt_events m = marketing_events(t);
  UT_CHECK(members(t) == 1, "%lld members", (long long)members(t));
  UT_CHECK(m.given == 0 && m.withdrawn == 0,
           "marketing events without the box: %d given, %d "
           "withdrawn",
           m.given, m.withdrawn);
  /* Ticked: one marketing_consent event with the configured version. */
  const char *s2 = "tap join\n" TYPE_PHONE_B "tap ok\nexpect screen consent\ntap agree\n"
                   "tap age\ntap marketing\nscreenshot consent\ntap continue\ntap finish\n"
                   "expect result joined\nexpect text Marketing messages: yes\n"
                   "screenshot joined\ntap done\n";
  UT_CHECK(ut_run_opts(db, s2, t, &en) == 0, "sign-up with marketing");
  m = marketing_events(t);
  UT_CHECK(members(t) == 2, "%lld members", (long long)members(t));
  UT_CHECK(m.given == 1 && m.withdrawn == 0,
           "marketing events with the box: %d given, %d "
           "withdrawn",
           m.given, m.withdrawn);
  /* No age requirement: no age box, the service consent continues. */
  ut_setup("consent-noage");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  ut_store_opts na = {.no_age = 1};
  ut_make_store(db, t, &na);
  const char *s3 = "tap join\n" TYPE_PHONE "tap ok\nexpect hidden age\nexpect hidden marketing\n"
                   "tap agree\ntap continue\ntap finish\nexpect result joined\n";
  UT_CHECK(ut_run(db, s3, t, NULL, NULL) == 0, "sign-up without the age box");
  UT_CHECK(members(t) == 1, "%lld members", (long long)members(t));
  puts("consent: ok");
}

/* Stopping marketing messages at the kiosk: from the live screen, the
 * number on the keypad, a confirmation; a member's withdrawal is recorded
 * (given false), an unknown number is "not a member" and records nothing,
 * a cancelled one nothing either. The number never reaches the log. */
static void t_withdraw(void) {
  ut_setup("withdraw");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_store_opts mo = {.marketing = 1};
  ut_make_store(db, t, &mo);
  char logp[1200];
  path(logp, sizeof logp, "kiosk.log");
  FILE *log = fopen(logp, "w+");
  UT_CHECK(log, "log file");
  ut_kiosk_opts o = {.lang = "en", .stderr_fd = fileno(log)};
  const char *s1 = "tap join\n" TYPE_PHONE "tap ok\ntap agree\ntap age\ntap marketing\n"
                   "tap continue\ntap finish\nexpect result joined\ntap done\n"
                   /* typed, confirmed screen left with escape: nothing */
                   "expect visible withdraw\ntap withdraw\nexpect screen withdraw\n" TYPE_PHONE
                   "tap ok\nexpect screen withdraw_confirm\nkey escape\nexpect screen live\n"
                   "expect nodigits\n";
  UT_CHECK(ut_run_opts(db, s1, t, &o) == 0, "sign-up and a cancelled withdrawal");
  mkt_events before = marketing_events(t);
  UT_CHECK(before.given == 1 && before.withdrawn == 0, "%d given, %d withdrawn", before.given,
           before.withdrawn);
  /* "back" on the confirmation keeps the digits; "stop them" records. */
  const char *s2 =
      "tap withdraw\n" TYPE_PHONE "tap ok\nexpect screen withdraw_confirm\n"
      "expect text Stop marketing messages?\nscreenshot confirm\ntap back\nexpect screen withdraw\n"
      "tap ok\nexpect screen withdraw_confirm\ntap confirm\nexpect result withdrawn\n"
      "expect text Done: no more marketing messages\nexpect nodigits\nscreenshot done\n"
      "tap done\nscreenshot live\n"
      "expect screen live\n";
  UT_CHECK(ut_run_opts(db, s2, t + 60, &o) == 0, "withdrawal");
  mkt_events after = marketing_events(t + 60);
  UT_CHECK(after.given == 1 && after.withdrawn == 1, "%d given, %d withdrawn", after.given,
           after.withdrawn);
  UT_CHECK(members(t) == 1 && lookup(t).points == 50, "the member changed");
  /* A number that is not a member: said so, nothing recorded. */
  const char *s3 =
      "tap withdraw\n" TYPE_PHONE_B "tap ok\ntap confirm\nexpect result withdraw_not_member\n"
      "expect text You are not a member\nexpect text Not a member: nothing was\nexpect hidden "
      "join\n"
      "expect nodigits\ntap done\n";
  UT_CHECK(ut_run_opts(db, s3, t + 120, &o) == 0, "withdrawal of a stranger");
  mkt_events none = marketing_events(t + 120);
  UT_CHECK(none.last == after.last, "the stranger's withdrawal recorded events %lld..%lld",
           (long long)after.last, (long long)none.last);
  /* Not offered without a marketing consent in the configuration. */
  ut_store_opts off = {.version = 2};
  ut_make_store(db, t, &off);
  UT_CHECK(ut_run_opts(db, "expect hidden withdraw\n", t + 180, &o) == 0, "offered without one");
  /* The kiosk said nothing of either number. */
  char buf[65536];
  rewind(log);
  size_t n = fread(buf, 1, sizeof buf - 1, log);
  buf[n] = '\0';
  fclose(log);
  UT_CHECK(!strstr(buf, "13800") && !strstr(buf, "138 0") && !strstr(buf, "0013"),
           "a phone number in the kiosk's log: %s", buf);
  puts("withdraw: ok");
}

static void t_checkin(void) {
  ut_setup("checkin");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  /* Not a member yet: offered to join, and "join now" keeps the number. */
  const char *s0 = "tap checkin\n" TYPE_PHONE "tap ok\nexpect result not_member\n"
                   "screenshot not_member\ntap join\nexpect screen consent\ntap agree\ntap age\n"
                   "tap continue\ntap finish\nexpect result joined\n";
  UT_CHECK(ut_run(db, s0, t, NULL, NULL) == 0, "not-member run");
  int before = lookup(t).points;
  const char *s1 = "tap checkin\n" TYPE_PHONE "tap ok\nexpect result checked_in\nscreenshot ok\n"
                   "tap done\ntap checkin\n" TYPE_PHONE "tap ok\nexpect result already\n"
                   "screenshot already\n";
  UT_CHECK(ut_run(db, s1, t + 120, NULL, NULL) == 0, "check-in run");
  member_result r = lookup(t + 120);
  UT_CHECK(r.points == before + 10, "points %d -> %d", before, r.points);
  UT_CHECK(r.streak == 1, "streak %d", r.streak);
  /* The next day counts again, and the streak grows. */
  const char *s2 = "tap checkin\n" TYPE_PHONE "tap ok\nexpect result checked_in\n";
  UT_CHECK(ut_run(db, s2, t + 86400, NULL, NULL) == 0, "next-day run");
  r = lookup(t + 86400);
  UT_CHECK(r.points == before + 20 && r.streak == 2, "points %d streak %d", r.points, r.streak);
  puts("checkin: ok");
}

static void t_pin(void) {
  ut_setup("pin");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  /* A short press does nothing; a wrong PIN stays out. */
  const char *s1 =
      "hold 20 20 1\nexpect screen live\n" HOLD_CORNER
      "key 1\nkey 1\nkey 1\nkey 1\nkey return\nexpect screen pin\n"
      "key 1\nkey 2\nkey 3\nkey 4\nkey return\nexpect screen pin\n"
      "key 0\nkey 0\nkey 0\nkey 0\nkey return\nexpect screen pin\n"
      "key 9\nkey 9\nkey 9\nkey 9\nkey return\nexpect screen pin\n"
      "key 5\nkey 5\nkey 5\nkey 5\nkey return\nexpect screen pin\n"
      "expect disabled keypad\nscreenshot locked\n"
      /* locked: even the right PIN is refused */
      TYPE_PIN "expect screen pin\n"
      "tap back\n" HOLD_CORNER "expect disabled keypad\n" TYPE_PIN "expect screen pin\n"
      /* five minutes later it opens again */
      "advance 301\nexpect screen live\n" HOLD_CORNER TYPE_PIN "expect screen manager\n";
  UT_CHECK(ut_run(db, s1, t, NULL, NULL) == 0, "PIN lockout run");
  puts("pin: ok");
}

static void t_idle(void) {
  ut_setup("idle");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  const char *s = "tap join\nscreenshot join_empty\n" TYPE_PHONE "screenshot join_typed\n"
                  "advance 29\nexpect screen join\n"
                  "advance 2\nexpect screen live\nexpect nodigits\nscreenshot after_idle\n"
                  "tap join\nexpect nodigits\nscreenshot join_again\n"
                  "tap back\ntap checkin\nkey 1\nkey 3\nkey 9\nadvance 31\nexpect screen live\n"
                  "expect nodigits\n"
                  "lang en\ntap join\nadvance 31\nexpect screen live\n";
  UT_CHECK(ut_run(db, s, t, NULL, NULL) == 0, "idle run");
  char a[1200], b[1200], c[1200];
  path(a, sizeof a, "join_empty.png");
  path(b, sizeof b, "join_again.png");
  path(c, sizeof c, "join_typed.png");
  UT_CHECK(!ut_png_equal(a, c), "typing changed nothing on screen");
  UT_CHECK(ut_png_equal(a, b), "the keypad screen after the idle timeout still shows something");
  char want[1024];
  ut_live_text(db, t + 31, want, sizeof want);
  expect_qr("after_idle.png", want);
  puts("idle: ok");
}

static void t_rotate(void) {
  ut_setup("rotate");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned(); /* 2 s into a window */
  ut_make_store(db, t, NULL);
  /* w1 and w2 are what the display holds after a rotation redrew only the
   * QR and the countdown; w1_full and w2_full draw everything again. */
  const char *s = "screenshot w0\nadvance 27\nscreenshot w0_end\nadvance 1\nscreenshot w1\n"
                  "screenshot w1_full full\nadvance 5\nscreenshot w1_5\nscreenshot w1_5_full full\n"
                  "advance 25\nscreenshot w2\nscreenshot w2_full full\n";
  UT_CHECK(ut_run(db, s, t, NULL, NULL) == 0, "rotate run");
  char w0[1024], w1[1024], want[1024];
  ut_live_text(db, t, want, sizeof want);
  expect_qr("w0.png", want);
  expect_qr("w0_end.png", want);
  ut_live_text(db, t + 28, w1, sizeof w1);
  expect_qr("w1.png", w1);
  snprintf(w0, sizeof w0, "%s", want);
  UT_CHECK(strcmp(w0, w1) != 0, "the code did not change at the window boundary");
  ut_verify_url(db, w1, t + 28);
  ut_live_text(db, t + 58, want, sizeof want);
  expect_qr("w2.png", want);
  ut_verify_url(db, want, t + 58);
  const char *pairs[][2] = {
      {"w1.png", "w1_full.png"}, {"w1_5.png", "w1_5_full.png"}, {"w2.png", "w2_full.png"}};
  for(size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    char a[1200], b[1200];
    path(a, sizeof a, pairs[i][0]);
    path(b, sizeof b, pairs[i][1]);
    UT_CHECK(ut_png_equal(a, b), "%s (partial redraw) differs from a full redraw", pairs[i][0]);
  }
  puts("rotate: ok");
}

/* The sync daemon (another process) records a new HQ clock offset while
 * the kiosk runs: within a rotation the code on the screen is the one for
 * HQ's time, not the box's (issue: a running kiosk kept the offset it
 * started with). */
static void t_offset(void) {
  ut_setup("offset");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned(); /* 2 s into a window */
  ut_make_store(db, t, NULL);
  char before[1024], after[1024];
  ut_live_text(db, t, before, sizeof before);
  /* 1.5 s of real time for the daemon's record to land, then 6 s of the
   * kiosk's clock: past its next look at the offset (every 5 s) */
  const char *s = "screenshot o0\nwait 1500\nadvance 6\nscreenshot o6\n";
  int pid = ut_spawn(db, s, t, NULL);
  /* The record lands once o0 is on disk: a kiosk slow to start (under
   * ASan, on a loaded box) once read the new offset before its first
   * screenshot. Within its 1.5 s wait, so o6 must show the new one. */
  char o0[1200];
  path(o0, sizeof o0, "o0.png");
  for(int i = 0; i < 3000 && access(o0, F_OK) != 0; i++)
    usleep(10 * 1000);
  sqr_clock *c;
  store *st;
  char err[256];
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  UT_CHECK(store_sync_record(st, 1, NULL, 60000) == SQR_OK, "sync record");
  store_close(st);
  clock_free(c);
  UT_CHECK(ut_wait(pid) == 0, "offset run");
  expect_qr("o0.png", before);
  ut_live_text(db, t + 6, after, sizeof after); /* opens with the new offset: t + 66 */
  UT_CHECK(strcmp(before, after) != 0, "the offset did not move the window");
  expect_qr("o6.png", after);
  ut_verify_url(db, after, t + 66); /* HQ's time */
  puts("offset: ok");
}

static void t_fill(void) {
  ut_setup("fill");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_store_opts o = {.direct = 1, .group1_capacity = 11}; /* reserve 10: one seat */
  ut_make_store(db, t, &o);
  const char *s =
      "screenshot g1\nexpect qr live.qr https://weixin.qq.com/g/demo-ja-store-1\n"
      "tap join\n" TYPE_PHONE "tap ok\ntap agree\ntap age\ntap continue\ntap finish\n"
      "expect result joined\nscreenshot joined\ntap done\n"
      "screenshot g2\nexpect qr live.qr https://weixin.qq.com/g/demo-ja-store-2\n" HOLD_CORNER
          TYPE_PIN "expect screen manager\ntap full.ja-store-2\n"
      "screenshot manager_alert\ntap close\nscreenshot fallback\n";
  UT_CHECK(ut_run(db, s, t, NULL, NULL) == 0, "fill run");
  expect_qr("g1.png", "https://weixin.qq.com/g/demo-ja-store-1");
  expect_qr("joined.png", "https://weixin.qq.com/g/demo-ja-store-1");
  expect_qr("g2.png", "https://weixin.qq.com/g/demo-ja-store-2");
  expect_qr("fallback.png", "https://work.weixin.qq.com/ca/demo-staff-contact");
  puts("fill: ok");
}

/* Lost textures (SDL_RENDER_TARGETS_RESET) are made again: same QR. */
static void t_reset(void) {
  ut_setup("reset");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  const char *s = "screenshot before\nreset-textures\nwait 1\nscreenshot after\n";
  UT_CHECK(ut_run(db, s, t, NULL, NULL) == 0, "reset run");
  char a[1200], b[1200], want[1024];
  path(a, sizeof a, "before.png");
  path(b, sizeof b, "after.png");
  UT_CHECK(ut_png_equal(a, b), "screen differs after the texture reset");
  ut_live_text(db, t, want, sizeof want);
  expect_qr("after.png", want);
  puts("reset: ok");
}

/* The renderer's device lost and the display unplugged and plugged back,
 * in the middle of typing a phone number: the screen comes back the same,
 * digits and all (nothing lost), and the live code still decodes. */
static void t_hotplug(void) {
  ut_setup("hotplug");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  const char *s = "screenshot live_before\ndevice-reset\ndisplay-unplug\ndisplay-plug\nwait 1\n"
                  "screenshot live_after\ntap join\ntap keypad.1\ntap keypad.3\ntap keypad.8\n"
                  "screenshot typed_before\ndevice-reset\ndisplay-unplug\nwait 1\ndisplay-plug\n"
                  "reset-textures\nwait 1\nscreenshot typed_after\nexpect screen join\n";
  UT_CHECK(ut_run(db, s, t, NULL, NULL) == 0, "hotplug run");
  char a[1200], b[1200], want[1024];
  path(a, sizeof a, "live_before.png");
  path(b, sizeof b, "live_after.png");
  UT_CHECK(ut_png_equal(a, b), "live screen differs after device reset and display replug");
  ut_live_text(db, t, want, sizeof want);
  expect_qr("live_after.png", want);
  path(a, sizeof a, "typed_before.png");
  path(b, sizeof b, "typed_after.png");
  UT_CHECK(ut_png_equal(a, b), "typed digits lost after device reset and display replug");
  puts("hotplug: ok");
}

/* A campaign image that is missing: the campaign shows as text only and
 * nothing else changes. */
static void t_campaign(void) {
  ut_setup("campaign");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = UT_BREAKFAST(ut_now_aligned());
  ut_store_opts o = {.campaign_image = "images/missing.png"};
  ut_make_store(db, t, &o);
  const char *s = "screenshot live\nadvance 30\nscreenshot live2\ntap join\ntap back\n"
                  "screenshot live3\n";
  UT_CHECK(ut_run(db, s, t, NULL, NULL) == 0, "missing-image run");
  char want[1024], p[1200];
  ut_live_text(db, t, want, sizeof want);
  expect_qr("live.png", want);
  path(p, sizeof p, "live3.png");
  UT_CHECK(ut_png_count_rgb(p, UT_ORANGE, 12) == 0, "an image where none can be read");
  puts("campaign: ok");
}

/* Fills the store until sign-ups no longer fit under a page cap at its
 * current size (SQLite never sets the cap lower), plus three more refused;
 * returns how many fitted. */
static int fill_store(int64_t t) {
  sqr_clock *c;
  store *st;
  char err[256], phone[16];
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  UT_CHECK(store_set_max_pages(st, 1) == SQR_OK, "page cap");
  int ok = 0, failed = 0;
  for(int i = 0; i < 20000 && failed < 4; i++) {
    snprintf(phone, sizeof phone, "1391%07d", i);
    member_signup_req req = {
        .phone = phone, .consented = 1, .age_confirmed = 1, .consent_version = "2026-11"};
    member_result r;
    sqr_rc rc = member_signup(st, &req, &r);
    if(rc == SQR_OK && !failed)
      ok++;
    else
      UT_CHECK(rc == SQR_ENOSPC, "a sign-up fitted after one did not, or failed otherwise: %s",
               sqr_strerror(rc));
    if(rc) failed++;
  }
  UT_CHECK(ok > 0 && failed == 4, "%d sign-ups, %d refused", ok, failed);
  store_close(st);
  clock_free(c);
  return ok;
}

/* Every one of the n members fill_store recorded is still there. */
static void expect_filled_members(int64_t t, int n) {
  sqr_clock *c;
  store *st;
  char err[256], phone[16];
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  for(int i = 0; i < n; i++) {
    snprintf(phone, sizeof phone, "1391%07d", i);
    member_result r;
    UT_CHECK(member_lookup(st, phone, NULL, &r) == SQR_OK, "member %d of %d lost", i, n);
  }
  int64_t checked, bad;
  char why[200];
  UT_CHECK(store_verify_log(st, &checked, &bad, why, sizeof why) == SQR_OK, "event log: %s", why);
  store_close(st);
  clock_free(c);
}

#define UT_RED 0xD9, 0x3A, 0x2B /* UI_WARN: badges and warnings */

static int red(const char *png) {
  char p[1200];
  path(p, sizeof p, png);
  return ut_png_count_rgb(p, UT_RED, 8);
}

/* The disk fills up while the kiosk runs (a write refused: SQR_ENOSPC):
 * the shopper's sign-up ends on the "paused, ask staff" screen (nothing
 * recorded, never "done"), the live code stays and decodes, join and
 * check-in lead to that screen instead of a keypad, the manager screen
 * and systemd's STATUS say "disk full". Room comes back without a
 * restart: a sign-up works, and every member recorded before is there. */
static void t_disk(void) {
  ut_setup("disk");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  int filled = fill_store(t);
  int64_t before = members(t);
  UT_CHECK(before == filled, "%lld members, %d signed up", (long long)before, filled);
  char sock[1200], env_sock[1300];
  snprintf(sock, sizeof sock, "%s/notify.sock", ut_dir);
  if(strlen(sock) >= 100)
    snprintf(sock, sizeof sock, "/tmp/storeqr-ui-disk-%d.sock", (int)getpid());
  int nfd = ut_notify_bind(sock);
  snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", sock);
  const char *env[] = {env_sock, "-WATCHDOG_USEC", "-WATCHDOG_PID", NULL};
  const char *args[] = {"--db-max-pages", "1", NULL};
  const char *s =
      "expect state code\n"
      "tap join\n" TYPE_PHONE "tap ok\ntap agree\ntap age\ntap continue\ntap finish\n"
      "expect screen paused\nexpect nodigits\nscreenshot paused\ntap done\n"
      "expect screen live\nexpect state paused\nscreenshot live_full\n"
      /* straight to the paused screen: no number typed for nothing */
      "tap join\nexpect screen paused\ntap done\ntap checkin\nexpect screen paused\nkey "
      "escape\n" HOLD_CORNER TYPE_PIN "expect screen manager\nscreenshot manager_full\ntap close\n"
      /* room again; the refused write is retried after a minute */
      "db-max-pages 1000000\nadvance 61\nexpect state code\nscreenshot live_ok\n" HOLD_CORNER
          TYPE_PIN "expect screen manager\nscreenshot manager_ok\ntap close\n"
      "tap join\nexpect screen join\n" TYPE_PHONE
      "tap ok\ntap agree\ntap age\ntap continue\ntap finish\n"
      "expect result joined\ntap done\n";
  ut_kiosk_opts o = {.env = env, .args = args};
  int rc = ut_run_opts(db, s, t, &o);
  UT_CHECK(rc == 0, "full-disk run (exit %d)", rc);
  UT_CHECK(members(t) == before + 1, "members %lld -> %lld", (long long)before,
           (long long)members(t));
  expect_filled_members(t, filled);
  char got[1024], want[1024], p[1200];
  path(p, sizeof p, "paused.png");
  UT_CHECK(ut_decode_png(p, got, sizeof got, NULL, NULL) == 0, "a QR on the paused screen");
  ut_live_text(db, t, want, sizeof want);
  expect_qr("live_full.png", want);
  ut_verify_url(db, want, t);
  /* The badge over the grey buttons (the offline badge is red in both). */
  UT_CHECK(red("live_full.png") > red("live_ok.png") + 5000, "no paused badge: %d vs %d red px",
           red("live_full.png"), red("live_ok.png"));
  UT_CHECK(red("manager_full.png") > red("manager_ok.png") + 2000,
           "the manager screen does not say disk full");
  /* systemd heard it too, and heard it end. */
  char m[256];
  int full_at = -1, ok_after = -1, i = 0;
  while(ut_notify_recv(nfd, m, sizeof m, 0)) {
    if(strstr(m, "STATUS=disk full") && full_at < 0) full_at = i;
    if(strstr(m, "STATUS=live code") && full_at >= 0) ok_after = i;
    i++;
  }
  close(nfd);
  unlink(sock);
  UT_CHECK(full_at >= 0, "no STATUS=disk full");
  UT_CHECK(ok_after > full_at, "no STATUS=live code after the disk had room");
  puts("disk: ok");
}

/* Too little free space seen ahead of any write (statvfs under the floor,
 * here a floor above any disk): paused from the start, landscape and
 * English; the floor lowered, sign-ups resume at once. */
static void t_lowdisk(void) {
  ut_setup("lowdisk");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  const char *args[] = {"--min-free-mb", "1000000000", NULL};
  const char *s = "expect state paused\nscreenshot live_low\ntap join\nexpect screen paused\n"
                  "screenshot paused_low\ntap done\nmin-free-mb 0\nexpect state code\n"
                  "screenshot live_ok\ntap join\nexpect screen join\n" TYPE_PHONE
                  "tap ok\ntap agree\ntap age\ntap continue\ntap finish\nexpect result joined\n";
  ut_kiosk_opts o = {.args = args, .size = "1920x1080", .lang = "en"};
  UT_CHECK(ut_run_opts(db, s, t, &o) == 0, "low-disk run");
  UT_CHECK(members(t) == 1, "members %lld", (long long)members(t));
  char want[1024];
  ut_live_text(db, t, want, sizeof want);
  expect_qr("live_low.png", want);
  UT_CHECK(red("live_low.png") > red("live_ok.png") + 5000, "no paused badge in landscape");
  puts("lowdisk: ok");
}

/* Time on the manager screen: HQ's clock offset the sync recorded, and the
 * last clock jump — none, then the box's clock set an hour ahead while the
 * kiosk runs (recorded once, by the kiosk's own check), then a day that
 * only the next sync's HQ offset reveals (the clock set across a reboot).
 * The line is drawn in the warning colour while the jump is recent. */
static void record_sync(int64_t t, int64_t offset_ms) {
  sqr_clock *c;
  store *st;
  char err[256];
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  UT_CHECK(store_sync_record(st, 1, NULL, offset_ms) == SQR_OK, "sync record");
  store_close(st);
  clock_free(c);
}

static store_status status_at(int64_t t) {
  sqr_clock *c;
  store *st;
  char err[256];
  store_status ss;
  UT_CHECK(clock_new_fixed(t * 1000, &c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  UT_CHECK(store_status_get(st, &ss) == SQR_OK, "status");
  store_close(st);
  clock_free(c);
  return ss;
}

static void t_clock(void) {
  ut_setup("clock");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  record_sync(t, 61000);
  const char *s1 = "advance 6\n" HOLD_CORNER TYPE_PIN "expect screen manager\n"
                   "expect text HQ clock offset: 61000 ms\nexpect text Clock jumps: none\n"
                   "screenshot manager_none\ntap close\n"
                   /* someone sets the box an hour ahead; the kiosk looks every 5 s */
                   "wall 3600\nadvance 6\nadvance 6\n" HOLD_CORNER TYPE_PIN
                   "expect screen manager\nexpect text Last clock jump: \n"
                   "expect text , +1 h 0 min (box clock set; 1 in all)\n"
                   "screenshot manager_jump\ntap close\n";
  ut_kiosk_opts en = {.lang = "en"};
  UT_CHECK(ut_run_opts(db, s1, t, &en) == 0, "clock run (en)");
  store_status ss = status_at(t);
  UT_CHECK(ss.clock_jumps == 1, "%lld clock jumps recorded", (long long)ss.clock_jumps);
  UT_CHECK(ss.last_clock_jump_by_ms >= 3600000 && ss.last_clock_jump_by_ms < 3601000,
           "jump of %lld ms", (long long)ss.last_clock_jump_by_ms);
  UT_CHECK(red("manager_jump.png") > red("manager_none.png") + 1000,
           "the recent jump is not in the warning colour: %d vs %d red px", red("manager_jump.png"),
           red("manager_none.png"));
  /* Rebooted a day back: the kiosk's own check sees another boot (nothing
   * to compare), the sync's HQ offset says a day. */
  record_sync(t, 61000 - 3600000 + 86400000);
  const char *s2 = HOLD_CORNER TYPE_PIN
      "expect screen manager\n"
      "expect text 上次时钟跳变：\nexpect text -1天0小时（与总部时间不符，共 2 次）\n"
      "screenshot manager_hq\n";
  UT_CHECK(ut_run(db, s2, t, NULL, "zh") == 0, "clock run (zh)");
  ss = status_at(t);
  UT_CHECK(ss.clock_jumps == 2 && strcmp(ss.last_clock_jump_source, "hq_offset") == 0,
           "%lld jumps, the last %s", (long long)ss.clock_jumps, ss.last_clock_jump_source);
  puts("clock: ok");
}

/* The first frame after start is the QR alone on the background (the
 * text would cost FreeType's time before a code is on screen); the frame
 * after it is the whole screen, equal to a full redraw. */
static void one_first(const char *size) {
  char sub[64];
  snprintf(sub, sizeof sub, "first-%s", size);
  ut_setup(sub);
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = UT_BREAKFAST(ut_now_aligned());
  ut_store_opts mo = {.campaign_image = "images/breakfast.png"};
  ut_make_store(db, t, &mo);
  const char *s = "screenshot first first\nscreenshot live\nscreenshot live_full full\n";
  UT_CHECK(ut_run(db, s, t, size, "zh") == 0, "first-frame run %s", size);
  char want[1024], first[1200], live[1200], full[1200];
  ut_live_text(db, t, want, sizeof want);
  expect_qr("first.png", want);
  expect_qr("live.png", want);
  path(first, sizeof first, "first.png");
  path(live, sizeof live, "live.png");
  path(full, sizeof full, "live_full.png");
  /* The join button (WeChat green) and the campaign image come second. */
  UT_CHECK(ut_png_count_rgb(first, 0x07, 0xA3, 0x5A, 12) == 0, "%s: a button in the first frame",
           size);
  UT_CHECK(ut_png_count_rgb(first, UT_ORANGE, 12) == 0, "%s: the image in the first frame", size);
  UT_CHECK(ut_png_count_rgb(live, 0x07, 0xA3, 0x5A, 12) > 2000, "%s: no button after it", size);
  UT_CHECK(ut_png_count_rgb(live, UT_ORANGE, 12) > 2000, "%s: no image after it", size);
  UT_CHECK(ut_png_equal(live, full), "%s: the frame after the first is not the whole screen", size);
  printf("first %s: ok\n", size);
}

static void t_first(void) {
  one_first("1080x1920");
  one_first("1920x1080");
}

/* The blind index is derived on a worker from the 11th digit, and the
 * member calls use it (counted by the kiosk: `expect index AHEAD INCALL`,
 * a structural check, not a timing): the join lookup and the sign-up of
 * one flow share one derivation, a check-in of the same number finds the
 * member. A number changed after its worker ran (the last digit deleted
 * and another typed) is looked up as the new number, never by the old
 * one's index; leaving the keypad drops the worker's result. Then at the
 * real Argon2 cost, confirming at once (the worker still running: the
 * call waits for it), and with --no-prefetch, where every call derives. */
#define PHONE_B "13800138001"
static void t_index(void) {
  ut_setup("index");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  int64_t t = ut_now_aligned();
  ut_make_store(db, t, NULL);
  const char *s1 =
      "tap join\n" TYPE_PHONE "tap ok\nexpect screen consent\nexpect index 1 0\n"
      "tap agree\ntap age\ntap continue\nexpect screen details\ntap finish\nexpect result joined\n"
      "expect index 2 0\ntap done\nexpect nodigits\n"
      "tap checkin\n" TYPE_PHONE "tap ok\nexpect result checked_in\nexpect index 3 0\n"
      "tap done\n"
      /* typed in full, then left: nothing of it stays */
      "tap checkin\n" TYPE_PHONE "tap back\nexpect screen live\nexpect nodigits\n"
      /* typed in full and derived, then the last digit changed */
      "tap checkin\n" TYPE_PHONE "wait 300\ntap keypad.del\ntap keypad.1\ntap ok\n"
      "expect result not_member\nexpect index 4 0\n"
      /* "join now" signs that number up with the same index */
      "tap join\ntap agree\ntap age\ntap continue\ntap finish\nexpect result joined\n"
      "expect index 5 0\ntap done\nexpect nodigits\n";
  UT_CHECK(ut_run(db, s1, t, NULL, NULL) == 0, "index run");
  UT_CHECK(members(t) == 2, "%lld members, want 2", (long long)members(t));
  member_result a = lookup_phone(t, PHONE), b = lookup_phone(t, PHONE_B);
  UT_CHECK(strcmp(a.member_id, b.member_id) != 0, "the two numbers are one member");
  UT_CHECK(a.points == 60 && a.streak == 1, "first member: points %d streak %d", a.points,
           a.streak);
  UT_CHECK(b.points == 50 && b.streak == 0, "second member: points %d streak %d", b.points,
           b.streak);

  /* The real cost (32 MiB, t = 2): "ok" right after the 11th digit. */
  ut_setup("index-real");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  ut_store_opts real = {.index_m_kib = CONFIG_INDEX_M_KIB_DEFAULT,
                        .index_t = CONFIG_INDEX_T_DEFAULT};
  ut_make_store(db, t, &real);
  const char *s2 = "tap checkin\n" TYPE_PHONE "tap ok\nexpect result not_member\n"
                   "expect index 1 0\ntap join\ntap agree\ntap age\ntap continue\ntap finish\n"
                   "expect result joined\nexpect index 2 0\ntap done\n"
                   "tap checkin\n" TYPE_PHONE "tap ok\nexpect result checked_in\n"
                   "expect index 3 0\ntap done\nexpect nodigits\n";
  UT_CHECK(ut_run(db, s2, t, NULL, NULL) == 0, "index run at the real cost");
  UT_CHECK(members(t) == 1 && lookup(t).points == 60, "real cost: members or points wrong");

  /* The baseline: nothing derived ahead, the same results. */
  ut_setup("index-off");
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  ut_make_store(db, t, NULL);
  const char *off[] = {"--no-prefetch", NULL};
  const char *s3 = "tap join\n" TYPE_PHONE "tap ok\nexpect index 0 1\ntap agree\ntap age\n"
                   "tap continue\ntap finish\nexpect result joined\nexpect index 0 2\n"
                   "tap done\ntap checkin\n" TYPE_PHONE "tap ok\nexpect result checked_in\n"
                   "expect index 0 3\n";
  ut_kiosk_opts oo = {.args = off};
  UT_CHECK(ut_run_opts(db, s3, t, &oo) == 0, "index run without prefetch");
  UT_CHECK(members(t) == 1 && lookup(t).points == 60, "no prefetch: members or points wrong");
  puts("index: ok");
}

int main(int argc, char **argv) {
  if(argc != 3) {
    fprintf(stderr, "usage: test_ui KIOSK CASE\n");
    return 2;
  }
  ut_kiosk = argv[1];
  const char *c = argv[2];
  if(!strcmp(c, "matrix"))
    t_matrix();
  else if(!strcmp(c, "join"))
    t_join();
  else if(!strcmp(c, "checkin"))
    t_checkin();
  else if(!strcmp(c, "pin"))
    t_pin();
  else if(!strcmp(c, "idle"))
    t_idle();
  else if(!strcmp(c, "rotate"))
    t_rotate();
  else if(!strcmp(c, "offset"))
    t_offset();
  else if(!strcmp(c, "fill"))
    t_fill();
  else if(!strcmp(c, "reset"))
    t_reset();
  else if(!strcmp(c, "hotplug"))
    t_hotplug();
  else if(!strcmp(c, "campaign"))
    t_campaign();
  else if(!strcmp(c, "disk"))
    t_disk();
  else if(!strcmp(c, "lowdisk"))
    t_lowdisk();
  else if(!strcmp(c, "first"))
    t_first();
  else if(!strcmp(c, "clock"))
    t_clock();
  else if(!strcmp(c, "index"))
    t_index();
  else if(!strcmp(c, "consent"))
    t_consent();
  else if(!strcmp(c, "withdraw"))
    t_withdraw();
  else {
    fprintf(stderr, "test_ui: unknown case %s\n", c);
    return 2;
  }
  return 0;
}
