/* hq.c — see hq.h. */
#include "hq.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base32.h"
#include "config.h"
#include "crypto.h"
#include "log.h"
#include "proto.h"
#include "release.h"
#include "resolve.h"

#define CODE_BYTES          10 /* 16 Base32 characters */
#define MAX_ERASURES_IN_DOC CONFIG_MAX_ERASURES

/* What a new store starts with when dir/store-template.json is absent:
 * the fields of assets/config/demo.json that HQ does not fill itself. */
static const char default_template[] =
    "{\"mode\":\"hq\",\"rotation\":{\"period_s\":30,\"skew\":1},"
    "\"group_policy\":{\"reserve\":10,\"expiry_margin_s\":43200},"
    "\"campaigns\":[],\"staff\":[],"
    "\"tags\":[{\"id\":\"coffee\",\"zh\":\"咖啡\",\"en\":\"Coffee\"},"
    "{\"id\":\"tea\",\"zh\":\"茶饮\",\"en\":\"Tea\"},{\"id\":\"bakery\",\"zh\":\"烘焙\",\"en\":"
    "\"Bakery\"}],"
    "\"consent\":{\"version\":\"2026-11\",\"text\":{"
    "\"zh\":"
    "\"我们将收集您的手机号用于会员服务与优惠通知。手机号在本机加密保存，仅总部可解密。您可随时要求"
    "删除。\","
    "\"en\":\"We collect your phone number for membership and offers. It is encrypted on this "
    "kiosk "
    "and only headquarters can read it. You can ask us to erase it at any time.\"}},"
    "\"points\":{\"signup\":50,\"checkin\":10,\"streak_bonus_every\":7,\"streak_bonus\":20},"
    "\"ui\":{\"idle_timeout_s\":30,\"sync_stale_hours\":36}}";

int64_t hq_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sqr_rc load_b64_file(const char *dir, const char *name, char *out, size_t size) {
  char path[600], *text = NULL;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  sqr_rc rc = pki_read_file(path, size - 1, &text, NULL);
  if(rc) return rc;
  size_t n = strlen(text);
  while(n && isspace((unsigned char)text[n - 1]))
    text[--n] = '\0';
  snprintf(out, size, "%s", text);
  crypto_wipe(text, n);
  free(text);
  return SQR_OK;
}

sqr_rc hq_open(const char *dir, const char *db_url, hq **out, char *err, size_t errlen) {
  *out = NULL;
  hq *h = calloc(1, sizeof *h);
  if(!h) return SQR_ENOMEM;
  snprintf(h->dir, sizeof h->dir, "%s", dir);
  char path[600], *text = NULL, b64[128];
  size_t len = 0;
  sqr_rc rc;
  snprintf(path, sizeof path, "%s/master.key", dir);
  if((rc = pki_read_file(path, 64, &text, &len)) || len != 32) {
    snprintf(err, errlen, "%s: missing or not 32 bytes (run storeqr-hq init %s)", path, dir);
    free(text);
    hq_close(h);
    return rc ? rc : SQR_ECORRUPT;
  }
  memcpy(h->master, text, 32);
  crypto_wipe(text, len);
  free(text);
  if((rc = crypto_hkdf_sha256(NULL, 0, h->master, 32, "storeqr/v1/hq-pii", h->pii_key, 32)) ||
     (rc = crypto_hkdf_sha256(NULL, 0, h->master, 32, "storeqr/v1/hq-phone-index", h->index_key,
                              32)))
    goto fail;
  if((rc = load_b64_file(dir, "seal.pub", b64, sizeof b64)) ||
     (rc = seal_pub_from_b64(b64, h->seal_pub))) {
    snprintf(err, errlen, "%s/seal.pub: missing or not a P-256 public key", dir);
    goto fail_msg;
  }
  if((rc = load_b64_file(dir, "seal.key", b64, sizeof b64)) ||
     (rc = seal_priv_from_b64(b64, h->seal_priv))) {
    crypto_wipe(b64, sizeof b64);
    snprintf(err, errlen, "%s/seal.key: missing or not a P-256 private key", dir);
    goto fail_msg;
  }
  crypto_wipe(b64, sizeof b64);
  if((rc = load_b64_file(dir, "admin.token.sha256", b64, sizeof b64)) ||
     (rc = crypto_unhex(b64, h->admin_hash, 32))) {
    snprintf(err, errlen, "%s/admin.token.sha256: missing or not 64 hex digits", dir);
    goto fail_msg;
  }
  if((rc = pki_ca_load(dir, "device-ca", &h->device_ca, err, errlen))) goto fail_msg;
  snprintf(path, sizeof path, "%s/hq-ca.crt", dir);
  if((rc = pki_read_file(path, 16384, &h->hq_ca_pem, NULL))) {
    snprintf(err, errlen, "%s: cannot read it", path);
    goto fail_msg;
  }
  snprintf(path, sizeof path, "%s/store-template.json", dir);
  rc = pki_read_file(path, CONFIG_MAX_BYTES, &h->template_json, NULL);
  if(rc && rc != SQR_ENOTFOUND) {
    snprintf(err, errlen, "%s: cannot read it", path);
    goto fail_msg;
  }
  snprintf(path, sizeof path, "%s/hq.db", dir);
  if((rc = hqdb_open(db_url ? db_url : path, &h->db, err, errlen))) goto fail_msg;
  hq_set_url(h, "127.0.0.1", 8443);
  *out = h;
  return SQR_OK;
fail:
  snprintf(err, errlen, "cannot derive HQ's keys");
fail_msg:
  hq_close(h);
  return rc;
}

void hq_close(hq *h) {
  if(!h) return;
  hqdb_close(h->db);
  pki_ca_free(h->device_ca);
  free(h->hq_ca_pem);
  free(h->template_json);
  crypto_wipe(h, sizeof *h);
  free(h);
}

void hq_set_url(hq *h, const char *host, int port) {
  snprintf(h->url, sizeof h->url, "https://%s:%d", host, port);
  snprintf(h->resolver_host, sizeof h->resolver_host, "%s:%d", host, port);
}

int hq_admin_ok(const hq *h, const char *auth) {
  if(!auth || strncmp(auth, "Bearer ", 7) != 0) return 0;
  uint8_t th[32];
  const char *tok = auth + 7;
  if(crypto_sha256(tok, strlen(tok), th)) return 0;
  return crypto_ct_equal(th, h->admin_hash, 32);
}

sqr_rc hq_store_key(const hq *h, const char *sid, int version, uint8_t out[32]) {
  char info[96];
  snprintf(info, sizeof info, "storeqr/v1/store-key/%s/%d", sid, version);
  return crypto_hkdf_sha256(NULL, 0, h->master, 32, info, out, 32);
}

void hq_reply_clear(hq_reply *r) {
  free(r->body);
  free(r->headers);
  if(r->fd > 0) close(r->fd);
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

static void reply_json(hq_reply *r, int status, cJSON *root) {
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

static void reply_db(hq *h, hq_reply *r, sqr_rc rc) {
  log_error("hq", "storage: %s", hqdb_errmsg(h->db));
  hq_reply_error(r, rc == SQR_EBUSY ? 503 : 500, "storage", "HQ's database failed; try again", NULL,
                 0);
}

/* ---- request bodies ---------------------------------------------------- */

static cJSON *parse_body(const char *body, size_t len, hq_reply *r) {
  cJSON *root = cJSON_ParseWithLength(body, len);
  if(!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    hq_reply_error(r, 400, "bad_request", "body: must be a JSON object", NULL, 0);
    return NULL;
  }
  return root;
}

static int want_str(cJSON *o, const char *name, int required, const char **out, hq_reply *r) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  char msg[96];
  if(!v && !required) {
    *out = "";
    return 1;
  }
  if(!cJSON_IsString(v)) {
    snprintf(msg, sizeof msg, "%s: %s", name, v ? "must be a string" : "missing");
    hq_reply_error(r, 400, "bad_request", msg, NULL, 0);
    return 0;
  }
  *out = v->valuestring;
  return 1;
}

static int want_int(cJSON *o, const char *name, int required, int64_t min, int64_t max,
                    int64_t dflt, int64_t *out, hq_reply *r) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  char msg[128];
  if(!v && !required) {
    *out = dflt;
    return 1;
  }
  if(!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
     v->valuedouble < (double)min || v->valuedouble > (double)max) {
    snprintf(msg, sizeof msg, "%s: %s", name, v ? "must be an integer in range" : "missing");
    hq_reply_error(r, 400, "bad_request", msg, NULL, 0);
    return 0;
  }
  *out = (int64_t)v->valuedouble;
  return 1;
}

static int want_store(hq *h, cJSON *o, hq_store *s, hq_reply *r) {
  const char *id;
  if(!want_str(o, "store", 1, &id, r)) return 0;
  sqr_rc rc = proto_store_id_valid(id) ? hqdb_store_get(h->db, id, s) : SQR_ENOTFOUND;
  if(rc == SQR_ENOTFOUND) {
    hq_reply_error(r, 404, "unknown_store", "store: no such store", NULL, 0);
    return 0;
  }
  if(rc) {
    reply_db(h, r, rc);
    return 0;
  }
  return 1;
}

/* ---- admin operations ------------------------------------------------------ */

void hq_admin_store_add(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  hq_store s = {.key_version = 1};
  const char *id, *name, *city, *brand;
  double lat = 0, lon = 0;
  const cJSON *la = cJSON_GetObjectItemCaseSensitive(o, "lat");
  const cJSON *lo = cJSON_GetObjectItemCaseSensitive(o, "lon");
  if(!want_str(o, "id", 1, &id, r) || !want_str(o, "name", 1, &name, r) ||
     !want_str(o, "city", 0, &city, r) || !want_str(o, "brand", 0, &brand, r))
    goto out;
  if(brand[0] && !resolve_brand_valid(brand)) {
    hq_reply_error(r, 400, "bad_request", "brand: must be 1..16 of A-Z 0-9 -", NULL, 0);
    goto out;
  }
  if(!proto_store_id_valid(id)) {
    hq_reply_error(r, 400, "bad_request", "id: must be 1..16 of A-Z 0-9 -", NULL, 0);
    goto out;
  }
  if(!name[0] || strlen(name) >= sizeof s.name || strlen(city) >= sizeof s.city) {
    hq_reply_error(r, 400, "bad_request", "name/city: empty or too long", NULL, 0);
    goto out;
  }
  if((la && (!cJSON_IsNumber(la) || fabs(la->valuedouble) > 90)) ||
     (lo && (!cJSON_IsNumber(lo) || fabs(lo->valuedouble) > 180))) {
    hq_reply_error(r, 400, "bad_request", "lat/lon: must be coordinates", NULL, 0);
    goto out;
  }
  if(la) lat = la->valuedouble;
  if(lo) lon = lo->valuedouble;
  snprintf(s.id, sizeof s.id, "%s", id);
  snprintf(s.name, sizeof s.name, "%s", name);
  snprintf(s.city, sizeof s.city, "%s", city);
  s.lat = lat;
  s.lon = lon;
  sqr_rc rc = hqdb_store_add(h->db, &s, hq_now_ms());
  /* The brand (GET /N/<BRAND>) lives in the resolver's table. */
  if(!rc && brand[0]) rc = resolve_store_brand_set(h, s.id, brand);
  if(!rc) resolve_invalidate(s.id);
  if(rc == SQR_EEXISTS) {
    hq_reply_error(r, 409, "exists", "id: a store with this id exists", NULL, 0);
  } else if(rc) {
    reply_db(h, r, rc);
  } else {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", s.id);
    cJSON_AddStringToObject(a, "name", s.name);
    cJSON_AddStringToObject(a, "city", s.city);
    cJSON_AddNumberToObject(a, "lat", s.lat);
    cJSON_AddNumberToObject(a, "lon", s.lon);
    if(brand[0]) cJSON_AddStringToObject(a, "brand", brand);
    cJSON_AddNumberToObject(a, "config_version", 1);
    reply_json(r, 201, a);
  }
out:
  cJSON_Delete(o);
}

/* Upper-case, dashes and spaces dropped; exactly 16 Base32 characters. */
static int code_normalise(const char *in, char out[17]) {
  size_t n = 0;
  for(; *in; in++) {
    if(*in == '-' || *in == ' ') continue;
    char c = (char)toupper((unsigned char)*in);
    if(!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')) || n >= 16) return 0;
    out[n++] = c;
  }
  out[n] = '\0';
  return n == 16;
}

void hq_admin_enroll_code(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  hq_store s;
  int64_t kiosk, ttl;
  if(!want_store(h, o, &s, r) || !want_int(o, "kiosk", 1, 1, 65535, 0, &kiosk, r) ||
     !want_int(o, "ttl_s", 0, -86400, 30LL * 86400, 86400, &ttl, r))
    goto out;
  uint8_t raw[CODE_BYTES], hash[32], ca_hash[32];
  char code[17], shown[20], ca_hex[65];
  if(crypto_random(raw, sizeof raw) || base32_encode(raw, sizeof raw, code, sizeof code) ||
     crypto_sha256(code, 16, hash)) {
    hq_reply_error(r, 500, "internal", "cannot make a code", NULL, 0);
    goto out;
  }
  snprintf(shown, sizeof shown, "%.4s-%.4s-%.4s-%.4s", code, code + 4, code + 8, code + 12);
  int64_t expires = hq_now_ms() + ttl * 1000;
  sqr_rc rc = hqdb_code_add(h->db, hash, s.id, (int)kiosk, expires);
  if(rc) {
    reply_db(h, r, rc);
    goto out;
  }
  /* The QR carries HQ's URL, the code and the pin of hq-ca.crt (DER). */
  uint8_t *der = NULL;
  size_t derlen = 0;
  {
    /* hq-ca.crt PEM -> DER via base64 between the armour lines. */
    const char *b = strstr(h->hq_ca_pem, "-----BEGIN CERTIFICATE-----");
    const char *e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
    if(b && e) {
      b += strlen("-----BEGIN CERTIFICATE-----");
      size_t n = (size_t)(e - b);
      char *b64 = malloc(n + 1);
      der = malloc(n);
      size_t k = 0;
      for(size_t i = 0; b64 && i < n; i++)
        if(!isspace((unsigned char)b[i])) b64[k++] = b[i];
      if(b64) b64[k] = '\0';
      if(!b64 || !der || crypto_unb64(b64, der, n, &derlen)) derlen = 0;
      free(b64);
    }
  }
  if(!derlen || crypto_sha256(der, derlen, ca_hash)) {
    free(der);
    hq_reply_error(r, 500, "internal", "hq-ca.crt does not decode", NULL, 0);
    goto out;
  }
  free(der);
  crypto_hex(ca_hash, 32, ca_hex);
  char qr[600];
  snprintf(qr, sizeof qr, "storeqr-enroll:%s#%s#%s", h->url, shown, ca_hex);
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "code", shown);
  cJSON_AddStringToObject(a, "store", s.id);
  cJSON_AddNumberToObject(a, "kiosk", (double)kiosk);
  cJSON_AddNumberToObject(a, "expires_ms", (double)expires);
  cJSON_AddStringToObject(a, "qr_text", qr);
  reply_json(r, 201, a);
out:
  cJSON_Delete(o);
}

void hq_admin_revoke(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  hq_store s;
  int64_t kiosk;
  if(want_store(h, o, &s, r) && want_int(o, "kiosk", 1, 1, 65535, 0, &kiosk, r)) {
    sqr_rc rc = hqdb_kiosk_revoke(h->db, s.id, (int)kiosk);
    if(rc == SQR_ENOTFOUND) {
      hq_reply_error(r, 404, "unknown_kiosk", "kiosk: never enrolled", NULL, 0);
    } else if(rc) {
      reply_db(h, r, rc);
    } else {
      cJSON *a = cJSON_CreateObject();
      cJSON_AddBoolToObject(a, "revoked", 1);
      reply_json(r, 200, a);
    }
  }
  cJSON_Delete(o);
}

void hq_admin_group(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  hq_store s;
  hq_group g = {0}, old = {0};
  const char *id, *kind, *name, *tag, *link, *status;
  int64_t cap, exp;
  int have_old = 0;
  if(!want_store(h, o, &s, r) || !want_str(o, "id", 1, &id, r)) goto out;
  {
    /* An update names only what changes (a new link, capacity or
     * expiry); every field it leaves out keeps its stored value. */
    hq_group *gs = calloc(CONFIG_MAX_GROUPS, sizeof *gs);
    size_t ng = 0;
    sqr_rc grc = gs ? hqdb_groups(h->db, s.id, gs, CONFIG_MAX_GROUPS, &ng) : SQR_ENOMEM;
    for(size_t i = 0; !grc && i < ng; i++)
      if(strcmp(gs[i].id, id) == 0) old = gs[i], have_old = 1;
    free(gs);
    if(grc) {
      reply_db(h, r, grc);
      goto out;
    }
  }
  if(!want_str(o, "kind", 0, &kind, r) || !want_str(o, "name", 0, &name, r) ||
     !want_str(o, "tag", 0, &tag, r) || !want_str(o, "link", !have_old, &link, r) ||
     !want_str(o, "status", 0, &status, r) ||
     !want_int(o, "capacity", 0, 1, 500, have_old ? old.capacity : 200, &cap, r) ||
     !want_int(o, "expires_at", 0, 0, INT32_MAX * 4LL, have_old ? old.expires_at : 0, &exp, r))
    goto out;
  if(have_old) {
    if(!cJSON_GetObjectItemCaseSensitive(o, "kind")) kind = old.kind;
    if(!cJSON_GetObjectItemCaseSensitive(o, "name")) name = old.name;
    if(!cJSON_GetObjectItemCaseSensitive(o, "tag")) tag = old.tag;
    if(!cJSON_GetObjectItemCaseSensitive(o, "link")) link = old.link;
    if(!cJSON_GetObjectItemCaseSensitive(o, "status")) status = old.retired ? "retired" : "open";
  }
  if(!kind[0]) kind = "store";
  if(strcmp(kind, "store") != 0 && strcmp(kind, "welfare") != 0 && strcmp(kind, "interest") != 0) {
    hq_reply_error(r, 400, "bad_request", "kind: store, welfare or interest", NULL, 0);
    goto out;
  }
  if(status[0] && strcmp(status, "open") != 0 && strcmp(status, "retired") != 0) {
    hq_reply_error(r, 400, "bad_request", "status: open or retired", NULL, 0);
    goto out;
  }
  /* The link becomes an href on the shopper's page and a QR code: an
   * https URL (as kiosks demand) with no space, quote or angle bracket. */
  int link_bad = strncmp(link, "https://", 8) != 0 || !link[8];
  for(const unsigned char *c = (const unsigned char *)link; !link_bad && *c; c++)
    link_bad = *c <= ' ' || *c == '"' || *c == '\'' || *c == '<' || *c == '>' || *c == 0x7f;
  if(link_bad) {
    hq_reply_error(r, 400, "bad_request", "link: must be an https:// URL without spaces or quotes",
                   NULL, 0);
    goto out;
  }
  if(!id[0] || strlen(id) >= sizeof g.id || strlen(name) >= sizeof g.name ||
     strlen(tag) >= sizeof g.tag || strlen(link) >= sizeof g.link ||
     strlen(kind) >= sizeof g.kind) {
    hq_reply_error(r, 400, "bad_request", "id/name/tag/link: empty or too long", NULL, 0);
    goto out;
  }
  snprintf(g.store, sizeof g.store, "%s", s.id);
  snprintf(g.id, sizeof g.id, "%s", id);
  snprintf(g.kind, sizeof g.kind, "%s", kind);
  snprintf(g.name, sizeof g.name, "%s", name);
  snprintf(g.tag, sizeof g.tag, "%s", tag);
  snprintf(g.link, sizeof g.link, "%s", link);
  g.capacity = (int)cap;
  g.expires_at = exp;
  g.retired = strcmp(status, "retired") == 0;
  int created = 0;
  sqr_rc rc = hqdb_group_upsert(h->db, &g, &created);
  if(rc) {
    reply_db(h, r, rc);
    goto out;
  }
  resolve_invalidate(s.id); /* the next scan sees the new link, capacity or expiry */
  char *doc = NULL, err[256];
  int64_t version;
  rc = hq_config_doc(h, s.id, 1, &doc, &version, err, sizeof err);
  free(doc);
  /* Stored either way; a document that no longer validates (a tag not in
   * the template, say) is reported so the operator fixes it. */
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "id", g.id);
  cJSON_AddNumberToObject(a, "config_version", (double)version);
  if(rc) {
    cJSON_AddStringToObject(a, "warning", err);
    log_warn("hq", "store %s: configuration no longer valid: %s", s.id, err);
  }
  reply_json(r, created ? 201 : 200, a);
out:
  cJSON_Delete(o);
}

void hq_admin_erasure(hq *h, const char *body, size_t len, hq_reply *r) {
  cJSON *o = parse_body(body, len, r);
  if(!o) return;
  hq_store s;
  const char *member;
  uint8_t blind[32];
  if(want_store(h, o, &s, r) && want_str(o, "member", 1, &member, r)) {
    if(strlen(member) != 64 || crypto_unhex(member, blind, 32)) {
      hq_reply_error(r, 400, "bad_request", "member: must be 64 hex digits", NULL, 0);
    } else {
      char lower[65];
      crypto_hex(blind, 32, lower);
      sqr_rc rc = hqdb_erasure_add(h->db, s.id, lower, hq_now_ms());
      if(rc) {
        reply_db(h, r, rc);
      } else {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "member", lower);
        cJSON_AddStringToObject(a, "status", "pending");
        reply_json(r, 202, a);
      }
    }
  }
  cJSON_Delete(o);
}

void hq_admin_counts(hq *h, const char *sid, hq_reply *r) {
  hq_counts c = {0};
  sqr_rc rc = sid && proto_store_id_valid(sid) ? hqdb_counts(h->db, sid, &c) : SQR_ENOTFOUND;
  if(rc) hqdb_counts_free(&c);
  if(rc == SQR_ENOTFOUND) {
    hq_reply_error(r, 404, "unknown_store", "store: no such store", NULL, 0);
    return;
  }
  if(rc) {
    reply_db(h, r, rc);
    return;
  }
  cJSON *a = cJSON_CreateObject(), *acked = cJSON_CreateObject(), *ks = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "store", sid);
  cJSON_AddNumberToObject(a, "members", (double)c.members);
  cJSON_AddNumberToObject(a, "signups", (double)c.signups);
  cJSON_AddNumberToObject(a, "checkins", (double)c.checkins);
  cJSON_AddNumberToObject(a, "events", (double)c.events);
  cJSON_AddNumberToObject(a, "erasures_pending", (double)c.erasures_pending);
  cJSON_AddNumberToObject(a, "erasures_confirmed", (double)c.erasures_confirmed);
  for(size_t i = 0; i < c.nkiosks; i++) {
    char k[16];
    snprintf(k, sizeof k, "%d", c.kiosks[i].number);
    cJSON_AddNumberToObject(acked, k, (double)c.kiosks[i].acked_seq);
    cJSON *one = cJSON_AddObjectToObject(ks, k);
    if(one) {
      cJSON_AddNumberToObject(one, "acked_seq", (double)c.kiosks[i].acked_seq);
      cJSON_AddNumberToObject(one, "events", (double)c.kiosks[i].events);
      cJSON_AddNumberToObject(one, "max_seq", (double)c.kiosks[i].max_seq);
    }
  }
  hqdb_counts_free(&c);
  cJSON_AddItemToObject(a, "acked_seq", acked);
  cJSON_AddItemToObject(a, "kiosks", ks);
  reply_json(r, 200, a);
}

/* ---- the configuration document -------------------------------------------- */

static void put(cJSON *o, const char *name, cJSON *v) {
  cJSON_DeleteItemFromObjectCaseSensitive(o, name);
  cJSON_AddItemToObject(o, name, v);
}

sqr_rc hq_config_doc(hq *h, const char *sid, int kiosk, char **json, int64_t *version, char *err,
                     size_t errlen) {
  *json = NULL;
  hq_store s;
  sqr_rc rc = hqdb_store_get(h->db, sid, &s);
  if(rc) {
    snprintf(err, errlen, "store %s: %s", sid,
             rc == SQR_ENOTFOUND ? "unknown" : hqdb_errmsg(h->db));
    return rc;
  }
  *version = s.config_version;
  hq_group *groups = calloc(CONFIG_MAX_GROUPS, sizeof *groups);
  char(*erase)[65] = calloc(MAX_ERASURES_IN_DOC, sizeof *erase);
  size_t ng = 0, ne = 0;
  cJSON *doc = NULL;
  if(!groups || !erase) {
    rc = SQR_ENOMEM;
    goto out;
  }
  if((rc = hqdb_groups(h->db, sid, groups, CONFIG_MAX_GROUPS, &ng)) ||
     (rc = hqdb_erasures_pending(h->db, sid, erase, MAX_ERASURES_IN_DOC, &ne))) {
    snprintf(err, errlen, "%s", hqdb_errmsg(h->db));
    goto out;
  }
  const char *tpl = h->template_json ? h->template_json : default_template;
  doc = cJSON_Parse(tpl);
  if(!cJSON_IsObject(doc)) {
    snprintf(err, errlen, "store-template.json: not a JSON object");
    rc = SQR_EINVAL;
    goto out;
  }
  uint8_t key[32];
  char key_b64[48], pub_b64[SEAL_PUB_B64_LEN];
  if((rc = hq_store_key(h, sid, s.key_version, key)) ||
     (rc = crypto_b64(key, 32, key_b64, sizeof key_b64)) ||
     (rc = seal_pub_to_b64(h->seal_pub, pub_b64))) {
    crypto_wipe(key, sizeof key);
    snprintf(err, errlen, "cannot derive the store key");
    goto out;
  }
  crypto_wipe(key, sizeof key);
  put(doc, "version", cJSON_CreateNumber((double)s.config_version));
  cJSON *st = cJSON_CreateObject();
  cJSON_AddStringToObject(st, "id", s.id);
  cJSON_AddStringToObject(st, "name", s.name);
  cJSON_AddStringToObject(st, "city", s.city);
  cJSON_AddNumberToObject(st, "lat", s.lat);
  cJSON_AddNumberToObject(st, "lon", s.lon);
  cJSON_AddNumberToObject(st, "utc_offset_min", 480);
  put(doc, "store", st);
  cJSON *k = cJSON_CreateObject();
  cJSON_AddNumberToObject(k, "number", kiosk);
  put(doc, "kiosk", k);
  cJSON *hqo = cJSON_CreateObject();
  cJSON_AddStringToObject(hqo, "url", h->url);
  cJSON_AddStringToObject(hqo, "resolver_host", h->resolver_host);
  put(doc, "hq", hqo);
  cJSON *keys = cJSON_CreateObject();
  cJSON_AddNumberToObject(keys, "version", s.key_version);
  cJSON_AddStringToObject(keys, "store_key", key_b64);
  cJSON_AddStringToObject(keys, "hq_public", pub_b64);
  put(doc, "keys", keys);
  crypto_wipe(key_b64, sizeof key_b64);
  cJSON *ga = cJSON_CreateArray();
  for(size_t i = 0; i < ng; i++) {
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "id", groups[i].id);
    cJSON_AddStringToObject(g, "kind", groups[i].kind);
    if(groups[i].name[0]) cJSON_AddStringToObject(g, "name", groups[i].name);
    if(groups[i].tag[0]) cJSON_AddStringToObject(g, "tag", groups[i].tag);
    cJSON_AddStringToObject(g, "link", groups[i].link);
    cJSON_AddNumberToObject(g, "capacity", groups[i].capacity);
    cJSON_AddNumberToObject(g, "expires_at", (double)groups[i].expires_at);
    cJSON_AddStringToObject(g, "status", groups[i].retired ? "retired" : "open");
    cJSON_AddItemToArray(ga, g);
  }
  put(doc, "groups", ga);
  cJSON *ea = cJSON_CreateArray();
  for(size_t i = 0; i < ne; i++)
    cJSON_AddItemToArray(ea, cJSON_CreateString(erase[i]));
  put(doc, "erasures", ea);
  /* The release this store should run (release.h). Each release that names
   * the store also counts in the version, so adding one reaches kiosks
   * that already hold the store's current document. */
  hq_release rel;
  int64_t nrel = 0;
  rc = hq_release_for_store(h, sid, &rel, &nrel, err, errlen);
  if(rc == SQR_OK) {
    char url[128];
    snprintf(url, sizeof url, "/v1/bundles/%s.bundle", rel.sha256);
    cJSON *u = cJSON_CreateObject();
    cJSON_AddStringToObject(u, "version", rel.version);
    cJSON_AddStringToObject(u, "sha256", rel.sha256);
    cJSON_AddNumberToObject(u, "size", (double)rel.size);
    cJSON_AddStringToObject(u, "url", url);
    if(rel.forced) cJSON_AddTrueToObject(u, "forced");
    put(doc, "update", u);
  } else if(rc != SQR_ENOTFOUND) {
    goto out;
  }
  *version = s.config_version + nrel;
  put(doc, "version", cJSON_CreateNumber((double)*version));
  *json = cJSON_PrintUnformatted(doc);
  if(!*json) {
    rc = SQR_ENOMEM;
    goto out;
  }
  sqr_config *cfg = NULL;
  char perr[200];
  rc = config_parse(*json, strlen(*json), &cfg, perr, sizeof perr);
  config_free(cfg);
  if(rc) {
    snprintf(err, errlen, "the document HQ built is invalid: %s", perr);
    crypto_wipe(*json, strlen(*json));
    free(*json);
    *json = NULL;
  }
out:
  if(doc) {
    cJSON *keys2 = cJSON_GetObjectItemCaseSensitive(doc, "keys");
    cJSON *sk = keys2 ? cJSON_GetObjectItemCaseSensitive(keys2, "store_key") : NULL;
    if(cJSON_IsString(sk)) crypto_wipe(sk->valuestring, strlen(sk->valuestring));
  }
  cJSON_Delete(doc);
  free(groups);
  free(erase);
  return rc;
}

void hq_config(hq *h, const char *kiosk_id, int64_t since, hq_reply *r) {
  char sid[PROTO_STORE_ID_MAX + 1], err[300];
  int number;
  hq_store s;
  if(proto_kiosk_parse(kiosk_id, sid, &number)) {
    hq_reply_error(r, 500, "internal", "kiosk id", NULL, 0);
    return;
  }
  sqr_rc rc = hqdb_store_get(h->db, sid, &s);
  if(rc) {
    reply_db(h, r, rc);
    return;
  }
  /* The version hq_config_doc gives: the store's plus its releases. */
  hq_release rel;
  int64_t nrel = 0;
  rc = hq_release_for_store(h, sid, &rel, &nrel, err, sizeof err);
  if(rc && rc != SQR_ENOTFOUND) {
    log_error("hq", "config for %s: %s", kiosk_id, err);
    hq_reply_error(r, 500, "internal", "HQ cannot read its release record", NULL, 0);
    return;
  }
  if(since >= s.config_version + nrel) {
    free(r->body);
    r->body = NULL;
    r->status = 304;
    return;
  }
  char *doc = NULL;
  int64_t version;
  rc = hq_config_doc(h, sid, number, &doc, &version, err, sizeof err);
  if(rc) {
    log_error("hq", "config for %s: %s", kiosk_id, err);
    hq_reply_error(r, 500, "internal", "HQ cannot build this store's configuration", NULL, 0);
    return;
  }
  /* Like every answer, it carries HQ's clock (the kiosk keeps its offset);
   * config_parse ignores the extra member. */
  cJSON *o = cJSON_Parse(doc);
  free(doc);
  doc = NULL;
  if(!o || !cJSON_AddNumberToObject(o, "hq_time_ms", (double)hq_now_ms()) ||
     !(doc = cJSON_PrintUnformatted(o))) {
    cJSON_Delete(o);
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
    return;
  }
  cJSON_Delete(o);
  free(r->body);
  r->status = 200;
  r->body = doc;
}

/* ---- enrolment ----------------------------------------------------------------- */

void hq_enroll(hq *h, const char *body, size_t len, hq_reply *r) {
  proto_enroll_request req;
  proto_error pe;
  if(proto_enroll_request_decode(body, len, &req, &pe)) {
    hq_reply_error(r, pe.status ? pe.status : 400, pe.code[0] ? pe.code : "bad_request", pe.message,
                   NULL, 0);
    return;
  }
  char code[17], sid[HQ_ID_MAX], kiosk_id[PROTO_KIOSK_ID_MAX], err[256];
  uint8_t hash[32], cert_hash[32];
  int kiosk = 0, used = 0;
  int64_t expires = 0, now = hq_now_ms();
  char *pem = NULL, *doc = NULL;
  if(!code_normalise(req.code, code)) {
    hq_reply_error(r, 403, "code_unknown", "code: not an enrolment code HQ issued", NULL, 0);
    goto out;
  }
  if(crypto_sha256(code, 16, hash)) {
    hq_reply_error(r, 500, "internal", "hash", NULL, 0);
    goto out;
  }
  sqr_rc rc = hqdb_code_peek(h->db, hash, sid, &kiosk, &expires, &used);
  if(rc == SQR_ENOTFOUND) {
    hq_reply_error(r, 403, "code_unknown", "code: not an enrolment code HQ issued", NULL, 0);
    goto out;
  }
  if(rc) {
    reply_db(h, r, rc);
    goto out;
  }
  if(used) {
    hq_reply_error(r, 403, "code_used", "code: already used; ask HQ for a new one", NULL, 0);
    goto out;
  }
  if(expires <= now) {
    hq_reply_error(r, 403, "code_expired", "code: expired; ask HQ for a new one", NULL, 0);
    goto out;
  }
  if(proto_kiosk_format(sid, kiosk, kiosk_id)) {
    hq_reply_error(r, 500, "internal", "stored code names a bad kiosk", NULL, 0);
    goto out;
  }
  rc = pki_sign_csr(h->device_ca, req.csr, kiosk_id, now / 1000, PKI_DEVICE_CERT_DAYS, &pem,
                    cert_hash, err, sizeof err);
  if(rc == SQR_EINVAL) {
    hq_reply_error(r, 400, "bad_request", err, NULL, 0);
    goto out;
  }
  if(rc) {
    log_error("hq", "enrolment of %s: %s", kiosk_id, err);
    hq_reply_error(r, 500, "internal", "HQ cannot issue a certificate", NULL, 0);
    goto out;
  }
  int64_t version;
  if((rc = hq_config_doc(h, sid, kiosk, &doc, &version, err, sizeof err))) {
    log_error("hq", "enrolment of %s: %s", kiosk_id, err);
    hq_reply_error(r, 500, "internal", "HQ cannot build this store's configuration", NULL, 0);
    goto out;
  }
  rc = hqdb_enroll(h->db, hash, now, sid, kiosk, cert_hash);
  if(rc == SQR_EEXISTS) {
    hq_reply_error(r, 403, "code_used", "code: already used; ask HQ for a new one", NULL, 0);
    goto out;
  }
  if(rc == SQR_EEXPIRED) {
    hq_reply_error(r, 403, "code_expired", "code: expired; ask HQ for a new one", NULL, 0);
    goto out;
  }
  if(rc) {
    reply_db(h, r, rc);
    goto out;
  }
  proto_enroll_answer a = {.kiosk = kiosk,
                           .certificate = pem,
                           .hq_ca = h->hq_ca_pem,
                           .config = doc,
                           .hq_time_ms = hq_now_ms()};
  memcpy(a.store_id, sid, strnlen(sid, PROTO_STORE_ID_MAX));
  free(r->body);
  r->body = NULL;
  if(proto_enroll_answer_encode(&a, &r->body)) {
    hq_reply_error(r, 500, "internal", "out of memory", NULL, 0);
    goto out;
  }
  r->status = 200;
  log_info("hq", "kiosk %s enrolled", kiosk_id);
out:
  if(doc) crypto_wipe(doc, strlen(doc));
  free(doc);
  free(pem);
  proto_enroll_request_clear(&req);
}
