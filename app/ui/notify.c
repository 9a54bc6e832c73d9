/* notify.c — see notify.h. A send that fails is logged at debug level and
 * otherwise ignored: systemd missing one ping or status line is harmless,
 * and the kiosk must go on showing its code either way. */
#include "notify.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

static void notify_send(ui_notify *n, const char *msg) {
  if(!n->enabled) return;
  int r = sd_notify(0, msg);
  if(r < 0) log_debug("ui", "sd_notify failed: %s", strerror(-r));
}

void ui_notify_init(ui_notify *n, int64_t now_ms) {
  memset(n, 0, sizeof *n);
  const char *sock = getenv("NOTIFY_SOCKET");
  n->enabled = sock && *sock;
  uint64_t usec = 0;
  /* sd_watchdog_enabled compares $WATCHDOG_PID with getpid(): a process
   * that merely inherited the variables stays quiet. */
  if(n->enabled && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    /* Half the interval, as sd_watchdog_enabled(3) advises: one late
     * wake-up must not cost the kiosk a restart. */
    n->every_ms = (int64_t)(usec / 2000);
    if(n->every_ms < 1) n->every_ms = 1;
    n->next_ping_ms = now_ms;
  }
  if(n->enabled)
    log_info("ui", "systemd notify socket set; watchdog ping every %lld ms%s",
             (long long)n->every_ms, n->every_ms ? "" : " (no watchdog)");
}

void ui_notify_ready(ui_notify *n) {
  if(n->ready_sent) return;
  n->ready_sent = 1;
  char msg[200];
  snprintf(msg, sizeof msg, "READY=1%s%s", n->status[0] ? "\nSTATUS=" : "", n->status);
  notify_send(n, msg);
}

void ui_notify_tick(ui_notify *n, int64_t now_ms) {
  if(!n->every_ms || now_ms < n->next_ping_ms) return;
  notify_send(n, "WATCHDOG=1");
  n->pings++;
  /* From now, not from the missed deadline: a late loop does not burst. */
  n->next_ping_ms = now_ms + n->every_ms;
}

int64_t ui_notify_next_ms(const ui_notify *n) {
  return n->every_ms ? n->next_ping_ms : INT64_MAX;
}

void ui_notify_status(ui_notify *n, const char *text) {
  if(strcmp(n->status, text) == 0) return;
  snprintf(n->status, sizeof n->status, "%s", text);
  /* The journal keeps what systemctl status shows only for a moment. */
  if(n->enabled)
    log_info("ui", "status: %s", n->status);
  else
    log_debug("ui", "status: %s", n->status);
  char msg[200];
  snprintf(msg, sizeof msg, "STATUS=%s", n->status);
  notify_send(n, msg);
}

void ui_notify_stopping(ui_notify *n) {
  if(n->stopping_sent) return;
  n->stopping_sent = 1;
  notify_send(n, "STOPPING=1");
}
