/* proto.c — see proto.h. Built on cJSON. Batch decoding lives in batch.c. */
#include "proto.h"
#include "proto_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"

/* Encoded size of one event besides its payload and type: keys, two
 * 64-hex hashes, two numbers, punctuation. Generous on purpose. */
#define EVENT_OVERHEAD 320
#define BATCH_OVERHEAD 64

static const char *const known_types[] = {
    "config_applied", "signup",         "consent_renewed",  "coupon_issued",     "checkin",
    "erase",          "group_switched", "groups_exhausted", "group_marked_full", "clock_jump",
    "impressions",    "sync_note",      "checkin_voided",   "marketing_consent",
};

sqr_rc proto__fail(proto_error *err, int status, const char *code, const char *fmt, ...) {
  if(err) {
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return SQR_EINVAL;
}

int proto_store_id_valid(const char *id) {
  size_t n = strlen(id);
  if(n == 0 || n > PROTO_STORE_ID_MAX) return 0;
  for(size_t i = 0; i < n; i++) {
    char c = id[i];
    if(!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return 0;
  }
  return 1;
}

/* Digits from *p up to end or stop: no sign, no leading zero, at most max. */
static const char *parse_count(const char *p, char stop, long max, long *out) {
  if(*p < '1' || *p > '9') return NULL;
  long n = 0;
  for(; *p && *p != stop; p++) {
    if(*p < '0' || *p > '9') return NULL;
    n = n * 10 + (*p - '0');
    if(n > max) return NULL;
  }
  *out = n;
  return p;
}

sqr_rc proto_kiosk_parse(const char *kiosk_id, char store_id[PROTO_STORE_ID_MAX + 1], int *number,
                         int *incarnation) {
  const char *slash = strchr(kiosk_id, '/');
  if(!slash || slash == kiosk_id || (size_t)(slash - kiosk_id) > PROTO_STORE_ID_MAX)
    return SQR_EINVAL;
  char sid[PROTO_STORE_ID_MAX + 1];
  memcpy(sid, kiosk_id, (size_t)(slash - kiosk_id));
  sid[slash - kiosk_id] = '\0';
  if(!proto_store_id_valid(sid)) return SQR_EINVAL;
  long n = 0, inc = 1;
  const char *p = parse_count(slash + 1, '@', 65535, &n);
  if(!p) return SQR_EINVAL;
  if(*p == '@' && (!(p = parse_count(p + 1, '\0', PROTO_INCARNATION_MAX, &inc)) || inc < 2))
    return SQR_EINVAL;
  memcpy(store_id, sid, sizeof sid);
  *number = (int)n;
  if(incarnation) *incarnation = (int)inc;
  return SQR_OK;
}

sqr_rc proto_kiosk_format(const char *store_id, int number, int incarnation,
                          char out[PROTO_KIOSK_ID_MAX]) {
  if(!proto_store_id_valid(store_id) || number < 1 || number > 65535 || incarnation < 1 ||
     incarnation > PROTO_INCARNATION_MAX)
    return SQR_EINVAL;
  if(incarnation == 1)
    snprintf(out, PROTO_KIOSK_ID_MAX, "%s/%d", store_id, number);
  else
    snprintf(out, PROTO_KIOSK_ID_MAX, "%s/%d@%d", store_id, number, incarnation);
  return SQR_OK;
}

int proto_type_known(const char *type) {
  for(size_t i = 0; i < SQR_ARRAY_LEN(known_types); i++)
    if(strcmp(type, known_types[i]) == 0) return 1;
  return 0;
}

/* ---- encoder ----------------------------------------------------------- */

sqr_rc proto_batch_init(proto_batch *b, const char *store_id, int number, int incarnation) {
  memset(b, 0, sizeof *b);
  if(proto_kiosk_format(store_id, number, incarnation, b->kiosk_id)) return SQR_EINVAL;
  snprintf(b->store_id, sizeof b->store_id, "%s", store_id);
  b->kiosk = number;
  b->incarnation = incarnation;
  b->behind = -1;
  b->bytes = BATCH_OVERHEAD + strlen(b->kiosk_id); /* room for "behind" too */
  return SQR_OK;
}

static sqr_rc batch_push(proto_batch *b, proto_event *ev) {
  if(b->count == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16;
    if(cap > PROTO_MAX_EVENTS) cap = PROTO_MAX_EVENTS;
    proto_event *e = realloc(b->events, cap * sizeof *e);
    if(!e) return SQR_ENOMEM;
    b->events = e;
    b->cap = cap;
  }
  b->events[b->count++] = *ev;
  return SQR_OK;
}

sqr_rc proto_batch_add(proto_batch *b, const store_event *ev) {
  const char *payload = ev->payload ? ev->payload : "{}";
  size_t plen = strlen(payload), tlen = strlen(ev->type);
  if(plen > PROTO_MAX_PAYLOAD || tlen == 0 || tlen >= STORE_EVENT_TYPE_MAX || ev->seq < 1)
    return SQR_EINVAL;
  if(b->count && ev->seq != b->events[b->count - 1].seq + 1) return SQR_EINVAL;
  size_t need = plen + tlen + EVENT_OVERHEAD;
  if(b->count >= PROTO_MAX_EVENTS || b->bytes + need > PROTO_MAX_BODY) return SQR_ENOSPC;
  proto_event e = {.seq = ev->seq, .ts_ms = ev->ts_ms, .redacted = ev->redacted ? 1 : 0};
  memcpy(e.type, ev->type, tlen + 1);
  memcpy(e.body_hash, ev->body_hash, sizeof e.body_hash);
  memcpy(e.hash, ev->hash, sizeof e.hash);
  e.payload = malloc(plen + 1);
  if(!e.payload) return SQR_ENOMEM;
  memcpy(e.payload, payload, plen + 1);
  e.payload_len = plen;
  if(batch_push(b, &e)) {
    free(e.payload);
    return SQR_ENOMEM;
  }
  b->bytes += need;
  return SQR_OK;
}

static char *print_free(cJSON *root) {
  char *s = root ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  return s;
}

sqr_rc proto_batch_encode(const proto_batch *b, char **json, size_t *len) {
  *json = NULL;
  if(!b->count) return SQR_EINVAL;
  /* written as digits: cJSON prints numbers past 15 digits rounded */
  char behind[24];
  snprintf(behind, sizeof behind, "%lld", (long long)b->behind);
  cJSON *root = cJSON_CreateObject(), *arr = NULL;
  if(!root || !cJSON_AddStringToObject(root, "kiosk", b->kiosk_id) ||
     (b->behind >= 0 && !cJSON_AddRawToObject(root, "behind", behind)) ||
     !(arr = cJSON_AddArrayToObject(root, "events")))
    goto nomem;
  for(size_t i = 0; i < b->count; i++) {
    const proto_event *ev = &b->events[i];
    char bh[65], h[65];
    crypto_hex(ev->body_hash, 32, bh);
    crypto_hex(ev->hash, 32, h);
    cJSON *e = cJSON_CreateObject();
    if(!e) goto nomem;
    cJSON_AddItemToArray(arr, e);
    cJSON *payload = NULL;
    if(!cJSON_AddNumberToObject(e, "seq", (double)ev->seq) ||
       !cJSON_AddStringToObject(e, "type", ev->type) ||
       !cJSON_AddNumberToObject(e, "ts_ms", (double)ev->ts_ms) ||
       !(payload = cJSON_CreateRaw(ev->payload)))
      goto nomem;
    cJSON_AddItemToObject(e, "payload", payload);
    if(!cJSON_AddStringToObject(e, "body_hash", bh) || !cJSON_AddStringToObject(e, "hash", h) ||
       !cJSON_AddBoolToObject(e, "redacted", ev->redacted))
      goto nomem;
  }
  *json = print_free(root);
  if(!*json) return SQR_ENOMEM;
  *len = strlen(*json);
  return SQR_OK;
nomem:
  cJSON_Delete(root);
  return SQR_ENOMEM;
}

void proto_batch_clear(proto_batch *b) {
  if(!b) return;
  for(size_t i = 0; i < b->count; i++)
    free(b->events[i].payload);
  free(b->events);
  memset(b, 0, sizeof *b);
}

/* Parses exactly len bytes: trailing bytes other than whitespace are an
 * error (cJSON alone would ignore them). */
cJSON *proto__parse_all(const char *body, size_t len) {
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  if(!root) return NULL;
  for(const char *p = end; p < body + len; p++) {
    if(*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
      cJSON_Delete(root);
      return NULL;
    }
  }
  return root;
}

cJSON *proto__parse_request(const char *body, size_t len, size_t max, proto_error *err) {
  if(len > max) {
    proto__fail(err, 413, "too_large", "body: %zu bytes, more than the limit of %zu", len, max);
    return NULL;
  }
  cJSON *root = proto__parse_all(body, len);
  if(!root) proto__fail(err, 400, "bad_request", "body: not valid JSON");
  return root;
}

/* ---- strict field readers (enrolment) -------------------------------- */

static sqr_rc str_of(const cJSON *v, const char *name, const char *path, const char **out,
                     proto_error *err) {
  if(!v) return proto__fail(err, 400, "bad_request", "%s%s: missing", path, name);
  if(!cJSON_IsString(v))
    return proto__fail(err, 400, "bad_request", "%s%s: must be a string", path, name);
  *out = v->valuestring;
  return SQR_OK;
}

static sqr_rc get_str(const cJSON *o, const char *name, const char *path, const char **out,
                      proto_error *err) {
  return str_of(cJSON_GetObjectItemCaseSensitive(o, name), name, path, out, err);
}

sqr_rc proto_chain_check(const uint8_t prev[CHAIN_HASH_LEN], const proto_event *events, size_t n,
                         size_t *bad) {
  uint8_t p[CHAIN_HASH_LEN], h[CHAIN_HASH_LEN];
  memcpy(p, prev, sizeof p);
  for(size_t i = 0; i < n; i++) {
    if(chain_hash(p, events[i].seq, events[i].type, events[i].ts_ms, events[i].body_hash, h) ||
       !crypto_ct_equal(h, events[i].hash, CHAIN_HASH_LEN)) {
      *bad = i;
      return SQR_EAUTH;
    }
    memcpy(p, h, sizeof p);
  }
  return SQR_OK;
}

/* ---- answers ----------------------------------------------------------- */

sqr_rc proto_ack_encode(int64_t acked_seq, int64_t hq_time_ms, char **json) {
  cJSON *root = cJSON_CreateObject();
  *json = NULL;
  if(root && cJSON_AddNumberToObject(root, "acked_seq", (double)acked_seq) &&
     cJSON_AddNumberToObject(root, "hq_time_ms", (double)hq_time_ms))
    *json = print_free(root);
  else
    cJSON_Delete(root);
  return *json ? SQR_OK : SQR_ENOMEM;
}

sqr_rc proto_error_encode(const char *code, const char *message, int64_t hq_time_ms,
                          const char *extra_key, int64_t extra, char **json) {
  cJSON *root = cJSON_CreateObject();
  *json = NULL;
  if(root && cJSON_AddStringToObject(root, "error", code) &&
     cJSON_AddStringToObject(root, "message", message) &&
     cJSON_AddNumberToObject(root, "hq_time_ms", (double)hq_time_ms) &&
     (!extra_key || cJSON_AddNumberToObject(root, extra_key, (double)extra)))
    *json = print_free(root);
  else
    cJSON_Delete(root);
  return *json ? SQR_OK : SQR_ENOMEM;
}

/* Optional integer field for answers: absent leaves *out 0. */
static sqr_rc opt_int(const cJSON *o, const char *name, int64_t *out, int *present, char *err,
                      size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if(present) *present = v != NULL;
  if(!v) return SQR_OK;
  if(!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
     fabs(v->valuedouble) > PROTO__MAX_SAFE_INT) {
    snprintf(err, errlen, "HQ answer: %s must be an integer", name);
    return SQR_EPROTO;
  }
  *out = (int64_t)v->valuedouble;
  return SQR_OK;
}

static sqr_rc opt_str(const cJSON *o, const char *name, char *out, size_t size, char *err,
                      size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if(!v) return SQR_OK;
  if(!cJSON_IsString(v)) {
    snprintf(err, errlen, "HQ answer: %s must be a string", name);
    return SQR_EPROTO;
  }
  snprintf(out, size, "%s", v->valuestring);
  return SQR_OK;
}

sqr_rc proto_answer_decode(const char *body, size_t len, proto_answer *out, char *err,
                           size_t errlen) {
  memset(out, 0, sizeof *out);
  if(len > PROTO_MAX_ANSWER) {
    snprintf(err, errlen, "HQ answer: %zu bytes, more than %d", len, PROTO_MAX_ANSWER);
    return SQR_EPROTO;
  }
  cJSON *root = proto__parse_all(body, len);
  sqr_rc rc = SQR_EPROTO;
  int has_time = 0;
  if(!cJSON_IsObject(root)) {
    snprintf(err, errlen, "HQ answer: not a JSON object");
    goto out;
  }
  if((rc = opt_int(root, "hq_time_ms", &out->hq_time_ms, &has_time, err, errlen)) ||
     (rc = opt_int(root, "acked_seq", &out->acked_seq, &out->has_acked, err, errlen)) ||
     (rc = opt_int(root, "expected_seq", &out->expected_seq, NULL, err, errlen)) ||
     (rc = opt_int(root, "seq", &out->seq, NULL, err, errlen)) ||
     (rc = opt_str(root, "error", out->error, sizeof out->error, err, errlen)) ||
     (rc = opt_str(root, "message", out->message, sizeof out->message, err, errlen)))
    goto out;
  if(!has_time) {
    snprintf(err, errlen, "HQ answer: hq_time_ms missing");
    rc = SQR_EPROTO;
    goto out;
  }
  rc = SQR_OK;
out:
  cJSON_Delete(root);
  return rc;
}

sqr_rc proto_config_time(const char *body, size_t len, int64_t *hq_time_ms, char *err,
                         size_t errlen) {
  *hq_time_ms = 0;
  if(len > CONFIG_MAX_BYTES) {
    snprintf(err, errlen, "configuration: %zu bytes, more than %d", len, CONFIG_MAX_BYTES);
    return SQR_EPROTO;
  }
  cJSON *root = proto__parse_all(body, len);
  int has_time = 0;
  sqr_rc rc = SQR_EPROTO;
  if(!cJSON_IsObject(root))
    snprintf(err, errlen, "configuration: not a JSON object");
  else if(!(rc = opt_int(root, "hq_time_ms", hq_time_ms, &has_time, err, errlen)) && !has_time) {
    snprintf(err, errlen, "configuration answer: hq_time_ms missing");
    rc = SQR_EPROTO;
  }
  cJSON_Delete(root);
  return rc;
}

/* ---- enrolment --------------------------------------------------------- */

sqr_rc proto_enroll_request_encode(const char *code, const char *csr_pem, char **json) {
  cJSON *root = cJSON_CreateObject();
  *json = NULL;
  if(root && cJSON_AddStringToObject(root, "code", code) &&
     cJSON_AddStringToObject(root, "csr", csr_pem))
    *json = print_free(root);
  else
    cJSON_Delete(root);
  return *json ? SQR_OK : SQR_ENOMEM;
}

sqr_rc proto_enroll_request_decode(const char *body, size_t len, proto_enroll_request *out,
                                   proto_error *err) {
  memset(out, 0, sizeof *out);
  if(err) memset(err, 0, sizeof *err);
  cJSON *root = proto__parse_request(body, len, PROTO_MAX_ENROLL, err);
  if(!root) return SQR_EINVAL;
  sqr_rc rc = SQR_EINVAL;
  const char *code, *csr;
  if(!cJSON_IsObject(root)) {
    proto__fail(err, 400, "bad_request", "body: must be a JSON object");
    goto out;
  }
  if(get_str(root, "code", "", &code, err) || get_str(root, "csr", "", &csr, err)) goto out;
  if(!code[0] || strlen(code) > PROTO_CODE_MAX) {
    proto__fail(err, 400, "bad_request", "code: must be 1..%d characters", PROTO_CODE_MAX);
    goto out;
  }
  if(!strstr(csr, "-----BEGIN CERTIFICATE REQUEST-----") ||
     !strstr(csr, "-----END CERTIFICATE REQUEST-----")) {
    proto__fail(err, 400, "bad_request", "csr: must be a PEM certificate request");
    goto out;
  }
  snprintf(out->code, sizeof out->code, "%s", code);
  out->csr = strdup(csr);
  rc = out->csr ? SQR_OK : SQR_ENOMEM;
  if(rc) proto__fail(err, 500, "internal", "out of memory");
out:
  cJSON_Delete(root);
  return rc;
}

void proto_enroll_request_clear(proto_enroll_request *r) {
  if(!r) return;
  free(r->csr);
  memset(r, 0, sizeof *r);
}

sqr_rc proto_enroll_answer_encode(const proto_enroll_answer *a, char **json) {
  *json = NULL;
  cJSON *cfg = cJSON_Parse(a->config ? a->config : "");
  if(!cJSON_IsObject(cfg)) {
    cJSON_Delete(cfg);
    return SQR_EINVAL;
  }
  cJSON *root = cJSON_CreateObject();
  if(root && cJSON_AddStringToObject(root, "store_id", a->store_id) &&
     cJSON_AddNumberToObject(root, "kiosk", a->kiosk) &&
     cJSON_AddStringToObject(root, "certificate", a->certificate) &&
     cJSON_AddStringToObject(root, "hq_ca", a->hq_ca)) {
    cJSON_AddItemToObject(root, "config", cfg);
    cfg = NULL;
    if(cJSON_AddNumberToObject(root, "hq_time_ms", (double)a->hq_time_ms)) {
      *json = print_free(root);
      root = NULL;
    }
  }
  cJSON_Delete(cfg);
  cJSON_Delete(root);
  return *json ? SQR_OK : SQR_ENOMEM;
}

static sqr_rc take_pem(const cJSON *root, const char *name, const char *kind, char **out, char *err,
                       size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
  if(!cJSON_IsString(v) || !strstr(v->valuestring, kind)) {
    snprintf(err, errlen, "enrolment answer: %s missing or not a PEM %s", name, kind);
    return SQR_EPROTO;
  }
  *out = strdup(v->valuestring);
  return *out ? SQR_OK : SQR_ENOMEM;
}

sqr_rc proto_enroll_answer_decode(const char *body, size_t len, proto_enroll_answer *out, char *err,
                                  size_t errlen) {
  memset(out, 0, sizeof *out);
  if(len > PROTO_MAX_ENROLL_ANSWER) {
    snprintf(err, errlen, "enrolment answer: %zu bytes, more than %d", len,
             PROTO_MAX_ENROLL_ANSWER);
    return SQR_EPROTO;
  }
  cJSON *root = proto__parse_all(body, len);
  sqr_rc rc = SQR_EPROTO;
  int has_time = 0;
  if(!cJSON_IsObject(root)) {
    snprintf(err, errlen, "enrolment answer: not a JSON object");
    goto out;
  }
  const cJSON *sid = cJSON_GetObjectItemCaseSensitive(root, "store_id");
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "kiosk");
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
  if(!cJSON_IsString(sid) || !proto_store_id_valid(sid->valuestring)) {
    snprintf(err, errlen, "enrolment answer: store_id missing or not a store id");
    goto out;
  }
  if(!cJSON_IsNumber(k) || k->valuedouble != floor(k->valuedouble) || k->valuedouble < 1 ||
     k->valuedouble > 65535) {
    snprintf(err, errlen, "enrolment answer: kiosk missing or not an integer 1..65535");
    goto out;
  }
  if(!cJSON_IsObject(cfg)) {
    snprintf(err, errlen, "enrolment answer: config missing or not an object");
    goto out;
  }
  snprintf(out->store_id, sizeof out->store_id, "%s", sid->valuestring);
  out->kiosk = (int)k->valuedouble;
  if((rc = opt_int(root, "hq_time_ms", &out->hq_time_ms, &has_time, err, errlen))) goto out;
  if(!has_time) {
    snprintf(err, errlen, "enrolment answer: hq_time_ms missing");
    rc = SQR_EPROTO;
    goto out;
  }
  if((rc = take_pem(root, "certificate", "CERTIFICATE", &out->certificate, err, errlen))) goto out;
  if((rc = take_pem(root, "hq_ca", "CERTIFICATE", &out->hq_ca, err, errlen))) goto out;
  out->config = cJSON_PrintUnformatted(cfg);
  rc = out->config ? SQR_OK : SQR_ENOMEM;
out:
  cJSON_Delete(root);
  if(rc) proto_enroll_answer_clear(out);
  return rc;
}

void proto_enroll_answer_clear(proto_enroll_answer *a) {
  if(!a) return;
  free(a->certificate);
  free(a->hq_ca);
  free(a->config);
  memset(a, 0, sizeof *a);
}
