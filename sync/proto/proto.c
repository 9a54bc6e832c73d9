/* proto.c — see proto.h. Built on cJSON. */
#include "proto.h"

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
#define MAX_SAFE_INT 9007199254740991.0 /* 2^53 - 1: exact in a double */

static const char *const known_types[] = {
  "config_applied", "signup", "consent_renewed", "coupon_issued", "checkin", "erase",
  "group_switched", "groups_exhausted", "group_marked_full", "clock_jump", "impressions",
  "sync_note",
};

SQR_PRINTF(4, 5)
static sqr_rc fail(proto_error *err, int status, const char *code, const char *fmt, ...) {
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

sqr_rc proto_kiosk_parse(const char *kiosk_id, char store_id[PROTO_STORE_ID_MAX + 1],
                         int *number) {
  const char *slash = strchr(kiosk_id, '/');
  if(!slash || slash == kiosk_id || (size_t)(slash - kiosk_id) > PROTO_STORE_ID_MAX)
    return SQR_EINVAL;
  char sid[PROTO_STORE_ID_MAX + 1];
  memcpy(sid, kiosk_id, (size_t)(slash - kiosk_id));
  sid[slash - kiosk_id] = '\0';
  if(!proto_store_id_valid(sid)) return SQR_EINVAL;
  const char *p = slash + 1;
  if(*p < '1' || *p > '9') return SQR_EINVAL; /* no sign, no leading zero */
  long n = 0;
  for(; *p; p++) {
    if(*p < '0' || *p > '9') return SQR_EINVAL;
    n = n * 10 + (*p - '0');
    if(n > 65535) return SQR_EINVAL;
  }
  memcpy(store_id, sid, sizeof sid);
  *number = (int)n;
  return SQR_OK;
}

sqr_rc proto_kiosk_format(const char *store_id, int number, char out[PROTO_KIOSK_ID_MAX]) {
  if(!proto_store_id_valid(store_id) || number < 1 || number > 65535) return SQR_EINVAL;
  snprintf(out, PROTO_KIOSK_ID_MAX, "%s/%d", store_id, number);
  return SQR_OK;
}

int proto_type_known(const char *type) {
  for(size_t i = 0; i < SQR_ARRAY_LEN(known_types); i++)
    if(strcmp(type, known_types[i]) == 0) return 1;
  return 0;
}

/* ---- encoder ----------------------------------------------------------- */

sqr_rc proto_batch_init(proto_batch *b, const char *store_id, int number) {
  memset(b, 0, sizeof *b);
  if(proto_kiosk_format(store_id, number, b->kiosk_id)) return SQR_EINVAL;
  snprintf(b->store_id, sizeof b->store_id, "%s", store_id);
  b->kiosk = number;
  b->bytes = BATCH_OVERHEAD + strlen(b->kiosk_id);
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
  cJSON *root = cJSON_CreateObject(), *arr = NULL;
  if(!root || !cJSON_AddStringToObject(root, "kiosk", b->kiosk_id) ||
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
  for(size_t i = 0; i < b->count; i++) free(b->events[i].payload);
  free(b->events);
  memset(b, 0, sizeof *b);
}

/* Parses exactly len bytes: trailing bytes other than whitespace are an
 * error (cJSON alone would ignore them). */
static cJSON *parse_all(const char *body, size_t len) {
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

/* ---- strict field readers ---------------------------------------------- */

/* A whole number in [min, max]; "path: must be an integer" otherwise. */
static sqr_rc int_of(const cJSON *v, const char *name, const char *path, int64_t min, int64_t max,
                     int64_t *out, proto_error *err) {
  if(!v) return fail(err, 400, "bad_request", "%s%s: missing", path, name);
  if(!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble) ||
     fabs(v->valuedouble) > MAX_SAFE_INT)
    return fail(err, 400, "bad_request", "%s%s: must be an integer", path, name);
  int64_t n = (int64_t)v->valuedouble;
  if(n < min || n > max)
    return fail(err, 400, "bad_request", "%s%s: must be between %lld and %lld", path, name,
                (long long)min, (long long)max);
  *out = n;
  return SQR_OK;
}

static sqr_rc str_of(const cJSON *v, const char *name, const char *path, const char **out,
                     proto_error *err) {
  if(!v) return fail(err, 400, "bad_request", "%s%s: missing", path, name);
  if(!cJSON_IsString(v)) return fail(err, 400, "bad_request", "%s%s: must be a string", path, name);
  *out = v->valuestring;
  return SQR_OK;
}

static sqr_rc get_str(const cJSON *o, const char *name, const char *path, const char **out,
                      proto_error *err) {
  return str_of(cJSON_GetObjectItemCaseSensitive(o, name), name, path, out, err);
}

/* Hex digit value + 1, 0 for anything else: one load per digit (the
 * batch decoder reads two 64-digit hashes per event; sscanf was 7% of
 * it). Upper case is accepted, as crypto_unhex does. */
static const uint8_t hexval1[256] = {
  ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
  ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
  ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Exactly 64 hex digits -> 32 bytes; SQR_EINVAL otherwise. A NUL before
 * the 64th digit stops the loop, so s is never read past its end. */
static sqr_rc unhex32(const char *s, uint8_t out[32]) {
  for(size_t i = 0; i < 32; i++) {
    unsigned hi = hexval1[(unsigned char)s[2 * i]];
    if(!hi) return SQR_EINVAL;
    unsigned lo = hexval1[(unsigned char)s[2 * i + 1]];
    if(!lo) return SQR_EINVAL;
    out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
  }
  return s[64] == '\0' ? SQR_OK : SQR_EINVAL;
}

static sqr_rc hash_of(const cJSON *v, const char *name, const char *path, uint8_t out[32],
                      proto_error *err) {
  const char *s;
  if(str_of(v, name, path, &s, err)) return SQR_EINVAL;
  if(unhex32(s, out))
    return fail(err, 400, "bad_request", "%s%s: must be 64 hex digits", path, name);
  return SQR_OK;
}

/* ---- payload text as sent ---------------------------------------------- */

/* body_hash is SHA-256 of the payload's compact print (cJSON's unformatted
 * output, what the kiosk stored and hashed). Re-printing every parsed
 * payload cost as much as the inserts, so the decoder first looks at the
 * payload's bytes in the body: when they are already exactly what cJSON
 * would print, they are hashed and kept as they are; otherwise the payload
 * is re-printed as before. The check is the same either way, because
 * "canonical" below is only claimed for text that print(parse(text))
 * reproduces byte for byte:
 *   - no whitespace between tokens;
 *   - strings without raw bytes < 0x20 and with no escapes other than
 *     \" \\ \b \f \n \r \t (cJSON prints those back the same; \/ and \u
 *     are printed differently or not always the same, so they fall back);
 *   - numbers only as -?(0|[1-9][0-9]{0,14}), not -0: exact in a double and
 *     printed back digit for digit by both of cJSON's number formats;
 *   - true, false, null; object keys and order are kept by cJSON.
 * The scanner runs only over a body cJSON has accepted, and still checks
 * every bound; anything it does not expect means "fall back". */
typedef struct payload_span {
  const char *p; /* NULL: unknown or not canonical, re-print */
  size_t n;
} payload_span;

static const char *skip_ws(const char *p, const char *e) {
  while(p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* p at '"'; returns just past the closing quote, NULL if there is none.
 * *escaped is set when the string holds any backslash. */
static const char *scan_string(const char *p, const char *e, int *canon, int *escaped) {
  for(p++; p < e; p++) {
    unsigned char c = (unsigned char)*p;
    if(c == '"') return p + 1;
    if(c < 0x20) *canon = 0;
    if(c == '\\') {
      if(escaped) *escaped = 1;
      if(++p >= e) return NULL;
      if(!strchr("\"\\bfnrt", *p) || !*p) *canon = 0;
    }
  }
  return NULL;
}

static int num_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* One number token as cJSON reads it ([0-9+-.eE]+); canonical only as
 * described above. */
static const char *scan_number(const char *p, const char *e, int *canon) {
  const char *s = p;
  while(p < e && num_char(*p)) p++;
  const char *d = s + (*s == '-');
  size_t digits = (size_t)(p - d);
  int ok = digits >= 1 && digits <= 15 && !(d[0] == '0' && digits > 1) && !(d != s && d[0] == '0');
  for(const char *q = d; ok && q < p; q++) ok = *q >= '0' && *q <= '9';
  if(!ok) *canon = 0;
  return p;
}

/* Skips one JSON value starting at p (no leading whitespace); returns its
 * end or NULL. Clears *canon as described above. */
static const char *scan_value(const char *p, const char *e, int *canon) {
  int depth = 0;
  do {
    if(p >= e) return NULL;
    char c = *p;
    if(c == '"') {
      p = scan_string(p, e, canon, NULL);
      if(!p) return NULL;
    } else if(c == '{' || c == '[') {
      depth++, p++;
    } else if(c == '}' || c == ']') {
      if(--depth < 0) return NULL;
      p++;
    } else if(c == ',' || c == ':') {
      if(!depth) return NULL;
      p++;
    } else if(c == '-' || (c >= '0' && c <= '9')) {
      p = scan_number(p, e, canon);
    } else if(c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if(!depth) return NULL;
      *canon = 0;
      p = skip_ws(p, e);
    } else {
      size_t n = c == 't' ? 4 : c == 'f' ? 5 : c == 'n' ? 4 : 0;
      if(!n || (size_t)(e - p) < n ||
         memcmp(p, c == 't' ? "true" : c == 'f' ? "false" : "null", n) != 0)
        return NULL;
      p += n;
    }
  } while(depth > 0);
  return p;
}

/* One element of "events": returns its end or NULL, and sets *span when
 * it is an object whose first "payload" member is canonical text. Any key
 * with a backslash leaves the span unknown (cJSON matches keys after
 * unescaping, so "pay\u006coad" would be its "payload"). */
static const char *scan_event(const char *p, const char *e, payload_span *span) {
  int dummy = 1, escaped = 0, found = 0, canon = 1;
  const char *vp = NULL, *ve = NULL;
  if(p >= e || *p != '{') return scan_value(p, e, &dummy);
  p = skip_ws(p + 1, e);
  if(p < e && *p == '}') return p + 1;
  for(;;) {
    if(p >= e || *p != '"') return NULL;
    const char *k = p;
    if(!(p = scan_string(p, e, &dummy, &escaped))) return NULL;
    int is_payload = !found && p - k == 9 && memcmp(k, "\"payload\"", 9) == 0;
    p = skip_ws(p, e);
    if(p >= e || *p != ':') return NULL;
    p = skip_ws(p + 1, e);
    const char *v = p;
    if(!(p = scan_value(p, e, is_payload ? &canon : &dummy))) return NULL;
    if(is_payload) found = 1, vp = v, ve = p;
    p = skip_ws(p, e);
    if(p < e && *p == ',') {
      p = skip_ws(p + 1, e);
      continue;
    }
    if(p >= e || *p != '}') return NULL;
    break;
  }
  if(found && canon && !escaped) span->p = vp, span->n = (size_t)(ve - vp);
  return p + 1;
}

/* Fills spans[0..n) for the first "events" array of the body; leaves them
 * unknown wherever the layout is not the plain one. */
static void locate_payloads(const char *body, size_t len, payload_span *spans, size_t n) {
  const char *e = body + len, *p = skip_ws(body, e);
  int dummy = 1, escaped = 0;
  if(p >= e || *p != '{') return;
  p = skip_ws(p + 1, e);
  while(p < e && *p == '"') {
    const char *k = p;
    if(!(p = scan_string(p, e, &dummy, &escaped)) || escaped) return;
    int is_events = p - k == 8 && memcmp(k, "\"events\"", 8) == 0;
    p = skip_ws(p, e);
    if(p >= e || *p != ':') return;
    p = skip_ws(p + 1, e);
    if(is_events) {
      if(p >= e || *p != '[') return;
      p = skip_ws(p + 1, e);
      for(size_t i = 0; p < e && *p != ']'; i++) {
        payload_span ignored;
        if(!(p = scan_event(p, e, i < n ? &spans[i] : &ignored))) {
          memset(spans, 0, n * sizeof *spans); /* lost our place: trust none */
          return;
        }
        p = skip_ws(p, e);
        if(p < e && *p == ',') p = skip_ws(p + 1, e);
        else if(p >= e || *p != ']') {
          memset(spans, 0, n * sizeof *spans);
          return;
        }
      }
      return;
    }
    if(!(p = scan_value(p, e, &dummy))) return;
    p = skip_ws(p, e);
    if(p < e && *p == ',') p = skip_ws(p + 1, e);
  }
}

/* ---- decoder ----------------------------------------------------------- */

/* The members decode_event reads; the first of each name, as
 * cJSON_GetObjectItemCaseSensitive would find it, in one pass. */
typedef struct event_fields {
  const cJSON *seq, *type, *ts_ms, *payload, *body_hash, *hash, *redacted;
} event_fields;

static void event_fields_of(const cJSON *e, event_fields *f) {
  memset(f, 0, sizeof *f);
  for(const cJSON *c = e->child; c; c = c->next) {
    const char *k = c->string;
    const cJSON **slot = NULL;
    if(!k) continue;
    switch(k[0]) {
    case 's': slot = strcmp(k, "seq") == 0 ? &f->seq : NULL; break;
    case 't':
      slot = strcmp(k, "type") == 0 ? &f->type : strcmp(k, "ts_ms") == 0 ? &f->ts_ms : NULL;
      break;
    case 'p': slot = strcmp(k, "payload") == 0 ? &f->payload : NULL; break;
    case 'b': slot = strcmp(k, "body_hash") == 0 ? &f->body_hash : NULL; break;
    case 'h': slot = strcmp(k, "hash") == 0 ? &f->hash : NULL; break;
    case 'r': slot = strcmp(k, "redacted") == 0 ? &f->redacted : NULL; break;
    default: break;
    }
    if(slot && !*slot) *slot = c;
  }
}

static sqr_rc decode_event(const cJSON *e, size_t i, const payload_span *span, proto_event *ev,
                           proto_error *err) {
  char path[32];
  snprintf(path, sizeof path, "events[%zu].", i);
  if(!cJSON_IsObject(e)) return fail(err, 400, "bad_request", "events[%zu]: must be an object", i);
  event_fields f;
  event_fields_of(e, &f);
  const char *type;
  if(int_of(f.seq, "seq", path, 1, INT64_MAX, &ev->seq, err) ||
     int_of(f.ts_ms, "ts_ms", path, 0, INT64_MAX, &ev->ts_ms, err) ||
     str_of(f.type, "type", path, &type, err) ||
     hash_of(f.body_hash, "body_hash", path, ev->body_hash, err) ||
     hash_of(f.hash, "hash", path, ev->hash, err))
    return SQR_EINVAL;
  if(err) err->seq = ev->seq;
  size_t tlen = strlen(type);
  if(tlen >= STORE_EVENT_TYPE_MAX || !proto_type_known(type))
    return fail(err, 422, "unknown_type", "%stype: unknown event type \"%.*s\"", path,
                STORE_EVENT_TYPE_MAX, type);
  memcpy(ev->type, type, tlen + 1);
  if(f.redacted && !cJSON_IsBool(f.redacted))
    return fail(err, 400, "bad_request", "%sredacted: must be true or false", path);
  ev->redacted = cJSON_IsTrue(f.redacted);
  if(!f.payload) return fail(err, 400, "bad_request", "%spayload: missing", path);
  if(!cJSON_IsObject(f.payload))
    return fail(err, 400, "bad_request", "%spayload: must be an object", path);
  if(span->p) { /* the bytes sent are the compact print: keep them */
    ev->payload_len = span->n;
    if(span->n <= PROTO_MAX_PAYLOAD) {
      if(!(ev->payload = malloc(span->n + 1))) return SQR_ENOMEM;
      memcpy(ev->payload, span->p, span->n);
      ev->payload[span->n] = '\0';
    }
  } else {
    if(!(ev->payload = cJSON_PrintUnformatted(f.payload))) return SQR_ENOMEM;
    ev->payload_len = strlen(ev->payload);
  }
  if(ev->payload_len > PROTO_MAX_PAYLOAD)
    return fail(err, 413, "too_large", "%spayload: %zu bytes, more than the limit of %d", path,
                ev->payload_len, PROTO_MAX_PAYLOAD);
  if(!ev->redacted) {
    uint8_t h[32];
    if(crypto_sha256(ev->payload, ev->payload_len, h)) return SQR_ECRYPTO;
    if(!crypto_ct_equal(h, ev->body_hash, 32))
      return fail(err, 422, "chain_broken", "%sbody_hash: does not match the payload", path);
  }
  if(err) err->seq = 0;
  return SQR_OK;
}

sqr_rc proto_batch_decode(const char *body, size_t len, proto_batch *out, proto_error *err) {
  memset(out, 0, sizeof *out);
  if(err) memset(err, 0, sizeof *err);
  if(len > PROTO_MAX_INFLATED)
    return fail(err, 413, "too_large", "body: %zu bytes, more than the limit of %d", len,
                PROTO_MAX_INFLATED);
  cJSON *root = parse_all(body, len);
  payload_span *spans = NULL;
  sqr_rc rc = SQR_EINVAL;
  if(!root) {
    fail(err, 400, "bad_request", "body: not valid JSON");
    goto out;
  }
  if(!cJSON_IsObject(root)) {
    fail(err, 400, "bad_request", "body: must be a JSON object");
    goto out;
  }
  const char *kiosk;
  if(get_str(root, "kiosk", "", &kiosk, err)) goto out;
  if(proto_kiosk_parse(kiosk, out->store_id, &out->kiosk)) {
    fail(err, 400, "bad_request", "kiosk: must be STORE/NUMBER (A-Z 0-9 -, 1..65535)");
    goto out;
  }
  snprintf(out->kiosk_id, sizeof out->kiosk_id, "%s", kiosk);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "events");
  if(!arr) {
    fail(err, 400, "bad_request", "events: missing");
    goto out;
  }
  if(!cJSON_IsArray(arr)) {
    fail(err, 400, "bad_request", "events: must be an array");
    goto out;
  }
  int n = cJSON_GetArraySize(arr);
  if(n < 1) {
    fail(err, 400, "bad_request", "events: must hold at least one event");
    goto out;
  }
  if(n > PROTO_MAX_EVENTS) {
    fail(err, 413, "too_large", "events: %d events, more than the limit of %d", n,
         PROTO_MAX_EVENTS);
    goto out;
  }
  out->events = calloc((size_t)n, sizeof *out->events);
  spans = calloc((size_t)n, sizeof *spans);
  if(!out->events || !spans) {
    rc = SQR_ENOMEM;
    goto out;
  }
  out->cap = (size_t)n;
  locate_payloads(body, len, spans, (size_t)n);
  size_t i = 0;
  for(const cJSON *e = arr->child; e; e = e->next, i++) {
    proto_event *ev = &out->events[i];
    out->count = i + 1; /* so clear frees a half-decoded payload */
    if((rc = decode_event(e, i, &spans[i], ev, err))) goto out;
    if(i > 0 && ev->seq != out->events[i - 1].seq + 1) {
      rc = fail(err, 400, "bad_request", "events[%zu].seq: %lld does not follow %lld (not contiguous)",
                i, (long long)ev->seq, (long long)out->events[i - 1].seq);
      if(err) err->seq = ev->seq;
      goto out;
    }
  }
  rc = SQR_OK;
out:
  free(spans);
  cJSON_Delete(root);
  if(rc) {
    if(rc == SQR_ENOMEM) fail(err, 500, "internal", "out of memory");
    proto_batch_clear(out);
  }
  return rc;
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
     fabs(v->valuedouble) > MAX_SAFE_INT) {
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
  cJSON *root = parse_all(body, len);
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
  cJSON *root = parse_all(body, len);
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
  if(len > PROTO_MAX_ENROLL)
    return fail(err, 413, "too_large", "body: %zu bytes, more than the limit of %d", len,
                PROTO_MAX_ENROLL);
  cJSON *root = parse_all(body, len);
  sqr_rc rc = SQR_EINVAL;
  const char *code, *csr;
  if(!root) {
    fail(err, 400, "bad_request", "body: not valid JSON");
    goto out;
  }
  if(!cJSON_IsObject(root)) {
    fail(err, 400, "bad_request", "body: must be a JSON object");
    goto out;
  }
  if(get_str(root, "code", "", &code, err) || get_str(root, "csr", "", &csr, err)) goto out;
  if(!code[0] || strlen(code) > PROTO_CODE_MAX) {
    fail(err, 400, "bad_request", "code: must be 1..%d characters", PROTO_CODE_MAX);
    goto out;
  }
  if(!strstr(csr, "-----BEGIN CERTIFICATE REQUEST-----") ||
     !strstr(csr, "-----END CERTIFICATE REQUEST-----")) {
    fail(err, 400, "bad_request", "csr: must be a PEM certificate request");
    goto out;
  }
  snprintf(out->code, sizeof out->code, "%s", code);
  out->csr = strdup(csr);
  rc = out->csr ? SQR_OK : SQR_ENOMEM;
  if(rc) fail(err, 500, "internal", "out of memory");
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

static sqr_rc take_pem(const cJSON *root, const char *name, const char *kind, char **out,
                       char *err, size_t errlen) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
  if(!cJSON_IsString(v) || !strstr(v->valuestring, kind)) {
    snprintf(err, errlen, "enrolment answer: %s missing or not a PEM %s", name, kind);
    return SQR_EPROTO;
  }
  *out = strdup(v->valuestring);
  return *out ? SQR_OK : SQR_ENOMEM;
}

sqr_rc proto_enroll_answer_decode(const char *body, size_t len, proto_enroll_answer *out,
                                  char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if(len > PROTO_MAX_ENROLL_ANSWER) {
    snprintf(err, errlen, "enrolment answer: %zu bytes, more than %d", len,
             PROTO_MAX_ENROLL_ANSWER);
    return SQR_EPROTO;
  }
  cJSON *root = parse_all(body, len);
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
