/* synchttp.h — the sync client's one HTTPS connection to HQ, over libcurl.
 *
 * Owns a curl easy handle configured the way the protocol demands: HTTPS
 * only, HQ's CA pinned (CAINFO holds only hq-ca.crt, the system store is
 * never consulted), the kiosk's certificate and key for mutual TLS,
 * connect timeout and low-speed limits, and a hard cap on every answer
 * body (the write callback refuses bytes past it). Keeps the connection
 * alive between calls of one sync pass.
 *
 * curl codes are translated to sqr_rc here and nowhere else. Request and
 * answer bodies are never logged: they may hold sealed personal data.
 */
#ifndef SQR_SYNC_SYNCHTTP_H
#define SQR_SYNC_SYNCHTTP_H

#include <stddef.h>
#include "sqr.h"

typedef struct synchttp synchttp;

typedef struct synchttp_opts {
  const char *base_url;     /* "https://host:port", no trailing path */
  const char *ca_file;      /* HQ's CA, the only trust anchor */
  const char *cert_file;    /* kiosk.crt, NULL for enrolment */
  const char *key_file;     /* kiosk.key, NULL for enrolment */
  long connect_timeout_s;   /* 0: 10 s */
  long low_speed_bytes;     /* 0: 100 B/s ... */
  long low_speed_time_s;    /* ... for 0: 30 s */
  long total_timeout_s;     /* 0: 120 s per request */
  volatile int *abort_flag; /* non-NULL: a transfer stops when *abort_flag is set */
} synchttp_opts;

/* Copies the strings it is given. SQR_ENOMEM, SQR_EINVAL (not https://). */
sqr_rc synchttp_new(const synchttp_opts *o, synchttp **out) SQR_WARN_UNUSED;
void synchttp_free(synchttp *h);

typedef struct synchttp_response {
  long status; /* HTTP status; 0 when no answer arrived */
  char *body;  /* NUL-terminated, owned: synchttp_response_clear frees it */
  size_t len;
} synchttp_response;

/* One request. method "GET" or "POST" (body sent as application/json).
 * Answers larger than max_answer bytes are refused (SQR_EPROTO). Errors,
 * with a sentence in err:
 *   SQR_ENET   HQ unreachable, timed out, connection cut
 *   SQR_EAUTH  TLS refused: HQ's certificate does not chain to the pinned
 *              CA, or HQ refused ours during the handshake
 *   SQR_EPROTO answer too large or not HTTP
 * Any HTTP status, 4xx and 5xx included, is SQR_OK with out->status set. */
sqr_rc synchttp_request(synchttp *h, const char *method, const char *path, const char *body,
                        size_t len, size_t max_answer, synchttp_response *out, char *err,
                        size_t errlen) SQR_WARN_UNUSED;
void synchttp_response_clear(synchttp_response *r);

/* GET path, writing a 200 answer's body to the open file fd: at most
 * max_bytes (more is SQR_EPROTO and the transfer stops), hashed on the way
 * (SHA-256 into sha, byte count into *written). Any other status is
 * SQR_OK with *status set and nothing written; HQ's error message goes
 * into err. For update bundles: the same pinned CA and client
 * certificate as every request, but an hour's total limit (a bundle can
 * be large; the low-speed limit still ends a stalled transfer).
 * Errors as synchttp_request, plus SQR_EIO when fd cannot be written. */
sqr_rc synchttp_download(synchttp *h, const char *path, int fd, uint64_t max_bytes, long *status,
                         uint8_t sha[32], uint64_t *written, char *err,
                         size_t errlen) SQR_WARN_UNUSED;

#endif
