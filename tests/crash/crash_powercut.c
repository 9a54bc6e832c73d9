/* crash_powercut.c — a sign-up acknowledged is a sign-up kept, even when
 * the power fails at any instant, not only the process.
 *
 * crash_signup.c kills the kiosk process, but a killed process leaves the
 * kernel's page cache behind, so it passes even if nothing is ever
 * flushed. Here the victim child runs the kiosk core on powercut_vfs.c, a
 * VFS that keeps every write in a model of the page cache until SQLite
 * syncs the file, and at the k-th write/truncate/sync pulls the plug: each
 * unsynced write reaches the real file or not at random (some torn at
 * 512-byte sectors), a -wal created but never synced may vanish, and the
 * child _exit()s. The parent then "reboots": it leaves, removes or fills
 * with junk the -shm (shared memory is not durable), and reopens with the
 * plain VFS and a fresh store_open to check, as crash_signup does, that
 *   - every sign-up the child acknowledged (reported down the pipe only
 *     after member_signup returned SQR_OK) is a member and a signup event,
 *   - members and signup events pair one to one,
 *   - PRAGMA integrity_check is ok and store_verify_log passes;
 * and after the last run, every acknowledged sign-up of every run again.
 *
 * The WAL is usually left for the next victim to append to (the reboot's
 * connection closes without a checkpoint), so it fills up across runs and
 * the victims' own automatic checkpoints happen; one run in eight aims its
 * cut inside one (at the j-th write or sync of the database file). One
 * reboot in ten checkpoints and removes the WAL, so a fresh one is
 * created, and half the time the next cut comes before its first sync.
 * A run's cut point, survival odds and -shm treatment come from the seed
 * alone, so SQR_POWERCUT_SEED replays a failure's plan (the victim's real
 * clock and fresh random nonces can still move a page write or two).
 *
 * Environment: SQR_POWERCUT_RUNS (default 100), SQR_POWERCUT_SEED,
 * SQR_TEST_TMP for the directory, and SQR_POWERCUT_NOSYNC=1, which makes
 * the model's disk ignore syncs: acknowledged sign-ups must then be lost,
 * and ctest checks that they are (crash.powercut.nosync), so this test is
 * known to be able to fail. One summary line; never prints a phone number.
 */
#include "crashkit.h"
#include "powercut_vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"

#define PC_DEFAULT_RUNS  100
#define PC_EXIT_CUT      86    /* the victim's exit status after a power cut */
#define PC_OPS_MAX       600   /* cut within the first 600 counted operations */
#define PC_DB_OPS_MAX    40    /* or at one of the first 40 on the database file */
#define PC_DB_OPS_CAP    6000  /* ... but no later than this, checkpoint or not */
#define PC_CHILD_TIMEOUT 30000 /* ms before a victim that never cut is killed */
#define PC_SHM_JUNK      32768

/* powercut_cut packed into a crash_rec index for the pipe. */
#define NOTE_IN_DB      1
#define NOTE_VANISHED   2
#define NOTE_TORN       4
#define NOTE_DROPPED(n) ((int64_t)((n) > 0xffffff ? 0xffffff : (n)) << 8)
#define NOTE_PENDING(n) ((int64_t)((n) > 0xffffff ? 0xffffff : (n)) << 32)

static void report_cut(const powercut_cut *c, void *ud) {
  int fd = *(int *)ud;
  int64_t note = (c->in_db ? NOTE_IN_DB : 0) | (c->vanished ? NOTE_VANISHED : 0) |
                 (c->torn ? NOTE_TORN : 0) | NOTE_DROPPED(c->dropped) | NOTE_PENDING(c->pending);
  crash_write_rec(fd, CRASH_REC_CUT, note);
}

/* What a run does, all drawn from the test's seed. */
typedef struct pc_run {
  powercut_opts vfs;
  int shm;        /* after the cut: 0 leave the -shm, 1 remove it, 2 junk it */
  int checkpoint; /* the reboot checkpoints and removes the WAL */
} pc_run;

static pc_run plan_run(crash_rng *rng, int nosync, int fresh_wal) {
  pc_run r = {0};
  if(fresh_wal && crash_rng_below(rng, 2) == 0) {
    /* Before the new -wal's first sync, so its name may not survive. */
    r.vfs.cut_at = 1 + crash_rng_below(rng, 2);
  } else if(crash_rng_below(rng, 8) == 0) {
    r.vfs.cut_at_db = 1 + crash_rng_below(rng, PC_DB_OPS_MAX);
    r.vfs.cut_at = PC_DB_OPS_CAP;
  } else {
    r.vfs.cut_at = 1 + crash_rng_below(rng, PC_OPS_MAX);
  }
  static const unsigned keep[] = {0, 10, 50, 90, 100};
  r.vfs.keep_pct = keep[crash_rng_below(rng, 5)];
  r.vfs.tear_pct = crash_rng_below(rng, 2) ? 30 : 0;
  r.vfs.seed = crash_rng_next(rng);
  r.vfs.nosync = nosync;
  r.vfs.exit_code = PC_EXIT_CUT;
  r.shm = (int)crash_rng_below(rng, 3);
  r.checkpoint = crash_rng_below(rng, 10) == 0;
  return r;
}

static SQR_NORETURN void victim(int fd, const char *db_path, pc_run *r, int64_t first,
                                int64_t count) {
  static int pipe_fd;
  pipe_fd = fd;
  r->vfs.on_cut = report_cut;
  r->vfs.ud = &pipe_fd;
  if(powercut_vfs_install(&r->vfs) != 0) {
    crash_write_rec(fd, CRASH_REC_ERROR, SQR_EIO);
    _exit(2);
  }
  crash_child_signups(fd, db_path, first, count);
}

/* Shared memory does not survive a power cut: whatever the reboot finds
 * in the -shm, SQLite must not trust it. */
static void reboot_shm(const char *db_path, int how, crash_rng *rng) {
  char shm[620];
  snprintf(shm, sizeof shm, "%s-shm", db_path);
  if(how == 1 && unlink(shm) != 0 && errno != ENOENT) abort();
  if(how != 2) return;
  int fd = open(shm, O_WRONLY);
  if(fd < 0) return;
  unsigned char junk[PC_SHM_JUNK];
  for(size_t i = 0; i < sizeof junk; i += 8) {
    uint64_t v = crash_rng_next(rng);
    memcpy(junk + i, &v, 8);
  }
  if(pwrite(fd, junk, sizeof junk, 0) != (ssize_t)sizeof junk) abort();
  close(fd);
}

int main(void) {
  crash_init("powercut");
  int runs = crash_env_int("SQR_POWERCUT_RUNS", PC_DEFAULT_RUNS);
  uint64_t seed = crash_env_seed("SQR_POWERCUT_SEED");
  const char *ns = getenv("SQR_POWERCUT_NOSYNC");
  int nosync = ns && *ns && strcmp(ns, "0") != 0;
  crash_rng rng;
  crash_rng_seed(&rng, seed);
  /* Each run owns a disjoint range of phone indexes, so no phone repeats
   * even when a sign-up committed but was never acknowledged. */
  int64_t stride = CRASH_PHONE_SPACE / runs;
  if(stride > CRASH_STRIDE_MAX) stride = CRASH_STRIDE_MAX;

  signal(SIGPIPE, SIG_IGN);

  const char *dir = tu_tmpdir("crash-powercut");
  static char db_path[600];
  snprintf(db_path, sizeof db_path, "%s/kiosk.db", dir);
  crash_make_db(db_path);

  crash_acks acks = {0};
  int cut_open = 0, cut_signup = 0, cut_ckpt = 0, vanished = 0, torn = 0, fresh_wal = 0;
  int64_t pending = 0, dropped = 0, events = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);

  int checkpointed = 1; /* the WAL is gone (crash_make_db closed the store) */
  for(int run = 0; run < runs; run++) {
    pc_run plan = plan_run(&rng, nosync, checkpointed);
    int fds[2];
    if(pipe(fds) != 0) abort();
    fflush(stdout);
    pid_t pid = fork();
    if(pid < 0) abort();
    if(pid == 0) {
      close(fds[0]);
      victim(fds[1], db_path, &plan, (int64_t)run * stride, stride);
    }
    close(fds[1]);

    size_t first = acks.n;
    crash_report rep;
    if(crash_read_acks(fds[0], run, PC_CHILD_TIMEOUT, &acks, &rep)) {
      crash_problem("run %d: no power cut after %d s; killed", run, PC_CHILD_TIMEOUT / 1000);
      kill(pid, SIGKILL);
      crash_read_acks(fds[0], run, 0, &acks, &rep);
    }
    close(fds[0]);
    int status = 0;
    while(waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if(!WIFEXITED(status) || WEXITSTATUS(status) != PC_EXIT_CUT || !rep.cut) {
      crash_problem("run %d: the child ended without a power cut (status 0x%x)", run,
                    (unsigned)status);
    } else {
      if(rep.note & NOTE_IN_DB)
        cut_ckpt++;
      else if(rep.opened)
        cut_signup++;
      else
        cut_open++;
      vanished += (rep.note & NOTE_VANISHED) != 0;
      torn += (rep.note & NOTE_TORN) != 0;
      dropped += (rep.note >> 8) & 0xffffff;
      pending += (rep.note >> 32) & 0xffffff;
    }

    reboot_shm(db_path, plan.shm, &rng);
    int flags = CRASH_CHECK_INTEGRITY | (plan.checkpoint ? 0 : CRASH_CHECK_KEEP_WAL);
    fresh_wal += plan.checkpoint;
    checkpointed = plan.checkpoint;
    crash_check_db(db_path, acks.v + first, acks.n - first, run, flags, &events);
  }
  /* Nothing acknowledged in an early run may vanish in a later one. */
  crash_check_db(db_path, acks.v, acks.n, runs, 0, NULL);

  clock_gettime(CLOCK_MONOTONIC, &t1);
  int64_t lost = crash_count_lost(&acks);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if(crash_problems > CRASH_MAX_PROBLEMS)
    printf("powercut: ... %d more problems not shown\n", crash_problems - CRASH_MAX_PROBLEMS);
  printf("powercut: %d runs%s (cut %d while opening, %d in sign-ups, %d in checkpoints;"
         " %" PRId64 " of %" PRId64 " unsynced writes dropped, %d runs with torn writes,"
         " %d with a new file gone, %d fresh WALs), %zu acknowledged sign-ups, %" PRId64
         " lost, %s, log verified to seq %" PRId64 " — %.1f s, seed %" PRIu64 "\n",
         runs, nosync ? " with syncs ignored" : "", cut_open, cut_signup, cut_ckpt, dropped,
         pending, torn, vanished, fresh_wal, acks.n, lost,
         crash_problems ? "PROBLEMS FOUND (see above)" : "integrity ok", events, secs, seed);
  free(acks.v);
  if(crash_problems) {
    printf("powercut: database kept for inspection: %s\n", db_path);
    return 1;
  }
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if(system(cmd) != 0) fprintf(stderr, "powercut: could not remove %s\n", dir);
  return 0;
}
