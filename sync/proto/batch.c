/* batch.c — decoding /v1/events bodies (proto_batch_decode, see proto.h).
 *
 * HQ's hottest path: every event a kiosk sends passes here once, so it is
 * built to cost little next to storing the event. Two decoders, one set of
 * checks:
 *  - proto__batch_parse reads the body in one pass without a cJSON tree:
 *    the envelope and the seven event fields directly, each payload
 *    validated where it lies and, when it already is the compact print
 *    (the usual case), hashed and copied once. It only answers for text it
 *    can show cJSON accepts the same way; for anything else (any malformed
 *    body, escapes in keys, a seq written as 1e3, nesting past
 *    FAST_MAX_DEPTH...) it gives up without an answer;
 *  - proto__batch_decode_tree, the cJSON decoder, answers those bodies. It
 *    is also the reference the differential test
 *    (tests/sync/test_proto_diff.c) and fuzz_batch hold the parser to.
 * Both feed the same checks (check_envelope, check_event, check_payload),
 * in the order HQ has always refused in: JSON validity, kiosk, events,
 * behind, then each event in turn, so a refusal names the same field with
 * the same words either way.
 *
 * Never logs a body (bodies hold sealed phone numbers).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "proto.h"
#include "proto_int.h"

/* ---- one value as the checks see it ------------------------------------ */

typedef enum jkind {
  JV_MISSING = 0,
  JV_NUMBER,
  JV_STRING,
  JV_TRUE,
  JV_FALSE,
  JV_OBJECT,
  JV_OTHER
} jkind;

typedef struct jval {
  jkind kind;
  double num;    /* JV_NUMBER, as cJSON's strtod reads it */
  const char *s; /* JV_STRING: n bytes, unescaped, no NUL among them */
  size_t n;
} jval;

/* The members of one event the checks read: the first of each name, as
 * cJSON_GetObjectItemCaseSensitive finds it. */
typedef struct event_in {
  jval seq, type, ts_ms, payload, body_hash, hash, redacted;
} event_in;

/* Hex digit value + 1, 0 for anything else: one load per digit. Upper
 * case is accepted, as crypto_unhex does. */
static const uint8_t hexval1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static sqr_rc unhex32(const char *s, size_t n, uint8_t out[32]) {
  if(n != 64) return SQR_EINVAL;
  for(size_t i = 0; i < 32; i++) {
    unsigned hi = hexval1[(unsigned char)s[2 * i]], lo = hexval1[(unsigned char)s[2 * i + 1]];
    if(!hi || !lo) return SQR_EINVAL;
    out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
  }
  return SQR_OK;
}

/* ---- the checks both decoders share ------------------------------------ */

/* A whole number in [min, max]; "events[i].name: must be an integer". */
static sqr_rc need_int(const jval *v, size_t i, const char *name, int64_t min, int64_t max,
                       int64_t *out, proto_error *err) {
  if(v->kind == JV_MISSING)
    return proto__fail(err, 400, "bad_request", "events[%zu].%s: missing", i, name);
  if(v->kind != JV_NUMBER || !isfinite(v->num) || v->num != floor(v->num) ||
     fabs(v->num) > PROTO__MAX_SAFE_INT)
    return proto__fail(err, 400, "bad_request", "events[%zu].%s: must be an integer", i, name);
  int64_t n = (int64_t)v->num;
  if(n < min || n > max)
    return proto__fail(err, 400, "bad_request", "events[%zu].%s: must be between %lld and %lld", i,
                       name, (long long)min, (long long)max);
  *out = n;
  return SQR_OK;
}

static sqr_rc need_str(const jval *v, size_t i, const char *name, proto_error *err) {
  if(v->kind == JV_MISSING)
    return proto__fail(err, 400, "bad_request", "events[%zu].%s: missing", i, name);
  if(v->kind != JV_STRING)
    return proto__fail(err, 400, "bad_request", "events[%zu].%s: must be a string", i, name);
  return SQR_OK;
}

static sqr_rc need_hash(const jval *v, size_t i, const char *name, uint8_t out[32],
                        proto_error *err) {
  if(need_str(v, i, name, err)) return SQR_EINVAL;
  if(unhex32(v->s, v->n, out))
    return proto__fail(err, 400, "bad_request", "events[%zu].%s: must be 64 hex digits", i, name);
  return SQR_OK;
}

/* Everything about events[i] up to its payload. Sets err->seq once seq is
 * known, as HQ names the event at fault from there on. */
static sqr_rc check_event(const event_in *f, size_t i, proto_event *ev, proto_error *err) {
  if(need_int(&f->seq, i, "seq", 1, INT64_MAX, &ev->seq, err) ||
     need_int(&f->ts_ms, i, "ts_ms", 0, INT64_MAX, &ev->ts_ms, err) ||
     need_str(&f->type, i, "type", err) ||
     need_hash(&f->body_hash, i, "body_hash", ev->body_hash, err) ||
     need_hash(&f->hash, i, "hash", ev->hash, err))
    return SQR_EINVAL;
  if(err) err->seq = ev->seq;
  size_t tlen = f->type.n;
  if(tlen < STORE_EVENT_TYPE_MAX) {
    memcpy(ev->type, f->type.s, tlen);
    ev->type[tlen] = '\0';
  }
  if(tlen >= STORE_EVENT_TYPE_MAX || !proto_type_known(ev->type))
    return proto__fail(err, 422, "unknown_type", "events[%zu].type: unknown event type \"%.*s\"", i,
                       (int)(tlen < STORE_EVENT_TYPE_MAX ? tlen : STORE_EVENT_TYPE_MAX), f->type.s);
  if(f->redacted.kind != JV_MISSING && f->redacted.kind != JV_TRUE && f->redacted.kind != JV_FALSE)
    return proto__fail(err, 400, "bad_request", "events[%zu].redacted: must be true or false", i);
  ev->redacted = f->redacted.kind == JV_TRUE;
  if(f->payload.kind == JV_MISSING)
    return proto__fail(err, 400, "bad_request", "events[%zu].payload: missing", i);
  if(f->payload.kind != JV_OBJECT)
    return proto__fail(err, 400, "bad_request", "events[%zu].payload: must be an object", i);
  return SQR_OK;
}

/* The payload's compact print is in ev->payload (or, over the limit, only
 * its length in payload_len): size, then body_hash unless redacted. */
static sqr_rc check_payload(proto_event *ev, size_t i, proto_error *err) {
  if(ev->payload_len > PROTO_MAX_PAYLOAD)
    return proto__fail(err, 413, "too_large",
                       "events[%zu].payload: %zu bytes, more than the limit of %d", i,
                       ev->payload_len, PROTO_MAX_PAYLOAD);
  if(!ev->redacted) {
    uint8_t h[32];
    if(crypto_sha256(ev->payload, ev->payload_len, h)) return SQR_ECRYPTO;
    if(!crypto_ct_equal(h, ev->body_hash, 32))
      return proto__fail(err, 422, "chain_broken",
                         "events[%zu].body_hash: does not match the payload", i);
  }
  if(err) err->seq = 0;
  return SQR_OK;
}

static sqr_rc check_follows(const proto_batch *b, size_t i, proto_error *err) {
  const proto_event *ev = &b->events[i];
  if(i == 0 || ev->seq == b->events[i - 1].seq + 1) return SQR_OK;
  proto__fail(err, 400, "bad_request",
              "events[%zu].seq: %lld does not follow %lld (not contiguous)", i, (long long)ev->seq,
              (long long)b->events[i - 1].seq);
  if(err) err->seq = ev->seq;
  return SQR_EINVAL;
}

/* What the body's first "events" member is. */
typedef enum events_kind { EVENTS_MISSING = 0, EVENTS_NOT_ARRAY, EVENTS_ARRAY } events_kind;

/* kiosk, events and behind, checked once the whole body is known to be
 * JSON. n_events: the array's length. */
static sqr_rc check_envelope(const jval *kiosk, events_kind events, size_t n_events,
                             const jval *behind, proto_batch *out, proto_error *err) {
  if(kiosk->kind == JV_MISSING) return proto__fail(err, 400, "bad_request", "kiosk: missing");
  if(kiosk->kind != JV_STRING)
    return proto__fail(err, 400, "bad_request", "kiosk: must be a string");
  char id[PROTO_KIOSK_ID_MAX];
  if(kiosk->n >= sizeof id) /* longer than any valid id */
    return proto__fail(err, 400, "bad_request",
                       "kiosk: must be STORE/NUMBER or STORE/NUMBER@INCARNATION (A-Z 0-9 -, 1..65535, 2..9999)");
  memcpy(id, kiosk->s, kiosk->n);
  id[kiosk->n] = '\0';
  if(proto_kiosk_parse(id, out->store_id, &out->kiosk, &out->incarnation))
    return proto__fail(err, 400, "bad_request",
                       "kiosk: must be STORE/NUMBER or STORE/NUMBER@INCARNATION (A-Z 0-9 -, 1..65535, 2..9999)");
  memcpy(out->kiosk_id, id, kiosk->n + 1);
  if(events == EVENTS_MISSING) return proto__fail(err, 400, "bad_request", "events: missing");
  if(events != EVENTS_ARRAY)
    return proto__fail(err, 400, "bad_request", "events: must be an array");
  if(n_events < 1)
    return proto__fail(err, 400, "bad_request", "events: must hold at least one event");
  if(n_events > PROTO_MAX_EVENTS)
    return proto__fail(err, 413, "too_large", "events: %d events, more than the limit of %d",
                       (int)n_events, PROTO_MAX_EVENTS);
  /* optional, so that kiosks from before it stay valid */
  out->behind = -1;
  if(behind->kind == JV_MISSING) return SQR_OK;
  if(behind->kind != JV_NUMBER || !isfinite(behind->num) || behind->num != floor(behind->num) ||
     fabs(behind->num) > PROTO__MAX_SAFE_INT)
    return proto__fail(err, 400, "bad_request", "behind: must be an integer");
  if(behind->num < 0)
    return proto__fail(err, 400, "bad_request", "behind: must be between 0 and %.0f",
                       PROTO__MAX_SAFE_INT);
  out->behind = (int64_t)behind->num;
  return SQR_OK;
}

/* ---- the cJSON decoder -------------------------------------------------- */

static void jval_of(const cJSON *c, jval *v) {
  memset(v, 0, sizeof *v);
  if(!c) return;
  if(cJSON_IsNumber(c)) {
    v->kind = JV_NUMBER;
    v->num = c->valuedouble;
  } else if(cJSON_IsString(c)) {
    v->kind = JV_STRING;
    v->s = c->valuestring;
    v->n = strlen(c->valuestring);
  } else if(cJSON_IsTrue(c)) {
    v->kind = JV_TRUE;
  } else if(cJSON_IsFalse(c)) {
    v->kind = JV_FALSE;
  } else {
    v->kind = cJSON_IsObject(c) ? JV_OBJECT : JV_OTHER;
  }
}

static sqr_rc decode_event_tree(const cJSON *e, size_t i, proto_event *ev, proto_error *err) {
  if(!cJSON_IsObject(e))
    return proto__fail(err, 400, "bad_request", "events[%zu]: must be an object", i);
  const cJSON *seq = NULL, *type = NULL, *ts_ms = NULL, *payload = NULL, *body_hash = NULL,
              *hash = NULL, *redacted = NULL;
  for(const cJSON *c = e->child; c; c = c->next) {
    const char *k = c->string;
    const cJSON **slot = NULL;
    if(!k) continue;
    if(strcmp(k, "seq") == 0)
      slot = &seq;
    else if(strcmp(k, "type") == 0)
      slot = &type;
    else if(strcmp(k, "ts_ms") == 0)
      slot = &ts_ms;
    else if(strcmp(k, "payload") == 0)
      slot = &payload;
    else if(strcmp(k, "body_hash") == 0)
      slot = &body_hash;
    else if(strcmp(k, "hash") == 0)
      slot = &hash;
    else if(strcmp(k, "redacted") == 0)
      slot = &redacted;
    if(slot && !*slot) *slot = c;
  }
  event_in f;
  jval_of(seq, &f.seq);
  jval_of(type, &f.type);
  jval_of(ts_ms, &f.ts_ms);
  jval_of(payload, &f.payload);
  jval_of(body_hash, &f.body_hash);
  jval_of(hash, &f.hash);
  jval_of(redacted, &f.redacted);
  if(check_event(&f, i, ev, err)) return SQR_EINVAL;
  if(!(ev->payload = cJSON_PrintUnformatted(payload))) return SQR_ENOMEM;
  ev->payload_len = strlen(ev->payload);
  return check_payload(ev, i, err);
}

sqr_rc proto__batch_decode_tree(const char *body, size_t len, proto_batch *out, proto_error *err) {
  memset(out, 0, sizeof *out);
  if(err) memset(err, 0, sizeof *err);
  cJSON *root = proto__parse_request(body, len, PROTO_MAX_INFLATED, err);
  if(!root) return SQR_EINVAL;
  sqr_rc rc = SQR_EINVAL;
  if(!cJSON_IsObject(root)) {
    proto__fail(err, 400, "bad_request", "body: must be a JSON object");
    goto out;
  }
  jval kiosk, behind;
  jval_of(cJSON_GetObjectItemCaseSensitive(root, "kiosk"), &kiosk);
  jval_of(cJSON_GetObjectItemCaseSensitive(root, "behind"), &behind);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "events");
  int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
  if(check_envelope(&kiosk,
                    !arr                 ? EVENTS_MISSING
                    : cJSON_IsArray(arr) ? EVENTS_ARRAY
                                         : EVENTS_NOT_ARRAY,
                    (size_t)n, &behind, out, err))
    goto out;
  if(!(out->events = calloc((size_t)n, sizeof *out->events))) {
    rc = SQR_ENOMEM;
    goto out;
  }
  out->cap = (size_t)n;
  size_t i = 0;
  for(const cJSON *e = arr->child; e; e = e->next, i++) {
    out->count = i + 1; /* so clear frees a half-decoded payload */
    if((rc = decode_event_tree(e, i, &out->events[i], err)) || (rc = check_follows(out, i, err)))
      goto out;
  }
  rc = SQR_OK;
out:
  cJSON_Delete(root);
  if(rc) {
    if(rc == SQR_ENOMEM) proto__fail(err, 500, "internal", "out of memory");
    proto_batch_clear(out);
  }
  return rc;
}

/* ---- the one-pass parser ------------------------------------------------ */

/* What this parser vouches for, against cJSON 1.7's parser:
 *   - whitespace between tokens is any byte <= 0x20, as cJSON skips it;
 *     after the body only space, tab, CR, LF (proto__parse_all);
 *   - strings: any byte but '"', '\\'; the escapes \" \\ \/ \b \f \n \r \t
 *     and \u with four hex digits (a surrogate only as a proper pair);
 *     keys of the envelope and of events, and the strings the checks read,
 *     without escapes or bytes < 0x20 (cJSON compares them unescaped and
 *     NUL-truncated; those go to the tree decoder);
 *   - numbers -?D+(.D+)?([eE][+-]?D+)?, at most 63 bytes, not followed by
 *     a byte cJSON would take into the number (it hands the run to strtod,
 *     which reads all of it); seq, ts_ms and behind only as -?D{1,15},
 *     read exactly;
 *   - nesting up to FAST_MAX_DEPTH, well inside cJSON's 1000.
 * Everything else: "unsure", and the tree decoder answers.
 *
 * A payload counts as canonical (its bytes are exactly cJSON's compact
 * print of it, so they are hashed and kept as they are) when it has no
 * whitespace, no raw bytes < 0x20 in strings, no escapes but \" \\ \b \f
 * \n \r \t, and numbers only as -?(0|[1-9]D{0,14}) other than -0: exact in
 * a double and printed back digit for digit by both of cJSON's number
 * formats. Any other payload is parsed alone and printed by cJSON. */
#define FAST_MAX_DEPTH  512
#define MAX_NUMBER_TEXT 63 /* cJSON copies at most this much of a number */

/* 1: ends a plain stretch of string ('"', '\\', bytes < 0x20). */
static const uint8_t str_stop[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
    [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
    [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
    [0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1,  ['\\'] = 1,
};

static int is_digit(char c) {
  return (unsigned)(c - '0') < 10;
}

/* The bytes cJSON's number reader takes ([0-9+-.eE]). */
static int number_byte(char c) {
  return is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static const char *skip_ws(const char *p, const char *e) {
  while(p < e && (unsigned char)*p <= 0x20)
    p++;
  return p;
}

/* Same, clearing *canon when anything was skipped. */
static const char *skip_ws_c(const char *p, const char *e, int *canon) {
  if(p < e && (unsigned char)*p <= 0x20) {
    *canon = 0;
    p = skip_ws(p + 1, e);
  }
  return p;
}

/* Four hex digits at p (before e) -> *cp; 0 if not. */
static int hex4(const char *p, const char *e, unsigned *cp) {
  if(e - p < 4) return 0;
  unsigned v = 0;
  for(int k = 0; k < 4; k++) {
    unsigned d = hexval1[(unsigned char)p[k]];
    if(!d) return 0;
    v = v << 4 | (d - 1);
  }
  *cp = v;
  return 1;
}

/* p just past an opening quote. Returns just past the closing one, or NULL
 * when unsure. */
static const char *str_any(const char *p, const char *e, int *canon) {
  for(;;) {
    while(p < e && !str_stop[(unsigned char)*p])
      p++;
    if(p >= e) return NULL;
    if(*p == '"') return p + 1;
    if(*p != '\\') { /* a raw control byte: cJSON keeps it and prints it escaped */
      *canon = 0;
      p++;
      continue;
    }
    if(e - p < 2) return NULL;
    switch(p[1]) {
    case '"':
    case '\\':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      p += 2;
      break;
    case '/':
      *canon = 0;
      p += 2;
      break;
    case 'u': {
      unsigned hi, lo;
      *canon = 0;
      if(!hex4(p + 2, e, &hi) || (hi >= 0xDC00 && hi <= 0xDFFF)) return NULL;
      if(hi >= 0xD800 && hi <= 0xDBFF) {
        if(e - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, e, &lo) || lo < 0xDC00 ||
           lo > 0xDFFF)
          return NULL;
        p += 12;
      } else {
        p += 6;
      }
      break;
    }
    default:
      return NULL;
    }
  }
}

/* A string the checks read, p just past the opening quote: plain bytes
 * only. Returns just past the closing quote, or NULL when unsure. */
static const char *str_plain(const char *p, const char *e, const char **s, size_t *n) {
  const char *b = p;
  while(p < e && !str_stop[(unsigned char)*p])
    p++;
  if(p >= e || *p != '"') return NULL;
  *s = b;
  *n = (size_t)(p - b);
  return p + 1;
}

/* p at '-' or a digit. Returns the number's end or NULL when unsure; *iv
 * and *plain (-?D{1,15}: *iv is its exact value) for the integer fields. */
static const char *number(const char *p, const char *e, int *canon, int64_t *iv, int *plain) {
  const char *s = p;
  int neg = *p == '-', frac = 0;
  p += neg;
  const char *d = p;
  uint64_t v = 0;
  while(p < e && is_digit(*p))
    v = v * 10 + (uint64_t)(*p++ - '0'); /* wraps past 19 digits: unused then */
  size_t nd = (size_t)(p - d);
  if(!nd) return NULL;
  if(p < e && *p == '.') {
    const char *f = ++p;
    while(p < e && is_digit(*p))
      p++;
    if(p == f) return NULL;
    frac = 1;
  }
  if(p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if(p < e && (*p == '+' || *p == '-')) p++;
    const char *x = p;
    while(p < e && is_digit(*p))
      p++;
    if(p == x) return NULL;
    frac = 1;
  }
  if((p < e && number_byte(*p)) || p - s > MAX_NUMBER_TEXT) return NULL;
  *plain = !frac && nd <= 15;
  if(!*plain || (d[0] == '0' && (nd > 1 || neg))) *canon = 0;
  *iv = !*plain ? 0 : neg ? -(int64_t)v : (int64_t)v;
  return p;
}

static const char *literal(const char *p, const char *e, const char *word, size_t n) {
  return (size_t)(e - p) >= n && memcmp(p, word, n) == 0 ? p + n : NULL;
}

/* Any JSON value at p (whitespace skipped) inside depth containers.
 * Returns just past it, or NULL when unsure. Clears *canon as above. */
static const char *value_any(const char *p, const char *e, int depth, int *canon) {
  char close[FAST_MAX_DEPTH]; /* '}' or ']' for each open container */
  int sp = 0;
  enum { VALUE, KEY, AFTER } st = VALUE;
  for(;;) {
    if(st == KEY) {
      if(p >= e || *p != '"' || !(p = str_any(p + 1, e, canon))) return NULL;
      p = skip_ws_c(p, e, canon);
      if(p >= e || *p != ':') return NULL;
      p = skip_ws_c(p + 1, e, canon);
      st = VALUE;
    }
    if(st == VALUE) {
      if(p >= e) return NULL;
      int64_t iv;
      int plain;
      switch(*p) {
      case '{':
      case '[':
        if(depth + sp >= FAST_MAX_DEPTH) return NULL;
        close[sp++] = *p == '{' ? '}' : ']';
        p = skip_ws_c(p + 1, e, canon);
        if(p < e && *p == close[sp - 1]) {
          sp--, p++;
          st = AFTER;
        } else {
          st = close[sp - 1] == '}' ? KEY : VALUE;
        }
        continue;
      case '"':
        p = str_any(p + 1, e, canon);
        break;
      case 't':
        p = literal(p, e, "true", 4);
        break;
      case 'f':
        p = literal(p, e, "false", 5);
        break;
      case 'n':
        p = literal(p, e, "null", 4);
        break;
      default:
        p = *p == '-' || is_digit(*p) ? number(p, e, canon, &iv, &plain) : NULL;
        break;
      }
      if(!p) return NULL;
      st = AFTER;
    }
    /* AFTER: a value just ended */
    if(!sp) return p;
    p = skip_ws_c(p, e, canon);
    if(p >= e) return NULL;
    if(*p == ',') {
      p = skip_ws_c(p + 1, e, canon);
      st = close[sp - 1] == '}' ? KEY : VALUE;
    } else if(*p == close[sp - 1]) {
      sp--, p++;
    } else {
      return NULL;
    }
  }
}

/* One member value the checks read, at p (whitespace skipped), into v. */
static const char *read_field(const char *p, const char *e, int depth, jval *v) {
  int canon = 1, plain = 0;
  int64_t iv;
  if(p >= e) return NULL;
  switch(*p) {
  case '"':
    v->kind = JV_STRING;
    return str_plain(p + 1, e, &v->s, &v->n);
  case 't':
    v->kind = JV_TRUE;
    return literal(p, e, "true", 4);
  case 'f':
    v->kind = JV_FALSE;
    return literal(p, e, "false", 5);
  case '{':
    v->kind = JV_OBJECT;
    return value_any(p, e, depth, &canon);
  default:
    if(*p == '-' || is_digit(*p)) {
      v->kind = JV_NUMBER;
      p = number(p, e, &canon, &iv, &plain);
      if(!plain) return NULL; /* 1e3, 2.0, 16+ digits: strtod's to read */
      v->num = (double)iv;
      return p;
    }
    v->kind = JV_OTHER;
    return value_any(p, e, depth, &canon);
  }
}

typedef struct parse_state {
  proto_batch *out;
  size_t n_events;   /* elements of the events array, all of them */
  int failed;        /* an event was refused: later ones are only read */
  sqr_rc rc;         /* and why */
  proto_error everr; /* reported only if nothing before it is wrong */
} parse_state;

static sqr_rc push_event(parse_state *ps, proto_event **ev) {
  proto_batch *b = ps->out;
  if(b->count == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    if(cap > PROTO_MAX_EVENTS) cap = PROTO_MAX_EVENTS;
    proto_event *e = realloc(b->events, cap * sizeof *e);
    if(!e) return SQR_ENOMEM;
    b->events = e;
    b->cap = cap;
  }
  *ev = &b->events[b->count++];
  memset(*ev, 0, sizeof **ev);
  return SQR_OK;
}

/* The payload of events[i]: its compact print into ev, checked. */
static sqr_rc take_payload(const char *p, size_t n, int canon, proto_event *ev, size_t i,
                           proto_error *err, int *unsure) {
  if(canon) {
    ev->payload_len = n;
    if(n <= PROTO_MAX_PAYLOAD) {
      if(!(ev->payload = malloc(n + 1))) return SQR_ENOMEM;
      memcpy(ev->payload, p, n);
      ev->payload[n] = '\0';
    }
  } else {
    cJSON *t = cJSON_ParseWithLength(p, n);
    if(!t) { /* validated above, so not expected: let the tree decoder judge */
      *unsure = 1;
      return SQR_EINVAL;
    }
    ev->payload = cJSON_PrintUnformatted(t);
    cJSON_Delete(t);
    if(!ev->payload) return SQR_ENOMEM;
    ev->payload_len = strlen(ev->payload);
  }
  return check_payload(ev, i, err);
}

/* One element of the events array at p, inside the array (depth 2).
 * Decodes it unless an earlier event was refused or the array is already
 * past the limit. Returns its end, or NULL when unsure. */
static const char *event_elem(const char *p, const char *e, parse_state *ps, int *unsure) {
  size_t i = ps->n_events++;
  int decode = !ps->failed && i < PROTO_MAX_EVENTS;
  int canon = 1;
  if(*p != '{') {
    if(!(p = value_any(p, e, 2, &canon))) return NULL;
    if(decode) {
      ps->rc = proto__fail(&ps->everr, 400, "bad_request", "events[%zu]: must be an object", i);
      ps->failed = 1;
    }
    return p;
  }
  event_in f;
  memset(&f, 0, sizeof f);
  const char *pay = NULL;
  size_t pay_n = 0;
  int pay_canon = 1;
  p = skip_ws(p + 1, e);
  if(p < e && *p == '}') {
    p++;
  } else {
    for(;;) {
      const char *k;
      size_t kn;
      if(p >= e || *p != '"' || !(p = str_plain(p + 1, e, &k, &kn))) return NULL;
      p = skip_ws(p, e);
      if(p >= e || *p != ':') return NULL;
      p = skip_ws(p + 1, e);
      jval *slot = NULL;
      switch(kn) {
      case 3:
        slot = memcmp(k, "seq", 3) == 0 ? &f.seq : NULL;
        break;
      case 4:
        slot = memcmp(k, "type", 4) == 0 ? &f.type : memcmp(k, "hash", 4) == 0 ? &f.hash : NULL;
        break;
      case 5:
        slot = memcmp(k, "ts_ms", 5) == 0 ? &f.ts_ms : NULL;
        break;
      case 7:
        slot = memcmp(k, "payload", 7) == 0 ? &f.payload : NULL;
        break;
      case 8:
        slot = memcmp(k, "redacted", 8) == 0 ? &f.redacted : NULL;
        break;
      case 9:
        slot = memcmp(k, "body_hash", 9) == 0 ? &f.body_hash : NULL;
        break;
      default:
        break;
      }
      if(slot && slot->kind != JV_MISSING) slot = NULL; /* a repeat: the first one counts */
      if(slot == &f.payload && p < e && *p == '{') {
        const char *v = p;
        if(!(p = value_any(p, e, 3, &pay_canon))) return NULL;
        f.payload.kind = JV_OBJECT;
        pay = v, pay_n = (size_t)(p - v);
      } else if(slot) {
        if(!(p = read_field(p, e, 3, slot))) return NULL;
      } else {
        if(!(p = value_any(p, e, 3, &canon))) return NULL;
      }
      p = skip_ws(p, e);
      if(p < e && *p == ',') {
        p = skip_ws(p + 1, e);
        continue;
      }
      if(p >= e || *p != '}') return NULL;
      p++;
      break;
    }
  }
  if(!decode) return p;
  proto_event *ev;
  sqr_rc rc;
  if((rc = push_event(ps, &ev)) || (rc = check_event(&f, i, ev, &ps->everr)) ||
     (rc = take_payload(pay, pay_n, pay_canon, ev, i, &ps->everr, unsure)) ||
     (rc = check_follows(ps->out, i, &ps->everr))) {
    ps->rc = rc;
    ps->failed = 1;
    if(*unsure) return NULL;
  }
  return p;
}

/* The events array, p at '['. */
static const char *events_array(const char *p, const char *e, parse_state *ps, int *unsure) {
  p = skip_ws(p + 1, e);
  if(p < e && *p == ']') return p + 1;
  for(;;) {
    if(p >= e || !(p = event_elem(p, e, ps, unsure))) return NULL;
    p = skip_ws(p, e);
    if(p < e && *p == ',') {
      p = skip_ws(p + 1, e);
      continue;
    }
    return p < e && *p == ']' ? p + 1 : NULL;
  }
}

/* Only what proto__parse_all lets follow the body. */
static int trailer_ok(const char *p, const char *e) {
  for(; p < e; p++)
    if(*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') return 0;
  return 1;
}

sqr_rc proto__batch_parse(const char *body, size_t len, proto_batch *out, proto_error *err,
                          int *unsure) {
  memset(out, 0, sizeof *out);
  if(err) memset(err, 0, sizeof *err);
  *unsure = 0;
  if(len > PROTO_MAX_INFLATED)
    return proto__fail(err, 413, "too_large", "body: %zu bytes, more than the limit of %d", len,
                       PROTO_MAX_INFLATED);
  const char *e = body + len, *p = skip_ws(body, e);
  parse_state ps = {.out = out};
  jval kiosk = {0}, behind = {0};
  events_kind events = EVENTS_MISSING;
  int canon = 1;
  if(p >= e) goto unsure;
  if(*p != '{') {
    if(!(p = value_any(p, e, 0, &canon)) || !trailer_ok(p, e)) goto unsure;
    return proto__fail(err, 400, "bad_request", "body: must be a JSON object");
  }
  p = skip_ws(p + 1, e);
  if(p < e && *p == '}') {
    p++;
  } else {
    for(;;) {
      const char *k;
      size_t kn;
      if(p >= e || *p != '"' || !(p = str_plain(p + 1, e, &k, &kn))) goto unsure;
      p = skip_ws(p, e);
      if(p >= e || *p != ':') goto unsure;
      p = skip_ws(p + 1, e);
      if(kn == 5 && memcmp(k, "kiosk", 5) == 0 && kiosk.kind == JV_MISSING) {
        p = read_field(p, e, 1, &kiosk);
      } else if(kn == 6 && memcmp(k, "behind", 6) == 0 && behind.kind == JV_MISSING) {
        p = read_field(p, e, 1, &behind);
      } else if(kn == 6 && memcmp(k, "events", 6) == 0 && events == EVENTS_MISSING) {
        if(p < e && *p == '[') {
          events = EVENTS_ARRAY;
          p = events_array(p, e, &ps, unsure);
        } else {
          events = EVENTS_NOT_ARRAY;
          p = p < e ? value_any(p, e, 1, &canon) : NULL;
        }
      } else {
        p = p < e ? value_any(p, e, 1, &canon) : NULL;
      }
      if(!p) goto unsure;
      p = skip_ws(p, e);
      if(p < e && *p == ',') {
        p = skip_ws(p + 1, e);
        continue;
      }
      if(p >= e || *p != '}') goto unsure;
      p++;
      break;
    }
  }
  if(!trailer_ok(p, e)) goto unsure;
  sqr_rc rc = check_envelope(&kiosk, events, ps.n_events, &behind, out, err);
  if(!rc && ps.failed) {
    rc = ps.rc;
    if(err) *err = ps.everr;
  }
  if(rc) {
    if(rc == SQR_ENOMEM) proto__fail(err, 500, "internal", "out of memory");
    proto_batch_clear(out);
  }
  return rc;
unsure:
  *unsure = 1;
  proto_batch_clear(out);
  return SQR_EINVAL;
}

sqr_rc proto_batch_decode(const char *body, size_t len, proto_batch *out, proto_error *err) {
  int unsure;
  sqr_rc rc = proto__batch_parse(body, len, out, err, &unsure);
  return unsure ? proto__batch_decode_tree(body, len, out, err) : rc;
}
