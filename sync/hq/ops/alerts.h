/* alerts.h — the alerts people see (the dashboard's "tamper and security
 * alerts", /metrics by kind), raised by any operation: a chain that does
 * not verify (ingest), a revoked kiosk's certificate (enroll), a kiosk's
 * clock jump (ingest), a retired token (the resolver), ...
 *
 * One alert per subject and kind per hour, however many HQ processes see
 * the condition: the decision is one atomic statement in the shared
 * database (hqdb_alert_once), never a check in this process's memory.
 * Never puts a phone number, a token or key material in a message.
 */
#ifndef SQR_HQ_ALERTS_H
#define SQR_HQ_ALERTS_H

#include <stdint.h>
#include "hq.h"

#define HQ_ALERT_WINDOW_MS (3600LL * 1000)
/* Alerts kept in memory while storage fails (hq_alert_raise), ~330
 * bytes each; past it an alert is dropped and counted. */
#define HQ_ALERT_QUEUE_MAX 256

/* Raises an alert of kind (a free name, 1..32 of a-z, 0-9 and _; shown
 * as it is and used as the metric label) about subject: a kiosk id
 * ("STORE/N") or a store id. message says what happened, for people
 * (at most HQ_TEXT_MAX - 1 bytes kept). Nothing is written when one of
 * the same kind was raised for the subject within HQ_ALERT_WINDOW_MS.
 * SQR_EINVAL for a bad kind or an empty subject; storage errors, which
 * it logs itself. An alert storage refused is kept in memory (at most
 * HQ_ALERT_QUEUE_MAX; one per subject and kind an hour, as the database
 * would) and written, with the time it was raised, before the next
 * alert or by hq_alert_flush; one past the bound is dropped and counted
 * (hq_alert_queue_state). Alerts queued are lost only if the process
 * stops before storage is back (hq_close logs how many). Not
 * warn-unused: an alert that could not be written never changes what
 * the caller answers (a refusal stays a refusal), so callers may ignore
 * the result. */
sqr_rc hq_alert_raise(hq *h, const char *subject, const char *kind, const char *message);
/* The same about an event: seq is stored with the alert (0: none). */
sqr_rc hq_alert_raise_seq(hq *h, const char *subject, int64_t seq, const char *kind,
                          const char *message);
/* Writes the alerts kept while storage failed, oldest first; stops at
 * the first that fails (they stay). SQR_OK when none is left. Call with
 * the storage lock, like every hq call (the resolver's flusher does,
 * every second). */
sqr_rc hq_alert_flush(hq *h);
/* Alerts waiting in memory for storage, and alerts dropped since start
 * (the queue was full). Lock-free: for /metrics. */
void hq_alert_queue_state(hq *h, uint64_t *waiting, uint64_t *dropped);

#endif
