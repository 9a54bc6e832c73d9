/* wire.c — see wire.h. Built on cJSON; a payload is stored in the event
 * log as compact JSON and is sent exactly as stored (cJSON raw item), so
 * the bytes HQ hashes are the bytes the kiosk hashed. */
#include "wire.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* Per-event overhead in the body besides the payload: keys, two 64-hex
 * hashes, numbers. Generous so the estimate never undercounts. */
#define EVENT_OVERHEAD 320

struct wire_batch {
  cJSON *root, *events;
  size_t count, bytes;
  int64_t first, last;
};

sqr_rc wire_batch_new(const char *kiosk_id, wire_batch **out) {
  *out = NULL;
  wire_batch *b = calloc(1, sizeof *b);
  if(!b) return SQR_ENOMEM;
  b->root = cJSON_CreateObject();
  if(!b->root || !cJSON_AddStringToObject(b->root, "kiosk", kiosk_id) ||
     !(b->events = cJSON_AddArrayToObject(b->root, "events"))) {
    wire_batch_free(b);
    return SQR_ENOMEM;
  }
  b->bytes = 64 + strlen(kiosk_id);
  *out = b;
  return SQR_OK;
}

void wire_batch_free(wire_batch *b) {
  if(!b) return;
  cJSON_Delete(b->root);
  free(b);
}

sqr_rc wire_batch_add(wire_batch *b, const store_event *ev) {
  size_t plen = ev->payload ? strlen(ev->payload) : 2;
  size_t need = plen + strlen(ev->type) + EVENT_OVERHEAD;
  if(need + 64 > WIRE_BATCH_MAX_BYTES) return SQR_EINVAL;
  if(b->count >= WIRE_BATCH_MAX_EVENTS || b->bytes + need > WIRE_BATCH_MAX_BYTES)
    return SQR_ENOSPC;
  char bh[65], h[65];
  crypto_hex(ev->body_hash, 32, bh);
  crypto_hex(ev->hash, 32, h);
  cJSON *e = cJSON_CreateObject();
  cJSON *payload = cJSON_CreateRaw(ev->payload ? ev->payload : "{}");
  if(!e || !payload || !cJSON_AddNumberToObject(e, "seq", (double)ev->seq) ||
     !cJSON_AddStringToObject(e, "type", ev->type) ||
     !cJSON_AddNumberToObject(e, "ts_ms", (double)ev->ts_ms) ||
     !cJSON_AddItemToObject(e, "payload", payload) ||
     !cJSON_AddStringToObject(e, "body_hash", bh) || !cJSON_AddStringToObject(e, "hash", h) ||
     !cJSON_AddBoolToObject(e, "redacted", ev->redacted) || !cJSON_AddItemToArray(b->events, e)) {
    if(payload && (!e || !cJSON_GetObjectItemCaseSensitive(e, "payload"))) cJSON_Delete(payload);
    cJSON_Delete(e);
    return SQR_ENOMEM;
  }
  if(!b->count) b->first = ev->seq;
  b->last = ev->seq;
  b->count++;
  b->bytes += need;
  return SQR_OK;
}

size_t wire_batch_count(const wire_batch *b) { return b->count; }
int64_t wire_batch_first_seq(const wire_batch *b) { return b->first; }
int64_t wire_batch_last_seq(const wire_batch *b) { return b->last; }

sqr_rc wire_batch_json(const wire_batch *b, char **json, size_t *len) {
  *json = cJSON_PrintUnformatted(b->root);
  if(!*json) return SQR_ENOMEM;
  *len = strlen(*json);
  return SQR_OK;
}

static int64_t get_int(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static void get_str(const cJSON *o, const char *name, char *out, size_t size) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  snprintf(out, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

sqr_rc wire_answer_parse(const char *body, size_t len, wire_answer *out) {
  memset(out, 0, sizeof *out);
  cJSON *root = cJSON_ParseWithLength(body, len);
  if(!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return SQR_EPROTO;
  }
  out->hq_time_ms = get_int(root, "hq_time_ms");
  out->acked_seq = get_int(root, "acked_seq");
  out->expected_seq = get_int(root, "expected_seq");
  get_str(root, "error", out->error, sizeof out->error);
  get_str(root, "message", out->message, sizeof out->message);
  cJSON_Delete(root);
  return SQR_OK;
}

sqr_rc wire_enroll_request(const char *code, const char *csr_pem, char **json) {
  cJSON *root = cJSON_CreateObject();
  *json = NULL;
  if(root && cJSON_AddStringToObject(root, "code", code) &&
     cJSON_AddStringToObject(root, "csr", csr_pem))
    *json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return *json ? SQR_OK : SQR_ENOMEM;
}

static sqr_rc take_str(const cJSON *root, const char *name, char **out, char *err, size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
  if(!cJSON_IsString(v) || !v->valuestring[0]) {
    snprintf(err, errlen, "enrolment answer: %s missing or not a string", name);
    return SQR_EPROTO;
  }
  *out = strdup(v->valuestring);
  return *out ? SQR_OK : SQR_ENOMEM;
}

sqr_rc wire_enroll_answer_parse(const char *body, size_t len, wire_enroll_answer *out, char *err,
                                size_t errlen) {
  memset(out, 0, sizeof *out);
  cJSON *root = cJSON_ParseWithLength(body, len);
  sqr_rc rc = SQR_EPROTO;
  if(!cJSON_IsObject(root)) {
    snprintf(err, errlen, "enrolment answer is not a JSON object");
    goto out;
  }
  const cJSON *sid = cJSON_GetObjectItemCaseSensitive(root, "store_id");
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "kiosk");
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
  if(!cJSON_IsString(sid) || strlen(sid->valuestring) >= sizeof out->store_id) {
    snprintf(err, errlen, "enrolment answer: store_id missing or too long");
    goto out;
  }
  if(!cJSON_IsNumber(k) || k->valuedouble < 1 || k->valuedouble > 65535) {
    snprintf(err, errlen, "enrolment answer: kiosk missing or not 1..65535");
    goto out;
  }
  if(!cJSON_IsObject(cfg)) {
    snprintf(err, errlen, "enrolment answer: config missing or not an object");
    goto out;
  }
  snprintf(out->store_id, sizeof out->store_id, "%s", sid->valuestring);
  out->kiosk = (int)k->valuedouble;
  out->hq_time_ms = get_int(root, "hq_time_ms");
  if((rc = take_str(root, "certificate", &out->certificate, err, errlen))) goto out;
  if((rc = take_str(root, "hq_ca", &out->hq_ca, err, errlen))) goto out;
  out->config = cJSON_PrintUnformatted(cfg);
  rc = out->config ? SQR_OK : SQR_ENOMEM;
out:
  cJSON_Delete(root);
  if(rc) wire_enroll_answer_clear(out);
  return rc;
}

void wire_enroll_answer_clear(wire_enroll_answer *a) {
  free(a->certificate);
  free(a->hq_ca);
  free(a->config);
  memset(a, 0, sizeof *a);
}
