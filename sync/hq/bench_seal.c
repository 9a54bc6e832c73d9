/* bench_seal.c — storeqr-hq-bench-seal, the figure behind
 * tools/bench/bench-seal: sealed phones opened per second on one core by
 * HQ's nettle opener (seal_fast_open, what ingest calls) beside the
 * mbedtls opener it replaced (seal_open) in the same run.
 *
 *   storeqr-hq-bench-seal [SECONDS]    (default 3 per opener)
 *
 * BOXES boxes of an 11-digit synthetic number are sealed with the kiosk's
 * seal_box to a fresh key pair (set-up, not timed), then each opener opens
 * them round-robin for SECONDS of wall time on this thread, and nettle's
 * ecc_point_mul alone for as long (the floor under an opening), the three
 * interleaved in SLICES slices. Prints the
 * rate by wall time and by this thread's CPU time (the machine may be
 * shared: CPU time is the one-core figure; wall time shows the contention),
 * the load average before and after, and whether the goal (>= 10,000/s on
 * one core) was met. Exit 1 only if an opener fails on a good box.
 * A benchmark tool: never used by the server, never sees a real phone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>

#include "crypto.h"
#include "log.h"
#include "seal.h"
#include "seal_fast.h"

#define BOXES     256
#define GOAL_RATE 10000.0
#define SLICES    10 /* per figure, interleaved */

typedef struct run {
  long opened;
  double wall_s, cpu_s;
} run;

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void loadavg(char *out, size_t n) {
  FILE *f = fopen("/proc/loadavg", "r");
  if(!f || !fgets(out, (int)n, f)) snprintf(out, n, "unknown\n");
  if(f) fclose(f);
}

/* Opens the boxes round-robin until seconds of wall time have passed. */
static int time_opener(int fast, const seal_fast *o, const uint8_t *priv,
                       uint8_t boxes[][SEAL_MAX_BOX], const size_t *lens, double seconds, run *r) {
  char out[SEAL_MAX_PLAIN];
  size_t plen = 0;
  double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w = w0;
  r->opened = 0;
  while(w - w0 < seconds) {
    for(int i = 0; i < 64; i++, r->opened++) {
      size_t k = (size_t)r->opened % BOXES;
      sqr_rc rc = fast ? seal_fast_open(o, boxes[k], lens[k], out, sizeof out, &plen)
                       : seal_open(priv, boxes[k], lens[k], out, sizeof out, &plen);
      if(rc || plen != 11) {
        fprintf(stderr, "storeqr-hq-bench-seal: %s failed on a good box: %s\n",
                fast ? "seal_fast_open" : "seal_open", sqr_strerror(rc));
        return 1;
      }
    }
    w = clock_s(CLOCK_MONOTONIC);
  }
  r->wall_s = w - w0;
  r->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
  crypto_wipe(out, sizeof out);
  return 0;
}

/* nettle's scalar multiplication alone, with a fixed scalar and point:
 * the floor under seal_fast_open, so the figure shows what the rest of an
 * opening (point checks, HKDF, AES-GCM) adds. */
static void time_mul(double seconds, run *r) {
  const struct ecc_curve *c = nettle_get_secp_256r1();
  struct ecc_scalar d;
  struct ecc_point p, q;
  mpz_t z;
  ecc_scalar_init(&d, c);
  ecc_point_init(&p, c);
  ecc_point_init(&q, c);
  mpz_init_set_str(z, "c0ffee15a5ca1a5eed0fdeadbeef0123456789abcdef", 16);
  (void)ecc_scalar_set(&d, z);
  mpz_clear(z);
  ecc_point_mul_g(&p, &d);
  double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w = w0;
  r->opened = 0;
  while(w - w0 < seconds) {
    for(int i = 0; i < 64; i++, r->opened++)
      ecc_point_mul(&q, &d, &p);
    w = clock_s(CLOCK_MONOTONIC);
  }
  r->wall_s = w - w0;
  r->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
  ecc_point_clear(&q);
  ecc_point_clear(&p);
  ecc_scalar_clear(&d);
}

static void add_run(run *sum, const run *r) {
  sum->opened += r->opened;
  sum->wall_s += r->wall_s;
  sum->cpu_s += r->cpu_s;
}

static void print_run(const char *name, const run *r) {
  printf("  %-34s %8ld done    %9.0f/s wall  %9.0f/s CPU  %8.1f us each (CPU)\n", name, r->opened,
         (double)r->opened / r->wall_s, (double)r->opened / r->cpu_s,
         1e6 * r->cpu_s / (double)r->opened);
}

int main(int argc, char **argv) {
  static uint8_t boxes[BOXES][SEAL_MAX_BOX];
  size_t lens[BOXES];
  uint8_t pub[SEAL_PUB_LEN], priv[SEAL_PRIV_LEN];
  double seconds = argc > 1 ? atof(argv[1]) : 3.0;
  seal_fast *o = NULL;
  run fast, slow, mul;
  char la0[128], la1[128];
  int rc = 1;

  if(argc > 2 || seconds <= 0 || seconds > 600) {
    fputs("usage: storeqr-hq-bench-seal [SECONDS]   (0 < SECONDS <= 600, default 3)\n", stderr);
    return 2;
  }
  log_set_level(LOG_ERROR);
  if(seal_keypair_generate(pub, priv) || seal_fast_new(priv, &o)) {
    fputs("storeqr-hq-bench-seal: cannot make a key pair\n", stderr);
    return 1;
  }
  for(int i = 0; i < BOXES; i++) {
    char phone[12];
    snprintf(phone, sizeof phone, "139%08d", 10000000 + i * 7919); /* synthetic */
    if(seal_box(pub, phone, 11, boxes[i], SEAL_MAX_BOX, &lens[i])) {
      fputs("storeqr-hq-bench-seal: cannot seal\n", stderr);
      goto out;
    }
  }
  loadavg(la0, sizeof la0);
  printf("sealed phones opened on one thread, %d boxes round-robin, %.1f s per opener\n", BOXES,
         seconds);
  printf("  load average before: %s", la0);
  /* Interleaved slices, so a burst of load elsewhere on a shared machine
   * falls on all three figures rather than on whichever ran then. */
  memset(&fast, 0, sizeof fast);
  memset(&slow, 0, sizeof slow);
  memset(&mul, 0, sizeof mul);
  for(int i = 0; i < SLICES; i++) {
    run a, b, m;
    if(time_opener(1, o, priv, boxes, lens, seconds / SLICES, &a) ||
       time_opener(0, o, priv, boxes, lens, seconds / SLICES, &b))
      goto out;
    time_mul(seconds / SLICES, &m);
    add_run(&fast, &a);
    add_run(&slow, &b);
    add_run(&mul, &m);
  }
  loadavg(la1, sizeof la1);
  print_run("seal_fast_open (nettle, HQ now)", &fast);
  print_run("seal_open (mbedtls, the reference)", &slow);
  print_run("nettle ecc_point_mul alone (floor)", &mul);
  printf("  load average after:  %s", la1);
  double fast_rate = (double)fast.opened / fast.cpu_s;
  printf("  nettle / mbedtls: %.1fx (CPU)\n", fast_rate / ((double)slow.opened / slow.cpu_s));
  printf("  goal >= %.0f/s on one core: %s (%.0f/s)\n", GOAL_RATE,
         fast_rate >= GOAL_RATE ? "met" : "NOT met", fast_rate);
  rc = 0;
out:
  seal_fast_free(o);
  crypto_wipe(priv, sizeof priv);
  return rc;
}
