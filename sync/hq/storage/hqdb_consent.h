/* hqdb_consent.h — marketing consent at HQ (docs/PRIVACY.md, issue 16).
 *
 * The service consent travels in the sign-up event (its policy version);
 * the marketing consent is optional and separate: each store's member has
 * at most one current state here, the latest marketing_consent event by
 * the time it was taken (a kiosk's, or HQ's own when a withdrawal reached
 * HQ some other way). The events table keeps the history; this table is
 * what the CRM export reads ("current" = given, not withdrawn since).
 */
#ifndef SQR_HQDB_CONSENT_H
#define SQR_HQDB_CONSENT_H

#include <stdint.h>

#include "hqdb.h"
#include "hqdb_erase.h"
#include "sqr.h"

/* In the caller's transaction: (store, member)'s marketing consent is
 * version (given) or "" (withdrawn) as of at_ms, unless a later state is
 * already recorded (*changed 0 then). source: "kiosk STORE/N" or
 * "hq NAME". */
sqr_rc hqdb_consent_set(hqdb *db, const char *store, const char *member, const char *version,
                        int64_t at_ms, const char *source, int *changed) SQR_WARN_UNUSED;

/* The same person's other members (same phone at HQ, any store), at most
 * max, into out (*n). None when HQ has not opened the phone yet. */
sqr_rc hqdb_consent_others(hqdb *db, const char *store, const char *member, hq_erased_link *out,
                           size_t max, size_t *n) SQR_WARN_UNUSED;

/* *given 1 and version (size HQ_ID_MAX) when the current state is a
 * consent; 0 otherwise (withdrawn or never). */
sqr_rc hqdb_consent_get(hqdb *db, const char *store, const char *member, int *given, char *version,
                        int64_t *at_ms) SQR_WARN_UNUSED;

#endif /* SQR_HQDB_CONSENT_H */
