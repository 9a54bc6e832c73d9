/* manage.h — what HQ's operators manage: stores, groups, kiosks'
 * enrolment codes and revocation, erasure requests, and the counts that
 * show a store's state. Typed requests in, typed results out; the
 * /v1/admin/ routes (web/admin.c) and the subcommands (main.c) both call
 * these, so they refuse the same things with the same words.
 *
 * Errors (hq_err codes): SQR_EINVAL "bad_request" (a field, named in the
 * message); SQR_ENOTFOUND "unknown_store" / "unknown_kiosk"; SQR_EEXISTS
 * "exists"; storage failures "storage"; "internal" otherwise.
 */
#ifndef SQR_HQ_MANAGE_H
#define SQR_HQ_MANAGE_H

#include <stdint.h>
#include "hq.h"
#include "hqdb.h"

/* A new store. city and brand may be NULL or "". */
typedef struct hq_store_req {
  const char *id, *name, *city, *brand;
  int has_lat, has_lon;
  double lat, lon;
} hq_store_req;
/* out: the stored store (config_version 1). */
sqr_rc hq_store_add(hq *h, const hq_store_req *req, hq_store *out, hq_err *e) SQR_WARN_UNUSED;
/* A store by id ("unknown_store" for a malformed or unknown id,
 * "bad_request" for none). */
sqr_rc hq_store_find(hq *h, const char *id, hq_store *out, hq_err *e) SQR_WARN_UNUSED;

/* A one-time enrolment code for (store, kiosk), valid ttl_s seconds
 * (-86400..30 days; negative only for tests of expiry). */
typedef struct hq_code_req {
  const char *store;
  int64_t kiosk, ttl_s;
} hq_code_req;
typedef struct hq_code_out {
  char code[20]; /* XXXX-XXXX-XXXX-XXXX, as a person types it */
  char store[HQ_ID_MAX];
  int kiosk;
  int64_t expires_ms;
  char qr_text[600]; /* storeqr-enroll:URL#CODE#PIN of hq-ca.crt */
} hq_code_out;
sqr_rc hq_code_new(hq *h, const hq_code_req *req, hq_code_out *out, hq_err *e) SQR_WARN_UNUSED;

/* Revokes an incarnation of (store, kiosk): incarnation 0 means the
 * newest. Its certificate is refused and every key version of it retired
 * at once (tokens of every window, coupons HQ never heard of), in every
 * HQ process within 2 s. kiosk_id gets the incarnation's id. */
sqr_rc hq_kiosk_revoke(hq *h, const char *sid, int64_t kiosk, int64_t incarnation,
                       char kiosk_id[HQ_ID_MAX], hq_err *e) SQR_WARN_UNUSED;

/* Adds or updates a group. For an update, every field left NULL (or
 * has_* 0) keeps its stored value; a new group needs a link and gets kind
 * "store", capacity 200, no expiry, status "open". */
typedef struct hq_group_req {
  const char *store, *id;
  const char *kind, *name, *tag, *link, *status;
  int has_capacity, has_expires_at;
  int64_t capacity, expires_at;
} hq_group_req;
typedef struct hq_group_out {
  char id[HQ_ID_MAX];
  int created;
  int64_t config_version;
  char warning[256]; /* "" or why the store's document no longer validates */
} hq_group_out;
sqr_rc hq_group_set(hq *h, const hq_group_req *req, hq_group_out *out, hq_err *e) SQR_WARN_UNUSED;

/* Asks the store's kiosks to erase a member (member: its id, 32 hex
 * digits in any case, or the 64 of an id from before stable ids, whose
 * first 32 are the id); member_out gets the id in lower case. */
sqr_rc hq_erasure_add(hq *h, const char *sid, const char *member, char member_out[65],
                      hq_err *e) SQR_WARN_UNUSED;

/* A store's counts; free with hq_counts_free. */
sqr_rc hq_counts_get(hq *h, const char *sid, hq_counts *out, hq_err *e) SQR_WARN_UNUSED;
void hq_counts_free(hq_counts *c);

#endif
