/* test_hqdb_jobs.c — leased background jobs (sync/hq/storage/hqdb_jobs.c)
 * between two handles on one database, as two HQ processes would be:
 * SQLite in a temp file, or the PostgreSQL URL in $SQR_TEST_DB
 * (jobs_test.sh starts a throwaway cluster). Times are passed in, so
 * leases lapse without waiting. */
#include "testutil.h"

#include "hqdb.h"
#include "hqdb_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TTL 10000

static hqdb *a, *b;

static int setup(void **state) {
  (void)state;
  char err[256], path[600];
  const char *url = getenv("SQR_TEST_DB");
  if(!url || !url[0]) {
    snprintf(path, sizeof path, "%s", tu_path(tu_tmpdir("hqdb_jobs"), "hq.db"));
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

/* Advances in a transaction of its own, committed only when it took. */
static int advance(hqdb *db, const char *job, int64_t from, int64_t to, int64_t now) {
  int ok = -1;
  assert_int_equal(hqdb_begin(db), SQR_OK);
  assert_int_equal(hqdb_job_advance(db, job, from, to, now, TTL, &ok), SQR_OK);
  if(ok) {
    assert_int_equal(hqdb_commit(db), SQR_OK);
  } else {
    hqdb_rollback(db);
  }
  return ok;
}

static void test_one_holder_and_takeover(void **state) {
  (void)state;
  const char *job = "seal_open";
  int64_t t = 1000000, cur = -1;
  int held = -1;
  hq_job j;

  assert_int_equal(hqdb_job_get(a, job, &j), SQR_ENOTFOUND);
  /* The first asker gets it at cursor 0; the second, while it lives, not. */
  assert_int_equal(hqdb_job_lease(a, job, t, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 1);
  assert_int_equal(cur, 0);
  cur = -1;
  assert_int_equal(hqdb_job_lease(b, job, t + 1, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 0);
  assert_int_equal(cur, -1);

  /* The holder advances in its transaction; b cannot advance at all. */
  assert_true(advance(a, job, 0, 10, t + 100));
  assert_false(advance(b, job, 10, 20, t + 100));
  assert_int_equal(hqdb_job_get(a, job, &j), SQR_OK);
  assert_int_equal(j.cursor, 10);
  assert_int_equal(j.updated_ms, t + 100);
  assert_int_equal(j.lease_until_ms, t + 100 + TTL);

  /* An advance rolled back with its slice leaves the cursor where it was. */
  int ok = 0;
  assert_int_equal(hqdb_begin(a), SQR_OK);
  assert_int_equal(hqdb_job_advance(a, job, 10, 15, t + 200, TTL, &ok), SQR_OK);
  assert_int_equal(ok, 1);
  hqdb_rollback(a);
  assert_int_equal(hqdb_job_get(b, job, &j), SQR_OK);
  assert_int_equal(j.cursor, 10);

  /* Renewing: the holder leases again and keeps it. */
  assert_int_equal(hqdb_job_lease(a, job, t + 5000, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 1);
  assert_int_equal(cur, 10);
  assert_int_equal(hqdb_job_lease(b, job, t + 5000 + TTL - 1, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 0);

  /* a stalls past its lease: b takes over where a's effects stopped... */
  int64_t later = t + 5000 + TTL;
  assert_int_equal(hqdb_job_lease(b, job, later, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 1);
  assert_int_equal(cur, 10);
  /* ...and a, waking, can neither commit its slice nor take the lease back. */
  assert_false(advance(a, job, 10, 20, later + 1));
  assert_int_equal(hqdb_job_lease(a, job, later + 1, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 0);
  /* b's advance from a stale cursor is refused too (compare-and-set). */
  assert_false(advance(b, job, 0, 20, later + 2));
  assert_true(advance(b, job, 10, 20, later + 2));
  /* Past its lease, even the holder's advance is refused. */
  assert_false(advance(b, job, 20, 30, later + 2 + TTL));

  /* A clean stop: released, the other takes it at once, cursor kept. */
  assert_int_equal(hqdb_job_lease(b, job, later + 3, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 1);
  assert_int_equal(hqdb_job_release(a, job), SQR_OK); /* not a's: no effect */
  assert_int_equal(hqdb_job_lease(a, job, later + 4, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 0);
  assert_int_equal(hqdb_job_release(b, job), SQR_OK);
  assert_int_equal(hqdb_job_lease(a, job, later + 4, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 1);
  assert_int_equal(cur, 20);

  /* Jobs are independent, and bad arguments are refused. */
  assert_int_equal(hqdb_job_lease(b, "retention", later + 5, TTL, &held, &cur), SQR_OK);
  assert_int_equal(held, 1);
  assert_int_equal(cur, 0);
  assert_int_equal(hqdb_job_lease(b, "", later, TTL, &held, &cur), SQR_EINVAL);
  assert_int_equal(hqdb_job_lease(b, "x", later, 0, &held, &cur), SQR_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_one_holder_and_takeover, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
