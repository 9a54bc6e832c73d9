/* test_notify.c — storeqr-kiosk and systemd's notify protocol, against a
 * fake notify socket (a unix datagram socket this test binds, as systemd
 * does for a Type=notify unit):
 *   test_notify KIOSK CASE
 *   ready     READY=1 only after the first frame was presented, WATCHDOG=1
 *             at about half $WATCHDOG_USEC while the kiosk idles in a
 *             script's wait, STATUS=live code, STOPPING=1 last
 *   idle      no script at all: pings while idle, SIGTERM -> STOPPING=1, exit 0
 *   hang      the pings come from the main loop: a loop blocked 1.5 s sends
 *             none meanwhile
 *   otherpid  $WATCHDOG_PID names another process: READY and STOPPING, no ping
 *   ownpid    $WATCHDOG_PID is the kiosk's own pid (as systemd sets it): pings
 *   abstract  NOTIFY_SOCKET=@name (an abstract socket)
 * Counts have generous bounds (a loaded CI machine, ASan); the one timing
 * assertion is a lower bound that a blocked loop cannot break.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uitest.h"

#define WATCHDOG_USEC "400000" /* pings every 200 ms */
#define MAX_MSGS      2000

typedef struct msg {
  int64_t at; /* when the test received it (monotonic ms) */
  char text[256];
  int after_frame; /* the kiosk had already logged its first presented frame */
} msg;

typedef struct run {
  int pid, nfd, errfd;
  msg m[MAX_MSGS];
  int n;
  char err[256 * 1024]; /* the kiosk's stderr */
  size_t errlen;
  int exited, exit_code;
} run;

static run R;
static char db[1200];
static int64_t T; /* the kiosk's fixed clock */

static int has_line(const char *text, const char *line) {
  size_t l = strlen(line);
  for(const char *p = text; (p = strstr(p, line)); p += l)
    if((p == text || p[-1] == '\n') && (p[l] == '\0' || p[l] == '\n')) return 1;
  return 0;
}

static int count(const char *line) {
  int c = 0;
  for(int i = 0; i < R.n; i++)
    c += has_line(R.m[i].text, line);
  return c;
}

static int first_index(const char *line) {
  for(int i = 0; i < R.n; i++)
    if(has_line(R.m[i].text, line)) return i;
  return -1;
}

static void drain_stderr(void) {
  for(;;) {
    if(R.errlen + 1 >= sizeof R.err) {
      /* Keep reading (a full pipe would block the kiosk), drop the bytes. */
      char sink[4096];
      if(read(R.errfd, sink, sizeof sink) <= 0) return;
      continue;
    }
    ssize_t k = read(R.errfd, R.err + R.errlen, sizeof R.err - 1 - R.errlen);
    if(k <= 0) return;
    R.errlen += (size_t)k;
    R.err[R.errlen] = '\0';
  }
}

/* Collects notify messages and stderr for ms milliseconds, or until the
 * kiosk exits (ms < 0). */
static void collect(int ms) {
  int64_t end = ms < 0 ? INT64_MAX : ut_mono_ms() + ms;
  while(!R.exited && ut_mono_ms() < end) {
    struct pollfd p[2] = {{.fd = R.nfd, .events = POLLIN}, {.fd = R.errfd, .events = POLLIN}};
    poll(p, 2, 50);
    if(p[0].revents & POLLIN) {
      char buf[256];
      if(ut_notify_recv(R.nfd, buf, sizeof buf, 0)) {
        /* The kiosk wrote its log line before it sent the datagram, so if
         * it did, the line is in the pipe now. */
        drain_stderr();
        UT_CHECK(R.n < MAX_MSGS, "too many notify messages");
        msg *m = &R.m[R.n++];
        m->at = ut_mono_ms();
        snprintf(m->text, sizeof m->text, "%s", buf);
        m->after_frame = strstr(R.err, "first QR frame presented") != NULL;
      }
    }
    drain_stderr();
    int status;
    if(waitpid(R.pid, &status, WNOHANG) == R.pid) {
      R.exited = 1;
      UT_CHECK(WIFEXITED(status), "kiosk died (signal %d)",
               WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      R.exit_code = WEXITSTATUS(status);
    }
  }
  if(R.exited) {
    /* What was sent just before the exit. */
    char buf[256];
    drain_stderr();
    while(ut_notify_recv(R.nfd, buf, sizeof buf, 0) && R.n < MAX_MSGS) {
      msg *m = &R.m[R.n++];
      m->at = ut_mono_ms();
      snprintf(m->text, sizeof m->text, "%s", buf);
      m->after_frame = strstr(R.err, "first QR frame presented") != NULL;
    }
    UT_CHECK(!strstr(R.err, "ERROR: AddressSanitizer") && !strstr(R.err, "ERROR: LeakSanitizer") &&
                 !strstr(R.err, "runtime error:"),
             "sanitizer report:\n%s", R.err);
  }
}

static void dump(void) {
  for(int i = 0; i < R.n; i++) {
    char t[256];
    snprintf(t, sizeof t, "%s", R.m[i].text);
    for(char *p = t; *p; p++)
      if(*p == '\n') *p = '|';
    fprintf(stderr, "  %+6lld ms  %s\n", (long long)(R.m[i].at - R.m[0].at), t);
  }
}

/* A notify socket in the test's directory (or /tmp when that path is too
 * long for sun_path), or an abstract name. */
static void notify_addr(char *out, size_t n, int abstract) {
  if(abstract)
    snprintf(out, n, "@storeqr-ui-notify-%d", (int)getpid());
  else if(snprintf(out, n, "%s/notify.sock", ut_dir) >= 100)
    snprintf(out, n, "/tmp/storeqr-ui-notify-%d.sock", (int)getpid());
}

static void setup(const char *name, char *addr, size_t addrlen, int abstract) {
  ut_setup(name);
  snprintf(db, sizeof db, "%s/kiosk.db", ut_dir);
  T = ut_now_aligned();
  ut_make_store(db, T, NULL);
  notify_addr(addr, addrlen, abstract);
  memset(&R, 0, sizeof R);
  R.nfd = ut_notify_bind(addr);
}

/* Starts the kiosk with the notify environment; its stderr into a pipe. */
static void start(const char *script, const char *notify, const char *wd_pid, int real_clock) {
  char env_sock[200], env_pid[64];
  snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", notify);
  snprintf(env_pid, sizeof env_pid, "WATCHDOG_PID=%s", wd_pid ? wd_pid : "");
  const char *env[] = {env_sock, "WATCHDOG_USEC=" WATCHDOG_USEC, wd_pid ? env_pid : "-WATCHDOG_PID",
                       "SQR_LOG=debug", NULL};
  int p[2];
  UT_CHECK(pipe(p) == 0, "pipe");
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  fcntl(p[0], F_SETFD, FD_CLOEXEC);
  ut_kiosk_opts o = {
      .env = env, .stderr_fd = p[1], .no_script = script == NULL, .real_clock = real_clock};
  R.pid = ut_spawn(db, script, T, &o);
  close(p[1]);
  R.errfd = p[0];
}

/* READY once, after the first frame; STOPPING last; nothing after it. */
static void check_frame_ready_stopping(void) {
  int ready = first_index("READY=1");
  UT_CHECK(count("READY=1") == 1, "READY=1 sent %d times", count("READY=1"));
  UT_CHECK(R.m[ready].after_frame, "READY=1 came before the first frame was presented");
  int stop = first_index("STOPPING=1");
  UT_CHECK(stop >= 0, "no STOPPING=1");
  UT_CHECK(stop == R.n - 1, "messages after STOPPING=1");
  UT_CHECK(ready < stop, "STOPPING before READY");
}

static void t_ready(void) {
  char addr[200];
  setup("notify-ready", addr, sizeof addr, 0);
  start("screenshot first first\nwait 2500\nquit\n", addr, NULL, 0);
  collect(-1);
  dump();
  UT_CHECK(R.exit_code == 0, "kiosk exit %d:\n%s", R.exit_code, R.err);
  check_frame_ready_stopping();
  UT_CHECK(first_index("STATUS=live code") >= 0, "no STATUS=live code");
  /* 2.5 s idle at one ping per 200 ms: about 12. */
  int pings = count("WATCHDOG=1");
  UT_CHECK(pings >= 5 && pings <= 60, "%d WATCHDOG=1 in a 2.5 s wait", pings);
  /* The first frame existed and is the live code. */
  char p[1200], got[1024], want[1024];
  snprintf(p, sizeof p, "%s/first.png", ut_dir);
  ut_live_text(db, T, want, sizeof want);
  UT_CHECK(ut_decode_png(p, got, sizeof got, NULL, NULL) == 1, "no QR in the first frame");
  UT_CHECK(strcmp(got, want) == 0, "first frame QR '%s', want '%s'", got, want);
  printf("ready: ok (%d messages, %d pings)\n", R.n, pings);
}

static void t_idle(void) {
  char addr[200];
  setup("notify-idle", addr, sizeof addr, 0);
  start(NULL, addr, NULL, 1);
  int64_t t0 = ut_mono_ms();
  while(first_index("READY=1") < 0 && !R.exited && ut_mono_ms() - t0 < 30000)
    collect(100);
  UT_CHECK(first_index("READY=1") >= 0, "no READY=1 within 30 s");
  int before = count("WATCHDOG=1");
  collect(2000);
  int pings = count("WATCHDOG=1") - before;
  UT_CHECK(!R.exited, "the kiosk exited on its own:\n%s", R.err);
  kill(R.pid, SIGTERM);
  collect(-1);
  dump();
  UT_CHECK(R.exit_code == 0, "kiosk exit %d after SIGTERM", R.exit_code);
  check_frame_ready_stopping();
  UT_CHECK(pings >= 4 && pings <= 50, "%d WATCHDOG=1 in 2 s of idling", pings);
  printf("idle: ok (%d pings in 2 s)\n", pings);
}

static void t_hang(void) {
  char addr[200];
  setup("notify-hang", addr, sizeof addr, 0);
  start("wait 1000\nhang 1500\nwait 1000\nquit\n", addr, NULL, 0);
  collect(-1);
  dump();
  UT_CHECK(R.exit_code == 0, "kiosk exit %d", R.exit_code);
  int64_t gap = 0, last = 0;
  int pings = 0;
  for(int i = 0; i < R.n; i++) {
    if(!has_line(R.m[i].text, "WATCHDOG=1")) continue;
    if(pings++ && R.m[i].at - last > gap) gap = R.m[i].at - last;
    last = R.m[i].at;
  }
  UT_CHECK(pings >= 4, "%d pings", pings);
  /* Blocked for 1500 ms: no ping can come meanwhile (none is sent from
   * another thread). 1200 leaves room for the receiver's own delays. */
  UT_CHECK(gap >= 1200, "longest gap between pings %lld ms: something pinged while the loop hung",
           (long long)gap);
  printf("hang: ok (longest gap %lld ms)\n", (long long)gap);
}

static void t_otherpid(void) {
  char addr[200];
  setup("notify-otherpid", addr, sizeof addr, 0);
  start("wait 1500\nquit\n", addr, "1", 0);
  collect(-1);
  dump();
  UT_CHECK(R.exit_code == 0, "kiosk exit %d", R.exit_code);
  check_frame_ready_stopping();
  UT_CHECK(count("WATCHDOG=1") == 0, "%d pings for another process's watchdog",
           count("WATCHDOG=1"));
  puts("otherpid: ok");
}

/* systemd sets WATCHDOG_PID to the pid it started: fork, set it, exec. */
static void t_ownpid(void) {
  char addr[200];
  setup("notify-ownpid", addr, sizeof addr, 0);
  char script[1200];
  snprintf(script, sizeof script, "%s/script.txt", ut_dir);
  FILE *f = fopen(script, "w");
  UT_CHECK(f, "script");
  fputs("wait 1500\nquit\n", f);
  fclose(f);
  int p[2];
  UT_CHECK(pipe(p) == 0, "pipe");
  pid_t pid = fork();
  UT_CHECK(pid >= 0, "fork");
  if(pid == 0) {
    char own[32], t[32];
    snprintf(own, sizeof own, "%d", (int)getpid());
    snprintf(t, sizeof t, "%lld", (long long)T);
    setenv("NOTIFY_SOCKET", addr, 1);
    setenv("WATCHDOG_USEC", WATCHDOG_USEC, 1);
    setenv("WATCHDOG_PID", own, 1);
    dup2(p[1], 2);
    execl(ut_kiosk, ut_kiosk, "--headless", "--db", db, "--script", script, "--fixed-clock", t,
          "--size", "1080x1920", (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  R.pid = (int)pid;
  R.errfd = p[0];
  collect(-1);
  dump();
  UT_CHECK(R.exit_code == 0, "kiosk exit %d:\n%s", R.exit_code, R.err);
  int pings = count("WATCHDOG=1");
  UT_CHECK(pings >= 3, "%d pings with WATCHDOG_PID = the kiosk's pid", pings);
  UT_CHECK(count("READY=1") == 1 && first_index("STOPPING=1") == R.n - 1, "READY/STOPPING");
  printf("ownpid: ok (%d pings)\n", pings);
}

static void t_abstract(void) {
  char addr[200];
  setup("notify-abstract", addr, sizeof addr, 1);
  start("wait 1500\nquit\n", addr, NULL, 0);
  collect(-1);
  dump();
  UT_CHECK(R.exit_code == 0, "kiosk exit %d", R.exit_code);
  check_frame_ready_stopping();
  int pings = count("WATCHDOG=1");
  UT_CHECK(pings >= 3, "%d pings over an abstract socket", pings);
  printf("abstract: ok (%d pings)\n", pings);
}

int main(int argc, char **argv) {
  if(argc != 3) {
    fprintf(stderr, "usage: test_notify KIOSK CASE\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  ut_kiosk = argv[1];
  const char *c = argv[2];
  if(!strcmp(c, "ready"))
    t_ready();
  else if(!strcmp(c, "idle"))
    t_idle();
  else if(!strcmp(c, "hang"))
    t_hang();
  else if(!strcmp(c, "otherpid"))
    t_otherpid();
  else if(!strcmp(c, "ownpid"))
    t_ownpid();
  else if(!strcmp(c, "abstract"))
    t_abstract();
  else {
    fprintf(stderr, "test_notify: unknown case %s\n", c);
    return 2;
  }
  return 0;
}
