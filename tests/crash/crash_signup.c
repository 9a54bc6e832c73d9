/* crash_signup.c — a sign-up acknowledged is a sign-up kept, even when the
 * kiosk process dies at any instant.
 *
 * member_signup promises that SQR_OK means the member and its event are on
 * disk. This program holds it to that: a parent makes a demo kiosk
 * database, then, run after run, forks a child that opens the store (real
 * clock) and signs up shoppers as fast as it can, reporting each
 * acknowledged sign-up (seq and phone index) down a pipe only after
 * member_signup returned SQR_OK. The parent SIGKILLs the child after a
 * random delay — sometimes while it is still opening (recovering the WAL
 * the previous victim left), mostly in the middle of sign-ups — and then,
 * with a fresh store_open, checks that
 *   - every reported seq is in the events table as a signup event,
 *   - every reported phone is a member (member_lookup),
 *   - members and signup events still pair one to one (no half sign-up),
 *   - PRAGMA integrity_check says ok and store_verify_log passes.
 * After the last run every acknowledged sign-up of every run is checked
 * again.
 *
 * A plain program rather than cmocka: it forks and kills, and its output
 * is one summary line (plus one line per problem). Exit status 0 = pass.
 * Environment: SQR_CRASH_RUNS (default 200) for more runs on demand,
 * SQR_CRASH_SEED to replay a run's kill delays, SQR_TEST_TMP for the
 * directory. Never prints a phone number: problems name the phone index.
 */
#include "testutil.h"
#include "crypto.h"
#include "log.h"
#include "member.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRASH_DEFAULT_RUNS  200
#define CRASH_MAX_DELAY_US  40000       /* kills land 0..40 ms after the fork */
#define CRASH_OPEN_DELAY_US 3000        /* 1 run in 4 aims at store_open */
#define CRASH_PHONE_SPACE   100000000LL /* "137" + 8 digits */
#define CRASH_STRIDE_MAX    100000
#define CRASH_MAX_PROBLEMS  20 /* lines printed before going quiet */

/* What the child writes after each acknowledged sign-up; 16 bytes, far
 * below PIPE_BUF, so a write is all or nothing even when killed. */
typedef struct crash_rec {
  int64_t seq;   /* > 0: acknowledged sign-up; 0: store opened; < 0: error */
  int64_t index; /* phone index, or the sqr_rc on error */
} crash_rec;

typedef struct crash_ack {
  int64_t seq, index;
  int lost; /* found missing by some check */
} crash_ack;

static const char *db_path;
static int problems;

static void problem(const char *fmt, ...) SQR_PRINTF(1, 2);
static void problem(const char *fmt, ...) {
  if(++problems > CRASH_MAX_PROBLEMS) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("crash: FAIL ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  fflush(stdout);
}

/* xorshift64*: the kill delays only need to be spread and replayable. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static void phone_for(int64_t index, char out[16]) {
  snprintf(out, 16, "137%08" PRId64, index);
}

static void write_rec(int fd, int64_t seq, int64_t index) {
  crash_rec r = {seq, index};
  ssize_t n;
  do
    n = write(fd, &r, sizeof r);
  while(n < 0 && errno == EINTR);
  if(n != (ssize_t)sizeof r) _exit(3);
}

/* The victim. Signs up phones first, first+1, ... until killed (or its
 * range runs out). Never returns. */
static SQR_NORETURN void child_main(int fd, int64_t first, int64_t count) {
  sqr_clock *clock = NULL;
  store *st = NULL;
  char err[256];
  if(clock_new_real(&clock) != SQR_OK) _exit(2);
  sqr_rc rc = store_open(db_path, clock, &st, err, sizeof err);
  if(rc) {
    write_rec(fd, -1, rc);
    _exit(2);
  }
  write_rec(fd, 0, 0);
  for(int64_t i = 0; i < count; i++) {
    char phone[16];
    phone_for(first + i, phone);
    member_signup_req req = {.phone = phone, .consented = 1, .consent_version = "2026-11"};
    member_result res;
    rc = member_signup(st, &req, &res);
    if(rc) {
      write_rec(fd, -1, rc);
      _exit(2);
    }
    /* Only a new member has a signup event to look for. */
    if(res.returning || res.seq <= 0) {
      write_rec(fd, -2, first + i);
      _exit(2);
    }
    write_rec(fd, res.seq, first + i);
  }
  store_close(st);
  clock_free(clock);
  _exit(0);
}

static void sleep_us(int64_t us) {
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  while(nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Checks acks[0..n) in the database as a freshly started kiosk sees it;
 * with integrity = 1 also the file and the chain. Returns problems found. */
static int check_db(crash_ack *acks, size_t n, int run, int integrity, int64_t *events) {
  int before = problems;
  sqr_clock *clock = NULL;
  store *st = NULL;
  char err[256];
  if(clock_new_real(&clock) != SQR_OK) abort();
  sqr_rc rc = store_open(db_path, clock, &st, err, sizeof err);
  if(rc) {
    problem("run %d: store_open after the kill: %s (%s)", run, sqr_strerror(rc), err);
    clock_free(clock);
    return problems - before;
  }
  for(size_t i = 0; i < n; i++) {
    char phone[16];
    member_result res;
    phone_for(acks[i].index, phone);
    rc = member_lookup(st, phone, NULL, &res);
    if(rc) acks[i].lost = 1;
    if(rc)
      problem("run %d: acknowledged phone #%" PRId64 " (seq %" PRId64 ") not a member: %s", run,
              acks[i].index, acks[i].seq, sqr_strerror(rc));
  }
  if(integrity) {
    int64_t checked = 0, bad = 0;
    char why[256] = "";
    rc = store_verify_log(st, &checked, &bad, why, sizeof why);
    if(rc)
      problem("run %d: store_verify_log: %s at seq %" PRId64 ": %s", run, sqr_strerror(rc), bad,
              why);
    if(events) *events = checked;
  }
  store_close(st);
  clock_free(clock);

  sqlite3 *db = NULL;
  if(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    problem("run %d: sqlite3_open: %s", run, sqlite3_errmsg(db));
    sqlite3_close(db);
    return problems - before;
  }
  sqlite3_stmt *s = NULL;
  if(sqlite3_prepare_v2(db, "SELECT type FROM events WHERE seq=?", -1, &s, NULL) != SQLITE_OK)
    abort();
  for(size_t i = 0; i < n; i++) {
    sqlite3_bind_int64(s, 1, acks[i].seq);
    int src = sqlite3_step(s);
    if(src != SQLITE_ROW) acks[i].lost = 1;
    if(src != SQLITE_ROW)
      problem("run %d: acknowledged seq %" PRId64 " (phone #%" PRId64 ") missing from events", run,
              acks[i].seq, acks[i].index);
    else if(strcmp((const char *)sqlite3_column_text(s, 0), "signup") != 0)
      problem("run %d: seq %" PRId64 " is a %s event, not signup", run, acks[i].seq,
              (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  if(integrity) {
    /* A member without its event, or an event without its member, would
     * be a transaction torn in half. */
    if(sqlite3_prepare_v2(db,
                          "SELECT (SELECT count(*) FROM members),"
                          " (SELECT count(*) FROM events WHERE type='signup')",
                          -1, &s, NULL) != SQLITE_OK)
      abort();
    if(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) != sqlite3_column_int64(s, 1))
      problem("run %d: %lld members but %lld signup events", run,
              (long long)sqlite3_column_int64(s, 0), (long long)sqlite3_column_int64(s, 1));
    sqlite3_finalize(s);
    if(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) abort();
    if(sqlite3_step(s) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)
      problem("run %d: integrity_check: %s", run,
              sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                        : sqlite3_errmsg(db));
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return problems - before;
}

static int env_int(const char *name, int dflt) {
  const char *v = getenv(name);
  if(!v || !*v) return dflt;
  char *end;
  long n = strtol(v, &end, 10);
  if(*end || n <= 0 || n > 1000000) {
    fprintf(stderr, "crash: %s must be a positive number, not \"%s\"\n", name, v);
    exit(2);
  }
  return (int)n;
}

int main(void) {
  int runs = env_int("SQR_CRASH_RUNS", CRASH_DEFAULT_RUNS);
  const char *seed_env = getenv("SQR_CRASH_SEED");
  uint64_t seed =
      seed_env ? strtoull(seed_env, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  rng_state = seed ? seed : 1;
  /* Each run owns a disjoint range of phone indexes, so no phone repeats
   * even when a sign-up committed but was never acknowledged. */
  int64_t stride = CRASH_PHONE_SPACE / runs;
  if(stride > CRASH_STRIDE_MAX) stride = CRASH_STRIDE_MAX;

  log_set_level(LOG_ERROR); /* the children's store_open notes are noise here */
  signal(SIGPIPE, SIG_IGN);

  const char *dir = tu_tmpdir("crash-signup");
  static char path[600];
  snprintf(path, sizeof path, "%s/kiosk.db", dir);
  db_path = path;

  tu_keys keys;
  tu_make_keys(&keys);
  {
    sqr_clock *clock = NULL;
    store *st = NULL;
    char err[256];
    if(clock_new_real(&clock) != SQR_OK) abort();
    if(store_open(db_path, clock, &st, err, sizeof err) != SQR_OK) {
      fprintf(stderr, "crash: cannot create %s: %s\n", db_path, err);
      return 2;
    }
    char *json = tu_demo_config(&keys, 1, clock_now(clock));
    if(store_apply_config(st, json, strlen(json), err, sizeof err) != SQR_OK) {
      fprintf(stderr, "crash: demo config refused: %s\n", err);
      return 2;
    }
    free(json);
    store_close(st);
    clock_free(clock);
  }

  size_t nacks = 0, cap = 4096;
  crash_ack *acks = malloc(cap * sizeof *acks);
  if(!acks) abort();
  int killed_in_open = 0, killed_in_signup = 0, exited = 0;
  int64_t events = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);

  for(int run = 0; run < runs; run++) {
    int fds[2];
    if(pipe(fds) != 0) abort();
    int64_t delay = (rng_next() % 4 == 0) ? (int64_t)(rng_next() % CRASH_OPEN_DELAY_US)
                                          : (int64_t)(rng_next() % CRASH_MAX_DELAY_US);
    fflush(stdout);
    pid_t pid = fork();
    if(pid < 0) abort();
    if(pid == 0) {
      close(fds[0]);
      child_main(fds[1], (int64_t)run * stride, stride);
    }
    close(fds[1]);
    sleep_us(delay);
    kill(pid, SIGKILL);
    int status = 0;
    while(waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }

    size_t first = nacks;
    int opened = 0;
    crash_rec r;
    ssize_t got;
    while((got = read(fds[0], &r, sizeof r)) == (ssize_t)sizeof r) {
      if(r.seq == 0) {
        opened = 1;
      } else if(r.seq == -1) {
        problem("run %d: the child failed: %s", run, sqr_strerror((sqr_rc)r.index));
      } else if(r.seq < 0) {
        problem("run %d: phone #%" PRId64 " was not a new member", run, r.index);
      } else {
        if(nacks == cap) {
          cap *= 2;
          acks = realloc(acks, cap * sizeof *acks);
          if(!acks) abort();
        }
        acks[nacks].seq = r.seq;
        acks[nacks].index = r.index;
        acks[nacks].lost = 0;
        nacks++;
      }
    }
    if(got != 0) problem("run %d: torn record on the pipe (%zd bytes)", run, got);
    close(fds[0]);

    if(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      if(opened)
        killed_in_signup++;
      else
        killed_in_open++;
    } else {
      exited++;
      if(!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        problem("run %d: the child ended on its own (status 0x%x)", run, (unsigned)status);
    }
    check_db(acks + first, nacks - first, run, 1, &events);
  }
  /* Nothing acknowledged in an early run may vanish in a later one. */
  check_db(acks, nacks, runs, 0, NULL);

  clock_gettime(CLOCK_MONOTONIC, &t1);
  int64_t lost = 0;
  for(size_t i = 0; i < nacks; i++)
    lost += acks[i].lost;
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if(problems > CRASH_MAX_PROBLEMS)
    printf("crash: ... %d more problems not shown\n", problems - CRASH_MAX_PROBLEMS);
  printf("crash: %d runs (%d killed while opening, %d during sign-ups, %d ended on their own),"
         " %zu acknowledged sign-ups, %" PRId64 " lost, %s, log verified to seq %" PRId64
         " — %.1f s, seed %" PRIu64 "\n",
         runs, killed_in_open, killed_in_signup, exited, nacks, lost,
         problems ? "PROBLEMS FOUND (see above)" : "integrity ok", events, secs, seed);
  free(acks);
  crypto_wipe(&keys, sizeof keys);
  if(problems) {
    printf("crash: database kept for inspection: %s\n", db_path);
    return 1;
  }
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if(system(cmd) != 0) fprintf(stderr, "crash: could not remove %s\n", dir);
  return 0;
}
