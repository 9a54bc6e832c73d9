/* test_feed.c — the feed page (sync/proto/feed.c): every kind survives
 * HQ's encoder and the kiosk's decoder; the decoder refuses, naming the
 * field, every page HQ could not have sent; the encoder refuses the
 * entries the decoder would. */
#include "testutil.h"
#include "feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MID_A "0123456789abcdef0123456789abcdef"
#define MID_B "1123456789abcdef0123456789abcdef"

static proto_feed_entry member_entry(int64_t seq, const char *mid) {
  proto_feed_entry e = {.seq = seq,
                        .kind = PROTO_FEED_MEMBER,
                        .index_kind = CONFIG_INDEX_ARGON2ID,
                        .created_ms = 1795500000000,
                        .last_day = 20794,
                        .state_seq = 5,
                        .points = 60,
                        .streak = 2,
                        .tags = "[\"coffee\",\"tea\"]"};
  snprintf(e.origin, sizeof e.origin, "SH-JA01/1");
  snprintf(e.member, sizeof e.member, "%s", mid);
  snprintf(e.consent_version, sizeof e.consent_version, "2026-11");
  snprintf(e.staff, sizeof e.staff, "s01");
  for(size_t i = 0; i < sizeof e.blind; i++)
    e.blind[i] = (uint8_t)(i * 7 + 1);
  return e;
}

static proto_feed_entry checkin_entry(int64_t seq) {
  proto_feed_entry e = {.seq = seq,
                        .kind = PROTO_FEED_CHECKIN,
                        .day = 20795,
                        .points = 10,
                        .streak = 3,
                        .ts_ms = 1795600000000};
  snprintf(e.origin, sizeof e.origin, "SH-JA01/2@3");
  snprintf(e.member, sizeof e.member, MID_A);
  return e;
}

static proto_feed_entry void_entry(int64_t seq) {
  proto_feed_entry e = {.seq = seq, .kind = PROTO_FEED_VOID, .day = 20795, .points = 10};
  snprintf(e.origin, sizeof e.origin, "hq");
  snprintf(e.member, sizeof e.member, MID_A);
  snprintf(e.kiosk, sizeof e.kiosk, "SH-JA01/1");
  return e;
}

static proto_feed_entry erase_entry(int64_t seq) {
  proto_feed_entry e = {.seq = seq, .kind = PROTO_FEED_ERASE};
  snprintf(e.origin, sizeof e.origin, "hq");
  snprintf(e.member, sizeof e.member, MID_B);
  return e;
}

static char *encode(proto_feed_page *p) {
  char *json;
  size_t len;
  assert_int_equal(proto_feed_encode(p, &json, &len), SQR_OK);
  assert_int_equal(strlen(json), len);
  return json;
}

static void test_round_trip(void **state) {
  (void)state;
  proto_feed_page p = {.more = 1, .hq_time_ms = 1795600000123};
  snprintf(p.next, sizeof p.next, "4");
  proto_feed_entry e[] = {member_entry(1, MID_A), checkin_entry(2), void_entry(3), erase_entry(4)};
  e[0].staff[0] = '\0'; /* null on the wire */
  snprintf(e[0].group, sizeof e[0].group, "g1");
  for(size_t i = 0; i < 4; i++)
    assert_int_equal(proto_feed_add(&p, &e[i]), SQR_OK);
  char *json = encode(&p);
  assert_null(strstr(json, "sealed"));
  assert_non_null(strstr(json, "\"staff\":null"));
  proto_feed_page q;
  char err[200];
  assert_int_equal(proto_feed_decode(json, strlen(json), &q, err, sizeof err), SQR_OK);
  assert_int_equal(q.count, 4);
  assert_true(q.more);
  assert_false(q.snapshot);
  assert_string_equal(q.next, "4");
  assert_int_equal(q.hq_time_ms, 1795600000123);
  const proto_feed_entry *m = &q.entries[0];
  assert_int_equal(m->kind, PROTO_FEED_MEMBER);
  assert_memory_equal(m->blind, e[0].blind, sizeof m->blind);
  assert_string_equal(m->tags, "[\"coffee\",\"tea\"]");
  assert_string_equal(m->staff, "");
  assert_string_equal(m->group, "g1");
  assert_int_equal(m->points, 60);
  assert_int_equal(m->last_day, 20794);
  assert_int_equal(m->state_seq, 5);
  assert_int_equal(m->created_ms, 1795500000000);
  assert_string_equal(m->consent_version, "2026-11");
  assert_int_equal(q.entries[1].kind, PROTO_FEED_CHECKIN);
  assert_string_equal(q.entries[1].origin, "SH-JA01/2@3");
  assert_int_equal(q.entries[1].ts_ms, 1795600000000);
  assert_int_equal(q.entries[1].streak, 3);
  assert_int_equal(q.entries[2].kind, PROTO_FEED_VOID);
  assert_string_equal(q.entries[2].kiosk, "SH-JA01/1");
  assert_int_equal(q.entries[2].points, 10);
  assert_int_equal(q.entries[3].kind, PROTO_FEED_ERASE);
  assert_string_equal(q.entries[3].member, MID_B);
  proto_feed_clear(&q);
  proto_feed_clear(&p);
  free(json);
}

/* A snapshot page of e[0..n) as HQ's encoder writes it: the kiosk's
 * decoder refuses it with a message naming why. */
static void snapshot_refused(const proto_feed_entry *e, size_t n, const char *why) {
  proto_feed_page p = {.snapshot = 1}, q;
  char err[200];
  snprintf(p.next, sizeof p.next, "5");
  for(size_t i = 0; i < n; i++)
    assert_int_equal(proto_feed_add(&p, &e[i]), SQR_OK);
  char *json = encode(&p);
  assert_int_equal(proto_feed_decode(json, strlen(json), &q, err, sizeof err), SQR_EPROTO);
  assert_non_null(strstr(err, why));
  free(json);
  proto_feed_clear(&p);
}

static void test_snapshot_order(void **state) {
  (void)state;
  proto_feed_page p = {.snapshot = 1};
  snprintf(p.next, sizeof p.next, "m7.%s", MID_B);
  proto_feed_entry a = member_entry(9, MID_A), b = member_entry(3, MID_B);
  assert_int_equal(proto_feed_add(&p, &a), SQR_OK);
  assert_int_equal(proto_feed_add(&p, &b), SQR_OK); /* seq as of: need not rise */
  char *json = encode(&p);
  proto_feed_page q;
  char err[200];
  assert_int_equal(proto_feed_decode(json, strlen(json), &q, err, sizeof err), SQR_OK);
  assert_true(q.snapshot);
  assert_int_equal(q.count, 2);
  proto_feed_clear(&q);
  free(json);
  proto_feed_clear(&p);
  /* the same two in the other order, or a check-in among them: refused */
  const proto_feed_entry swapped[] = {b, a}, mixed[] = {checkin_entry(4)};
  snapshot_refused(swapped, 2, "entries[1]");
  snapshot_refused(mixed, 1, "members only");
}

/* One valid page with a single entry of each kind, as text, then each
 * field changed one at a time: decoded, or refused naming the field. */
static const char *const VALID =
    "{\"entries\":["
    "{\"seq\":1,\"kind\":\"member\",\"origin\":\"SH-JA01/1\",\"member\":\"" MID_A "\","
    "\"blind\":\"AQgPFh0kKzI5QEdOVVxjanF4f4aNlJuiqbC3vsXM09o=\",\"index_kind\":1,"
    "\"points\":50,\"streak\":0,\"last_day\":0,\"state_seq\":1,\"created_ms\":1,\"consent_"
    "version\":\"v1\","
    "\"tags\":[],\"staff\":null,\"group\":\"g1\"},"
    "{\"seq\":2,\"kind\":\"checkin\",\"origin\":\"SH-JA01/2\",\"member\":\"" MID_A "\","
    "\"day\":20795,\"points\":10,\"streak\":1,\"ts_ms\":5},"
    "{\"seq\":3,\"kind\":\"void\",\"origin\":\"hq\",\"member\":\"" MID_A "\","
    "\"day\":20795,\"points\":10,\"kiosk\":\"SH-JA01/2\"},"
    "{\"seq\":4,\"kind\":\"erase\",\"origin\":\"hq\",\"member\":\"" MID_A "\"}],"
    "\"snapshot\":false,\"more\":false,\"next\":\"4\",\"hq_time_ms\":7}";

static char *replace(const char *s, const char *from, const char *to) {
  const char *at = strstr(s, from);
  assert_non_null(at);
  size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
  char *out = malloc(n);
  assert_non_null(out);
  snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
  return out;
}

static void test_refusals(void **state) {
  (void)state;
  proto_feed_page q;
  char err[200];
  assert_int_equal(proto_feed_decode(VALID, strlen(VALID), &q, err, sizeof err), SQR_OK);
  assert_int_equal(q.count, 4);
  proto_feed_clear(&q);
  static const struct {
    const char *from, *to, *names;
  } cases[] = {
      {"\"seq\":2", "\"seq\":1", "entries[1].seq"},
      {"\"seq\":2", "\"seq\":2.5", "entries[1].seq"},
      {"\"seq\":1,", "\"seq\":0,", "entries[0].seq"},
      {"\"kind\":\"erase\"", "\"kind\":\"Fleet\"", "entries[3].kind"},
      {"\"kind\":\"erase\"", "\"kind\":\"\"", "entries[3].kind"},
      {"\"origin\":\"SH-JA01/2\"", "\"origin\":\"hq\"", "entries[1].origin"},
      {"\"origin\":\"SH-JA01/1\"", "\"origin\":\"sh-ja01/1\"", "entries[0].origin"},
      {"\"blind\":\"AQgP", "\"blind\":\"AQg", "entries[0].blind"},
      {"\"index_kind\":1", "\"index_kind\":2", "entries[0].index_kind"},
      {"\"last_day\":0", "\"last_day\":-1", "entries[0].last_day"},
      {"\"state_seq\":1", "\"state_seq\":0", "entries[0].state_seq"},
      {"\"consent_version\":\"v1\"", "\"consent_version\":\"\"", "entries[0].consent_version"},
      {"\"tags\":[]", "\"tags\":[1]", "entries[0].tags"},
      {"\"tags\":[]", "\"tags\":\"coffee\"", "entries[0].tags"},
      {"\"staff\":null", "\"staff\":7", "entries[0].staff"},
      {"\"group\":\"g1\"", "\"grp\":\"g1\"", "entries[0].group"},
      {"\"day\":20795,\"points\":10,\"streak\"", "\"day\":0,\"points\":10,\"streak\"",
       "entries[1].day"},
      {"\"points\":10,\"streak\":1", "\"points\":-10,\"streak\":1", "entries[1].points"},
      {"\"streak\":1", "\"streak\":0", "entries[1].streak"},
      {"\"kiosk\":\"SH-JA01/2\"", "\"kiosk\":\"hq\"", "entries[2].kiosk"},
      {"\"member\":\"" MID_A "\"}", "\"member\":\"" MID_B "0\"}", "entries[3].member"},
      {"\"next\":\"4\"", "\"next\":\"4/\"", "next"},
      {"\"next\":\"4\"", "\"next\":4", "next"},
      {"\"more\":false", "\"more\":0", "more"},
      {"\"hq_time_ms\":7", "\"hq_time_ms\":-7", "hq_time_ms"},
      {"{\"entries\":[", "{\"entries\":{},\"x\":[", "entries: must be an array"},
      {"\"hq_time_ms\":7}", "\"hq_time_ms\":7}x", "JSON"},
  };
  for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *bad = replace(VALID, cases[i].from, cases[i].to);
    err[0] = '\0';
    sqr_rc rc = proto_feed_decode(bad, strlen(bad), &q, err, sizeof err);
    if(rc != SQR_EPROTO || !strstr(err, cases[i].names))
      fail_msg("case %zu (%s): rc %d, err \"%s\"", i, cases[i].to, rc, err);
    assert_null(q.entries);
    free(bad);
  }
  /* an unknown field is a later HQ's: ignored */
  char *later = replace(VALID, "\"more\":false", "\"more\":false,\"plans\":[]");
  assert_int_equal(proto_feed_decode(later, strlen(later), &q, err, sizeof err), SQR_OK);
  proto_feed_clear(&q);
  free(later);
  /* so is an unknown kind (the fleet's requests, later): kept as LATER,
   * its seq checked, the rest of the page as it was */
  later =
      replace(VALID, "{\"seq\":4,\"kind\":\"erase\",\"origin\":\"hq\",\"member\":\"" MID_A "\"}",
              "{\"seq\":4,\"kind\":\"fleet_reboot\",\"at\":5}");
  assert_int_equal(proto_feed_decode(later, strlen(later), &q, err, sizeof err), SQR_OK);
  assert_int_equal(q.count, 4);
  assert_int_equal(q.entries[3].kind, PROTO_FEED_LATER);
  assert_int_equal(q.entries[3].seq, 4);
  assert_int_equal(q.entries[2].kind, PROTO_FEED_VOID);
  proto_feed_clear(&q);
  free(later);
  later = replace(VALID, "{\"seq\":4,\"kind\":\"erase\"", "{\"seq\":2,\"kind\":\"fleet\"");
  assert_int_equal(proto_feed_decode(later, strlen(later), &q, err, sizeof err), SQR_EPROTO);
  free(later);
}

/* Issue 16: a member's marketing consent rides on its entry (absent from
 * an older HQ's pages: none), and each change is an entry of its own. */
static void test_marketing(void **state) {
  (void)state;
  proto_feed_page p = {.hq_time_ms = 9}, q;
  char err[200];
  snprintf(p.next, sizeof p.next, "l3");
  proto_feed_entry m = member_entry(1, MID_A);
  snprintf(m.marketing, sizeof m.marketing, "2026-12-m");
  proto_feed_entry g = {.seq = 2, .kind = PROTO_FEED_MARKETING, .ts_ms = 1795600000000};
  snprintf(g.origin, sizeof g.origin, "SH-JA01/2");
  snprintf(g.member, sizeof g.member, MID_A);
  snprintf(g.marketing, sizeof g.marketing, "2026-12-m");
  proto_feed_entry w = g;
  w.seq = 3;
  w.marketing[0] = '\0';
  snprintf(w.origin, sizeof w.origin, "hq");
  assert_int_equal(proto_feed_add(&p, &m), SQR_OK);
  assert_int_equal(proto_feed_add(&p, &g), SQR_OK);
  assert_int_equal(proto_feed_add(&p, &w), SQR_OK);
  char *json = encode(&p);
  assert_non_null(strstr(json, "\"kind\":\"marketing\",\"origin\":\"hq\""));
  assert_non_null(strstr(json, "\"version\":null"));
  assert_int_equal(proto_feed_decode(json, strlen(json), &q, err, sizeof err), SQR_OK);
  assert_int_equal(q.count, 3);
  assert_string_equal(q.entries[0].marketing, "2026-12-m");
  assert_int_equal(q.entries[1].kind, PROTO_FEED_MARKETING);
  assert_string_equal(q.entries[1].marketing, "2026-12-m");
  assert_int_equal(q.entries[1].ts_ms, 1795600000000);
  assert_int_equal(q.entries[2].kind, PROTO_FEED_MARKETING);
  assert_string_equal(q.entries[2].marketing, "");
  proto_feed_clear(&q);
  /* refusals name the field */
  static const struct {
    const char *from, *to, *names;
  } cases[] = {
      {"\"marketing\":\"2026-12-m\"", "\"marketing\":\"a b\"", "entries[0].marketing"},
      {"\"marketing\":\"2026-12-m\"", "\"marketing\":1", "entries[0].marketing"},
      {"\"version\":null", "\"version\":\"<x>\"", "entries[2].version"},
      {"\"version\":null", "\"vers\":null", "entries[2].version"},
      {"\"version\":null,\"ts_ms\":1795600000000", "\"version\":null", "entries[2].ts_ms"},
  };
  for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *bad = replace(json, cases[i].from, cases[i].to);
    err[0] = '\0';
    sqr_rc rc = proto_feed_decode(bad, strlen(bad), &q, err, sizeof err);
    if(rc != SQR_EPROTO || !strstr(err, cases[i].names))
      fail_msg("case %zu (%s): rc %d, err \"%s\"", i, cases[i].to, rc, err);
    free(bad);
  }
  /* the encoder refuses what the decoder would */
  snprintf(w.marketing, sizeof w.marketing, "a b");
  assert_int_equal(proto_feed_add(&p, &w), SQR_EINVAL);
  proto_feed_clear(&p);
  free(json);
}

static void test_limits(void **state) {
  (void)state;
  proto_feed_page p = {0};
  snprintf(p.next, sizeof p.next, "%d", PROTO_FEED_MAX_ENTRIES);
  for(int i = 1; i <= PROTO_FEED_MAX_ENTRIES; i++) {
    proto_feed_entry e = erase_entry(i);
    assert_int_equal(proto_feed_add(&p, &e), SQR_OK);
  }
  proto_feed_entry e = erase_entry(PROTO_FEED_MAX_ENTRIES + 1);
  assert_int_equal(proto_feed_add(&p, &e), SQR_ENOSPC);
  char *json = encode(&p);
  assert_true(strlen(json) < PROTO_FEED_MAX_ANSWER);
  proto_feed_page q;
  char err[200];
  assert_int_equal(proto_feed_decode(json, strlen(json), &q, err, sizeof err), SQR_OK);
  assert_int_equal(q.count, PROTO_FEED_MAX_ENTRIES);
  proto_feed_clear(&q);
  /* one more entry on the wire: refused */
  char *more = replace(
      json, "]", ",{\"seq\":1001,\"kind\":\"erase\",\"origin\":\"hq\",\"member\":\"" MID_B "\"}]");
  assert_int_equal(proto_feed_decode(more, strlen(more), &q, err, sizeof err), SQR_EPROTO);
  assert_non_null(strstr(err, "more than"));
  free(more);
  free(json);
  proto_feed_clear(&p);
  /* a body past the limit is refused before it is parsed */
  size_t big = PROTO_FEED_MAX_ANSWER + 1;
  char *huge = malloc(big);
  assert_non_null(huge);
  memset(huge, ' ', big);
  assert_int_equal(proto_feed_decode(huge, big, &q, err, sizeof err), SQR_EPROTO);
  assert_non_null(strstr(err, "limit"));
  free(huge);
}

static void test_encoder_refuses(void **state) {
  (void)state;
  proto_feed_page p = {0};
  proto_feed_entry e = member_entry(1, MID_A);
  e.tags = "[\"\"]";
  assert_int_equal(proto_feed_add(&p, &e), SQR_EINVAL);
  e = member_entry(1, "0123");
  assert_int_equal(proto_feed_add(&p, &e), SQR_EINVAL);
  e = checkin_entry(2);
  snprintf(e.origin, sizeof e.origin, "hq"); /* a check-in is a kiosk's */
  assert_int_equal(proto_feed_add(&p, &e), SQR_EINVAL);
  e = void_entry(0);
  assert_int_equal(proto_feed_add(&p, &e), SQR_EINVAL);
  assert_int_equal(p.count, 0);
  snprintf(p.next, sizeof p.next, "a/b");
  char *json;
  assert_int_equal(proto_feed_encode(&p, &json, NULL), SQR_EINVAL);
  assert_false(proto_feed_cursor_valid(""));
  char longc[PROTO_FEED_CURSOR_MAX + 1];
  memset(longc, '1', sizeof longc - 1);
  longc[sizeof longc - 1] = '\0';
  assert_false(proto_feed_cursor_valid(longc));
  longc[PROTO_FEED_CURSOR_MAX - 1] = '\0';
  assert_true(proto_feed_cursor_valid(longc));
  proto_feed_clear(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_marketing),      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_snapshot_order), cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_limits),         cmocka_unit_test(test_encoder_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
