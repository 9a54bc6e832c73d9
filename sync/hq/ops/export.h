/* export.h — the CRM export (issue 16): a chain's members whose marketing
 * consent is current, with their phone numbers, as CSV or JSON Lines, for
 * the chain's CRM; and the audit records the dashboard lists.
 *
 * Only members with a current marketing consent (consents: given) are in
 * it; everyone else is left out entirely. The export is read a page at a
 * time (keyset pages of HQ_EXPORT_PAGE rows), so a chain's millions of
 * members never sit in memory together; each page's phones are opened
 * (HQ's key at rest) into the caller's buffer, which the caller wipes.
 *
 * Every export is recorded in audit_log before its first row leaves
 * (what: "export_members" and its filters, rows -1) and counted when it
 * is closed. Must never log a phone number or put one anywhere but the
 * caller's buffer.
 */
#ifndef SQR_EXPORT_H
#define SQR_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dynbuf.h"
#include "hq.h"
#include "hqdb_erase.h"
#include "sqr.h"

/* The filters as the caller got them (NULL or "": none). store, brand:
 * ids (1..16 of A-Z 0-9 -); since, until: "YYYY-MM-DD", Shanghai days,
 * both included, on the day the marketing consent was given; format:
 * "csv" (the default) or "jsonl". */
typedef struct hq_export_req {
  const char *store, *brand, *since, *until, *format;
} hq_export_req;

typedef struct hq_export hq_export;

/* Checks the filters (SQR_EINVAL "bad_request" naming the one that is
 * wrong; SQR_ENOTFOUND "unknown_store" for a store HQ does not have),
 * opens the sealed phones still queued (they may be members with
 * consent; SQR_EBUSY "busy" when they cannot all be opened now) and
 * records the export in audit_log under who. Nothing is recorded when it
 * refuses. *out: hq_export_close. */
sqr_rc hq_export_open(hq *h, const hq_export_req *q, const char *who, hq_export **out,
                      hq_err *e) SQR_WARN_UNUSED;

/* "text/csv; charset=utf-8" or "application/jsonl; charset=utf-8". */
const char *hq_export_type(const hq_export *x);

/* Appends the next page to out (the CSV header before the first): up to
 * HQ_EXPORT_PAGE rows. *done once nothing is left (out may still have
 * got rows). Storage errors as hq_fail_storage; SQR_ENOMEM/ETOOBIG from
 * out. */
sqr_rc hq_export_next(hq_export *x, dynbuf *out, int *done, hq_err *e) SQR_WARN_UNUSED;

/* Rows handed out so far. */
int64_t hq_export_rows(const hq_export *x);

/* Frees the export, its rows counted in its audit record. complete:
 * the last page was written out (to stdout, or handed to the web server:
 * a client gone while the last chunk was in flight is not seen), else
 * the record is marked " (cut short)" with the rows sent by then. NULL is
 * fine. */
void hq_export_close(hq_export *x, int complete);

/* ---- the audit log, for the dashboard ------------------------------------------ */

/* The newest max rows of audit_log and of erasure_log, newest first. */
sqr_rc hq_audit_recent(hq *h, size_t max, hq_audit_row *audit, size_t *naudit,
                       hq_erasure_row *erasures, size_t *nerasures, hq_err *e) SQR_WARN_UNUSED;

#endif /* SQR_EXPORT_H */
