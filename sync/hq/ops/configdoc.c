/* configdoc.c — see configdoc.h. */
#include "configdoc.h"
#include "hq_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"
#include "log.h"
#include "proto.h"
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
    "\"我们将收集您的手机号用于会员服务与优惠通知。手机号在本机加密保存，仅总部可解密。您可随时要求"
    "删除。\","
    "\"en\":\"We collect your phone number for membership and offers. It is encrypted on this "
    "kiosk "
    "and only headquarters can read it. You can ask us to erase it at any time.\"}},"
    "\"points\":{\"signup\":50,\"checkin\":10,\"streak_bonus_every\":7,\"streak_bonus\":20},"
    "\"ui\":{\"idle_timeout_s\":30,\"sync_stale_hours\":36}}";

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

sqr_rc hq_config_get(hq *h, const char *kiosk_id, int64_t since, char **json, hq_err *e) {
  *json = NULL;
  char sid[PROTO_STORE_ID_MAX + 1], err[300];
  int number;
  hq_store s;
  if(proto_kiosk_parse(kiosk_id, sid, &number))
    return hq_fail(e, SQR_EINVAL, "internal", "kiosk id");
  sqr_rc rc = hqdb_store_get(h->db, sid, &s);
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
  rc = hq_config_doc(h, sid, number, &doc, &version, err, sizeof err);
  if(rc) {
    log_error("hq", "config for %s: %s", kiosk_id, err);
    return hq_fail(e, rc, "internal", "HQ cannot build this store's configuration");
  }
  /* Like every answer, it carries HQ's clock (the kiosk keeps its offset);
   * config_parse ignores the extra member. */
  cJSON *o = cJSON_Parse(doc);
  free(doc);
  doc = NULL;
  if(!o || !cJSON_AddNumberToObject(o, "hq_time_ms", (double)hq_now_ms()) ||
     !(doc = cJSON_PrintUnformatted(o))) {
    cJSON_Delete(o);
    return hq_fail(e, SQR_ENOMEM, "internal", "out of memory");
  }
  cJSON_Delete(o);
  *json = doc;
  return SQR_OK;
}
