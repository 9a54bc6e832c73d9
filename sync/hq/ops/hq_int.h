/* hq_int.h — the body of `hq`, shared by the operations layer's .c files
 * only (the web layer and main.c see hq.h's opaque type). */
#ifndef SQR_HQ_INT_H
#define SQR_HQ_INT_H

#include <stdatomic.h>

#include "hq.h"
#include "pki.h"
#include "seal.h"
#include "seal_fast.h"

#define HQ_MAX_LISTENERS 8

typedef struct hq_listener {
  void (*fn)(void *arg, hq_change change, const char *store);
  void *arg;
} hq_listener;

struct hq {
  char dir[512];
  hqdb *db;
  pki_ca *device_ca;
  char *hq_ca_pem;
  char *template_json;    /* dir/store-template.json, or NULL (built-in) */
  int group_reserve;      /* the template's group_policy: the same for every */
  int64_t group_margin_s; /* store, fixed for the process (configdoc.c) */
  uint8_t master[32];
  uint8_t pii_key[32];   /* AES-256-GCM key for phones at rest */
  uint8_t index_key[32]; /* HMAC key of HQ's phone index */
  uint8_t seal_pub[SEAL_PUB_LEN];
  uint8_t seal_priv[SEAL_PRIV_LEN];
  seal_fast *opener; /* opens sealed phones (nettle), from seal_priv */
  int seal_later;    /* sealjob.h: ingest queues sealed phones */
  /* The queue's length as the opener last counted it (hq_seal_count);
   * past HQ_SEAL_BACKLOG_MAX ingest opens boxes itself. */
  _Atomic int64_t seal_backlog;
  int64_t seal_backlog_max; /* HQ_SEAL_BACKLOG_MAX, or SQR_HQ_SEAL_BACKLOG_MAX (tests) */
  /* The seal_open job as this process last leased or advanced it: while
   * well within the lease, a slice needs no lease transaction of its own
   * (the advance renews it; its compare-and-set still fences). Guarded
   * like the storage handle. */
  int64_t seal_cursor, seal_lease_until_ms;
  /* The store template's retention section (hq.c checks it at open):
   * every store's document carries it (configdoc.c), and HQ's retention
   * job erases members inactive for member_days (retention.h). */
  int retain_member_days, retain_event_days;
  uint8_t admin_hash[32];
  char url[HQ_KIOSK_URL_MAX];             /* https://HOST[:PORT] kiosks reach us by */
  char resolver_host[HQ_PUBLIC_HOST_MAX]; /* HOST[:PORT] phones are sent to */
  char kiosk_host[HQ_KIOSK_URL_MAX];      /* url's HOST when configured, else "" */
  char public_host[HQ_PUBLIC_HOST_MAX];   /* resolver_host's HOST when configured, else "" */
  int key_rotate_days;                    /* keys.h: 0 = never */
  hq_listener listeners[HQ_MAX_LISTENERS];
  size_t nlisteners;
  /* Alerts raised while storage failed, oldest first (alerts.c): written
   * before the next alert, or by hq_alert_flush. Guarded like h->db (the
   * caller's storage lock); the counters are read by /metrics too. */
  struct hq__queued_alert *alert_queue; /* HQ_ALERT_QUEUE_MAX, allocated at the first */
  size_t alert_queued;
  _Atomic uint64_t alerts_dropped, alerts_waiting;
};

/* The refusal for a failed storage call rc, without logging: "unavailable"
 * for SQR_ENET (the database cannot be reached), else "storage". */
sqr_rc hq__fail_db(hq_err *e, sqr_rc rc);

/* Opens one sign-up's sealed phone (base64 box), indexes and encrypts it,
 * and upserts the member and the store's link to it, in the caller's
 * transaction (sealjob.c; ingest and the background opener). SQR_EAUTH
 * for a box HQ cannot open (nothing written); storage errors as they come.
 * open_ns, when not NULL, gets the opening time added (benchmarks). */
sqr_rc hq__seal_link(hq *h, const char *store, const char *member, const char *sealed_b64,
                     int64_t now, int64_t *open_ns) SQR_WARN_UNUSED;

/* Opens every sealed phone queued before now (sealjob.c), so a sign-up
 * not linked yet is found: a few slices, then SQR_EBUSY rather than
 * answer without it (a person's data, the CRM export). */
sqr_rc hq__seal_drain(hq *h) SQR_WARN_UNUSED;

/* A member's phone as stored (members.phone_enc: nonce | ciphertext |
 * tag under the PII key, AAD = its index) into out (NUL-terminated; the
 * caller wipes it). SQR_ECRYPTO when it does not open. */
sqr_rc hq__phone_open(const hq *h, const uint8_t index[32], const uint8_t *enc, size_t len,
                      char *out, size_t size) SQR_WARN_UNUSED;

/* What one upload adds to its store's feed (storefeed.h): ingest hands
 * it each new event of a batch, then hq__feed_end writes it all in
 * ingest's transaction. */
typedef struct hq__feed {
  const char *store, *kiosk_id;
  struct hq_feed_member *members; /* sign-ups that carry a blind index */
  size_t nmembers, capmembers;
  struct hq__checkin_row *checkins;
  size_t ncheckins, capcheckins;
  char (*erased)[33]; /* member ids the kiosk erased */
  size_t nerased, caperased;
  struct hq__marketing_row *marketing; /* marketing consents that changed */
  size_t nmarketing, capmarketing;
  int locked; /* hq__feed_begin took the store's head */
  int64_t head;
} hq__feed;

struct cJSON;
struct proto_event;

typedef struct hq__marketing_row {
  char member[33];
  char version[HQ_ID_MAX]; /* "" withdrawn */
  int64_t ts_ms;
  int from_hq; /* HQ's doing (origin "hq"), not the uploading kiosk's */
} hq__marketing_row;

typedef struct hq__checkin_row {
  char member[33];
  int64_t day, points, streak, ts_ms;
} hq__checkin_row;

/* The kiosk's own print of a check-in (member.c), read without a JSON
 * parser: 1 and c filled (ts_ms aside), or 0 for any other text. */
int hq__checkin_text(const char *s, hq__checkin_row *c);

void hq__feed_init(hq__feed *f, const char *store, const char *kiosk_id);
/* A sign-up's payload as ingest parsed it (a cJSON object), or NULL. */
sqr_rc hq__feed_signup(hq__feed *f, const struct proto_event *ev,
                       const struct cJSON *payload) SQR_WARN_UNUSED;
sqr_rc hq__feed_checkin(hq__feed *f, const struct proto_event *ev) SQR_WARN_UNUSED;
sqr_rc hq__feed_erase(hq__feed *f, const char *member) SQR_WARN_UNUSED;
/* A member's marketing consent changed (version, "" withdrawn, at ts_ms):
 * an entry for the store's other kiosks, and for the uploading kiosk too
 * when from_hq (HQ applied a withdrawal to another of the person's
 * members, which that kiosk has not seen). */
sqr_rc hq__feed_marketing(hq__feed *f, const char *member, const char *version, int64_t ts_ms,
                          int from_hq) SQR_WARN_UNUSED;
/* Takes the store's feed head for ingest's transaction, before anything
 * else of the store is written: one lock order (feed head, then the
 * store's row) for every writer, so two uploads or an upload and an
 * erasure never wait on each other in a circle. */
sqr_rc hq__feed_begin(hq *h, hq__feed *f) SQR_WARN_UNUSED;
/* Writes what was collected, in ingest's transaction. */
sqr_rc hq__feed_end(hq *h, hq__feed *f) SQR_WARN_UNUSED;
void hq__feed_free(hq__feed *f);
/* An erasure HQ asked for: the member leaves the store's feed and an
 * erase entry goes to its kiosks, in the caller's transaction, before it
 * writes the store's row (hq__feed_begin's lock order). */
sqr_rc hq__feed_erase_now(hq *h, const char *store, const char *member) SQR_WARN_UNUSED;
/* A marketing consent HQ changed at a store other than the upload's (or
 * without one): its entry, in the caller's transaction, in the same lock
 * order. */
sqr_rc hq__feed_marketing_now(hq *h, const char *store, const char *member, const char *version,
                              int64_t ts_ms) SQR_WARN_UNUSED;

/* Withdraws (store, member)'s marketing consent as of at_ms (why: the
 * source recorded) unless a later state is recorded (*changed 0): the
 * store's feed head locked first, then the row, and an entry for all the
 * store's kiosks. In the caller's transaction; feed as below. */
sqr_rc hq__consent_withdraw(hq *h, const char *store, const char *member, int64_t at_ms,
                            const char *why, hq__feed *feed, int *changed) SQR_WARN_UNUSED;

/* Records a marketing consent state of (store, member) in the caller's
 * transaction (consent.c): version or "" (withdrawn) as of at_ms, unless
 * a later state is recorded or (a consent) the person withdrew later at
 * any store; a withdrawal reaches the same person at every store (their
 * other members are withdrawn too, with an entry in each store's feed). feed: the upload's
 * collector for its own store, or NULL. *changed: the state of (store, member) moved. */
sqr_rc hq__consent_record(hq *h, const char *store, const char *member, const char *version,
                          int64_t at_ms, const char *source, hq__feed *feed,
                          int *changed) SQR_WARN_UNUSED;

/* Erases the person behind a store's member at HQ (erase.c, hqdb_erase.h):
 * their member row and encrypted phone, every store's link to them, the
 * sealed phone and blind index in every stored sign-up event of theirs
 * (redacted: the chain still verifies), a record kept in erasure_log
 * (reason, asked_by). The same phone at other stores is erased there too:
 * an erasure request and an erase entry in each store's feed (feed: the
 * collector of the upload in progress, for its own store; else NULL). In
 * the caller's transaction; *erased set (when not NULL) so the caller
 * runs hq__scrub after its commit. */
sqr_rc hq__erase_person(hq *h, const char *store, const char *member, const char *reason,
                        const char *asked_by, hq__feed *feed, int *erased) SQR_WARN_UNUSED;
/* The variant for one store's member, not the person (retention.h): its
 * link, queued box and consent state, the sealed phone and blind index in
 * its stored sign-ups, an erase entry in the store's feed and an erasure
 * request for its kiosks, a record in erasure_log; the person's member
 * row only when no other link to the phone is left (*person_gone). In the
 * caller's transaction, which holds the store's feed head first
 * (hq__feed_begin's lock order); hq__scrub after the commit. */
sqr_rc hq__erase_member(hq *h, const char *store, const char *member, const char *reason,
                        const char *asked_by, int64_t now_ms, int *person_gone) SQR_WARN_UNUSED;
/* After the commit of erasures: their bytes leave the database files. */
void hq__scrub(hq *h);

/* Tells every listener (hq_subscribe) of a change. */
void hq__notify(hq *h, hq_change change, const char *store);

#endif
