/* reply.c — see reply.h. */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

void hq_reply_clear(hq_reply *r) {
  free(r->body);
  free(r->headers);
  if(r->fd > 0) close(r->fd);
  if(r->stream && r->stream_end) r->stream_end(r->stream_arg);
  memset(r, 0, sizeof *r);
}

sqr_rc hq_reply_header(hq_reply *r, const char *name, const char *value) {
  size_t old = r->headers ? strlen(r->headers) : 0;
  size_t add = strlen(name) + 2 + strlen(value) + 1;
  char *h = realloc(r->headers, old + add + 1);
  if(!h) return SQR_ENOMEM;
  snprintf(h + old, add + 1, "%s: %s\n", name, value);
  r->headers = h;
  return SQR_OK;
}

void hq_reply_error(hq_reply *r, int status, const char *code, const char *message,
                    const char *extra_key, int64_t extra) {
  free(r->body);
  r->status = status;
  r->type = NULL;
  r->len = 0;
  if(proto_error_encode(code, message, hq_now_ms(), extra_key, extra, &r->body)) r->body = NULL;
}

void hq_reply_json(hq_reply *r, int status, cJSON *root) {
  free(r->body);
  r->status = status;
  if(!root || !cJSON_AddNumberToObject(root, "hq_time_ms", (double)hq_now_ms())) {
    cJSON_Delete(root);
    r->body = NULL;
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
    return;
  }
  r->body = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
}

/* The HTTP status of each operations-layer code (hq.h's hq_err). */
static const struct {
  const char *code;
  int status;
} statuses[] = {
    {"bad_request", 400},   {"bad_cursor", 400},    {"certificate", 401},  {"unauthorized", 401},
    {"wrong_kiosk", 403},   {"code_unknown", 403},  {"code_used", 403},    {"code_expired", 403},
    {"unknown_store", 404}, {"unknown_kiosk", 404}, {"not_found", 404},    {"exists", 409},
    {"gap", 409},           {"too_large", 413},     {"chain_broken", 422}, {"unavailable", 503},
    {"busy", 503},
};

/* Seconds a client should wait before trying again: a lost database is
 * reconnected within a few seconds of coming back (hqdb_pg.c backs off up
 * to 5 s); a busy one frees up sooner. */
#define RETRY_AFTER_UNAVAILABLE "2"
#define RETRY_AFTER_BUSY        "1"

static void retry_after(hq_reply *r, const char *seconds) {
  /* Out of memory: a 503 without the header still says "later". */
  if(hq_reply_header(r, "Retry-After", seconds)) return;
}

void hq_reply_storage(hq_reply *r, sqr_rc rc) {
  if(rc == SQR_ENET) {
    hq_reply_error(r, 503, "unavailable", "HQ's database is unavailable; try again shortly", NULL,
                   0);
    retry_after(r, RETRY_AFTER_UNAVAILABLE);
    return;
  }
  hq_reply_error(r, rc == SQR_EBUSY ? 503 : 500, "storage", "HQ's database failed; try again", NULL,
                 0);
  if(rc == SQR_EBUSY) retry_after(r, RETRY_AFTER_BUSY);
}

void hq_reply_fail(hq_reply *r, sqr_rc rc, const hq_err *e) {
  int status = 500;
  const char *code = e->code ? e->code : "internal";
  for(size_t i = 0; i < SQR_ARRAY_LEN(statuses); i++)
    if(strcmp(code, statuses[i].code) == 0) status = statuses[i].status;
  /* A busy database is worth a retry; other storage failures are ours. */
  if(strcmp(code, "storage") == 0 && rc == SQR_EBUSY) status = 503;
  hq_reply_error(r, status, code, e->code ? e->message : "HQ failed; try again", e->extra_key,
                 e->extra);
  if(status == 503)
    retry_after(r, strcmp(code, "unavailable") == 0 ? RETRY_AFTER_UNAVAILABLE : RETRY_AFTER_BUSY);
}

/* ---- request bodies ---------------------------------------------------- */

void hq_reply_text(hq_reply *r, dynbuf *b, int status, const char *type,
                   const char *too_big_message) {
  sqr_rc rc = dynbuf_error(b);
  size_t len = 0;
  char *text = rc ? NULL : dynbuf_take(b, &len);
  dynbuf_free(b);
  if(rc == SQR_ETOOBIG) {
    hq_reply_error(r, 413, "too_large", too_big_message, NULL, 0);
    return;
  }
  if(!text) {
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
    return;
  }
  free(r->body);
  r->body = text;
  r->len = len;
  r->status = status;
  r->type = type;
}
