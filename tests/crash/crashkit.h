/* crashkit.h — what the crash tests share: a victim child that signs up
 * shoppers and reports each acknowledged sign-up down a pipe, the parent's
 * reading of those reports, and the check that a freshly started kiosk
 * still holds every one of them.
 *
 * The protocol is one 16-byte crash_rec per write (far below PIPE_BUF, so
 * a record is all or nothing even when the child dies mid-write). A sign-up
 * is reported only after member_signup returned SQR_OK: that is the
 * promise under test.
 *
 * Problems are printed as "<tag>: FAIL ..." naming phone indexes, never a
 * phone number. Test code only: exits or aborts on its own failures.
 */
#ifndef SQR_CRASHKIT_H
#define SQR_CRASHKIT_H

#include <stddef.h>
#include <stdint.h>
#include "sqr.h"

#define CRASH_PHONE_SPACE  100000000LL /* "137" + 8 digits */
#define CRASH_STRIDE_MAX   100000
#define CRASH_MAX_PROBLEMS 20 /* lines printed before going quiet */

/* crash_rec.seq: > 0 an acknowledged sign-up (index = phone index), or
 * one of these. */
enum {
  CRASH_REC_OPENED = 0,     /* store_open returned SQR_OK */
  CRASH_REC_ERROR = -1,     /* index = the sqr_rc that stopped the child */
  CRASH_REC_RETURNING = -2, /* index = a phone that was not new */
  CRASH_REC_CUT = -3        /* index = the victim's own note (powercut flags) */
};

typedef struct crash_rec {
  int64_t seq, index;
} crash_rec;

typedef struct crash_ack {
  int64_t seq, index;
  int lost; /* found missing by some check */
} crash_ack;

/* Every acknowledged sign-up so far, across runs. */
typedef struct crash_acks {
  crash_ack *v;
  size_t n, cap;
} crash_acks;

/* What one run's child reported besides its sign-ups. */
typedef struct crash_report {
  int opened;   /* the child got past store_open */
  int cut;      /* a CRASH_REC_CUT arrived ... */
  int64_t note; /* ... with this index */
} crash_report;

/* xorshift64*: spread and replayable, which is all the tests need. */
typedef struct crash_rng {
  uint64_t s;
} crash_rng;
void crash_rng_seed(crash_rng *r, uint64_t seed);
uint64_t crash_rng_next(crash_rng *r);
/* A number in [0, n). n > 0. */
uint64_t crash_rng_below(crash_rng *r, uint64_t n);

/* Names the program in every line it prints ("crash", "powercut"); keeps
 * the store's log to errors, and to the first CRASH_MAX_PROBLEMS of them. */
void crash_init(const char *tag);
extern int crash_problems;
void crash_problem(const char *fmt, ...) SQR_PRINTF(1, 2);

/* $name as a number in 1..1000000, dflt when unset; exits 2 on junk. */
int crash_env_int(const char *name, int dflt);
/* $name as a seed, or one from the time and pid when unset. */
uint64_t crash_env_seed(const char *name);

void crash_phone_for(int64_t index, char out[16]);
/* One record down the pipe; _exit(3) if the pipe is gone. */
void crash_write_rec(int fd, int64_t seq, int64_t index);

/* The victim: opens the store at db_path (real clock), reports
 * CRASH_REC_OPENED, then signs up phones first, first+1, ... reporting
 * each after member_signup returned SQR_OK, until killed or count runs
 * out (then exits 0). Errors are reported and exit 2. */
SQR_NORETURN void crash_child_signups(int fd, const char *db_path, int64_t first, int64_t count);

/* A demo kiosk database at db_path (config applied); exits 2 on failure. */
void crash_make_db(const char *db_path);

/* Reads the child's records from fd until end of file, appending sign-ups
 * to acks and the rest to *rep (reset first); problems for error records
 * and a torn one. timeout_ms > 0 gives up after that long: returns 1 (the
 * caller kills the child and reads again), else 0. */
int crash_read_acks(int fd, int run, int timeout_ms, crash_acks *acks, crash_report *rep);

#define CRASH_CHECK_INTEGRITY 1 /* also integrity_check, pairing, the chain */
#define CRASH_CHECK_KEEP_WAL  2 /* leave the WAL uncheckpointed on close */
/* Opens db_path as a freshly started kiosk would (store_open recovers it),
 * checks that each of acks[0..n) is a member and a signup event (marking
 * the missing ones lost) and, with CRASH_CHECK_INTEGRITY, that members and
 * signup events pair one to one, integrity_check is ok and
 * store_verify_log passes (events = how many it verified). The last
 * connection to close checkpoints and removes the WAL, unless
 * CRASH_CHECK_KEEP_WAL. Returns the problems found. */
int crash_check_db(const char *db_path, crash_ack *acks, size_t n, int run, int flags,
                   int64_t *events);

/* Summed over acks: how many were marked lost. */
int64_t crash_count_lost(const crash_acks *acks);
#endif
