/* notify.h — the kiosk's word to systemd (storeqr-kiosk.service is
 * Type=notify with WatchdogSec=): READY=1 once the first frame is on the
 * display, WATCHDOG=1 from the main loop, STATUS= lines a person reads in
 * `systemctl status`, STOPPING=1 on the way out. Through libsystemd's
 * sd_notify (the socket in $NOTIFY_SOCKET, abstract names included).
 *
 * Owns no thread and never pings by itself: app.c calls ui_notify_tick from
 * its loop and sleeps no longer than ui_notify_next_ms, so a loop that hangs
 * stops pinging and systemd restarts the kiosk. Outside systemd (no
 * $NOTIFY_SOCKET) every call costs a branch.
 */
#ifndef SQR_UI_NOTIFY_H
#define SQR_UI_NOTIFY_H

#include <stdint.h>

typedef struct ui_notify {
  int enabled;          /* $NOTIFY_SOCKET was set */
  int64_t every_ms;     /* watchdog ping period: half of $WATCHDOG_USEC, 0 = none */
  int64_t next_ping_ms; /* monotonic (real time, never the test clock) */
  int ready_sent, stopping_sent;
  char status[160]; /* the last STATUS= sent */
  int64_t pings;    /* sent, for the debug log */
} ui_notify;

/* Reads the environment systemd set. The watchdog is on only when
 * $WATCHDOG_USEC is set and $WATCHDOG_PID is unset or this process. */
void ui_notify_init(ui_notify *n, int64_t now_ms);
/* READY=1 with the current status; once. */
void ui_notify_ready(ui_notify *n);
/* Pings when due (now_ms real monotonic). */
void ui_notify_tick(ui_notify *n, int64_t now_ms);
/* The next ping (real monotonic ms), or INT64_MAX without a watchdog. */
int64_t ui_notify_next_ms(const ui_notify *n);
/* STATUS=text, sent only when it differs from the last one. */
void ui_notify_status(ui_notify *n, const char *text);
/* STOPPING=1; once. */
void ui_notify_stopping(ui_notify *n);

#endif
