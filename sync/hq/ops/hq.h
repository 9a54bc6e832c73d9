/* hq.h — HQ's state and its operations, shared by the HTTPS routes
 * (server.c) and the command line (main.c).
 *
 * Owns what `serve` and every subcommand load from HQ's directory: the
 * master key and the keys derived from it (per-store keys, the PII key,
 * the phone index key), the seal key pair, the device CA, the admin token
 * hash, and the storage handle. Implements enrolment codes, enrolment,
 * stores, groups, erasures, counts and the configuration document a
 * kiosk receives. Every answer is a JSON body plus an HTTP status, so a
 * route and a subcommand report the same thing.
 *
 * Never logs a phone number, a code, a token or key material.
 */
#ifndef SQR_HQ_H
#define SQR_HQ_H

#include <stddef.h>
#include <stdint.h>
#include "hqdb.h"
#include "pki.h"
#include "seal.h"
#include "sqr.h"

typedef struct hq {
  char dir[512];
  hqdb *db;
  pki_ca *device_ca;
  char *hq_ca_pem;
  char *template_json; /* dir/store-template.json, or NULL (built-in) */
  uint8_t master[32];
  uint8_t pii_key[32];   /* AES-256-GCM key for phones at rest */
  uint8_t index_key[32]; /* HMAC key of HQ's phone index */
  uint8_t seal_pub[SEAL_PUB_LEN];
  uint8_t seal_priv[SEAL_PRIV_LEN];
  uint8_t admin_hash[32];
  char url[256];           /* https://HOST:PORT kiosks reach us by */
  char resolver_host[128]; /* HOST:PORT */
} hq;

/* Loads dir's keys and opens the storage (db_url, or dir/hq.db). */
sqr_rc hq_open(const char *dir, const char *db_url, hq **out, char *err,
               size_t errlen) SQR_WARN_UNUSED;
void hq_close(hq *h);
/* Where kiosks reach HQ (goes into configuration documents). */
void hq_set_url(hq *h, const char *host, int port);

int64_t hq_now_ms(void);

/* 1 if "Bearer TOKEN" matches the admin token (constant time). */
int hq_admin_ok(const hq *h, const char *authorization);

/* HKDF-SHA256(master, no salt, "storeqr/v1/store-key/" STORE "/" VERSION). */
sqr_rc hq_store_key(const hq *h, const char *sid, int version, uint8_t out[32]) SQR_WARN_UNUSED;

/* An operation's outcome as HQ answers it: status and a body (malloc'ed,
 * NULL for 304). JSON unless type says otherwise; pages, CSV and images
 * set type, len (binary bodies) and headers (Location, Set-Cookie ...). */
typedef struct hq_reply {
  int status;
  char *body;
  size_t len;       /* body bytes; 0: strlen(body) */
  const char *type; /* Content-Type (static string); NULL: application/json */
  char *headers;    /* extra "Name: value\n" lines (malloc'ed), or NULL */
  int fd;           /* > 0: send this open file (fd_size bytes) instead of body;
                       the server closes it */
  uint64_t fd_size;
} hq_reply;
/* Appends "name: value\n" to r->headers. SQR_ENOMEM. */
sqr_rc hq_reply_header(hq_reply *r, const char *name, const char *value) SQR_WARN_UNUSED;
void hq_reply_clear(hq_reply *r);
/* Sets an error reply ({"error","message","hq_time_ms"[,extra]}). */
void hq_reply_error(hq_reply *r, int status, const char *code, const char *message,
                    const char *extra_key, int64_t extra);

/* The routes. body/len: the request body (JSON). */
void hq_enroll(hq *h, const char *body, size_t len, hq_reply *r);
void hq_config(hq *h, const char *kiosk_id, int64_t since, hq_reply *r);
void hq_admin_store_add(hq *h, const char *body, size_t len, hq_reply *r);
void hq_admin_enroll_code(hq *h, const char *body, size_t len, hq_reply *r);
void hq_admin_revoke(hq *h, const char *body, size_t len, hq_reply *r);
void hq_admin_group(hq *h, const char *body, size_t len, hq_reply *r);
void hq_admin_erasure(hq *h, const char *body, size_t len, hq_reply *r);
void hq_admin_counts(hq *h, const char *sid, hq_reply *r);

/* The configuration document for one kiosk (compact JSON, malloc'ed),
 * validated with config_parse before it is returned. */
sqr_rc hq_config_doc(hq *h, const char *sid, int kiosk, char **json, int64_t *version, char *err,
                     size_t errlen) SQR_WARN_UNUSED;

#endif
