/* reply.h — an answer as the web layer sends it: status, body, type and
 * extra headers (or an open file), and the one mapping from an operation's
 * refusal (hq.h's hq_err) to an HTTP status and a JSON error body
 * ({"error","message","hq_time_ms"[,extra]}, docs/PROTOCOL.md).
 */
#ifndef SQR_HQ_REPLY_H
#define SQR_HQ_REPLY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "dynbuf.h"
#include "hq.h"
#include "sqr.h"

/* Status and a body (malloc'ed, NULL for 304). JSON unless type says
 * otherwise; pages, CSV and images set type, len (binary bodies) and
 * headers (Location, Set-Cookie ...). */
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
/* The error reply for an operation's refusal: the status its code maps
 * to (400 bad_request, 404 unknown_*, 409 exists/gap, 503 with
 * Retry-After for "unavailable" (the database cannot be reached) and for
 * a busy database, 500 otherwise ...). */
void hq_reply_fail(hq_reply *r, sqr_rc rc, const hq_err *e);
/* The reply for a storage failure rc outside an operation (pages, stats,
 * metrics): 503 "unavailable" + Retry-After for SQR_ENET (the database
 * cannot be reached: hqdb_pg.c reconnects), 503 "storage" + Retry-After
 * for SQR_EBUSY, 500 "storage" otherwise. */
void hq_reply_storage(hq_reply *r, sqr_rc rc);
/* A JSON reply from root (taken and freed) with hq_time_ms added; 500 if
 * root is NULL or memory runs out. */
void hq_reply_json(hq_reply *r, int status, cJSON *root);

/* Hands a rendered text to r (status, type; the buffer is emptied). A
 * buffer past its limit answers 413 with too_big_message, a failed one
 * 500. */
void hq_reply_text(hq_reply *r, dynbuf *b, int status, const char *type,
                   const char *too_big_message);

#endif
