/* test_enrol.c — first-boot enrolment on the kiosk's screen:
 *   test_enrol KIOSK HQ CASE
 *   hq       against a REAL storeqr-hq on 127.0.0.1 (a store, a group, a
 *            one-time code, as tests/integration does): kiosk A, with no HQ
 *            address configured, types it, then a wrong code (HQ's refusal
 *            on screen), then the right one; it reaches the live code,
 *            whose QR (libzbar) carries a token that verifies for that
 *            store and that HQ's resolver accepts. Kiosk B, with the address
 *            configured, in landscape and English, is refused the used code
 *            and stays unenrolled.
 *   offline  no HQ listening (network failure, try again keeps the code),
 *            and HQ's CA missing; systemd's STATUS follows the steps.
 * The kiosk finds storeqr-sync in the build tree, as it does "sync now".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "livecode.h"
#include "store.h"
#include "uitest.h"

extern char **environ;

#define STORE      "SH-UI01"
#define GROUP_LINK "https://weixin.qq.com/g/sh-ui01-1"
#define WRONG_CODE "ABCDEFGHIJKLMNOP" /* Base32, never issued */

static const char *hq_bin;
static char hqdir[1200];
static int hq_pid, hq_port;

static void sh(const char *fmt, ...) SQR_PRINTF(1, 2);
static void sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  UT_CHECK(system(cmd) == 0, "command failed: %s", cmd);
}

/* The line of a command's output that starts with prefix, after it. */
static void capture(char *out, size_t n, const char *prefix, const char *fmt, ...) SQR_PRINTF(4, 5);
static void capture(char *out, size_t n, const char *prefix, const char *fmt, ...) {
  char cmd[4096], line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  FILE *p = popen(cmd, "r");
  UT_CHECK(p, "popen %s", cmd);
  out[0] = '\0';
  while(fgets(line, sizeof line, p))
    if(!out[0] && strncmp(line, prefix, strlen(prefix)) == 0) {
      snprintf(out, n, "%s", line + strlen(prefix));
      out[strcspn(out, "\r\n")] = '\0';
    }
  UT_CHECK(pclose(p) == 0 && out[0], "no '%s' from: %s", prefix, cmd);
}

static void path(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", ut_dir, name);
}

/* HQ with one store, one open group, serving on a free port. */
static void hq_start(void) {
  snprintf(hqdir, sizeof hqdir, "%s/hq", ut_dir);
  sh("mkdir -p '%s' && '%s' init '%s' --host 127.0.0.1 >/dev/null", hqdir, hq_bin, hqdir);
  sh("'%s' store add --dir '%s' --id %s --name 'UI 店' --city 上海 --lat 31.2 --lon 121.4 "
     ">/dev/null",
     hq_bin, hqdir, STORE);
  sh("'%s' group add --dir '%s' --store %s --id sh-ui01-1 --name 1群 --link %s --capacity 200 "
     ">/dev/null",
     hq_bin, hqdir, STORE, GROUP_LINK);
  char portfile[1300], log[1300];
  snprintf(portfile, sizeof portfile, "%s/port", hqdir);
  snprintf(log, sizeof log, "%s/hq.log", hqdir);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  char *argv[] = {(char *)hq_bin, "serve",       "--dir",  hqdir, "--listen",
                  "127.0.0.1:0",  "--port-file", portfile, NULL};
  pid_t pid;
  UT_CHECK(posix_spawn(&pid, hq_bin, &fa, NULL, argv, environ) == 0, "spawn HQ");
  posix_spawn_file_actions_destroy(&fa);
  hq_pid = (int)pid;
  /* Bounded: 60 s covers a sanitizer build's slow start. */
  for(int i = 0; i < 1200 && !hq_port; i++) {
    FILE *f = fopen(portfile, "r");
    if(f) {
      if(fscanf(f, "%d", &hq_port) != 1) hq_port = 0;
      fclose(f);
    }
    if(!hq_port) usleep(50000);
  }
  UT_CHECK(hq_port > 0, "HQ did not start (see %s)", log);
  for(int i = 0; i < 400; i++) {
    char cmd[2000];
    snprintf(cmd, sizeof cmd,
             "curl -s -o /dev/null --max-time 2 --cacert '%s/hq-ca.crt' https://127.0.0.1:%d/",
             hqdir, hq_port);
    if(system(cmd) == 0) return;
    usleep(50000);
  }
  UT_CHECK(0, "HQ on port %d does not answer", hq_port);
}

static void hq_stop(void) {
  if(hq_pid <= 0) return;
  kill(hq_pid, SIGTERM);
  int status;
  while(waitpid(hq_pid, &status, 0) < 0 && errno == EINTR) {
  }
  hq_pid = 0;
  char cmd[1400];
  snprintf(cmd, sizeof cmd,
           "grep -q -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' -e 'runtime error:' "
           "'%s/hq.log'",
           hqdir);
  UT_CHECK(system(cmd) != 0, "sanitizer report from HQ in %s/hq.log", hqdir);
}

static void on_exit_kill_hq(void) {
  if(hq_pid > 0) kill(hq_pid, SIGKILL);
}

/* Script lines typing text on the keyboard, one key each. */
static void type(char *out, size_t n, const char *text) {
  size_t o = strlen(out);
  for(const char *p = text; *p && o + 16 < n; p++)
    if(*p != '-') o += (size_t)snprintf(out + o, n - o, "key %c\n", *p);
}

static void kiosk_dir(char *db, size_t n, const char *name) {
  char dir[1200];
  snprintf(dir, sizeof dir, "%s/%s", ut_dir, name);
  sh("mkdir -p '%s'", dir);
  snprintf(db, n, "%s/kiosk.db", dir);
}

static int file_exists(const char *dir_of_db, const char *name) {
  char p[1400], copy[1300];
  snprintf(copy, sizeof copy, "%s", dir_of_db);
  char *slash = strrchr(copy, '/');
  if(slash) *slash = '\0';
  snprintf(p, sizeof p, "%s/%s", copy, name);
  return access(p, F_OK) == 0;
}

/* The store id and key a kiosk database holds, or "" when it has none. */
static void kiosk_config(const char *db, char *store_id, size_t n, uint8_t key[32], int *version,
                         uint32_t *period) {
  sqr_clock *c;
  store *st;
  char err[256];
  UT_CHECK(clock_new_real(&c) == SQR_OK, "clock");
  UT_CHECK(store_open(db, c, &st, err, sizeof err) == SQR_OK, "%s", err);
  const sqr_config *cfg = store_config(st);
  store_id[0] = '\0';
  if(cfg) {
    snprintf(store_id, n, "%s", cfg->store_id);
    if(key) memcpy(key, cfg->token_key, 32);
    if(version) *version = cfg->key_version;
    if(period) *period = cfg->period_s;
  }
  store_close(st);
  clock_free(c);
}

static void t_hq(void) {
  ut_setup("enrol-hq");
  atexit(on_exit_kill_hq);
  hq_start();
  char code[64], url[128], ca[1300], typed[128];
  capture(code, sizeof code, "code: ", "'%s' kiosk enroll-code --dir '%s' --store %s --kiosk 1",
          hq_bin, hqdir, STORE);
  snprintf(url, sizeof url, "https://127.0.0.1:%d", hq_port);
  snprintf(typed, sizeof typed, "127.0.0.1:%d", hq_port);
  snprintf(ca, sizeof ca, "%s/hq-ca.crt", hqdir);

  /* Kiosk A: no address configured, so the shop types it. */
  char dba[1300];
  kiosk_dir(dba, sizeof dba, "ka");
  static char s[16384];
  snprintf(s, sizeof s,
           "expect screen enrol\nexpect state url\nexpect disabled ok\nscreenshot url\n");
  type(s, sizeof s, typed);
  snprintf(s + strlen(s), sizeof s - strlen(s),
           "screenshot url_typed\nkey return\nexpect state code\n");
  type(s, sizeof s, WRONG_CODE);
  snprintf(s + strlen(s), sizeof s - strlen(s),
           "screenshot code_typed\ntap ok\nawait state failed:code_unknown 60000\n"
           "expect screen enrol\nscreenshot wrong\ntap retry\nexpect state code\n"
           "expect disabled ok\n");
  type(s, sizeof s, code);
  snprintf(s + strlen(s), sizeof s - strlen(s),
           "tap ok\nawait screen live 60000\nexpect state code\nscreenshot live\n");
  const char *args_a[] = {"--hq-ca", ca, NULL};
  const char *env[] = {"-STOREQR_HQ_URL", "-STOREQR_HQ_CA", NULL};
  ut_kiosk_opts oa = {.real_clock = 1, .args = args_a, .env = env};
  int rc = ut_run_opts(dba, s, 0, &oa);
  UT_CHECK(rc == 0, "kiosk A exit %d", rc);
  UT_CHECK(file_exists(dba, "kiosk.crt") && file_exists(dba, "kiosk.key"), "A has no certificate");
  char sid[64];
  uint8_t key[32];
  int kv = 0;
  uint32_t period = 0;
  kiosk_config(dba, sid, sizeof sid, key, &kv, &period);
  UT_CHECK(strcmp(sid, STORE) == 0, "A enrolled into '%s'", sid);
  /* The wrong code's screen has no QR; the live screen's is a token for
   * this store that verifies with the store key HQ sent... */
  char p[1400], got[1024];
  path(p, sizeof p, "wrong.png");
  UT_CHECK(ut_decode_png(p, got, sizeof got, NULL, NULL) == 0, "a QR on the refusal screen");
  path(p, sizeof p, "live.png");
  UT_CHECK(ut_decode_png(p, got, sizeof got, NULL, NULL) == 1, "no QR on the live screen");
  char prefix[128];
  snprintf(prefix, sizeof prefix, "HTTPS://127.0.0.1:%d/J/%s/", hq_port, STORE);
  UT_CHECK(strncmp(got, prefix, strlen(prefix)) == 0, "live code %s is not %s...", got, prefix);
  const char *tok = got + strlen(prefix);
  livecode_key k;
  livecode_claim claim;
  UT_CHECK(livecode_key_set(&k, key, (uint8_t)kv) == SQR_OK, "key");
  /* Real time has moved on since the screenshot: a couple of windows. */
  sqr_rc vrc = livecode_verify(&k, 1, STORE, tok, (int64_t)time(NULL), period, 2, 0, &claim);
  livecode_key_wipe(&k);
  UT_CHECK(vrc == SQR_OK, "token %s: %s", tok, sqr_strerror(vrc));
  UT_CHECK(claim.kiosk == 1, "token for kiosk %d", (int)claim.kiosk);
  /* ... and that HQ's resolver takes (it answers with the group's link). */
  char body[1400], cmd[4000];
  snprintf(body, sizeof body, "%s/resolve.html", ut_dir);
  snprintf(cmd, sizeof cmd,
           "curl -s -o '%s' -w '%%{http_code}' --max-time 10 --cacert '%s' "
           "'https://127.0.0.1:%d/J/%s/%s'",
           body, ca, hq_port, STORE, tok);
  char status[16];
  capture(status, sizeof status, "", "%s", cmd);
  UT_CHECK(strcmp(status, "200") == 0, "HQ's resolver answered %s for the kiosk's code", status);
  snprintf(cmd, sizeof cmd, "grep -q '%s' '%s'", GROUP_LINK, body);
  UT_CHECK(system(cmd) == 0, "HQ's page does not lead to the group");

  /* Kiosk B: the address configured, landscape, English; the same code,
   * now used, is refused with HQ's reason, and B stays unenrolled. */
  char dbb[1300];
  kiosk_dir(dbb, sizeof dbb, "kb");
  s[0] = '\0';
  snprintf(s, sizeof s, "expect screen enrol\nexpect state code\nexpect visible lang\n");
  type(s, sizeof s, code);
  snprintf(s + strlen(s), sizeof s - strlen(s),
           "screenshot b_code\nkey return\nawait state failed:code_used 60000\nscreenshot b_used\n"
           "tap retry\nexpect state code\n");
  const char *args_b[] = {"--hq-url", url, "--hq-ca", ca, NULL};
  ut_kiosk_opts ob = {
      .real_clock = 1, .args = args_b, .env = env, .size = "1920x1080", .lang = "en"};
  rc = ut_run_opts(dbb, s, 0, &ob);
  UT_CHECK(rc == 0, "kiosk B exit %d", rc);
  UT_CHECK(!file_exists(dbb, "kiosk.crt"), "B got a certificate with a used code");
  kiosk_config(dbb, sid, sizeof sid, NULL, NULL, NULL);
  UT_CHECK(!sid[0], "B has a configuration (%s)", sid);
  /* A restarted kiosk A is enrolled: the live code at once. */
  UT_CHECK(ut_run_opts(dba, "expect screen live\nexpect state code\n", 0, &oa) == 0, "A restarted");
  hq_stop();
  puts("hq: ok");
}

static void t_offline(void) {
  ut_setup("enrol-offline");
  char db[1300], sock[1300], env_sock[1400], ca[1300];
  kiosk_dir(db, sizeof db, "k");
  /* Any readable file does: nothing gets as far as TLS. */
  snprintf(ca, sizeof ca, "%s/ca.crt", ut_dir);
  sh("echo not-a-certificate > '%s'", ca);
  snprintf(sock, sizeof sock, "%s/notify.sock", ut_dir);
  if(strlen(sock) >= 100)
    snprintf(sock, sizeof sock, "/tmp/storeqr-ui-enrol-%d.sock", (int)getpid());
  int nfd = ut_notify_bind(sock);
  snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", sock);
  const char *env[] = {env_sock, "-WATCHDOG_USEC", "-STOREQR_HQ_URL", "-STOREQR_HQ_CA", NULL};
  /* Port 1 on loopback: refused at once. */
  const char *args[] = {"--hq-url", "127.0.0.1:1", "--hq-ca", ca, NULL};
  static char s[8192];
  snprintf(s, sizeof s, "expect state code\n");
  type(s, sizeof s, "MFRGGZDFMZTWQ2LK");
  snprintf(s + strlen(s), sizeof s - strlen(s),
           "key return\nawait state failed:network 60000\nscreenshot network\n"
           /* the code is kept: "ok" at once */
           "tap retry\nexpect state code\ntap ok\nawait state failed:network 60000\n"
           "lang en\nscreenshot network_en\nexpect screen enrol\n");
  ut_kiosk_opts o = {.args = args, .env = env, .size = "1920x1080"};
  int rc = ut_run_opts(db, s, ut_now_aligned(), &o);
  UT_CHECK(rc == 0, "offline run exit %d", rc);
  UT_CHECK(!file_exists(db, "kiosk.crt"), "a certificate without HQ");
  char m[256];
  int code = 0, running = 0, failed = 0;
  while(ut_notify_recv(nfd, m, sizeof m, 0)) {
    code |= strstr(m, "STATUS=enrolment: code") != NULL;
    running |= strstr(m, "STATUS=enrolment: running") != NULL;
    failed |= strstr(m, "STATUS=enrolment: failed:network") != NULL;
  }
  close(nfd);
  unlink(sock);
  UT_CHECK(code && running && failed, "STATUS lines: code %d running %d failed %d", code, running,
           failed);
  /* HQ's CA missing: nothing to trust HQ by, and the screen says so. */
  const char *args2[] = {"--hq-url", "127.0.0.1:1", "--hq-ca", "/nonexistent/hq-ca.crt", NULL};
  ut_kiosk_opts o2 = {.args = args2, .env = env + 1};
  UT_CHECK(ut_run_opts(db, "expect screen enrol\nexpect state noca\nscreenshot noca\n",
                       ut_now_aligned(), &o2) == 0,
           "missing-CA run");
  puts("offline: ok");
}

int main(int argc, char **argv) {
  if(argc != 4) {
    fprintf(stderr, "usage: test_enrol KIOSK HQ CASE\n");
    return 2;
  }
  ut_kiosk = argv[1];
  hq_bin = argv[2];
  const char *c = argv[3];
  if(!strcmp(c, "hq"))
    t_hq();
  else if(!strcmp(c, "offline"))
    t_offline();
  else {
    fprintf(stderr, "test_enrol: unknown case %s\n", c);
    return 2;
  }
  return 0;
}
