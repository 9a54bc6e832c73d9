/* hqdb_erase.h — erasing a person at HQ (docs/PRIVACY.md, issue 16): the
 * member row and its encrypted phone, the links of every store to it,
 * the sealed boxes in stored events, and the bytes left behind in the
 * database files.
 *
 * HQ's member is one per phone across stores (members, keyed by HQ's
 * phone index); each store names it by its own member id (member_links).
 * Erasing one store's member erases the person: every store linked to
 * the same phone index. What stays is a record that an erasure happened
 * (erasure_log: store, member id, time, reason, who asked), never a
 * phone, an index or a box.
 */
#ifndef SQR_HQDB_ERASE_H
#define SQR_HQDB_ERASE_H

#include <stddef.h>
#include <stdint.h>

#include "hqdb.h"
#include "sqr.h"

#define HQ_ERASE_LINKS_MAX 64 /* stores one phone is a member of, at most handled */

typedef struct hq_erased_link {
  char store[HQ_ID_MAX];
  char member[HQ_ID_MAX];
} hq_erased_link;

/* In the caller's transaction: the person behind (store, member): every
 * (store, member) linked to the same phone (at least the one given) into
 * out (*n of them); the member row and the links deleted, queued sealed
 * boxes of those members dropped, and each erasure logged. */
sqr_rc hqdb_erase_person(hqdb *db, const char *store, const char *member, int64_t now_ms,
                         const char *reason, const char *asked_by, hq_erased_link *out,
                         size_t *n) SQR_WARN_UNUSED;

/* In the caller's transaction: one store's member only, not the person
 * (retention: inactivity at one store says nothing of another). The
 * link, its queued box and consent state are dropped and the erasure
 * logged; the member row (encrypted phone) goes only when no link to
 * the same phone is left (*person_gone). */
sqr_rc hqdb_erase_member(hqdb *db, const char *store, const char *member, int64_t now_ms,
                         const char *reason, const char *asked_by,
                         int *person_gone) SQR_WARN_UNUSED;

/* Replaces an event's payload by its redacted form and marks it redacted
 * (its body_hash stays: the chain still verifies). */
sqr_rc hqdb_event_redact(hqdb *db, const char *kiosk, int64_t seq,
                         const char *payload) SQR_WARN_UNUSED;

/* Outside any transaction, after erasures committed: the bytes they left
 * in the database files go. SQLite (secure_delete is on): the WAL
 * checkpointed and truncated. PostgreSQL: VACUUM of the tables erasures
 * touch (dead row versions keep their bytes until then; its WAL and
 * backups keep them for as long as they are kept: docs/PRIVACY.md). */
sqr_rc hqdb_scrub(hqdb *db) SQR_WARN_UNUSED;

/* ---- a person's own data (and the audit of every access) ------------- */

/* The person with HQ's phone index: *found, when HQ first knew them, and
 * every store's member id for them (at most HQ_ERASE_LINKS_MAX). */
sqr_rc hqdb_person(hqdb *db, const uint8_t index[32], int *found, int64_t *created_ms,
                   hq_erased_link *out, size_t *n) SQR_WARN_UNUSED;

typedef struct hq_member_event {
  char kiosk[HQ_ID_MAX];
  int64_t seq;
  char type[HQ_ID_MAX];
  int64_t ts_ms;
  char *payload; /* owned */
} hq_member_event;

/* Up to max of the store's events that name member, oldest first, into
 * a new array (hq_member_events_free). */
sqr_rc hqdb_member_events(hqdb *db, const char *store, const char *member, size_t max,
                          hq_member_event **out, size_t *n) SQR_WARN_UNUSED;
void hq_member_events_free(hq_member_event *ev, size_t n);

/* Records an access to personal data or an export (its own transaction):
 * who (an admin name, "cli", "admin-token"), what ("member_show", ...),
 * how many rows it returned. */
sqr_rc hqdb_audit(hqdb *db, int64_t at_ms, const char *who, const char *what,
                  int64_t rows) SQR_WARN_UNUSED;

/* Sets the rows of the audit record (at_ms, who, what) written with rows
 * -1 (its own transaction): an export is recorded before its first row
 * leaves, and counted when it ends; one cut short (!complete) keeps the
 * rows it sent and says " (cut short)" after its what. */
sqr_rc hqdb_audit_rows(hqdb *db, int64_t at_ms, const char *who, const char *what, int64_t rows,
                       int complete) SQR_WARN_UNUSED;

#define HQ_AUDIT_WHAT_MAX 256

typedef struct hq_audit_row {
  int64_t at_ms;
  char who[HQ_ID_MAX * 2];
  char what[HQ_AUDIT_WHAT_MAX];
  int64_t rows; /* -1: an export still running, or cut short before it was counted */
} hq_audit_row;

typedef struct hq_erasure_row {
  int64_t at_ms;
  char store[HQ_ID_MAX], member[HQ_ID_MAX];
  char reason[HQ_ID_MAX * 2], asked_by[HQ_ID_MAX * 2];
} hq_erasure_row;

/* The newest max rows of audit_log / erasure_log, newest first. */
sqr_rc hqdb_audit_recent(hqdb *db, size_t max, hq_audit_row *out, size_t *n) SQR_WARN_UNUSED;
sqr_rc hqdb_erasures_recent(hqdb *db, size_t max, hq_erasure_row *out, size_t *n) SQR_WARN_UNUSED;

#endif /* SQR_HQDB_ERASE_H */
