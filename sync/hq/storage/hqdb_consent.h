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

#include <stddef.h>
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

/* The latest withdrawal (at_ms, 0 for none) of any member HQ links to
 * the same phone as (store, member), itself included: a consent taken
 * before it is not current. 0 when HQ has not opened the phone yet. */
sqr_rc hqdb_consent_person_withdrawn(hqdb *db, const char *store, const char *member,
                                     int64_t *at_ms) SQR_WARN_UNUSED;

/* The same person's other members (same phone at HQ, any store), at most
 * max, into out (*n). None when HQ has not opened the phone yet. */
sqr_rc hqdb_consent_others(hqdb *db, const char *store, const char *member, hq_erased_link *out,
                           size_t max, size_t *n) SQR_WARN_UNUSED;

/* *given 1 and version (size HQ_ID_MAX) when the current state is a
 * consent not withdrawn since by the person at any store; 0 otherwise
 * (withdrawn, or never). *at_ms: the row's time (0: no row). */
sqr_rc hqdb_consent_get(hqdb *db, const char *store, const char *member, int *given, char *version,
                        int64_t *at_ms) SQR_WARN_UNUSED;

/* ---- the CRM export (ops/export.h) ---------------------------------------- */

#define HQ_EXPORT_PAGE     1000 /* rows a page, at most */
#define HQ_PHONE_ENC_MAX   128  /* nonce | ciphertext | tag of a phone at rest */
#define HQ_EXPORT_TAGS_MAX 1200 /* store_members.tags (hqdb_feed.h's HQ_FEED_TAGS_MAX) */

/* Which consents: store, brand "" for any; [since_ms, until_ms) on the
 * time the marketing consent was given. */
typedef struct hq_export_filter {
  const char *store, *brand;
  int64_t since_ms, until_ms;
} hq_export_filter;

/* A store's member with a current marketing consent, and what the export
 * shows of it. The phone stays encrypted here (the operations layer
 * opens it); the sign-up's details come from store_members ("" and
 * joined_ms = the link's time for a member the feed does not share). */
typedef struct hq_export_row {
  char store[HQ_ID_MAX], member[HQ_ID_MAX];
  char version[HQ_ID_MAX]; /* the marketing consent's */
  int64_t consent_ms;      /* when it was given */
  int64_t joined_ms;
  char service[HQ_ID_MAX]; /* the service consent's version */
  char staff[HQ_ID_MAX], group[HQ_ID_MAX];
  char tags[HQ_EXPORT_TAGS_MAX]; /* a JSON array of tag ids */
  uint8_t index[32];
  uint8_t enc[HQ_PHONE_ENC_MAX];
  size_t enclen; /* 0: no phone HQ could have stored (skip the row) */
} hq_export_row;

/* Up to max (<= HQ_EXPORT_PAGE) rows after (after_store, after_member)
 * ("", "" for the first page) in (store, member) order, into out (*n):
 * keyset pages, so a chain's millions of rows are read a page at a time
 * and a page costs the same wherever it starts; the last row is where
 * the next page starts. Members with a consent but no phone at HQ yet (a
 * sealed phone not opened) are not rows. */
sqr_rc hqdb_consent_export(hqdb *db, const hq_export_filter *f, const char *after_store,
                           const char *after_member, size_t max, hq_export_row *out,
                           size_t *n) SQR_WARN_UNUSED;

#endif /* SQR_HQDB_CONSENT_H */
