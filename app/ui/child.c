/* child.c — the kiosk's one helper process at a time: storeqr-sync, for
 * "sync now" on the manager screen and for enrolment on the first-boot
 * screen. The kiosk never touches the network itself (DESIGN "Processes"),
 * and never waits on the helper: the main loop polls it (ui_child_poll)
 * every 100 ms while it runs, reading what it prints through a
 * non-blocking pipe and reaping it with WNOHANG.
 *
 * Owns the pipe and the pid. What the helper printed is kept (the last
 * UI_CHILD_OUT_MAX bytes) because HQ's refusal is in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "ui.h"

extern char **environ;

int ui_child_find_sync(char *out, size_t outlen) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if(n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if(slash) *slash = '\0';
    /* Installed side by side, or the build tree (app/ui -> sync/client). */
    const char *rel[] = {"/storeqr-sync", "/../../sync/client/storeqr-sync"};
    for(size_t i = 0; i < SQR_ARRAY_LEN(rel); i++) {
      if(snprintf(out, outlen, "%s%s", exe, rel[i]) >= (int)outlen) continue;
      if(access(out, X_OK) == 0) return 1;
    }
  }
  const char *path = getenv("PATH");
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path ? path : "/usr/bin:/bin");
  for(char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    if(snprintf(out, outlen, "%s/storeqr-sync", d) >= (int)outlen) continue;
    if(access(out, X_OK) == 0) return 1;
  }
  return 0;
}

sqr_rc ui_child_start(ui_app *app, ui_child_kind kind, char *const argv[], int64_t timeout_ms,
                      int64_t now_ms) {
  ui_child *c = &app->child;
  if(c->pid > 0) return SQR_EBUSY;
  ui_child_release(app);
  int p[2];
  /* One thread: nothing can fork between pipe() and the FD_CLOEXEC. */
  if(pipe(p) != 0) {
    snprintf(c->out, sizeof c->out, "pipe: %s", strerror(errno));
    c->outlen = strlen(c->out);
    return SQR_EIO;
  }
  fcntl(p[0], F_SETFD, FD_CLOEXEC);
  fcntl(p[1], F_SETFD, FD_CLOEXEC);
  /* stdin from /dev/null; stdout and stderr into the pipe (dup2 clears
   * close-on-exec on the copies, every other descriptor of ours closes). */
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_adddup2(&fa, p[1], 2);
  pid_t pid;
  int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  if(e) {
    close(p[0]);
    snprintf(c->out, sizeof c->out, "%s: %s", argv[0], strerror(e));
    c->outlen = strlen(c->out);
    return SQR_EIO;
  }
  /* Never block the loop on a read. */
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
  c->kind = kind;
  c->pid = (int)pid;
  c->fd = p[0];
  c->started_ms = now_ms;
  c->deadline_ms = timeout_ms > 0 ? now_ms + timeout_ms : 0;
  log_info("ui", "started %s (pid %d)", kind == UI_CHILD_ENROL ? "enrolment" : "sync", c->pid);
  return SQR_OK;
}

/* Appends what the pipe holds, keeping the newest bytes. */
static void drain(ui_child *c) {
  char buf[UI_CHILD_OUT_MAX / 2];
  while(c->fd >= 0) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if(n < 0 && errno == EINTR) continue;
    if(n <= 0) {
      if(n == 0 || errno != EAGAIN) {
        close(c->fd);
        c->fd = -1;
      }
      return;
    }
    size_t k = (size_t)n; /* < sizeof buf < sizeof c->out */
    if(c->outlen + k >= sizeof c->out) {
      size_t drop = c->outlen + k - (sizeof c->out - 1);
      memmove(c->out, c->out + drop, c->outlen - drop);
      c->outlen -= drop;
    }
    memcpy(c->out + c->outlen, buf, k);
    c->outlen += k;
    c->out[c->outlen] = '\0';
  }
}

int ui_child_poll(ui_app *app, int64_t now_ms) {
  ui_child *c = &app->child;
  if(c->pid <= 0) return 0;
  drain(c);
  if(c->deadline_ms && now_ms >= c->deadline_ms && !c->timed_out) {
    /* It hangs (HQ accepted the connection and went silent): give up. */
    log_warn("ui", "helper pid %d ran past its time; killing it", c->pid);
    c->timed_out = 1;
    kill(c->pid, SIGKILL);
  }
  int status;
  pid_t r = waitpid(c->pid, &status, WNOHANG);
  if(r != c->pid) return 0;
  drain(c); /* what it wrote just before exiting */
  if(c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
  c->pid = 0;
  c->ended = 1;
  c->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  log_info("ui", "%s helper ended: %s %d", c->kind == UI_CHILD_ENROL ? "enrolment" : "sync",
           WIFEXITED(status) ? "exit" : "signal",
           WIFEXITED(status)     ? WEXITSTATUS(status)
           : WIFSIGNALED(status) ? WTERMSIG(status)
                                 : 0);
  app->dirty = 1;
  return 1;
}

void ui_child_release(ui_app *app) {
  ui_child *c = &app->child;
  if(c->pid > 0) return; /* still running: the result is not in yet */
  if(c->fd >= 0) close(c->fd);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

const char *ui_child_last_line(const ui_app *app, char *buf, size_t n) {
  const ui_child *c = &app->child;
  size_t end = c->outlen;
  while(end > 0 && (c->out[end - 1] == '\n' || c->out[end - 1] == '\r' || c->out[end - 1] == ' '))
    end--;
  size_t start = end;
  while(start > 0 && c->out[start - 1] != '\n')
    start--;
  size_t len = end - start;
  if(len >= n) len = n - 1;
  memcpy(buf, c->out + start, len);
  buf[len] = '\0';
  return buf;
}
