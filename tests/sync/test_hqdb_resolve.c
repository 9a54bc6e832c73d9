/* test_hqdb_resolve.c — a flush settling the seat leases of many groups
 * at once (sync/hq/storage/hqdb_resolve.c, hqdb_resolve_flush), between
 * two handles on one database as two HQ processes would be: SQLite in a
 * temp file, or the PostgreSQL URL in $SQR_TEST_DB (jobs_test.sh starts a
 * throwaway cluster). Times are passed in, so a lease lapses without
 * waiting.
 *
 * The kept leases of a flush are settled in statements of up to 64
 * groups, whose rows come back matched by store and group; more groups
 * than one statement holds, each with a claim of its own, one lease
 * another process reclaimed and groups giving everything back, so that a
 * row matched to the wrong group, or a kept lease not seen as kept, shows
 * as a wrong count. The leases it keeps are topped up in batches the
 * same way. */
#include "testutil.h"

#include "hqdb.h"
#include "hqdb_int.h"
#include "hqdb_resolve.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NGROUPS   150 /* three statements of kept leases: 64, 64, then 16 and fewer */
#define LIMIT     190
#define TTL       60000
#define RECLAIMED 3 /* b reclaims a's lease of this group before a flushes */
#define T0        1000000

static hqdb *a, *b;

static int setup(void **state) {
  (void)state;
  char err[256], path[600];
  const char *url = getenv("SQR_TEST_DB");
  if(!url || !url[0]) {
    snprintf(path, sizeof path, "%s", tu_path(tu_tmpdir("hqdb_resolve"), "hq.db"));
    url = path;
  }
  assert_int_equal(hqdb_open(url, &a, err, sizeof err), SQR_OK);
  assert_int_equal(hqdb_open(url, &b, err, sizeof err), SQR_OK);
  print_message("backend: %s\n", hqdb_backend(a));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  hqdb_close(a);
  hqdb_close(b);
  return 0;
}

/* One integer the statement returns (its first cell), -1 for no row. */
static int64_t one(hqdb *db, const char *sql, const char *sid, const char *grp) {
  hqres r = {0};
  hqv p[] = {T(sid), T(grp)};
  assert_int_equal(hqdb_exec(db, sql, p, 2, &r, NULL), SQR_OK);
  int64_t v = r.nrows ? cell_int(&r, 0, 0) : -1;
  hqres_free(&r);
  return v;
}

static int64_t claimed(const char *sid, const char *grp) {
  return one(a, "SELECT claimed FROM group_seats WHERE store = $1 AND grp = $2", sid, grp);
}

/* Seats the seat_leases rows of the group hold, every owner's (-1: none). */
static int64_t leased(const char *sid, const char *grp) {
  return one(a, "SELECT SUM(seats) FROM seat_leases WHERE store = $1 AND grp = $2", sid, grp);
}

/* Leases want seats as db, expecting expect_granted; returns how many
 * other handles hold seats of the group then. */
static int64_t lease(hqdb *db, const char *sid, const char *grp, int64_t want, int64_t now,
                     int64_t ttl, int64_t expect_granted) {
  int64_t granted = -1, left = -1, others = -1;
  assert_int_equal(
      hqdb_resolve_lease(db, sid, grp, want, LIMIT, now, ttl, &granted, &left, &others), SQR_OK);
  assert_int_equal(granted, expect_granted);
  return others;
}

static void test_flush_settles_many_groups(void **state) {
  (void)state;
  resolve_sent_delta *d = calloc(NGROUPS, sizeof *d);
  int64_t other[NGROUPS]; /* seats b holds of each group */
  assert_non_null(d);
  /* a leases 10 seats of every group (a store each, so that the matching
   * is by store, and a group id shared with other stores), b 1..5 of each
   * but the reclaimed one: every group is claimed differently. */
  for(int i = 0; i < NGROUPS; i++) {
    snprintf(d[i].store, sizeof d[i].store, "SH-%03d", i);
    snprintf(d[i].grp, sizeof d[i].grp, "g%d", i % 2);
    assert_int_equal(lease(a, d[i].store, d[i].grp, 10, T0, TTL, 10), 0);
    other[i] = i == RECLAIMED ? 0 : 1 + i % 5;
    if(other[i]) assert_int_equal(lease(b, d[i].store, d[i].grp, other[i], T0, TTL, other[i]), 1);
  }
  /* a stops flushing for longer than b's TTL: b's next lease of group
   * RECLAIMED gives a's 10 seats back and takes 2, and then holds the
   * group alone. */
  assert_int_equal(lease(b, d[RECLAIMED].store, d[RECLAIMED].grp, 2, T0 + 5000, 1000, 2), 0);
  other[RECLAIMED] = 2;
  assert_int_equal(leased(d[RECLAIMED].store, d[RECLAIMED].grp), 2);

  /* a's flush: 3 of each group's 10 seats sent; it keeps 4 of the other
   * 7, but gives all back of every tenth group (keep 0). */
  for(int i = 0; i < NGROUPS; i++) {
    d[i].n = 3;
    d[i].unused = 7;
    d[i].keep = i % 10 == 9 ? 0 : 4;
    d[i].keep_room = 128;
    d[i].limit = LIMIT;
  }
  assert_int_equal(hqdb_resolve_flush(a, NULL, 0, d, NGROUPS, T0 + 6000, TTL), SQR_OK);

  for(int i = 0; i < NGROUPS; i++) {
    const char *s = d[i].store, *g = d[i].grp;
    if(i == RECLAIMED) {
      /* Its row was gone: nothing kept; the 3 it sent are claimed again
       * (b gave back all 10, so the group holds b's 2 and the 3 sent). */
      assert_int_equal(d[i].kept, 0);
      assert_int_equal(claimed(s, g), other[i] + 3);
      assert_int_equal(leased(s, g), other[i]);
    } else if(d[i].keep == 0) {
      /* All 7 unspent back: claimed holds the 3 sent and b's. */
      assert_int_equal(d[i].kept, 0);
      assert_int_equal(claimed(s, g), 3 + other[i]);
      assert_int_equal(leased(s, g), other[i]);
    } else {
      /* Kept 4 (renewed), 3 spent stay claimed, the other 3 unspent go
       * back; left is this group's. */
      assert_int_equal(d[i].kept, 4);
      assert_int_equal(claimed(s, g), 7 + other[i]);
      assert_int_equal(d[i].left, LIMIT - 7 - other[i]);
      assert_int_equal(d[i].others, 1); /* b */
      assert_int_equal(leased(s, g), 4 + other[i]);
      assert_int_equal(one(a,
                           "SELECT MAX(renewed_ms) FROM seat_leases"
                           " WHERE store = $1 AND grp = $2 AND seats = 4",
                           s, g),
                       T0 + 6000);
    }
  }
  free(d);
}

/* The flush tops up the leases it keeps in batches (topup_kept): across
 * more groups than one statement holds, some with room (granted what
 * they want), some nearly full (granted the rest), some refused (fewer
 * unclaimed than keep_room), so that a grant matched to the wrong group,
 * or added to the wrong lease, shows as a wrong count. */
static void test_flush_tops_up_kept_leases(void **state) {
  (void)state;
  resolve_sent_delta *d = calloc(NGROUPS, sizeof *d);
  int64_t other[NGROUPS];
  assert_non_null(d);
  for(int i = 0; i < NGROUPS; i++) {
    snprintf(d[i].store, sizeof d[i].store, "SH-T%03d", i);
    snprintf(d[i].grp, sizeof d[i].grp, "g%d", i % 2);
    assert_int_equal(lease(a, d[i].store, d[i].grp, 10, T0, TTL, 10), 0);
    /* b: a little of the room (kind 0), all but 2 seats of it after a's
     * flush below (kind 1: a's 3 sent and 4 kept, 5 unclaimed), or
     * enough that fewer than 128 are unclaimed (kind 2) */
    other[i] = i % 3 == 0 ? 1 + i % 5 : i % 3 == 1 ? LIMIT - 10 - 2 : 100;
    assert_int_equal(lease(b, d[i].store, d[i].grp, other[i], T0, TTL, other[i]), 1);
    d[i].n = 3;
    d[i].unused = 7;
    d[i].keep = 4;
    d[i].want = i % 3 == 1 ? 8 : 5 + i % 4;
    d[i].keep_room = i % 3 == 2 ? 128 : 1;
    d[i].limit = LIMIT;
  }
  assert_int_equal(hqdb_resolve_flush(a, NULL, 0, d, NGROUPS, T0 + 100, TTL), SQR_OK);
  for(int i = 0; i < NGROUPS; i++) {
    const char *s = d[i].store, *g = d[i].grp;
    int64_t granted = i % 3 == 0 ? 5 + i % 4 : i % 3 == 1 ? 5 : 0;
    assert_int_equal(d[i].kept, 4);
    assert_int_equal(d[i].granted, granted);
    assert_int_equal(claimed(s, g), other[i] + 3 + 4 + granted);
    assert_int_equal(d[i].left, LIMIT - other[i] - 3 - 4 - granted);
    assert_int_equal(d[i].others, 1);
    assert_int_equal(leased(s, g), other[i] + 4 + granted);
    assert_int_equal(one(a,
                         "SELECT seats FROM seat_leases WHERE store = $1 AND grp = $2"
                         " AND renewed_ms = 1000100",
                         s, g),
                     4 + granted);
  }
  free(d);
}

/* Two processes flushing the same two groups at once, each giving one
 * back and topping the other up (mirror images): the give-backs, the
 * batched top-ups and the one-by-one leases are separate passes, so
 * without the rows locked in (store, grp) order first each flush would
 * hold one row and wait for the other's (PostgreSQL: "deadlock
 * detected" after deadlock_timeout, one flush lost). A trigger slows
 * every update of group_seats so that the two overlap. PostgreSQL only:
 * SQLite's writer lock is the whole database's. */
typedef struct flush_job {
  hqdb *db;
  resolve_sent_delta d[2];
  sqr_rc rc;
} flush_job;

static void *run_flush(void *arg) {
  flush_job *j = arg;
  j->rc = hqdb_resolve_flush(j->db, NULL, 0, j->d, 2, T0 + 100, TTL);
  return NULL;
}

static void test_mirror_flushes_do_not_deadlock(void **state) {
  (void)state;
  if(strcmp(hqdb_backend(a), "postgresql") != 0) skip();
  const char *sid[2] = {"SH-D0", "SH-D1"};
  /* a holds 4 of SH-D0 and 5 of SH-D1, b 5 and 4 */
  for(int i = 0; i < 2; i++) {
    lease(a, sid[i], "g", 4 + i, T0, TTL, 4 + i);
    lease(b, sid[i], "g", 5 - i, T0, TTL, 5 - i);
  }
  assert_int_equal(hqdb_exec(a,
                             "CREATE FUNCTION slow_seats() RETURNS trigger AS"
                             " $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$"
                             " LANGUAGE plpgsql",
                             NULL, 0, NULL, NULL),
                   SQR_OK);
  assert_int_equal(hqdb_exec(a,
                             "CREATE TRIGGER slow_seats BEFORE UPDATE ON group_seats"
                             " FOR EACH ROW EXECUTE FUNCTION slow_seats()",
                             NULL, 0, NULL, NULL),
                   SQR_OK);
  /* Nobody sent anyone since (a shopper sent would put the group in
   * group_scans, whose rows every flush locks first, in order): a keeps
   * its 4 of SH-D0 and wants 3 more, gives its 5 of SH-D1 back; b the
   * other way round. */
  flush_job ja = {.db = a}, jb = {.db = b};
  for(int i = 0; i < 2; i++) {
    resolve_sent_delta d = {.keep_room = 1, .limit = LIMIT};
    snprintf(d.store, sizeof d.store, "%s", sid[i]);
    snprintf(d.grp, sizeof d.grp, "g");
    ja.d[i] = jb.d[i] = d;
  }
  ja.d[0].unused = ja.d[0].keep = 4;
  ja.d[1].unused = 5;
  jb.d[0].unused = 5;
  jb.d[1].unused = jb.d[1].keep = 4;
  ja.d[0].want = jb.d[1].want = 3;
  pthread_t ta, tb;
  assert_int_equal(pthread_create(&ta, NULL, run_flush, &ja), 0);
  assert_int_equal(pthread_create(&tb, NULL, run_flush, &jb), 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  assert_int_equal(hqdb_exec(a, "DROP TRIGGER slow_seats ON group_seats", NULL, 0, NULL, NULL),
                   SQR_OK);
  assert_int_equal(hqdb_exec(a, "DROP FUNCTION slow_seats()", NULL, 0, NULL, NULL), SQR_OK);
  assert_int_equal(ja.rc, SQR_OK);
  assert_int_equal(jb.rc, SQR_OK);
  /* each group: the keeper's 4 and 3 more, the other's given back */
  for(int i = 0; i < 2; i++) {
    assert_int_equal(claimed(sid[i], "g"), 4 + 3);
    assert_int_equal(leased(sid[i], "g"), 4 + 3);
  }
  assert_int_equal(ja.d[0].granted, 3);
  assert_int_equal(jb.d[1].granted, 3);
}

/* Whether a handle holds a group alone, as leases and kept flushes
 * report it (the resolver keeps seats near full only then): b's lease
 * makes it shared, b giving everything back makes it a's alone again. */
static void test_others(void **state) {
  (void)state;
  assert_int_equal(lease(a, "SH-O", "g", 10, T0, TTL, 10), 0);
  assert_int_equal(lease(b, "SH-O", "g", 5, T0, TTL, 5), 1);
  resolve_sent_delta da = {
      .store = "SH-O", .grp = "g", .n = 2, .unused = 8, .keep = 4, .keep_room = 1, .limit = LIMIT};
  assert_int_equal(hqdb_resolve_flush(a, NULL, 0, &da, 1, T0 + 100, TTL), SQR_OK);
  assert_int_equal(da.kept, 4);
  assert_int_equal(da.others, 1);
  resolve_sent_delta db = {.store = "SH-O", .grp = "g", .n = 1, .unused = 4, .limit = LIMIT};
  assert_int_equal(hqdb_resolve_flush(b, NULL, 0, &db, 1, T0 + 200, TTL), SQR_OK);
  da.n = 1;
  da.unused = 3;
  da.keep = 3;
  da.kept = 0;
  assert_int_equal(hqdb_resolve_flush(a, NULL, 0, &da, 1, T0 + 300, TTL), SQR_OK);
  assert_int_equal(da.kept, 3);
  assert_int_equal(da.others, 0);
  assert_int_equal(da.left, LIMIT - 2 - 1 - 1 - 3);
  /* b finds no seat: a row of 0 seats says so to a, and b's next flush
   * of the group deletes it. */
  int64_t all = LIMIT - 7;
  assert_int_equal(lease(a, "SH-O", "g", all, T0 + 400, TTL, all), 0);
  assert_int_equal(lease(b, "SH-O", "g", 1, T0 + 500, TTL, 0), 1);
  assert_int_equal(one(a,
                       "SELECT COUNT(*) FROM seat_leases WHERE store = $1 AND grp = $2"
                       " AND seats = 0",
                       "SH-O", "g"),
                   1);
  da.n = 0;
  da.unused = 3 + all;
  da.keep = 3 + all;
  da.kept = 0;
  assert_int_equal(hqdb_resolve_flush(a, NULL, 0, &da, 1, T0 + 600, TTL), SQR_OK);
  assert_int_equal(da.others, 1);
  resolve_sent_delta dw = {.store = "SH-O", .grp = "g", .limit = LIMIT};
  assert_int_equal(hqdb_resolve_flush(b, NULL, 0, &dw, 1, T0 + 700, TTL), SQR_OK);
  assert_int_equal(leased("SH-O", "g"), 3 + all);
  assert_int_equal(
      one(a, "SELECT COUNT(*) FROM seat_leases WHERE store = $1 AND grp = $2", "SH-O", "g"), 1);
  /* A flush's top-up that gets nothing is no shopper going without: no
   * row; it still reads the group (nothing unclaimed, a holds it). */
  resolve_sent_delta dt = {.store = "SH-O", .grp = "g", .want = 1, .keep_room = 1, .limit = LIMIT};
  assert_int_equal(hqdb_resolve_flush(b, NULL, 0, &dt, 1, T0 + 800, TTL), SQR_OK);
  assert_int_equal(dt.granted, 0);
  assert_int_equal(dt.left, 0);
  assert_int_equal(dt.others, 1);
  assert_int_equal(
      one(a, "SELECT COUNT(*) FROM seat_leases WHERE store = $1 AND grp = $2", "SH-O", "g"), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_flush_settles_many_groups, setup, teardown),
      cmocka_unit_test_setup_teardown(test_flush_tops_up_kept_leases, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mirror_flushes_do_not_deadlock, setup, teardown),
      cmocka_unit_test_setup_teardown(test_others, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
