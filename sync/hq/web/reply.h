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
  /* A body made while it is sent (the CRM export: millions of rows are
   * never held at once). When stream is set, body and fd are unused:
   * stream(arg, buf, max) puts up to max bytes in buf and returns how
   * many, 0 at the end, -1 on a failure (the connection is cut, so the
   * client sees a truncated answer, never a short one that looks whole);
   * stream_end(arg) runs once however the answer ended (after the last
   * call, on a client gone, or from hq_reply_clear when it was never
   * sent). Both run under the server's storage lock, one call at a time. */
  long (*stream)(void *arg, char *buf, size_t max);
  void (*stream_end)(void *arg);
  void *stream_arg;
} hq_reply;
/* Appends "name: value\n" to r->headers. SQR_ENOMEM. */
sqr_rc hq_reply_header(hq_reply *r, const char *name, const char *value) SQR_WARN_UNUSED;
/* Frees r (a stream not sent is ended) and zeroes it. */
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
