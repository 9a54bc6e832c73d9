/* crashkit.c — the victim, the pipe and the post-crash check shared by the
 * crash tests (see crashkit.h). */
#include "crashkit.h"
#include "testutil.h"
#include "crypto.h"
#include "log.h"
#include "member.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int crash_problems;
static const char *tag = "crash";
static int log_lines;

/* A damaged database makes the store log an error per query; the checks
 * report the damage themselves, so a few lines are kept for context. */
static void log_sink(log_level level, const char *line, void *ud) {
  (void)level;
  (void)ud;
  if(++log_lines <= CRASH_MAX_PROBLEMS)
    fprintf(stderr, "%s\n", line);
  else if(log_lines == CRASH_MAX_PROBLEMS + 1)
    fprintf(stderr, "%s: more log lines not shown\n", tag);
}

void crash_init(const char *name) {
  tag = name;
  log_set_level(LOG_ERROR); /* the children's store_open notes are noise here */
  log_set_sink(log_sink, NULL);
}

void crash_problem(const char *fmt, ...) {
  if(++crash_problems > CRASH_MAX_PROBLEMS) return;
  va_list ap;
  va_start(ap, fmt);
  printf("%s: FAIL ", tag);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  fflush(stdout);
}

void crash_rng_seed(crash_rng *r, uint64_t seed) {
  r->s = seed ? seed : 1; /* xorshift never leaves 0 */
}

uint64_t crash_rng_next(crash_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 2685821657736338717ULL;
}

uint64_t crash_rng_below(crash_rng *r, uint64_t n) {
  return crash_rng_next(r) % n;
}

int crash_env_int(const char *name, int dflt) {
  const char *v = getenv(name);
  if(!v || !*v) return dflt;
  char *end;
  long n = strtol(v, &end, 10);
  if(*end || n <= 0 || n > 1000000) {
    fprintf(stderr, "%s: %s must be a number from 1 to 1000000, not \"%s\"\n", tag, name, v);
    exit(2);
  }
  return (int)n;
}

uint64_t crash_env_seed(const char *name) {
  const char *v = getenv(name);
  if(!v || !*v) return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v, &end, 10);
  if(*end || errno || *v == '-') {
    fprintf(stderr, "%s: %s must be a seed the summary line printed, not \"%s\"\n", tag, name, v);
    exit(2);
  }
  return (uint64_t)n;
}

void crash_phone_for(int64_t index, char out[16]) {
  snprintf(out, 16, "137%08" PRId64, index);
}

void crash_write_rec(int fd, int64_t seq, int64_t index) {
  crash_rec r = {seq, index};
  ssize_t n;
  do
    n = write(fd, &r, sizeof r);
  while(n < 0 && errno == EINTR);
  if(n != (ssize_t)sizeof r) _exit(3);
}

void crash_child_signups(int fd, const char *db_path, int64_t first, int64_t count) {
  sqr_clock *clock = NULL;
  store *st = NULL;
  char err[256];
  if(clock_new_real(&clock) != SQR_OK) _exit(2);
  sqr_rc rc = store_open(db_path, clock, &st, err, sizeof err);
  if(rc) {
    crash_write_rec(fd, CRASH_REC_ERROR, rc);
    _exit(2);
  }
  crash_write_rec(fd, CRASH_REC_OPENED, 0);
  for(int64_t i = 0; i < count; i++) {
    char phone[16];
    crash_phone_for(first + i, phone);
    member_signup_req req = {
        .phone = phone, .consented = 1, .age_confirmed = 1, .consent_version = "2026-11"};
    member_result res;
    rc = member_signup(st, &req, &res);
    if(rc) {
      crash_write_rec(fd, CRASH_REC_ERROR, rc);
      _exit(2);
    }
    /* Only a new member has a signup event to look for. */
    if(res.returning || res.seq <= 0) {
      crash_write_rec(fd, CRASH_REC_RETURNING, first + i);
      _exit(2);
    }
    crash_write_rec(fd, res.seq, first + i);
  }
  store_close(st);
  clock_free(clock);
  _exit(0);
}

void crash_make_db(const char *db_path) {
  tu_keys keys;
  tu_make_keys(&keys);
  sqr_clock *clock = NULL;
  store *st = NULL;
  char err[256];
  if(clock_new_real(&clock) != SQR_OK) abort();
  if(store_open(db_path, clock, &st, err, sizeof err) != SQR_OK) {
    fprintf(stderr, "%s: cannot create %s: %s\n", tag, db_path, err);
    exit(2);
  }
  char *json = tu_demo_config(&keys, 1, clock_now(clock));
  if(store_apply_config(st, json, strlen(json), err, sizeof err) != SQR_OK) {
    fprintf(stderr, "%s: demo config refused: %s\n", tag, err);
    exit(2);
  }
  free(json);
  store_close(st);
  clock_free(clock);
  crypto_wipe(&keys, sizeof keys);
}

static void ack_push(crash_acks *a, int64_t seq, int64_t index) {
  if(a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 4096;
    a->v = realloc(a->v, a->cap * sizeof *a->v);
    if(!a->v) abort();
  }
  a->v[a->n++] = (crash_ack){seq, index, 0};
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int crash_read_acks(int fd, int run, int timeout_ms, crash_acks *acks, crash_report *rep) {
  int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
  /* A record may arrive in pieces only if the child died mid-write, which
   * PIPE_BUF rules out; pieces are still gathered so a torn one is named. */
  unsigned char buf[sizeof(crash_rec)];
  size_t have = 0;
  memset(rep, 0, sizeof *rep);
  for(;;) {
    if(deadline) {
      int64_t left = deadline - now_ms();
      struct pollfd p = {.fd = fd, .events = POLLIN};
      int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
      if(pr < 0 && errno == EINTR) continue;
      if(pr == 0) return 1;
    }
    ssize_t got = read(fd, buf + have, sizeof buf - have);
    if(got < 0 && errno == EINTR) continue;
    if(got <= 0) break;
    have += (size_t)got;
    if(have < sizeof buf) continue;
    have = 0;
    crash_rec r;
    memcpy(&r, buf, sizeof r);
    if(r.seq > 0) {
      ack_push(acks, r.seq, r.index);
    } else if(r.seq == CRASH_REC_OPENED) {
      rep->opened = 1;
    } else if(r.seq == CRASH_REC_CUT) {
      rep->cut = 1;
      rep->note = r.index;
    } else if(r.seq == CRASH_REC_ERROR) {
      crash_problem("run %d: the child failed: %s", run, sqr_strerror((sqr_rc)r.index));
    } else if(r.seq == CRASH_REC_RETURNING) {
      crash_problem("run %d: phone #%" PRId64 " was not a new member", run, r.index);
    } else {
      crash_problem("run %d: unknown record %" PRId64 " on the pipe", run, r.seq);
    }
  }
  if(have) crash_problem("run %d: torn record on the pipe (%zu bytes)", run, have);
  return 0;
}

/* The store's view: each acknowledged phone is a member; the chain holds. */
static void check_store(store *st, crash_ack *acks, size_t n, int run, int flags, int64_t *events) {
  for(size_t i = 0; i < n; i++) {
    char phone[16];
    member_result res;
    crash_phone_for(acks[i].index, phone);
    sqr_rc rc = member_lookup(st, phone, NULL, &res);
    if(rc) acks[i].lost = 1;
    if(rc)
      crash_problem("run %d: acknowledged phone #%" PRId64 " (seq %" PRId64 ") not a member: %s",
                    run, acks[i].index, acks[i].seq, sqr_strerror(rc));
  }
  if(flags & CRASH_CHECK_INTEGRITY) {
    int64_t checked = 0, bad = 0;
    char why[256] = "";
    sqr_rc rc = store_verify_log(st, &checked, &bad, why, sizeof why);
    if(rc)
      crash_problem("run %d: store_verify_log: %s at seq %" PRId64 ": %s", run, sqr_strerror(rc),
                    bad, why);
    if(events) *events = checked;
  }
}

/* The file's view: each acknowledged seq is a signup event; with
 * CRASH_CHECK_INTEGRITY, no half sign-up and a sound file. */
static void check_file(sqlite3 *db, crash_ack *acks, size_t n, int run, int flags) {
  sqlite3_stmt *s = NULL;
  if(sqlite3_prepare_v2(db, "SELECT type FROM events WHERE seq=?", -1, &s, NULL) != SQLITE_OK)
    abort();
  for(size_t i = 0; i < n; i++) {
    sqlite3_bind_int64(s, 1, acks[i].seq);
    int src = sqlite3_step(s);
    if(src != SQLITE_ROW) acks[i].lost = 1;
    if(src != SQLITE_ROW)
      crash_problem("run %d: acknowledged seq %" PRId64 " (phone #%" PRId64 ") missing from events",
                    run, acks[i].seq, acks[i].index);
    else if(strcmp((const char *)sqlite3_column_text(s, 0), "signup") != 0)
      crash_problem("run %d: seq %" PRId64 " is a %s event, not signup", run, acks[i].seq,
                    (const char *)sqlite3_column_text(s, 0));
    sqlite3_reset(s);
  }
  sqlite3_finalize(s);
  if(!(flags & CRASH_CHECK_INTEGRITY)) return;
  /* A member without its event, or an event without its member, would be
   * a transaction torn in half. */
  if(sqlite3_prepare_v2(db,
                        "SELECT (SELECT count(*) FROM members),"
                        " (SELECT count(*) FROM events WHERE type='signup')",
                        -1, &s, NULL) != SQLITE_OK)
    abort();
  if(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) != sqlite3_column_int64(s, 1))
    crash_problem("run %d: %lld members but %lld signup events", run,
                  (long long)sqlite3_column_int64(s, 0), (long long)sqlite3_column_int64(s, 1));
  sqlite3_finalize(s);
  if(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) abort();
  if(sqlite3_step(s) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0)
    crash_problem("run %d: integrity_check: %s", run,
                  sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
                                            : sqlite3_errmsg(db));
  sqlite3_finalize(s);
}

int crash_check_db(const char *db_path, crash_ack *acks, size_t n, int run, int flags,
                   int64_t *events) {
  int before = crash_problems;
  sqr_clock *clock = NULL;
  store *st = NULL;
  sqlite3 *db = NULL;
  char err[256];
  if(clock_new_real(&clock) != SQR_OK) abort();
  /* store_open first: recovering what the victim left is the kiosk's own
   * start-up, as after a real reboot. */
  sqr_rc rc = store_open(db_path, clock, &st, err, sizeof err);
  if(rc) {
    crash_problem("run %d: store_open after the crash: %s (%s)", run, sqr_strerror(rc), err);
    /* A database the kiosk cannot open has lost every sign-up it
     * acknowledged: counted so, or a damaged file would read as "0 lost". */
    for(size_t i = 0; i < n; i++)
      acks[i].lost = 1;
    goto out;
  }
  check_store(st, acks, n, run, flags, events);
  if(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    crash_problem("run %d: sqlite3_open: %s", run, sqlite3_errmsg(db));
    goto out;
  }
  /* This connection closes last, so it alone decides whether the WAL is
   * checkpointed away or left for the next victim to append to. */
  if(flags & CRASH_CHECK_KEEP_WAL) sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
  check_file(db, acks, n, run, flags);
out:
  store_close(st);
  sqlite3_close(db);
  clock_free(clock);
  return crash_problems - before;
}

int64_t crash_count_lost(const crash_acks *acks) {
  int64_t lost = 0;
  for(size_t i = 0; i < acks->n; i++)
    lost += acks->v[i].lost;
  return lost;
}
