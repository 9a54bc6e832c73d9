/* alerts.c — see alerts.h. */
#include "alerts.h"
#include "hq_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct hq__queued_alert {
  char subject[HQ_ID_MAX], kind[HQ_ID_MAX], message[HQ_TEXT_MAX];
  int64_t seq, at_ms;
} hq_queued_alert;

static int kind_ok(const char *kind) {
  size_t n = strlen(kind);
  return n >= 1 && n < HQ_ID_MAX && strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* One alert to the database, raised at at_ms. */
static sqr_rc write_alert(hq *h, const hq_queued_alert *a) {
  int raised = 0;
  sqr_rc rc = hqdb_alert_once(h->db, a->subject, a->seq, a->kind, a->message, a->at_ms,
                              HQ_ALERT_WINDOW_MS, &raised);
  if(rc)
    log_error("hq", "cannot record a %s alert for %s: %s", a->kind, a->subject, hqdb_errmsg(h->db));
  else if(raised)
    log_warn("hq", "alert %s for %s: %s", a->kind, a->subject, a->message);
  return rc;
}

sqr_rc hq_alert_flush(hq *h) {
  size_t done = 0;
  sqr_rc rc = SQR_OK;
  while(done < h->alert_queued && !(rc = write_alert(h, &h->alert_queue[done])))
    done++;
  if(done) {
    memmove(h->alert_queue, h->alert_queue + done,
            (h->alert_queued - done) * sizeof *h->alert_queue);
    h->alert_queued -= done;
    atomic_store(&h->alerts_waiting, h->alert_queued);
    log_info("hq", "%zu alerts kept during a storage outage written", done);
  }
  return rc;
}

void hq_alert_queue_state(hq *h, uint64_t *waiting, uint64_t *dropped) {
  *waiting = atomic_load(&h->alerts_waiting);
  *dropped = atomic_load(&h->alerts_dropped);
}

/* Keeps a (storage failed) for hq_alert_flush. */
static void keep(hq *h, const hq_queued_alert *a) {
  for(size_t i = 0; i < h->alert_queued; i++) {
    const hq_queued_alert *q = &h->alert_queue[i];
    /* the database would keep only the first of these anyway */
    if(strcmp(q->subject, a->subject) == 0 && strcmp(q->kind, a->kind) == 0 &&
       a->at_ms - q->at_ms < HQ_ALERT_WINDOW_MS)
      return;
  }
  if(!h->alert_queue) h->alert_queue = calloc(HQ_ALERT_QUEUE_MAX, sizeof *h->alert_queue);
  if(!h->alert_queue || h->alert_queued == HQ_ALERT_QUEUE_MAX) {
    atomic_fetch_add(&h->alerts_dropped, 1);
    log_error("hq", "a %s alert for %s dropped: %d alerts already wait for storage", a->kind,
              a->subject, HQ_ALERT_QUEUE_MAX);
    return;
  }
  h->alert_queue[h->alert_queued++] = *a;
  atomic_store(&h->alerts_waiting, h->alert_queued);
}

sqr_rc hq_alert_raise_seq(hq *h, const char *subject, int64_t seq, const char *kind,
                          const char *message) {
  if(!kind || !kind_ok(kind) || !subject || !*subject || strlen(subject) >= HQ_ID_MAX) {
    log_error("hq", "alert refused: bad kind or subject");
    return SQR_EINVAL;
  }
  hq_queued_alert a = {.seq = seq, .at_ms = hq_now_ms()};
  snprintf(a.subject, sizeof a.subject, "%s", subject);
  snprintf(a.kind, sizeof a.kind, "%s", kind);
  snprintf(a.message, sizeof a.message, "%s", message ? message : "");
  /* the ones kept from an outage first, so alerts land in order */
  sqr_rc rc = hq_alert_flush(h);
  if(!rc) rc = write_alert(h, &a);
  if(rc) keep(h, &a);
  return rc;
}

sqr_rc hq_alert_raise(hq *h, const char *subject, const char *kind, const char *message) {
  return hq_alert_raise_seq(h, subject, 0, kind, message);
}
