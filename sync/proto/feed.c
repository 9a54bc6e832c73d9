/* feed.c — a page of HQ's feed as JSON (see feed.h, docs/PROTOCOL.md
 * "Feed").
 *
 * Owns the page's one wire form, both ways. The decoder runs on the kiosk
 * over bytes from the network: strict types and ranges per kind, so what
 * reaches the kiosk's database is only what HQ could have meant; the
 * encoder refuses (proto_feed_add) any entry the decoder would, so HQ
 * never sends a page its kiosks stop at. Never logs a body.
 */
#include "feed.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "proto_int.h"

static const char *const kind_names[] = {NULL, "member", "checkin", "void", "erase", "marketing"};

const char *proto_feed_kind_name(proto_feed_kind k) {
  return k >= PROTO_FEED_MEMBER && k <= PROTO_FEED_MARKETING ? kind_names[k] : NULL;
}

static proto_feed_kind kind_of(const char *s) {
  for(int k = PROTO_FEED_MEMBER; k <= PROTO_FEED_MARKETING; k++)
    if(strcmp(s, kind_names[k]) == 0) return (proto_feed_kind)k;
  return 0;
}

int proto_feed_cursor_valid(const char *c) {
  size_t n = 0;
  for(; c[n]; n++) {
    unsigned char ch = (unsigned char)c[n];
    if(n + 1 >= PROTO_FEED_CURSOR_MAX) return 0;
    if(!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || ch == '.')) return 0;
  }
  return n > 0;
}

static int member_id_valid(const char *s) {
  size_t n = 0;
  for(; s[n]; n++)
    if(!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))) return 0;
  return n == CONFIG_MEMBER_ID_HEX;
}

static int kiosk_valid(const char *s) {
  char sid[PROTO_STORE_ID_MAX + 1];
  int number;
  return proto_kiosk_parse(s, sid, &number, NULL) == SQR_OK;
}

static int origin_valid(const char *s) {
  return strcmp(s, "hq") == 0 || kiosk_valid(s);
}

/* "" or a configuration id (a consent version): letters, digits, '-',
 * '_', '.' */
static int version_valid(const char *s) {
  for(; *s; s++)
    if(!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
         *s == '-' || *s == '_' || *s == '.'))
      return 0;
  return 1;
}

/* A JSON array of at most CONFIG_MAX_TAGS strings of 1..CONFIG_ID_MAX bytes. */
static int tags_valid(const cJSON *a) {
  if(!cJSON_IsArray(a) || cJSON_GetArraySize(a) > CONFIG_MAX_TAGS) return 0;
  const cJSON *t;
  cJSON_ArrayForEach(t, a) {
    if(!cJSON_IsString(t) || !t->valuestring[0] || strlen(t->valuestring) > CONFIG_ID_MAX) return 0;
  }
  return 1;
}

/* What both sides check of an entry's values (the decoder has already
 * checked each field's JSON type). NULL if fine, else the field at fault. */
static const char *entry_fault(const proto_feed_entry *e) {
  if(e->seq < 1 || (double)e->seq > PROTO__MAX_SAFE_INT) return "seq";
  if(!proto_feed_kind_name(e->kind)) return "kind";
  if(!origin_valid(e->origin)) return "origin";
  if(!member_id_valid(e->member)) return "member";
  switch(e->kind) {
  case PROTO_FEED_MEMBER:
    if(e->index_kind != CONFIG_INDEX_HMAC && e->index_kind != CONFIG_INDEX_ARGON2ID)
      return "index_kind";
    if(e->created_ms < 0 || (double)e->created_ms > PROTO__MAX_SAFE_INT) return "created_ms";
    if(e->last_day < 0 || e->last_day > PROTO_FEED_DAY_MAX) return "last_day";
    if(e->state_seq < 1 || (double)e->state_seq > PROTO__MAX_SAFE_INT) return "state_seq";
    if(e->points < -PROTO_FEED_POINTS_MAX || e->points > PROTO_FEED_POINTS_MAX) return "points";
    if(e->streak < 0 || e->streak > PROTO_FEED_DAY_MAX) return "streak";
    if(!e->consent_version[0]) return "consent_version";
    if(!version_valid(e->marketing)) return "marketing";
    break;
  case PROTO_FEED_MARKETING:
    if(!version_valid(e->marketing)) return "version";
    if(e->ts_ms < 0 || (double)e->ts_ms > PROTO__MAX_SAFE_INT) return "ts_ms";
    break;
  case PROTO_FEED_CHECKIN:
  case PROTO_FEED_VOID:
    if(e->day < 1 || e->day > PROTO_FEED_DAY_MAX) return "day";
    if(e->points < 0 || e->points > PROTO_FEED_POINTS_MAX) return "points";
    if(e->kind == PROTO_FEED_CHECKIN) {
      if(!kiosk_valid(e->origin)) return "origin";
      if(e->streak < 1 || e->streak > PROTO_FEED_DAY_MAX) return "streak";
      if(e->ts_ms < 0 || (double)e->ts_ms > PROTO__MAX_SAFE_INT) return "ts_ms";
    } else if(!kiosk_valid(e->kiosk)) {
      return "kiosk";
    }
    break;
  case PROTO_FEED_ERASE:
    break;
  case PROTO_FEED_LATER: /* never encoded; decoded by decode_entry alone */
    return "kind";
  }
  return NULL;
}

/* ---- encoding (HQ) -------------------------------------------------------------- */

int proto_feed_entry_valid(const proto_feed_entry *e) {
  if(entry_fault(e)) return 0;
  if(e->kind != PROTO_FEED_MEMBER) return 1;
  cJSON *a = cJSON_Parse(e->tags ? e->tags : "[]");
  int ok = a && tags_valid(a);
  cJSON_Delete(a);
  return ok;
}

sqr_rc proto_feed_add(proto_feed_page *p, const proto_feed_entry *e) {
  if(p->count >= PROTO_FEED_MAX_ENTRIES) return SQR_ENOSPC;
  if(entry_fault(e)) return SQR_EINVAL;
  char *tags = NULL;
  if(e->kind == PROTO_FEED_MEMBER) {
    cJSON *a = cJSON_Parse(e->tags ? e->tags : "[]");
    int ok = a && tags_valid(a);
    tags = ok ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    if(!ok) return SQR_EINVAL;
    if(!tags) return SQR_ENOMEM;
  }
  if(p->count == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    proto_feed_entry *n = realloc(p->entries, cap * sizeof *n);
    if(!n) {
      free(tags);
      return SQR_ENOMEM;
    }
    p->entries = n;
    p->cap = cap;
  }
  p->entries[p->count] = *e;
  p->entries[p->count++].tags = tags;
  return SQR_OK;
}

static int add_str(cJSON *o, const char *k, const char *v) {
  return cJSON_AddStringToObject(o, k, v) != NULL;
}
static int add_int(cJSON *o, const char *k, int64_t v) {
  return cJSON_AddNumberToObject(o, k, (double)v) != NULL;
}
static int add_str_or_null(cJSON *o, const char *k, const char *v) {
  return *v ? add_str(o, k, v) : cJSON_AddNullToObject(o, k) != NULL;
}

static cJSON *entry_json(const proto_feed_entry *e) {
  cJSON *o = cJSON_CreateObject();
  int ok = o && add_int(o, "seq", e->seq) && add_str(o, "kind", proto_feed_kind_name(e->kind)) &&
           add_str(o, "origin", e->origin) && add_str(o, "member", e->member);
  switch(ok ? e->kind : 0) {
  case PROTO_FEED_MEMBER: {
    char b64[64];
    /* proto_feed_add checked the array and kept its compact print: put
     * in as it is, not parsed a second time */
    cJSON *tags = cJSON_CreateRaw(e->tags);
    ok = tags && crypto_b64(e->blind, sizeof e->blind, b64, sizeof b64) == SQR_OK &&
         add_str(o, "blind", b64) && add_int(o, "index_kind", e->index_kind) &&
         add_int(o, "points", e->points) && add_int(o, "streak", e->streak) &&
         add_int(o, "last_day", e->last_day) && add_int(o, "state_seq", e->state_seq) &&
         add_int(o, "created_ms", e->created_ms) &&
         add_str(o, "consent_version", e->consent_version) &&
         add_str_or_null(o, "marketing", e->marketing) && cJSON_AddItemToObject(o, "tags", tags) &&
         add_str_or_null(o, "staff", e->staff) && add_str_or_null(o, "group", e->group);
    if(!ok && tags && !cJSON_GetObjectItemCaseSensitive(o, "tags")) cJSON_Delete(tags);
    break;
  }
  case PROTO_FEED_CHECKIN:
    ok = add_int(o, "day", e->day) && add_int(o, "points", e->points) &&
         add_int(o, "streak", e->streak) && add_int(o, "ts_ms", e->ts_ms);
    break;
  case PROTO_FEED_VOID:
    ok = add_int(o, "day", e->day) && add_int(o, "points", e->points) &&
         add_str(o, "kiosk", e->kiosk);
    break;
  case PROTO_FEED_MARKETING:
    ok = add_str_or_null(o, "version", e->marketing) && add_int(o, "ts_ms", e->ts_ms);
    break;
  default:
    break;
  }
  if(!ok) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

sqr_rc proto_feed_encode(const proto_feed_page *p, char **json, size_t *len) {
  *json = NULL;
  if(!proto_feed_cursor_valid(p->next)) return SQR_EINVAL;
  cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
  int ok = root && arr && cJSON_AddItemToObject(root, "entries", arr);
  if(!ok) cJSON_Delete(arr);
  for(size_t i = 0; ok && i < p->count; i++) {
    cJSON *o = entry_json(&p->entries[i]);
    ok = o && cJSON_AddItemToArray(arr, o);
  }
  ok = ok && cJSON_AddBoolToObject(root, "snapshot", p->snapshot) &&
       cJSON_AddBoolToObject(root, "more", p->more) && add_str(root, "next", p->next) &&
       add_int(root, "hq_time_ms", p->hq_time_ms);
  char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if(!s) return SQR_ENOMEM;
  *json = s;
  if(len) *len = strlen(s);
  return SQR_OK;
}

/* ---- decoding (kiosk) ----------------------------------------------------------- */

typedef struct dec {
  char *err;
  size_t errlen;
  int failed;
} dec;

SQR_PRINTF(2, 3)
static void bad(dec *d, const char *fmt, ...) {
  if(d->failed) return;
  d->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->err, d->errlen, fmt, ap);
  va_end(ap);
}

static const cJSON *field(dec *d, size_t i, const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if(!v) bad(d, "feed: entries[%zu].%s: missing", i, name);
  return v;
}

static int64_t get_int(dec *d, size_t i, const cJSON *o, const char *name) {
  const cJSON *v = field(d, i, o, name);
  if(!v) return 0;
  if(!cJSON_IsNumber(v) || !(v->valuedouble >= -PROTO__MAX_SAFE_INT) ||
     !(v->valuedouble <= PROTO__MAX_SAFE_INT) ||
     v->valuedouble != (double)(int64_t)v->valuedouble) {
    bad(d, "feed: entries[%zu].%s: must be an integer", i, name);
    return 0;
  }
  return (int64_t)v->valuedouble;
}

/* A string of at most size-1 bytes into buf; null is "" where nullable. */
static void get_str(dec *d, size_t i, const cJSON *o, const char *name, int nullable, char *buf,
                    size_t size) {
  const cJSON *v = field(d, i, o, name);
  buf[0] = '\0';
  if(!v || (nullable && cJSON_IsNull(v))) return;
  if(!cJSON_IsString(v) || strlen(v->valuestring) >= size) {
    bad(d, "feed: entries[%zu].%s: must be a string of at most %zu bytes%s", i, name, size - 1,
        nullable ? " or null" : "");
    return;
  }
  memcpy(buf, v->valuestring, strlen(v->valuestring) + 1);
}

/* A kind a later HQ may send: 1..15 of a-z and '_'. */
static int later_kind(const char *k) {
  size_t n = 0;
  for(; k[n]; n++)
    if(!((k[n] >= 'a' && k[n] <= 'z') || k[n] == '_')) return 0;
  return n > 0;
}

static void decode_entry(dec *d, size_t i, const cJSON *o, proto_feed_entry *e) {
  char kind[16];
  if(!cJSON_IsObject(o)) {
    bad(d, "feed: entries[%zu]: must be an object", i);
    return;
  }
  e->seq = get_int(d, i, o, "seq");
  get_str(d, i, o, "kind", 0, kind, sizeof kind);
  if(!d->failed && !(e->kind = kind_of(kind))) {
    /* Room for what a later HQ adds (the fleet's requests): its seq counts,
     * the kiosk skips it, and the page is not refused for it. */
    if(!later_kind(kind))
      bad(d, "feed: entries[%zu].kind: must be 1..15 of a-z and '_'", i);
    else if(e->seq < 1 || (double)e->seq > PROTO__MAX_SAFE_INT)
      bad(d, "feed: entries[%zu].seq: out of range or malformed", i);
    e->kind = PROTO_FEED_LATER;
    return;
  }
  get_str(d, i, o, "origin", 0, e->origin, sizeof e->origin);
  get_str(d, i, o, "member", 0, e->member, sizeof e->member);
  if(d->failed) return;
  switch(e->kind) {
  case PROTO_FEED_MEMBER: {
    char b64[64];
    size_t n = 0;
    get_str(d, i, o, "blind", 0, b64, sizeof b64);
    if(!d->failed && (crypto_unb64(b64, e->blind, sizeof e->blind, &n) || n != sizeof e->blind))
      bad(d, "feed: entries[%zu].blind: must be base64 of %d bytes", i, PROTO_FEED_BLIND_LEN);
    e->index_kind = (int)get_int(d, i, o, "index_kind");
    e->points = get_int(d, i, o, "points");
    e->streak = get_int(d, i, o, "streak");
    e->last_day = get_int(d, i, o, "last_day");
    e->state_seq = get_int(d, i, o, "state_seq");
    e->created_ms = get_int(d, i, o, "created_ms");
    get_str(d, i, o, "consent_version", 0, e->consent_version, sizeof e->consent_version);
    /* optional: an HQ from before marketing consents sends none */
    if(cJSON_HasObjectItem(o, "marketing"))
      get_str(d, i, o, "marketing", 1, e->marketing, sizeof e->marketing);
    get_str(d, i, o, "staff", 1, e->staff, sizeof e->staff);
    get_str(d, i, o, "group", 1, e->group, sizeof e->group);
    const cJSON *tags = field(d, i, o, "tags");
    if(d->failed) return;
    if(!tags_valid(tags)) {
      bad(d, "feed: entries[%zu].tags: must be an array of at most %d tag ids", i, CONFIG_MAX_TAGS);
      return;
    }
    if(!(e->tags = cJSON_PrintUnformatted(tags))) bad(d, "feed: out of memory");
    break;
  }
  case PROTO_FEED_CHECKIN:
    e->day = get_int(d, i, o, "day");
    e->points = get_int(d, i, o, "points");
    e->streak = get_int(d, i, o, "streak");
    e->ts_ms = get_int(d, i, o, "ts_ms");
    break;
  case PROTO_FEED_VOID:
    e->day = get_int(d, i, o, "day");
    e->points = get_int(d, i, o, "points");
    get_str(d, i, o, "kiosk", 0, e->kiosk, sizeof e->kiosk);
    break;
  case PROTO_FEED_MARKETING:
    get_str(d, i, o, "version", 1, e->marketing, sizeof e->marketing);
    e->ts_ms = get_int(d, i, o, "ts_ms");
    break;
  case PROTO_FEED_ERASE:
  case PROTO_FEED_LATER:
    break;
  }
  const char *f = d->failed ? NULL : entry_fault(e);
  if(f) bad(d, "feed: entries[%zu].%s: out of range or malformed", i, f);
}

sqr_rc proto_feed_decode(const char *body, size_t len, proto_feed_page *out, char *err,
                         size_t errlen) {
  memset(out, 0, sizeof *out);
  dec d = {err, errlen, 0};
  if(len > PROTO_FEED_MAX_ANSWER) {
    snprintf(err, errlen, "feed: %zu bytes, more than the limit of %d", len, PROTO_FEED_MAX_ANSWER);
    return SQR_EPROTO;
  }
  cJSON *root = proto__parse_all(body, len);
  const cJSON *arr = root ? cJSON_GetObjectItemCaseSensitive(root, "entries") : NULL;
  const cJSON *snap = root ? cJSON_GetObjectItemCaseSensitive(root, "snapshot") : NULL;
  const cJSON *more = root ? cJSON_GetObjectItemCaseSensitive(root, "more") : NULL;
  const cJSON *next = root ? cJSON_GetObjectItemCaseSensitive(root, "next") : NULL;
  const cJSON *t = root ? cJSON_GetObjectItemCaseSensitive(root, "hq_time_ms") : NULL;
  if(!cJSON_IsObject(root))
    bad(&d, "feed: not a JSON object");
  else if(!cJSON_IsArray(arr))
    bad(&d, "feed: entries: must be an array");
  else if(cJSON_GetArraySize(arr) > PROTO_FEED_MAX_ENTRIES)
    bad(&d, "feed: entries: more than %d", PROTO_FEED_MAX_ENTRIES);
  else if(!cJSON_IsBool(snap) || !cJSON_IsBool(more))
    bad(&d, "feed: snapshot and more: must be true or false");
  else if(!cJSON_IsString(next) || !proto_feed_cursor_valid(next->valuestring))
    bad(&d, "feed: next: not a cursor");
  else if(!cJSON_IsNumber(t) || !(t->valuedouble >= 0) || !(t->valuedouble <= PROTO__MAX_SAFE_INT))
    bad(&d, "feed: hq_time_ms: must be a time");
  size_t n = d.failed ? 0 : (size_t)cJSON_GetArraySize(arr);
  if(n && !(out->entries = calloc(n, sizeof *out->entries))) bad(&d, "feed: out of memory");
  if(!d.failed) {
    out->snapshot = cJSON_IsTrue(snap);
    out->more = cJSON_IsTrue(more);
    snprintf(out->next, sizeof out->next, "%s", next->valuestring);
    out->hq_time_ms = (int64_t)t->valuedouble;
    out->cap = n;
  }
  const cJSON *o;
  size_t i = 0;
  const cJSON *list = d.failed ? NULL : arr;
  cJSON_ArrayForEach(o, list) {
    proto_feed_entry *e = &out->entries[i];
    out->count = i + 1; /* so clear frees its tags on failure */
    decode_entry(&d, i, o, e);
    if(d.failed) break;
    /* the sequence rises; a snapshot lists members once each, in id order */
    if(i && !out->snapshot && e->seq <= e[-1].seq) bad(&d, "feed: entries[%zu].seq: not rising", i);
    if(i && out->snapshot && (e->kind != PROTO_FEED_MEMBER || strcmp(e->member, e[-1].member) <= 0))
      bad(&d, "feed: entries[%zu]: a snapshot lists members in rising id order", i);
    if(!i && out->snapshot && e->kind != PROTO_FEED_MEMBER)
      bad(&d, "feed: entries[0]: a snapshot lists members only");
    if(d.failed) break;
    i++;
  }
  cJSON_Delete(root);
  if(d.failed) {
    proto_feed_clear(out);
    return SQR_EPROTO;
  }
  return SQR_OK;
}

void proto_feed_clear(proto_feed_page *p) {
  for(size_t i = 0; i < p->count; i++)
    free(p->entries[i].tags);
  free(p->entries);
  memset(p, 0, sizeof *p);
}
