/* alerts.c — see alerts.h. */
#include "alerts.h"
#include "hq_int.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static int kind_ok(const char *kind) {
  size_t n = strlen(kind);
  return n >= 1 && n < HQ_ID_MAX && strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

sqr_rc hq_alert_raise_seq(hq *h, const char *subject, int64_t seq, const char *kind,
                          const char *message) {
  if(!kind || !kind_ok(kind) || !subject || !*subject || strlen(subject) >= HQ_ID_MAX) {
    log_error("hq", "alert refused: bad kind or subject");
    return SQR_EINVAL;
  }
  char msg[HQ_TEXT_MAX];
  snprintf(msg, sizeof msg, "%s", message ? message : "");
  int raised = 0;
  sqr_rc rc =
      hqdb_alert_once(h->db, subject, seq, kind, msg, hq_now_ms(), HQ_ALERT_WINDOW_MS, &raised);
  if(rc)
    log_error("hq", "cannot record a %s alert for %s: %s", kind, subject, hqdb_errmsg(h->db));
  else if(raised)
    log_warn("hq", "alert %s for %s: %s", kind, subject, msg);
  return rc;
}

sqr_rc hq_alert_raise(hq *h, const char *subject, const char *kind, const char *message) {
  return hq_alert_raise_seq(h, subject, 0, kind, message);
}
