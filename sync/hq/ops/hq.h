/* hq.h — HQ's operations layer: what `serve` and every subcommand load
 * from HQ's directory, and the small things every operation shares.
 *
 * Owns the opaque `hq`: the master key and the keys derived from it
 * (per-store keys, the PII key, the phone index key), the seal key pair,
 * the device CA, the admin token hash, the storage handle, and the two
 * names kiosks reach HQ by. Operations (manage.h, configdoc.h, enroll.h,
 * ingest.h, release.h, auth.h, stats.h, scan.h) take typed requests and
 * give typed results; a refusal is an sqr_rc plus an hq_err that names a
 * stable protocol code ("bad_request", "unknown_store", ...) and a
 * sentence a person can act on. They never speak HTTP: the web layer
 * turns an hq_err into a status, the command line into an exit code.
 *
 * A change other parts must hear of (a store's groups, brand or
 * configuration changed) is announced through hq_subscribe; the scan
 * resolver's cache registers for it, so nothing here calls upwards.
 *
 * Never logs a phone number, a code, a token or key material.
 */
#ifndef SQR_HQ_H
#define SQR_HQ_H

#include <stddef.h>
#include <stdint.h>
#include "hqdb.h"
#include "sqr.h"

typedef struct hq hq;

/* Loads dir's keys and opens the storage (db_url, or dir/hq.db). err gets
 * a sentence naming the file at fault. */
sqr_rc hq_open(const char *dir, const char *db_url, hq **out, char *err,
               size_t errlen) SQR_WARN_UNUSED;
void hq_close(hq *h);
/* HQ's two public names. The kiosk URL (hq.url of configuration
 * documents, enrolment QR text) is where kiosks reach HQ, with hq-ca
 * pinned behind it; the public URL (hq.resolver_host: live codes, shopper
 * pages, the brand code) is what shoppers' phones open. Both are
 * "https://HOST[:PORT]": HOST a DNS name or an IPv4 literal, PORT
 * 1..65535, no user, path, query or fragment; the public HOST[:PORT] at
 * most HQ_PUBLIC_HOST_MAX - 1 characters (what a kiosk's QR holds), the
 * kiosk URL at most HQ_KIOSK_URL_MAX - 1. `what` names the setting in err
 * ("--kiosk-url", "STOREQR_HQ_KIOSK_URL"). SQR_EINVAL when url is not one,
 * and nothing is changed. */
#define HQ_PUBLIC_HOST_MAX 64
#define HQ_KIOSK_URL_MAX   200
sqr_rc hq_set_kiosk_url(hq *h, const char *what, const char *url, char *err,
                        size_t errlen) SQR_WARN_UNUSED;
sqr_rc hq_set_public_url(hq *h, const char *what, const char *url, char *err,
                         size_t errlen) SQR_WARN_UNUSED;
/* Where the server listens: fills whichever name above was not set
 * (https://HOST:PORT), so a single HQ on a specific address needs no
 * names (development, tests). */
void hq_set_url(hq *h, const char *host, int port);
/* The kiosk URL, and the host of each name as set by hq_set_kiosk_url and
 * hq_set_public_url (lower case; "" when derived by hq_set_url). */
const char *hq_url(const hq *h);
const char *hq_kiosk_host(const hq *h);
const char *hq_public_host(const hq *h);
/* "HOST[:PORT]" phones are sent to (hq.resolver_host). */
const char *hq_resolver_host(const hq *h);
/* HQ's directory (bundles/, releases.json live there). */
const char *hq_dir(const hq *h);
/* "sqlite" or "postgresql". */
const char *hq_backend(const hq *h);
/* Whether the database answers a trivial query within timeout_ms
 * (/readyz): SQR_OK, SQR_ENET when it cannot be reached or is too slow,
 * SQR_EBUSY when locked. Logs nothing (probes come often). */
sqr_rc hq_ready(hq *h, int timeout_ms) SQR_WARN_UNUSED;
/* The storage's last error message, for logs. */
const char *hq_storage_error(const hq *h);

int64_t hq_now_ms(void);

/* 1 if "Bearer TOKEN" matches the admin token (constant time). */
int hq_admin_ok(const hq *h, const char *authorization);

/* HKDF-SHA256(master, no salt, "storeqr/v1/store-key/" STORE "/" VERSION). */
sqr_rc hq_store_key(const hq *h, const char *sid, int version, uint8_t out[32]) SQR_WARN_UNUSED;

/* Why an operation refused or failed. code: a stable protocol code
 * (docs/PROTOCOL.md; "storage" and "internal" for HQ's own failures);
 * message: one sentence; extra_key/extra: an optional number the answer
 * carries (e.g. "expected_seq"). */
typedef struct hq_err {
  const char *code;
  char message[256];
  const char *extra_key;
  int64_t extra;
} hq_err;
/* Sets *e (NULL is fine) and returns rc, so `return hq_fail(...)` reads. */
sqr_rc hq_fail(hq_err *e, sqr_rc rc, const char *code, const char *fmt, ...) SQR_PRINTF(4, 5);
/* A storage failure: logs the storage's message, sets "unavailable" when
 * the database cannot be reached (SQR_ENET), else "storage". */
sqr_rc hq_fail_storage(const hq *h, hq_err *e, sqr_rc rc);

/* ---- changes other parts hear of ------------------------------------------ */

typedef enum hq_change {
  HQ_CHANGE_STORE,  /* a store was added, or its brand changed */
  HQ_CHANGE_GROUPS, /* a store's groups changed (link, capacity, expiry, status) */
  HQ_CHANGE_KEYS,   /* a kiosk of the store was enrolled, revoked or rotated */
  HQ_CHANGE_SEALED, /* an upload queued sealed phones for the opener (sealjob.h) */
} hq_change;
/* fn(arg, change, store) after each change this process made (store NULL:
 * every store). Called on the thread that made the change, with storage
 * idle; fn must not call back into an operation. At most 8 listeners;
 * SQR_ENOMEM past that. Changes made by other HQ processes are not
 * announced: listeners notice them through the store's config_version. */
sqr_rc hq_subscribe(hq *h, void (*fn)(void *arg, hq_change change, const char *store),
                    void *arg) SQR_WARN_UNUSED;
void hq_unsubscribe(hq *h, void (*fn)(void *arg, hq_change change, const char *store), void *arg);

#endif
