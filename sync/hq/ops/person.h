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

/* Withdraws the person's marketing consent at every store they are a
 * member of (a request that reached HQ by phone, mail or in person):
 * each store member's consent recorded withdrawn ("hq WHO"), an entry in
 * each store's feed so its kiosks know, the access audited
 * ("member_withdraw"). *members: how many store members it reached.
 * SQR_ENOTFOUND "not_found" when the number is no member (nothing
 * changed, still audited); SQR_EINVAL "bad_request" for a malformed
 * number; SQR_EBUSY "busy" as hq_person_data. */
sqr_rc hq_person_withdraw(hq *h, const char *phone, const char *who, int *members,
                          hq_err *e) SQR_WARN_UNUSED;

#endif /* SQR_PERSON_H */
