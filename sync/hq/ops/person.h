/* person.h — a person's own data at HQ, on request (PIPL art. 45; issue
 * 16): everything HQ holds about a phone number, as JSON, and an audit
 * record of the access.
 *
 * The number is given by the caller (stdin for the command line, a POST
 * body for the admin route), normalised, turned into HQ's phone index and
 * wiped; it never reaches a log, the answer or the audit record.
 */
#ifndef SQR_PERSON_H
#define SQR_PERSON_H

#include "hq.h"
#include "sqr.h"

/* *json (free()): {"found": bool, "first_seen_ms", "stores": [{"store",
 * "member", "events": [{"type", "ts_ms", "kiosk", "seq", "payload"}]}]}
 * with sealed boxes and blind indexes left out of the payloads. who names
 * the asker in the audit log. Sealed phones still waiting for the opener
 * are opened first (they may be this person's); SQR_EBUSY "busy" if they
 * cannot all be. SQR_EINVAL "bad_request" for a malformed number. */
sqr_rc hq_person_data(hq *h, const char *phone, const char *who, char **json,
                      hq_err *e) SQR_WARN_UNUSED;

#endif /* SQR_PERSON_H */
