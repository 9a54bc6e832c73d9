/* config.c — parsing and validation of the configuration document.
 * Every field is checked against fixed bounds; the first problem found is
 * reported with its JSON path. See docs/CONFIG.md for the schema. */
#include "config.h"
#include "crypto.h"
#include "joinlink.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct parser {
  char *err;
  size_t errlen;
  int failed;
} parser;

SQR_PRINTF(3, 4)
static void fail(parser *p, const char *path, const char *fmt, ...) {
  if(p->failed) return;
  p->failed = 1;
  int n = snprintf(p->err, p->errlen, "%s: ", path);
  if(n < 0 || (size_t)n >= p->errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
  va_end(ap);
}

static void join(char *out, size_t size, const char *base, const char *name) {
  snprintf(out, size, "%s%s%s", base, *base ? "." : "", name);
}

/* A string field copied into buf (size includes the NUL). */
static void get_str(parser *p, const cJSON *obj, const char *base, const char *name, int required,
                    char *buf, size_t size) {
  char path[160];
  join(path, sizeof path, base, name);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if(!v || cJSON_IsNull(v)) {
    if(required) fail(p, path, "is required");
    return;
  }
  if(!cJSON_IsString(v)) {
    fail(p, path, "must be a string");
    return;
  }
  size_t len = strlen(v->valuestring);
  if(len >= size) {
    fail(p, path, "is too long (at most %zu bytes)", size - 1);
    return;
  }
  memcpy(buf, v->valuestring, len + 1);
}

static int64_t get_int(parser *p, const cJSON *obj, const char *base, const char *name,
                       int required, int64_t min, int64_t max, int64_t dflt) {
  char path[160];
  join(path, sizeof path, base, name);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if(!v || cJSON_IsNull(v)) {
    if(required) fail(p, path, "is required");
    return dflt;
  }
  /* Range first: casting a double outside int64's range is undefined
   * (found by fuzz_config; tests/fuzz/regressions keeps the input). */
  if(!cJSON_IsNumber(v) || !(v->valuedouble >= -9.2e18 && v->valuedouble <= 9.2e18) ||
     v->valuedouble != (double)(int64_t)v->valuedouble) {
    fail(p, path, "must be an integer");
    return dflt;
  }
  int64_t x = (int64_t)v->valuedouble;
  if(x < min || x > max) {
    fail(p, path, "must be between %lld and %lld", (long long)min, (long long)max);
    return dflt;
  }
  return x;
}

static double get_double(parser *p, const cJSON *obj, const char *base, const char *name,
                         double min, double max) {
  char path[160];
  join(path, sizeof path, base, name);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if(!v || cJSON_IsNull(v)) return 0;
  if(!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max) {
    fail(p, path, "must be a number between %g and %g", min, max);
    return 0;
  }
  return v->valuedouble;
}

static int get_bool(parser *p, const cJSON *obj, const char *base, const char *name, int dflt) {
  char path[160];
  join(path, sizeof path, base, name);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if(!v || cJSON_IsNull(v)) return dflt;
  if(!cJSON_IsBool(v)) {
    fail(p, path, "must be true or false");
    return dflt;
  }
  return cJSON_IsTrue(v);
}

/* An optional object inside another, its path named in full. */
static const cJSON *get_sub(parser *p, const cJSON *obj, const char *base, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if(!v || cJSON_IsNull(v)) return NULL;
  if(!cJSON_IsObject(v)) {
    char path[160];
    join(path, sizeof path, base, name);
    fail(p, path, "must be an object");
    return NULL;
  }
  return v;
}

static const cJSON *get_obj(parser *p, const cJSON *obj, const char *name, int required) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if(!v || cJSON_IsNull(v)) {
    if(required) fail(p, name, "is required");
    return NULL;
  }
  if(!cJSON_IsObject(v)) {
    fail(p, name, "must be an object");
    return NULL;
  }
  return v;
}

static const cJSON *get_array(parser *p, const cJSON *obj, const char *name, size_t max) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if(!v || cJSON_IsNull(v)) return NULL;
  if(!cJSON_IsArray(v)) {
    fail(p, name, "must be an array");
    return NULL;
  }
  if((size_t)cJSON_GetArraySize(v) > max) {
    fail(p, name, "has more than %zu entries", max);
    return NULL;
  }
  return v;
}

/* A link a shopper's phone opens (joinlink.h); kind names it in the
 * message ("join", "contact"). */
static void check_link(parser *p, const char *path, const char *link, const char *kind) {
  if(p->failed || joinlink_valid(link)) return;
  fail(p, path, "must be an https:// %s link without spaces, quotes, backslashes or angle brackets",
       kind);
}

/* Identifiers: lower-case letters, digits, '-' and '_'. */
static void check_id(parser *p, const char *path, const char *id) {
  if(p->failed) return;
  if(!*id) {
    fail(p, path, "must not be empty");
    return;
  }
  for(const char *c = id; *c; c++) {
    if(!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
         (*c >= 'A' && *c <= 'Z'))) {
      fail(p, path, "may hold only letters, digits, '-' and '_'");
      return;
    }
  }
}

/* "HH:MM" into minutes since midnight (24:00 allowed as an end). */
static int parse_hhmm(parser *p, const char *path, const char *s) {
  int h, m;
  char extra;
  if(sscanf(s, "%2d:%2d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
     (h == 24 && m != 0)) {
    fail(p, path, "must be a time like \"08:30\"");
    return 0;
  }
  return h * 60 + m;
}

/* Unix seconds, or an ISO 8601 time "YYYY-MM-DDTHH:MM:SS" with Z or ±HH:MM. */
static int64_t get_time(parser *p, const cJSON *obj, const char *base, const char *name) {
  char path[160];
  join(path, sizeof path, base, name);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  if(!v || cJSON_IsNull(v)) return 0;
  if(cJSON_IsNumber(v)) return get_int(p, obj, base, name, 0, 0, INT64_C(1) << 40, 0);
  if(!cJSON_IsString(v)) {
    fail(p, path, "must be unix seconds or an ISO 8601 time");
    return 0;
  }
  struct tm tm = {0};
  int oh = 0, om = 0;
  char sign = 0, z = 0;
  const char *s = v->valuestring;
  int n = 0;
  if(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
            &tm.tm_min, &tm.tm_sec, &n) != 6) {
    fail(p, path, "must be an ISO 8601 time like \"2026-12-01T00:00:00+08:00\"");
    return 0;
  }
  s += n;
  if(*s == 'Z' && s[1] == '\0') {
    z = 1;
  } else if(sscanf(s, "%c%2d:%2d", &sign, &oh, &om) != 3 || (sign != '+' && sign != '-') ||
            strlen(s) != 6) {
    fail(p, path, "needs a zone: Z or +HH:MM");
    return 0;
  }
  (void)z;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t t = (int64_t)timegm(&tm);
  int64_t off = (oh * 60 + om) * 60;
  return sign == '-' ? t + off : t - off;
}

static void parse_groups(parser *p, const cJSON *root, sqr_config *c) {
  const cJSON *arr = get_array(p, root, "groups", CONFIG_MAX_GROUPS);
  const cJSON *g;
  char base[64];
  cJSON_ArrayForEach(g, arr) {
    config_group *out = &c->groups[c->ngroups];
    snprintf(base, sizeof base, "groups[%zu]", c->ngroups);
    if(!cJSON_IsObject(g)) {
      fail(p, base, "must be an object");
      return;
    }
    char path[96], kind[16] = "store";
    get_str(p, g, base, "id", 1, out->id, sizeof out->id);
    snprintf(path, sizeof path, "%s.id", base);
    check_id(p, path, out->id);
    get_str(p, g, base, "kind", 0, kind, sizeof kind);
    if(strcmp(kind, "store") == 0)
      out->kind = GROUP_KIND_STORE;
    else if(strcmp(kind, "welfare") == 0)
      out->kind = GROUP_KIND_WELFARE;
    else if(strcmp(kind, "interest") == 0)
      out->kind = GROUP_KIND_INTEREST;
    else {
      snprintf(path, sizeof path, "%s.kind", base);
      fail(p, path, "must be \"store\", \"welfare\" or \"interest\"");
    }
    get_str(p, g, base, "name", 0, out->name, sizeof out->name);
    get_str(p, g, base, "tag", 0, out->tag, sizeof out->tag);
    get_str(p, g, base, "link", 1, out->link, sizeof out->link);
    snprintf(path, sizeof path, "%s.link", base);
    check_link(p, path, out->link, "join");
    out->capacity = (int)get_int(p, g, base, "capacity", 0, 1, 500, 200);
    out->expires_at = get_time(p, g, base, "expires_at");
    char status[16] = "open";
    get_str(p, g, base, "status", 0, status, sizeof status);
    if(strcmp(status, "retired") == 0)
      out->retired = 1;
    else if(strcmp(status, "open") != 0) {
      snprintf(path, sizeof path, "%s.status", base);
      fail(p, path, "must be \"open\" or \"retired\"");
    }
    for(size_t i = 0; i < c->ngroups && !p->failed; i++) {
      if(strcmp(c->groups[i].id, out->id) == 0) {
        snprintf(path, sizeof path, "%s.id", base);
        fail(p, path, "\"%s\" appears twice", out->id);
      }
    }
    if(p->failed) return;
    c->ngroups++;
  }
}

static void parse_campaigns(parser *p, const cJSON *root, sqr_config *c) {
  const cJSON *arr = get_array(p, root, "campaigns", CONFIG_MAX_CAMPAIGNS);
  const cJSON *e;
  char base[64], path[96], t[8];
  cJSON_ArrayForEach(e, arr) {
    config_campaign *out = &c->campaigns[c->ncampaigns];
    snprintf(base, sizeof base, "campaigns[%zu]", c->ncampaigns);
    if(!cJSON_IsObject(e)) {
      fail(p, base, "must be an object");
      return;
    }
    get_str(p, e, base, "id", 1, out->id, sizeof out->id);
    snprintf(path, sizeof path, "%s.id", base);
    check_id(p, path, out->id);
    t[0] = '\0';
    get_str(p, e, base, "start", 1, t, sizeof t);
    snprintf(path, sizeof path, "%s.start", base);
    if(!p->failed) out->start_min = parse_hhmm(p, path, t);
    t[0] = '\0';
    get_str(p, e, base, "end", 1, t, sizeof t);
    snprintf(path, sizeof path, "%s.end", base);
    if(!p->failed) out->end_min = parse_hhmm(p, path, t);
    if(!p->failed && out->end_min <= out->start_min) fail(p, path, "must be after start");
    const cJSON *text = get_obj(p, e, "text", 0);
    snprintf(path, sizeof path, "%s.text", base);
    if(text) {
      get_str(p, text, path, "zh", 0, out->text_zh, sizeof out->text_zh);
      get_str(p, text, path, "en", 0, out->text_en, sizeof out->text_en);
    }
    get_str(p, e, base, "image", 0, out->image, sizeof out->image);
    const cJSON *coupon = cJSON_GetObjectItemCaseSensitive(e, "coupon");
    if(coupon && !cJSON_IsNull(coupon)) {
      snprintf(path, sizeof path, "%s.coupon", base);
      if(!cJSON_IsObject(coupon)) {
        fail(p, path, "must be an object");
        return;
      }
      out->coupon_campaign = (int)get_int(p, coupon, path, "number", 1, 1, 255, 0);
      const cJSON *title = get_obj(p, coupon, "title", 0);
      if(title) {
        char tpath[128];
        snprintf(tpath, sizeof tpath, "%s.title", path);
        get_str(p, title, tpath, "zh", 0, out->coupon_title_zh, sizeof out->coupon_title_zh);
        get_str(p, title, tpath, "en", 0, out->coupon_title_en, sizeof out->coupon_title_en);
      }
    }
    if(p->failed) return;
    c->ncampaigns++;
  }
}

static void parse_staff_and_tags(parser *p, const cJSON *root, sqr_config *c) {
  const cJSON *arr = get_array(p, root, "staff", CONFIG_MAX_STAFF);
  const cJSON *e;
  char base[64], path[96];
  cJSON_ArrayForEach(e, arr) {
    config_staff *s = &c->staff[c->nstaff];
    snprintf(base, sizeof base, "staff[%zu]", c->nstaff);
    if(!cJSON_IsObject(e)) {
      fail(p, base, "must be an object");
      return;
    }
    get_str(p, e, base, "id", 1, s->id, sizeof s->id);
    snprintf(path, sizeof path, "%s.id", base);
    check_id(p, path, s->id);
    get_str(p, e, base, "name", 1, s->name, sizeof s->name);
    if(p->failed) return;
    c->nstaff++;
  }
  arr = get_array(p, root, "tags", CONFIG_MAX_TAGS);
  cJSON_ArrayForEach(e, arr) {
    config_tag *t = &c->tags[c->ntags];
    snprintf(base, sizeof base, "tags[%zu]", c->ntags);
    if(!cJSON_IsObject(e)) {
      fail(p, base, "must be an object");
      return;
    }
    get_str(p, e, base, "id", 1, t->id, sizeof t->id);
    snprintf(path, sizeof path, "%s.id", base);
    check_id(p, path, t->id);
    get_str(p, e, base, "zh", 1, t->zh, sizeof t->zh);
    get_str(p, e, base, "en", 0, t->en, sizeof t->en);
    if(p->failed) return;
    c->ntags++;
  }
}

/* A base64 field of exactly 32 bytes into out; 1 when present and valid.
 * The text copy is wiped: it is key material. */
static int get_key(parser *p, const cJSON *obj, const char *base, const char *name, int required,
                   uint8_t out[32]) {
  char b64[128] = "", path[160];
  size_t n = 0;
  int ok = 0;
  get_str(p, obj, base, name, required, b64, sizeof b64);
  if(!p->failed && b64[0]) {
    join(path, sizeof path, base, name);
    if(crypto_unb64(b64, out, 32, &n) != SQR_OK || n != 32) {
      fail(p, path, "must be 32 bytes in base64");
      crypto_wipe(out, 32);
    } else {
      ok = 1;
    }
  }
  crypto_wipe(b64, sizeof b64);
  return ok;
}

static int has_field(const cJSON *obj, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
  return v && !cJSON_IsNull(v);
}

/* keys.store_key, from an HQ before key versions: the kiosk derives what
 * the store key used to be used for, then forgets it. Its index stays the
 * old HMAC one. */
static void parse_legacy_keys(parser *p, const cJSON *keys, sqr_config *c) {
  uint8_t store_key[32];
  if(!get_key(p, keys, "keys", "store_key", 1, store_key)) return;
  sqr_rc rc = crypto_hkdf_sha256(NULL, 0, store_key, 32, CRYPTO_INFO_TOKEN, c->token_key, 32);
  if(!rc) rc = crypto_hkdf_sha256(NULL, 0, store_key, 32, CRYPTO_INFO_COUPON, c->coupon_key, 32);
  if(!rc) rc = crypto_hkdf_sha256(NULL, 0, store_key, 32, CRYPTO_INFO_BLIND, c->index_key, 32);
  crypto_wipe(store_key, sizeof store_key);
  if(rc) {
    fail(p, "keys.store_key", "cannot derive the kiosk keys from it");
    return;
  }
  c->index_alg = CONFIG_INDEX_HMAC;
  /* Nothing older to migrate from: the HMAC index is the index. The key is
   * kept here too so every holder of an HMAC index key finds it in one
   * place. */
  memcpy(c->legacy_index_key, c->index_key, 32);
  c->has_legacy_index = 0;
}

static void parse_index(parser *p, const cJSON *keys, sqr_config *c) {
  const cJSON *index = cJSON_GetObjectItemCaseSensitive(keys, "index");
  if(!index || cJSON_IsNull(index)) {
    fail(p, "keys.index", "is required with keys.token_key");
    return;
  }
  if(!cJSON_IsObject(index)) {
    fail(p, "keys.index", "must be an object");
    return;
  }
  char alg[16] = "";
  get_str(p, index, "keys.index", "alg", 1, alg, sizeof alg);
  if(!p->failed && strcmp(alg, "argon2id") != 0) fail(p, "keys.index.alg", "must be \"argon2id\"");
  c->index_alg = CONFIG_INDEX_ARGON2ID;
  c->index_p = (uint32_t)get_int(p, index, "keys.index", "p", 0, 1, CONFIG_INDEX_P_MAX,
                                 CONFIG_INDEX_P_DEFAULT);
  c->index_m_kib = (uint32_t)get_int(p, index, "keys.index", "m_kib", 0, CONFIG_INDEX_M_KIB_MIN,
                                     CONFIG_INDEX_M_KIB_MAX, CONFIG_INDEX_M_KIB_DEFAULT);
  if(!p->failed && c->index_m_kib < 8 * c->index_p)
    fail(p, "keys.index.m_kib", "must be at least 8 times keys.index.p");
  c->index_t = (uint32_t)get_int(p, index, "keys.index", "t", 0, 1, CONFIG_INDEX_T_MAX,
                                 CONFIG_INDEX_T_DEFAULT);
  get_key(p, index, "keys.index", "key", 1, c->index_key);
}

static void parse_new_keys(parser *p, const cJSON *keys, sqr_config *c) {
  get_key(p, keys, "keys", "token_key", 1, c->token_key);
  get_key(p, keys, "keys", "coupon_key", 1, c->coupon_key);
  parse_index(p, keys, c);
  int has_key = has_field(keys, "legacy_index_key");
  int has_until = has_field(keys, "legacy_index_until");
  if(!p->failed && has_key != has_until) {
    fail(p, has_key ? "keys.legacy_index_until" : "keys.legacy_index_key",
         "is required with keys.%s", has_key ? "legacy_index_key" : "legacy_index_until");
    return;
  }
  if(!has_key) return;
  c->has_legacy_index = get_key(p, keys, "keys", "legacy_index_key", 1, c->legacy_index_key);
  c->legacy_index_until_ms =
      get_int(p, keys, "keys", "legacy_index_until", 1, 0, INT64_C(1) << 53, 0);
}

static void parse_keys(parser *p, const cJSON *root, sqr_config *c) {
  const cJSON *keys = get_obj(p, root, "keys", 1);
  if(!keys) return;
  c->key_version = (int)get_int(p, keys, "keys", "version", 1, 1, 255, 1);
  int legacy = has_field(keys, "store_key");
  int newer = has_field(keys, "token_key");
  if(p->failed) return;
  if(legacy && newer) {
    fail(p, "keys.store_key",
         "must not appear with keys.token_key (a document carries either the kiosk's own keys"
         " or, from an HQ before key versions, the store key)");
    return;
  }
  if(!legacy && !newer) {
    fail(p, "keys.token_key", "is required (or keys.store_key, from an HQ before key versions)");
    return;
  }
  if(legacy)
    parse_legacy_keys(p, keys, c);
  else
    parse_new_keys(p, keys, c);
  if(p->failed) return;

  char b64[128] = "";
  size_t n = 0;
  get_str(p, keys, "keys", "hq_public", 0, b64, sizeof b64);
  if(p->failed || !b64[0]) return;
  if(crypto_unb64(b64, c->hq_pub, sizeof c->hq_pub, &n) != SQR_OK || n != 65 ||
     c->hq_pub[0] != 0x04) {
    fail(p, "keys.hq_public", "must be an uncompressed P-256 point (65 bytes) in base64");
    return;
  }
  c->has_hq_pub = 1;
}

/* Member ids, 32 hex digits. 64 digits are an id from before stable ids
 * (the whole blind index): its member kept the first 32 (docs/PROTOCOL.md
 * "Members"), so that is the id to erase. Stored in lower case, the one
 * spelling the database and events use. */
static void parse_erasures(parser *p, const cJSON *root, sqr_config *c) {
  const cJSON *arr = get_array(p, root, "erasures", CONFIG_MAX_ERASURES);
  const cJSON *e;
  cJSON_ArrayForEach(e, arr) {
    char path[64];
    uint8_t bin[32];
    snprintf(path, sizeof path, "erasures[%zu]", c->nerasures);
    size_t n = cJSON_IsString(e) ? strlen(e->valuestring) : 0;
    if((n != 32 && n != 64) || crypto_unhex(e->valuestring, bin, n / 2) != SQR_OK) {
      fail(p, path, "must be a member id (32 hex digits)");
      return;
    }
    crypto_hex(bin, CONFIG_MEMBER_ID_HEX / 2, c->erasures[c->nerasures]);
    c->nerasures++;
  }
}

/* 1..4 dot-separated decimal parts, each below 2^20: the versions
 * storeqr-update compares (bundle.h), checked here so a
 * kiosk never fetches a bundle whose version it could not compare. */
static int version_ok(const char *v) {
  int parts = 0;
  while(*v) {
    long n = 0;
    int digits = 0;
    for(; *v >= '0' && *v <= '9'; v++, digits++)
      if((n = n * 10 + (*v - '0')) >= (1L << 20)) return 0;
    if(!digits || ++parts > 4) return 0;
    if(*v == '.' && *++v == '\0') return 0;
  }
  return parts > 0;
}

static void parse_update(parser *p, const cJSON *root, config_update *u) {
  const cJSON *o = get_obj(p, root, "update", 0);
  if(!o || p->failed) return;
  get_str(p, o, "update", "version", 1, u->version, sizeof u->version);
  if(!p->failed && !version_ok(u->version))
    fail(p, "update.version", "must be 1 to 4 numbers separated by dots, like 1.4.0");
  get_str(p, o, "update", "sha256", 1, u->sha256, sizeof u->sha256);
  uint8_t bin[32];
  if(!p->failed && (strlen(u->sha256) != 64 || crypto_unhex(u->sha256, bin, 32) != SQR_OK))
    fail(p, "update.sha256", "must be 64 hex digits");
  if(!p->failed) crypto_hex(bin, 32, u->sha256); /* one spelling: lower case */
  u->size = get_int(p, o, "update", "size", 1, 1, CONFIG_UPDATE_MAX_SIZE, 0);
  get_str(p, o, "update", "url", 1, u->url, sizeof u->url);
  /* A path on HQ, fetched over the same mutual TLS: never another host,
   * never a way out of /v1/bundles/. */
  if(!p->failed) {
    int ok = strncmp(u->url, "/v1/bundles/", 12) == 0 && u->url[12] && !strstr(u->url, "..");
    for(const char *c = u->url; ok && *c; c++)
      ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
           *c == '.' || *c == '-' || *c == '_' || *c == '/';
    if(!ok) fail(p, "update.url", "must be a path under /v1/bundles/ (letters, digits, . - _ /)");
  }
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "forced");
  if(f && !cJSON_IsNull(f) && !cJSON_IsBool(f)) fail(p, "update.forced", "must be true or false");
  u->forced = cJSON_IsTrue(f);
  u->present = !p->failed;
}

/* consent.marketing (optional: without it the kiosk offers no marketing
 * consent) and consent.age (on unless required is false). */
static void parse_privacy(parser *p, const cJSON *consent, sqr_config *c) {
  const cJSON *m = get_sub(p, consent, "consent", "marketing");
  if(m) {
    get_str(p, m, "consent.marketing", "version", 1, c->marketing_version,
            sizeof c->marketing_version);
    const cJSON *text = get_sub(p, m, "consent.marketing", "text");
    if(!text && !p->failed) fail(p, "consent.marketing.text", "is required");
    if(text) {
      get_str(p, text, "consent.marketing.text", "zh", 1, c->marketing_zh, sizeof c->marketing_zh);
      get_str(p, text, "consent.marketing.text", "en", 0, c->marketing_en, sizeof c->marketing_en);
    }
    check_id(p, "consent.marketing.version", c->marketing_version);
  }
  c->age_required = 1;
  snprintf(c->age_zh, sizeof c->age_zh, "%s", CONFIG_AGE_ZH_DEFAULT);
  snprintf(c->age_en, sizeof c->age_en, "%s", CONFIG_AGE_EN_DEFAULT);
  const cJSON *a = get_sub(p, consent, "consent", "age");
  if(a) {
    c->age_required = get_bool(p, a, "consent.age", "required", 1);
    const cJSON *text = get_sub(p, a, "consent.age", "text");
    if(text) {
      get_str(p, text, "consent.age.text", "zh", 0, c->age_zh, sizeof c->age_zh);
      get_str(p, text, "consent.age.text", "en", 0, c->age_en, sizeof c->age_en);
    }
  }
}

sqr_rc config_parse(const char *json, size_t len, sqr_config **out, char *err, size_t errlen) {
  parser p = {err, errlen, 0};
  sqr_config *c = NULL;
  cJSON *root = NULL;
  char buf[64];
  sqr_rc rc = SQR_EINVAL;

  if(errlen) err[0] = '\0';
  if(len > CONFIG_MAX_BYTES) {
    fail(&p, "document", "is larger than %d bytes", CONFIG_MAX_BYTES);
    goto out;
  }
  root = cJSON_ParseWithLength(json, len);
  if(!root) {
    const char *where = cJSON_GetErrorPtr();
    size_t off = where && where >= json && where <= json + len ? (size_t)(where - json) : len;
    fail(&p, "document", "is not valid JSON (error near byte %zu)", off);
    goto out;
  }
  if(!cJSON_IsObject(root)) {
    fail(&p, "document", "must be a JSON object");
    goto out;
  }
  c = calloc(1, sizeof *c);
  if(!c) {
    rc = SQR_ENOMEM;
    goto out;
  }
  c->version = get_int(&p, root, "", "version", 1, 1, INT64_C(1) << 53, 0);

  const cJSON *store = get_obj(&p, root, "store", 1);
  if(store) {
    get_str(&p, store, "store", "id", 1, c->store_id, sizeof c->store_id);
    for(const char *s = c->store_id; *s && !p.failed; s++)
      if(!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-'))
        fail(&p, "store.id", "may hold only A-Z, 0-9 and '-' (it goes into the QR)");
    if(!p.failed && !c->store_id[0]) fail(&p, "store.id", "must not be empty");
    get_str(&p, store, "store", "name", 1, c->store_name, sizeof c->store_name);
    get_str(&p, store, "store", "city", 0, c->city, sizeof c->city);
    c->lat = get_double(&p, store, "store", "lat", -90, 90);
    c->lon = get_double(&p, store, "store", "lon", -180, 180);
    c->utc_offset_min = (int)get_int(&p, store, "store", "utc_offset_min", 0, -720, 840, 480);
  }
  const cJSON *kiosk = get_obj(&p, root, "kiosk", 1);
  if(kiosk) {
    c->kiosk_number = (int)get_int(&p, kiosk, "kiosk", "number", 1, 1, 65535, 1);
    c->kiosk_incarnation = (int)get_int(&p, kiosk, "kiosk", "incarnation", 0, 1, 9999, 1);
  }

  const cJSON *hq = get_obj(&p, root, "hq", 0);
  if(hq) {
    get_str(&p, hq, "hq", "url", 0, c->hq_url, sizeof c->hq_url);
    get_str(&p, hq, "hq", "resolver_host", 0, c->resolver_host, sizeof c->resolver_host);
  }
  buf[0] = '\0';
  get_str(&p, root, "", "mode", 0, buf, sizeof buf);
  if(!buf[0] || strcmp(buf, "hq") == 0)
    c->mode = CONFIG_MODE_HQ;
  else if(strcmp(buf, "direct") == 0)
    c->mode = CONFIG_MODE_DIRECT;
  else
    fail(&p, "mode", "must be \"hq\" or \"direct\"");
  if(!p.failed && c->mode == CONFIG_MODE_HQ && !c->resolver_host[0])
    fail(&p, "hq.resolver_host", "is required in hq mode (the QR points there)");

  parse_keys(&p, root, c);

  const cJSON *rot = get_obj(&p, root, "rotation", 0);
  c->period_s = 30;
  c->skew = 1;
  if(rot) {
    c->period_s = (uint32_t)get_int(&p, rot, "rotation", "period_s", 0, 5, 3600, 30);
    c->skew = (uint32_t)get_int(&p, rot, "rotation", "skew", 0, 0, 10, 1);
  }
  const cJSON *gp = get_obj(&p, root, "group_policy", 0);
  c->group_reserve = 10;
  c->expiry_margin_s = 12 * 3600;
  if(gp) {
    c->group_reserve = (int)get_int(&p, gp, "group_policy", "reserve", 0, 0, 200, 10);
    c->expiry_margin_s =
        get_int(&p, gp, "group_policy", "expiry_margin_s", 0, 0, 7 * 86400, 12 * 3600);
    get_str(&p, gp, "group_policy", "fallback_link", 0, c->fallback_link, sizeof c->fallback_link);
    /* Optional, but shown as a QR and an href like a join link. */
    if(c->fallback_link[0])
      check_link(&p, "group_policy.fallback_link", c->fallback_link, "contact");
  }
  parse_groups(&p, root, c);
  parse_campaigns(&p, root, c);
  parse_staff_and_tags(&p, root, c);

  const cJSON *consent = get_obj(&p, root, "consent", 1);
  if(consent) {
    get_str(&p, consent, "consent", "version", 1, c->consent_version, sizeof c->consent_version);
    const cJSON *text = get_obj(&p, consent, "text", 1);
    if(text) {
      get_str(&p, text, "consent.text", "zh", 1, c->consent_zh, sizeof c->consent_zh);
      get_str(&p, text, "consent.text", "en", 0, c->consent_en, sizeof c->consent_en);
    }
    parse_privacy(&p, consent, c);
  }
  c->retention_member_days = CONFIG_RETAIN_MEMBER_DEFAULT;
  c->retention_event_days = CONFIG_RETAIN_EVENT_DEFAULT;
  const cJSON *ret = get_obj(&p, root, "retention", 0);
  if(ret) {
    c->retention_member_days =
        (int)get_int(&p, ret, "retention", "member_days", 0, CONFIG_RETAIN_MEMBER_MIN,
                     CONFIG_RETAIN_MEMBER_MAX, CONFIG_RETAIN_MEMBER_DEFAULT);
    c->retention_event_days =
        (int)get_int(&p, ret, "retention", "event_days", 0, CONFIG_RETAIN_EVENT_MIN,
                     CONFIG_RETAIN_EVENT_MAX, CONFIG_RETAIN_EVENT_DEFAULT);
  }
  const cJSON *pts = get_obj(&p, root, "points", 0);
  c->points_checkin = 10;
  c->streak_bonus_every = 7;
  c->streak_bonus = 20;
  if(pts) {
    c->points_signup = (int)get_int(&p, pts, "points", "signup", 0, 0, 100000, 0);
    c->points_checkin = (int)get_int(&p, pts, "points", "checkin", 0, 0, 100000, 10);
    c->streak_bonus_every = (int)get_int(&p, pts, "points", "streak_bonus_every", 0, 0, 365, 7);
    c->streak_bonus = (int)get_int(&p, pts, "points", "streak_bonus", 0, 0, 100000, 20);
  }
  const cJSON *ui = get_obj(&p, root, "ui", 0);
  c->idle_timeout_s = 30;
  c->sync_stale_hours = 36;
  if(ui) {
    c->idle_timeout_s = (int)get_int(&p, ui, "ui", "idle_timeout_s", 0, 5, 600, 30);
    c->sync_stale_hours = (int)get_int(&p, ui, "ui", "sync_stale_hours", 0, 1, 24 * 30, 36);
  }
  const cJSON *mgr = get_obj(&p, root, "manager", 0);
  if(mgr)
    get_str(&p, mgr, "manager", "pin_hash", 0, c->manager_pin_hash, sizeof c->manager_pin_hash);
  parse_erasures(&p, root, c);
  parse_update(&p, root, &c->update);

  /* Cross-field checks, once everything parsed. */
  for(size_t i = 0; i < c->ngroups && !p.failed; i++) {
    if(c->groups[i].tag[0] && !config_tag_find(c, c->groups[i].tag)) {
      char path[64];
      snprintf(path, sizeof path, "groups[%zu].tag", i);
      fail(&p, path, "names a tag \"%s\" that is not in tags", c->groups[i].tag);
    }
  }
  if(p.failed) goto out;
  *out = c;
  c = NULL;
  rc = SQR_OK;
out:
  if(c) {
    crypto_wipe(c, sizeof *c);
    free(c);
  }
  cJSON_Delete(root);
  return rc;
}

sqr_rc config_load_file(const char *path, sqr_config **out, char **json_out, char *err,
                        size_t errlen) {
  FILE *f = fopen(path, "rb");
  if(!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return SQR_EIO;
  }
  char *buf = malloc(CONFIG_MAX_BYTES + 1);
  if(!buf) {
    fclose(f);
    return SQR_ENOMEM;
  }
  size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
  int ioerr = ferror(f);
  fclose(f);
  if(ioerr) {
    snprintf(err, errlen, "%s: read error", path);
    free(buf);
    return SQR_EIO;
  }
  if(n > CONFIG_MAX_BYTES) {
    snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
    free(buf);
    return SQR_EINVAL;
  }
  buf[n] = '\0';
  sqr_rc rc = config_parse(buf, n, out, err, errlen);
  if(rc == SQR_OK && json_out) {
    *json_out = buf;
  } else {
    free(buf);
  }
  return rc;
}

void config_free(sqr_config *cfg) {
  if(!cfg) return;
  /* Every key field; the rest is not secret, but wiping all of it costs
   * nothing and leaves nothing to forget when a field is added. */
  crypto_wipe(cfg, sizeof *cfg);
  free(cfg);
}

const config_group *config_group_find(const sqr_config *cfg, const char *id) {
  for(size_t i = 0; i < cfg->ngroups; i++)
    if(strcmp(cfg->groups[i].id, id) == 0) return &cfg->groups[i];
  return NULL;
}

const config_staff *config_staff_find(const sqr_config *cfg, const char *id) {
  for(size_t i = 0; i < cfg->nstaff; i++)
    if(strcmp(cfg->staff[i].id, id) == 0) return &cfg->staff[i];
  return NULL;
}

const config_tag *config_tag_find(const sqr_config *cfg, const char *id) {
  for(size_t i = 0; i < cfg->ntags; i++)
    if(strcmp(cfg->tags[i].id, id) == 0) return &cfg->tags[i];
  return NULL;
}

const config_campaign *config_campaign_at(const sqr_config *cfg, int local_minute) {
  for(size_t i = 0; i < cfg->ncampaigns; i++) {
    const config_campaign *c = &cfg->campaigns[i];
    if(local_minute >= c->start_min && local_minute < c->end_min) return c;
  }
  return NULL;
}

const char *config_group_kind_name(config_group_kind k) {
  switch(k) {
  case GROUP_KIND_STORE:
    return "store";
  case GROUP_KIND_WELFARE:
    return "welfare";
  case GROUP_KIND_INTEREST:
    return "interest";
  }
  return "store";
}
