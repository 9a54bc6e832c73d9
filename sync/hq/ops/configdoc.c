/* configdoc.c — see configdoc.h. */
#include "configdoc.h"
#include "hq_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "hqdb_feed.h"
#include "log.h"
#include "proto.h"
#include "keys.h"
#include "release.h"

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
    "\"我们将收集您的手机号用于会员服务（积分、签到与入群）。手机号在本机加密保存，仅总部可解密。您"
    "可随时要求"
    "删除。\","
    "\"en\":\"We collect your phone number for your membership (points, check-ins, your store "
    "group). It is encrypted on this "
    "kiosk "
    "and only headquarters can read it. You can ask us to erase it at any time.\"},"
    /* optional and unticked (PIPL: never bundled with the membership) */
    "\"marketing\":{\"version\":\"2026-12-m\",\"text\":{"
    "\"zh\":\"我愿意在门店群内或通过消息接收优惠与活动信息，可随时撤回。\","
    "\"en\":\"Send me offers and news in the store group or by message. I can withdraw "
    "at any time.\"}}},"
    "\"points\":{\"signup\":50,\"checkin\":10,\"streak_bonus_every\":7,\"streak_bonus\":20},"
    "\"ui\":{\"idle_timeout_s\":30,\"sync_stale_hours\":36}}";

static void put(cJSON *o, const char *name, cJSON *v) {
  cJSON_DeleteItemFromObjectCaseSensitive(o, name);
  cJSON_AddItemToObject(o, name, v);
}

/* The blind index's cost: the template's keys.index (tests make it cheap),
 * else the default of docs/PROTOCOL.md. */
static cJSON *index_params(const cJSON *tpl, const uint8_t key[32]) {
  const cJSON *ti =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tpl, "keys"), "index");
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(ti, "m_kib");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(ti, "t");
  const cJSON *par = cJSON_GetObjectItemCaseSensitive(ti, "p");
  char b64[48];
  cJSON *o = cJSON_CreateObject();
  if(crypto_b64(key, 32, b64, sizeof b64)) {
    cJSON_Delete(o);
    return NULL;
  }
  cJSON_AddStringToObject(o, "alg", "argon2id");
  cJSON_AddNumberToObject(o, "m_kib", cJSON_IsNumber(m) ? m->valuedouble : 32768);
  cJSON_AddNumberToObject(o, "t", cJSON_IsNumber(t) ? t->valuedouble : 2);
  cJSON_AddNumberToObject(o, "p", cJSON_IsNumber(par) ? par->valuedouble : 1);
  cJSON_AddStringToObject(o, "key", b64);
  crypto_wipe(b64, sizeof b64);
  return o;
}

static void add_key(cJSON *o, const char *name, const uint8_t key[32]) {
  char b64[48];
  if(crypto_b64(key, 32, b64, sizeof b64) == SQR_OK) cJSON_AddStringToObject(o, name, b64);
  crypto_wipe(b64, sizeof b64);
}

/* The keys section for one incarnation (docs/PROTOCOL.md "Identity and
 * keys"): its own token and coupon keys, never another kiosk's or the
 * store's; the store key alone while the kiosk may still run a release
 * that reads nothing else (keys.h). */
static sqr_rc keys_section(hq *h, const char *kiosk_id, const cJSON *tpl, cJSON **out) {
  hq_kiosk_keys kk = {.version = 1};
  char pub_b64[SEAL_PUB_B64_LEN];
  *out = NULL;
  /* The store's own view (kiosk_id NULL) carries zero keys: it is only
   * read for the store's settings and never leaves HQ. */
  sqr_rc rc = kiosk_id ? hq_kiosk_keys_get(h, kiosk_id, &kk) : SQR_OK;
  if(!rc) rc = seal_pub_to_b64(h->seal_pub, pub_b64);
  if(rc) return rc;
  cJSON *k = cJSON_CreateObject(), *ix = index_params(tpl, kk.index_key);
  if(!k || !ix) {
    cJSON_Delete(k);
    cJSON_Delete(ix);
    hq_kiosk_keys_wipe(&kk);
    return SQR_ENOMEM;
  }
  cJSON_AddNumberToObject(k, "version", kk.version);
  if(kk.legacy) {
    add_key(k, "store_key", kk.store_key);
  } else {
    add_key(k, "token_key", kk.token_key);
    add_key(k, "coupon_key", kk.coupon_key);
    cJSON_AddItemToObject(k, "index", ix);
    ix = NULL;
    if(kk.has_legacy_index) {
      add_key(k, "legacy_index_key", kk.legacy_index_key);
      cJSON_AddNumberToObject(k, "legacy_index_until", (double)kk.legacy_index_until_ms);
    }
  }
  cJSON_Delete(ix);
  cJSON_AddStringToObject(k, "hq_public", pub_b64);
  hq_kiosk_keys_wipe(&kk);
  *out = k;
  return SQR_OK;
}

/* The retention section every store's document carries (docs/PROTOCOL.md
 * "Configuration"): the template's, checked at hq_open, with its defaults
 * filled in, so kiosks prune by the same periods HQ's retention job keeps
 * (member_days: HQ erases members inactive that long; event_days: a
 * kiosk's own acknowledged events). */
static cJSON *retention_section(const hq *h) {
  cJSON *r = cJSON_CreateObject();
  if(!r || !cJSON_AddNumberToObject(r, "member_days", h->retain_member_days) ||
     !cJSON_AddNumberToObject(r, "event_days", h->retain_event_days)) {
    cJSON_Delete(r);
    return NULL;
  }
  return r;
}

/* Overwrites every string under o (the key material in a document). */
static void wipe_strings(cJSON *o) {
  for(cJSON *c = o ? o->child : NULL; c; c = c->next) {
    if(cJSON_IsString(c)) crypto_wipe(c->valuestring, strlen(c->valuestring));
    wipe_strings(c);
  }
}

sqr_rc hq_config_doc(hq *h, const char *store_id, const char *kiosk_id, int64_t hq_time_ms,
                     char **json, int64_t *version, char *err, size_t errlen) {
  *json = NULL;
  char sid[PROTO_STORE_ID_MAX + 1];
  int kiosk = 1, incarnation = 1;
  if(kiosk_id ? proto_kiosk_parse(kiosk_id, sid, &kiosk, &incarnation) != SQR_OK
              : snprintf(sid, sizeof sid, "%s", store_id) >= (int)sizeof sid) {
    snprintf(err, errlen, "kiosk id: malformed");
    return SQR_EINVAL;
  }
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
  /* A kiosk that reads the feed gets erasures there (without the
   * document's limit); one from before the feed, here. */
  int feed = 0;
  if((rc = hqdb_groups(h->db, sid, groups, CONFIG_MAX_GROUPS, &ng)) ||
     (kiosk_id && (rc = hqdb_feed_reader(h->db, kiosk_id, &feed))) ||
     (!feed && (rc = hqdb_erasures_pending(h->db, sid, erase, MAX_ERASURES_IN_DOC, &ne)))) {
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
  cJSON *keys = NULL;
  if((rc = keys_section(h, kiosk_id, doc, &keys))) {
    snprintf(err, errlen, "cannot derive the keys of %s", kiosk_id ? kiosk_id : sid);
    goto out;
  }
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
  cJSON_AddNumberToObject(k, "incarnation", incarnation);
  put(doc, "kiosk", k);
  cJSON *hqo = cJSON_CreateObject();
  cJSON_AddStringToObject(hqo, "url", h->url);
  cJSON_AddStringToObject(hqo, "resolver_host", h->resolver_host);
  put(doc, "hq", hqo);
  put(doc, "keys", keys);
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
  cJSON *ret = retention_section(h);
  if(!ret) {
    rc = SQR_ENOMEM;
    goto out;
  }
  put(doc, "retention", ret);
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
  /* An answer carries HQ's clock (the kiosk keeps its offset); config_parse
   * ignores the extra member. */
  if(hq_time_ms) put(doc, "hq_time_ms", cJSON_CreateNumber((double)hq_time_ms));
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
  if(doc) wipe_strings(cJSON_GetObjectItemCaseSensitive(doc, "keys"));
  cJSON_Delete(doc);
  free(groups);
  free(erase);
  return rc;
}

sqr_rc hq_config_get(hq *h, const char *kiosk_id, int64_t since, char **json, hq_err *e) {
  *json = NULL;
  char sid[PROTO_STORE_ID_MAX + 1], err[300];
  int number;
  hq_store s;
  if(proto_kiosk_parse(kiosk_id, sid, &number, NULL))
    return hq_fail(e, SQR_EINVAL, "internal", "kiosk id");
  /* A kiosk whose key is due gets its next version in this document. */
  int rotated = 0;
  sqr_rc rc = hq_keys_rotate_due(h, kiosk_id, &rotated);
  if(rc) return hq_fail_storage(h, e, rc);
  rc = hqdb_store_get(h->db, sid, &s);
  if(rc) return hq_fail_storage(h, e, rc);
  /* The version hq_config_doc gives: the store's plus its releases. */
  hq_release rel;
  int64_t nrel = 0;
  rc = hq_release_for_store(h, sid, &rel, &nrel, err, sizeof err);
  if(rc && rc != SQR_ENOTFOUND) {
    log_error("hq", "config for %s: %s", kiosk_id, err);
    return hq_fail(e, rc, "internal", "HQ cannot read its release record");
  }
  if(since >= s.config_version + nrel) return SQR_OK; /* unchanged */
  char *doc = NULL;
  int64_t version;
  rc = hq_config_doc(h, sid, kiosk_id, hq_now_ms(), &doc, &version, err, sizeof err);
  if(rc) {
    log_error("hq", "config for %s: %s", kiosk_id, err);
    return hq_fail(e, rc, "internal", "HQ cannot build this store's configuration");
  }
  *json = doc;
  return SQR_OK;
}
