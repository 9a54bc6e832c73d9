/* manage.c — see manage.h. */
#include "manage.h"
#include "hq_int.h"
#include "hqdb_keys.h"
#include "proto.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "config.h"
#include "configdoc.h"
#include "crypto.h"
#include "hqdb_resolve.h"
#include "joinlink.h"
#include "livecode.h"
#include "log.h"
#include "proto.h"

#define CODE_BYTES 10 /* 16 Base32 characters */

static sqr_rc bad(hq_err *e, const char *msg) {
  return hq_fail(e, SQR_EINVAL, "bad_request", "%s", msg);
}

static sqr_rc range(hq_err *e, const char *field) {
  return hq_fail(e, SQR_EINVAL, "bad_request", "%s: must be an integer in range", field);
}

sqr_rc hq_store_find(hq *h, const char *id, hq_store *out, hq_err *e) {
  if(!id) return bad(e, "store: missing");
  sqr_rc rc = id && proto_store_id_valid(id) ? hqdb_store_get(h->db, id, out) : SQR_ENOTFOUND;
  if(rc == SQR_ENOTFOUND) return hq_fail(e, rc, "unknown_store", "store: no such store");
  if(rc) return hq_fail_storage(h, e, rc);
  return SQR_OK;
}

sqr_rc hq_store_add(hq *h, const hq_store_req *req, hq_store *out, hq_err *e) {
  const char *city = req->city ? req->city : "", *brand = req->brand ? req->brand : "";
  hq_store s = {.key_version = 1};
  /* A brand is 1..16 of A-Z 0-9 '-', like a store id: /N/<BRAND> stays
   * upper case in the QR, like /J/. */
  if(brand[0] && !livecode_store_id_valid(brand))
    return bad(e, "brand: must be 1..16 of A-Z 0-9 -");
  if(!req->id || !proto_store_id_valid(req->id)) return bad(e, "id: must be 1..16 of A-Z 0-9 -");
  if(!req->name || !req->name[0] || strlen(req->name) >= sizeof s.name ||
     strlen(city) >= sizeof s.city)
    return bad(e, "name/city: empty or too long");
  if((req->has_lat && !(fabs(req->lat) <= 90)) || (req->has_lon && !(fabs(req->lon) <= 180)))
    return bad(e, "lat/lon: must be coordinates");
  snprintf(s.id, sizeof s.id, "%s", req->id);
  snprintf(s.name, sizeof s.name, "%s", req->name);
  snprintf(s.city, sizeof s.city, "%s", city);
  s.lat = req->has_lat ? req->lat : 0;
  s.lon = req->has_lon ? req->lon : 0;
  s.config_version = 1;
  sqr_rc rc = hqdb_store_add(h->db, &s, hq_now_ms());
  /* The brand (GET /N/<BRAND>) lives in the resolver's table. */
  if(!rc && brand[0]) rc = hqdb_resolve_brand_set(h->db, s.id, brand);
  if(rc == SQR_EEXISTS) return hq_fail(e, rc, "exists", "id: a store with this id exists");
  if(rc) return hq_fail_storage(h, e, rc);
  hq__notify(h, HQ_CHANGE_STORE, s.id);
  if(out) *out = s;
  return SQR_OK;
}

/* hq-ca.crt's pin: SHA-256 of its DER (the base64 between the armour). */
static sqr_rc ca_pin(const hq *h, char hex[65]) {
  const char *b = strstr(h->hq_ca_pem, "-----BEGIN CERTIFICATE-----");
  const char *end = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
  if(!b || !end) return SQR_ECORRUPT;
  b += strlen("-----BEGIN CERTIFICATE-----");
  size_t n = (size_t)(end - b), k = 0, derlen = 0;
  char *b64 = malloc(n + 1);
  uint8_t *der = malloc(n), hash[32];
  sqr_rc rc = b64 && der ? SQR_OK : SQR_ENOMEM;
  for(size_t i = 0; !rc && i < n; i++)
    if(!isspace((unsigned char)b[i])) b64[k++] = b[i];
  if(!rc) {
    b64[k] = '\0';
    rc = crypto_unb64(b64, der, n, &derlen);
  }
  if(!rc && !derlen) rc = SQR_ECORRUPT;
  if(!rc) rc = crypto_sha256(der, derlen, hash);
  if(!rc) crypto_hex(hash, 32, hex);
  free(b64);
  free(der);
  return rc;
}

sqr_rc hq_code_new(hq *h, const hq_code_req *req, hq_code_out *out, hq_err *e) {
  hq_store s;
  sqr_rc rc = hq_store_find(h, req->store, &s, e);
  if(rc) return rc;
  if(req->kiosk < 1 || req->kiosk > 65535) return range(e, "kiosk");
  if(req->ttl_s < -86400 || req->ttl_s > 30LL * 86400) return range(e, "ttl_s");
  uint8_t raw[CODE_BYTES], hash[32];
  char code[17], ca_hex[65];
  if(crypto_random(raw, sizeof raw) || base32_encode(raw, sizeof raw, code, sizeof code) ||
     crypto_sha256(code, 16, hash))
    return hq_fail(e, SQR_ECRYPTO, "internal", "cannot make a code");
  memset(out, 0, sizeof *out);
  snprintf(out->code, sizeof out->code, "%.4s-%.4s-%.4s-%.4s", code, code + 4, code + 8, code + 12);
  crypto_wipe(code, sizeof code);
  out->expires_ms = hq_now_ms() + req->ttl_s * 1000;
  rc = hqdb_code_add(h->db, hash, s.id, (int)req->kiosk, out->expires_ms);
  if(rc) return hq_fail_storage(h, e, rc);
  /* The QR carries HQ's URL, the code and the pin of hq-ca.crt (DER). */
  if(ca_pin(h, ca_hex)) return hq_fail(e, SQR_ECORRUPT, "internal", "hq-ca.crt does not decode");
  snprintf(out->store, sizeof out->store, "%s", s.id);
  out->kiosk = (int)req->kiosk;
  snprintf(out->qr_text, sizeof out->qr_text, "storeqr-enroll:%s#%s#%s", h->url, out->code, ca_hex);
  return SQR_OK;
}

sqr_rc hq_kiosk_revoke(hq *h, const char *sid, int64_t kiosk, int64_t incarnation,
                       char kiosk_id[HQ_ID_MAX], hq_err *e) {
  hq_store s;
  kiosk_id[0] = '\0';
  sqr_rc rc = hq_store_find(h, sid, &s, e);
  if(rc) return rc;
  if(kiosk < 1 || kiosk > 65535) return range(e, "kiosk");
  if(incarnation < 0 || incarnation > PROTO_INCARNATION_MAX) return range(e, "incarnation");
  /* The certificate refused and every key version retired in one
   * transaction; the store's version moves, so every HQ process reloads
   * its keys within a second. */
  if((rc = hqdb_begin(h->db))) return hq_fail_storage(h, e, rc);
  if(incarnation)
    rc = proto_kiosk_format(s.id, (int)kiosk, (int)incarnation, kiosk_id) ? SQR_ENOTFOUND : SQR_OK;
  else
    rc = hqdb_kiosk_newest(h->db, s.id, (int)kiosk, kiosk_id);
  if(!rc) rc = hqdb_kiosk_revoke_id(h->db, kiosk_id, hq_now_ms());
  if(!rc) rc = hqdb_keys_changed(h->db, s.id);
  if(!rc)
    rc = hqdb_commit(h->db);
  else
    hqdb_rollback(h->db);
  if(rc == SQR_ENOTFOUND) return hq_fail(e, rc, "unknown_kiosk", "kiosk: never enrolled");
  if(rc) return hq_fail_storage(h, e, rc);
  log_info("hq", "kiosk %s revoked: certificate refused, keys retired", kiosk_id);
  hq__notify(h, HQ_CHANGE_KEYS, s.id);
  return SQR_OK;
}

sqr_rc hq_group_set(hq *h, const hq_group_req *req, hq_group_out *out, hq_err *e) {
  hq_store s;
  sqr_rc rc = hq_store_find(h, req->store, &s, e);
  if(rc) return rc;
  if(!req->id) return bad(e, "id: missing");
  hq_group g = {0}, old = {0};
  int have_old = 0;
  {
    /* An update names only what changes (a new link, capacity or
     * expiry); every field it leaves out keeps its stored value. */
    hq_group *gs = calloc(CONFIG_MAX_GROUPS, sizeof *gs);
    size_t ng = 0;
    rc = gs ? hqdb_groups(h->db, s.id, gs, CONFIG_MAX_GROUPS, &ng) : SQR_ENOMEM;
    for(size_t i = 0; !rc && i < ng; i++)
      if(strcmp(gs[i].id, req->id) == 0) old = gs[i], have_old = 1;
    free(gs);
    if(rc) return hq_fail_storage(h, e, rc);
  }
  if(!have_old && !req->link) return bad(e, "link: missing");
  const char *kind = req->kind ? req->kind : have_old ? old.kind : "";
  const char *name = req->name ? req->name : have_old ? old.name : "";
  const char *tag = req->tag ? req->tag : have_old ? old.tag : "";
  const char *link = req->link ? req->link : old.link;
  const char *status = req->status ? req->status : have_old && old.retired ? "retired" : "open";
  int64_t cap = req->has_capacity ? req->capacity : have_old ? old.capacity : 200;
  int64_t exp = req->has_expires_at ? req->expires_at : have_old ? old.expires_at : 0;
  if(cap < 1 || cap > 500) return range(e, "capacity");
  if(exp < 0 || exp > INT32_MAX * 4LL) return range(e, "expires_at");
  if(!kind[0]) kind = "store";
  if(strcmp(kind, "store") != 0 && strcmp(kind, "welfare") != 0 && strcmp(kind, "interest") != 0)
    return bad(e, "kind: store, welfare or interest");
  if(status[0] && strcmp(status, "open") != 0 && strcmp(status, "retired") != 0)
    return bad(e, "status: open or retired");
  /* The link becomes an href on the shopper's page and a QR code. */
  if(!joinlink_valid(link)) return bad(e, "link: must be an https:// URL without spaces or quotes");
  if(!req->id[0] || strlen(req->id) >= sizeof g.id || strlen(name) >= sizeof g.name ||
     strlen(tag) >= sizeof g.tag || strlen(link) >= sizeof g.link || strlen(kind) >= sizeof g.kind)
    return bad(e, "id/name/tag/link: empty or too long");
  snprintf(g.store, sizeof g.store, "%s", s.id);
  snprintf(g.id, sizeof g.id, "%s", req->id);
  snprintf(g.kind, sizeof g.kind, "%s", kind);
  snprintf(g.name, sizeof g.name, "%s", name);
  snprintf(g.tag, sizeof g.tag, "%s", tag);
  snprintf(g.link, sizeof g.link, "%s", link);
  g.capacity = (int)cap;
  g.expires_at = exp;
  g.retired = strcmp(status, "retired") == 0;
  memset(out, 0, sizeof *out);
  rc = hqdb_group_upsert(h->db, &g, &out->created);
  if(rc) return hq_fail_storage(h, e, rc);
  hq__notify(h, HQ_CHANGE_GROUPS, s.id); /* the next scan sees the new link, capacity or expiry */
  char *doc = NULL, err[256];
  rc = hq_config_doc(h, s.id, NULL, 0, &doc, &out->config_version, err, sizeof err);
  free(doc);
  /* Stored either way; a document that no longer validates (a tag not in
   * the template, say) is reported so the operator fixes it. */
  if(rc) {
    snprintf(out->warning, sizeof out->warning, "%s", err);
    log_warn("hq", "store %s: configuration no longer valid: %s", s.id, err);
  }
  snprintf(out->id, sizeof out->id, "%s", g.id);
  return SQR_OK;
}

sqr_rc hq_erasure_add(hq *h, const char *sid, const char *member, char member_out[65], hq_err *e) {
  hq_store s;
  uint8_t id[16];
  sqr_rc rc = hq_store_find(h, sid, &s, e);
  if(rc) return rc;
  if(!member) return bad(e, "member: missing");
  /* A stable member id is 32 hex digits; the 64 of an id from before
   * stable ids name the same member by their first 32. */
  uint8_t old[32];
  size_t n = strlen(member);
  if(n == 64 && crypto_unhex(member, old, 32) == SQR_OK)
    memcpy(id, old, sizeof id);
  else if(n != 32 || crypto_unhex(member, id, 16))
    return bad(e, "member: must be a member id (32 hex digits)");
  crypto_hex(id, 16, member_out);
  /* The feed's erase entry and the request (for kiosks that read it in
   * their configuration), together; the feed's head first (lock order). */
  rc = hqdb_begin(h->db);
  if(!rc && !(rc = hq__feed_erase_now(h, s.id, member_out)) &&
     !(rc = hqdb_erasure_add(h->db, s.id, member_out, hq_now_ms())) &&
     !(rc = hq__erase_person(h, s.id, member_out, "request", "hq", NULL, NULL)))
    rc = hqdb_commit(h->db);
  if(rc) {
    hqdb_rollback(h->db);
    return hq_fail_storage(h, e, rc);
  }
  hq__scrub(h);
  return SQR_OK;
}

void hq_counts_free(hq_counts *c) {
  hqdb_counts_free(c);
}

sqr_rc hq_counts_get(hq *h, const char *sid, hq_counts *out, hq_err *e) {
  memset(out, 0, sizeof *out);
  sqr_rc rc = sid && proto_store_id_valid(sid) ? hqdb_counts(h->db, sid, out) : SQR_ENOTFOUND;
  if(!rc) return SQR_OK;
  hqdb_counts_free(out);
  if(rc == SQR_ENOTFOUND) return hq_fail(e, rc, "unknown_store", "store: no such store");
  return hq_fail_storage(h, e, rc);
}
