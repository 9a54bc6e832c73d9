/* crash_signup.c — a sign-up acknowledged is a sign-up kept, even when the
 * kiosk process dies at any instant.
 *
 * member_signup promises that SQR_OK means the member and its event are on
 * disk. This program holds it to that: a parent makes a demo kiosk
 * database, then, run after run, forks a child that opens the store (real
 * clock) and signs up shoppers as fast as it can, reporting each
 * acknowledged sign-up (seq and phone index) down a pipe only after
 * member_signup returned SQR_OK. The parent SIGKILLs the child after a
 * random delay — sometimes while it is still opening, mostly in the
 * middle of sign-ups — and then, with a fresh store_open, checks that
 *   - every reported seq is in the events table as a signup event,
 *   - every reported phone is a member (member_lookup),
 *   - members and signup events still pair one to one (no half sign-up),
 *   - PRAGMA integrity_check says ok and store_verify_log passes.
 * After the last run every acknowledged sign-up of every run is checked
 * again. The victim, the pipe and the checks are crashkit.c's.
 *
 * A SIGKILL leaves the kernel's page cache intact, so this program cannot
 * see a write that was never flushed: crash_powercut.c covers that.
 *
 * A plain program rather than cmocka: it forks and kills, and its output
 * is one summary line (plus one line per problem). Exit status 0 = pass.
 * Environment: SQR_CRASH_RUNS (default 200) for more runs on demand,
 * SQR_CRASH_SEED to replay a run's kill delays, SQR_TEST_TMP for the
 * directory. Never prints a phone number: problems name the phone index.
 */
#include "crashkit.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"

#define CRASH_DEFAULT_RUNS  200
#define CRASH_MAX_DELAY_US  40000 /* kills land 0..40 ms after the fork */
#define CRASH_OPEN_DELAY_US 3000  /* 1 run in 4 aims at store_open */

static void sleep_us(int64_t us) {
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  while(nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int main(void) {
  crash_init("crash");
  int runs = crash_env_int("SQR_CRASH_RUNS", CRASH_DEFAULT_RUNS);
  uint64_t seed = crash_env_seed("SQR_CRASH_SEED");
  crash_rng rng;
  crash_rng_seed(&rng, seed);
  /* Each run owns a disjoint range of phone indexes, so no phone repeats
   * even when a sign-up committed but was never acknowledged. */
  int64_t stride = CRASH_PHONE_SPACE / runs;
  if(stride > CRASH_STRIDE_MAX) stride = CRASH_STRIDE_MAX;

  signal(SIGPIPE, SIG_IGN);

  const char *dir = tu_tmpdir("crash-signup");
  static char db_path[600];
  snprintf(db_path, sizeof db_path, "%s/kiosk.db", dir);
  crash_make_db(db_path);

  crash_acks acks = {0};
  int killed_in_open = 0, killed_in_signup = 0, exited = 0;
  int64_t events = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);

  for(int run = 0; run < runs; run++) {
    int fds[2];
    if(pipe(fds) != 0) abort();
    int64_t delay = crash_rng_below(&rng, 4) == 0
                        ? (int64_t)crash_rng_below(&rng, CRASH_OPEN_DELAY_US)
                        : (int64_t)crash_rng_below(&rng, CRASH_MAX_DELAY_US);
    fflush(stdout);
    pid_t pid = fork();
    if(pid < 0) abort();
    if(pid == 0) {
      close(fds[0]);
      crash_child_signups(fds[1], db_path, (int64_t)run * stride, stride);
    }
    close(fds[1]);
    sleep_us(delay);
    kill(pid, SIGKILL);
    int status = 0;
    while(waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }

    size_t first = acks.n;
    crash_report rep;
    crash_read_acks(fds[0], run, 0, &acks, &rep);
    close(fds[0]);

    if(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      if(rep.opened)
        killed_in_signup++;
      else
        killed_in_open++;
    } else {
      exited++;
      if(!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        crash_problem("run %d: the child ended on its own (status 0x%x)", run, (unsigned)status);
    }
    crash_check_db(db_path, acks.v + first, acks.n - first, run, CRASH_CHECK_INTEGRITY, &events);
  }
  /* Nothing acknowledged in an early run may vanish in a later one. */
  crash_check_db(db_path, acks.v, acks.n, runs, 0, NULL);

  clock_gettime(CLOCK_MONOTONIC, &t1);
  int64_t lost = crash_count_lost(&acks);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if(crash_problems > CRASH_MAX_PROBLEMS)
    printf("crash: ... %d more problems not shown\n", crash_problems - CRASH_MAX_PROBLEMS);
  printf("crash: %d runs (%d killed while opening, %d during sign-ups, %d ended on their own),"
         " %zu acknowledged sign-ups, %" PRId64 " lost, %s, log verified to seq %" PRId64
         " — %.1f s, seed %" PRIu64 "\n",
         runs, killed_in_open, killed_in_signup, exited, acks.n, lost,
         crash_problems ? "PROBLEMS FOUND (see above)" : "integrity ok", events, secs, seed);
  free(acks.v);
  if(crash_problems) {
    printf("crash: database kept for inspection: %s\n", db_path);
    return 1;
  }
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if(system(cmd) != 0) fprintf(stderr, "crash: could not remove %s\n", dir);
  return 0;
}
