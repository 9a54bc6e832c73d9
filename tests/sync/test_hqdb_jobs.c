/* test_hqdb_jobs.c — leased background jobs (sync/hq/storage/hqdb_jobs.c)
 * between two handles on one database, as two HQ processes would be:
 * SQLite in a temp file, or the PostgreSQL URL in $SQR_TEST_DB
 * (jobs_test.sh starts a throwaway cluster); and the queue of sealed
 * phones the opener job works through (hqdb_seal.c). Times are passed in, so
 * leases lapse without waiting. */
#include "testutil.h"

#include "hqdb.h"
#include "hqdb_jobs.h"
#include "hqdb_seal.h"

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

static void test_seal_queue(void **state) {
  (void)state;
  int64_t count = -1, oldest = -1;
  hq_sealed_row *rows = NULL;
  size_t n = 0;
  const char *m1 = "0123456789abcdef0123456789abcdef", *m2 = "fedcba9876543210fedcba9876543210";

  assert_int_equal(hqdb_seal_backlog(a, &count, &oldest), SQR_OK);
  assert_int_equal(count, 0);
  assert_int_equal(oldest, 0);
  /* Queued in ingest's transaction: a rollback queues nothing. */
  assert_int_equal(hqdb_begin(a), SQR_OK);
  assert_int_equal(hqdb_seal_enqueue(a, "K1", 7, "SH-1", m1, "AAAA", 500), SQR_OK);
  hqdb_rollback(a);
  assert_int_equal(hqdb_seal_backlog(b, &count, &oldest), SQR_OK);
  assert_int_equal(count, 0);
  assert_int_equal(hqdb_begin(a), SQR_OK);
  assert_int_equal(hqdb_seal_enqueue(a, "K1", 8, "SH-1", m2, "BBBB", 600), SQR_OK);
  assert_int_equal(hqdb_seal_enqueue(a, "K1", 7, "SH-1", m1, "AAAA", 500), SQR_OK);
  assert_int_equal(hqdb_seal_enqueue(a, "K2", 1, "SH-2", m1, "CCCC", 550), SQR_OK);
  assert_int_equal(hqdb_seal_enqueue(a, "K1", 7, "SH-1", m1, "replayed", 700), SQR_OK);
  assert_int_equal(hqdb_commit(a), SQR_OK);
  assert_int_equal(hqdb_seal_backlog(b, &count, &oldest), SQR_OK);
  assert_int_equal(count, 3);
  assert_int_equal(oldest, 500);

  /* Oldest first, at most max; done rows leave with the transaction. */
  assert_int_equal(hqdb_begin(b), SQR_OK);
  assert_int_equal(hqdb_seal_take(b, 2, &rows, &n), SQR_OK);
  assert_int_equal(n, 2);
  assert_string_equal(rows[0].kiosk_id, "K1");
  assert_int_equal(rows[0].seq, 7);
  assert_string_equal(rows[0].sealed, "AAAA"); /* the replay did not replace it */
  assert_string_equal(rows[0].member, m1);
  assert_string_equal(rows[0].store, "SH-1");
  assert_string_equal(rows[1].kiosk_id, "K2");
  hq_seal_opened done = {.row = &rows[0], .ok = 0}; /* refused: the row only goes */
  assert_int_equal(hqdb_seal_settle(b, &done, 1, 650), SQR_OK);
  assert_int_equal(done.claimed, 1);
  free(rows);
  assert_int_equal(hqdb_commit(b), SQR_OK);
  assert_int_equal(hqdb_seal_backlog(a, &count, &oldest), SQR_OK);
  assert_int_equal(count, 2);
  assert_int_equal(oldest, 550);

  /* Erasing a member drops its waiting box, and only its own. */
  assert_int_equal(hqdb_begin(a), SQR_OK);
  assert_int_equal(hqdb_erasure_confirm(a, "SH-1", m2, 800), SQR_OK);
  assert_int_equal(hqdb_commit(a), SQR_OK);
  assert_int_equal(hqdb_seal_backlog(a, &count, &oldest), SQR_OK);
  assert_int_equal(count, 1);
  assert_int_equal(oldest, 550);

  /* A box too long for the queue is refused, not cut. */
  char big[HQ_SEALED_MAX + 1];
  memset(big, 'A', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(hqdb_seal_enqueue(a, "K9", 1, "SH-1", m1, big, 900), SQR_EINVAL);
}

/* The opener's commit: 70 boxes (statements of 64, 4 and 2 rows), a
 * phone brought twice in one slice, a box refused, and a member erased
 * between the opener's read and its commit, whose box must not link. */
static void test_seal_settle(void **state) {
  (void)state;
  enum { N = 70 };
  hq_sealed_row *rows = NULL;
  size_t n = 0;
  hq_seal_opened o[N];
  uint8_t enc[N][8];
  hq_counts c;
  int64_t count = -1, oldest = -1;
  for(int s = 1; s <= 2; s++) {
    hq_store st = {0};
    snprintf(st.id, sizeof st.id, "SH-%d", s);
    snprintf(st.name, sizeof st.name, "store %d", s);
    assert_int_equal(hqdb_store_add(a, &st, 100), SQR_OK);
  }
  int64_t before = -1; /* PostgreSQL: the database the test before left */
  assert_int_equal(hqdb_seal_backlog(a, &before, &oldest), SQR_OK);
  assert_int_equal(hqdb_begin(a), SQR_OK);
  for(int i = 0; i < N; i++) {
    char m[33];
    snprintf(m, sizeof m, "%032x", i);
    assert_int_equal(hqdb_seal_enqueue(a, "K1", i + 1, i < 60 ? "SH-1" : "SH-2", m, "X", 100 + i),
                     SQR_OK);
  }
  assert_int_equal(hqdb_commit(a), SQR_OK);
  assert_int_equal(hqdb_seal_take(b, N, &rows, &n), SQR_OK);
  assert_int_equal(n, N);
  memset(o, 0, sizeof o);
  for(int i = 0; i < N; i++) {
    o[i].row = &rows[i];
    o[i].ok = i != 5;
    o[i].index[0] = (uint8_t)(i == 7 ? 99 : i % 50); /* rows 50..69 bring phones 0..19 again */
    memset(enc[i], i, sizeof enc[i]);
    o[i].enc = enc[i];
    o[i].enclen = sizeof enc[i];
  }
  /* erased at the other process after the read */
  assert_int_equal(hqdb_begin(a), SQR_OK);
  assert_int_equal(hqdb_erasure_confirm(a, "SH-1", rows[7].member, 500), SQR_OK);
  assert_int_equal(hqdb_commit(a), SQR_OK);

  assert_int_equal(hqdb_begin(b), SQR_OK);
  assert_int_equal(hqdb_seal_settle(b, o, n, 600), SQR_OK);
  assert_int_equal(hqdb_commit(b), SQR_OK);
  for(int i = 0; i < N; i++)
    assert_int_equal(o[i].claimed, i != 7);
  assert_int_equal(hqdb_seal_backlog(a, &count, &oldest), SQR_OK);
  assert_int_equal(count, before);
  /* SH-1: rows 0..59 less 5 (refused) and 7 (erased; phone 99, its own),
   * phones 0..49 (rows 55 and 57 bring 5 and 7); SH-2: rows 60..69,
   * phones 10..19. */
  assert_int_equal(hqdb_counts(a, "SH-1", &c), SQR_OK);
  assert_int_equal(c.members, 50);
  hqdb_counts_free(&c);
  assert_int_equal(hqdb_counts(a, "SH-2", &c), SQR_OK);
  assert_int_equal(c.members, 10);
  hqdb_counts_free(&c);
  free(rows);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_one_holder_and_takeover, setup, teardown),
      cmocka_unit_test_setup_teardown(test_seal_queue, setup, teardown),
      cmocka_unit_test_setup_teardown(test_seal_settle, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
